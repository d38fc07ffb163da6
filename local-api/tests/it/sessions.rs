//! Sessions end to end, through the handlers, over both stores: in memory (the local server's)
//! and DynamoDB on a real DynamoDB-compatible server (moto, from `scripts/test`). Logout and
//! revocation, refresh-token rotation with reuse detection, the cap on a session's life, login
//! throttling, and the end of every session at a password change. Time is a manual clock:
//! windows and expiries are exact, and nothing waits.

use std::{sync::Arc, sync::atomic::Ordering, time::Duration};

use crate::common::{
    Backend, PASSWORD, Service, Setup, assert_expired, assert_logged_out, assert_revoked, token,
};
use auth_core::clock::Clock;
use auth_testkit::payload_of;
use lambda_http::http::StatusCode;
use serde_json::json;

over_both_stores!(
    logout_with_an_access_token_revokes_it_and_only_it,
    logout_with_a_refresh_token_ends_the_whole_session,
    logout_after_the_access_token_expired_still_ends_the_session,
    logout_with_an_expired_refresh_token_still_ends_its_session,
    a_retry_after_a_half_failed_logout_completes_it,
    logout_refuses_what_it_cannot_revoke_and_revokes_nothing_then,
    an_expired_access_token_where_a_refresh_token_belongs_is_refused,
    a_token_without_a_jti_cannot_be_revoked_and_revokes_nothing_with_it,
    without_rotation_refresh_keeps_the_seed_contract,
    with_rotation_reuse_of_a_spent_refresh_token_kills_the_family,
    with_rotation_twenty_concurrent_refreshes_of_one_token_give_exactly_one_200,
    with_a_grace_a_client_that_lost_the_answer_may_retry,
    with_rotation_and_no_grace_a_failed_read_spends_nothing,
    with_rotation_and_a_grace_a_retry_after_a_failed_read_gets_the_session_on,
    with_rotation_a_session_ends_at_its_max_age_however_often_it_is_refreshed,
    without_rotation_the_refresh_token_of_a_login_ends_with_its_session,
    failed_logins_lock_the_username_until_the_window_passes,
    a_successful_login_clears_the_failures,
    a_login_succeeds_when_its_attempt_cannot_be_settled,
    concurrent_correct_logins_are_never_refused_as_failures,
    of_twenty_concurrent_guesses_five_are_checked_and_the_rest_refused_until_the_window_ends,
    a_strangers_failures_do_not_lock_out_a_client_with_a_proof,
    a_stolen_proof_gives_its_thief_the_proofs_allowance_and_nothing_more,
    a_proof_of_another_user_or_forged_or_expired_counts_as_none,
    a_proof_of_before_a_password_change_counts_as_none,
    zero_max_failures_never_throttles,
    tokens_issued_before_a_password_change_are_refused,
    ending_a_users_sessions_refuses_every_token_they_had_but_not_new_ones,
);

const ROTATION: (&str, &str) = ("JWT_REFRESH_TOKEN_ROTATION", "true");
/// No grace: every second use of a refresh token is a replay.
const NO_GRACE: (&str, &str) = ("JWT_REFRESH_TOKEN_ROTATION_GRACE", "0");

async fn logout_with_an_access_token_revokes_it_and_only_it(backend: Backend) {
    let service = Service::new(backend, &[]).await;
    let (access, refresh) = service.login().await;
    assert_logged_out(&service.logout(Some(&access), None).await, "logout");
    assert_revoked(&service.profile(&access).await, "the access token");
    // The refresh token still buys access tokens, which work.
    let refreshed = service.refresh(&refresh).await;
    assert_eq!(refreshed.status, StatusCode::OK, "{backend:?}");
    let new_access = token(&refreshed, "access_token");
    assert_eq!(service.profile(&new_access).await.status, StatusCode::OK);
    // Revoking what is revoked already is not an error (RFC 7009), and changes nothing.
    assert_logged_out(
        &service.logout(Some(&access), None).await,
        "logging out again",
    );
    assert_eq!(service.refresh(&refresh).await.status, StatusCode::OK);
}

async fn logout_with_a_refresh_token_ends_the_whole_session(backend: Backend) {
    for refresh_as_bearer in [false, true] {
        let service = Service::new(backend, &[]).await;
        let (access, refresh) = service.login().await;
        let bought = token(&service.refresh(&refresh).await, "access_token");
        let (other_access, other_refresh) = service.login().await;

        let log_out = || async {
            if refresh_as_bearer {
                service.logout(Some(&refresh), None).await
            } else {
                let body = json!({"refresh_token": refresh});
                service.logout(Some(&access), Some(body)).await
            }
        };
        assert_logged_out(&log_out().await, "logout");

        assert_revoked(&service.refresh(&refresh).await, "the refresh token");
        assert_revoked(
            &service.profile(&access).await,
            "the session's access token",
        );
        assert_revoked(&service.profile(&bought).await, "an access token it bought");
        // Another session of the same user goes on.
        assert_eq!(service.profile(&other_access).await.status, StatusCode::OK);
        assert_eq!(service.refresh(&other_refresh).await.status, StatusCode::OK);
        // A second logout of the same tokens answers 200 too.
        assert_logged_out(&log_out().await, "the second logout");
    }
}

/// The repro of the hardening issue: a client idle past its access token's life logs out with
/// it and its refresh token, as every client does after 15 idle minutes.
async fn logout_after_the_access_token_expired_still_ends_the_session(backend: Backend) {
    let service = Service::new(backend, &[("JWT_ACCESS_TOKEN_EXPIRES", "2")]).await;
    let (access, refresh) = service.login().await;
    service.clock().advance(Duration::from_secs(3));
    assert_expired(&service.profile(&access).await, "the idle access token");
    let logged_out = service
        .logout(Some(&access), Some(json!({"refresh_token": refresh})))
        .await;
    assert_logged_out(&logged_out, "logout with an expired access token");
    assert_revoked(
        &service.refresh(&refresh).await,
        "the session's refresh token",
    );
    // An expired access token alone is a logout with nothing left to revoke.
    assert_logged_out(&service.logout(Some(&access), None).await, "alone");
}

/// With rotation, a session outlives the refresh token a client kept: logging out with that
/// expired token still ends the session, and so the newer tokens of it.
async fn logout_with_an_expired_refresh_token_still_ends_its_session(backend: Backend) {
    let service = Service::new(backend, &[ROTATION, ("JWT_REFRESH_TOKEN_EXPIRES", "10")]).await;
    let (_, first) = service.login().await;
    service.clock().advance(Duration::from_secs(5));
    let rotated = service.refresh(&first).await;
    let (access, current) = (
        token(&rotated, "access_token"),
        token(&rotated, "refresh_token"),
    );
    service.clock().advance(Duration::from_secs(6));
    assert_expired(&service.refresh(&first).await, "the first refresh token");
    assert_logged_out(
        &service
            .logout(None, Some(json!({"refresh_token": first})))
            .await,
        "logout with the expired first token",
    );
    assert_revoked(
        &service.refresh(&current).await,
        "the session's current token",
    );
    assert_revoked(
        &service.profile(&access).await,
        "an access token of the session",
    );
}

async fn a_retry_after_a_half_failed_logout_completes_it(backend: Backend) {
    let service = Service::new(backend, &[]).await;
    let (access, refresh) = service.login().await;
    let bought = token(&service.refresh(&refresh).await, "access_token");
    service
        .faults
        .failing_session_revocations
        .store(1, Ordering::SeqCst);
    let body = json!({"refresh_token": refresh});
    let failed = service.logout(Some(&access), Some(body.clone())).await;
    assert_eq!(
        (failed.status, &failed.body, failed.retry_after),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({"msg": "Service unavailable"}),
            Some(2)
        )
    );
    // Half of it was done: both tokens are revoked, but not the session, whose other access
    // token still works.
    assert_revoked(&service.profile(&access).await, "the access token");
    assert_revoked(&service.refresh(&refresh).await, "the refresh token");
    assert_eq!(service.profile(&bought).await.status, StatusCode::OK);
    assert_logged_out(
        &service.logout(Some(&access), Some(body)).await,
        "the retry",
    );
    assert_revoked(&service.profile(&bought).await, "the rest of the session");
}

async fn logout_refuses_what_it_cannot_revoke_and_revokes_nothing_then(backend: Backend) {
    let service = Service::new(backend, &[]).await;
    let (access, refresh) = service.login().await;
    let nothing = service.logout(None, None).await;
    assert_eq!(
        (nothing.status, nothing.body),
        (
            StatusCode::UNAUTHORIZED,
            json!({"msg": "Missing Authorization Header"})
        )
    );
    // An access token where a refresh token belongs: the bearer is not revoked either.
    let wrong = service
        .logout(Some(&access), Some(json!({"refresh_token": access})))
        .await;
    assert_eq!(
        (wrong.status, wrong.body),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"msg": "Only refresh tokens are allowed"})
        )
    );
    assert_eq!(service.profile(&access).await.status, StatusCode::OK);
    let invalid = service
        .logout(None, Some(json!({"refresh_token": 7, "all": true})))
        .await;
    assert_eq!(
        (invalid.status, invalid.body),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": {"all": ["Unknown field."], "refresh_token": ["Not a valid string."]}})
        )
    );
    // Forged (tampered), malformed, or of another algorithm: refused, whatever comes with it.
    let forged = format!("{refresh}x");
    let none = auth_testkit::sign_raw(
        r#"{"alg":"none","typ":"JWT"}"#,
        &payload_of(&refresh).to_string(),
        "irrelevant-secret-for-an-alg-none-token",
    );
    for (bearer, expected) in [
        (forged.as_str(), "Signature verification failed"),
        ("not-a-token", "Not enough segments"),
        (none.as_str(), "The specified alg value is not allowed"),
    ] {
        let refused = service
            .logout(Some(bearer), Some(json!({"refresh_token": refresh})))
            .await;
        assert_eq!(
            (refused.status, refused.body),
            (StatusCode::UNPROCESSABLE_ENTITY, json!({"msg": expected}))
        );
    }
    assert_eq!(service.refresh(&refresh).await.status, StatusCode::OK);
    assert_eq!(service.profile(&access).await.status, StatusCode::OK);
}

const JSON: &str = "application/json";

/// `/logout` keys its errors by one rule (docs/contract.md): `error` for the shape of
/// the body, as marshmallow's validation answers; `msg` for a token, wherever it came from, as
/// flask-jwt-extended answers. Nothing is revoked by a refused logout.
#[tokio::test]
async fn logout_keys_body_errors_error_and_token_errors_msg() {
    let service = Service::new(Backend::Memory, &[]).await;
    let (access, _) = service.login().await;
    let bearer = format!("Bearer {access}");
    let bad_bearer = "Bearer not-a-token";
    // (Content-Type, Authorization, body, status, the body's one key)
    let cases = [
        (JSON, &bearer[..], "{", StatusCode::BAD_REQUEST, "error"),
        (JSON, &bearer, "[]", StatusCode::BAD_REQUEST, "error"),
        (
            JSON,
            &bearer,
            r#"{"refresh_token": 5}"#,
            StatusCode::BAD_REQUEST,
            "error",
        ),
        (
            "text/plain",
            &bearer,
            "{}",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "error",
        ),
        (
            JSON,
            &bearer,
            r#"{"refresh_token": "not-a-token"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "msg",
        ),
        (
            JSON,
            bad_bearer,
            "{}",
            StatusCode::UNPROCESSABLE_ENTITY,
            "msg",
        ),
    ];
    for (content_type, authorization, body, status, key) in cases {
        let headers = [
            ("content-type", content_type),
            ("authorization", authorization),
        ];
        let refused = service.logout_raw(&headers, Some(body)).await;
        assert_eq!(refused.status, status, "{body}: {}", refused.body);
        let keys: Vec<&String> = refused.body.as_object().unwrap().keys().collect();
        assert_eq!(keys, [key], "{body}: {}", refused.body);
    }
    assert_eq!(service.profile(&access).await.status, StatusCode::OK);
}

/// Expiry is no error at logout, but the wrong kind of token in the body still is.
async fn an_expired_access_token_where_a_refresh_token_belongs_is_refused(backend: Backend) {
    let service = Service::new(backend, &[("JWT_ACCESS_TOKEN_EXPIRES", "2")]).await;
    let (access, refresh) = service.login().await;
    service.clock().advance(Duration::from_secs(3));
    let refused = service
        .logout(Some(&refresh), Some(json!({"refresh_token": access})))
        .await;
    assert_eq!(
        (refused.status, refused.body),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"msg": "Only refresh tokens are allowed"})
        )
    );
    assert_eq!(service.refresh(&refresh).await.status, StatusCode::OK);
}

async fn a_token_without_a_jti_cannot_be_revoked_and_revokes_nothing_with_it(backend: Backend) {
    let service = Service::new(backend, &[]).await;
    let (access, _) = service.login().await;
    let now = service.clock().unix_secs();
    let without_jti = auth_testkit::signed(
        &json!({"type": "refresh", "sub": "cosmo", "iat": now, "exp": now + 600}),
    );
    let refused = service
        .logout(Some(&access), Some(json!({"refresh_token": without_jti})))
        .await;
    assert_eq!(
        (refused.status, refused.body),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"msg": "Token is missing the \"jti\" claim"})
        )
    );
    assert_eq!(service.profile(&access).await.status, StatusCode::OK);
}

async fn without_rotation_refresh_keeps_the_seed_contract(backend: Backend) {
    let service = Service::new(backend, &[]).await;
    let (_, refresh) = service.login().await;
    for _ in 0..3 {
        let refreshed = service.refresh(&refresh).await;
        assert_eq!(refreshed.status, StatusCode::OK);
        let keys: Vec<&String> = refreshed.body.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["access_token"], "{backend:?}");
    }
}

async fn with_rotation_reuse_of_a_spent_refresh_token_kills_the_family(backend: Backend) {
    let service = Service::new(backend, &[ROTATION]).await;
    let (_, first) = service.login().await;
    let rotated = service.refresh(&first).await;
    assert_eq!(rotated.status, StatusCode::OK, "{backend:?}");
    let second = token(&rotated, "refresh_token");
    assert_ne!(second, first);
    let rotated = service.refresh(&second).await;
    let (access, third) = (
        token(&rotated, "access_token"),
        token(&rotated, "refresh_token"),
    );
    assert_eq!(service.profile(&access).await.status, StatusCode::OK);

    // A thief replays the first token: the whole family dies, the user's tokens too.
    assert_revoked(&service.refresh(&first).await, "the replayed token");
    assert_revoked(&service.refresh(&third).await, "the user's current token");
    assert_revoked(&service.profile(&access).await, "the family's access token");
    // A new login is a new family.
    let (access, refresh) = service.login().await;
    assert_eq!(service.profile(&access).await.status, StatusCode::OK);
    assert_eq!(service.refresh(&refresh).await.status, StatusCode::OK);
}

async fn with_rotation_twenty_concurrent_refreshes_of_one_token_give_exactly_one_200(
    backend: Backend,
) {
    let service = Arc::new(Service::new(backend, &[ROTATION, NO_GRACE]).await);
    let (_, refresh) = service.login().await;
    let refreshes: Vec<_> = (0..20)
        .map(|_| {
            let (service, refresh) = (service.clone(), refresh.clone());
            tokio::spawn(async move { service.refresh(&refresh).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for refresh in refreshes {
        let reply = refresh.await.unwrap();
        if reply.status != StatusCode::OK {
            assert_revoked(&reply, "a losing refresh");
        }
        statuses.push(reply.status);
    }
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(ok, 1, "{backend:?}: {statuses:?}");
}

async fn with_a_grace_a_client_that_lost_the_answer_may_retry(backend: Backend) {
    let grace = ("JWT_REFRESH_TOKEN_ROTATION_GRACE", "30s");
    let service = Service::new(backend, &[ROTATION, grace]).await;
    let (_, first) = service.login().await;
    assert_eq!(service.refresh(&first).await.status, StatusCode::OK);
    // The answer was lost; the client retries with the same token.
    service.clock().advance(Duration::from_secs(29));
    let retried = service.refresh(&first).await;
    assert_eq!(retried.status, StatusCode::OK, "{backend:?}");
    let current = token(&retried, "refresh_token");
    assert_eq!(service.refresh(&current).await.status, StatusCode::OK);
}

/// A refresh of `refresh` whose read fails (503), then its retry: it succeeds, and the refresh
/// token it gives works, so the session goes on.
async fn a_failed_read_and_its_retry_keep_the_session(service: &Service, refresh: &str) {
    service.faults.failing_lookups.store(1, Ordering::SeqCst);
    let failed = service.refresh(refresh).await;
    let status = failed.status;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{}", failed.body);
    let retried = service.refresh(refresh).await;
    assert_eq!(retried.status, StatusCode::OK, "{}", retried.body);
    let next = token(&retried, "refresh_token");
    assert_eq!(service.refresh(&next).await.status, StatusCode::OK);
}

/// Without a grace the read comes first: a refresh whose read fails spends nothing, so its
/// retry is no replay.
async fn with_rotation_and_no_grace_a_failed_read_spends_nothing(backend: Backend) {
    let service = Service::new(backend, &[ROTATION, NO_GRACE]).await;
    let (_, refresh) = service.login().await;
    a_failed_read_and_its_retry_keep_the_session(&service, &refresh).await;
}

/// With a grace the rotation goes beside the read, and may be made when the read fails: the
/// retry within the grace gets the session's current refresh token, and the session goes on.
async fn with_rotation_and_a_grace_a_retry_after_a_failed_read_gets_the_session_on(
    backend: Backend,
) {
    let service = Service::new(backend, &[ROTATION]).await;
    let (_, refresh) = service.login().await;
    a_failed_read_and_its_retry_keep_the_session(&service, &refresh).await;
    // The token first presented is spent: after the grace it is a replay.
    service.clock().advance(Duration::from_secs(60));
    assert_revoked(
        &service.refresh(&refresh).await,
        "the first token after the grace",
    );
}

/// RFC 9700 section 4.14.2: rotation does not make a session immortal.
async fn with_rotation_a_session_ends_at_its_max_age_however_often_it_is_refreshed(
    backend: Backend,
) {
    let service = Service::new(
        backend,
        &[
            ROTATION,
            ("JWT_REFRESH_TOKEN_EXPIRES", "6"),
            ("JWT_SESSION_MAX_AGE", "10"),
        ],
    )
    .await;
    let (_, mut refresh) = service.login().await;
    let started = payload_of(&refresh)["auth_time"].as_i64().unwrap();
    assert_eq!(payload_of(&refresh)["exp"], json!(started + 6));
    for (advance, exp) in [(5, started + 10), (4, started + 10)] {
        service.clock().advance(Duration::from_secs(advance));
        let rotated = service.refresh(&refresh).await;
        assert_eq!(rotated.status, StatusCode::OK, "{backend:?}");
        refresh = token(&rotated, "refresh_token");
        let payload = payload_of(&refresh);
        assert_eq!(
            (&payload["exp"], &payload["auth_time"]),
            (&json!(exp), &json!(started)),
            "the new token keeps the session's start and never outlives it"
        );
        assert_eq!(
            payload_of(&token(&rotated, "access_token"))["auth_time"],
            json!(started)
        );
    }
    service.clock().advance(Duration::from_secs(1));
    assert_expired(&service.refresh(&refresh).await, "past the session's cap");
}

async fn without_rotation_the_refresh_token_of_a_login_ends_with_its_session(backend: Backend) {
    let service = Service::new(
        backend,
        &[
            ("JWT_REFRESH_TOKEN_EXPIRES", "1h"),
            ("JWT_SESSION_MAX_AGE", "20m"),
        ],
    )
    .await;
    let (_, refresh) = service.login().await;
    let payload = payload_of(&refresh);
    assert_eq!(
        payload["exp"].as_i64().unwrap() - payload["auth_time"].as_i64().unwrap(),
        20 * 60
    );
    service.clock().advance(Duration::from_secs(20 * 60 - 1));
    assert_eq!(service.refresh(&refresh).await.status, StatusCode::OK);
    service.clock().advance(Duration::from_secs(1));
    assert_expired(&service.refresh(&refresh).await, "at the session's end");
}

async fn failed_logins_lock_the_username_until_the_window_passes(backend: Backend) {
    let throttle = [("LOGIN_MAX_FAILURES", "3"), ("LOGIN_FAILURE_WINDOW", "3s")];
    let service = Service::new(backend, &throttle).await;
    for username in ["cosmo", "nobody"] {
        for _ in 0..3 {
            let failed = service.login_as(username, "wrong").await;
            assert_eq!(failed.status, StatusCode::UNAUTHORIZED, "{backend:?}");
        }
        // Even the right password, and alike for a user who does not exist.
        let locked = service.login_as(username, PASSWORD).await;
        assert_eq!(
            (locked.status, &locked.body, locked.retry_after),
            (
                StatusCode::TOO_MANY_REQUESTS,
                &json!({"error": "Too many failed login attempts"}),
                Some(3)
            ),
            "{backend:?} {username}"
        );
    }
    // Other usernames are not affected.
    assert_eq!(
        service.login_as("wanda", "wrong").await.status,
        StatusCode::UNAUTHORIZED
    );
    service.clock().advance(Duration::from_secs(2));
    let locked = service.login_as("cosmo", PASSWORD).await;
    assert_eq!(
        (locked.status, locked.retry_after),
        (StatusCode::TOO_MANY_REQUESTS, Some(1))
    );
    service.clock().advance(Duration::from_secs(1));
    assert_eq!(
        service.login_as("cosmo", PASSWORD).await.status,
        StatusCode::OK,
        "{backend:?}: the window has passed"
    );
}

async fn a_successful_login_clears_the_failures(backend: Backend) {
    let service = Service::new(backend, &[("LOGIN_MAX_FAILURES", "2")]).await;
    service.login_as("cosmo", "wrong").await;
    service.login().await;
    // Both failures of the limit are available again.
    for _ in 0..2 {
        let failed = service.login_as("cosmo", "wrong").await;
        assert_eq!(failed.status, StatusCode::UNAUTHORIZED, "{backend:?}");
    }
    assert_eq!(
        service.login_as("cosmo", PASSWORD).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// The password is proven: a store that cannot settle the attempt must not turn that into 503.
/// The place stays taken until no place has been taken for `MAX_PLACE_HOLD_SECS`.
async fn a_login_succeeds_when_its_attempt_cannot_be_settled(backend: Backend) {
    let service = Service::new(backend, &[("LOGIN_MAX_FAILURES", "3")]).await;
    service
        .faults
        .failing_settlements
        .store(1, Ordering::SeqCst);
    let reply = service.login_as("cosmo", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let access = token(&reply, "access_token");
    assert_eq!(service.profile(&access).await.status, StatusCode::OK);
    // Two places are left: two failures, and then the limit is reached.
    for _ in 0..2 {
        let failed = service.login_as("cosmo", "wrong").await;
        assert_eq!(failed.status, StatusCode::UNAUTHORIZED, "{backend:?}");
    }
    // The lost place is an attempt the store still sees in flight, and the answer says so,
    // after the wait its deadline allows (here half a second: the budget less the check's),
    // with the time by which every place in flight is free whatever became of it.
    service.set_lambda_budget(Duration::from_millis(2500));
    let reply = service.login_as("cosmo", PASSWORD).await;
    let hold = auth_core::sessions::MAX_PLACE_HOLD_SECS as u64;
    assert_eq!(
        (reply.status, &reply.body, reply.retry_after),
        (
            StatusCode::TOO_MANY_REQUESTS,
            &json!({"error": "Too many login attempts in progress"}),
            Some(hold)
        ),
        "{backend:?}"
    );
    // And it is: the lost place is free again, the failures' are not.
    service.clock().advance(Duration::from_secs(hold));
    let reply = service.login_as("cosmo", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{backend:?}: {}", reply.body);
}

/// Logs in `count` times at once as cosmo with `password`: the replies.
async fn concurrent_logins(
    service: &Arc<Service>,
    count: usize,
    password: &str,
) -> Vec<crate::common::Reply> {
    let logins: Vec<_> = (0..count)
        .map(|_| {
            let (service, password) = (service.clone(), password.to_owned());
            tokio::spawn(async move { service.login_as("cosmo", &password).await })
        })
        .collect();
    let mut replies = Vec::new();
    for login in logins {
        replies.push(login.await.unwrap());
    }
    replies
}

/// Only failures lock: a burst of correct logins (workers of one service, a browser restoring
/// its tabs, a load test) is no burst of failures, however many more than the limit.
async fn concurrent_correct_logins_are_never_refused_as_failures(backend: Backend) {
    let service = Arc::new(Service::new(backend, &[("LOGIN_MAX_FAILURES", "5")]).await);
    for count in [20, 100] {
        let replies = concurrent_logins(&service, count, PASSWORD).await;
        let refused: Vec<_> = replies
            .iter()
            .filter(|reply| reply.status != StatusCode::OK)
            .map(|reply| (reply.status, &reply.body))
            .collect();
        assert!(
            refused.is_empty(),
            "{backend:?}, {count} at once: {refused:?}"
        );
    }
    // Nothing failed, so every failure of the limit is left.
    for _ in 0..5 {
        let failed = service.login_as("cosmo", "wrong").await;
        assert_eq!(failed.status, StatusCode::UNAUTHORIZED, "{backend:?}");
    }
}

/// Concurrent guesses cannot slip past the limit: no more of them are checked than the limit,
/// and the others are refused with the real wait, the rest of the window.
async fn of_twenty_concurrent_guesses_five_are_checked_and_the_rest_refused_until_the_window_ends(
    backend: Backend,
) {
    let throttle = [("LOGIN_MAX_FAILURES", "5"), ("LOGIN_FAILURE_WINDOW", "15m")];
    let service = Arc::new(Service::new(backend, &throttle).await);
    let replies = concurrent_logins(&service, 20, "wrong").await;
    let checked = replies
        .iter()
        .filter(|reply| reply.status == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!(checked, 5, "{backend:?}: {replies:?}");
    for reply in replies
        .iter()
        .filter(|reply| reply.status != StatusCode::UNAUTHORIZED)
    {
        assert_eq!(
            (reply.status, &reply.body, reply.retry_after),
            (
                StatusCode::TOO_MANY_REQUESTS,
                &json!({"error": "Too many failed login attempts"}),
                Some(900)
            ),
            "{backend:?}"
        );
    }
    service.clock().advance(Duration::from_secs(600));
    let locked = service.login_as("cosmo", PASSWORD).await;
    assert_eq!(
        (locked.status, locked.retry_after),
        (StatusCode::TOO_MANY_REQUESTS, Some(300)),
        "{backend:?}"
    );
}

/// Logs in as cosmo with the right password: the device proof handed over.
async fn proof_of_a_login(service: &Service) -> String {
    let reply = service.login_as("cosmo", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply
        .login_proof
        .expect("a login hands over a device proof")
}

/// OWASP's device cookies: a stranger's failures lock the username for those without a proof,
/// and not the client that has logged in as the user before.
async fn a_strangers_failures_do_not_lock_out_a_client_with_a_proof(backend: Backend) {
    let service = Service::new(backend, &[("LOGIN_MAX_FAILURES", "5")]).await;
    let proof = proof_of_a_login(&service).await;
    let mut refused = 0;
    for _ in 0..50 {
        let stranger = service.login_as("cosmo", "guess").await;
        refused += usize::from(stranger.status == StatusCode::TOO_MANY_REQUESTS);
    }
    assert_eq!(refused, 45, "{backend:?}: only five guesses are checked");
    let with_proof = service
        .login_with_proof("cosmo", PASSWORD, Some(&proof))
        .await;
    assert_eq!(
        with_proof.status,
        StatusCode::OK,
        "{backend:?}: {}",
        with_proof.body
    );
    // The proof it gets back is of the same device, renewed.
    let renewed = with_proof.login_proof.unwrap();
    assert_eq!(
        service
            .login_with_proof("cosmo", PASSWORD, Some(&renewed))
            .await
            .status,
        StatusCode::OK
    );
    // A client without one is throttled as before, right password included.
    let without = service.login_as("cosmo", PASSWORD).await;
    assert_eq!(
        (without.status, &without.body),
        (
            StatusCode::TOO_MANY_REQUESTS,
            &json!({"error": "Too many failed login attempts"})
        ),
        "{backend:?}"
    );
}

/// A proof's allowance is its own: a thief guessing with it is throttled after as many
/// failures as anyone, and its failures do not touch the username's allowance.
async fn a_stolen_proof_gives_its_thief_the_proofs_allowance_and_nothing_more(backend: Backend) {
    let service = Service::new(backend, &[("LOGIN_MAX_FAILURES", "5")]).await;
    let stolen = proof_of_a_login(&service).await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let guess = service
            .login_with_proof("cosmo", "guess", Some(&stolen))
            .await;
        statuses.push(guess.status.as_u16());
    }
    assert_eq!(
        statuses,
        [401, 401, 401, 401, 401, 429, 429, 429],
        "{backend:?}"
    );
    // The right password with that proof waits for its window too; without it, the username
    // still has its whole allowance.
    let locked = service
        .login_with_proof("cosmo", PASSWORD, Some(&stolen))
        .await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS, "{backend:?}");
    assert_eq!(
        service.login_as("cosmo", PASSWORD).await.status,
        StatusCode::OK,
        "{backend:?}"
    );
}

async fn a_proof_of_another_user_or_forged_or_expired_counts_as_none(backend: Backend) {
    let service = Service::new(backend, &[("LOGIN_MAX_FAILURES", "5")]).await;
    let proof = proof_of_a_login(&service).await;
    // Forged: the same payload under another signature; and garbage.
    let (unsigned, _) = proof.rsplit_once('.').unwrap();
    let forged = format!("{unsigned}.AAAA");
    for _ in 0..5 {
        service.login_as("cosmo", "guess").await;
    }
    // Another user's: signed by this deployment for wanda, shown by a client logging in as cosmo.
    let now = service.clock().unix_secs();
    let wandas = auth_core::device_proof::issue(service.state.tokens(), "wanda", None, now)
        .await
        .unwrap();
    for (what, shown) in [
        ("forged", forged.as_str()),
        ("garbage", "lp1.x.y"),
        ("another user's", wandas.as_str()),
    ] {
        let reply = service
            .login_with_proof("cosmo", PASSWORD, Some(shown))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{backend:?} {what}"
        );
    }
    let wanda = service.login_as("wanda", "no such user").await;
    assert_eq!(wanda.status, StatusCode::UNAUTHORIZED);
    assert!(
        wanda.login_proof.is_none(),
        "a failed login hands over no proof"
    );
    // The real proof, past its 90 days: none either.
    assert_eq!(
        service
            .login_with_proof("cosmo", PASSWORD, Some(&proof))
            .await
            .status,
        StatusCode::OK
    );
    service
        .clock()
        .advance(auth_core::device_proof::LIFETIME + Duration::from_secs(1));
    for _ in 0..5 {
        service.login_as("cosmo", "guess").await;
    }
    let expired = service
        .login_with_proof("cosmo", PASSWORD, Some(&proof))
        .await;
    assert_eq!(expired.status, StatusCode::TOO_MANY_REQUESTS, "{backend:?}");
}

/// Proofs collected with a password since changed (by a thief who had it, say) prove nothing:
/// the login counts against the username's allowance, and its proof is a new device's.
async fn a_proof_of_before_a_password_change_counts_as_none(backend: Backend) {
    let service = system_clock_service(backend, &[("LOGIN_MAX_FAILURES", "3")]).await;
    let old_proof = proof_of_a_login(&service).await;
    service.change_password("new-corgi").await;
    for _ in 0..3 {
        service.login_as("cosmo", "guess").await;
    }
    let refused = service
        .login_with_proof("cosmo", "new-corgi", Some(&old_proof))
        .await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{backend:?}");
}

async fn zero_max_failures_never_throttles(backend: Backend) {
    let service = Service::new(backend, &[("LOGIN_MAX_FAILURES", "0")]).await;
    for _ in 0..8 {
        service.login_as("cosmo", "wrong").await;
    }
    assert_eq!(
        service.login_as("cosmo", PASSWORD).await.status,
        StatusCode::OK
    );
}

/// On the system clock, which the `users` command's changes are made by.
async fn system_clock_service(backend: Backend, overrides: &[(&str, &str)]) -> Service {
    Service::with(
        backend,
        Setup {
            overrides,
            clock: Clock::System,
            ..Setup::default()
        },
    )
    .await
}

async fn tokens_issued_before_a_password_change_are_refused(backend: Backend) {
    let service = system_clock_service(backend, &[]).await;
    let (access, refresh) = service.login().await;
    service.change_password("new-corgi").await;
    assert_revoked(&service.profile(&access).await, "the old access token");
    assert_revoked(&service.refresh(&refresh).await, "the old refresh token");
    assert_eq!(
        service.login_as("cosmo", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Tokens from a login right after the change work at once.
    let reply = service.login_as("cosmo", "new-corgi").await;
    assert_eq!(reply.status, StatusCode::OK, "{backend:?}");
    let access = token(&reply, "access_token");
    assert_eq!(service.profile(&access).await.status, StatusCode::OK);
    let refresh = token(&reply, "refresh_token");
    assert_eq!(service.refresh(&refresh).await.status, StatusCode::OK);
}

async fn ending_a_users_sessions_refuses_every_token_they_had_but_not_new_ones(backend: Backend) {
    let service = system_clock_service(backend, &[ROTATION]).await;
    let sessions = [service.login().await, service.login().await];
    service.end_sessions().await;
    for (access, refresh) in &sessions {
        assert_revoked(&service.profile(access).await, "an access token of before");
        assert_revoked(&service.refresh(refresh).await, "a refresh token of before");
    }
    let (access, refresh) = service.login().await;
    assert_eq!(service.profile(&access).await.status, StatusCode::OK);
    assert_eq!(
        service.refresh(&refresh).await.status,
        StatusCode::OK,
        "{backend:?}"
    );
}

//! What the handlers write of a user's sessions and security activity, over both stores: the
//! record a login starts (where from, how it signed in) and a refresh touches, the scopes of
//! `POST /logout` that end the user's other sessions or all of them, and the activity log of a
//! scripted story, which holds no password or token.

use std::time::Duration;

use crate::{
    common::{
        Backend, PASSWORD, Reply, Service, Setup, assert_expired, assert_logged_out,
        assert_revoked, reply, token,
    },
    mfa_harness::{self, ANN, field},
};
use auth_core::{
    activity::{ActivityEntry, ActivityEvent},
    claims::AuthMethods,
    logout_schema::{INVALID_SCOPE, REPEATED_SCOPE},
    sessions::{MAX_PAGE_SIZE, SessionInfo, SessionQuery},
};
use auth_testkit::{payload_of, request};
use lambda_http::{
    RequestExt, aws_lambda_events::apigw::ApiGatewayV2httpRequestContext, http::StatusCode,
    request::RequestContext,
};
use serde_json::json;

over_both_stores!(
    a_login_records_its_session_with_where_it_came_from_and_how_it_signed_in,
    a_login_whose_session_cannot_be_recorded_is_a_503_without_tokens,
    a_refresh_is_recorded_and_with_rotation_keeps_the_session_listed_with_its_new_token,
    logout_of_others_keeps_only_the_callers_session,
    logout_global_ends_every_session_the_callers_too,
    an_unknown_scope_is_400_and_ends_nothing,
    logout_of_others_with_an_expired_or_revoked_token_is_401_and_ends_nothing,
    the_activity_log_tells_a_scripted_story_in_order_and_holds_no_secret,
    the_second_factors_story_is_logged_and_each_session_says_how_it_signed_in,
    wrong_codes_are_logged_and_the_lock_they_close_as_blocked,
);

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const SOURCE_IP: &str = "203.0.113.9";

/// A login as cosmo from `user_agent` at `SOURCE_IP`, as API Gateway delivers it.
async fn login_from(service: &Service, password: &str, user_agent: &str) -> Reply {
    let body = json!({"username": "cosmo", "password": password}).to_string();
    let headers = [
        ("content-type", "application/json"),
        ("user-agent", user_agent),
    ];
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.http.source_ip = Some(SOURCE_IP.to_owned());
    let request = request("POST", "/login", &headers, Some(&body))
        .with_request_context(RequestContext::ApiGatewayV2(context));
    reply(login::handle(&service.state, request).await.unwrap())
}

/// Every listed session of cosmo now, newest first, page after page.
async fn listed(service: &Service) -> Vec<SessionInfo> {
    let now = service.clock().unix_secs();
    let (mut sessions, mut after) = (Vec::new(), None);
    loop {
        let query = SessionQuery {
            username: "cosmo",
            not_before: None,
            now,
            limit: MAX_PAGE_SIZE,
            after: after.as_ref(),
        };
        let page = service
            .state
            .sessions()
            .list_sessions(&query)
            .await
            .unwrap();
        sessions.extend(page.sessions);
        match page.next {
            Some(next) => after = Some(next),
            None => return sessions,
        }
    }
}

fn sid_of(token: &str) -> String {
    payload_of(token)["sid"].as_str().unwrap().to_owned()
}

/// `(event, outcome, detail)` of each entry.
fn story(entries: &[ActivityEntry]) -> Vec<(&str, &str, Option<&str>)> {
    entries
        .iter()
        .map(|entry| {
            (
                entry.event.name(),
                entry.outcome.name(),
                entry.detail.as_deref(),
            )
        })
        .collect()
}

fn ids(sessions: &[SessionInfo]) -> Vec<&str> {
    sessions.iter().map(|session| session.id.as_str()).collect()
}

async fn a_login_records_its_session_with_where_it_came_from_and_how_it_signed_in(
    backend: Backend,
) {
    let service = Service::new(backend, &[]).await;
    let answer = login_from(&service, PASSWORD, &format!("{FIREFOX}\t")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let access = token(&answer, "access_token");
    let sessions = listed(&service).await;
    assert_eq!(
        sessions,
        [SessionInfo {
            id: sid_of(&access),
            // The login's time, after any wait for the user's `tokens_valid_after`.
            started_at: payload_of(&access)["auth_time"].as_i64().unwrap(),
            refreshed_at: None,
            source_ip: Some(SOURCE_IP.to_owned()),
            // Kept bounded: without its control characters.
            user_agent: Some(FIREFOX.to_owned()),
            methods: Some(AuthMethods::Password),
        }],
        "{backend:?}"
    );
    // A refused login starts nothing.
    let refused = login_from(&service, "not-the-password", FIREFOX).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(listed(&service).await.len(), 1);
}

async fn a_login_whose_session_cannot_be_recorded_is_a_503_without_tokens(backend: Backend) {
    let service = Service::new(backend, &[]).await;
    service
        .faults
        .failing_session_starts
        .store(1, std::sync::atomic::Ordering::SeqCst);
    let refused = service.login_as("cosmo", PASSWORD).await;
    assert_eq!(
        (refused.status, &refused.body),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({"error": "Service unavailable"})
        ),
        "{backend:?}"
    );
    assert_eq!(refused.retry_after, Some(2));
    assert!(refused.login_proof.is_none());
    assert!(listed(&service).await.is_empty());
    // The right password's place was given back beside the failed start: the retry gets in.
    let (access, _) = service.login().await;
    assert_eq!(ids(&listed(&service).await), [sid_of(&access).as_str()]);
}

async fn a_refresh_is_recorded_and_with_rotation_keeps_the_session_listed_with_its_new_token(
    backend: Backend,
) {
    for rotation in ["false", "true"] {
        let overrides = [
            ("JWT_REFRESH_TOKEN_ROTATION", rotation),
            ("JWT_REFRESH_TOKEN_EXPIRES", "1h"),
        ];
        let service = Service::new(backend, &overrides).await;
        let (_, refresh) = service.login().await;
        service.clock().advance(Duration::from_secs(1800));
        let refreshed = service.refresh(&refresh).await;
        assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
        let sessions = listed(&service).await;
        assert_eq!(sessions.len(), 1);
        assert_eq!(
            sessions[0].refreshed_at,
            Some(service.clock().unix_secs()),
            "{backend:?}, rotation {rotation}"
        );
        // Past the login's refresh token: listed while the refresh token it was spent for
        // lives, and without rotation not, as no refresh token of it is left.
        service.clock().advance(Duration::from_secs(1801));
        let still_listed = listed(&service).await.len() == 1;
        assert_eq!(
            still_listed,
            rotation == "true",
            "{backend:?}, rotation {rotation}"
        );
    }
}

async fn logout_of_others_keeps_only_the_callers_session(backend: Backend) {
    let service = Service::new(backend, &[]).await;
    let (access, refresh) = service.login().await;
    let (other_access, other_refresh) = service.login().await;
    let (_, third_refresh) = service.login().await;
    assert_eq!(listed(&service).await.len(), 3);

    assert_logged_out(
        &service.logout_scoped("others", Some(&access), None).await,
        "logout of others",
    );
    assert_eq!(ids(&listed(&service).await), [sid_of(&access).as_str()]);
    // The caller's session lives on: its tokens work, and its refresh token buys more.
    assert_eq!(service.profile(&access).await.status, StatusCode::OK);
    assert_eq!(service.refresh(&refresh).await.status, StatusCode::OK);
    // The others are over, at once.
    assert_revoked(&service.refresh(&other_refresh).await, "another session");
    assert_revoked(&service.refresh(&third_refresh).await, "a third session");
    assert_revoked(
        &service.profile(&other_access).await,
        "another session's access token",
    );
}

async fn logout_global_ends_every_session_the_callers_too(backend: Backend) {
    let service = Service::new(backend, &[]).await;
    let (access, refresh) = service.login().await;
    let (other_access, other_refresh) = service.login().await;
    assert_logged_out(
        &service.logout_scoped("global", Some(&access), None).await,
        "global logout",
    );
    assert!(listed(&service).await.is_empty(), "{backend:?}");
    for (token, what) in [
        (&access, "the caller's access token"),
        (&other_access, "another session's access token"),
    ] {
        assert_revoked(&service.profile(token).await, what);
    }
    for (token, what) in [
        (&refresh, "the caller's refresh token"),
        (&other_refresh, "another session's refresh token"),
    ] {
        assert_revoked(&service.refresh(token).await, what);
    }
    // A new login is a new session, untouched.
    let (_, new_refresh) = service.login().await;
    assert_eq!(service.refresh(&new_refresh).await.status, StatusCode::OK);
}

async fn an_unknown_scope_is_400_and_ends_nothing(backend: Backend) {
    let service = Service::new(backend, &[]).await;
    let (access, refresh) = service.login().await;
    let (_, other_refresh) = service.login().await;
    for (scope, message) in [
        ("everything", INVALID_SCOPE),
        ("", INVALID_SCOPE),
        ("GLOBAL", INVALID_SCOPE),
        ("global%00", INVALID_SCOPE),
        ("others&scope=global", REPEATED_SCOPE),
    ] {
        let refused = service
            .logout_scoped(
                scope,
                Some(&access),
                Some(json!({"refresh_token": refresh})),
            )
            .await;
        assert_eq!(
            (refused.status, &refused.body),
            (StatusCode::BAD_REQUEST, &json!({ "msg": message })),
            "{scope:?}"
        );
    }
    assert_eq!(listed(&service).await.len(), 2);
    assert_eq!(service.profile(&access).await.status, StatusCode::OK);
    for refresh in [&refresh, &other_refresh] {
        assert_eq!(service.refresh(refresh).await.status, StatusCode::OK);
    }
}

async fn logout_of_others_with_an_expired_or_revoked_token_is_401_and_ends_nothing(
    backend: Backend,
) {
    let service = Service::new(backend, &[]).await;
    let (_, other_refresh) = service.login().await;
    let (revoked, _) = service.login().await;
    assert_logged_out(&service.logout(Some(&revoked), None).await, "local logout");
    for scope in ["others", "global"] {
        assert_revoked(
            &service.logout_scoped(scope, Some(&revoked), None).await,
            "a revoked token",
        );
    }
    let (expired, _) = service.login().await;
    service.clock().advance(Duration::from_secs(15 * 60 + 1));
    for scope in ["others", "global"] {
        assert_expired(
            &service.logout_scoped(scope, Some(&expired), None).await,
            "an expired token",
        );
    }
    assert_eq!(listed(&service).await.len(), 3, "{backend:?}");
    assert_eq!(service.refresh(&other_refresh).await.status, StatusCode::OK);
}

async fn the_activity_log_tells_a_scripted_story_in_order_and_holds_no_secret(backend: Backend) {
    const WRONG: &str = "not-the-password-7";
    let overrides = [
        ("JWT_REFRESH_TOKEN_ROTATION", "true"),
        ("JWT_REFRESH_TOKEN_ROTATION_GRACE", "0"),
    ];
    let service = Service::with(
        backend,
        Setup {
            overrides: &overrides,
            activity: true,
            ..Setup::default()
        },
    )
    .await;
    assert_eq!(
        login_from(&service, WRONG, FIREFOX).await.status,
        StatusCode::UNAUTHORIZED
    );
    // An unknown name is nobody's: it gets no log.
    assert_eq!(
        service.login_as("nobody-here", WRONG).await.status,
        StatusCode::UNAUTHORIZED
    );
    let login = login_from(&service, PASSWORD, FIREFOX).await;
    let (access, refresh) = (
        token(&login, "access_token"),
        token(&login, "refresh_token"),
    );
    let refreshed = service.refresh(&refresh).await;
    assert_eq!(refreshed.status, StatusCode::OK);
    assert_revoked(&service.refresh(&refresh).await, "a replay");
    assert!(
        listed(&service).await.is_empty(),
        "a replay ends the session"
    );
    assert_logged_out(&service.logout(Some(&access), None).await, "logout");

    let activity = service.state.activity();
    activity.settled().await;
    let log = activity.log().unwrap();
    let now = service.clock().unix_secs();
    assert!(
        log.list("nobody-here", 10, None, now)
            .await
            .unwrap()
            .entries
            .is_empty()
    );
    let page = log.list("cosmo", 100, None, now).await.unwrap();
    let oldest_first: Vec<ActivityEntry> = page.entries.iter().rev().cloned().collect();
    assert_eq!(
        story(&oldest_first),
        [
            ("login", "failure", Some("wrong_password")),
            ("login", "success", None),
            ("refresh", "success", None),
            ("refresh", "blocked", Some("reuse_detected")),
            ("logout", "success", Some("local")),
        ],
        "{backend:?}"
    );
    let sid = sid_of(&access);
    for entry in &oldest_first[1..] {
        assert_eq!(entry.session.as_deref(), Some(sid.as_str()), "{entry:?}");
    }
    let first = &oldest_first[0];
    assert_eq!(first.event, ActivityEvent::Login);
    assert_eq!(first.session, None);
    assert_eq!(
        (first.source_ip.as_deref(), first.user_agent.as_deref()),
        (Some(SOURCE_IP), Some(FIREFOX))
    );
    let stored = format!("{:?}", page.entries);
    let secrets = [
        PASSWORD,
        WRONG,
        &access,
        &refresh,
        &token(&refreshed, "access_token"),
        &token(&refreshed, "refresh_token"),
    ];
    for secret in secrets {
        assert!(!stored.contains(secret), "{secret} in {stored}");
        // Not even a token's signature alone.
        let signature = secret.rsplit('.').next().unwrap();
        assert!(!stored.contains(signature), "{signature} in {stored}");
    }
}

/// A millisecond on: each function of the harness writes the log with a recorder of its own
/// (as each Lambda has), and entries of one instant of two recorders have no order.
fn tick(service: &mfa_harness::Service) {
    service.clock.advance(Duration::from_millis(1));
}

/// `mfa_harness::Service::enrolled`, a tick between its steps.
async fn enrolled(service: &mfa_harness::Service) -> mfa_harness::Enrolled {
    let (access, refresh) = service.confirmed(ANN).await;
    tick(service);
    let (app, _) = service.begin(&access).await;
    let answer = service.confirm(&app, &access).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    tick(service);
    mfa_harness::Enrolled {
        codes: answer.recovery_codes(),
        app,
        access,
        refresh,
    }
}

/// A sign-up confirmed, a factor enrolled, logins with a code, a wrong one and a recovery code,
/// the codes replaced, the factor removed: each in the user's log, in order, and each session
/// recorded with how it signed in.
async fn the_second_factors_story_is_logged_and_each_session_says_how_it_signed_in(
    backend: Backend,
) {
    let service = mfa_harness::Service::new(backend, &[]).await;
    let enrolled = enrolled(&service).await;
    service.next_step();
    let mfa_token = service.mfa_token(ANN).await;
    tick(&service);
    let with_code = service
        .with_code(&mfa_token, &service.code(&enrolled.app))
        .await;
    assert_eq!(with_code.status, StatusCode::OK, "{with_code:?}");
    tick(&service);
    let mfa_token = service.mfa_token(ANN).await;
    tick(&service);
    let wrong = service.wrong_code(&enrolled.app);
    assert_eq!(
        service.with_code(&mfa_token, &wrong).await.status,
        StatusCode::UNAUTHORIZED
    );
    tick(&service);
    let with_recovery_code = service
        .with_recovery_code(&mfa_token, &enrolled.codes[0])
        .await;
    assert_eq!(with_recovery_code.status, StatusCode::OK);
    let sessions = service.sessions(ANN).await;
    for (answer, methods) in [
        (&with_code, AuthMethods::PasswordAndOtp),
        (&with_recovery_code, AuthMethods::PasswordAndRecoveryCode),
    ] {
        let sid = sid_of(&field(&answer.body, "access_token"));
        let session = sessions.iter().find(|session| session.id == sid).unwrap();
        assert_eq!(session.methods, Some(methods), "{backend:?}");
    }
    tick(&service);
    service.next_step();
    let replaced = service
        .factor_with_code(
            "POST",
            "/mfa/recovery-codes",
            &enrolled.app,
            &enrolled.access,
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{replaced:?}");
    service.next_step();
    let removed = service
        .factor_with_code("DELETE", "/mfa/totp", &enrolled.app, &enrolled.access)
        .await;
    assert_eq!(removed.status, StatusCode::OK, "{removed:?}");

    let entries = service.activity(ANN).await;
    assert_eq!(
        story(&entries),
        [
            ("signup_confirmed", "success", None),
            ("mfa_enabled", "success", None),
            ("login", "success", Some("second_factor_required")),
            ("login_second_factor", "success", None),
            ("login", "success", Some("second_factor_required")),
            ("login_second_factor", "failure", Some("wrong_code")),
            ("login_second_factor", "success", Some("recovery_code")),
            ("recovery_codes_replaced", "success", None),
            ("mfa_disabled", "success", None),
        ],
        "{backend:?}"
    );
    // The enrolling session is the confirmed sign-up's, and named by the entries it made.
    let enrolling = sid_of(&enrolled.access);
    for index in [0, 1, 7, 8] {
        assert_eq!(
            entries[index].session.as_deref(),
            Some(enrolling.as_str()),
            "{:?}",
            entries[index]
        );
    }
    let stored = format!("{entries:?}");
    for secret in enrolled.codes.iter().chain([&wrong, &mfa_token]) {
        assert!(!stored.contains(secret.as_str()), "{secret} in {stored}");
    }
}

async fn wrong_codes_are_logged_and_the_lock_they_close_as_blocked(backend: Backend) {
    let service = mfa_harness::Service::new(backend, &[]).await;
    let app = enrolled(&service).await.app;
    service.next_step();
    let mfa_token = service.mfa_token(ANN).await;
    let wrong = service.wrong_code(&app);
    for _ in 0..5 {
        tick(&service);
        let answer = service.with_code(&mfa_token, &wrong).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{answer:?}");
    }
    tick(&service);
    let locked = service.with_code(&mfa_token, &service.code(&app)).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    let entries = service.activity(ANN).await;
    let mut expected = vec![("login_second_factor", "failure", Some("wrong_code")); 5];
    expected.push(("login_second_factor", "blocked", Some("too_many_attempts")));
    assert_eq!(story(&entries[3..]), expected, "{backend:?}");
}

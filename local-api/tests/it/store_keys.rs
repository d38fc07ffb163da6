//! Ids of every shape in validly signed tokens get the same answer from both stores, on every
//! route: an empty or overlong `sub` is an unknown user, and an empty or overlong `jti` or
//! `sid` is an id like any other, revoked by a logout. DynamoDB refuses such keys, so without
//! the stores' key rules these requests answered 503 over DynamoDB and 401 in memory.

use crate::common::{Backend, Service, assert_logged_out, assert_revoked};
use auth_testkit::{payload_of, signed, with_claim};
use lambda_http::http::StatusCode;
use serde_json::{Value, json};

over_both_stores!(
    an_empty_sub_is_an_unknown_user_on_every_route,
    an_overlong_sub_is_an_unknown_user,
    empty_jti_and_sid_are_revoked_like_any_other_ids,
    overlong_jti_and_sid_are_revoked_like_any_other_ids,
    with_rotation_an_empty_sid_and_jti_rotate_and_a_replay_ends_the_session,
);

const ROTATION: (&str, &str) = ("JWT_REFRESH_TOKEN_ROTATION", "true");

/// A token of cosmo's login, re-signed with `changes` to its claims.
fn resigned(token: &str, changes: &[(&str, Value)]) -> String {
    let claims = changes
        .iter()
        .fold(payload_of(token), |claims, (key, value)| {
            with_claim(claims, key, value.clone())
        });
    signed(&claims)
}

fn assert_unknown_user(reply: &crate::common::Reply, username: &str, what: &str) {
    assert_eq!(
        (reply.status, &reply.body),
        (
            StatusCode::UNAUTHORIZED,
            &json!({ "msg": format!("Error loading the user {username}") })
        ),
        "{what}"
    );
}

async fn an_empty_sub_is_an_unknown_user_on_every_route(backend: Backend) {
    let service = Service::new(backend, &[]).await;
    let (access, refresh) = service.login().await;
    let nobody = [("sub", json!(""))];
    let (access, refresh) = (resigned(&access, &nobody), resigned(&refresh, &nobody));

    assert_unknown_user(&service.profile(&access).await, "", "profile");
    assert_unknown_user(&service.refresh(&refresh).await, "", "refresh");
    // Logout reads no user: it revokes what it is given, whoever it names.
    let logout = service
        .logout(Some(&access), Some(json!({ "refresh_token": refresh })))
        .await;
    assert_logged_out(&logout, "logout");
    // The revocation comes first (flask-jwt-extended's order), so it shows.
    assert_revoked(&service.profile(&access).await, "profile after logout");
    assert_revoked(&service.refresh(&refresh).await, "refresh after logout");
}

async fn an_overlong_sub_is_an_unknown_user(backend: Backend) {
    let service = Service::new(backend, &[]).await;
    let (access, refresh) = service.login().await;
    for username in [
        "x".repeat(2049),
        "\u{1F600}".repeat(513),
        "y".repeat(50_000),
    ] {
        let sub = [("sub", json!(username))];
        let what = format!("{} bytes", username.len());
        assert_unknown_user(
            &service.profile(&resigned(&access, &sub)).await,
            &username,
            &what,
        );
        assert_unknown_user(
            &service.refresh(&resigned(&refresh, &sub)).await,
            &username,
            &what,
        );
    }
}

/// Tokens with the ids `jti` and `sid`: the access token revoked by its `jti`, the refresh
/// token ending its session, and another access token of that session ended with it, while a
/// token of another session lives on.
async fn ids_are_revoked_like_any_other(service: &Service, jti: &str, sid: &str) {
    let (access, refresh) = service.login().await;
    let ours = resigned(&access, &[("jti", json!(jti)), ("sid", json!("s-1"))]);
    let ours_refresh = resigned(&refresh, &[("jti", json!("r-1")), ("sid", json!(sid))]);
    let same_session = resigned(&access, &[("jti", json!("a-2")), ("sid", json!(sid))]);
    let other_session = resigned(&access, &[("jti", json!("a-3")), ("sid", json!("s-3"))]);
    for token in [&ours, &same_session, &other_session] {
        assert_eq!(service.profile(token).await.status, StatusCode::OK);
    }
    assert_eq!(service.refresh(&ours_refresh).await.status, StatusCode::OK);

    let logout = service
        .logout(Some(&ours), Some(json!({ "refresh_token": ours_refresh })))
        .await;
    assert_logged_out(&logout, "logout");
    assert_revoked(&service.profile(&ours).await, "the bearer, by its jti");
    assert_revoked(&service.refresh(&ours_refresh).await, "the refresh token");
    assert_revoked(&service.profile(&same_session).await, "its session");
    assert_eq!(service.profile(&other_session).await.status, StatusCode::OK);
}

async fn empty_jti_and_sid_are_revoked_like_any_other_ids(backend: Backend) {
    let service = Service::new(backend, &[]).await;
    ids_are_revoked_like_any_other(&service, "", "").await;
}

async fn overlong_jti_and_sid_are_revoked_like_any_other_ids(backend: Backend) {
    let service = Service::new(backend, &[]).await;
    ids_are_revoked_like_any_other(&service, &"j".repeat(3000), &"\u{1F600}".repeat(600)).await;
}

async fn with_rotation_an_empty_sid_and_jti_rotate_and_a_replay_ends_the_session(backend: Backend) {
    let service = Service::new(
        backend,
        &[ROTATION, ("JWT_REFRESH_TOKEN_ROTATION_GRACE", "0")],
    )
    .await;
    let (_, refresh) = service.login().await;
    let presented = resigned(&refresh, &[("jti", json!("")), ("sid", json!(""))]);
    let rotated = service.refresh(&presented).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let replayed = service.refresh(&presented).await;
    assert_revoked(&replayed, "a replay of the spent token");
    let next = crate::common::token(&rotated, "refresh_token");
    assert_revoked(&service.refresh(&next).await, "the session it ended");
}

//! What a logout ends, read back from the sessions store: an access token alone (the bearer),
//! a refresh token with its whole session (in the body, or as the bearer), and a session still
//! when the refresh token has expired, as a client idle past its tokens' lives logs out.

use std::time::Duration;

use auth_core::{
    AppState,
    claims::TokenKind,
    clock::Clock,
    tokens::{SessionClaims, new_token_id},
};
use auth_testkit::{bearer_request, json_body, request, set_cookies, state_builder};
use lambda_http::{Body, http::StatusCode};
use serde_json::json;

/// An access and a refresh token of one session of cosmo, issued now; and their ids.
struct Session {
    id: String,
    access: String,
    access_jti: String,
    refresh: String,
    refresh_jti: String,
}

fn session(state: &AppState) -> Session {
    let now = state.clock().unix_secs();
    let id = new_token_id();
    let (access_jti, refresh_jti) = (new_token_id(), new_token_id());
    let issue = |kind, jti: &str| {
        state
            .tokens()
            .issue_at(
                kind,
                "cosmo",
                kind == TokenKind::Access,
                now,
                jti,
                Some(SessionClaims {
                    id: &id,
                    started_at: now,
                    methods: None,
                }),
            )
            .unwrap()
    };
    Session {
        access: issue(TokenKind::Access, &access_jti),
        refresh: issue(TokenKind::Refresh, &refresh_jti),
        id,
        access_jti,
        refresh_jti,
    }
}

/// Whether the token `jti` / the session `id` is revoked now.
async fn revoked(state: &AppState, jti: Option<&str>, session: Option<&str>) -> bool {
    state
        .sessions()
        .is_revoked(jti, session, state.clock().unix_secs())
        .await
        .unwrap()
}

fn manual_state() -> AppState {
    state_builder(&[]).clock(Clock::manual()).build().unwrap()
}

#[tokio::test]
async fn an_access_token_alone_revokes_itself_and_not_its_session() {
    let state = manual_state();
    let session = session(&state);
    let response = logout::handle(&state, bearer_request("POST", "/logout", &session.access))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(revoked(&state, Some(&session.access_jti), None).await);
    assert!(!revoked(&state, None, Some(&session.id)).await);
    assert!(!revoked(&state, Some(&session.refresh_jti), None).await);
}

#[tokio::test]
async fn a_refresh_token_in_the_body_ends_its_whole_session() {
    let state = manual_state();
    let session = session(&state);
    let body = json!({"refresh_token": session.refresh}).to_string();
    let authorization = format!("Bearer {}", session.access);
    let response = logout::handle(
        &state,
        request(
            "POST",
            "/logout",
            &[
                ("authorization", &authorization),
                ("content-type", "application/json"),
            ],
            Some(&body),
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        (response.status(), json_body(&response)),
        (StatusCode::OK, json!({"msg": "Successfully logged out"}))
    );
    assert!(revoked(&state, None, Some(&session.id)).await);
    assert!(revoked(&state, Some(&session.access_jti), None).await);
    assert!(revoked(&state, Some(&session.refresh_jti), None).await);
}

/// Logs out with `session`'s refresh token as the bearer, `idle` after its login: the session
/// must be over.
async fn refresh_bearer_ends_the_session_after(idle: Duration) {
    let state = manual_state();
    let session = session(&state);
    state.clock().advance(idle);
    let response = logout::handle(&state, bearer_request("POST", "/logout", &session.refresh))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(revoked(&state, None, Some(&session.id)).await);
}

#[tokio::test]
async fn a_refresh_token_as_the_bearer_ends_its_whole_session() {
    refresh_bearer_ends_the_session_after(Duration::ZERO).await;
}

/// A client idle past both tokens' lives still ends its session: its record outlives the
/// refresh token by the life of the last access token the session could buy.
#[tokio::test]
async fn an_expired_refresh_token_still_ends_its_session() {
    // Past the refresh token's hour, within its session's record.
    refresh_bearer_ends_the_session_after(Duration::from_secs(3600 + 60)).await;
}

/// A body of blanks is no body: the bearer alone is logged out, as with none at all, whether
/// API Gateway hands the body over as text or as bytes.
#[tokio::test]
async fn a_body_of_blanks_is_no_body_as_text_or_as_bytes() {
    for body in [
        Body::Text(" \n\t".to_owned()),
        Body::Binary(b" \r\n".to_vec()),
    ] {
        let state = manual_state();
        let session = session(&state);
        let mut request = bearer_request("POST", "/logout", &session.access);
        *request.body_mut() = body;
        let response = logout::handle(&state, request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(revoked(&state, Some(&session.access_jti), None).await);
    }
}

/// A JSON body handed over as bytes is read as one: its refresh token ends the session.
#[tokio::test]
async fn a_body_api_gateway_hands_over_as_bytes_is_read() {
    let state = manual_state();
    let session = session(&state);
    let mut request = bearer_request("POST", "/logout", &session.access);
    *request.body_mut() = Body::Binary(
        json!({"refresh_token": session.refresh})
            .to_string()
            .into_bytes(),
    );
    let response = logout::handle(&state, request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(revoked(&state, None, Some(&session.id)).await);
}

/// A refused logout clears the cookies in cookie mode (a browser would keep sending cookies no
/// logout can take), and sets none in header mode, where there are none to clear.
#[tokio::test]
async fn a_refused_logout_clears_cookies_in_cookie_mode_only() {
    let cookie_mode = state_builder(&[("JWT_TOKEN_LOCATION", "cookies")])
        .build()
        .unwrap();
    let garbage = request(
        "POST",
        "/logout",
        &[
            ("cookie", "access_token_cookie=not.a.token"),
            ("x-csrf-token", "c"),
        ],
        None,
    );
    let response = logout::handle(&cookie_mode, garbage).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        set_cookies(&response).len(),
        4,
        "{:?}",
        set_cookies(&response)
    );

    let header_mode = manual_state();
    let garbage = bearer_request("POST", "/logout", "not.a.token");
    let response = logout::handle(&header_mode, garbage).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(set_cookies(&response).is_empty());
}

/// In cookie mode a logout without cookies says which cookie it looked for, as
/// flask-jwt-extended does.
#[tokio::test]
async fn in_cookie_mode_a_logout_without_cookies_names_the_access_cookie() {
    let state = state_builder(&[("JWT_TOKEN_LOCATION", "cookies")])
        .build()
        .unwrap();
    let response = logout::handle(&state, request("POST", "/logout", &[], None))
        .await
        .unwrap();
    assert_eq!(
        (response.status(), json_body(&response)),
        (
            StatusCode::UNAUTHORIZED,
            json!({"msg": "Missing cookie \"access_token_cookie\""})
        )
    );
}

/// A session of cosmo started (listed) now, its tokens as a cookie-mode login sets them: the
/// access token and its CSRF value, and the session's id.
async fn cookie_session(state: &AppState) -> (String, String, String) {
    let user = auth_core::users::InMemoryUserStore::demo_user();
    let now = state.clock().unix_secs();
    let id = new_token_id();
    let methods = auth_core::claims::AuthMethods::Password;
    let login = request("POST", "/login", &[], None);
    auth_http::grant::start_session(state, &login, &user, &id, methods, now)
        .await
        .unwrap();
    let granted =
        auth_http::grant::sign_session(state.tokens(), state.browser(), &user, &id, methods, now)
            .await
            .unwrap();
    (granted.access.token, granted.access.csrf.unwrap(), id)
}

async fn cookie_logout(
    state: &AppState,
    scope: &str,
    access: &str,
    csrf: &str,
) -> (StatusCode, usize) {
    let cookie = format!("access_token_cookie={access}");
    let logout = request(
        "POST",
        &format!("/logout?scope={scope}"),
        &[("cookie", &cookie), ("x-csrf-token", csrf)],
        None,
    );
    let response = logout::handle(state, logout).await.unwrap();
    (response.status(), set_cookies(&response).len())
}

/// After `others` the caller is still signed in, cookies and all; after `global` nobody is, and
/// its cookies go. An expired cookie token ends nothing and keeps its cookies: a refresh makes
/// the caller's tokens live again.
#[tokio::test]
async fn in_cookie_mode_others_keeps_the_callers_cookies_and_global_clears_them() {
    let state = state_builder(&[("JWT_TOKEN_LOCATION", "cookies")])
        .clock(Clock::manual())
        .build()
        .unwrap();
    let (access, csrf, own) = cookie_session(&state).await;
    let (_, _, other) = cookie_session(&state).await;
    assert_eq!(
        cookie_logout(&state, "others", &access, &csrf).await,
        (StatusCode::OK, 0)
    );
    assert!(revoked(&state, None, Some(&other)).await);
    assert!(!revoked(&state, None, Some(&own)).await);

    let (_, _, third) = cookie_session(&state).await;
    assert_eq!(
        cookie_logout(&state, "global", &access, &csrf).await,
        (StatusCode::OK, 4)
    );
    assert!(revoked(&state, None, Some(&own)).await);
    assert!(revoked(&state, None, Some(&third)).await);

    let (expired, expired_csrf, live) = cookie_session(&state).await;
    state.clock().advance(Duration::from_secs(15 * 60 + 1));
    assert_eq!(
        cookie_logout(&state, "others", &expired, &expired_csrf).await,
        (StatusCode::UNAUTHORIZED, 0)
    );
    assert!(!revoked(&state, None, Some(&live)).await);
}

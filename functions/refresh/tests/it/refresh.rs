//! `POST /refresh`: a refresh token buys a new, non-fresh access token.

use std::time::Duration;

use auth_core::{claims::TokenKind, clock::Clock};
use auth_testkit::{
    IssueNow, bearer_request, json_body, payload_of, request, signed, state, state_builder,
};
use lambda_http::http::StatusCode;
use serde_json::{Value, json};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn refresh_with(token: &str) -> (StatusCode, Value) {
    let response = refresh::handle(&state(), bearer_request("POST", "/refresh", token))
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "application/json");
    if response.status() == StatusCode::UNAUTHORIZED {
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
    }
    (response.status(), json_body(&response))
}

#[tokio::test]
async fn refresh_token_gives_a_non_fresh_access_token() {
    let state = state();
    let refresh_token = state
        .tokens()
        .issue(TokenKind::Refresh, "cosmo", false)
        .unwrap();
    let (status, body) = refresh_with(&refresh_token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.as_object().unwrap().len(), 1);
    let access_token = body["access_token"].as_str().unwrap();
    let claims = state
        .tokens()
        .verify(access_token, TokenKind::Access)
        .unwrap();
    assert_eq!(claims.subject, "cosmo");
    let payload = payload_of(access_token);
    assert_eq!(payload["fresh"], json!(false));
}

#[tokio::test]
async fn refresh_token_is_reusable_until_it_expires() {
    let issued = now();
    let clock = Clock::manual_at(Duration::from_secs(issued as u64));
    let state = state_builder(&[]).clock(clock.clone()).build().unwrap();
    let refresh_token = state
        .tokens()
        .issue_at(TokenKind::Refresh, "cosmo", false, issued, "r", None)
        .unwrap();
    // The clock at `elapsed` seconds after the issue (it only moves on).
    let at = |elapsed: i64| {
        let since_issue = clock.now().as_secs() as i64 - issued;
        clock.advance(Duration::from_secs((elapsed - since_issue) as u64));
    };
    // The default lifetime, an hour: any number of uses up to its last second.
    for elapsed in [0, 0, 1, 1800, 3599] {
        at(elapsed);
        let response = refresh::handle(&state, bearer_request("POST", "/refresh", &refresh_token))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "after {elapsed} s");
    }
    at(3600);
    let response = refresh::handle(&state, bearer_request("POST", "/refresh", &refresh_token))
        .await
        .unwrap();
    assert_eq!(
        (response.status(), json_body(&response)),
        (
            StatusCode::UNAUTHORIZED,
            json!({"msg": "Token has expired"})
        )
    );
}

#[tokio::test]
async fn access_token_is_refused_at_refresh() {
    let access_token = state()
        .tokens()
        .issue(TokenKind::Access, "cosmo", true)
        .unwrap();
    assert_eq!(
        refresh_with(&access_token).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"msg": "Only refresh tokens are allowed"})
        )
    );
}

#[tokio::test]
async fn token_without_type_counts_as_access_and_is_refused() {
    let token = signed(&json!({"sub": "cosmo", "exp": now() + 60}));
    assert_eq!(
        refresh_with(&token).await.1,
        json!({"msg": "Only refresh tokens are allowed"})
    );
}

#[tokio::test]
async fn expired_refresh_token_is_401_token_has_expired() {
    let token = signed(&json!({"sub": "cosmo", "type": "refresh", "exp": now() - 1}));
    assert_eq!(
        refresh_with(&token).await,
        (
            StatusCode::UNAUTHORIZED,
            json!({"msg": "Token has expired"})
        )
    );
}

#[tokio::test]
async fn refresh_token_of_a_user_that_no_longer_exists_is_401() {
    let token = state()
        .tokens()
        .issue(TokenKind::Refresh, "ghost", false)
        .unwrap();
    assert_eq!(
        refresh_with(&token).await,
        (
            StatusCode::UNAUTHORIZED,
            json!({"msg": "Error loading the user ghost"})
        )
    );
}

#[tokio::test]
async fn missing_header_is_401_missing_authorization_header() {
    let response = refresh::handle(&state(), request("POST", "/refresh", &[], None))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    assert_eq!(
        json_body(&response),
        json!({"msg": "Missing Authorization Header"})
    );
}

/// A refresh continues its session: the new tokens carry its id and the time it began, never
/// the refresh's, so the session cap (`JWT_SESSION_MAX_AGE`) counts from the login however often
/// the session is refreshed. With rotation the new refresh token is of the session too.
#[tokio::test]
async fn the_new_tokens_keep_the_sessions_id_and_the_time_it_began() {
    for rotation in ["false", "true"] {
        let state = state_builder(&[("JWT_REFRESH_TOKEN_ROTATION", rotation)])
            .build()
            .unwrap();
        let began = now() - 600;
        let presented = state
            .tokens()
            .issue_at(
                TokenKind::Refresh,
                "cosmo",
                false,
                now() - 60,
                "presented",
                Some(auth_core::tokens::SessionClaims {
                    id: "the-session",
                    started_at: began,
                    methods: None,
                }),
            )
            .unwrap();
        let response = refresh::handle(&state, bearer_request("POST", "/refresh", &presented))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "rotation {rotation}");
        let body = json_body(&response);
        let mut issued = vec![body["access_token"].as_str().unwrap()];
        if rotation == "true" {
            issued.push(body["refresh_token"].as_str().unwrap());
        }
        for token in issued {
            let payload = payload_of(token);
            assert_eq!(payload["sid"], json!("the-session"), "rotation {rotation}");
            assert_eq!(payload["auth_time"], json!(began), "rotation {rotation}");
        }
    }
}

/// How a session signed in (`amr`) is the session's: every token a refresh hands out carries
/// the presented one's, a second factor's included (so `AUTHORIZER_REQUIRE_MFA` keeps letting
/// the session in), and a token without one (flask-jwt-extended's) buys tokens without one.
#[tokio::test]
async fn the_new_tokens_keep_how_the_session_signed_in() {
    use auth_core::{claims::AuthMethods, tokens::SessionClaims};
    for rotation in ["false", "true"] {
        let state = state_builder(&[("JWT_REFRESH_TOKEN_ROTATION", rotation)])
            .build()
            .unwrap();
        for methods in [
            Some(AuthMethods::Password),
            Some(AuthMethods::PasswordAndOtp),
            Some(AuthMethods::PasswordAndRecoveryCode),
            None,
        ] {
            let presented = state
                .tokens()
                .issue_at(
                    TokenKind::Refresh,
                    "cosmo",
                    false,
                    now() - 60,
                    &format!("presented-{rotation}-{methods:?}"),
                    Some(SessionClaims {
                        // A session of its own: a rotated one would see the next as a replay.
                        id: &format!("session-{rotation}-{methods:?}"),
                        started_at: now() - 600,
                        methods,
                    }),
                )
                .unwrap();
            assert_eq!(
                payload_of(&presented).get("amr").cloned(),
                methods.map(|methods| json!(methods.values()))
            );
            let response = refresh::handle(&state, bearer_request("POST", "/refresh", &presented))
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let body = json_body(&response);
            let mut issued = vec![body["access_token"].as_str().unwrap()];
            if rotation == "true" {
                issued.push(body["refresh_token"].as_str().unwrap());
            }
            for token in issued {
                assert_eq!(
                    payload_of(token).get("amr").cloned(),
                    methods.map(|methods| json!(methods.values())),
                    "rotation {rotation}, {methods:?}"
                );
            }
        }
    }
}

//! A refresh that signs in KMS (moto, which `./scripts/test` starts): KMS out of reach after
//! the refresh token was spent is a 503, and the client's retry within the rotation's grace
//! gets the session's tokens: nothing is lost.

use auth_core::{
    AppState,
    claims::TokenKind,
    tokens::{SessionClaims, TokenSpec},
};
use auth_testkit::{bearer_request, demo_stores, json_body, kms::kms_signing_settings};
use lambda_http::http::StatusCode;

async fn refresh(state: &AppState, token: &str) -> (StatusCode, serde_json::Value) {
    let response = refresh::handle(state, bearer_request("POST", "/refresh", token))
        .await
        .unwrap();
    (response.status(), json_body(&response))
}

#[tokio::test]
#[ignore = "needs a KMS-compatible server: ./scripts/test starts moto"]
async fn kms_down_after_the_token_was_spent_is_a_503_and_the_retry_within_the_grace_refreshes() {
    let (settings, kms, _) = kms_signing_settings(&[("JWT_REFRESH_TOKEN_ROTATION", "true")]).await;
    let state = AppState::builder(&settings, demo_stores()).build().unwrap();
    let now = state.clock().unix_secs();
    let presented = state
        .tokens()
        .issue_spec(&TokenSpec {
            kind: TokenKind::Refresh,
            subject: "cosmo",
            fresh: false,
            issued_at: now,
            jti: "presented",
            session: Some(SessionClaims {
                id: "the-session",
                started_at: now,
            }),
            scope: None,
            csrf: None,
        })
        .await
        .unwrap();

    kms.set_down(true);
    let (status, body) = refresh(&state, &presented).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body, serde_json::json!({"msg": "Service unavailable"}));

    kms.set_down(false);
    let (status, body) = refresh(&state, &presented).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rotated = body["refresh_token"].as_str().unwrap();
    state
        .tokens()
        .verify(body["access_token"].as_str().unwrap(), TokenKind::Access)
        .unwrap();
    assert_eq!(refresh(&state, rotated).await.0, StatusCode::OK);
}

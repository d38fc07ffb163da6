//! A login that signs in KMS (moto, which `./scripts/test` starts): tokens and the device proof
//! signed there verify with the public keys alone, and KMS out of reach is a 503 the throttle
//! never counts as a failure.

use std::sync::Arc;

use auth_core::{AppState, claims::TokenKind};
use auth_testkit::{
    demo_stores, json_body,
    kms::{kms_signing_settings, verifier},
    request,
};
use lambda_http::http::StatusCode;

const GOOD: &str = r#"{"username": "cosmo", "password": "space-corgi"}"#;

async fn log_in(state: &AppState) -> lambda_http::Response<lambda_http::Body> {
    login::handle(
        state,
        request(
            "POST",
            "/login",
            &[("content-type", "application/json")],
            Some(GOOD),
        ),
    )
    .await
    .unwrap()
}

#[tokio::test]
#[ignore = "needs a KMS-compatible server: ./scripts/test starts moto"]
async fn a_login_signed_in_kms_gives_tokens_and_a_proof_the_public_keys_verify() {
    let (settings, _, public_pem) = kms_signing_settings(&[]).await;
    let state = AppState::builder(&settings, demo_stores()).build().unwrap();
    let response = log_in(&state).await;
    assert_eq!(response.status(), StatusCode::OK);
    let proof = response.headers()["login-proof"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = json_body(&response);
    let verifier = verifier("RS256", &public_pem);
    let access = verifier
        .verify(body["access_token"].as_str().unwrap(), TokenKind::Access)
        .unwrap();
    assert!(access.fresh);
    verifier
        .verify(body["refresh_token"].as_str().unwrap(), TokenKind::Refresh)
        .unwrap();
    let now = state.clock().unix_secs();
    assert!(auth_core::device_proof::check(&verifier, &proof, "cosmo", now).is_some());
}

#[tokio::test]
#[ignore = "needs a KMS-compatible server: ./scripts/test starts moto"]
async fn kms_out_of_reach_is_a_503_to_retry_and_never_a_failed_login() {
    let (settings, kms, _) = kms_signing_settings(&[("LOGIN_MAX_FAILURES", "2")]).await;
    let state = Arc::new(AppState::builder(&settings, demo_stores()).build().unwrap());
    kms.set_down(true);
    // More than the failures allowed: the password was right each time, so none counts.
    for _ in 0..4 {
        let response = log_in(&state).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().contains_key("retry-after"));
        let body = json_body(&response);
        assert_eq!(body["error"], "Service unavailable");
        assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    }
    kms.set_down(false);
    assert_eq!(log_in(&state).await.status(), StatusCode::OK);
}

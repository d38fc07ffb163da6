//! A refresh that signs in KMS (moto, which `./scripts/test` starts): KMS out of reach is a
//! 503 that spends nothing, so the client's retry refreshes however long the outage lasted,
//! with or without a rotation grace.

use auth_core::{
    AppState,
    claims::TokenKind,
    tokens::{SessionClaims, TokenSpec},
};
use auth_testkit::{demo_stores, kms::kms_signing_settings};

use crate::rotation::refresh;
use lambda_http::http::StatusCode;

#[tokio::test]
#[ignore = "needs a KMS-compatible server: ./scripts/test starts moto"]
async fn kms_down_spends_nothing_and_the_retry_refreshes_whatever_the_grace() {
    // 0: every second use of a spent token is theft; 10s: the default grace, shorter than an
    // outage may last.
    for grace in ["0", "10s"] {
        let (settings, kms, _) = kms_signing_settings(&[
            ("JWT_REFRESH_TOKEN_ROTATION", "true"),
            ("JWT_REFRESH_TOKEN_ROTATION_GRACE", grace),
        ])
        .await;
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
                    methods: None,
                }),
                scope: None,
                csrf: None,
            })
            .await
            .unwrap();

        kms.set_down(true);
        for _ in 0..3 {
            let (status, body) = refresh(&state, &presented).await;
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "grace {grace}");
            assert_eq!(body, serde_json::json!({"msg": "Service unavailable"}));
        }

        kms.set_down(false);
        let (status, body) = refresh(&state, &presented).await;
        assert_eq!(status, StatusCode::OK, "grace {grace}: {body}");
        let rotated = body["refresh_token"].as_str().unwrap().to_owned();
        state
            .tokens()
            .verify(body["access_token"].as_str().unwrap(), TokenKind::Access)
            .unwrap();
        if grace != "0" {
            // The client lost that answer and retries: within the grace it gets the session's
            // current refresh token, signed anew, and that one rotates on.
            let (status, again) = refresh(&state, &presented).await;
            assert_eq!(status, StatusCode::OK, "{again}");
            let current = again["refresh_token"].as_str().unwrap();
            let claims = |token: &str| state.tokens().verify(token, TokenKind::Refresh).unwrap();
            assert_eq!(claims(current).jti, claims(&rotated).jti);
        }
        assert_eq!(
            refresh(&state, &rotated).await.0,
            StatusCode::OK,
            "grace {grace}"
        );
    }
}

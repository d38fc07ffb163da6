//! A refresh token presented again after it was spent counts as a reuse (the theft signal the
//! reuse alarm watches), and only as that; a token of the session that the reuse ended counts
//! as a revoked token presented. No line carries a token, a token id or the user.

use lambda_http::http::StatusCode;
use shared::{
    AppState,
    claims::TokenKind,
    metrics::{Function, Metrics},
    settings::{ROTATION_GRACE_VAR, ROTATION_VAR},
    testing::{bearer_request, json_body, metric_events, state_with},
    tokens::{SessionClaims, new_token_id},
};

async fn refresh_with(state: &AppState, token: &str) -> (StatusCode, serde_json::Value) {
    let response = refresh::handle(state, bearer_request("POST", "/refresh", token))
        .await
        .unwrap();
    (response.status(), json_body(&response))
}

#[tokio::test]
async fn a_replayed_refresh_token_counts_reuse_and_the_ended_sessions_tokens_count_revoked() {
    let mut state = state_with(&[(ROTATION_VAR, "true"), (ROTATION_GRACE_VAR, "0")]);
    let (metrics, log) = Metrics::captured(Function::Refresh);
    state.metrics = metrics;
    let now = state.clock.unix_secs();
    let (session, jti) = (new_token_id(), new_token_id());
    let first = state
        .tokens
        .issue_at(
            TokenKind::Refresh,
            "cosmo",
            false,
            now,
            &jti,
            Some(SessionClaims {
                id: &session,
                started_at: now,
            }),
        )
        .unwrap();

    let (status, body) = refresh_with(&state, &first).await;
    assert_eq!(status, StatusCode::OK);
    let second = body["refresh_token"].as_str().unwrap().to_owned();
    assert!(metric_events(&log).is_empty(), "a refresh is no event");

    assert_eq!(
        refresh_with(&state, &first).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        refresh_with(&state, &second).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        metric_events(&log),
        [
            ("refresh".to_owned(), "refresh_reuse_detected".to_owned()),
            ("refresh".to_owned(), "revoked_token_presented".to_owned()),
        ]
    );
    let lines = log.contents();
    for secret in [first.as_str(), &second, &session, &jti, "cosmo"] {
        assert!(!lines.contains(secret), "{secret} in {lines}");
    }
}

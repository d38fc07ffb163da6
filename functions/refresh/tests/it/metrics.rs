//! A refresh token presented again after it was spent counts as a reuse (the theft signal the
//! reuse alarm watches), and only as that; a token of the session that the reuse ended counts
//! as a revoked token presented. No line carries a token, a token id or the user.

use std::time::Duration;

use auth_core::{
    AppState,
    claims::TokenKind,
    clock::Clock,
    metrics::Function,
    settings::{ROTATION_GRACE_VAR, ROTATION_VAR},
    tokens::{SessionClaims, new_token_id},
};
use auth_testkit::{bearer_request, captured_metrics, json_body, metric_events, state_builder};
use lambda_http::http::StatusCode;

async fn refresh_with(state: &AppState, token: &str) -> (StatusCode, serde_json::Value) {
    let response = refresh::handle(state, bearer_request("POST", "/refresh", token))
        .await
        .unwrap();
    (response.status(), json_body(&response))
}

/// A session's first refresh, the spent token replayed `idle` later, then the token the first
/// refresh gave: the events counted, which must be one reuse and then one revoked token.
async fn replay_after(grace: &str, idle: Duration) {
    let (metrics, log) = captured_metrics(Function::Refresh);
    let state = state_builder(&[(ROTATION_VAR, "true"), (ROTATION_GRACE_VAR, grace)])
        .clock(Clock::manual())
        .metrics(metrics)
        .build()
        .unwrap();
    let now = state.clock().unix_secs();
    let (session, jti) = (new_token_id(), new_token_id());
    let first = state
        .tokens()
        .issue_at(
            TokenKind::Refresh,
            "cosmo",
            false,
            now,
            &jti,
            Some(SessionClaims {
                id: &session,
                started_at: now,
                methods: None,
            }),
        )
        .unwrap();

    let (status, body) = refresh_with(&state, &first).await;
    assert_eq!(status, StatusCode::OK);
    let second = body["refresh_token"].as_str().unwrap().to_owned();
    assert!(metric_events(&log).is_empty(), "a refresh is no event");
    state.clock().advance(idle);

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

#[tokio::test]
async fn a_replayed_refresh_token_counts_reuse_and_the_ended_sessions_tokens_count_revoked() {
    replay_after("0", Duration::ZERO).await;
}

/// With a grace, the rotation runs beside the user's lookup (refresh's other path).
#[tokio::test]
async fn a_replay_past_the_grace_counts_reuse_once_and_the_ended_sessions_tokens_count_revoked() {
    replay_after("10s", Duration::from_secs(11)).await;
}

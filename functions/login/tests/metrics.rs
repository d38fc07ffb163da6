//! Every login counts as one security event, a metric line of the login function: succeeded,
//! failed (a wrong password or an unknown user alike), throttled, or the store unavailable.
//! No line names the user or carries the password.

use std::sync::Arc;

use async_trait::async_trait;
use lambda_http::http::StatusCode;
use shared::{
    AppState,
    metrics::{Function, Metrics},
    settings::LOGIN_MAX_FAILURES_VAR,
    store::StoreError,
    testing::{CapturedLog, metric_events, request, state, state_with},
    users::{User, UserStore},
};

const GOOD: &str = r#"{"username": "cosmo", "password": "space-corgi"}"#;
const WRONG: &str = r#"{"username": "cosmo", "password": "not-the-password"}"#;
const UNKNOWN: &str = r#"{"username": "nobody-here", "password": "whatever-1"}"#;

fn counted(mut state: AppState) -> (AppState, CapturedLog) {
    let (metrics, log) = Metrics::captured(Function::Login);
    state.metrics = metrics;
    (state, log)
}

async fn log_in(state: &AppState, body: &str) -> StatusCode {
    let request = request(
        "POST",
        "/login",
        &[("content-type", "application/json")],
        Some(body),
    );
    login::handle(state, request).await.unwrap().status()
}

fn events(log: &CapturedLog) -> Vec<String> {
    metric_events(log)
        .into_iter()
        .map(|(function, event)| {
            assert_eq!(function, "login");
            event
        })
        .collect()
}

#[tokio::test]
async fn a_login_counts_succeeded_and_bad_credentials_count_failed() {
    let (state, log) = counted(state());
    assert_eq!(log_in(&state, GOOD).await, StatusCode::OK);
    assert_eq!(log_in(&state, WRONG).await, StatusCode::UNAUTHORIZED);
    assert_eq!(log_in(&state, UNKNOWN).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        events(&log),
        ["login_succeeded", "login_failed", "login_failed"]
    );
    let lines = log.contents();
    for secret in ["cosmo", "space-corgi", "not-the-password", "nobody-here"] {
        assert!(!lines.contains(secret), "{secret} in {lines}");
    }
}

#[tokio::test]
async fn a_throttled_login_counts_throttled_not_failed() {
    let (state, log) = counted(state_with(&[(LOGIN_MAX_FAILURES_VAR, "1")]));
    assert_eq!(log_in(&state, WRONG).await, StatusCode::UNAUTHORIZED);
    assert_eq!(log_in(&state, GOOD).await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(events(&log), ["login_failed", "login_throttled"]);
}

#[tokio::test]
async fn a_malformed_body_counts_nothing() {
    let (state, log) = counted(state());
    assert_eq!(log_in(&state, "{").await, StatusCode::BAD_REQUEST);
    assert!(events(&log).is_empty());
}

/// A user store that does not answer.
struct DownUsers;

#[async_trait]
impl UserStore for DownUsers {
    async fn find(&self, _: &str) -> Result<Option<User>, StoreError> {
        Err(StoreError::unavailable("connection refused"))
    }
}

#[tokio::test]
async fn a_store_that_does_not_answer_counts_store_unavailable() {
    let mut state = state();
    state.users = Arc::new(DownUsers);
    let (state, log) = counted(state);
    assert_eq!(log_in(&state, GOOD).await, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(events(&log), ["store_unavailable"]);
}

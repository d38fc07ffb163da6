//! Every login counts as one security event, a metric line of the login function: succeeded,
//! failed (a wrong password or an unknown user alike), throttled, or the store unavailable.
//! No line names the user or carries the password.

use std::sync::Arc;

use async_trait::async_trait;
use auth_core::{
    AppState, Stores,
    metrics::Function,
    sessions::InMemorySessionStore,
    settings::LOGIN_MAX_FAILURES_VAR,
    state::StateBuilder,
    store::StoreError,
    users::{User, UserStore},
};
use auth_testkit::{
    CapturedLog, captured_metrics, metric_events, request, settings_with, state_builder,
};
use lambda_http::http::StatusCode;

const GOOD: &str = r#"{"username": "cosmo", "password": "space-corgi"}"#;
const WRONG: &str = r#"{"username": "cosmo", "password": "not-the-password"}"#;
const UNKNOWN: &str = r#"{"username": "nobody-here", "password": "whatever-1"}"#;

fn counted(state: StateBuilder) -> (AppState, CapturedLog) {
    let (metrics, log) = captured_metrics(Function::Login);
    (state.metrics(metrics).build().unwrap(), log)
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
    let (state, log) = counted(state_builder(&[]));
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
    let (state, log) = counted(state_builder(&[(LOGIN_MAX_FAILURES_VAR, "1")]));
    assert_eq!(log_in(&state, WRONG).await, StatusCode::UNAUTHORIZED);
    assert_eq!(log_in(&state, GOOD).await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(events(&log), ["login_failed", "login_throttled"]);
}

#[tokio::test]
async fn a_malformed_body_counts_nothing() {
    let (state, log) = counted(state_builder(&[]));
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
    let stores = Stores::separate(
        Arc::new(DownUsers),
        Arc::new(InMemorySessionStore::default()),
    );
    let (state, log) = counted(AppState::builder(&settings_with(&[]), stores));
    assert_eq!(log_in(&state, GOOD).await, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(events(&log), ["store_unavailable"]);
}

//! What a login writes to its user's activity log: each outcome with its detail, and nothing
//! for a username nobody has. A log that fails never fails the login: it is counted.

use std::sync::Arc;

use async_trait::async_trait;
use auth_core::{
    AppState, Stores,
    activity::{ActivityEntry, ActivityLog, ActivityPage},
    metrics::Function,
    sessions::InMemorySessionStore,
    settings::LOGIN_MAX_FAILURES_VAR,
    store::StoreError,
    users::{InMemoryUserStore, User},
};
use auth_testkit::{
    captured_metrics, metric_events, payload_of, request, settings_with, user_with_password,
};
use lambda_http::http::StatusCode;
use serde_json::json;

const PASSWORD: &str = "space-corgi";

/// cosmo, an account not confirmed yet and a disabled one, all with `PASSWORD`; the log in
/// memory.
fn state_with(overrides: &[(&str, &str)]) -> AppState {
    let user = |name: &str, change: fn(&mut User)| {
        let mut user = user_with_password(name, PASSWORD, json!({}));
        change(&mut user);
        user
    };
    let users = Arc::new(InMemoryUserStore::new([
        user("cosmo", |_| {}),
        user("new@example.com", |user| user.account.unconfirmed = true),
        user("gone", |user| user.disabled = true),
    ]));
    let stores = Stores::in_memory(users, Arc::new(InMemorySessionStore::default()));
    AppState::builder(&settings_with(overrides), stores)
        .build()
        .unwrap()
}

async fn log_in(state: &AppState, username: &str, password: &str) -> (StatusCode, String) {
    let body = json!({"username": username, "password": password}).to_string();
    let request = request(
        "POST",
        "/login",
        &[
            ("content-type", "application/json"),
            ("user-agent", "curl/8.5.0"),
        ],
        Some(&body),
    );
    let response = login::handle(state, request).await.unwrap();
    let body = String::from_utf8(response.body().to_vec()).unwrap();
    (response.status(), body)
}

/// `username`'s entries, oldest first, once their writes have ended.
async fn entries_of(state: &AppState, username: &str) -> Vec<ActivityEntry> {
    state.activity().settled().await;
    let log = state.activity().log().unwrap();
    let page = log
        .list(username, 100, None, state.clock().unix_secs())
        .await
        .unwrap();
    page.entries.into_iter().rev().collect()
}

/// `(event, outcome, detail)` of each entry.
fn story(entries: &[ActivityEntry]) -> Vec<(&str, &str, Option<&str>)> {
    entries
        .iter()
        .map(|entry| {
            (
                entry.event.name(),
                entry.outcome.name(),
                entry.detail.as_deref(),
            )
        })
        .collect()
}

#[tokio::test]
async fn failures_a_success_and_the_lock_are_logged_but_not_each_refusal_while_locked() {
    let state = state_with(&[(LOGIN_MAX_FAILURES_VAR, "2")]);
    assert_eq!(
        log_in(&state, "cosmo", "wrong-1").await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, body) = log_in(&state, "cosmo", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    let access: serde_json::Value = serde_json::from_str(&body).unwrap();
    let sid = payload_of(access["access_token"].as_str().unwrap())["sid"].clone();
    for _ in 0..2 {
        assert_eq!(
            log_in(&state, "cosmo", "wrong-2").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    // However many are refused while locked, the log holds the lock once: refusals cost a
    // sender nothing and must not fill the user's log.
    for _ in 0..3 {
        assert_eq!(
            log_in(&state, "cosmo", PASSWORD).await.0,
            StatusCode::TOO_MANY_REQUESTS
        );
    }
    let entries = entries_of(&state, "cosmo").await;
    assert_eq!(
        story(&entries),
        [
            ("login", "failure", Some("wrong_password")),
            ("login", "success", None),
            ("login", "failure", Some("wrong_password")),
            ("login", "failure", Some("wrong_password")),
            ("login", "blocked", Some("too_many_attempts")),
        ]
    );
    assert_eq!(entries[1].session.as_deref(), sid.as_str());
    assert!(
        entries
            .iter()
            .all(|entry| entry.user_agent.as_deref() == Some("curl/8.5.0"))
    );
    let stored = format!("{entries:?}");
    for secret in [PASSWORD, "wrong-1", "wrong-2", &body] {
        assert!(!stored.contains(secret), "{secret} in {stored}");
    }
}

#[tokio::test]
async fn an_unknown_username_gets_no_log_even_when_throttled() {
    let state = state_with(&[(LOGIN_MAX_FAILURES_VAR, "1")]);
    for _ in 0..3 {
        assert!(log_in(&state, "nobody", PASSWORD).await.0.is_client_error());
    }
    assert!(entries_of(&state, "nobody").await.is_empty());
}

#[tokio::test]
async fn an_unconfirmed_address_and_a_disabled_account_are_failures_that_say_what_is_known() {
    let state = state_with(&[]);
    assert_eq!(
        log_in(&state, "new@example.com", PASSWORD).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        story(&entries_of(&state, "new@example.com").await),
        [("login", "failure", Some("email_not_confirmed"))]
    );
    // The check does not say whether a disabled account's password was right: neither does
    // the log.
    assert_eq!(
        log_in(&state, "gone", PASSWORD).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        story(&entries_of(&state, "gone").await),
        [("login", "failure", None)]
    );
}

/// A log that never writes.
struct DownLog;

#[async_trait]
impl ActivityLog for DownLog {
    async fn append(&self, _: &str, _: &ActivityEntry, _: i64) -> Result<(), StoreError> {
        Err(StoreError::unavailable("the activity table is down"))
    }

    async fn list(
        &self,
        _: &str,
        _: usize,
        _: Option<&str>,
        _: i64,
    ) -> Result<ActivityPage, StoreError> {
        Err(StoreError::unavailable("the activity table is down"))
    }
}

#[tokio::test]
async fn a_log_that_fails_never_fails_the_login_and_is_counted() {
    let (metrics, lines) = captured_metrics(Function::Login);
    let stores = Stores::in_memory(
        Arc::new(InMemoryUserStore::demo()),
        Arc::new(InMemorySessionStore::default()),
    )
    .with_activity(Arc::new(DownLog));
    let state = AppState::builder(&settings_with(&[]), stores)
        .metrics(metrics)
        .build()
        .unwrap();
    assert_eq!(log_in(&state, "cosmo", PASSWORD).await.0, StatusCode::OK);
    assert_eq!(
        log_in(&state, "cosmo", "not-it").await.0,
        StatusCode::UNAUTHORIZED
    );
    state.activity().settled().await;
    let mut events: Vec<String> = metric_events(&lines)
        .into_iter()
        .map(|(_, event)| event)
        .collect();
    events.sort();
    assert_eq!(
        events,
        [
            "activity_write_failed",
            "activity_write_failed",
            "login_failed",
            "login_succeeded"
        ]
    );
}

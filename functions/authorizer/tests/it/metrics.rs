//! The authorizer counts what `/profile` would count for the same token: a revoked token
//! presented, and a store that did not answer. An allowed call is no event.

use std::sync::Arc;

use async_trait::async_trait;
use auth_core::{
    AppState,
    claims::TokenKind,
    lookup::{TokenLookup, TokenQuery, TokenRecords},
    metrics::Function,
    state::StateBuilder,
    store::StoreError,
};
use auth_testkit::{
    CapturedLog, IssueNow, captured_metrics, demo_stores, metric_events, settings_with,
    state_builder,
};
use authorizer::{Authorizer, Decision};

fn counted(state: StateBuilder) -> (AppState, CapturedLog) {
    let (metrics, log) = captured_metrics(Function::Authorizer);
    (state.metrics(metrics).build().unwrap(), log)
}

/// The demo state, its token records read through `lookup`.
fn looking_up_with(lookup: impl TokenLookup + 'static) -> StateBuilder {
    let mut stores = demo_stores();
    stores.lookup = Arc::new(lookup);
    AppState::builder(&settings_with(&[]), stores)
}

fn events(log: &CapturedLog) -> Vec<String> {
    metric_events(log)
        .into_iter()
        .map(|(function, event)| {
            assert_eq!(function, "authorizer");
            event
        })
        .collect()
}

/// A lookup that finds every token revoked.
struct RevokedLookup;

#[async_trait]
impl TokenLookup for RevokedLookup {
    async fn look_up(&self, _: &TokenQuery<'_>) -> Result<TokenRecords, StoreError> {
        Ok(TokenRecords::Revoked)
    }
}

/// A lookup whose store is down.
struct DownLookup;

#[async_trait]
impl TokenLookup for DownLookup {
    async fn look_up(&self, _: &TokenQuery<'_>) -> Result<TokenRecords, StoreError> {
        Err(StoreError::unavailable("connection refused"))
    }
}

async fn decide(state: AppState) -> (Decision, String) {
    let token = state
        .tokens()
        .issue(TokenKind::Access, "cosmo", false)
        .unwrap();
    let authorizer = Authorizer::new(Arc::new(state), None, |_| None).unwrap();
    let decision = authorizer.decide(Some(&format!("Bearer {token}"))).await;
    (decision, token)
}

#[tokio::test]
async fn an_allowed_call_counts_nothing() {
    let (state, log) = counted(state_builder(&[]));
    assert!(matches!(decide(state).await.0, Decision::Allow(_)));
    assert!(events(&log).is_empty());
}

#[tokio::test]
async fn a_revoked_token_counts_revoked_token_presented() {
    let (state, log) = counted(looking_up_with(RevokedLookup));
    let (decision, token) = decide(state).await;
    assert!(matches!(decision, Decision::Deny(_)));
    assert_eq!(events(&log), ["revoked_token_presented"]);
    assert!(!log.contents().contains(&token));
}

#[tokio::test]
async fn a_store_outage_counts_store_unavailable() {
    let (state, log) = counted(looking_up_with(DownLookup));
    assert!(matches!(decide(state).await.0, Decision::Deny(_)));
    assert_eq!(events(&log), ["store_unavailable"]);
}

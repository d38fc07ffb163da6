//! The authorizer counts what `/profile` would count for the same token: a revoked token
//! presented, and a store that did not answer. An allowed call is no event.

use std::sync::Arc;

use async_trait::async_trait;
use authorizer::{Authorizer, Decision};
use shared::{
    AppState,
    claims::TokenKind,
    lookup::{TokenLookup, TokenQuery, TokenRecords},
    metrics::{Function, Metrics},
    store::StoreError,
    testing::{CapturedLog, metric_events, state},
};

fn counted(mut state: AppState) -> (AppState, CapturedLog) {
    let (metrics, log) = Metrics::captured(Function::Authorizer);
    state.metrics = metrics;
    (state, log)
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
        .tokens
        .issue(TokenKind::Access, "cosmo", false)
        .unwrap();
    let authorizer = Authorizer::new(Arc::new(state), None, |_| None).unwrap();
    let decision = authorizer.decide(Some(&format!("Bearer {token}"))).await;
    (decision, token)
}

#[tokio::test]
async fn an_allowed_call_counts_nothing() {
    let (state, log) = counted(state());
    assert!(matches!(decide(state).await.0, Decision::Allow(_)));
    assert!(events(&log).is_empty());
}

#[tokio::test]
async fn a_revoked_token_counts_revoked_token_presented() {
    let (mut state, log) = counted(state());
    state.lookup = Arc::new(RevokedLookup);
    let (decision, token) = decide(state).await;
    assert!(matches!(decision, Decision::Deny(_)));
    assert_eq!(events(&log), ["revoked_token_presented"]);
    assert!(!log.contents().contains(&token));
}

#[tokio::test]
async fn a_store_outage_counts_store_unavailable() {
    let (mut state, log) = counted(state());
    state.lookup = Arc::new(DownLookup);
    assert!(matches!(decide(state).await.0, Decision::Deny(_)));
    assert_eq!(events(&log), ["store_unavailable"]);
}

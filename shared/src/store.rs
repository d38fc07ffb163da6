//! What a store's failure is, for every store (users, sessions; in memory or DynamoDB).

/// The store could not answer (unreachable, throttled, too slow). Never the caller's fault.
#[derive(Debug, thiserror::Error)]
#[error("store unavailable: {0}")]
pub struct StoreError(pub String);

//! What a store's failure is, for every store (users, sessions; in memory or DynamoDB).

/// A store call that did not answer the question it asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store could not answer (unreachable, throttled, too slow, an item it cannot read):
    /// never the caller's fault, and a later try may succeed.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The store refused a request as invalid (DynamoDB's `ValidationException`). Every key is
    /// checked before a call, so this is a bug of ours, not an outage: a retry would get the
    /// same answer, and the client is not told to make one.
    #[error("store refused {operation} as invalid (a bug): {detail}")]
    Rejected {
        operation: &'static str,
        detail: String,
    },
}

impl StoreError {
    pub fn unavailable(detail: impl Into<String>) -> Self {
        StoreError::Unavailable(detail.into())
    }
}

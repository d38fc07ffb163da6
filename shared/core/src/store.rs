//! What every store shares (users, sessions; in memory or DynamoDB): the keys it accepts, and
//! what its failure is.

/// The longest key a store holds, in bytes of UTF-8: DynamoDB's limit on a partition key.
pub const MAX_KEY_BYTES: usize = 2048;

/// Whether every store can hold `value` as a key: 1 to `MAX_KEY_BYTES` bytes of UTF-8 (any
/// character, NUL included), DynamoDB's rule, which the in-memory stores follow so that both
/// answer alike. A store asked about any other key answers "no such item" without asking
/// DynamoDB, which would refuse the call: a caller's input must not look like our outage.
pub fn is_valid_key(value: &str) -> bool {
    !value.is_empty() && value.len() <= MAX_KEY_BYTES
}

/// A store call that did not answer the question it asked.
#[derive(Debug, Clone, thiserror::Error)]
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

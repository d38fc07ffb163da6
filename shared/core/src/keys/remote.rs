//! A signing key that never enters the process: each signature is a request to the service that
//! holds the key (AWS KMS, `auth-kms`). The domain only knows that signing may wait, and may
//! fail because that service is down, throttling, or refuses.

use async_trait::async_trait;

/// Signs as a token's signature is made, with a key held elsewhere.
#[async_trait]
pub trait RemoteSigner: Send + Sync {
    /// The JWS signature of `message` (RFC 7518 section 3): for RS256 the PKCS#1 v1.5
    /// signature, for ES256 the 64 bytes of `r` and `s`.
    async fn sign(&self, message: &[u8]) -> Result<Vec<u8>, RemoteSigningError>;

    /// The key, as an operator names it (an ARN): for the log, never secret.
    fn key_name(&self) -> &str;
}

/// Why a remote signature could not be made. The text is for the log: it names the key and the
/// service's reason, never the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoteSigningError {
    /// Down, slow or throttling: the client may retry (503).
    #[error("the key service did not sign in time or is throttling: {0}")]
    Unavailable(String),
    /// Refused (access denied, a disabled or deleted key) or an answer that is no signature: a
    /// deployment to fix (500).
    #[error("the key service refused to sign: {0}")]
    Refused(String),
}

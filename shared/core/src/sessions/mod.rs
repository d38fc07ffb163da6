//! Sessions: what ends a token before its `exp`. Revoked token ids, sessions (the family of
//! tokens one login starts) with their refresh-token rotation state, and login-failure
//! counters; and the in-memory store that keeps them (the DynamoDB one is
//! `auth_dynamodb::DynamoSessionStore`).
//!
//! Everything is keyed by ids from the tokens' claims (`jti`, `sid`) or by username: never by a
//! token or its hash. Every record carries its end, the time from which it means nothing
//! (DynamoDB's TTL deletes it some time after), so the store cleans itself. The rules every
//! store follows, pinned by the contract suite (`auth_testkit::contract::sessions`):
//! - a record means nothing from its end on: a read at or after it finds nothing, whether or
//!   not the record is gone yet;
//! - every write to a session's record sets the record's end to the one it is given, which is
//!   the same for every token of a session: the session's end plus an access token's life
//!   (`TokenService::session_record_until`).

mod memory;

use async_trait::async_trait;

pub use memory::InMemorySessionStore;

use crate::store::StoreError;

/// One refresh of a session with rotation on: the refresh token `presented` is spent and
/// `replacement` becomes the session's current one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation<'a> {
    pub session: &'a str,
    /// The `jti` of the refresh token presented.
    pub presented: &'a str,
    /// The `jti` of the refresh token issued in its place.
    pub replacement: &'a str,
    /// Seconds since the epoch.
    pub now: i64,
    /// A spent token rotated at or after this time is a retry of a client that lost the
    /// answer, and gets the session's current refresh token again; `None` when there is no
    /// grace.
    pub grace_since: Option<i64>,
    /// The end of the session's record: after every token the session can issue has expired.
    pub record_until: i64,
}

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotationOutcome {
    /// The session's refresh token is now the one with this id: `replacement`, or for a retry
    /// within the grace the current one, which the lost answer carried. A retry never forks
    /// the session into two live refresh tokens.
    Rotated(String),
    /// `presented` had already been spent: a replay, by a thief or by the user after a thief.
    /// The whole session is revoked now (RFC 9700 section 4.14.2).
    Reused,
    /// The session had been revoked before.
    Revoked,
}

/// The failed-login count of a username in its current window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginAttempts {
    /// Attempts counted in the window, this one included.
    pub count: u64,
    /// When the window ends (seconds since the epoch) and the count starts again from zero.
    pub window_ends_at: i64,
}

/// Where revocations, sessions and login counters live. Times are seconds since the epoch;
/// `now` comes from the caller's clock.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Revokes the token `jti`. `expires_at` is its `exp`: the record's end. Revoking a token
    /// twice is revoking it once.
    async fn revoke_token(&self, jti: &str, expires_at: i64, now: i64) -> Result<(), StoreError>;

    /// Revokes every token of `session`; the session's record ends at `record_until`. Revoking
    /// a session twice is revoking it once.
    async fn revoke_session(
        &self,
        session: &str,
        record_until: i64,
        now: i64,
    ) -> Result<(), StoreError>;

    /// Whether the token `jti`, or the session it belongs to, is revoked at `now`. Reads the
    /// latest write: a logout is in force for the very next request.
    async fn is_revoked(
        &self,
        jti: Option<&str>,
        session: Option<&str>,
        now: i64,
    ) -> Result<bool, StoreError>;

    /// Spends `rotation.presented` for `rotation.replacement` in one atomic step: of several
    /// concurrent rotations of one token without a grace, exactly one is `Rotated`.
    async fn rotate(&self, rotation: &Rotation<'_>) -> Result<RotationOutcome, StoreError>;

    /// Counts one login attempt for `username`, atomically, in the window that its first
    /// counted attempt opened; a window that ended at or before `now` starts anew, ending at
    /// `window_end`.
    async fn count_login_attempt(
        &self,
        username: &str,
        now: i64,
        window_end: i64,
    ) -> Result<LoginAttempts, StoreError>;

    /// Forgets the attempts of `username` (after a successful login).
    async fn clear_login_attempts(&self, username: &str) -> Result<(), StoreError>;
}

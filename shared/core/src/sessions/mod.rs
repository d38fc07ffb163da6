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
mod of_user;
mod records;

use async_trait::async_trait;

pub use memory::InMemorySessionStore;
pub use of_user::live_sessions_page;
pub use records::{
    DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, SessionCursor, SessionInfo, SessionPage, SessionQuery,
    SessionStart, bounded_source_ip, bounded_user_agent,
};

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

/// Whose failed logins a count is of: a username's, shared by every client that cannot show it
/// logged in as that user before, or one device's, a client that can (`login_throttle`'s
/// proofs): strangers' failures never use up a known device's allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttemptBucket<'a> {
    Username(&'a str),
    /// The id of a device proof, which names its user.
    Device(&'a str),
    /// A user's second factor: wrong codes lock it, as wrong passwords lock a username, in a
    /// bucket of its own (a password's failures do not lock the factor, nor the reverse).
    SecondFactor(&'a str),
}

impl<'a> AttemptBucket<'a> {
    /// A prefix and an id that together key the bucket's record, apart from every other.
    pub fn key_parts(self) -> (&'static str, &'a str) {
        match self {
            AttemptBucket::Username(username) => ("login", username),
            AttemptBucket::Device(device) => ("login-device", device),
            AttemptBucket::SecondFactor(username) => ("mfa", username),
        }
    }
}

/// The longest a login attempt can hold a place (seconds): a function's timeout is 10 s. When
/// no place has been taken for this long, every place not held by a failure is free again,
/// whatever the count says: a place an attempt never settled (its function died, its
/// settlement failed) costs its bucket at most this long, not the rest of the window.
pub const MAX_PLACE_HOLD_SECS: i64 = 30;

/// A bucket's login attempts in its current window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginAttempts {
    /// Failed logins counted in the window.
    pub failures: u64,
    /// Places taken: the failures, and the attempts whose password is being checked.
    pub in_use: u64,
    /// When the window ends (seconds since the epoch) and the count starts again from zero.
    pub window_ends_at: i64,
    /// When the last place was taken (seconds since the epoch): the places in flight are all
    /// free by `MAX_PLACE_HOLD_SECS` after it.
    pub last_taken_at: i64,
}

impl LoginAttempts {
    /// When every place in flight is free, given back or not.
    pub fn in_flight_until(&self) -> i64 {
        self.last_taken_at.saturating_add(MAX_PLACE_HOLD_SECS)
    }
}

/// What asking for a place for one login attempt gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// The attempt holds a place: settle it with the attempt's outcome.
    Held(HeldAttempt),
    /// Every place is taken, by failures or by checks still in flight.
    Full(LoginAttempts),
}

/// A place held by one login attempt, until it is settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldAttempt {
    /// The end of the window the place is in: a settlement in a later window changes nothing.
    pub window_ends_at: i64,
    /// The failures counted when the place was taken: those a success clears.
    pub failures_seen: u64,
}

/// How a login attempt that held a place ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The password was wrong (or the user unknown or disabled): the place stays taken, as a
    /// failure, until the window ends.
    Failed,
    /// The password was right: the place is given back, and the failures seen when it was
    /// taken no longer count.
    Succeeded,
    /// The password was never checked (the user could not be read): the place is given back.
    Unchecked,
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

    /// Takes one of the `max` places of `bucket`'s window for a login attempt, atomically: of
    /// concurrent attempts, no more than the places left get one, and none once the window has
    /// `max` failures. A window that ended at or before `now` starts anew, ending at
    /// `window_end`; places in flight older than `MAX_PLACE_HOLD_SECS` (none taken since) are
    /// free again.
    async fn reserve_login_attempt(
        &self,
        bucket: AttemptBucket<'_>,
        max: u64,
        now: i64,
        window_end: i64,
    ) -> Result<Reservation, StoreError>;

    /// Settles the place `held` took in `bucket` with the attempt's `outcome`. A place of a
    /// window that has since ended is nothing to settle.
    async fn settle_login_attempt(
        &self,
        bucket: AttemptBucket<'_>,
        held: HeldAttempt,
        outcome: AttemptOutcome,
    ) -> Result<(), StoreError>;

    /// Records a session a login just started, as its user will see it listed: whose it is,
    /// when and from where it began, how it signed in. Its rotation state, if any, is kept.
    async fn start_session(&self, start: &SessionStart<'_>) -> Result<(), StoreError>;

    /// Records a refresh of `session` at `now`; `refresh_until` is the end of the refresh token
    /// the refresh issued, when it issued one (rotation). A session with no record of its start
    /// (begun before records were kept) or ended already is left as it is: a refresh never
    /// makes a session listed, nor brings an ended one back.
    async fn touch_session(
        &self,
        session: &str,
        now: i64,
        refresh_until: Option<i64>,
    ) -> Result<(), StoreError>;

    /// A page of the live sessions of `query.username`, newest first: started (and so listed by
    /// `start_session`), not ended, not started before `query.not_before`, and with a refresh
    /// token alive at `query.now`. Reads one user's sessions, never the whole table.
    async fn list_sessions(&self, query: &SessionQuery<'_>) -> Result<SessionPage, StoreError>;

    /// Ends `session` if it is a live session of `username`, as a logout of its refresh token
    /// does (every token of it is refused from the next request); `false`, and nothing changed,
    /// for any other id: unknown, another user's, or ended already, by its own end or, when it
    /// began before `not_before`, by the user's (a password change's, an operator's:
    /// `User::sessions_not_before`). One atomic step: of concurrent ends of one session, one is
    /// `true`.
    async fn end_session_of(
        &self,
        username: &str,
        session: &str,
        not_before: Option<i64>,
        now: i64,
    ) -> Result<bool, StoreError>;
}

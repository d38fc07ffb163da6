//! A second factor: what its routes need of the stores, as traits the stores implement, and
//! the key that seals its secrets (`key`). The factor itself (TOTP codes, recovery codes, QR
//! codes) is `auth-mfa`; the DynamoDB stores are `auth_dynamodb`'s.
//!
//! Every write is conditional on the factor the caller read (its sealed secret), so that a
//! factor removed or replaced meanwhile is never written to, and a TOTP step is spent by a
//! conditional write (`last_step < step`), so that of two uses of one code, however close,
//! one succeeds.

pub mod key;
mod memory;

use async_trait::async_trait;

pub use crate::users::MfaFields;
use crate::{login_schema::FieldErrors, login_throttle::Throttled, store::StoreError};

/// Why a second-factor request was refused, for the HTTP layer to answer. Carries no code,
/// secret or token.
#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    /// The body's fields, in marshmallow's shape.
    #[error("body failed validation")]
    Invalid(FieldErrors),
    /// An `mfa_token` unknown, expired, spent, dead of wrong codes, of another address, or
    /// whose user is gone, disabled or without a factor: one answer for all.
    #[error("mfa token refused")]
    InvalidMfaToken,
    /// A wrong TOTP or recovery code, or a code already used.
    #[error("wrong code")]
    WrongCode,
    /// Too many wrong codes for the user's factor in the window.
    #[error("second factor locked")]
    Locked(Throttled),
    /// `/mfa/totp` for a user whose factor is on: it is removed first.
    #[error("a second factor is already on")]
    AlreadyOn,
    /// A confirmation with no enrolment begun, or a change of a factor that is not on.
    #[error("no second factor to act on")]
    NotOn,
    /// A function without the stores or the key the route needs: a deployment bug.
    #[error("not configured: {0}")]
    NotConfigured(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No random secret or token could be made, or a stored secret could not be opened.
    #[error("{0}")]
    Internal(String),
}

/// A factor's confirmation: the pending secret becomes the factor, its first code's step is
/// spent, its recovery codes are set, and the user's other sessions end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Confirmation<'a> {
    pub username: &'a str,
    /// The pending factor the code was checked against, still the pending one when written.
    pub sealed_secret: &'a str,
    /// The step of the code that confirmed it.
    pub step: u64,
    /// The keyed hashes of the new recovery codes.
    pub recovery_codes: &'a [String],
    /// Tokens issued before this (seconds since the epoch) are refused from now on, but the
    /// kept session's.
    pub valid_after: i64,
    /// The caller's session, which stays.
    pub kept_session: Option<&'a str>,
}

/// What proves the factor in a write: a code's time step (spent by the write) or a recovery
/// code (used up by it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof<'a> {
    /// The TOTP step a code matched: the write succeeds only if no code of it or of a later
    /// step was accepted before.
    Step(u64),
    /// The keyed hash of a recovery code: the write succeeds only if it is one not used yet.
    RecoveryCode(&'a str),
}

/// The users' side of the second factor. Each write answers false, and writes nothing, when
/// its condition fails: no such user, another factor than the one read, a step already spent.
#[async_trait]
pub trait MfaStore: Send + Sync {
    /// Keeps `sealed_secret` as the factor being enrolled, in place of any earlier one not
    /// confirmed. False if the user has a confirmed factor (remove it first) or does not exist.
    async fn begin_enrolment(
        &self,
        username: &str,
        sealed_secret: &str,
    ) -> Result<bool, StoreError>;

    /// Writes `confirmation` if its secret is still the pending one and no factor is
    /// confirmed.
    async fn confirm_enrolment(&self, confirmation: &Confirmation<'_>) -> Result<bool, StoreError>;

    /// Spends `proof` of the confirmed factor `sealed_secret`: a login's second step.
    async fn spend(
        &self,
        username: &str,
        sealed_secret: &str,
        proof: Proof<'_>,
    ) -> Result<bool, StoreError>;

    /// Replaces the recovery codes with `recovery_codes`, spending `proof` in the same write.
    async fn replace_recovery_codes(
        &self,
        username: &str,
        sealed_secret: &str,
        proof: Proof<'_>,
        recovery_codes: &[String],
    ) -> Result<bool, StoreError>;

    /// Removes the factor `sealed_secret` (its recovery codes and any pending one with it),
    /// spending `proof` in the same write.
    async fn remove_factor(
        &self,
        username: &str,
        sealed_secret: &str,
        proof: Proof<'_>,
    ) -> Result<bool, StoreError>;
}

/// A login waiting for its second factor, kept under the hash of its `mfa_token` (the token
/// itself is stored nowhere): whose, the session its tokens will belong to, from where, until
/// when, and how many wrong codes it has had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub username: String,
    /// The session the tokens will belong to, chosen at the password step.
    pub session_id: String,
    /// The source address the password step came from, when known: the second step must come
    /// from the same one.
    pub source_ip: Option<String>,
    /// Seconds since the epoch: when the password was checked. A password change, a logout of
    /// every session or a second factor confirmed since (`tokens_valid_after`) ends it, as it
    /// ends tokens issued before.
    pub created_at: i64,
    /// Seconds since the epoch: a read at or after it finds nothing.
    pub expires_at: i64,
    /// Wrong codes so far.
    pub failures: u32,
}

/// What became of a wrong code's count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureCount {
    /// Counted: this many wrong codes so far.
    Counted(u32),
    /// The challenge is gone: spent, expired, or dead from too many wrong codes.
    Gone,
}

/// The logins waiting for a second factor, beside the sessions (each ends at its own time,
/// as every record of the sessions table does).
#[async_trait]
pub trait MfaChallenges: Send + Sync {
    /// Keeps `challenge` under `token_hash`.
    async fn put_challenge(
        &self,
        token_hash: &str,
        challenge: &Challenge,
    ) -> Result<(), StoreError>;

    /// The challenge, if it has not ended at `now`, with its wrong codes so far: one with too
    /// many is still found (its user's lock is told before its death), and the caller refuses
    /// it.
    async fn find_challenge(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<Challenge>, StoreError>;

    /// Counts a wrong code against the challenge, if it is still alive at `now` with fewer
    /// than `max_failures`; the one that reaches `max_failures` kills it.
    async fn count_failure(
        &self,
        token_hash: &str,
        now: i64,
        max_failures: u32,
    ) -> Result<FailureCount, StoreError>;

    /// Deletes the challenge if it is still alive at `now` with fewer than `max_failures`
    /// wrong codes: one conditional delete, so of two successes racing one takes it. False if
    /// it was not there to take.
    async fn take_challenge(
        &self,
        token_hash: &str,
        now: i64,
        max_failures: u32,
    ) -> Result<bool, StoreError>;
}

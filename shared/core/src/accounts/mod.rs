//! Accounts people manage themselves: what the self-service routes (sign-up, confirmation,
//! recovery, password change) need of the stores and of the mail, as traits the stores and the
//! mailers implement. The flows themselves are `auth-accounts`; the DynamoDB stores are
//! `auth_dynamodb`, the SES mailer `auth-ses`.
//!
//! - `email`: an address as the service keys it (normalised) and as it logs it (masked);
//! - `mail_token`: the one-time tokens a mail carries, of which the stores keep only a hash;
//! - `mail`: a mail and the `Mailer` that sends it;
//! - `ip_limit`: requests counted per route and source address.

pub mod email;
pub mod ip_limit;
pub mod mail;
pub mod mail_token;
mod memory;
pub mod schema;

use async_trait::async_trait;

use std::time::Duration;

pub use crate::users::{AccountFields, Purpose};
use crate::{login_schema::FieldErrors, login_throttle::Throttled, store::StoreError, users::User};

/// Why a self-service request was refused, for the HTTP layer to answer. Carries no
/// password, token or full address.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The body's fields, in marshmallow's shape (`{"field": ["message"]}`); a weak password
    /// and an address we cannot mail are the fields' messages too.
    #[error("body failed validation")]
    Invalid(FieldErrors),
    /// A field refused with a sentence of ours (the password policy's).
    #[error("{field} refused")]
    Refused {
        field: &'static str,
        message: String,
    },
    #[error("sign-up is off")]
    SignupDisabled,
    #[error("sign-up is not open to the address's domain")]
    DomainNotAllowed,
    /// A mailed token that is unknown, spent, expired, of another purpose or replaced.
    #[error("mailed token refused")]
    InvalidToken,
    /// The current password given to `/password` is wrong.
    #[error("current password refused")]
    WrongPassword,
    /// An access token that did not come straight from a login.
    #[error("fresh token required")]
    NotFresh,
    /// Too many wrong current passwords (the login throttle's bucket).
    #[error("throttled")]
    Throttled(Throttled),
    /// The sign-up's mail could not be sent: try again later.
    #[error("mail unavailable: {0}")]
    MailUnavailable(String, Duration),
    /// A function without what the route needs (its stores, its mailer): a deployment bug.
    #[error("not configured: {0}")]
    NotConfigured(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No hash or no random token could be made.
    #[error("{0}")]
    Internal(String),
}

/// An account a sign-up makes: named by its normalised address, unconfirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    /// The hash of its first sign-up token.
    pub signup_token: &'a str,
    /// Seconds since the epoch.
    pub created_at: i64,
}

/// A new password for a user, written only if the conditions still hold when it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordChange<'a> {
    pub username: &'a str,
    pub password_hash: &'a str,
    /// Tokens issued before this (seconds since the epoch) are refused from now on: every
    /// session ends, but `kept_session`.
    pub valid_after: i64,
    /// The session that stays (the caller's, for a change with the current password); `None`
    /// ends them all (a reset).
    pub kept_session: Option<&'a str>,
    /// What the change rests on, checked in the same conditional write.
    pub condition: ChangeCondition<'a>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeCondition<'a> {
    /// The password is still the one the caller proved (no other change came between).
    PasswordIs(&'a str),
    /// This recovery token is still the user's good one (it is spent by the change).
    RecoveryToken(&'a str),
}

/// The users' side of the self-service routes: reads by address, and the writes they make.
/// Every write is conditional, so that two requests racing cannot both win.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// The user whose address is `email` (normalised), if any: the account it names, or the
    /// user an operator gave that address.
    async fn find_by_email(&self, email: &str) -> Result<Option<User>, StoreError>;

    /// Creates `account` unconfirmed. False, and nothing written, if the name is taken.
    async fn create(&self, account: &NewAccount<'_>) -> Result<bool, StoreError>;

    /// Makes `token_hash` the user's one good token of `purpose` (the one before dies). With
    /// `unconfirmed_password`, a sign-up again of an unconfirmed account: its password is
    /// replaced too, and only while it is unconfirmed. False, and nothing written, if there is
    /// no such user (or, with a password, the account is confirmed).
    async fn set_mail_token(
        &self,
        username: &str,
        purpose: Purpose,
        token_hash: &str,
        unconfirmed_password: Option<&str>,
    ) -> Result<bool, StoreError>;

    /// Confirms the account's address if `token_hash` is still its good sign-up token, which
    /// is spent, and sets its password to `password_hash`: the one whoever confirms proved or
    /// chose (`auth_accounts::verify`). False, and nothing written, otherwise.
    async fn confirm(
        &self,
        username: &str,
        token_hash: &str,
        password_hash: &str,
    ) -> Result<bool, StoreError>;

    /// Writes `change` if its condition holds: the new hash, the time before which tokens are
    /// refused, the session kept; any recovery token dies. False, and nothing written, if the
    /// condition fails or there is no such user.
    async fn set_password(&self, change: &PasswordChange<'_>) -> Result<bool, StoreError>;
}

/// What a mailed token's record says: whose it is, for what, and until when. Keyed by the
/// token's hash; the token itself is stored nowhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailTokenRecord {
    pub purpose: Purpose,
    pub username: String,
    /// Seconds since the epoch: a read at or after it finds nothing.
    pub expires_at: i64,
    /// A sign-up's token: the hash of the password that sign-up gave, which its confirmation
    /// must prove. None for a token `/resend` mailed: its confirmation chooses the password.
    pub password_hash: Option<String>,
}

/// The records beside the sessions that the self-service routes keep: mailed tokens, the
/// per-address mail allowance and the per-route request counts. Each ends at its own time, as
/// every record of the sessions table does.
#[async_trait]
pub trait AccountRecords: Send + Sync {
    /// Keeps the record of the token whose hash is `token_hash`.
    async fn put_mail_token(
        &self,
        token_hash: &str,
        record: &MailTokenRecord,
    ) -> Result<(), StoreError>;

    /// Deletes and answers the token's record, if it is of `purpose` and has not ended at
    /// `now`: one conditional delete, so of concurrent takes one gets it.
    async fn take_mail_token(
        &self,
        token_hash: &str,
        purpose: Purpose,
        now: i64,
    ) -> Result<Option<MailTokenRecord>, StoreError>;

    /// The token's record, if it is of `purpose` and has not ended at `now`, left in place.
    async fn peek_mail_token(
        &self,
        token_hash: &str,
        purpose: Purpose,
        now: i64,
    ) -> Result<Option<MailTokenRecord>, StoreError>;

    /// Takes the one mail `address_key` may get until `until`: false if one was taken and has
    /// not ended at `now`.
    async fn claim_mail_slot(
        &self,
        address_key: &str,
        until: i64,
        now: i64,
    ) -> Result<bool, StoreError>;

    /// Gives back a slot whose mail could not be sent, so that a retry is not refused.
    async fn release_mail_slot(&self, address_key: &str) -> Result<(), StoreError>;

    /// Counts one request under `key` in the window that ends at `window_end`, and answers
    /// the count so far (this one included). A window that ended at or before `now` counts
    /// nothing.
    async fn count_request(&self, key: &str, window_end: i64, now: i64) -> Result<u64, StoreError>;
}

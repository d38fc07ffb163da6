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

use async_trait::async_trait;

use crate::{store::StoreError, users::User};

/// What a mailed token is for: a token of one purpose is never accepted for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// Confirms the address a sign-up gave.
    Signup,
    /// Sets a new password without the old one.
    Recovery,
}

impl Purpose {
    pub const ALL: [Purpose; 2] = [Purpose::Signup, Purpose::Recovery];

    /// Its name in requests (`{"type": ...}`) and in stored records.
    pub fn name(self) -> &'static str {
        match self {
            Purpose::Signup => "signup",
            Purpose::Recovery => "recovery",
        }
    }

    pub fn named(name: &str) -> Option<Purpose> {
        Purpose::ALL.into_iter().find(|purpose| purpose.name() == name)
    }
}

/// What the user's record says of its self-service state. Absent fields (an account an
/// operator made) mean: no address, confirmed, no token outstanding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountFields {
    /// The normalised address mail goes to: the username of an account made by sign-up, set
    /// by an operator (`users set-email`) for any other.
    pub email: Option<String>,
    /// A sign-up whose address is not confirmed yet: it cannot log in.
    pub unconfirmed: bool,
    /// The hash of the one sign-up token that is still good: a newer one replaces it.
    pub signup_token: Option<String>,
    /// The hash of the one recovery token that is still good: a newer one, or any password
    /// change, ends it.
    pub recovery_token: Option<String>,
    /// The session a password change kept: its tokens stay good though issued before
    /// `tokens_valid_after`.
    pub kept_session: Option<String>,
}

impl AccountFields {
    /// The hash of `purpose`'s token that is still good, if any.
    pub fn token_of(&self, purpose: Purpose) -> Option<&str> {
        match purpose {
            Purpose::Signup => self.signup_token.as_deref(),
            Purpose::Recovery => self.recovery_token.as_deref(),
        }
    }
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
    /// is spent. False, and nothing written, otherwise.
    async fn confirm(&self, username: &str, token_hash: &str) -> Result<bool, StoreError>;

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
    async fn count_request(&self, key: &str, window_end: i64, now: i64)
    -> Result<u64, StoreError>;
}

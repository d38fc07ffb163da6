//! Accounts people manage themselves, as flows over `auth_core`'s stores and mailer: each a
//! plain async function over the `AppState` and the request's validated fields, answering a
//! domain result (`AccountError` on refusal) that the HTTP layer turns into a status.
//!
//! - `signup`: an unconfirmed account and its confirmation mail; a known address gets a mail
//!   too (a notice), so that the answer never tells the two apart;
//! - `verify`: a sign-up confirmed with its mailed token; a recovery token checked;
//! - `recover`: a reset link to a known, confirmed address, and `resend` of either mail;
//! - `password`: a new password with the current one, or with a reset token;
//! - `mail`: the mails' text and HTML, and `outbox`: sending one mail per address per minute.
//!
//! What a caller must not learn (is this address known?) it learns from neither the answer
//! nor its time: the routes that could tell answer no sooner than
//! `AccountSettings::min_answer_time` after the request came in.

pub mod mail;
mod outbox;
pub mod password;
pub mod recover;
pub mod signup;
pub mod verify;

use std::time::Duration;

use auth_core::{
    AppState,
    accounts::{AccountError, AccountRecords, AccountStore, email, schema::field_error},
};

/// The two stores every flow writes; a state without them is a deployment bug.
fn stores(state: &AppState) -> Result<(&dyn AccountStore, &dyn AccountRecords), AccountError> {
    match (state.accounts(), state.records()) {
        (Some(accounts), Some(records)) => Ok((accounts, records)),
        _ => Err(AccountError::NotConfigured("the account stores")),
    }
}

/// The page mailed links open: a mailing function refuses to start without it
/// (`auth_lambda::mailing_state_from_env`), so its absence here is a deployment bug.
fn app_url(state: &AppState) -> Result<&str, AccountError> {
    state
        .account_settings()
        .app_url
        .as_deref()
        .ok_or(AccountError::NotConfigured("APP_URL"))
}

/// `raw` normalised, or the field's error in marshmallow's shape.
fn address(raw: &str) -> Result<String, AccountError> {
    email::normalise(raw).map_err(|error| {
        let message = match error {
            email::EmailError::Malformed => "Not a valid email address.",
            email::EmailError::TooLong => "Email address is longer than 254 characters.",
            email::EmailError::NotAscii => {
                "Email address has characters outside ASCII: write an international domain in \
                 its xn-- form; a local part must be ASCII."
            }
        };
        AccountError::Invalid(field_error("email", message))
    })
}

/// `password` against the one policy, for the account `username`.
fn check_policy(password: &str, username: &str, field: &'static str) -> Result<(), AccountError> {
    auth_password_policy::check(password, username).map_err(|weak| AccountError::Refused {
        field,
        message: weak.to_string(),
    })
}

/// The Argon2id hash of `password`, by one of the state's password workers (the ones logins
/// check with): a flood of sign-ups waits for them rather than hash all at once.
async fn hash(state: &AppState, password: String) -> Result<String, AccountError> {
    state
        .passwords()
        .hash(password)
        .await
        .map_err(|error| AccountError::Internal(error.to_string()))
}

/// Waits until `min_answer_time` has passed since `started` (the clock's time when the
/// request came in), so that a route's answer takes as long whatever it found.
async fn answer_no_sooner(state: &AppState, started: Duration) {
    let until = started + state.account_settings().min_answer_time;
    let now = state.clock().now();
    if until > now {
        state.clock().sleep(until - now).await;
    }
}

/// Seconds since the epoch, `ttl` from `now`.
fn ends_at(now: i64, ttl: Duration) -> i64 {
    now.saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX))
}

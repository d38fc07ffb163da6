//! `POST /signup`: an unconfirmed account named by its normalised address, and one mail to it.
//!
//! A known address is answered exactly as a new one (the same status, body, work and time):
//! its owner gets a mail saying someone tried, and an unconfirmed account gets a confirmation
//! of its own for this sign-up's password. A confirmation sets the password it was mailed for,
//! and takes that password again (`verify`): a stranger who signs the address up first, or
//! again, confirms nothing for themselves. Both paths hash the password, write the token's
//! record and send one mail, and the answer waits for `min_answer_time`.

use std::time::Duration;

use auth_core::{
    AppState,
    accounts::{
        AccountError, MailTokenRecord, NewAccount, Purpose, email::mask, mail::MailError,
        mail_token::MailToken,
    },
    metrics::Event,
    settings::accounts::SignupPolicy,
};

use crate::{
    address, answer_no_sooner, app_url, check_policy, ends_at, hash, mail, outbox, stores,
};

/// How long a client whose sign-up could not be mailed waits before trying again.
pub const RETRY_MAIL_AFTER: Duration = Duration::from_secs(10);

/// Signs `raw_email` up with `password`.
pub async fn signup(
    state: &AppState,
    raw_email: &str,
    password: String,
) -> Result<(), AccountError> {
    let started = state.clock().now();
    let settings = state.account_settings();
    if settings.signup == SignupPolicy::Off {
        return Err(AccountError::SignupDisabled);
    }
    let email = address(raw_email)?;
    if !settings.signup.allows(&email) {
        return Err(AccountError::DomainNotAllowed);
    }
    check_policy(&password, &email, "password")?;
    let result = sign_up(state, &email, password).await;
    answer_no_sooner(state, started).await;
    result
}

async fn sign_up(state: &AppState, email: &str, password: String) -> Result<(), AccountError> {
    let settings = state.account_settings();
    let app_url = app_url(state)?;
    let (accounts, records) = stores(state)?;
    let password_hash = hash(state, password).await?;
    let token = MailToken::generate().map_err(|error| AccountError::Internal(error.to_string()))?;
    let now = state.clock().unix_secs();
    // Written on every path, before anything tells them apart: a token of an account that is
    // not made points at nothing (its user's pointer never names it) and ends by itself. It
    // carries this sign-up's password, which its confirmation must prove: only whoever knows it
    // and reads the mail can confirm it, so a stranger's sign-up of the address confirms nothing
    // for them.
    records
        .put_mail_token(
            &token.hash,
            &MailTokenRecord {
                purpose: Purpose::Signup,
                username: email.to_owned(),
                expires_at: ends_at(now, settings.signup_token_ttl),
                password_hash: Some(password_hash.clone()),
            },
        )
        .await?;
    let existing = accounts.find_by_email(email).await?;
    let created = existing.is_none()
        && accounts
            .create(&NewAccount {
                email,
                password_hash: &password_hash,
                signup_token: &token.hash,
                created_at: now,
            })
            .await?;
    let user = match (created, existing) {
        (true, _) => {
            state.record(Event::SignedUp);
            tracing::info!(email = %mask(email), "signed up: unconfirmed until the mailed link is opened");
            None
        }
        (false, Some(user)) => Some(user),
        (false, None) => state.users().find(email).await?,
    };
    // Claimed once the mail is known, and given back if anything fails before it is sent.
    let Some(slot) = outbox::claim(state, records, email).await? else {
        return Ok(());
    };
    let confirmation =
        || mail::confirmation(email, app_url, &token.text, settings.signup_token_ttl);
    let letter = match (created, user) {
        (true, _) => Some(confirmation()),
        (false, Some(user)) if user.account.unconfirmed => {
            // A sign-up again: a link of its own, for its own password; the one before dies.
            // The account's password is not replaced: only a confirmation sets one.
            match accounts
                .set_mail_token(&user.username, Purpose::Signup, &token.hash, None)
                .await
            {
                Ok(replaced) => replaced.then(confirmation),
                Err(error) => {
                    outbox::release(records, slot).await;
                    return Err(error.into());
                }
            }
        }
        (false, Some(user)) => {
            tracing::info!(email = %mask(email), "sign-up of a known address: its owner is told");
            Some(mail::already_registered(
                user.account.email.as_deref().unwrap_or(email),
                app_url,
            ))
        }
        (false, None) => None,
    };
    let Some(letter) = letter else {
        outbox::release(records, slot).await;
        return Ok(());
    };
    match outbox::send(state, records, slot, &letter).await {
        Ok(()) => Ok(()),
        // The account stays, unconfirmed: a sign-up again or `/resend` mails it anew.
        Err(MailError::Unavailable(detail) | MailError::Refused(detail)) => {
            Err(AccountError::MailUnavailable(detail, RETRY_MAIL_AFTER))
        }
    }
}

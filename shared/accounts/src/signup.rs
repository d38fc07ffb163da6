//! `POST /signup`: an unconfirmed account named by its normalised address, and one mail to it.
//!
//! A known address is answered exactly as a new one (the same status, body, work and time):
//! its owner gets a mail saying someone tried, and an unconfirmed account gets its
//! confirmation again, with the new password (whoever confirms the address owns the account,
//! and only its owner can). Both paths hash the password, write the token's record and send
//! one mail, and the answer waits for `min_answer_time`.

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

use crate::{address, answer_no_sooner, check_policy, ends_at, hash, mail, outbox, stores};

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
    let app_url = settings
        .app_url
        .as_deref()
        .ok_or(AccountError::NotConfigured("APP_URL"))?;
    let (accounts, records) = stores(state)?;
    let password_hash = hash(password).await?;
    let token = MailToken::generate().map_err(|error| AccountError::Internal(error.to_string()))?;
    let now = state.clock().unix_secs();
    // Written on every path, before anything tells them apart: a token of an account that is
    // not made points at nothing (its user's pointer never names it) and ends by itself.
    records
        .put_mail_token(
            &token.hash,
            &MailTokenRecord {
                purpose: Purpose::Signup,
                username: email.to_owned(),
                expires_at: ends_at(now, settings.signup_token_ttl),
            },
        )
        .await?;
    let slot = outbox::claim(state, records, email).await?;
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
    let confirmation =
        || mail::confirmation(email, app_url, &token.text, settings.signup_token_ttl);
    let letter = if created {
        state.record(Event::SignedUp);
        tracing::info!(email = %mask(email), "signed up: unconfirmed until the mailed link is opened");
        Some(confirmation())
    } else {
        let user = match existing {
            Some(user) => Some(user),
            None => state.users().find(email).await?,
        };
        match (user, &slot) {
            (_, None) | (None, _) => None,
            (Some(user), Some(_)) if user.account.unconfirmed => {
                // Only while it is still unconfirmed: a confirmation that came between keeps its password.
                let replaced = accounts
                    .set_mail_token(
                        &user.username,
                        Purpose::Signup,
                        &token.hash,
                        Some(&password_hash),
                    )
                    .await?;
                replaced.then(confirmation)
            }
            (Some(user), Some(_)) => {
                tracing::info!(email = %mask(email), "sign-up of a known address: its owner is told");
                Some(mail::already_registered(
                    user.account.email.as_deref().unwrap_or(email),
                    app_url,
                ))
            }
        }
    };
    match (slot, letter) {
        (Some(slot), Some(letter)) => match outbox::send(state, records, slot, &letter).await {
            Ok(()) => Ok(()),
            // The account stays, unconfirmed: a sign-up again or `/resend` mails it anew.
            Err(MailError::Unavailable(detail) | MailError::Refused(detail)) => {
                Err(AccountError::MailUnavailable(detail, RETRY_MAIL_AFTER))
            }
        },
        (Some(slot), None) => {
            outbox::release(records, slot).await;
            Ok(())
        }
        (None, _) => Ok(()),
    }
}

//! `POST /recover` and `POST /resend`: a mail to an address if it is known and may have one;
//! the answer is the same (`200 {}`, after `min_answer_time`) whatever the address is, and
//! whether the mail went or not. A mail that could not be sent is counted (`mail_failed`,
//! alarmed) and gives its slot back, so the person's next try mails at once.

use auth_core::{
    AppState,
    accounts::{AccountError, MailTokenRecord, Purpose, email::mask, mail_token::MailToken},
    metrics::Event,
    users::User,
};

use crate::{address, answer_no_sooner, app_url, ends_at, mail, outbox, stores};

/// Mails a reset link to `raw_email` if it is a confirmed, enabled user's.
pub async fn recover(state: &AppState, raw_email: &str) -> Result<(), AccountError> {
    resend(state, Purpose::Recovery, raw_email).await
}

/// Mails `purpose`'s link again: a confirmation to an unconfirmed account, a reset link to a
/// confirmed one. Any other address gets nothing.
pub async fn resend(
    state: &AppState,
    purpose: Purpose,
    raw_email: &str,
) -> Result<(), AccountError> {
    let started = state.clock().now();
    let email = address(raw_email)?;
    let result = mail_link(state, purpose, &email).await;
    answer_no_sooner(state, started).await;
    result
}

async fn mail_link(state: &AppState, purpose: Purpose, email: &str) -> Result<(), AccountError> {
    let settings = state.account_settings();
    let app_url = app_url(state)?;
    let (accounts, records) = stores(state)?;
    let Some(user) = accounts.find_by_email(email).await? else {
        tracing::info!(email = %mask(email), purpose = purpose.name(), "no account has this address: no mail");
        return Ok(());
    };
    if !may_get(&user, purpose) {
        tracing::info!(email = %mask(email), purpose = purpose.name(), "the account may not get this mail: none sent");
        return Ok(());
    }
    let Some(slot) = outbox::claim(state, records, email).await? else {
        return Ok(());
    };
    let token = MailToken::generate().map_err(|error| AccountError::Internal(error.to_string()))?;
    let now = state.clock().unix_secs();
    let ttl = match purpose {
        Purpose::Signup => settings.signup_token_ttl,
        Purpose::Recovery => settings.recovery_token_ttl,
    };
    let written = async {
        records
            .put_mail_token(
                &token.hash,
                &MailTokenRecord {
                    purpose,
                    username: user.username.clone(),
                    expires_at: ends_at(now, ttl),
                    // A confirmation mailed again is for the password its confirmation chooses.
                    password_hash: None,
                },
            )
            .await?;
        accounts
            .set_mail_token(&user.username, purpose, &token.hash, None)
            .await
    }
    .await;
    match written {
        Ok(true) => {}
        Ok(false) => {
            outbox::release(records, slot).await;
            return Ok(());
        }
        Err(error) => {
            outbox::release(records, slot).await;
            return Err(error.into());
        }
    }
    let letter = match purpose {
        Purpose::Signup => mail::confirmation(email, app_url, &token.text, ttl),
        Purpose::Recovery => mail::reset(email, app_url, &token.text, ttl),
    };
    if outbox::send(state, records, slot, &letter).await.is_ok() && purpose == Purpose::Recovery {
        state.record(Event::RecoveryRequested);
    }
    Ok(())
}

/// A confirmation goes to an account still unconfirmed; a reset link to one confirmed and
/// enabled (a disabled user could not log in with the new password anyway).
fn may_get(user: &User, purpose: Purpose) -> bool {
    match purpose {
        Purpose::Signup => user.account.unconfirmed,
        Purpose::Recovery => !user.account.unconfirmed && !user.disabled,
    }
}

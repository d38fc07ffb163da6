//! Sending a mail: at most one per address per `MAIL_INTERVAL` (a flood of sign-ups or
//! recoveries for one address sends it one mail a minute, whoever asks), counted, logged with
//! the address masked, and the address's slot given back when the mail could not be sent, so
//! that the person's next try is not refused for a mail they never got.

use auth_core::{
    AppState,
    accounts::{
        AccountError, AccountRecords,
        email::mask,
        mail::{Mail, MailError},
        mail_token,
    },
    metrics::Event,
    settings::accounts::MAIL_INTERVAL,
};

/// The right to send one mail to an address now.
pub(crate) struct Slot {
    key: String,
}

/// The key of `email`'s slot: a hash, so that the sessions table holds no address.
fn slot_key(email: &str) -> String {
    mail_token::hash_of(&format!("mail-slot:{email}"))
}

/// The address's slot, or `None` if a mail went to it less than `MAIL_INTERVAL` ago.
pub(crate) async fn claim(
    state: &AppState,
    records: &dyn AccountRecords,
    email: &str,
) -> Result<Option<Slot>, AccountError> {
    let key = slot_key(email);
    let now = state.clock().unix_secs();
    let until = crate::ends_at(now, MAIL_INTERVAL);
    let claimed = records.claim_mail_slot(&key, until, now).await?;
    if !claimed {
        tracing::info!(to = %mask(email), "a mail went to this address less than a minute ago: none sent");
    }
    Ok(claimed.then_some(Slot { key }))
}

/// Gives `slot` back unused.
pub(crate) async fn release(records: &dyn AccountRecords, slot: Slot) {
    if let Err(error) = records.release_mail_slot(&slot.key).await {
        // The slot ends by itself within a minute.
        tracing::warn!(%error, "could not give back a mail slot");
    }
}

/// Sends `mail` in `slot`. A failure is counted and logged, and gives the slot back.
pub(crate) async fn send(
    state: &AppState,
    records: &dyn AccountRecords,
    slot: Slot,
    mail: &Mail,
) -> Result<(), MailError> {
    let Some(mailer) = state.mailer() else {
        release(records, slot).await;
        return Err(MailError::Refused("this function has no mailer".to_owned()));
    };
    match mailer.send(mail).await {
        Ok(()) => {
            state.record(Event::MailSent);
            tracing::info!(to = %mask(&mail.to), subject = %mail.subject, "mail sent");
            Ok(())
        }
        Err(error) => {
            state.record(Event::MailFailed);
            tracing::error!(to = %mask(&mail.to), subject = %mail.subject, %error, "mail not sent");
            release(records, slot).await;
            Err(error)
        }
    }
}

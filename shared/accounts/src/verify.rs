//! `POST /verify`: a mailed token shown back. A sign-up's confirms the address, once, and the
//! caller logs in with it (the HTTP layer issues the tokens); a recovery token is only checked
//! here (the page shows its form or says the link is dead) and is spent by `/password/reset`.

use auth_core::{
    AppState,
    accounts::{AccountError, Purpose, email::mask, mail_token},
    metrics::Event,
    users::User,
};

use crate::stores;

/// Confirms the sign-up of `token`: the user, now confirmed. Refused alike whether the token
/// is unknown, spent, expired, of another purpose or replaced by a newer one.
pub async fn confirm_signup(state: &AppState, token: &str) -> Result<User, AccountError> {
    if !mail_token::is_plausible(token) {
        return Err(AccountError::InvalidToken);
    }
    let (accounts, records) = stores(state)?;
    let hash = mail_token::hash_of(token);
    let now = state.clock().unix_secs();
    let record = records
        .take_mail_token(&hash, Purpose::Signup, now)
        .await?
        .ok_or(AccountError::InvalidToken)?;
    if !accounts.confirm(&record.username, &hash).await? {
        return Err(AccountError::InvalidToken);
    }
    let user = state
        .users()
        .find(&record.username)
        .await?
        .filter(|user| !user.disabled)
        .ok_or(AccountError::InvalidToken)?;
    state.record(Event::SignupConfirmed);
    tracing::info!(email = %mask(&user.username), "address confirmed");
    Ok(user)
}

/// Whether `token` is a recovery token still good: not spent, not expired, not replaced, its
/// password not changed since.
pub async fn check_recovery(state: &AppState, token: &str) -> Result<User, AccountError> {
    if !mail_token::is_plausible(token) {
        return Err(AccountError::InvalidToken);
    }
    let (_, records) = stores(state)?;
    let hash = mail_token::hash_of(token);
    let record = records
        .peek_mail_token(&hash, Purpose::Recovery, state.clock().unix_secs())
        .await?
        .ok_or(AccountError::InvalidToken)?;
    state
        .users()
        .find(&record.username)
        .await?
        .filter(|user| user.account.recovery_token.as_deref() == Some(hash.as_str()))
        .ok_or(AccountError::InvalidToken)
}

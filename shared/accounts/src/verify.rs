//! `POST /verify`: a mailed token shown back. A sign-up's, with its password, confirms the
//! address, once, and the caller logs in with it (the HTTP layer issues the tokens); a recovery token is only checked
//! here (the page shows its form or says the link is dead) and is spent by `/password/reset`.

use auth_core::{
    AppState,
    accounts::{AccountError, Purpose, email::mask, mail_token},
    metrics::Event,
    users::User,
};

use crate::{check_policy, stores};

/// Confirms the sign-up of `token` with `password`: the password that sign-up gave, which the
/// token's record holds as a hash, or for a link `/resend` mailed, the password chosen now
/// (the policy's). The user, now confirmed, with that password. A token that is unknown,
/// spent, expired, of another purpose or replaced is refused alike; a wrong password leaves
/// the token unspent.
pub async fn confirm_signup(
    state: &AppState,
    token: &str,
    password: String,
) -> Result<User, AccountError> {
    if !mail_token::is_plausible(token) {
        return Err(AccountError::InvalidToken);
    }
    let (accounts, records) = stores(state)?;
    let hash = mail_token::hash_of(token);
    let now = state.clock().unix_secs();
    let record = records
        .peek_mail_token(&hash, Purpose::Signup, now)
        .await?
        .ok_or(AccountError::InvalidToken)?;
    state
        .users()
        .find(&record.username)
        .await?
        .filter(|user| {
            user.account.unconfirmed
                && !user.disabled
                && user.account.signup_token.as_deref() == Some(hash.as_str())
        })
        .ok_or(AccountError::InvalidToken)?;
    let password_hash = match record.password_hash {
        Some(signed_up_with) => {
            if !state.passwords().verify(&password, &signed_up_with).await {
                return Err(AccountError::Refused {
                    field: "password",
                    message: NOT_THE_SIGNUP_PASSWORD.to_owned(),
                });
            }
            signed_up_with
        }
        None => {
            check_policy(&password, &record.username, "password")?;
            crate::hash(state, password).await?
        }
    };
    records
        .take_mail_token(&hash, Purpose::Signup, now)
        .await?
        .ok_or(AccountError::InvalidToken)?;
    if !accounts
        .confirm(&record.username, &hash, &password_hash)
        .await?
    {
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

/// A confirmation whose password is not the one its sign-up gave.
pub const NOT_THE_SIGNUP_PASSWORD: &str = "This is not the password this link was sent for: type \
     the password you signed up with, or ask for a new link, which lets you choose one.";

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
        .filter(|user| {
            !user.disabled && user.account.recovery_token.as_deref() == Some(hash.as_str())
        })
        .ok_or(AccountError::InvalidToken)
}

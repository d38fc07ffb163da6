//! A new password: `change` with the current one (and a fresh access token, which the HTTP
//! layer checks), ending every other session of the user and keeping the caller's; `reset`
//! with a mailed recovery token, ending every session. Either passes the one policy first, and
//! spends nothing when it does not; a recovery token dies with any password change.

use auth_core::{
    AppState,
    accounts::{AccountError, ChangeCondition, PasswordChange, Purpose, email::mask, mail_token},
    metrics::Event,
    sessions::{AttemptBucket, AttemptOutcome},
    users::User,
};

use crate::{check_policy, hash, stores, verify};

/// Changes `user`'s password from `current` to `new`, keeping `session` (the caller's).
/// Wrong current passwords count against the user's login throttle, as failed logins do: a
/// stolen token is no way around it.
pub async fn change(
    state: &AppState,
    user: &User,
    session: Option<&str>,
    current: &str,
    new: String,
) -> Result<(), AccountError> {
    let (accounts, _) = stores(state)?;
    let admission = state
        .login_throttle()
        .admit(
            AttemptBucket::Username(&user.username),
            state.clock(),
            state.request_budget() / 2,
        )
        .await
        .map_err(|error| match error {
            auth_core::login_throttle::ThrottleError::Throttled(throttled) => {
                AccountError::Throttled(throttled)
            }
            auth_core::login_throttle::ThrottleError::Store(error) => AccountError::Store(error),
        })?;
    let right = state.passwords().verify(current, &user.password_hash).await;
    if let Some(admission) = admission {
        let outcome = match right {
            true => AttemptOutcome::Succeeded,
            false => AttemptOutcome::Failed,
        };
        if let Err(error) = admission.settle(outcome).await {
            tracing::error!(%error, "could not settle a password change's attempt");
        }
    }
    if !right {
        return Err(AccountError::WrongPassword);
    }
    check_policy(&new, &user.username, "new_password")?;
    let password_hash = hash(state, new).await?;
    let changed = accounts
        .set_password(&PasswordChange {
            username: &user.username,
            password_hash: &password_hash,
            valid_after: next_second(state),
            kept_session: session,
            condition: ChangeCondition::PasswordIs(&user.password_hash),
        })
        .await?;
    // Another change came first: the password proved is no longer the user's.
    if !changed {
        return Err(AccountError::WrongPassword);
    }
    state.record(Event::PasswordChanged);
    tracing::info!(user = %mask(&user.username), "password changed: the user's other sessions ended");
    Ok(())
}

/// Sets the password of the recovery `token`'s user to `new`, spending the token and ending
/// every session of the user: whose it was.
pub async fn reset(state: &AppState, token: &str, new: String) -> Result<String, AccountError> {
    let (accounts, records) = stores(state)?;
    let user = verify::check_recovery(state, token).await?;
    // Before the token is spent: a refused password leaves the link working.
    check_policy(&new, &user.username, "new_password")?;
    let hash_of_token = mail_token::hash_of(token);
    records
        .take_mail_token(&hash_of_token, Purpose::Recovery, state.clock().unix_secs())
        .await?
        .ok_or(AccountError::InvalidToken)?;
    let password_hash = hash(state, new).await?;
    let changed = accounts
        .set_password(&PasswordChange {
            username: &user.username,
            password_hash: &password_hash,
            valid_after: next_second(state),
            kept_session: None,
            condition: ChangeCondition::RecoveryToken(&hash_of_token),
        })
        .await?;
    if !changed {
        return Err(AccountError::InvalidToken);
    }
    state.record(Event::PasswordReset);
    tracing::info!(user = %mask(&user.username), "password reset: every session of the user ended");
    Ok(user.username)
}

/// The `tokens_valid_after` that ends every session now: the next whole second, since `iat`
/// counts whole seconds (as `users` ends sessions).
fn next_second(state: &AppState) -> i64 {
    state.clock().unix_secs() + 1
}

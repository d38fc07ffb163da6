//! A user's own changes to their factor, each with a fresh access token (which the HTTP layer
//! checks): `begin` a TOTP enrolment (a new secret, pending, shown once as text, URI and QR
//! code), `confirm` it with a first code (the factor is on; ten recovery codes, shown once;
//! every other session of the user ends), `remove` it or `replace_recovery_codes` with a code
//! or a recovery code, under the user's lock.

use auth_core::{
    AppState,
    metrics::Event,
    mfa::{Confirmation, MfaError},
    users::User,
};

use crate::{
    Authenticator,
    proof::{Spend, account_label, authenticator, parts, spend, under_lock},
    qr,
    recovery::RecoveryCodes,
    schema::Answer,
};

/// A factor being enrolled, to show the user once: the secret to type into an app that
/// cannot scan, the otpauth URI, and its QR code.
pub struct Enrolment {
    pub secret: String,
    pub uri: String,
    pub qr_svg: String,
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Enrolment(<redacted>)")
    }
}

/// A new secret for `user`, pending until a code of it confirms it; any earlier pending one
/// is replaced. Refused while a factor is on: the user removes it first.
pub async fn begin(state: &AppState, user: &User) -> Result<Enrolment, MfaError> {
    let (factors, key) = parts(state)?;
    if user.account.mfa.is_on() {
        return Err(MfaError::AlreadyOn);
    }
    let authenticator = Authenticator::generate(account_label(user), &state.mfa_settings().issuer)
        .map_err(|error| MfaError::Internal(error.to_string()))?;
    let sealed = key
        .seal(&user.username, authenticator.secret())
        .map_err(|error| MfaError::Internal(error.to_string()))?;
    if !factors.begin_enrolment(&user.username, &sealed).await? {
        // A factor confirmed since the user was read (another tab), or the user is gone.
        return Err(MfaError::AlreadyOn);
    }
    let uri = authenticator.uri();
    let qr_svg = qr::svg(&uri).map_err(|error| MfaError::Internal(error.to_string()))?;
    Ok(Enrolment {
        secret: authenticator.secret_base32(),
        uri,
        qr_svg,
    })
}

/// Confirms `user`'s pending factor with `code`, a code of it: the factor is on, its step
/// spent; every other session of the user ends, `session` (the caller's) stays. The recovery
/// codes, to show once.
pub async fn confirm(
    state: &AppState,
    user: &User,
    session: Option<&str>,
    code: &str,
) -> Result<Vec<String>, MfaError> {
    let (factors, key) = parts(state)?;
    if user.account.mfa.is_on() {
        return Err(MfaError::AlreadyOn);
    }
    let pending = user.account.mfa.pending.as_deref().ok_or(MfaError::NotOn)?;
    under_lock(state, &user.username, None, async {
        let authenticator = authenticator(state, key, user, pending)?;
        let now = state.clock().unix_secs();
        let step = authenticator
            .check(code, now.max(0) as u64)
            .ok_or(MfaError::WrongCode)?;
        let recovery = RecoveryCodes::generate(key, &user.username)
            .map_err(|error| MfaError::Internal(error.to_string()))?;
        let confirmed = factors
            .confirm_enrolment(&Confirmation {
                username: &user.username,
                sealed_secret: pending,
                step,
                recovery_codes: &recovery.hashes,
                // From the next second: tokens issued in this one predate the factor (`iat`
                // counts whole seconds).
                valid_after: now + 1,
                kept_session: session,
            })
            .await?;
        if !confirmed {
            // Another enrolment began, or this one was confirmed, since the user was read.
            return Err(MfaError::NotOn);
        }
        state.record(Event::MfaEnrolled);
        tracing::info!("second factor confirmed: the user's other sessions ended");
        Ok(recovery.codes)
    })
    .await
}

/// Removes `user`'s factor on `answer`, a code or a recovery code of it.
pub async fn remove(state: &AppState, user: &User, answer: &Answer) -> Result<(), MfaError> {
    if !user.account.mfa.is_on() {
        return Err(MfaError::NotOn);
    }
    under_lock(
        state,
        &user.username,
        None,
        spend(state, user, answer, Spend::RemoveFactor),
    )
    .await?;
    state.record(Event::MfaRemoved);
    tracing::info!("second factor removed by its user");
    Ok(())
}

/// Replaces `user`'s recovery codes on `answer`: every old code dies; the new ones, to show
/// once.
pub async fn replace_recovery_codes(
    state: &AppState,
    user: &User,
    answer: &Answer,
) -> Result<Vec<String>, MfaError> {
    let (_, key) = parts(state)?;
    if !user.account.mfa.is_on() {
        return Err(MfaError::NotOn);
    }
    let recovery = RecoveryCodes::generate(key, &user.username)
        .map_err(|error| MfaError::Internal(error.to_string()))?;
    under_lock(
        state,
        &user.username,
        None,
        spend(
            state,
            user,
            answer,
            Spend::ReplaceRecoveryCodes(&recovery.hashes),
        ),
    )
    .await?;
    Ok(recovery.codes)
}

//! A code checked against a user's factor and spent in the write it proves, under the user's
//! lock: every route that takes a code (a login's second step, the factor's own changes) goes
//! through here, so none of them is a way around the lock or a way to use a code twice.

use auth_core::{
    AppState,
    activity::{Activity, ActivityEvent, ActivityOutcome, detail},
    claims::AuthMethods,
    login_throttle::{ThrottleError, ThrottleReason},
    metrics::Event,
    mfa::{MfaError, MfaStore, Proof, key::MfaKey},
    sessions::{AttemptBucket, AttemptOutcome},
    users::User,
};

use crate::{Authenticator, recovery, schema::Answer};

/// The write a code proves.
#[derive(Debug, Clone, Copy)]
pub enum Spend<'a> {
    /// A login's second step: the code alone is spent.
    Login,
    /// The recovery codes replaced by these hashes.
    ReplaceRecoveryCodes(&'a [String]),
    /// The factor removed.
    RemoveFactor,
}

/// The stores and the key the second factor's routes need.
pub(crate) fn parts(state: &AppState) -> Result<(&dyn MfaStore, &MfaKey), MfaError> {
    let factors = state.factors().ok_or(MfaError::NotConfigured(
        "the users store has no second factors",
    ))?;
    let key = state
        .mfa_settings()
        .key
        .as_deref()
        .ok_or(MfaError::NotConfigured("MFA_ENCRYPTION_KEY is not set"))?;
    Ok((factors, key))
}

/// What an app shows beside the user's codes: the address if they have one, else the name.
pub(crate) fn account_label(user: &User) -> &str {
    user.account.email.as_deref().unwrap_or(&user.username)
}

/// The authenticator of `sealed`, `user`'s.
pub(crate) fn authenticator(
    state: &AppState,
    key: &MfaKey,
    user: &User,
    sealed: &str,
) -> Result<Authenticator, MfaError> {
    let secret = key
        .open(&user.username, sealed)
        .map_err(|error| MfaError::Internal(error.to_string()))?;
    Authenticator::from_secret(secret, account_label(user), &state.mfa_settings().issuer)
        .map_err(|error| MfaError::Internal(error.to_string()))
}

/// Runs `attempt` in a place of `username`'s lock: refused at once while the factor is
/// locked; a wrong code counts against it, a right one clears it.
/// With `client` (a login's second step), each wrong code is written to the user's activity
/// log; with or without, so is the one that locks the factor. Refusals while locked are not:
/// anyone holding an `mfa_token` could fill the log with them.
pub(crate) async fn under_lock<T>(
    state: &AppState,
    username: &str,
    client: Option<&Activity>,
    attempt: impl Future<Output = Result<T, MfaError>>,
) -> Result<T, MfaError> {
    let admission = state
        .mfa_throttle()
        .admit(
            AttemptBucket::SecondFactor(username),
            state.clock(),
            state.request_budget() / 2,
        )
        .await
        .map_err(|error| match error {
            ThrottleError::Throttled(throttled) => {
                // Locked by wrong codes; not a refusal for checks in flight, which is load.
                if throttled.reason == ThrottleReason::Failures {
                    state.record(Event::MfaLocked);
                }
                MfaError::Locked(throttled)
            }
            ThrottleError::Store(error) => MfaError::Store(error),
        })?;
    let result = attempt.await;
    let client_given = client.is_some();
    let locks = admission
        .as_ref()
        .is_some_and(|admission| state.mfa_throttle().failure_would_lock(admission));
    if matches!(result, Err(MfaError::WrongCode)) {
        let client = client.cloned().unwrap_or_default();
        let log = |outcome, detail| {
            state.activity().record(
                username,
                ActivityEvent::SecondFactor,
                outcome,
                client.clone().detail(detail),
            );
        };
        if client_given {
            log(ActivityOutcome::Failed, detail::WRONG_CODE);
        }
        if locks {
            log(ActivityOutcome::Blocked, detail::TOO_MANY_ATTEMPTS);
        }
    }
    if let Some(admission) = admission {
        let outcome = match &result {
            Ok(_) => AttemptOutcome::Succeeded,
            Err(MfaError::WrongCode) => AttemptOutcome::Failed,
            Err(_) => AttemptOutcome::Unchecked,
        };
        if let Err(error) = admission.settle(outcome).await {
            tracing::error!(%error, "could not settle a second factor's attempt");
        }
    }
    if matches!(result, Err(MfaError::WrongCode)) {
        state.record(Event::MfaFailed);
    }
    result
}

/// Checks `answer` against `user`'s confirmed factor and spends it in the write `spend` names:
/// how the user proved it. A code already used, like a wrong one, is `WrongCode`. Not under
/// the lock: callers wrap it in `under_lock`.
pub async fn spend(
    state: &AppState,
    user: &User,
    answer: &Answer,
    spend: Spend<'_>,
) -> Result<AuthMethods, MfaError> {
    let (factors, key) = parts(state)?;
    let sealed = user.account.mfa.secret.as_deref().ok_or(MfaError::NotOn)?;
    let (proof, methods) = match answer {
        Answer::Code(code) => {
            let authenticator = authenticator(state, key, user, sealed)?;
            let step = authenticator
                .check(code, state.clock().unix_secs().max(0) as u64)
                .ok_or(MfaError::WrongCode)?;
            (ProofOwned::Step(step), AuthMethods::PasswordAndOtp)
        }
        Answer::RecoveryCode(text) => {
            let code = recovery::normalise(text).ok_or(MfaError::WrongCode)?;
            (
                ProofOwned::RecoveryCode(key.code_hash(&user.username, &code)),
                AuthMethods::PasswordAndRecoveryCode,
            )
        }
    };
    let proof = proof.borrowed();
    let username = user.username.as_str();
    let written = match spend {
        Spend::Login => factors.spend(username, sealed, proof).await?,
        Spend::ReplaceRecoveryCodes(hashes) => {
            factors
                .replace_recovery_codes(username, sealed, proof, hashes)
                .await?
        }
        Spend::RemoveFactor => factors.remove_factor(username, sealed, proof).await?,
    };
    // Spent before (a replay, or the other of two uses at once), or the factor changed since
    // it was read: no proof either way.
    if !written {
        return Err(MfaError::WrongCode);
    }
    if methods == AuthMethods::PasswordAndRecoveryCode {
        state.record(Event::RecoveryCodeUsed);
        tracing::warn!(
            codes_left = user.account.mfa.recovery_codes.len().saturating_sub(1),
            "a recovery code was used: the user may have lost their authenticator"
        );
    }
    Ok(methods)
}

enum ProofOwned {
    Step(u64),
    RecoveryCode(String),
}

impl ProofOwned {
    fn borrowed(&self) -> Proof<'_> {
        match self {
            ProofOwned::Step(step) => Proof::Step(*step),
            ProofOwned::RecoveryCode(hash) => Proof::RecoveryCode(hash),
        }
    }
}

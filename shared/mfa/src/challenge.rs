//! A login with a second factor, in two steps, with no token before the second: a right
//! password of a user whose factor is on makes a challenge and answers its `mfa_token` (`begin`,
//! from `/login`); a code for that token (`answer`, from `/login/mfa`) ends the challenge and
//! names the session the tokens will be of.
//!
//! An `mfa_token` is 256 random bits, stored only as its hash, lives `MFA_TOKEN_EXPIRES` (5
//! minutes at most), is bound to its user, its session to be and the address the password came
//! from, dies at its first success (one conditional delete: of two successes racing, one
//! gets it) or at its `MFA_TOKEN_MAX_FAILURES`th wrong code; and every wrong code counts
//! against the user's lock too, across tokens.

use auth_core::{
    AppState,
    accounts::mail_token::{self, MailToken},
    activity::Activity,
    claims::AuthMethods,
    metrics::Event,
    mfa::{Challenge, FailureCount, MfaChallenges, MfaError},
    tokens::new_token_id,
    users::User,
};

use crate::{
    proof::{Spend, spend, under_lock},
    schema::Answer,
};

/// A second step passed: whose, the session the tokens are of, and how they signed in.
#[derive(Debug, Clone)]
pub struct Passed {
    pub user: User,
    pub session_id: String,
    pub methods: AuthMethods,
}

fn challenges(state: &AppState) -> Result<&dyn MfaChallenges, MfaError> {
    state.challenges().ok_or(MfaError::NotConfigured(
        "the sessions store keeps no challenges",
    ))
}

/// Begins `user`'s second step (their password is right, their factor on) at `now`: the
/// `mfa_token`.
pub async fn begin(
    state: &AppState,
    user: &User,
    source_ip: Option<String>,
    now: i64,
) -> Result<String, MfaError> {
    let challenges = challenges(state)?;
    let token = MailToken::generate().map_err(|error| MfaError::Internal(error.to_string()))?;
    let settings = state.mfa_settings();
    let challenge = Challenge {
        username: user.username.clone(),
        session_id: new_token_id(),
        source_ip,
        created_at: now,
        expires_at: now + settings.challenge_ttl.as_secs() as i64,
        failures: 0,
    };
    challenges.put_challenge(&token.hash, &challenge).await?;
    state.record(Event::MfaChallenged);
    Ok(token.text)
}

/// The second step: `answer` for the `mfa_token` `token`, from `source_ip`. A wrong code, and a
/// refusal of a locked factor, go to the user's activity log as `client`'s (its address and
/// user agent); a success is the caller's to log, once its session has started.
pub async fn answer(
    state: &AppState,
    token: &str,
    answer: &Answer,
    source_ip: Option<&str>,
    client: &Activity,
) -> Result<Passed, MfaError> {
    let challenges = challenges(state)?;
    if !mail_token::is_plausible(token) {
        return Err(MfaError::InvalidMfaToken);
    }
    let hash = mail_token::hash_of(token);
    let now = state.clock().unix_secs();
    let max_failures = state.mfa_settings().challenge_max_failures;
    let challenge = challenges
        .find_challenge(&hash, now)
        .await?
        .ok_or(MfaError::InvalidMfaToken)?;
    // Only where the password was typed: a token copied elsewhere (a log, a proxy) is no way
    // in. Where no address is known on either side, there is nothing to hold it to.
    if challenge.source_ip.is_some() && challenge.source_ip.as_deref() != source_ip {
        return Err(MfaError::InvalidMfaToken);
    }
    let user = state
        .users()
        .find(&challenge.username)
        .await?
        // A password changed, every session ended, or a factor confirmed since the password
        // was checked ends the login waiting for its code, as it ends the tokens of before.
        .filter(|user| {
            !user.disabled && user.account.mfa.is_on() && !user.outlived(Some(challenge.created_at))
        })
        .ok_or(MfaError::InvalidMfaToken)?;
    let methods = under_lock(state, &user.username, Some(client), async {
        // Told after the lock: a token that died of wrong codes answers as the lock does
        // while the lock lasts.
        if challenge.failures >= max_failures {
            return Err(MfaError::InvalidMfaToken);
        }
        match spend(state, &user, answer, Spend::Login).await {
            Err(MfaError::WrongCode) => {
                // The answer stays a wrong code whatever becomes of the token's count: it is
                // what the user's lock counts, and a store that fails here must not be a way
                // to guess without it.
                match challenges.count_failure(&hash, now, max_failures).await {
                    Ok(FailureCount::Counted(count)) if count >= max_failures => {
                        tracing::warn!("an mfa_token died of wrong codes");
                    }
                    Ok(_) => {}
                    Err(error) => {
                        tracing::error!(%error, "could not count a wrong code on its mfa_token");
                    }
                }
                Err(MfaError::WrongCode)
            }
            passed => passed,
        }
    })
    .await?;
    // The code is spent; the token goes with this success. Another success with it that came
    // first (a second code, a recovery code) took it: this one gets nothing.
    if !challenges.take_challenge(&hash, now, max_failures).await? {
        return Err(MfaError::InvalidMfaToken);
    }
    Ok(Passed {
        user,
        session_id: challenge.session_id,
        methods,
    })
}

//! The second factor in the in-memory stores (the local server's, the tests'): each write under
//! the store's one lock, as atomic as DynamoDB's conditional writes.

use async_trait::async_trait;

use super::{Challenge, Confirmation, FailureCount, MfaChallenges, MfaStore, Proof};
use crate::{
    sessions::InMemorySessionStore,
    store::StoreError,
    users::{InMemoryUserStore, MfaFields},
};

/// Spends `proof` of `mfa`: false, and nothing changed, if it is a step not later than the
/// last one spent or a recovery code not among those left.
fn spend(mfa: &mut MfaFields, proof: Proof<'_>) -> bool {
    match proof {
        Proof::Step(step) => {
            if mfa.last_step.is_some_and(|last| last >= step) {
                return false;
            }
            mfa.last_step = Some(step);
            true
        }
        Proof::RecoveryCode(hash) => {
            let before = mfa.recovery_codes.len();
            mfa.recovery_codes.retain(|code| code != hash);
            mfa.recovery_codes.len() < before
        }
    }
}

#[async_trait]
impl MfaStore for InMemoryUserStore {
    async fn begin_enrolment(
        &self,
        username: &str,
        sealed_secret: &str,
    ) -> Result<bool, StoreError> {
        self.write(|users| match users.get_mut(username) {
            Some(user) if !user.account.mfa.is_on() => {
                user.account.mfa.pending = Some(sealed_secret.to_owned());
                true
            }
            _ => false,
        })
    }

    async fn confirm_enrolment(&self, confirmation: &Confirmation<'_>) -> Result<bool, StoreError> {
        self.write(|users| {
            let Some(user) = users.get_mut(confirmation.username) else {
                return false;
            };
            let mfa = &mut user.account.mfa;
            if mfa.is_on() || mfa.pending.as_deref() != Some(confirmation.sealed_secret) {
                return false;
            }
            *mfa = MfaFields {
                secret: mfa.pending.take(),
                pending: None,
                last_step: Some(confirmation.step),
                recovery_codes: confirmation.recovery_codes.to_vec(),
            };
            user.tokens_valid_after = Some(confirmation.valid_after);
            user.account.kept_session = confirmation.kept_session.map(str::to_owned);
            true
        })
    }

    async fn spend(
        &self,
        username: &str,
        sealed_secret: &str,
        proof: Proof<'_>,
    ) -> Result<bool, StoreError> {
        self.write(|users| match users.get_mut(username) {
            Some(user) if user.account.mfa.secret.as_deref() == Some(sealed_secret) => {
                spend(&mut user.account.mfa, proof)
            }
            _ => false,
        })
    }

    async fn replace_recovery_codes(
        &self,
        username: &str,
        sealed_secret: &str,
        proof: Proof<'_>,
        recovery_codes: &[String],
    ) -> Result<bool, StoreError> {
        self.write(|users| match users.get_mut(username) {
            Some(user) if user.account.mfa.secret.as_deref() == Some(sealed_secret) => {
                let spent = spend(&mut user.account.mfa, proof);
                if spent {
                    user.account.mfa.recovery_codes = recovery_codes.to_vec();
                }
                spent
            }
            _ => false,
        })
    }

    async fn remove_factor(
        &self,
        username: &str,
        sealed_secret: &str,
        proof: Proof<'_>,
    ) -> Result<bool, StoreError> {
        self.write(|users| match users.get_mut(username) {
            Some(user) if user.account.mfa.secret.as_deref() == Some(sealed_secret) => {
                let spent = spend(&mut user.account.mfa, proof);
                if spent {
                    user.account.mfa = MfaFields::default();
                }
                spent
            }
            _ => false,
        })
    }
}

/// Whether `challenge` can still be answered at `now`.
fn alive(challenge: &Challenge, now: i64, max_failures: u32) -> bool {
    challenge.expires_at > now && challenge.failures < max_failures
}

#[async_trait]
impl MfaChallenges for InMemorySessionStore {
    async fn put_challenge(
        &self,
        token_hash: &str,
        challenge: &Challenge,
    ) -> Result<(), StoreError> {
        self.with_state(|state| {
            state
                .mfa_challenges
                .insert(token_hash.to_owned(), challenge.clone());
        })
    }

    async fn find_challenge(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<Challenge>, StoreError> {
        self.with_state(|state| {
            state.forget_expired(now);
            state.mfa_challenges.get(token_hash).cloned()
        })
    }

    async fn count_failure(
        &self,
        token_hash: &str,
        now: i64,
        max_failures: u32,
    ) -> Result<FailureCount, StoreError> {
        self.with_state(|state| {
            state.forget_expired(now);
            match state.mfa_challenges.get_mut(token_hash) {
                Some(challenge) if alive(challenge, now, max_failures) => {
                    challenge.failures += 1;
                    FailureCount::Counted(challenge.failures)
                }
                _ => FailureCount::Gone,
            }
        })
    }

    async fn take_challenge(
        &self,
        token_hash: &str,
        now: i64,
        max_failures: u32,
    ) -> Result<bool, StoreError> {
        self.with_state(|state| {
            state.forget_expired(now);
            match state.mfa_challenges.get(token_hash) {
                Some(challenge) if alive(challenge, now, max_failures) => {
                    state.mfa_challenges.remove(token_hash);
                    true
                }
                _ => false,
            }
        })
    }
}

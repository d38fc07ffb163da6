//! Login throttling per username: after `max_failures` failed logins in a window, every login
//! of that username is refused until the window ends, the right password included, and alike
//! for usernames that do not exist, so the answer tells nothing about who has an account.
//!
//! Each attempt is counted before the password is checked, in one atomic update, so a burst of
//! concurrent guesses cannot slip past the limit; a successful login clears the count.

use crate::{sessions::SessionStore, settings::LoginThrottlePolicy, store::StoreError};

/// A login refused because its username has had too many failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    /// Whole seconds until the window ends, at least one.
    pub retry_after: u64,
}

/// Why a login may not go ahead.
#[derive(Debug, thiserror::Error)]
pub enum ThrottleError {
    #[error("too many failed login attempts")]
    Throttled(Throttled),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Clone, Copy)]
pub struct LoginThrottle {
    policy: LoginThrottlePolicy,
}

impl LoginThrottle {
    pub fn new(policy: LoginThrottlePolicy) -> Self {
        Self { policy }
    }

    pub fn is_on(&self) -> bool {
        self.policy.max_failures > 0
    }

    /// Counts a login attempt of `username` at `now` (seconds since the epoch), and lets it go
    /// ahead unless the username has used up its attempts in the current window.
    pub async fn admit(
        &self,
        store: &dyn SessionStore,
        username: &str,
        now: i64,
    ) -> Result<(), ThrottleError> {
        if !self.is_on() {
            return Ok(());
        }
        let window_end = now.saturating_add(self.policy.window.as_secs() as i64);
        let attempts = store.count_login_attempt(username, now, window_end).await?;
        if attempts.count > u64::from(self.policy.max_failures) {
            let retry_after = attempts.window_ends_at.saturating_sub(now).max(1) as u64;
            return Err(ThrottleError::Throttled(Throttled { retry_after }));
        }
        Ok(())
    }

    /// A login of `username` succeeded: its earlier failures no longer count.
    pub async fn succeeded(
        &self,
        store: &dyn SessionStore,
        username: &str,
    ) -> Result<(), StoreError> {
        if self.is_on() {
            store.clear_login_attempts(username).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{clock::Clock, sessions::InMemorySessionStore};

    fn unix_now_secs() -> i64 {
        Clock::System.unix_secs()
    }

    fn throttle(max_failures: u32) -> LoginThrottle {
        LoginThrottle::new(LoginThrottlePolicy {
            max_failures,
            window: Duration::from_secs(60),
        })
    }

    #[tokio::test]
    async fn the_attempt_after_max_failures_is_throttled_until_the_window_ends() {
        let store = InMemorySessionStore::default();
        let throttle = throttle(3);
        let now = unix_now_secs();
        for _ in 0..3 {
            throttle.admit(&store, "cosmo", now).await.unwrap();
        }
        let refused = throttle.admit(&store, "cosmo", now + 20).await;
        assert!(matches!(
            refused,
            Err(ThrottleError::Throttled(Throttled { retry_after: 40 }))
        ));
        // Another username is not affected; after the window the username starts again.
        throttle.admit(&store, "wanda", now + 20).await.unwrap();
        throttle.admit(&store, "cosmo", now + 60).await.unwrap();
    }

    #[tokio::test]
    async fn a_success_clears_the_count() {
        let store = InMemorySessionStore::default();
        let throttle = throttle(2);
        let now = unix_now_secs();
        throttle.admit(&store, "cosmo", now).await.unwrap();
        throttle.admit(&store, "cosmo", now).await.unwrap();
        throttle.succeeded(&store, "cosmo").await.unwrap();
        throttle.admit(&store, "cosmo", now).await.unwrap();
        throttle.admit(&store, "cosmo", now).await.unwrap();
        // Two more failures after the success: the count restarted from zero, so the limit is
        // reached only now.
        assert!(matches!(
            throttle.admit(&store, "cosmo", now).await,
            Err(ThrottleError::Throttled(_))
        ));
    }

    #[tokio::test]
    async fn zero_max_failures_turns_throttling_off() {
        let store = InMemorySessionStore::default();
        let throttle = throttle(0);
        assert!(!throttle.is_on());
        for _ in 0..50 {
            throttle
                .admit(&store, "cosmo", unix_now_secs())
                .await
                .unwrap();
        }
    }
}

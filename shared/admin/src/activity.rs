//! What an operator's changes put in the user's activity log: the user reads there that an
//! operator disabled their account, set their password or ended their sessions, as they read
//! their own logins. Written straight away and waited for (a command has no request to keep
//! fast), and never from a source address or a user agent: the operator's are not the user's.

use std::{sync::Arc, time::Duration};

use auth_core::{
    activity::{ActivityEntry, ActivityEvent, ActivityLog, ActivityOutcome, entry_id},
    clock::Clock,
    store::StoreError,
};

/// A user's log as an operator's changes write to it.
#[derive(Clone)]
pub struct OperatorLog {
    log: Arc<dyn ActivityLog>,
    retention: Duration,
    clock: Clock,
}

impl OperatorLog {
    /// Entries go to `log`, each kept for `retention` (`ACTIVITY_RETENTION`).
    pub fn new(log: Arc<dyn ActivityLog>, retention: Duration) -> Self {
        Self {
            log,
            retention,
            clock: Clock::System,
        }
    }

    /// The log, to read it.
    pub fn log(&self) -> &dyn ActivityLog {
        self.log.as_ref()
    }

    /// Adds to `username`'s log that an operator did `event` (`detail` says what), to
    /// `session` when it concerns one.
    pub async fn record(
        &self,
        username: &str,
        event: ActivityEvent,
        detail: &'static str,
        session: Option<&str>,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        let micros = i64::try_from(now.as_micros()).unwrap_or(i64::MAX);
        let entry = ActivityEntry {
            id: entry_id(micros),
            at_ms: micros / 1_000,
            event,
            outcome: ActivityOutcome::Succeeded,
            detail: Some(detail.to_owned()),
            session: session.map(str::to_owned),
            source_ip: None,
            user_agent: None,
        };
        let expires_at =
            i64::try_from(now.saturating_add(self.retention).as_secs()).unwrap_or(i64::MAX);
        self.log.append(username, &entry, expires_at).await
    }
}

#[cfg(test)]
mod tests {
    use auth_core::activity::{InMemoryActivityLog, detail};

    use super::*;

    #[tokio::test]
    async fn an_operators_change_is_logged_as_theirs_for_the_retention_and_from_nowhere() {
        let log = Arc::new(InMemoryActivityLog::default());
        let operator = OperatorLog::new(log.clone(), Duration::from_secs(86_400));
        operator
            .record(
                "cosmo",
                ActivityEvent::SessionEnded,
                detail::BY_OPERATOR,
                Some("s-1"),
            )
            .await
            .unwrap();
        let now = Clock::System.unix_secs();
        let page = log.list("cosmo", 10, None, now).await.unwrap();
        let [entry] = page.entries.as_slice() else {
            panic!("{page:?}");
        };
        assert_eq!(entry.event, ActivityEvent::SessionEnded);
        assert_eq!(entry.outcome, ActivityOutcome::Succeeded);
        assert_eq!(entry.detail.as_deref(), Some("by_operator"));
        assert_eq!(entry.session.as_deref(), Some("s-1"));
        assert_eq!((&entry.source_ip, &entry.user_agent), (&None, &None));
        assert!((entry.at_ms / 1000 - now).abs() <= 1);
        // Kept for the retention: gone a day later.
        let later = log.list("cosmo", 10, None, now + 86_401).await.unwrap();
        assert!(later.entries.is_empty());
    }
}

//! The log in memory: the local server's, and the handlers' tests'.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Mutex,
};

use async_trait::async_trait;

use super::{ActivityEntry, ActivityLog, ActivityPage};
use crate::store::StoreError;

/// The most entries kept per user: a development server must not grow without end under a
/// flood of failed logins; the oldest go first.
const MAX_ENTRIES_PER_USER: usize = 1_000;

/// A user's entries by id, each with its end.
type UserLog = BTreeMap<String, (ActivityEntry, i64)>;

#[derive(Debug, Default)]
pub struct InMemoryActivityLog {
    users: Mutex<HashMap<String, UserLog>>,
}

impl InMemoryActivityLog {
    fn with_users<T>(
        &self,
        change: impl FnOnce(&mut HashMap<String, UserLog>) -> T,
    ) -> Result<T, StoreError> {
        let mut users = self
            .users
            .lock()
            .map_err(|_| StoreError::unavailable("the in-memory activity log is poisoned"))?;
        Ok(change(&mut users))
    }
}

#[async_trait]
impl ActivityLog for InMemoryActivityLog {
    async fn append(
        &self,
        username: &str,
        entry: &ActivityEntry,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.with_users(|users| {
            let entries = users.entry(username.to_owned()).or_default();
            entries.insert(entry.id.clone(), (entry.clone(), expires_at));
            while entries.len() > MAX_ENTRIES_PER_USER {
                entries.pop_first();
            }
        })
    }

    async fn list(
        &self,
        username: &str,
        limit: usize,
        before: Option<&str>,
        now: i64,
    ) -> Result<ActivityPage, StoreError> {
        self.with_users(|users| {
            let Some(entries) = users.get_mut(username) else {
                return ActivityPage::default();
            };
            entries.retain(|_, (_, until)| *until > now);
            let mut found: Vec<ActivityEntry> = entries
                .values()
                .rev()
                .map(|(entry, _)| entry)
                .filter(|entry| before.is_none_or(|before| entry.id.as_str() < before))
                .take(limit + 1)
                .cloned()
                .collect();
            let more = found.len() > limit;
            found.truncate(limit);
            ActivityPage {
                next: more
                    .then(|| found.last().map(|entry| entry.id.clone()))
                    .flatten(),
                entries: found,
            }
        })
    }
}

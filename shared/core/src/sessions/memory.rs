//! Sessions held in memory: the local server's store, and the handlers' tests'. One lock makes
//! each operation atomic, as DynamoDB's conditional writes do.

use std::{collections::HashMap, sync::Mutex};

use async_trait::async_trait;

use super::{
    AttemptBucket, AttemptOutcome, HeldAttempt, LoginAttempts, Reservation, Rotation,
    RotationOutcome, SessionCursor, SessionInfo, SessionPage, SessionQuery, SessionStart,
    SessionStore,
};
use crate::{
    accounts::{AccountRecords, MailTokenRecord, Purpose},
    claims::AuthMethods,
    store::StoreError,
};

#[derive(Debug, Default)]
pub struct InMemorySessionStore {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    /// Revoked token ids, with when their record may go.
    revoked_tokens: HashMap<String, i64>,
    sessions: HashMap<String, Session>,
    /// Keyed by `AttemptBucket::key_parts`.
    login_attempts: HashMap<(&'static str, String), LoginAttempts>,
    /// Mailed tokens by their hash.
    mail_tokens: HashMap<String, MailTokenRecord>,
    /// Mail slots by address key, with their end.
    mail_slots: HashMap<String, i64>,
    /// Request counts by key, with their window's end.
    request_counts: HashMap<String, (u64, i64)>,
    /// Logins waiting for a second factor, by their token's hash (`crate::mfa`).
    pub(crate) mfa_challenges: HashMap<String, crate::mfa::Challenge>,
}

#[derive(Debug, Default)]
struct Session {
    current: Option<String>,
    previous: Option<String>,
    rotated_at: i64,
    revoked: bool,
    /// The record's end.
    until: i64,
    /// What its login recorded for its user's list; none for a session begun before.
    listed: Option<Listed>,
}

#[derive(Debug, Clone)]
struct Listed {
    username: String,
    started_at: i64,
    refreshed_at: Option<i64>,
    refresh_until: i64,
    source_ip: Option<String>,
    user_agent: Option<String>,
    methods: AuthMethods,
}

impl Session {
    /// The session as its user's list shows it, if it is listed and live at `now`.
    fn listed_live(&self, id: &str, now: i64) -> Option<(&Listed, SessionInfo)> {
        let listed = self.listed.as_ref()?;
        if self.revoked || listed.refresh_until <= now || self.until <= now {
            return None;
        }
        Some((
            listed,
            SessionInfo {
                id: id.to_owned(),
                started_at: listed.started_at,
                refreshed_at: listed.refreshed_at,
                source_ip: listed.source_ip.clone(),
                user_agent: listed.user_agent.clone(),
                methods: Some(listed.methods),
            },
        ))
    }
}

impl InMemorySessionStore {
    pub(crate) fn with_state<T>(
        &self,
        change: impl FnOnce(&mut State) -> T,
    ) -> Result<T, StoreError> {
        let mut state = self
            .state
            .lock()
            .map_err(|_| StoreError::unavailable("the in-memory session store is poisoned"))?;
        Ok(change(&mut state))
    }
}

impl State {
    /// What DynamoDB's TTL does, at once: records at or past their end go, so that a read
    /// finds nothing there and memory stays bounded.
    pub(crate) fn forget_expired(&mut self, now: i64) {
        self.revoked_tokens.retain(|_, until| *until > now);
        self.sessions.retain(|_, session| session.until > now);
        self.login_attempts
            .retain(|_, attempts| attempts.window_ends_at > now);
        self.mail_tokens.retain(|_, record| record.expires_at > now);
        self.mail_slots.retain(|_, until| *until > now);
        self.request_counts.retain(|_, (_, until)| *until > now);
        self.mfa_challenges
            .retain(|_, challenge| challenge.expires_at > now);
    }
}

#[async_trait]
impl SessionStore for InMemorySessionStore {
    async fn revoke_token(&self, jti: &str, expires_at: i64, now: i64) -> Result<(), StoreError> {
        self.with_state(|state| {
            state.forget_expired(now);
            state.revoked_tokens.insert(jti.to_owned(), expires_at);
        })
    }

    async fn revoke_session(
        &self,
        session: &str,
        record_until: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        self.with_state(|state| {
            state.forget_expired(now);
            let record = state.sessions.entry(session.to_owned()).or_default();
            record.revoked = true;
            record.until = record_until;
        })
    }

    async fn is_revoked(
        &self,
        jti: Option<&str>,
        session: Option<&str>,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.with_state(|state| {
            state.forget_expired(now);
            jti.is_some_and(|jti| state.revoked_tokens.contains_key(jti))
                || session.is_some_and(|session| {
                    state
                        .sessions
                        .get(session)
                        .is_some_and(|record| record.revoked)
                })
        })
    }

    async fn rotate(&self, rotation: &Rotation<'_>) -> Result<RotationOutcome, StoreError> {
        self.with_state(|state| {
            state.forget_expired(rotation.now);
            let session = state
                .sessions
                .entry(rotation.session.to_owned())
                .or_default();
            if session.revoked {
                return RotationOutcome::Revoked;
            }
            let is_current = session
                .current
                .as_deref()
                .is_none_or(|current| current == rotation.presented);
            let in_grace = rotation.grace_since.is_some_and(|since| {
                session.previous.as_deref() == Some(rotation.presented)
                    && session.rotated_at >= since
            });
            // This very rotation, made before: a retry of a write whose answer was lost.
            let already_made = session.current.as_deref() == Some(rotation.replacement)
                && session.previous.as_deref() == Some(rotation.presented);
            session.until = rotation.record_until;
            if is_current {
                session.previous = Some(rotation.presented.to_owned());
                session.rotated_at = rotation.now;
                session.current = Some(rotation.replacement.to_owned());
            } else if !in_grace && !already_made {
                session.revoked = true;
                return RotationOutcome::Reused;
            }
            RotationOutcome::Rotated(session.current.clone().unwrap_or_default())
        })
    }

    async fn reserve_login_attempt(
        &self,
        bucket: AttemptBucket<'_>,
        max: u64,
        now: i64,
        window_end: i64,
    ) -> Result<Reservation, StoreError> {
        self.with_state(|state| {
            state.forget_expired(now);
            let (prefix, id) = bucket.key_parts();
            let attempts = state
                .login_attempts
                .entry((prefix, id.to_owned()))
                .or_insert(LoginAttempts {
                    failures: 0,
                    in_use: 0,
                    window_ends_at: window_end,
                    last_taken_at: now,
                });
            if attempts.in_use >= max && attempts.in_flight_until() <= now {
                // Places nobody settled, long stale: only the failures still hold theirs.
                attempts.in_use = attempts.failures;
            }
            if attempts.in_use >= max || attempts.failures >= max {
                return Reservation::Full(*attempts);
            }
            attempts.in_use += 1;
            attempts.last_taken_at = now;
            Reservation::Held(HeldAttempt {
                window_ends_at: attempts.window_ends_at,
                failures_seen: attempts.failures,
            })
        })
    }

    async fn settle_login_attempt(
        &self,
        bucket: AttemptBucket<'_>,
        held: HeldAttempt,
        outcome: AttemptOutcome,
    ) -> Result<(), StoreError> {
        self.with_state(|state| {
            let (prefix, id) = bucket.key_parts();
            let key = (prefix, id.to_owned());
            let Some(attempts) = state
                .login_attempts
                .get_mut(&key)
                .filter(|attempts| attempts.window_ends_at == held.window_ends_at)
            else {
                return;
            };
            match outcome {
                AttemptOutcome::Failed => attempts.failures += 1,
                // Failures another success has cleared meanwhile are not cleared twice.
                AttemptOutcome::Succeeded if attempts.failures >= held.failures_seen => {
                    attempts.failures -= held.failures_seen;
                    attempts.in_use = attempts.in_use.saturating_sub(held.failures_seen + 1);
                }
                AttemptOutcome::Succeeded | AttemptOutcome::Unchecked => {
                    attempts.in_use = attempts.in_use.saturating_sub(1);
                }
            }
            if attempts.in_use == 0 && attempts.failures == 0 {
                state.login_attempts.remove(&key);
            }
        })
    }

    async fn start_session(&self, start: &SessionStart<'_>) -> Result<(), StoreError> {
        self.with_state(|state| {
            state.forget_expired(start.started_at);
            let session = state.sessions.entry(start.session.to_owned()).or_default();
            session.until = start.record_until;
            session.listed = Some(Listed {
                username: start.username.to_owned(),
                started_at: start.started_at,
                refreshed_at: None,
                refresh_until: start.refresh_until,
                source_ip: start.source_ip.map(str::to_owned),
                user_agent: start.user_agent.map(str::to_owned),
                methods: start.methods,
            });
        })
    }

    async fn touch_session(
        &self,
        session: &str,
        now: i64,
        refresh_until: Option<i64>,
    ) -> Result<(), StoreError> {
        self.with_state(|state| {
            state.forget_expired(now);
            if let Some(record) = state.sessions.get_mut(session)
                && !record.revoked
                && let Some(listed) = record.listed.as_mut()
            {
                listed.refreshed_at = Some(now);
                if let Some(until) = refresh_until {
                    listed.refresh_until = until;
                }
            }
        })
    }

    async fn list_sessions(&self, query: &SessionQuery<'_>) -> Result<SessionPage, StoreError> {
        self.with_state(|state| {
            state.forget_expired(query.now);
            let mut found: Vec<SessionInfo> = state
                .sessions
                .iter()
                .filter_map(|(id, session)| session.listed_live(id, query.now))
                .filter(|(listed, _)| listed.username == query.username)
                .map(|(_, info)| info)
                .filter(|info| {
                    query
                        .not_before
                        .is_none_or(|since| info.started_at >= since)
                })
                .filter(|info| query.after.is_none_or(|cursor| cursor.precedes(info)))
                .collect();
            found.sort_by(|a, b| (b.started_at, &b.id).cmp(&(a.started_at, &a.id)));
            let more = found.len() > query.limit;
            found.truncate(query.limit);
            SessionPage {
                next: found.last().filter(|_| more).map(SessionCursor::after),
                sessions: found,
            }
        })
    }

    async fn end_session_of(
        &self,
        username: &str,
        session: &str,
        not_before: Option<i64>,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.with_state(|state| {
            state.forget_expired(now);
            let Some(record) = state.sessions.get_mut(session) else {
                return false;
            };
            let owned = record.listed_live(session, now).is_some_and(|(listed, _)| {
                listed.username == username
                    && not_before.is_none_or(|oldest| listed.started_at >= oldest)
            });
            if owned {
                record.revoked = true;
            }
            owned
        })
    }
}

#[async_trait]
impl AccountRecords for InMemorySessionStore {
    async fn put_mail_token(
        &self,
        token_hash: &str,
        record: &MailTokenRecord,
    ) -> Result<(), StoreError> {
        self.with_state(|state| {
            state
                .mail_tokens
                .insert(token_hash.to_owned(), record.clone());
        })
    }

    async fn take_mail_token(
        &self,
        token_hash: &str,
        purpose: Purpose,
        now: i64,
    ) -> Result<Option<MailTokenRecord>, StoreError> {
        self.with_state(|state| {
            state.forget_expired(now);
            match state.mail_tokens.get(token_hash) {
                Some(record) if record.purpose == purpose => state.mail_tokens.remove(token_hash),
                _ => None,
            }
        })
    }

    async fn peek_mail_token(
        &self,
        token_hash: &str,
        purpose: Purpose,
        now: i64,
    ) -> Result<Option<MailTokenRecord>, StoreError> {
        self.with_state(|state| {
            state.forget_expired(now);
            state
                .mail_tokens
                .get(token_hash)
                .filter(|record| record.purpose == purpose)
                .cloned()
        })
    }

    async fn claim_mail_slot(
        &self,
        address_key: &str,
        until: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.with_state(|state| {
            state.forget_expired(now);
            if state.mail_slots.contains_key(address_key) {
                return false;
            }
            state.mail_slots.insert(address_key.to_owned(), until);
            true
        })
    }

    async fn release_mail_slot(&self, address_key: &str) -> Result<(), StoreError> {
        self.with_state(|state| {
            state.mail_slots.remove(address_key);
        })
    }

    async fn count_request(&self, key: &str, window_end: i64, now: i64) -> Result<u64, StoreError> {
        self.with_state(|state| {
            state.forget_expired(now);
            if window_end <= now {
                return 0;
            }
            let entry = state
                .request_counts
                .entry(key.to_owned())
                .or_insert((0, window_end));
            entry.0 += 1;
            entry.0
        })
    }
}

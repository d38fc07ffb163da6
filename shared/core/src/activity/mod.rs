//! The security activity log: what happened to an account (logins, refreshes, logouts,
//! sessions ended, password and second-factor changes, lockouts), for its user to read
//! (`GET /account/activity`) and its operator (`users activity`). Each entry holds what a
//! person recognises (the event, its outcome, when, the source address, the user agent, the
//! session), never a password, token, code or secret, and is kept for `ACTIVITY_RETENTION`.
//!
//! Written by `ActivityRecorder::record`, which never waits for the write nor fails the request
//! it records (a failed write is counted as `activity_write_failed`); read a page at a time,
//! newest first. In memory (`InMemoryActivityLog`) or DynamoDB (`auth_dynamodb`).

mod memory;
mod recorder;

use std::fmt;

use async_trait::async_trait;

pub use memory::InMemoryActivityLog;
pub use recorder::{ActivityRecorder, MAX_WRITES_IN_FLIGHT, WRITE_TIMEOUT};

use crate::store::StoreError;

/// Entries a page holds unless asked for fewer.
pub const DEFAULT_PAGE_SIZE: usize = 20;
/// The most a page holds.
pub const MAX_PAGE_SIZE: usize = 100;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActivityEvent {
    /// `POST /login`: succeeded, failed (wrong password), blocked (throttled, locked), or
    /// `second_factor_required`.
    Login,
    /// `POST /login/mfa`, a login's second step.
    SecondFactor,
    /// `POST /refresh`: succeeded, or blocked with `reuse_detected` (the session is ended).
    Refresh,
    /// `POST /logout`, with its scope as the detail.
    Logout,
    /// One session ended by its user (`DELETE /sessions/{id}`) or an operator.
    SessionEnded,
    /// Every session ended at once (an operator's `users end-sessions`).
    SessionsEnded,
    PasswordChanged,
    PasswordReset,
    /// A sign-up confirmed: the account's first session.
    SignupConfirmed,
    MfaEnabled,
    MfaDisabled,
    RecoveryCodesReplaced,
    /// A password changed, or the account disabled, enabled or its factor reset, by an operator.
    AccountChanged,
}

impl ActivityEvent {
    pub const ALL: [ActivityEvent; 13] = [
        ActivityEvent::Login,
        ActivityEvent::SecondFactor,
        ActivityEvent::Refresh,
        ActivityEvent::Logout,
        ActivityEvent::SessionEnded,
        ActivityEvent::SessionsEnded,
        ActivityEvent::PasswordChanged,
        ActivityEvent::PasswordReset,
        ActivityEvent::SignupConfirmed,
        ActivityEvent::MfaEnabled,
        ActivityEvent::MfaDisabled,
        ActivityEvent::RecoveryCodesReplaced,
        ActivityEvent::AccountChanged,
    ];

    /// Its name, in the store and in answers.
    pub fn name(self) -> &'static str {
        match self {
            ActivityEvent::Login => "login",
            ActivityEvent::SecondFactor => "login_second_factor",
            ActivityEvent::Refresh => "refresh",
            ActivityEvent::Logout => "logout",
            ActivityEvent::SessionEnded => "session_ended",
            ActivityEvent::SessionsEnded => "sessions_ended",
            ActivityEvent::PasswordChanged => "password_changed",
            ActivityEvent::PasswordReset => "password_reset",
            ActivityEvent::SignupConfirmed => "signup_confirmed",
            ActivityEvent::MfaEnabled => "mfa_enabled",
            ActivityEvent::MfaDisabled => "mfa_disabled",
            ActivityEvent::RecoveryCodesReplaced => "recovery_codes_replaced",
            ActivityEvent::AccountChanged => "account_changed",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|event| event.name() == name)
    }
}

impl fmt::Display for ActivityEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActivityOutcome {
    Succeeded,
    /// Refused for what the request held: a wrong password or code, a revoked token.
    Failed,
    /// Refused by a defence whatever the request held: a throttle, a lock, a replay's end.
    Blocked,
}

impl ActivityOutcome {
    pub const ALL: [ActivityOutcome; 3] = [
        ActivityOutcome::Succeeded,
        ActivityOutcome::Failed,
        ActivityOutcome::Blocked,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ActivityOutcome::Succeeded => "success",
            ActivityOutcome::Failed => "failure",
            ActivityOutcome::Blocked => "blocked",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|outcome| outcome.name() == name)
    }
}

impl fmt::Display for ActivityOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One entry of a user's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityEntry {
    /// Orders the user's entries (oldest first) and names this one: the time in microseconds
    /// and a random suffix. A page's cursor.
    pub id: String,
    /// Milliseconds since the epoch.
    pub at_ms: i64,
    pub event: ActivityEvent,
    pub outcome: ActivityOutcome,
    /// Why, or which: one of the constants in `detail`, never a caller's words.
    pub detail: Option<String>,
    /// The session it concerns (`sid`), when one does.
    pub session: Option<String>,
    pub source_ip: Option<String>,
    /// As the client sent it (bounded): parsed for people where it is shown.
    pub user_agent: Option<String>,
}

/// What the code that saw an event knows of it; the recorder adds when.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activity {
    pub detail: Option<&'static str>,
    pub session: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Activity {
    pub fn detail(mut self, detail: &'static str) -> Self {
        self.detail = Some(detail);
        self
    }

    pub fn session(mut self, session: Option<&str>) -> Self {
        self.session = session.map(str::to_owned);
        self
    }

    /// Where the request came from: its source address and user agent, bounded.
    pub fn from_client(mut self, source_ip: Option<&str>, user_agent: Option<&str>) -> Self {
        self.source_ip = source_ip.and_then(crate::sessions::bounded_source_ip);
        self.user_agent = user_agent.and_then(crate::sessions::bounded_user_agent);
        self
    }
}

/// The details entries carry: fixed words, so a caller's input never reaches the log.
pub mod detail {
    pub const WRONG_PASSWORD: &str = "wrong_password";
    pub const TOO_MANY_ATTEMPTS: &str = "too_many_attempts";
    pub const SECOND_FACTOR_REQUIRED: &str = "second_factor_required";
    pub const EMAIL_NOT_CONFIRMED: &str = "email_not_confirmed";
    pub const WRONG_CODE: &str = "wrong_code";
    pub const RECOVERY_CODE: &str = "recovery_code";
    pub const REUSE_DETECTED: &str = "reuse_detected";
    pub const SCOPE_LOCAL: &str = "local";
    pub const SCOPE_OTHERS: &str = "others";
    pub const SCOPE_GLOBAL: &str = "global";
    pub const BY_USER: &str = "by_user";
    pub const BY_OPERATOR: &str = "by_operator";
    pub const ACCOUNT_DISABLED: &str = "disabled";
    pub const ACCOUNT_ENABLED: &str = "enabled";
    pub const PASSWORD_SET: &str = "password_set";
    pub const MFA_RESET: &str = "mfa_reset";
}

/// One page of a user's log, newest first; `next` (the last entry's id) when there may be more.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityPage {
    pub entries: Vec<ActivityEntry>,
    pub next: Option<String>,
}

/// Where the log lives. Keyed by username, ordered by entry id.
#[async_trait]
pub trait ActivityLog: Send + Sync {
    /// Adds `entry` to `username`'s log until `expires_at` (seconds since the epoch).
    async fn append(
        &self,
        username: &str,
        entry: &ActivityEntry,
        expires_at: i64,
    ) -> Result<(), StoreError>;

    /// Up to `limit` of `username`'s entries in force at `now` (seconds), newest first, older
    /// than the entry `before` when given. Reads one user's entries, never the whole log.
    async fn list(
        &self,
        username: &str,
        limit: usize,
        before: Option<&str>,
        now: i64,
    ) -> Result<ActivityPage, StoreError>;
}

/// Whether `id` can be an entry's id: what a cursor a client sends back must be.
pub fn is_entry_id(id: &str) -> bool {
    let Some((micros, suffix)) = id.split_once('#') else {
        return false;
    };
    micros.len() == 16
        && micros.bytes().all(|b| b.is_ascii_digit())
        && suffix.len() == 8
        && suffix.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The id of an entry made at `micros` (microseconds since the epoch).
pub fn entry_id(micros: i64) -> String {
    format!("{:016}#{:08x}", micros.max(0), fastrand::u32(..))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_reads_back_as_itself() {
        for event in ActivityEvent::ALL {
            assert_eq!(ActivityEvent::from_name(event.name()), Some(event));
        }
        for outcome in ActivityOutcome::ALL {
            assert_eq!(ActivityOutcome::from_name(outcome.name()), Some(outcome));
        }
        assert_eq!(ActivityEvent::from_name("login "), None);
    }

    #[test]
    fn entry_ids_sort_as_their_times_and_are_what_a_cursor_must_be() {
        let (early, late) = (
            entry_id(1_700_000_000_000_000),
            entry_id(1_700_000_000_000_001),
        );
        assert!(early < late);
        assert!(is_entry_id(&early));
        for bad in [
            "",
            "#",
            "1700000000000000#zzzzzzzz",
            "17#00000000",
            &format!("{early}x"),
        ] {
            assert!(!is_entry_id(bad), "{bad}");
        }
    }
}

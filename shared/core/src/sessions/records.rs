//! A session as its user sees it listed ("where you're signed in"): when and where it began,
//! when it was last refreshed, how it signed in. Written by the login that starts it and the
//! refreshes that follow; read one user at a time, newest first, a page at a time.

use crate::claims::AuthMethods;

/// Sessions a page holds unless asked for fewer.
pub const DEFAULT_PAGE_SIZE: usize = 20;
/// The most a page holds.
pub const MAX_PAGE_SIZE: usize = 100;
/// The longest user agent kept, in bytes: a browser's is under 300; anything longer is cut.
const MAX_USER_AGENT_BYTES: usize = 512;
/// The longest source address kept: an IPv6 address with a zone is under 64 characters.
const MAX_SOURCE_IP_BYTES: usize = 64;

/// What a login records of the session it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionStart<'a> {
    pub session: &'a str,
    pub username: &'a str,
    /// Seconds since the epoch: the session's `auth_time`.
    pub started_at: i64,
    /// When the session's refresh token expires: it is listed until then (or until a refresh
    /// that issues a new one moves it).
    pub refresh_until: i64,
    /// The end of the session's record (`TokenService::session_record_until`).
    pub record_until: i64,
    /// `requestContext.http.sourceIp`, through `bounded_source_ip`.
    pub source_ip: Option<&'a str>,
    /// The `User-Agent` header, through `bounded_user_agent`.
    pub user_agent: Option<&'a str>,
    pub methods: AuthMethods,
}

/// A listed session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The session's id: its tokens' `sid`.
    pub id: String,
    pub started_at: i64,
    /// The last refresh, if any.
    pub refreshed_at: Option<i64>,
    pub source_ip: Option<String>,
    /// As the client sent it (bounded): parsed for people where it is shown.
    pub user_agent: Option<String>,
    pub methods: Option<AuthMethods>,
}

/// Where a page of sessions ends: the next page starts after it. Opaque to clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCursor {
    pub started_at: i64,
    pub session: String,
}

impl SessionCursor {
    /// Whether `info` comes after this cursor in the listing's order: newest first, and among
    /// sessions of one second, by id, descending.
    pub fn precedes(&self, info: &SessionInfo) -> bool {
        (info.started_at, info.id.as_str()) < (self.started_at, self.session.as_str())
    }

    /// The cursor of `info`: a page that ends with it.
    pub fn after(info: &SessionInfo) -> Self {
        Self {
            started_at: info.started_at,
            session: info.id.clone(),
        }
    }
}

/// What a listing asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionQuery<'a> {
    pub username: &'a str,
    /// The user's `tokens_valid_after`: sessions started before it are over, whatever their
    /// records say (a password change ends every session at once, without touching them).
    pub not_before: Option<i64>,
    pub now: i64,
    /// 1 to `MAX_PAGE_SIZE`.
    pub limit: usize,
    /// The end of the previous page.
    pub after: Option<&'a SessionCursor>,
}

/// One page of a user's sessions; `next` when there may be more.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionPage {
    pub sessions: Vec<SessionInfo>,
    pub next: Option<SessionCursor>,
}

/// The `User-Agent` to keep: control characters dropped (a header cannot carry a line break,
/// but whatever reads the record must never get one), cut at `MAX_USER_AGENT_BYTES` on a
/// character boundary; none when nothing is left.
pub fn bounded_user_agent(raw: &str) -> Option<String> {
    bounded(raw, MAX_USER_AGENT_BYTES)
}

/// The source address to keep, as `bounded_user_agent` keeps a user agent.
pub fn bounded_source_ip(raw: &str) -> Option<String> {
    bounded(raw, MAX_SOURCE_IP_BYTES)
}

fn bounded(raw: &str, max_bytes: usize) -> Option<String> {
    let mut kept = String::new();
    for character in raw.trim().chars().filter(|c| !c.is_control()) {
        if kept.len() + character.len_utf8() > max_bytes {
            break;
        }
        kept.push(character);
    }
    (!kept.is_empty()).then_some(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(started_at: i64, id: &str) -> SessionInfo {
        SessionInfo {
            id: id.to_owned(),
            started_at,
            refreshed_at: None,
            source_ip: None,
            user_agent: None,
            methods: None,
        }
    }

    #[test]
    fn a_cursor_is_followed_by_older_sessions_and_by_lower_ids_of_its_second() {
        let cursor = SessionCursor::after(&info(100, "m"));
        assert!(cursor.precedes(&info(99, "z")));
        assert!(cursor.precedes(&info(100, "a")));
        assert!(!cursor.precedes(&info(100, "m")));
        assert!(!cursor.precedes(&info(100, "z")));
        assert!(!cursor.precedes(&info(101, "a")));
    }

    #[test]
    fn a_user_agent_loses_control_characters_and_is_cut_on_a_character_boundary() {
        assert_eq!(
            bounded_user_agent("Mozilla/5.0\r\nX-Injected: 1\u{1b}[31m").as_deref(),
            Some("Mozilla/5.0X-Injected: 1[31m")
        );
        let long = "é".repeat(400);
        let kept = bounded_user_agent(&long).unwrap();
        assert!(kept.len() <= MAX_USER_AGENT_BYTES);
        assert!(kept.chars().all(|c| c == 'é'));
        assert_eq!(bounded_user_agent(" \u{0} "), None);
        assert_eq!(
            bounded_source_ip("203.0.113.9").as_deref(),
            Some("203.0.113.9")
        );
    }
}

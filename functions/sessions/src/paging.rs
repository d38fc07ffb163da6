//! A page of a listing as a client asks for it: `?limit=` (1 to the most a page holds; the
//! default without it) and `?cursor=`, the end of the page before, as the answer before gave it
//! (`next_cursor`). A cursor is opaque to clients: base64url without padding of a small JSON
//! only this function reads, so that its shape can change without breaking one. A bad value is
//! the client's fault (400), and never reaches a store.

use auth_core::{activity, sessions::SessionCursor};
use auth_http::{ApiError, query};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use lambda_http::Request;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::is_session_id;

/// The longest cursor read: ours are under 100 characters.
const MAX_CURSOR_CHARS: usize = 512;
/// What a `limit` out of range, not a number, or given twice is answered (`{"msg": ...}`):
/// the most a page holds is 100 for both listings (`auth_core::sessions::MAX_PAGE_SIZE`,
/// `auth_core::activity::MAX_PAGE_SIZE`, which a test holds to it).
pub const INVALID_LIMIT: &str = "limit must be a whole number from 1 to 100";
/// What a cursor this function did not make for the listing is answered.
pub const INVALID_CURSOR: &str = "Invalid cursor";

/// One page asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest<C> {
    pub limit: usize,
    /// The end of the page before: none for the first page.
    pub after: Option<C>,
}

/// The page `request` asks for, of a listing whose pages hold `default` unless asked for fewer
/// or more, and `max` at most. A parameter given twice is refused: which one was meant cannot
/// be told.
pub fn page_request<C: Cursor>(
    request: &Request,
    default: usize,
    max: usize,
) -> Result<PageRequest<C>, ApiError> {
    let limit = match query::single(request, "limit", INVALID_LIMIT)? {
        None => default,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|limit| (1..=max).contains(limit))
            .ok_or(ApiError::InvalidQuery(INVALID_LIMIT))?,
    };
    let after = match query::single(request, "cursor", INVALID_CURSOR)? {
        None => None,
        Some(text) => Some(C::decode(&text).ok_or(ApiError::InvalidQuery(INVALID_CURSOR))?),
    };
    Ok(PageRequest { limit, after })
}

/// A listing's cursor, as the client carries it.
pub trait Cursor: Sized {
    fn encode(&self) -> String;
    /// The cursor `text` is, if this function made it for this listing.
    fn decode(text: &str) -> Option<Self>;
}

fn encode_json(value: &impl Serialize) -> String {
    // Serialising a struct of a number and strings cannot fail.
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap_or_default())
}

fn decode_json<T: DeserializeOwned>(text: &str) -> Option<T> {
    if text.len() > MAX_CURSOR_CHARS {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// A page of sessions ends at a session: the next starts after it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionsCursor {
    #[serde(rename = "t")]
    started_at: i64,
    #[serde(rename = "s")]
    session: String,
}

impl Cursor for SessionCursor {
    fn encode(&self) -> String {
        encode_json(&SessionsCursor {
            started_at: self.started_at,
            session: self.session.clone(),
        })
    }

    fn decode(text: &str) -> Option<Self> {
        let cursor: SessionsCursor = decode_json(text)?;
        is_session_id(&cursor.session).then_some(SessionCursor {
            started_at: cursor.started_at,
            session: cursor.session,
        })
    }
}

/// A page of the activity log ends at an entry: the next holds older ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityCursor(pub String);

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntriesCursor {
    #[serde(rename = "b")]
    before: String,
}

impl Cursor for ActivityCursor {
    fn encode(&self) -> String {
        encode_json(&EntriesCursor {
            before: self.0.clone(),
        })
    }

    fn decode(text: &str) -> Option<Self> {
        let cursor: EntriesCursor = decode_json(text)?;
        activity::is_entry_id(&cursor.before).then_some(ActivityCursor(cursor.before))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asking(query: &str) -> Request {
        lambda_http::http::Request::builder()
            .uri(format!("/sessions?{query}"))
            .body(lambda_http::Body::Empty)
            .unwrap()
    }

    fn sessions(query: &str) -> Result<PageRequest<SessionCursor>, ApiError> {
        page_request(&asking(query), 20, 100)
    }

    fn entries(query: &str) -> Result<PageRequest<ActivityCursor>, ApiError> {
        page_request(&asking(query), 20, 100)
    }

    fn refused_with(result: Result<impl std::fmt::Debug, ApiError>, message: &str) -> bool {
        matches!(result, Err(ApiError::InvalidQuery(said)) if said == message)
    }

    #[test]
    fn the_limits_message_says_the_most_a_page_of_either_listing_holds() {
        assert_eq!(auth_core::sessions::MAX_PAGE_SIZE, 100);
        assert_eq!(activity::MAX_PAGE_SIZE, 100);
    }

    #[test]
    fn without_a_query_the_first_page_of_the_default_size_is_asked_for() {
        for query in ["", "other=1"] {
            assert_eq!(
                sessions(query).unwrap(),
                PageRequest {
                    limit: 20,
                    after: None
                }
            );
        }
    }

    #[test]
    fn a_limit_is_a_whole_number_from_one_to_the_most_a_page_holds() {
        assert_eq!(sessions("limit=1").unwrap().limit, 1);
        assert_eq!(sessions("limit=100").unwrap().limit, 100);
        for bad in [
            "limit=0",
            "limit=101",
            "limit=-1",
            "limit=1.5",
            "limit=ten",
            "limit=",
            "limit=99999999999999999999999",
            "limit=1&limit=2",
        ] {
            assert!(refused_with(sessions(bad), INVALID_LIMIT), "{bad}");
        }
    }

    #[test]
    fn a_cursor_reads_back_as_the_page_end_it_was_made_of() {
        let end = SessionCursor {
            started_at: 1_795_910_400,
            session: "00000000-0000-4000-8000-000000000001".to_owned(),
        };
        let text = end.encode();
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{text}"
        );
        let page = sessions(&format!("cursor={text}&limit=5")).unwrap();
        assert_eq!(
            page,
            PageRequest {
                limit: 5,
                after: Some(end)
            }
        );

        let entry = ActivityCursor(activity::entry_id(1_795_910_400_000_000));
        let page = entries(&format!("cursor={}", entry.encode())).unwrap();
        assert_eq!(page.after, Some(entry));
    }

    #[test]
    fn a_cursor_this_function_did_not_make_for_the_listing_is_refused() {
        let of_entries = ActivityCursor(activity::entry_id(1)).encode();
        let of_sessions = SessionCursor {
            started_at: 1,
            session: "abc".to_owned(),
        }
        .encode();
        let forged = |json: &str| URL_SAFE_NO_PAD.encode(json);
        for bad in [
            String::new(),
            "not%20base64!".to_owned(),
            URL_SAFE_NO_PAD.encode("not json"),
            of_entries.clone(),
            forged(r#"{"t": 1, "s": "a/b"}"#),
            forged(r#"{"t": 1, "s": ""}"#),
            forged(r#"{"t": "1", "s": "abc"}"#),
            forged(r#"{"t": 1, "s": "abc", "x": 1}"#),
            "A".repeat(MAX_CURSOR_CHARS + 4),
            format!("{of_sessions}=="),
            format!("{of_sessions}&cursor={of_sessions}"),
        ] {
            assert!(
                refused_with(sessions(&format!("cursor={bad}")), INVALID_CURSOR),
                "{bad}"
            );
        }
        for bad in [
            of_sessions.clone(),
            forged(r#"{"b": "1700000000000000#zzzzzzzz"}"#),
            forged(r#"{"b": "1"}"#),
        ] {
            assert!(
                refused_with(entries(&format!("cursor={bad}")), INVALID_CURSOR),
                "{bad}"
            );
        }
    }
}

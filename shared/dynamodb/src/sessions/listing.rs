//! The sessions a user sees listed ("where you're signed in"): what a login records on its
//! session's item, what a refresh updates, and the listing, one `Query` of the sparse index
//! `user-sessions` (partition `owner`, sort `started_at`): one user's sessions, never a scan.
//!
//! Ending a session removes its `owner`, so it leaves the index; the listing's filter still
//! refuses a revoked, expired or refresh-expired item, because the index is updated after the
//! table (eventually consistent) and an item past its end lingers until the TTL deletes it.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use auth_core::{
    claims::AuthMethods,
    sessions::{SessionCursor, SessionInfo, SessionPage, SessionQuery, SessionStart},
    store::{StoreError, is_valid_key},
};

use super::{
    AMR, DynamoSessionStore, KEY, OWNER, REFRESH_UNTIL, REFRESHED_AT, REVOKED, SOURCE_IP,
    STARTED_AT, USER_AGENT, USER_SESSIONS_INDEX, number, read_number, session_key, text,
};
use crate::client::{is_condition_failure, store_error};

/// The prefix of a session item's key (`session_key`): the listing reads the id back from it.
const SESSION_KEY_PREFIX: &str = "session#";
/// The most items one `Query` of a listing reads: a page, one more to tell whether there is a
/// next, and the margin a filter may drop.
const MAX_ITEMS_PER_QUERY: usize = 1000;

/// The session an index item lists, or none for an item that is not a listed session (no start
/// time, a hashed key: nothing a login writes).
fn session_info(item: &HashMap<String, AttributeValue>) -> Option<SessionInfo> {
    let id = item
        .get(KEY)?
        .as_s()
        .ok()?
        .strip_prefix(SESSION_KEY_PREFIX)?;
    let read_text = |field| {
        item.get(field)
            .and_then(|value| value.as_s().ok())
            .filter(|value| !value.is_empty())
            .cloned()
    };
    let methods = read_text(AMR).and_then(|amr| {
        let values: Vec<String> = amr.split(' ').map(str::to_owned).collect();
        AuthMethods::of_claim(&values)
    });
    Some(SessionInfo {
        id: id.to_owned(),
        started_at: read_number(item, STARTED_AT)?,
        refreshed_at: read_number(item, REFRESHED_AT),
        source_ip: read_text(SOURCE_IP),
        user_agent: read_text(USER_AGENT),
        methods,
    })
}

/// Newest first, and among sessions of one second by id, descending: `SessionCursor`'s order.
fn newest_first(sessions: &mut [SessionInfo]) {
    sessions.sort_by(|a, b| (b.started_at, &b.id).cmp(&(a.started_at, &a.id)));
}

impl DynamoSessionStore {
    /// `SessionStore::start_session`: one update of the session's item, which keeps whatever
    /// rotation state it has.
    pub(super) async fn record_start(&self, start: &SessionStart<'_>) -> Result<(), StoreError> {
        // A name that cannot key a user (the users table has the same limit as the index)
        // signs nobody in; the index would refuse it.
        if !is_valid_key(start.username) {
            return Ok(());
        }
        let mut set = vec![
            "#owner = :owner",
            "#started = :started",
            "#refresh_until = :refresh_until",
            "#expires = :until",
            "#amr = :amr",
        ];
        // A fresh start has not been refreshed, and keeps no address or agent it was not given.
        let mut remove = vec!["#refreshed"];
        let mut update = self
            .update(session_key(start.session))
            .expression_attribute_names("#owner", OWNER)
            .expression_attribute_names("#started", STARTED_AT)
            .expression_attribute_names("#refresh_until", REFRESH_UNTIL)
            .expression_attribute_names("#refreshed", REFRESHED_AT)
            .expression_attribute_names("#amr", AMR)
            .expression_attribute_names("#source_ip", SOURCE_IP)
            .expression_attribute_names("#user_agent", USER_AGENT)
            .expression_attribute_values(":owner", text(start.username))
            .expression_attribute_values(":started", number(start.started_at))
            .expression_attribute_values(":refresh_until", number(start.refresh_until))
            .expression_attribute_values(":until", number(start.record_until))
            .expression_attribute_values(":amr", text(&start.methods.values().join(" ")));
        match start.source_ip {
            Some(ip) => {
                set.push("#source_ip = :source_ip");
                update = update.expression_attribute_values(":source_ip", text(ip));
            }
            None => remove.push("#source_ip"),
        }
        match start.user_agent {
            Some(agent) => {
                set.push("#user_agent = :user_agent");
                update = update.expression_attribute_values(":user_agent", text(agent));
            }
            None => remove.push("#user_agent"),
        }
        update
            .update_expression(format!(
                "SET {} REMOVE {}",
                set.join(", "),
                remove.join(", ")
            ))
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }

    /// `SessionStore::touch_session`: an update conditional on the session being listed and
    /// live; a session that is not is left as it is.
    pub(super) async fn record_refresh(
        &self,
        session: &str,
        now: i64,
        refresh_until: Option<i64>,
    ) -> Result<(), StoreError> {
        let mut update = self
            .update(session_key(session))
            .expression_attribute_names("#owner", OWNER)
            .expression_attribute_names("#revoked", REVOKED)
            .expression_attribute_names("#refreshed", REFRESHED_AT)
            .expression_attribute_values(":now", number(now))
            .condition_expression(
                "attribute_exists(#owner) AND attribute_not_exists(#revoked) AND #expires > :now",
            );
        update = match refresh_until {
            Some(until) => update
                .expression_attribute_names("#refresh_until", REFRESH_UNTIL)
                .expression_attribute_values(":refresh_until", number(until))
                .update_expression("SET #refreshed = :now, #refresh_until = :refresh_until"),
            None => update.update_expression("SET #refreshed = :now"),
        };
        match update.send().await {
            Ok(_) => Ok(()),
            Err(error) if is_condition_failure(&error) => Ok(()),
            Err(error) => Err(store_error(error)),
        }
    }

    /// `SessionStore::end_session_of`: one conditional update that revokes the session and
    /// takes it out of the index, if it is a live listed session of `username` that began at
    /// `not_before` or later.
    pub(super) async fn end_listed_session(
        &self,
        username: &str,
        session: &str,
        not_before: Option<i64>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let live = "#owner = :owner AND attribute_not_exists(#revoked) AND #expires > :now AND \
                    #refresh_until > :now";
        let mut update = self
            .update(session_key(session))
            .update_expression("SET #revoked = :true REMOVE #owner");
        update = match not_before {
            Some(oldest) => update
                .condition_expression(format!("{live} AND #started >= :oldest"))
                .expression_attribute_names("#started", STARTED_AT)
                .expression_attribute_values(":oldest", number(oldest)),
            None => update.condition_expression(live),
        };
        let ended = update
            .expression_attribute_names("#owner", OWNER)
            .expression_attribute_names("#revoked", REVOKED)
            .expression_attribute_names("#refresh_until", REFRESH_UNTIL)
            .expression_attribute_values(":owner", text(username))
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .expression_attribute_values(":now", number(now))
            .send()
            .await;
        match ended {
            Ok(_) => Ok(true),
            Err(error) if is_condition_failure(&error) => Ok(false),
            Err(error) => Err(store_error(error)),
        }
    }

    /// `SessionStore::list_sessions`: `Query`s of the user's partition of the index, newest
    /// first, from the cursor's second down to `not_before`.
    ///
    /// The index orders a user's sessions by `started_at` alone; sessions of one second come in
    /// no order it promises. So the page is sorted here, and the reading goes on until every
    /// session of the page's last second has been seen: the next one read is older.
    pub(super) async fn listed_sessions(
        &self,
        query: &SessionQuery<'_>,
    ) -> Result<SessionPage, StoreError> {
        if !is_valid_key(query.username) {
            return Ok(SessionPage::default());
        }
        let limit = query.limit.max(1);
        let newest = query.after.map(|cursor| cursor.started_at);
        let key_condition = match (query.not_before, newest) {
            (Some(oldest), Some(newest)) if oldest > newest => return Ok(SessionPage::default()),
            (Some(_), Some(_)) => "#owner = :owner AND #started BETWEEN :oldest AND :newest",
            (Some(_), None) => "#owner = :owner AND #started >= :oldest",
            (None, Some(_)) => "#owner = :owner AND #started <= :newest",
            (None, None) => "#owner = :owner",
        };
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(USER_SESSIONS_INDEX)
            .key_condition_expression(key_condition)
            .filter_expression(
                "#refresh_until > :now AND #expires > :now AND attribute_not_exists(#revoked)",
            )
            .scan_index_forward(false)
            .expression_attribute_names("#owner", OWNER)
            .expression_attribute_names("#refresh_until", REFRESH_UNTIL)
            .expression_attribute_names("#expires", super::EXPIRES_AT)
            .expression_attribute_names("#revoked", REVOKED)
            .expression_attribute_values(":owner", text(query.username))
            .expression_attribute_values(":now", number(query.now));
        if query.not_before.is_some() || newest.is_some() {
            request = request.expression_attribute_names("#started", STARTED_AT);
        }
        if let Some(oldest) = query.not_before {
            request = request.expression_attribute_values(":oldest", number(oldest));
        }
        if let Some(newest) = newest {
            request = request.expression_attribute_values(":newest", number(newest));
        }
        let mut page = PageBuilder::new(limit, query.after);
        let mut start_key = None;
        let mut items_per_read = (limit + 1).min(MAX_ITEMS_PER_QUERY);
        loop {
            let output = request
                .clone()
                .limit(items_per_read as i32)
                .set_exclusive_start_key(start_key.take())
                .send()
                .await
                .map_err(store_error)?;
            page.add(output.items().iter().filter_map(session_info));
            let Some(last_evaluated) = output.last_evaluated_key else {
                break;
            };
            if page.is_complete(read_number(&last_evaluated, STARTED_AT)) {
                break;
            }
            start_key = Some(last_evaluated);
            // A page not whole after a page's worth is one that ends in a crowded second (or
            // behind items the filter drops), and every session of that second must be read,
            // the page's cursor being inside it: the rest is read in the largest reads. Else a
            // burst of a thousand logins in one second costs each page of it five hundred
            // reads (at `limit=1`), past the request's time: a 503 for the user's list, and
            // for `POST /logout?scope=others`, which reads every page.
            items_per_read = MAX_ITEMS_PER_QUERY;
        }
        Ok(page.finish())
    }
}

/// A page of sessions gathered from the index's pages, which come newest second first but in
/// no promised order within a second.
struct PageBuilder<'a> {
    limit: usize,
    after: Option<&'a SessionCursor>,
    found: Vec<SessionInfo>,
}

impl<'a> PageBuilder<'a> {
    fn new(limit: usize, after: Option<&'a SessionCursor>) -> Self {
        Self {
            limit,
            after,
            found: Vec::new(),
        }
    }

    /// Takes the sessions of one page of the index that come after the cursor.
    fn add(&mut self, sessions: impl Iterator<Item = SessionInfo>) {
        let after = self.after;
        self.found
            .extend(sessions.filter(|info| after.is_none_or(|cursor| cursor.precedes(info))));
    }

    /// Whether the page is whole, the last session read having begun at `last_read`: it has
    /// one session more than it shows (so there is a next page), and every session of its last
    /// second has been read (each still unread began at or before `last_read`).
    fn is_complete(&mut self, last_read: Option<i64>) -> bool {
        if self.found.len() <= self.limit {
            return false;
        }
        newest_first(&mut self.found);
        let page_ends_at = self.found[self.limit - 1].started_at;
        last_read.is_some_and(|read| read < page_ends_at)
    }

    fn finish(mut self) -> SessionPage {
        newest_first(&mut self.found);
        let more = self.found.len() > self.limit;
        self.found.truncate(self.limit);
        SessionPage {
            next: self.found.last().filter(|_| more).map(SessionCursor::after),
            sessions: self.found,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(fields: &[(&str, AttributeValue)]) -> HashMap<String, AttributeValue> {
        fields
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone()))
            .collect()
    }

    #[test]
    fn a_listed_item_reads_back_as_the_session_its_login_recorded() {
        let listed = item(&[
            (KEY, text("session#s-1")),
            (OWNER, text("cosmo")),
            (STARTED_AT, number(100)),
            (REFRESHED_AT, number(160)),
            (SOURCE_IP, text("203.0.113.9")),
            (USER_AGENT, text("Mozilla/5.0")),
            (AMR, text("pwd otp mfa")),
        ]);
        assert_eq!(
            session_info(&listed),
            Some(SessionInfo {
                id: "s-1".to_owned(),
                started_at: 100,
                refreshed_at: Some(160),
                source_ip: Some("203.0.113.9".to_owned()),
                user_agent: Some("Mozilla/5.0".to_owned()),
                methods: Some(AuthMethods::PasswordAndOtp),
            })
        );
    }

    #[test]
    fn an_item_no_login_wrote_is_not_a_listed_session() {
        let no_start = item(&[(KEY, text("session#s-1")), (OWNER, text("cosmo"))]);
        assert_eq!(session_info(&no_start), None);
        let hashed = item(&[(KEY, text("session-sha256#00")), (STARTED_AT, number(100))]);
        assert_eq!(session_info(&hashed), None);
        let foreign_amr = item(&[
            (KEY, text("session#s-2")),
            (STARTED_AT, number(100)),
            (AMR, text("hwk")),
        ]);
        assert_eq!(
            session_info(&foreign_amr).and_then(|info| info.methods),
            None
        );
    }

    fn started(started_at: i64, id: &str) -> SessionInfo {
        SessionInfo {
            id: id.to_owned(),
            started_at,
            refreshed_at: None,
            source_ip: None,
            user_agent: None,
            methods: None,
        }
    }

    /// The index gives the sessions of one second in any order: a page that ends within a
    /// second waits for all of that second's sessions, and orders them by id.
    #[test]
    fn a_page_ending_within_a_second_reads_the_whole_second_and_orders_it_by_id() {
        let mut page = PageBuilder::new(2, None);
        page.add([started(100, "a"), started(100, "b"), started(90, "z")].into_iter());
        // Read up to second 100: another session of it may come, and sort before "b".
        page.add([started(100, "c")].into_iter());
        assert!(!page.is_complete(Some(100)));
        page.add([started(100, "d")].into_iter());
        assert!(page.is_complete(Some(90)));
        let finished = page.finish();
        let ids: Vec<&str> = finished
            .sessions
            .iter()
            .map(|info| info.id.as_str())
            .collect();
        assert_eq!(ids, ["d", "c"]);
        assert_eq!(
            finished.next,
            Some(SessionCursor::after(&started(100, "c")))
        );

        // The next page starts after the cursor, within its second.
        let cursor = SessionCursor::after(&started(100, "c"));
        let mut next = PageBuilder::new(2, Some(&cursor));
        next.add(
            [
                started(100, "d"),
                started(100, "a"),
                started(100, "c"),
                started(100, "b"),
                started(90, "z"),
            ]
            .into_iter(),
        );
        let ids: Vec<String> = next
            .finish()
            .sessions
            .into_iter()
            .map(|info| info.id)
            .collect();
        assert_eq!(ids, ["b", "a"]);
    }

    #[test]
    fn a_page_with_no_session_beyond_it_is_not_complete_and_ends_the_list() {
        let mut page = PageBuilder::new(2, None);
        page.add([started(100, "a"), started(90, "b")].into_iter());
        assert!(!page.is_complete(Some(90)));
        let finished = page.finish();
        assert_eq!(finished.sessions.len(), 2);
        assert_eq!(finished.next, None);
    }
}

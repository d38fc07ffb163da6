//! The activity log in a DynamoDB table of its own: partition key `pk` (S, the username), sort
//! key `sk` (S, the entry's id, which orders a user's entries by time), TTL attribute
//! `expires_at` (N, seconds since the epoch). Each item holds one `ActivityEntry`: `event`,
//! `outcome` (S, their names), `at_ms` (N), and when known `detail`, `session`, `source_ip` and
//! `user_agent` (S).
//!
//! The log is written by `PutItem` and read by `Query`, one user's partition at a time: never
//! updated, deleted (the TTL does that) or scanned, which is all the functions' IAM allows.
//! DynamoDB deletes expired items within days, so a read filters on `expires_at` as well.

use std::{collections::HashMap, sync::Arc};

use async_trait::async_trait;
use aws_sdk_dynamodb::{Client, types::AttributeValue};

use auth_core::{
    activity::{ActivityEntry, ActivityEvent, ActivityLog, ActivityOutcome, ActivityPage},
    store::{StoreError, is_valid_key},
};

use crate::client::store_error;

/// The partition key: the username.
pub const KEY: &str = "pk";
/// The sort key: the entry's id.
pub const SORT_KEY: &str = "sk";
/// The TTL attribute.
pub const EXPIRES_AT: &str = "expires_at";
const EVENT: &str = "event";
const OUTCOME: &str = "outcome";
const DETAIL: &str = "detail";
const SESSION: &str = "session";
const SOURCE_IP: &str = "source_ip";
const USER_AGENT: &str = "user_agent";
const AT_MS: &str = "at_ms";
/// The most items one `Query` of a listing reads. The first reads a page and one more, to tell
/// whether there is a next; more are read, this many at a time, only when the TTL's filter
/// drops some.
const MAX_ITEMS_PER_QUERY: usize = 1000;
/// DynamoDB's limit on a sort key's value, in bytes.
const MAX_SORT_KEY_BYTES: usize = 1024;

/// The activity log in the DynamoDB table `table`. Cheap to clone; build one per cold start.
#[derive(Debug, Clone)]
pub struct DynamoActivityLog {
    client: Client,
    table: String,
}

/// The log of `table` over `client`, as `Stores::with_activity` takes it.
pub fn activity_log(client: Client, table: impl Into<String>) -> Arc<dyn ActivityLog> {
    Arc::new(DynamoActivityLog::new(client, table))
}

impl DynamoActivityLog {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

/// The item of `entry` in `username`'s log.
fn entry_item(
    username: &str,
    entry: &ActivityEntry,
    expires_at: i64,
) -> HashMap<String, AttributeValue> {
    let mut item = HashMap::from([
        (KEY.to_owned(), text(username)),
        (SORT_KEY.to_owned(), text(&entry.id)),
        (EXPIRES_AT.to_owned(), number(expires_at)),
        (EVENT.to_owned(), text(entry.event.name())),
        (OUTCOME.to_owned(), text(entry.outcome.name())),
        (AT_MS.to_owned(), number(entry.at_ms)),
    ]);
    let optional = [
        (DETAIL, &entry.detail),
        (SESSION, &entry.session),
        (SOURCE_IP, &entry.source_ip),
        (USER_AGENT, &entry.user_agent),
    ];
    for (field, value) in optional {
        // DynamoDB refuses an empty string in no key attribute, but an empty one says nothing.
        if let Some(value) = value.as_deref().filter(|value| !value.is_empty()) {
            item.insert(field.to_owned(), text(value));
        }
    }
    item
}

/// The entry an item holds; none for an item this version cannot read (an event or outcome it
/// does not know, written by a later one): it is left out of the listing, not an outage.
fn item_entry(item: &HashMap<String, AttributeValue>) -> Option<ActivityEntry> {
    let read_text = |field| item.get(field).and_then(|value| value.as_s().ok());
    let optional = |field| read_text(field).filter(|value| !value.is_empty()).cloned();
    Some(ActivityEntry {
        id: read_text(SORT_KEY)?.clone(),
        at_ms: read_number(item, AT_MS)?,
        event: ActivityEvent::from_name(read_text(EVENT)?)?,
        outcome: ActivityOutcome::from_name(read_text(OUTCOME)?)?,
        detail: optional(DETAIL),
        session: optional(SESSION),
        source_ip: optional(SOURCE_IP),
        user_agent: optional(USER_AGENT),
    })
}

fn text(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn number(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn read_number(item: &HashMap<String, AttributeValue>, field: &str) -> Option<i64> {
    match item.get(field) {
        Some(AttributeValue::N(value)) => value.parse().ok(),
        _ => None,
    }
}

#[async_trait]
impl ActivityLog for DynamoActivityLog {
    async fn append(
        &self,
        username: &str,
        entry: &ActivityEntry,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        // A name that cannot key a user (the users table has the same key limit) has no
        // account, and so no log: nothing is written for it.
        if !is_valid_key(username) || !is_valid_key(&entry.id) {
            return Ok(());
        }
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(entry_item(username, entry, expires_at)))
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn list(
        &self,
        username: &str,
        limit: usize,
        before: Option<&str>,
        now: i64,
    ) -> Result<ActivityPage, StoreError> {
        if !is_valid_key(username) || limit == 0 {
            return Ok(ActivityPage::default());
        }
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .expression_attribute_names("#pk", KEY)
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_values(":user", text(username))
            .expression_attribute_values(":now", number(now))
            .filter_expression("#expires > :now")
            .scan_index_forward(false)
            // What was just recorded is listed: a user who has just signed in looks for it.
            .consistent_read(true);
        request = match before {
            // A cursor DynamoDB would refuse as a key is none of ours (an entry's id has 25
            // bytes): nothing comes after it, rather than a refused call. An empty one has
            // nothing before it anyway.
            Some(before) if before.is_empty() || before.len() > MAX_SORT_KEY_BYTES => {
                return Ok(ActivityPage::default());
            }
            Some(before) => request
                .key_condition_expression("#pk = :user AND #sk < :before")
                .expression_attribute_names("#sk", SORT_KEY)
                .expression_attribute_values(":before", text(before)),
            None => request.key_condition_expression("#pk = :user"),
        };
        let mut found = Vec::new();
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
            found.extend(output.items().iter().filter_map(item_entry));
            match output.last_evaluated_key {
                Some(key) if found.len() <= limit => start_key = Some(key),
                _ => break,
            }
            // What the first read found short of a page was dropped by the filter: entries past
            // their end that the TTL has not deleted yet (it takes days). There may be many
            // (a busy week three months ago), so the rest is read in the largest reads; a
            // page's worth at a time, a page of one would take hundreds, past the request's
            // time.
            items_per_read = MAX_ITEMS_PER_QUERY;
        }
        let more = found.len() > limit;
        found.truncate(limit);
        Ok(ActivityPage {
            next: found.last().filter(|_| more).map(|entry| entry.id.clone()),
            entries: found,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> ActivityEntry {
        ActivityEntry {
            id: "1700000000000000#0000abcd".to_owned(),
            at_ms: 1_700_000_000_000,
            event: ActivityEvent::Login,
            outcome: ActivityOutcome::Failed,
            detail: Some("wrong_password".to_owned()),
            session: None,
            source_ip: Some("203.0.113.9".to_owned()),
            user_agent: Some(String::new()),
        }
    }

    #[test]
    fn an_entry_reads_back_from_its_item_as_it_was_written() {
        let item = entry_item("cosmo", &entry(), 1_800_000_000);
        assert_eq!(item.get(KEY), Some(&text("cosmo")));
        assert_eq!(item.get(EXPIRES_AT), Some(&number(1_800_000_000)));
        assert!(!item.contains_key(SESSION) && !item.contains_key(USER_AGENT));
        let read = item_entry(&item).unwrap();
        assert_eq!(
            read,
            ActivityEntry {
                user_agent: None,
                ..entry()
            }
        );
    }

    #[test]
    fn an_item_with_an_event_or_outcome_this_version_does_not_know_is_no_entry() {
        for (field, unknown) in [(EVENT, "passkey_added"), (OUTCOME, "deferred")] {
            let mut item = entry_item("cosmo", &entry(), 1_800_000_000);
            item.insert(field.to_owned(), text(unknown));
            assert_eq!(item_entry(&item), None, "{field}");
        }
    }
}

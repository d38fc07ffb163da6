//! Sessions in a DynamoDB table: partition key `pk` (S), TTL attribute `expires_at` (N, seconds
//! since the epoch). Its kinds of item, told apart by the key's prefix:
//! - `token#<jti>`: a revoked token, until its `exp`;
//! - `session#<sid>`: a session, `revoked` (BOOL) when ended, and with rotation on its
//!   `current` and `previous` refresh-token ids and `rotated_at` (N). A session its login
//!   recorded (`start_session`) also has `owner` (S, the username) while it is not ended,
//!   `started_at`, `refresh_until` and, once refreshed, `refreshed_at` (N), `source_ip`,
//!   `user_agent` and `amr` (S, the `amr` values space-separated): `owner` and `started_at` key
//!   the sparse index `user-sessions` (`USER_SESSIONS_INDEX`) that lists a user's sessions
//!   (`listing`);
//! - `login#<username>` and `login-device#<proof id>`: a login-throttle bucket's window, which
//!   ends at `expires_at`: `failures` (N) counted in it, and `in_use` (N) places taken, the
//!   failures and the password checks in flight, and `taken_at` (N) when the last was taken.
//!   (`attempts`, of an earlier version, is ignored.)
//!
//! The self-service routes' records (`AccountRecords`, in `account_records`):
//! - `mailtoken#<hash>`: a mailed token, keyed by its SHA-256 (the token is stored nowhere):
//!   `purpose` (S, `signup` or `recovery`) and `username` (S), until `expires_at`; taken by
//!   one conditional delete, so of concurrent takes one gets it;
//! - `mailslot#<address key>`: the one mail an address may get until `expires_at`;
//! - `count#<key>`: `count` (N), the requests of one route and source address in the window
//!   that ends at `expires_at`.
//!
//! A key longer than DynamoDB's 2048 bytes is `<kind>-sha256#<hex>` instead
//! (`client::record_key`).
//!
//! DynamoDB deletes expired items within days, not at once, so every read compares
//! `expires_at` with now: an item at or past its end is read as no item.

mod account_records;
mod listing;
mod mfa_challenges;

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::{
    Client,
    operation::update_item::{UpdateItemError, builders::UpdateItemFluentBuilder},
    types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure},
};

use auth_core::{
    sessions::{
        AttemptBucket, AttemptOutcome, HeldAttempt, LoginAttempts, MAX_PLACE_HOLD_SECS,
        Reservation, Rotation, RotationOutcome, SessionPage, SessionQuery, SessionStart,
        SessionStore,
    },
    store::StoreError,
};

use crate::client::{self, is_condition_failure, record_key, store_error};

pub const KEY: &str = "pk";
/// The TTL attribute.
pub const EXPIRES_AT: &str = "expires_at";
pub(crate) const REVOKED: &str = "revoked";
const CURRENT: &str = "current";
const PREVIOUS: &str = "previous";
const ROTATED_AT: &str = "rotated_at";
const FAILURES: &str = "failures";
const IN_USE: &str = "in_use";
const TAKEN_AT: &str = "taken_at";
/// The sessions table's index of each user's listed sessions, newest first: partition `owner`
/// (S), sort `started_at` (N), every attribute projected. Sparse: only a session whose login
/// recorded it, and that has not been ended, has an `owner`.
pub const USER_SESSIONS_INDEX: &str = "user-sessions";
/// The index's partition key: the username of a listed session.
pub const OWNER: &str = "owner";
/// The index's sort key: when the session began (its `auth_time`).
pub const STARTED_AT: &str = "started_at";
const REFRESHED_AT: &str = "refreshed_at";
const REFRESH_UNTIL: &str = "refresh_until";
const SOURCE_IP: &str = "source_ip";
const USER_AGENT: &str = "user_agent";
const AMR: &str = "amr";
/// A window that ends, or a place given back, between a read and a conditional write makes the
/// write fail; the next try sees the new state. Each try is one more round trip, and it takes
/// a burst of attempts at one username to need more than a few.
const LOGIN_COUNT_TRIES: usize = 8;

/// Sessions in the DynamoDB table `table`. Cheap to clone; build one per cold start.
#[derive(Debug, Clone)]
pub struct DynamoSessionStore {
    client: Client,
    table: String,
}

pub(crate) fn token_key(jti: &str) -> String {
    record_key("token", jti)
}

pub(crate) fn session_key(session: &str) -> String {
    record_key("session", session)
}

/// A username too long for a key cannot exist, but its attempts still count (under its hash),
/// so that an answer never depends on the username's length.
fn login_key(bucket: AttemptBucket<'_>) -> String {
    let (prefix, id) = bucket.key_parts();
    record_key(prefix, id)
}

/// A bucket's window as its item holds it; an item without counts (of an earlier version) has
/// none.
fn login_attempts(item: &HashMap<String, AttributeValue>) -> Option<LoginAttempts> {
    let count = |field| read_number(item, field).unwrap_or(0).max(0) as u64;
    Some(LoginAttempts {
        failures: count(FAILURES),
        in_use: count(IN_USE),
        window_ends_at: read_number(item, EXPIRES_AT)?,
        last_taken_at: read_number(item, TAKEN_AT).unwrap_or(0),
    })
}

fn number(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn text(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

fn read_number(item: &HashMap<String, AttributeValue>, field: &str) -> Option<i64> {
    match item.get(field) {
        Some(AttributeValue::N(value)) => value.parse().ok(),
        _ => None,
    }
}

/// Whether `item`, read at `now`, is in force: its end has not come (DynamoDB deletes an item
/// some time after its end, so one past it may still be read).
pub(crate) fn in_force(item: &HashMap<String, AttributeValue>, now: i64) -> bool {
    read_number(item, EXPIRES_AT).is_none_or(|end| end > now)
}

/// Whether a session's item says the session was revoked.
pub(crate) fn session_revoked(item: &HashMap<String, AttributeValue>) -> bool {
    matches!(item.get(REVOKED), Some(AttributeValue::Bool(true)))
}

impl DynamoSessionStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// A store over `table` with the same AWS configuration as the users table.
    pub async fn connect(table: impl Into<String>) -> Self {
        Self::new(client::client().await, table)
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// An update of the item `key`, with every attribute name of this module bound.
    fn update(&self, key: String) -> UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(key))
            .expression_attribute_names("#expires", EXPIRES_AT)
    }

    /// The item `key`, unless it has reached its end at `now`.
    async fn item(
        &self,
        key: String,
        now: i64,
    ) -> Result<Option<HashMap<String, AttributeValue>>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(key))
            // A logout is in force for the very next request.
            .consistent_read(true)
            .send()
            .await
            .map_err(store_error)?;
        Ok(output.item.filter(|item| in_force(item, now)))
    }
}

#[async_trait]
impl SessionStore for DynamoSessionStore {
    async fn revoke_token(&self, jti: &str, expires_at: i64, _now: i64) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item(KEY, AttributeValue::S(token_key(jti)))
            .item(EXPIRES_AT, number(expires_at))
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn revoke_session(
        &self,
        session: &str,
        record_until: i64,
        _now: i64,
    ) -> Result<(), StoreError> {
        // Without an owner the session leaves its user's index: an ended session is listed
        // nowhere.
        self.update(session_key(session))
            .update_expression("SET #revoked = :true, #expires = :until REMOVE #owner")
            .expression_attribute_names("#revoked", REVOKED)
            .expression_attribute_names("#owner", OWNER)
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .expression_attribute_values(":until", number(record_until))
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn is_revoked(
        &self,
        jti: Option<&str>,
        session: Option<&str>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let token = async {
            match jti {
                Some(jti) => Ok(self.item(token_key(jti), now).await?.is_some()),
                None => Ok(false),
            }
        };
        let session = async {
            match session {
                Some(session) => Ok(self
                    .item(session_key(session), now)
                    .await?
                    .is_some_and(|item| session_revoked(&item))),
                None => Ok(false),
            }
        };
        let (token, session) = tokio::join!(token, session);
        Ok(token? || session?)
    }

    async fn rotate(&self, rotation: &Rotation<'_>) -> Result<RotationOutcome, StoreError> {
        let key = session_key(rotation.session);
        // The presented token is the session's current one, or this is the session's first
        // rotation: there is no record yet, or only one past its end, which means nothing.
        let rotated = self
            .update(key.clone())
            .expression_attribute_names("#revoked", REVOKED)
            .expression_attribute_names("#current", CURRENT)
            .expression_attribute_names("#previous", PREVIOUS)
            .expression_attribute_names("#rotated", ROTATED_AT)
            .expression_attribute_values(":presented", text(rotation.presented))
            .expression_attribute_values(":replacement", text(rotation.replacement))
            .expression_attribute_values(":until", number(rotation.record_until))
            .update_expression(
                "SET #current = :replacement, #previous = :presented, #rotated = :now, \
                 #expires = :until REMOVE #revoked",
            )
            .condition_expression(
                "(attribute_not_exists(#revoked) AND \
                  (attribute_not_exists(#current) OR #current = :presented)) \
                 OR #expires <= :now",
            )
            .expression_attribute_values(":now", number(rotation.now))
            .send()
            .await;
        match rotated {
            Ok(_) => return Ok(RotationOutcome::Rotated(rotation.replacement.to_owned())),
            Err(error) if !is_condition_failure(&error) => return Err(store_error(error)),
            Err(_) => {}
        }
        // The presented token was spent within the grace: a retry, which gets the current
        // token again (with a new life). The grace runs from the rotation, which this does
        // not move.
        if let Some(since) = rotation.grace_since {
            let retried = self
                .update(key.clone())
                .update_expression("SET #expires = :until")
                .condition_expression(
                    "attribute_not_exists(#revoked) AND #previous = :presented AND \
                     #rotated >= :since",
                )
                .expression_attribute_names("#revoked", REVOKED)
                .expression_attribute_names("#previous", PREVIOUS)
                .expression_attribute_names("#rotated", ROTATED_AT)
                .expression_attribute_values(":presented", text(rotation.presented))
                .expression_attribute_values(":until", number(rotation.record_until))
                .expression_attribute_values(":since", number(since))
                .return_values(ReturnValue::AllNew)
                .send()
                .await;
            match retried {
                Ok(output) => {
                    let current = output
                        .attributes
                        .as_ref()
                        .and_then(|item| item.get(CURRENT))
                        .and_then(|value| value.as_s().ok())
                        .ok_or_else(|| {
                            StoreError::unavailable("a session item has no current refresh token")
                        })?;
                    return Ok(RotationOutcome::Rotated(current.clone()));
                }
                Err(error) if !is_condition_failure(&error) => return Err(store_error(error)),
                Err(_) => {}
            }
        }
        // Spent, or revoked already, or spent by this very rotation: the SDK retries a write
        // whose answer was lost (a timeout), and the retry finds the token spent by the first
        // attempt. Revoking is conditional too, so the answer says which.
        let revoked = self
            .update(key.clone())
            .update_expression("SET #revoked = :true, #expires = :until REMOVE #owner")
            .condition_expression(
                "attribute_not_exists(#revoked) AND \
                 NOT (#current = :replacement AND #previous = :presented)",
            )
            .expression_attribute_names("#revoked", REVOKED)
            .expression_attribute_names("#owner", OWNER)
            .expression_attribute_names("#current", CURRENT)
            .expression_attribute_names("#previous", PREVIOUS)
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .expression_attribute_values(":until", number(rotation.record_until))
            .expression_attribute_values(":replacement", text(rotation.replacement))
            .expression_attribute_values(":presented", text(rotation.presented))
            .send()
            .await;
        match revoked {
            Ok(_) => Ok(RotationOutcome::Reused),
            Err(error) if !is_condition_failure(&error) => Err(store_error(error)),
            Err(_) => {
                let item = self.item(key, rotation.now).await?.unwrap_or_default();
                let revoked = session_revoked(&item);
                let current = item.get(CURRENT).and_then(|value| value.as_s().ok());
                if !revoked && current == Some(&rotation.replacement.to_owned()) {
                    Ok(RotationOutcome::Rotated(rotation.replacement.to_owned()))
                } else {
                    Ok(RotationOutcome::Revoked)
                }
            }
        }
    }

    async fn reserve_login_attempt(
        &self,
        bucket: AttemptBucket<'_>,
        max: u64,
        now: i64,
        window_end: i64,
    ) -> Result<Reservation, StoreError> {
        let key = login_key(bucket);
        let held = |item: Option<HashMap<String, AttributeValue>>| {
            let attempts = item.as_ref().and_then(login_attempts).ok_or_else(|| {
                StoreError::unavailable("a login-attempts item has no expires_at number")
            })?;
            Ok(Reservation::Held(HeldAttempt {
                window_ends_at: attempts.window_ends_at,
                // This attempt's own place is not a failure.
                failures_seen: attempts.failures,
            }))
        };
        // The writes below bind these names and values, and answer with the item.
        let place = || {
            self.update(key.clone())
                .expression_attribute_names("#in_use", IN_USE)
                .expression_attribute_names("#failures", FAILURES)
                .expression_attribute_names("#taken_at", TAKEN_AT)
                .expression_attribute_values(":one", number(1))
                .expression_attribute_values(":now", number(now))
                .return_values(ReturnValue::AllNew)
        };
        for _ in 0..LOGIN_COUNT_TRIES {
            // A place in the current window, or the first of a new one.
            let taken = place()
                .expression_attribute_values(":zero", number(0))
                .expression_attribute_values(":end", number(window_end))
                .expression_attribute_values(":max", number(max as i64))
                .update_expression(
                    "ADD #in_use :one SET #expires = if_not_exists(#expires, :end), \
                     #failures = if_not_exists(#failures, :zero), #taken_at = :now",
                )
                .condition_expression(
                    "attribute_not_exists(#expires) OR (#expires > :now AND \
                     (attribute_not_exists(#in_use) OR #in_use < :max) AND \
                     (attribute_not_exists(#failures) OR #failures < :max))",
                )
                // A refusal carries the item, so that a full window costs one round trip.
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            let refused_with = match taken {
                Ok(output) => return held(output.attributes),
                Err(error) => match error.as_service_error() {
                    Some(UpdateItemError::ConditionalCheckFailedException(refused)) => {
                        refused.item().cloned()
                    }
                    _ => return Err(store_error(error)),
                },
            };
            // Every place is taken, the failures are spent, or the window has ended and
            // DynamoDB has not deleted the item yet: the item tells which. (A server that
            // does not return it with the refusal is asked for it.)
            let item = match refused_with {
                Some(item) => Some(item).filter(|item| in_force(item, now)),
                None => self.item(key.clone(), now).await?,
            };
            if let Some(item) = item {
                let attempts = login_attempts(&item).ok_or_else(|| {
                    StoreError::unavailable("a login-attempts item has no expires_at number")
                })?;
                if attempts.failures >= max {
                    return Ok(Reservation::Full(attempts));
                }
                if attempts.in_use < max {
                    // A place was given back since the update: try again.
                    continue;
                }
                if attempts.in_flight_until() > now {
                    return Ok(Reservation::Full(attempts));
                }
                // Places nobody settled, long stale: only the failures keep theirs.
                let reclaimed = place()
                    .expression_attribute_values(":max", number(max as i64))
                    .expression_attribute_values(":window", number(attempts.window_ends_at))
                    .expression_attribute_values(
                        ":stale",
                        number(now.saturating_sub(MAX_PLACE_HOLD_SECS)),
                    )
                    .update_expression("SET #in_use = #failures + :one, #taken_at = :now")
                    .condition_expression(
                        "#expires = :window AND #taken_at <= :stale AND #failures < :max",
                    )
                    .send()
                    .await;
                match reclaimed {
                    Ok(output) => return held(output.attributes),
                    Err(error) if !is_condition_failure(&error) => {
                        return Err(store_error(error));
                    }
                    Err(_) => continue,
                }
            }
            let restarted = place()
                .expression_attribute_values(":zero", number(0))
                .expression_attribute_values(":end", number(window_end))
                .update_expression(
                    "SET #in_use = :one, #failures = :zero, #expires = :end, #taken_at = :now",
                )
                .condition_expression("attribute_not_exists(#expires) OR #expires <= :now")
                .send()
                .await;
            match restarted {
                Ok(output) => return held(output.attributes),
                Err(error) if !is_condition_failure(&error) => return Err(store_error(error)),
                // Another attempt restarted it first: take a place in its window.
                Err(_) => continue,
            }
        }
        Err(StoreError::unavailable(format!(
            "the login-attempts window changed {LOGIN_COUNT_TRIES} times in a row"
        )))
    }

    async fn settle_login_attempt(
        &self,
        bucket: AttemptBucket<'_>,
        held: HeldAttempt,
        outcome: AttemptOutcome,
    ) -> Result<(), StoreError> {
        let key = login_key(bucket);
        // Every settlement is of the window the place was taken in, and only of it.
        let in_window = || {
            self.update(key.clone())
                .expression_attribute_values(":window", number(held.window_ends_at))
        };
        let give_back = || {
            in_window()
                .expression_attribute_names("#in_use", IN_USE)
                .expression_attribute_values(":minus", number(-1))
                .update_expression("ADD #in_use :minus")
                .condition_expression("#expires = :window")
        };
        let seen = held.failures_seen as i64;
        let settled = match outcome {
            AttemptOutcome::Failed => {
                in_window()
                    .expression_attribute_names("#failures", FAILURES)
                    .expression_attribute_values(":one", number(1))
                    .update_expression("ADD #failures :one")
                    .condition_expression("#expires = :window")
                    .send()
                    .await
            }
            AttemptOutcome::Succeeded if seen > 0 => {
                let cleared = in_window()
                    .expression_attribute_names("#in_use", IN_USE)
                    .expression_attribute_names("#failures", FAILURES)
                    .expression_attribute_values(":seen", number(seen))
                    .expression_attribute_values(":freed", number(-(seen + 1)))
                    .update_expression("SET #failures = #failures - :seen ADD #in_use :freed")
                    // Failures another success has cleared meanwhile are not cleared twice.
                    .condition_expression("#expires = :window AND #failures >= :seen")
                    .send()
                    .await;
                match cleared {
                    Err(error) if is_condition_failure(&error) => give_back().send().await,
                    other => other,
                }
            }
            AttemptOutcome::Succeeded | AttemptOutcome::Unchecked => give_back().send().await,
        };
        match settled {
            Ok(_) => Ok(()),
            // The window has ended: there is nothing left to settle.
            Err(error) if is_condition_failure(&error) => Ok(()),
            Err(error) => Err(store_error(error)),
        }
    }

    async fn start_session(&self, start: &SessionStart<'_>) -> Result<(), StoreError> {
        self.record_start(start).await
    }

    async fn touch_session(
        &self,
        session: &str,
        now: i64,
        refresh_until: Option<i64>,
    ) -> Result<(), StoreError> {
        self.record_refresh(session, now, refresh_until).await
    }

    async fn list_sessions(&self, query: &SessionQuery<'_>) -> Result<SessionPage, StoreError> {
        self.listed_sessions(query).await
    }

    async fn end_session_of(
        &self,
        username: &str,
        session: &str,
        not_before: Option<i64>,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.end_listed_session(username, session, not_before, now)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_prefixed_ids_never_tokens() {
        assert_eq!(token_key("abc"), "token#abc");
        assert_eq!(session_key("s-1"), "session#s-1");
        assert_eq!(login_key(AttemptBucket::Username("cosmo")), "login#cosmo");
        assert_eq!(login_key(AttemptBucket::Device("d-1")), "login-device#d-1");
        assert_eq!(login_key(AttemptBucket::SecondFactor("cosmo")), "mfa#cosmo");
    }

    /// Every key this store builds is `kind#…` or, for a long id, `kind-sha256#…`: the
    /// functions' IAM policies must allow both wherever they allow one, or a token with a long
    /// id would be refused by IAM in AWS (an outage there, and no test here would notice).
    #[test]
    fn the_templates_policies_allow_the_hashed_form_of_every_key_they_allow() {
        let template = include_str!("../../../template.yaml");
        let lines: Vec<&str> = template.lines().map(str::trim).collect();
        let mut lists = 0;
        for (index, line) in lines.iter().enumerate() {
            if *line != "dynamodb:LeadingKeys:" {
                continue;
            }
            lists += 1;
            let patterns: Vec<&str> = lines[index + 1..]
                .iter()
                .map_while(|line| line.strip_prefix("- "))
                .filter(|item| !item.contains(':'))
                .map(|pattern| {
                    pattern
                        .strip_prefix('"')
                        .and_then(|pattern| pattern.strip_suffix('"'))
                        .unwrap_or_else(|| panic!("{pattern}: quote the patterns"))
                })
                .collect();
            for pattern in &patterns {
                if let Some(kind) = pattern.strip_suffix("#*")
                    && !kind.ends_with("-sha256")
                {
                    let hashed = format!("{kind}-sha256#*");
                    assert!(
                        patterns.contains(&hashed.as_str()),
                        "template.yaml line {}: {patterns:?} lacks {hashed}",
                        index + 1
                    );
                }
            }
        }
        assert!(lists >= 6, "found {lists} LeadingKeys conditions");
    }

    #[test]
    fn an_overlong_username_is_counted_under_its_hash() {
        use sha2::{Digest, Sha256};
        let long = "x".repeat(5000);
        assert_eq!(
            login_key(AttemptBucket::Username(&long)),
            format!("login-sha256#{:x}", Sha256::digest(long.as_bytes()))
        );
        let other = "y".repeat(5000);
        assert_ne!(
            login_key(AttemptBucket::Username(&long)),
            login_key(AttemptBucket::Username(&other))
        );
    }
}

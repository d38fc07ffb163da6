//! Sessions in a DynamoDB table: partition key `pk` (S), TTL attribute `expires_at` (N, seconds
//! since the epoch). Three kinds of item, told apart by the key's prefix:
//! - `token#<jti>`: a revoked token, until its `exp`;
//! - `session#<sid>`: a session, `revoked` (BOOL) when ended, and with rotation on its
//!   `current` and `previous` refresh-token ids and `rotated_at` (N);
//! - `login#<username>`: `attempts` (N) counted in the window that ends at `expires_at`.
//!
//! DynamoDB deletes expired items within days, not at once, so every read compares
//! `expires_at` with now: an item at or past its end is read as no item.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::{
    Client,
    operation::update_item::builders::UpdateItemFluentBuilder,
    types::{AttributeValue, ReturnValue},
};

use auth_core::{
    sessions::{LoginAttempts, Rotation, RotationOutcome, SessionStore},
    store::StoreError,
};

use crate::client::{self, is_condition_failure, record_key, store_error};

pub const KEY: &str = "pk";
/// The TTL attribute.
pub const EXPIRES_AT: &str = "expires_at";
const REVOKED: &str = "revoked";
const CURRENT: &str = "current";
const PREVIOUS: &str = "previous";
const ROTATED_AT: &str = "rotated_at";
const ATTEMPTS: &str = "attempts";
/// A window that ends between a read and a conditional write makes the write fail; the next
/// try sees the new state. Two more tries cover any such race.
const LOGIN_COUNT_TRIES: usize = 3;

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
fn login_key(username: &str) -> String {
    record_key("login", username)
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
        self.update(session_key(session))
            .update_expression("SET #revoked = :true, #expires = :until")
            .expression_attribute_names("#revoked", REVOKED)
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
            .update_expression("SET #revoked = :true, #expires = :until")
            .condition_expression(
                "attribute_not_exists(#revoked) AND \
                 NOT (#current = :replacement AND #previous = :presented)",
            )
            .expression_attribute_names("#revoked", REVOKED)
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

    async fn count_login_attempt(
        &self,
        username: &str,
        now: i64,
        window_end: i64,
    ) -> Result<LoginAttempts, StoreError> {
        let key = login_key(username);
        // Both writes below bind the same names and values, and answer with the item.
        let counter = || {
            self.update(key.clone())
                .expression_attribute_names("#attempts", ATTEMPTS)
                .expression_attribute_values(":one", number(1))
                .expression_attribute_values(":end", number(window_end))
                .expression_attribute_values(":now", number(now))
                .return_values(ReturnValue::AllNew)
        };
        for _ in 0..LOGIN_COUNT_TRIES {
            // One more in the current window, or the first of a new one.
            let counted = counter()
                .update_expression(
                    "ADD #attempts :one SET #expires = if_not_exists(#expires, :end)",
                )
                .condition_expression("attribute_not_exists(#expires) OR #expires > :now")
                .send()
                .await;
            let item = match counted {
                Ok(output) => output.attributes,
                Err(error) if !is_condition_failure(&error) => return Err(store_error(error)),
                // The window has ended, but DynamoDB has not deleted the item yet: restart it.
                Err(_) => {
                    let restarted = counter()
                        .update_expression("SET #attempts = :one, #expires = :end")
                        .condition_expression("#expires <= :now")
                        .send()
                        .await;
                    match restarted {
                        Ok(output) => output.attributes,
                        Err(error) if !is_condition_failure(&error) => {
                            return Err(store_error(error));
                        }
                        // Another attempt restarted it first: count in its window.
                        Err(_) => continue,
                    }
                }
            };
            let item = item.unwrap_or_default();
            return match (read_number(&item, ATTEMPTS), read_number(&item, EXPIRES_AT)) {
                (Some(count), Some(window_ends_at)) => Ok(LoginAttempts {
                    count: count.max(0) as u64,
                    window_ends_at,
                }),
                _ => Err(StoreError::unavailable(
                    "a login-attempts item has no attempts or expires_at number",
                )),
            };
        }
        Err(StoreError::unavailable(format!(
            "the login-attempts count changed window {LOGIN_COUNT_TRIES} times in a row"
        )))
    }

    async fn clear_login_attempts(&self, username: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(login_key(username)))
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_prefixed_ids_never_tokens() {
        assert_eq!(token_key("abc"), "token#abc");
        assert_eq!(session_key("s-1"), "session#s-1");
        assert_eq!(login_key("cosmo"), "login#cosmo");
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
            login_key(&long),
            format!("login-sha256#{:x}", Sha256::digest(long.as_bytes()))
        );
        assert_ne!(login_key(&long), login_key(&"y".repeat(5000)));
    }
}

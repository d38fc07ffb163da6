//! Logins waiting for their second factor, in the sessions table (`MfaChallenges`): one item
//! per `mfa_token`, keyed by its hash (`mfa-challenge#<hash>`), ending at its `expires_at` as
//! every item of the table does. Counting a wrong code and taking the challenge are each one
//! conditional write on the item's end and count, so concurrent answers get DynamoDB's
//! per-item verdict: one success, and no more wrong codes than the limit.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use auth_core::{
    mfa::{Challenge, FailureCount, MfaChallenges},
    store::StoreError,
};

use super::{DynamoSessionStore, EXPIRES_AT, KEY, number, read_number, text};
use crate::client::{is_condition_failure, record_key, store_error};

const USERNAME: &str = "username";
const SESSION_ID: &str = "session_id";
const SOURCE_IP: &str = "source_ip";
const CREATED_AT: &str = "created_at";
const FAILURES: &str = "failures";

fn challenge_key(token_hash: &str) -> String {
    record_key("mfa-challenge", token_hash)
}

/// The challenge an item holds; an item of another shape (edited by hand) is one we cannot
/// read, never a challenge for someone.
fn challenge(item: &HashMap<String, AttributeValue>) -> Result<Challenge, StoreError> {
    let unreadable =
        |what: &str| StoreError::unavailable(format!("an MFA challenge's item has no {what}"));
    let string = |field: &str| match item.get(field) {
        Some(AttributeValue::S(value)) => Ok(value.clone()),
        _ => Err(unreadable(&format!("{field} string"))),
    };
    Ok(Challenge {
        username: string(USERNAME)?,
        session_id: string(SESSION_ID)?,
        source_ip: match item.get(SOURCE_IP) {
            None => None,
            Some(AttributeValue::S(ip)) => Some(ip.clone()),
            Some(_) => return Err(unreadable("source_ip string")),
        },
        created_at: read_number(item, CREATED_AT).ok_or_else(|| unreadable("created_at number"))?,
        expires_at: read_number(item, EXPIRES_AT).ok_or_else(|| unreadable("expires_at number"))?,
        failures: read_number(item, FAILURES)
            .and_then(|failures| u32::try_from(failures).ok())
            .ok_or_else(|| unreadable("failures count"))?,
    })
}

/// The condition under which a challenge can still be answered: there, not ended, and with
/// fewer wrong codes than the limit.
const ALIVE: &str = "attribute_exists(#pk) AND #expires > :now AND #failures < :max";

#[async_trait]
impl MfaChallenges for DynamoSessionStore {
    async fn put_challenge(
        &self,
        token_hash: &str,
        challenge: &Challenge,
    ) -> Result<(), StoreError> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(KEY, text(&challenge_key(token_hash)))
            .item(USERNAME, text(&challenge.username))
            .item(SESSION_ID, text(&challenge.session_id))
            .item(CREATED_AT, number(challenge.created_at))
            .item(EXPIRES_AT, number(challenge.expires_at))
            .item(FAILURES, number(i64::from(challenge.failures)));
        if let Some(ip) = &challenge.source_ip {
            put = put.item(SOURCE_IP, text(ip));
        }
        put.send().await.map_err(store_error)?;
        Ok(())
    }

    async fn find_challenge(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<Challenge>, StoreError> {
        let Some(item) = self.item(challenge_key(token_hash), now).await? else {
            return Ok(None);
        };
        let challenge = challenge(&item)?;
        Ok(Some(challenge).filter(|challenge| challenge.expires_at > now))
    }

    async fn count_failure(
        &self,
        token_hash: &str,
        now: i64,
        max_failures: u32,
    ) -> Result<FailureCount, StoreError> {
        let counted = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(KEY, text(&challenge_key(token_hash)))
            .condition_expression(ALIVE)
            .update_expression("ADD #failures :one")
            .expression_attribute_names("#pk", KEY)
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_names("#failures", FAILURES)
            .expression_attribute_values(":now", number(now))
            .expression_attribute_values(":max", number(i64::from(max_failures)))
            .expression_attribute_values(":one", number(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        match counted {
            Ok(output) => {
                let failures = output
                    .attributes
                    .as_ref()
                    .and_then(|item| read_number(item, FAILURES))
                    .and_then(|failures| u32::try_from(failures).ok())
                    .ok_or_else(|| {
                        StoreError::unavailable("a wrong code's count did not return the count")
                    })?;
                Ok(FailureCount::Counted(failures))
            }
            Err(error) if is_condition_failure(&error) => Ok(FailureCount::Gone),
            Err(error) => Err(store_error(error)),
        }
    }

    async fn take_challenge(
        &self,
        token_hash: &str,
        now: i64,
        max_failures: u32,
    ) -> Result<bool, StoreError> {
        let taken = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(KEY, text(&challenge_key(token_hash)))
            .condition_expression(ALIVE)
            .expression_attribute_names("#pk", KEY)
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_names("#failures", FAILURES)
            .expression_attribute_values(":now", number(now))
            .expression_attribute_values(":max", number(i64::from(max_failures)))
            .send()
            .await;
        match taken {
            Ok(_) => Ok(true),
            Err(error) if is_condition_failure(&error) => Ok(false),
            Err(error) => Err(store_error(error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_challenge_is_keyed_by_its_tokens_hash_apart_from_every_other_record() {
        assert_eq!(challenge_key("abc"), "mfa-challenge#abc");
    }

    #[test]
    fn an_item_without_a_count_is_unreadable_not_a_challenge_without_failures() {
        let item = HashMap::from([
            (USERNAME.to_owned(), text("cosmo")),
            (SESSION_ID.to_owned(), text("s-1")),
            (CREATED_AT.to_owned(), number(5)),
            (EXPIRES_AT.to_owned(), number(10)),
        ]);
        assert!(challenge(&item).is_err());
        let mut counted = item.clone();
        counted.insert(FAILURES.to_owned(), number(2));
        assert_eq!(
            challenge(&counted).unwrap(),
            Challenge {
                username: "cosmo".into(),
                session_id: "s-1".into(),
                source_ip: None,
                created_at: 5,
                expires_at: 10,
                failures: 2,
            }
        );
    }
}

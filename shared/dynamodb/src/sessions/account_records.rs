//! The self-service routes' records in the sessions table (`AccountRecords`): mailed tokens
//! (`mailtoken#<hash>`), mail slots (`mailslot#<address key>`) and request counts
//! (`count#<key>`), each ending at its `expires_at` as every item of the table does (the
//! layout is in the parent's documentation). Every write that decides something is one
//! conditional write, so concurrent requests get DynamoDB's per-item answer.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use auth_core::{
    accounts::{AccountRecords, MailTokenRecord, Purpose},
    store::StoreError,
};

use super::{DynamoSessionStore, EXPIRES_AT, KEY, number, read_number, text};
use crate::client::{is_condition_failure, record_key, store_error};

const PURPOSE: &str = "purpose";
const USERNAME: &str = "username";
/// S: a sign-up token's password hash, which its confirmation must prove; absent otherwise.
const PASSWORD_HASH: &str = "password_hash";
const COUNT: &str = "count";
/// A window that ends between the count and the start of the next makes a write fail; the next
/// try sees the new state. Two tries settle it but for a burst at the very end of a window.
const COUNT_TRIES: usize = 4;

fn mail_token_key(token_hash: &str) -> String {
    record_key("mailtoken", token_hash)
}

fn mail_slot_key(address_key: &str) -> String {
    record_key("mailslot", address_key)
}

fn count_key(key: &str) -> String {
    record_key("count", key)
}

/// The record a mailed token's item holds; an item of another shape (edited by hand) is one
/// we cannot read, never a token of some purpose.
fn mail_token_record(
    item: &HashMap<String, AttributeValue>,
) -> Result<MailTokenRecord, StoreError> {
    let unreadable =
        |what: &str| StoreError::unavailable(format!("a mail token's item has no {what}"));
    let purpose = item
        .get(PURPOSE)
        .and_then(|value| value.as_s().ok())
        .and_then(|name| Purpose::named(name))
        .ok_or_else(|| unreadable("purpose of ours"))?;
    let username = item
        .get(USERNAME)
        .and_then(|value| value.as_s().ok())
        .ok_or_else(|| unreadable("username string"))?;
    let expires_at =
        read_number(item, EXPIRES_AT).ok_or_else(|| unreadable("expires_at number"))?;
    let password_hash = match item.get(PASSWORD_HASH) {
        None => None,
        Some(AttributeValue::S(hash)) => Some(hash.clone()),
        Some(_) => return Err(unreadable("password_hash string")),
    };
    Ok(MailTokenRecord {
        purpose,
        username: username.clone(),
        expires_at,
        password_hash,
    })
}

#[async_trait]
impl AccountRecords for DynamoSessionStore {
    async fn put_mail_token(
        &self,
        token_hash: &str,
        record: &MailTokenRecord,
    ) -> Result<(), StoreError> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(KEY, text(&mail_token_key(token_hash)))
            .item(PURPOSE, text(record.purpose.name()))
            .item(USERNAME, text(&record.username))
            .item(EXPIRES_AT, number(record.expires_at));
        if let Some(hash) = &record.password_hash {
            put = put.item(PASSWORD_HASH, text(hash));
        }
        put.send().await.map_err(store_error)?;
        Ok(())
    }

    async fn take_mail_token(
        &self,
        token_hash: &str,
        purpose: Purpose,
        now: i64,
    ) -> Result<Option<MailTokenRecord>, StoreError> {
        let taken = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(KEY, text(&mail_token_key(token_hash)))
            // One delete: of concurrent takes, DynamoDB lets one through. A token of another
            // purpose stays, for its own route; one past its end is no token.
            .condition_expression(
                "attribute_exists(#pk) AND #purpose = :purpose AND #expires > :now",
            )
            .expression_attribute_names("#pk", KEY)
            .expression_attribute_names("#purpose", PURPOSE)
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_values(":purpose", text(purpose.name()))
            .expression_attribute_values(":now", number(now))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        match taken {
            Ok(output) => {
                let item = output.attributes.ok_or_else(|| {
                    StoreError::unavailable("a mail token's delete did not return its item")
                })?;
                mail_token_record(&item).map(Some)
            }
            Err(error) if is_condition_failure(&error) => Ok(None),
            Err(error) => Err(store_error(error)),
        }
    }

    async fn peek_mail_token(
        &self,
        token_hash: &str,
        purpose: Purpose,
        now: i64,
    ) -> Result<Option<MailTokenRecord>, StoreError> {
        let Some(item) = self.item(mail_token_key(token_hash), now).await? else {
            return Ok(None);
        };
        let record = mail_token_record(&item)?;
        Ok(Some(record).filter(|record| record.purpose == purpose && record.expires_at > now))
    }

    async fn claim_mail_slot(
        &self,
        address_key: &str,
        until: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let claimed = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(KEY, text(&mail_slot_key(address_key)))
            .item(EXPIRES_AT, number(until))
            // A slot past its end, which DynamoDB has not deleted yet, is no slot.
            .condition_expression("attribute_not_exists(#pk) OR #expires <= :now")
            .expression_attribute_names("#pk", KEY)
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_values(":now", number(now))
            .send()
            .await;
        match claimed {
            Ok(_) => Ok(true),
            Err(error) if is_condition_failure(&error) => Ok(false),
            Err(error) => Err(store_error(error)),
        }
    }

    async fn release_mail_slot(&self, address_key: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(KEY, text(&mail_slot_key(address_key)))
            .send()
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn count_request(&self, key: &str, window_end: i64, now: i64) -> Result<u64, StoreError> {
        if window_end <= now {
            return Ok(0);
        }
        let key = count_key(key);
        for _ in 0..COUNT_TRIES {
            // One more in the key's window, or the first of it.
            let counted = self
                .update(key.clone())
                .expression_attribute_names("#count", COUNT)
                .expression_attribute_values(":one", number(1))
                .expression_attribute_values(":end", number(window_end))
                .expression_attribute_values(":now", number(now))
                .update_expression("ADD #count :one SET #expires = if_not_exists(#expires, :end)")
                .condition_expression("attribute_not_exists(#expires) OR #expires > :now")
                .return_values(ReturnValue::UpdatedNew)
                .send()
                .await;
            match counted {
                Ok(output) => {
                    let count = output
                        .attributes
                        .as_ref()
                        .and_then(|item| read_number(item, COUNT))
                        .and_then(|count| u64::try_from(count).ok())
                        .ok_or_else(|| {
                            StoreError::unavailable("a request count's item has no count number")
                        })?;
                    return Ok(count);
                }
                Err(error) if !is_condition_failure(&error) => return Err(store_error(error)),
                Err(_) => {}
            }
            // The key's item is of a window that has ended, not deleted yet: this request is
            // the first of a new one (as in memory, where the old one is gone).
            let restarted = self
                .update(key.clone())
                .expression_attribute_names("#count", COUNT)
                .expression_attribute_values(":one", number(1))
                .expression_attribute_values(":end", number(window_end))
                .expression_attribute_values(":now", number(now))
                .update_expression("SET #count = :one, #expires = :end")
                .condition_expression("#expires <= :now")
                .send()
                .await;
            match restarted {
                Ok(_) => return Ok(1),
                Err(error) if !is_condition_failure(&error) => return Err(store_error(error)),
                // Another request started the new window first: count in it.
                Err(_) => {}
            }
        }
        Err(StoreError::unavailable(format!(
            "the request count's window changed {COUNT_TRIES} times in a row"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_prefixed_hashes_and_keys_never_tokens() {
        assert_eq!(mail_token_key("aGFzaA"), "mailtoken#aGFzaA");
        assert_eq!(mail_slot_key("a@example.com"), "mailslot#a@example.com");
        assert_eq!(
            count_key("signup#192.0.2.1#1700000000"),
            "count#signup#192.0.2.1#1700000000"
        );
        assert!(count_key(&"x".repeat(5000)).starts_with("count-sha256#"));
    }

    #[test]
    fn a_mail_token_item_of_another_shape_is_a_store_error_not_a_token() {
        let good = HashMap::from([
            (PURPOSE.to_owned(), text("recovery")),
            (USERNAME.to_owned(), text("ann@example.com")),
            (EXPIRES_AT.to_owned(), number(12)),
        ]);
        assert_eq!(
            mail_token_record(&good).unwrap(),
            MailTokenRecord {
                purpose: Purpose::Recovery,
                username: "ann@example.com".to_owned(),
                expires_at: 12,
                password_hash: None,
            }
        );
        for (field, value) in [
            (PURPOSE, text("admin")),
            (PURPOSE, number(1)),
            (USERNAME, AttributeValue::Bool(true)),
            (EXPIRES_AT, text("12")),
            (PASSWORD_HASH, number(7)),
        ] {
            let mut item = good.clone();
            item.insert(field.to_owned(), value);
            assert!(
                matches!(mail_token_record(&item), Err(StoreError::Unavailable(_))),
                "{field}"
            );
        }
    }
}

//! The lookup of a token's request in one `BatchGetItem` across the users and sessions tables:
//! the user, `token#<jti>` and `session#<sid>`, each read strongly consistent.

use std::{collections::HashMap, time::Duration};

use async_trait::async_trait;
use aws_sdk_dynamodb::{
    Client,
    types::{AttributeValue, KeysAndAttributes, builders::KeysAndAttributesBuilder},
};

use auth_core::{
    lookup::{TokenLookup, TokenQuery, TokenRecords},
    store::{StoreError, is_valid_key},
};

use crate::{
    client::{build_error, store_error},
    sessions::{self, in_force, session_revoked},
    users::{self, from_item},
};

/// DynamoDB may leave part of a batch unread when a partition is busy; the rest is asked for
/// again after a pause that doubles, from this one. The request's deadline bounds the whole.
const FIRST_PAUSE: Duration = Duration::from_millis(10);
/// Tries of one batch before its unread keys make it a store error.
const BATCH_TRIES: u32 = 8;

type Item = HashMap<String, AttributeValue>;

/// Both tables over one client. Cheap to clone; build one per cold start.
#[derive(Debug, Clone)]
pub struct DynamoTokenLookup {
    client: Client,
    users_table: String,
    sessions_table: String,
}

impl DynamoTokenLookup {
    pub fn new(
        client: Client,
        users_table: impl Into<String>,
        sessions_table: impl Into<String>,
    ) -> Self {
        Self {
            client,
            users_table: users_table.into(),
            sessions_table: sessions_table.into(),
        }
    }

    /// Every item of `request` (keys by table), in as many tries as DynamoDB needs.
    async fn batch_get(
        &self,
        mut request: HashMap<String, KeysAndAttributes>,
    ) -> Result<HashMap<String, Vec<Item>>, StoreError> {
        let mut found: HashMap<String, Vec<Item>> = HashMap::new();
        let mut pause = FIRST_PAUSE;
        for tries in 1..=BATCH_TRIES {
            let output = self
                .client
                .batch_get_item()
                .set_request_items(Some(request))
                .send()
                .await
                .map_err(store_error)?;
            for (table, items) in output.responses.unwrap_or_default() {
                found.entry(table).or_default().extend(items);
            }
            match output.unprocessed_keys {
                Some(unread) if !unread.is_empty() => request = unread,
                _ => return Ok(found),
            }
            if tries < BATCH_TRIES {
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
        }
        Err(StoreError::unavailable(format!(
            "DynamoDB left keys of a batch unread {BATCH_TRIES} times"
        )))
    }
}

/// A strongly consistent read of the items whose key attribute `key` has the values `values`.
fn consistent_read(key: &str, values: Vec<String>) -> KeysAndAttributesBuilder {
    values
        .into_iter()
        .fold(KeysAndAttributes::builder(), |builder, value| {
            builder.keys(HashMap::from([(key.to_owned(), AttributeValue::S(value))]))
        })
        .consistent_read(true)
}

/// The attributes of a token's and a session's items a lookup decides by: not a session's
/// record (user agent, source IP, times), which would only make every answer longer.
fn revocation_attributes(keys: KeysAndAttributesBuilder) -> KeysAndAttributesBuilder {
    keys.projection_expression("#key, #expires_at, #revoked")
        .expression_attribute_names("#key", sessions::KEY)
        .expression_attribute_names("#expires_at", sessions::EXPIRES_AT)
        .expression_attribute_names("#revoked", sessions::REVOKED)
}

#[async_trait]
impl TokenLookup for DynamoTokenLookup {
    async fn look_up(&self, query: &TokenQuery<'_>) -> Result<TokenRecords, StoreError> {
        let mut request = HashMap::new();
        // A name no user can have is not asked for (DynamoDB would refuse the whole batch).
        if is_valid_key(query.username) {
            let keys = consistent_read(users::USERNAME, vec![query.username.to_owned()]);
            request.insert(self.users_table.clone(), keys.build().map_err(build_error)?);
        }
        let token_key = query.jti.map(sessions::token_key);
        let session_key = query.session.map(sessions::session_key);
        let session_keys: Vec<String> = token_key.iter().chain(&session_key).cloned().collect();
        if !session_keys.is_empty() {
            let keys = revocation_attributes(consistent_read(sessions::KEY, session_keys));
            request.insert(
                self.sessions_table.clone(),
                keys.build().map_err(build_error)?,
            );
        }
        if request.is_empty() {
            return Ok(TokenRecords::Live(None));
        }
        let mut found = self.batch_get(request).await?;
        let session_items = found.remove(&self.sessions_table).unwrap_or_default();
        let revoked = session_items
            .iter()
            .filter(|item| in_force(item, query.now))
            .any(|item| {
                let key = item.get(sessions::KEY).and_then(|key| key.as_s().ok());
                key == token_key.as_ref() || (key == session_key.as_ref() && session_revoked(item))
            });
        if revoked {
            return Ok(TokenRecords::Revoked);
        }
        let user = found
            .remove(&self.users_table)
            .and_then(|items| items.into_iter().next())
            .map(|item| from_item(&item))
            .transpose()?;
        Ok(TokenRecords::Live(user))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A revocation must be in force for the very next request: every read of the batch is
    /// strongly consistent (moto, which the other tests use, reads consistently either way).
    #[test]
    fn every_read_of_the_batch_is_strongly_consistent() {
        let keys = consistent_read("pk", vec!["token#a".to_owned(), "session#b".to_owned()])
            .build()
            .unwrap();
        assert_eq!(keys.consistent_read(), Some(true));
        assert_eq!(keys.keys().len(), 2);
    }

    /// A session's record (user agent, source IP, times) is not read back by every request
    /// that shows a token: only what says whether the token is in force.
    #[test]
    fn tokens_and_sessions_are_read_for_their_revocation_only() {
        let keys = revocation_attributes(consistent_read("pk", vec!["session#b".to_owned()]))
            .build()
            .unwrap();
        assert_eq!(
            keys.projection_expression(),
            Some("#key, #expires_at, #revoked")
        );
        let names = keys.expression_attribute_names().unwrap();
        let mut read: Vec<&str> = names.values().map(String::as_str).collect();
        read.sort_unstable();
        assert_eq!(read, ["expires_at", "pk", "revoked"]);
        assert!(keys.consistent_read().unwrap());
    }
}

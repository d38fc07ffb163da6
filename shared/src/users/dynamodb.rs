//! Users in a DynamoDB table: partition key `username` (S); attributes `password_hash` (S, an
//! Argon2id PHC string), `created_at` (S, RFC 3339), `disabled` (BOOL, absent when enabled), and
//! any other attribute is a public profile field that `GET /profile` returns.
//!
//! Every call has a timeout well inside the functions' 10 s, so an unreachable, throttled or slow
//! table becomes a `StoreError` (503) rather than a Lambda timeout.

use std::{collections::HashMap, time::Duration};

use async_trait::async_trait;
use aws_config::{BehaviorVersion, SdkConfig, timeout::TimeoutConfig};
use aws_sdk_dynamodb::{
    Client,
    error::{DisplayErrorContext, ProvideErrorMetadata, SdkError},
    types::{
        AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
        ScalarAttributeType,
    },
};
use aws_smithy_http_client::tls;
use serde_json::{Map, Number, Value};

use super::{StoreError, User, UserStore};

pub const USERNAME: &str = "username";
pub const PASSWORD_HASH: &str = "password_hash";
pub const CREATED_AT: &str = "created_at";
pub const DISABLED: &str = "disabled";
pub const TOKENS_VALID_AFTER: &str = "tokens_valid_after";
/// Attributes that are the account itself, never public profile fields.
const ACCOUNT_FIELDS: [&str; 4] = [USERNAME, PASSWORD_HASH, DISABLED, TOKENS_VALID_AFTER];

/// Time to open a connection; a reachable endpoint answers far sooner.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Time for one attempt; the SDK retries throttling and transient failures.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
/// Time for a whole call, retries included: half the functions' 10 s timeout.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(5);

/// What an administrative update does to one attribute.
enum Change {
    Set(&'static str, AttributeValue),
    Remove(&'static str),
    None,
}

/// Whether an administrative update ends the user's sessions.
#[derive(PartialEq, Eq)]
enum Sessions {
    End,
    Keep,
}

/// An administrative change that could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("user {0} already exists (use --force to replace it)")]
    AlreadyExists(String),
    #[error("no user {0}")]
    NotFound(String),
    #[error("profile field {0} is reserved")]
    ReservedField(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The SDK's variable for a DynamoDB endpoint of one's own (a local server).
pub const ENDPOINT_VARIABLE: &str = "AWS_ENDPOINT_URL_DYNAMODB";

/// The AWS configuration every store client is built from: region, credentials and endpoint
/// (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_DYNAMODB`) from the standard places, with our timeouts
/// and an HTTPS client on rustls with ring, the smallest TLS stack the SDK offers.
pub async fn aws_config() -> SdkConfig {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build();
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https)
        .timeout_config(timeouts)
        .load()
        .await
}

/// A DynamoDB client with the configuration of `aws_config`. Build one per cold start and
/// share it (it is a cheap handle): loading the configuration is most of a client's cost.
pub async fn client() -> Client {
    let mut config = aws_sdk_dynamodb::config::Builder::from(&aws_config().await);
    // The template declares the variable so that a local run can set it; CloudFormation
    // and sam local pass it as "" otherwise, which the SDK would take for the endpoint and
    // fail every call with. Empty means unset, as for every other variable here.
    if std::env::var_os(ENDPOINT_VARIABLE).is_some_and(|value| value.is_empty()) {
        config.set_endpoint_url(None);
    }
    Client::from_conf(config.build())
}

/// Users in the DynamoDB table `table`. Cheap to clone; build one per cold start.
#[derive(Debug, Clone)]
pub struct DynamoUserStore {
    client: Client,
    table: String,
}

impl DynamoUserStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// A store over `table` with the client of `client()`.
    pub async fn connect(table: impl Into<String>) -> Self {
        Self::new(client().await, table)
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Creates the table as `template.yaml` declares it (for local servers and tests).
    pub async fn create_table(&self) -> Result<(), StoreError> {
        create_table(&self.client, &self.table, USERNAME).await
    }

    /// Stores `user`, created now. Refuses to replace an existing user unless `replace`;
    /// the refusal is a conditional write, so two concurrent adds cannot both succeed.
    pub async fn add(&self, user: &User, replace: bool) -> Result<(), AdminError> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(user)?));
        if !replace {
            put = put
                .condition_expression("attribute_not_exists(#username)")
                .expression_attribute_names("#username", USERNAME);
        }
        put.send().await.map_err(|error| {
            if is_condition_failure(&error) {
                AdminError::AlreadyExists(user.username.clone())
            } else {
                AdminError::Store(store_error(error))
            }
        })?;
        Ok(())
    }

    /// Replaces the password hash of an existing user, and ends every session they had.
    pub async fn set_password_hash(
        &self,
        username: &str,
        password_hash: &str,
    ) -> Result<(), AdminError> {
        let hash = AttributeValue::S(password_hash.to_owned());
        self.update(username, Change::Set(PASSWORD_HASH, hash), Sessions::End)
            .await
    }

    /// Disables an existing user (and ends every session they had) or enables them again.
    /// Enabling does not bring back the tokens of before the disable.
    pub async fn set_disabled(&self, username: &str, disabled: bool) -> Result<(), AdminError> {
        if disabled {
            let flag = AttributeValue::Bool(true);
            self.update(username, Change::Set(DISABLED, flag), Sessions::End)
                .await
        } else {
            self.update(username, Change::Remove(DISABLED), Sessions::Keep)
                .await
        }
    }

    /// Ends every session of an existing user: their tokens issued until now are refused.
    pub async fn end_sessions(&self, username: &str) -> Result<(), AdminError> {
        self.update(username, Change::None, Sessions::End).await
    }

    /// Makes `change` to an existing user, and ends their sessions if `sessions` says so.
    async fn update(
        &self,
        username: &str,
        change: Change,
        sessions: Sessions,
    ) -> Result<(), AdminError> {
        let mut set = Vec::new();
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(USERNAME, AttributeValue::S(username.to_owned()))
            .condition_expression("attribute_exists(#username)")
            .expression_attribute_names("#username", USERNAME);
        let mut expression = String::new();
        match change {
            Change::Set(field, value) => {
                set.push("#field = :value");
                update = update
                    .expression_attribute_names("#field", field)
                    .expression_attribute_values(":value", value);
            }
            Change::Remove(field) => {
                expression.push_str(" REMOVE #field");
                update = update.expression_attribute_names("#field", field);
            }
            Change::None => {}
        }
        if sessions == Sessions::End {
            set.push("#after = :after");
            update = update
                .expression_attribute_names("#after", TOKENS_VALID_AFTER)
                .expression_attribute_values(
                    ":after",
                    AttributeValue::N(sessions_end_now().to_string()),
                );
        }
        if !set.is_empty() {
            expression.insert_str(0, &format!("SET {}", set.join(", ")));
        }
        update
            .update_expression(expression.trim())
            .send()
            .await
            .map_err(|error| not_found_or_store(error, username))?;
        Ok(())
    }

    /// Deletes an existing user.
    pub async fn remove(&self, username: &str) -> Result<(), AdminError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(USERNAME, AttributeValue::S(username.to_owned()))
            .condition_expression("attribute_exists(#username)")
            .expression_attribute_names("#username", USERNAME)
            .send()
            .await
            .map_err(|error| not_found_or_store(error, username))?;
        Ok(())
    }

    /// Every user, sorted by username.
    pub async fn list(&self) -> Result<Vec<User>, StoreError> {
        let items: Vec<HashMap<String, AttributeValue>> = self
            .client
            .scan()
            .table_name(&self.table)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .map_err(store_error)?;
        let mut users = items.iter().map(from_item).collect::<Result<Vec<_>, _>>()?;
        users.sort_by(|a, b| a.username.cmp(&b.username));
        Ok(users)
    }
}

/// The `tokens_valid_after` that ends every session now: the next whole second, since `iat` is
/// in whole seconds and a token issued earlier in this second must be refused too. (Login waits
/// for that second before it issues tokens; see `login`.)
pub fn sessions_end_now() -> i64 {
    crate::tokens::unix_now_secs() + 1
}

/// DynamoDB refuses longer partition keys; no such user can exist.
pub const MAX_USERNAME_BYTES: usize = 2048;

#[async_trait]
impl UserStore for DynamoUserStore {
    async fn find(&self, username: &str) -> Result<Option<User>, StoreError> {
        // Asking would be a ValidationException, i.e. a 503 for what is the caller's mistake.
        if username.len() > MAX_USERNAME_BYTES {
            return Ok(None);
        }
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(USERNAME, AttributeValue::S(username.to_owned()))
            // A user just disabled or given a new password must not get in on a stale read.
            .consistent_read(true)
            .send()
            .await
            .map_err(store_error)?;
        output.item.as_ref().map(from_item).transpose()
    }
}

/// Creates the on-demand table `table` with the string partition key `key`, as the template's
/// tables are (for local servers and tests).
pub(crate) async fn create_table(
    client: &Client,
    table: &str,
    key: &str,
) -> Result<(), StoreError> {
    let attribute = AttributeDefinition::builder()
        .attribute_name(key)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(store_error)?;
    let schema = KeySchemaElement::builder()
        .attribute_name(key)
        .key_type(KeyType::Hash)
        .build()
        .map_err(store_error)?;
    client
        .create_table()
        .table_name(table)
        .attribute_definitions(attribute)
        .key_schema(schema)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .map_err(store_error)?;
    Ok(())
}

pub(crate) fn store_error(error: impl std::error::Error) -> StoreError {
    StoreError(DisplayErrorContext(error).to_string())
}

pub(crate) fn is_condition_failure<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    error
        .as_service_error()
        .and_then(ProvideErrorMetadata::code)
        == Some("ConditionalCheckFailedException")
}

fn not_found_or_store<E, R>(error: SdkError<E, R>, username: &str) -> AdminError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    if is_condition_failure(&error) {
        AdminError::NotFound(username.to_owned())
    } else {
        AdminError::Store(store_error(error))
    }
}

/// The item for `user`: its key, hash, creation time, `disabled` if set, and its profile fields.
fn to_item(user: &User) -> Result<HashMap<String, AttributeValue>, AdminError> {
    let mut item = HashMap::new();
    for (field, value) in &user.profile {
        // created_at is public but ours to set.
        if ACCOUNT_FIELDS.contains(&field.as_str()) || field == CREATED_AT {
            return Err(AdminError::ReservedField(field.clone()));
        }
        item.insert(field.clone(), to_attribute(value));
    }
    item.entry(CREATED_AT.to_owned()).or_insert_with(|| {
        AttributeValue::S(
            humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        )
    });
    item.insert(
        USERNAME.to_owned(),
        AttributeValue::S(user.username.clone()),
    );
    item.insert(
        PASSWORD_HASH.to_owned(),
        AttributeValue::S(user.password_hash.clone()),
    );
    if user.disabled {
        item.insert(DISABLED.to_owned(), AttributeValue::Bool(true));
    }
    if let Some(after) = user.tokens_valid_after {
        item.insert(
            TOKENS_VALID_AFTER.to_owned(),
            AttributeValue::N(after.to_string()),
        );
    }
    Ok(item)
}

fn from_item(item: &HashMap<String, AttributeValue>) -> Result<User, StoreError> {
    let text = |field: &str| match item.get(field) {
        Some(AttributeValue::S(value)) => Ok(value.clone()),
        _ => Err(StoreError(format!(
            "a users item has no string attribute {field}"
        ))),
    };
    let profile: Map<String, Value> = item
        .iter()
        .filter(|(field, _)| !ACCOUNT_FIELDS.contains(&field.as_str()))
        .filter_map(|(field, value)| to_json(value).map(|value| (field.clone(), value)))
        .collect();
    Ok(User {
        username: text(USERNAME)?,
        password_hash: text(PASSWORD_HASH)?,
        disabled: matches!(item.get(DISABLED), Some(AttributeValue::Bool(true))),
        tokens_valid_after: match item.get(TOKENS_VALID_AFTER) {
            Some(AttributeValue::N(seconds)) => Some(seconds.parse().map_err(|_| {
                StoreError(format!(
                    "a users item has a {TOKENS_VALID_AFTER} that is not an integer"
                ))
            })?),
            _ => None,
        },
        profile,
    })
}

fn to_attribute(value: &Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(flag) => AttributeValue::Bool(*flag),
        Value::Number(number) => AttributeValue::N(number.to_string()),
        Value::String(text) => AttributeValue::S(text.clone()),
        Value::Array(list) => AttributeValue::L(list.iter().map(to_attribute).collect()),
        Value::Object(map) => AttributeValue::M(
            map.iter()
                .map(|(k, v)| (k.clone(), to_attribute(v)))
                .collect(),
        ),
    }
}

/// The JSON of a profile attribute; binary attributes are not profile material and are left out.
fn to_json(value: &AttributeValue) -> Option<Value> {
    let number = |text: &str| text.parse::<Number>().ok().map(Value::Number);
    match value {
        AttributeValue::S(text) => Some(Value::String(text.clone())),
        AttributeValue::N(text) => number(text),
        AttributeValue::Bool(flag) => Some(Value::Bool(*flag)),
        AttributeValue::Null(_) => Some(Value::Null),
        AttributeValue::L(list) => Some(Value::Array(list.iter().filter_map(to_json).collect())),
        AttributeValue::M(map) => Some(Value::Object(
            map.iter()
                .filter_map(|(k, v)| to_json(v).map(|v| (k.clone(), v)))
                .collect(),
        )),
        AttributeValue::Ss(set) => Some(Value::Array(
            set.iter().cloned().map(Value::String).collect(),
        )),
        AttributeValue::Ns(set) => {
            Some(Value::Array(set.iter().filter_map(|n| number(n)).collect()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(profile: Value) -> User {
        User {
            username: "cosmo".into(),
            password_hash: "$argon2id$hash".into(),
            disabled: false,
            tokens_valid_after: None,
            profile: profile.as_object().cloned().unwrap(),
        }
    }

    #[test]
    fn item_round_trips_a_user_and_adds_created_at() {
        let original = user(
            json!({"id": 1, "display_name": "Cosmo", "tags": ["a"], "meta": {"n": 2.5, "ok": true}}),
        );
        let item = to_item(&original).unwrap();
        assert!(matches!(item.get(CREATED_AT), Some(AttributeValue::S(at)) if at.ends_with('Z')));
        assert!(!item.contains_key(DISABLED));
        let back = from_item(&item).unwrap();
        assert_eq!(back.username, "cosmo");
        assert_eq!(back.password_hash, "$argon2id$hash");
        assert_eq!(back.profile["id"], json!(1));
        assert_eq!(back.profile["meta"], json!({"n": 2.5, "ok": true}));
        assert_eq!(back.profile["tags"], json!(["a"]));
        assert!(back.profile.contains_key(CREATED_AT));
        assert!(!back.profile.contains_key(PASSWORD_HASH));
    }

    #[test]
    fn disabled_is_stored_only_when_true() {
        let item = to_item(&User {
            disabled: true,
            ..user(json!({}))
        })
        .unwrap();
        assert_eq!(item.get(DISABLED), Some(&AttributeValue::Bool(true)));
        assert!(from_item(&item).unwrap().disabled);
    }

    #[test]
    fn reserved_profile_fields_are_refused() {
        for field in [USERNAME, PASSWORD_HASH, DISABLED, CREATED_AT] {
            let error = to_item(&user(json!({field: "x"}))).unwrap_err();
            assert!(matches!(error, AdminError::ReservedField(name) if name == field));
        }
    }

    #[test]
    fn item_without_a_hash_is_a_store_error_not_a_user() {
        let item = HashMap::from([(USERNAME.to_owned(), AttributeValue::S("x".into()))]);
        assert!(from_item(&item).is_err());
    }
}

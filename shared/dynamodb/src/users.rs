//! Users in a DynamoDB table: partition key `username` (S); attributes `password_hash` (S, an
//! Argon2id PHC string), `created_at` (S, RFC 3339), `disabled` (BOOL, absent when enabled),
//! `tokens_valid_after` (N), `scopes` (SS, the user's OAuth scopes; absent when there are none,
//! since a DynamoDB set cannot be empty), and any other attribute is a public profile field
//! that `GET /profile` returns. The self-service attributes: `email` (S, the normalised
//! address, key of the keys-only index `email`), `unconfirmed` (BOOL, a sign-up not confirmed
//! yet), `signup_token` and `recovery_token` (S, the hashes of the mailed tokens still good) and
//! `kept_session` (S, the session a password change kept). The second factor's: `mfa_secret`
//! and `mfa_pending` (S, sealed secrets, never in clear), `mfa_last_step` (N) and
//! `mfa_recovery_codes` (SS, keyed hashes).
//!
//! The token routes only read it; the self-service routes write it through `AccountStore`
//! (`accounts`: a sign-up's `PutItem`, and conditional `UpdateItem`s), the second factor's
//! through `MfaStore` (`mfa`), `auth_admin` (the operator) through its own writes, each with
//! the item layout this module defines.

mod accounts;
mod mfa;

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::{Client, types::AttributeValue};
use serde_json::{Map, Number, Value};

use auth_core::{
    accounts::AccountFields,
    mfa::MfaFields,
    store::{StoreError, is_valid_key},
    users::{User, UserStore, is_valid_scope, sort_scopes},
};

use crate::client::{self, store_error};

pub const USERNAME: &str = "username";
pub const PASSWORD_HASH: &str = "password_hash";
pub const CREATED_AT: &str = "created_at";
pub const DISABLED: &str = "disabled";
pub const TOKENS_VALID_AFTER: &str = "tokens_valid_after";
pub const SCOPES: &str = "scopes";
/// The normalised address (S): the key of the `email` index.
pub const EMAIL: &str = "email";
/// The name of the users table's index by `EMAIL` (keys only: a user is read by username).
pub const EMAIL_INDEX: &str = "email";
/// BOOL, true while a sign-up's address is not confirmed; absent once it is.
pub const UNCONFIRMED: &str = "unconfirmed";
/// S: the hash of the one good sign-up token.
pub const SIGNUP_TOKEN: &str = "signup_token";
/// S: the hash of the one good recovery token.
pub const RECOVERY_TOKEN: &str = "recovery_token";
/// S: the session a password change kept.
pub const KEPT_SESSION: &str = "kept_session";
/// S: the confirmed second factor's secret, sealed (`auth-mfa`): never in clear.
pub const MFA_SECRET: &str = "mfa_secret";
/// S: a second factor being enrolled, sealed, until a code confirms it.
pub const MFA_PENDING: &str = "mfa_pending";
/// N: the last TOTP time step a code was accepted for.
pub const MFA_LAST_STEP: &str = "mfa_last_step";
/// SS: the keyed hashes of the recovery codes not used yet (absent when none are left).
pub const MFA_RECOVERY_CODES: &str = "mfa_recovery_codes";
/// Attributes that are the account itself, never public profile fields.
pub const ACCOUNT_FIELDS: [&str; 14] = [
    USERNAME,
    PASSWORD_HASH,
    DISABLED,
    TOKENS_VALID_AFTER,
    SCOPES,
    EMAIL,
    UNCONFIRMED,
    SIGNUP_TOKEN,
    RECOVERY_TOKEN,
    KEPT_SESSION,
    MFA_SECRET,
    MFA_PENDING,
    MFA_LAST_STEP,
    MFA_RECOVERY_CODES,
];

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

    /// A store over `table` with the client of `client::client()`.
    pub async fn connect(table: impl Into<String>) -> Self {
        Self::new(client::client().await, table)
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// The client it reads with, for the operator's writes to the same table (`auth_admin`).
    pub fn client(&self) -> &Client {
        &self.client
    }
}

#[async_trait]
impl UserStore for DynamoUserStore {
    async fn find(&self, username: &str) -> Result<Option<User>, StoreError> {
        // No such user can exist (the `users` command refuses to create one), and asking
        // would be refused: an empty `sub` or an overlong name is not found, as in memory.
        if !is_valid_key(username) {
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

pub fn from_item(item: &HashMap<String, AttributeValue>) -> Result<User, StoreError> {
    let text = |field: &str| match item.get(field) {
        Some(AttributeValue::S(value)) => Ok(value.clone()),
        _ => Err(StoreError::unavailable(format!(
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
        // Both end sessions: one of another type (an item edited by hand) is an item we cannot
        // read, never one read as "not disabled" or "no sessions ended", which would fail open.
        disabled: match item.get(DISABLED) {
            None => false,
            Some(AttributeValue::Bool(flag)) => *flag,
            Some(_) => {
                return Err(StoreError::unavailable(format!(
                    "a users item has a {DISABLED} that is not a boolean"
                )));
            }
        },
        tokens_valid_after: match item.get(TOKENS_VALID_AFTER) {
            None => None,
            Some(AttributeValue::N(seconds)) => Some(seconds.parse().map_err(|_| {
                StoreError::unavailable(format!(
                    "a users item has a {TOKENS_VALID_AFTER} that is not an integer"
                ))
            })?),
            Some(_) => {
                return Err(StoreError::unavailable(format!(
                    "a users item has a {TOKENS_VALID_AFTER} that is not a number"
                )));
            }
        },
        scopes: scopes_of(item)?,
        profile,
        account: account_of(item)?,
    })
}

/// The self-service fields of `item`; absent, an operator's account (confirmed, no address).
/// A field of another type is an item we cannot read, never one read as confirmed.
fn account_of(item: &HashMap<String, AttributeValue>) -> Result<AccountFields, StoreError> {
    let optional_text = |field: &str| match item.get(field) {
        None => Ok(None),
        Some(AttributeValue::S(value)) => Ok(Some(value.clone())),
        Some(_) => Err(StoreError::unavailable(format!(
            "a users item has a {field} that is not a string"
        ))),
    };
    Ok(AccountFields {
        email: optional_text(EMAIL)?,
        unconfirmed: match item.get(UNCONFIRMED) {
            None => false,
            Some(AttributeValue::Bool(flag)) => *flag,
            Some(_) => {
                return Err(StoreError::unavailable(format!(
                    "a users item has an {UNCONFIRMED} that is not a boolean"
                )));
            }
        },
        signup_token: optional_text(SIGNUP_TOKEN)?,
        recovery_token: optional_text(RECOVERY_TOKEN)?,
        kept_session: optional_text(KEPT_SESSION)?,
        mfa: MfaFields {
            secret: optional_text(MFA_SECRET)?,
            pending: optional_text(MFA_PENDING)?,
            last_step: match item.get(MFA_LAST_STEP) {
                None => None,
                Some(AttributeValue::N(step)) => Some(step.parse().map_err(|_| {
                    StoreError::unavailable(format!(
                        "a users item has an {MFA_LAST_STEP} that is not a whole number"
                    ))
                })?),
                Some(_) => {
                    return Err(StoreError::unavailable(format!(
                        "a users item has an {MFA_LAST_STEP} that is not a number"
                    )));
                }
            },
            recovery_codes: match item.get(MFA_RECOVERY_CODES) {
                None => Vec::new(),
                Some(AttributeValue::Ss(codes)) => codes.clone(),
                Some(_) => {
                    return Err(StoreError::unavailable(format!(
                        "a users item has an {MFA_RECOVERY_CODES} that is not a string set"
                    )));
                }
            },
        },
    })
}

/// The scopes of a users item, sorted. A `scopes` that is not a string set of scope-tokens is
/// an item we cannot read, as a `tokens_valid_after` that is no integer is: a grant must not be
/// read as another one (a scope with a space in it would be two in a `scope` claim).
pub fn scopes_of(item: &HashMap<String, AttributeValue>) -> Result<Vec<String>, StoreError> {
    let mut scopes = match item.get(SCOPES) {
        None => return Ok(Vec::new()),
        Some(AttributeValue::Ss(scopes)) if scopes.iter().all(|scope| is_valid_scope(scope)) => {
            scopes.clone()
        }
        Some(_) => {
            return Err(StoreError::unavailable(format!(
                "a users item has a {SCOPES} attribute that is not a string set of scope-tokens"
            )));
        }
    };
    // DynamoDB returns a set in no particular order.
    sort_scopes(&mut scopes);
    Ok(scopes)
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

    #[test]
    fn item_without_a_hash_is_a_store_error_not_a_user() {
        let item = HashMap::from([(USERNAME.to_owned(), AttributeValue::S("x".into()))]);
        let refused = from_item(&item);
        let Err(StoreError::Unavailable(detail)) = &refused else {
            panic!("expected Unavailable, got {refused:?}");
        };
        assert!(detail.contains(PASSWORD_HASH), "{detail}");
    }

    #[test]
    fn account_fields_are_not_profile_fields() {
        let item = HashMap::from([
            (USERNAME.to_owned(), AttributeValue::S("cosmo".into())),
            (
                PASSWORD_HASH.to_owned(),
                AttributeValue::S("$argon2id$hash".into()),
            ),
            (
                TOKENS_VALID_AFTER.to_owned(),
                AttributeValue::N("12".into()),
            ),
            (DISABLED.to_owned(), AttributeValue::Bool(true)),
            (SCOPES.to_owned(), AttributeValue::Ss(vec!["read".into()])),
            ("id".to_owned(), AttributeValue::N("1".into())),
        ]);
        let user = from_item(&item).unwrap();
        assert_eq!(user.tokens_valid_after, Some(12));
        assert!(user.disabled);
        assert_eq!(user.scopes, ["read"]);
        assert_eq!(Value::Object(user.profile), serde_json::json!({"id": 1}));
    }

    fn item_with(scopes: Option<AttributeValue>) -> HashMap<String, AttributeValue> {
        let mut item = HashMap::from([
            (USERNAME.to_owned(), AttributeValue::S("cosmo".into())),
            (
                PASSWORD_HASH.to_owned(),
                AttributeValue::S("$argon2id$hash".into()),
            ),
        ]);
        if let Some(scopes) = scopes {
            item.insert(SCOPES.to_owned(), scopes);
        }
        item
    }

    #[test]
    fn a_string_set_of_scopes_is_read_sorted_and_no_attribute_is_no_scopes() {
        let set = AttributeValue::Ss(vec!["write".into(), "admin:users".into(), "read".into()]);
        let user = from_item(&item_with(Some(set))).unwrap();
        assert_eq!(user.scopes, ["admin:users", "read", "write"]);
        assert!(from_item(&item_with(None)).unwrap().scopes.is_empty());
    }

    #[test]
    fn a_disabled_flag_or_sessions_end_of_another_type_is_a_store_error_not_ignored() {
        let malformed = [
            (DISABLED, AttributeValue::S("true".into())),
            (DISABLED, AttributeValue::N("1".into())),
            (TOKENS_VALID_AFTER, AttributeValue::S("1795910400".into())),
            (TOKENS_VALID_AFTER, AttributeValue::Bool(true)),
        ];
        for (field, value) in malformed {
            let mut item = item_with(None);
            item.insert(field.to_owned(), value.clone());
            let refused = from_item(&item);
            let Err(StoreError::Unavailable(detail)) = &refused else {
                panic!("{field} = {value:?}: expected Unavailable, got {refused:?}");
            };
            assert!(detail.contains(field), "{detail}");
        }
        let mut item = item_with(None);
        item.insert(DISABLED.to_owned(), AttributeValue::Bool(false));
        assert!(!from_item(&item).unwrap().disabled);
    }

    #[test]
    fn scopes_that_are_not_a_string_set_of_scope_tokens_are_a_store_error() {
        let malformed = [
            AttributeValue::S("read write".into()),
            AttributeValue::L(vec![AttributeValue::S("read".into())]),
            AttributeValue::Ns(vec!["1".into()]),
            AttributeValue::Null(true),
            AttributeValue::Ss(vec!["read".into(), "read write".into()]),
            AttributeValue::Ss(vec!["caf\u{e9}".into()]),
        ];
        for scopes in malformed {
            let refused = from_item(&item_with(Some(scopes.clone())));
            let Err(StoreError::Unavailable(detail)) = &refused else {
                panic!("{scopes:?}: expected Unavailable, got {refused:?}");
            };
            assert!(detail.contains(SCOPES), "{detail}");
        }
    }
}

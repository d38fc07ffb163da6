//! What only an operator does to the users table (the `users` command, and tests): create it,
//! add, change, give an address to, grant scopes to, end the sessions of, take the second
//! factor from, remove and list users, in the item layout `auth_dynamodb::users` reads.

use std::{
    collections::{BTreeSet, HashMap},
    time::{SystemTime, UNIX_EPOCH},
};

use aws_sdk_dynamodb::{
    error::SdkError,
    types::{AttributeValue, ReturnValue},
};
use serde_json::Value;

use auth_core::{
    accounts::{
        AccountStore,
        email::{self, EmailError},
    },
    clock::Clock,
    store::{MAX_KEY_BYTES, StoreError, is_valid_key},
    users::{MAX_SCOPE_BYTES, User, UserStore, is_valid_scope},
};
use auth_dynamodb::{
    DynamoUserStore,
    client::{is_condition_failure, refusal, store_error},
    users::{
        ACCOUNT_FIELDS, CREATED_AT, DISABLED, EMAIL, KEPT_SESSION, MFA_LAST_STEP, MFA_PENDING,
        MFA_RECOVERY_CODES, MFA_SECRET, PASSWORD_HASH, RECOVERY_TOKEN, SCOPES, SIGNUP_TOKEN,
        TOKENS_VALID_AFTER, USERNAME, from_item, scopes_of,
    },
};
use aws_sdk_dynamodb::Client;

use crate::tables::create_users_table;

/// An administrative change that could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("user {0} already exists (use --force to replace it)")]
    AlreadyExists(String),
    #[error("no user {0}")]
    NotFound(String),
    #[error("a username has 1 to {MAX_KEY_BYTES} bytes of UTF-8")]
    InvalidUsername,
    #[error("a profile field needs a name")]
    UnnamedField,
    /// DynamoDB refused the user's item: a profile it cannot hold (a number out of its range,
    /// an item over 400 KB).
    #[error("DynamoDB refused the user: {0}")]
    Refused(String),
    #[error("profile field {0} is reserved")]
    ReservedField(String),
    #[error("an account cannot be created in the future")]
    CreatedInTheFuture,
    #[error(
        "scope {0:?} is not a scope-token: 1 to {MAX_SCOPE_BYTES} printable ASCII characters, \
         none of them a space, \" or \\"
    )]
    InvalidScope(String),
    #[error("name at least one scope")]
    NoScopes,
    #[error("{0}")]
    InvalidEmail(#[from] EmailError),
    /// One address is one user's: mail for it (a reset) must reach one account.
    #[error("{email} is already the address of user {holder}: set-email {holder} to another first")]
    EmailTaken { email: String, holder: String },
    /// The address is another user's username: a sign-up account's, say, which it names.
    #[error("{email} is the username of another user: an address names one account")]
    EmailIsUsername { email: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What an administrative update does to the user's own attributes.
enum Change {
    Set(&'static str, AttributeValue),
    Remove(&'static [&'static str]),
    None,
}

/// Every attribute of a second factor: the confirmed one, one being enrolled, its last spent
/// step and its recovery codes.
const SECOND_FACTOR: [&str; 4] = [MFA_SECRET, MFA_PENDING, MFA_LAST_STEP, MFA_RECOVERY_CODES];

/// Whether an administrative update ends the user's sessions.
#[derive(PartialEq, Eq)]
enum Sessions {
    End,
    Keep,
}

/// The `tokens_valid_after` that ends every session now: the next whole second, since `iat` is
/// in whole seconds and a token issued earlier in this second must be refused too. (Login waits
/// for that second before it issues tokens; see `login`.)
pub fn sessions_end_now() -> i64 {
    Clock::System.unix_secs() + 1
}

/// The operator's hold on a users table. Cheap to clone.
#[derive(Debug, Clone)]
pub struct UserAdmin {
    client: Client,
    table: String,
}

impl UserAdmin {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The operator's hold on the table `store` reads, over its client.
    pub fn of(store: &DynamoUserStore) -> Self {
        Self::new(store.client().clone(), store.table())
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn client(&self) -> &Client {
        &self.client
    }

    /// Creates the table as `template.yaml` declares it (for local servers and tests).
    pub async fn create_table(&self) -> Result<(), StoreError> {
        create_users_table(&self.client, &self.table).await
    }

    /// Stores `user`, created now. Refuses to replace an existing user unless `replace`; the
    /// refusal is a conditional write, so two concurrent adds cannot both succeed.
    ///
    /// Every creation or replacement starts the account's token history afresh: its
    /// `tokens_valid_after` is its creation time, whatever `user` holds, so no token issued
    /// before this account existed (to a removed or replaced account of the same name, or
    /// before a password change that a replacement would otherwise forget) ever opens it.
    ///
    /// A user with an address (`user.account.email`) is stored with it normalised, unless
    /// another user has it or is named by it (`AdminError::EmailTaken`, `EmailIsUsername`).
    pub async fn add(&self, user: &User, replace: bool) -> Result<(), AdminError> {
        self.put(user, replace, SystemTime::now()).await
    }

    /// Stores `user` as an account that has existed since `created_at`, in the past: one moved
    /// here from another system (the Flask app) whose tokens issued since then must keep
    /// working. Tokens issued before `created_at` are refused (a token of its very second too,
    /// unless it is a whole second). It never replaces an account: a replacement dated back
    /// would bring back the tokens its predecessor's password change or removal ended.
    pub async fn import(&self, user: &User, created_at: SystemTime) -> Result<(), AdminError> {
        if created_at > SystemTime::now() {
            return Err(AdminError::CreatedInTheFuture);
        }
        self.put(user, false, created_at).await
    }

    async fn put(
        &self,
        user: &User,
        replace: bool,
        created_at: SystemTime,
    ) -> Result<(), AdminError> {
        if !is_valid_key(&user.username) {
            return Err(AdminError::InvalidUsername);
        }
        let mut item = to_item(user, created_at)?;
        if let Some(address) = &user.account.email {
            let address = self.free_address(&user.username, address).await?;
            item.insert(EMAIL.to_owned(), AttributeValue::S(address));
        }
        let mut put = self
            .client()
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        if !replace {
            put = put
                .condition_expression("attribute_not_exists(#username)")
                .expression_attribute_names("#username", USERNAME);
        }
        put.send().await.map_err(|error| {
            if is_condition_failure(&error) {
                AdminError::AlreadyExists(user.username.clone())
            } else if let Some(reason) = refusal(&error) {
                // The username is valid: what DynamoDB refuses is the operator's profile.
                AdminError::Refused(reason.to_owned())
            } else {
                AdminError::Store(store_error(error))
            }
        })?;
        Ok(())
    }

    /// `address` normalised, if no user but `username` has it: none has it as their address
    /// (by the `email` index) or as their username. Checked before the write, not in it (an
    /// index cannot be a write's condition): two operators giving one address to two users at
    /// the same moment could both succeed, and `find_by_email` then warns of it.
    async fn free_address(&self, username: &str, address: &str) -> Result<String, AdminError> {
        let address = email::normalise(address)?;
        let store = DynamoUserStore::new(self.client.clone(), &self.table);
        if let Some(holder) = store.find_by_email(&address).await?
            && holder.username != username
        {
            return Err(AdminError::EmailTaken {
                email: address,
                holder: holder.username,
            });
        }
        if address != username && store.find(&address).await?.is_some() {
            return Err(AdminError::EmailIsUsername { email: address });
        }
        Ok(address)
    }

    /// Gives an existing user the address `address` (normalised), the one mail for them goes
    /// to, unless another user has it (`free_address`). Mailed tokens still good die with the
    /// address they went to: a sign-up confirms, and a reset is asked for, at the new one. The
    /// user's sessions go on. The address as stored.
    pub async fn set_email(&self, username: &str, address: &str) -> Result<String, AdminError> {
        if !is_valid_key(username) {
            return Err(AdminError::NotFound(username.to_owned()));
        }
        let address = self.free_address(username, address).await?;
        self.client()
            .update_item()
            .table_name(&self.table)
            .key(USERNAME, AttributeValue::S(username.to_owned()))
            .condition_expression("attribute_exists(#username)")
            .update_expression("SET #email = :email REMOVE #signup, #recovery")
            .expression_attribute_names("#username", USERNAME)
            .expression_attribute_names("#email", EMAIL)
            .expression_attribute_names("#signup", SIGNUP_TOKEN)
            .expression_attribute_names("#recovery", RECOVERY_TOKEN)
            .expression_attribute_values(":email", AttributeValue::S(address.clone()))
            .send()
            .await
            .map_err(|error| not_found_or_store(error, username))?;
        Ok(address)
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
            self.update(username, Change::Remove(&[DISABLED]), Sessions::Keep)
                .await
        }
    }

    /// Ends every session of an existing user: their tokens issued until now are refused.
    pub async fn end_sessions(&self, username: &str) -> Result<(), AdminError> {
        self.update(username, Change::None, Sessions::End).await
    }

    /// Takes the second factor from an existing user who lost both their authenticator and
    /// their recovery codes, and ends every session they had: their password alone opens the
    /// account until they enrol a factor again.
    pub async fn mfa_reset(&self, username: &str) -> Result<(), AdminError> {
        // The sessions end too: whoever holds one (the lost phone, say) could otherwise enrol a
        // factor of their own and lock the user out; now only a login with the password can.
        self.update(username, Change::Remove(&SECOND_FACTOR), Sessions::End)
            .await
    }

    /// Makes `change` to an existing user, and ends their sessions if `sessions` says so.
    async fn update(
        &self,
        username: &str,
        change: Change,
        sessions: Sessions,
    ) -> Result<(), AdminError> {
        // No user has a name DynamoDB refuses as a key.
        if !is_valid_key(username) {
            return Err(AdminError::NotFound(username.to_owned()));
        }
        let mut set = Vec::new();
        let mut remove: Vec<String> = Vec::new();
        let mut update = self
            .client()
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
            Change::Remove(fields) => {
                for (index, field) in fields.iter().enumerate() {
                    let name = format!("#removed{index}");
                    update = update.expression_attribute_names(&name, *field);
                    remove.push(name);
                }
            }
            Change::None => {}
        }
        if sessions == Sessions::End {
            set.push("#after = :after");
            // Every session ends: the one a password change kept too, and a reset link mailed
            // before (it would set a password the operator did not choose).
            remove.extend(["#kept".to_owned(), "#recovery".to_owned()]);
            update = update
                .expression_attribute_names("#kept", KEPT_SESSION)
                .expression_attribute_names("#recovery", RECOVERY_TOKEN)
                .expression_attribute_names("#after", TOKENS_VALID_AFTER)
                .expression_attribute_values(
                    ":after",
                    AttributeValue::N(sessions_end_now().to_string()),
                );
        }
        if !set.is_empty() {
            expression.push_str(&format!("SET {}", set.join(", ")));
        }
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        update
            .update_expression(expression.trim())
            .send()
            .await
            .map_err(|error| not_found_or_store(error, username))?;
        Ok(())
    }

    /// Grants `scopes` to an existing user, in one conditional write that adds them to the
    /// user's string set: a scope they have already is no change. Their tokens are left alone:
    /// the scopes are theirs from their next access token on. The user's scopes after it.
    pub async fn grant_scopes(
        &self,
        username: &str,
        scopes: &[&str],
    ) -> Result<Vec<String>, AdminError> {
        self.change_scopes(username, "ADD", scopes).await
    }

    /// Takes `scopes` from an existing user, in one conditional write that deletes them from the
    /// user's string set: a scope they do not have is no change, and taking the last one leaves
    /// no `scopes` attribute. Their sessions are not ended: an access token already issued keeps
    /// the scopes it carries until it expires; their next one has the user's scopes of then.
    /// The user's scopes after it.
    pub async fn revoke_scopes(
        &self,
        username: &str,
        scopes: &[&str],
    ) -> Result<Vec<String>, AdminError> {
        self.change_scopes(username, "DELETE", scopes).await
    }

    /// `action` (`ADD` or `DELETE`) of `scopes` on the string set of an existing user.
    async fn change_scopes(
        &self,
        username: &str,
        action: &str,
        scopes: &[&str],
    ) -> Result<Vec<String>, AdminError> {
        // Checked on revoke too: "read write" as one argument, revoked as a no-op, would leave
        // the operator believing two scopes were taken.
        let scopes = scope_set(scopes.iter().copied())?;
        if scopes.is_empty() {
            return Err(AdminError::NoScopes);
        }
        if !is_valid_key(username) {
            return Err(AdminError::NotFound(username.to_owned()));
        }
        let output = self
            .client()
            .update_item()
            .table_name(&self.table)
            .key(USERNAME, AttributeValue::S(username.to_owned()))
            .condition_expression("attribute_exists(#username)")
            .update_expression(format!("{action} #scopes :scopes"))
            .expression_attribute_names("#username", USERNAME)
            .expression_attribute_names("#scopes", SCOPES)
            .expression_attribute_values(":scopes", AttributeValue::Ss(scopes))
            // The whole item, not UPDATED_NEW: a server may leave out an attribute the update
            // did not change (moto does, for a scope granted again). The set is absent when the
            // last scope went, which reads as none.
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(|error| {
                if let Some(reason) = refusal(&error) {
                    // The key and the scopes are valid: what DynamoDB refuses is the item (a
                    // `scopes` that is not a string set, or an item grown past 400 KB).
                    AdminError::Refused(reason.to_owned())
                } else {
                    not_found_or_store(error, username)
                }
            })?;
        Ok(scopes_of(&output.attributes.unwrap_or_default())?)
    }

    /// Deletes an existing user.
    pub async fn remove(&self, username: &str) -> Result<(), AdminError> {
        if !is_valid_key(username) {
            return Err(AdminError::NotFound(username.to_owned()));
        }
        self.client()
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
            .client()
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

fn not_found_or_store<E, R>(error: SdkError<E, R>, username: &str) -> AdminError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    if is_condition_failure(&error) {
        AdminError::NotFound(username.to_owned())
    } else {
        AdminError::Store(store_error(error))
    }
}

/// `scopes` as a DynamoDB string set: each a scope-token, each once (a set refuses duplicates).
fn scope_set<'a>(scopes: impl IntoIterator<Item = &'a str>) -> Result<Vec<String>, AdminError> {
    let mut set = BTreeSet::new();
    for scope in scopes {
        if !is_valid_scope(scope) {
            return Err(AdminError::InvalidScope(scope.to_owned()));
        }
        set.insert(scope.to_owned());
    }
    Ok(set.into_iter().collect())
}

/// The first second whose tokens an account created at `created_at` accepts: that second if
/// the account is as old as all of it, else the next (`iat` counts whole seconds).
fn tokens_valid_from(created_at: SystemTime) -> i64 {
    let since_epoch = created_at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let whole = i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX);
    if since_epoch.subsec_nanos() == 0 {
        whole
    } else {
        whole.saturating_add(1)
    }
}

/// The item for `user`, created at `created_at`: its key, hash, creation time, the
/// `tokens_valid_after` that follows from it, `disabled` if set, its scopes if it has any, and
/// its profile fields.
fn to_item(
    user: &User,
    created_at: SystemTime,
) -> Result<HashMap<String, AttributeValue>, AdminError> {
    let mut item = HashMap::new();
    for (field, value) in &user.profile {
        // created_at is public but ours to set.
        if ACCOUNT_FIELDS.contains(&field.as_str()) || field == CREATED_AT {
            return Err(AdminError::ReservedField(field.clone()));
        }
        if field.is_empty() {
            return Err(AdminError::UnnamedField);
        }
        item.insert(field.clone(), to_attribute(value));
    }
    item.insert(
        CREATED_AT.to_owned(),
        AttributeValue::S(humantime::format_rfc3339_seconds(created_at).to_string()),
    );
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
    let scopes = scope_set(user.scopes.iter().map(String::as_str))?;
    // A DynamoDB set cannot be empty: no attribute is no scopes.
    if !scopes.is_empty() {
        item.insert(SCOPES.to_owned(), AttributeValue::Ss(scopes));
    }
    item.insert(
        TOKENS_VALID_AFTER.to_owned(),
        AttributeValue::N(tokens_valid_from(created_at).to_string()),
    );
    Ok(item)
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    fn user(profile: Value) -> User {
        User {
            username: "cosmo".into(),
            password_hash: "$argon2id$hash".into(),
            disabled: false,
            tokens_valid_after: None,
            scopes: Vec::new(),
            profile: profile.as_object().cloned().unwrap(),
            account: Default::default(),
        }
    }

    #[test]
    fn item_round_trips_a_user_and_adds_created_at() {
        let original = user(
            json!({"id": 1, "display_name": "Cosmo", "tags": ["a"], "meta": {"n": 2.5, "ok": true}}),
        );
        let item = to_item(&original, SystemTime::now()).unwrap();
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

    fn at(seconds: u64, millis: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds) + Duration::from_millis(millis)
    }

    #[test]
    fn a_new_record_refuses_tokens_from_before_it_whatever_the_user_held() {
        for held in [None, Some(0), Some(i64::MAX)] {
            let item = to_item(
                &User {
                    tokens_valid_after: held,
                    ..user(json!({}))
                },
                at(1_700_000_000, 250),
            )
            .unwrap();
            // Created during second 1_700_000_000: a token of that second may be older.
            assert_eq!(
                from_item(&item).unwrap().tokens_valid_after,
                Some(1_700_000_001)
            );
        }
        let whole = to_item(&user(json!({})), at(1_700_000_000, 0)).unwrap();
        assert_eq!(
            from_item(&whole).unwrap().tokens_valid_after,
            Some(1_700_000_000)
        );
        assert_eq!(
            whole.get(CREATED_AT),
            Some(&AttributeValue::S("2023-11-14T22:13:20Z".into()))
        );
    }

    #[test]
    fn disabled_is_stored_only_when_true() {
        let item = to_item(
            &User {
                disabled: true,
                ..user(json!({}))
            },
            SystemTime::now(),
        )
        .unwrap();
        assert_eq!(item.get(DISABLED), Some(&AttributeValue::Bool(true)));
        assert!(from_item(&item).unwrap().disabled);
    }

    #[test]
    fn reserved_profile_fields_are_refused() {
        for field in [
            USERNAME,
            PASSWORD_HASH,
            DISABLED,
            CREATED_AT,
            TOKENS_VALID_AFTER,
            SCOPES,
        ] {
            let error = to_item(&user(json!({field: "x"})), SystemTime::now()).unwrap_err();
            assert!(matches!(error, AdminError::ReservedField(name) if name == field));
        }
    }

    #[test]
    fn scopes_are_stored_as_a_string_set_each_once_and_none_as_no_attribute() {
        let scoped = User {
            scopes: vec!["write".into(), "read".into(), "write".into()],
            ..user(json!({}))
        };
        let item = to_item(&scoped, SystemTime::now()).unwrap();
        assert_eq!(
            item.get(SCOPES),
            Some(&AttributeValue::Ss(vec!["read".into(), "write".into()]))
        );
        assert_eq!(from_item(&item).unwrap().scopes, ["read", "write"]);
        let unscoped = to_item(&user(json!({})), SystemTime::now()).unwrap();
        assert!(!unscoped.contains_key(SCOPES));
    }

    #[test]
    fn a_user_with_an_invalid_scope_is_refused_naming_it() {
        for bad in [
            "read write",
            "",
            "a\\b",
            "\"q\"",
            &"x".repeat(MAX_SCOPE_BYTES + 1),
        ] {
            let invalid = User {
                scopes: vec!["read".into(), bad.to_owned()],
                ..user(json!({}))
            };
            let error = to_item(&invalid, SystemTime::now()).unwrap_err();
            assert!(
                matches!(&error, AdminError::InvalidScope(scope) if scope == bad),
                "{bad:?}: {error:?}"
            );
            assert!(error.to_string().contains(&format!("{bad:?}")), "{error}");
        }
    }
}

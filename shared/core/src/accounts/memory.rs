//! The self-service writes of the in-memory user store (the local server's, the tests').

use async_trait::async_trait;
use serde_json::json;

use super::{AccountFields, AccountStore, ChangeCondition, NewAccount, PasswordChange, Purpose};
use crate::{
    store::{StoreError, is_valid_key},
    users::{InMemoryUserStore, User},
};

/// Each write under the one lock: as atomic as DynamoDB's conditional writes.
#[async_trait]
impl AccountStore for InMemoryUserStore {
    async fn find_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        self.write(|users| {
            users
                .values()
                .find(|user| user.account.email.as_deref() == Some(email))
                .cloned()
        })
    }

    async fn create(&self, account: &NewAccount<'_>) -> Result<bool, StoreError> {
        if !is_valid_key(account.email) {
            return Ok(false);
        }
        self.write(|users| {
            if users.contains_key(account.email) {
                return false;
            }
            let mut profile = serde_json::Map::new();
            profile.insert(
                "created_at".to_owned(),
                json!(
                    humantime::format_rfc3339_seconds(
                        std::time::UNIX_EPOCH
                            + std::time::Duration::from_secs(
                                u64::try_from(account.created_at).unwrap_or(0)
                            )
                    )
                    .to_string()
                ),
            );
            users.insert(
                account.email.to_owned(),
                User {
                    username: account.email.to_owned(),
                    password_hash: account.password_hash.to_owned(),
                    disabled: false,
                    // A token of an earlier account of the name (removed, signed up again) is
                    // not this account's.
                    tokens_valid_after: Some(account.created_at),
                    scopes: Vec::new(),
                    profile,
                    account: AccountFields {
                        email: Some(account.email.to_owned()),
                        unconfirmed: true,
                        signup_token: Some(account.signup_token.to_owned()),
                        ..AccountFields::default()
                    },
                },
            );
            true
        })
    }

    async fn set_mail_token(
        &self,
        username: &str,
        purpose: Purpose,
        token_hash: &str,
        unconfirmed_password: Option<&str>,
    ) -> Result<bool, StoreError> {
        self.write(|users| {
            let Some(user) = users.get_mut(username) else {
                return false;
            };
            if let Some(hash) = unconfirmed_password {
                if !user.account.unconfirmed {
                    return false;
                }
                user.password_hash = hash.to_owned();
            }
            let token = Some(token_hash.to_owned());
            match purpose {
                Purpose::Signup => user.account.signup_token = token,
                Purpose::Recovery => user.account.recovery_token = token,
            }
            true
        })
    }

    async fn confirm(
        &self,
        username: &str,
        token_hash: &str,
        password_hash: &str,
    ) -> Result<bool, StoreError> {
        self.write(|users| match users.get_mut(username) {
            Some(user) if user.account.signup_token.as_deref() == Some(token_hash) => {
                user.account.signup_token = None;
                user.account.unconfirmed = false;
                user.password_hash = password_hash.to_owned();
                true
            }
            _ => false,
        })
    }

    async fn set_password(&self, change: &PasswordChange<'_>) -> Result<bool, StoreError> {
        self.write(|users| {
            let Some(user) = users.get_mut(change.username) else {
                return false;
            };
            let holds = match change.condition {
                ChangeCondition::PasswordIs(hash) => user.password_hash == hash,
                ChangeCondition::RecoveryToken(token) => {
                    user.account.recovery_token.as_deref() == Some(token)
                }
            };
            if !holds {
                return false;
            }
            user.password_hash = change.password_hash.to_owned();
            user.tokens_valid_after = Some(change.valid_after);
            user.account.kept_session = change.kept_session.map(str::to_owned);
            user.account.recovery_token = None;
            true
        })
    }
}

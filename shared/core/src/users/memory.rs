//! Users held in memory: the local server's default store, and the handlers' tests'.

use std::{collections::HashMap, sync::RwLock};

use async_trait::async_trait;
use serde_json::json;

use super::AccountFields;
use super::{DEMO_PASSWORD_HASH, DEMO_USERNAME, User, UserStore, sort_scopes};
use crate::store::{StoreError, is_valid_key};

/// Users held in memory: the local server's store, and the handlers' tests'.
#[derive(Debug, Default)]
pub struct InMemoryUserStore {
    users: RwLock<HashMap<String, User>>,
}

impl InMemoryUserStore {
    /// A store holding `users`, each with its scopes sorted and without duplicates, as
    /// DynamoDB's string set reads.
    pub fn new(users: impl IntoIterator<Item = User>) -> Self {
        Self {
            users: RwLock::new(
                users
                    .into_iter()
                    .map(|mut user| {
                        sort_scopes(&mut user.scopes);
                        (user.username.clone(), user)
                    })
                    .collect(),
            ),
        }
    }

    /// Changes the user `username` with `change`, as an administrator would; false if there is
    /// no such user. The scopes `change` leaves are sorted and without duplicates, as in `new`.
    pub fn update(&self, username: &str, change: impl FnOnce(&mut User)) -> bool {
        let Ok(mut users) = self.users.write() else {
            return false;
        };
        users
            .get_mut(username)
            .map(|user| {
                change(user);
                sort_scopes(&mut user.scopes);
            })
            .is_some()
    }

    /// The seed app's database: `cosmo` (id 1), password `space-corgi`, stored as its hash.
    pub fn demo() -> Self {
        Self::new([Self::demo_user()])
    }

    /// The seed app's one user.
    pub fn demo_user() -> User {
        User {
            username: DEMO_USERNAME.to_owned(),
            password_hash: DEMO_PASSWORD_HASH.to_owned(),
            disabled: false,
            tokens_valid_after: None,
            scopes: Vec::new(),
            profile: json!({"id": 1}).as_object().cloned().unwrap_or_default(),
            account: AccountFields::default(),
        }
    }
}

#[async_trait]
impl UserStore for InMemoryUserStore {
    async fn find(&self, username: &str) -> Result<Option<User>, StoreError> {
        // DynamoDB's key rule, so that a name no user can have there is not found here either.
        if !is_valid_key(username) {
            return Ok(None);
        }
        let users = self
            .users
            .read()
            .map_err(|_| StoreError::unavailable("the in-memory user store is poisoned"))?;
        Ok(users.get(username).cloned())
    }
}

impl InMemoryUserStore {
    /// Runs `change` over every user under the write lock: one atomic step, as a DynamoDB
    /// conditional write is (the self-service writes, `crate::accounts`).
    pub(crate) fn write<T>(
        &self,
        change: impl FnOnce(&mut HashMap<String, User>) -> T,
    ) -> Result<T, StoreError> {
        let mut users = self
            .users
            .write()
            .map_err(|_| StoreError::unavailable("the in-memory user store is poisoned"))?;
        Ok(change(&mut users))
    }
}

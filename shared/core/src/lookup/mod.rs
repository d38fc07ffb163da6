//! What a request with a token reads from the stores: the user it names, and whether it or its
//! session is revoked. One call for all of it, so that a store holding both can answer in one
//! round trip (DynamoDB: one `BatchGetItem` across both tables), where asking the user store
//! and the session store apart costs a request each (`SeparateLookup`, for the in-memory
//! stores; `auth_dynamodb::DynamoTokenLookup` is the one round trip).

use std::sync::Arc;

use async_trait::async_trait;

use crate::{sessions::SessionStore, store::StoreError, users::User, users::UserStore};

/// What a token's request asks the stores: about the user `username` and the token `jti` of
/// the session `session`, at `now` (seconds since the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenQuery<'a> {
    pub username: &'a str,
    pub jti: Option<&'a str>,
    pub session: Option<&'a str>,
    pub now: i64,
}

/// What the stores answer.
#[derive(Debug, Clone, PartialEq)]
#[expect(
    clippy::large_enum_variant,
    reason = "one per request, moved once: boxing the user would allocate for every live token"
)]
pub enum TokenRecords {
    /// The token, or its session, is revoked: nothing else matters (flask-jwt-extended checks
    /// its blocklist before it loads the user).
    Revoked,
    /// Not revoked; the user, if there is one by that name.
    Live(Option<User>),
}

#[async_trait]
pub trait TokenLookup: Send + Sync {
    /// Reads the latest writes: a logout or a password change is in force for the very next
    /// request.
    async fn look_up(&self, query: &TokenQuery<'_>) -> Result<TokenRecords, StoreError>;
}

/// Both stores asked at once, a call each: for stores that cannot answer together (in memory).
pub struct SeparateLookup {
    users: Arc<dyn UserStore>,
    sessions: Arc<dyn SessionStore>,
}

impl SeparateLookup {
    pub fn new(users: Arc<dyn UserStore>, sessions: Arc<dyn SessionStore>) -> Self {
        Self { users, sessions }
    }
}

#[async_trait]
impl TokenLookup for SeparateLookup {
    async fn look_up(&self, query: &TokenQuery<'_>) -> Result<TokenRecords, StoreError> {
        let (revoked, user) = tokio::join!(
            self.sessions
                .is_revoked(query.jti, query.session, query.now),
            self.users.find(query.username)
        );
        // A revoked token is refused even when its user could not be read.
        if revoked? {
            return Ok(TokenRecords::Revoked);
        }
        Ok(TokenRecords::Live(user?))
    }
}

//! Users: the `UserStore` trait, the in-memory store, and password authentication. The
//! DynamoDB store is `auth_dynamodb::DynamoUserStore`; what an operator does to users is
//! `auth_admin`.

mod account;
mod memory;
mod mfa;

use std::fmt;

use async_trait::async_trait;
use serde_json::{Map, Value};

pub use account::{AccountFields, Purpose};
pub use memory::InMemoryUserStore;
pub use mfa::MfaFields;

use crate::{
    passwords::{self, PasswordChecker},
    store::StoreError,
};

/// The demo user of the seed app, available in the local server's embedded store.
pub const DEMO_USERNAME: &str = "cosmo";
/// Argon2id hash of the demo password `space-corgi`; the plain text is never stored.
pub const DEMO_PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$6Sd5h+4HfnlFfC0zSW4gxg$jvQWbu55aMwyUYTkRCKTL1bnQAJ+goicY8EsYrIERVE";

/// A stored user.
#[derive(Clone, PartialEq)]
pub struct User {
    pub username: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// A disabled user can neither log in nor use the tokens they already have.
    pub disabled: bool,
    /// Tokens issued before this time (seconds since the epoch) are refused: set when the
    /// password changes or the user is disabled, it ends every session the user had.
    pub tokens_valid_after: Option<i64>,
    /// The OAuth scopes granted to the user, each an RFC 6749 scope-token (`is_valid_scope`):
    /// sorted, without duplicates, empty for a user without scopes. The stores read them so;
    /// whoever builds a `User` by hand keeps them so.
    pub scopes: Vec<String>,
    /// Public profile fields, returned by `GET /profile` (`created_at` among them in DynamoDB).
    pub profile: Map<String, Value>,
    /// The self-service state: address, confirmation, the mailed tokens still good.
    pub account: AccountFields,
}

/// The longest scope a user can be granted, in bytes. RFC 6749 sets no limit; this one keeps a
/// token's `scope` claim, and the user's item, to a sane size.
pub const MAX_SCOPE_BYTES: usize = 128;

/// Whether `scope` is an RFC 6749 §3.3 scope-token (`1*( %x21 / %x23-5B / %x5D-7E )`:
/// printable ASCII but space, `"` and `\`) of at most `MAX_SCOPE_BYTES` bytes. Only such a
/// scope can be joined with others into a space-separated `scope` without changing its meaning.
pub fn is_valid_scope(scope: &str) -> bool {
    (1..=MAX_SCOPE_BYTES).contains(&scope.len())
        && scope
            .bytes()
            .all(|byte| matches!(byte, 0x21 | 0x23..=0x5B | 0x5D..=0x7E))
}

/// Puts `scopes` in the order `User::scopes` promises: sorted, each once.
pub fn sort_scopes(scopes: &mut Vec<String>) {
    scopes.sort_unstable();
    scopes.dedup();
}

impl User {
    /// Whether a token issued at `issued_at` (its `iat`) predates the user's last password
    /// change or disable. A token without `iat` cannot show that it does not.
    pub fn outlived(&self, issued_at: Option<i64>) -> bool {
        self.tokens_valid_after
            .is_some_and(|after| issued_at.is_none_or(|iat| iat < after))
    }

    /// `outlived`, for a token of `session`: the session a password change kept
    /// (`AccountFields::kept_session`) outlives nothing.
    pub fn outlived_in(&self, issued_at: Option<i64>, session: Option<&str>) -> bool {
        let kept =
            session.is_some_and(|session| self.account.kept_session.as_deref() == Some(session));
        !kept && self.outlived(issued_at)
    }

    /// The oldest start a live session of this user can have (`SessionStore::end_session_of`):
    /// those begun before the user's `tokens_valid_after` were ended by it, but the session a
    /// password change kept, which has no such bound.
    pub fn sessions_not_before(&self, session: &str) -> Option<i64> {
        let kept = self.account.kept_session.as_deref() == Some(session);
        self.tokens_valid_after.filter(|_| !kept)
    }

    /// The record a client may see: the profile fields, the username and the address, never
    /// the hash or a token's.
    pub fn public_record(&self) -> Map<String, Value> {
        let mut record = self.profile.clone();
        record.insert("username".to_owned(), Value::String(self.username.clone()));
        if let Some(email) = &self.account.email {
            record.insert("email".to_owned(), Value::String(email.clone()));
        }
        record
    }
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("username", &self.username)
            .field("password_hash", &"<redacted>")
            .field("disabled", &self.disabled)
            .field("tokens_valid_after", &self.tokens_valid_after)
            .field("scopes", &self.scopes)
            .field("profile", &self.profile)
            .field("email", &self.account.email.is_some())
            .field("unconfirmed", &self.account.unconfirmed)
            .finish_non_exhaustive()
    }
}

/// Where users live. Usernames are case-sensitive.
#[async_trait]
pub trait UserStore: Send + Sync {
    async fn find(&self, username: &str) -> Result<Option<User>, StoreError>;
}

/// The user whose password is `password`, or `None` for a wrong password, a disabled user and an
/// unknown user alike. Each costs one Argon2 check, so timing does not tell them apart.
pub async fn authenticate(
    store: &dyn UserStore,
    checker: &PasswordChecker,
    username: &str,
    password: &str,
) -> Result<Option<User>, StoreError> {
    Ok(check_password(checker, store.find(username).await?, password).await)
}

/// `user`, if there is one, `password` is theirs and they are not disabled. One Argon2 check
/// whether or not there is a user (an unknown one is checked against a dummy hash), so the
/// time taken does not tell them apart.
pub async fn check_password(
    checker: &PasswordChecker,
    user: Option<User>,
    password: &str,
) -> Option<User> {
    match user {
        Some(user) if checker.verify(password, &user.password_hash).await && !user.disabled => {
            Some(user)
        }
        Some(_) => None,
        None => {
            checker.verify(password, passwords::DUMMY_HASH).await;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn checker() -> PasswordChecker {
        PasswordChecker::new(1)
    }

    #[tokio::test]
    async fn scopes_an_update_leaves_are_read_sorted_once_each() {
        let store = InMemoryUserStore::demo();
        assert!(store.update("cosmo", |user| {
            user.scopes = vec!["write".into(), "read".into(), "write".into()];
        }));
        let user = store.find("cosmo").await.unwrap().unwrap();
        assert_eq!(user.scopes, ["read", "write"]);
    }

    #[test]
    fn a_scope_token_is_1_to_128_bytes_of_printable_ascii_but_space_quote_and_backslash() {
        for valid in [
            "read",
            "!",
            "~",
            "admin:users",
            "a/b.c-d_e",
            &"x".repeat(128),
        ] {
            assert!(is_valid_scope(valid), "{valid:?}");
        }
        let every_allowed: String = (0x21u8..=0x7E)
            .filter(|byte| !matches!(byte, b'"' | b'\\'))
            .map(char::from)
            .collect();
        assert!(is_valid_scope(&every_allowed), "{every_allowed}");
        for invalid in [
            "",
            "read write",
            " read",
            "\"read\"",
            "a\\b",
            "tab\there",
            "nul\0",
            "del\u{7f}",
            "caf\u{e9}",
            &"x".repeat(129),
        ] {
            assert!(!is_valid_scope(invalid), "{invalid:?}");
        }
    }

    /// A password change or an operator's `end-sessions` refuses every token issued before
    /// it, in whole seconds (`iat`), and a token without `iat`, which cannot show it is newer;
    /// a user who never ended their sessions refuses none.
    #[test]
    fn a_token_outlives_its_user_when_issued_before_the_sessions_ended_or_without_iat() {
        let user = |after| User {
            tokens_valid_after: after,
            ..InMemoryUserStore::demo_user()
        };
        assert!(user(Some(100)).outlived(Some(99)));
        assert!(user(Some(100)).outlived(None));
        assert!(!user(Some(100)).outlived(Some(100)));
        assert!(!user(Some(100)).outlived(Some(101)));
        assert!(!user(None).outlived(Some(5)));
        assert!(!user(None).outlived(None));
    }

    #[test]
    fn scopes_show_in_debug_but_not_in_the_public_record() {
        let user = User {
            scopes: vec!["read".into()],
            ..InMemoryUserStore::demo_user()
        };
        assert!(format!("{user:?}").contains(r#"scopes: ["read"]"#));
        assert_eq!(
            Value::Object(user.public_record()),
            json!({"id": 1, "username": "cosmo"})
        );
    }

    #[tokio::test]
    async fn demo_user_logs_in_with_space_corgi() {
        let store = InMemoryUserStore::demo();
        let user = authenticate(&store, &checker(), "cosmo", "space-corgi")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(user.username, "cosmo");
    }

    #[tokio::test]
    async fn wrong_password_and_unknown_user_both_fail() {
        let store = InMemoryUserStore::demo();
        assert!(
            authenticate(&store, &checker(), "cosmo", "space-corgI")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            authenticate(&store, &checker(), "nobody", "space-corgi")
                .await
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn usernames_are_case_sensitive() {
        let store = InMemoryUserStore::demo();
        assert!(store.find("Cosmo").await.unwrap().is_none());
        assert!(store.find(" ").await.unwrap().is_none());
        assert!(store.find("cosmo").await.unwrap().is_some());
    }

    #[tokio::test]
    async fn disabled_user_cannot_authenticate_even_with_the_right_password() {
        let user = User {
            disabled: true,
            ..InMemoryUserStore::demo_user()
        };
        let store = InMemoryUserStore::new([user]);
        assert!(
            authenticate(&store, &checker(), "cosmo", "space-corgi")
                .await
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn demo_password_is_stored_only_as_an_argon2id_hash() {
        assert!(DEMO_PASSWORD_HASH.starts_with("$argon2id$"));
        assert!(!DEMO_PASSWORD_HASH.contains("space-corgi"));
        assert!(passwords::verify_blocking(
            "space-corgi",
            DEMO_PASSWORD_HASH
        ));
    }

    #[test]
    fn public_record_has_username_and_profile_but_no_hash() {
        let user = InMemoryUserStore::demo_user();
        let record = Value::Object(user.public_record());
        assert_eq!(record, json!({"id": 1, "username": "cosmo"}));
        assert!(!format!("{user:?}").contains("argon2"));
    }
}

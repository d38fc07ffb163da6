//! What every `UserStore` answers for usernames of every shape, and for a user's scopes, as
//! checks that take the store: the in-memory store runs them in `auth-core`'s tests, the
//! DynamoDB store against a real server in `auth-dynamodb`'s. A username comes from a login form or a
//! token's `sub`, so it can be anything; the two stores must give the same answer for each.

use auth_core::users::{DEMO_PASSWORD_HASH, MAX_SCOPE_BYTES, User, UserStore};

/// Usernames a user can have, at the edges: NUL, characters outside the BMP, and exactly the
/// 2048 bytes of a DynamoDB key, in one-byte and in four-byte characters.
pub fn storable_edge_usernames() -> Vec<String> {
    vec![
        "\0".to_owned(),
        "a\0b".to_owned(),
        "\u{1F600}".to_owned(),
        "\u{1F600}".repeat(512),
        "z".repeat(2048),
    ]
}

/// Usernames no user can have: empty (a token's `sub` can be), and one byte over the limit.
pub fn unstorable_usernames() -> Vec<String> {
    vec![
        String::new(),
        "z".repeat(2049),
        "\u{1F600}".repeat(513),
        "x".repeat(100_000),
    ]
}

/// An enabled user named `username` (with the demo password, hashed once for all).
pub fn user_named(username: &str) -> User {
    User {
        username: username.to_owned(),
        password_hash: DEMO_PASSWORD_HASH.to_owned(),
        disabled: false,
        tokens_valid_after: None,
        scopes: Vec::new(),
        profile: Default::default(),
        account: Default::default(),
    }
}

/// The user of `scoped_users()` with scopes.
pub const SCOPED_USERNAME: &str = "scoped";
/// The user of `scoped_users()` without scopes.
pub const UNSCOPED_USERNAME: &str = "unscoped";

/// A user with scopes given out of order and one twice, at the edges of a scope-token (every
/// punctuation character it may hold, and `MAX_SCOPE_BYTES` of them), and a user without.
pub fn scoped_users() -> Vec<User> {
    vec![
        User {
            scopes: scopes_as_given(),
            ..user_named(SCOPED_USERNAME)
        },
        user_named(UNSCOPED_USERNAME),
    ]
}

fn scopes_as_given() -> Vec<String> {
    [
        "write",
        "admin:users",
        "read",
        "write",
        "!#$%&'()*+,-./:;<=>?@[]^_`{|}~",
        &"~".repeat(MAX_SCOPE_BYTES),
    ]
    .map(str::to_owned)
    .to_vec()
}

/// The scopes of `SCOPED_USERNAME` as every store reads them: sorted, each once.
pub fn scopes_as_read() -> Vec<String> {
    let mut scopes = scopes_as_given();
    scopes.sort();
    scopes.dedup();
    scopes
}

/// `store` holds `scoped_users()`: the scoped user's scopes are read sorted, each once, and the
/// other user has none.
pub async fn scopes_are_read_sorted_once_each_and_none_is_empty(store: &dyn UserStore) {
    let scoped = store.find(SCOPED_USERNAME).await.unwrap().unwrap();
    assert_eq!(scoped.scopes, scopes_as_read());
    let unscoped = store.find(UNSCOPED_USERNAME).await.unwrap().unwrap();
    assert!(unscoped.scopes.is_empty(), "{:?}", unscoped.scopes);
}

/// `store` holds a user for each of `storable_edge_usernames()`: each is found as itself, and a
/// name one character off is not found.
pub async fn every_edge_username_finds_its_user_and_only_it(store: &dyn UserStore) {
    for username in storable_edge_usernames() {
        let what = format!("{} bytes", username.len());
        let found = store.find(&username).await.unwrap();
        assert_eq!(
            found.map(|user| user.username),
            Some(username.clone()),
            "{what}"
        );
        let mut shorter = username.clone();
        shorter.pop();
        for near in [shorter, format!("{username}\0"), format!("{username}z")] {
            if near.is_empty() {
                continue;
            }
            let found = store.find(&near).await.unwrap();
            assert!(found.is_none(), "{} bytes near {what}", near.len());
        }
    }
}

/// Usernames no user can have are not found, with no error: what the in-memory store answers.
pub async fn unstorable_usernames_are_not_found(store: &dyn UserStore) {
    for username in unstorable_usernames() {
        let found = store.find(&username).await;
        assert!(
            matches!(found, Ok(None)),
            "{} bytes: {found:?}",
            username.len()
        );
    }
}

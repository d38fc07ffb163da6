//! What every `TokenLookup` answers, as checks that take the lookup and the stores it reads
//! (to write through them): the separate lookup runs them over the in-memory stores in
//! `auth-core`'s tests, the DynamoDB lookup against a real server in `auth-dynamodb`'s.

use auth_core::{
    clock::Clock,
    lookup::{TokenLookup, TokenQuery, TokenRecords},
    sessions::SessionStore,
    tokens::new_token_id,
};

use crate::contract::users::{SCOPED_USERNAME, UNSCOPED_USERNAME, scopes_as_read};

fn now() -> i64 {
    Clock::System.unix_secs()
}

/// Not revoked, with the user named `username`.
fn live_user(records: &TokenRecords, username: &str) -> bool {
    matches!(records, TokenRecords::Live(Some(user)) if user.username == username)
}

fn query<'a>(username: &'a str, jti: Option<&'a str>, session: Option<&'a str>) -> TokenQuery<'a> {
    TokenQuery {
        username,
        jti,
        session,
        now: now(),
    }
}

/// The user found by its name, and not revoked; `username` is a user of the store.
pub async fn a_live_token_gets_its_user(lookup: &dyn TokenLookup, username: &str) {
    let (jti, session) = (new_token_id(), new_token_id());
    for (jti, session) in [
        (Some(jti.as_str()), Some(session.as_str())),
        (Some(jti.as_str()), None),
        (None, None),
    ] {
        let records = lookup
            .look_up(&query(username, jti, session))
            .await
            .unwrap();
        assert!(
            live_user(&records, username),
            "jti {jti:?}, session {session:?}: {records:?}"
        );
    }
}

/// The user a live token names comes with its scopes, sorted, each once: what `/profile` and
/// `/refresh` see. The users store holds `users::contract::scoped_users()`.
pub async fn a_live_token_gets_its_users_scopes(lookup: &dyn TokenLookup) {
    let jti = new_token_id();
    for (username, scopes) in [
        (SCOPED_USERNAME, scopes_as_read()),
        (UNSCOPED_USERNAME, Vec::new()),
    ] {
        let records = lookup
            .look_up(&query(username, Some(&jti), Some(&jti)))
            .await
            .unwrap();
        let TokenRecords::Live(Some(user)) = records else {
            panic!("{username}: {records:?}");
        };
        assert_eq!(user.scopes, scopes, "{username}");
    }
}

/// A name the store does not have, or could not have, is no user, and no error.
pub async fn an_unknown_or_impossible_name_is_no_user(lookup: &dyn TokenLookup) {
    let jti = new_token_id();
    for username in ["nobody-at-all".to_owned(), String::new(), "z".repeat(2049)] {
        let records = lookup
            .look_up(&query(&username, Some(&jti), Some(&jti)))
            .await
            .unwrap();
        assert_eq!(
            records,
            TokenRecords::Live(None),
            "{} bytes",
            username.len()
        );
    }
}

/// A revoked token, or a token of a revoked session, is `Revoked` until the record's end.
pub async fn revoked_tokens_and_sessions_are_revoked_until_their_end(
    lookup: &dyn TokenLookup,
    sessions: &dyn SessionStore,
    username: &str,
) {
    let (jti, session, other) = (new_token_id(), new_token_id(), new_token_id());
    let start = now();
    let end = start + 100;
    sessions.revoke_token(&jti, end, start).await.unwrap();
    sessions.revoke_session(&session, end, start).await.unwrap();
    let at = |jti, session, now| TokenQuery {
        username,
        jti,
        session,
        now,
    };
    let cases = [
        ("token", Some(jti.as_str()), Some(other.as_str())),
        ("session", Some(other.as_str()), Some(session.as_str())),
        ("both", Some(jti.as_str()), Some(session.as_str())),
    ];
    for (what, jti, session) in cases {
        let records = lookup.look_up(&at(jti, session, start)).await.unwrap();
        assert_eq!(records, TokenRecords::Revoked, "{what}");
    }
    // Time only moves on: a store may forget what it read past its end.
    for (what, jti, session) in cases {
        let records = lookup.look_up(&at(jti, session, end)).await.unwrap();
        assert!(
            live_user(&records, username),
            "{what}, at the record's end: {records:?}"
        );
    }
    // A session with rotation state that is not revoked revokes nothing.
    let rotated = new_token_id();
    sessions
        .rotate(&auth_core::sessions::Rotation {
            session: &rotated,
            presented: &new_token_id(),
            replacement: &new_token_id(),
            now: end,
            grace_since: None,
            record_until: end + 100,
        })
        .await
        .unwrap();
    let records = lookup
        .look_up(&at(Some(&other), Some(&rotated), end))
        .await
        .unwrap();
    assert!(live_user(&records, username), "{records:?}");
}

/// A token whose `jti` is its session (a token without `sid`), and ids of every shape.
pub async fn ids_of_every_shape_are_looked_up(
    lookup: &dyn TokenLookup,
    sessions: &dyn SessionStore,
    username: &str,
) {
    let ids = crate::contract::sessions::edge_ids();
    for id in &ids {
        let records = lookup
            .look_up(&query(username, Some(id), Some(id)))
            .await
            .unwrap();
        assert!(
            live_user(&records, username),
            "{} bytes: {records:?}",
            id.len()
        );
    }
    for id in &ids {
        sessions
            .revoke_session(id, now() + 100, now())
            .await
            .unwrap();
        let records = lookup
            .look_up(&query(username, Some(&new_token_id()), Some(id)))
            .await
            .unwrap();
        assert_eq!(records, TokenRecords::Revoked, "{} bytes", id.len());
    }
}

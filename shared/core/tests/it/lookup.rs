//! The separate lookup over the in-memory stores keeps the `TokenLookup` contract.

use std::sync::Arc;

use auth_core::{lookup::SeparateLookup, sessions::InMemorySessionStore, users::InMemoryUserStore};
use auth_testkit::contract::{
    lookup as contract,
    users::{scoped_users, user_named},
};

#[tokio::test]
async fn the_separate_lookup_over_memory_keeps_the_contract() {
    let sessions = Arc::new(InMemorySessionStore::default());
    let users = Arc::new(InMemoryUserStore::new(
        [vec![user_named("cosmo")], scoped_users()].concat(),
    ));
    let lookup = SeparateLookup::new(users, sessions.clone());
    contract::a_live_token_gets_its_user(&lookup, "cosmo").await;
    contract::a_live_token_gets_its_users_scopes(&lookup).await;
    contract::an_unknown_or_impossible_name_is_no_user(&lookup).await;
    contract::revoked_tokens_and_sessions_are_revoked_until_their_end(
        &lookup,
        sessions.as_ref(),
        "cosmo",
    )
    .await;
    contract::ids_of_every_shape_are_looked_up(&lookup, sessions.as_ref(), "cosmo").await;
}

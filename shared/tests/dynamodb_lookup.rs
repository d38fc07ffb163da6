//! `DynamoTokenLookup` keeps the `TokenLookup` contract against a real DynamoDB-compatible
//! server (moto, from `scripts/test`): one `BatchGetItem` across both tables.

use shared::{
    lookup::{DynamoTokenLookup, contract},
    testing::{fresh_dynamodb_sessions, fresh_dynamodb_store},
    users::contract::{scoped_users, user_named},
};

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn the_dynamodb_lookup_keeps_the_contract() {
    let users = fresh_dynamodb_store().await;
    for user in [vec![user_named("cosmo")], scoped_users()].concat() {
        users.add(&user, false).await.unwrap();
    }
    let sessions = fresh_dynamodb_sessions().await;
    let lookup = DynamoTokenLookup::new(
        shared::dynamodb::client().await,
        users.table(),
        sessions.table(),
    );
    contract::a_live_token_gets_its_user(&lookup, "cosmo").await;
    contract::a_live_token_gets_its_users_scopes(&lookup).await;
    contract::an_unknown_or_impossible_name_is_no_user(&lookup).await;
    contract::revoked_tokens_and_sessions_are_revoked_until_their_end(&lookup, &sessions, "cosmo")
        .await;
    contract::ids_of_every_shape_are_looked_up(&lookup, &sessions, "cosmo").await;
}

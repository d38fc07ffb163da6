//! `DynamoTokenLookup` keeps the `TokenLookup` contract against a real DynamoDB-compatible
//! server (moto, from `scripts/test`): one `BatchGetItem` across both tables.

use auth_admin::UserAdmin;
use auth_dynamodb::DynamoTokenLookup;
use auth_testkit::{
    contract::{
        lookup as contract,
        users::{scoped_users, user_named},
    },
    fresh_dynamodb_sessions, fresh_dynamodb_store,
};

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn the_dynamodb_lookup_keeps_the_contract() {
    let users = fresh_dynamodb_store().await;
    let users_admin = UserAdmin::of(&users);
    for user in [vec![user_named("cosmo")], scoped_users()].concat() {
        users_admin.add(&user, false).await.unwrap();
    }
    let sessions = fresh_dynamodb_sessions().await;
    let lookup = DynamoTokenLookup::new(
        auth_dynamodb::client().await,
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

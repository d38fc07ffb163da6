//! Stores over a real DynamoDB-compatible server (moto, which `./scripts/test` starts), each
//! test with tables of its own; and stores over a server that is down or slow.

use auth_admin::{UserAdmin, create_activity_table, create_sessions_table};
use auth_dynamodb::{DynamoActivityLog, DynamoSessionStore, DynamoUserStore, client_at};

/// The DynamoDB-compatible server the tests run against (moto, started by `scripts/test`).
pub fn dynamodb_endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap_or_else(|_| {
        panic!(
            "AWS_ENDPOINT_URL_DYNAMODB is not set: DynamoDB tests run against a real \
             DynamoDB-compatible server; run ./scripts/test, which starts moto_server"
        )
    })
}

/// A store over a new, empty table of its own on the test server, made as `users create-table`
/// makes it (its `email` index included).
pub async fn fresh_dynamodb_store() -> DynamoUserStore {
    let _ = dynamodb_endpoint();
    let table = format!("users-test-{}", uuid::Uuid::new_v4());
    let store = DynamoUserStore::connect(table).await;
    UserAdmin::of(&store)
        .create_table()
        .await
        .expect("the test server creates tables");
    store
}

/// A store whose endpoint is `url`, for tests of a server that is down or slow.
pub async fn dynamodb_store_at(url: &str) -> DynamoUserStore {
    DynamoUserStore::new(client_at(url).await, "users")
}

/// A sessions store over a new, empty table of its own on the test server.
pub async fn fresh_dynamodb_sessions() -> DynamoSessionStore {
    let _ = dynamodb_endpoint();
    let table = format!("sessions-test-{}", uuid::Uuid::new_v4());
    let client = auth_dynamodb::client().await;
    create_sessions_table(&client, &table)
        .await
        .expect("the test server creates tables");
    DynamoSessionStore::new(client, table)
}

/// A sessions store whose endpoint is `url`, for tests of a server that is down or slow.
pub async fn dynamodb_sessions_at(url: &str) -> DynamoSessionStore {
    DynamoSessionStore::new(client_at(url).await, "sessions")
}

/// An activity log over a new, empty table of its own on the test server, made as `users
/// create-activity-table` makes it.
pub async fn fresh_dynamodb_activity() -> DynamoActivityLog {
    let _ = dynamodb_endpoint();
    let table = format!("activity-test-{}", uuid::Uuid::new_v4());
    let client = auth_dynamodb::client().await;
    create_activity_table(&client, &table)
        .await
        .expect("the test server creates tables");
    DynamoActivityLog::new(client, table)
}

//! The store requests each route makes over DynamoDB, counted on the wire (the test fixture
//! reaches moto through a proxy that records each request's operation): one round trip for
//! `/profile` and `/refresh`, the reads of `/login` beside its attempt count, and no read at
//! `/logout`.

mod common;

use common::{Backend, Service};
use lambda_http::http::StatusCode;
use serde_json::json;

fn sorted(mut operations: Vec<String>) -> Vec<String> {
    operations.sort();
    operations
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn profile_reads_the_user_token_and_session_in_one_batch() {
    let service = Service::new(Backend::DynamoDb, &[]).await;
    let (access, _) = service.login().await;
    service.operations.take();
    assert_eq!(service.profile(&access).await.status, StatusCode::OK);
    assert_eq!(service.operations.take(), ["BatchGetItem"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn refresh_without_rotation_is_one_batch() {
    let service = Service::new(Backend::DynamoDb, &[]).await;
    let (_, refresh) = service.login().await;
    service.operations.take();
    assert_eq!(service.refresh(&refresh).await.status, StatusCode::OK);
    assert_eq!(service.operations.take(), ["BatchGetItem"]);
}

/// The rotation's conditional write goes beside the batch, not after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn refresh_with_rotation_is_one_batch_and_one_conditional_write() {
    let service = Service::new(Backend::DynamoDb, &[("JWT_REFRESH_TOKEN_ROTATION", "true")]).await;
    let (_, refresh) = service.login().await;
    service.operations.take();
    assert_eq!(service.refresh(&refresh).await.status, StatusCode::OK);
    assert_eq!(
        sorted(service.operations.take()),
        ["BatchGetItem", "UpdateItem"]
    );
}

/// The attempt count and the user read go at once; the count is cleared after the password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn login_counts_the_attempt_beside_the_user_read_then_clears_it() {
    let service = Service::new(Backend::DynamoDb, &[]).await;
    service.operations.take();
    service.login().await;
    let operations = service.operations.take();
    assert_eq!(operations.len(), 3, "{operations:?}");
    assert_eq!(sorted(operations[..2].to_vec()), ["GetItem", "UpdateItem"]);
    assert_eq!(operations[2], "DeleteItem");

    let wrong = service.login_as("cosmo", "not-the-password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(sorted(service.operations.take()), ["GetItem", "UpdateItem"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn logout_only_writes() {
    let service = Service::new(Backend::DynamoDb, &[]).await;
    let (access, refresh) = service.login().await;
    service.operations.take();
    let reply = service
        .logout(Some(&access), Some(json!({ "refresh_token": refresh })))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let operations = service.operations.take();
    assert!(!operations.is_empty());
    assert!(
        operations
            .iter()
            .all(|operation| operation == "PutItem" || operation == "UpdateItem"),
        "{operations:?}"
    );
}

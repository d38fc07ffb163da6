//! The store requests each route makes over DynamoDB, counted on the wire (the test fixture
//! reaches moto through a proxy that records each request's operation): one round trip for
//! `/profile` and `/refresh`, the reads of `/login` beside its attempt count, and no read at
//! `/logout`. Each operation is one its function's IAM policy in `template.yaml` allows: moto
//! does not check IAM, AWS does.

mod common;

use std::path::PathBuf;

use common::{Backend, Service};
use lambda_emulator::Template;
use lambda_http::http::StatusCode;
use serde_json::json;

/// `operations`, which `function` made, are all allowed by its IAM policy.
fn assert_allowed(function: &str, operations: &[String]) {
    let template =
        Template::load(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../template.yaml"))
            .unwrap();
    let allowed = template.allowed_actions(function);
    for operation in operations {
        assert!(
            allowed.contains(&format!("dynamodb:{operation}")),
            "{function} calls {operation}, which its policy does not allow: {allowed:?}"
        );
    }
}

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
    let operations = service.operations.take();
    assert_eq!(operations, ["BatchGetItem"]);
    assert_allowed("ProfileFunction", &operations);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn refresh_without_rotation_is_one_batch() {
    let service = Service::new(Backend::DynamoDb, &[]).await;
    let (_, refresh) = service.login().await;
    service.operations.take();
    assert_eq!(service.refresh(&refresh).await.status, StatusCode::OK);
    let operations = service.operations.take();
    assert_eq!(operations, ["BatchGetItem"]);
    assert_allowed("RefreshFunction", &operations);
}

/// The rotation's conditional write goes beside the batch, not after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn refresh_with_rotation_is_one_batch_and_one_conditional_write() {
    let rotation_without_grace = [
        ("JWT_REFRESH_TOKEN_ROTATION", "true"),
        ("JWT_REFRESH_TOKEN_ROTATION_GRACE", "0"),
    ];
    let service = Service::new(Backend::DynamoDb, &rotation_without_grace).await;
    let (_, refresh) = service.login().await;
    service.operations.take();
    assert_eq!(service.refresh(&refresh).await.status, StatusCode::OK);
    let operations = sorted(service.operations.take());
    assert_eq!(operations, ["BatchGetItem", "UpdateItem"]);
    assert_allowed("RefreshFunction", &operations);
    // Replays: the rotation's write fails its condition and revokes the session; at the
    // second, that fails too, and the session is read back.
    for _ in 0..2 {
        assert_eq!(
            service.refresh(&refresh).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let operations = service.operations.take();
    assert!(operations.contains(&"GetItem".to_owned()), "{operations:?}");
    assert_allowed("RefreshFunction", &operations);
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
    assert_allowed("LoginFunction", &operations);

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
    assert_allowed("LogoutFunction", &operations);
}

//! The store requests each route makes over DynamoDB, counted on the wire (the test fixture
//! reaches moto through a proxy that records each request's operation): one round trip for
//! `/profile` and `/refresh`, the reads of `/login` beside its attempt count, and no read at
//! `/logout`. Each operation is one its function's IAM policy in `template.yaml` allows: moto
//! does not check IAM, AWS does.

use std::{path::PathBuf, time::Duration};

use crate::{
    binary::{agent, start_server_with},
    common::{Backend, DelayingProxy, PASSWORD, Service, Setup, StoreOperations},
};
use lambda_emulator::Template;
use lambda_http::http::StatusCode;
use local_api::Function;
use serde_json::json;

/// `operations`, which `function` made, are all allowed by its IAM policy.
pub(crate) fn assert_allowed(function: &str, operations: &[String]) {
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

/// With a grace, the rotation's conditional write goes beside the batch, not after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn refresh_with_rotation_is_one_batch_and_one_conditional_write() {
    let service = Service::new(Backend::DynamoDb, &[("JWT_REFRESH_TOKEN_ROTATION", "true")]).await;
    let (_, refresh) = service.login().await;
    service.operations.take();
    assert_eq!(service.refresh(&refresh).await.status, StatusCode::OK);
    let operations = sorted(service.operations.take());
    assert_eq!(operations, ["BatchGetItem", "UpdateItem"]);
    assert_allowed("RefreshFunction", &operations);
    // Replays after the grace: the rotation's write fails its condition and revokes the
    // session; at the second, that fails too, and the session is read back.
    service.clock().advance(Duration::from_secs(60));
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

/// The attempt's place is taken beside the user read; after the password it is settled, given
/// back or kept as a failure, in one more write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn login_takes_a_place_beside_the_user_read_then_settles_it() {
    let service = Service::new(Backend::DynamoDb, &[]).await;
    service.operations.take();
    service.login().await;
    let operations = service.operations.take();
    assert_eq!(operations.len(), 3, "{operations:?}");
    assert_eq!(sorted(operations[..2].to_vec()), ["GetItem", "UpdateItem"]);
    assert_eq!(operations[2], "UpdateItem");
    assert_allowed("LoginFunction", &operations);

    let wrong = service.login_as("cosmo", "not-the-password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let operations = service.operations.take();
    assert_eq!(operations.len(), 3, "{operations:?}");
    assert_eq!(sorted(operations[..2].to_vec()), ["GetItem", "UpdateItem"]);
    assert_eq!(operations[2], "UpdateItem");
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

/// Every store request takes this long in the tests of concurrency: a request sent after
/// another's answer comes at least this much later; requests sent together, within a few ms.
const SLOW: Duration = Duration::from_millis(300);

async fn slow_service(overrides: &[(&str, &str)]) -> Service {
    Service::with(
        Backend::DynamoDb,
        Setup {
            overrides,
            store_delay: Some(SLOW),
            ..Setup::default()
        },
    )
    .await
}

/// Whether the first two requests of `operations` were sent together, rather than one after
/// the other's answer.
fn sent_together(operations: &[(std::time::Instant, String)]) -> bool {
    let gap = operations[1].0.duration_since(operations[0].0);
    assert!(
        gap < SLOW / 2 || gap >= SLOW,
        "a gap of {gap:?} is neither together nor in turn: {operations:?}"
    );
    gap < SLOW / 2
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn login_sends_the_attempts_place_and_the_user_read_together() {
    let service = slow_service(&[]).await;
    service.operations.take();
    service.login().await;
    let operations = service.operations.take_timed();
    assert_eq!(operations.len(), 3, "{operations:?}");
    assert!(sent_together(&operations), "{operations:?}");
}

/// With a grace the batch and the rotation go together; without one, the rotation waits for
/// the batch (a failed read must spend nothing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn a_rotation_goes_beside_the_batch_only_with_a_grace() {
    for (grace, together) in [("10s", true), ("0", false)] {
        let overrides = [
            ("JWT_REFRESH_TOKEN_ROTATION", "true"),
            ("JWT_REFRESH_TOKEN_ROTATION_GRACE", grace),
        ];
        let service = slow_service(&overrides).await;
        let (_, refresh) = service.login().await;
        service.operations.take();
        assert_eq!(service.refresh(&refresh).await.status, StatusCode::OK);
        let operations = service.operations.take_timed();
        assert_eq!(operations.len(), 2, "{operations:?}");
        assert_eq!(
            sent_together(&operations),
            together,
            "grace {grace}: {operations:?}"
        );
    }
}

/// The local server itself, over both tables, reads a token's records as a deployed function
/// does: one `BatchGetItem` per `/profile` and per `/refresh` (its state is built with the
/// functions' builder and stores, `auth_dynamodb::stores`), counted on the wire as above.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn the_local_server_over_dynamodb_reads_a_token_in_one_batch_as_a_function_does() {
    let users = auth_testkit::fresh_dynamodb_store().await;
    let user = auth_testkit::user_with_password("cosmo", PASSWORD, json!({"id": 1}));
    auth_admin::UserAdmin::of(&users)
        .add(&user, false)
        .await
        .unwrap();
    let sessions = auth_testkit::fresh_dynamodb_sessions().await;
    let operations = StoreOperations::default();
    let proxy = DelayingProxy::start(
        &auth_testkit::dynamodb_endpoint(),
        Duration::ZERO,
        operations.clone(),
    )
    .await;
    let env = [
        ("USERS_TABLE", users.table().to_owned()),
        ("SESSIONS_TABLE", sessions.table().to_owned()),
        ("AWS_ENDPOINT_URL_DYNAMODB", proxy),
    ];
    let counted = operations.clone();
    let (profile, refresh) = tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let server = start_server_with(&env);
        let login: serde_json::Value = agent()
            .post(format!("{}/login", server.url))
            .header("content-type", "application/json")
            .send(json!({"username": "cosmo", "password": PASSWORD}).to_string())
            .unwrap()
            .body_mut()
            .read_json()
            .unwrap();
        let bearer = |field: &str| format!("Bearer {}", login[field].as_str().unwrap());
        counted.take();
        let status = agent()
            .get(format!("{}/profile", server.url))
            .header("authorization", bearer("access_token"))
            .call()
            .unwrap()
            .status();
        assert_eq!(status, 200);
        let profile = counted.take();
        let status = agent()
            .post(format!("{}/refresh", server.url))
            .header("authorization", bearer("refresh_token"))
            .send_empty()
            .unwrap()
            .status();
        assert_eq!(status, 200);
        (profile, counted.take())
    })
    .await
    .unwrap();
    assert_eq!(profile, ["BatchGetItem"]);
    assert_eq!(refresh, ["BatchGetItem"]);
}

/// The template's resource of `function`, whose IAM policy each of its DynamoDB requests must
/// pass (`assert_allowed`).
pub(crate) fn resource_of(function: Function) -> &'static str {
    match function {
        Function::Login => "LoginFunction",
        Function::Refresh => "RefreshFunction",
        Function::Profile => "ProfileFunction",
        Function::Logout => "LogoutFunction",
        Function::Discovery => "DiscoveryFunction",
        Function::Authorizer => "AuthorizerFunction",
        Function::Signup => "SignupFunction",
        Function::Verify => "VerifyFunction",
        Function::Recover => "RecoverFunction",
        Function::Resend => "ResendFunction",
        Function::ChangePassword => "ChangePasswordFunction",
        Function::ResetPassword => "ResetPasswordFunction",
        Function::LoginMfa => "LoginMfaFunction",
        Function::Mfa => "MfaFunction",
    }
}

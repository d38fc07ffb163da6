//! The store requests each route makes over DynamoDB, counted on the wire (the test fixture
//! reaches moto through a proxy that records each request's operation): one round trip for
//! `/profile` and `/refresh` (the session's record touched beside it), the reads of `/login`
//! beside its attempt count and the session's start beside its settlement, and no read at
//! `/logout`; a user's sessions listed by a Query, never a scan. Each operation is one its
//! function's IAM policy in `template.yaml` allows, on the table it reaches: moto does not
//! check IAM, AWS does.

use std::{collections::HashMap, path::PathBuf, sync::Arc, time::Duration};

use crate::{
    binary::{agent, start_server_with},
    common::{Backend, DelayingProxy, PASSWORD, Service, Setup, StoreOperations},
};
use auth_core::{AppState, Stores, clock::Clock};
use auth_dynamodb::{
    DynamoActivityLog, DynamoSessionStore, DynamoTokenLookup, DynamoUserStore, client::client_at,
};
use auth_testkit::{payload_of, request, settings_with, user_with_password};
use lambda_emulator::Template;
use lambda_http::{
    Body, RequestExt, aws_lambda_events::apigw::ApiGatewayV2httpRequestContext, http::StatusCode,
    request::RequestContext,
};
use local_api::Function;
use serde_json::{Value, json};

fn template() -> Template {
    Template::load(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../template.yaml")).unwrap()
}

/// `operations`, which `function` made, are all allowed by its IAM policy.
pub(crate) fn assert_allowed(function: &str, operations: &[String]) {
    let allowed = template().allowed_actions(function);
    for operation in operations {
        assert!(
            allowed.contains(&format!("dynamodb:{operation}")),
            "{function} calls {operation}, which its policy does not allow: {allowed:?}"
        );
    }
}

/// `operations`, which `function` made on the table `table` (its logical id), are all allowed
/// there by its IAM policy: by a statement on the table or one of its indexes.
pub(crate) fn assert_allowed_on(function: &str, table: &str, operations: &[String]) {
    let allowed = template().allowed_actions_on(function, table);
    for operation in operations {
        assert!(
            allowed.contains(&format!("dynamodb:{operation}")),
            "{function} calls {operation} on {table}, which its policy does not allow there: \
             {allowed:?}"
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

/// The batch, and the session's record told of the refresh beside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn refresh_without_rotation_is_one_batch_and_the_sessions_touch() {
    let service = Service::new(Backend::DynamoDb, &[]).await;
    let (_, refresh) = service.login().await;
    service.operations.take();
    assert_eq!(service.refresh(&refresh).await.status, StatusCode::OK);
    let operations = sorted(service.operations.take());
    assert_eq!(operations, ["BatchGetItem", "UpdateItem"]);
    assert_allowed("RefreshFunction", &operations);
}

/// With a grace, the rotation's conditional write (and the session's touch) goes beside the
/// batch, not after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn refresh_with_rotation_is_one_batch_and_two_conditional_writes() {
    let service = Service::new(Backend::DynamoDb, &[("JWT_REFRESH_TOKEN_ROTATION", "true")]).await;
    let (_, refresh) = service.login().await;
    service.operations.take();
    assert_eq!(service.refresh(&refresh).await.status, StatusCode::OK);
    let operations = sorted(service.operations.take());
    assert_eq!(operations, ["BatchGetItem", "UpdateItem", "UpdateItem"]);
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
/// back or kept as a failure, in one more write, beside which a success starts its session's
/// record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn login_takes_a_place_beside_the_user_read_then_settles_it() {
    let service = Service::new(Backend::DynamoDb, &[]).await;
    service.operations.take();
    service.login().await;
    let operations = service.operations.take();
    assert_eq!(operations.len(), 4, "{operations:?}");
    assert_eq!(sorted(operations[..2].to_vec()), ["GetItem", "UpdateItem"]);
    assert_eq!(operations[2..], ["UpdateItem", "UpdateItem"]);
    assert_allowed("LoginFunction", &operations);

    let wrong = service.login_as("cosmo", "not-the-password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let operations = service.operations.take();
    assert_eq!(operations.len(), 3, "{operations:?}");
    assert_eq!(sorted(operations[..2].to_vec()), ["GetItem", "UpdateItem"]);
    assert_eq!(operations[2], "UpdateItem");
}

/// A logout writes its revocations; before them it reads, one batch per token (as `/profile`
/// reads one), whether each is still in force: only a logout that ends something is written
/// to the user's log, or a revoked token replayed would add an entry each time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn logout_reads_each_token_once_then_only_writes() {
    let service = Service::new(Backend::DynamoDb, &[]).await;
    let (access, refresh) = service.login().await;
    service.operations.take();
    let reply = service
        .logout(Some(&access), Some(json!({ "refresh_token": refresh })))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let operations = service.operations.take();
    assert_eq!(
        operations[..2],
        ["BatchGetItem", "BatchGetItem"],
        "{operations:?}"
    );
    assert!(operations.len() > 2, "{operations:?}");
    assert!(
        operations[2..]
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
/// the other's answer (`&operations[i..]`: the two from the `i`th).
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
    assert_eq!(operations.len(), 4, "{operations:?}");
    assert!(sent_together(&operations), "{operations:?}");
    // The settlement, after the password, and the session's start: together again, no round
    // trip of the record's own.
    assert!(!sent_together(&operations[1..]), "{operations:?}");
    assert!(sent_together(&operations[2..]), "{operations:?}");
}

/// With a grace the batch and the rotation go together; without one, the rotation waits for
/// the batch (a failed read must spend nothing). Either way the session's touch leaves once the
/// refresh has succeeded, and the answer does not wait for it: no round trip of its own.
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
        assert_eq!(operations.len(), 3, "{operations:?}");
        assert_eq!(
            sent_together(&operations),
            together,
            "grace {grace}: {operations:?}"
        );
        assert!(
            !sent_together(&operations[1..]),
            "grace {grace}: {operations:?}"
        );
    }
}

/// Without rotation the touch leaves once the batch has answered and the refresh succeeded (and
/// the answer does not wait for it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn a_refresh_touches_its_session_once_it_succeeded() {
    let service = slow_service(&[]).await;
    let (_, refresh) = service.login().await;
    service.operations.take();
    assert_eq!(service.refresh(&refresh).await.status, StatusCode::OK);
    let operations = service.operations.take_timed();
    assert_eq!(operations.len(), 2, "{operations:?}");
    assert!(!sent_together(&operations), "{operations:?}");
}

/// The local server itself, over both tables, reads a token's records as a deployed function
/// does: one `BatchGetItem` per `/profile` and per `/refresh` (beside the session's touch; its state is built with the
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
        // The session's touch leaves once the refresh has answered: counted when it is there.
        let mut refresh = counted.take();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while refresh.len() < 2 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
            refresh.extend(counted.take());
        }
        (profile, refresh)
    })
    .await
    .unwrap();
    assert_eq!(profile, ["BatchGetItem"]);
    assert_eq!(
        sorted(refresh),
        ["BatchGetItem", "UpdateItem"],
        "and the session's touch"
    );
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
        Function::Sessions => "SessionsFunction",
    }
}

/// The requests one function made, by the table they reached: each table (and the lookup,
/// which reads the users and the sessions tables in one request) through a proxy of its own.
#[derive(Clone, Default)]
struct ByTable {
    users: StoreOperations,
    sessions: StoreOperations,
    activity: StoreOperations,
    lookup: StoreOperations,
}

impl ByTable {
    /// What was made since the last call, each checked against `function`'s policy on its
    /// table: `(users, sessions, activity, lookup)`.
    fn take_checked(&self, function: Function) -> [Vec<String>; 4] {
        let id = resource_of(function);
        let taken = [
            self.users.take(),
            self.sessions.take(),
            self.activity.take(),
            self.lookup.take(),
        ];
        assert_allowed_on(id, "UsersTable", &taken[0]);
        assert_allowed_on(id, "SessionsTable", &taken[1]);
        assert_allowed_on(id, "ActivityTable", &taken[2]);
        assert_allowed_on(id, "UsersTable", &taken[3]);
        assert_allowed_on(id, "SessionsTable", &taken[3]);
        for operations in &taken {
            assert!(
                !operations.iter().any(|operation| operation == "Scan"),
                "{id} scans: {taken:?}"
            );
        }
        taken
    }
}

/// The functions of the sessions' story as deployed, each with a state of its own over the
/// same three tables (as each Lambda has its own clients), its requests counted by table.
struct Deployed {
    states: HashMap<Function, (AppState, ByTable)>,
}

impl Deployed {
    async fn new(functions: &[Function], overrides: &[(&str, &str)]) -> Self {
        let users = auth_testkit::fresh_dynamodb_store().await;
        let user = user_with_password("cosmo", PASSWORD, json!({"id": 1}));
        auth_admin::UserAdmin::of(&users)
            .add(&user, false)
            .await
            .unwrap();
        let sessions = auth_testkit::fresh_dynamodb_sessions().await;
        let activity = auth_testkit::fresh_dynamodb_activity().await;
        let (users, sessions, activity) = (users.table(), sessions.table(), activity.table());
        let settings = settings_with(overrides);
        let mut states = HashMap::new();
        for &function in functions {
            let counted = ByTable::default();
            let through = |operations: &StoreOperations| {
                let operations = operations.clone();
                async move {
                    let url = DelayingProxy::start(
                        &auth_testkit::dynamodb_endpoint(),
                        Duration::ZERO,
                        operations,
                    )
                    .await;
                    client_at(&url).await
                }
            };
            let user_store = Arc::new(DynamoUserStore::new(through(&counted.users).await, users));
            let session_store = Arc::new(DynamoSessionStore::new(
                through(&counted.sessions).await,
                sessions,
            ));
            let stores = Stores {
                users: user_store.clone(),
                sessions: session_store.clone(),
                lookup: Arc::new(DynamoTokenLookup::new(
                    through(&counted.lookup).await,
                    users,
                    sessions,
                )),
                accounts: Some(user_store.clone()),
                records: Some(session_store.clone()),
                factors: Some(user_store),
                challenges: Some(session_store),
                activity: None,
            }
            .with_activity(Arc::new(DynamoActivityLog::new(
                through(&counted.activity).await,
                activity,
            )));
            // At the real time: DynamoDB's records carry real ends.
            let state = AppState::builder(&settings, stores)
                .clock(Clock::System)
                .password_workers(1)
                .build()
                .unwrap();
            states.insert(function, (state, counted));
        }
        Self { states }
    }

    /// `method uri` of `function` (its route `route`) with a bearer `token` and `body`, as API
    /// Gateway delivers it; once its activity writes are settled, the status, the body, and the
    /// requests it made by table, each checked against its policy.
    async fn call(
        &self,
        function: Function,
        (method, route, uri): (&str, &str, &str),
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value, [Vec<String>; 4]) {
        let (state, counted) = &self.states[&function];
        counted.take_checked(function);
        let authorization = token.map(|token| format!("Bearer {token}"));
        let mut headers = vec![
            ("content-type", "application/json"),
            (
                "user-agent",
                "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
            ),
        ];
        if let Some(value) = &authorization {
            headers.push(("authorization", value));
        }
        let body = body.map(|body| body.to_string());
        let mut context = ApiGatewayV2httpRequestContext::default();
        context.http.source_ip = Some("192.0.2.10".to_owned());
        context.route_key = Some(route.to_owned());
        let request = request(method, uri, &headers, body.as_deref())
            .with_request_context(RequestContext::ApiGatewayV2(context));
        let response = local_api::invoke(state, function, request).await.unwrap();
        // The log's writes are not waited for by the request: here they are, to be counted.
        state.activity().settled().await;
        let status = response.status();
        let body = match response.body() {
            Body::Empty => Value::Null,
            other => serde_json::from_slice(other.as_ref()).unwrap(),
        };
        (status, body, counted.take_checked(function))
    }

    async fn login(&self) -> (String, String) {
        let body = json!({"username": "cosmo", "password": PASSWORD});
        let route = ("POST", "POST /login", "/login");
        let (status, body, by_table) = self.call(Function::Login, route, None, Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let [users, sessions, activity, lookup] = by_table;
        assert_eq!(users, ["GetItem"]);
        // The place, its settlement and the session's start; and one entry in the log.
        assert_eq!(sessions, ["UpdateItem", "UpdateItem", "UpdateItem"]);
        assert_eq!(activity, ["PutItem"]);
        assert!(lookup.is_empty());
        let text = |field: &str| body[field].as_str().unwrap().to_owned();
        (text("access_token"), text("refresh_token"))
    }
}

fn sid_of(token: &str) -> String {
    payload_of(token)["sid"].as_str().unwrap().to_owned()
}

/// Every request the sessions' story makes reaches a table whose statement in the function's
/// policy allows it, and no function scans: a login records its session and its entry; a
/// refresh touches the record; listing the user's sessions is one Query of the index beside
/// the token's batch, never a scan; ending one is one conditional update; the log is read by a
/// Query; logout's scopes that end other sessions read the token and list before they end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn every_request_of_the_sessions_story_is_allowed_on_its_table_and_none_scans() {
    let deployed = Deployed::new(
        &[
            Function::Login,
            Function::Refresh,
            Function::Profile,
            Function::Sessions,
            Function::Logout,
        ],
        &[("JWT_REFRESH_TOKEN_ROTATION", "true")],
    )
    .await;
    let (access, refresh) = deployed.login().await;
    let (other_access, _) = deployed.login().await;
    let (third_access, _) = deployed.login().await;

    let route = ("POST", "POST /refresh", "/refresh");
    let (status, body, [users, sessions, activity, lookup]) = deployed
        .call(Function::Refresh, route, Some(&refresh), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(users.is_empty());
    assert_eq!(
        sorted(sessions),
        ["UpdateItem", "UpdateItem"],
        "rotated and touched"
    );
    assert_eq!(activity, ["PutItem"]);
    assert_eq!(lookup, ["BatchGetItem"]);

    let route = ("GET", "GET /sessions", "/sessions");
    let (status, body, [users, sessions, activity, lookup]) = deployed
        .call(Function::Sessions, route, Some(&access), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["sessions"].as_array().unwrap().len(), 3, "{body}");
    assert!(users.is_empty() && activity.is_empty());
    assert_eq!(sessions, ["Query"], "one page, one Query of the index");
    assert_eq!(lookup, ["BatchGetItem"]);

    let uri = format!("/sessions/{}", sid_of(&other_access));
    let route = ("DELETE", "DELETE /sessions/{id}", uri.as_str());
    let (status, body, [users, sessions, activity, lookup]) = deployed
        .call(Function::Sessions, route, Some(&access), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(users.is_empty());
    assert_eq!(sessions, ["UpdateItem"]);
    assert_eq!(activity, ["PutItem"]);
    assert_eq!(lookup, ["BatchGetItem"]);

    let route = ("GET", "GET /account/activity", "/account/activity");
    let (status, body, [users, sessions, activity, lookup]) = deployed
        .call(Function::Sessions, route, Some(&access), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!body["events"].as_array().unwrap().is_empty(), "{body}");
    assert!(users.is_empty() && sessions.is_empty());
    assert_eq!(activity, ["Query"]);
    assert_eq!(lookup, ["BatchGetItem"]);

    let route = ("POST", "POST /logout", "/logout?scope=others");
    let (status, body, [users, sessions, activity, lookup]) = deployed
        .call(Function::Logout, route, Some(&access), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(users.is_empty());
    // The user's sessions listed, and the one left besides the caller's ended.
    assert_eq!(sessions, ["Query", "UpdateItem"]);
    assert_eq!(activity, ["PutItem"]);
    assert_eq!(lookup, ["BatchGetItem"]);
    // Its access tokens refused, in the one batch a profile reads.
    let route = ("GET", "GET /profile", "/profile");
    let (status, body, [users, sessions, activity, lookup]) = deployed
        .call(Function::Profile, route, Some(&third_access), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(users.is_empty() && sessions.is_empty() && activity.is_empty());
    assert_eq!(lookup, ["BatchGetItem"]);

    let route = ("POST", "POST /logout", "/logout?scope=global");
    let (status, body, [users, sessions, activity, lookup]) = deployed
        .call(Function::Logout, route, Some(&access), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(users.is_empty());
    // The access token revoked (PutItem), the caller's session listed and ended.
    assert_eq!(sorted(sessions), ["PutItem", "Query", "UpdateItem"]);
    assert_eq!(activity, ["PutItem"]);
    assert_eq!(lookup, ["BatchGetItem"]);
}

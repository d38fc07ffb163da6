//! The `bootstrap` binaries, as `cargo lambda build` (and so `sam build`) makes them, answer every
//! event of `events/` through the Lambda Runtime API, configured exactly as `template.yaml`
//! configures them. `./scripts/test` builds them first and packages them as `sam build` does:
//! x86_64 from its dev build (the same code as `release` without the optimiser), and the arm64
//! release bootstraps, what deploys, which it runs here under QEMU.

use std::{
    collections::BTreeMap,
    path::PathBuf,
    time::{Duration, UNIX_EPOCH},
};

use auth_admin::UserAdmin;
use auth_core::users::InMemoryUserStore;
use auth_dynamodb::DynamoUserStore;
use auth_lambda::init_error::INIT_ERROR_TYPE;
use lambda_emulator::{
    ExecutionEnvironment, InvokeError, Reply, Route, Template, elf_architecture,
    events::{self, EventFile},
    machine,
};
use serde_json::{Value, json};

pub(crate) const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The bootstrap of `function`: from `sam build`'s directory when `LAMBDA_BUILD_DIR` names one
/// (`<dir>/<FunctionId>/bootstrap`), else from `cargo lambda build` (`target/lambda/<binary>/`).
fn bootstrap(function: &str, binary: &str) -> PathBuf {
    let path = match std::env::var_os("LAMBDA_BUILD_DIR") {
        Some(build_dir) => PathBuf::from(build_dir).join(function).join("bootstrap"),
        None => std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root().join("target"))
            .join("lambda")
            .join(binary)
            .join("bootstrap"),
    };
    let bytes = std::fs::read(&path).unwrap_or_else(|error| {
        panic!(
            "{}: {error}: build the functions first, with `sam build` or \
             `cargo lambda build` (./scripts/test does)",
            path.display()
        )
    });
    // The architecture the build is for: LAMBDA_BUILD_ARCH, as the test command says of the
    // directory it names (x86_64 runs as itself, arm64, what deploys, under QEMU), else this
    // machine's. A build of another is refused, never quietly run under QEMU instead.
    let expected = std::env::var("LAMBDA_BUILD_ARCH")
        .unwrap_or_else(|_| machine::host_architecture().to_owned());
    assert_eq!(
        elf_architecture(&bytes),
        Some(expected.as_str()),
        "{} is not built for {expected}",
        path.display()
    );
    assert!(
        machine::can_run(&expected),
        "{expected} bootstraps cannot run here: install Debian's qemu-user-static and \
         libc6-arm64-cross"
    );
    path
}

pub(crate) fn template() -> Template {
    Template::load(&root().join("template.yaml")).unwrap()
}

/// The test's own tables, by name.
#[derive(Clone, Copy)]
pub(crate) struct Tables<'a> {
    pub(crate) users: &'a str,
    pub(crate) sessions: &'a str,
    pub(crate) activity: &'a str,
}

/// Names for tests that resolve the template but reach no store.
pub(crate) const UNUSED_TABLES: Tables<'static> = Tables {
    users: "users",
    sessions: "sessions",
    activity: "activity",
};

/// `local-env.json`, what `sam local invoke --env-vars` reads, with the test's own tables.
fn env_vars(tables: Tables) -> Value {
    env_vars_of("local-env.json", tables)
}

/// `env_file` (an `--env-vars` file) with the test's own tables.
pub(crate) fn env_vars_of(env_file: &str, tables: Tables) -> Value {
    let text = std::fs::read_to_string(root().join(env_file)).unwrap();
    let mut env_vars: Value = serde_json::from_str(&text).unwrap();
    env_vars["Parameters"]["USERS_TABLE"] = json!(tables.users);
    env_vars["Parameters"]["SESSIONS_TABLE"] = json!(tables.sessions);
    env_vars["Parameters"]["ACTIVITY_TABLE"] = json!(tables.activity);
    env_vars
}

/// `env_vars` over fresh tables: users holding `cosmo`, and empty sessions and activity tables.
async fn env_vars_with_fresh_tables() -> Value {
    env_file_with_fresh_tables("local-env.json").await
}

pub(crate) async fn env_file_with_fresh_tables(env_file: &str) -> Value {
    let users = users_table().await;
    let sessions = auth_testkit::fresh_dynamodb_sessions().await;
    let activity = auth_testkit::fresh_dynamodb_activity().await;
    let tables = Tables {
        users: users.table(),
        sessions: sessions.table(),
        activity: activity.table(),
    };
    let mut env_vars = env_vars_of(env_file, tables);
    with_a_verified_sender(&mut env_vars).await;
    env_vars
}

/// The SES-compatible server the mailing functions send through: moto, which serves SES at
/// the DynamoDB endpoint unless `AWS_ENDPOINT_URL_SESV2` names another.
pub(crate) fn ses_endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL_SESV2")
        .ok()
        .filter(|endpoint| !endpoint.is_empty())
        .unwrap_or_else(auth_testkit::dynamodb_endpoint)
}

/// An env file that mails (`MAIL_FROM`) sends from a sender of the test's own, made an SES
/// identity on the test server first: SES, and moto, refuse mail from an unverified one.
pub(crate) async fn with_a_verified_sender(env_vars: &mut Value) {
    if env_vars["Parameters"]["MAIL_FROM"].is_string() {
        let sender = auth_testkit::ses::verified_sender(&ses_endpoint()).await;
        env_vars["Parameters"]["MAIL_FROM"] = json!(sender);
    }
}

/// What the execution role and the region give a deployed function; here, the test server.
pub(crate) fn aws_environment() -> BTreeMap<String, String> {
    let endpoint = auth_testkit::dynamodb_endpoint();
    [
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_DEFAULT_REGION", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("AWS_SESSION_TOKEN", "testing".to_owned()),
        // Moto serves KMS at the same endpoint, for the functions that sign in KMS, and SES,
        // for those that mail.
        ("AWS_ENDPOINT_URL_KMS", endpoint.clone()),
        ("AWS_ENDPOINT_URL_SESV2", ses_endpoint()),
        ("AWS_ENDPOINT_URL_DYNAMODB", endpoint),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect()
}

/// A fresh users table holding the seed's user, `cosmo`, there since the events' tokens were
/// issued.
pub(crate) async fn users_table() -> DynamoUserStore {
    let store = auth_testkit::fresh_dynamodb_store().await;
    let admin = UserAdmin::of(&store);
    let since = UNIX_EPOCH + Duration::from_secs(events::TOKENS_ISSUED_AT);
    admin
        .import(&InMemoryUserStore::demo_user(), since)
        .await
        .unwrap();
    store
}

/// The function `routes` (the template's) send `event` to.
fn function_for<'a>(routes: &'a [Route], event: &EventFile) -> &'a str {
    routes
        .iter()
        .find(|route| route.key() == event.route_key())
        .unwrap_or_else(|| panic!("{}: no function serves {}", event.name, event.route_key()))
        .function
        .as_str()
}

pub(crate) async fn start(function: &str, env_vars: &Value) -> ExecutionEnvironment {
    let template = template();
    let config = template.function(function, env_vars).unwrap();
    let binary = template.binary(function).expect("BuildProperties.Binary");
    ExecutionEnvironment::start(&bootstrap(function, &binary), &config, &aws_environment())
        .await
        .unwrap()
}

/// The string `field` of the JSON object `body`, if any.
fn field_of(body: &str, field: &str) -> Option<String> {
    let body: Value = serde_json::from_str(body).ok()?;
    body.get(field)?.as_str().map(str::to_owned)
}

fn secrets_in_events(all: &[EventFile], env_vars: &Value) -> Vec<String> {
    // The HS256 secret, or the private key's base64 lines (any one of which would leak part of it).
    let mut secrets: Vec<String> = ["JWT_SECRET_KEY", "JWT_PRIVATE_KEY"]
        .iter()
        .filter_map(|name| env_vars["Parameters"][name].as_str())
        .flat_map(|key| key.lines().filter(|line| !line.starts_with("-----")))
        .map(str::to_owned)
        .collect();
    for event in all {
        let body = event.event["body"].as_str().unwrap_or_default();
        // Passwords, mailed tokens, addresses (a log masks them), and a login's mfa_token and
        // recovery codes. (Not a TOTP code: six digits may be in a log by chance.)
        for field in [
            "password",
            "current_password",
            "new_password",
            "token",
            "email",
            "mfa_token",
            "recovery_code",
        ] {
            secrets.extend(field_of(body, field));
        }
        if let Some(authorization) = event.event["headers"]["authorization"].as_str()
            && let Some(token) = authorization.strip_prefix("Bearer ")
        {
            secrets.push(token.to_owned());
        }
    }
    secrets
}

#[tokio::test]
#[ignore = "needs the bootstraps built and a DynamoDB-compatible server: ./scripts/test runs it"]
async fn every_event_gets_its_documented_reply_from_the_bootstrap() {
    let functions = template().function_ids();
    assert_eq!(
        functions.len(),
        auth_core::Function::ALL.len(),
        "login, refresh, profile, logout, discovery, authorizer, the self-service six \
         (signup, verify, recover, resend, password, password-reset), the second factor's \
         two (login-mfa, mfa) and the account's sessions and activity (sessions): {functions:?}"
    );
    replay_through_the_bootstraps("events", "local-env.json", true).await;
}

#[tokio::test]
#[ignore = "needs the bootstraps built and a DynamoDB-compatible server: ./scripts/test runs it"]
async fn every_rs256_event_gets_its_documented_reply_from_the_bootstrap() {
    replay_through_the_bootstraps("events/rs256", "local-env-rs256.json", false).await;
}

/// A cookie-mode deployment's events: their cookies come in the event's `cookies` array, and the
/// replies' cookies must go back in its own (several `Set-Cookie`s reach a browser no other way).
#[tokio::test]
#[ignore = "needs the bootstraps built and a DynamoDB-compatible server: ./scripts/test runs it"]
async fn every_cookie_event_gets_its_documented_reply_from_the_bootstrap() {
    replay_through_the_bootstraps("events/cookies", "local-env-cookies.json", false).await;
}

/// Every event of `folder` through the bootstrap of the function its route names, configured
/// by `env_file`; with `every_function`, each function must have events.
async fn replay_through_the_bootstraps(folder: &str, env_file: &str, every_function: bool) {
    let env_vars = env_file_with_fresh_tables(env_file).await;
    let all = events::load(&root().join(folder)).unwrap();
    let secrets = secrets_in_events(&all, &env_vars);

    let routes = template().routes().unwrap();
    // The functions behind the API's routes (the authorizer has none: events/authorizer).
    let routed = template()
        .function_ids()
        .into_iter()
        .filter(|function| routes.iter().any(|route| &route.function == function));
    for function in routed {
        let mine: Vec<&EventFile> = all
            .iter()
            .filter(|event| function_for(&routes, event) == function)
            .collect();
        assert!(
            !every_function || !mine.is_empty(),
            "no event for {function}"
        );
        if mine.is_empty() {
            continue;
        }

        // One execution environment per function: the first event meets a cold start, the
        // others a warm one, as on Lambda.
        let mut environment = start(&function, &env_vars).await;
        let mut failures = Vec::new();
        for event in mine {
            let invocation = environment
                .invoke(&event.event, REPLY_TIMEOUT)
                .await
                .unwrap_or_else(|error| panic!("{}: {error}\n{}", event.name, environment.logs()));
            let Reply::Response(reply) = invocation.reply else {
                panic!(
                    "{}: an invocation error: {:?}",
                    event.name, invocation.reply
                );
            };
            if let Err(why) = event
                .expected
                .check_gateway_reply(&reply, events::ADDED_BY_DYNAMODB)
            {
                failures.push(format!("{}: {why}", event.name));
            }
            // Fresh tokens are secrets too: none may reach the logs, from a body or a cookie.
            let mut fresh: Vec<String> = Vec::new();
            if let Ok(body) = serde_json::from_str::<Value>(reply["body"].as_str().unwrap_or("")) {
                for token in ["access_token", "refresh_token"] {
                    fresh.extend(body[token].as_str().map(str::to_owned));
                }
            }
            for cookie in reply["cookies"].as_array().into_iter().flatten() {
                let value = cookie
                    .as_str()
                    .and_then(|cookie| cookie.split(';').next())
                    .and_then(|pair| pair.split_once('='))
                    .map(|(_, value)| value.to_owned());
                fresh.extend(value.filter(|value| value.len() > 8));
            }
            for token in fresh {
                assert!(
                    !environment.logs().contains(&token),
                    "{function} logged a token"
                );
            }
        }
        assert!(failures.is_empty(), "{function}:\n{}", failures.join("\n"));

        // All of it: a line still in the pipe would be a line unchecked.
        let logs = environment.stop_and_read_logs().await;
        for line in logs.lines().filter(|line| !line.trim().is_empty()) {
            assert!(
                serde_json::from_str::<Value>(line).is_ok(),
                "{function}: the template asks for JSON logs, got {line:?}"
            );
        }
        for secret in &secrets {
            assert!(
                !logs.contains(secret.as_str()),
                "{function} logged a secret, a password or a token"
            );
        }
    }
}

#[tokio::test]
#[ignore = "needs the bootstraps built and a DynamoDB-compatible server: ./scripts/test runs it"]
async fn every_authorizer_event_gets_its_documented_answer_from_the_bootstrap() {
    let env_vars = env_vars_with_fresh_tables().await;
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("events/authorizer"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 6, "{files:?}");
    let mut environment = start("AuthorizerFunction", &env_vars).await;
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut event: Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let expected = event.as_object_mut().unwrap().remove("expected").unwrap();
        let invocation = environment
            .invoke(&event, REPLY_TIMEOUT)
            .await
            .unwrap_or_else(|error| panic!("{name}: {error}\n{}", environment.logs()));
        let matches = match &invocation.reply {
            Reply::Response(reply) => expected["reply"] == *reply,
            // REST API Gateway's 401: the invocation fails with this message.
            Reply::Error { body, .. } => {
                !expected["errorMessage"].is_null()
                    && body["errorMessage"] == expected["errorMessage"]
            }
        };
        if !matches {
            failures.push(format!(
                "{name}: {:?}, expected {expected}",
                invocation.reply
            ));
        }
    }
    let logs = environment.stop_and_read_logs().await;
    assert!(failures.is_empty(), "{}\n{logs}", failures.join("\n"));
    let secret = env_vars["Parameters"]["JWT_SECRET_KEY"].as_str().unwrap();
    assert!(!logs.contains(secret));
    assert!(!logs.contains("eyJ"), "a token reached the log");
}

#[tokio::test]
#[ignore = "needs the bootstraps built and a DynamoDB-compatible server: ./scripts/test runs it"]
async fn a_function_without_its_secret_reports_an_init_error_and_exits() {
    // CloudFormation passes an unset parameter as an empty string.
    let mut env_vars = env_vars(UNUSED_TABLES);
    env_vars["Parameters"]["JWT_SECRET_KEY"] = json!("");
    let mut environment = start("ProfileFunction", &env_vars).await;
    let status = environment
        .wait_for_exit(REPLY_TIMEOUT)
        .await
        .expect("a function that cannot start exits instead of hanging");
    assert!(!status.success());

    let init_error = environment
        .init_error()
        .expect("the failure is reported to /init/error");
    assert_eq!(init_error.error_type, INIT_ERROR_TYPE);
    assert_eq!(init_error.body["errorType"], INIT_ERROR_TYPE);
    let message = init_error.body["errorMessage"].as_str().unwrap();
    assert!(message.contains("JWT_SECRET_KEY: is required"), "{message}");
    assert_eq!(
        environment.first_poll_at(),
        None,
        "it never polled for events"
    );

    // What Lambda makes of it: the invocation fails with the init error, it does not wait.
    let invoked = environment.invoke(&json!({}), REPLY_TIMEOUT).await;
    assert!(
        matches!(
            invoked,
            Err(InvokeError::Exited {
                init_error: Some(_),
                ..
            })
        ),
        "{invoked:?}"
    );
}

#[tokio::test]
#[ignore = "needs the bootstraps built and a DynamoDB-compatible server: ./scripts/test runs it"]
async fn an_event_that_is_not_from_api_gateway_gets_an_invocation_error_and_the_function_lives_on()
{
    let env_vars = env_vars_with_fresh_tables().await;
    let all = events::load(&root().join("events")).unwrap();
    let profile_ok = all
        .iter()
        .find(|event| event.name == "profile-ok.json")
        .unwrap();
    let mut environment = start("ProfileFunction", &env_vars).await;

    let invocation = environment
        .invoke(&json!({"not": "an API Gateway event"}), REPLY_TIMEOUT)
        .await
        .unwrap();
    let Reply::Error { error_type, body } = invocation.reply else {
        panic!("expected an invocation error, got {:?}", invocation.reply);
    };
    assert!(!error_type.is_empty(), "{body}");

    let invocation = environment
        .invoke(&profile_ok.event, REPLY_TIMEOUT)
        .await
        .unwrap();
    let Reply::Response(reply) = invocation.reply else {
        panic!("{:?}", invocation.reply);
    };
    assert_eq!(
        profile_ok
            .expected
            .check_gateway_reply(&reply, events::ADDED_BY_DYNAMODB),
        Ok(())
    );
}

#[tokio::test]
#[ignore = "needs the bootstraps built and a DynamoDB-compatible server: ./scripts/test runs it"]
async fn the_runtime_api_times_the_cold_start() {
    let env_vars = env_vars_with_fresh_tables().await;
    let all = events::load(&root().join("events")).unwrap();
    let event = all
        .iter()
        .find(|event| event.name == "profile-ok.json")
        .unwrap();
    let mut environment = start("ProfileFunction", &env_vars).await;
    let invocation = environment
        .invoke(&event.event, REPLY_TIMEOUT)
        .await
        .unwrap();
    let polled = environment
        .first_poll_at()
        .expect("it polled for the event");
    assert!(environment.spawned_at() <= polled);
    assert!(polled <= invocation.delivered_at);
    assert!(invocation.delivered_at <= invocation.replied_at);
    let peak = environment
        .peak_rss_kib()
        .expect("a running process has a VmHWM");
    // A Rust process with its runtime and SDK client resident: megabytes, not a zero read.
    assert!((1024..64 * 1024).contains(&peak), "VmHWM {peak} KiB");
}

#[test]
fn every_token_of_the_events_was_issued_when_the_events_say() {
    let all = events::load(&root().join("events")).unwrap();
    let mut tokens = 0;
    for event in &all {
        let authorization = event.event["headers"]["authorization"].as_str();
        let body: Value = serde_json::from_str(event.event["body"].as_str().unwrap_or("null"))
            .unwrap_or(Value::Null);
        let candidates = [
            authorization.and_then(|value| value.strip_prefix("Bearer ")),
            body["refresh_token"].as_str(),
        ];
        for token in candidates.into_iter().flatten() {
            let Some(payload) = token
                .split('.')
                .nth(1)
                .filter(|segment| !segment.is_empty())
            else {
                continue;
            };
            let claims = auth_testkit::payload_of(&format!("x.{payload}.y"));
            let iat = claims["iat"].as_u64();
            assert!(
                iat.is_some_and(|iat| iat <= events::TOKENS_ISSUED_AT),
                "{}: iat {iat:?} is after the events' {}",
                event.name,
                events::TOKENS_ISSUED_AT
            );
            // A token meant to be live was issued at that very second: the account the events
            // act for exists from then, and refuses anything earlier.
            if claims["exp"].as_u64() > Some(events::TOKENS_ISSUED_AT) {
                assert_eq!(iat, Some(events::TOKENS_ISSUED_AT), "{}", event.name);
            }
            tokens += 1;
        }
    }
    assert!(tokens >= 10, "only {tokens} tokens in the events");
    // As `users add --created-at` reads it.
    let parsed = humantime::parse_rfc3339_weak(events::TOKENS_ISSUED_AT_RFC3339).unwrap();
    assert_eq!(
        parsed,
        UNIX_EPOCH + Duration::from_secs(events::TOKENS_ISSUED_AT)
    );
}

#[test]
fn the_fields_replies_are_checked_without_are_those_the_store_adds() {
    assert_eq!(
        events::ADDED_BY_DYNAMODB,
        [auth_dynamodb::users::CREATED_AT]
    );
}

/// `template` of `events/` with `body` and, if any, a bearer `token`: a request of that route.
pub(crate) fn request_like(template: &EventFile, body: Option<&str>, token: Option<&str>) -> Value {
    let mut event = template.event.clone();
    if let Some(body) = body {
        event["body"] = json!(body);
    }
    match token {
        Some(token) => event["headers"]["authorization"] = json!(format!("Bearer {token}")),
        None => {
            if let Some(headers) = event["headers"].as_object_mut() {
                headers.remove("authorization");
            }
        }
    }
    event
}

/// `event` through `environment`: the reply's status and body.
pub(crate) async fn status_and_body(
    environment: &mut ExecutionEnvironment,
    event: &Value,
) -> (u64, Value) {
    let invocation = environment
        .invoke(event, REPLY_TIMEOUT)
        .await
        .unwrap_or_else(|error| panic!("{error}\n{}", environment.logs()));
    let Reply::Response(reply) = invocation.reply else {
        panic!("an invocation error: {:?}", invocation.reply);
    };
    let body = serde_json::from_str(reply["body"].as_str().unwrap_or("null")).unwrap_or_default();
    (reply["statusCode"].as_u64().unwrap_or_default(), body)
}

/// The metric lines of an environment's log, which is then stopped: valid EMF, of `function`, and free of every
/// one of `secrets` (the log's other lines are held to that by the replay tests).
async fn events_logged(
    environment: ExecutionEnvironment,
    function: &str,
    secrets: &[String],
) -> Vec<String> {
    let logs = environment.stop_and_read_logs().await;
    let mut events = Vec::new();
    for (logged_by, event) in auth_testkit::metric_events_in(&logs) {
        assert_eq!(logged_by, function, "{logs}");
        events.push(event);
    }
    for line in logs.lines().filter(|line| line.contains("\"_aws\"")) {
        for secret in secrets {
            assert!(
                !line.contains(secret.as_str()),
                "{function}: {secret} in {line}"
            );
        }
    }
    events
}

/// Issue 15's acceptance: the security events reach each function's log as EMF lines, which
/// CloudWatch turns into the `JwtAuth` metrics, carrying no secret, token or
/// username. One story: a login, two wrong passwords and a throttled login; a refresh, then
/// the spent refresh token replayed (which ends the session); the session's access token
/// refused as revoked; a logout; and a store that does not answer.
#[tokio::test]
#[ignore = "needs the bootstraps built and a DynamoDB-compatible server: ./scripts/test runs it"]
async fn every_security_event_reaches_the_log_as_an_emf_line_without_a_secret() {
    let mut env_vars = env_vars_with_fresh_tables().await;
    for (name, value) in [
        ("JWT_REFRESH_TOKEN_ROTATION", "true"),
        ("JWT_REFRESH_TOKEN_ROTATION_GRACE", "0"),
        ("LOGIN_MAX_FAILURES", "2"),
    ] {
        env_vars["Parameters"][name] = json!(value);
    }
    let all = events::load(&root().join("events")).unwrap();
    let named = |name: &str| all.iter().find(|event| event.name == name).unwrap();
    let (login, refresh, profile, logout) = (
        named("login-ok.json"),
        named("refresh-ok.json"),
        named("profile-ok.json"),
        named("logout-access-token.json"),
    );
    let good = r#"{"username": "cosmo", "password": "space-corgi"}"#;
    let wrong = r#"{"username": "cosmo", "password": "not-the-password"}"#;
    let secret = env_vars["Parameters"]["JWT_SECRET_KEY"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut secrets = vec![
        secret,
        "cosmo".to_owned(),
        "space-corgi".to_owned(),
        "not-the-password".to_owned(),
    ];

    let mut environment = start("LoginFunction", &env_vars).await;
    let (status, tokens) =
        status_and_body(&mut environment, &request_like(login, Some(good), None)).await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let first_refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let mut statuses = Vec::new();
    for body in [wrong, wrong, good] {
        let event = request_like(login, Some(body), None);
        statuses.push(status_and_body(&mut environment, &event).await.0);
    }
    assert_eq!(statuses, [401, 401, 429]);
    secrets.extend([access.clone(), first_refresh.clone()]);
    assert_eq!(
        events_logged(environment, "login", &secrets).await,
        [
            "login_succeeded",
            "login_failed",
            "login_failed",
            "login_throttled"
        ]
    );

    let mut environment = start("RefreshFunction", &env_vars).await;
    let (status, rotated) = status_and_body(
        &mut environment,
        &request_like(refresh, None, Some(&first_refresh)),
    )
    .await;
    assert_eq!(status, 200, "{rotated}");
    secrets.extend(rotated["refresh_token"].as_str().map(str::to_owned));
    secrets.extend(rotated["access_token"].as_str().map(str::to_owned));
    let (status, _) = status_and_body(
        &mut environment,
        &request_like(refresh, None, Some(&first_refresh)),
    )
    .await;
    assert_eq!(status, 401, "the replay is refused");
    assert_eq!(
        events_logged(environment, "refresh", &secrets).await,
        ["refresh_reuse_detected"]
    );

    // The replay ended the session: its access token is refused as revoked.
    let mut environment = start("ProfileFunction", &env_vars).await;
    let (status, _) = status_and_body(
        &mut environment,
        &request_like(profile, None, Some(&access)),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(
        events_logged(environment, "profile", &secrets).await,
        ["revoked_token_presented"]
    );

    // Revoking what is revoked already is a logout all the same (RFC 7009).
    let mut environment = start("LogoutFunction", &env_vars).await;
    let (status, _) =
        status_and_body(&mut environment, &request_like(logout, None, Some(&access))).await;
    assert_eq!(status, 200);
    assert_eq!(
        events_logged(environment, "logout", &secrets).await,
        ["logout"]
    );

    // A store nobody answers at: the 503 is counted.
    let template = template();
    let config = template.function("ProfileFunction", &env_vars).unwrap();
    let binary = template.binary("ProfileFunction").unwrap();
    let mut aws = aws_environment();
    aws.insert(
        "AWS_ENDPOINT_URL_DYNAMODB".to_owned(),
        "http://127.0.0.1:9".to_owned(),
    );
    let mut environment =
        ExecutionEnvironment::start(&bootstrap("ProfileFunction", &binary), &config, &aws)
            .await
            .unwrap();
    let event = request_like(profile, None, Some(&access));
    let (status, _) = status_and_body(&mut environment, &event).await;
    assert_eq!(status, 503);
    assert_eq!(
        events_logged(environment, "profile", &secrets).await,
        ["store_unavailable"]
    );
}

/// The template's function that runs the Cargo binary `binary`.
pub(crate) fn function_id_of(template: &Template, binary: &str) -> String {
    template
        .function_ids()
        .into_iter()
        .find(|id| template.binary(id).as_deref() == Some(binary))
        .unwrap_or_else(|| panic!("no function runs {binary}"))
}

/// What `template.yaml` gives each function of an RS256 deployment (as `sam local invoke` and
/// CloudFormation resolve it): the private key reaches the functions that issue tokens and no
/// other, and every function gets the public keys it verifies with.
#[test]
fn only_the_functions_that_issue_tokens_get_the_private_key() {
    let template = template();
    let env_vars = env_vars_of("local-env-rs256.json", UNUSED_TABLES);
    let mut signers = Vec::new();
    for function in template.function_ids() {
        let variables = template.function(&function, &env_vars).unwrap().variables;
        if variables.contains_key("JWT_PRIVATE_KEY") {
            signers.push(function.clone());
        }
        assert!(
            variables.contains_key("JWT_PUBLIC_KEYS"),
            "{function} has no JWT_PUBLIC_KEYS"
        );
    }
    signers.sort();
    // Verify answers a confirmed sign-up with a login's tokens, LoginMfa a login's second step.
    assert_eq!(
        signers,
        [
            "LoginFunction",
            "LoginMfaFunction",
            "RefreshFunction",
            "VerifyFunction"
        ]
    );
    // Which is what each function's binary expects of its keys.
    for function in auth_core::Function::ALL {
        let id = function_id_of(&template, function.name());
        assert_eq!(
            signers.contains(&id),
            function.key_use() == auth_core::settings::KeyUse::Sign,
            "{id}"
        );
    }
}

/// A function that only verifies, handed the private key anyway (by hand, in the console),
/// refuses to start with a sentence naming the variable, and never echoes the key.
#[tokio::test]
#[ignore = "needs the bootstraps built and a DynamoDB-compatible server: ./scripts/test runs it"]
async fn a_verifying_function_handed_the_private_key_refuses_to_start() {
    let env_vars = env_vars_of("local-env-rs256.json", UNUSED_TABLES);
    let private_key = env_vars["Parameters"]["JWT_PRIVATE_KEY"]
        .as_str()
        .unwrap()
        .to_owned();
    let template = template();
    // Every function that only verifies: the four of before, the self-service ones but
    // VerifyFunction (the mailing ones refuse for the key before they look for MAIL_FROM), the
    // second factor's own routes (MfaFunction), and the account's sessions and activity
    // (SessionsFunction).
    let verifying: Vec<String> = auth_core::Function::ALL
        .into_iter()
        .filter(|function| function.key_use() == auth_core::settings::KeyUse::Verify)
        .map(|function| function_id_of(&template, function.name()))
        .collect();
    assert_eq!(verifying.len(), 11, "{verifying:?}");
    for function in verifying.iter().map(String::as_str) {
        let mut config = template.function(function, &env_vars).unwrap();
        config
            .variables
            .insert("JWT_PRIVATE_KEY".to_owned(), private_key.clone());
        let binary = template.binary(function).unwrap();
        let mut environment =
            ExecutionEnvironment::start(&bootstrap(function, &binary), &config, &aws_environment())
                .await
                .unwrap();
        let status = environment.wait_for_exit(REPLY_TIMEOUT).await;
        assert!(
            status.is_ok_and(|status| !status.success()),
            "{function} started"
        );
        let init_error = environment.init_error().expect("reported to /init/error");
        let message = init_error.body["errorMessage"].as_str().unwrap().to_owned();
        assert!(
            message.contains(
                "JWT_PRIVATE_KEY: is set, but this function only verifies tokens: give it the \
                 public keys alone, in JWT_PUBLIC_KEYS"
            ),
            "{function}: {message}"
        );
        let logs = environment.stop_and_read_logs().await;
        for line in private_key
            .lines()
            .filter(|line| !line.starts_with("-----"))
        {
            assert!(
                !logs.contains(line) && !message.contains(line),
                "{function}"
            );
        }
    }
}

/// A function that issues tokens whose JWT_PUBLIC_KEYS does not begin with its own key's
/// public key (the operator pasted another key) refuses to start: the others would refuse
/// every token it signs.
#[tokio::test]
#[ignore = "needs the bootstraps built and a DynamoDB-compatible server: ./scripts/test runs it"]
async fn a_signing_function_whose_public_keys_lack_its_own_refuses_to_start() {
    let mut env_vars = env_vars_of("local-env-rs256.json", UNUSED_TABLES);
    let stranger = include_str!("../../../interop/keys/stranger-rs256-public.pem");
    env_vars["Parameters"]["JWT_PUBLIC_KEYS"] = json!(stranger);
    let template = template();
    let signing: Vec<String> = auth_core::Function::ALL
        .into_iter()
        .filter(|function| function.key_use() == auth_core::settings::KeyUse::Sign)
        .map(|function| function_id_of(&template, function.name()))
        .collect();
    assert_eq!(signing.len(), 4, "{signing:?}");
    for function in signing.iter().map(String::as_str) {
        let mut environment = start(function, &env_vars).await;
        let status = environment.wait_for_exit(REPLY_TIMEOUT).await;
        assert!(
            status.is_ok_and(|status| !status.success()),
            "{function} started"
        );
        let init_error = environment.init_error().expect("reported to /init/error");
        let message = init_error.body["errorMessage"].as_str().unwrap();
        assert!(
            message
                .contains("JWT_PUBLIC_KEYS: does not begin with the public key of JWT_PRIVATE_KEY"),
            "{function}: {message}"
        );
    }
}

//! Test fixtures (feature `testing`, and this crate's own tests): a known state, requests,
//! bodies, tokens, claims and a captured log.

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey};
use lambda_http::{Body, Request, Response};
use serde_json::Value;

use crate::{
    AppState,
    sessions::InMemorySessionStore,
    settings::{SECRET_KEY_VAR, Settings},
    users::InMemoryUserStore,
};

pub const TEST_SECRET: &str = "handler-tests-secret-0123456789abcdef";

/// The settings of the variables in `overrides`, with `TEST_SECRET` as the secret unless they
/// name one, and every other variable unset (its default).
pub fn settings_with(overrides: &[(&str, &str)]) -> Settings {
    Settings::from_lookup(|name| {
        overrides
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
            .or_else(|| (name == SECRET_KEY_VAR).then(|| TEST_SECRET.to_owned()))
    })
    .expect("test settings are valid")
}

/// The state an `--env-vars` file of `sam local invoke` (`local-env.json`) configures, over the
/// demo user store and sessions in memory: how the events' own configuration is replayed.
pub fn state_from_env_file(path: &std::path::Path) -> AppState {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let env: Value = serde_json::from_str(&text).expect("an --env-vars file is JSON");
    let parameters = env["Parameters"]
        .as_object()
        .expect("an --env-vars file has Parameters")
        .clone();
    let settings = Settings::from_lookup(|name| {
        parameters
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
    })
    .expect("the env file's settings are valid");
    AppState::new(
        &settings,
        Arc::new(InMemoryUserStore::demo()),
        Arc::new(InMemorySessionStore::default()),
    )
    .expect("the env file's keys load")
}

/// The demo user store and `TEST_SECRET`, with default lifetimes and any `overrides`.
pub fn state_with(overrides: &[(&str, &str)]) -> AppState {
    AppState::new(
        &settings_with(overrides),
        Arc::new(InMemoryUserStore::demo()),
        Arc::new(InMemorySessionStore::default()),
    )
    .expect("test keys load")
}

pub fn state() -> AppState {
    state_with(&[])
}

/// A request with `method`, `path`, headers and an optional text body.
pub fn request(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Request {
    let mut builder = lambda_http::http::Request::builder()
        .method(method)
        .uri(path);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let body = body.map_or(Body::Empty, |text| Body::Text(text.to_owned()));
    builder.body(body).expect("valid test request")
}

/// A request with `Authorization: Bearer <token>`.
pub fn bearer_request(method: &str, path: &str, token: &str) -> Request {
    request(
        method,
        path,
        &[("authorization", &format!("Bearer {token}"))],
        None,
    )
}

/// The response body parsed as JSON; panics if it is not JSON, which every response must be.
pub fn json_body(response: &Response<Body>) -> Value {
    serde_json::from_slice(response.body().as_ref()).expect("response body is JSON")
}

/// A token with any header and payload text, signed HS256 with `secret`, well-formed or not.
pub fn sign_raw(header: &str, payload: &str, secret: &str) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.as_bytes()),
        URL_SAFE_NO_PAD.encode(payload.as_bytes())
    );
    // A test may sign before any TokenService exists (and installs the provider).
    crate::tokens::install_crypto_provider();
    let key = EncodingKey::from_secret(secret.as_bytes()).expect("non-empty secret");
    let signature =
        jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::HS256).expect("HS256 signs");
    format!("{input}.{signature}")
}

/// `payload` signed with `TEST_SECRET` under a standard HS256 header.
pub fn signed(payload: &Value) -> String {
    sign_raw(
        r#"{"alg":"HS256","typ":"JWT"}"#,
        &payload.to_string(),
        TEST_SECRET,
    )
}

/// A token's payload, unverified: for asserting on what was issued.
pub fn payload_of(token: &str) -> Value {
    let segment = token
        .split('.')
        .nth(1)
        .expect("a JWT has a payload segment");
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .expect("payload is base64url");
    serde_json::from_slice(&bytes).expect("payload is JSON")
}

/// `claims` with `key` set to `value`.
pub fn with_claim(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

/// `claims` without `key`.
pub fn without_claim(mut claims: Value, key: &str) -> Value {
    if let Some(object) = claims.as_object_mut() {
        object.remove(key);
    }
    claims
}

/// A log writer that keeps what it is given, for asserting on log lines.
#[derive(Debug, Clone, Default)]
pub struct CapturedLog(Arc<Mutex<Vec<u8>>>);

impl CapturedLog {
    /// A log that receives every event of this thread while the guard lives, as plain text.
    pub fn install() -> (Self, tracing::dispatcher::DefaultGuard) {
        use lambda_http::tracing::subscriber::{self, util::SubscriberInitExt};
        let captured = Self::default();
        let writer = captured.clone();
        let guard = subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish()
            .set_default();
        (captured, guard)
    }

    /// Everything written so far.
    pub fn contents(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log lock")).into_owned()
    }
}

impl Write for CapturedLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The metric lines `log` (a `Metrics::captured`) received, as `(function, event)`: each line
/// checked to be one valid EMF document that names nothing but its function and event.
pub fn metric_events(log: &CapturedLog) -> Vec<(String, String)> {
    let contents = log.contents();
    let events = metric_events_in(&contents);
    assert_eq!(events.len(), contents.lines().count(), "{contents}");
    events
}

/// The metric lines among a function's log lines (those with an `_aws` member), as
/// `metric_events` checks and reads them.
pub fn metric_events_in(logs: &str) -> Vec<(String, String)> {
    logs.lines()
        .filter_map(|line| {
            let document = serde_json::from_str::<Value>(line).ok()?;
            document.get("_aws").is_some().then_some((line, document))
        })
        .map(|(line, document)| {
            if let Err(why) = crate::metrics::spec::validate(line) {
                panic!("not EMF ({why}): {line}");
            }
            let event = document["Event"].as_str().expect("an Event").to_owned();
            let function = document["Function"]
                .as_str()
                .expect("a Function")
                .to_owned();
            let mut members: Vec<&str> = document
                .as_object()
                .expect("an object")
                .keys()
                .map(String::as_str)
                .collect();
            members.sort_unstable();
            let mut expected = vec!["Event", "Function", "_aws", event.as_str()];
            expected.sort_unstable();
            assert_eq!(members, expected, "{line}");
            let declared = crate::metrics::Event::named(&event).is_some_and(|known| {
                known
                    .counted_by()
                    .iter()
                    .any(|counter| counter.name() == function)
            });
            assert!(
                declared,
                "{function} counted {event}, which Event::counted_by does not declare"
            );
            (function, event)
        })
        .collect()
}

/// The DynamoDB-compatible server the tests run against (moto, started by `scripts/test`).
pub fn dynamodb_endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap_or_else(|_| {
        panic!(
            "AWS_ENDPOINT_URL_DYNAMODB is not set: DynamoDB tests run against a real \
             DynamoDB-compatible server; run ./scripts/test, which starts moto_server"
        )
    })
}

/// A store over a new, empty table of its own on the test server.
pub async fn fresh_dynamodb_store() -> crate::users::DynamoUserStore {
    let _ = dynamodb_endpoint();
    let table = format!("users-test-{}", uuid::Uuid::new_v4());
    let store = crate::users::DynamoUserStore::connect(table).await;
    store
        .create_table()
        .await
        .expect("the test server creates tables");
    store
}

/// A store whose endpoint is `url`, for tests of a server that is down or slow.
pub async fn dynamodb_store_at(url: &str) -> crate::users::DynamoUserStore {
    crate::users::DynamoUserStore::new(crate::dynamodb::client_at(url).await, "users")
}

/// An enabled user with `password` (hashed) and the profile fields of the JSON object `profile`.
pub fn user_with_password(username: &str, password: &str, profile: Value) -> crate::users::User {
    crate::users::User {
        username: username.to_owned(),
        password_hash: crate::passwords::hash(password).expect("Argon2 hashes"),
        disabled: false,
        tokens_valid_after: None,
        scopes: Vec::new(),
        profile: profile.as_object().cloned().unwrap_or_default(),
    }
}

/// A sessions store over a new, empty table of its own on the test server.
pub async fn fresh_dynamodb_sessions() -> crate::sessions::DynamoSessionStore {
    let _ = dynamodb_endpoint();
    let table = format!("sessions-test-{}", uuid::Uuid::new_v4());
    let store = crate::sessions::DynamoSessionStore::connect(table).await;
    store
        .create_table()
        .await
        .expect("the test server creates tables");
    store
}

/// A sessions store whose endpoint is `url`, for tests of a server that is down or slow.
pub async fn dynamodb_sessions_at(url: &str) -> crate::sessions::DynamoSessionStore {
    crate::sessions::DynamoSessionStore::new(crate::dynamodb::client_at(url).await, "sessions")
}

//! A known state, requests, bodies, tokens, claims and users.

use std::sync::Arc;

use auth_core::{
    AppState, Stores,
    claims::TokenKind,
    clock::Clock,
    keys::install_crypto_provider,
    passwords,
    sessions::InMemorySessionStore,
    settings::{SECRET_KEY_VAR, Settings},
    state::StateBuilder,
    tokens::{SigningError, TokenService, new_token_id},
    users::{InMemoryUserStore, User},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey};
use lambda_http::{Body, Request, Response};
use serde_json::Value;

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
    state_builder_from_env_file(path)
        .build()
        .expect("the env file's keys load")
}

/// The builder of `state_from_env_file(path)`, for a test that sets more (a clock).
pub fn state_builder_from_env_file(path: &std::path::Path) -> StateBuilder {
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
    // The account routes' mail goes to an outbox no test reads: an event's reply is what counts.
    AppState::builder(&settings, demo_stores()).mailer(Arc::new(crate::mail::Outbox::new()))
}

/// The demo user store and sessions in memory, each new, with the account routes' stores.
pub fn demo_stores() -> Stores {
    Stores::in_memory(
        Arc::new(InMemoryUserStore::demo()),
        Arc::new(InMemorySessionStore::default()),
    )
}

/// The builder of `state_with(overrides)`, for a test that sets more (a clock, stores, metrics).
pub fn state_builder(overrides: &[(&str, &str)]) -> StateBuilder {
    AppState::builder(&settings_with(overrides), demo_stores())
}

/// The demo user store and `TEST_SECRET`, with default lifetimes and any `overrides`.
pub fn state_with(overrides: &[(&str, &str)]) -> AppState {
    state_builder(overrides).build().expect("test keys load")
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

/// Every `Set-Cookie` of `response`, in order.
pub fn set_cookies(response: &Response<Body>) -> Vec<String> {
    response
        .headers()
        .get_all(lambda_http::http::header::SET_COOKIE)
        .iter()
        .map(|value| value.to_str().expect("a Set-Cookie is text").to_owned())
        .collect()
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
    install_crypto_provider();
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

/// An enabled user with `password` (hashed) and the profile fields of the JSON object `profile`.
pub fn user_with_password(username: &str, password: &str, profile: Value) -> User {
    User {
        username: username.to_owned(),
        password_hash: passwords::hash(password).expect("Argon2 hashes"),
        disabled: false,
        tokens_valid_after: None,
        scopes: Vec::new(),
        profile: profile.as_object().cloned().unwrap_or_default(),
        account: Default::default(),
    }
}

/// Issuing a token the quick way: what a test wants when it needs a valid token and nothing
/// else. Not part of `TokenService`, whose every issue says when, with which id and in which
/// session.
pub trait IssueNow {
    /// A token of `kind` for `subject`, issued now (the system clock), with a fresh random
    /// `jti` and no session.
    fn issue(&self, kind: TokenKind, subject: &str, fresh: bool) -> Result<String, SigningError>;
}

impl IssueNow for TokenService {
    fn issue(&self, kind: TokenKind, subject: &str, fresh: bool) -> Result<String, SigningError> {
        let now = Clock::System.unix_secs();
        self.issue_at(kind, subject, fresh, now, &new_token_id(), None)
    }
}

//! Interoperability with flask-jwt-extended, both ways, and the contract cases that
//! `interop/check_flask.py` proves against the Flask reference app.

use std::{collections::HashMap, fs, path::PathBuf, sync::Arc};

use aws_sdk_dynamodb::types::AttributeValue;

use auth_core::{
    AppState, Stores, claims::TokenKind, sessions::InMemorySessionStore, settings::Settings,
    users::InMemoryUserStore,
};
use auth_testkit::{fresh_dynamodb_sessions, fresh_dynamodb_store};
use lambda_http::{Body, http::Request};
use local_api::{function_for, invoke};
use serde_json::{Value, json};

const ISSUED: i64 = 1_795_910_400; // 2026-11-29
const VALID_UNTIL: i64 = 4_102_444_800; // 2100-01-01

fn interop_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../interop")
        .join(name)
}

fn read_json(name: &str) -> Value {
    serde_json::from_str(&fs::read_to_string(interop_file(name)).unwrap()).unwrap()
}

/// The settings of the service the contract's tokens were minted for: they live until 2100,
/// and so may its sessions (the longest cap there is), lest the cases' answers change a month
/// after `ISSUED`.
fn settings(secret: &str, ttl: Option<String>) -> Settings {
    Settings::from_lookup(|name| match name {
        "JWT_SECRET_KEY" => Some(secret.to_owned()),
        "JWT_ACCESS_TOKEN_EXPIRES" | "JWT_REFRESH_TOKEN_EXPIRES" => ttl.clone(),
        "JWT_SESSION_MAX_AGE" => Some("36500d".to_owned()),
        _ => None,
    })
    .unwrap()
}

/// That service with the local server's stores: the demo user, sessions in memory.
fn state(secret: &str, ttl: Option<String>) -> AppState {
    AppState::builder(
        &settings(secret, ttl),
        Stores::separate(
            Arc::new(InMemoryUserStore::demo()),
            Arc::new(InMemorySessionStore::default()),
        ),
    )
    .build()
    .unwrap()
}

/// That service over DynamoDB (moto, from `scripts/test`): fresh tables, with the demo user
/// written as the in-memory store holds it. (`users add` would add `created_at`, a profile
/// field the in-memory user has not; an item written by other means has none either.)
async fn state_over_dynamodb(secret: &str) -> AppState {
    let users = fresh_dynamodb_store().await;
    let demo = InMemoryUserStore::demo_user();
    let mut item = HashMap::from([
        ("username".to_owned(), AttributeValue::S(demo.username)),
        (
            "password_hash".to_owned(),
            AttributeValue::S(demo.password_hash),
        ),
    ]);
    for (field, value) in demo.profile {
        let number = value.as_i64().expect("the demo profile holds numbers");
        item.insert(field, AttributeValue::N(number.to_string()));
    }
    auth_dynamodb::client::client()
        .await
        .put_item()
        .table_name(users.table())
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
    AppState::builder(
        &settings(secret, None),
        Stores::separate(Arc::new(users), Arc::new(fresh_dynamodb_sessions().await)),
    )
    .build()
    .unwrap()
}

async fn send(
    state: &AppState,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, Value) {
    let mut builder = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder
        .body(body.map_or(Body::Empty, |text| Body::Text(text.to_owned())))
        .unwrap();
    let function = function_for(request.method(), path).unwrap();
    let response = invoke(state, function, request).await.unwrap();
    (
        response.status().as_u16(),
        serde_json::from_slice(response.body().as_ref()).unwrap(),
    )
}

#[tokio::test]
async fn every_contract_case_gets_its_expected_answer() {
    let contract = read_json("contract_cases.json");
    let state = state(contract["secret"].as_str().unwrap(), None);
    answers_every_contract_case(&state, &contract).await;
}

/// One table of answers for both stores: every case, in order, over DynamoDB.
#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn every_contract_case_gets_its_expected_answer_over_dynamodb() {
    let contract = read_json("contract_cases.json");
    let state = state_over_dynamodb(contract["secret"].as_str().unwrap()).await;
    answers_every_contract_case(&state, &contract).await;
}

async fn answers_every_contract_case(state: &AppState, contract: &Value) {
    let cases = contract["cases"].as_array().unwrap();
    assert!(cases.len() > 50);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let request = &case["request"];
        let headers: Vec<(&str, &str)> = request["headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
            .collect();
        let (status, body) = send(
            state,
            request["method"].as_str().unwrap(),
            request["path"].as_str().unwrap(),
            &headers,
            request["body"].as_str(),
        )
        .await;
        let expected = &case["expected"];
        assert_eq!(
            status as u64,
            expected["status"].as_u64().unwrap(),
            "{name}: {body}"
        );
        if let Some(expected_body) = expected.get("body") {
            assert_eq!(&body, expected_body, "{name}");
        } else {
            let mut keys: Vec<&String> = body.as_object().unwrap().keys().collect();
            keys.sort();
            let wanted: Vec<&str> = expected["bodyKeys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k.as_str().unwrap())
                .collect();
            assert_eq!(keys, wanted, "{name}");
        }
    }
}

#[tokio::test]
async fn tokens_issued_by_flask_jwt_extended_are_accepted() {
    let flask = read_json("flask_tokens.json");
    let state = state(flask["secret"].as_str().unwrap(), None);
    let access = flask["access_token"].as_str().unwrap();
    let refresh = flask["refresh_token"].as_str().unwrap();

    let claims = state.tokens().verify(access, TokenKind::Access).unwrap();
    assert_eq!(
        (claims.subject.as_str(), claims.kind),
        ("cosmo", TokenKind::Access)
    );
    assert_eq!(
        state
            .tokens()
            .verify(refresh, TokenKind::Refresh)
            .unwrap()
            .kind,
        TokenKind::Refresh
    );

    let bearer = |token: &str| format!("Bearer {token}");
    let (status, body) = send(
        &state,
        "GET",
        "/profile",
        &[("authorization", &bearer(access))],
        None,
    )
    .await;
    assert_eq!((status, &body["logged_in_as"]), (200, &json!("cosmo")));
    let (status, body) = send(
        &state,
        "POST",
        "/refresh",
        &[("authorization", &bearer(refresh))],
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = send(
        &state,
        "GET",
        "/profile",
        &[("authorization", &bearer(refresh))],
        None,
    )
    .await;
    assert_eq!(status, 422);
}

/// The tokens `interop/check_flask.py` feeds to flask-jwt-extended are exactly what our
/// `TokenService` issues. Set UPDATE_INTEROP_VECTORS=1 to rewrite them after a deliberate change.
#[test]
fn our_issued_tokens_are_the_committed_vectors() {
    let secret = read_json("contract_cases.json")["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let state = state(&secret, Some((VALID_UNTIL - ISSUED).to_string()));
    let issue = |kind, jti| {
        state
            .tokens()
            .issue_at(kind, "cosmo", true, ISSUED, jti, None)
            .unwrap()
    };
    let ours = json!({
        "secret": secret,
        "access_token": issue(TokenKind::Access, "0b7e2f9a-3c4d-4e5f-8a6b-7c8d9e0f1a2b"),
        "refresh_token": issue(TokenKind::Refresh, "1c8f3a0b-4d5e-4f60-9b7c-8d9e0f1a2b3c"),
    });
    let path = interop_file("rust_tokens.json");
    if std::env::var_os("UPDATE_INTEROP_VECTORS").is_some() {
        fs::write(&path, serde_json::to_string_pretty(&ours).unwrap() + "\n").unwrap();
    }
    assert_eq!(
        read_json("rust_tokens.json"),
        ours,
        "run with UPDATE_INTEROP_VECTORS=1 if the change is deliberate"
    );
}

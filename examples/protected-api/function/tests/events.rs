//! The handler against API Gateway HTTP API (payload format 2.0) events, as the JWT authorizer
//! hands them on: `../events/*.json`, the same files `sam local invoke -e` takes. Each event
//! documents the answer it must get under `expected`.

// Test code: an unwrap, expect or panic is how a test says where it failed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use lambda_http::{Body, Request, Response, http::StatusCode};
use serde_json::{Value, json};

fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../events")
}

fn event(name: &str) -> Value {
    let path = events_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The request `lambda_http` makes of the event in Lambda.
fn request(event: &Value) -> Request {
    lambda_http::request::from_str(&event.to_string()).expect("an API Gateway v2 event")
}

async fn answer(request: Request) -> (Response<Body>, Value) {
    let response = protected_api_example::handle(request).await.unwrap();
    assert_eq!(response.headers()["content-type"], "application/json");
    let body = serde_json::from_slice(response.body()).expect("a JSON body");
    (response, body)
}

#[tokio::test]
async fn every_event_answers_what_it_documents() {
    let mut names: Vec<_> = std::fs::read_dir(events_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".json"))
        .collect();
    names.sort();
    assert!(names.len() >= 4, "events missing: {names:?}");
    for name in names {
        let event = event(&name);
        let (response, body) = answer(request(&event)).await;
        let expected = &event["expected"];
        assert_eq!(response.status().as_u16(), expected["statusCode"], "{name}");
        assert_eq!(body, expected["body"], "{name}");
        // The answer relays claims, never the token they came in.
        let headers = &event["headers"];
        let token = headers["authorization"]
            .as_str()
            .or(headers["Authorization"].as_str())
            .and_then(|value| value.strip_prefix("Bearer "))
            .unwrap();
        assert!(!body.to_string().contains(token), "{name} echoes the token");
    }
}

#[tokio::test]
async fn hello_answers_the_claims_api_gateway_passed() {
    let event = event("hello-ok.json");
    let (response, body) = answer(request(&event)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body["route"], "GET /hello");
    assert_eq!(
        body["claims"],
        event["requestContext"]["authorizer"]["jwt"]["claims"]
    );
    assert_eq!(body["claims"]["sub"], "cosmo");
    // As API Gateway passes them: every claim's value a string, numbers included.
    assert_eq!(body["claims"]["exp"], "1795911300");
    // A route that requires no scope gets none from the authorizer.
    assert_eq!(body["scopes"], Value::Null);
}

#[tokio::test]
async fn admin_answers_the_scopes_the_route_required() {
    let (response, body) = answer(request(&event("admin-ok.json"))).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body["route"], "GET /admin");
    assert_eq!(body["scopes"], json!(["admin"]));
    // The token's own `scope` claim (the user's scopes, space-separated) comes through too.
    assert_eq!(body["claims"]["scope"], "admin");
}

#[tokio::test]
async fn sensitive_answers_the_second_factor_scope_the_route_required() {
    let (response, body) = answer(request(&event("sensitive-ok.json"))).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body["route"], "GET /sensitive");
    // The scope the auth service adds after a second factor (its MFA_SCOPE, the stack's
    // MfaScope): the one thing API Gateway's JWT authorizer can check for it.
    assert_eq!(body["scopes"], json!(["mfa"]));
    assert_eq!(body["claims"]["scope"], "mfa");
    // `amr` comes through as API Gateway passes an array claim: one string, not a list.
    assert_eq!(body["claims"]["amr"], "[pwd otp mfa]");
}

#[tokio::test]
async fn a_request_no_authorizer_checked_is_401_unauthorized() {
    // What `sam local start-api` sends: it skips JWT authorizers.
    let (response, body) = answer(request(&event("hello-no-authorizer.json"))).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(body, json!({"message": "Unauthorized"}));
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
}

#[tokio::test]
async fn a_request_from_outside_api_gateway_is_401_unauthorized() {
    // No request context at all: a request built outside Lambda (a test, another adapter).
    let (response, body) = answer(Request::default()).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(body, json!({"message": "Unauthorized"}));
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
}

#[tokio::test]
async fn a_refresh_token_the_authorizer_let_through_is_401() {
    let (response, body) = answer(request(&event("hello-refresh-token.json"))).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"message": "Only non-refresh tokens are allowed"})
    );
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer error="invalid_token""#
    );
}

#[tokio::test]
async fn a_token_without_a_type_counts_as_an_access_token() {
    // The service's rule (flask-jwt-extended's): only `type: refresh` is a refresh token.
    let mut event = event("hello-ok.json");
    let claims = &mut event["requestContext"]["authorizer"]["jwt"]["claims"];
    claims.as_object_mut().unwrap().remove("type");
    let (response, body) = answer(request(&event)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body["claims"]["sub"], "cosmo");
}

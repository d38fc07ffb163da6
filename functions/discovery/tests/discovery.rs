//! The published keys and discovery document, as a verifier that is not ours reads them.

// Test code: an unwrap, expect or panic is how a test says where it failed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use auth_core::{
    settings::{ALGORITHM_VAR, ISSUER_VAR, PRIVATE_KEY_VAR, PUBLIC_KEYS_VAR},
    tokens::TokenService,
};
use auth_http::location::RequestOrigin;
use auth_testkit::{json_body, request, settings_with};
use lambda_http::{Body, Request, Response, http::header::CACHE_CONTROL};
use serde_json::json;

const RS256_PRIVATE: &str = include_str!("../../../interop/keys/rs256-private.pem");
const STRANGER_PUBLIC: &str = include_str!("../../../interop/keys/stranger-rs256-public.pem");

fn tokens(overrides: &[(&str, &str)]) -> TokenService {
    TokenService::new(&settings_with(overrides)).unwrap()
}

fn rs256() -> TokenService {
    tokens(&[
        (ALGORITHM_VAR, "RS256"),
        (PRIVATE_KEY_VAR, RS256_PRIVATE),
        (PUBLIC_KEYS_VAR, STRANGER_PUBLIC),
    ])
}

/// An HTTP API event for `GET path` received at `domain`.
fn event(path: &str, domain: &str) -> Request {
    event_under(path, domain, "")
}

/// The same through a custom domain's API mapping `base` (`/v1`): the URL's path starts with it.
fn event_under(path: &str, domain: &str, base: &str) -> Request {
    let event = json!({
        "version": "2.0",
        "routeKey": format!("GET {path}"),
        "rawPath": format!("{base}{path}"),
        "rawQueryString": "",
        "headers": {"host": "ignored.example"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc123", "domainName": domain,
            "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "192.0.2.10", "userAgent": "test"},
            "requestId": "id", "routeKey": format!("GET {path}"), "stage": "$default",
            "time": "29/Nov/2026:00:00:00 +0000", "timeEpoch": 1795910400000_i64
        },
        "isBase64Encoded": false
    });
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

async fn get(tokens: &TokenService, request: Request) -> Response<Body> {
    discovery::handle(tokens, request).await.unwrap()
}

#[tokio::test]
async fn the_jwks_publishes_every_key_with_its_kid_and_no_private_part() {
    let tokens = rs256();
    let response = get(&tokens, request("GET", discovery::JWKS_PATH, &[], None)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()[CACHE_CONTROL],
        discovery::CACHE_CONTROL_VALUE
    );
    let body = json_body(&response);
    let keys = body["keys"].as_array().unwrap();
    let kids: Vec<&str> = keys
        .iter()
        .map(|key| key["kid"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = tokens.key_set().unwrap().kids().collect();
    assert_eq!(kids, expected);
    assert_eq!(keys.len(), 2);
    for key in keys {
        assert_eq!(
            (&key["kty"], &key["use"], &key["alg"]),
            (&json!("RSA"), &json!("sig"), &json!("RS256"))
        );
        assert!(key["n"].is_string() && key["e"] == "AQAB", "{key}");
        let members: Vec<&String> = key.as_object().unwrap().keys().collect();
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(!members.iter().any(|name| *name == private), "{key}");
        }
    }
}

#[tokio::test]
async fn discovery_names_the_api_gateway_domain_as_issuer_and_its_jwks() {
    let response = get(
        &rs256(),
        event(
            discovery::DISCOVERY_PATH,
            "abc123.execute-api.us-east-1.amazonaws.com",
        ),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()[CACHE_CONTROL],
        discovery::CACHE_CONTROL_VALUE
    );
    let body = json_body(&response);
    let issuer = "https://abc123.execute-api.us-east-1.amazonaws.com";
    assert_eq!(body["issuer"], issuer);
    assert_eq!(body["jwks_uri"], format!("{issuer}/.well-known/jwks.json"));
    assert_eq!(
        body["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    assert_eq!(body["subject_types_supported"], json!(["public"]));
    assert_eq!(body["response_types_supported"], json!([]));
    assert!(body.get("authorization_endpoint").is_none());
}

#[tokio::test]
async fn a_configured_issuer_and_a_local_servers_origin_are_the_issuer() {
    let fixed = tokens(&[
        (ALGORITHM_VAR, "RS256"),
        (PRIVATE_KEY_VAR, RS256_PRIVATE),
        (ISSUER_VAR, "https://auth.example.com/v1"),
    ]);
    let body = json_body(
        &get(
            &fixed,
            event(
                discovery::DISCOVERY_PATH,
                "abc123.execute-api.us-east-1.amazonaws.com",
            ),
        )
        .await,
    );
    assert_eq!(
        body["jwks_uri"],
        "https://auth.example.com/v1/.well-known/jwks.json"
    );

    let mut local = request("GET", discovery::DISCOVERY_PATH, &[], None);
    local
        .extensions_mut()
        .insert(RequestOrigin("http://127.0.0.1:3000".to_owned()));
    let body = json_body(&get(&rs256(), local).await);
    assert_eq!(body["issuer"], "http://127.0.0.1:3000");
}

#[tokio::test]
async fn through_a_custom_domains_api_mapping_the_documents_name_urls_that_reach_this_api() {
    let tokens = rs256();
    let response = get(
        &tokens,
        event_under(discovery::DISCOVERY_PATH, "auth.example.com", "/v1"),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body = json_body(&response);
    assert_eq!(body["issuer"], "https://auth.example.com/v1");
    assert_eq!(
        body["jwks_uri"],
        "https://auth.example.com/v1/.well-known/jwks.json"
    );
    let response = get(
        &tokens,
        event_under(discovery::JWKS_PATH, "auth.example.com", "/v1"),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(json_body(&response)["keys"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn without_an_origin_discovery_is_a_server_error_not_a_guess() {
    let response = get(
        &rs256(),
        request("GET", discovery::DISCOVERY_PATH, &[], None),
    )
    .await;
    assert_eq!(response.status(), 500);
    assert_eq!(
        json_body(&response),
        json!({"msg": "Internal server error"})
    );
}

#[tokio::test]
async fn an_hs256_deployment_publishes_nothing() {
    let hs256 = tokens(&[]);
    for path in [discovery::JWKS_PATH, discovery::DISCOVERY_PATH] {
        let response = get(
            &hs256,
            event(path, "abc123.execute-api.us-east-1.amazonaws.com"),
        )
        .await;
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(
            json_body(&response),
            json!({"msg": discovery::NO_PUBLIC_KEYS})
        );
        assert!(!String::from_utf8_lossy(response.body().as_ref()).contains("handler-tests"));
    }
}

#[tokio::test]
async fn other_paths_and_methods_are_not_found() {
    for (method, path) in [
        ("GET", "/.well-known/other"),
        ("POST", discovery::JWKS_PATH),
    ] {
        let response = get(&rs256(), request(method, path, &[], None)).await;
        assert_eq!(response.status(), 404);
        assert_eq!(json_body(&response), json!({"message": "Not Found"}));
    }
}

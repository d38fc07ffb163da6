use serde_json::json;

use super::*;
use auth_testkit::request;

/// An HTTP API (payload 2.0) event for `GET /profile` that arrived at `domain`.
fn event_at(domain: Option<&str>) -> Request {
    event_at_path(domain, "/profile")
}

/// The same, with `raw_path` as the URL's path (a mapping key or a stage before the route's).
fn event_at_path(domain: Option<&str>, raw_path: &str) -> Request {
    let mut context = json!({
        "accountId": "123456789012",
        "apiId": "abc123",
        "http": {"method": "GET", "path": "/profile", "protocol": "HTTP/1.1",
                 "sourceIp": "192.0.2.10", "userAgent": "test"},
        "requestId": "id",
        "routeKey": "GET /profile",
        "stage": "$default",
        "time": "29/Nov/2026:00:00:00 +0000",
        "timeEpoch": 1795910400000_i64
    });
    if let Some(domain) = domain {
        context["domainName"] = json!(domain);
    }
    let event = json!({
        "version": "2.0",
        "routeKey": "GET /profile",
        "rawPath": raw_path,
        "rawQueryString": "",
        "headers": {"host": "attacker.example"},
        "requestContext": context,
        "isBase64Encoded": false
    });
    lambda_http::request::from_str(&event.to_string()).expect("a valid HTTP API event")
}

#[test]
fn the_origin_is_the_domain_api_gateway_received_the_request_at_not_the_host_header() {
    let request = event_at(Some("abc123.execute-api.us-east-1.amazonaws.com"));
    assert_eq!(
        request_origin(&request).as_deref(),
        Some("https://abc123.execute-api.us-east-1.amazonaws.com")
    );
}

#[test]
fn a_custom_domains_mapping_key_or_a_stage_is_part_of_the_origin() {
    let request = event_at_path(Some("Auth.Example.com"), "/v1/profile");
    assert_eq!(
        request_origin(&request).as_deref(),
        Some("https://auth.example.com/v1")
    );
    let request = event_at_path(Some("auth.example.com"), "/identity/v2/profile");
    assert_eq!(
        request_origin(&request).as_deref(),
        Some("https://auth.example.com/identity/v2")
    );
}

#[test]
fn a_path_that_does_not_end_with_the_routes_own_has_no_origin() {
    assert_eq!(
        request_origin(&event_at_path(Some("a.example"), "/login")),
        None
    );
    assert_eq!(
        request_origin(&event_at_path(Some("a.example"), "/v1?/profile")),
        None
    );
    assert_eq!(
        request_origin(&event_at_path(Some("a.example"), "//profile")),
        None
    );
}

#[test]
fn an_event_without_a_domain_or_with_one_that_is_not_a_host_has_no_origin() {
    assert_eq!(request_origin(&event_at(None)), None);
    assert_eq!(request_origin(&event_at(Some("evil.example/path"))), None);
    assert_eq!(request_origin(&event_at(Some("evil.example:8443"))), None);
    assert_eq!(request_origin(&event_at(Some("user@evil.example"))), None);
    assert_eq!(request_origin(&event_at(Some(""))), None);
    // A request that is no API Gateway event at all (the test helpers').
    assert_eq!(request_origin(&request("GET", "/profile", &[], None)), None);
}

#[test]
fn a_local_server_names_its_origin_in_the_request() {
    let mut request = request("GET", "/profile", &[("host", "elsewhere")], None);
    request
        .extensions_mut()
        .insert(RequestOrigin("http://127.0.0.1:3000".to_owned()));
    assert_eq!(
        request_origin(&request).as_deref(),
        Some("http://127.0.0.1:3000")
    );
}

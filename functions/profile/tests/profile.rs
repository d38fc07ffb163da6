//! `GET /profile`: flask-jwt-extended's header and token contract, row by row.

// Test code: an unwrap, expect or panic is how a test says where it failed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use auth_core::{AppState, claims::TokenKind};
use auth_testkit::{
    IssueNow, TEST_SECRET, json_body, request, sign_raw, signed, state, state_with,
    with_claim as with, without_claim as without,
};
use lambda_http::http::StatusCode;
use serde_json::{Value, json};

const BAD_HEADER: &str = "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'";
const NO_BEARER: &str =
    "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'";

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn claims() -> Value {
    json!({"fresh": true, "iat": now() - 5, "jti": "5f0c2a36-9a4e-4d47-8a55-0b6f5b1e3c11", "type": "access", "sub": "cosmo", "nbf": now() - 5, "exp": now() + 600})
}

/// Status and body for an `Authorization` header value (or none), checking the invariants
/// every answer keeps: JSON, never a 5xx, `WWW-Authenticate` on every 401, no token echoed.
async fn answer_in(state: &AppState, authorization: Option<&str>) -> (StatusCode, Value) {
    let headers: Vec<(&str, &str)> = authorization
        .map(|value| ("authorization", value))
        .into_iter()
        .collect();
    let response = profile::handle(state, request("GET", "/profile", &headers, None))
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "application/json");
    assert!(
        !response.status().is_server_error(),
        "{authorization:?} gave {}",
        response.status()
    );
    if response.status() == StatusCode::UNAUTHORIZED {
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
    }
    let body = json_body(&response);
    if let Some(token) = authorization
        .and_then(|value| value.split_whitespace().last())
        .filter(|t| t.len() > 20)
    {
        assert!(
            !body.to_string().contains(token),
            "body echoes the token: {body}"
        );
    }
    assert!(!body.to_string().contains(TEST_SECRET));
    (response.status(), body)
}

async fn answer(authorization: Option<&str>) -> (StatusCode, Value) {
    answer_in(&state(), authorization).await
}

async fn answer_for_token(token: &str) -> (StatusCode, Value) {
    answer(Some(&format!("Bearer {token}"))).await
}

fn msg(status: StatusCode, message: &str) -> (StatusCode, Value) {
    (status, json!({"msg": message}))
}

#[tokio::test]
async fn access_token_gives_the_users_public_record() {
    let token = state()
        .tokens()
        .issue(TokenKind::Access, "cosmo", true)
        .unwrap();
    let (status, body) = answer_for_token(&token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"logged_in_as": "cosmo", "username": "cosmo", "id": 1})
    );
    assert!(!body.to_string().contains("argon2"));
}

#[tokio::test]
async fn refresh_token_is_refused_at_profile() {
    let token = state()
        .tokens()
        .issue(TokenKind::Refresh, "cosmo", false)
        .unwrap();
    assert_eq!(
        answer_for_token(&token).await,
        msg(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Only non-refresh tokens are allowed"
        )
    );
}

#[tokio::test]
async fn valid_token_for_a_missing_user_is_401_error_loading_the_user() {
    let token = signed(&with(claims(), "sub", json!("ghost")));
    assert_eq!(
        answer_for_token(&token).await,
        msg(StatusCode::UNAUTHORIZED, "Error loading the user ghost")
    );
}

#[tokio::test]
async fn missing_or_empty_header_is_401_missing_authorization_header() {
    for value in [None, Some(""), Some("  "), Some(",,"), Some(" , ")] {
        assert_eq!(
            answer(value).await,
            msg(StatusCode::UNAUTHORIZED, "Missing Authorization Header"),
            "{value:?}"
        );
    }
}

#[tokio::test]
async fn header_without_exactly_one_bearer_field_is_401_missing_bearer_type() {
    let token = signed(&claims());
    for value in [
        "Basic Y29zbW86c3BhY2UtY29yZ2k=".to_owned(),
        format!("bearer {token}"),
        format!("JWT {token}"),
        token.clone(),
        format!("Bearer {token}, Bearer {token}"),
    ] {
        assert_eq!(
            answer(Some(&value)).await,
            msg(StatusCode::UNAUTHORIZED, NO_BEARER),
            "{value}"
        );
    }
}

#[tokio::test]
async fn bearer_field_that_is_not_two_words_is_422_bad_header() {
    let token = signed(&claims());
    for value in [
        "Bearer".to_owned(),
        format!("Bearer {token} extra"),
        "Bearer a b c".to_owned(),
    ] {
        assert_eq!(
            answer(Some(&value)).await,
            msg(StatusCode::UNPROCESSABLE_ENTITY, BAD_HEADER),
            "{value}"
        );
    }
}

#[tokio::test]
async fn bearer_among_other_fields_is_accepted() {
    let token = signed(&claims());
    for value in [
        format!("Basic x, Bearer {token}"),
        format!(", ,Bearer {token}"),
        format!("Bearer {token},"),
    ] {
        assert_eq!(answer(Some(&value)).await.0, StatusCode::OK, "{value}");
    }
}

#[tokio::test]
async fn odd_headers_never_give_a_server_error() {
    for value in [
        ", ,Bearer x",
        ",",
        "Bearer ,",
        "Bearer \t x",
        "Bearer .",
        "Bearer ..",
        "Bearer ...",
        "Bearer a.b.c.d",
        "Bearer ====.====.====",
    ] {
        let (status, body) = answer(Some(value)).await;
        assert!(
            status == StatusCode::UNAUTHORIZED || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{value}: {status}"
        );
        assert!(body["msg"].is_string(), "{value}: {body}");
    }
}

#[tokio::test]
async fn algorithm_checks_come_first() {
    let payload = claims().to_string();
    assert_eq!(
        answer_for_token(&sign_raw(r#"{"typ":"JWT"}"#, &payload, TEST_SECRET)).await,
        msg(StatusCode::UNPROCESSABLE_ENTITY, "Algorithm not specified")
    );
    for alg in ["none", "HS384", "HS512", "RS256"] {
        let token = sign_raw(
            &format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#),
            &payload,
            TEST_SECRET,
        );
        assert_eq!(
            answer_for_token(&token).await,
            msg(
                StatusCode::UNPROCESSABLE_ENTITY,
                "The specified alg value is not allowed"
            ),
            "{alg}"
        );
    }
}

#[tokio::test]
async fn another_key_fails_signature_verification() {
    let token = sign_raw(
        r#"{"alg":"HS256","typ":"JWT"}"#,
        &claims().to_string(),
        "some-other-secret-some-other-secret!!",
    );
    assert_eq!(
        answer_for_token(&token).await,
        msg(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Signature verification failed"
        )
    );
}

#[tokio::test]
async fn claim_failures_have_flask_jwt_extended_statuses_and_messages() {
    let cases = [
        (
            with(claims(), "sub", json!(7)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "Subject must be a string",
        ),
        (
            with(claims(), "iat", json!(now() + 60)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "The token is not yet valid (iat)",
        ),
        (
            with(claims(), "nbf", json!(now() + 60)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "The token is not yet valid (nbf)",
        ),
        (
            with(claims(), "exp", json!(now() - 1)),
            StatusCode::UNAUTHORIZED,
            "Token has expired",
        ),
        (
            with(claims(), "exp", json!(now())),
            StatusCode::UNAUTHORIZED,
            "Token has expired",
        ),
        (
            without(claims(), "sub"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "Missing claim: sub",
        ),
        (
            without(claims(), "exp"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "Token is missing the \"exp\" claim",
        ),
        (
            with(claims(), "exp", json!("tomorrow")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "Expiration Time claim (exp) must be an integer.",
        ),
        (
            with(claims(), "aud", json!("someone-else")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid audience",
        ),
    ];
    for (payload, status, message) in cases {
        assert_eq!(
            answer_for_token(&signed(&payload)).await,
            msg(status, message),
            "{payload}"
        );
    }
}

#[tokio::test]
async fn malformed_tokens_are_422_with_a_msg() {
    let header = r#"{"alg":"HS256","typ":"JWT"}"#;
    for token in [
        "abc".to_owned(),
        "a.b".to_owned(),
        "!!!.???.***".to_owned(),
        sign_raw("[]", &claims().to_string(), TEST_SECRET),
        sign_raw(header, "[]", TEST_SECRET),
        sign_raw(header, "not json", TEST_SECRET),
        sign_raw(header, r#""just a string""#, TEST_SECRET),
    ] {
        let (status, body) = answer_for_token(&token).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{token}");
        assert!(body["msg"].is_string());
    }
}

#[tokio::test]
async fn tokens_flask_jwt_extended_would_accept_are_accepted() {
    let now = now();
    for payload in [
        json!({"sub": "cosmo", "exp": now + 60}),
        json!({"sub": "cosmo", "exp": now + 60, "fresh": now + 30, "csrf": "abc", "role": "admin"}),
        json!({"sub": "cosmo", "exp": now + 60, "type": "access", "jti": "x", "fresh": false}),
    ] {
        assert_eq!(
            answer_for_token(&signed(&payload)).await.0,
            StatusCode::OK,
            "{payload}"
        );
    }
    let with_kid = sign_raw(
        r#"{"alg":"HS256","typ":"JWT","kid":"2026-11"}"#,
        &claims().to_string(),
        TEST_SECRET,
    );
    assert_eq!(answer_for_token(&with_kid).await.0, StatusCode::OK);
}

#[tokio::test]
async fn configured_audience_and_issuer_are_required() {
    let state = state_with(&[
        ("JWT_AUDIENCE", "my-api"),
        ("JWT_ISSUER", "https://auth.example"),
    ]);
    let issued = state
        .tokens()
        .issue(TokenKind::Access, "cosmo", true)
        .unwrap();
    assert_eq!(
        answer_in(&state, Some(&format!("Bearer {issued}"))).await.0,
        StatusCode::OK
    );
    let plain = signed(&claims());
    assert_eq!(
        answer_in(&state, Some(&format!("Bearer {plain}"))).await,
        msg(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Token is missing the \"iss\" claim"
        )
    );
    let wrong_audience = signed(&with(
        with(claims(), "iss", json!("https://auth.example")),
        "aud",
        json!("other"),
    ));
    assert_eq!(
        answer_in(&state, Some(&format!("Bearer {wrong_audience}"))).await,
        msg(StatusCode::UNPROCESSABLE_ENTITY, "Audience doesn't match")
    );
}

//! `POST /login` against the seed app's contract (flask + marshmallow) and our stricter body rules.

use auth_core::claims::TokenKind;
use auth_testkit::{json_body, request, state};
use lambda_http::{Body, Request, http::StatusCode};
use serde_json::{Value, json};

async fn login(request: Request) -> (StatusCode, Value, lambda_http::http::HeaderMap) {
    let response = login::handle(&state(), request)
        .await
        .expect("handler never returns Err for input");
    assert_eq!(response.headers()["content-type"], "application/json");
    let body = json_body(&response);
    (response.status(), body, response.headers().clone())
}

async fn login_json(body: &str) -> (StatusCode, Value) {
    let (status, body, _) = login(request(
        "POST",
        "/login",
        &[("content-type", "application/json")],
        Some(body),
    ))
    .await;
    (status, body)
}

fn field_errors(errors: Value) -> Value {
    json!({"error": errors})
}

#[tokio::test]
async fn right_credentials_give_an_access_and_a_refresh_token() {
    let (status, body) = login_json(r#"{"username": "cosmo", "password": "space-corgi"}"#).await;
    assert_eq!(status, StatusCode::OK);
    let object = body.as_object().unwrap();
    assert_eq!(object.len(), 2);
    let state = state();
    let access = state
        .tokens()
        .verify(body["access_token"].as_str().unwrap(), TokenKind::Access)
        .unwrap();
    let refresh = state
        .tokens()
        .verify(body["refresh_token"].as_str().unwrap(), TokenKind::Refresh)
        .unwrap();
    assert_eq!(access.subject, "cosmo");
    assert_eq!(refresh.subject, "cosmo");
    assert_eq!(refresh.expires_at - access.expires_at, 3600 - 900);
    // A password, and nothing more (RFC 8176): both tokens say so, for the session to keep.
    for claims in [&access, &refresh] {
        assert_eq!(claims.amr, Some(vec!["pwd".to_owned()]));
    }
}

#[tokio::test]
async fn wrong_password_is_401_bad_username_or_password_with_www_authenticate() {
    let (status, body, headers) = login(request(
        "POST",
        "/login",
        &[("content-type", "application/json")],
        Some(r#"{"username": "cosmo", "password": "space-cat"}"#),
    ))
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, json!({"error": "Bad username or password"}));
    assert_eq!(headers["www-authenticate"], "Bearer");
}

#[tokio::test]
async fn unknown_user_gets_the_same_answer_as_a_wrong_password() {
    for username in ["nobody", "Cosmo", "COSMO", " ", "cosmo "] {
        let (status, body) =
            login_json(&json!({"username": username, "password": "space-corgi"}).to_string()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{username:?}");
        assert_eq!(body, json!({"error": "Bad username or password"}));
    }
}

#[tokio::test]
async fn missing_fields_are_reported_together() {
    let (status, body) = login_json("{}").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        field_errors(
            json!({"password": ["Missing data for required field."], "username": ["Missing data for required field."]})
        )
    );
}

#[tokio::test]
async fn empty_strings_are_shorter_than_minimum_length_1() {
    let (status, body) = login_json(r#"{"username": "", "password": ""}"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        field_errors(
            json!({"password": ["Shorter than minimum length 1."], "username": ["Shorter than minimum length 1."]})
        )
    );
}

#[tokio::test]
async fn non_string_values_are_not_valid_strings() {
    for value in ["0", "1.5", "true", "{}", "[]", r#"["cosmo"]"#] {
        let (status, body) =
            login_json(&format!(r#"{{"username": "cosmo", "password": {value}}}"#)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{value}");
        assert_eq!(
            body,
            field_errors(json!({"password": ["Not a valid string."]})),
            "{value}"
        );
    }
}

#[tokio::test]
async fn null_values_may_not_be_null() {
    let (status, body) = login_json(r#"{"username": null, "password": "x"}"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        field_errors(json!({"username": ["Field may not be null."]}))
    );
}

#[tokio::test]
async fn unknown_field_is_refused_even_with_right_credentials() {
    let (status, body) =
        login_json(r#"{"username": "cosmo", "password": "space-corgi", "remember": true}"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, field_errors(json!({"remember": ["Unknown field."]})));
}

#[tokio::test]
async fn json_that_is_not_an_object_is_invalid_input_type() {
    for text in [
        "null",
        "[]",
        r#"["cosmo","space-corgi"]"#,
        r#""cosmo""#,
        "42",
        "true",
    ] {
        let (status, body) = login_json(text).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
        assert_eq!(
            body,
            field_errors(json!({"_schema": ["Invalid input type."]})),
            "{text}"
        );
    }
}

#[tokio::test]
async fn multibyte_characters_count_as_one_each() {
    let (status, body) = login_json(r#"{"username": "é", "password": "🐕"}"#).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "passes the schema, fails the credentials: {body}"
    );
}

#[tokio::test]
async fn unreadable_bodies_are_400_with_a_json_error() {
    let deep = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    let bodies = [
        Body::Empty,
        Body::Text(String::new()),
        Body::Text("not json".into()),
        Body::Text(r#"{"username": "cosmo", "pass"#.into()),
        Body::Binary(vec![b'{', b'"', 0xff, 0xfe, b'"', b':', b'1', b'}']),
        Body::Text(deep),
    ];
    for body in bodies {
        let mut req = request(
            "POST",
            "/login",
            &[("content-type", "application/json")],
            None,
        );
        *req.body_mut() = body;
        let (status, json, _) = login(req).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(json["error"].is_string(), "{json}");
    }
}

#[tokio::test]
async fn content_type_that_is_not_json_is_415() {
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let (status, body, _) = login(request(
            "POST",
            "/login",
            &[("content-type", content_type)],
            Some(r#"{"username": "cosmo", "password": "space-corgi"}"#),
        ))
        .await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type}");
        assert_eq!(
            body,
            json!({"error": "Content-Type must be application/json"})
        );
    }
}

#[tokio::test]
async fn json_content_types_in_any_form_and_a_missing_one_are_accepted() {
    let credentials = r#"{"username": "cosmo", "password": "space-corgi"}"#;
    for content_type in [
        Some("application/json; charset=utf-8"),
        Some("APPLICATION/JSON"),
        Some("application/vnd.api+json"),
        None,
    ] {
        let headers: Vec<(&str, &str)> = content_type
            .map(|value| ("content-type", value))
            .into_iter()
            .collect();
        let (status, _, _) = login(request("POST", "/login", &headers, Some(credentials))).await;
        assert_eq!(status, StatusCode::OK, "{content_type:?}");
    }
}

#[tokio::test]
async fn no_answer_echoes_the_password() {
    for body in [
        r#"{"username": "cosmo", "password": "hunter2-secret"}"#,
        r#"{"username": 1, "password": "hunter2-secret"}"#,
        r#"{"username": "cosmo", "password": "hunter2-secret", "x": 1}"#,
    ] {
        let (_, json) = login_json(body).await;
        assert!(!json.to_string().contains("hunter2-secret"), "{json}");
    }
}

//! An RS256 deployment end to end through the handlers, as a client and a verifier that is not
//! ours see it: login, profile, refresh and logout with tokens that carry their key's `kid`,
//! the API's URL as issuer and the user's scopes, checked against the published JWKS.

use std::sync::Arc;

use auth_core::{
    AppState, Stores,
    sessions::InMemorySessionStore,
    settings::{ALGORITHM_VAR, AUDIENCE_VAR, PRIVATE_KEY_VAR},
    users::InMemoryUserStore,
};
use auth_http::location::RequestOrigin;
use auth_testkit::{payload_of, settings_with, user_with_password};
use jsonwebtoken::{DecodingKey, Validation, jwk::JwkSet};
use lambda_http::Body;
use local_api::{function_for, invoke};
use serde_json::{Value, json};

const RS256_PRIVATE: &str = include_str!("../../../interop/keys/rs256-private.pem");
const ORIGIN: &str = "https://abc123.execute-api.us-east-1.amazonaws.com";
const LOGIN: &str = r#"{"username": "ada", "password": "correct horse"}"#;

struct Deployment {
    state: AppState,
    users: Arc<InMemoryUserStore>,
}

fn rs256() -> Deployment {
    let mut ada = user_with_password("ada", "correct horse", json!({}));
    ada.scopes = vec!["admin".to_owned(), "read:reports".to_owned()];
    let users = Arc::new(InMemoryUserStore::new([ada]));
    let settings = settings_with(&[
        (ALGORITHM_VAR, "RS256"),
        (PRIVATE_KEY_VAR, RS256_PRIVATE),
        (AUDIENCE_VAR, "reports-api"),
    ]);
    let state = AppState::builder(
        &settings,
        Stores::separate(users.clone(), Arc::new(InMemorySessionStore::default())),
    )
    .build()
    .unwrap();
    Deployment { state, users }
}

/// `method path` as it reaches the API at `origin` (None: a request that does not say).
async fn send(
    state: &AppState,
    origin: Option<&str>,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, Value) {
    let mut builder = lambda_http::http::Request::builder()
        .method(method)
        .uri(path);
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    if body.is_some() {
        builder = builder.header("content-type", "application/json");
    }
    let mut request = builder
        .body(body.map_or(Body::Empty, |text| Body::Text(text.to_owned())))
        .unwrap();
    if let Some(origin) = origin {
        request
            .extensions_mut()
            .insert(RequestOrigin(origin.to_owned()));
    }
    let function = function_for(request.method(), path).unwrap();
    let response = invoke(state, function, request).await.unwrap();
    (
        response.status().as_u16(),
        serde_json::from_slice(response.body().as_ref()).unwrap(),
    )
}

/// `token`'s claims as `jsonwebtoken` checks them with the published key its `kid` names, the
/// issuer and the audience: what API Gateway's JWT authorizer does.
fn verify_with_jwks(jwks: &Value, token: &str) -> Result<Value, jsonwebtoken::errors::Error> {
    let jwks: JwkSet = serde_json::from_value(jwks.clone()).unwrap();
    let kid = jsonwebtoken::decode_header(token)?.kid.unwrap();
    let jwk = jwks.find(&kid).expect("the token's kid is published");
    let mut validation = Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_issuer(&[ORIGIN]);
    validation.set_audience(&["reports-api"]);
    Ok(jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk)?, &validation)?.claims)
}

#[tokio::test]
async fn login_profile_refresh_and_logout_with_published_keys_and_scopes() {
    let Deployment { state, users } = rs256();
    let (status, tokens) = send(&state, Some(ORIGIN), "POST", "/login", None, Some(LOGIN)).await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();

    let (status, jwks) = send(
        &state,
        Some(ORIGIN),
        "GET",
        "/.well-known/jwks.json",
        None,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let claims = verify_with_jwks(&jwks, access).unwrap();
    assert_eq!(claims["sub"], "ada");
    assert_eq!(claims["scope"], "admin read:reports");
    assert_eq!(claims["iss"], ORIGIN);
    assert!(payload_of(refresh).get("scope").is_none());

    let (status, profile) = send(&state, Some(ORIGIN), "GET", "/profile", Some(access), None).await;
    assert_eq!(status, 200, "{profile}");
    assert_eq!(profile["scopes"], json!(["admin", "read:reports"]));

    // A scope revoked since the login is gone from the next access token.
    users.update("ada", |user| user.scopes.retain(|scope| scope != "admin"));
    let (status, refreshed) = send(
        &state,
        Some(ORIGIN),
        "POST",
        "/refresh",
        Some(refresh),
        None,
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");
    let next = refreshed["access_token"].as_str().unwrap();
    assert_eq!(
        verify_with_jwks(&jwks, next).unwrap()["scope"],
        "read:reports"
    );

    let (status, _) = send(&state, Some(ORIGIN), "POST", "/logout", Some(access), None).await;
    assert_eq!(status, 200);
    let (status, body) = send(&state, Some(ORIGIN), "GET", "/profile", Some(access), None).await;
    assert_eq!(
        (status, body),
        (401, json!({"msg": "Token has been revoked"}))
    );
}

#[tokio::test]
async fn a_token_issued_at_one_url_of_the_api_is_refused_at_another() {
    let Deployment { state, .. } = rs256();
    let (_, tokens) = send(&state, Some(ORIGIN), "POST", "/login", None, Some(LOGIN)).await;
    let access = tokens["access_token"].as_str().unwrap();
    let (status, body) = send(
        &state,
        Some("https://auth.example.com"),
        "GET",
        "/profile",
        Some(access),
        None,
    )
    .await;
    assert_eq!((status, body), (422, json!({"msg": "Invalid issuer"})));
}

#[tokio::test]
async fn a_request_that_does_not_say_where_it_arrived_is_a_server_error_with_no_token() {
    let Deployment { state, .. } = rs256();
    let (status, body) = send(&state, None, "POST", "/login", None, Some(LOGIN)).await;
    assert_eq!(
        (status, body),
        (500, json!({"error": "Internal server error"}))
    );
    let (_, tokens) = send(&state, Some(ORIGIN), "POST", "/login", None, Some(LOGIN)).await;
    let access = tokens["access_token"].as_str().unwrap();
    for (method, path) in [("GET", "/profile"), ("POST", "/logout")] {
        let (status, body) = send(&state, None, method, path, Some(access), None).await;
        assert_eq!(
            (status, body),
            (500, json!({"msg": "Internal server error"})),
            "{path}"
        );
    }
}

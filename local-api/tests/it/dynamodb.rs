//! The handlers over the DynamoDB stores on a real DynamoDB-compatible server (moto, which
//! `./scripts/test` starts; a plain `cargo test` has none, and ignores these).

use std::sync::Arc;

use auth_admin::UserAdmin;
use auth_core::{AppState, Stores, claims::TokenKind, sessions::SessionStore, users::UserStore};
use auth_dynamodb::DynamoUserStore;
use auth_testkit::{
    IssueNow, bearer_request, dynamodb_sessions_at, dynamodb_store_at, fresh_dynamodb_sessions,
    fresh_dynamodb_store, json_body, request, settings_with, user_with_password,
};
use lambda_http::http::StatusCode;
use serde_json::{Value, json};

fn state_over(users: impl UserStore + 'static, sessions: impl SessionStore + 'static) -> AppState {
    AppState::builder(
        &settings_with(&[]),
        Stores::separate(Arc::new(users), Arc::new(sessions)),
    )
    .build()
    .unwrap()
}

async fn store_with_cosmo() -> DynamoUserStore {
    let store = fresh_dynamodb_store().await;
    let admin = UserAdmin::of(&store);
    let cosmo = user_with_password("cosmo", "space-corgi", json!({"id": 1}));
    admin.add(&cosmo, false).await.unwrap();
    store
}

async fn login(state: &AppState, password: &str) -> (StatusCode, Value) {
    let body = json!({"username": "cosmo", "password": password}).to_string();
    let response = login::handle(
        state,
        request(
            "POST",
            "/login",
            &[("content-type", "application/json")],
            Some(&body),
        ),
    )
    .await
    .unwrap();
    (response.status(), json_body(&response))
}

async fn with_token(state: &AppState, path: &str, token: &str) -> (StatusCode, Value) {
    let response = match path {
        "/profile" => profile::handle(state, bearer_request("GET", path, token)).await,
        _ => refresh::handle(state, bearer_request("POST", path, token)).await,
    }
    .unwrap();
    (response.status(), json_body(&response))
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn login_refresh_and_profile_work_over_dynamodb() {
    let state = state_over(store_with_cosmo().await, fresh_dynamodb_sessions().await);
    let (status, tokens) = login(&state, "space-corgi").await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let (status, refreshed) = with_token(
        &state,
        "/refresh",
        tokens["refresh_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    let (status, profile) = with_token(
        &state,
        "/profile",
        refreshed["access_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(profile["logged_in_as"], json!("cosmo"));
    assert_eq!(profile["id"], json!(1));
    assert!(profile["created_at"].is_string());
    assert!(profile.get("password_hash").is_none());
    assert_eq!(
        login(&state, "wrong").await,
        (
            StatusCode::UNAUTHORIZED,
            json!({"error": "Bad username or password"})
        )
    );
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn disabled_user_cannot_log_in_refresh_or_see_the_profile() {
    let store = store_with_cosmo().await;
    let admin = UserAdmin::of(&store);
    let state = state_over(store.clone(), fresh_dynamodb_sessions().await);
    let (_, tokens) = login(&state, "space-corgi").await;
    admin.set_disabled("cosmo", true).await.unwrap();

    assert_eq!(
        login(&state, "space-corgi").await,
        (
            StatusCode::UNAUTHORIZED,
            json!({"error": "Bad username or password"})
        )
    );
    let disabled = (
        StatusCode::UNAUTHORIZED,
        json!({"msg": "User account is disabled"}),
    );
    assert_eq!(
        with_token(
            &state,
            "/refresh",
            tokens["refresh_token"].as_str().unwrap()
        )
        .await,
        disabled
    );
    assert_eq!(
        with_token(&state, "/profile", tokens["access_token"].as_str().unwrap()).await,
        disabled
    );

    admin.set_disabled("cosmo", false).await.unwrap();
    assert_eq!(login(&state, "space-corgi").await.0, StatusCode::OK);
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn removed_user_is_error_loading_the_user() {
    let store = store_with_cosmo().await;
    let admin = UserAdmin::of(&store);
    let state = state_over(store.clone(), fresh_dynamodb_sessions().await);
    let (_, tokens) = login(&state, "space-corgi").await;
    admin.remove("cosmo").await.unwrap();
    assert_eq!(
        with_token(&state, "/profile", tokens["access_token"].as_str().unwrap()).await,
        (
            StatusCode::UNAUTHORIZED,
            json!({"msg": "Error loading the user cosmo"})
        )
    );
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn stopped_store_is_503_service_unavailable_without_the_cause() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let stopped = format!("http://127.0.0.1:{port}");
    let state = state_over(
        dynamodb_store_at(&stopped).await,
        dynamodb_sessions_at(&stopped).await,
    );
    assert_eq!(
        login(&state, "space-corgi").await,
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"error": "Service unavailable"})
        )
    );
    let token = state
        .tokens()
        .issue(TokenKind::Access, "cosmo", true)
        .unwrap();
    assert_eq!(
        with_token(&state, "/profile", &token).await,
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"msg": "Service unavailable"})
        )
    );
    let refresh_token = state
        .tokens()
        .issue(TokenKind::Refresh, "cosmo", false)
        .unwrap();
    assert_eq!(
        with_token(&state, "/refresh", &refresh_token).await,
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"msg": "Service unavailable"})
        )
    );
}

/// Tokens of an account never open the account that replaces it: `users add --force` starts
/// the record afresh, and must not forget that its tokens were ended before.
#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn replacing_a_user_refuses_the_tokens_of_before() {
    let store = store_with_cosmo().await;
    let admin = UserAdmin::of(&store);
    let state = state_over(store.clone(), fresh_dynamodb_sessions().await);
    let (_, tokens) = login(&state, "space-corgi").await;
    let cosmo = user_with_password("cosmo", "new-corgi", json!({"id": 1}));
    admin.add(&cosmo, true).await.unwrap();
    let revoked = (
        StatusCode::UNAUTHORIZED,
        json!({"msg": "Token has been revoked"}),
    );
    for (path, token) in [
        ("/profile", &tokens["access_token"]),
        ("/refresh", &tokens["refresh_token"]),
    ] {
        assert_eq!(
            with_token(&state, path, token.as_str().unwrap()).await,
            revoked,
            "{path}"
        );
    }
    let (status, _) = login(&state, "new-corgi").await;
    assert_eq!(status, StatusCode::OK);
}

/// `users remove NAME` then `users add NAME`: a new account of the same name, which the tokens
/// of the removed one must not open.
#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn a_user_removed_and_added_again_refuses_the_old_accounts_tokens() {
    let store = store_with_cosmo().await;
    let admin = UserAdmin::of(&store);
    let state = state_over(store.clone(), fresh_dynamodb_sessions().await);
    let (_, tokens) = login(&state, "space-corgi").await;
    admin.remove("cosmo").await.unwrap();
    let cosmo = user_with_password("cosmo", "space-corgi", json!({"id": 2}));
    admin.add(&cosmo, false).await.unwrap();
    assert_eq!(
        with_token(&state, "/profile", tokens["access_token"].as_str().unwrap()).await,
        (
            StatusCode::UNAUTHORIZED,
            json!({"msg": "Token has been revoked"})
        )
    );
    // The new account's own tokens work.
    let (status, fresh) = login(&state, "space-corgi").await;
    assert_eq!(status, StatusCode::OK);
    let (status, profile) =
        with_token(&state, "/profile", fresh["access_token"].as_str().unwrap()).await;
    assert_eq!((status, &profile["id"]), (StatusCode::OK, &json!(2)));
}

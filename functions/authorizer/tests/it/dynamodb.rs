//! The authorizer over DynamoDB (moto, from `./scripts/test`), as it runs in Lambda: one
//! `BatchGetItem` for the user and the revocations. A client's real steps: log in, call through
//! the authorizer, and be refused after a logout, a disable and a password change.

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use auth_admin::UserAdmin;
use auth_core::AppState;
use auth_testkit::{
    bearer_request, fresh_dynamodb_sessions, fresh_dynamodb_store, json_body, request,
    settings_with, user_with_password,
};
use authorizer::{Authorizer, Decision};
use serde_json::json;

/// A login's access and refresh tokens for `username`.
async fn log_in(state: &AppState, username: &str, password: &str) -> (String, String) {
    let body = json!({"username": username, "password": password}).to_string();
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
    assert_eq!(response.status(), 200);
    let tokens = json_body(&response);
    (
        tokens["access_token"].as_str().unwrap().to_owned(),
        tokens["refresh_token"].as_str().unwrap().to_owned(),
    )
}

fn allowed(decision: &Decision) -> bool {
    matches!(decision, Decision::Allow(_))
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn over_dynamodb_a_logout_a_disable_and_a_password_change_are_each_seen_at_once() {
    let users = fresh_dynamodb_store().await;
    let sessions = fresh_dynamodb_sessions().await;
    let admin_users = UserAdmin::of(&users);
    let since = SystemTime::now() - Duration::from_secs(3600);
    for (name, password) in [
        ("ada", "correct horse"),
        ("bob", "hunter22"),
        ("eve", "s3cret!"),
    ] {
        admin_users
            .import(&user_with_password(name, password, json!({})), since)
            .await
            .unwrap();
    }
    admin_users
        .grant_scopes("ada", &["reports:read"])
        .await
        .unwrap();
    // The state a deployed authorizer runs with: both tables, one BatchGetItem per token.
    let stores = auth_dynamodb::stores(
        auth_dynamodb::client().await,
        users.table(),
        sessions.table(),
    );
    let state = Arc::new(
        AppState::builder(&settings_with(&[]), stores)
            .build()
            .unwrap(),
    );
    let authorizer = Authorizer::new(state.clone(), None, |_| None).unwrap();
    let check = |token: &str| {
        let header = format!("Bearer {token}");
        let authorizer = &authorizer;
        async move { authorizer.decide(Some(&header)).await }
    };

    // Allowed, with who is calling.
    let (access, refresh) = log_in(&state, "ada", "correct horse").await;
    let Decision::Allow(identity) = check(&access).await else {
        panic!("a fresh access token is refused");
    };
    assert_eq!(identity.sub, "ada");
    assert_eq!(identity.scope.as_deref(), Some("reports:read"));

    // A logout with the refresh token ends the session: its access token too.
    let logout = logout::handle(&state, bearer_request("POST", "/logout", &refresh))
        .await
        .unwrap();
    assert_eq!(logout.status(), 200);
    assert!(!allowed(&check(&access).await));

    // A disabled user.
    let (bob, _) = log_in(&state, "bob", "hunter22").await;
    assert!(allowed(&check(&bob).await));
    admin_users.set_disabled("bob", true).await.unwrap();
    assert!(!allowed(&check(&bob).await));

    // A password change (which ends every session of the user).
    let (eve, _) = log_in(&state, "eve", "s3cret!").await;
    assert!(allowed(&check(&eve).await));
    admin_users.end_sessions("eve").await.unwrap();
    assert!(!allowed(&check(&eve).await));
}

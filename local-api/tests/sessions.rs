//! Sessions end to end, through the handlers, over both stores: in memory (the local server's)
//! and DynamoDB on a real DynamoDB-compatible server (moto, from `scripts/test`). Logout and
//! revocation, refresh-token rotation with reuse detection, login throttling, and the end of
//! every session at a password change.

use std::{sync::Arc, time::Duration};

use lambda_http::{Body, Request, Response, http::StatusCode};
use serde_json::{Value, json};
use shared::{
    AppState,
    sessions::{InMemorySessionStore, SessionStore},
    settings::Settings,
    testing::{
        TEST_SECRET, bearer_request, fresh_dynamodb_sessions, fresh_dynamodb_store, json_body,
        request, user_with_password,
    },
    users::{DynamoUserStore, InMemoryUserStore, UserStore},
};

const PASSWORD: &str = "space-corgi";

#[derive(Debug, Clone, Copy)]
enum Backend {
    Memory,
    DynamoDb,
}

const BACKENDS: [Backend; 2] = [Backend::Memory, Backend::DynamoDb];

/// What an operator changes about a user, in whichever store holds them.
enum Users {
    Memory(Arc<InMemoryUserStore>),
    DynamoDb(DynamoUserStore),
}

struct Service {
    state: Arc<AppState>,
    users: Users,
}

/// The service over `backend`, with `cosmo` / `space-corgi`, and the settings `overrides`.
async fn service(backend: Backend, overrides: &[(&str, &str)]) -> Service {
    let settings = Settings::from_lookup(|name| {
        overrides
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
            .or_else(|| (name == "JWT_SECRET_KEY").then(|| TEST_SECRET.to_owned()))
    })
    .unwrap();
    let cosmo = user_with_password("cosmo", PASSWORD, json!({"id": 1}));
    let (users, user_store, sessions): (Users, Arc<dyn UserStore>, Arc<dyn SessionStore>) =
        match backend {
            Backend::Memory => {
                let store = Arc::new(InMemoryUserStore::new([cosmo]));
                (
                    Users::Memory(store.clone()),
                    store,
                    Arc::new(InMemorySessionStore::default()),
                )
            }
            Backend::DynamoDb => {
                let store = fresh_dynamodb_store().await;
                store.add(&cosmo, false).await.unwrap();
                (
                    Users::DynamoDb(store.clone()),
                    Arc::new(store),
                    Arc::new(fresh_dynamodb_sessions().await),
                )
            }
        };
    Service {
        state: Arc::new(AppState::new(&settings, user_store, sessions).unwrap()),
        users,
    }
}

struct Reply {
    status: StatusCode,
    body: Value,
    retry_after: Option<u64>,
}

fn reply(response: Response<Body>) -> Reply {
    Reply {
        status: response.status(),
        body: json_body(&response),
        retry_after: response
            .headers()
            .get("retry-after")
            .map(|value| value.to_str().unwrap().parse().unwrap()),
    }
}

impl Service {
    async fn login_as(&self, username: &str, password: &str) -> Reply {
        let body = json!({"username": username, "password": password}).to_string();
        let request = request(
            "POST",
            "/login",
            &[("content-type", "application/json")],
            Some(&body),
        );
        reply(login::handle(&self.state, request).await.unwrap())
    }

    /// Logs in as cosmo: the access and the refresh token.
    async fn login(&self) -> (String, String) {
        let reply = self.login_as("cosmo", PASSWORD).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        (
            token(&reply, "access_token"),
            token(&reply, "refresh_token"),
        )
    }

    async fn refresh(&self, refresh_token: &str) -> Reply {
        let request = bearer_request("POST", "/refresh", refresh_token);
        reply(refresh::handle(&self.state, request).await.unwrap())
    }

    async fn profile(&self, access_token: &str) -> Reply {
        let request = bearer_request("GET", "/profile", access_token);
        reply(profile::handle(&self.state, request).await.unwrap())
    }

    async fn logout(&self, bearer: Option<&str>, body: Option<Value>) -> Reply {
        let authorization = bearer.map(|token| format!("Bearer {token}"));
        let mut headers = vec![("content-type", "application/json")];
        if let Some(value) = &authorization {
            headers.push(("authorization", value));
        }
        let body = body.map(|body| body.to_string());
        let request: Request = request("POST", "/logout", &headers, body.as_deref());
        reply(logout::handle(&self.state, request).await.unwrap())
    }

    async fn end_sessions(&self) {
        match &self.users {
            Users::Memory(store) => assert!(store.update("cosmo", |user| {
                user.tokens_valid_after = Some(shared::users::sessions_end_now());
            })),
            Users::DynamoDb(store) => store.end_sessions("cosmo").await.unwrap(),
        }
    }

    async fn change_password(&self, password: &str) {
        let hash = shared::passwords::hash(password).unwrap();
        match &self.users {
            Users::Memory(store) => assert!(store.update("cosmo", |user| {
                user.password_hash = hash;
                user.tokens_valid_after = Some(shared::users::sessions_end_now());
            })),
            Users::DynamoDb(store) => store.set_password_hash("cosmo", &hash).await.unwrap(),
        }
    }
}

fn token(reply: &Reply, field: &str) -> String {
    reply.body[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {}", reply.body))
        .to_owned()
}

fn revoked() -> Value {
    json!({"msg": "Token has been revoked"})
}

fn assert_revoked(reply: &Reply, what: &str) {
    assert_eq!(
        (reply.status, &reply.body),
        (StatusCode::UNAUTHORIZED, &revoked()),
        "{what}"
    );
}

#[tokio::test]
async fn logout_with_an_access_token_revokes_it_and_only_it() {
    for backend in BACKENDS {
        let service = service(backend, &[]).await;
        let (access, refresh) = service.login().await;
        let logged_out = service.logout(Some(&access), None).await;
        assert_eq!(
            (logged_out.status, logged_out.body),
            (StatusCode::OK, json!({"msg": "Successfully logged out"})),
            "{backend:?}"
        );
        assert_revoked(&service.profile(&access).await, "the access token");
        // The refresh token still buys access tokens, which work.
        let refreshed = service.refresh(&refresh).await;
        assert_eq!(refreshed.status, StatusCode::OK, "{backend:?}");
        let new_access = token(&refreshed, "access_token");
        assert_eq!(service.profile(&new_access).await.status, StatusCode::OK);
        // A revoked token is refused here too, as everywhere.
        assert_revoked(
            &service.logout(Some(&access), None).await,
            "logging out again",
        );
    }
}

#[tokio::test]
async fn logout_with_a_refresh_token_ends_the_whole_session() {
    for backend in BACKENDS {
        for refresh_as_bearer in [false, true] {
            let service = service(backend, &[]).await;
            let (access, refresh) = service.login().await;
            let bought = token(&service.refresh(&refresh).await, "access_token");
            let (other_access, other_refresh) = service.login().await;

            let logged_out = if refresh_as_bearer {
                service.logout(Some(&refresh), None).await
            } else {
                let body = json!({"refresh_token": refresh});
                service.logout(Some(&access), Some(body)).await
            };
            assert_eq!(logged_out.status, StatusCode::OK, "{backend:?}");

            assert_revoked(&service.refresh(&refresh).await, "the refresh token");
            assert_revoked(
                &service.profile(&access).await,
                "the session's access token",
            );
            assert_revoked(&service.profile(&bought).await, "an access token it bought");
            // Another session of the same user goes on.
            assert_eq!(service.profile(&other_access).await.status, StatusCode::OK);
            assert_eq!(service.refresh(&other_refresh).await.status, StatusCode::OK);
        }
    }
}

#[tokio::test]
async fn logout_refuses_what_it_cannot_revoke_and_revokes_nothing_then() {
    let service = service(Backend::Memory, &[]).await;
    let (access, refresh) = service.login().await;
    let nothing = service.logout(None, None).await;
    assert_eq!(
        (nothing.status, nothing.body),
        (
            StatusCode::UNAUTHORIZED,
            json!({"msg": "Missing Authorization Header"})
        )
    );
    // An access token where a refresh token belongs: the bearer is not revoked either.
    let wrong = service
        .logout(Some(&access), Some(json!({"refresh_token": access})))
        .await;
    assert_eq!(
        (wrong.status, wrong.body),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"msg": "Only refresh tokens are allowed"})
        )
    );
    assert_eq!(service.profile(&access).await.status, StatusCode::OK);
    let invalid = service
        .logout(None, Some(json!({"refresh_token": 7, "all": true})))
        .await;
    assert_eq!(
        (invalid.status, invalid.body),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": {"all": ["Unknown field."], "refresh_token": ["Not a valid string."]}})
        )
    );
    let forged = service.logout(Some(&format!("{refresh}x")), None).await;
    assert_eq!(forged.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(service.refresh(&refresh).await.status, StatusCode::OK);
}

#[tokio::test]
async fn without_rotation_refresh_keeps_the_seed_contract() {
    for backend in BACKENDS {
        let service = service(backend, &[]).await;
        let (_, refresh) = service.login().await;
        for _ in 0..3 {
            let refreshed = service.refresh(&refresh).await;
            assert_eq!(refreshed.status, StatusCode::OK);
            let keys: Vec<&String> = refreshed.body.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["access_token"], "{backend:?}");
        }
    }
}

const ROTATION: (&str, &str) = ("JWT_REFRESH_TOKEN_ROTATION", "true");

#[tokio::test]
async fn with_rotation_reuse_of_a_spent_refresh_token_kills_the_family() {
    for backend in BACKENDS {
        let service = service(backend, &[ROTATION]).await;
        let (_, first) = service.login().await;
        let rotated = service.refresh(&first).await;
        assert_eq!(rotated.status, StatusCode::OK, "{backend:?}");
        let second = token(&rotated, "refresh_token");
        assert_ne!(second, first);
        let rotated = service.refresh(&second).await;
        let (access, third) = (
            token(&rotated, "access_token"),
            token(&rotated, "refresh_token"),
        );
        assert_eq!(service.profile(&access).await.status, StatusCode::OK);

        // A thief replays the first token: the whole family dies, the user's tokens too.
        assert_revoked(&service.refresh(&first).await, "the replayed token");
        assert_revoked(&service.refresh(&third).await, "the user's current token");
        assert_revoked(&service.profile(&access).await, "the family's access token");
        // A new login is a new family.
        let (access, refresh) = service.login().await;
        assert_eq!(service.profile(&access).await.status, StatusCode::OK);
        assert_eq!(service.refresh(&refresh).await.status, StatusCode::OK);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_rotation_twenty_concurrent_refreshes_of_one_token_give_exactly_one_200() {
    for backend in BACKENDS {
        let service = Arc::new(service(backend, &[ROTATION]).await);
        let (_, refresh) = service.login().await;
        let refreshes: Vec<_> = (0..20)
            .map(|_| {
                let (service, refresh) = (service.clone(), refresh.clone());
                tokio::spawn(async move { service.refresh(&refresh).await })
            })
            .collect();
        let mut statuses = Vec::new();
        for refresh in refreshes {
            let reply = refresh.await.unwrap();
            if reply.status != StatusCode::OK {
                assert_revoked(&reply, "a losing refresh");
            }
            statuses.push(reply.status);
        }
        let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
        assert_eq!(ok, 1, "{backend:?}: {statuses:?}");
    }
}

#[tokio::test]
async fn with_a_grace_a_client_that_lost_the_answer_may_retry() {
    for backend in BACKENDS {
        let grace = ("JWT_REFRESH_TOKEN_ROTATION_GRACE", "30s");
        let service = service(backend, &[ROTATION, grace]).await;
        let (_, first) = service.login().await;
        assert_eq!(service.refresh(&first).await.status, StatusCode::OK);
        // The answer was lost; the client retries with the same token.
        let retried = service.refresh(&first).await;
        assert_eq!(retried.status, StatusCode::OK, "{backend:?}");
        let current = token(&retried, "refresh_token");
        assert_eq!(service.refresh(&current).await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn failed_logins_lock_the_username_until_the_window_passes() {
    for backend in BACKENDS {
        // Windows end on whole seconds, so a 3 s window lasts between 2 and 3 s.
        let throttle = [("LOGIN_MAX_FAILURES", "3"), ("LOGIN_FAILURE_WINDOW", "3s")];
        let service = service(backend, &throttle).await;
        for username in ["cosmo", "nobody"] {
            for _ in 0..3 {
                let failed = service.login_as(username, "wrong").await;
                assert_eq!(failed.status, StatusCode::UNAUTHORIZED, "{backend:?}");
            }
            // Even the right password, and alike for a user who does not exist.
            let locked = service.login_as(username, PASSWORD).await;
            assert_eq!(
                (locked.status, &locked.body),
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    &json!({"error": "Too many failed login attempts"})
                ),
                "{backend:?} {username}"
            );
            let retry_after = locked.retry_after.expect("Retry-After");
            assert!((1..=3).contains(&retry_after), "{retry_after}");
        }
        // Other usernames are not affected.
        assert_eq!(
            service.login_as("wanda", "wrong").await.status,
            StatusCode::UNAUTHORIZED
        );
        tokio::time::sleep(Duration::from_millis(3100)).await;
        assert_eq!(
            service.login_as("cosmo", PASSWORD).await.status,
            StatusCode::OK,
            "{backend:?}: the window has passed"
        );
    }
}

#[tokio::test]
async fn a_successful_login_clears_the_failures() {
    for backend in BACKENDS {
        let service = service(backend, &[("LOGIN_MAX_FAILURES", "2")]).await;
        service.login_as("cosmo", "wrong").await;
        service.login().await;
        // Both failures of the limit are available again.
        for _ in 0..2 {
            let failed = service.login_as("cosmo", "wrong").await;
            assert_eq!(failed.status, StatusCode::UNAUTHORIZED, "{backend:?}");
        }
        assert_eq!(
            service.login_as("cosmo", PASSWORD).await.status,
            StatusCode::TOO_MANY_REQUESTS
        );
    }
}

#[tokio::test]
async fn zero_max_failures_never_throttles() {
    let service = service(Backend::Memory, &[("LOGIN_MAX_FAILURES", "0")]).await;
    for _ in 0..8 {
        service.login_as("cosmo", "wrong").await;
    }
    assert_eq!(
        service.login_as("cosmo", PASSWORD).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn tokens_issued_before_a_password_change_are_refused() {
    for backend in BACKENDS {
        let service = service(backend, &[]).await;
        let (access, refresh) = service.login().await;
        service.change_password("new-corgi").await;
        assert_revoked(&service.profile(&access).await, "the old access token");
        assert_revoked(&service.refresh(&refresh).await, "the old refresh token");
        assert_eq!(
            service.login_as("cosmo", PASSWORD).await.status,
            StatusCode::UNAUTHORIZED
        );
        // Tokens from a login right after the change work at once.
        let reply = service.login_as("cosmo", "new-corgi").await;
        assert_eq!(reply.status, StatusCode::OK, "{backend:?}");
        let access = token(&reply, "access_token");
        assert_eq!(service.profile(&access).await.status, StatusCode::OK);
        let refresh = token(&reply, "refresh_token");
        assert_eq!(service.refresh(&refresh).await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn ending_a_users_sessions_refuses_every_token_they_had_but_not_new_ones() {
    for backend in BACKENDS {
        let service = service(backend, &[ROTATION]).await;
        let sessions = [service.login().await, service.login().await];
        service.end_sessions().await;
        for (access, refresh) in &sessions {
            assert_revoked(&service.profile(access).await, "an access token of before");
            assert_revoked(&service.refresh(refresh).await, "a refresh token of before");
        }
        let (access, refresh) = service.login().await;
        assert_eq!(service.profile(&access).await.status, StatusCode::OK);
        assert_eq!(
            service.refresh(&refresh).await.status,
            StatusCode::OK,
            "{backend:?}"
        );
    }
}

#[tokio::test]
async fn a_token_without_a_jti_cannot_be_revoked_and_revokes_nothing_with_it() {
    let service = service(Backend::Memory, &[]).await;
    let (access, _) = service.login().await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let without_jti = shared::testing::signed(
        &json!({"type": "refresh", "sub": "cosmo", "iat": now, "exp": now + 600}),
    );
    let refused = service
        .logout(Some(&access), Some(json!({"refresh_token": without_jti})))
        .await;
    assert_eq!(
        (refused.status, refused.body),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"msg": "Token is missing the \"jti\" claim"})
        )
    );
    assert_eq!(service.profile(&access).await.status, StatusCode::OK);
}

//! Rotation around a lookup that fails: without a grace nothing is spent before the lookup
//! answers, so the client's retry is no replay; with a grace the rotation goes beside the
//! lookup (one round trip), and the retry within the grace gets the session's current token.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use auth_core::{
    AppState, Stores,
    claims::TokenKind,
    clock::Clock,
    lookup::{SeparateLookup, TokenLookup, TokenQuery, TokenRecords},
    sessions::InMemorySessionStore,
    store::StoreError,
    tokens::SessionClaims,
    users::InMemoryUserStore,
};
use auth_testkit::{bearer_request, json_body, settings_with};
use lambda_http::http::StatusCode;

/// The in-memory lookup, down for its next call when told.
struct FlakyLookup {
    inner: SeparateLookup,
    down: AtomicBool,
}

#[async_trait]
impl TokenLookup for FlakyLookup {
    async fn look_up(&self, query: &TokenQuery<'_>) -> Result<TokenRecords, StoreError> {
        if self.down.swap(false, Ordering::SeqCst) {
            return Err(StoreError::unavailable("connection refused"));
        }
        self.inner.look_up(query).await
    }
}

/// A rotating deployment with `grace`, its lookup about to fail once, and its sessions store.
fn rotating(grace: &str) -> (AppState, Arc<InMemorySessionStore>) {
    let users = Arc::new(InMemoryUserStore::demo());
    let sessions = Arc::new(InMemorySessionStore::default());
    let lookup = FlakyLookup {
        inner: SeparateLookup::new(users.clone(), sessions.clone()),
        down: AtomicBool::new(true),
    };
    let stores = Stores {
        users,
        sessions: sessions.clone(),
        lookup: Arc::new(lookup),
        accounts: None,
        records: None,
        factors: None,
        challenges: None,
        activity: None,
    };
    let settings = settings_with(&[
        ("JWT_REFRESH_TOKEN_ROTATION", "true"),
        ("JWT_REFRESH_TOKEN_ROTATION_GRACE", grace),
    ]);
    let state = AppState::builder(&settings, stores)
        .clock(Clock::manual())
        .build()
        .unwrap();
    (state, sessions)
}

fn refresh_token(state: &AppState) -> String {
    let now = state.clock().unix_secs();
    state
        .tokens()
        .issue_at(
            TokenKind::Refresh,
            "cosmo",
            false,
            now,
            "presented",
            Some(SessionClaims {
                id: "the-session",
                started_at: now,
                methods: None,
            }),
        )
        .unwrap()
}

/// `token` presented at `/refresh`: the status and the JSON body.
pub(crate) async fn refresh(state: &AppState, token: &str) -> (StatusCode, serde_json::Value) {
    let response = refresh::handle(state, bearer_request("POST", "/refresh", token))
        .await
        .unwrap();
    (response.status(), json_body(&response))
}

#[tokio::test]
async fn without_a_grace_a_failed_lookup_spends_nothing_and_the_retry_refreshes() {
    let (state, _) = rotating("0");
    let token = refresh_token(&state);
    assert_eq!(
        refresh(&state, &token).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let (status, body) = refresh(&state, &token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["refresh_token"].is_string());
}

/// The rotation goes beside the lookup, so a failed lookup has already spent the token: a
/// retry within the grace gets the session on, one after it is a replay.
#[tokio::test]
async fn with_a_grace_the_rotation_goes_beside_the_lookup_and_spends_the_token() {
    let (state, _) = rotating("10s");
    let token = refresh_token(&state);
    assert_eq!(
        refresh(&state, &token).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let (status, body) = refresh(&state, &token).await;
    assert_eq!(status, StatusCode::OK, "a retry within the grace: {body}");

    let (state, _) = rotating("10s");
    let token = refresh_token(&state);
    assert_eq!(
        refresh(&state, &token).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    state.clock().advance(Duration::from_secs(11));
    assert_eq!(
        refresh(&state, &token).await,
        (
            StatusCode::UNAUTHORIZED,
            serde_json::json!({"msg": "Token has been revoked"})
        )
    );
}

#[tokio::test]
async fn within_the_grace_a_spent_token_gets_the_current_one_and_after_it_ends_the_session() {
    let (state, _) = rotating("10s");
    let token = refresh_token(&state);
    assert_eq!(
        refresh(&state, &token).await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let first = refresh(&state, &token).await.1["refresh_token"].clone();
    let again = refresh(&state, &token).await;
    assert_eq!(again.0, StatusCode::OK);
    // The same current refresh token (its id), with a new life.
    let jti = |token: &serde_json::Value| {
        auth_testkit::payload_of(token.as_str().unwrap())["jti"].clone()
    };
    assert_eq!(jti(&again.1["refresh_token"]), jti(&first));
}

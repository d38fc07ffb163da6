//! `POST /login`: username and password in, an access and a refresh token out, both of a new
//! session.

use std::time::Duration;

use lambda_http::{Body, Error, Request, Response, http::StatusCode};
use serde_json::json;
use shared::{
    AppState,
    claims::TokenKind,
    http::{ApiError, body::json_body, errors::Route, json_response, respond},
    login_schema,
    tokens::{new_token_id, unix_now_secs},
    users::{self, User},
};

/// The longest login waits for its user's `tokens_valid_after` (normally under a second).
const MAX_WAIT_FOR_VALID_AFTER: Duration = Duration::from_secs(2);

pub async fn handle(state: &AppState, request: Request) -> Result<Response<Body>, Error> {
    respond(login(state, &request).await)
}

async fn login(state: &AppState, request: &Request) -> Result<Response<Body>, ApiError> {
    let body = json_body(request)?;
    let credentials = login_schema::validate(&body).map_err(ApiError::Validation)?;
    let sessions = state.sessions.as_ref();
    state
        .login_throttle
        .admit(sessions, &credentials.username, unix_now_secs())
        .await?;
    let unavailable = |error| ApiError::StoreUnavailable(Route::Login, error);
    let user = users::authenticate(
        state.users.as_ref(),
        &credentials.username,
        &credentials.password,
    )
    .await
    .map_err(unavailable)?
    .ok_or(ApiError::BadCredentials)?;
    state
        .login_throttle
        .succeeded(sessions, &user.username)
        .await
        .map_err(unavailable)?;
    wait_until_tokens_are_valid(&user).await;

    let session = new_token_id();
    let issue = |kind| {
        state
            .tokens
            .issue_in_session(kind, &user.username, true, Some(&session))
            .map_err(|error| ApiError::Signing(Route::Login, error))
    };
    let body = json!({"access_token": issue(TokenKind::Access)?, "refresh_token": issue(TokenKind::Refresh)?});
    Ok(json_response(StatusCode::OK, &body))
}

/// A password changed in this very second refuses tokens issued up to its end (`iat` counts
/// whole seconds): a login right after it waits for the next second rather than hand out
/// tokens that would be refused.
async fn wait_until_tokens_are_valid(user: &User) {
    if let Some(after) = user.tokens_valid_after {
        let wait = after.saturating_sub(unix_now_secs());
        if wait > 0 {
            let wait = Duration::from_secs(wait as u64).min(MAX_WAIT_FOR_VALID_AFTER);
            tokio::time::sleep(wait).await;
        }
    }
}

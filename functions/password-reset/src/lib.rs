//! `POST /password/reset {"token", "new_password"}`: a new password with a mailed recovery
//! token, which it spends; every session of the user ends (`auth_accounts::password::reset`).

use auth_core::{
    AppState,
    accounts::{ip_limit::LimitedRoute, schema},
    activity::{ActivityEvent, ActivityOutcome},
};
use auth_http::{
    ApiError, ErrorKey, body::json_body, client::activity_of, ip_limit, json_response, respond,
};
use lambda_http::{Body, Error, Request, Response, http::StatusCode};
use serde_json::json;

pub async fn handle(state: &AppState, request: Request) -> Result<Response<Body>, Error> {
    respond(state, &request, ErrorKey::Error, answer(state, &request)).await
}

async fn answer(state: &AppState, request: &Request) -> Result<Response<Body>, ApiError> {
    ip_limit::admit(state, request, LimitedRoute::Password, ErrorKey::Error).await?;
    let body = json_body(request)?;
    let mut values =
        schema::fields(&body, &["token", "new_password"]).map_err(ApiError::Validation)?;
    let (new, token) = (
        values.pop().unwrap_or_default(),
        values.pop().unwrap_or_default(),
    );
    let username = auth_accounts::password::reset(state, &token, new)
        .await
        .map_err(|error| ApiError::Account(ErrorKey::Error, error))?;
    state.activity().record(
        &username,
        ActivityEvent::PasswordReset,
        ActivityOutcome::Succeeded,
        activity_of(request),
    );
    Ok(json_response(StatusCode::OK, &json!({})))
}

//! `POST /password {"current_password", "new_password"}` with a fresh access token (from a
//! login, not a refresh: flask-jwt-extended's `fresh` claim): the new password, every other
//! session of the user ended and the caller's kept (`auth_accounts::password::change`).

use auth_core::{
    AppState,
    accounts::{ip_limit::LimitedRoute, schema},
    activity::{ActivityEvent, ActivityOutcome},
};
use auth_http::{
    ApiError, ErrorKey, body::json_body, client::activity_of, guard::fresh_user, ip_limit,
    json_response, respond,
};
use lambda_http::{Body, Error, Request, Response, http::StatusCode};
use serde_json::json;

pub async fn handle(state: &AppState, request: Request) -> Result<Response<Body>, Error> {
    respond(state, &request, ErrorKey::Msg, answer(state, &request)).await
}

async fn answer(state: &AppState, request: &Request) -> Result<Response<Body>, ApiError> {
    ip_limit::admit(state, request, LimitedRoute::Password, ErrorKey::Msg).await?;
    let (claims, user) = fresh_user(state, request).await?;
    let body = json_body(request)?;
    let mut values = schema::fields(&body, &["current_password", "new_password"])
        .map_err(ApiError::Validation)?;
    let (new, current) = (
        values.pop().unwrap_or_default(),
        values.pop().unwrap_or_default(),
    );
    auth_accounts::password::change(state, &user, claims.session_id(), &current, new)
        .await
        .map_err(|error| ApiError::Account(ErrorKey::Msg, error))?;
    state.activity().record(
        &user.username,
        ActivityEvent::PasswordChanged,
        ActivityOutcome::Succeeded,
        activity_of(request).session(claims.session_id()),
    );
    Ok(json_response(StatusCode::OK, &json!({})))
}

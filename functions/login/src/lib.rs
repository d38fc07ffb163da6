//! `POST /login`: username and password in, an access and a refresh token out.

use lambda_http::{Body, Error, Request, Response, http::StatusCode};
use serde_json::json;
use shared::{
    AppState,
    claims::TokenKind,
    http::{ApiError, body::json_body, errors::Route, json_response, respond},
    login_schema, users,
};

pub async fn handle(state: &AppState, request: Request) -> Result<Response<Body>, Error> {
    respond(login(state, &request).await)
}

async fn login(state: &AppState, request: &Request) -> Result<Response<Body>, ApiError> {
    let body = json_body(request)?;
    let credentials = login_schema::validate(&body).map_err(ApiError::Validation)?;
    let user = users::authenticate(
        state.users.as_ref(),
        &credentials.username,
        &credentials.password,
    )
    .await
    .map_err(|error| ApiError::StoreUnavailable(Route::Login, error))?
    .ok_or(ApiError::BadCredentials)?;
    let issue = |kind| {
        state
            .tokens
            .issue(kind, &user.username, true)
            .map_err(|error| ApiError::Signing(Route::Login, error))
    };
    let body = json!({"access_token": issue(TokenKind::Access)?, "refresh_token": issue(TokenKind::Refresh)?});
    Ok(json_response(StatusCode::OK, &body))
}

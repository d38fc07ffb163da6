//! `POST /refresh`: a refresh token in `Authorization: Bearer`, a new (non-fresh) access token out.

use lambda_http::{Body, Error, Request, Response, http::StatusCode};
use serde_json::json;
use shared::{
    AppState,
    claims::TokenKind,
    http::{ApiError, errors::Route, guard::authorized_user, json_response, respond},
};

pub async fn handle(state: &AppState, request: Request) -> Result<Response<Body>, Error> {
    respond(refresh(state, &request).await)
}

async fn refresh(state: &AppState, request: &Request) -> Result<Response<Body>, ApiError> {
    let (_, user) = authorized_user(state, request, TokenKind::Refresh).await?;
    let access_token = state
        .tokens
        .issue(TokenKind::Access, &user.username, false)
        .map_err(|error| ApiError::Signing(Route::Token, error))?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"access_token": access_token}),
    ))
}

//! `GET /profile`: an access token in `Authorization: Bearer`, the user's public record out.

use auth_core::{AppState, claims::TokenKind};
use auth_http::{ApiError, ErrorKey, guard::authorized_user, json_response, respond};
use lambda_http::{Body, Error, Request, Response, http::StatusCode};
use serde_json::Value;

pub async fn handle(state: &AppState, request: Request) -> Result<Response<Body>, Error> {
    respond(state, &request, ErrorKey::Msg, profile(state, &request)).await
}

async fn profile(state: &AppState, request: &Request) -> Result<Response<Body>, ApiError> {
    let (claims, user) = authorized_user(state, request, TokenKind::Access).await?;
    let mut body = user.public_record();
    body.insert("logged_in_as".to_owned(), Value::String(claims.subject));
    // The user's scopes as they stand, which the next access token carries: a user without
    // any gets the answer of before.
    if !user.scopes.is_empty() {
        body.insert("scopes".to_owned(), Value::from(user.scopes.clone()));
    }
    // Likewise a second factor: said when it is on, and the answer of before without one.
    if user.account.mfa.is_on() {
        body.insert("mfa_enabled".to_owned(), Value::Bool(true));
    }
    Ok(json_response(StatusCode::OK, &body))
}

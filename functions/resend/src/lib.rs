//! `POST /resend {"type": "signup" | "recovery", "email"}`: the confirmation of an
//! unconfirmed account, or a reset link, again (`auth_accounts::recover::resend`). Always
//! `200 {}`.

use auth_core::{
    AppState,
    accounts::{ip_limit::LimitedRoute, schema},
};
use auth_http::{ApiError, ErrorKey, body::json_body, ip_limit, json_response, respond};
use lambda_http::{Body, Error, Request, Response, http::StatusCode};
use serde_json::json;

pub async fn handle(state: &AppState, request: Request) -> Result<Response<Body>, Error> {
    respond(state, &request, ErrorKey::Error, answer(state, &request)).await
}

async fn answer(state: &AppState, request: &Request) -> Result<Response<Body>, ApiError> {
    ip_limit::admit(state, request, LimitedRoute::Resend, ErrorKey::Error).await?;
    let body = json_body(request)?;
    let (purpose, mut values) =
        schema::typed_fields(&body, &["email"]).map_err(ApiError::Validation)?;
    let email = values.pop().unwrap_or_default();
    auth_accounts::recover::resend(state, purpose, &email)
        .await
        .map_err(|error| ApiError::Account(ErrorKey::Error, error))?;
    Ok(json_response(StatusCode::OK, &json!({})))
}

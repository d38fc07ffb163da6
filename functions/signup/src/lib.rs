//! `POST /signup {"email", "password"}`: an unconfirmed account and its confirmation mail
//! (`auth_accounts::signup`). `200 {}` for a new address and a known one alike; `503` with
//! `Retry-After` when the mail could not be sent (on both paths, so it tells nothing).

use auth_accounts::signup::signup;
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
    ip_limit::admit(state, request, LimitedRoute::Signup, ErrorKey::Error).await?;
    let body = json_body(request)?;
    let [email, password] = field_values(&body)?;
    signup(state, &email, password)
        .await
        .map_err(|error| ApiError::Account(ErrorKey::Error, error))?;
    Ok(json_response(StatusCode::OK, &json!({})))
}

fn field_values(body: &serde_json::Value) -> Result<[String; 2], ApiError> {
    let values = schema::fields(body, &["email", "password"]).map_err(ApiError::Validation)?;
    <[String; 2]>::try_from(values).map_err(|_| ApiError::Validation(Default::default()))
}

//! The thin HTTP layer: bearer and cookie extraction, CSRF checks, JSON bodies, the access log, the request deadline,
//! and `errors`, the one place where domain errors become statuses.

pub mod access_log;
pub mod bearer;
pub mod body;
pub mod cookies;
pub mod deadline;
pub mod errors;
pub mod guard;
pub mod issuer;
pub mod presented;

use std::future::Future;

pub use errors::ApiError;

use lambda_http::{
    Body, Request, Response,
    http::{StatusCode, header},
};
use serde::Serialize;

use crate::{AppState, http::errors::Route};

/// What a handler hands to Lambda: the response of `work` on `request`, or its error as a
/// response, within the request's deadline (`deadline`); an error that is a security event
/// (`ApiError::event`) is counted. Never `Err`: API Gateway would turn
/// that into a bare 502.
pub async fn respond(
    state: &AppState,
    request: &Request,
    route: Route,
    work: impl Future<Output = Result<Response<Body>, ApiError>>,
) -> Result<Response<Body>, lambda_http::Error> {
    let budget = deadline::budget(request, state.request_budget);
    let result = deadline::within(budget, work)
        .await
        .unwrap_or(Err(ApiError::DeadlineExceeded(route)));
    if let Some(event) = result.as_ref().err().and_then(ApiError::event) {
        state.record(event);
    }
    Ok(result.unwrap_or_else(ApiError::into_response))
}

/// A JSON response with `status`. Serialising our own plain values cannot fail; if it ever did,
/// the client still gets JSON.
pub fn json_response(status: StatusCode, body: &impl Serialize) -> Response<Body> {
    let text = serde_json::to_string(body)
        .unwrap_or_else(|_| r#"{"error":"Internal server error"}"#.to_owned());
    let mut response = Response::new(Body::Text(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_response_sets_status_content_type_and_compact_body() {
        let response = json_response(StatusCode::CREATED, &serde_json::json!({"a": [1, "b"]}));
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(response.body().as_ref(), br#"{"a":[1,"b"]}"#);
    }
}

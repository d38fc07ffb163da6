//! What a handler hands to Lambda.

use std::future::Future;

use auth_core::AppState;
use lambda_http::{Body, Request, Response};

use crate::{
    deadline,
    errors::{ApiError, ErrorKey},
};

/// The response of `work` on `request`, or its error as a response (its body keyed by `key`),
/// within the request's deadline (`deadline`); an error that is a security event
/// (`ApiError::event`) is counted. Never `Err`: API Gateway would turn that into a bare 502.
pub async fn respond(
    state: &AppState,
    request: &Request,
    key: ErrorKey,
    work: impl Future<Output = Result<Response<Body>, ApiError>>,
) -> Result<Response<Body>, lambda_http::Error> {
    let budget = deadline::budget(request, state.request_budget());
    let result = deadline::within(budget, work)
        .await
        .unwrap_or(Err(ApiError::DeadlineExceeded(key)));
    if let Some(event) = result.as_ref().err().and_then(ApiError::event) {
        state.record(event);
    }
    Ok(result.unwrap_or_else(ApiError::into_response))
}

//! A function that cannot start says so to Lambda instead of just exiting.
//!
//! `lambda_runtime` only reports init failures of its own (SnapStart hooks); a configuration
//! error is found before it runs. Posting to the Runtime API's `/init/error` makes Lambda record
//! the reason as the init failure (and `sam local invoke` print it) rather than a bare
//! "Runtime exited" with the reason lost among the logs.

use lambda_runtime_api_client::{PooledClient, body::Body, build_request};

/// The error type Lambda shows for a function that could not start.
pub const INIT_ERROR_TYPE: &str = "Runtime.ConfigurationError";

const RUNTIME_API: &str = "AWS_LAMBDA_RUNTIME_API";

/// Logs `error`, reports it to the Runtime API's `/init/error` when running under one, and
/// hands it back for `main` to return (a non-zero exit).
pub async fn report_init_error<E>(error: E) -> lambda_http::Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    tracing::error!(%error, "cold start failed");
    let under_lambda = std::env::var_os(RUNTIME_API).is_some_and(|api| !api.is_empty());
    if under_lambda && let Err(report_error) = post_init_error(&error.to_string()).await {
        tracing::error!(error = %report_error, "could not report the init error to the Runtime API");
    }
    error.into()
}

async fn post_init_error(message: &str) -> Result<(), lambda_http::Error> {
    let diagnostic = serde_json::json!({ "errorType": INIT_ERROR_TYPE, "errorMessage": message });
    let request = build_request()
        .method("POST")
        .uri("/2018-06-01/runtime/init/error")
        .header("Lambda-Runtime-Function-Error-Type", INIT_ERROR_TYPE)
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(&diagnostic)?))?;
    let response = PooledClient::builder().build().call(request).await?;
    if !response.status().is_success() {
        return Err(format!("the Runtime API answered {}", response.status()).into());
    }
    Ok(())
}

//! One log line per request: method, route, status and latency. Never headers or bodies,
//! which carry tokens and passwords, and never the query string.

use std::{future::Future, time::Instant};

use lambda_http::{Body, Error, Request, Response};

/// Runs `handler` on `request` and logs how it went.
pub async fn logged<F, Fut>(request: Request, handler: F) -> Result<Response<Body>, Error>
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Result<Response<Body>, Error>>,
{
    let method = request.method().clone();
    let route = request.uri().path().to_owned();
    let started = Instant::now();
    let result = handler(request).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    match &result {
        Ok(response) => {
            tracing::info!(%method, %route, status = response.status().as_u16(), latency_ms, "request")
        }
        Err(error) => tracing::error!(%method, %route, latency_ms, %error, "request failed"),
    }
    result
}

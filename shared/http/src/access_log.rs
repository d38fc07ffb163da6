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

#[cfg(test)]
mod tests {
    use super::*;
    use auth_testkit::CapturedLog;

    use lambda_http::http::StatusCode;

    #[tokio::test]
    async fn logs_method_route_status_and_latency_but_no_token_or_query() {
        let (captured, _guard) = CapturedLog::install();

        let request = lambda_http::http::Request::builder()
            .method("GET")
            .uri("/profile?token=query-secret")
            .header("authorization", "Bearer header-secret-token")
            .body(Body::Text("body-secret".into()))
            .unwrap();
        let response = logged(request, |_| async {
            let mut response = Response::new(Body::Empty);
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        })
        .await
        .unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

        let log = captured.contents();
        assert_eq!(log.lines().count(), 1, "{log}");
        for expected in ["method=GET", "route=/profile", "status=422", "latency_ms="] {
            assert!(log.contains(expected), "{expected} missing from {log}");
        }
        for secret in ["query-secret", "header-secret-token", "body-secret"] {
            assert!(!log.contains(secret), "{secret} leaked into {log}");
        }
    }
}

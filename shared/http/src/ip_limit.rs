//! The per-address limit a request meets before its route does anything
//! (`auth_core::accounts::ip_limit`): the address is API Gateway's `sourceIp`, the client's
//! as the API saw it (a header such as `X-Forwarded-For` is the client's to write, and is
//! never read).

use auth_core::{
    AppState,
    accounts::ip_limit::{self, LimitedRoute},
};
use lambda_http::{Request, RequestExt, request::RequestContext};

use crate::errors::{ApiError, ErrorKey};

/// Where the request came from: API Gateway's `requestContext.http.sourceIp` (local-api sets
/// it to the peer's address).
pub fn source_ip(request: &Request) -> Option<String> {
    match request.request_context_ref()? {
        RequestContext::ApiGatewayV2(context) => context.http.source_ip.clone(),
        _ => None,
    }
}

/// Counts the request at `route`; refused (`429` with `Retry-After`) over its limit. A route
/// without a limit, or a state without the records to count in, counts nothing.
pub async fn admit(
    state: &AppState,
    request: &Request,
    route: LimitedRoute,
    key: ErrorKey,
) -> Result<(), ApiError> {
    let (Some(limit), Some(records)) = (
        state.account_settings().ip_limits.of(route),
        state.records(),
    ) else {
        return Ok(());
    };
    // A request without an address (not through API Gateway) is counted with every other such.
    let source = source_ip(request).unwrap_or_else(|| "unknown".to_owned());
    match ip_limit::count(records, route, limit, &source, state.clock().unix_secs()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(throttled)) => {
            tracing::warn!(route = route.name(), "over the per-address limit: 429");
            Err(ApiError::IpThrottled(key, throttled))
        }
        Err(error) => Err(ApiError::Store(key, error)),
    }
}

//! Where a request reached the API: the issuer of an asymmetric deployment without
//! `JWT_ISSUER`, so that `sam deploy` needs no second pass to learn its own URL.

use lambda_http::{Request, RequestExt, request::RequestContext};

use crate::{
    app::AppState,
    http::{ApiError, errors::Route},
    tokens::TokenService,
};

/// The origin of a request served outside API Gateway (`local-api`), which knows its own
/// scheme and host. Inserted into the request's extensions by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestOrigin(pub String);

/// `https://{domainName}` of the API Gateway event: the domain API Gateway received the request
/// at, set by API Gateway and not by the client (a custom domain when one is used). Outside
/// API Gateway, the origin the server put in the request.
pub fn request_origin(request: &Request) -> Option<String> {
    if let Some(RequestOrigin(origin)) = request.extensions().get::<RequestOrigin>() {
        return Some(origin.clone());
    }
    match request.request_context_ref()? {
        RequestContext::ApiGatewayV2(context) => context
            .domain_name
            .as_deref()
            .filter(|domain| is_host(domain))
            .map(|domain| format!("https://{domain}")),
        _ => None,
    }
}

/// The token service for `request`: with its origin as the issuer when that is how the
/// deployment is configured (`TokenService::for_origin`).
pub fn tokens_for(
    state: &AppState,
    request: &Request,
    route: Route,
) -> Result<TokenService, ApiError> {
    state
        .tokens
        .for_origin(request_origin(request).as_deref())
        .map_err(|error| ApiError::Signing(route, error.into()))
}

/// A DNS name as API Gateway gives it: nothing that would make `https://{domain}` another URL.
fn is_host(domain: &str) -> bool {
    !domain.is_empty()
        && domain
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b':'))
}

#[cfg(test)]
mod tests;

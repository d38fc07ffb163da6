//! Where a request reached the API: its origin (the issuer of an asymmetric deployment without
//! `JWT_ISSUER`, so that `sam deploy` needs no second pass to learn its own URL) and the path
//! before the route's own (a stage or a custom domain's mapping key, which cookie paths need).

use lambda_http::{
    Request, RequestExt, aws_lambda_events::apigw::ApiGatewayV2httpRequestContext,
    request::RequestContext,
};

/// The origin of a request served outside API Gateway (`local-api`), which knows its own
/// scheme and host. Inserted into the request's extensions by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestOrigin(pub String);

/// The URL the API was reached at, from the API Gateway event: `https://{domainName}` (the
/// domain API Gateway received the request at, set by API Gateway and not by the client: a
/// custom domain when one is used), followed by whatever the URL's path holds before the
/// route's own path (a custom domain's API mapping key, a named stage): `rawPath` less the path
/// of `routeKey`. So `{origin}/.well-known/jwks.json` reaches this API however it was reached.
/// Outside API Gateway, the origin the server put in the request. None when the event does
/// not say, or says something that is no plain host and path.
pub fn request_origin(request: &Request) -> Option<String> {
    if let Some(RequestOrigin(origin)) = request.extensions().get::<RequestOrigin>() {
        return Some(origin.clone());
    }
    let RequestContext::ApiGatewayV2(context) = request.request_context_ref()? else {
        return None;
    };
    let domain = context
        .domain_name
        .as_deref()
        .filter(|domain| is_host(domain))?
        .to_ascii_lowercase();
    let base_path = base_path_in(request, context)?;
    Some(format!("https://{domain}{base_path}"))
}

/// What the URL's path holds before the route's own path: a custom domain's API mapping key or
/// a named stage (`/auth`), or nothing for an API served at its root, outside API Gateway, or
/// when the event does not say.
pub fn base_path(request: &Request) -> String {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => base_path_in(request, context)
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    }
}

fn base_path_in<'r>(
    request: &'r Request,
    context: &ApiGatewayV2httpRequestContext,
) -> Option<&'r str> {
    let base_path = request.raw_http_path().strip_suffix(route_path(context)?)?;
    is_base_path(base_path).then_some(base_path)
}

/// The path of the route API Gateway matched (`routeKey`, `GET /profile`): the URL's path
/// without a custom domain's mapping key or a stage before it. None for a catch-all route.
pub fn route_path(context: &ApiGatewayV2httpRequestContext) -> Option<&str> {
    let (_, path) = context.route_key.as_deref()?.split_once(' ')?;
    Some(path)
}

/// A DNS name as API Gateway gives it: nothing that would make `https://{domain}` another URL
/// (no port: API Gateway serves 443 only).
fn is_host(domain: &str) -> bool {
    !domain.is_empty()
        && domain
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-'))
}

/// Empty, or `/segment` repeated: an API mapping key or a stage, in the characters they allow.
fn is_base_path(path: &str) -> bool {
    path.is_empty()
        || (path.starts_with('/')
            && !path.ends_with('/')
            && !path.contains("//")
            && path.bytes().all(|byte| {
                byte.is_ascii_alphanumeric() || matches!(byte, b'/' | b'-' | b'_' | b'.' | b'$')
            }))
}

#[cfg(test)]
mod tests;

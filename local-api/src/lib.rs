//! The Lambda handlers behind one local HTTP server, at the routes of `template.yaml`.
//!
//! Requests are turned into the same `lambda_http::Request` that API Gateway's events become,
//! so the handlers run unchanged; only the transport differs.

use std::{collections::HashMap, sync::Arc, time::Duration};

use auth_core::{
    AppState,
    settings::browser::{
        CORS_ALLOWED_HEADERS, CORS_ALLOWED_METHODS, CORS_EXPOSED_HEADERS, CORS_MAX_AGE_SECS,
    },
};
use auth_http::{access_log::logged, json_response, location::RequestOrigin};
use axum::extract::ConnectInfo;
use axum::{
    Router,
    body::{Body as AxumBody, to_bytes},
    extract::{Request as AxumRequest, State},
    response::{IntoResponse, Response as AxumResponse},
};
use lambda_http::{
    Body, Error, Request, RequestExt, Response,
    aws_lambda_events::{apigw::ApiGatewayV2httpRequestContext, query_map::QueryMap},
    http::{HeaderName, HeaderValue, Method, StatusCode},
    request::RequestContext,
};
use serde_json::json;
use std::net::SocketAddr;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The functions of `template.yaml` the routes invoke.
pub use auth_core::Function;

pub mod connections;
pub mod outbox;
pub mod upstream;

use upstream::Upstream;

/// API Gateway's own limit is 10 MB; nothing this API takes is near 1 MiB.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// API Gateway's quota on an HTTP API request's line and headers together (10,240 bytes).
pub const MAX_HEAD_BYTES: usize = 10_240;
/// Headers a request may carry. The HTTP library closes a head of over ten times as many (or
/// over ~400 KB) with its own empty 431 before any of this code sees it.
pub const MAX_HEADERS: usize = 100;

/// The routes of `template.yaml`'s HTTP API, the source of routes: a test
/// (`lambda-emulator/tests/routes.rs`) fails when these, the template's and the events'
/// disagree.
///
/// A path segment in braces (`{id}`) is a path parameter, as API Gateway's: it matches any one
/// non-empty segment, and reaches the handler in `pathParameters`.
pub const ROUTES: [(Method, &str, Function); 20] = [
    (Method::POST, "/login", Function::Login),
    (Method::POST, "/refresh", Function::Refresh),
    (Method::GET, "/profile", Function::Profile),
    (Method::POST, "/logout", Function::Logout),
    (Method::GET, discovery::JWKS_PATH, Function::Discovery),
    (Method::GET, discovery::DISCOVERY_PATH, Function::Discovery),
    (Method::POST, "/signup", Function::Signup),
    (Method::POST, "/verify", Function::Verify),
    (Method::POST, "/recover", Function::Recover),
    (Method::POST, "/resend", Function::Resend),
    (Method::POST, "/password", Function::ChangePassword),
    (Method::POST, "/password/reset", Function::ResetPassword),
    (Method::POST, "/login/mfa", Function::LoginMfa),
    (Method::POST, "/mfa/totp", Function::Mfa),
    (Method::POST, "/mfa/totp/confirm", Function::Mfa),
    (Method::DELETE, "/mfa/totp", Function::Mfa),
    (Method::POST, "/mfa/recovery-codes", Function::Mfa),
    (Method::GET, "/sessions", Function::Sessions),
    (Method::DELETE, "/sessions/{id}", Function::Sessions),
    (Method::GET, "/account/activity", Function::Sessions),
];

/// The function API Gateway would invoke for `method` and `path`, if any.
pub fn function_for(method: &Method, path: &str) -> Option<Function> {
    route_for(method, path).map(|route| route.function)
}

/// A route a request matched, as API Gateway tells its function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedRoute {
    /// The route's path as `template.yaml` has it (`/sessions/{id}`): the `routeKey`'s.
    pub path: &'static str,
    pub function: Function,
    /// Each `{name}` of the route's path, with the segment of the request's path it matched,
    /// as the path has it (percent-encoded; a session's id has nothing to encode).
    pub parameters: Vec<(&'static str, String)>,
}

/// The route of `ROUTES` that `method` and `path` match, if any.
pub fn route_for(method: &Method, path: &str) -> Option<MatchedRoute> {
    ROUTES
        .iter()
        .filter(|(route_method, _, _)| route_method == method)
        .find_map(|(_, route_path, function)| {
            Some(MatchedRoute {
                path: route_path,
                function: *function,
                parameters: path_parameters(route_path, path)?,
            })
        })
}

/// The parameters of `template` that `path` gives, if it matches it: segment for segment, each
/// `{name}` taking any one non-empty segment.
fn path_parameters(template: &'static str, path: &str) -> Option<Vec<(&'static str, String)>> {
    let (mut templates, mut segments) = (template.split('/'), path.split('/'));
    let mut parameters = Vec::new();
    loop {
        match (templates.next(), segments.next()) {
            (None, None) => return Some(parameters),
            (Some(expected), Some(segment)) => {
                match expected
                    .strip_prefix('{')
                    .and_then(|name| name.strip_suffix('}'))
                {
                    Some(name) if !segment.is_empty() => {
                        parameters.push((name, segment.to_owned()))
                    }
                    Some(_) => return None,
                    None if expected == segment => {}
                    None => return None,
                }
            }
            _ => return None,
        }
    }
}

/// Runs `function`'s handler, as its Lambda binary would. The authorizer has no route of its
/// own (it guards the upstream's, `upstream`): asked for it, the answer is API Gateway's for a
/// route it does not have.
pub async fn invoke(
    state: &AppState,
    function: Function,
    request: Request,
) -> Result<Response<Body>, Error> {
    match function {
        Function::Login => login::handle(state, request).await,
        Function::Refresh => refresh::handle(state, request).await,
        Function::Profile => profile::handle(state, request).await,
        Function::Logout => logout::handle(state, request).await,
        Function::Discovery => discovery::handle(state.tokens(), request).await,
        Function::Authorizer => Ok(not_found()),
        Function::Signup => signup::handle(state, request).await,
        Function::Verify => verify::handle(state, request).await,
        Function::Recover => recover::handle(state, request).await,
        Function::Resend => resend::handle(state, request).await,
        Function::ChangePassword => password::handle(state, request).await,
        Function::ResetPassword => password_reset::handle(state, request).await,
        Function::LoginMfa => login_mfa::handle(state, request).await,
        Function::Mfa => mfa::handle(state, request).await,
        Function::Sessions => sessions::handle(state, request).await,
    }
}

/// What API Gateway answers for a route it does not have.
fn not_found() -> Response<Body> {
    json_response(StatusCode::NOT_FOUND, &json!({"message": "Not Found"}))
}

/// The server: every request goes through `serve`, which routes like API Gateway. `origin`
/// is the server's own URL (`http://127.0.0.1:3000`): in an asymmetric deployment without
/// `JWT_ISSUER`, the issuer, as the API's URL is on API Gateway. Requests under `upstream`'s
/// prefix, if there is one, go through the Lambda authorizer's check to it.
///
/// With `CORS_ALLOWED_ORIGINS`, CORS is answered as API Gateway answers it for the template's
/// `CorsConfiguration`: a preflight is answered here, never reaching a handler (nor its token
/// check), and the answers to an allowed origin carry its CORS headers.
/// A body that has not arrived within `read_timeout` is answered `408` (`connections`).
pub fn app(
    state: Arc<AppState>,
    origin: String,
    upstream: Option<Arc<Upstream>>,
    read_timeout: Duration,
) -> Router {
    let cors = cors_layer(&state.browser().cors_allowed_origins);
    let router = Router::new().fallback(serve).with_state(Server {
        state,
        origin: RequestOrigin(origin),
        upstream,
        read_timeout,
    });
    match cors {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// The CORS of `allowed_origins`, with credentials (the cookies): none for an empty list.
pub fn cors_layer(allowed_origins: &[String]) -> Option<CorsLayer> {
    if allowed_origins.is_empty() {
        return None;
    }
    // Settings has checked every origin; one that is no header value could match no request.
    let origins = allowed_origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin).ok());
    let header_names = |names: &[&'static str]| {
        names
            .iter()
            .map(|name| HeaderName::from_static(name))
            .collect::<Vec<_>>()
    };
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_credentials(true)
            .allow_methods(
                CORS_ALLOWED_METHODS
                    .iter()
                    .filter_map(|method| Method::from_bytes(method.as_bytes()).ok())
                    .collect::<Vec<_>>(),
            )
            .allow_headers(header_names(&CORS_ALLOWED_HEADERS))
            .expose_headers(header_names(&CORS_EXPOSED_HEADERS))
            .max_age(Duration::from_secs(CORS_MAX_AGE_SECS)),
    )
}

#[derive(Clone)]
struct Server {
    state: Arc<AppState>,
    origin: RequestOrigin,
    upstream: Option<Arc<Upstream>>,
    read_timeout: Duration,
}

/// Where a request goes.
enum Target {
    Function(MatchedRoute),
    /// Through the authorizer's check to the upstream (`upstream`).
    Upstream(Arc<Upstream>),
}

async fn serve(
    State(Server {
        state,
        origin,
        upstream,
        read_timeout,
    }): State<Server>,
    request: AxumRequest,
) -> AxumResponse {
    let (parts, body) = request.into_parts();
    if head_bytes(&parts) > MAX_HEAD_BYTES || parts.headers.len() > MAX_HEADERS {
        return to_axum(json_response(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            &json!({"message": "Request Header Fields Too Large"}),
        ));
    }
    // The upstream's prefix wins: its paths are the upstream's, whatever they look like.
    let target = match upstream.filter(|upstream| upstream.serves(parts.uri.path())) {
        Some(upstream) => Target::Upstream(upstream),
        None => match route_for(&parts.method, parts.uri.path()) {
            Some(route) => Target::Function(route),
            None => return to_axum(not_found()),
        },
    };
    let Ok(read) = tokio::time::timeout(read_timeout, to_bytes(body, MAX_BODY_BYTES)).await else {
        // A client that sends its body slowly or never holds no connection: it is told, and
        // the connection closes.
        let mut response = to_axum(json_response(
            StatusCode::REQUEST_TIMEOUT,
            &json!({"message": "Request Timeout"}),
        ));
        response.headers_mut().insert(
            lambda_http::http::header::CONNECTION,
            HeaderValue::from_static("close"),
        );
        return response;
    };
    let bytes = match read {
        Ok(bytes) => bytes,
        Err(error) if is_over_the_limit(&error) => {
            return to_axum(json_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                &json!({"message": "Request Entity Too Large"}),
            ));
        }
        // A body that could not be read (malformed chunks, a connection cut short).
        Err(_) => {
            return to_axum(json_response(
                StatusCode::BAD_REQUEST,
                &json!({"message": "Bad Request"}),
            ));
        }
    };
    let route = match target {
        Target::Upstream(upstream) => return upstream.handle(parts, bytes).await,
        Target::Function(route) => route,
    };
    let body = match String::from_utf8(bytes.to_vec()) {
        _ if bytes.is_empty() => Body::Empty,
        Ok(text) => Body::Text(text),
        Err(error) => Body::Binary(error.into_bytes()),
    };
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip().to_string());
    let context = api_gateway_context(&parts.method, route.path, parts.uri.path(), peer);
    // What API Gateway's event carries beside the request: the query string's parameters,
    // parsed as lambda_http parses `rawQueryString`, and the route's path parameters.
    let query: QueryMap = parts
        .uri
        .query()
        .unwrap_or_default()
        .parse()
        .unwrap_or_default();
    let path_parameters: HashMap<String, String> = route
        .parameters
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
    let mut request = Request::from_parts(parts, body)
        .with_request_context(context)
        .with_query_string_parameters(query)
        .with_path_parameters(path_parameters);
    request.extensions_mut().insert(origin);
    let function = route.function;
    match logged(request, |request| invoke(&state, function, request)).await {
        Ok(response) => to_axum(response),
        // A handler only fails like this on a bug; API Gateway would answer a bare 500.
        Err(_) => to_axum(json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({"message": "Internal Server Error"}),
        )),
    }
}

/// What API Gateway's event would say of the request that the handlers read: the route it
/// matched (`routeKey`, with the route's own path: `DELETE /sessions/{id}`) and where it came
/// from (`sourceIp`, the peer's address: the per-address limits count it).
fn api_gateway_context(
    method: &Method,
    route_path: &str,
    path: &str,
    source_ip: Option<String>,
) -> RequestContext {
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.route_key = Some(format!("{method} {route_path}"));
    context.http.method = method.clone();
    context.http.path = Some(path.to_owned());
    context.http.source_ip = source_ip;
    RequestContext::ApiGatewayV2(context)
}

/// The request line's and the headers' bytes, as API Gateway counts them against its quota.
fn head_bytes(parts: &lambda_http::http::request::Parts) -> usize {
    let line = parts.method.as_str().len() + parts.uri.to_string().len() + "HTTP/1.1".len();
    line + parts
        .headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum::<usize>()
}

/// Whether reading a body failed because it is longer than `MAX_BODY_BYTES`.
fn is_over_the_limit(error: &axum::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = cause {
        if error.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cause = error.source();
    }
    false
}

fn to_axum(response: Response<Body>) -> AxumResponse {
    let (parts, body) = response.into_parts();
    let body = match body {
        Body::Text(text) => AxumBody::from(text),
        Body::Binary(bytes) => AxumBody::from(bytes),
        _ => AxumBody::empty(),
    };
    (parts.status, parts.headers, body).into_response()
}

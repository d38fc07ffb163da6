//! `GET /.well-known/jwks.json` and `GET /.well-known/openid-configuration`: what another API
//! needs to verify our tokens without us (API Gateway's JWT authorizer, PyJWT's `PyJWKClient`,
//! any OpenID Connect library): the public keys, and where to find them for our issuer.
//!
//! Only an asymmetric deployment has keys to publish; an HS256 one answers 404, its key being
//! the secret. Both answers come from the keys alone, with no store call.

use auth_core::tokens::TokenService;
use auth_http::{
    ApiError, ErrorKey, json_response,
    location::{self, request_origin},
};
use lambda_http::{
    Body, Error, Request, RequestExt, Response,
    http::{HeaderValue, Method, StatusCode, header::CACHE_CONTROL},
    request::RequestContext,
};
use serde_json::{Value, json};

pub const JWKS_PATH: &str = "/.well-known/jwks.json";
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";

/// How long a verifier may keep the answers. Under the two hours the rotation runbook waits
/// between publishing a key and signing with it (API Gateway's own key cache), so a cache of
/// ours never hides a new key past that wait; and long enough that a verifier does not ask
/// again for every token.
pub const CACHE_CONTROL_VALUE: &str = "public, max-age=3600";

/// What an HS256 deployment answers: there is no public key.
pub const NO_PUBLIC_KEYS: &str =
    "This deployment signs tokens with HS256 and has no public keys (set JWT_ALGORITHM)";

/// The claims our tokens may carry, for `claims_supported`.
const CLAIMS: [&str; 12] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "auth_time",
    "sid",
    "scope",
    "type",
    "fresh",
];

pub async fn handle(tokens: &TokenService, request: Request) -> Result<Response<Body>, Error> {
    Ok(answer(tokens, &request))
}

fn answer(tokens: &TokenService, request: &Request) -> Response<Body> {
    let path = route_path(request);
    if request.method() != Method::GET || (path != JWKS_PATH && path != DISCOVERY_PATH) {
        // What API Gateway answers for a route it does not have.
        return json_response(StatusCode::NOT_FOUND, &json!({"message": "Not Found"}));
    }
    let Some(keys) = tokens.key_set() else {
        return json_response(StatusCode::NOT_FOUND, &json!({"msg": NO_PUBLIC_KEYS}));
    };
    let body = if path == JWKS_PATH {
        serde_json::to_value(keys.jwks()).unwrap_or(Value::Null)
    } else {
        match tokens.for_origin(request_origin(request).as_deref()) {
            Ok(tokens) => discovery_document(&tokens),
            Err(error) => return ApiError::Signing(ErrorKey::Msg, error.into()).into_response(),
        }
    };
    let mut response = json_response(StatusCode::OK, &body);
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static(CACHE_CONTROL_VALUE));
    response
}

/// The route API Gateway matched (`routeKey`), whose path is the URL's without a custom
/// domain's mapping key or a stage before it; the URL's path outside API Gateway.
fn route_path(request: &Request) -> &str {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => location::route_path(context).unwrap_or(""),
        _ => request.uri().path(),
    }
}

/// OpenID Connect Discovery 1.0's metadata for a service that issues access tokens and nothing
/// else: the members it requires that describe us truly (`issuer`, `jwks_uri`,
/// `subject_types_supported`, `id_token_signing_alg_values_supported` for the one algorithm we
/// sign with, and `response_types_supported`, empty: there is no authorization endpoint, which
/// is why `authorization_endpoint` is absent, as RFC 8414 section 2 allows), and what a token's
/// verifier reads besides.
pub fn discovery_document(tokens: &TokenService) -> Value {
    let issuer = tokens.issuer().unwrap_or_default();
    json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}{JWKS_PATH}"),
        "response_types_supported": [],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [tokens.algorithm_name()],
        "scopes_supported": [],
        "claims_supported": CLAIMS,
    })
}

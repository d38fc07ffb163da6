//! The protected API's one function, behind `GET /hello`, `GET /admin` and `GET /sensitive`,
//! where it answers with what API Gateway's JWT authorizer found in the caller's access token,
//! and `GET /account` (on the HTTP API and the REST API), where it answers with who the auth
//! service's Lambda authorizer found calling.
//!
//! It verifies no token itself: API Gateway did before invoking it (the signature against the
//! auth service's published keys, `iss`, `aud`, the times, and the scope `/admin` or
//! `/sensitive` requires, `/sensitive`'s standing for a second factor; see `../template.yaml`).
//! What the authorizer found arrives in the payload format 2.0 event at
//! `requestContext.authorizer.jwt`: `claims`, each claim's value as a string, and `scopes`.

use lambda_http::{
    Body, Error, Request, RequestExt, Response,
    http::{HeaderValue, StatusCode, header},
    request::RequestContext,
    tracing,
};
use serde_json::{Value, json};

/// API Gateway's own answer to a request without a valid token, so that a client sees one
/// answer whichever of the two refused it.
const UNAUTHORIZED: &str = "Unauthorized";
/// The auth service's answer to a refresh token where an access token belongs.
const REFRESH_TOKEN: &str = "Only non-refresh tokens are allowed";

/// Answers 200 `{"route", "claims", "scopes"}` for a request the JWT authorizer let through,
/// with the claims and scopes exactly as API Gateway passed them (`scopes` is `null` on a route
/// that requires none), and 401 JSON for any other request. Never `Err`: Lambda would turn it
/// into API Gateway's bare 500.
pub async fn handle(request: Request) -> Result<Response<Body>, Error> {
    Ok(answer(&request))
}

fn answer(request: &Request) -> Response<Body> {
    // The auth service's Lambda authorizer: it checked the token as the service's /profile
    // would (revocations and the user included) and put who is calling in the context, in
    // `requestContext.authorizer.lambda` (HTTP API) or `requestContext.authorizer` (REST).
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => {
            if let Some(caller) = context
                .authorizer
                .as_ref()
                .map(|authorizer| &authorizer.fields)
                .filter(|fields| !fields.is_empty())
            {
                return json_response(
                    StatusCode::OK,
                    &json!({"route": context.route_key, "caller": caller}),
                );
            }
        }
        Some(RequestContext::ApiGatewayV1(context)) => {
            if context.authorizer.fields.is_empty() {
                tracing::warn!("no Lambda authorizer result in the REST request context");
                return unauthorized(UNAUTHORIZED, "Bearer");
            }
            let route = format!(
                "{} {}",
                context.http_method,
                context.resource_path.as_deref().unwrap_or_default()
            );
            return json_response(
                StatusCode::OK,
                &json!({"route": route, "caller": context.authorizer.fields}),
            );
        }
        _ => {}
    }
    let context = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => Some(context),
        _ => None,
    };
    let jwt = context
        .and_then(|context| context.authorizer.as_ref())
        .and_then(|authorizer| authorizer.jwt.as_ref());
    let (Some(context), Some(jwt)) = (context, jwt) else {
        // Deployed, every route has the authorizer, so this does not happen. It does where no
        // authorizer ran: `sam local start-api` (which skips JWT authorizers), a route added
        // without one, a direct invoke. No authorizer result means no one checked a token, and
        // the function must not answer as if it knew the caller: 401, as for a missing token,
        // not a 500 (nothing is broken in the function) nor a 200.
        tracing::warn!(
            "no JWT authorizer result in the request context: is this route attached to the \
             AuthServiceJwt authorizer?"
        );
        return unauthorized(UNAUTHORIZED, "Bearer");
    };
    // The authorizer cannot tell the service's refresh tokens from its access tokens: both are
    // signed with the same key and carry the same `iss` and `aud`. The scope `/admin` or
    // `/sensitive` requires keeps them out (only access tokens carry `scope`); `/hello`, which
    // requires none, relies on this check. The rule is the service's (flask-jwt-extended's): any
    // token whose `type` is not `refresh` is an access token.
    if jwt.claims.get("type").is_some_and(|kind| kind == "refresh") {
        return unauthorized(REFRESH_TOKEN, r#"Bearer error="invalid_token""#);
    }
    json_response(
        StatusCode::OK,
        &json!({
            "route": context.route_key,
            "claims": jwt.claims,
            "scopes": jwt.scopes,
        }),
    )
}

/// 401 with API Gateway's body shape and the RFC 6750 challenge.
fn unauthorized(message: &str, challenge: &'static str) -> Response<Body> {
    let mut response = json_response(StatusCode::UNAUTHORIZED, &json!({ "message": message }));
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    response
}

fn json_response(status: StatusCode, body: &Value) -> Response<Body> {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

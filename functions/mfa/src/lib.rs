//! The second factor's own routes, each with a fresh access token (from a login, not a refresh:
//! flask-jwt-extended's `fresh` claim), for the user it names:
//!
//! - `POST /mfa/totp`: a new TOTP secret, pending until confirmed: `{"secret", "otpauth_uri",
//!   "qr_svg"}`, shown once;
//! - `POST /mfa/totp/confirm {"code"}`: the factor is on; `{"recovery_codes": [...]}`, ten,
//!   shown once; every other session of the user ends, the caller's stays;
//! - `DELETE /mfa/totp {"code"}` (or `"recovery_code"`): the factor is off;
//! - `POST /mfa/recovery-codes {"code"}` (or `"recovery_code"`): ten new recovery codes, the old
//!   ones dead.
//!
//! One function for the four (one screen's steps, one state, one set of permissions); the
//! flows are `auth_mfa::enrolment`'s. Every answer says `Cache-Control: no-store`: secrets and
//! codes must not stay in a cache.

use auth_core::{
    AppState,
    accounts::ip_limit::LimitedRoute,
    activity::{ActivityEvent, ActivityOutcome},
    mfa::MfaError,
};
use auth_http::{
    ApiError, ErrorKey, body::json_body, client::activity_of, guard::fresh_user, ip_limit,
    json_response, respond,
};
use lambda_http::{
    Body, Error, Request, RequestExt, Response,
    http::{HeaderValue, Method, StatusCode, header::CACHE_CONTROL},
    request::RequestContext,
};
use serde_json::{Value, json};

/// The routes this function answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Begin,
    Confirm,
    Remove,
    RecoveryCodes,
}

impl Route {
    /// The route of `method` and `path` (`/mfa/...`), if it is one of ours.
    pub fn of(method: &str, path: &str) -> Option<Route> {
        match (method, path) {
            ("POST", "/mfa/totp") => Some(Route::Begin),
            ("POST", "/mfa/totp/confirm") => Some(Route::Confirm),
            ("DELETE", "/mfa/totp") => Some(Route::Remove),
            ("POST", "/mfa/recovery-codes") => Some(Route::RecoveryCodes),
            _ => None,
        }
    }
}

/// The route API Gateway matched (`routeKey`, which no stage or mapping key prefixes), or
/// without one the request's own method and path.
fn route(request: &Request) -> Option<Route> {
    if let Some(RequestContext::ApiGatewayV2(context)) = request.request_context_ref()
        && let Some((method, path)) = context
            .route_key
            .as_deref()
            .and_then(|key| key.split_once(' '))
    {
        return Route::of(method, path);
    }
    Route::of(request.method().as_str(), request.uri().path())
}

pub async fn handle(state: &AppState, request: Request) -> Result<Response<Body>, Error> {
    let mut response = respond(state, &request, ErrorKey::Msg, answer(state, &request)).await?;
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

fn refused(error: MfaError) -> ApiError {
    ApiError::Mfa(ErrorKey::Msg, error)
}

/// The body, or none where the route takes none: `POST /mfa/totp` reads nothing, so an empty
/// body is as good as `{}`.
fn body(request: &Request, route: Route) -> Result<Value, ApiError> {
    match route {
        Route::Begin if request.body().is_empty() => Ok(json!({})),
        _ => Ok(json_body(request)?),
    }
}

async fn answer(state: &AppState, request: &Request) -> Result<Response<Body>, ApiError> {
    let Some(route) = route(request) else {
        let allowed = matches!(request.method(), &Method::POST | &Method::DELETE);
        let status = match allowed {
            true => StatusCode::NOT_FOUND,
            false => StatusCode::METHOD_NOT_ALLOWED,
        };
        return Ok(json_response(status, &json!({"msg": "Not Found"})));
    };
    ip_limit::admit(state, request, LimitedRoute::Mfa, ErrorKey::Msg).await?;
    let (claims, user) = fresh_user(state, request).await?;
    let body = body(request, route)?;
    let invalid = |errors| refused(MfaError::Invalid(errors));
    let log = |event| {
        state.activity().record(
            &user.username,
            event,
            ActivityOutcome::Succeeded,
            activity_of(request).session(claims.session_id()),
        );
    };
    match route {
        Route::Begin => {
            auth_mfa::schema::fields(&body, &[]).map_err(invalid)?;
            let enrolment = auth_mfa::enrolment::begin(state, &user)
                .await
                .map_err(refused)?;
            Ok(json_response(
                StatusCode::OK,
                &json!({
                    "secret": enrolment.secret,
                    "otpauth_uri": enrolment.uri,
                    "qr_svg": enrolment.qr_svg,
                }),
            ))
        }
        Route::Confirm => {
            let code = auth_mfa::schema::fields(&body, &["code"])
                .map_err(invalid)?
                .pop()
                .unwrap_or_default();
            let codes = auth_mfa::enrolment::confirm(state, &user, claims.session_id(), &code)
                .await
                .map_err(refused)?;
            log(ActivityEvent::MfaEnabled);
            Ok(json_response(
                StatusCode::OK,
                &json!({"recovery_codes": codes}),
            ))
        }
        Route::Remove => {
            let (_, answer) = auth_mfa::schema::answer(&body, &[]).map_err(invalid)?;
            auth_mfa::enrolment::remove(state, &user, &answer)
                .await
                .map_err(refused)?;
            log(ActivityEvent::MfaDisabled);
            Ok(json_response(StatusCode::OK, &json!({})))
        }
        Route::RecoveryCodes => {
            let (_, answer) = auth_mfa::schema::answer(&body, &[]).map_err(invalid)?;
            let codes = auth_mfa::enrolment::replace_recovery_codes(state, &user, &answer)
                .await
                .map_err(refused)?;
            log(ActivityEvent::RecoveryCodesReplaced);
            Ok(json_response(
                StatusCode::OK,
                &json!({"recovery_codes": codes}),
            ))
        }
    }
}

//! `POST /verify {"type", "token"}`: a mailed token shown back (`auth_accounts::verify`). A
//! sign-up's, with `"password"` (the one signed up with, or for a link `/resend` mailed, the
//! one chosen now), confirms the address and answers a new session's tokens exactly as
//! `/login` does (cookie mode included); a recovery token is checked and left for `/password/reset`
//! (`200 {}`), so that the page can say a dead link is dead before a new password is typed.

use auth_accounts::verify::{check_recovery, confirm_signup};
use auth_core::{
    AppState,
    accounts::{Purpose, ip_limit::LimitedRoute, schema},
    activity::{ActivityEvent, ActivityOutcome},
    tokens::new_token_id,
};
use auth_http::{
    ApiError, ErrorKey,
    body::{declared_json_body, json_body},
    client::activity_of,
    grant::new_session,
    ip_limit, json_response, respond,
};
use lambda_http::{Body, Error, Request, Response, http::StatusCode};
use serde_json::json;

pub async fn handle(state: &AppState, request: Request) -> Result<Response<Body>, Error> {
    respond(state, &request, ErrorKey::Error, answer(state, &request)).await
}

async fn answer(state: &AppState, request: &Request) -> Result<Response<Body>, ApiError> {
    ip_limit::admit(state, request, LimitedRoute::Verify, ErrorKey::Error).await?;
    // It may set the session cookies: its body must be declared JSON then, as a login's.
    let body = match state.browser().uses_cookies() {
        true => declared_json_body(request)?,
        false => json_body(request)?,
    };
    // A sign-up's confirmation takes the password too; a recovery token's check does not.
    let fields: &[&str] = match body.get("type").and_then(|kind| kind.as_str()) {
        Some("signup") => &["token", "password"],
        _ => &["token"],
    };
    let (purpose, values) = schema::typed_fields(&body, fields).map_err(ApiError::Validation)?;
    let mut values = values.into_iter();
    let token = values.next().unwrap_or_default();
    let refused = |error| ApiError::Account(ErrorKey::Error, error);
    match purpose {
        Purpose::Signup => {
            let password = values.next().unwrap_or_default();
            let user = confirm_signup(state, &token, password)
                .await
                .map_err(refused)?;
            let session_id = new_token_id();
            let answered = new_session(state, request, &user, &session_id, ErrorKey::Error).await;
            // Confirmed whatever became of the session: it names it only if it began.
            let activity = activity_of(request).session(answered.is_ok().then_some(&*session_id));
            state.activity().record(
                &user.username,
                ActivityEvent::SignupConfirmed,
                ActivityOutcome::Succeeded,
                activity,
            );
            answered
        }
        Purpose::Recovery => {
            check_recovery(state, &token).await.map_err(refused)?;
            Ok(json_response(StatusCode::OK, &json!({})))
        }
    }
}

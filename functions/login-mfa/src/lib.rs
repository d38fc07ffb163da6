//! `POST /login/mfa {"mfa_token", "code"}` (or `"recovery_code"` in place of `code`): a login's
//! second step. The `mfa_token` is what `/login` answered a right password of a user with a
//! second factor; with a right code it answers exactly as `/login` does (the token pair in the
//! body, cookies or both), in the session the password step chose, its tokens carrying how
//! the user signed in (`amr`). Codes are checked and spent by `auth_mfa::challenge`.

use auth_core::{
    AppState,
    accounts::ip_limit::LimitedRoute,
    activity::{ActivityEvent, ActivityOutcome, detail},
    claims::AuthMethods,
    metrics::Event,
    mfa::MfaError,
};
use auth_http::{
    ApiError, ErrorKey,
    body::{declared_json_body, json_body},
    client::activity_of,
    grant::{
        granted_response, login_delivery, sign_session, start_session, wait_until_tokens_are_valid,
    },
    ip_limit,
    issuer::tokens_for,
    respond,
};
use lambda_http::{Body, Error, Request, Response};

pub async fn handle(state: &AppState, request: Request) -> Result<Response<Body>, Error> {
    respond(state, &request, ErrorKey::Error, login_mfa(state, &request)).await
}

fn refused(error: MfaError) -> ApiError {
    ApiError::Mfa(ErrorKey::Error, error)
}

async fn login_mfa(state: &AppState, request: &Request) -> Result<Response<Body>, ApiError> {
    let tokens = tokens_for(state, request, ErrorKey::Error)?;
    let browser = state.browser();
    // As `/login`: in cookie mode this sets the session cookies, so the body must be declared
    // JSON (no form can post it cross-site).
    let body = match browser.uses_cookies() {
        true => declared_json_body(request)?,
        false => json_body(request)?,
    };
    let (mut values, answer) = auth_mfa::schema::answer(&body, &["mfa_token"])
        .map_err(|errors| refused(MfaError::Invalid(errors)))?;
    let mfa_token = values.pop().unwrap_or_default();
    ip_limit::admit(state, request, LimitedRoute::Mfa, ErrorKey::Error).await?;
    let source_ip = ip_limit::source_ip(request);
    let passed = auth_mfa::challenge::answer(
        state,
        &mfa_token,
        &answer,
        source_ip.as_deref(),
        &activity_of(request),
    )
    .await
    .map_err(refused)?;
    let now = wait_until_tokens_are_valid(state.clock(), &passed.user).await;
    // The session the password step chose, recorded before any token of it is handed over.
    start_session(
        state,
        request,
        &passed.user,
        &passed.session_id,
        passed.methods,
        now,
    )
    .await
    .map_err(|error| ApiError::Store(ErrorKey::Error, error))?;
    let granted = sign_session(
        &tokens,
        browser,
        &passed.user,
        &passed.session_id,
        passed.methods,
        now,
    )
    .await
    .map_err(|error| ApiError::Signing(ErrorKey::Error, error))?;
    state.record(Event::LoginSucceeded);
    let activity = activity_of(request).session(Some(&passed.session_id));
    let activity = match passed.methods {
        AuthMethods::PasswordAndRecoveryCode => activity.detail(detail::RECOVERY_CODE),
        _ => activity,
    };
    state.activity().record(
        &passed.user.username,
        ActivityEvent::SecondFactor,
        ActivityOutcome::Succeeded,
        activity,
    );
    Ok(granted_response(request, &granted, login_delivery(browser)))
}

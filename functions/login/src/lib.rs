//! `POST /login`: username and password in, an access and a refresh token out, both of a new
//! session: in the JSON body, and in cookie mode (`JWT_TOKEN_LOCATION`) in HttpOnly cookies
//! with their CSRF cookies, as flask-jwt-extended's `set_access_cookies` and
//! `set_refresh_cookies` set them. With cookies only, the body carries no token at all: no
//! script of the page can read one.

use std::time::Duration;

use auth_core::{
    AppState,
    clock::Clock,
    grant::Grant,
    login_schema,
    metrics::Event,
    settings::browser::TokenLocation,
    tokens::{SessionClaims, new_token_id},
    users::{self, User},
};
use auth_http::{
    ApiError, ErrorKey,
    body::{declared_json_body, json_body},
    grant::{Delivery, granted_response},
    issuer::tokens_for,
    respond,
};
use lambda_http::{Body, Error, Request, Response};

/// The body of a login whose tokens went into cookies only.
pub const LOGIN_SUCCESSFUL: &str = "Login successful";

/// The longest login waits for its user's `tokens_valid_after` (normally under a second).
const MAX_WAIT_FOR_VALID_AFTER: Duration = Duration::from_secs(2);

pub async fn handle(state: &AppState, request: Request) -> Result<Response<Body>, Error> {
    respond(state, &request, ErrorKey::Error, login(state, &request)).await
}

async fn login(state: &AppState, request: &Request) -> Result<Response<Body>, ApiError> {
    let tokens = tokens_for(state, request, ErrorKey::Error)?;
    let browser = state.browser();
    // Cookie mode's login sets the session cookies: its body must be declared JSON (login CSRF).
    let body = match browser.uses_cookies() {
        true => declared_json_body(request)?,
        false => json_body(request)?,
    };
    let credentials = login_schema::validate(&body).map_err(ApiError::Validation)?;
    let sessions = state.sessions();
    // The attempt is counted and the user read at once: one round trip. A throttled login's
    // read is thrown away, its password never checked.
    let (admitted, found) = tokio::join!(
        state
            .login_throttle()
            .admit(sessions, &credentials.username, state.clock().unix_secs()),
        state.users().find(&credentials.username)
    );
    admitted?;
    let found = found.map_err(|error| ApiError::Store(ErrorKey::Error, error))?;
    let user = users::check_password(state.passwords(), found, &credentials.password)
        .await
        .ok_or(ApiError::BadCredentials)?;
    if let Err(error) = state
        .login_throttle()
        .succeeded(sessions, &user.username)
        .await
    {
        // The password is proven: refusing the login would punish the user for our outage.
        // The count stays until its window ends, one more attempt of the user's allowance.
        tracing::error!(%error, "could not clear the failed-login count after a login");
    }
    let now = wait_until_tokens_are_valid(state.clock(), &user).await;

    let session_id = new_token_id();
    let granted = tokens
        .grant(&Grant {
            user: &user,
            session: Some(SessionClaims {
                id: &session_id,
                started_at: now,
            }),
            issued_at: now,
            fresh: true,
            refresh_jti: Some(&new_token_id()),
            with_csrf: browser.tokens_carry_csrf(),
        })
        .map_err(|error| ApiError::Signing(ErrorKey::Error, error))?;
    let response = granted_response(
        request,
        &granted,
        Delivery {
            in_body: browser.token_locations.has(TokenLocation::Headers),
            in_cookies: browser.uses_cookies().then_some(&browser.cookies),
            cookie_message: LOGIN_SUCCESSFUL,
        },
    );
    state.record(Event::LoginSucceeded);
    Ok(response)
}

/// A password changed in this very second refuses tokens issued up to its end (`iat` counts
/// whole seconds): a login right after it waits for the next second rather than hand out
/// tokens that would be refused. The time to issue the tokens at.
async fn wait_until_tokens_are_valid(clock: &Clock, user: &User) -> i64 {
    if let Some(after) = user
        .tokens_valid_after
        .and_then(|after| u64::try_from(after).ok())
    {
        let wait = Duration::from_secs(after).saturating_sub(clock.now());
        if !wait.is_zero() {
            clock.sleep(wait.min(MAX_WAIT_FOR_VALID_AFTER)).await;
        }
    }
    clock.unix_secs()
}

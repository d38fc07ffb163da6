//! `POST /login`: username and password in, an access and a refresh token out, both of a new
//! session: in the JSON body, and in cookie mode (`JWT_TOKEN_LOCATION`) in HttpOnly cookies
//! with their CSRF cookies, as flask-jwt-extended's `set_access_cookies` and
//! `set_refresh_cookies` set them. With cookies only, the body carries no token at all: no
//! script of the page can read one.

use std::time::Duration;

use lambda_http::{Body, Error, Request, Response, http::StatusCode};
use serde_json::json;
use shared::{
    AppState,
    claims::TokenKind,
    clock::Clock,
    http::{
        ApiError,
        body::{declared_json_body, json_body},
        cookies::CookieWriter,
        errors::Route,
        issuer::tokens_for,
        json_response, respond,
    },
    login_schema,
    metrics::Event,
    settings::browser::TokenLocation,
    tokens::{SessionClaims, TokenSpec, new_token_id},
    users::{self, User},
};

/// The body of a login whose tokens went into cookies only.
pub const LOGIN_SUCCESSFUL: &str = "Login successful";

/// The longest login waits for its user's `tokens_valid_after` (normally under a second).
const MAX_WAIT_FOR_VALID_AFTER: Duration = Duration::from_secs(2);

pub async fn handle(state: &AppState, request: Request) -> Result<Response<Body>, Error> {
    respond(state, &request, Route::Login, login(state, &request)).await
}

async fn login(state: &AppState, request: &Request) -> Result<Response<Body>, ApiError> {
    let tokens = tokens_for(state, request, Route::Login)?;
    // Cookie mode's login sets the session cookies: its body must be declared JSON (login CSRF).
    let body = match state.browser.uses_cookies() {
        true => declared_json_body(request)?,
        false => json_body(request)?,
    };
    let credentials = login_schema::validate(&body).map_err(ApiError::Validation)?;
    let sessions = state.sessions.as_ref();
    // The attempt is counted and the user read at once: one round trip. A throttled login's
    // read is thrown away, its password never checked.
    let (admitted, found) = tokio::join!(
        state
            .login_throttle
            .admit(sessions, &credentials.username, state.clock.unix_secs()),
        state.users.find(&credentials.username)
    );
    admitted?;
    let found = found.map_err(|error| ApiError::Store(Route::Login, error))?;
    let user = users::check_password(&state.passwords, found, &credentials.password)
        .await
        .ok_or(ApiError::BadCredentials)?;
    if let Err(error) = state
        .login_throttle
        .succeeded(sessions, &user.username)
        .await
    {
        // The password is proven: refusing the login would punish the user for our outage.
        // The count stays until its window ends, one more attempt of the user's allowance.
        tracing::error!(%error, "could not clear the failed-login count after a login");
    }
    let now = wait_until_tokens_are_valid(&state.clock, &user).await;

    let session_id = new_token_id();
    let session = SessionClaims {
        id: &session_id,
        started_at: now,
    };
    let scope = (!user.scopes.is_empty()).then(|| user.scopes.join(" "));
    let issue = |kind, csrf: Option<&str>| {
        tokens
            .issue_spec(&TokenSpec {
                kind,
                subject: &user.username,
                fresh: true,
                issued_at: now,
                jti: &new_token_id(),
                session: Some(session),
                scope: scope.as_deref(),
                csrf,
            })
            .map_err(|error| ApiError::Signing(Route::Login, error))
    };
    let browser = &state.browser;
    let csrf = || browser.tokens_carry_csrf().then(new_token_id);
    let (access_csrf, refresh_csrf) = (csrf(), csrf());
    let access_token = issue(TokenKind::Access, access_csrf.as_deref())?;
    let refresh_token = issue(TokenKind::Refresh, refresh_csrf.as_deref())?;
    let body = if browser.token_locations.has(TokenLocation::Headers) {
        json!({"access_token": access_token, "refresh_token": refresh_token})
    } else {
        json!({"msg": LOGIN_SUCCESSFUL})
    };
    let mut response = json_response(StatusCode::OK, &body);
    if browser.uses_cookies() {
        let cookies = CookieWriter::for_request(request, &browser.cookies);
        cookies.set(
            &mut response,
            TokenKind::Access,
            &access_token,
            access_csrf.as_deref(),
        );
        cookies.set(
            &mut response,
            TokenKind::Refresh,
            &refresh_token,
            refresh_csrf.as_deref(),
        );
    }
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

//! `POST /refresh`: a refresh token in `Authorization: Bearer`, a new (non-fresh) access token
//! out, of the same session. With rotation on, also a new refresh token, and the one presented
//! is spent: presenting it again ends the session.

use lambda_http::{Body, Error, Request, Response, http::StatusCode};
use serde_json::json;
use shared::{
    AppState,
    claims::{TokenKind, VerifiedClaims},
    http::{ApiError, errors::Route, guard::authorized_user, json_response, respond},
    sessions::{Rotation, RotationOutcome},
    tokens::{TokenError, new_token_id, unix_now_secs},
};

pub async fn handle(state: &AppState, request: Request) -> Result<Response<Body>, Error> {
    respond(refresh(state, &request).await)
}

async fn refresh(state: &AppState, request: &Request) -> Result<Response<Body>, ApiError> {
    let (claims, user) = authorized_user(state, request, TokenKind::Refresh).await?;
    let now = unix_now_secs();
    let signing = |error| ApiError::Signing(Route::Token, error);
    let session = claims.session_id();
    let access_token = state
        .tokens
        .issue_at(
            TokenKind::Access,
            &user.username,
            false,
            now,
            &new_token_id(),
            session,
        )
        .map_err(signing)?;
    if !state.rotation.enabled {
        return Ok(json_response(
            StatusCode::OK,
            &json!({"access_token": access_token}),
        ));
    }
    let refresh_jti = rotate(state, &claims, now).await?;
    let refresh_token = state
        .tokens
        .issue_at(
            TokenKind::Refresh,
            &user.username,
            false,
            now,
            &refresh_jti,
            session,
        )
        .map_err(signing)?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"access_token": access_token, "refresh_token": refresh_token}),
    ))
}

/// Spends the presented refresh token, or ends the session on a replay: the id of the refresh
/// token to issue.
async fn rotate(state: &AppState, claims: &VerifiedClaims, now: i64) -> Result<String, ApiError> {
    // A refresh token without an id cannot be spent, so it cannot rotate.
    let presented = claims
        .jti
        .as_deref()
        .ok_or(ApiError::Token(TokenError::MissingClaim("jti")))?;
    let session = claims.session_id().unwrap_or(presented);
    let grace = state.rotation.grace.as_secs() as i64;
    let replacement = new_token_id();
    let rotation = Rotation {
        session,
        presented,
        replacement: &replacement,
        now,
        grace_since: (grace > 0).then(|| now - grace),
        keep_until: state
            .tokens
            .session_outlives(state.tokens.expiry(TokenKind::Refresh, now)),
    };
    match state
        .sessions
        .rotate(&rotation)
        .await
        .map_err(|error| ApiError::StoreUnavailable(Route::Token, error))?
    {
        RotationOutcome::Rotated(refresh_jti) => Ok(refresh_jti),
        RotationOutcome::Reused => {
            // Ids only: never a token.
            tracing::warn!(
                user = %claims.subject,
                session,
                "a spent refresh token was presented again: the session is revoked"
            );
            Err(ApiError::Revoked)
        }
        RotationOutcome::Revoked => Err(ApiError::Revoked),
    }
}

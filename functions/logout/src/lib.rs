//! `POST /logout`: ends what the request holds. An access token (as the bearer) is revoked; a
//! refresh token (in the body as `{"refresh_token": ...}`, or as the bearer) is revoked with its
//! whole session, so that the access tokens it bought stop working too. Both may come at once.
//!
//! A token that is revoked already gets 401 "Token has been revoked" here as at every other
//! route (flask-jwt-extended's blocklist answers so), which tells a client that lost the answer
//! of its first logout all it needs to know.

use lambda_http::{
    Body, Error, Request, Response,
    http::{StatusCode, header::AUTHORIZATION},
};
use serde_json::json;
use shared::{
    AppState,
    claims::{TokenKind, VerifiedClaims},
    http::{
        ApiError,
        bearer::{AuthHeaderError, bearer_token},
        body::json_body,
        errors::Route,
        guard::refuse_revoked,
        json_response, respond,
    },
    logout_schema,
    tokens::TokenError,
};

pub const LOGGED_OUT: &str = "Successfully logged out";

pub async fn handle(state: &AppState, request: Request) -> Result<Response<Body>, Error> {
    respond(logout(state, &request).await)
}

async fn logout(state: &AppState, request: &Request) -> Result<Response<Body>, ApiError> {
    let bearer = match request.headers().get(AUTHORIZATION) {
        None => None,
        Some(_) => Some(bearer_token(request.headers())?),
    };
    let body_token = if has_body(request) {
        logout_schema::validate(&json_body(request)?).map_err(ApiError::Validation)?
    } else {
        None
    };
    if bearer.is_none() && body_token.is_none() {
        return Err(AuthHeaderError::Missing.into());
    }
    // Every token is checked before anything is revoked: a bad one revokes nothing.
    let mut verified = Vec::new();
    if let Some(token) = &bearer {
        verified.push(state.tokens.verify_any(token)?);
    }
    if let Some(token) = &body_token {
        verified.push(state.tokens.verify(token, TokenKind::Refresh)?);
    }
    for claims in &verified {
        // Revocation is by id; a token without one cannot be told apart from others.
        if claims.jti.is_none() {
            return Err(ApiError::Token(TokenError::MissingClaim("jti")));
        }
        refuse_revoked(state, claims).await?;
    }
    for claims in &verified {
        revoke(state, claims).await?;
    }
    Ok(json_response(StatusCode::OK, &json!({"msg": LOGGED_OUT})))
}

/// Revokes the token of `claims` and, for a refresh token, its session.
async fn revoke(state: &AppState, claims: &VerifiedClaims) -> Result<(), ApiError> {
    let jti = claims
        .jti
        .as_deref()
        .ok_or(ApiError::Token(TokenError::MissingClaim("jti")))?;
    let unavailable = |error| ApiError::StoreUnavailable(Route::Token, error);
    let sessions = state.sessions.as_ref();
    sessions
        .revoke_token(jti, claims.expires_at)
        .await
        .map_err(unavailable)?;
    if claims.kind == TokenKind::Refresh {
        let keep_until = state.tokens.session_outlives(claims.expires_at);
        let session = claims.session_id().unwrap_or(jti);
        sessions
            .revoke_session(session, keep_until)
            .await
            .map_err(unavailable)?;
    }
    Ok(())
}

fn has_body(request: &Request) -> bool {
    match request.body() {
        Body::Empty => false,
        Body::Text(text) => !text.trim().is_empty(),
        Body::Binary(bytes) => !bytes.trim_ascii().is_empty(),
        _ => true,
    }
}

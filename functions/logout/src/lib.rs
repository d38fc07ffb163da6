//! `POST /logout`: ends what the request holds. An access token (as the bearer) is revoked; a
//! refresh token (in the body as `{"refresh_token": ...}`, or as the bearer) is revoked with its
//! whole session, so that the access tokens it bought stop working too. Both may come at once.
//!
//! As RFC 7009 section 2.2 has it, revoking a token that is already invalid is not an error:
//! a token that has expired or is revoked already revokes what of it can still be used (an
//! expired refresh token still ends its session, whose other tokens may live on), and the
//! answer is 200. So a client idle past its access token's life logs out with it, and a second
//! logout, or the retry of one that failed half way, answers 200 and completes it. A token
//! that is not ours (malformed, forged, of another algorithm, of the wrong kind in the body)
//! is refused with flask-jwt-extended's error, and then nothing is revoked.

use futures_util::future::join_all;
use lambda_http::{
    Body, Error, Request, Response,
    http::{StatusCode, header::AUTHORIZATION},
};
use serde_json::json;
use shared::{
    AppState,
    claims::TokenKind,
    http::{
        ApiError,
        bearer::{AuthHeaderError, bearer_token},
        body::json_body,
        errors::Route,
        issuer::tokens_for,
        json_response, respond,
    },
    logout_schema,
    tokens::{CheckedToken, TokenError},
};

pub const LOGGED_OUT: &str = "Successfully logged out";

pub async fn handle(state: &AppState, request: Request) -> Result<Response<Body>, Error> {
    respond(state, &request, Route::Token, logout(state, &request)).await
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
    let now = state.clock.now().as_secs_f64();
    let tokens = tokens_for(state, request, Route::Token)?;
    let mut checked = Vec::new();
    if let Some(token) = &bearer {
        checked.push(tokens.check_revocable_at(token, None, now)?);
    }
    if let Some(token) = &body_token {
        checked.push(tokens.check_revocable_at(token, Some(TokenKind::Refresh), now)?);
    }
    let mut revocations = Vec::new();
    for token in &checked {
        for revocation in revocations_of(state, token)? {
            if !revocations.contains(&revocation) {
                revocations.push(revocation);
            }
        }
    }
    // Each revocation can be made again without harm, so they go at once, each is made even
    // if another fails (as much is ended as the store allows), and a retry completes what a
    // failure left undone.
    let results = join_all(
        revocations
            .iter()
            .map(|revocation| revoke(state, revocation)),
    )
    .await;
    for result in results {
        result.map_err(|error| ApiError::Store(Route::Token, error))?;
    }
    Ok(json_response(StatusCode::OK, &json!({"msg": LOGGED_OUT})))
}

/// One record that ends what a token can still do.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Revocation {
    /// The token `jti`, until its `exp`.
    Token { jti: String, expires_at: i64 },
    /// Every token of `session`, whose record lasts until `record_until`.
    Session { id: String, record_until: i64 },
}

/// What of `token` can still be used, and so is to be revoked: the token itself until it
/// expires, and for a refresh token its session as long as any token of it may live.
fn revocations_of(state: &AppState, token: &CheckedToken) -> Result<Vec<Revocation>, ApiError> {
    let claims = &token.claims;
    let now = state.clock.unix_secs();
    let mut revocations = Vec::new();
    if !token.expired {
        // Revocation is by id; a live token without one cannot be told apart from others.
        let jti = claims
            .jti
            .clone()
            .ok_or(ApiError::Token(TokenError::MissingClaim("jti")))?;
        revocations.push(Revocation::Token {
            jti,
            expires_at: claims.expires_at,
        });
    }
    if claims.kind == TokenKind::Refresh {
        let record_until = state.tokens.session_record_until(claims);
        if let Some(id) = claims.session_id()
            && record_until > now
        {
            revocations.push(Revocation::Session {
                id: id.to_owned(),
                record_until,
            });
        }
    }
    Ok(revocations)
}

async fn revoke(
    state: &AppState,
    revocation: &Revocation,
) -> Result<(), shared::store::StoreError> {
    let now = state.clock.unix_secs();
    match revocation {
        Revocation::Token { jti, expires_at } => {
            state.sessions.revoke_token(jti, *expires_at, now).await
        }
        Revocation::Session { id, record_until } => {
            state.sessions.revoke_session(id, *record_until, now).await
        }
    }
}

fn has_body(request: &Request) -> bool {
    match request.body() {
        Body::Empty => false,
        Body::Text(text) => !text.trim().is_empty(),
        Body::Binary(bytes) => !bytes.trim_ascii().is_empty(),
        _ => true,
    }
}

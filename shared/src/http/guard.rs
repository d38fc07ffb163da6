//! The check every token route starts with: a bearer token of the right kind, for a user that exists.

use lambda_http::Request;

use crate::{
    app::AppState,
    claims::{TokenKind, VerifiedClaims},
    http::{ApiError, bearer::bearer_token, errors::Route},
    users::User,
};

/// The verified claims and the stored user behind the request's bearer token.
pub async fn authorized_user(
    state: &AppState,
    request: &Request,
    kind: TokenKind,
) -> Result<(VerifiedClaims, User), ApiError> {
    let token = bearer_token(request.headers())?;
    let claims = state.tokens.verify(&token, kind)?;
    let user = state
        .users
        .find(&claims.subject)
        .await
        .map_err(|error| ApiError::StoreUnavailable(Route::Token, error))?
        .ok_or_else(|| ApiError::UnknownUser(claims.subject.clone()))?;
    Ok((claims, user))
}

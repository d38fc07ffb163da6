//! The check every token route starts with: a bearer token of the right kind, for a user that
//! exists and is not disabled.

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
    if user.disabled {
        return Err(ApiError::DisabledUser);
    }
    Ok((claims, user))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_with_authorization(value: &str) -> Request {
        request("GET", "/profile", &[("authorization", value)], None)
    }

    use crate::{
        http::bearer::AuthHeaderError,
        testing::{request, state},
        tokens::TokenError,
    };

    #[tokio::test]
    async fn returns_claims_and_user_for_a_token_of_the_right_kind() {
        let state = state();
        let token = state
            .tokens
            .issue(TokenKind::Access, "cosmo", true)
            .unwrap();
        let (claims, user) = authorized_user(
            &state,
            &request_with_authorization(&format!("Bearer {token}")),
            TokenKind::Access,
        )
        .await
        .unwrap();
        assert_eq!(
            (claims.subject.as_str(), user.username.as_str()),
            ("cosmo", "cosmo")
        );
    }

    #[tokio::test]
    async fn header_then_token_then_user_are_checked() {
        let state = state();
        let header = authorized_user(
            &state,
            &request_with_authorization("Basic x"),
            TokenKind::Access,
        )
        .await;
        assert!(matches!(
            header,
            Err(ApiError::AuthHeader(AuthHeaderError::NoBearer))
        ));

        let refresh = state
            .tokens
            .issue(TokenKind::Refresh, "ghost", false)
            .unwrap();
        let kind = authorized_user(
            &state,
            &request_with_authorization(&format!("Bearer {refresh}")),
            TokenKind::Access,
        )
        .await;
        assert!(matches!(
            kind,
            Err(ApiError::Token(TokenError::RefreshTokenNotAllowed))
        ));

        let access = state
            .tokens
            .issue(TokenKind::Access, "ghost", true)
            .unwrap();
        let user = authorized_user(
            &state,
            &request_with_authorization(&format!("Bearer {access}")),
            TokenKind::Access,
        )
        .await;
        assert!(matches!(user, Err(ApiError::UnknownUser(name)) if name == "ghost"));
    }
}

//! The check every token route starts with: a token of the right kind (a bearer, or a cookie
//! with its CSRF proof), not revoked, for a user that exists, is not disabled, and has not
//! ended their sessions since it was issued.

use auth_core::{
    AppState,
    accounts::AccountError,
    claims::{TokenKind, VerifiedClaims},
    users::User,
};
use lambda_http::Request;

use crate::{
    csrf::check_csrf,
    errors::{ApiError, ErrorKey},
    issuer::tokens_for,
    presented::{Carrier, presented_token},
};

/// The verified claims and the stored user behind the request's bearer token.
pub async fn authorized_user(
    state: &AppState,
    request: &Request,
    kind: TokenKind,
) -> Result<(VerifiedClaims, User), ApiError> {
    let claims = verified_claims(state, request, kind)?;
    let user = state.user_of(&claims).await?;
    Ok((claims, user))
}

/// `authorized_user` for a route that needs a fresh access token (straight from a login, not a
/// refresh: flask-jwt-extended's `fresh` claim): any other gets `401 Fresh token required`.
pub async fn fresh_user(
    state: &AppState,
    request: &Request,
) -> Result<(VerifiedClaims, User), ApiError> {
    let (claims, user) = authorized_user(state, request, TokenKind::Access).await?;
    if !claims.fresh {
        return Err(ApiError::Account(ErrorKey::Msg, AccountError::NotFresh));
    }
    Ok((claims, user))
}

/// The claims of the request's token, which must be of `kind`: its signature, algorithm and
/// times checked, and for a cookie token of a state-changing request its CSRF proof. No store
/// is asked.
pub fn verified_claims(
    state: &AppState,
    request: &Request,
    kind: TokenKind,
) -> Result<VerifiedClaims, ApiError> {
    verified_token(state, request, kind).map(|(claims, _)| claims)
}

/// `verified_claims`, and where the token came from: a refreshed token goes back there.
pub fn verified_token(
    state: &AppState,
    request: &Request,
    kind: TokenKind,
) -> Result<(VerifiedClaims, Carrier), ApiError> {
    let presented = presented_token(request, state.browser(), kind)?;
    let checked = tokens_for(state, request, ErrorKey::Msg)?.check_revocable_at(
        &presented.token,
        None,
        state.clock().now().as_secs_f64(),
    )?;
    // After the signature, before the expiry and the kind, as flask-jwt-extended checks it.
    check_csrf(&checked.claims, presented.csrf_sent.as_deref())?;
    Ok((checked.verified(kind)?, presented.carrier))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_with_authorization(value: &str) -> Request {
        request("GET", "/profile", &[("authorization", value)], None)
    }

    use auth_core::tokens::{SessionClaims, TokenError, new_token_id};
    use auth_testkit::{IssueNow, request, state};

    use crate::bearer::AuthHeaderError;

    /// An access token for cosmo in `session`.
    fn issue_in_session(state: &AppState, session: &str) -> String {
        let now = state.clock().unix_secs();
        let session = SessionClaims {
            id: session,
            started_at: now,
            methods: None,
        };
        state
            .tokens()
            .issue_at(
                TokenKind::Access,
                "cosmo",
                true,
                now,
                &new_token_id(),
                Some(session),
            )
            .unwrap()
    }

    #[tokio::test]
    async fn returns_claims_and_user_for_a_token_of_the_right_kind() {
        let state = state();
        let token = state
            .tokens()
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
            .tokens()
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
            .tokens()
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

    #[tokio::test]
    async fn a_revoked_token_is_refused_and_another_of_its_session_is_not() {
        let state = state();
        let issue = || issue_in_session(&state, "session-2");
        let (revoked, other) = (issue(), issue());
        let claims = state.tokens().verify(&revoked, TokenKind::Access).unwrap();
        state
            .sessions()
            .revoke_token(
                claims.jti.as_deref().unwrap(),
                claims.expires_at,
                state.clock().unix_secs(),
            )
            .await
            .unwrap();
        let check = |token: &str| {
            let request = request_with_authorization(&format!("Bearer {token}"));
            let state = &state;
            async move { authorized_user(state, &request, TokenKind::Access).await }
        };
        assert!(matches!(check(&revoked).await, Err(ApiError::Revoked)));
        assert!(check(&other).await.is_ok());
    }

    #[tokio::test]
    async fn a_revoked_token_or_session_is_refused() {
        let state = state();
        let token = issue_in_session(&state, "session-1");
        let claims = state.tokens().verify(&token, TokenKind::Access).unwrap();
        let request = request_with_authorization(&format!("Bearer {token}"));
        let check = || authorized_user(&state, &request, TokenKind::Access);
        assert!(check().await.is_ok());
        state
            .sessions()
            .revoke_session("session-1", claims.expires_at, state.clock().unix_secs())
            .await
            .unwrap();
        assert!(matches!(check().await, Err(ApiError::Revoked)));
    }
}

//! What a login or a refresh hands out: a new access token and, when the session gets one, a
//! new refresh token, both of one session, issued at one time, with the user's scopes as they
//! stand, and each with its CSRF value when tokens travel in cookies.

use crate::{
    claims::TokenKind,
    tokens::{SessionClaims, SigningError, TokenService, TokenSpec, new_token_id},
    users::User,
};

/// The tokens to issue.
#[derive(Debug, Clone, Copy)]
pub struct Grant<'a> {
    pub user: &'a User,
    /// The session the tokens belong to: a new one at a login; at a refresh the presented
    /// token's, if it names one (flask-jwt-extended's tokens do not).
    pub session: Option<SessionClaims<'a>>,
    pub issued_at: i64,
    /// Whether the access token is fresh: from a password just checked, not from a refresh.
    pub fresh: bool,
    /// The id of the refresh token to issue; none: the access token alone.
    pub refresh_jti: Option<&'a str>,
    /// Whether the tokens travel in cookies, and so carry a CSRF value to double-submit.
    pub with_csrf: bool,
}

/// One issued token, and the CSRF value its `csrf` claim holds, if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub token: String,
    pub csrf: Option<String>,
}

/// What a grant issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantedTokens {
    pub access: IssuedToken,
    pub refresh: Option<IssuedToken>,
}

impl TokenService {
    /// Issues the tokens of `grant`. The user's scopes go into the access token as they stand
    /// now: a scope revoked since the login is gone from the next access token.
    pub fn grant(&self, grant: &Grant<'_>) -> Result<GrantedTokens, SigningError> {
        let scope = (!grant.user.scopes.is_empty()).then(|| grant.user.scopes.join(" "));
        let issue = |kind, jti: &str| -> Result<IssuedToken, SigningError> {
            let csrf = grant.with_csrf.then(new_token_id);
            let token = self.issue_spec(&TokenSpec {
                kind,
                subject: &grant.user.username,
                fresh: grant.fresh,
                issued_at: grant.issued_at,
                jti,
                session: grant.session,
                scope: scope.as_deref(),
                csrf: csrf.as_deref(),
            })?;
            Ok(IssuedToken { token, csrf })
        };
        Ok(GrantedTokens {
            access: issue(TokenKind::Access, &new_token_id())?,
            refresh: grant
                .refresh_jti
                .map(|jti| issue(TokenKind::Refresh, jti))
                .transpose()?,
        })
    }
}

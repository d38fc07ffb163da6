//! What a login or a refresh hands out: a new access token and, when the session gets one, a
//! new refresh token, both of one session, issued at one time, with the user's scopes as they
//! stand, and each with its CSRF value when tokens travel in cookies.

use crate::{
    claims::{AuthMethods, TokenKind},
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
    /// now: a scope revoked since the login is gone from the next access token. The two are
    /// signed at once: with a key in KMS, each signature is a request.
    pub async fn grant(&self, grant: &Grant<'_>) -> Result<GrantedTokens, SigningError> {
        // A session that passed a second factor carries `MFA_SCOPE` too, for a JWT authorizer
        // (which reads no store) to require one on a route; any other never does, even for a
        // user granted a scope of that name.
        let mut scopes: Vec<&str> = grant.user.scopes.iter().map(String::as_str).collect();
        if let Some(mfa_scope) = self.mfa_scope() {
            scopes.retain(|scope| *scope != mfa_scope);
            if grant
                .session
                .and_then(|session| session.methods)
                .is_some_and(AuthMethods::has_second_factor)
            {
                scopes.push(mfa_scope);
            }
        }
        let scope = (!scopes.is_empty()).then(|| scopes.join(" "));
        let issue = async |kind, jti: &str| -> Result<IssuedToken, SigningError> {
            let csrf = grant.with_csrf.then(new_token_id);
            let token = self
                .issue_spec(&TokenSpec {
                    kind,
                    subject: &grant.user.username,
                    fresh: grant.fresh,
                    issued_at: grant.issued_at,
                    jti,
                    session: grant.session,
                    scope: scope.as_deref(),
                    csrf: csrf.as_deref(),
                })
                .await?;
            Ok(IssuedToken { token, csrf })
        };
        let access_jti = new_token_id();
        let refresh = async {
            match grant.refresh_jti {
                Some(jti) => issue(TokenKind::Refresh, jti).await.map(Some),
                None => Ok(None),
            }
        };
        let (access, refresh) = tokio::try_join!(issue(TokenKind::Access, &access_jti), refresh)?;
        Ok(GrantedTokens { access, refresh })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        claims::VerifiedClaims,
        settings::{SECRET_KEY_VAR, Settings},
        users::InMemoryUserStore,
    };

    const NOW: i64 = 1_800_000_000;

    fn tokens() -> TokenService {
        let settings = Settings::from_lookup(|name| {
            (name == SECRET_KEY_VAR).then(|| "grant-tests-secret-0123456789abcdef".to_owned())
        })
        .unwrap();
        TokenService::new(&settings).unwrap()
    }

    fn verified(tokens: &TokenService, token: &str, kind: TokenKind) -> VerifiedClaims {
        tokens.verify_at(token, kind, NOW as f64).unwrap()
    }

    #[tokio::test]
    async fn a_login_grants_a_fresh_access_token_and_a_refresh_token_of_one_session() {
        let tokens = tokens();
        let user = User {
            scopes: vec!["read".to_owned(), "write".to_owned()],
            ..InMemoryUserStore::demo_user()
        };
        let granted = tokens
            .grant(&Grant {
                user: &user,
                session: Some(SessionClaims {
                    id: "s-1",
                    started_at: NOW - 5,
                    methods: None,
                }),
                issued_at: NOW,
                fresh: true,
                refresh_jti: Some("r-1"),
                with_csrf: false,
            })
            .await
            .unwrap();
        let access = verified(&tokens, &granted.access.token, TokenKind::Access);
        let refresh_token = granted.refresh.as_ref().unwrap();
        let refresh = verified(&tokens, &refresh_token.token, TokenKind::Refresh);
        assert!(access.fresh && !refresh.fresh);
        assert_eq!(access.scope.as_deref(), Some("read write"));
        assert_eq!(refresh.scope, None);
        assert_eq!(refresh.jti.as_deref(), Some("r-1"));
        assert_ne!(access.jti, refresh.jti);
        for claims in [&access, &refresh] {
            assert_eq!(claims.subject, "cosmo");
            assert_eq!(claims.session.as_deref(), Some("s-1"));
            assert_eq!(claims.auth_time, Some(NOW - 5));
            assert_eq!(claims.issued_at, Some(NOW));
            assert_eq!(claims.csrf, None);
        }
        assert_eq!(
            (granted.access.csrf.as_ref(), refresh_token.csrf.as_ref()),
            (None, None)
        );
    }

    #[tokio::test]
    async fn without_a_refresh_id_only_an_access_token_and_in_cookies_each_has_its_own_csrf() {
        let tokens = tokens();
        let user = InMemoryUserStore::demo_user();
        let grant = |refresh_jti| Grant {
            user: &user,
            session: None,
            issued_at: NOW,
            fresh: false,
            refresh_jti,
            with_csrf: true,
        };
        let access_only = tokens.grant(&grant(None)).await.unwrap();
        assert_eq!(access_only.refresh, None);
        let access = verified(&tokens, &access_only.access.token, TokenKind::Access);
        assert!(!access.fresh);
        assert_eq!(
            access.scope, None,
            "a user without scopes gets no scope claim"
        );
        assert_eq!(access.csrf, access_only.access.csrf);
        assert!(access.csrf.is_some());

        let both = tokens.grant(&grant(Some("r-2"))).await.unwrap();
        let refresh = both.refresh.unwrap();
        let claims = verified(&tokens, &refresh.token, TokenKind::Refresh);
        assert_eq!(claims.csrf, refresh.csrf);
        assert!(refresh.csrf.is_some());
        assert_ne!(refresh.csrf, both.access.csrf);
    }
}

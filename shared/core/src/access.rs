//! The decision every token route and the authorizer make once a token's signature and times
//! check out: is its user still allowed in? Not if the token or its session is revoked, the
//! user is gone or disabled, or the user has ended their sessions since the token was issued.
//! The HTTP layer turns a refusal into its answer; the authorizer into a denial.

use crate::{
    claims::VerifiedClaims,
    lookup::{TokenLookup, TokenQuery, TokenRecords},
    metrics::Event,
    store::StoreError,
    users::User,
};

/// Why a valid token does not let its user in.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// Logged out, of a session that ended, or issued before its user's last password change.
    #[error("revoked token")]
    Revoked,
    /// The store does not have the token's user (any more).
    #[error("token for an unknown user")]
    UnknownUser(String),
    /// An operator has disabled the user.
    #[error("token for a disabled user")]
    Disabled,
    /// The store did not answer: nothing is known, so nobody is let in.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Refusal {
    /// The security event this refusal is, if it is one an operator counts.
    pub fn event(&self) -> Option<Event> {
        match self {
            Refusal::Revoked => Some(Event::RevokedTokenPresented),
            Refusal::Store(StoreError::Unavailable(_)) => Some(Event::StoreUnavailable),
            _ => None,
        }
    }
}

/// The user behind `claims` at `now` (seconds since the epoch), if the token and its session
/// are not revoked and its user exists, is enabled and has not ended their sessions since the
/// token was issued: one lookup of both stores (one round trip over DynamoDB).
pub async fn user_of(
    lookup: &dyn TokenLookup,
    claims: &VerifiedClaims,
    now: i64,
) -> Result<User, Refusal> {
    let query = TokenQuery {
        username: &claims.subject,
        jti: claims.jti.as_deref(),
        session: claims.session_id(),
        now,
    };
    // flask-jwt-extended's order: the blocklist, then the user.
    let user = match lookup.look_up(&query).await? {
        TokenRecords::Revoked => return Err(Refusal::Revoked),
        TokenRecords::Live(user) => {
            user.ok_or_else(|| Refusal::UnknownUser(claims.subject.clone()))?
        }
    };
    if user.disabled {
        return Err(Refusal::Disabled);
    }
    if user.outlived_in(claims.issued_at, claims.session_id()) {
        return Err(Refusal::Revoked);
    }
    Ok(user)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{
        claims::TokenKind,
        lookup::SeparateLookup,
        sessions::{InMemorySessionStore, SessionStore},
        users::InMemoryUserStore,
    };

    const NOW: i64 = 1_800_000_000;

    fn claims(subject: &str, issued_at: Option<i64>) -> VerifiedClaims {
        VerifiedClaims {
            subject: subject.to_owned(),
            kind: TokenKind::Access,
            jti: Some("jti-1".to_owned()),
            expires_at: NOW + 900,
            issued_at,
            session: Some("session-1".to_owned()),
            auth_time: issued_at,
            amr: None,
            scope: None,
            fresh: false,
            csrf: None,
        }
    }

    /// The demo user (`cosmo`), changed by `change`, over fresh in-memory stores.
    fn lookup_with(change: impl FnOnce(&mut User)) -> (SeparateLookup, Arc<InMemorySessionStore>) {
        let users = InMemoryUserStore::demo();
        users.update("cosmo", change);
        let sessions = Arc::new(InMemorySessionStore::default());
        (
            SeparateLookup::new(Arc::new(users), sessions.clone()),
            sessions,
        )
    }

    #[tokio::test]
    async fn a_live_token_of_an_enabled_user_lets_the_user_in() {
        let (lookup, _) = lookup_with(|_| {});
        let user = user_of(&lookup, &claims("cosmo", Some(NOW)), NOW)
            .await
            .unwrap();
        assert_eq!(user.username, "cosmo");
    }

    #[tokio::test]
    async fn revoked_unknown_disabled_and_outlived_are_refused_each_as_itself() {
        let (lookup, sessions) = lookup_with(|_| {});
        sessions
            .revoke_token("jti-1", NOW + 900, NOW)
            .await
            .unwrap();
        let refusal = user_of(&lookup, &claims("cosmo", Some(NOW)), NOW).await;
        assert!(matches!(refusal, Err(Refusal::Revoked)), "{refusal:?}");

        let (lookup, sessions) = lookup_with(|_| {});
        sessions
            .revoke_session("session-1", NOW + 900, NOW)
            .await
            .unwrap();
        let refusal = user_of(&lookup, &claims("cosmo", Some(NOW)), NOW).await;
        assert!(matches!(refusal, Err(Refusal::Revoked)), "{refusal:?}");

        let (lookup, _) = lookup_with(|_| {});
        let refusal = user_of(&lookup, &claims("ghost", Some(NOW)), NOW).await;
        assert!(matches!(refusal, Err(Refusal::UnknownUser(name)) if name == "ghost"));

        let (lookup, _) = lookup_with(|user| user.disabled = true);
        let refusal = user_of(&lookup, &claims("cosmo", Some(NOW)), NOW).await;
        assert!(matches!(refusal, Err(Refusal::Disabled)), "{refusal:?}");

        let (lookup, _) = lookup_with(|user| user.tokens_valid_after = Some(NOW + 1));
        let refusal = user_of(&lookup, &claims("cosmo", Some(NOW)), NOW).await;
        assert!(matches!(refusal, Err(Refusal::Revoked)), "{refusal:?}");
    }

    #[test]
    fn a_revoked_token_and_an_unavailable_store_are_the_events_an_operator_counts() {
        assert_eq!(Refusal::Revoked.event(), Some(Event::RevokedTokenPresented));
        let down = Refusal::Store(StoreError::unavailable("connection refused"));
        assert_eq!(down.event(), Some(Event::StoreUnavailable));
        let bug = Refusal::Store(StoreError::Rejected {
            operation: "GetItem",
            detail: "ValidationException".to_owned(),
        });
        for refusal in [
            Refusal::UnknownUser("ghost".to_owned()),
            Refusal::Disabled,
            bug,
        ] {
            assert_eq!(refusal.event(), None, "{refusal:?}");
        }
    }
}

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
    if user.outlived(claims.issued_at) {
        return Err(Refusal::Revoked);
    }
    Ok(user)
}

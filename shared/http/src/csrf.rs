//! The CSRF double submit of cookie mode, as flask-jwt-extended checks it: a cookie token of a
//! state-changing request must come with `X-CSRF-TOKEN`, equal to the token's `csrf` claim,
//! which only a page of the API's own site can read (from its readable CSRF cookie).

use auth_core::{claims::VerifiedClaims, settings::browser::BrowserSettings};
use lambda_http::{Request, http::Method};
use subtle::ConstantTimeEq;

use crate::cookies::CSRF_HEADER;

/// Why a cookie token's request is not proven to come from a page of the API's own site.
/// `Display` is flask-jwt-extended's `msg`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsrfError {
    #[error("Missing CSRF token")]
    Missing,
    #[error("CSRF double submit tokens do not match")]
    Mismatch,
    /// A CSRF value was sent with a token that has no `csrf` claim to match it (a header token
    /// dropped into a cookie): nothing can prove it.
    #[error("Missing claim: csrf")]
    NoClaim,
}

/// flask-jwt-extended's `JWT_CSRF_METHODS`: the requests a cookie token needs a CSRF proof for.
pub fn needs_csrf_proof(method: &Method) -> bool {
    [Method::POST, Method::PUT, Method::PATCH, Method::DELETE].contains(method)
}

/// The request's `X-CSRF-TOKEN`, if it needs one; `Missing CSRF token` if it needs one and has
/// none.
pub fn csrf_proof(
    request: &Request,
    browser: &BrowserSettings,
) -> Result<Option<String>, CsrfError> {
    if !browser.cookies.csrf_protect || !needs_csrf_proof(request.method()) {
        return Ok(None);
    }
    request
        .headers()
        .get(CSRF_HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|value| !value.is_empty())
        .map(|value| Some(value.to_owned()))
        .ok_or(CsrfError::Missing)
}

/// Whether `claims` (of a token whose signature is checked, expired or not, of any kind: the
/// CSRF value is compared first, as flask-jwt-extended compares it while decoding) match the
/// CSRF value sent with them, compared in constant time:
/// a token without a `csrf` claim cannot be proven (`Missing claim: csrf`, 422), another value
/// is refused (401).
pub fn check_csrf(claims: &VerifiedClaims, csrf_sent: Option<&str>) -> Result<(), CsrfError> {
    let Some(sent) = csrf_sent else {
        return Ok(());
    };
    let claim = claims.csrf.as_deref().ok_or(CsrfError::NoClaim)?;
    if bool::from(claim.as_bytes().ct_eq(sent.as_bytes())) {
        Ok(())
    } else {
        Err(CsrfError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::claims::TokenKind;

    #[test]
    fn csrf_claims_must_equal_the_value_sent() {
        let claims = |csrf: Option<&str>| VerifiedClaims {
            subject: "cosmo".to_owned(),
            kind: TokenKind::Access,
            jti: None,
            expires_at: 0,
            issued_at: None,
            session: None,
            auth_time: None,
            amr: None,
            scope: None,
            fresh: false,
            csrf: csrf.map(str::to_owned),
        };
        assert!(check_csrf(&claims(Some("c")), Some("c")).is_ok());
        assert!(check_csrf(&claims(None), None).is_ok());
        assert_eq!(
            check_csrf(&claims(Some("c")), Some("d")),
            Err(CsrfError::Mismatch)
        );
        assert_eq!(
            check_csrf(&claims(Some("c")), Some("cc")),
            Err(CsrfError::Mismatch)
        );
        assert_eq!(
            check_csrf(&claims(None), Some("c")),
            Err(CsrfError::NoClaim)
        );
    }
}

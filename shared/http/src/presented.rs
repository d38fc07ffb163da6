//! The token a request presents, looked for where `JWT_TOKEN_LOCATION` says and in its order,
//! exactly as flask-jwt-extended 4.7 looks: a location without a token passes the search on to
//! the next; a malformed `Authorization` header, or a cookie token on a state-changing request
//! without its CSRF header, ends it with that error.

use auth_core::{
    claims::TokenKind,
    settings::browser::{BrowserSettings, TokenLocation},
};
use lambda_http::{Request, http::HeaderMap};

use crate::{
    bearer::{AuthHeaderError, bearer_token},
    cookies::{request_cookie, token_cookie},
    csrf::{CsrfError, csrf_proof},
};

/// No token in any place searched: flask-jwt-extended's `NoAuthorizationError` message,
/// `Missing cookie "access_token_cookie"`, or for several places
/// `Missing JWT in headers or cookies (...; ...)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NoToken(pub String);

/// Why the request presents no token to check. `Display` is flask-jwt-extended's `msg`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotPresented {
    /// The `Authorization` header holds no bearer token (the one place searched), or a
    /// malformed one (which ends any search).
    #[error(transparent)]
    Header(#[from] AuthHeaderError),
    /// No token in the cookie, or in any of several places.
    #[error(transparent)]
    Missing(#[from] NoToken),
    /// A cookie token of a state-changing request without its CSRF header (which ends any
    /// search).
    #[error(transparent)]
    Csrf(#[from] CsrfError),
}

/// Where the token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    Header,
    Cookie,
}

/// A token as the request presents it, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedToken {
    pub token: String,
    pub carrier: Carrier,
    /// The `X-CSRF-TOKEN` a cookie token of a state-changing request came with, which its
    /// `csrf` claim must equal (`check_csrf`). None where no proof is asked for.
    pub csrf_sent: Option<String>,
}

/// The token of `kind` the request presents: the bearer of `Authorization`, or the cookie of
/// `kind` (with the CSRF proof a state-changing request needs), whichever configured location
/// holds one first.
pub fn presented_token(
    request: &Request,
    browser: &BrowserSettings,
    kind: TokenKind,
) -> Result<PresentedToken, NotPresented> {
    let mut missing = Vec::new();
    for location in browser.token_locations.iter() {
        let found = match location {
            TokenLocation::Headers => from_header(request.headers())?,
            TokenLocation::Cookies => from_cookie(request, browser, kind)?,
        };
        match found {
            Ok(token) => return Ok(token),
            Err(error) => missing.push(error),
        }
    }
    Err(no_token(browser, missing))
}

/// What to answer when no location held a token: the one location's own error (the header's
/// stays the `AuthHeaderError` it always was), or all of them in one message.
pub fn no_token(browser: &BrowserSettings, mut missing: Vec<NotPresented>) -> NotPresented {
    if missing.len() == 1 {
        return missing.remove(0);
    }
    let locations: Vec<&str> = browser
        .token_locations
        .iter()
        .map(TokenLocation::name)
        .collect();
    let (last, first) = locations.split_last().unwrap_or((&"", &[]));
    let details: Vec<String> = missing.iter().map(NotPresented::to_string).collect();
    NotPresented::Missing(NoToken(format!(
        "Missing JWT in {} or {last} ({})",
        first.join(", "),
        details.join("; ")
    )))
}

/// `Ok(Err(_))` when the header holds no bearer token (the search goes on), `Err` when it is
/// malformed (the search ends).
fn from_header(headers: &HeaderMap) -> Result<Result<PresentedToken, NotPresented>, NotPresented> {
    match bearer_token(headers) {
        Ok(token) => Ok(Ok(PresentedToken {
            token,
            carrier: Carrier::Header,
            csrf_sent: None,
        })),
        Err(error @ (AuthHeaderError::Missing | AuthHeaderError::NoBearer)) => {
            Ok(Err(error.into()))
        }
        Err(error @ AuthHeaderError::Malformed) => Err(error.into()),
    }
}

fn from_cookie(
    request: &Request,
    browser: &BrowserSettings,
    kind: TokenKind,
) -> Result<Result<PresentedToken, NotPresented>, NotPresented> {
    let name = token_cookie(kind);
    let Some(token) = request_cookie(request.headers(), name) else {
        return Ok(Err(NotPresented::Missing(NoToken(format!(
            "Missing cookie \"{name}\""
        )))));
    };
    let csrf_sent = csrf_proof(request, browser)?;
    Ok(Ok(PresentedToken {
        token,
        carrier: Carrier::Cookie,
        csrf_sent,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    use auth_core::settings::browser::{COOKIE_CSRF_PROTECT_VAR, TOKEN_LOCATION_VAR};
    use auth_testkit::{request, settings_with};

    fn browser(locations: &str) -> BrowserSettings {
        settings_with(&[(TOKEN_LOCATION_VAR, locations)]).browser
    }

    fn message(result: Result<PresentedToken, NotPresented>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn headers_only_keeps_the_header_errors_of_before() {
        let browser = browser("headers");
        let bare = request(
            "GET",
            "/profile",
            &[("cookie", "access_token_cookie=t")],
            None,
        );
        assert!(matches!(
            presented_token(&bare, &browser, TokenKind::Access),
            Err(NotPresented::Header(AuthHeaderError::Missing))
        ));
        let basic = request("GET", "/profile", &[("authorization", "Basic x")], None);
        assert!(matches!(
            presented_token(&basic, &browser, TokenKind::Access),
            Err(NotPresented::Header(AuthHeaderError::NoBearer))
        ));
    }

    #[test]
    fn cookies_only_reads_the_cookie_of_the_kind_asked_for() {
        let browser = browser("cookies");
        let cookies = "access_token_cookie=a; refresh_token_cookie=r";
        let get = request("GET", "/profile", &[("cookie", cookies)], None);
        let access = presented_token(&get, &browser, TokenKind::Access).unwrap();
        assert_eq!(
            (access.token.as_str(), access.carrier, access.csrf_sent),
            ("a", Carrier::Cookie, None)
        );
        let bearer_only = request("GET", "/profile", &[("authorization", "Bearer h")], None);
        assert_eq!(
            message(presented_token(&bearer_only, &browser, TokenKind::Access)),
            r#"Missing cookie "access_token_cookie""#
        );
        let post = request(
            "POST",
            "/refresh",
            &[("cookie", "access_token_cookie=a"), ("x-csrf-token", "c")],
            None,
        );
        assert_eq!(
            message(presented_token(&post, &browser, TokenKind::Refresh)),
            r#"Missing cookie "refresh_token_cookie""#
        );
    }

    #[test]
    fn a_state_changing_cookie_request_needs_the_csrf_header_unless_protection_is_off() {
        let browser = browser("cookies");
        for method in ["POST", "PUT", "PATCH", "DELETE"] {
            let bare = request(
                method,
                "/logout",
                &[("cookie", "access_token_cookie=a")],
                None,
            );
            assert!(
                matches!(
                    presented_token(&bare, &browser, TokenKind::Access),
                    Err(NotPresented::Csrf(CsrfError::Missing))
                ),
                "{method}"
            );
        }
        let proven = request(
            "POST",
            "/logout",
            &[("cookie", "access_token_cookie=a"), ("x-csrf-token", "c")],
            None,
        );
        assert_eq!(
            presented_token(&proven, &browser, TokenKind::Access)
                .unwrap()
                .csrf_sent
                .as_deref(),
            Some("c")
        );
        let unprotected = settings_with(&[
            (TOKEN_LOCATION_VAR, "cookies"),
            (COOKIE_CSRF_PROTECT_VAR, "false"),
        ])
        .browser;
        let bare = request(
            "POST",
            "/logout",
            &[("cookie", "access_token_cookie=a")],
            None,
        );
        assert_eq!(
            presented_token(&bare, &unprotected, TokenKind::Access)
                .unwrap()
                .csrf_sent,
            None
        );
    }

    #[test]
    fn several_locations_are_searched_in_order_and_all_named_when_empty() {
        let both = browser("headers,cookies");
        let cookie = request(
            "GET",
            "/profile",
            &[("cookie", "access_token_cookie=a")],
            None,
        );
        assert_eq!(
            presented_token(&cookie, &both, TokenKind::Access)
                .unwrap()
                .carrier,
            Carrier::Cookie
        );
        let both_sent = request(
            "GET",
            "/profile",
            &[
                ("cookie", "access_token_cookie=a"),
                ("authorization", "Bearer h"),
            ],
            None,
        );
        assert_eq!(
            presented_token(&both_sent, &both, TokenKind::Access)
                .unwrap()
                .token,
            "h"
        );
        assert_eq!(
            presented_token(&both_sent, &browser("cookies,headers"), TokenKind::Access)
                .unwrap()
                .token,
            "a"
        );
        let nothing = request("GET", "/profile", &[("authorization", "Basic x")], None);
        assert_eq!(
            message(presented_token(&nothing, &both, TokenKind::Access)),
            "Missing JWT in headers or cookies (Missing 'Bearer' type in 'Authorization' header. \
             Expected 'Authorization: Bearer <JWT>'; Missing cookie \"access_token_cookie\")"
        );
        assert_eq!(
            message(presented_token(
                &request("GET", "/profile", &[], None),
                &browser("cookies,headers"),
                TokenKind::Access
            )),
            "Missing JWT in cookies or headers (Missing cookie \"access_token_cookie\"; \
             Missing Authorization Header)"
        );
    }

    #[test]
    fn a_malformed_header_or_a_cookie_without_its_csrf_ends_the_search() {
        let both = browser("headers,cookies");
        let malformed = request(
            "GET",
            "/profile",
            &[
                ("authorization", "Bearer a b"),
                ("cookie", "access_token_cookie=a"),
            ],
            None,
        );
        assert!(matches!(
            presented_token(&malformed, &both, TokenKind::Access),
            Err(NotPresented::Header(AuthHeaderError::Malformed))
        ));
        let unproven = request(
            "POST",
            "/logout",
            &[
                ("cookie", "access_token_cookie=a"),
                ("authorization", "Bearer h"),
            ],
            None,
        );
        assert!(matches!(
            presented_token(&unproven, &browser("cookies,headers"), TokenKind::Access),
            Err(NotPresented::Csrf(CsrfError::Missing))
        ));
    }
}

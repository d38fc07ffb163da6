//! Tokens in cookies, named and set as flask-jwt-extended's cookie mode names and sets them, so
//! a browser app written for it works unchanged: an HttpOnly cookie per token, which no script
//! can read, and beside it a readable CSRF cookie holding the token's `csrf` claim, which the
//! page sends back in `X-CSRF-TOKEN` (double submit).
//!
//! Through API Gateway (payload 2.0) request cookies arrive in the event's `cookies` array and
//! lambda_http turns them into a `Cookie` header; each `Set-Cookie` of a response goes back in
//! the `cookies` array of the reply.

use auth_core::{
    claims::TokenKind,
    settings::browser::{CookiePolicy, SameSite},
};
use cookie::{
    Cookie,
    time::{Duration, OffsetDateTime},
};
use lambda_http::{
    Body, Request, Response,
    http::{
        HeaderMap, HeaderValue,
        header::{COOKIE, SET_COOKIE},
    },
};

use crate::location::base_path;

pub const ACCESS_COOKIE: &str = "access_token_cookie";
pub const REFRESH_COOKIE: &str = "refresh_token_cookie";
pub const ACCESS_CSRF_COOKIE: &str = "csrf_access_token";
pub const REFRESH_CSRF_COOKIE: &str = "csrf_refresh_token";
/// Where a cookie token's CSRF value comes back, for either kind (flask-jwt-extended's
/// `JWT_ACCESS_CSRF_HEADER_NAME` and `JWT_REFRESH_CSRF_HEADER_NAME`).
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The cookie of a device proof (`auth_core::device_proof`), sent back to `/login` alone.
pub const DEVICE_PROOF_COOKIE: &str = "login_proof";

/// The cookie that carries a token of `kind`.
pub fn token_cookie(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::Access => ACCESS_COOKIE,
        TokenKind::Refresh => REFRESH_COOKIE,
    }
}

/// The readable cookie that carries the `csrf` claim of the token of `kind`.
pub fn csrf_cookie(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::Access => ACCESS_CSRF_COOKIE,
        TokenKind::Refresh => REFRESH_CSRF_COOKIE,
    }
}

/// The value of the request's cookie `name`: the first one sent, as Flask reads it (a browser
/// sends the cookie of the longest matching path first), without the double quotes a value may
/// be sent in. An empty value counts as none.
pub fn request_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value_trimmed().to_owned())
        .filter(|value| !value.is_empty())
}

/// Where the token cookies of a request's answer go: the access cookie to the whole API, the
/// refresh cookie only to where it is taken (`JWT_REFRESH_COOKIE_PATH`, or `/refresh` under the
/// path the API was reached at: a stage or an API mapping key). The CSRF cookies go to `/`, so
/// that the page can read them from wherever it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookiePaths {
    pub access: String,
    pub refresh: String,
    /// Where the device proof goes: `/login` under the path the API was reached at.
    pub login: String,
}

impl CookiePaths {
    pub fn for_request(request: &Request, policy: &CookiePolicy) -> Self {
        let base = base_path(request);
        Self {
            access: format!("{base}/"),
            refresh: policy
                .refresh_path
                .clone()
                .unwrap_or_else(|| format!("{base}/refresh")),
            login: format!("{base}/login"),
        }
    }

    fn of(&self, kind: TokenKind) -> &str {
        match kind {
            TokenKind::Access => &self.access,
            TokenKind::Refresh => &self.refresh,
        }
    }
}

/// Sets and clears the token cookies of one response.
pub struct CookieWriter<'a> {
    pub policy: &'a CookiePolicy,
    pub paths: CookiePaths,
}

impl<'a> CookieWriter<'a> {
    /// The writer of the answer to `request`, with `policy`'s attributes.
    pub fn for_request(request: &Request, policy: &'a CookiePolicy) -> Self {
        Self {
            policy,
            paths: CookiePaths::for_request(request, policy),
        }
    }

    /// Sets the cookie of `token`, a token of `kind`, and the readable cookie of its `csrf`
    /// claim when it has one. Session cookies (no `Max-Age`), as flask-jwt-extended sets them by
    /// default: an expired token still reaches the API, which says `Token has expired`, and the
    /// page knows to refresh.
    pub fn set(
        &self,
        response: &mut Response<Body>,
        kind: TokenKind,
        token: &str,
        csrf: Option<&str>,
    ) {
        self.append(
            response,
            token_cookie(kind),
            token,
            self.paths.of(kind),
            true,
        );
        if let Some(csrf) = csrf {
            self.append(response, csrf_cookie(kind), csrf, "/", false);
        }
    }

    /// Sets the device proof's cookie: HttpOnly, to `/login` only, for the proof's lifetime
    /// (a browser keeps it across restarts, unlike the session's token cookies).
    pub fn set_device_proof(&self, response: &mut Response<Body>, proof: &str) {
        let cookie = self
            .cookie(DEVICE_PROOF_COOKIE, proof, &self.paths.login, true)
            .max_age(Duration::seconds(
                auth_core::device_proof::LIFETIME.as_secs() as i64,
            ))
            .build();
        append_header(response, &cookie.to_string());
    }

    /// Clears every cookie `set` can set, with the attributes it set them with (a browser only
    /// replaces a cookie of the same name, domain and path).
    pub fn clear_all(&self, response: &mut Response<Body>) {
        for kind in [TokenKind::Access, TokenKind::Refresh] {
            for (name, path, http_only) in [
                (token_cookie(kind), self.paths.of(kind), true),
                (csrf_cookie(kind), "/", false),
            ] {
                let cookie = self
                    .cookie(name, "", path, http_only)
                    .max_age(Duration::ZERO)
                    .expires(OffsetDateTime::UNIX_EPOCH);
                append_header(response, &cookie.build().to_string());
            }
        }
    }

    fn append(
        &self,
        response: &mut Response<Body>,
        name: &'static str,
        value: &str,
        path: &str,
        http_only: bool,
    ) {
        let cookie = self.cookie(name, value, path, http_only).build();
        append_header(response, &cookie.to_string());
    }

    fn cookie(
        &self,
        name: &'static str,
        value: &str,
        path: &str,
        http_only: bool,
    ) -> cookie::CookieBuilder<'static> {
        let builder = Cookie::build((name, value.to_owned()))
            .path(path.to_owned())
            .http_only(http_only)
            .secure(self.policy.secure)
            .same_site(match self.policy.same_site {
                SameSite::Strict => cookie::SameSite::Strict,
                SameSite::Lax => cookie::SameSite::Lax,
                SameSite::None => cookie::SameSite::None,
            });
        // `Domain` goes on the CSRF cookies only: the page on a sibling host must read them,
        // but the tokens need reach the API's own host alone, not every host of the domain
        // (another team's site, a host of user content).
        match &self.policy.domain {
            Some(domain) if !http_only => builder.domain(domain.clone()),
            _ => builder,
        }
    }
}

/// Our own cookie strings are visible ASCII (tokens are base64url, the settings are checked),
/// so they always make a header value; if one ever did not, the cookie is left out, never the
/// response.
fn append_header(response: &mut Response<Body>, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use auth_testkit::{request, set_cookies};

    fn headers(cookies: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for cookie in cookies {
            headers.append(COOKIE, HeaderValue::from_str(cookie).unwrap());
        }
        headers
    }

    #[test]
    fn a_cookie_is_found_among_others_in_any_cookie_header() {
        let headers = headers(&["theme=dark; access_token_cookie=a.b.c", "other=1"]);
        assert_eq!(
            request_cookie(&headers, ACCESS_COOKIE),
            Some("a.b.c".to_owned())
        );
        assert_eq!(request_cookie(&headers, REFRESH_COOKIE), None);
        let split = self::headers(&["x=1", "refresh_token_cookie=r.s.t"]);
        assert_eq!(
            request_cookie(&split, REFRESH_COOKIE),
            Some("r.s.t".to_owned())
        );
    }

    #[test]
    fn the_first_of_two_same_named_cookies_wins_and_an_empty_one_is_none() {
        let headers = headers(&["access_token_cookie=first; access_token_cookie=second"]);
        assert_eq!(
            request_cookie(&headers, ACCESS_COOKIE),
            Some("first".to_owned())
        );
        let quoted = self::headers(&["access_token_cookie=\"a.b.c\""]);
        assert_eq!(
            request_cookie(&quoted, ACCESS_COOKIE),
            Some("a.b.c".to_owned())
        );
        let empty = self::headers(&["access_token_cookie="]);
        assert_eq!(request_cookie(&empty, ACCESS_COOKIE), None);
    }

    #[test]
    fn unparseable_cookie_pairs_are_skipped_not_fatal() {
        let headers = headers(&["garbage; =novalue; access_token_cookie=t"]);
        assert_eq!(
            request_cookie(&headers, ACCESS_COOKIE),
            Some("t".to_owned())
        );
    }

    #[test]
    fn token_cookies_are_http_only_and_csrf_cookies_readable_with_the_policy_attributes() {
        let policy = CookiePolicy::default();
        let writer = CookieWriter {
            policy: &policy,
            paths: CookiePaths::for_request(&request("POST", "/login", &[], None), &policy),
        };
        let mut response = Response::new(Body::Empty);
        writer.set(&mut response, TokenKind::Access, "a.b.c", Some("c1"));
        writer.set(&mut response, TokenKind::Refresh, "r.s.t", Some("c2"));
        assert_eq!(
            set_cookies(&response),
            [
                "access_token_cookie=a.b.c; HttpOnly; SameSite=Lax; Secure; Path=/",
                "csrf_access_token=c1; SameSite=Lax; Secure; Path=/",
                "refresh_token_cookie=r.s.t; HttpOnly; SameSite=Lax; Secure; Path=/refresh",
                "csrf_refresh_token=c2; SameSite=Lax; Secure; Path=/",
            ]
        );
    }

    #[test]
    fn without_csrf_only_the_token_cookie_is_set_and_its_path_follows_the_settings() {
        let policy = CookiePolicy {
            secure: false,
            same_site: SameSite::Strict,
            domain: Some("example.com".to_owned()),
            refresh_path: Some("/auth/refresh".to_owned()),
            csrf_protect: false,
        };
        let writer = CookieWriter {
            policy: &policy,
            paths: CookiePaths::for_request(&request("POST", "/login", &[], None), &policy),
        };
        let mut response = Response::new(Body::Empty);
        writer.set(&mut response, TokenKind::Refresh, "r", None);
        assert_eq!(
            set_cookies(&response),
            ["refresh_token_cookie=r; HttpOnly; SameSite=Strict; Path=/auth/refresh"]
        );
    }

    #[test]
    fn the_cookie_domain_goes_on_the_csrf_cookies_only_when_set_and_when_cleared() {
        let policy = CookiePolicy {
            domain: Some("example.com".to_owned()),
            ..CookiePolicy::default()
        };
        let writer = CookieWriter {
            policy: &policy,
            paths: CookiePaths::for_request(&request("POST", "/login", &[], None), &policy),
        };
        let mut set = Response::new(Body::Empty);
        writer.set(&mut set, TokenKind::Access, "a.b.c", Some("c1"));
        let mut cleared = Response::new(Body::Empty);
        writer.clear_all(&mut cleared);
        for cookie in set_cookies(&set).iter().chain(&set_cookies(&cleared)) {
            let has_domain = cookie.contains("; Domain=example.com");
            assert_eq!(has_domain, cookie.starts_with("csrf_"), "{cookie}");
        }
    }

    /// An API reached under a custom domain's mapping key (`/auth`) or a named stage: the
    /// cookies go where the browser sends its next requests, under that prefix.
    #[test]
    fn under_a_mapping_key_the_token_cookies_are_scoped_below_it() {
        let event = serde_json::json!({
            "version": "2.0",
            "routeKey": "POST /login",
            "rawPath": "/auth/login",
            "rawQueryString": "",
            "headers": {"host": "api.example.com"},
            "requestContext": {
                "domainName": "api.example.com",
                "http": {"method": "POST", "path": "/auth/login", "protocol": "HTTP/1.1",
                         "sourceIp": "192.0.2.10", "userAgent": "test"},
                "requestId": "r", "routeKey": "POST /login", "stage": "$default",
                "time": "29/Nov/2026:00:00:00 +0000", "timeEpoch": 0,
                "accountId": "1", "apiId": "a", "domainPrefix": "api"
            },
            "isBase64Encoded": false
        });
        let request = lambda_http::request::from_str(&event.to_string()).unwrap();
        let policy = CookiePolicy::default();
        assert_eq!(
            CookiePaths::for_request(&request, &policy),
            CookiePaths {
                access: "/auth/".to_owned(),
                refresh: "/auth/refresh".to_owned(),
                login: "/auth/login".to_owned(),
            }
        );
        let configured = CookiePolicy {
            refresh_path: Some("/tokens".to_owned()),
            ..CookiePolicy::default()
        };
        assert_eq!(
            CookiePaths::for_request(&request, &configured).refresh,
            "/tokens"
        );
    }

    #[test]
    fn clearing_expires_every_cookie_at_the_path_it_was_set_with() {
        let policy = CookiePolicy::default();
        let writer = CookieWriter {
            policy: &policy,
            paths: CookiePaths::for_request(&request("POST", "/logout", &[], None), &policy),
        };
        let mut response = Response::new(Body::Empty);
        writer.clear_all(&mut response);
        let expired = "Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT";
        assert_eq!(
            set_cookies(&response),
            [
                format!("access_token_cookie=; HttpOnly; SameSite=Lax; Secure; Path=/; {expired}"),
                format!("csrf_access_token=; SameSite=Lax; Secure; Path=/; {expired}"),
                format!(
                    "refresh_token_cookie=; HttpOnly; SameSite=Lax; Secure; Path=/refresh; {expired}"
                ),
                format!("csrf_refresh_token=; SameSite=Lax; Secure; Path=/; {expired}"),
            ]
        );
    }
}

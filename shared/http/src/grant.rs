//! How the tokens of a grant (`auth_core::grant`) reach the client: in the JSON body as the
//! seed app answers (`{"access_token", "refresh_token"}`), in HttpOnly cookies with their CSRF
//! cookies as flask-jwt-extended's `set_access_cookies` and `set_refresh_cookies` set them, or
//! both. With cookies only, the body carries no token at all: no script of the page can read
//! one.

use std::time::Duration;

use auth_core::{
    AppState,
    claims::{AuthMethods, TokenKind},
    clock::Clock,
    grant::{Grant, GrantedTokens},
    sessions::{SessionStart, bounded_source_ip, bounded_user_agent},
    settings::{
        BrowserSettings,
        browser::{CookiePolicy, TokenLocation},
    },
    store::StoreError,
    tokens::{SessionClaims, SigningError, TokenService, new_token_id},
    users::User,
};
use lambda_http::{Body, Request, Response, http::StatusCode};
use serde_json::{Map, Value, json};

use crate::{
    client::user_agent,
    cookies::CookieWriter,
    errors::{ApiError, ErrorKey},
    ip_limit::source_ip,
    issuer::tokens_for,
    response::json_response,
};

/// The body of a login whose tokens went into cookies only.
pub const LOGIN_SUCCESSFUL: &str = "Login successful";

/// The answer of a new session `session_id` for `user` (fresh tokens, as a login's), started
/// (`start_session`) and delivered where `JWT_TOKEN_LOCATION` says: what a confirmed sign-up
/// answers.
pub async fn new_session(
    state: &AppState,
    request: &Request,
    user: &User,
    session_id: &str,
    key: ErrorKey,
) -> Result<Response<Body>, ApiError> {
    let tokens = tokens_for(state, request, key)?;
    let now = state.clock().unix_secs();
    let methods = AuthMethods::Password;
    start_session(state, request, user, session_id, methods, now)
        .await
        .map_err(|error| ApiError::Store(key, error))?;
    let granted = sign_session(&tokens, state.browser(), user, session_id, methods, now)
        .await
        .map_err(|error| ApiError::Signing(key, error))?;
    Ok(granted_response(
        request,
        &granted,
        login_delivery(state.browser()),
    ))
}

/// Records the session `session_id` that `user` starts at `now` (signed in by `methods`) as
/// they will see it listed: from where (`request`'s source address and user agent, bounded),
/// until its refresh token's end; its record lasts as long as a token of it can. Made before
/// any token of it is handed over: a session its user could neither see nor end is worse than
/// a login that failed.
pub async fn start_session(
    state: &AppState,
    request: &Request,
    user: &User,
    session_id: &str,
    methods: AuthMethods,
    now: i64,
) -> Result<(), StoreError> {
    let tokens = state.tokens();
    let source_ip = source_ip(request).as_deref().and_then(bounded_source_ip);
    let user_agent = user_agent(request).and_then(bounded_user_agent);
    let start = SessionStart {
        session: session_id,
        username: &user.username,
        started_at: now,
        // What `sign_session` gives the session's refresh token: issued now, in a session of now.
        refresh_until: tokens.expiry(TokenKind::Refresh, now, Some(now)),
        record_until: session_record_until(tokens, now),
        source_ip: source_ip.as_deref(),
        user_agent: user_agent.as_deref(),
        methods,
    };
    state.sessions().start_session(&start).await
}

/// Until when the record of the session that started at `started_at` matters: its end, plus the
/// life of an access token bought at its last moment. `TokenService::session_record_until`,
/// for a session known by its start (a listed one) rather than by a token of it.
pub fn session_record_until(tokens: &TokenService, started_at: i64) -> i64 {
    tokens.expiry(TokenKind::Access, tokens.session_end(started_at), None)
}

/// The tokens of a new session `session_id` for `user`, issued at `now`: fresh, with a refresh
/// token and, when cookies carry them, their CSRF values. What a login and a confirmed sign-up
/// issue, once the session is started (`start_session`): its id is chosen before, and is the
/// one its record is under.
pub async fn sign_session(
    tokens: &TokenService,
    browser: &BrowserSettings,
    user: &User,
    session_id: &str,
    methods: AuthMethods,
    now: i64,
) -> Result<GrantedTokens, SigningError> {
    let refresh_jti = new_token_id();
    tokens
        .grant(&Grant {
            user,
            session: Some(SessionClaims {
                id: session_id,
                started_at: now,
                methods: Some(methods),
            }),
            issued_at: now,
            fresh: true,
            refresh_jti: Some(&refresh_jti),
            with_csrf: browser.tokens_carry_csrf(),
        })
        .await
}

/// Where a new session's tokens go: the body with headers among the locations, the cookies
/// with cookies among them, and `{"msg": "Login successful"}` when the body has none.
pub fn login_delivery(browser: &BrowserSettings) -> Delivery<'_> {
    Delivery {
        in_body: browser.token_locations.has(TokenLocation::Headers),
        in_cookies: browser.uses_cookies().then_some(&browser.cookies),
        cookie_message: LOGIN_SUCCESSFUL,
    }
}

/// Where the tokens go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery<'a> {
    /// The tokens in the body; else the body is `{"msg": cookie_message}`.
    pub in_body: bool,
    /// The tokens in cookies, with the attributes of this policy.
    pub in_cookies: Option<&'a CookiePolicy>,
    /// What the body says when the tokens are not in it.
    pub cookie_message: &'a str,
}

/// The 200 answer to `request` that hands `granted` over as `delivery` says.
pub fn granted_response(
    request: &Request,
    granted: &GrantedTokens,
    delivery: Delivery<'_>,
) -> Response<Body> {
    let body = if delivery.in_body {
        let mut tokens = Map::new();
        tokens.insert("access_token".into(), granted.access.token.clone().into());
        if let Some(refresh) = &granted.refresh {
            tokens.insert("refresh_token".into(), refresh.token.clone().into());
        }
        Value::Object(tokens)
    } else {
        json!({"msg": delivery.cookie_message})
    };
    let mut response = json_response(StatusCode::OK, &body);
    if let Some(policy) = delivery.in_cookies {
        let cookies = CookieWriter::for_request(request, policy);
        for (kind, issued) in [
            (TokenKind::Access, Some(&granted.access)),
            (TokenKind::Refresh, granted.refresh.as_ref()),
        ] {
            if let Some(issued) = issued {
                cookies.set(&mut response, kind, &issued.token, issued.csrf.as_deref());
            }
        }
    }
    response
}

/// The longest a login waits for its user's `tokens_valid_after` (normally under a second).
const MAX_WAIT_FOR_VALID_AFTER: Duration = Duration::from_secs(2);

/// A password changed in this very second refuses tokens issued up to its end (`iat` counts
/// whole seconds): a login right after it waits for the next second rather than hand out
/// tokens that would be refused. The time to issue the tokens at.
pub async fn wait_until_tokens_are_valid(clock: &Clock, user: &User) -> i64 {
    if let Some(after) = user
        .tokens_valid_after
        .and_then(|after| u64::try_from(after).ok())
    {
        let wait = Duration::from_secs(after).saturating_sub(clock.now());
        if !wait.is_zero() {
            clock.sleep(wait.min(MAX_WAIT_FOR_VALID_AFTER)).await;
        }
    }
    clock.unix_secs()
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::grant::IssuedToken;
    use auth_testkit::{json_body, request, set_cookies};

    fn granted(refresh: bool) -> GrantedTokens {
        GrantedTokens {
            access: IssuedToken {
                token: "a.b.c".into(),
                csrf: Some("c1".into()),
            },
            refresh: refresh.then(|| IssuedToken {
                token: "r.s.t".into(),
                csrf: Some("c2".into()),
            }),
        }
    }

    #[test]
    fn in_the_body_the_tokens_are_the_seed_apps_keys_and_no_cookie_is_set() {
        let login = request("POST", "/login", &[], None);
        let delivery = Delivery {
            in_body: true,
            in_cookies: None,
            cookie_message: "unused",
        };
        let response = granted_response(&login, &granted(true), delivery);
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            json_body(&response),
            json!({"access_token": "a.b.c", "refresh_token": "r.s.t"})
        );
        assert!(set_cookies(&response).is_empty());
        let access_only = granted_response(&login, &granted(false), delivery);
        assert_eq!(json_body(&access_only), json!({"access_token": "a.b.c"}));
    }

    #[test]
    fn in_cookies_only_the_body_holds_no_token_and_each_token_has_its_csrf_cookie() {
        let policy = CookiePolicy::default();
        let response = granted_response(
            &request("POST", "/login", &[], None),
            &granted(true),
            Delivery {
                in_body: false,
                in_cookies: Some(&policy),
                cookie_message: "Login successful",
            },
        );
        assert_eq!(json_body(&response), json!({"msg": "Login successful"}));
        let cookies = set_cookies(&response);
        let names: Vec<&str> = cookies
            .iter()
            .map(|cookie| cookie.split('=').next().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "access_token_cookie",
                "csrf_access_token",
                "refresh_token_cookie",
                "csrf_refresh_token"
            ]
        );
        assert!(!response.body().as_ref().windows(5).any(|w| w == b"a.b.c"));
    }
}

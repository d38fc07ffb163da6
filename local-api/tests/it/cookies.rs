//! Cookie mode end to end, through the handlers, over both stores, as a browser drives it: a
//! cookie jar that keeps what `Set-Cookie` says (path, expiry) and sends each cookie only
//! where its path lets it go, and a page that reads the CSRF cookies as `document.cookie`
//! would. The attacks of a hostile page or a thief: a missing or wrong CSRF value, a header
//! token dropped into a cookie, an access token's CSRF value on a refresh, a refresh cookie
//! replayed after a rotation or kept after a logout.

use std::collections::BTreeMap;

use crate::common::{Backend, Service};
use auth_core::claims::TokenKind;
use auth_testkit::{json_body, payload_of, request};
use cookie::Cookie;
use lambda_http::{
    Body, Response,
    http::{StatusCode, header::SET_COOKIE},
};
use local_api::{Function, invoke};
use serde_json::{Value, json};

over_both_stores!(
    login_sets_http_only_token_cookies_and_readable_csrf_cookies_and_no_token_in_the_body,
    profile_takes_the_access_cookie_with_no_csrf_value_as_a_get,
    refresh_needs_the_refresh_tokens_csrf_value_and_sets_a_new_access_cookie,
    a_header_token_put_in_a_cookie_has_no_csrf_claim_to_prove,
    logout_needs_the_csrf_value_and_then_clears_every_cookie_and_ends_the_session,
    idle_past_the_access_tokens_life_then_logging_out_still_ends_the_session,
    with_rotation_refresh_replaces_both_cookies_and_a_replayed_refresh_cookie_ends_the_session,
    with_both_locations_a_header_client_and_a_cookie_client_share_one_deployment,
    a_login_that_sets_cookies_must_declare_its_json_body,
    a_logout_with_cookies_that_hold_no_usable_token_is_refused_and_clears_them,
    a_browser_that_logged_in_before_is_not_locked_out_by_a_strangers_failures,
);

const COOKIES_ONLY: (&str, &str) = ("JWT_TOKEN_LOCATION", "cookies");
const PLAIN_HTTP: (&str, &str) = ("JWT_COOKIE_SECURE", "false");
const ROTATION: (&str, &str) = ("JWT_REFRESH_TOKEN_ROTATION", "true");

/// A cookie as a browser keeps it.
#[derive(Debug, Clone)]
struct Stored {
    value: String,
    path: String,
    http_only: bool,
}

/// A browser's cookie jar for the API's host, and the page that uses it.
struct Browser<'a> {
    service: &'a Service,
    jar: BTreeMap<(String, String), Stored>,
}

/// An answer, with every `Set-Cookie` it carried.
struct Answer {
    status: StatusCode,
    body: Value,
    set_cookies: Vec<String>,
}

impl<'a> Browser<'a> {
    fn new(service: &'a Service) -> Self {
        Self {
            service,
            jar: BTreeMap::new(),
        }
    }

    /// Puts an HttpOnly cookie in the jar as if the API had set it: what a thief's browser
    /// holds after copying one, or a page that was handed another deployment's token.
    fn plant(&mut self, name: &str, path: &str, value: &str) {
        self.jar.insert(
            (name.to_owned(), path.to_owned()),
            Stored {
                value: value.to_owned(),
                path: path.to_owned(),
                http_only: true,
            },
        );
    }

    /// What a request to `path` carries: each cookie whose path is a prefix of it (RFC 6265
    /// section 5.1.4), the most specific path first.
    fn cookie_header(&self, path: &str) -> String {
        let mut matching: Vec<(&String, &Stored)> = self
            .jar
            .iter()
            .filter(|(_, stored)| {
                path == stored.path
                    || (path.starts_with(&stored.path)
                        && (stored.path.ends_with('/')
                            || path[stored.path.len()..].starts_with('/')))
            })
            .map(|((name, _), stored)| (name, stored))
            .collect();
        matching.sort_by_key(|(_, stored)| std::cmp::Reverse(stored.path.len()));
        matching
            .iter()
            .map(|(name, stored)| format!("{name}={}", stored.value))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// What `document.cookie` shows the page (served from `/`): only cookies without
    /// HttpOnly whose path is `/`.
    fn document_cookie(&self, name: &str) -> Option<String> {
        self.jar
            .iter()
            .find(|((stored_name, _), stored)| {
                stored_name == name && !stored.http_only && stored.path == "/"
            })
            .map(|(_, stored)| stored.value.clone())
    }

    /// Whether the jar holds no cookie of a session: none but the device proof, which proves a
    /// past login and outlives a logout by design.
    fn holds_no_session(&self) -> bool {
        self.jar.keys().all(|(name, _)| name == "login_proof")
    }

    /// Every cookie the jar holds, by name (for a thief who copies them).
    fn stolen(&self, name: &str) -> String {
        self.jar
            .iter()
            .find(|((stored_name, _), _)| stored_name == name)
            .map(|(_, stored)| stored.value.clone())
            .unwrap_or_else(|| panic!("no {name} cookie in the jar"))
    }

    fn keep(&mut self, response: &Response<Body>) -> Vec<String> {
        let mut set_cookies = Vec::new();
        for value in response.headers().get_all(SET_COOKIE) {
            let text = value.to_str().unwrap().to_owned();
            let cookie = Cookie::parse(text.clone()).unwrap();
            let key = (
                cookie.name().to_owned(),
                cookie.path().unwrap_or("/").to_owned(),
            );
            let removed = cookie
                .max_age()
                .is_some_and(|max_age| max_age.is_zero() || max_age.is_negative());
            if removed {
                self.jar.remove(&key);
            } else {
                self.jar.insert(
                    key.clone(),
                    Stored {
                        value: cookie.value().to_owned(),
                        path: key.1,
                        http_only: cookie.http_only().unwrap_or(false),
                    },
                );
            }
            set_cookies.push(text);
        }
        set_cookies
    }

    async fn send(
        &mut self,
        function: Function,
        method: &str,
        path: &str,
        csrf: Option<&str>,
        body: Option<&str>,
    ) -> Answer {
        let cookies = self.cookie_header(path);
        let mut headers = vec![("content-type", "application/json")];
        if !cookies.is_empty() {
            headers.push(("cookie", &cookies));
        }
        if let Some(csrf) = csrf {
            headers.push(("x-csrf-token", csrf));
        }
        let response = invoke(
            &self.service.state,
            function,
            request(method, path, &headers, body),
        )
        .await
        .unwrap();
        let set_cookies = self.keep(&response);
        Answer {
            status: response.status(),
            body: json_body(&response),
            set_cookies,
        }
    }

    async fn login(&mut self) -> Answer {
        let body = json!({"username": "cosmo", "password": crate::common::PASSWORD}).to_string();
        self.send(Function::Login, "POST", "/login", None, Some(&body))
            .await
    }

    async fn profile(&mut self) -> Answer {
        self.send(Function::Profile, "GET", "/profile", None, None)
            .await
    }

    async fn refresh(&mut self, csrf: Option<&str>) -> Answer {
        self.send(Function::Refresh, "POST", "/refresh", csrf, None)
            .await
    }

    async fn logout(&mut self, csrf: Option<&str>) -> Answer {
        self.send(Function::Logout, "POST", "/logout", csrf, None)
            .await
    }

    /// The page's refresh: the CSRF value it reads from `csrf_refresh_token`.
    async fn refresh_as_the_page(&mut self) -> Answer {
        let csrf = self.document_cookie("csrf_refresh_token");
        self.refresh(csrf.as_deref()).await
    }

    async fn logout_as_the_page(&mut self) -> Answer {
        let csrf = self.document_cookie("csrf_access_token");
        self.logout(csrf.as_deref()).await
    }
}

/// A refresh from another browser holding a copy of a refresh cookie and its CSRF value: what
/// a thief who copied them out of the user's browser gets.
async fn refresh_with_a_copy(service: &Service, refresh_cookie: &str, csrf: &str) -> Answer {
    let mut thief = Browser::new(service);
    thief.plant("refresh_token_cookie", "/refresh", refresh_cookie);
    thief.refresh(Some(csrf)).await
}

fn assert_answer(answer: &Answer, status: StatusCode, msg: &str, what: &str) {
    assert_eq!(
        (answer.status, answer.body["msg"].as_str()),
        (status, Some(msg)),
        "{what}: {}",
        answer.body
    );
}

async fn login_sets_http_only_token_cookies_and_readable_csrf_cookies_and_no_token_in_the_body(
    backend: Backend,
) {
    let service = Service::new(backend, &[COOKIES_ONLY]).await;
    let mut browser = Browser::new(&service);
    let login = browser.login().await;
    assert_eq!(login.status, StatusCode::OK);
    assert_eq!(login.body, json!({"msg": "Login successful"}));
    let names: Vec<&str> = login
        .set_cookies
        .iter()
        .map(|cookie| cookie.split('=').next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "access_token_cookie",
            "csrf_access_token",
            "refresh_token_cookie",
            "csrf_refresh_token",
            "login_proof"
        ]
    );
    for set_cookie in &login.set_cookies {
        let cookie = Cookie::parse(set_cookie.as_str()).unwrap();
        if cookie.name() == "login_proof" {
            // The device proof: HttpOnly, to /login alone, kept for its 90 days.
            assert_eq!(cookie.http_only(), Some(true), "{set_cookie}");
            assert_eq!(cookie.path(), Some("/login"), "{set_cookie}");
            assert_eq!(
                cookie.max_age(),
                Some(cookie::time::Duration::days(90)),
                "{set_cookie}"
            );
            continue;
        }
        let is_token = cookie.name().ends_with("_cookie");
        assert_eq!(
            cookie.http_only(),
            Some(is_token).filter(|&http_only| http_only),
            "{set_cookie}"
        );
        assert_eq!(
            cookie.secure(),
            Some(true),
            "{set_cookie}: Secure by default"
        );
        assert_eq!(cookie.same_site(), Some(cookie::SameSite::Lax));
        assert_eq!(cookie.max_age(), None, "a session cookie: {set_cookie}");
        let path = match cookie.name() {
            "refresh_token_cookie" => "/refresh",
            _ => "/",
        };
        assert_eq!(cookie.path(), Some(path), "{set_cookie}");
    }
    // The page reads the CSRF values, which are the tokens' csrf claims, and no token.
    for (token, csrf) in [
        ("access_token_cookie", "csrf_access_token"),
        ("refresh_token_cookie", "csrf_refresh_token"),
    ] {
        let claims = payload_of(&browser.stolen(token));
        assert_eq!(
            claims["csrf"].as_str(),
            browser.document_cookie(csrf).as_deref(),
            "{token}"
        );
        assert_eq!(browser.document_cookie(token), None, "{token} is HttpOnly");
    }
    assert_ne!(
        browser.document_cookie("csrf_access_token"),
        browser.document_cookie("csrf_refresh_token"),
        "each token has its own CSRF value"
    );
}

async fn profile_takes_the_access_cookie_with_no_csrf_value_as_a_get(backend: Backend) {
    let service = Service::new(backend, &[COOKIES_ONLY, PLAIN_HTTP]).await;
    let mut browser = Browser::new(&service);
    let anonymous = browser.profile().await;
    assert_answer(
        &anonymous,
        StatusCode::UNAUTHORIZED,
        r#"Missing cookie "access_token_cookie""#,
        "before the login",
    );
    browser.login().await;
    let profile = browser.profile().await;
    assert_eq!(profile.status, StatusCode::OK, "{}", profile.body);
    assert_eq!(profile.body["logged_in_as"], "cosmo");
    assert!(profile.set_cookies.is_empty());
    // A bearer token is not looked for in cookie mode.
    let access = browser.stolen("access_token_cookie");
    let bearer = service.profile(&access).await;
    assert_eq!(bearer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        bearer.body["msg"],
        r#"Missing cookie "access_token_cookie""#
    );
}

async fn refresh_needs_the_refresh_tokens_csrf_value_and_sets_a_new_access_cookie(
    backend: Backend,
) {
    let service = Service::new(backend, &[COOKIES_ONLY]).await;
    let mut browser = Browser::new(&service);
    browser.login().await;
    let access_csrf = browser.document_cookie("csrf_access_token").unwrap();
    let first_access = browser.stolen("access_token_cookie");

    // A page of another site makes the browser send the cookies, but cannot read the CSRF one.
    assert_answer(
        &browser.refresh(None).await,
        StatusCode::UNAUTHORIZED,
        "Missing CSRF token",
        "no X-CSRF-TOKEN",
    );
    assert_answer(
        &browser.refresh(Some("guessed")).await,
        StatusCode::UNAUTHORIZED,
        "CSRF double submit tokens do not match",
        "a guessed value",
    );
    assert_answer(
        &browser.refresh(Some(&access_csrf)).await,
        StatusCode::UNAUTHORIZED,
        "CSRF double submit tokens do not match",
        "the access token's value",
    );
    // The refresh cookie goes to /refresh only.
    assert!(
        !browser
            .cookie_header("/profile")
            .contains("refresh_token_cookie")
    );

    service.clock().advance(std::time::Duration::from_secs(1));
    let refreshed = browser.refresh_as_the_page().await;
    assert_eq!(
        (refreshed.status, &refreshed.body),
        (StatusCode::OK, &json!({"msg": "Token refreshed"}))
    );
    let names: Vec<&str> = refreshed
        .set_cookies
        .iter()
        .map(|cookie| cookie.split('=').next().unwrap())
        .collect();
    assert_eq!(names, ["access_token_cookie", "csrf_access_token"]);
    let new_access = browser.stolen("access_token_cookie");
    assert_ne!(new_access, first_access);
    assert_ne!(
        browser.document_cookie("csrf_access_token").unwrap(),
        access_csrf
    );
    assert_eq!(payload_of(&new_access)["fresh"], false);
    assert_eq!(browser.profile().await.status, StatusCode::OK);
}

async fn a_header_token_put_in_a_cookie_has_no_csrf_claim_to_prove(backend: Backend) {
    let service = Service::new(backend, &[COOKIES_ONLY]).await;
    // Tokens as a header-mode deployment with the same secret issues them: no csrf claim.
    // Past the user record's `tokens_valid_after` (the second after it was written, by the
    // system clock, after this manual clock was set): a token of before would be revoked.
    let valid_from = auth_core::clock::Clock::System.unix_secs() + 2;
    let behind = valid_from - service.clock().unix_secs();
    service
        .clock()
        .advance(std::time::Duration::from_secs(behind.max(0) as u64));
    let now = service.clock().unix_secs();
    let issue = |kind| {
        let jti = auth_core::tokens::new_token_id();
        let tokens = &service.state.tokens();
        tokens
            .issue_at(kind, "cosmo", true, now, &jti, None)
            .unwrap()
    };
    let (access, refresh) = (issue(TokenKind::Access), issue(TokenKind::Refresh));
    assert!(payload_of(&access).get("csrf").is_none());
    let mut browser = Browser::new(&service);
    for (name, path, value) in [
        ("access_token_cookie", "/", &access),
        ("refresh_token_cookie", "/refresh", &refresh),
    ] {
        browser.plant(name, path, value);
    }
    // A GET asks for no proof: the token is good where no state changes.
    assert_eq!(browser.profile().await.status, StatusCode::OK);
    assert_answer(
        &browser.refresh(Some("anything")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Missing claim: csrf",
        "a refresh",
    );
    let logout = browser.logout(Some("anything")).await;
    assert_answer(
        &logout,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Missing claim: csrf",
        "a logout",
    );
    // Cookies the API can never take a POST from are cleared with the refusal.
    assert!(browser.holds_no_session(), "left: {:?}", browser.jar);
}

async fn logout_needs_the_csrf_value_and_then_clears_every_cookie_and_ends_the_session(
    backend: Backend,
) {
    let service = Service::new(backend, &[COOKIES_ONLY]).await;
    let mut browser = Browser::new(&service);
    browser.login().await;
    let stolen_refresh = browser.stolen("refresh_token_cookie");
    let refresh_csrf = browser.document_cookie("csrf_refresh_token").unwrap();

    let forged = browser.logout(None).await;
    assert_answer(
        &forged,
        StatusCode::UNAUTHORIZED,
        "Missing CSRF token",
        "a forged logout",
    );
    assert!(
        forged.set_cookies.is_empty(),
        "a refused logout clears nothing"
    );
    assert_answer(
        &browser.logout(Some("guessed")).await,
        StatusCode::UNAUTHORIZED,
        "CSRF double submit tokens do not match",
        "a guessed value",
    );
    assert_eq!(
        browser.profile().await.status,
        StatusCode::OK,
        "nothing was revoked"
    );

    let logout = browser.logout_as_the_page().await;
    assert_answer(&logout, StatusCode::OK, "Successfully logged out", "logout");
    assert_eq!(logout.set_cookies.len(), 4, "{:?}", logout.set_cookies);
    assert!(browser.holds_no_session(), "left: {:?}", browser.jar);
    assert_answer(
        &browser.profile().await,
        StatusCode::UNAUTHORIZED,
        r#"Missing cookie "access_token_cookie""#,
        "after the logout",
    );
    // A thief's copy of the refresh cookie (never sent to /logout) ends with the session.
    assert_answer(
        &refresh_with_a_copy(&service, &stolen_refresh, &refresh_csrf).await,
        StatusCode::UNAUTHORIZED,
        "Token has been revoked",
        "the stolen refresh cookie",
    );
}

async fn idle_past_the_access_tokens_life_then_logging_out_still_ends_the_session(
    backend: Backend,
) {
    let service = Service::new(backend, &[COOKIES_ONLY]).await;
    let mut browser = Browser::new(&service);
    browser.login().await;
    let stolen_refresh = browser.stolen("refresh_token_cookie");
    let refresh_csrf = browser.document_cookie("csrf_refresh_token").unwrap();
    service
        .clock()
        .advance(std::time::Duration::from_secs(16 * 60));
    assert_answer(
        &browser.profile().await,
        StatusCode::UNAUTHORIZED,
        "Token has expired",
        "the idle access cookie",
    );
    let logout = browser.logout_as_the_page().await;
    assert_answer(&logout, StatusCode::OK, "Successfully logged out", "logout");
    assert!(browser.holds_no_session(), "left: {:?}", browser.jar);
    assert_answer(
        &refresh_with_a_copy(&service, &stolen_refresh, &refresh_csrf).await,
        StatusCode::UNAUTHORIZED,
        "Token has been revoked",
        "the refresh cookie after the logout",
    );
}

async fn with_rotation_refresh_replaces_both_cookies_and_a_replayed_refresh_cookie_ends_the_session(
    backend: Backend,
) {
    let service = Service::new(
        backend,
        &[
            COOKIES_ONLY,
            ROTATION,
            ("JWT_REFRESH_TOKEN_ROTATION_GRACE", "0"),
        ],
    )
    .await;
    let mut browser = Browser::new(&service);
    browser.login().await;
    let stolen_refresh = browser.stolen("refresh_token_cookie");
    let stolen_csrf = browser.document_cookie("csrf_refresh_token").unwrap();
    service.clock().advance(std::time::Duration::from_secs(1));
    let refreshed = browser.refresh_as_the_page().await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
    assert_eq!(
        refreshed.set_cookies.len(),
        4,
        "{:?}",
        refreshed.set_cookies
    );
    assert_ne!(browser.stolen("refresh_token_cookie"), stolen_refresh);
    assert_eq!(browser.profile().await.status, StatusCode::OK);

    assert_answer(
        &refresh_with_a_copy(&service, &stolen_refresh, &stolen_csrf).await,
        StatusCode::UNAUTHORIZED,
        "Token has been revoked",
        "the replayed refresh cookie",
    );
    assert_answer(
        &browser.refresh_as_the_page().await,
        StatusCode::UNAUTHORIZED,
        "Token has been revoked",
        "the user's own refresh after the replay ended the session",
    );
}

async fn with_both_locations_a_header_client_and_a_cookie_client_share_one_deployment(
    backend: Backend,
) {
    let service = Service::new(backend, &[("JWT_TOKEN_LOCATION", "headers,cookies")]).await;
    // A client of the seed contract: tokens in the body, bearer headers.
    let (access, refresh) = service.login().await;
    assert_eq!(service.profile(&access).await.status, StatusCode::OK);
    let refreshed = service.refresh(&refresh).await;
    assert_eq!(refreshed.status, StatusCode::OK);
    assert!(refreshed.body["access_token"].is_string());
    // A browser: the same login also set cookies; its refresh answers in cookies.
    let mut browser = Browser::new(&service);
    let login = browser.login().await;
    assert!(login.body["access_token"].is_string());
    // The tokens' four, and the device proof's.
    assert_eq!(login.set_cookies.len(), 5);
    service.clock().advance(std::time::Duration::from_secs(1));
    let cookie_refresh = browser.refresh_as_the_page().await;
    assert_eq!(
        (cookie_refresh.status, &cookie_refresh.body),
        (StatusCode::OK, &json!({"msg": "Token refreshed"}))
    );
    assert_eq!(browser.profile().await.status, StatusCode::OK);
    // Neither: both places are named, in the configured order.
    let mut stranger = Browser::new(&service);
    assert_answer(
        &stranger.profile().await,
        StatusCode::UNAUTHORIZED,
        "Missing JWT in headers or cookies (Missing Authorization Header; \
         Missing cookie \"access_token_cookie\")",
        "no token anywhere",
    );
}

async fn a_login_that_sets_cookies_must_declare_its_json_body(backend: Backend) {
    let service = Service::new(backend, &[COOKIES_ONLY]).await;
    let body = json!({"username": "cosmo", "password": crate::common::PASSWORD}).to_string();
    // What another site's page can send without a preflight: no Content-Type, or a form's.
    for headers in [vec![], vec![("content-type", "text/plain")]] {
        let response = invoke(
            &service.state,
            Function::Login,
            request("POST", "/login", &headers, Some(&body)),
        )
        .await
        .unwrap();
        assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(
            json_body(&response),
            json!({"error": "Content-Type must be application/json"})
        );
        assert!(response.headers().get(SET_COOKIE).is_none());
    }
    // Header mode keeps the seed contract: a body without a Content-Type is read.
    let headers_mode = Service::new(backend, &[]).await;
    let response = invoke(
        &headers_mode.state,
        Function::Login,
        request("POST", "/login", &[], Some(&body)),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

async fn a_logout_with_cookies_that_hold_no_usable_token_is_refused_and_clears_them(
    backend: Backend,
) {
    let service = Service::new(backend, &[COOKIES_ONLY]).await;
    let mut browser = Browser::new(&service);
    browser.login().await;
    let csrf = browser.document_cookie("csrf_access_token").unwrap();
    // A cookie the API cannot read (another secret's token, a truncated one).
    browser.plant("access_token_cookie", "/", "not.a.token");
    let logout = browser.logout(Some(&csrf)).await;
    assert_eq!(
        logout.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        logout.body
    );
    assert_eq!(logout.set_cookies.len(), 4, "{:?}", logout.set_cookies);
    assert!(browser.holds_no_session(), "left: {:?}", browser.jar);
    // With nothing left, a logout says so, and clears (nothing) again.
    let again = browser.logout(None).await;
    assert_answer(
        &again,
        StatusCode::UNAUTHORIZED,
        r#"Missing cookie "access_token_cookie""#,
        "a logout with no cookie",
    );
}

/// The device proof's cookie goes back to /login by itself: a browser that logged in before
/// keeps its own allowance while a stranger's guesses lock the username, and a logout leaves
/// it (it proves a past login, not a session).
async fn a_browser_that_logged_in_before_is_not_locked_out_by_a_strangers_failures(
    backend: Backend,
) {
    let service = Service::new(
        backend,
        &[COOKIES_ONLY, PLAIN_HTTP, ("LOGIN_MAX_FAILURES", "3")],
    )
    .await;
    let mut browser = Browser::new(&service);
    assert_eq!(browser.login().await.status, StatusCode::OK);
    assert_eq!(browser.logout_as_the_page().await.status, StatusCode::OK);
    let mut stranger = Browser::new(&service);
    let guess = json!({"username": "cosmo", "password": "guess"}).to_string();
    for _ in 0..10 {
        stranger
            .send(Function::Login, "POST", "/login", None, Some(&guess))
            .await;
    }
    let locked = stranger.login().await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS, "{backend:?}");
    let login = browser.login().await;
    assert_eq!(login.status, StatusCode::OK, "{backend:?}: {}", login.body);
}

//! `DEMO_PORT=8001 cargo run -p local-api`: the demo page of `demo/` on a second port, a second
//! origin, using the API in cookie mode the way a browser app on another site would.
//!
//! The files are compiled in (`include_str!`), so the binary serves them from anywhere; only
//! `/config.js` is made here, telling the page where the API is. Both sides are named
//! `localhost`: cookies ignore ports, so the page can read the API's `csrf_*` cookies and the
//! browser sends the `SameSite=Lax` ones (same site, another origin).

use std::net::Ipv4Addr;

use auth_core::settings::BrowserSettings;
use axum::{
    Router,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use lambda_http::Error;

const INDEX_HTML: &str = include_str!("../../demo/index.html");
const APP_JS: &str = include_str!("../../demo/app.js");
const STYLE_CSS: &str = include_str!("../../demo/style.css");

/// With `DEMO_PORT` set (0: a free port), serves the demo page on 127.0.0.1 beside the API
/// listening on `api_port`, says where, and answers the page's URL; without it, does nothing.
pub async fn start(api_port: u16, browser: &BrowserSettings) -> Result<Option<String>, Error> {
    let Ok(text) = std::env::var("DEMO_PORT") else {
        return Ok(None);
    };
    let port = text
        .trim()
        .parse::<u16>()
        .map_err(|_| format!("DEMO_PORT: `{text}` is not a port number (0-65535)"))?;
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
    let page = format!("http://localhost:{}", listener.local_addr()?.port());
    let api = format!("http://localhost:{api_port}");
    println!("Demo page on {page} (cookie mode, using the API at {api})");
    for warning in setup_warnings(&page, browser) {
        println!("Demo page: {warning}");
    }
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router(&api)).await {
            eprintln!("Demo page: the server stopped: {error}");
        }
    });
    Ok(Some(format!("{page}/")))
}

/// What keeps the page from working with the API's settings: its cookie mode and CORS for the
/// page's origin. (`Secure` cookies are no obstacle: browsers take them from `http://localhost`.)
fn setup_warnings(page: &str, browser: &BrowserSettings) -> Vec<String> {
    let mut warnings = Vec::new();
    if !browser.uses_cookies() {
        warnings.push("JWT_TOKEN_LOCATION has no `cookies`: set JWT_TOKEN_LOCATION=cookies".into());
    }
    if !browser
        .cors_allowed_origins
        .iter()
        .any(|origin| origin == page)
    {
        warnings.push(format!(
            "CORS_ALLOWED_ORIGINS does not name the page's origin: set CORS_ALLOWED_ORIGINS={page}"
        ));
    }
    warnings
}

/// The page, its script and style, and `/config.js` naming `api`.
fn router(api: &str) -> Router {
    let config = format!(
        "// Made by local-api (DEMO_PORT): where the API is.\n\
         window.DEMO_CONFIG = {{ apiBase: {api:?}, reloadProfileSeconds: 2 }};\n"
    );
    // The page may talk to its own origin and to the API only: an injected script could still
    // call the API with the cookies, but could neither read them nor send anything elsewhere.
    let policy = format!(
        "default-src 'self'; connect-src {api}; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'"
    );
    let file = |content_type: &'static str, body: String| {
        let policy = policy.clone();
        move || {
            let response = static_file(content_type, &policy, body.clone());
            async move { response }
        }
    };
    Router::new()
        .route(
            "/",
            get(file("text/html; charset=utf-8", INDEX_HTML.into())),
        )
        .route(
            "/index.html",
            get(file("text/html; charset=utf-8", INDEX_HTML.into())),
        )
        .route(
            "/app.js",
            get(file("text/javascript; charset=utf-8", APP_JS.into())),
        )
        .route(
            "/style.css",
            get(file("text/css; charset=utf-8", STYLE_CSS.into())),
        )
        .route(
            "/config.js",
            get(file("text/javascript; charset=utf-8", config)),
        )
        // No icon: an empty answer rather than a 404 in the browser's console.
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
}

fn static_file(content_type: &'static str, policy: &str, body: String) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if let Ok(policy) = HeaderValue::from_str(policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_of_each_missing_setting_and_of_none_when_set() {
        let page = "http://localhost:8001";
        let unset = auth_testkit::settings_with(&[]).browser;
        assert_eq!(setup_warnings(page, &unset).len(), 2);
        let set = auth_testkit::settings_with(&[
            ("JWT_TOKEN_LOCATION", "headers, cookies"),
            (
                "CORS_ALLOWED_ORIGINS",
                "https://app.example.com,http://localhost:8001",
            ),
        ])
        .browser;
        assert_eq!(setup_warnings(page, &set), Vec::<String>::new());
    }
}

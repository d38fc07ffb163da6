//! CORS on the real local server, as API Gateway's CorsConfiguration answers it: a preflight
//! is answered by the server itself (no handler, no token check) for any path; an allowed
//! origin's requests get its CORS headers, errors included, so a page can read why it was
//! refused; another origin gets none; and with no origins configured there is no CORS at all.

use crate::binary::{Server, agent, start_server_with};

const PAGE: &str = "http://localhost:8001";

fn with_cors() -> Server {
    start_server_with(&[
        (
            "CORS_ALLOWED_ORIGINS",
            "https://app.example.com,http://localhost:8001",
        ),
        ("JWT_TOKEN_LOCATION", "cookies"),
    ])
}

type Answer = ureq::http::Response<ureq::Body>;

fn preflight(server: &Server, path: &str, origin: &str) -> Answer {
    agent()
        .options(format!("{}{path}", server.url))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,x-csrf-token",
        )
        .call()
        .unwrap()
}

fn header<'a>(answer: &'a Answer, name: &str) -> Option<&'a str> {
    answer
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
}

#[test]
fn a_preflight_is_answered_without_a_handler_for_an_allowed_origin() {
    let server = with_cors();
    // /profile would answer 401 to a request without its cookie: a preflight never gets there.
    for path in [
        "/login",
        "/refresh",
        "/logout",
        "/profile",
        "/no-such-route",
    ] {
        let mut answer = preflight(&server, path, PAGE);
        assert_eq!(answer.status(), 200, "{path}");
        assert_eq!(header(&answer, "access-control-allow-origin"), Some(PAGE));
        assert_eq!(
            header(&answer, "access-control-allow-credentials"),
            Some("true")
        );
        assert_eq!(
            header(&answer, "access-control-allow-methods"),
            Some("GET,POST,DELETE")
        );
        assert_eq!(
            header(&answer, "access-control-allow-headers"),
            Some("authorization,content-type,x-csrf-token,login-proof")
        );
        assert_eq!(header(&answer, "access-control-max-age"), Some("600"));
        assert_eq!(answer.body_mut().read_to_string().unwrap(), "", "{path}");
    }
}

#[test]
fn another_origin_gets_no_permission_from_a_preflight_or_an_answer() {
    let server = with_cors();
    let answer = preflight(&server, "/login", "https://evil.example");
    assert_eq!(header(&answer, "access-control-allow-origin"), None);
    // An origin is matched exactly: no suffix, no other scheme or port.
    for origin in [
        "https://app.example.com.evil.example",
        "http://app.example.com",
        "http://localhost:8002",
        "null",
    ] {
        let answer = preflight(&server, "/login", origin);
        assert_eq!(
            header(&answer, "access-control-allow-origin"),
            None,
            "{origin}"
        );
    }
    let answer = agent()
        .get(format!("{}/profile", server.url))
        .header("origin", "https://evil.example")
        .call()
        .unwrap();
    assert_eq!(answer.status(), 401);
    assert_eq!(header(&answer, "access-control-allow-origin"), None);
}

#[test]
fn an_allowed_origins_answers_carry_cors_headers_errors_included() {
    let server = with_cors();
    let login = agent()
        .post(format!("{}/login", server.url))
        .header("origin", PAGE)
        .header("content-type", "application/json")
        .send(r#"{"username": "cosmo", "password": "space-corgi"}"#)
        .unwrap();
    assert_eq!(login.status(), 200);
    assert_eq!(header(&login, "access-control-allow-origin"), Some(PAGE));
    assert_eq!(
        header(&login, "access-control-allow-credentials"),
        Some("true")
    );
    // The tokens' four and the device proof's.
    assert_eq!(login.headers().get_all("set-cookie").iter().count(), 5);
    let refused = agent()
        .get(format!("{}/profile", server.url))
        .header("origin", PAGE)
        .call()
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(header(&refused, "access-control-allow-origin"), Some(PAGE));
    // The page may read why, and when to try again, and a login's device proof.
    assert_eq!(
        header(&refused, "access-control-expose-headers"),
        Some("retry-after,www-authenticate,login-proof")
    );
}

#[test]
fn without_origins_there_is_no_cors_and_options_is_no_route() {
    let server = start_server_with(&[]);
    let mut answer = preflight(&server, "/login", PAGE);
    assert_eq!(answer.status(), 404);
    assert_eq!(
        answer.body_mut().read_to_string().unwrap(),
        r#"{"message":"Not Found"}"#
    );
    assert_eq!(header(&answer, "access-control-allow-origin"), None);
    let login = agent()
        .post(format!("{}/login", server.url))
        .header("origin", PAGE)
        .header("content-type", "application/json")
        .send(r#"{"username": "cosmo", "password": "space-corgi"}"#)
        .unwrap();
    assert_eq!(login.status(), 200);
    assert_eq!(header(&login, "access-control-allow-origin"), None);
}

//! The real binary refusing to start: one sentence a person reads (the variable, what is wrong,
//! what to do), exit status 1, and never Rust's Debug of an error nor the secret it was given.

use crate::binary::failed_start;

fn assert_refused(env: &[(&str, &str)], said: &str) {
    let (status, stderr) = failed_start(env);
    assert_eq!(status, Some(1), "{stderr}");
    assert!(stderr.contains(said), "{stderr}");
    for debug in ["SettingsError {", "Os {", "kind:", "Error {"] {
        assert!(!stderr.contains(debug), "Debug output: {stderr}");
    }
}

#[test]
fn a_short_secret_is_named_with_its_length_and_never_echoed() {
    let secret = "too-short-secret";
    assert_refused(
        &[("JWT_SECRET_KEY", secret)],
        "local-api: JWT_SECRET_KEY: is 16 bytes long; an HS256 key must be at least 32 bytes",
    );
    assert!(
        !failed_start(&[("JWT_SECRET_KEY", secret)])
            .1
            .contains(secret)
    );
}

#[test]
fn a_port_in_use_names_the_port_and_how_to_pick_another() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    assert_refused(
        &[("PORT", &port)],
        &format!(
            "local-api: PORT: {port} is in use on 127.0.0.1: stop what listens there, or start on another port (PORT=3001, or PORT=0 for any free one)"
        ),
    );
}

#[test]
fn a_port_that_is_no_number_is_named() {
    assert_refused(
        &[("PORT", "eighty")],
        "local-api: PORT: `eighty` is not a port number (0-65535)",
    );
}

/// The banner's lines of a server started with `env`, up to its "Press Ctrl-C" line.
fn banner(env: &[(&str, &str)]) -> Vec<String> {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_local-api"))
        .env_remove("USERS_TABLE")
        .env_remove("SESSIONS_TABLE")
        .envs(env.iter().copied())
        .env("PORT", "0")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lines: Vec<String> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .take_while(|line| !line.starts_with("Press Ctrl-C"))
        .collect();
    let _ = child.kill();
    let _ = child.wait();
    lines
}

#[test]
fn the_banner_names_the_issuer_and_keys_verifiers_use_the_token_location_and_cors() {
    let lines = banner(&[
        ("JWT_ALGORITHM", "RS256"),
        (
            "JWT_PRIVATE_KEY",
            include_str!("../../../interop/keys/rs256-private.pem"),
        ),
        ("JWT_ISSUER", "https://auth.example.com"),
        ("JWT_TOKEN_LOCATION", "headers,cookies"),
        ("CORS_ALLOWED_ORIGINS", "http://localhost:8001"),
    ]);
    let line = |start: &str| {
        lines
            .iter()
            .find(|line| line.starts_with(start))
            .unwrap_or_else(|| panic!("no {start} line in {lines:#?}"))
            .clone()
    };
    let tokens = line("Tokens:");
    assert!(
        tokens.starts_with(
            "Tokens: RS256, issuer https://auth.example.com, keys at \
             https://auth.example.com/.well-known/jwks.json (served here at http://127.0.0.1:"
        ),
        "{tokens}"
    );
    assert_eq!(
        line("Token location:"),
        "Token location: headers, cookies (HttpOnly cookies, CSRF double submit with X-CSRF-TOKEN)"
    );
    assert_eq!(line("CORS:"), "CORS: http://localhost:8001");
    // And the default: headers, no CORS.
    let plain = banner(&[("JWT_SECRET_KEY", "banner-test-secret-banner-test-secret-01")]);
    assert!(plain.contains(
        &"Token location: headers (set JWT_TOKEN_LOCATION=cookies for a browser page)".to_owned()
    ));
    assert!(plain.contains(
        &"CORS: none (set CORS_ALLOWED_ORIGINS for a page on another origin)".to_owned()
    ));
}

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

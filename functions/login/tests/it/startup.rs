//! The `login` binary refuses to start on bad configuration, naming the variable at fault.
//! (every function over the stores starts the same way, `auth_lambda::state_from_env`.)

use std::process::Command;

fn start(env: &[(&str, &str)]) -> (bool, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_login"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn without_a_secret_it_stops_naming_jwt_secret_key() {
    let (ok, output) = start(&[("USERS_TABLE", "users")]);
    assert!(!ok);
    assert!(output.contains("JWT_SECRET_KEY: is required"), "{output}");
}

#[test]
fn with_a_short_secret_it_stops_without_echoing_it() {
    let (ok, output) = start(&[
        ("JWT_SECRET_KEY", "short-secret-value"),
        ("USERS_TABLE", "users"),
    ]);
    assert!(!ok);
    assert!(
        output.contains("JWT_SECRET_KEY: is 18 bytes long"),
        "{output}"
    );
    assert!(!output.contains("short-secret-value"));
}

#[test]
fn without_a_users_table_it_stops_instead_of_serving_a_demo_user() {
    let (ok, output) = start(&[("JWT_SECRET_KEY", "a-secret-that-is-long-enough-for-hs256!")]);
    assert!(!ok);
    assert!(output.contains("USERS_TABLE: is required"), "{output}");
}

#[test]
fn without_a_sessions_table_it_stops_instead_of_forgetting_revocations() {
    let (ok, output) = start(&[
        ("JWT_SECRET_KEY", "a-secret-that-is-long-enough-for-hs256!"),
        ("USERS_TABLE", "users"),
    ]);
    assert!(!ok);
    assert!(output.contains("SESSIONS_TABLE: is required"), "{output}");
}

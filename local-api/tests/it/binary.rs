//! The real `local-api` binary on a free port, and an HTTP client for it: what the tests that
//! drive it over real HTTP share.

#![allow(dead_code)] // Each test file uses part of this.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::Duration,
};

pub struct Server {
    pub child: Child,
    pub url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start_server() -> Server {
    start_server_with(&[])
}

pub fn start_server_with(env: &[(&str, &str)]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_local-api"))
        .env_remove("USERS_TABLE")
        .env_remove("SESSIONS_TABLE")
        .envs(env.iter().copied())
        .env("PORT", "0")
        .env(
            "JWT_SECRET_KEY",
            "server-test-secret-server-test-secret-0123",
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("local-api starts");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let first = lines
        .next()
        .expect("a first line")
        .expect("readable stdout");
    let url = first
        .split_whitespace()
        .find(|word| word.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no URL in {first:?}"))
        .to_owned();
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server { child, url }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// What the binary prints and exits with when it cannot start with `env`.
pub fn failed_start(env: &[(&str, &str)]) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_local-api"))
        .env_remove("USERS_TABLE")
        .env_remove("SESSIONS_TABLE")
        .env_remove("JWT_SECRET_KEY")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("local-api runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

//! Every file in `events/` goes through the handler its route names, and gets the response the
//! file documents under `expected`. The state uses `local-env.json`, what `sam local invoke` uses;
//! `events/rs256/` is replayed with `local-env-rs256.json`, an RS256 deployment's, and
//! `events/cookies/` with `local-env-cookies.json`, a cookie-mode one's.

use std::{path::PathBuf, time::Duration};

use auth_core::{AppState, clock::Clock};
use lambda_emulator::events::{self, EventFile};
use lambda_http::RequestExt;
use local_api::{Function, invoke, route_for};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn local_state() -> AppState {
    state_of("local-env.json")
}

/// The state `env_file` (an `--env-vars` file of `sam local invoke`) configures.
fn state_of(env_file: &str) -> AppState {
    auth_testkit::state_from_env_file(&root().join(env_file))
}

/// `state_of(env_file)` on a clock that stands at `since_epoch`.
fn state_of_at(env_file: &str, since_epoch: Duration) -> AppState {
    auth_testkit::state_builder_from_env_file(&root().join(env_file))
        .clock(Clock::manual_at(since_epoch))
        .build()
        .unwrap()
}

fn event_files() -> Vec<EventFile> {
    events_in("events")
}

fn events_in(folder: &str) -> Vec<EventFile> {
    events::load(&root().join(folder)).expect("every file of the folder is an event with a reply")
}

#[test]
fn events_folder_holds_the_documented_cases() {
    let files = event_files();
    assert!(
        files.len() >= 10,
        "expected the documented cases, found {}",
        files.len()
    );
}

#[tokio::test]
async fn every_event_gets_the_response_it_documents() {
    replay_every_event(local_state(), event_files()).await;
}

#[tokio::test]
async fn every_rs256_event_gets_the_response_it_documents() {
    let events = events_in("events/rs256");
    assert!(events.len() >= 5, "{} RS256 events", events.len());
    replay(state_of("local-env-rs256.json"), events).await;
}

#[tokio::test]
async fn every_cookie_event_gets_the_response_it_documents() {
    let events = events_in("events/cookies");
    assert!(events.len() >= 6, "{} cookie-mode events", events.len());
    replay(state_of("local-env-cookies.json"), events).await;
}

/// The events' tokens live until 2100; the answers they document must not change before then
/// (a fixture whose answer changes a month after it was written is a test that breaks on its
/// own, as a session cap counted from a fixed `iat` would make it).
#[tokio::test]
async fn every_event_gets_the_same_response_for_as_long_as_its_tokens_live() {
    // 2099-12-31T00:00:00Z.
    let at = Duration::from_secs(4_102_358_400);
    replay_every_event(state_of_at("local-env.json", at), event_files()).await;
    let rs256 = state_of_at("local-env-rs256.json", at);
    replay(rs256, events_in("events/rs256")).await;
    let cookies = state_of_at("local-env-cookies.json", at);
    replay(cookies, events_in("events/cookies")).await;
}

/// Replays `files`, and checks every route had one.
async fn replay_every_event(state: AppState, files: Vec<EventFile>) {
    let seen = replay(state, files).await;
    for (_, _, function) in local_api::ROUTES {
        assert!(seen.contains(&function), "no event for {function:?}");
    }
}

/// Replays `files` through their functions with `state`: the functions they went to.
async fn replay(state: AppState, files: Vec<EventFile>) -> Vec<Function> {
    let mut seen = Vec::new();
    for file in files {
        let name = &file.name;
        let request = lambda_http::request::from_str(&file.text)
            .unwrap_or_else(|e| panic!("{name}: not an API Gateway event: {e}"));
        assert_eq!(request.raw_http_path(), request.uri().path(), "{name}");

        let route_key = file.route_key();
        let route = route_for(request.method(), request.uri().path())
            .unwrap_or_else(|| panic!("{name}: no function serves {route_key}"));
        // The route's own path (`/sessions/{id}`), and each of its parameters as the path has
        // it, as API Gateway's event says them.
        assert_eq!(
            route_key,
            format!("{} {}", request.method(), route.path),
            "{name}: routeKey"
        );
        for (parameter, value) in &route.parameters {
            assert_eq!(
                request.path_parameters().first(parameter),
                Some(value.as_str()),
                "{name}: pathParameters.{parameter}"
            );
        }
        let function = route.function;
        let prefix = match function {
            Function::Login => "login-",
            Function::Refresh => "refresh-",
            Function::Profile => "profile-",
            Function::Logout => "logout-",
            Function::Discovery => "discovery-",
            Function::Authorizer => panic!("{name}: the authorizer has no route"),
            Function::Signup => "signup-",
            Function::Verify => "verify-",
            Function::Recover => "recover-",
            Function::Resend => "resend-",
            Function::ChangePassword => "password-",
            Function::ResetPassword => "password-reset-",
            Function::LoginMfa => "login-mfa-",
            Function::Mfa => "mfa-",
            Function::Sessions => "sessions-",
        };
        assert!(
            name.starts_with(prefix),
            "{name} should be named for its function"
        );

        let response = invoke(&state, function, request).await.unwrap();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let cookies: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|value| value.to_str().unwrap().to_owned())
            .collect();
        let body: Value = serde_json::from_slice(response.body().as_ref())
            .unwrap_or_else(|e| panic!("{name}: a body that is not JSON: {e}"));
        let checked = file
            .expected
            .check(response.status().as_u16(), header, &cookies, &body);
        assert_eq!(checked, Ok(()), "{name}");
        seen.push(function);
    }
    seen
}

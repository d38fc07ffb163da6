//! Every file in `events/` goes through the handler its route names, and gets the response the
//! file documents under `expected`. The state uses `local-env.json`, what `sam local invoke` uses.

use std::{fs, path::PathBuf};

use lambda_http::{RequestExt, http::StatusCode};
use local_api::{Function, function_for, invoke};
use serde_json::Value;
use shared::{AppState, settings::Settings, users::InMemoryUserStore};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn local_state() -> AppState {
    let env: Value =
        serde_json::from_str(&fs::read_to_string(root().join("local-env.json")).unwrap()).unwrap();
    let parameters = env["Parameters"].as_object().unwrap().clone();
    let settings = Settings::from_lookup(|name| {
        parameters
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
    })
    .unwrap();
    AppState::new(&settings, std::sync::Arc::new(InMemoryUserStore::demo())).unwrap()
}

fn event_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(root().join("events"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn events_folder_holds_only_json_events() {
    let files = event_files();
    assert!(
        files.len() >= 10,
        "expected the documented cases, found {}",
        files.len()
    );
    for file in files {
        assert_eq!(
            file.extension().and_then(|e| e.to_str()),
            Some("json"),
            "{}",
            file.display()
        );
    }
}

#[tokio::test]
async fn every_event_gets_the_response_it_documents() {
    let state = local_state();
    let mut seen = Vec::new();
    for file in event_files() {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let text = fs::read_to_string(&file).unwrap();
        let event: Value = serde_json::from_str(&text).unwrap();
        let expected = &event["expected"];
        let request = lambda_http::request::from_str(&text)
            .unwrap_or_else(|e| panic!("{name}: not an API Gateway event: {e}"));
        assert_eq!(request.raw_http_path(), request.uri().path(), "{name}");

        let route_key = event["routeKey"].as_str().unwrap();
        assert_eq!(
            route_key,
            format!("{} {}", request.method(), request.uri().path()),
            "{name}: routeKey"
        );
        let function = function_for(request.method(), request.uri().path())
            .unwrap_or_else(|| panic!("{name}: no function serves {route_key}"));
        let prefix = match function {
            Function::Login => "login-",
            Function::Refresh => "refresh-",
            Function::Profile => "profile-",
        };
        assert!(
            name.starts_with(prefix),
            "{name} should be named for its function"
        );

        let response = invoke(&state, function, request).await.unwrap();
        let status = response.status();
        assert_eq!(
            status.as_u16() as u64,
            expected["statusCode"].as_u64().unwrap(),
            "{name}: status"
        );
        assert_eq!(
            response.headers()["content-type"],
            "application/json",
            "{name}"
        );
        if status == StatusCode::UNAUTHORIZED {
            assert_eq!(response.headers()["www-authenticate"], "Bearer", "{name}");
        }
        let body: Value = serde_json::from_slice(response.body().as_ref()).unwrap();
        if let Some(expected_body) = expected.get("body") {
            assert_eq!(&body, expected_body, "{name}: body");
        }
        if let Some(keys) = expected.get("bodyKeys") {
            let mut actual: Vec<&str> = body
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            actual.sort();
            let mut wanted: Vec<&str> = keys
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k.as_str().unwrap())
                .collect();
            wanted.sort();
            assert_eq!(actual, wanted, "{name}: body keys");
            for key in wanted {
                let token = body[key].as_str().unwrap();
                assert_eq!(token.split('.').count(), 3, "{name}: {key} is a JWT");
            }
        }
        seen.push(function);
    }
    for function in [Function::Login, Function::Refresh, Function::Profile] {
        assert!(seen.contains(&function), "no event for {function:?}");
    }
}

#[test]
fn template_declares_exactly_the_routes_the_local_server_serves() {
    let template = fs::read_to_string(root().join("template.yaml")).unwrap();
    let mut declared = Vec::new();
    let lines: Vec<&str> = template.lines().map(str::trim).collect();
    for (index, line) in lines.iter().enumerate() {
        if let Some(path) = line.strip_prefix("Path: ") {
            let method = lines[index + 1]
                .strip_prefix("Method: ")
                .expect("Method follows Path");
            declared.push(format!("{} {}", method.to_uppercase(), path));
        }
    }
    declared.sort();
    let mut served: Vec<String> = local_api::ROUTES
        .iter()
        .map(|(m, p, _)| format!("{m} {p}"))
        .collect();
    served.sort();
    assert_eq!(declared, served);
}

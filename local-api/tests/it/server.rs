//! The real `local-api` binary on a free port: login → profile → refresh → profile over HTTP,
//! then a clean stop on Ctrl-C (SIGINT).

use std::{
    process::{Child, Command},
    time::Duration,
};

use auth_admin::UserAdmin;
use serde_json::{Value, json};

use crate::binary::{agent, start_server, start_server_with};

fn call(request: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, Value) {
    let mut response = request.expect("the server answers");
    let status = response.status().as_u16();
    assert_eq!(response.headers()["content-type"], "application/json");
    (status, response.body_mut().read_json().expect("JSON body"))
}

#[test]
fn login_profile_refresh_profile_over_real_http_then_clean_stop() {
    let server = start_server();
    let agent = agent();
    let url = &server.url;

    let (status, tokens) = call(
        agent
            .post(format!("{url}/login"))
            .header("content-type", "application/json")
            .send(r#"{"username": "cosmo", "password": "space-corgi"}"#),
    );
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();

    let profile = |token: &str| {
        call(
            agent
                .get(format!("{url}/profile"))
                .header("authorization", format!("Bearer {token}"))
                .call(),
        )
    };
    assert_eq!(
        profile(access),
        (
            200,
            json!({"logged_in_as": "cosmo", "username": "cosmo", "id": 1})
        )
    );
    assert_eq!(
        profile(refresh),
        (422, json!({"msg": "Only non-refresh tokens are allowed"}))
    );

    let (status, refreshed) = call(
        agent
            .post(format!("{url}/refresh"))
            .header("authorization", format!("Bearer {refresh}"))
            .send_empty(),
    );
    assert_eq!(status, 200, "{refreshed}");
    let new_access = refreshed["access_token"].as_str().unwrap();
    assert_ne!(new_access, access);
    assert_eq!(profile(new_access).0, 200);

    let (status, body) = call(agent.get(format!("{url}/nowhere")).call());
    assert_eq!((status, body), (404, json!({"message": "Not Found"})));
    let (status, _) = call(agent.get(format!("{url}/login")).call());
    assert_eq!(status, 404, "GET /login is not a route, as at API Gateway");

    let mut server = server;
    let pid = server.child.id().to_string();
    // The shell's own `kill`: minimal systems have no /bin/kill.
    let signalled = Command::new("sh")
        .args(["-c", &format!("kill -INT {pid}")])
        .status()
        .unwrap();
    assert!(signalled.success());
    let exit =
        wait_with_timeout(&mut server.child, Duration::from_secs(10)).expect("stops after Ctrl-C");
    assert!(exit.success(), "exit status {exit}");
}

#[test]
fn bad_credentials_over_http_are_401_with_www_authenticate() {
    let server = start_server();
    let mut response = agent()
        .post(format!("{}/login", server.url))
        .header("content-type", "application/json")
        .send(r#"{"username": "cosmo", "password": "nope"}"#)
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    let body: Value = response.body_mut().read_json().unwrap();
    assert_eq!(body, json!({"error": "Bad username or password"}));
}

/// A body that cannot be read is the client's error (400), not one that is too large (413).
#[test]
fn a_malformed_chunked_body_is_400_and_an_oversized_one_413() {
    use std::io::{Read, Write};
    let server = start_server();
    let address = server.url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .write_all(
            b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        )
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.ends_with(r#"{"message":"Bad Request"}"#), "{answer}");

    let oversized = "a".repeat(local_api::MAX_BODY_BYTES + 1);
    let response = agent()
        .post(format!("{}/login", server.url))
        .header("content-type", "application/json")
        .send(oversized.as_str());
    assert_eq!(
        call(response),
        (413, json!({"message": "Request Entity Too Large"}))
    );
}

fn wait_with_timeout(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn with_users_table_set_the_server_uses_dynamodb() {
    let store = auth_testkit::fresh_dynamodb_store().await;
    let admin = UserAdmin::of(&store);
    let user = auth_testkit::user_with_password("dyna", "from-dynamodb", json!({}));
    admin.add(&user, false).await.unwrap();
    let table = store.table().to_owned();

    let (demo_status, ok_status) = tokio::task::spawn_blocking(move || {
        let server = start_server_with(&[("USERS_TABLE", &table)]);
        let login = |username: &str, password: &str| {
            agent()
                .post(format!("{}/login", server.url))
                .header("content-type", "application/json")
                .send(json!({"username": username, "password": password}).to_string())
                .unwrap()
                .status()
                .as_u16()
        };
        (
            login("cosmo", "space-corgi"),
            login("dyna", "from-dynamodb"),
        )
    })
    .await
    .unwrap();
    assert_eq!(demo_status, 401, "no demo user once USERS_TABLE is set");
    assert_eq!(ok_status, 200);
}

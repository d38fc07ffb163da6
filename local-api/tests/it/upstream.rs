//! `local-api` in front of a service of one's own (`UPSTREAM_URL`): requests under the prefix
//! pass the Lambda authorizer's check and reach the service with who is calling in `X-Auth-*`
//! headers, and nothing else does; the real binary over real HTTP, as a developer runs it.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpListener,
};

use serde_json::{Value, json};

use crate::binary::{Server, agent, start_server_with};

/// The local server in front of `upstream`, for paths under `/reports`.
fn start_server(upstream: &str) -> Server {
    start_server_with(&[("UPSTREAM_URL", upstream), ("UPSTREAM_PREFIX", "/reports")])
}

/// A service that answers every request with what reached it: method, target, headers, body.
fn start_echo() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut headers = serde_json::Map::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                let (name, value) = line.split_once(':').unwrap();
                let name = name.to_ascii_lowercase();
                if name == "content-length" {
                    length = value.trim().parse().unwrap();
                }
                headers.insert(name, json!(value.trim()));
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let mut words = request_line.split_whitespace();
            let echo = json!({
                "method": words.next(), "target": words.next(), "headers": headers,
                "body": String::from_utf8_lossy(&body),
            })
            .to_string();
            let _ = write!(
                stream,
                "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\nx-upstream: echo\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{echo}",
                echo.len()
            );
        }
    });
    url
}

fn read(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, Value) {
    let mut response = response.expect("the server answers");
    let status = response.status().as_u16();
    (status, response.body_mut().read_json().expect("JSON body"))
}

#[test]
fn a_good_token_reaches_the_upstream_with_who_is_calling_and_nothing_else_does() {
    let server = start_server(&start_echo());
    let url = &server.url;
    let agent = agent();
    let (_, tokens) = read(
        agent
            .post(format!("{url}/login"))
            .header("content-type", "application/json")
            .send(r#"{"username": "cosmo", "password": "space-corgi"}"#),
    );
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();

    let mut response = agent
        .post(format!("{url}/reports/2026/q4?format=csv"))
        .header("authorization", format!("Bearer {access}"))
        // A client cannot say who it is: only the check sets these.
        .header("x-auth-sub", "admin")
        .header("content-type", "text/plain")
        .send("rows")
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["x-upstream"], "echo");
    let echo: Value = response.body_mut().read_json().unwrap();
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["target"], "/2026/q4?format=csv");
    assert_eq!(echo["body"], "rows");
    let headers = &echo["headers"];
    assert_eq!(headers["x-auth-sub"], "cosmo");
    assert_eq!(headers["x-auth-fresh"], "true");
    assert!(headers["x-auth-jti"].is_string() && headers["x-auth-sid"].is_string());
    assert!(
        headers.get("authorization").is_none(),
        "the token went upstream: {headers}"
    );

    // What API Gateway answers with a Lambda authorizer: 401 without a header, 403 refused.
    let (status, body) = read(agent.get(format!("{url}/reports")).call());
    assert_eq!((status, body), (401, json!({"message": "Unauthorized"})));
    for token in [refresh.as_str(), "not-a-token"] {
        let (status, body) = read(
            agent
                .get(format!("{url}/reports"))
                .header("authorization", format!("Bearer {token}"))
                .call(),
        );
        assert_eq!((status, body), (403, json!({"message": "Forbidden"})));
    }
    // Not under the prefix: not the upstream's.
    let (status, _) = read(
        agent
            .get(format!("{url}/reportsx"))
            .header("authorization", format!("Bearer {access}"))
            .call(),
    );
    assert_eq!(status, 404);

    // A logout is seen on the next request.
    let (status, _) = read(
        agent
            .post(format!("{url}/logout"))
            .header("authorization", format!("Bearer {refresh}"))
            .send_empty(),
    );
    assert_eq!(status, 200);
    let (status, _) = read(
        agent
            .get(format!("{url}/reports"))
            .header("authorization", format!("Bearer {access}"))
            .call(),
    );
    assert_eq!(status, 403);
}

#[test]
fn an_upstream_that_is_down_is_a_502() {
    // A port nothing listens on: bound, then released.
    let free = TcpListener::bind("127.0.0.1:0").unwrap();
    let down = format!("http://{}", free.local_addr().unwrap());
    drop(free);
    let server = start_server(&down);
    let agent = agent();
    let (_, tokens) = read(
        agent
            .post(format!("{}/login", server.url))
            .header("content-type", "application/json")
            .send(r#"{"username": "cosmo", "password": "space-corgi"}"#),
    );
    let access = tokens["access_token"].as_str().unwrap();
    let (status, body) = read(
        agent
            .get(format!("{}/reports/x", server.url))
            .header("authorization", format!("Bearer {access}"))
            .call(),
    );
    assert_eq!((status, body), (502, json!({"message": "Bad Gateway"})));
}

//! A head over API Gateway's limits (10,240 bytes of request line and headers, or more than
//! 100 headers) gets `431` JSON from the real binary, as every other answer is JSON.

use crate::binary::{agent, start_server};

fn assert_431_json(response: ureq::http::Response<ureq::Body>) {
    assert_eq!(response.status(), 431);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    let body: serde_json::Value = response.into_body().read_json().unwrap();
    assert_eq!(
        body,
        serde_json::json!({"message": "Request Header Fields Too Large"})
    );
}

#[test]
fn too_many_headers_and_too_large_a_head_get_431_json() {
    let server = start_server();
    let agent = agent();
    let mut many = agent.get(&format!("{}/profile", server.url));
    for index in 0..150 {
        many = many.header(format!("x-filler-{index}"), "v");
    }
    assert_431_json(many.call().unwrap());

    let large = agent
        .post(&format!("{}/login", server.url))
        .header("content-type", "application/json")
        .header("x-large", "a".repeat(12 * 1024))
        .send(r#"{"username": "cosmo", "password": "space-corgi"}"#)
        .unwrap();
    assert_431_json(large);

    // Just under both limits: answered by the route.
    let mut near = agent.get(&format!("{}/profile", server.url));
    for index in 0..90 {
        near = near.header(format!("x-filler-{index}"), "v");
    }
    assert_eq!(near.call().unwrap().status(), 401);
}

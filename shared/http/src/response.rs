//! A JSON answer.

use lambda_http::{
    Body, Response,
    http::{StatusCode, header},
};
use serde::Serialize;

/// A JSON response with `status`. Serialising our own plain values cannot fail; if it ever did,
/// the client still gets JSON.
pub fn json_response(status: StatusCode, body: &impl Serialize) -> Response<Body> {
    let text = serde_json::to_string(body)
        .unwrap_or_else(|_| r#"{"error":"Internal server error"}"#.to_owned());
    let mut response = Response::new(Body::Text(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_response_sets_status_content_type_and_compact_body() {
        let response = json_response(StatusCode::CREATED, &serde_json::json!({"a": [1, "b"]}));
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(response.body().as_ref(), br#"{"a":[1,"b"]}"#);
    }
}

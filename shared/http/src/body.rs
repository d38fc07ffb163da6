//! Reading a JSON request body, more robustly than the seed app (which answers HTML or 500).

use lambda_http::{Body, Request, http::header::CONTENT_TYPE};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("Content-Type must be application/json")]
    UnsupportedMediaType,
    #[error("Request body is empty: expected a JSON object")]
    Empty,
    #[error("Request body is not valid JSON")]
    NotJson,
}

/// The body as JSON. A missing Content-Type is accepted (many API Gateway clients omit it);
/// a present one must be `application/json` or a `+json` type, in any case, with any parameters.
pub fn json_body(request: &Request) -> Result<Value, BodyError> {
    if let Some(content_type) = request.headers().get(CONTENT_TYPE) {
        let is_json = content_type.to_str().is_ok_and(is_json_media_type);
        if !is_json {
            return Err(BodyError::UnsupportedMediaType);
        }
    }
    let bytes: &[u8] = match request.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        // `Body` is non-exhaustive; a future kind of body is not one we can read.
        _ => return Err(BodyError::NotJson),
    };
    if bytes.trim_ascii().is_empty() {
        return Err(BodyError::Empty);
    }
    // serde_json also refuses invalid UTF-8 and nesting deeper than 128 levels.
    serde_json::from_slice(bytes).map_err(|_| BodyError::NotJson)
}

/// `json_body`, with the Content-Type required: what a login that sets cookies reads. Another
/// site's page can send a body with no Content-Type (or a form's) without asking first, and the
/// answer's cookies would log the user in as someone else (login CSRF); a JSON body it can send
/// only after a CORS preflight, which names its origin, and the API allows no stranger's.
pub fn declared_json_body(request: &Request) -> Result<Value, BodyError> {
    if request.headers().get(CONTENT_TYPE).is_none() {
        return Err(BodyError::UnsupportedMediaType);
    }
    json_body(request)
}

fn is_json_media_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || (essence.contains('/') && essence.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(content_type: Option<&str>, body: Body) -> Request {
        let mut builder = lambda_http::http::Request::builder()
            .method("POST")
            .uri("/login");
        if let Some(content_type) = content_type {
            builder = builder.header(CONTENT_TYPE, content_type);
        }
        builder.body(body).unwrap()
    }

    #[test]
    fn a_declared_json_body_needs_its_content_type() {
        let body = || Body::Text(r#"{"a": 1}"#.into());
        assert_eq!(
            declared_json_body(&request(None, body())),
            Err(BodyError::UnsupportedMediaType)
        );
        assert_eq!(
            declared_json_body(&request(Some("text/plain"), body())),
            Err(BodyError::UnsupportedMediaType)
        );
        assert_eq!(
            declared_json_body(&request(Some("application/json"), body())),
            Ok(serde_json::json!({"a": 1}))
        );
        // Undeclared, the same body is read as ever outside cookie mode.
        assert!(json_body(&request(None, body())).is_ok());
    }

    #[test]
    fn json_content_types_in_any_case_and_with_parameters_are_json() {
        for content_type in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            "application/vnd.api+json",
            "application/problem+JSON ; q=1",
        ] {
            assert!(
                json_body(&request(Some(content_type), Body::Text("{}".into()))).is_ok(),
                "{content_type}"
            );
        }
    }

    #[test]
    fn missing_content_type_with_json_body_is_accepted() {
        assert_eq!(
            json_body(&request(None, Body::Text(r#"{"a":1}"#.into()))),
            Ok(serde_json::json!({"a": 1}))
        );
    }

    #[test]
    fn other_content_types_are_unsupported() {
        for content_type in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "json",
            "",
            "application/jsonp",
        ] {
            assert_eq!(
                json_body(&request(Some(content_type), Body::Text("{}".into()))),
                Err(BodyError::UnsupportedMediaType),
                "{content_type}"
            );
        }
    }

    #[test]
    fn empty_and_blank_bodies_are_empty() {
        assert_eq!(
            json_body(&request(None, Body::Empty)),
            Err(BodyError::Empty)
        );
        assert_eq!(
            json_body(&request(None, Body::Text(" \n".into()))),
            Err(BodyError::Empty)
        );
    }

    #[test]
    fn broken_json_is_not_json() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        for body in [
            Body::Text("{\"username\": ".into()),
            Body::Text("not json".into()),
            Body::Binary(vec![b'"', 0xff, b'"']),
            Body::Text(deep),
        ] {
            assert_eq!(
                json_body(&request(Some("application/json"), body)),
                Err(BodyError::NotJson)
            );
        }
    }

    #[test]
    fn binary_body_holding_json_is_read() {
        assert!(json_body(&request(None, Body::Binary(b"{}".to_vec()))).is_ok());
    }
}

//! The API Gateway events of `events/`, each with the reply it documents under `expected`.

use std::{fs, io, path::Path};

use serde_json::{Map, Value};

/// The fields `users add` stamps on every DynamoDB record (`created_at`); the events document
/// the seed app's record, which has none. Pass it to [`Expected::check_gateway_reply`] for
/// replies from a DynamoDB-backed function.
pub const ADDED_BY_DYNAMODB: &[&str] = &["created_at"];

/// When the events' tokens were issued (their `iat`; `scripts/make_events.py`'s `ISSUED`,
/// 2026-11-29T00:00:00Z). The user they act for must have existed since then (`users add
/// --created-at`): an account refuses the tokens of before its creation.
pub const TOKENS_ISSUED_AT: u64 = 1_795_910_400;

/// The same, as `users add --created-at` reads it.
pub const TOKENS_ISSUED_AT_RFC3339: &str = "2026-11-29T00:00:00Z";

/// One file of `events/`.
#[derive(Debug, Clone)]
pub struct EventFile {
    /// The file name, e.g. `login-ok.json`.
    pub name: String,
    /// The file as written, `expected` included (what `sam local invoke --event` reads).
    pub text: String,
    /// The event API Gateway would send: the file without `expected`.
    pub event: Value,
    pub expected: Expected,
}

impl EventFile {
    /// `routeKey`, e.g. `POST /login`.
    pub fn route_key(&self) -> &str {
        self.event["routeKey"].as_str().unwrap_or_default()
    }
}

/// The reply an event documents: its status, its whole body or the keys of a body of fresh
/// tokens, and the cookies it sets.
#[derive(Debug, Clone)]
pub struct Expected {
    pub status: u16,
    pub body: Option<Value>,
    pub body_keys: Option<Vec<String>>,
    /// Every `Set-Cookie` of the reply, in order; none when the event documents none. A value
    /// of `<jwt>`, `<proof>` or `<uuid>` stands for a fresh token, device proof or CSRF value;
    /// the rest is exact.
    pub cookies: Vec<String>,
}

/// Every `*.json` file of `directory`, sorted by name. A file that is not an event with an
/// `expected` reply is an error naming it.
pub fn load(directory: &Path) -> io::Result<Vec<EventFile>> {
    // Files only: a folder in it holds the events of another configuration (events/rs256).
    let mut paths: Vec<_> = fs::read_dir(directory)?
        .map(|entry| entry.map(|entry| entry.path()))
        .filter(|path| path.as_ref().map_or(true, |path| !path.is_dir()))
        .collect::<Result<_, _>>()?;
    paths.sort();
    paths.iter().map(|path| read(path)).collect()
}

/// One event file.
pub fn read(path: &Path) -> io::Result<EventFile> {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = fs::read_to_string(path)?;
    parse(name, text).map_err(|why| io::Error::new(io::ErrorKind::InvalidData, why))
}

fn parse(name: String, text: String) -> Result<EventFile, String> {
    if !name.ends_with(".json") {
        return Err(format!("{name}: events/ holds only .json events"));
    }
    let mut event: Value =
        serde_json::from_str(&text).map_err(|error| format!("{name}: not JSON: {error}"))?;
    let expected = event
        .as_object_mut()
        .and_then(|object| object.remove("expected"))
        .ok_or_else(|| format!("{name}: no \"expected\" reply"))?;
    let status = expected["statusCode"]
        .as_u64()
        .and_then(|status| u16::try_from(status).ok())
        .ok_or_else(|| format!("{name}: expected.statusCode is not a status"))?;
    let body_keys = expected["bodyKeys"].as_array().map(|keys| {
        keys.iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    });
    let cookies = match expected.get("cookies") {
        None => Vec::new(),
        Some(cookies) => cookies
            .as_array()
            .and_then(|cookies| {
                cookies
                    .iter()
                    .map(|cookie| cookie.as_str().map(str::to_owned))
                    .collect()
            })
            .ok_or_else(|| format!("{name}: expected.cookies is not a list of strings"))?,
    };
    Ok(EventFile {
        expected: Expected {
            status,
            body: expected.get("body").cloned(),
            body_keys,
            cookies,
        },
        name,
        text,
        event,
    })
}

impl Expected {
    /// Checks a reply: the status, a JSON content type, `WWW-Authenticate: Bearer` on a 401,
    /// the cookies it sets (`Set-Cookie` values) and the body. `header` looks a header up by
    /// its lowercase name.
    pub fn check(
        &self,
        status: u16,
        header: impl Fn(&str) -> Option<String>,
        cookies: &[String],
        body: &Value,
    ) -> Result<(), String> {
        self.check_cookies(cookies)?;
        if status != self.status {
            return Err(format!(
                "status {status}, expected {}; body {body}",
                self.status
            ));
        }
        let content_type = header("content-type");
        if content_type.as_deref() != Some("application/json") {
            return Err(format!("content-type {content_type:?}"));
        }
        if status == 401 && header("www-authenticate").as_deref() != Some("Bearer") {
            return Err("a 401 without WWW-Authenticate: Bearer".into());
        }
        if let Some(expected) = &self.body
            && body != expected
        {
            return Err(format!("body {body}, expected {expected}"));
        }
        if let Some(keys) = &self.body_keys {
            let object = body
                .as_object()
                .ok_or_else(|| format!("body {body} is not an object"))?;
            let mut actual: Vec<&String> = object.keys().collect();
            actual.sort();
            let mut wanted: Vec<&String> = keys.iter().collect();
            wanted.sort();
            if actual != wanted {
                return Err(format!("body keys {actual:?}, expected {wanted:?}"));
            }
            for key in keys {
                let is_jwt = object[key]
                    .as_str()
                    .is_some_and(|token| token.split('.').count() == 3);
                if !is_jwt {
                    return Err(format!("{key} is not a JWT: {}", object[key]));
                }
            }
        }
        Ok(())
    }

    /// Checks a Lambda reply in API Gateway's payload format 2.0 (`statusCode`, `headers`,
    /// `body`, `isBase64Encoded`). `added_by_store` names body fields the user store adds to
    /// what the event documents (DynamoDB's `created_at`): each must be there, and is then
    /// left out of the comparison.
    pub fn check_gateway_reply(
        &self,
        reply: &Value,
        added_by_store: &[&str],
    ) -> Result<(), String> {
        let status = reply["statusCode"]
            .as_u64()
            .and_then(|status| u16::try_from(status).ok())
            .ok_or_else(|| format!("no statusCode in {reply}"))?;
        if reply["isBase64Encoded"].as_bool() == Some(true) {
            return Err("a base64-encoded body for a JSON reply".into());
        }
        let empty = Map::new();
        let headers = reply["headers"].as_object().unwrap_or(&empty);
        let header = |name: &str| {
            headers
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .and_then(|(_, value)| value.as_str())
                .map(str::to_owned)
        };
        let body_text = reply["body"].as_str().unwrap_or_default();
        let mut body: Value = serde_json::from_str(body_text)
            .map_err(|error| format!("body {body_text:?} is not JSON: {error}"))?;
        if status != self.status {
            return Err(format!(
                "status {status}, expected {}; body {body}",
                self.status
            ));
        }
        let documents_a_record = self
            .body
            .as_ref()
            .is_some_and(|body| body.get("username").is_some());
        if documents_a_record {
            for field in added_by_store {
                let added = body.as_object_mut().and_then(|body| body.remove(*field));
                if added.is_none() {
                    return Err(format!("no {field} in the user's record {body}"));
                }
            }
        }
        // API Gateway (payload 2.0) takes a reply's cookies from `cookies` only: a Set-Cookie
        // among the headers would reach the browser as one, or not at all.
        if header("set-cookie").is_some() {
            return Err("a Set-Cookie header instead of the cookies array".into());
        }
        let cookies: Vec<String> = match &reply["cookies"] {
            Value::Null => Vec::new(),
            Value::Array(cookies) => cookies
                .iter()
                .map(|cookie| cookie.as_str().map(str::to_owned))
                .collect::<Option<_>>()
                .ok_or_else(|| format!("cookies {} are not strings", reply["cookies"]))?,
            other => return Err(format!("cookies {other} is not a list")),
        };
        self.check(status, header, &cookies, &body)
    }

    fn check_cookies(&self, cookies: &[String]) -> Result<(), String> {
        let matches = cookies.len() == self.cookies.len()
            && cookies
                .iter()
                .zip(&self.cookies)
                .all(|(cookie, wanted)| cookie_matches(cookie, wanted));
        if !matches {
            return Err(format!("cookies {cookies:?}, expected {:?}", self.cookies));
        }
        // Double submit works only if each CSRF cookie holds its token's `csrf` claim.
        let value = |name: &str| {
            cookies.iter().find_map(|cookie| {
                let (pair, _) = cookie.split_once(';').unwrap_or((cookie, ""));
                pair.strip_prefix(name)?
                    .strip_prefix('=')
                    .filter(|value| !value.is_empty())
            })
        };
        for (token_cookie, csrf_cookie) in [
            ("access_token_cookie", "csrf_access_token"),
            ("refresh_token_cookie", "csrf_refresh_token"),
        ] {
            if let (Some(token), Some(csrf)) = (value(token_cookie), value(csrf_cookie)) {
                let claim = token_payload(token)
                    .and_then(|payload| payload["csrf"].as_str().map(str::to_owned));
                if claim.as_deref() != Some(csrf) {
                    return Err(format!(
                        "{csrf_cookie} {csrf} is not the csrf claim of {token_cookie} ({claim:?})"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The payload of a JWT, unverified: what a test reads of a token it was handed.
fn token_payload(token: &str) -> Option<Value> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Whether the `Set-Cookie` value `cookie` is `wanted`, whose value may be `<jwt>` (three
/// base64url segments), `<proof>` (a device proof, `lp1.` and two) or `<uuid>` (a UUID as text).
fn cookie_matches(cookie: &str, wanted: &str) -> bool {
    let split = |text: &str| -> Option<(String, String, String)> {
        let (pair, attributes) = text.split_once(';').unwrap_or((text, ""));
        let (name, value) = pair.split_once('=')?;
        Some((name.to_owned(), value.to_owned(), attributes.to_owned()))
    };
    let (Some((name, value, attributes)), Some((wanted_name, wanted_value, wanted_attributes))) =
        (split(cookie), split(wanted))
    else {
        return false;
    };
    let base64url = |segment: &str| {
        !segment.is_empty()
            && segment
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
    };
    let value_matches = match wanted_value.as_str() {
        "<jwt>" => value.split('.').count() == 3 && value.split('.').all(base64url),
        "<proof>" => value
            .strip_prefix("lp1.")
            .is_some_and(|rest| rest.split('.').count() == 2 && rest.split('.').all(base64url)),
        "<uuid>" => {
            value.len() == 36
                && value
                    .bytes()
                    .all(|byte| byte.is_ascii_hexdigit() || byte == b'-')
        }
        exact => value == exact,
    };
    name == wanted_name && value_matches && attributes == wanted_attributes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn expected(body: Option<Value>, keys: Option<&[&str]>) -> Expected {
        Expected {
            status: 200,
            body,
            body_keys: keys.map(|keys| keys.iter().map(|k| k.to_string()).collect()),
            cookies: Vec::new(),
        }
    }

    #[test]
    fn cookies_come_in_the_cookies_array_and_match_their_patterns() {
        let mut wanted = expected(Some(json!({"a": 1})), None);
        wanted.cookies = vec![
            "t=<jwt>; HttpOnly; Path=/".to_owned(),
            "c=<uuid>; Path=/".to_owned(),
        ];
        let mut ok = reply(
            200,
            json!({"content-type": "application/json"}),
            json!({"a": 1}),
        );
        ok["cookies"] = json!([
            "t=aa.bb.c-_; HttpOnly; Path=/",
            "c=0b7e2f9a-3c4d-4e5f-8a6b-7c8d9e0f1a2b; Path=/"
        ]);
        assert_eq!(wanted.check_gateway_reply(&ok, &[]), Ok(()));

        let mut missing = ok.clone();
        missing["cookies"] = json!(["t=aa.bb.cc; HttpOnly; Path=/"]);
        assert!(wanted.check_gateway_reply(&missing, &[]).is_err());
        let mut other_path = ok.clone();
        other_path["cookies"][0] = json!("t=aa.bb.cc; HttpOnly; Path=/refresh");
        assert!(wanted.check_gateway_reply(&other_path, &[]).is_err());
        let mut not_a_jwt = ok.clone();
        not_a_jwt["cookies"][0] = json!("t=plain; HttpOnly; Path=/");
        assert!(wanted.check_gateway_reply(&not_a_jwt, &[]).is_err());
        let mut in_headers = ok.clone();
        in_headers["cookies"] = json!([]);
        in_headers["headers"]["set-cookie"] = json!("t=aa.bb.cc; HttpOnly; Path=/");
        assert!(wanted.check_gateway_reply(&in_headers, &[]).is_err());

        let none_documented = expected(Some(json!({"a": 1})), None);
        assert!(none_documented.check_gateway_reply(&ok, &[]).is_err());
    }

    #[test]
    fn a_csrf_cookie_must_hold_its_tokens_csrf_claim() {
        use base64::Engine;
        let encode = |json: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
        let token = format!(
            "{}.{}.sig",
            encode("{}"),
            encode(r#"{"csrf":"0b7e2f9a-3c4d-4e5f-8a6b-7c8d9e0f1a2b"}"#)
        );
        let mut wanted = expected(Some(json!({"a": 1})), None);
        wanted.cookies = vec![
            "access_token_cookie=<jwt>; Path=/".to_owned(),
            "csrf_access_token=<uuid>; Path=/".to_owned(),
        ];
        let reply_with = |csrf: &str| {
            let mut reply = reply(
                200,
                json!({"content-type": "application/json"}),
                json!({"a": 1}),
            );
            reply["cookies"] = json!([
                format!("access_token_cookie={token}; Path=/"),
                format!("csrf_access_token={csrf}; Path=/"),
            ]);
            reply
        };
        assert_eq!(
            wanted.check_gateway_reply(&reply_with("0b7e2f9a-3c4d-4e5f-8a6b-7c8d9e0f1a2b"), &[]),
            Ok(())
        );
        assert!(
            wanted
                .check_gateway_reply(&reply_with("11111111-3c4d-4e5f-8a6b-7c8d9e0f1a2b"), &[])
                .unwrap_err()
                .contains("not the csrf claim")
        );
    }

    fn reply(status: u16, headers: Value, body: Value) -> Value {
        json!({"statusCode": status, "headers": headers, "body": body.to_string(), "isBase64Encoded": false})
    }

    #[test]
    fn a_reply_matching_status_type_and_body_passes() {
        let wanted = expected(Some(json!({"a": 1})), None);
        let ok = reply(
            200,
            json!({"Content-Type": "application/json"}),
            json!({"a": 1}),
        );
        assert_eq!(wanted.check_gateway_reply(&ok, &[]), Ok(()));
    }

    #[test]
    fn each_difference_is_reported() {
        let wanted = expected(Some(json!({"a": 1})), None);
        let json_type = json!({"content-type": "application/json"});
        let wrong_status = reply(201, json_type.clone(), json!({"a": 1}));
        assert!(
            wanted
                .check_gateway_reply(&wrong_status, &[])
                .unwrap_err()
                .starts_with("status 201")
        );
        let wrong_body = reply(200, json_type.clone(), json!({"a": 2}));
        assert!(
            wanted
                .check_gateway_reply(&wrong_body, &[])
                .unwrap_err()
                .starts_with("body")
        );
        let wrong_type = reply(200, json!({"content-type": "text/plain"}), json!({"a": 1}));
        assert!(
            wanted
                .check_gateway_reply(&wrong_type, &[])
                .unwrap_err()
                .starts_with("content-type")
        );
        let unauthorized = Expected {
            status: 401,
            body: None,
            body_keys: None,
            cookies: Vec::new(),
        };
        let no_challenge = reply(401, json_type, json!({}));
        assert!(
            unauthorized
                .check_gateway_reply(&no_challenge, &[])
                .unwrap_err()
                .contains("WWW-Authenticate")
        );
    }

    #[test]
    fn fields_the_store_adds_to_a_user_record_must_be_there_and_are_not_compared() {
        let wanted = expected(Some(json!({"username": "cosmo", "id": 1})), None);
        let json_type = json!({"content-type": "application/json"});
        let stored = json!({"username": "cosmo", "id": 1, "created_at": "2026-11-29T00:00:00Z"});
        let from_dynamodb = reply(200, json_type.clone(), stored);
        assert_eq!(
            wanted.check_gateway_reply(&from_dynamodb, &["created_at"]),
            Ok(())
        );
        assert!(wanted.check_gateway_reply(&from_dynamodb, &[]).is_err());
        let without = reply(200, json_type, json!({"username": "cosmo", "id": 1}));
        let error = wanted
            .check_gateway_reply(&without, &["created_at"])
            .unwrap_err();
        assert!(error.starts_with("no created_at"), "{error}");
    }

    #[test]
    fn body_keys_must_be_exactly_the_tokens() {
        let wanted = expected(None, Some(&["access_token"]));
        let json_type = json!({"content-type": "application/json"});
        let token = reply(200, json_type.clone(), json!({"access_token": "a.b.c"}));
        assert_eq!(wanted.check_gateway_reply(&token, &[]), Ok(()));
        let extra = reply(
            200,
            json_type.clone(),
            json!({"access_token": "a.b.c", "x": "y.z.w"}),
        );
        assert!(wanted.check_gateway_reply(&extra, &[]).is_err());
        let not_jwt = reply(200, json_type, json!({"access_token": "abc"}));
        assert!(
            wanted
                .check_gateway_reply(&not_jwt, &[])
                .unwrap_err()
                .contains("not a JWT")
        );
    }

    #[test]
    fn a_file_without_expected_is_refused_by_name() {
        let error = parse("x.json".into(), r#"{"routeKey": "GET /profile"}"#.into()).unwrap_err();
        assert_eq!(error, "x.json: no \"expected\" reply");
        let event = parse(
            "x.json".into(),
            r#"{"routeKey": "GET /profile", "expected": {"statusCode": 200}}"#.into(),
        )
        .unwrap();
        assert_eq!(event.route_key(), "GET /profile");
        assert!(event.event.get("expected").is_none());
    }
}

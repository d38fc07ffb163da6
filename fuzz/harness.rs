//! The code paths the fuzz targets drive, in one place for both users: the fuzz targets
//! (`fuzz/fuzz_targets/*.rs`, under libFuzzer) and the regression test that replays
//! `fuzz/regressions/` with plain `cargo test` on stable Rust
//! (`shared/http/tests/it/fuzz_regressions.rs`). Both include this file with `#[path]`.
//!
//! Besides "nothing panics", each function asserts properties that hold for every input, so
//! the fuzzer hunts for wrong answers too, not only for crashes. Each returns a one-line
//! summary of what the code under test answered, which the regression test compares with the
//! answers it expects for the hand-written regressions.

// Each fuzz target uses half of this file.
#![allow(dead_code)]

use std::sync::LazyLock;

use auth_core::{
    claims::{TokenKind, VerifiedClaims},
    clock::Clock,
    login_schema::{self, FieldErrors, INVALID_INPUT_TYPE, SCHEMA_KEY},
    logout_schema,
    settings::{SECRET_KEY_VAR, Settings},
    tokens::{TokenError, TokenService},
};
use auth_http::{bearer::bearer_token, body::json_body};
use lambda_http::{
    Body, Request,
    http::{
        HeaderMap, HeaderValue,
        header::{AUTHORIZATION, CONTENT_TYPE},
    },
};

/// The key tokens are verified with. The seed and regression tokens meant to pass are signed
/// with it (HS256); it protects nothing.
pub const SECRET: &str = "fuzzing-only-secret-0123456789abcdef-0123456789";

/// Built once per process: key setup is not what is being fuzzed.
static TOKENS: LazyLock<TokenService> = LazyLock::new(|| {
    let settings =
        Settings::from_lookup(|name| (name == SECRET_KEY_VAR).then(|| SECRET.to_owned()))
            .expect("the fuzzing settings are valid");
    TokenService::new(&settings).expect("the fuzzing key loads")
});

/// Target `bearer_token_verify`: the bytes as an `Authorization` header value (when they are
/// a valid one) through `bearer_token` and, for a token found, the three verifications; and
/// the bytes themselves (lossy UTF-8) as a token, so the token parser is reached with bytes a
/// header could not carry.
pub fn bearer_token_verify(data: &[u8]) -> String {
    let header = match HeaderValue::from_bytes(data) {
        Err(_) => "not a header value".to_owned(),
        Ok(value) => {
            let mut headers = HeaderMap::new();
            headers.insert(AUTHORIZATION, value);
            match bearer_token(&headers) {
                Ok(token) => {
                    // Header bytes are Latin-1, one character each, as `bearer_token` reads them.
                    let value: String = data.iter().map(|&byte| char::from(byte)).collect();
                    assert!(!token.is_empty(), "an empty token was extracted");
                    assert!(
                        !token.contains(char::is_whitespace) && !token.contains(','),
                        "the extracted token {token:?} holds a separator"
                    );
                    assert!(
                        value.contains("Bearer") && value.contains(token.as_str()),
                        "the token {token:?} is not a word of the header {value:?}"
                    );
                    format!("token of {} bytes, {}", token.len(), verify(&token))
                }
                Err(error) => {
                    let message = error.to_string();
                    assert!(!message.is_empty(), "{error:?} has no message");
                    format!("refused: {message}")
                }
            }
        }
    };
    let raw = verify(&String::from_utf8_lossy(data));
    format!("header: {header}; raw: {raw}")
}

/// `verify_at` as an access and as a refresh token, and `check_revocable_at` (what logout
/// uses), of either kind and of each, all as of one instant, which must agree: a token refused
/// whatever its kind is refused with the same error by all of them; an expired one is refused
/// as expired by `verify_at` and reported as expired by `check_revocable_at`; one accepted is
/// accepted as its own kind and refused as the other with the kind's error, expired or not.
fn verify(token: &str) -> String {
    let tokens = &*TOKENS;
    let now = Clock::System.now().as_secs_f64();
    let access = tokens.verify_at(token, TokenKind::Access, now);
    let refresh = tokens.verify_at(token, TokenKind::Refresh, now);
    let any = tokens.check_revocable_at(token, None, now);
    match &any {
        Err(error) => {
            let message = error.to_string();
            assert!(!message.is_empty(), "{error:?} has no message");
            assert!(
                !matches!(
                    error,
                    TokenError::RefreshTokenNotAllowed
                        | TokenError::RefreshTokenRequired
                        | TokenError::Expired
                ),
                "a check of either kind refused a token for its kind or expiry: {error:?}"
            );
            assert_eq!(access.as_ref().err(), Some(error), "access vs any");
            assert_eq!(refresh.as_ref().err(), Some(error), "refresh vs any");
            for kind in [TokenKind::Access, TokenKind::Refresh] {
                assert_eq!(
                    tokens
                        .check_revocable_at(token, Some(kind), now)
                        .as_ref()
                        .err(),
                    Some(error),
                    "{kind:?} revocation vs any"
                );
            }
            format!("refused: {message}")
        }
        Ok(checked) => {
            let claims = &checked.claims;
            assert!(
                token.matches('.').count() >= 2,
                "{token:?} passed with fewer than three segments"
            );
            let (same, other, other_kind, other_error) = match claims.kind {
                TokenKind::Access => (
                    &access,
                    &refresh,
                    TokenKind::Refresh,
                    TokenError::RefreshTokenRequired,
                ),
                TokenKind::Refresh => (
                    &refresh,
                    &access,
                    TokenKind::Access,
                    TokenError::RefreshTokenNotAllowed,
                ),
            };
            assert_eq!(
                tokens
                    .check_revocable_at(token, Some(claims.kind), now)
                    .as_ref()
                    .ok(),
                Some(checked),
                "same kind's revocation vs any"
            );
            assert_eq!(
                tokens
                    .check_revocable_at(token, Some(other_kind), now)
                    .as_ref()
                    .err(),
                Some(&other_error),
                "other kind's revocation vs any"
            );
            if checked.expired {
                assert_eq!(same.as_ref().err(), Some(&TokenError::Expired), "expired");
                assert_eq!(other.as_ref().err(), Some(&TokenError::Expired), "expired");
                return "refused: Token has expired".to_owned();
            }
            assert_eq!(same.as_ref().ok(), Some(claims), "same kind vs any");
            assert_eq!(
                other.as_ref().err(),
                Some(&other_error),
                "other kind vs any"
            );
            describe_claims(claims)
        }
    }
}

fn describe_claims(claims: &VerifiedClaims) -> String {
    let kind = match claims.kind {
        TokenKind::Access => "access",
        TokenKind::Refresh => "refresh",
    };
    format!(
        "{kind} token of {}, expires at {}",
        short(&claims.subject),
        claims.expires_at
    )
}

/// Target `login_body`: the bytes as the body of `POST /login` (`application/json`), through
/// `json_body` and, for JSON, both body schemas.
pub fn login_body(data: &[u8]) -> String {
    let request: Request = lambda_http::http::Request::builder()
        .method("POST")
        .uri("/login")
        .header(CONTENT_TYPE, "application/json")
        .body(Body::Binary(data.to_vec()))
        .expect("a fixed request builds");
    let value = match json_body(&request) {
        Ok(value) => value,
        Err(error) => {
            let message = error.to_string();
            assert!(!message.is_empty(), "{error:?} has no message");
            return format!("body refused: {message}");
        }
    };
    assert!(
        !data.trim_ascii().is_empty(),
        "a blank body was read as JSON"
    );
    let object = value.as_object();
    let keys: Option<Vec<&String>> = object.map(|object| object.keys().collect());

    let login = match login_schema::validate(&value) {
        Ok(credentials) => {
            let object = object.expect("only an object holds credentials");
            assert_eq!(object.len(), 2, "credentials from {object:?}");
            for (field, got) in [
                ("username", &credentials.username),
                ("password", &credentials.password),
            ] {
                assert!(!got.is_empty(), "empty {field} accepted");
                assert_eq!(
                    object.get(field).and_then(|v| v.as_str()),
                    Some(got.as_str())
                );
            }
            format!("ok for {}", short(&credentials.username))
        }
        Err(errors) => format!("refused: {}", check_field_errors(&errors, keys.as_deref())),
    };

    let logout = match logout_schema::validate(&value) {
        Ok(token) => {
            let object = object.expect("only an object is a logout body");
            match token {
                Some(token) => {
                    assert_eq!(object.len(), 1, "logout token from {object:?}");
                    assert!(!token.is_empty(), "empty refresh_token accepted");
                    format!("ok with a token of {} bytes", token.len())
                }
                None => {
                    assert!(
                        object.is_empty(),
                        "{object:?} taken as an empty logout body"
                    );
                    "ok without a token".to_owned()
                }
            }
        }
        Err(errors) => format!("refused: {}", check_field_errors(&errors, keys.as_deref())),
    };
    format!("login: {login}; logout: {logout}")
}

/// Field errors are never empty, every message is a real one, and each names a key of the
/// object or a required field; a body that is not an object has the one `_schema` error.
fn check_field_errors(errors: &FieldErrors, keys: Option<&[&String]>) -> String {
    assert!(!errors.is_empty(), "refused without a reason");
    match keys {
        None => assert_eq!(
            errors,
            &FieldErrors::from([(SCHEMA_KEY.to_owned(), vec![INVALID_INPUT_TYPE])]),
            "errors of a non-object"
        ),
        Some(keys) => {
            for (field, messages) in errors {
                assert!(
                    keys.contains(&field) || ["username", "password"].contains(&field.as_str()),
                    "an error for {field:?}, which the body does not have"
                );
                assert_eq!(messages.len(), 1, "{field}: {messages:?}");
                assert!(messages.iter().all(|message| !message.is_empty()));
            }
        }
    }
    let mut listed: Vec<String> = errors
        .iter()
        .take(4)
        .map(|(field, messages)| format!("{} {}", short(field), messages.join(" ")))
        .collect();
    if errors.len() > listed.len() {
        listed.push(format!("and {} more", errors.len() - listed.len()));
    }
    listed.join(", ")
}

/// A string for a summary line: quoted, and cut after 40 characters.
fn short(text: &str) -> String {
    let count = text.chars().count();
    if count <= 40 {
        format!("{text:?}")
    } else {
        let head: String = text.chars().take(40).collect();
        format!("{head:?}... ({count} characters)")
    }
}

//! The login body, validated exactly like the seed app's marshmallow `LoginSchema`:
//! `username` and `password` both required strings of at least one character, nothing else.

use std::{collections::BTreeMap, fmt};

use serde_json::Value;

pub const MISSING: &str = "Missing data for required field.";
pub const NULL: &str = "Field may not be null.";
pub const NOT_A_STRING: &str = "Not a valid string.";
pub const TOO_SHORT: &str = "Shorter than minimum length 1.";
pub const UNKNOWN_FIELD: &str = "Unknown field.";
pub const INVALID_INPUT_TYPE: &str = "Invalid input type.";
/// marshmallow's key for errors about the whole input rather than one field.
pub const SCHEMA_KEY: &str = "_schema";

const FIELDS: [&str; 2] = ["username", "password"];

/// Every field's messages at once, keyed by field name (sorted, as Flask serialises them).
pub type FieldErrors = BTreeMap<String, Vec<&'static str>>;

/// A username and password that passed the schema. `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Validates a parsed JSON body.
pub fn validate(body: &Value) -> Result<Credentials, FieldErrors> {
    let Value::Object(object) = body else {
        return Err(FieldErrors::from([(
            SCHEMA_KEY.to_owned(),
            vec![INVALID_INPUT_TYPE],
        )]));
    };
    let mut errors = FieldErrors::new();
    let mut values = FIELDS.iter().map(|&field| match object.get(field) {
        None => Err(MISSING),
        Some(Value::Null) => Err(NULL),
        Some(Value::String(text)) if text.chars().count() < 1 => Err(TOO_SHORT),
        Some(Value::String(text)) => Ok(text.clone()),
        Some(_) => Err(NOT_A_STRING),
    });
    let (username, password) = (values.next(), values.next());
    for (field, value) in FIELDS.iter().zip([&username, &password]) {
        if let Some(Err(message)) = value {
            errors.insert((*field).to_owned(), vec![message]);
        }
    }
    for key in object.keys().filter(|key| !FIELDS.contains(&key.as_str())) {
        errors.insert(key.clone(), vec![UNKNOWN_FIELD]);
    }
    match (username, password) {
        (Some(Ok(username)), Some(Ok(password))) if errors.is_empty() => {
            Ok(Credentials { username, password })
        }
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn errors_of(body: Value) -> Value {
        serde_json::to_value(validate(&body).unwrap_err()).unwrap()
    }

    #[test]
    fn valid_body_gives_credentials() {
        let credentials =
            validate(&json!({"username": "cosmo", "password": "space-corgi"})).unwrap();
        assert_eq!(credentials.username, "cosmo");
        assert_eq!(credentials.password, "space-corgi");
    }

    #[test]
    fn single_space_is_a_valid_username() {
        assert!(validate(&json!({"username": " ", "password": "x"})).is_ok());
    }

    #[test]
    fn empty_object_reports_both_fields_missing() {
        assert_eq!(
            errors_of(json!({})),
            json!({"password": [MISSING], "username": [MISSING]})
        );
    }

    #[test]
    fn empty_strings_are_shorter_than_minimum_length() {
        assert_eq!(
            errors_of(json!({"username": "", "password": ""})),
            json!({"password": [TOO_SHORT], "username": [TOO_SHORT]})
        );
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert!(validate(&json!({"username": "é", "password": "🐕"})).is_ok());
    }

    #[test]
    fn non_strings_are_not_valid_strings_and_skip_the_length_check() {
        for bad in [
            json!(1),
            json!(1.5),
            json!(true),
            json!({}),
            json!([]),
            json!(["a"]),
        ] {
            assert_eq!(
                errors_of(json!({"username": bad, "password": "x"})),
                json!({"username": [NOT_A_STRING]}),
                "{bad}"
            );
        }
    }

    #[test]
    fn null_may_not_be_null() {
        assert_eq!(
            errors_of(json!({"username": null, "password": null})),
            json!({"password": [NULL], "username": [NULL]})
        );
    }

    #[test]
    fn unknown_fields_are_refused_even_with_right_credentials() {
        assert_eq!(
            errors_of(json!({"username": "cosmo", "password": "space-corgi", "admin": true})),
            json!({"admin": [UNKNOWN_FIELD]})
        );
    }

    #[test]
    fn every_field_error_is_reported_at_once() {
        assert_eq!(
            errors_of(json!({"username": 5, "extra": 1})),
            json!({"extra": [UNKNOWN_FIELD], "password": [MISSING], "username": [NOT_A_STRING]})
        );
    }

    #[test]
    fn json_that_is_not_an_object_is_invalid_input_type() {
        for body in [
            json!(null),
            json!([]),
            json!("cosmo"),
            json!(3),
            json!(false),
        ] {
            assert_eq!(
                errors_of(body.clone()),
                json!({"_schema": [INVALID_INPUT_TYPE]}),
                "{body}"
            );
        }
    }

    #[test]
    fn debug_never_shows_the_password() {
        let credentials =
            validate(&json!({"username": "cosmo", "password": "space-corgi"})).unwrap();
        assert!(!format!("{credentials:?}").contains("space-corgi"));
    }
}

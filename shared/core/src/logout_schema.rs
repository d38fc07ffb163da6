//! The logout body, validated in the manner of the login schema: optional, and when present an
//! object whose only field, `refresh_token`, is a string of at least one character.

use serde_json::Value;

use crate::login_schema::{
    FieldErrors, INVALID_INPUT_TYPE, NOT_A_STRING, NULL, SCHEMA_KEY, TOO_SHORT, UNKNOWN_FIELD,
};

pub const REFRESH_TOKEN: &str = "refresh_token";

/// The refresh token a logout body names, if any.
pub fn validate(body: &Value) -> Result<Option<String>, FieldErrors> {
    let Value::Object(object) = body else {
        return Err(FieldErrors::from([(
            SCHEMA_KEY.to_owned(),
            vec![INVALID_INPUT_TYPE],
        )]));
    };
    let mut errors = FieldErrors::new();
    let token = match object.get(REFRESH_TOKEN) {
        None => None,
        Some(Value::String(token)) if !token.is_empty() => Some(token.clone()),
        Some(invalid) => {
            let message = match invalid {
                Value::Null => NULL,
                Value::String(_) => TOO_SHORT,
                _ => NOT_A_STRING,
            };
            errors.insert(REFRESH_TOKEN.to_owned(), vec![message]);
            None
        }
    };
    for key in object.keys().filter(|key| *key != REFRESH_TOKEN) {
        errors.insert(key.clone(), vec![UNKNOWN_FIELD]);
    }
    if errors.is_empty() {
        Ok(token)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refresh_token_is_optional() {
        assert_eq!(validate(&json!({})), Ok(None));
        assert_eq!(
            validate(&json!({"refresh_token": "a.b.c"})),
            Ok(Some("a.b.c".to_owned()))
        );
    }

    #[test]
    fn invalid_fields_get_marshmallow_messages() {
        let errors = validate(&json!({"refresh_token": 5, "extra": true})).unwrap_err();
        assert_eq!(
            serde_json::to_value(errors).unwrap(),
            json!({"extra": ["Unknown field."], "refresh_token": ["Not a valid string."]})
        );
        let errors = validate(&json!({"refresh_token": ""})).unwrap_err();
        assert_eq!(errors[REFRESH_TOKEN], vec![TOO_SHORT]);
        let errors = validate(&json!({"refresh_token": null})).unwrap_err();
        assert_eq!(errors[REFRESH_TOKEN], vec![NULL]);
        let errors = validate(&json!(["refresh_token"])).unwrap_err();
        assert_eq!(
            serde_json::to_value(errors).unwrap(),
            json!({"_schema": ["Invalid input type."]})
        );
    }
}

//! The self-service routes' bodies, validated as the login body is (`login_schema`): each
//! field a required string of at least one character, no other field, every error at once,
//! in marshmallow's words.

use serde_json::Value;

use crate::login_schema::{
    FieldErrors, INVALID_INPUT_TYPE, MISSING, NOT_A_STRING, NULL, SCHEMA_KEY, TOO_SHORT,
    UNKNOWN_FIELD,
};

/// The longest value a field may hold, in characters: a password's limit
/// (`auth_password_policy::MAX_CHARS`), and far beyond any address or token. A body of a
/// megabyte of password is refused before it is hashed.
pub const MAX_FIELD_CHARS: usize = 1024;
pub const TOO_LONG: &str = "Longer than maximum length 1024.";
/// marshmallow's `OneOf` message for `type`.
pub const NOT_A_TYPE: &str = "Must be one of: signup, recovery.";

/// The values of `fields` in `body`, in their order.
pub fn fields(body: &Value, fields: &[&str]) -> Result<Vec<String>, FieldErrors> {
    let Value::Object(object) = body else {
        return Err(FieldErrors::from([(
            SCHEMA_KEY.to_owned(),
            vec![INVALID_INPUT_TYPE],
        )]));
    };
    let mut errors = FieldErrors::new();
    let mut values = Vec::with_capacity(fields.len());
    for field in fields {
        let value = match object.get(*field) {
            None => Err(MISSING),
            Some(Value::Null) => Err(NULL),
            Some(Value::String(text)) => match text.chars().count() {
                0 => Err(TOO_SHORT),
                count if count > MAX_FIELD_CHARS => Err(TOO_LONG),
                _ => Ok(text.clone()),
            },
            Some(_) => Err(NOT_A_STRING),
        };
        match value {
            Ok(value) => values.push(value),
            Err(message) => {
                errors.insert((*field).to_owned(), vec![message]);
            }
        }
    }
    for key in object.keys().filter(|key| !fields.contains(&key.as_str())) {
        errors.insert(key.clone(), vec![UNKNOWN_FIELD]);
    }
    match errors.is_empty() {
        true => Ok(values),
        false => Err(errors),
    }
}

/// `fields`, whose first is `type`, one of the purposes' names.
pub fn typed_fields(
    body: &Value,
    fields_after_type: &[&str],
) -> Result<(super::Purpose, Vec<String>), FieldErrors> {
    let mut names = vec!["type"];
    names.extend_from_slice(fields_after_type);
    let mut values = fields(body, &names)?;
    let purpose = super::Purpose::named(&values.remove(0))
        .ok_or_else(|| FieldErrors::from([("type".to_owned(), vec![NOT_A_TYPE])]))?;
    Ok((purpose, values))
}

/// The messages of one field.
pub fn field_error(field: &str, message: &'static str) -> FieldErrors {
    FieldErrors::from([(field.to_owned(), vec![message])])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::Purpose;
    use serde_json::json;

    #[test]
    fn every_field_is_a_required_nonempty_bounded_string_and_nothing_else_is_taken() {
        assert_eq!(
            fields(
                &json!({"email": "a@b.co", "password": "pw"}),
                &["email", "password"]
            )
            .unwrap(),
            ["a@b.co", "pw"]
        );
        let errors = fields(
            &json!({"email": "", "password": 7, "extra": 1}),
            &["email", "password", "token"],
        )
        .unwrap_err();
        assert_eq!(
            serde_json::to_value(errors).unwrap(),
            json!({"email": [TOO_SHORT], "password": [NOT_A_STRING], "token": [MISSING], "extra": [UNKNOWN_FIELD]})
        );
        let long = "x".repeat(MAX_FIELD_CHARS + 1);
        assert_eq!(
            serde_json::to_value(fields(&json!({"password": long}), &["password"]).unwrap_err())
                .unwrap(),
            json!({"password": [TOO_LONG]})
        );
        assert!(fields(&json!(["email"]), &["email"]).is_err());
        assert!(fields(&json!({"email": null}), &["email"]).is_err());
    }

    #[test]
    fn type_is_signup_or_recovery() {
        let (purpose, rest) =
            typed_fields(&json!({"type": "recovery", "email": "a@b.co"}), &["email"]).unwrap();
        assert_eq!(purpose, Purpose::Recovery);
        assert_eq!(rest, ["a@b.co"]);
        assert_eq!(
            serde_json::to_value(
                typed_fields(&json!({"type": "magiclink", "token": "t"}), &["token"]).unwrap_err()
            )
            .unwrap(),
            json!({"type": [NOT_A_TYPE]})
        );
    }
}

//! The second factor's bodies, validated as the login body is (`auth_core::accounts::schema`):
//! each field a required string of at least one character, no other field, every error at
//! once, in marshmallow's words. A code is given as `code` (TOTP) or `recovery_code`: a body
//! with `recovery_code` takes no `code` (it is an unknown field there).

use auth_core::login_schema::FieldErrors;
use serde_json::Value;

pub use auth_core::accounts::schema::fields;

/// What proves the factor: a TOTP code or a recovery code, as typed.
#[derive(Clone, PartialEq, Eq)]
pub enum Answer {
    Code(String),
    RecoveryCode(String),
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Answer::Code(_) => "Code(<redacted>)",
            Answer::RecoveryCode(_) => "RecoveryCode(<redacted>)",
        })
    }
}

/// The answer of `body`, after the fields `before` (e.g. `mfa_token`), whose values come
/// first.
pub fn answer(body: &Value, before: &[&str]) -> Result<(Vec<String>, Answer), FieldErrors> {
    let recovery = body
        .as_object()
        .is_some_and(|object| object.contains_key("recovery_code"));
    let mut names = before.to_vec();
    names.push(if recovery { "recovery_code" } else { "code" });
    let mut values = fields(body, &names)?;
    let given = values.pop().unwrap_or_default();
    let answer = match recovery {
        true => Answer::RecoveryCode(given),
        false => Answer::Code(given),
    };
    Ok((values, answer))
}

#[cfg(test)]
mod tests {
    use auth_core::login_schema::{MISSING, UNKNOWN_FIELD};
    use serde_json::json;

    use super::*;

    #[test]
    fn a_code_or_a_recovery_code_after_the_fields_before_it() {
        let (before, answer) =
            super::answer(&json!({"mfa_token": "t", "code": "123456"}), &["mfa_token"]).unwrap();
        assert_eq!(before, ["t"]);
        assert_eq!(answer, Answer::Code("123456".into()));
        let (_, answer) = super::answer(
            &json!({"mfa_token": "t", "recovery_code": "abcd-efgh-jkmn"}),
            &["mfa_token"],
        )
        .unwrap();
        assert_eq!(answer, Answer::RecoveryCode("abcd-efgh-jkmn".into()));
        let (none, answer) = super::answer(&json!({"code": "1"}), &[]).unwrap();
        assert!(none.is_empty());
        assert_eq!(answer, Answer::Code("1".into()));
    }

    #[test]
    fn neither_is_a_missing_code_and_both_is_an_unknown_field() {
        assert_eq!(
            serde_json::to_value(
                super::answer(&json!({"mfa_token": "t"}), &["mfa_token"]).unwrap_err()
            )
            .unwrap(),
            json!({"code": [MISSING]})
        );
        assert_eq!(
            serde_json::to_value(
                super::answer(&json!({"code": "1", "recovery_code": "2"}), &[]).unwrap_err()
            )
            .unwrap(),
            json!({"code": [UNKNOWN_FIELD]})
        );
    }

    #[test]
    fn debug_never_shows_a_code() {
        assert!(!format!("{:?}", Answer::Code("123456".into())).contains("123456"));
        assert!(!format!("{:?}", Answer::RecoveryCode("abcd".into())).contains("abcd"));
    }
}

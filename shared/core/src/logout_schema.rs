//! The logout request: its body, validated in the manner of the login schema (optional, and
//! when present an object whose only field, `refresh_token`, is a string of at least one
//! character), and its scope (`?scope=`), what of the user's sessions it ends.

use serde_json::Value;

use crate::{
    activity::detail,
    login_schema::{
        FieldErrors, INVALID_INPUT_TYPE, NOT_A_STRING, NULL, SCHEMA_KEY, TOO_SHORT, UNKNOWN_FIELD,
    },
};

pub const REFRESH_TOKEN: &str = "refresh_token";
/// The query parameter that names a logout's scope.
pub const SCOPE: &str = "scope";
/// What a scope that is none of `LogoutScope`'s names is answered.
pub const INVALID_SCOPE: &str = "Invalid logout scope: expected local, others or global";
/// What a scope given twice is answered.
pub const REPEATED_SCOPE: &str = "Give the logout scope once";

/// What a logout ends, by Supabase Auth's names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogoutScope {
    /// What the request holds: its tokens, and the session of a refresh token or of cookies.
    #[default]
    Local,
    /// Every other session of the user; the caller's lives on.
    Others,
    /// Every session of the user, the caller's with what `Local` ends.
    Global,
}

impl LogoutScope {
    pub const ALL: [LogoutScope; 3] =
        [LogoutScope::Local, LogoutScope::Others, LogoutScope::Global];

    /// Its name in `?scope=`, which is also the logout's detail in the activity log.
    pub fn name(self) -> &'static str {
        match self {
            LogoutScope::Local => detail::SCOPE_LOCAL,
            LogoutScope::Others => detail::SCOPE_OTHERS,
            LogoutScope::Global => detail::SCOPE_GLOBAL,
        }
    }

    /// The scope of `?scope=`: `Local` when none is given; exactly a name, else none.
    pub fn of_query(value: Option<&str>) -> Option<Self> {
        match value {
            None => Some(LogoutScope::Local),
            Some(name) => Self::ALL.into_iter().find(|scope| scope.name() == name),
        }
    }

    /// Whether it ends sessions other than what the request holds: the scopes that need a
    /// live token, checked against the stores.
    pub fn reaches_other_sessions(self) -> bool {
        self != LogoutScope::Local
    }
}

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
    fn a_scope_is_exactly_one_of_three_names_and_local_when_absent() {
        assert_eq!(LogoutScope::of_query(None), Some(LogoutScope::Local));
        for scope in LogoutScope::ALL {
            assert_eq!(LogoutScope::of_query(Some(scope.name())), Some(scope));
        }
        for bad in ["", "Global", " local", "all", "others\n", "local,global"] {
            assert_eq!(LogoutScope::of_query(Some(bad)), None, "{bad:?}");
        }
        assert!(!LogoutScope::Local.reaches_other_sessions());
        assert!(LogoutScope::Others.reaches_other_sessions());
    }

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

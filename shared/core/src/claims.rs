//! The token payload, with flask-jwt-extended's claim names so tokens work in both directions.

use serde::Serialize;

/// flask-jwt-extended's `type` claim. A token without it, or with any value but `refresh`,
/// counts as an access token, as flask-jwt-extended treats it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    Access,
    Refresh,
}

/// How a session's user proved who they are: RFC 8176's `amr` values, as its tokens carry
/// them. Chosen at the login and carried unchanged through every refresh of the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethods {
    /// A password alone.
    Password,
    /// A password and a TOTP code: a one-time password (`otp`), a second factor (`mfa`).
    PasswordAndOtp,
    /// A password and a recovery code, in place of the TOTP code: a second factor, not `otp`.
    PasswordAndRecoveryCode,
}

impl AuthMethods {
    /// The `amr` claim's values.
    pub fn values(self) -> &'static [&'static str] {
        match self {
            AuthMethods::Password => &["pwd"],
            AuthMethods::PasswordAndOtp => &["pwd", "otp", "mfa"],
            AuthMethods::PasswordAndRecoveryCode => &["pwd", "mfa"],
        }
    }

    /// The methods of an `amr` claim we issued; none for any other (a token of
    /// flask-jwt-extended's has none, and one of another issuer's is not carried on).
    pub fn of_claim(values: &[String]) -> Option<Self> {
        [
            AuthMethods::Password,
            AuthMethods::PasswordAndOtp,
            AuthMethods::PasswordAndRecoveryCode,
        ]
        .into_iter()
        .find(|methods| methods.values().iter().eq(values.iter()))
    }

    /// Whether a second factor was passed: what `AUTHORIZER_REQUIRE_MFA` asks.
    pub fn has_second_factor(self) -> bool {
        self.values().contains(&"mfa")
    }
}

/// The payload we sign, in flask-jwt-extended's claim order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IssuedClaims<'a> {
    /// True for an access token straight from a login, false for one from a refresh.
    pub fresh: bool,
    pub iat: i64,
    pub jti: &'a str,
    /// The session (refresh-token family) the token belongs to: OpenID Connect's `sid` name.
    /// Absent only from tokens issued by other means (flask-jwt-extended's, the tests').
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<&'a str>,
    /// When the session began, at its login: OpenID Connect's `auth_time`. Carried unchanged
    /// by every token of the session, it caps the session's life (`JWT_SESSION_MAX_AGE`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// How the session's user signed in (RFC 8176), carried unchanged by every token of the
    /// session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amr: Option<&'a [&'a str]>,
    #[serde(rename = "type")]
    pub kind: TokenKind,
    pub sub: &'a str,
    pub nbf: i64,
    /// The CSRF double-submit value of a token set in a cookie; where flask-jwt-extended puts
    /// it, after `nbf`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf: Option<&'a str>,
    pub exp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<&'a str>,
    /// The user's scopes, space-separated (RFC 9068 section 2.2.3), in access tokens of a user
    /// who has any: what a JWT authorizer checks a route's scopes against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<&'a str>,
}

/// What a token that passed every check tells us.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedClaims {
    /// The username (`sub`).
    pub subject: String,
    pub kind: TokenKind,
    /// The token's id, when it has one (flask-jwt-extended allows tokens without).
    pub jti: Option<String>,
    /// `exp`, in seconds since the epoch.
    pub expires_at: i64,
    /// `iat`, in seconds since the epoch, when the token has one.
    pub issued_at: Option<i64>,
    /// The session (`sid`) the token belongs to, when it names one.
    pub session: Option<String>,
    /// `auth_time`, when the token has one as an integer: when its session began.
    pub auth_time: Option<i64>,
    /// `amr`, when the token has one as an array of strings: how its session signed in. Read
    /// as it is; `AuthMethods::of_claim` tells the values we issue.
    pub amr: Option<Vec<String>>,
    /// `scope`, when the token has one as a string: the scopes it grants, space-separated.
    pub scope: Option<String>,
    /// `fresh`: whether the token came straight from a login (flask-jwt-extended's claim; a
    /// token without it, or with anything but `true`, is not fresh).
    pub fresh: bool,
    /// `csrf`, when the token has one as a string: what a cookie token's `X-CSRF-TOKEN` must be.
    pub csrf: Option<String>,
}

impl VerifiedClaims {
    /// The session the token belongs to: its `sid`, or for a token without one (issued before
    /// sessions, or by flask-jwt-extended) its own `jti`, a session of one token.
    pub fn session_id(&self) -> Option<&str> {
        self.session.as_deref().or(self.jti.as_deref())
    }

    /// When the token's session began: its `auth_time`, or for a token without one
    /// (flask-jwt-extended's, or issued before sessions had a start) its `iat`, the latest the
    /// session can have begun. Every token of a session agrees on it: those a token without
    /// `auth_time` buys carry its `iat` as theirs.
    pub fn session_started_at(&self) -> Option<i64> {
        self.auth_time.or(self.issued_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_claims_use_flask_jwt_extended_names_in_its_order() {
        let claims = IssuedClaims {
            fresh: true,
            iat: 10,
            jti: "id",
            sid: None,
            auth_time: None,
            amr: None,
            kind: TokenKind::Refresh,
            sub: "cosmo",
            nbf: 10,
            csrf: None,
            exp: 20,
            iss: None,
            aud: None,
            scope: None,
        };
        assert_eq!(
            serde_json::to_string(&claims).unwrap(),
            r#"{"fresh":true,"iat":10,"jti":"id","type":"refresh","sub":"cosmo","nbf":10,"exp":20}"#
        );
    }

    #[test]
    fn only_the_amr_sets_we_issue_are_read_back_and_only_those_with_a_second_factor_count() {
        for methods in [
            AuthMethods::Password,
            AuthMethods::PasswordAndOtp,
            AuthMethods::PasswordAndRecoveryCode,
        ] {
            let values: Vec<String> = methods.values().iter().map(|v| v.to_string()).collect();
            assert_eq!(AuthMethods::of_claim(&values), Some(methods));
        }
        assert!(!AuthMethods::Password.has_second_factor());
        assert!(AuthMethods::PasswordAndOtp.has_second_factor());
        assert!(AuthMethods::PasswordAndRecoveryCode.has_second_factor());
        for foreign in [
            vec![],
            vec!["mfa".to_owned()],
            vec!["otp".to_owned(), "pwd".to_owned(), "mfa".to_owned()],
            vec![
                "pwd".to_owned(),
                "otp".to_owned(),
                "mfa".to_owned(),
                "hwk".to_owned(),
            ],
        ] {
            assert_eq!(AuthMethods::of_claim(&foreign), None, "{foreign:?}");
        }
    }

    #[test]
    fn issuer_and_audience_appear_only_when_configured() {
        let claims = IssuedClaims {
            fresh: false,
            iat: 1,
            jti: "j",
            sid: Some("s"),
            auth_time: Some(1),
            amr: Some(AuthMethods::PasswordAndOtp.values()),
            kind: TokenKind::Access,
            sub: "s",
            nbf: 1,
            csrf: None,
            exp: 2,
            iss: Some("https://auth.example"),
            aud: Some("api"),
            scope: Some("read write"),
        };
        let json = serde_json::to_value(&claims).unwrap();
        assert_eq!(json["iss"], "https://auth.example");
        assert_eq!(json["aud"], "api");
        assert_eq!(json["type"], "access");
        assert_eq!(json["sid"], "s");
        assert_eq!(json["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
        assert_eq!(json["auth_time"], 1);
        assert_eq!(json["scope"], "read write");
        assert!(json.get("csrf").is_none());
    }

    #[test]
    fn a_cookie_token_carries_csrf_after_nbf_as_flask_jwt_extended_puts_it() {
        let claims = IssuedClaims {
            fresh: false,
            iat: 10,
            jti: "id",
            sid: None,
            auth_time: None,
            amr: None,
            kind: TokenKind::Access,
            sub: "cosmo",
            nbf: 10,
            csrf: Some("c5"),
            exp: 20,
            iss: None,
            aud: None,
            scope: None,
        };
        assert_eq!(
            serde_json::to_string(&claims).unwrap(),
            r#"{"fresh":false,"iat":10,"jti":"id","type":"access","sub":"cosmo","nbf":10,"csrf":"c5","exp":20}"#
        );
    }
}

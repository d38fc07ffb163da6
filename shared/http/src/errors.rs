//! The one place where a failure becomes a status and a body.
//!
//! Login answers `{"error": ...}` like the seed app's login route; the token routes answer
//! `{"msg": ...}` like flask-jwt-extended. Every 401 carries `WWW-Authenticate: Bearer`
//! (RFC 6750). No body ever echoes a token, a password or the secret.

use auth_core::{
    access::Refusal,
    accounts::{AccountError, ip_limit::IpThrottled},
    login_schema::FieldErrors,
    login_throttle::{ThrottleError, ThrottleReason, Throttled},
    metrics::Event,
    mfa::MfaError,
    store::StoreError,
    tokens::{SigningError, TokenError},
};
use lambda_http::{
    Body, Response,
    http::{
        HeaderValue, StatusCode,
        header::{RETRY_AFTER, WWW_AUTHENTICATE},
    },
};
use serde_json::{Value, json};

use crate::{
    bearer::AuthHeaderError,
    body::BodyError,
    csrf::CsrfError,
    presented::{NoToken, NotPresented},
    response::json_response,
};

pub const BAD_CREDENTIALS: &str = "Bad username or password";
pub const SERVICE_UNAVAILABLE: &str = "Service unavailable";
pub const INTERNAL_ERROR: &str = "Internal server error";
pub const USER_DISABLED: &str = "User account is disabled";
/// flask-jwt-extended's message for a token in its blocklist.
pub const TOKEN_REVOKED: &str = "Token has been revoked";
pub const TOO_MANY_LOGIN_ATTEMPTS: &str = "Too many failed login attempts";
/// A login that waited its longest for the password checks ahead of it to finish.
pub const LOGIN_ATTEMPTS_IN_FLIGHT: &str = "Too many login attempts in progress";
/// What a 503 asks a client to wait before it tries again: an outage or a slow store is
/// usually over in seconds, and a login flood is worked off at tens of logins a second.
pub const RETRY_UNAVAILABLE_AFTER_SECS: u64 = 2;
/// Supabase Auth's words for a login before the address is confirmed.
pub const EMAIL_NOT_CONFIRMED: &str = "Email not confirmed";
/// flask-jwt-extended's message for a non-fresh token at a route that needs a fresh one.
pub const FRESH_TOKEN_REQUIRED: &str = "Fresh token required";
pub const TOO_MANY_REQUESTS: &str = "Too many requests: try again later";
pub const SIGNUP_DISABLED: &str = "Sign-up is disabled";
pub const SIGNUP_DOMAIN_NOT_ALLOWED: &str = "Sign-up is not open to addresses of this domain";
/// A mailed token unknown, spent, expired, of another purpose or replaced: one message for
/// all, so that none tells a guesser anything.
pub const MAIL_TOKEN_INVALID: &str = "Token is invalid or has expired";
pub const WRONG_CURRENT_PASSWORD: &str = "Current password is incorrect";
/// Auth0's word for a right password that needs a second factor before any token.
pub const MFA_REQUIRED: &str = "mfa_required";
/// An `mfa_token` unknown, expired, spent, dead, of another address: one message for all.
pub const MFA_TOKEN_INVALID: &str = "MFA token is invalid or has expired";
/// A wrong TOTP or recovery code, or one already used: one message for both.
pub const WRONG_CODE: &str = "Invalid code";
pub const TOO_MANY_WRONG_CODES: &str = "Too many wrong codes: try again later";
pub const MFA_ALREADY_ON: &str = "A second factor is already on: remove it first";
pub const MFA_NOT_ON: &str = "No second factor to act on";

/// The key an error body's message goes under, which the answering route decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKey {
    /// `{"error": ...}`, as the seed app's `POST /login` answers.
    Error,
    /// `{"msg": ...}`, as flask-jwt-extended answers on the routes that take a token.
    Msg,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("request body: {0}")]
    Body(#[from] BodyError),
    #[error("login body failed validation")]
    Validation(FieldErrors),
    #[error("bad username or password")]
    BadCredentials,
    #[error("authorization header: {0}")]
    AuthHeader(#[from] AuthHeaderError),
    /// No token where `JWT_TOKEN_LOCATION` says to look (cookie mode, or several places).
    #[error("no token: {0}")]
    NoToken(#[from] NoToken),
    /// A cookie token's request without the CSRF proof it needs.
    #[error("csrf: {0}")]
    Csrf(#[from] CsrfError),
    #[error("token refused: {0}")]
    Token(#[from] TokenError),
    /// A valid token for a user the store does not have (any more).
    #[error("token for an unknown user")]
    UnknownUser(String),
    /// A valid token for a user an operator has disabled.
    #[error("token for a disabled user")]
    DisabledUser,
    /// A valid token that was revoked: logged out, of a session that ended, or issued before
    /// its user's last password change.
    #[error("revoked token")]
    Revoked,
    /// A spent refresh token presented again (rotation on, past the grace): its session is
    /// ended now. Answered as `Revoked`, counted apart: it is the theft signal.
    #[error("a spent refresh token presented again")]
    Replayed,
    #[error("too many login attempts")]
    Throttled(Throttled),
    /// The store did not answer: 503 when it is unavailable, 500 when it refused our request.
    #[error("{1}")]
    Store(ErrorKey, StoreError),
    /// The request's deadline passed before it was answered: a slow store, or more logins
    /// than there are CPUs to check their passwords.
    #[error("the request's deadline passed before it was answered")]
    DeadlineExceeded(ErrorKey),
    #[error("{1}")]
    Signing(ErrorKey, SigningError),
    /// A self-service request refused (`auth_core::accounts::AccountError`).
    #[error("{1}")]
    Account(ErrorKey, AccountError),
    /// The right password of an account whose address is not confirmed yet.
    #[error("email not confirmed")]
    EmailNotConfirmed,
    /// Over the route's per-address limit.
    #[error("too many requests from one address")]
    IpThrottled(ErrorKey, IpThrottled),
    /// A second-factor request refused (`auth_core::mfa::MfaError`).
    #[error("{1}")]
    Mfa(ErrorKey, MfaError),
    /// A query parameter the route cannot take, told in fixed words: the value sent is never
    /// echoed.
    #[error("query parameter: {0}")]
    InvalidQuery(&'static str),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Body(BodyError::UnsupportedMediaType) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Body(_) | ApiError::Validation(_) | ApiError::InvalidQuery(_) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::BadCredentials
            | ApiError::UnknownUser(_)
            | ApiError::DisabledUser
            | ApiError::Revoked
            | ApiError::Replayed
            | ApiError::NoToken(_)
            | ApiError::Csrf(CsrfError::Missing | CsrfError::Mismatch) => StatusCode::UNAUTHORIZED,
            ApiError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::AuthHeader(AuthHeaderError::Missing | AuthHeaderError::NoBearer) => {
                StatusCode::UNAUTHORIZED
            }
            ApiError::AuthHeader(AuthHeaderError::Malformed) => StatusCode::UNPROCESSABLE_ENTITY,
            // A cookie token without a claim to prove: its token is not ours to accept.
            ApiError::Csrf(CsrfError::NoClaim) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Token(error) if error.is_expired() => StatusCode::UNAUTHORIZED,
            ApiError::Token(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Store(_, StoreError::Unavailable(_)) | ApiError::DeadlineExceeded(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            // KMS throttling, slow or unreachable: like a store that is.
            ApiError::Signing(_, error) if error.is_unavailable() => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Store(_, StoreError::Rejected { .. }) | ApiError::Signing(..) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            ApiError::EmailNotConfirmed => StatusCode::FORBIDDEN,
            ApiError::Mfa(key, error) => match error {
                MfaError::Invalid(_) => StatusCode::BAD_REQUEST,
                MfaError::InvalidMfaToken | MfaError::WrongCode => StatusCode::UNAUTHORIZED,
                MfaError::Locked(_) => StatusCode::TOO_MANY_REQUESTS,
                MfaError::AlreadyOn | MfaError::NotOn => StatusCode::CONFLICT,
                MfaError::Store(error) => ApiError::Store(*key, error.clone()).status(),
                MfaError::NotConfigured(_) | MfaError::Internal(_) => {
                    StatusCode::INTERNAL_SERVER_ERROR
                }
            },
            ApiError::IpThrottled(..) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Account(key, error) => match error {
                AccountError::Invalid(_)
                | AccountError::Refused { .. }
                | AccountError::InvalidToken => StatusCode::BAD_REQUEST,
                AccountError::SignupDisabled | AccountError::DomainNotAllowed => {
                    StatusCode::FORBIDDEN
                }
                AccountError::WrongPassword | AccountError::NotFresh => StatusCode::UNAUTHORIZED,
                AccountError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
                AccountError::MailUnavailable(..) => StatusCode::SERVICE_UNAVAILABLE,
                AccountError::Store(error) => ApiError::Store(*key, error.clone()).status(),
                AccountError::NotConfigured(_) | AccountError::Internal(_) => {
                    StatusCode::INTERNAL_SERVER_ERROR
                }
            },
        }
    }

    fn body(&self) -> Value {
        match self {
            ApiError::Body(error) => json!({"error": error.to_string()}),
            ApiError::Validation(errors) => json!({"error": errors}),
            ApiError::BadCredentials => json!({"error": BAD_CREDENTIALS}),
            ApiError::AuthHeader(error) => json!({"msg": error.to_string()}),
            ApiError::NoToken(error) => json!({"msg": error.to_string()}),
            ApiError::Csrf(error) => json!({"msg": error.to_string()}),
            ApiError::Token(error) => json!({"msg": error.to_string()}),
            ApiError::DisabledUser => json!({"msg": USER_DISABLED}),
            ApiError::InvalidQuery(message) => json!({"msg": message}),
            ApiError::Revoked | ApiError::Replayed => json!({"msg": TOKEN_REVOKED}),
            ApiError::Throttled(throttled) => json!({"error": match throttled.reason {
                ThrottleReason::Failures => TOO_MANY_LOGIN_ATTEMPTS,
                ThrottleReason::ChecksInFlight => LOGIN_ATTEMPTS_IN_FLIGHT,
            }}),
            ApiError::UnknownUser(username) => {
                json!({"msg": format!("Error loading the user {username}")})
            }
            ApiError::Store(key, StoreError::Unavailable(_)) | ApiError::DeadlineExceeded(key) => {
                keyed(*key, SERVICE_UNAVAILABLE)
            }
            ApiError::Signing(key, error) if error.is_unavailable() => {
                keyed(*key, SERVICE_UNAVAILABLE)
            }
            ApiError::Store(key, StoreError::Rejected { .. }) | ApiError::Signing(key, _) => {
                keyed(*key, INTERNAL_ERROR)
            }
            ApiError::EmailNotConfirmed => json!({"error": EMAIL_NOT_CONFIRMED}),
            ApiError::IpThrottled(key, _) => keyed(*key, TOO_MANY_REQUESTS),
            ApiError::Mfa(key, error) => match error {
                MfaError::Invalid(errors) => json!({"error": errors}),
                MfaError::InvalidMfaToken => json!({"error": MFA_TOKEN_INVALID}),
                MfaError::WrongCode => json!({"error": WRONG_CODE}),
                MfaError::Locked(_) => json!({"error": TOO_MANY_WRONG_CODES}),
                MfaError::AlreadyOn => json!({"error": MFA_ALREADY_ON}),
                MfaError::NotOn => json!({"error": MFA_NOT_ON}),
                MfaError::Store(error) => ApiError::Store(*key, error.clone()).body(),
                MfaError::NotConfigured(_) | MfaError::Internal(_) => keyed(*key, INTERNAL_ERROR),
            },
            ApiError::Account(key, error) => match error {
                AccountError::Invalid(errors) => json!({"error": errors}),
                AccountError::Refused { field, message } => json!({"error": {*field: [message]}}),
                AccountError::SignupDisabled => json!({"error": SIGNUP_DISABLED}),
                AccountError::DomainNotAllowed => json!({"error": SIGNUP_DOMAIN_NOT_ALLOWED}),
                AccountError::InvalidToken => json!({"error": MAIL_TOKEN_INVALID}),
                AccountError::WrongPassword => json!({"error": WRONG_CURRENT_PASSWORD}),
                AccountError::NotFresh => json!({"msg": FRESH_TOKEN_REQUIRED}),
                AccountError::Throttled(throttled) => ApiError::Throttled(*throttled).body(),
                AccountError::MailUnavailable(..) => keyed(*key, SERVICE_UNAVAILABLE),
                AccountError::Store(error) => ApiError::Store(*key, error.clone()).body(),
                AccountError::NotConfigured(_) | AccountError::Internal(_) => {
                    keyed(*key, INTERNAL_ERROR)
                }
            },
        }
    }

    /// The security event this answer is, if it is one an operator counts: each answer counts
    /// once, so a replay (answered as revoked) counts as a replay only.
    pub fn event(&self) -> Option<Event> {
        match self {
            ApiError::BadCredentials => Some(Event::LoginFailed),
            ApiError::Throttled(_) => Some(Event::LoginThrottled),
            ApiError::Revoked => Some(Event::RevokedTokenPresented),
            ApiError::Replayed => Some(Event::RefreshReuseDetected),
            ApiError::Store(_, StoreError::Unavailable(_))
            | ApiError::Account(_, AccountError::Store(StoreError::Unavailable(_)))
            | ApiError::Mfa(_, MfaError::Store(StoreError::Unavailable(_))) => {
                Some(Event::StoreUnavailable)
            }
            ApiError::IpThrottled(..) => Some(Event::IpThrottled),
            _ => None,
        }
    }

    /// The text of the error's body (its `msg` or `error`): what a message about several
    /// errors quotes of each.
    pub fn message(&self) -> String {
        let body = self.body();
        body.get("msg")
            .or_else(|| body.get("error"))
            .and_then(Value::as_str)
            .map_or_else(|| self.to_string(), str::to_owned)
    }

    /// The response a client gets. Server-side failures are logged with their cause here,
    /// the only place that sees them, and reach the client without it.
    pub fn into_response(self) -> Response<Body> {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut response = json_response(status, &self.body());
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        let retry_after = match &self {
            ApiError::Throttled(throttled)
            | ApiError::Account(_, AccountError::Throttled(throttled))
            | ApiError::Mfa(_, MfaError::Locked(throttled)) => Some(throttled.retry_after),
            ApiError::IpThrottled(_, throttled) => Some(throttled.retry_after.as_secs().max(1)),
            ApiError::Account(_, AccountError::MailUnavailable(_, after)) => {
                Some(after.as_secs().max(1))
            }
            _ if status == StatusCode::SERVICE_UNAVAILABLE => Some(RETRY_UNAVAILABLE_AFTER_SECS),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<ThrottleError> for ApiError {
    fn from(error: ThrottleError) -> Self {
        match error {
            ThrottleError::Throttled(throttled) => ApiError::Throttled(throttled),
            ThrottleError::Store(error) => ApiError::Store(ErrorKey::Error, error),
        }
    }
}

/// A token's user refused (`auth_core::access`), as a route that takes a token answers.
impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Revoked => ApiError::Revoked,
            Refusal::UnknownUser(username) => ApiError::UnknownUser(username),
            Refusal::Disabled => ApiError::DisabledUser,
            Refusal::Store(error) => ApiError::Store(ErrorKey::Msg, error),
        }
    }
}

impl From<NotPresented> for ApiError {
    fn from(error: NotPresented) -> Self {
        match error {
            NotPresented::Header(error) => ApiError::AuthHeader(error),
            NotPresented::Missing(error) => ApiError::NoToken(error),
            NotPresented::Csrf(error) => ApiError::Csrf(error),
        }
    }
}

fn keyed(key: ErrorKey, message: &str) -> Value {
    match key {
        ErrorKey::Error => json!({"error": message}),
        ErrorKey::Msg => json!({"msg": message}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(response: &Response<Body>) -> Value {
        serde_json::from_slice(response.body().as_ref()).unwrap()
    }

    #[test]
    fn expired_token_is_401_with_www_authenticate() {
        let response = ApiError::Token(TokenError::Expired).into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[WWW_AUTHENTICATE], "Bearer");
        assert_eq!(body_of(&response), json!({"msg": "Token has expired"}));
    }

    #[test]
    fn other_token_errors_are_422_without_www_authenticate() {
        let response = ApiError::Token(TokenError::BadSignature).into_response();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(response.headers().get(WWW_AUTHENTICATE).is_none());
        assert_eq!(
            body_of(&response),
            json!({"msg": "Signature verification failed"})
        );
    }

    #[test]
    fn header_errors_map_to_flask_jwt_extended_statuses() {
        assert_eq!(
            ApiError::from(AuthHeaderError::Missing).status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            ApiError::from(AuthHeaderError::NoBearer).status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            ApiError::from(AuthHeaderError::Malformed).status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }

    #[test]
    fn bad_credentials_is_401_error_body() {
        let response = ApiError::BadCredentials.into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[WWW_AUTHENTICATE], "Bearer");
        assert_eq!(
            body_of(&response),
            json!({"error": "Bad username or password"})
        );
    }

    #[test]
    fn unavailable_store_is_503_keyed_by_route_without_the_cause() {
        let cause = || StoreError::unavailable("connection refused to 10.0.0.1");
        let login = ApiError::Store(ErrorKey::Error, cause()).into_response();
        assert_eq!(login.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body_of(&login), json!({"error": "Service unavailable"}));
        let token = ApiError::Store(ErrorKey::Msg, cause()).into_response();
        assert_eq!(body_of(&token), json!({"msg": "Service unavailable"}));
        for response in [&login, &token] {
            assert_eq!(response.headers()[RETRY_AFTER], "2");
        }
    }

    #[test]
    fn a_request_the_store_refused_is_500_without_retry_after_not_an_outage() {
        let refused = || StoreError::Rejected {
            operation: "GetItem",
            detail: "ValidationException: One or more parameter values were invalid".into(),
        };
        let token = ApiError::Store(ErrorKey::Msg, refused()).into_response();
        assert_eq!(token.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(token.headers().get(RETRY_AFTER).is_none());
        assert_eq!(body_of(&token), json!({"msg": "Internal server error"}));
        let login = ApiError::Store(ErrorKey::Error, refused()).into_response();
        assert_eq!(login.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body_of(&login), json!({"error": "Internal server error"}));
    }

    #[test]
    fn a_passed_deadline_is_503_with_retry_after_keyed_by_route() {
        let login = ApiError::DeadlineExceeded(ErrorKey::Error).into_response();
        assert_eq!(login.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(login.headers()[RETRY_AFTER], "2");
        assert_eq!(body_of(&login), json!({"error": "Service unavailable"}));
        let token = ApiError::DeadlineExceeded(ErrorKey::Msg).into_response();
        assert_eq!(body_of(&token), json!({"msg": "Service unavailable"}));
    }

    #[test]
    fn every_error_response_is_json() {
        let response = ApiError::Body(BodyError::UnsupportedMediaType).into_response();
        assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(
            body_of(&response),
            json!({"error": "Content-Type must be application/json"})
        );
    }

    #[test]
    fn revoked_token_is_401_with_flask_jwt_extendeds_message() {
        let response = ApiError::Revoked.into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[WWW_AUTHENTICATE], "Bearer");
        assert_eq!(body_of(&response), json!({"msg": "Token has been revoked"}));
    }

    #[test]
    fn throttled_login_is_429_with_retry_after() {
        let response = ApiError::Throttled(Throttled {
            reason: ThrottleReason::Failures,
            retry_after: 42,
        })
        .into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[RETRY_AFTER], "42");
        assert!(response.headers().get(WWW_AUTHENTICATE).is_none());
        assert_eq!(
            body_of(&response),
            json!({"error": "Too many failed login attempts"})
        );
    }

    /// A login refused because checks in flight held every place says so: no failure happened.
    #[test]
    fn a_login_behind_checks_in_flight_is_429_saying_so() {
        let response = ApiError::Throttled(Throttled {
            reason: ThrottleReason::ChecksInFlight,
            retry_after: 1,
        })
        .into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[RETRY_AFTER], "1");
        assert_eq!(
            body_of(&response),
            json!({"error": "Too many login attempts in progress"})
        );
    }

    /// What a route that takes a token counts for a refused user is what the authorizer counts
    /// for the same refusal: one table of events (`Refusal::event`), not two.
    #[test]
    fn a_refusal_counts_the_same_event_as_an_answer_and_at_the_authorizer() {
        let refusals = || {
            [
                Refusal::Revoked,
                Refusal::UnknownUser("ghost".to_owned()),
                Refusal::Disabled,
                Refusal::Store(StoreError::unavailable("connection refused")),
                Refusal::Store(StoreError::Rejected {
                    operation: "BatchGetItem",
                    detail: "ValidationException".to_owned(),
                }),
            ]
        };
        for (refusal, again) in refusals().into_iter().zip(refusals()) {
            let expected = refusal.event();
            assert_eq!(ApiError::from(again).event(), expected, "{refusal:?}");
        }
    }
}

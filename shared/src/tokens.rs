//! Issuing and verifying HS256 tokens exactly as flask-jwt-extended 4.7 (on PyJWT 2) does.
//!
//! Verification gives the `msg` flask-jwt-extended gives for the same token, checked against the
//! real library by `interop/check_flask.py`: segments, header, `alg`, signature, payload,
//! required `exp`, `iat`, `nbf`, `iss`, `aud`, `sub`, `jti`, `sub` present, and only then expiry,
//! then the token type. Expiry comes late because flask-jwt-extended, on an expired token,
//! decodes it again without the expiry check, and any later failure of that second pass is
//! what the client sees. Leeway is zero.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::{
    Engine,
    alphabet::URL_SAFE,
    engine::{
        DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig, general_purpose::URL_SAFE_NO_PAD,
    },
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::{
    claims::{IssuedClaims, TokenKind, VerifiedClaims},
    settings::Settings,
};

/// The only algorithm we sign with or accept.
pub const ALGORITHM: &str = "HS256";

/// PyJWT accepts segments with or without `=` padding and ignores non-canonical trailing bits.
const SEGMENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Why a token was refused. The `Display` text is flask-jwt-extended's `msg`, verbatim.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("Not enough segments")]
    NotEnoughSegments,
    #[error("Invalid header padding")]
    HeaderEncoding,
    #[error("Invalid header string")]
    HeaderNotJson,
    #[error("Invalid header string: must be a json object")]
    HeaderNotObject,
    #[error("Invalid payload padding")]
    PayloadEncoding,
    #[error("Invalid crypto padding")]
    SignatureEncoding,
    #[error("Algorithm not specified")]
    AlgorithmMissing,
    #[error("The specified alg value is not allowed")]
    AlgorithmNotAllowed,
    #[error("Signature verification failed")]
    BadSignature,
    #[error("Invalid payload string")]
    PayloadNotJson,
    #[error("Invalid payload string: must be a json object")]
    PayloadNotObject,
    #[error("Token is missing the \"{0}\" claim")]
    MissingClaim(&'static str),
    #[error("Issued At claim (iat) must be an integer.")]
    IssuedAtNotInteger,
    #[error("The token is not yet valid (iat)")]
    IssuedInFuture,
    #[error("Not Before claim (nbf) must be an integer.")]
    NotBeforeNotInteger,
    #[error("The token is not yet valid (nbf)")]
    NotYetValid,
    #[error("Expiration Time claim (exp) must be an integer.")]
    ExpiryNotInteger,
    #[error("Token has expired")]
    Expired,
    #[error("Payload Issuer (iss) must be a string")]
    IssuerNotString,
    #[error("Invalid issuer")]
    WrongIssuer,
    #[error("Invalid audience")]
    UnexpectedAudience,
    #[error("Invalid claim format in token")]
    AudienceFormat,
    #[error("Audience doesn't match")]
    WrongAudience,
    #[error("Subject must be a string")]
    SubjectNotString,
    #[error("JWT ID must be a string")]
    JwtIdNotString,
    #[error("Missing claim: sub")]
    MissingSubject,
    #[error("Only non-refresh tokens are allowed")]
    RefreshTokenNotAllowed,
    #[error("Only refresh tokens are allowed")]
    RefreshTokenRequired,
}

/// A token could not be signed: a bug or a broken crypto backend, never the caller's fault.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("could not load or use the signing key: {0}")]
    Crypto(#[from] jsonwebtoken::errors::Error),
    #[error("could not serialise the claims: {0}")]
    Claims(#[from] serde_json::Error),
}

/// The header PyJWT (and so flask-jwt-extended) writes, byte for byte.
const HEADER_JSON: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// Signs and checks tokens with the configured key, lifetimes, issuer and audience.
pub struct TokenService {
    encoding_key: EncodingKey,
    decoding_key: DecodingKey,
    access_ttl: Duration,
    refresh_ttl: Duration,
    issuer: Option<String>,
    audience: Option<String>,
}

impl TokenService {
    pub fn new(settings: &Settings) -> Result<Self, SigningError> {
        hs256::install();
        let secret = settings.secret_key.as_bytes();
        Ok(Self {
            encoding_key: EncodingKey::from_secret(secret)?,
            decoding_key: DecodingKey::from_secret(secret)?,
            access_ttl: settings.access_ttl,
            refresh_ttl: settings.refresh_ttl,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
        })
    }

    /// Issues a token for `subject`, now, with a fresh random `jti` and no session.
    /// `fresh` only matters for access tokens; refresh tokens are never fresh.
    pub fn issue(
        &self,
        kind: TokenKind,
        subject: &str,
        fresh: bool,
    ) -> Result<String, SigningError> {
        let jti = new_token_id();
        self.issue_at(kind, subject, fresh, unix_now_secs(), &jti, None)
    }

    /// Issues a token of `session` for `subject`, now, with a fresh random `jti`.
    pub fn issue_in_session(
        &self,
        kind: TokenKind,
        subject: &str,
        fresh: bool,
        session: Option<&str>,
    ) -> Result<String, SigningError> {
        let jti = new_token_id();
        self.issue_at(kind, subject, fresh, unix_now_secs(), &jti, session)
    }

    /// Issues a token with a given issue time, id and session; the others are this.
    pub fn issue_at(
        &self,
        kind: TokenKind,
        subject: &str,
        fresh: bool,
        issued_at: i64,
        jti: &str,
        session: Option<&str>,
    ) -> Result<String, SigningError> {
        let claims = IssuedClaims {
            fresh: fresh && kind == TokenKind::Access,
            iat: issued_at,
            jti,
            sid: session,
            kind,
            sub: subject,
            nbf: issued_at,
            exp: self.expiry(kind, issued_at),
            iss: self.issuer.as_deref(),
            aud: self.audience.as_deref(),
        };
        // Signed by hand rather than with `jsonwebtoken::encode`, whose header puts `typ` first.
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(HEADER_JSON),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims)?)
        );
        let signature =
            jsonwebtoken::crypto::sign(message.as_bytes(), &self.encoding_key, Algorithm::HS256)?;
        Ok(format!("{message}.{signature}"))
    }

    /// The `exp` of a token of `kind` issued at `issued_at`.
    pub fn expiry(&self, kind: TokenKind, issued_at: i64) -> i64 {
        // Settings cap the lifetime at 100 years, so this cannot overflow.
        issued_at + self.lifetime(kind).as_secs() as i64
    }

    /// Until when a record about the session of a refresh token expiring at `refresh_expires_at`
    /// matters: that token's life, plus that of the last access token it can buy.
    pub fn session_outlives(&self, refresh_expires_at: i64) -> i64 {
        refresh_expires_at.saturating_add(self.access_ttl.as_secs() as i64)
    }

    /// The lifetime of tokens of `kind`.
    fn lifetime(&self, kind: TokenKind) -> Duration {
        match kind {
            TokenKind::Access => self.access_ttl,
            TokenKind::Refresh => self.refresh_ttl,
        }
    }

    /// Checks `token` now and that it is of the `expected` kind.
    pub fn verify(&self, token: &str, expected: TokenKind) -> Result<VerifiedClaims, TokenError> {
        self.verify_at(token, expected, unix_now().as_secs_f64())
    }

    /// Checks `token` now, of either kind (for logout, which takes both).
    pub fn verify_any(&self, token: &str) -> Result<VerifiedClaims, TokenError> {
        self.verify_kind_at(token, None, unix_now().as_secs_f64())
    }

    /// Checks `token` as of `now` (seconds since the epoch, fractional like PyJWT's clock).
    pub fn verify_at(
        &self,
        token: &str,
        expected: TokenKind,
        now: f64,
    ) -> Result<VerifiedClaims, TokenError> {
        self.verify_kind_at(token, Some(expected), now)
    }

    fn verify_kind_at(
        &self,
        token: &str,
        expected: Option<TokenKind>,
        now: f64,
    ) -> Result<VerifiedClaims, TokenError> {
        let payload = self.verified_payload(token)?;
        let expired = self.check_claims(&payload, now)?;
        let subject = match payload.get("sub") {
            Some(Value::String(subject)) => subject.clone(),
            _ => return Err(TokenError::MissingSubject),
        };
        if expired {
            return Err(TokenError::Expired);
        }
        let kind = match payload.get("type") {
            Some(Value::String(kind)) if kind == "refresh" => TokenKind::Refresh,
            _ => TokenKind::Access,
        };
        match (expected, kind) {
            (Some(TokenKind::Access), TokenKind::Refresh) => {
                return Err(TokenError::RefreshTokenNotAllowed);
            }
            (Some(TokenKind::Refresh), TokenKind::Access) => {
                return Err(TokenError::RefreshTokenRequired);
            }
            _ => {}
        }
        Ok(VerifiedClaims {
            subject,
            kind,
            jti: payload
                .get("jti")
                .and_then(Value::as_str)
                .map(str::to_owned),
            expires_at: payload
                .get("exp")
                .and_then(as_integer)
                .map_or(0, |exp| exp as i64),
            issued_at: payload
                .get("iat")
                .and_then(as_integer)
                .map(|iat| iat as i64),
            session: payload
                .get("sid")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }

    /// Splits the token, checks its header and signature, and returns the payload object.
    fn verified_payload(&self, token: &str) -> Result<Map<String, Value>, TokenError> {
        let (signing_input, signature_segment) = token
            .rsplit_once('.')
            .ok_or(TokenError::NotEnoughSegments)?;
        let (header_segment, payload_segment) = signing_input
            .split_once('.')
            .ok_or(TokenError::NotEnoughSegments)?;

        let header_bytes = SEGMENT_BASE64
            .decode(header_segment)
            .map_err(|_| TokenError::HeaderEncoding)?;
        let header = match serde_json::from_slice::<Value>(&header_bytes) {
            Ok(Value::Object(header)) => header,
            Ok(_) => return Err(TokenError::HeaderNotObject),
            Err(_) => return Err(TokenError::HeaderNotJson),
        };
        let payload_bytes = SEGMENT_BASE64
            .decode(payload_segment)
            .map_err(|_| TokenError::PayloadEncoding)?;
        let signature = SEGMENT_BASE64
            .decode(signature_segment)
            .map_err(|_| TokenError::SignatureEncoding)?;

        match header.get("alg") {
            None => return Err(TokenError::AlgorithmMissing),
            Some(Value::String(alg)) if alg == ALGORITHM => {}
            Some(_) => return Err(TokenError::AlgorithmNotAllowed),
        }

        // jsonwebtoken compares in constant time; it wants the canonical unpadded encoding.
        let canonical_signature = URL_SAFE_NO_PAD.encode(signature);
        let signature_matches = jsonwebtoken::crypto::verify(
            &canonical_signature,
            signing_input.as_bytes(),
            &self.decoding_key,
            Algorithm::HS256,
        )
        .unwrap_or(false);
        if !signature_matches {
            return Err(TokenError::BadSignature);
        }

        match serde_json::from_slice::<Value>(&payload_bytes) {
            Ok(Value::Object(payload)) => Ok(payload),
            Ok(_) => Err(TokenError::PayloadNotObject),
            Err(_) => Err(TokenError::PayloadNotJson),
        }
    }

    /// PyJWT's claim checks, in its order, with zero leeway. An expired token is not an error
    /// here but the answer: whether it has expired, for the caller to report after the rest.
    fn check_claims(&self, payload: &Map<String, Value>, now: f64) -> Result<bool, TokenError> {
        // Stricter than the seed app: a token that never expires is refused.
        if payload.get("exp").is_none_or(Value::is_null) {
            return Err(TokenError::MissingClaim("exp"));
        }
        if let Some(iat) = payload.get("iat")
            && as_integer(iat).ok_or(TokenError::IssuedAtNotInteger)? > now
        {
            return Err(TokenError::IssuedInFuture);
        }
        if let Some(nbf) = payload.get("nbf")
            && as_integer(nbf).ok_or(TokenError::NotBeforeNotInteger)? > now
        {
            return Err(TokenError::NotYetValid);
        }
        let expired = match payload.get("exp") {
            Some(exp) => as_integer(exp).ok_or(TokenError::ExpiryNotInteger)? <= now,
            None => false,
        };
        if let Some(issuer) = &self.issuer {
            match payload.get("iss") {
                None => return Err(TokenError::MissingClaim("iss")),
                Some(Value::String(iss)) if iss == issuer => {}
                Some(Value::String(_)) => return Err(TokenError::WrongIssuer),
                Some(_) => return Err(TokenError::IssuerNotString),
            }
        }
        self.check_audience(payload.get("aud").filter(|aud| is_truthy(aud)))?;
        if payload.get("sub").is_some_and(|sub| !sub.is_string()) {
            return Err(TokenError::SubjectNotString);
        }
        if payload.get("jti").is_some_and(|jti| !jti.is_string()) {
            return Err(TokenError::JwtIdNotString);
        }
        Ok(expired)
    }

    /// RFC 7519 §4.1.3: a token naming an audience is only for a service that is that audience.
    fn check_audience(&self, aud: Option<&Value>) -> Result<(), TokenError> {
        let Some(expected) = &self.audience else {
            return match aud {
                Some(_) => Err(TokenError::UnexpectedAudience),
                None => Ok(()),
            };
        };
        let audiences: Vec<&Value> = match aud {
            None => return Err(TokenError::MissingClaim("aud")),
            Some(Value::Array(list)) => list.iter().collect(),
            Some(single) => vec![single],
        };
        let mut names = Vec::with_capacity(audiences.len());
        for audience in audiences {
            names.push(audience.as_str().ok_or(TokenError::AudienceFormat)?);
        }
        if names.contains(&expected.as_str()) {
            Ok(())
        } else {
            Err(TokenError::WrongAudience)
        }
    }
}

impl TokenError {
    /// The one failure flask-jwt-extended answers with 401 rather than 422.
    pub fn is_expired(&self) -> bool {
        matches!(self, TokenError::Expired)
    }
}

/// Installs the HS256-only provider jsonwebtoken's crypto runs on (it has no built-in one here).
/// `TokenService::new` does; anything else that signs with jsonwebtoken first must call it.
pub fn install_crypto_provider() {
    hs256::install();
}

/// A new token id: a random UUID, as flask-jwt-extended makes them.
pub fn new_token_id() -> String {
    Uuid::new_v4().to_string()
}

/// Seconds since the epoch, now.
pub fn unix_now_secs() -> i64 {
    unix_now().as_secs() as i64
}

fn unix_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Python's `int(value)` as PyJWT applies it to time claims: numbers truncate toward zero,
/// booleans are 0 or 1, integer strings parse; anything else is not an integer.
fn as_integer(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64().filter(|n| n.is_finite()).map(f64::trunc),
        Value::Bool(flag) => Some(f64::from(u8::from(*flag))),
        Value::String(text) => text.trim().parse::<i64>().ok().map(|n| n as f64),
        _ => None,
    }
}

/// Python truthiness of a JSON value, which PyJWT uses to decide whether `aud` is present.
fn is_truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(flag) => *flag,
        Value::Number(number) => number.as_f64() != Some(0.0),
        Value::String(text) => !text.is_empty(),
        Value::Array(list) => !list.is_empty(),
        Value::Object(map) => !map.is_empty(),
    }
}

mod hs256;
#[cfg(test)]
mod tests;

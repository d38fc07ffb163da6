//! Issuing and verifying tokens exactly as flask-jwt-extended 4.7 (on PyJWT 2) does: HS256 with
//! a shared secret, or RS256, ES256 or EdDSA with published keys (`keys`), whose tokens carry
//! their key's `kid` and always an issuer.
//!
//! Verification gives the `msg` flask-jwt-extended gives for the same token, checked against the
//! real library by `interop/check_flask.py`: segments, header, `alg`, signature, payload,
//! required `exp`, `iat`, `nbf`, `iss`, `aud`, `sub`, `jti`, `sub` present, and only then expiry,
//! then the token type. Expiry comes late because flask-jwt-extended, on an expired token,
//! decodes it again without the expiry check, and any later failure of that second pass is
//! what the client sees. Leeway is zero.

use std::{sync::Arc, time::Duration};

use base64::{
    Engine,
    alphabet::URL_SAFE,
    engine::{
        DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig, general_purpose::URL_SAFE_NO_PAD,
    },
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, signature::Signer as _};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::{
    claims::{AuthMethods, IssuedClaims, TokenKind, VerifiedClaims},
    clock::Clock,
    keys::{
        KeySet,
        crypto::{self, SigningKey},
        remote::{RemoteSigner, RemoteSigningError},
    },
    settings::{Settings, Signing},
};

/// The path of the refresh route, under the issuer's URL: the refresh tokens' audience.
const REFRESH_PATH: &str = "/refresh";

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
    #[error("could not sign: {0}")]
    Signature(#[from] jsonwebtoken::signature::Error),
    #[error("could not serialise the claims: {0}")]
    Claims(#[from] serde_json::Error),
    /// An asymmetric deployment without `JWT_ISSUER` takes its issuer from the request, and
    /// this one did not say where it arrived.
    #[error("{0}")]
    NoIssuer(#[from] IssuerUnknown),
    /// A function that only verifies was asked to sign: a bug, its private key is elsewhere.
    #[error("this function only verifies tokens: it holds no private key")]
    VerifyOnly,
    /// The key service that holds the private key did not sign.
    #[error("{0}")]
    Remote(#[from] RemoteSigningError),
    /// A synchronous signature was asked of a key that signs in a key service: a bug, such a
    /// key signs through `TokenService::issue` and `sign_bytes`, which wait for it.
    #[error("the signing key is in a key service: it signs only through the asynchronous calls")]
    RemoteKey,
    /// The settings name a key in KMS whose public key was never read: a bug, the cold start
    /// reads it (`KmsKey::key_set`) before the tokens are built.
    #[error("the KMS key's public key was not read before the tokens were built")]
    UnreadRemoteKey,
}

impl SigningError {
    /// Whether a retry may succeed: the key service was down, slow or throttling.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Remote(RemoteSigningError::Unavailable(_)))
    }
}

/// An asymmetric deployment without `JWT_ISSUER` met a request that does not say at which URL
/// it reached the API (no `requestContext.domainName`: not an API Gateway event).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the issuer is unknown: the request has no requestContext.domainName; set JWT_ISSUER to the API's URL"
)]
pub struct IssuerUnknown;

/// Signs and checks tokens with the configured key, lifetimes, issuer and audience. Cheap to
/// clone: what is shared is behind an `Arc`, and a clone differs only in its issuer.
#[derive(Clone)]
pub struct TokenService {
    config: Arc<TokenConfig>,
    /// The `iss` every token is issued with and must carry: `JWT_ISSUER`, or in an asymmetric
    /// deployment without it the URL the request reached (`for_origin`). None: no `iss`.
    issuer: Option<String>,
}

struct TokenConfig {
    keys: TokenKeys,
    /// The first segment of every token: the header, which only depends on the key.
    header_segment: String,
    access_ttl: Duration,
    refresh_ttl: Duration,
    session_max_age: Duration,
    /// Whether the issuer is each request's origin (asymmetric, no `JWT_ISSUER`).
    issuer_from_origin: bool,
    /// `MFA_SCOPE`: the scope the access tokens of a session that passed a second factor
    /// carry beside the user's, for an API Gateway JWT authorizer's route to require.
    mfa_scope: Option<String>,
    audience: Option<String>,
}

enum TokenKeys {
    Hs256 {
        signing: Box<SigningKey>,
        verifying: DecodingKey,
    },
    Asymmetric(Arc<KeySet>),
}

impl TokenKeys {
    fn algorithm(&self) -> Algorithm {
        match self {
            TokenKeys::Hs256 { .. } => Algorithm::HS256,
            TokenKeys::Asymmetric(keys) => keys.algorithm(),
        }
    }

    /// What signs; none in a function that only verifies.
    fn signer(&self) -> Result<Signer<'_>, SigningError> {
        match self {
            TokenKeys::Hs256 { signing, .. } => Ok(Signer::InProcess(signing)),
            TokenKeys::Asymmetric(keys) => keys
                .signing_key()
                .map(Signer::InProcess)
                .or_else(|| keys.remote_signer().map(Signer::Remote))
                .ok_or(SigningError::VerifyOnly),
        }
    }

    /// The header PyJWT writes for the key, byte for byte: its keys sorted, `kid` when there
    /// is one (`jwt.encode(..., headers={"kid": ...})`).
    fn header_json(&self) -> String {
        match self {
            TokenKeys::Hs256 { .. } => r#"{"alg":"HS256","typ":"JWT"}"#.to_owned(),
            TokenKeys::Asymmetric(keys) => format!(
                r#"{{"alg":"{}","kid":"{}","typ":"JWT"}}"#,
                keys.asymmetric().name(),
                keys.signing_kid()
            ),
        }
    }
}

/// The key that signs: here, or in a key service that is asked for each signature.
enum Signer<'a> {
    InProcess(&'a SigningKey),
    Remote(&'a std::sync::Arc<dyn RemoteSigner>),
}

/// A token to issue: whose, of which kind, when, with which id, in which session.
#[derive(Debug, Clone, Copy)]
pub struct TokenSpec<'a> {
    pub kind: TokenKind,
    pub subject: &'a str,
    /// Only matters for access tokens; refresh tokens are never fresh.
    pub fresh: bool,
    pub issued_at: i64,
    pub jti: &'a str,
    pub session: Option<SessionClaims<'a>>,
    /// The user's scopes, space-separated (RFC 9068 section 2.2.3): carried by access tokens
    /// only, and only when there are any.
    pub scope: Option<&'a str>,
    /// The CSRF double-submit value of a token that travels in a cookie (`csrf`, as
    /// flask-jwt-extended names it): the page proves it can read its CSRF cookie by sending it.
    pub csrf: Option<&'a str>,
}

/// The session a token is issued in: its id (`sid`) and when it began (`auth_time`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionClaims<'a> {
    pub id: &'a str,
    /// Seconds since the epoch.
    pub started_at: i64,
    /// How the session signed in (`amr`), if that is known: a session begun by a login always
    /// says; one a token of flask-jwt-extended's began does not.
    pub methods: Option<AuthMethods>,
}

/// A token whose signature, header and claims check out, with whether it has expired (its
/// `exp`, or for a refresh token the end of its session) told apart rather than refused.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedToken {
    pub claims: VerifiedClaims,
    pub expired: bool,
}

impl CheckedToken {
    /// The token, if it is of the `expected` kind (any, if none is).
    pub fn of_kind(self, expected: Option<TokenKind>) -> Result<Self, TokenError> {
        check_kind(expected, self.claims.kind)?;
        Ok(self)
    }

    /// The claims, if the token has not expired and is of the `expected` kind: the last of
    /// `TokenService::verify_at`'s checks, for a caller with one of its own before them (a
    /// cookie token's CSRF value, which flask-jwt-extended compares before both).
    pub fn verified(self, expected: TokenKind) -> Result<VerifiedClaims, TokenError> {
        // flask-jwt-extended's order: an expired token is that, whatever its kind.
        if self.expired {
            return Err(TokenError::Expired);
        }
        check_kind(Some(expected), self.claims.kind)?;
        Ok(self.claims)
    }
}

impl TokenService {
    /// `MFA_SCOPE`, if set: what a second factor adds to an access token's scopes.
    pub fn mfa_scope(&self) -> Option<&str> {
        self.config.mfa_scope.as_deref()
    }

    pub fn new(settings: &Settings) -> Result<Self, SigningError> {
        crypto::install();
        let keys = match &settings.signing {
            Signing::Hs256(secret) => TokenKeys::Hs256 {
                signing: Box::new(SigningKey::new(
                    Algorithm::HS256,
                    &EncodingKey::from_secret(secret.as_bytes())?,
                )?),
                verifying: DecodingKey::from_secret(secret.as_bytes())?,
            },
            Signing::Asymmetric(keys) => TokenKeys::Asymmetric(keys.clone()),
            Signing::Kms(_) => return Err(SigningError::UnreadRemoteKey),
        };
        let issuer_from_origin =
            matches!(keys, TokenKeys::Asymmetric(_)) && settings.issuer.is_none();
        Ok(Self {
            config: Arc::new(TokenConfig {
                header_segment: URL_SAFE_NO_PAD.encode(keys.header_json()),
                keys,
                access_ttl: settings.access_ttl,
                refresh_ttl: settings.refresh_ttl,
                session_max_age: settings.session_max_age,
                issuer_from_origin,
                audience: settings.audience.clone(),
                mfa_scope: settings.mfa.scope.clone(),
            }),
            issuer: settings.issuer.clone(),
        })
    }

    /// The service as seen by a request that reached the API at `origin` (`https://host`,
    /// `http::issuer`): in an asymmetric deployment without `JWT_ISSUER`, `origin` is the
    /// issuer of every token it issues and the one every token it checks must carry. Elsewhere
    /// the issuer is configured, and this is the service itself.
    pub fn for_origin(&self, origin: Option<&str>) -> Result<TokenService, IssuerUnknown> {
        if !self.config.issuer_from_origin {
            return Ok(self.clone());
        }
        Ok(TokenService {
            config: self.config.clone(),
            issuer: Some(origin.ok_or(IssuerUnknown)?.to_owned()),
        })
    }

    /// Signs `message` with the deployment's signing key, as a token's signature is made: what
    /// a device proof carries (`device_proof`), whose signing input never parses as a token's.
    /// A key in a key service (KMS) is a request, which this waits for.
    pub async fn sign_bytes(&self, message: &[u8]) -> Result<Vec<u8>, SigningError> {
        match self.config.keys.signer()? {
            Signer::InProcess(key) => Ok(key.try_sign(message)?),
            Signer::Remote(signer) => Ok(signer.sign(message).await?),
        }
    }

    /// `sign_bytes` without waiting, for a key this process holds (every key but a key
    /// service's, which refuses with `SigningError::RemoteKey`).
    fn sign_bytes_here(&self, message: &[u8]) -> Result<Vec<u8>, SigningError> {
        match self.config.keys.signer()? {
            Signer::InProcess(key) => Ok(key.try_sign(message)?),
            Signer::Remote(_) => Err(SigningError::RemoteKey),
        }
    }

    /// Whether `signature` is one of `sign_bytes(message)`, by any key that verifies tokens.
    pub fn verifies_bytes(&self, message: &[u8], signature: &[u8]) -> bool {
        self.signature_checks(message, signature, None)
    }

    /// Whether `signature` signs `message` by the key `kid` names (an asymmetric token's
    /// header), or with no `kid` by any key that verifies. An unknown `kid` is a signature we
    /// cannot check, and gets the answer a bad one does.
    fn signature_checks(&self, message: &[u8], signature: &[u8], kid: Option<&Value>) -> bool {
        // jsonwebtoken compares in constant time; it wants the canonical unpadded encoding.
        let signature = URL_SAFE_NO_PAD.encode(signature);
        let algorithm = self.config.keys.algorithm();
        let verifies = |key: &DecodingKey| {
            jsonwebtoken::crypto::verify(&signature, message, key, algorithm).unwrap_or(false)
        };
        match &self.config.keys {
            TokenKeys::Hs256 { verifying, .. } => verifies(verifying),
            // A token without a `kid` (flask-jwt-extended writes none) is tried against each
            // published key: a handful at most.
            TokenKeys::Asymmetric(keys) => match kid {
                Some(Value::String(kid)) => keys.verifying_key(kid).is_some_and(verifies),
                Some(_) => false,
                None => keys.verifying_keys().any(verifies),
            },
        }
    }

    /// The issuer tokens carry, when there is one (resolved for a request, see `for_origin`).
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// The `aud` of refresh tokens in an asymmetric deployment: the issuer's refresh URL,
    /// which no API is configured to accept. Any verifier that checks the audience, as API
    /// Gateway's JWT authorizer does, refuses a refresh token whatever its routes' scopes;
    /// `/refresh`, `/logout` and the refresh cookie take it. None with HS256, whose tokens stay
    /// flask-jwt-extended's byte for byte (only holders of the secret verify them, and
    /// flask-jwt-extended refuses a refresh token where an access token belongs by its `type`).
    pub fn refresh_audience(&self) -> Option<String> {
        match (&self.config.keys, &self.issuer) {
            (TokenKeys::Asymmetric(_), Some(issuer)) => Some(format!("{issuer}{REFRESH_PATH}")),
            _ => None,
        }
    }

    /// The `alg` every token carries, the only one accepted.
    pub fn algorithm_name(&self) -> &'static str {
        match &self.config.keys {
            TokenKeys::Hs256 { .. } => "HS256",
            TokenKeys::Asymmetric(keys) => keys.asymmetric().name(),
        }
    }

    /// Whether tokens are signed by a key service (KMS): each signature a request that may
    /// fail for a while, where a key held here never fails.
    pub fn signs_remotely(&self) -> bool {
        self.key_set()
            .is_some_and(|keys| keys.remote_signer().is_some())
    }

    /// The published keys of an asymmetric deployment; none for HS256, whose key is secret.
    pub fn key_set(&self) -> Option<&KeySet> {
        match &self.config.keys {
            TokenKeys::Hs256 { .. } => None,
            TokenKeys::Asymmetric(keys) => Some(keys),
        }
    }

    /// Whether an issuer is needed and missing: an asymmetric deployment's service that was
    /// not given its request's origin. Fails closed: it signs nothing and accepts nothing.
    fn issuer_unresolved(&self) -> bool {
        self.config.issuer_from_origin && self.issuer.is_none()
    }

    /// Issues a token of `kind` for `subject`, issued at `issued_at`, with the id `jti`, in
    /// `session`. Access tokens live their lifetime; a refresh token of a session never
    /// outlives the session (`JWT_SESSION_MAX_AGE` from its start). `fresh` only matters for
    /// access tokens; refresh tokens are never fresh.
    pub fn issue_at(
        &self,
        kind: TokenKind,
        subject: &str,
        fresh: bool,
        issued_at: i64,
        jti: &str,
        session: Option<SessionClaims<'_>>,
    ) -> Result<String, SigningError> {
        self.issue_spec_in_process(&TokenSpec {
            kind,
            subject,
            fresh,
            issued_at,
            jti,
            session,
            scope: None,
            csrf: None,
        })
    }

    /// Issues the token `spec` describes (see `issue_at`), with the user's scopes, signed by a
    /// key this process holds (`issue_spec` signs with any).
    pub fn issue_spec_in_process(&self, spec: &TokenSpec<'_>) -> Result<String, SigningError> {
        let message = self.signing_input(spec)?;
        let signature = self.sign_bytes_here(message.as_bytes())?;
        Ok(format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }

    /// Issues the token `spec` describes, signed by the deployment's key wherever it is: a key
    /// service's signature is a request, which this waits for.
    pub async fn issue_spec(&self, spec: &TokenSpec<'_>) -> Result<String, SigningError> {
        let message = self.signing_input(spec)?;
        let signature = self.sign_bytes(message.as_bytes()).await?;
        Ok(format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }

    /// The header and claims segments of the token `spec` describes: what its signature signs.
    fn signing_input(&self, spec: &TokenSpec<'_>) -> Result<String, SigningError> {
        if self.issuer_unresolved() {
            return Err(IssuerUnknown.into());
        }
        let TokenSpec {
            kind,
            subject,
            fresh,
            issued_at,
            jti,
            session,
            scope,
            csrf,
        } = *spec;
        let refresh_audience = self.refresh_audience();
        let audience = match kind {
            TokenKind::Refresh => refresh_audience
                .as_deref()
                .or(self.config.audience.as_deref()),
            TokenKind::Access => self.config.audience.as_deref(),
        };
        let claims = IssuedClaims {
            fresh: fresh && kind == TokenKind::Access,
            iat: issued_at,
            jti,
            sid: session.map(|session| session.id),
            auth_time: session.map(|session| session.started_at),
            amr: session
                .and_then(|session| session.methods)
                .map(AuthMethods::values),
            kind,
            sub: subject,
            nbf: issued_at,
            csrf,
            exp: self.expiry(kind, issued_at, session.map(|session| session.started_at)),
            iss: self.issuer.as_deref(),
            aud: audience,
            scope: scope.filter(|scope| kind == TokenKind::Access && !scope.is_empty()),
        };
        // Signed by hand rather than with `jsonwebtoken::encode`, whose header puts `typ` first.
        Ok(format!(
            "{}.{}",
            self.config.header_segment,
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims)?)
        ))
    }

    /// The `exp` of a token of `kind` issued at `issued_at` in a session that began at
    /// `session_start`: its lifetime, and for a refresh token no later than the session's end.
    pub fn expiry(&self, kind: TokenKind, issued_at: i64, session_start: Option<i64>) -> i64 {
        // Settings cap the lifetimes at 100 years, so this cannot overflow.
        let exp = issued_at + self.lifetime(kind).as_secs() as i64;
        match (kind, session_start) {
            (TokenKind::Refresh, Some(start)) => exp.min(self.session_end(start)),
            _ => exp,
        }
    }

    /// The end of a session that began at `started_at`: no refresh token of it is good after.
    pub fn session_end(&self, started_at: i64) -> i64 {
        started_at.saturating_add(self.config.session_max_age.as_secs() as i64)
    }

    /// Until when the record of the session of `claims` (a refresh token) matters: until every
    /// token of the session that can still be used has expired. That is the session's end (no
    /// refresh token of it is good after) plus the life of the last access token it can buy:
    /// the same for every token of the session, so every write to the record gives it the same
    /// end. A token with neither `auth_time` nor `iat` has no known start, and its session is as
    /// long as the token.
    pub fn session_record_until(&self, claims: &VerifiedClaims) -> i64 {
        let last_refresh = claims
            .session_started_at()
            .map_or(claims.expires_at, |start| self.session_end(start));
        last_refresh.saturating_add(self.config.access_ttl.as_secs() as i64)
    }

    /// The lifetime of tokens of `kind`.
    fn lifetime(&self, kind: TokenKind) -> Duration {
        match kind {
            TokenKind::Access => self.config.access_ttl,
            TokenKind::Refresh => self.config.refresh_ttl,
        }
    }

    /// Checks `token` now (the system clock) and that it is of the `expected` kind.
    pub fn verify(&self, token: &str, expected: TokenKind) -> Result<VerifiedClaims, TokenError> {
        self.verify_at(token, expected, unix_now().as_secs_f64())
    }

    /// Checks `token` as of `now` (seconds since the epoch, fractional like PyJWT's clock).
    pub fn verify_at(
        &self,
        token: &str,
        expected: TokenKind,
        now: f64,
    ) -> Result<VerifiedClaims, TokenError> {
        self.check_at(token, now)?.verified(expected)
    }

    /// Checks `token` as of `now` as `verify_at` does, of the `expected` kind if one is given,
    /// but reports an expired token rather than refuse it: what a token's revocation needs
    /// (RFC 7009 section 2.2: revoking an expired token is not an error). Every other failure
    /// is refused with the message `verify_at` gives.
    pub fn check_revocable_at(
        &self,
        token: &str,
        expected: Option<TokenKind>,
        now: f64,
    ) -> Result<CheckedToken, TokenError> {
        self.check_at(token, now)?.of_kind(expected)
    }

    /// Every check up to the expiry, whose answer it returns.
    fn check_at(&self, token: &str, now: f64) -> Result<CheckedToken, TokenError> {
        let payload = self.verified_payload(token)?;
        let exp_passed = self.check_claims(&payload, now)?;
        let subject = match payload.get("sub") {
            Some(Value::String(subject)) => subject.clone(),
            _ => return Err(TokenError::MissingSubject),
        };
        let kind = match payload.get("type") {
            Some(Value::String(kind)) if kind == "refresh" => TokenKind::Refresh,
            _ => TokenKind::Access,
        };
        let integer = |claim: &str| payload.get(claim).and_then(as_integer).map(|n| n as i64);
        let claims = VerifiedClaims {
            subject,
            kind,
            jti: payload
                .get("jti")
                .and_then(Value::as_str)
                .map(str::to_owned),
            expires_at: integer("exp").unwrap_or(0),
            issued_at: integer("iat"),
            session: payload
                .get("sid")
                .and_then(Value::as_str)
                .map(str::to_owned),
            auth_time: integer("auth_time"),
            amr: payload
                .get("amr")
                .and_then(Value::as_array)
                .and_then(|values| {
                    values
                        .iter()
                        .map(|value| value.as_str().map(str::to_owned))
                        .collect()
                }),
            scope: payload
                .get("scope")
                .and_then(Value::as_str)
                .map(str::to_owned),
            fresh: payload.get("fresh") == Some(&Value::Bool(true)),
            csrf: payload
                .get("csrf")
                .and_then(Value::as_str)
                .map(str::to_owned),
        };
        // A refresh token is good no longer than its session, whatever its `exp` says (one
        // signed before the cap was lowered, or by flask-jwt-extended, whose session began at
        // its `iat` at the latest).
        let session_ended = kind == TokenKind::Refresh
            && claims
                .session_started_at()
                .is_some_and(|start| self.session_end(start) as f64 <= now);
        Ok(CheckedToken {
            expired: exp_passed || session_ended,
            claims,
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
            Some(Value::String(alg)) if alg == self.algorithm_name() => {}
            Some(_) => return Err(TokenError::AlgorithmNotAllowed),
        }

        if !self.signature_checks(signing_input.as_bytes(), &signature, header.get("kid")) {
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
        if self.issuer_unresolved() {
            return Err(TokenError::WrongIssuer);
        }
        if let Some(issuer) = &self.issuer {
            match payload.get("iss") {
                None => return Err(TokenError::MissingClaim("iss")),
                Some(Value::String(iss)) if iss == issuer => {}
                Some(Value::String(_)) => return Err(TokenError::WrongIssuer),
                Some(_) => return Err(TokenError::IssuerNotString),
            }
        }
        let refresh = matches!(payload.get("type"), Some(Value::String(kind)) if kind == "refresh");
        self.check_audience(payload.get("aud").filter(|aud| is_truthy(aud)), refresh)?;
        if payload.get("sub").is_some_and(|sub| !sub.is_string()) {
            return Err(TokenError::SubjectNotString);
        }
        if payload.get("jti").is_some_and(|jti| !jti.is_string()) {
            return Err(TokenError::JwtIdNotString);
        }
        Ok(expired)
    }

    /// RFC 7519 §4.1.3: a token naming an audience is only for a service that is that audience.
    /// A refresh token may name the refresh audience instead (`refresh_audience`); one issued
    /// before it existed carries the access tokens' audience, and is taken as it always was.
    fn check_audience(&self, aud: Option<&Value>, refresh: bool) -> Result<(), TokenError> {
        if refresh
            && let (Some(expected), Some(aud)) = (self.refresh_audience(), aud)
            && match aud {
                Value::Array(list) => list.iter().any(|name| name.as_str() == Some(&expected)),
                single => single.as_str() == Some(&expected),
            }
        {
            return Ok(());
        }
        let Some(expected) = &self.config.audience else {
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

/// `Err` with flask-jwt-extended's message when a token of `kind` is not of the `expected` one.
fn check_kind(expected: Option<TokenKind>, kind: TokenKind) -> Result<(), TokenError> {
    match (expected, kind) {
        (Some(TokenKind::Access), TokenKind::Refresh) => Err(TokenError::RefreshTokenNotAllowed),
        (Some(TokenKind::Refresh), TokenKind::Access) => Err(TokenError::RefreshTokenRequired),
        _ => Ok(()),
    }
}

impl TokenError {
    /// The one failure flask-jwt-extended answers with 401 rather than 422.
    pub fn is_expired(&self) -> bool {
        matches!(self, TokenError::Expired)
    }
}

/// A new token id: a random UUID, as flask-jwt-extended makes them.
pub fn new_token_id() -> String {
    Uuid::new_v4().to_string()
}

fn unix_now() -> Duration {
    Clock::System.now()
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

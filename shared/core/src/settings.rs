//! Configuration from the environment, read and validated once per cold start.

use std::{fmt, sync::Arc, time::Duration};

use crate::keys::{Asymmetric, KeySet, remote::RemoteSigner};

pub mod accounts;
pub mod activity;
pub mod browser;
pub mod mfa;

pub use accounts::AccountSettings;
pub use activity::ActivitySettings;
pub use browser::BrowserSettings;
pub use mfa::MfaSettings;

pub const ALGORITHM_VAR: &str = "JWT_ALGORITHM";
pub const SECRET_KEY_VAR: &str = "JWT_SECRET_KEY";
pub const PRIVATE_KEY_VAR: &str = "JWT_PRIVATE_KEY";
pub const PUBLIC_KEYS_VAR: &str = "JWT_PUBLIC_KEYS";
pub const KMS_KEY_VAR: &str = "JWT_KMS_KEY_ARN";
pub const ACCESS_TTL_VAR: &str = "JWT_ACCESS_TOKEN_EXPIRES";
pub const REFRESH_TTL_VAR: &str = "JWT_REFRESH_TOKEN_EXPIRES";
pub const SESSION_MAX_AGE_VAR: &str = "JWT_SESSION_MAX_AGE";
pub const ISSUER_VAR: &str = "JWT_ISSUER";
pub const AUDIENCE_VAR: &str = "JWT_AUDIENCE";
pub const USERS_TABLE_VAR: &str = "USERS_TABLE";
pub const SESSIONS_TABLE_VAR: &str = "SESSIONS_TABLE";
pub const ROTATION_VAR: &str = "JWT_REFRESH_TOKEN_ROTATION";
pub const ROTATION_GRACE_VAR: &str = "JWT_REFRESH_TOKEN_ROTATION_GRACE";
pub const LOGIN_MAX_FAILURES_VAR: &str = "LOGIN_MAX_FAILURES";
pub const LOGIN_FAILURE_WINDOW_VAR: &str = "LOGIN_FAILURE_WINDOW";
/// What to say when a program that needs the users table is started without it.
pub const USERS_TABLE_REQUIRED: &str =
    "USERS_TABLE: is required: the name of the DynamoDB users table";
/// What to say when a function is started without the sessions table.
pub const SESSIONS_TABLE_REQUIRED: &str = "SESSIONS_TABLE: is required: the name of the DynamoDB \
     table of revoked tokens, refresh-token sessions and login-failure counters";

/// RFC 7518 §3.2: an HS256 key must be at least as long as the hash output, 256 bits.
pub const MIN_SECRET_BYTES: usize = 32;
pub const DEFAULT_ACCESS_TTL: Duration = Duration::from_secs(15 * 60);
pub const DEFAULT_REFRESH_TTL: Duration = Duration::from_secs(60 * 60);
/// flask-jwt-extended's default refresh-token lifetime, and a common cap on a session in use
/// (RFC 9700 section 4.14.2 asks for one that rotation does not extend).
pub const DEFAULT_SESSION_MAX_AGE: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// Keeps `iat + ttl` far from any integer overflow while allowing every sane lifetime.
pub const MAX_TTL: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);
pub const DEFAULT_LOGIN_MAX_FAILURES: u32 = 5;
pub const DEFAULT_LOGIN_FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// The default rotation grace: long enough for a client's retry of a refresh whose answer it
/// lost (a 503 at the deadline may come after the rotation reached the store), short enough
/// that a thief's replay seldom passes for one.
pub const DEFAULT_ROTATION_GRACE: Duration = Duration::from_secs(10);
/// A grace longer than a client's retry would let a thief's replay pass as a retry.
pub const MAX_ROTATION_GRACE: Duration = Duration::from_secs(5 * 60);

/// The validated configuration of a function.
#[derive(Clone, Debug)]
pub struct Settings {
    /// What signs and verifies tokens: the HS256 secret, or an asymmetric key set.
    pub signing: Signing,
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    /// The longest a session lives from its login, however often it is refreshed: no refresh
    /// token of it expires later.
    pub session_max_age: Duration,
    /// `JWT_ISSUER`. Unset, HS256 tokens carry no `iss`, and asymmetric ones carry the API's
    /// own URL, as each request reaches it (`http::issuer`).
    pub issuer: Option<String>,
    pub audience: Option<String>,
    /// The DynamoDB users table; required by the Lambda functions, optional locally.
    pub users_table: Option<String>,
    /// The DynamoDB sessions table; required by the Lambda functions, optional locally.
    pub sessions_table: Option<String>,
    pub rotation: RotationPolicy,
    pub login_throttle: LoginThrottlePolicy,
    /// Where tokens travel (headers, cookies), the cookies' attributes, and CORS.
    pub browser: BrowserSettings,
    /// Sign-up, mail and the per-address limits of the self-service routes.
    pub accounts: AccountSettings,
    /// The second factor: its key, its name in apps, how long a login waits for a code.
    pub mfa: MfaSettings,
    /// The activity log: its table and retention.
    pub activity: ActivitySettings,
}

/// Refresh-token rotation (RFC 9700 section 4.14.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RotationPolicy {
    /// Every refresh answers with a new refresh token, and the one used is spent. Off by
    /// default: clients of the seed contract reuse one refresh token.
    pub enabled: bool,
    /// How long after a rotation the spent token still gets the session's current refresh
    /// token, for a client that lost the answer. Zero: any second use counts as theft.
    pub grace: Duration,
}

/// Login throttling per username.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginThrottlePolicy {
    /// Failed logins allowed in a window; 0 turns throttling off.
    pub max_failures: u32,
    /// How long failures count, from the first one of the window.
    pub window: Duration,
}

impl Default for LoginThrottlePolicy {
    fn default() -> Self {
        Self {
            max_failures: DEFAULT_LOGIN_MAX_FAILURES,
            window: DEFAULT_LOGIN_FAILURE_WINDOW,
        }
    }
}

/// How tokens are signed: `JWT_ALGORITHM` and its keys.
#[derive(Clone, Debug)]
pub enum Signing {
    /// HS256 with the shared secret (`JWT_SECRET_KEY`): only a holder of it verifies tokens.
    Hs256(SecretKey),
    /// RS256, ES256 or EdDSA: the private key (`JWT_PRIVATE_KEY`) signs, and its public key
    /// with any in `JWT_PUBLIC_KEYS` verify and are published.
    Asymmetric(Arc<KeySet>),
    /// RS256 or ES256 signed in AWS KMS (`JWT_KMS_KEY_ARN`), whose public key is only known
    /// once KMS is asked for it: the cold start does (`auth_kms`) and replaces this with the
    /// `Asymmetric` keys it makes (`KmsKey::key_set`).
    Kms(KmsKey),
}

impl Signing {
    /// The `alg` of every token signed and the only one accepted.
    pub fn algorithm_name(&self) -> &'static str {
        match self {
            Signing::Hs256(_) => "HS256",
            Signing::Asymmetric(keys) => keys.asymmetric().name(),
            Signing::Kms(key) => key.asymmetric.name(),
        }
    }
}

/// A signing key in AWS KMS, as configured: nothing secret, the private key never leaves KMS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KmsKey {
    pub asymmetric: Asymmetric,
    /// `JWT_KMS_KEY_ARN`: the key's ARN (or id, or alias).
    pub key_id: String,
    /// `JWT_PUBLIC_KEYS`, which a function that signs must begin with the key's public key.
    pub public_pems: Option<String>,
    key_use: KeyUse,
}

impl KmsKey {
    /// The deployment's keys, once KMS has said what the key's public key is (`public_pem`,
    /// SubjectPublicKeyInfo as PEM): `signer` signs, that key is published first, then the
    /// others of `JWT_PUBLIC_KEYS`. A function that issues tokens refuses to start unless
    /// `JWT_PUBLIC_KEYS` begins with it, as with a private key of its own.
    pub fn key_set(
        &self,
        signer: Arc<dyn RemoteSigner>,
        public_pem: &str,
    ) -> Result<KeySet, SettingsError> {
        let keys = KeySet::remote(
            self.asymmetric,
            signer,
            (KMS_KEY_VAR, public_pem),
            (PUBLIC_KEYS_VAR, self.public_pems.as_deref()),
        )
        .map_err(|error| SettingsError {
            variable: error.variable(),
            problem: match error.variable() {
                KMS_KEY_VAR => format!(
                    "the KMS key's public key is no {} key: {}",
                    self.asymmetric.name(),
                    KMS_KEY_SPECS
                ),
                _ => error.problem(),
            },
        })?;
        if self.key_use == KeyUse::Sign && keys.listed_first() != Some(keys.signing_kid()) {
            return Err(SettingsError {
                variable: PUBLIC_KEYS_VAR,
                problem: format!(
                    "does not begin with the public key of the KMS key in {KMS_KEY_VAR}: the \
                     functions that only verify read {PUBLIC_KEYS_VAR} alone and would refuse \
                     every token signed here; list its public key first (`{KMS_PUBLIC_KEY_COMMAND}`), \
                     then any earlier ones"
                ),
            });
        }
        Ok(keys)
    }
}

/// The key specs KMS signs each algorithm with.
const KMS_KEY_SPECS: &str =
    "RS256 takes a KMS key of spec RSA_2048 (or RSA_3072, RSA_4096), ES256 one of ECC_NIST_P256";

/// How an operator prints a KMS key's public key as PEM.
pub const KMS_PUBLIC_KEY_COMMAND: &str = "aws kms get-public-key --key-id ARN --query PublicKey \
     --output text | base64 -d | openssl pkey -pubin -inform DER";

/// The HMAC key. Its `Debug` output never shows the bytes.
#[derive(Clone)]
pub struct SecretKey(Vec<u8>);

impl SecretKey {
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// A configuration value that cannot be used; names the variable, never echoes a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct SettingsError {
    pub variable: &'static str,
    pub problem: String,
}

/// What a process does with the asymmetric keys, which decides the keys it may hold. (HS256
/// cannot be split so: the one secret both signs and verifies, and every function holds it.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUse {
    /// Signs and verifies on its own (the local server, the `users` command): the private key,
    /// with any further public keys to accept and publish.
    SignAndVerify,
    /// A function of a deployment that issues tokens (login, refresh): the private key, and the
    /// public keys every function of the deployment verifies with, its own first, so that a
    /// key the others would not accept is found at its start, not in a user's 401.
    Sign,
    /// A function that only verifies (profile, logout, discovery, the authorizer): the public
    /// keys alone. A leak or a compromised dependency there cannot mint tokens.
    Verify,
}

impl Settings {
    /// Reads the process environment, for a process that signs and verifies on its own.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_env_for(KeyUse::SignAndVerify)
    }

    /// Reads the process environment, for a process that uses the keys as `key_use` says.
    pub fn from_env_for(key_use: KeyUse) -> Result<Self, SettingsError> {
        reject_non_unicode_env()?;
        Self::from_lookup_for(|name| std::env::var(name).ok(), key_use)
    }

    /// Reads configuration through `lookup`, so tests need not touch the process environment.
    /// An empty value counts as unset: CloudFormation passes an empty string for an unset parameter.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        Self::from_lookup_for(lookup, KeyUse::SignAndVerify)
    }

    /// `from_lookup`, for a process that uses the keys as `key_use` says.
    pub fn from_lookup_for(
        lookup: impl Fn(&str) -> Option<String>,
        key_use: KeyUse,
    ) -> Result<Self, SettingsError> {
        let read = |name: &str| lookup(name).filter(|value| !value.is_empty());

        let signing = signing(&read, key_use)?;
        let issuer = read(ISSUER_VAR);
        if let (Signing::Asymmetric(_) | Signing::Kms(_), Some(issuer)) = (&signing, &issuer) {
            check_issuer_url(issuer).map_err(|problem| SettingsError {
                variable: ISSUER_VAR,
                problem,
            })?;
        }

        let ttl = |variable: &'static str, default: Duration| match read(variable) {
            None => Ok(default),
            Some(text) => parse_ttl(&text).map_err(|problem| SettingsError { variable, problem }),
        };

        let grace = match read(ROTATION_GRACE_VAR) {
            None => DEFAULT_ROTATION_GRACE,
            Some(text) => parse_grace(&text).map_err(|problem| SettingsError {
                variable: ROTATION_GRACE_VAR,
                problem,
            })?,
        };
        let max_failures = match read(LOGIN_MAX_FAILURES_VAR) {
            None => DEFAULT_LOGIN_MAX_FAILURES,
            Some(text) => text.trim().parse::<u32>().map_err(|_| SettingsError {
                variable: LOGIN_MAX_FAILURES_VAR,
                problem: format!(
                    "`{text}` is not a whole number from 0 to {}; 0 turns throttling off",
                    u32::MAX
                ),
            })?,
        };

        let users_table = read(USERS_TABLE_VAR);
        let sessions_table = read(SESSIONS_TABLE_VAR);
        // One table cannot be both: their keys differ, and a token's lookup reads each once.
        if users_table.is_some() && users_table == sessions_table {
            return Err(SettingsError {
                variable: SESSIONS_TABLE_VAR,
                problem: format!("names the users table ({USERS_TABLE_VAR}); give it its own"),
            });
        }

        Ok(Settings {
            signing,
            access_ttl: ttl(ACCESS_TTL_VAR, DEFAULT_ACCESS_TTL)?,
            refresh_ttl: ttl(REFRESH_TTL_VAR, DEFAULT_REFRESH_TTL)?,
            session_max_age: ttl(SESSION_MAX_AGE_VAR, DEFAULT_SESSION_MAX_AGE)?,
            issuer,
            audience: read(AUDIENCE_VAR),
            users_table,
            sessions_table,
            rotation: RotationPolicy {
                enabled: match read(ROTATION_VAR) {
                    None => false,
                    Some(text) => parse_switch(&text).map_err(|problem| SettingsError {
                        variable: ROTATION_VAR,
                        problem,
                    })?,
                },
                grace,
            },
            login_throttle: LoginThrottlePolicy {
                max_failures,
                window: ttl(LOGIN_FAILURE_WINDOW_VAR, DEFAULT_LOGIN_FAILURE_WINDOW)?,
            },
            browser: BrowserSettings::read(&read)?,
            accounts: AccountSettings::read(&read)?,
            mfa: MfaSettings::read(&read)?,
            activity: ActivitySettings::read(&read)?,
        })
    }
}

/// Every variable this module reads.
pub const VARIABLES: [&str; 23] = [
    ALGORITHM_VAR,
    SECRET_KEY_VAR,
    PRIVATE_KEY_VAR,
    PUBLIC_KEYS_VAR,
    KMS_KEY_VAR,
    ACCESS_TTL_VAR,
    REFRESH_TTL_VAR,
    SESSION_MAX_AGE_VAR,
    ISSUER_VAR,
    AUDIENCE_VAR,
    USERS_TABLE_VAR,
    SESSIONS_TABLE_VAR,
    ROTATION_VAR,
    ROTATION_GRACE_VAR,
    LOGIN_MAX_FAILURES_VAR,
    LOGIN_FAILURE_WINDOW_VAR,
    browser::TOKEN_LOCATION_VAR,
    browser::COOKIE_SECURE_VAR,
    browser::COOKIE_SAMESITE_VAR,
    browser::COOKIE_DOMAIN_VAR,
    browser::REFRESH_COOKIE_PATH_VAR,
    browser::COOKIE_CSRF_PROTECT_VAR,
    browser::CORS_ALLOWED_ORIGINS_VAR,
];

/// `JWT_ALGORITHM` and the keys it needs. HS256 (the default) takes the secret and refuses a
/// private key, which would otherwise be silently ignored; the asymmetric algorithms take the
/// private key and need no secret.
fn signing(
    read: &impl Fn(&str) -> Option<String>,
    key_use: KeyUse,
) -> Result<Signing, SettingsError> {
    let asymmetric = match read(ALGORITHM_VAR).as_deref().map(str::trim) {
        None | Some("HS256") => None,
        Some("RS256") => Some(Asymmetric::Rs256),
        Some("ES256") => Some(Asymmetric::Es256),
        Some("EdDSA") => Some(Asymmetric::EdDsa),
        Some(other) => {
            return Err(SettingsError {
                variable: ALGORITHM_VAR,
                problem: format!("`{other}` is not one of HS256, RS256, ES256, EdDSA"),
            });
        }
    };
    let Some(asymmetric) = asymmetric else {
        if read(KMS_KEY_VAR).is_some() {
            return Err(SettingsError {
                variable: KMS_KEY_VAR,
                problem: format!(
                    "is set, but {ALGORITHM_VAR} is HS256, whose secret KMS cannot hold: set \
                     {ALGORITHM_VAR} to the key's algorithm ({KMS_KEY_SPECS})"
                ),
            });
        }
        if read(PRIVATE_KEY_VAR).is_some() {
            return Err(SettingsError {
                variable: PRIVATE_KEY_VAR,
                problem: format!(
                    "is set, but {ALGORITHM_VAR} is HS256, which signs with {SECRET_KEY_VAR}: \
                     set {ALGORITHM_VAR} to the key's algorithm (RS256, ES256 or EdDSA)"
                ),
            });
        }
        return secret_key(read(SECRET_KEY_VAR)).map(Signing::Hs256);
    };
    let public_pems = read(PUBLIC_KEYS_VAR).map(|pems| unescape_newlines(&pems));
    let key_error = |error: crate::keys::KeyError| SettingsError {
        variable: error.variable(),
        problem: error.problem(),
    };
    let public_required = |why: &str| SettingsError {
        variable: PUBLIC_KEYS_VAR,
        problem: format!(
            "is required with {ALGORITHM_VAR}={} in a function that {why}: the signing key's \
             public key as PEM (`openssl pkey -in private.pem -pubout`), then any earlier ones",
            asymmetric.name()
        ),
    };
    if key_use == KeyUse::Verify {
        if read(KMS_KEY_VAR).is_some() {
            return Err(SettingsError {
                variable: KMS_KEY_VAR,
                problem: format!(
                    "is set, but this function only verifies tokens: it reads the public keys \
                     alone, from {PUBLIC_KEYS_VAR} (the KMS key's first); only the functions \
                     that issue tokens (login, refresh) sign with the KMS key"
                ),
            });
        }
        if read(PRIVATE_KEY_VAR).is_some() {
            return Err(SettingsError {
                variable: PRIVATE_KEY_VAR,
                problem: format!(
                    "is set, but this function only verifies tokens: give it the public keys \
                     alone, in {PUBLIC_KEYS_VAR} (the signing key's first); only the functions \
                     that issue tokens (login, refresh) may hold the private key"
                ),
            });
        }
        let pems = public_pems.ok_or_else(|| public_required("only verifies tokens"))?;
        let keys =
            KeySet::verifying_only(asymmetric, (PUBLIC_KEYS_VAR, &pems)).map_err(key_error)?;
        return Ok(Signing::Asymmetric(Arc::new(keys)));
    }
    if let Some(key_id) = read(KMS_KEY_VAR) {
        if read(PRIVATE_KEY_VAR).is_some() {
            return Err(SettingsError {
                variable: PRIVATE_KEY_VAR,
                problem: format!(
                    "is set beside {KMS_KEY_VAR}: tokens are signed in KMS, and a private key \
                     here would be one more copy to leak; remove it"
                ),
            });
        }
        if asymmetric == Asymmetric::EdDsa {
            return Err(SettingsError {
                variable: ALGORITHM_VAR,
                problem: format!("EdDSA is not signed in KMS here: {KMS_KEY_SPECS}"),
            });
        }
        if key_use == KeyUse::Sign && public_pems.is_none() {
            return Err(public_required("issues tokens"));
        }
        return Ok(Signing::Kms(KmsKey {
            asymmetric,
            key_id: key_id.trim().to_owned(),
            public_pems,
            key_use,
        }));
    }
    let private_pem = read(PRIVATE_KEY_VAR).ok_or_else(|| SettingsError {
        variable: PRIVATE_KEY_VAR,
        problem: format!(
            "is required with {ALGORITHM_VAR}={}: the signing key as PEM ({})",
            asymmetric.name(),
            match asymmetric {
                Asymmetric::Rs256 =>
                    "`openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048`",
                Asymmetric::Es256 =>
                    "`openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`",
                Asymmetric::EdDsa => "`openssl genpkey -algorithm ed25519`",
            }
        ),
    })?;
    if key_use == KeyUse::Sign && public_pems.is_none() {
        return Err(public_required("issues tokens"));
    }
    let keys = KeySet::new(
        asymmetric,
        (PRIVATE_KEY_VAR, &unescape_newlines(&private_pem)),
        (PUBLIC_KEYS_VAR, public_pems.as_deref()),
    )
    .map_err(key_error)?;
    if key_use == KeyUse::Sign && keys.listed_first() != Some(keys.signing_kid()) {
        return Err(SettingsError {
            variable: PUBLIC_KEYS_VAR,
            problem: format!(
                "does not begin with the public key of {PRIVATE_KEY_VAR}: the functions that \
                 only verify read {PUBLIC_KEYS_VAR} alone and would refuse every token signed \
                 here; list this key's public key first (`openssl pkey -in private.pem \
                 -pubout`), then any earlier ones"
            ),
        });
    }
    Ok(Signing::Asymmetric(Arc::new(keys)))
}

fn secret_key(secret: Option<String>) -> Result<SecretKey, SettingsError> {
    match secret {
        None => Err(SettingsError {
            variable: SECRET_KEY_VAR,
            problem: format!(
                "is required: set it to a random secret of at least {MIN_SECRET_BYTES} bytes \
                 (for example `openssl rand -base64 48`)"
            ),
        }),
        Some(secret) if secret.len() < MIN_SECRET_BYTES => Err(SettingsError {
            variable: SECRET_KEY_VAR,
            problem: format!(
                "is {} bytes long; an HS256 key must be at least {MIN_SECRET_BYTES} bytes (RFC 7518 \
                 section 3.2): make one with `openssl rand -base64 48`",
                secret.len()
            ),
        }),
        Some(secret) => Ok(SecretKey(secret.into_bytes())),
    }
}

/// A PEM given on one line with `\n` for its line breaks, as a CloudFormation parameter or a
/// `.env` file often carries it, read as the PEM it stands for.
fn unescape_newlines(pem: &str) -> String {
    if pem.contains('\n') {
        pem.to_owned()
    } else {
        pem.replace("\\n", "\n")
    }
}

/// An asymmetric deployment's issuer is where verifiers find its keys
/// (`{issuer}/.well-known/openid-configuration`): an absolute HTTP(S) URL with no trailing
/// slash, query or fragment (OpenID Connect Discovery section 3).
fn check_issuer_url(issuer: &str) -> Result<(), String> {
    // Verifiers fetch the keys from it: over plain HTTP anyone on the way could swap them, so
    // http:// only for this machine (local-api).
    let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|local| {
            issuer
                .strip_prefix(local)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([':', '/']))
        });
    let rest = issuer
        .strip_prefix("https://")
        .or_else(|| issuer.strip_prefix("http://").filter(|_| loopback))
        .ok_or_else(|| {
            format!("`{issuer}` is not an https:// URL; verifiers fetch the keys from it")
        })?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("`{issuer}` has no host"));
    }
    if issuer.ends_with('/') || issuer.contains(['?', '#']) || issuer.contains(char::is_whitespace)
    {
        return Err(format!(
            "`{issuer}` must have no trailing slash, query, fragment or spaces: verifiers append \
             /.well-known/openid-configuration to it"
        ));
    }
    Ok(())
}

/// Refuses a variable whose value is not UTF-8, rather than read it lossily: a secret whose bytes
/// changed would silently sign with another key. (Lambda only stores UTF-8; a shell may not.)
pub fn reject_non_unicode_env() -> Result<(), SettingsError> {
    reject_non_unicode(|name| std::env::var_os(name))
}

fn reject_non_unicode(
    read: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<(), SettingsError> {
    match VARIABLES
        .into_iter()
        .chain(accounts::VARIABLES)
        .chain(mfa::VARIABLES)
        .chain(activity::VARIABLES)
        .find(|variable| read(variable).is_some_and(|value| value.to_str().is_none()))
    {
        Some(variable) => Err(SettingsError {
            variable,
            problem: "is not valid UTF-8".to_owned(),
        }),
        None => Ok(()),
    }
}

/// Parses a token lifetime: integer seconds (`900`) or a duration (`90s`, `15m`, `1h`, `2d 3h 15m`).
/// Token times are whole seconds, so the lifetime must be a whole number of seconds, at least one.
pub fn parse_ttl(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let accepted = "expected integer seconds or a duration like `90s`, `15m`, `1h` or `2d 3h 15m`";
    let duration = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| format!("`{text}` is too large; {accepted}"))?
    } else {
        humantime::parse_duration(text).map_err(|_| format!("`{text}` is not valid; {accepted}"))?
    };
    if duration < Duration::from_secs(1) {
        return Err(format!("`{text}` must be at least one second; {accepted}"));
    }
    if duration.subsec_nanos() != 0 {
        return Err(format!(
            "`{text}` must be a whole number of seconds; {accepted}"
        ));
    }
    if duration > MAX_TTL {
        return Err(format!(
            "`{text}` is longer than the maximum of {} seconds (100 years)",
            MAX_TTL.as_secs()
        ));
    }
    Ok(duration)
}

/// `true` or `false`, in any case (CloudFormation parameters are strings).
pub fn parse_switch(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("`{text}` is not `true` or `false`")),
    }
}

/// Parses the rotation grace: like a lifetime, but zero is allowed, and it is
/// at most `MAX_ROTATION_GRACE`.
pub fn parse_grace(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    if trimmed == "0" || trimmed == "0s" {
        return Ok(Duration::ZERO);
    }
    let grace = parse_ttl(trimmed)?;
    if grace > MAX_ROTATION_GRACE {
        return Err(format!(
            "`{trimmed}` is longer than the maximum of {} seconds: a long grace lets a stolen \
             refresh token pass for a retry",
            MAX_ROTATION_GRACE.as_secs()
        ));
    }
    Ok(grace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn settings_from(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| env.get(name).cloned())
    }

    #[test]
    fn non_utf8_value_is_refused_by_name() {
        use std::{ffi::OsString, os::unix::ffi::OsStringExt};
        let read =
            |name: &str| (name == AUDIENCE_VAR).then(|| OsString::from_vec(b"api-\xff".to_vec()));
        let error = reject_non_unicode(read).unwrap_err();
        assert_eq!(error.to_string(), "JWT_AUDIENCE: is not valid UTF-8");
        assert!(reject_non_unicode(|_| Some(OsString::from("fine"))).is_ok());
    }

    #[test]
    fn defaults_are_fifteen_minutes_and_one_hour_without_issuer_or_audience() {
        let settings = settings_from(&[(SECRET_KEY_VAR, SECRET)]).unwrap();
        assert_eq!(settings.access_ttl, Duration::from_secs(900));
        assert_eq!(settings.refresh_ttl, Duration::from_secs(3600));
        assert_eq!(settings.issuer, None);
        assert_eq!(settings.audience, None);
        assert_eq!(settings.signing.algorithm_name(), "HS256");
        assert!(
            matches!(&settings.signing, Signing::Hs256(secret) if secret.as_bytes() == SECRET.as_bytes())
        );
    }

    #[test]
    fn missing_secret_names_the_variable() {
        let error = settings_from(&[]).unwrap_err();
        assert_eq!(error.variable, SECRET_KEY_VAR);
        assert!(error.to_string().starts_with("JWT_SECRET_KEY: is required"));
    }

    #[test]
    fn empty_secret_counts_as_missing() {
        let error = settings_from(&[(SECRET_KEY_VAR, "")]).unwrap_err();
        assert!(error.problem.starts_with("is required"));
    }

    #[test]
    fn short_secret_is_refused_without_echoing_it() {
        let short = "thirty-one-bytes-long-secret-xx";
        assert_eq!(short.len(), 31);
        let error = settings_from(&[(SECRET_KEY_VAR, short)]).unwrap_err();
        assert_eq!(error.variable, SECRET_KEY_VAR);
        assert!(error.problem.contains("31 bytes"));
        assert!(
            error
                .problem
                .ends_with("make one with `openssl rand -base64 48`"),
            "{error}"
        );
        assert!(!error.to_string().contains(short));
    }

    #[test]
    fn secret_of_exactly_32_bytes_is_accepted() {
        assert!(settings_from(&[(SECRET_KEY_VAR, SECRET)]).is_ok());
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let settings = settings_from(&[(SECRET_KEY_VAR, SECRET)]).unwrap();
        let debug = format!("{settings:?}");
        assert!(!debug.contains(SECRET));
        assert!(debug.contains("<redacted>"));
    }

    #[test]
    fn ttls_accept_seconds_and_durations() {
        let settings = settings_from(&[
            (SECRET_KEY_VAR, SECRET),
            (ACCESS_TTL_VAR, "90"),
            (REFRESH_TTL_VAR, "2d 3h 15m"),
        ])
        .unwrap();
        assert_eq!(settings.access_ttl, Duration::from_secs(90));
        assert_eq!(
            settings.refresh_ttl,
            Duration::from_secs(2 * 86400 + 3 * 3600 + 15 * 60)
        );
    }

    #[test]
    fn parse_ttl_accepts_the_documented_forms() {
        assert_eq!(parse_ttl("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_ttl("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_ttl("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_ttl(" 3600 "), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_ttl("1h 30m"), Ok(Duration::from_secs(5400)));
    }

    #[test]
    fn parse_ttl_refuses_zero_negative_fractional_and_garbage() {
        for bad in [
            "0",
            "0s",
            "-5",
            "1.5",
            "500ms",
            "1500ms",
            "soon",
            "15 minutes please",
            "m",
        ] {
            assert!(parse_ttl(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn parse_ttl_refuses_absurd_lifetimes_instead_of_overflowing() {
        assert!(parse_ttl("99999999999999999999999").is_err());
        assert!(parse_ttl("18446744073709551615").is_err());
        assert!(parse_ttl("200y").is_err());
    }

    #[test]
    fn the_sessions_table_cannot_be_the_users_table() {
        let error = settings_from(&[
            (SECRET_KEY_VAR, SECRET),
            (USERS_TABLE_VAR, "auth"),
            (SESSIONS_TABLE_VAR, "auth"),
        ])
        .unwrap_err();
        assert_eq!(error.variable, SESSIONS_TABLE_VAR);
        assert!(error.to_string().contains("USERS_TABLE"), "{error}");
    }

    #[test]
    fn invalid_ttl_error_names_the_variable_and_what_is_accepted() {
        let error =
            settings_from(&[(SECRET_KEY_VAR, SECRET), (REFRESH_TTL_VAR, "forever")]).unwrap_err();
        assert_eq!(error.variable, REFRESH_TTL_VAR);
        let text = error.to_string();
        assert!(text.starts_with("JWT_REFRESH_TOKEN_EXPIRES: `forever` is not valid"));
        assert!(text.contains("15m"));
    }

    #[test]
    fn issuer_and_audience_are_read_when_set_and_ignored_when_empty() {
        let settings = settings_from(&[
            (SECRET_KEY_VAR, SECRET),
            (ISSUER_VAR, "https://auth.example.com"),
            (AUDIENCE_VAR, ""),
        ])
        .unwrap();
        assert_eq!(settings.issuer.as_deref(), Some("https://auth.example.com"));
        assert_eq!(settings.audience, None);
    }

    #[test]
    fn session_settings_default_to_rotation_off_and_five_failures_in_fifteen_minutes() {
        let settings = settings_from(&[(SECRET_KEY_VAR, SECRET)]).unwrap();
        assert!(!settings.rotation.enabled);
        assert_eq!(settings.rotation.grace, Duration::from_secs(10));
        assert_eq!(settings.login_throttle.max_failures, 5);
        assert_eq!(settings.login_throttle.window, Duration::from_secs(900));
        assert_eq!(settings.session_max_age, Duration::from_secs(30 * 86400));
        assert_eq!(settings.sessions_table, None);
    }

    #[test]
    fn session_settings_are_read_when_set() {
        let settings = settings_from(&[
            (SECRET_KEY_VAR, SECRET),
            (ROTATION_VAR, "TRUE"),
            (ROTATION_GRACE_VAR, "3s"),
            (SESSION_MAX_AGE_VAR, "7d"),
            (LOGIN_MAX_FAILURES_VAR, "0"),
            (LOGIN_FAILURE_WINDOW_VAR, "2s"),
            (SESSIONS_TABLE_VAR, "sessions"),
        ])
        .unwrap();
        assert!(settings.rotation.enabled);
        assert_eq!(settings.rotation.grace, Duration::from_secs(3));
        assert_eq!(settings.session_max_age, Duration::from_secs(7 * 86400));
        assert_eq!(settings.login_throttle.max_failures, 0);
        assert_eq!(settings.login_throttle.window, Duration::from_secs(2));
        assert_eq!(settings.sessions_table.as_deref(), Some("sessions"));
    }

    #[test]
    fn bad_session_settings_name_their_variable() {
        for (variable, value) in [
            (ROTATION_VAR, "yes"),
            (ROTATION_GRACE_VAR, "1h"),
            (ROTATION_GRACE_VAR, "soon"),
            (LOGIN_MAX_FAILURES_VAR, "-1"),
            (LOGIN_MAX_FAILURES_VAR, "five"),
            (LOGIN_FAILURE_WINDOW_VAR, "0"),
            (SESSION_MAX_AGE_VAR, "0"),
            (SESSION_MAX_AGE_VAR, "a month"),
        ] {
            let error = settings_from(&[(SECRET_KEY_VAR, SECRET), (variable, value)]).unwrap_err();
            assert_eq!(error.variable, variable, "{value}");
            assert!(error.to_string().starts_with(variable));
        }
    }

    #[test]
    fn grace_accepts_zero_and_at_most_five_minutes() {
        assert_eq!(parse_grace("0"), Ok(Duration::ZERO));
        assert_eq!(parse_grace("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_grace("5m"), Ok(Duration::from_secs(300)));
        assert!(parse_grace("301").is_err());
    }

    const RS256_PRIVATE: &str = include_str!("../../../interop/keys/rs256-private.pem");
    const ES256_PUBLIC: &str = include_str!("../../../interop/keys/es256-public.pem");

    #[test]
    fn an_asymmetric_algorithm_signs_with_the_private_key_and_needs_no_secret() {
        let settings =
            settings_from(&[(ALGORITHM_VAR, "RS256"), (PRIVATE_KEY_VAR, RS256_PRIVATE)]).unwrap();
        assert_eq!(settings.signing.algorithm_name(), "RS256");
        // The key's Debug shows its id, never the key.
        let debug = format!("{settings:?}");
        assert!(debug.contains("kids"), "{debug}");
        assert!(
            !debug.contains("PRIVATE KEY") && !debug.contains("MII"),
            "{debug}"
        );
    }

    #[test]
    fn a_pem_on_one_line_with_escaped_newlines_is_read_as_the_pem() {
        let one_line = RS256_PRIVATE.replace('\n', "\\n");
        assert!(!one_line.contains('\n'));
        let settings =
            settings_from(&[(ALGORITHM_VAR, "RS256"), (PRIVATE_KEY_VAR, &one_line)]).unwrap();
        assert_eq!(settings.signing.algorithm_name(), "RS256");
    }

    #[test]
    fn bad_key_settings_name_their_variable_and_never_show_a_key() {
        let cases: [(&[(&str, &str)], &str); 7] = [
            (
                &[(ALGORITHM_VAR, "HS512"), (SECRET_KEY_VAR, SECRET)],
                ALGORITHM_VAR,
            ),
            (
                &[(ALGORITHM_VAR, "none"), (SECRET_KEY_VAR, SECRET)],
                ALGORITHM_VAR,
            ),
            (&[(ALGORITHM_VAR, "RS256")], PRIVATE_KEY_VAR),
            // A private key with HS256 would be ignored: refused instead.
            (
                &[(SECRET_KEY_VAR, SECRET), (PRIVATE_KEY_VAR, RS256_PRIVATE)],
                PRIVATE_KEY_VAR,
            ),
            // An RSA key for ES256.
            (
                &[(ALGORITHM_VAR, "ES256"), (PRIVATE_KEY_VAR, RS256_PRIVATE)],
                PRIVATE_KEY_VAR,
            ),
            // A P-256 public key beside an RSA signing key.
            (
                &[
                    (ALGORITHM_VAR, "RS256"),
                    (PRIVATE_KEY_VAR, RS256_PRIVATE),
                    (PUBLIC_KEYS_VAR, ES256_PUBLIC),
                ],
                PUBLIC_KEYS_VAR,
            ),
            (
                &[
                    (ALGORITHM_VAR, "RS256"),
                    (
                        PRIVATE_KEY_VAR,
                        "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWJ5dGVz\n-----END PRIVATE KEY-----\n",
                    ),
                ],
                PRIVATE_KEY_VAR,
            ),
        ];
        for (pairs, variable) in cases {
            let error = settings_from(pairs).unwrap_err();
            assert_eq!(error.variable, variable, "{pairs:?}");
            let text = error.to_string();
            assert!(text.starts_with(variable), "{text}");
            assert!(
                !text.contains("MII") && !text.contains("c2VjcmV0"),
                "{text}"
            );
        }
    }

    #[test]
    fn an_asymmetric_issuer_must_be_a_url_verifiers_can_append_the_well_known_path_to() {
        let with_issuer = |issuer: &str| {
            settings_from(&[
                (ALGORITHM_VAR, "RS256"),
                (PRIVATE_KEY_VAR, RS256_PRIVATE),
                (ISSUER_VAR, issuer),
            ])
        };
        for good in [
            "https://auth.example.com",
            "https://example.com/auth",
            "http://127.0.0.1:3000",
            "http://localhost",
        ] {
            assert_eq!(with_issuer(good).unwrap().issuer.as_deref(), Some(good));
        }
        for bad in [
            "auth-service",
            "https://auth.example.com/",
            "https://",
            "https://x?y=1",
            "https://x#f",
            "http://auth.example.com",
            "http://localhost.evil.example",
        ] {
            let error = with_issuer(bad).unwrap_err();
            assert_eq!(error.variable, ISSUER_VAR, "{bad}");
        }
        // HS256 tokens' issuer stays any string, as before.
        let hs256 = settings_from(&[(SECRET_KEY_VAR, SECRET), (ISSUER_VAR, "auth-service")]);
        assert_eq!(hs256.unwrap().issuer.as_deref(), Some("auth-service"));
    }
}

//! The keys of an asymmetric deployment (RS256, ES256 or EdDSA): the private key that signs, and
//! every public key that verifies and is published (the signing key's own, then the others given:
//! the next key before a rotation, the previous one after it). Each key's `kid` is its RFC 7638
//! JWK thumbprint, so it needs no configuration and stays the same across deploys.
//!
//! Errors name what was wrong and where, never the key.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey,
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, PublicKeyUse, ThumbprintHash},
};

use std::sync::Arc;

use crypto::SigningKey;
use remote::RemoteSigner;

pub mod crypto;
pub mod diagnosis;
pub mod remote;

/// Why keys could not be read. `variable` is the environment variable they came from.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error(
        "{variable}: not a PEM {expected} private key (PKCS#8, or PKCS#1 for RSA){}",
        then(advice)
    )]
    NotAPrivateKey {
        variable: &'static str,
        expected: &'static str,
        /// What the value is instead and what to do (`diagnosis`), or empty.
        advice: String,
    },
    #[error(
        "{variable}: the key cannot sign {algorithm}: {reason}{}",
        then(advice)
    )]
    CannotSign {
        variable: &'static str,
        algorithm: &'static str,
        reason: String,
        advice: String,
    },
    #[error(
        "{variable}: key {position}: not a PEM {expected} public key (SubjectPublicKeyInfo){}",
        then(advice)
    )]
    NotAPublicKey {
        variable: &'static str,
        position: usize,
        expected: &'static str,
        advice: String,
    },
    #[error("{variable}: no PEM block in it")]
    NoPem { variable: &'static str },
    #[error("{variable}: key {position} cannot verify {algorithm}: {reason}")]
    CannotVerify {
        variable: &'static str,
        position: usize,
        algorithm: &'static str,
        reason: &'static str,
    },
}

/// `advice` after the problem, when there is any.
fn then(advice: &str) -> String {
    match advice.is_empty() {
        true => String::new(),
        false => format!(": {advice}"),
    }
}

impl KeyError {
    /// The variable the keys came from.
    pub fn variable(&self) -> &'static str {
        match self {
            Self::NotAPrivateKey { variable, .. }
            | Self::CannotSign { variable, .. }
            | Self::NotAPublicKey { variable, .. }
            | Self::CannotVerify { variable, .. }
            | Self::NoPem { variable } => variable,
        }
    }

    /// What is wrong, without the variable's name.
    pub fn problem(&self) -> String {
        let text = self.to_string();
        let prefix = format!("{}: ", self.variable());
        text.strip_prefix(&prefix).unwrap_or(&text).to_owned()
    }
}

/// One published key: its `kid`, its JWK (public parts only) and the key that verifies with it.
pub struct PublishedKey {
    pub kid: String,
    pub jwk: Jwk,
    pub verifying: DecodingKey,
}

/// A deployment's asymmetric keys.
pub struct KeySet {
    asymmetric: Asymmetric,
    /// None in a function that only verifies (`verifying_only`): it never holds a private key.
    signing: Option<Signer>,
    /// The `kid` of the first key of the public keys' variable, when there is one.
    listed_first: Option<String>,
    /// The signing key's public key first, then the others, without repeats.
    published: Vec<PublishedKey>,
}

/// What signs: a private key in this process, or a key held by a service (KMS) that signs on
/// request.
enum Signer {
    InProcess(Box<SigningKey>),
    Remote(Arc<dyn RemoteSigner>),
}

/// The algorithms whose tokens anyone with the public key can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asymmetric {
    Rs256,
    Es256,
    EdDsa,
}

impl Asymmetric {
    pub fn algorithm(self) -> Algorithm {
        match self {
            Self::Rs256 => Algorithm::RS256,
            Self::Es256 => Algorithm::ES256,
            Self::EdDsa => Algorithm::EdDSA,
        }
    }

    /// The name JWS gives it (`alg`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        }
    }

    /// What its keys are called in messages.
    fn key_type(self) -> &'static str {
        match self {
            Self::Rs256 => "RSA",
            Self::Es256 => "P-256",
            Self::EdDsa => "Ed25519",
        }
    }
}

impl KeySet {
    /// The keys of `algorithm` (RS256, ES256 or EdDSA): `private_pem` signs (read from
    /// `private_variable`), `public_pems` (any number of PEM blocks, read from
    /// `public_variable`) verify besides it.
    pub fn new(
        asymmetric: Asymmetric,
        (private_variable, private_pem): (&'static str, &str),
        (public_variable, public_pems): (&'static str, Option<&str>),
    ) -> Result<Self, KeyError> {
        crypto::install();
        let algorithm = asymmetric.algorithm();
        let expected = asymmetric.key_type();
        let not_a_private_key = || KeyError::NotAPrivateKey {
            variable: private_variable,
            expected,
            advice: diagnosis::private_key_advice(asymmetric, private_variable, private_pem),
        };
        let encoding = match asymmetric {
            Asymmetric::Rs256 => EncodingKey::from_rsa_pem(private_pem.as_bytes()),
            Asymmetric::Es256 => EncodingKey::from_ec_pem(private_pem.as_bytes()),
            Asymmetric::EdDsa => EncodingKey::from_ed_pem(private_pem.as_bytes()),
        }
        .map_err(|_| not_a_private_key())?;
        let signing =
            SigningKey::new(algorithm, &encoding).map_err(|error| KeyError::CannotSign {
                variable: private_variable,
                algorithm: asymmetric.name(),
                reason: error.to_string(),
                advice: diagnosis::private_key_advice(asymmetric, private_variable, private_pem),
            })?;
        let own = Jwk::from_encoding_key(&encoding, algorithm)
            .ok()
            .and_then(|jwk| publish(jwk, algorithm))
            .ok_or_else(not_a_private_key)?;
        let mut published = vec![own];
        let listed = parse_public_keys(asymmetric, public_variable, public_pems)?;
        let listed_first = listed.first().map(|key| key.kid.clone());
        add_new_keys(&mut published, listed);
        Ok(Self {
            asymmetric,
            signing: Some(Signer::InProcess(Box::new(signing))),
            listed_first,
            published,
        })
    }

    /// The keys of a deployment whose private key stays in a key service: `signer` signs, and
    /// `own_public_pem`, its public key as the service gave it (read from `own_variable`'s key),
    /// is published first, then the keys of `public_variable`.
    pub fn remote(
        asymmetric: Asymmetric,
        signer: Arc<dyn RemoteSigner>,
        (own_variable, own_public_pem): (&'static str, &str),
        (public_variable, public_pems): (&'static str, Option<&str>),
    ) -> Result<Self, KeyError> {
        crypto::install();
        let mut published = parse_public_keys(asymmetric, own_variable, Some(own_public_pem))?;
        if published.len() != 1 {
            return Err(KeyError::NotAPublicKey {
                variable: own_variable,
                position: 1,
                expected: asymmetric.key_type(),
                advice: String::new(),
            });
        }
        let listed = parse_public_keys(asymmetric, public_variable, public_pems)?;
        let listed_first = listed.first().map(|key| key.kid.clone());
        add_new_keys(&mut published, listed);
        Ok(Self {
            asymmetric,
            signing: Some(Signer::Remote(signer)),
            listed_first,
            published,
        })
    }

    /// The keys of a function that only verifies: the public keys in `public_pems`, the
    /// signing key's first (it is the one listed first), and no private key at all.
    pub fn verifying_only(
        asymmetric: Asymmetric,
        (public_variable, public_pems): (&'static str, &str),
    ) -> Result<Self, KeyError> {
        crypto::install();
        let mut published = Vec::new();
        add_new_keys(
            &mut published,
            parse_public_keys(asymmetric, public_variable, Some(public_pems))?,
        );
        let listed_first = published.first().map(|key| key.kid.clone());
        if published.is_empty() {
            return Err(KeyError::NoPem {
                variable: public_variable,
            });
        }
        Ok(Self {
            asymmetric,
            signing: None,
            listed_first,
            published,
        })
    }

    pub fn algorithm(&self) -> Algorithm {
        self.asymmetric.algorithm()
    }

    pub fn asymmetric(&self) -> Asymmetric {
        self.asymmetric
    }

    /// Every published key's `kid`, the signing key's first.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.published.iter().map(|key| key.kid.as_str())
    }

    /// The keys that verify tokens without a `kid` (flask-jwt-extended's, which it does not
    /// write): each published one, the signing key's first.
    pub fn verifying_keys(&self) -> impl Iterator<Item = &DecodingKey> {
        self.published.iter().map(|key| &key.verifying)
    }

    /// The private key, when this process holds it.
    pub fn signing_key(&self) -> Option<&SigningKey> {
        match &self.signing {
            Some(Signer::InProcess(key)) => Some(key),
            _ => None,
        }
    }

    /// The key service that signs, when the private key is held there.
    pub fn remote_signer(&self) -> Option<&Arc<dyn RemoteSigner>> {
        match &self.signing {
            Some(Signer::Remote(signer)) => Some(signer),
            _ => None,
        }
    }

    /// The `kid` of the first key listed in the public keys' variable, if any: a signer checks
    /// that it is its own, so that every function publishes and accepts the same keys.
    pub fn listed_first(&self) -> Option<&str> {
        self.listed_first.as_deref()
    }

    /// The `kid` of the signing key: what every token it signs carries (in a function that
    /// only verifies, the key listed first).
    pub fn signing_kid(&self) -> &str {
        &self.published[0].kid
    }

    /// The key that verifies tokens of `kid`, if it is one of ours.
    pub fn verifying_key(&self, kid: &str) -> Option<&DecodingKey> {
        self.published
            .iter()
            .find(|key| key.kid == kid)
            .map(|key| &key.verifying)
    }

    /// The published keys, the signing key's first: what `/.well-known/jwks.json` answers.
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: self.published.iter().map(|key| key.jwk.clone()).collect(),
        }
    }
}

/// Names the algorithm and the keys' ids, never a key.
/// Appends the keys of `keys` that `published` does not hold yet (by `kid`), in their order.
fn add_new_keys(published: &mut Vec<PublishedKey>, keys: Vec<PublishedKey>) {
    for key in keys {
        if published.iter().all(|known| known.kid != key.kid) {
            published.push(key);
        }
    }
}

/// The public keys of `variable` (`pems`, several PEM blocks or none), in their order.
fn parse_public_keys(
    asymmetric: Asymmetric,
    public_variable: &'static str,
    public_pems: Option<&str>,
) -> Result<Vec<PublishedKey>, KeyError> {
    let algorithm = asymmetric.algorithm();
    let expected = asymmetric.key_type();
    let mut keys = Vec::new();
    if let Some(pems) = public_pems.filter(|pems| !pems.trim().is_empty()) {
        let blocks = pem::parse_many(pems).map_err(|_| KeyError::NoPem {
            variable: public_variable,
        })?;
        if blocks.is_empty() {
            return Err(KeyError::NoPem {
                variable: public_variable,
            });
        }
        for (index, block) in blocks.iter().enumerate() {
            let not_a_public_key = || KeyError::NotAPublicKey {
                variable: public_variable,
                position: index + 1,
                expected,
                advice: diagnosis::public_key_advice(asymmetric, public_variable, block),
            };
            if block.tag() != "PUBLIC KEY" {
                return Err(not_a_public_key());
            }
            let text = pem::encode(block);
            let decoding = match asymmetric {
                Asymmetric::Rs256 => DecodingKey::from_rsa_pem(text.as_bytes()),
                Asymmetric::Es256 => DecodingKey::from_ec_pem(text.as_bytes()),
                Asymmetric::EdDsa => DecodingKey::from_ed_pem(text.as_bytes()),
            }
            .map_err(|_| not_a_public_key())?;
            let key = Jwk::from_decoding_key(&decoding, Some(algorithm))
                .ok()
                .and_then(|jwk| publish(jwk, algorithm))
                .ok_or_else(not_a_public_key)?;
            // A key that would be published but could never verify: verifiers would be told
            // to trust it, and rotating to it would fail.
            if let Some(reason) = unusable(&key.jwk) {
                return Err(KeyError::CannotVerify {
                    variable: public_variable,
                    position: index + 1,
                    algorithm: asymmetric.name(),
                    reason,
                });
            }
            keys.push(key);
        }
    }
    Ok(keys)
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySet")
            .field("algorithm", &self.asymmetric.name())
            .field(
                "signed_by",
                &self.remote_signer().map(|signer| signer.key_name()),
            )
            .field("kids", &self.kids().collect::<Vec<_>>())
            .finish()
    }
}

/// Why a public key cannot verify its algorithm's tokens (RFC 7518 section 3): an RSA key under
/// 2048 bits, which ring refuses, or another curve than the algorithm's.
fn unusable(jwk: &Jwk) -> Option<&'static str> {
    match &jwk.algorithm {
        AlgorithmParameters::RSA(rsa) => {
            let modulus = URL_SAFE_NO_PAD.decode(&rsa.n).unwrap_or_default();
            let leading_zeros = modulus.iter().take_while(|byte| **byte == 0).count();
            ((modulus.len() - leading_zeros) * 8 < 2048).then_some("an RSA key of under 2048 bits")
        }
        AlgorithmParameters::EllipticCurve(ec) => {
            (ec.curve != EllipticCurve::P256).then_some("not a P-256 key")
        }
        AlgorithmParameters::OctetKeyPair(okp) => {
            (okp.curve != EllipticCurve::Ed25519).then_some("not an Ed25519 key")
        }
        _ => Some("not a signature key"),
    }
}

/// `jwk` as published: for signatures, with its algorithm and its thumbprint as `kid`, and the
/// key that verifies with it.
fn publish(mut jwk: Jwk, algorithm: Algorithm) -> Option<PublishedKey> {
    let kid = jwk.thumbprint(ThumbprintHash::SHA256).ok()?;
    jwk.common.key_id = Some(kid.clone());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    jwk.common.key_algorithm = Some(algorithm.into());
    let verifying = DecodingKey::from_jwk(&jwk).ok()?;
    Some(PublishedKey {
        kid,
        jwk,
        verifying,
    })
}

/// Installs the provider jsonwebtoken's crypto runs on (it has no built-in one here).
/// `TokenService::new` does; anything else that signs with jsonwebtoken first must call it.
pub fn install_crypto_provider() {
    crypto::install();
}

#[cfg(test)]
mod tests;

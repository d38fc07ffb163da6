//! jsonwebtoken's cryptography on ring, the library rustls already links for the store's TLS:
//! HS256 for the tokens of today, and RS256, ES256 (P-256) and EdDSA (Ed25519) for tokens that
//! others verify with published keys, with the JWK helpers (public components, RFC 7638
//! thumbprints) that publishing them needs. jsonwebtoken's built-in backends would add a second
//! crypto library to every function: aws-lc (~2 MB), or RustCrypto's RSA and curves.
//!
//! Keys come as jsonwebtoken reads them from PEM: an RSA private key as PKCS#1 DER and its
//! public key as PKCS#1 DER or (n, e); P-256 and Ed25519 private keys as PKCS#8 DER, public keys
//! as the raw point. Any algorithm not named above is refused, never computed.

use jsonwebtoken::{
    Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind, EncodingKey,
    crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils},
    errors::{ErrorKind, Result},
    jwk::{EllipticCurve, ThumbprintHash},
    signature::{self, Signer, Verifier},
};
use ring::{
    digest, hmac,
    rand::SystemRandom,
    rsa::PublicKeyComponents,
    signature::{
        ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, ED25519, EcdsaKeyPair,
        Ed25519KeyPair, KeyPair, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, RsaKeyPair,
        UnparsedPublicKey,
    },
};

/// The provider to install before any token is signed or checked.
pub static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory,
    verifier_factory,
    key_utils: KeyUtils {
        rsa_pub_components_from_private_key,
        rsa_pub_components_from_public_key,
        ec_pub_components_from_private_key,
        ed_pub_components_from_private_key,
        compute_digest,
    },
};

/// Makes [`PROVIDER`] jsonwebtoken's crypto, once per process.
pub fn install() {
    // Err means a provider is installed already: ours, by an earlier call.
    let _ = PROVIDER.install_default();
}

/// The key family each algorithm this provider computes takes; `None` for every other
/// algorithm, which is refused.
fn family_of(algorithm: Algorithm) -> Option<AlgorithmFamily> {
    match algorithm {
        Algorithm::HS256 => Some(AlgorithmFamily::Hmac),
        Algorithm::RS256 => Some(AlgorithmFamily::Rsa),
        Algorithm::ES256 => Some(AlgorithmFamily::Ec),
        Algorithm::EdDSA => Some(AlgorithmFamily::Ed),
        _ => None,
    }
}

/// Refuses an algorithm this provider does not compute, and a key of another family.
fn check_family(algorithm: Algorithm, family: AlgorithmFamily) -> Result<()> {
    let expected = family_of(algorithm).ok_or(ErrorKind::InvalidAlgorithm)?;
    if family != expected {
        return Err(ErrorKind::InvalidKeyFormat.into());
    }
    Ok(())
}

/// A signing key, parsed once: RSA and elliptic-curve keys are checked as they are read, which
/// is too slow to repeat for every token.
pub enum SigningKey {
    Hs256(hmac::Key),
    Rs256(RsaKeyPair),
    Es256(EcdsaKeyPair),
    EdDsa(Ed25519KeyPair),
}

impl SigningKey {
    /// `key` for `algorithm`, or why it cannot sign with it.
    pub fn new(algorithm: Algorithm, key: &EncodingKey) -> Result<Self> {
        check_family(algorithm, key.family())?;
        let bytes = key.as_bytes();
        match algorithm {
            Algorithm::HS256 => Ok(Self::Hs256(hmac::Key::new(hmac::HMAC_SHA256, bytes))),
            Algorithm::RS256 => RsaKeyPair::from_der(bytes)
                .map(Self::Rs256)
                .map_err(|rejected| ErrorKind::InvalidRsaKey(rejected.to_string()).into()),
            Algorithm::ES256 => EcdsaKeyPair::from_pkcs8(
                &ECDSA_P256_SHA256_FIXED_SIGNING,
                bytes,
                &SystemRandom::new(),
            )
            .map(Self::Es256)
            .map_err(|_| ErrorKind::InvalidEcdsaKey.into()),
            // EdDSA, the one left after check_family. OpenSSL writes PKCS#8 v1, without the
            // public key ring would check it against.
            _ => Ed25519KeyPair::from_pkcs8_maybe_unchecked(bytes)
                .map(Self::EdDsa)
                .map_err(|_| ErrorKind::InvalidEddsaKey.into()),
        }
    }

    pub fn algorithm(&self) -> Algorithm {
        match self {
            Self::Hs256(_) => Algorithm::HS256,
            Self::Rs256(_) => Algorithm::RS256,
            Self::Es256(_) => Algorithm::ES256,
            Self::EdDsa(_) => Algorithm::EdDSA,
        }
    }
}

impl Signer<Vec<u8>> for SigningKey {
    fn try_sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, signature::Error> {
        let failed = |_| signature::Error::new();
        match self {
            Self::Hs256(key) => Ok(hmac::sign(key, message).as_ref().to_vec()),
            Self::Rs256(key) => {
                let mut signature = vec![0; key.public().modulus_len()];
                key.sign(
                    &RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    message,
                    &mut signature,
                )
                .map_err(failed)?;
                Ok(signature)
            }
            Self::Es256(key) => key
                .sign(&SystemRandom::new(), message)
                .map(|signature| signature.as_ref().to_vec())
                .map_err(failed),
            Self::EdDsa(key) => Ok(key.sign(message).as_ref().to_vec()),
        }
    }
}

impl JwtSigner for SigningKey {
    fn algorithm(&self) -> Algorithm {
        SigningKey::algorithm(self)
    }
}

/// A verification key: an HMAC secret, or a public key as jsonwebtoken holds it.
struct VerifyingKey {
    algorithm: Algorithm,
    key: Public,
}

enum Public {
    Hmac(hmac::Key),
    /// An RSA public key as PKCS#1 DER, a P-256 point or an Ed25519 key: ring's input for the
    /// algorithm.
    Encoded(Vec<u8>),
    RsaComponents(PublicKeyComponents<Vec<u8>>),
}

impl VerifyingKey {
    fn new(algorithm: Algorithm, key: &DecodingKey) -> Result<Self> {
        check_family(algorithm, key.family())?;
        let key = match (algorithm, key.kind()) {
            (Algorithm::HS256, DecodingKeyKind::SecretOrDer(secret)) => {
                Public::Hmac(hmac::Key::new(hmac::HMAC_SHA256, secret))
            }
            (_, DecodingKeyKind::SecretOrDer(bytes)) => Public::Encoded(bytes.clone()),
            (Algorithm::RS256, DecodingKeyKind::RsaModulusExponent { n, e }) => {
                Public::RsaComponents(PublicKeyComponents {
                    n: n.clone(),
                    e: e.clone(),
                })
            }
            _ => return Err(ErrorKind::InvalidKeyFormat.into()),
        };
        Ok(Self { algorithm, key })
    }
}

impl Verifier<Vec<u8>> for VerifyingKey {
    fn verify(
        &self,
        message: &[u8],
        signature: &Vec<u8>,
    ) -> std::result::Result<(), signature::Error> {
        let verified = match (&self.key, self.algorithm) {
            // Constant-time comparison.
            (Public::Hmac(key), _) => hmac::verify(key, message, signature),
            (Public::RsaComponents(components), _) => {
                components.verify(&RSA_PKCS1_2048_8192_SHA256, message, signature)
            }
            (Public::Encoded(public), Algorithm::RS256) => {
                UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public)
                    .verify(message, signature)
            }
            (Public::Encoded(public), Algorithm::ES256) => {
                UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public).verify(message, signature)
            }
            (Public::Encoded(public), _) => {
                UnparsedPublicKey::new(&ED25519, public).verify(message, signature)
            }
        };
        verified.map_err(|_| signature::Error::new())
    }
}

impl JwtVerifier for VerifyingKey {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

fn signer_factory(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    Ok(Box::new(SigningKey::new(*algorithm, key)?))
}

fn verifier_factory(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    Ok(Box::new(VerifyingKey::new(*algorithm, key)?))
}

fn rsa_pub_components_from_private_key(der: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    let key = RsaKeyPair::from_der(der)
        .map_err(|rejected| ErrorKind::InvalidRsaKey(rejected.to_string()))?;
    let components = PublicKeyComponents::<Vec<u8>>::from(key.public());
    Ok((components.n, components.e))
}

/// (n, e) of an RSA public key in PKCS#1 DER: `SEQUENCE { INTEGER n, INTEGER e }`.
fn rsa_pub_components_from_public_key(der: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    let invalid = || ErrorKind::InvalidRsaKey("not a PKCS#1 RSA public key".to_owned());
    let blocks = simple_asn1::from_der(der).map_err(|_| invalid())?;
    let [simple_asn1::ASN1Block::Sequence(_, fields)] = blocks.as_slice() else {
        return Err(invalid().into());
    };
    let [
        simple_asn1::ASN1Block::Integer(_, n),
        simple_asn1::ASN1Block::Integer(_, e),
    ] = fields.as_slice()
    else {
        return Err(invalid().into());
    };
    Ok((n.to_bytes_be().1, e.to_bytes_be().1))
}

fn ec_pub_components_from_private_key(
    pkcs8: &[u8],
    algorithm: Algorithm,
) -> Result<(EllipticCurve, Vec<u8>, Vec<u8>)> {
    if algorithm != Algorithm::ES256 {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    let key = EcdsaKeyPair::from_pkcs8(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        pkcs8,
        &SystemRandom::new(),
    )
    .map_err(|_| ErrorKind::InvalidEcdsaKey)?;
    // The uncompressed point: 0x04, then x and y of 32 bytes each.
    let point = key.public_key().as_ref();
    let (x, y) = point[1..].split_at(32);
    Ok((EllipticCurve::P256, x.to_vec(), y.to_vec()))
}

fn ed_pub_components_from_private_key(pkcs8: &[u8], curve: &EllipticCurve) -> Result<Vec<u8>> {
    if *curve != EllipticCurve::Ed25519 {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    let key = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)
        .map_err(|_| ErrorKind::InvalidEddsaKey)?;
    Ok(key.public_key().as_ref().to_vec())
}

fn compute_digest(data: &[u8], hash: ThumbprintHash) -> Result<Vec<u8>> {
    let algorithm = match hash {
        ThumbprintHash::SHA256 => &digest::SHA256,
        ThumbprintHash::SHA384 => &digest::SHA384,
        ThumbprintHash::SHA512 => &digest::SHA512,
        _ => return Err(ErrorKind::InvalidAlgorithm.into()),
    };
    Ok(digest::digest(algorithm, data).as_ref().to_vec())
}

#[cfg(test)]
mod tests;

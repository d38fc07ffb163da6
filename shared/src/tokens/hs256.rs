//! HS256, the only algorithm these tokens use, for jsonwebtoken's pluggable crypto: HMAC-SHA256
//! from RustCrypto's `hmac` and `sha2`, the crates the AWS SDK already links to sign its
//! requests. jsonwebtoken's built-in backends would add a whole crypto library (aws-lc, ~2 MB of
//! every function) or RSA and elliptic-curve code no token here uses.

use hmac::{Hmac, Mac};
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey,
    crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils},
    errors::{ErrorKind, Result},
    signature::{self, Signer, Verifier},
};
use sha2::Sha256;

/// The provider to install before any token is signed or checked.
pub static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory,
    verifier_factory,
    // JWK support (key components, thumbprints) is not used: a call would panic, none is made.
    key_utils: KeyUtils::new_unimplemented(),
};

/// Makes [`PROVIDER`] jsonwebtoken's crypto, once per process.
pub fn install() {
    // Err means a provider is installed already: ours, by an earlier call.
    let _ = PROVIDER.install_default();
}

struct HmacSha256(Hmac<Sha256>);

impl HmacSha256 {
    fn new(secret: &[u8]) -> Result<Self> {
        Hmac::new_from_slice(secret)
            .map(Self)
            .map_err(|_| ErrorKind::InvalidKeyFormat.into())
    }
}

impl Signer<Vec<u8>> for HmacSha256 {
    fn try_sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, signature::Error> {
        let mut mac = self.0.clone();
        mac.update(message);
        Ok(mac.finalize().into_bytes().to_vec())
    }
}

impl Verifier<Vec<u8>> for HmacSha256 {
    fn verify(
        &self,
        message: &[u8],
        signature: &Vec<u8>,
    ) -> std::result::Result<(), signature::Error> {
        let mut mac = self.0.clone();
        mac.update(message);
        // Constant-time comparison.
        mac.verify_slice(signature)
            .map_err(|_| signature::Error::new())
    }
}

impl JwtSigner for HmacSha256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

impl JwtVerifier for HmacSha256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

fn signer_factory(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    match algorithm {
        Algorithm::HS256 => Ok(Box::new(HmacSha256::new(key.as_bytes())?)),
        _ => Err(ErrorKind::InvalidAlgorithm.into()),
    }
}

fn verifier_factory(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    match algorithm {
        Algorithm::HS256 => Ok(Box::new(HmacSha256::new(key.try_get_as_bytes()?)?)),
        _ => Err(ErrorKind::InvalidAlgorithm.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"a-secret-that-is-long-enough-for-hs256!";

    /// RFC 4231, test case 2: HMAC-SHA256 with the key "Jefe".
    #[test]
    fn signs_the_rfc_4231_test_vector() {
        install();
        let key = EncodingKey::from_secret(b"Jefe").unwrap();
        let signature =
            jsonwebtoken::crypto::sign(b"what do ya want for nothing?", &key, Algorithm::HS256)
                .unwrap();
        // base64url of 5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843
        assert_eq!(signature, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM");
    }

    #[test]
    fn verifies_its_own_signature_and_refuses_others() {
        install();
        let signature = jsonwebtoken::crypto::sign(
            b"message",
            &EncodingKey::from_secret(SECRET).unwrap(),
            Algorithm::HS256,
        )
        .unwrap();
        let key = DecodingKey::from_secret(SECRET).unwrap();
        let verify = |message: &[u8], signature: &str| {
            jsonwebtoken::crypto::verify(signature, message, &key, Algorithm::HS256).unwrap()
        };
        assert!(verify(b"message", &signature));
        assert!(!verify(b"messagE", &signature));
        let other = DecodingKey::from_secret(b"another-secret-that-is-long-enough!!").unwrap();
        assert!(
            !jsonwebtoken::crypto::verify(&signature, b"message", &other, Algorithm::HS256)
                .unwrap()
        );
    }

    #[test]
    fn other_algorithms_are_refused_not_computed() {
        install();
        let key = EncodingKey::from_secret(SECRET).unwrap();
        for algorithm in [
            Algorithm::HS384,
            Algorithm::HS512,
            Algorithm::RS256,
            Algorithm::ES256,
        ] {
            let error = jsonwebtoken::crypto::sign(b"m", &key, algorithm).unwrap_err();
            assert_eq!(error.kind(), &ErrorKind::InvalidAlgorithm, "{algorithm:?}");
        }
    }
}

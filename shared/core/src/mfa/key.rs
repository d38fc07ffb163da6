//! The key a deployment keeps outside its tables (`MFA_ENCRYPTION_KEY`, 32 random bytes in
//! base64), from which two keys are derived (HKDF-SHA-256): one seals each TOTP secret with
//! AES-256-GCM, bound to its user (a sealed secret copied into another user's item does not
//! open), the other hashes each recovery code (HMAC-SHA-256). A copy of the users table alone
//! thus holds no secret and no code a guess could be checked against.
//!
//! A sealed secret reads `v1.<key id>.<nonce, ciphertext and tag in base64url>`: the key id
//! tells a secret sealed under another key (a key replaced without re-enrolling) from one
//! tampered with.

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD},
};
use ring::{
    aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey},
    digest::{SHA256, digest},
    hkdf::{HKDF_SHA256, Salt},
    hmac,
    rand::{SecureRandom, SystemRandom},
};

/// The environment variable that holds the key.
pub const KEY_VAR: &str = "MFA_ENCRYPTION_KEY";
/// Bytes in the key.
pub const KEY_BYTES: usize = 32;
const FORMAT: &str = "v1";
const HOW_TO_MAKE_ONE: &str = "set it to 32 random bytes in base64, e.g. `openssl rand -base64 32`";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{KEY_VAR} is not base64: {HOW_TO_MAKE_ONE}")]
    NotBase64,
    #[error("{KEY_VAR} is {0} bytes, not {KEY_BYTES}: {HOW_TO_MAKE_ONE}")]
    WrongLength(usize),
    /// HKDF refused to derive a key: only for lengths far beyond ours.
    #[error("could not derive the second factor's keys from {KEY_VAR}")]
    Derivation,
}

/// Why a sealed secret did not open. None of them says anything of the secret.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("not a sealed secret of ours")]
    Malformed,
    #[error(
        "sealed under another {KEY_VAR} (key id {0}): the key was replaced; the user enrols again"
    )]
    OtherKey(String),
    #[error("the sealed secret does not open: altered, or another user's")]
    DoesNotOpen,
    #[error("the system's random source failed")]
    NoRandomness,
}

/// The deployment's second-factor key. Build one per cold start.
pub struct MfaKey {
    seal: LessSafeKey,
    codes: hmac::Key,
    id: String,
}

impl std::fmt::Debug for MfaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// What a user's sealed secret is bound to: a ciphertext of one user is no other's.
fn aad(username: &str) -> Vec<u8> {
    let mut aad = b"totp-secret\0".to_vec();
    aad.extend_from_slice(username.as_bytes());
    aad
}

impl MfaKey {
    /// The key `text` holds: 32 bytes in base64 (standard or URL-safe, padded or not).
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        let bytes = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(text).ok())
            .ok_or(KeyError::NotBase64)?;
        let bytes: [u8; KEY_BYTES] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::WrongLength(bytes.len()))?;
        Self::from_bytes(&bytes)
    }

    pub fn from_bytes(bytes: &[u8; KEY_BYTES]) -> Result<Self, KeyError> {
        let prk = Salt::new(HKDF_SHA256, b"jwt-auth second factor").extract(bytes);
        let seal = prk
            .expand(&[b"totp secret sealing"], &AES_256_GCM)
            .map(UnboundKey::from)
            .map(LessSafeKey::new)
            .map_err(|_| KeyError::Derivation)?;
        let codes = prk
            .expand(&[b"recovery code hashing"], hmac::HMAC_SHA256)
            .map(hmac::Key::from)
            .map_err(|_| KeyError::Derivation)?;
        let mut id_input = b"jwt-auth second factor key id\0".to_vec();
        id_input.extend_from_slice(bytes);
        let id = URL_SAFE_NO_PAD.encode(&digest(&SHA256, &id_input).as_ref()[..6]);
        Ok(Self { seal, codes, id })
    }

    /// A short name of the key that says nothing of it: which key sealed a secret.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `secret` sealed for `username`: what the users table stores.
    pub fn seal(&self, username: &str, secret: &[u8]) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| SealError::NoRandomness)?;
        let mut sealed = secret.to_vec();
        self.seal
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(username)),
                &mut sealed,
            )
            .map_err(|_| SealError::NoRandomness)?;
        let mut payload = nonce.to_vec();
        payload.extend_from_slice(&sealed);
        Ok(format!(
            "{FORMAT}.{}.{}",
            self.id,
            URL_SAFE_NO_PAD.encode(payload)
        ))
    }

    /// The secret `sealed` holds, if it was sealed for `username` under this key.
    pub fn open(&self, username: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
        let mut parts = sealed.split('.');
        let (Some(FORMAT), Some(id), Some(payload), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(SealError::Malformed);
        };
        if id != self.id {
            return Err(SealError::OtherKey(id.to_owned()));
        }
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| SealError::Malformed)?;
        if payload.len() < NONCE_LEN {
            return Err(SealError::Malformed);
        }
        let (nonce, ciphertext) = payload.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Malformed)?;
        let mut opened = ciphertext.to_vec();
        let secret = self
            .seal
            .open_in_place(nonce, Aad::from(aad(username)), &mut opened)
            .map_err(|_| SealError::DoesNotOpen)?;
        Ok(secret.to_vec())
    }

    /// The keyed hash a recovery code (normalised: `recovery::normalise`) of `username` is
    /// stored and looked up as. Keyed by user too: one user's code is no other's.
    pub fn code_hash(&self, username: &str, code: &str) -> String {
        let mut context = hmac::Context::with_key(&self.codes);
        context.update(username.as_bytes());
        context.update(b"\0");
        context.update(code.as_bytes());
        URL_SAFE_NO_PAD.encode(context.sign().as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> MfaKey {
        MfaKey::from_bytes(&[byte; KEY_BYTES]).unwrap()
    }

    #[test]
    fn a_sealed_secret_opens_for_its_user_under_its_key_and_shows_nothing_of_it() {
        let key = key(1);
        let secret = b"12345678901234567890";
        let sealed = key.seal("cosmo", secret).unwrap();
        assert!(sealed.starts_with(&format!("v1.{}.", key.id())));
        assert!(!sealed.contains("12345678901234567890"));
        assert!(
            !sealed.contains("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
            "nor its base32"
        );
        assert_eq!(key.open("cosmo", &sealed).unwrap(), secret);
        assert_ne!(
            key.seal("cosmo", secret).unwrap(),
            sealed,
            "a new nonce each time"
        );
    }

    #[test]
    fn another_users_another_keys_and_an_altered_seal_do_not_open() {
        let (key, other_key) = (key(1), key(2));
        let sealed = key.seal("cosmo", b"12345678901234567890").unwrap();
        assert_eq!(key.open("wanda", &sealed), Err(SealError::DoesNotOpen));
        assert_eq!(
            other_key.open("cosmo", &sealed),
            Err(SealError::OtherKey(key.id().to_owned()))
        );
        let mut altered = sealed.clone().into_bytes();
        let last = altered.len() - 1;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        assert_eq!(key.open("cosmo", &altered), Err(SealError::DoesNotOpen));
        for malformed in [
            "",
            "v1",
            "v2.x.y",
            &format!("{sealed}.more"),
            &format!("v1.{}.!!", key.id()),
        ] {
            assert_eq!(
                key.open("cosmo", malformed),
                Err(SealError::Malformed),
                "{malformed}"
            );
        }
    }

    #[test]
    fn the_key_is_32_bytes_of_base64_and_a_bad_one_is_named_with_the_fix() {
        let standard = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
        assert_eq!(MfaKey::from_base64(standard).unwrap().id(), key(1).id());
        assert_eq!(
            MfaKey::from_base64(" AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE\n")
                .unwrap()
                .id(),
            key(1).id()
        );
        let short = MfaKey::from_base64("AQEB").unwrap_err().to_string();
        assert!(
            short.contains("MFA_ENCRYPTION_KEY is 3 bytes, not 32"),
            "{short}"
        );
        assert!(short.contains("openssl rand -base64 32"));
        let garbage = MfaKey::from_base64("not base64 at all!")
            .unwrap_err()
            .to_string();
        assert!(
            garbage.starts_with("MFA_ENCRYPTION_KEY is not base64"),
            "{garbage}"
        );
        assert!(!format!("{:?}", key(1)).contains("AQEB"));
    }

    #[test]
    fn a_code_hash_depends_on_the_key_the_user_and_the_code() {
        let hash = key(1).code_hash("cosmo", "abcd2345efgh");
        assert_eq!(hash, key(1).code_hash("cosmo", "abcd2345efgh"));
        assert_eq!(hash.len(), 43);
        assert_ne!(hash, key(2).code_hash("cosmo", "abcd2345efgh"));
        assert_ne!(hash, key(1).code_hash("wanda", "abcd2345efgh"));
        assert_ne!(hash, key(1).code_hash("cosmo", "abcd2345efgj"));
        // The separator keeps name and code apart.
        assert_ne!(key(1).code_hash("ab", "c"), key(1).code_hash("a", "bc"));
    }
}

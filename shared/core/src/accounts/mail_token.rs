//! The one-time tokens a mail carries: 256 random bits, sent once and stored only as their
//! SHA-256, so that a copy of the table opens no account. A token is looked up by its hash;
//! its record says its purpose, its user and its end (`super::MailTokenRecord`).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ring::{
    digest::{SHA256, digest},
    rand::{SecureRandom, SystemRandom},
};

/// Random bytes in a token: twice the 128 bits a guess must beat.
const TOKEN_BYTES: usize = 32;
/// The longest token a request may present: ours are 43 characters. Anything longer is not
/// one, and is refused before it is hashed.
pub const MAX_TOKEN_CHARS: usize = 128;

/// A token just made: the text for the mail, and the hash for the store.
pub struct MailToken {
    pub text: String,
    pub hash: String,
}

impl std::fmt::Debug for MailToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailToken")
            .field("text", &"<redacted>")
            .field("hash", &self.hash)
            .finish()
    }
}

/// The system's random source failed: no token can be made safely.
#[derive(Debug, thiserror::Error)]
#[error("the system's random source failed")]
pub struct NoRandomness;

impl MailToken {
    pub fn generate() -> Result<Self, NoRandomness> {
        let mut bytes = [0u8; TOKEN_BYTES];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| NoRandomness)?;
        let text = URL_SAFE_NO_PAD.encode(bytes);
        Ok(Self {
            hash: hash_of(&text),
            text,
        })
    }
}

/// The hash a token is stored under: SHA-256, base64url. A token needs no slow hash: it has
/// 256 bits of entropy, so nothing is gained by guessing at its hash.
pub fn hash_of(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest(&SHA256, token.as_bytes()))
}

/// Whether `token` could be one of ours, before any store is asked.
pub fn is_plausible(token: &str) -> bool {
    !token.is_empty() && token.len() <= MAX_TOKEN_CHARS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_43_url_safe_characters_each_different_and_stored_as_their_hash() {
        let first = MailToken::generate().unwrap();
        let second = MailToken::generate().unwrap();
        assert_ne!(first.text, second.text);
        assert_eq!(first.text.len(), 43);
        assert!(
            first
                .text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(first.hash, hash_of(&first.text));
        assert_ne!(first.hash, first.text);
        assert!(!format!("{first:?}").contains(&first.text));
    }

    #[test]
    fn the_hash_is_sha256_in_base64url() {
        // SHA-256("abc"), FIPS 180-2's example.
        assert_eq!(
            hash_of("abc"),
            "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
        );
    }
}

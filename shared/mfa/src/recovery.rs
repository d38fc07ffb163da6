//! Recovery codes: what lets a user in who has lost their authenticator. Ten at a time, shown
//! once, each good once, stored only as keyed hashes (`MfaKey::code_hash`). A code is 12
//! characters of Crockford's base32 (60 random bits, beyond the 50 a guess must beat at the
//! few tries a challenge allows), shown in groups of four: `7k2m-9qxd-4hwe`.

use ring::rand::{SecureRandom, SystemRandom};

use auth_core::mfa::key::MfaKey;

/// Codes in a set.
pub const CODES_IN_A_SET: usize = 10;
/// Characters in a code.
pub const CODE_CHARS: usize = 12;
/// Crockford's base32, lower case: no i, l, o or u to misread.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// The longest text taken as a code: a code with its dashes, and some spaces.
pub const MAX_INPUT_CHARS: usize = 32;

/// A new set: the codes to show the user, once, and the hashes to store.
pub struct RecoveryCodes {
    pub codes: Vec<String>,
    pub hashes: Vec<String>,
}

impl std::fmt::Debug for RecoveryCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecoveryCodes")
            .field("codes", &self.codes.len())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the system's random source failed")]
pub struct NoRandomness;

impl RecoveryCodes {
    /// A new set of `CODES_IN_A_SET` codes for `username`.
    pub fn generate(key: &MfaKey, username: &str) -> Result<Self, NoRandomness> {
        let mut random = [0u8; CODES_IN_A_SET * CODE_CHARS];
        SystemRandom::new()
            .fill(&mut random)
            .map_err(|_| NoRandomness)?;
        let codes: Vec<String> = random
            .chunks(CODE_CHARS)
            .map(|chunk| {
                // 256 is a multiple of 32: the low five bits of a random byte are uniform.
                let plain: String = chunk
                    .iter()
                    .map(|byte| char::from(ALPHABET[usize::from(byte & 31)]))
                    .collect();
                format!("{}-{}-{}", &plain[..4], &plain[4..8], &plain[8..])
            })
            .collect();
        let hashes = codes
            .iter()
            .filter_map(|code| normalise(code))
            .map(|code| key.code_hash(username, &code))
            .collect();
        Ok(Self { codes, hashes })
    }
}

/// `input` as a code is hashed: dashes and spaces out, lower case, and the letters people put
/// for digits (`i`, `l` for 1, `o` for 0) read as Crockford reads them. None if it cannot be a
/// code at all.
pub fn normalise(input: &str) -> Option<String> {
    if input.chars().count() > MAX_INPUT_CHARS {
        return None;
    }
    let code: String = input
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| match c.to_ascii_lowercase() {
            'i' | 'l' => '1',
            'o' => '0',
            other => other,
        })
        .collect();
    (code.len() == CODE_CHARS && code.bytes().all(|byte| ALPHABET.contains(&byte))).then_some(code)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn key() -> MfaKey {
        MfaKey::from_bytes(&[7; 32]).unwrap()
    }

    #[test]
    fn a_set_is_ten_different_codes_of_sixty_bits_each_with_its_hash() {
        let set = RecoveryCodes::generate(&key(), "cosmo").unwrap();
        assert_eq!(set.codes.len(), CODES_IN_A_SET);
        assert_eq!(set.hashes.len(), CODES_IN_A_SET);
        assert_eq!(
            set.codes.iter().collect::<HashSet<_>>().len(),
            CODES_IN_A_SET
        );
        for (code, hash) in set.codes.iter().zip(&set.hashes) {
            assert_eq!(code.len(), 14, "{code}");
            assert_eq!(code.matches('-').count(), 2);
            assert_eq!(normalise(code).as_deref().map(str::len), Some(CODE_CHARS));
            assert_eq!(&key().code_hash("cosmo", &normalise(code).unwrap()), hash);
            assert!(!hash.contains(&code.replace('-', "")));
        }
        assert!(!format!("{set:?}").contains(&set.codes[0]));
    }

    #[test]
    fn every_character_of_the_alphabet_comes_up() {
        let mut seen = HashSet::new();
        for _ in 0..20 {
            let set = RecoveryCodes::generate(&key(), "cosmo").unwrap();
            seen.extend(set.codes.concat().bytes().filter(|byte| *byte != b'-'));
        }
        assert_eq!(seen.len(), 32);
    }

    #[test]
    fn a_code_typed_with_capitals_spaces_or_look_alike_letters_is_the_same_code() {
        assert_eq!(normalise("7k2m-9qxd-4hwe").as_deref(), Some("7k2m9qxd4hwe"));
        for typed in ["7K2M-9QXD-4HWE", " 7k2m 9qxd 4hwe ", "7k2m9qxd4hwe"] {
            assert_eq!(normalise(typed).as_deref(), Some("7k2m9qxd4hwe"), "{typed}");
        }
        assert_eq!(normalise("1010-abcd-efgh"), normalise("iOlo-abcd-efgh"));
    }

    #[test]
    fn what_cannot_be_a_code_is_none() {
        for wrong in [
            "",
            "7k2m-9qxd-4hw",
            "7k2m-9qxd-4hwee",
            "7k2m-9qxd-4hwu",
            "7k2m-9qxd-4hw!",
            "７k2m-9qxd-4hwe",
            &"-".repeat(40),
            &format!("{}7k2m9qxd4hwe", " ".repeat(30)),
        ] {
            assert_eq!(normalise(wrong), None, "{wrong:?}");
        }
    }
}

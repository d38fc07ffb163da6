//! The one policy for every password a person sets (the `users` command now, the self-service
//! routes later), after NIST SP 800-63B section 3.1.1.2: at least 8 characters, up to 1,024
//! (any phrase fits, and the checker's work stays bounded), no composition rules, and not one an
//! attacker would guess early: zxcvbn's estimate, from its lists of common and breached
//! passwords, words, names and keyboard patterns, and the username itself, must put it beyond a
//! million guesses (its score 2 or more). Logins are never checked against it: a password set
//! before the policy keeps working.

/// Fewer characters than this are refused (NIST's minimum).
pub const MIN_CHARS: usize = 8;
/// More characters than this are refused.
pub const MAX_CHARS: usize = 1024;

/// Why a password is refused. The text says what to do; it never quotes the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    #[error(
        "the password is {0} characters: use at least {MIN_CHARS} (a phrase of a few unrelated \
         words is long and easy to remember)"
    )]
    TooShort(usize),
    #[error("the password is {0} characters: use at most {MAX_CHARS}")]
    TooLong(usize),
    #[error(
        "the password is too easy to guess ({0}): it would be among an attacker's first million \
         guesses; use a phrase of a few unrelated words"
    )]
    Guessable(String),
}

/// Whether `password` may be set for `username`.
pub fn check(password: &str, username: &str) -> Result<(), WeakPassword> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(WeakPassword::TooShort(chars));
    }
    if chars > MAX_CHARS {
        return Err(WeakPassword::TooLong(chars));
    }
    let estimate = zxcvbn::zxcvbn(password, &[username]);
    if u8::from(estimate.score()) >= 2 {
        return Ok(());
    }
    let reason = estimate
        .feedback()
        .and_then(|feedback| feedback.warning())
        .map_or_else(
            || "a common pattern, or close to your username".to_owned(),
            |warning| warning.to_string().trim_end_matches('.').to_lowercase(),
        );
    Err(WeakPassword::Guessable(reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_unguessable_passwords_pass_whatever_their_characters() {
        let mut random = fastrand::Rng::with_seed(26);
        let longest: String = (0..MAX_CHARS).map(|_| random.alphanumeric()).collect();
        for password in [
            "space-corgi",
            "correct horse battery staple",
            "ünïcødé pässphrase wörks",
            "no composition rules at all",
            &longest,
        ] {
            assert_eq!(check(password, "cosmo"), Ok(()), "{password:.30}");
        }
    }

    #[test]
    fn short_long_common_and_username_like_passwords_say_why() {
        assert_eq!(check("corgi", "cosmo"), Err(WeakPassword::TooShort(5)));
        // Characters, not bytes: seven of them are still too few.
        assert_eq!(check("ççççççç", "cosmo"), Err(WeakPassword::TooShort(7)));
        assert_eq!(
            check(&"a".repeat(MAX_CHARS + 1), "cosmo"),
            Err(WeakPassword::TooLong(MAX_CHARS + 1))
        );
        assert_eq!(
            check("password", "cosmo").unwrap_err().to_string(),
            "the password is too easy to guess (this is a top-10 common password): it would be \
             among an attacker's first million guesses; use a phrase of a few unrelated words"
        );
        for guessable in [
            "Password1!",
            "qwertyuiop",
            "letmein2024",
            "cosmo123",
            "cosmocosmo",
        ] {
            assert!(
                matches!(check(guessable, "cosmo"), Err(WeakPassword::Guessable(_))),
                "{guessable}"
            );
        }
        assert_eq!(
            WeakPassword::TooShort(5).to_string(),
            "the password is 5 characters: use at least 8 (a phrase of a few unrelated words is \
             long and easy to remember)"
        );
    }
}

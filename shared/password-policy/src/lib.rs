//! The one policy for every password a person sets (the `users` command, and the functions a
//! person signs up, changes or resets a password with), after NIST SP 800-63B section 3.1.1.2:
//! at least 8 characters, up to 1,024 (any phrase fits, and the checker's work stays bounded),
//! no composition rules, and none an attacker tries first:
//! - none that contains the username, or the local part of a username that is an email address;
//! - none of the most common passwords, as it is or with a few changes (a capital, digits or
//!   symbols around it, letters spelled with digits, the word twice): an embedded list of
//!   18,500 (`common`);
//! - none that is mostly one character repeated, a sequence or a keyboard row (`patterns`).
//!
//! Small enough for every function to link: no dependency but thiserror, ~190 KB of a binary,
//! 146 KB of it the list. (zxcvbn's estimate, which it replaces, cost a binary ~2 MB of
//! dictionaries and regex engines.) Logins are never checked against it: a password set before
//! the policy keeps working.

mod common;
mod patterns;

use common::Common;

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

// Why a password is guessable, as `WeakPassword::Guessable` says it.
const CONTAINS_USERNAME: &str = "it contains your username";
const COMMON: &str = "it is one of the most common passwords";
const COMMON_CHANGED: &str = "it is a common password with a few characters added or changed";
const PATTERN: &str = "it is mostly a repeated character or a sequence";

/// A word of the username shorter than this is not looked for in a password: "al" is in too
/// many phrases.
const MIN_USERNAME_WORD_CHARS: usize = 3;

/// Whether `password` may be set for `username` (a name or an email address).
pub fn check(password: &str, username: &str) -> Result<(), WeakPassword> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(WeakPassword::TooShort(chars));
    }
    if chars > MAX_CHARS {
        return Err(WeakPassword::TooLong(chars));
    }
    let guessable = |reason: &str| Err(WeakPassword::Guessable(reason.to_owned()));
    let lower = password.to_lowercase();
    if contains_username(&lower, username) {
        return guessable(CONTAINS_USERNAME);
    }
    let common = common::common(&lower);
    if common == Some(Common::Exact) {
        return guessable(COMMON);
    }
    if patterns::is_mostly_pattern(&lower.chars().collect::<Vec<_>>()) {
        return guessable(PATTERN);
    }
    if common == Some(Common::Changed) {
        return guessable(COMMON_CHANGED);
    }
    Ok(())
}

/// Whether `lower` (a lower-cased password), as it is or with its "leetspeak" read as letters,
/// contains a word of `username`.
fn contains_username(lower: &str, username: &str) -> bool {
    let words = username_words(username);
    let readings = [
        Some(lower.to_owned()),
        common::unleet(lower, 'i'),
        common::unleet(lower, 'l'),
    ];
    readings
        .iter()
        .flatten()
        .any(|reading| words.iter().any(|word| reading.contains(word.as_str())))
}

/// The words of `username` a password must not contain: the whole name and, for an email
/// address, its local part ("wanda.maximoff" of "wanda.maximoff@example.com"); each also with
/// its letters and digits only ("wandamaximoff"); lower-cased.
fn username_words(username: &str) -> Vec<String> {
    let name = username.trim().to_lowercase();
    let local = name.rsplit_once('@').map(|(local, _)| local.to_owned());
    let mut words: Vec<String> = [Some(name), local].into_iter().flatten().collect();
    let squeezed: Vec<String> = words
        .iter()
        .map(|word| word.chars().filter(|c| c.is_alphanumeric()).collect())
        .collect();
    words.extend(squeezed);
    words.retain(|word| word.chars().count() >= MIN_USERNAME_WORD_CHARS);
    words.sort();
    words.dedup();
    words
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
            "the password is too easy to guess (it is one of the most common passwords): it would \
             be among an attacker's first million guesses; use a phrase of a few unrelated words"
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

    fn reason(password: &str, username: &str) -> Option<String> {
        match check(password, username) {
            Err(WeakPassword::Guessable(reason)) => Some(reason),
            _ => None,
        }
    }

    #[test]
    fn each_guessable_password_says_which_rule_it_breaks() {
        for (password, said) in [
            ("password", COMMON),
            ("jennifer", COMMON),
            ("12345678", COMMON),
            ("qwertyuiop", COMMON),
            ("Password1!", COMMON_CHANGED),
            ("letmein2024", COMMON_CHANGED),
            ("Dr@g0n!!", COMMON_CHANGED),
            ("dragondragon", COMMON_CHANGED),
            ("cosmo123", CONTAINS_USERNAME),
            ("cosmocosmo", CONTAINS_USERNAME),
            ("aaaaaaaaaaaa", PATTERN),
            ("abcdefghij", PATTERN),
            ("98765432", PATTERN),
            ("zaqxswzaqxsw", COMMON_CHANGED),
            ("ghjkl;'#", PATTERN),
            ("x1234567", PATTERN),
        ] {
            assert_eq!(
                reason(password, "cosmo").as_deref(),
                Some(said),
                "{password}"
            );
        }
    }

    #[test]
    fn a_password_containing_the_username_is_refused_whatever_its_case_or_spelling() {
        for password in ["I am COSMO!", "c0sm0 the dog", "my-cosmo-rules"] {
            assert_eq!(
                reason(password, "Cosmo").as_deref(),
                Some(CONTAINS_USERNAME),
                "{password}"
            );
        }
    }

    #[test]
    fn an_email_username_is_looked_for_whole_and_by_its_local_part() {
        let email = "Wanda.Maximoff@example.com";
        for password in [
            "wanda.maximoff@example.com",
            "wanda.maximoff rules",
            "WandaMaximoff1999",
            "w4nd4.m4x1m0ff",
        ] {
            assert_eq!(
                reason(password, email).as_deref(),
                Some(CONTAINS_USERNAME),
                "{password}"
            );
        }
        // Neither the domain nor a part of the local part is the username.
        assert_eq!(check("example.com rocks today", email), Ok(()));
        assert_eq!(check("wanda vision forever", email), Ok(()));
    }

    #[test]
    fn a_username_of_one_or_two_characters_is_not_looked_for() {
        assert_eq!(check("always be closing the deal", "al"), Ok(()));
        assert_eq!(
            check("always be closing the deal", "al@example.com"),
            Ok(())
        );
    }

    #[test]
    fn a_common_word_or_a_short_run_inside_a_phrase_is_fine() {
        for phrase in [
            "password manager generated this",
            "my dragon eats 1234 cakes",
            "the tree crew",
            "abcd efgh ijkl, then sing",
        ] {
            assert_eq!(check(phrase, "cosmo"), Ok(()), "{phrase}");
        }
    }
}

//! The most common passwords, embedded in the binary, and the few changes people make to one
//! (a capital, digits or symbols around it, letters spelled with digits, the word twice).
//!
//! `common-passwords.txt` is the first 17,500 of the 30,000 passwords of leaked sets that zxcvbn
//! ranks, and the first 500 male and 500 female names of its census lists (zxcvbn keeps those
//! out of its passwords: "michael", "jennifer"), lower-cased and sorted by byte value, one a
//! line: 18,500 entries, 146 KB. `build-list.py`, beside `Cargo.toml`, made it from the zxcvbn
//! crate 3.1.1 (`src/frequency_lists.rs`). MIT licence: Copyright (c) 2016 Joshua Holmer (the
//! Rust port), Copyright (c) 2012-2015 Dan Wheeler and Dropbox, Inc. (the lists).

use std::sync::LazyLock;

use crate::patterns::smallest_period;

const LIST: &str = include_str!("common-passwords.txt");

/// The list's lines, sorted (the file is, and a test holds it to that): built at the first
/// check, a binary search each lookup after.
static SORTED: LazyLock<Vec<&'static str>> = LazyLock::new(|| LIST.lines().collect());

/// How a password is one of the most common.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Common {
    /// As it is (lower-cased).
    Exact,
    /// After a few changes: digits or symbols stripped from its ends, digits and symbols read
    /// as the letters they look like, a word said twice.
    Changed,
}

/// Whether `lower` (a lower-cased password) is a common password, or one with a few changes.
pub(crate) fn common(lower: &str) -> Option<Common> {
    if is_listed(lower) {
        return Some(Common::Exact);
    }
    // Digits and symbols around a word ("Password1!", "2024dragon"), then what is left with
    // "leetspeak" undone ("p@ssw0rd"); each of them also as the word it repeats.
    let core = lower.trim_matches(|c: char| !c.is_alphabetic());
    let mut candidates = vec![core.to_owned()];
    for one in ['i', 'l'] {
        if let Some(read) = unleet(core, one) {
            candidates.push(read);
        }
    }
    candidates.push(lower.to_owned());
    let changed = candidates
        .iter()
        .flat_map(|candidate| [candidate.as_str(), unit(candidate)])
        .any(|candidate| candidate != lower && is_listed(candidate));
    changed.then_some(Common::Changed)
}

/// Whether `word` is in the list, exactly.
fn is_listed(word: &str) -> bool {
    !word.is_empty() && SORTED.binary_search(&word).is_ok()
}

/// `word` with the digits and symbols that stand for letters read as those letters, `one` for
/// "1", "!" and "|" (an "i" or an "l"); None when it has none of them.
pub(crate) fn unleet(word: &str, one: char) -> Option<String> {
    let read = |c: char| match c {
        '0' => Some('o'),
        '1' | '!' | '|' => Some(one),
        '3' => Some('e'),
        '4' | '@' => Some('a'),
        '5' | '$' => Some('s'),
        '7' | '+' => Some('t'),
        '8' => Some('b'),
        '9' => Some('g'),
        _ => None,
    };
    word.chars()
        .any(|c| read(c).is_some())
        .then(|| word.chars().map(|c| read(c).unwrap_or(c)).collect())
}

/// The unit `word` repeats at least twice ("password" for "passwordpassword"), or `word`.
fn unit(word: &str) -> &str {
    let chars: Vec<char> = word.chars().collect();
    let period = smallest_period(&chars);
    if period == 0 || period * 2 > chars.len() {
        return word;
    }
    word.char_indices()
        .nth(period)
        .map_or(word, |(end, _)| &word[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_list_is_sorted_unique_lower_case_and_small() {
        assert!(
            (10_000..=20_000).contains(&SORTED.len()),
            "{} entries",
            SORTED.len()
        );
        assert!(LIST.len() <= 150 * 1024, "{} bytes", LIST.len());
        assert!(LIST.ends_with('\n'));
        for pair in SORTED.windows(2) {
            assert!(pair[0] < pair[1], "{:?} before {:?}", pair[0], pair[1]);
        }
        for entry in SORTED.iter() {
            assert!(!entry.is_empty());
            assert_eq!(*entry, entry.trim(), "{entry:?}");
            assert_eq!(*entry, entry.to_lowercase(), "{entry:?}");
        }
    }

    #[test]
    fn the_most_common_passwords_and_names_are_listed() {
        for listed in [
            "123456", "password", "qwerty", "letmein", "michael", "jennifer",
        ] {
            assert!(is_listed(listed), "{listed}");
        }
        assert!(!is_listed("correct horse battery staple"));
        assert!(!is_listed(""));
    }

    #[test]
    fn a_listed_password_as_it_is_is_exact() {
        assert_eq!(common("password"), Some(Common::Exact));
        assert_eq!(common("12345678"), Some(Common::Exact));
        assert_eq!(common("password1"), Some(Common::Exact));
    }

    #[test]
    fn a_listed_password_with_a_few_changes_is_changed() {
        for changed in [
            "password1!",
            "letmein2024",
            "2024dragon!",
            "!!monkey!!",
            "dr4g0n",
            "p4ssw0rd2024",
            "m0nk3y-2024",
            "passwordpassword",
            "dragondragondrag",
            "12345671234567",
            "michael1984",
        ] {
            assert_eq!(common(changed), Some(Common::Changed), "{changed}");
        }
    }

    #[test]
    fn unlisted_passwords_are_not_common() {
        for unlisted in [
            "space-corgi",
            "correct horse battery staple",
            "no composition rules at all",
            "ünïcødé pässphrase wörks",
            "dragon fruit and kiwi",
        ] {
            assert_eq!(common(unlisted), None, "{unlisted}");
        }
    }

    #[test]
    fn leetspeak_reads_as_letters_with_one_as_i_or_l() {
        assert_eq!(unleet("p@ssw0rd", 'i').as_deref(), Some("password"));
        assert_eq!(unleet("he11o", 'l').as_deref(), Some("hello"));
        assert_eq!(unleet("letters", 'i'), None);
    }

    #[test]
    fn a_repeated_word_is_read_once() {
        assert_eq!(unit("passwordpassword"), "password");
        assert_eq!(unit("ababab"), "ab");
        assert_eq!(unit("passwordpass"), "passwordpass");
        assert_eq!(unit("ççç"), "ç");
        assert_eq!(unit(""), "");
    }
}

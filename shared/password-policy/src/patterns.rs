//! Passwords made of a pattern rather than of choices: one character repeated, a run of the
//! alphabet, of digits or along a keyboard row, a short unit over and over.

/// A run is at least this long ("aaaa", "abcd", "4321", "qwer"): shorter ones turn up in any
/// phrase ("the tree" holds "tre", a keyboard run).
const SHORTEST_RUN: usize = 4;
/// A password with fewer characters than this outside its runs is mostly runs.
const FEW_OTHERS: usize = 4;
/// A password that repeats a unit this long or shorter ("abab", "1231231") is a pattern.
const LONGEST_UNIT: usize = 4;

/// Keyboard rows, QWERTY, QWERTZ and AZERTY, whose neighbours make a run as "abcd" does.
const KEYBOARD_ROWS: [&str; 9] = [
    "1234567890",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "qwertzuiop",
    "yxcvbnm",
    "azertyuiop",
    "qsdfghjklm",
    "wxcvbn",
];

/// Whether `chars` (lower-cased) is one short unit repeated, or has fewer than [`FEW_OTHERS`]
/// characters outside its runs of one character, of consecutive characters ("abcd", "9876") or
/// of neighbouring keys ("qwer", "lkjh").
pub(crate) fn is_mostly_pattern(chars: &[char]) -> bool {
    if chars.len() > 1 && smallest_period(chars) <= LONGEST_UNIT.min(chars.len() - 1) {
        return true;
    }
    let mut others = 0;
    let mut at = 0;
    while at < chars.len() {
        let run = longest_run_at(&chars[at..]);
        if run >= SHORTEST_RUN {
            at += run;
        } else {
            others += 1;
            at += 1;
        }
    }
    others < FEW_OTHERS
}

/// The length of the shortest unit that `chars` repeats, a last copy possibly cut short: 2 for
/// "abababa", the whole length for a string that repeats nothing; 0 for an empty one.
pub(crate) fn smallest_period(chars: &[char]) -> usize {
    // Knuth-Morris-Pratt's failure function: the longest proper prefix of chars[..=i] that is
    // also its suffix. The whole string's longest such border leaves the shortest period.
    let mut border = vec![0; chars.len()];
    for i in 1..chars.len() {
        let mut k = border[i - 1];
        while k > 0 && chars[i] != chars[k] {
            k = border[k - 1];
        }
        if chars[i] == chars[k] {
            k += 1;
        }
        border[i] = k;
    }
    chars.len() - border.last().copied().unwrap_or(0)
}

/// The length of the longest run that starts `chars` (1 when none does; 0 for no characters).
fn longest_run_at(chars: &[char]) -> usize {
    let by_code_point = [-1, 0, 1].map(|step| {
        run_length(chars, |a, b| {
            i64::from(u32::from(b)) - i64::from(u32::from(a)) == step
        })
    });
    let by_key = KEYBOARD_ROWS.iter().flat_map(|row| {
        [-1, 1].map(|step| {
            run_length(chars, |a, b| match (row.find(a), row.find(b)) {
                // Byte offsets, and so key positions: the rows are ASCII.
                (Some(a), Some(b)) => b as i64 - a as i64 == step,
                _ => false,
            })
        })
    });
    by_code_point.into_iter().chain(by_key).max().unwrap_or(0)
}

/// How many characters from the start of `chars` each follow the one before.
fn run_length(chars: &[char], follows: impl Fn(char, char) -> bool) -> usize {
    if chars.is_empty() {
        return 0;
    }
    1 + chars
        .windows(2)
        .take_while(|pair| follows(pair[0], pair[1]))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(text: &str) -> Vec<char> {
        text.chars().collect()
    }

    #[test]
    fn the_smallest_period_is_the_shortest_repeated_unit() {
        assert_eq!(smallest_period(&chars("abababa")), 2);
        assert_eq!(smallest_period(&chars("aaaa")), 1);
        assert_eq!(smallest_period(&chars("passwordpassword")), 8);
        assert_eq!(smallest_period(&chars("abcd")), 4);
        assert_eq!(smallest_period(&chars("")), 0);
    }

    #[test]
    fn runs_of_one_character_of_the_alphabet_and_of_keys_are_found() {
        assert_eq!(longest_run_at(&chars("aaaa!")), 4);
        assert_eq!(longest_run_at(&chars("abcdx")), 4);
        assert_eq!(longest_run_at(&chars("9876")), 4);
        assert_eq!(longest_run_at(&chars("qwerty!")), 6);
        assert_eq!(longest_run_at(&chars("lkjh")), 4);
        assert_eq!(longest_run_at(&chars("7890")), 4);
        assert_eq!(longest_run_at(&chars("xq")), 1);
        assert_eq!(longest_run_at(&[]), 0);
    }

    #[test]
    fn mostly_runs_or_a_short_unit_repeated_is_a_pattern() {
        for pattern in [
            "aaaaaaaa",
            "abcdefgh",
            "zyxwvuts",
            "x1234567",
            "aaaa1111",
            "qwertyuiop",
            "qzqzqzqz",
            "abcabcab",
            "ßßßßßßßß",
            "        ",
        ] {
            assert!(is_mostly_pattern(&chars(pattern)), "{pattern}");
        }
    }

    #[test]
    fn phrases_holding_short_runs_are_not_patterns() {
        for phrase in [
            "the tree crew",
            "wxyz1990",
            "abcd efgh ijkl, no",
            "correct horse battery staple",
            "ünïcødé pässphrase wörks",
        ] {
            assert!(!is_mostly_pattern(&chars(phrase)), "{phrase}");
        }
    }
}

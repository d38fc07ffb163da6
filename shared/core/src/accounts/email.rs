//! Email addresses as the service keys them and as it logs them.
//!
//! An address is normalised once, where it comes in: trimmed and lower-cased whole, local part
//! included. RFC 5321 lets a server tell `Ann@` from `ann@`, but no mail provider people use
//! does, and two accounts that differ only in case would be one person locked out of the
//! other (or an attacker holding it). Only what Amazon SES can send to is accepted: ASCII (a
//! domain in Unicode goes in its `xn--` form), a dot-atom local part of up to 64 characters,
//! a domain of dotted labels, 254 characters in all.

/// The longest address (RFC 5321's path limit less its angle brackets).
pub const MAX_EMAIL_CHARS: usize = 254;
const MAX_LOCAL_CHARS: usize = 64;
const MAX_LABEL_CHARS: usize = 63;

/// Why a value is not an address this service can mail. Says what to send instead; never
/// quotes the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("Not a valid email address.")]
    Malformed,
    #[error("Email address is longer than {MAX_EMAIL_CHARS} characters.")]
    TooLong,
    #[error(
        "Email address has characters outside ASCII: write an international domain in its \
         xn-- form; a local part must be ASCII."
    )]
    NotAscii,
}

/// `raw` as the service keys it: trimmed, lower-cased, checked.
pub fn normalise(raw: &str) -> Result<String, EmailError> {
    let address = raw.trim();
    if !address.is_ascii() {
        return Err(EmailError::NotAscii);
    }
    if address.len() > MAX_EMAIL_CHARS {
        return Err(EmailError::TooLong);
    }
    let address = address.to_ascii_lowercase();
    let (local, domain) = address.rsplit_once('@').ok_or(EmailError::Malformed)?;
    if !is_dot_atom(local) || local.len() > MAX_LOCAL_CHARS || !is_domain(domain) {
        return Err(EmailError::Malformed);
    }
    Ok(address)
}

/// RFC 5322's dot-atom: atext characters in runs separated by single dots.
fn is_dot_atom(local: &str) -> bool {
    let atext = |byte: u8| byte.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&byte);
    !local.is_empty()
        && local
            .split('.')
            .all(|run| !run.is_empty() && run.bytes().all(atext))
}

/// A domain mail can reach: two or more labels of letters, digits and inner hyphens.
fn is_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            (1..=MAX_LABEL_CHARS).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
        })
        // A top-level domain is never all digits: `1.2.3.4` is an IP address.
        && labels
            .last()
            .is_some_and(|tld| !tld.bytes().all(|byte| byte.is_ascii_digit()))
}

/// The domain of a normalised address.
pub fn domain_of(email: &str) -> &str {
    email.rsplit_once('@').map_or("", |(_, domain)| domain)
}

/// An address as a log line may show it: the first character of the local part and the
/// domain (`a***@example.com`), enough to tell a support case apart, not to mail anyone.
pub fn mask(email: &str) -> String {
    match email.rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_trimmed_and_lower_cased_whole() {
        assert_eq!(
            normalise("  Ann.Lee+news@Example.COM \n").unwrap(),
            "ann.lee+news@example.com"
        );
        assert_eq!(
            normalise("o'neil@xn--bcher-kva.example").unwrap(),
            "o'neil@xn--bcher-kva.example"
        );
    }

    #[test]
    fn what_ses_cannot_mail_is_refused_with_a_reason() {
        for malformed in [
            "",
            "ann",
            "@example.com",
            "ann@",
            "ann@example",
            "ann..lee@example.com",
            ".ann@example.com",
            "ann.@example.com",
            "ann lee@example.com",
            "\"ann\"@example.com",
            "ann@-example.com",
            "ann@example-.com",
            "ann@exa_mple.com",
            "ann@example..com",
            "ann@1.2.3.4",
            "ann@[127.0.0.1]",
            "ann@example.com\0",
            "ann\r\nBcc: x@example.com",
        ] {
            assert_eq!(
                normalise(malformed),
                Err(EmailError::Malformed),
                "{malformed:?}"
            );
        }
        assert_eq!(normalise("ännä@example.com"), Err(EmailError::NotAscii));
        assert_eq!(normalise("ann@bücher.example"), Err(EmailError::NotAscii));
        let local_65 = format!("{}@example.com", "a".repeat(65));
        assert_eq!(normalise(&local_65), Err(EmailError::Malformed));
        let long = format!("ann@{}.com", "a".repeat(251));
        assert_eq!(normalise(&long), Err(EmailError::TooLong));
        let longest = format!(
            "{}@{}.{}.{}.example",
            "a".repeat(64),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(53)
        );
        assert_eq!(longest.len(), MAX_EMAIL_CHARS);
        assert_eq!(normalise(&longest).unwrap(), longest);
    }

    #[test]
    fn a_masked_address_keeps_one_character_and_the_domain() {
        assert_eq!(mask("ann.lee@example.com"), "a***@example.com");
        assert_eq!(mask("a@example.com"), "a***@example.com");
        assert_eq!(mask("nonsense"), "***");
        assert_eq!(domain_of("ann@example.com"), "example.com");
    }
}

//! TOTP (RFC 6238) as every authenticator app computes it: HMAC-SHA-1, 6 digits, a new code
//! every 30 seconds, and a code of the step before or after the current one accepted for the
//! clocks' drift and the typing. `check` answers the step a code matched: the caller spends it
//! (`auth_core::mfa::MfaStore::spend`), so that each code works once.

use ring::rand::{SecureRandom, SystemRandom};
use totp_rs::{Algorithm, Builder, Secret, Totp};

/// Seconds a code lasts.
pub const STEP_SECS: u64 = 30;
/// Digits in a code.
pub const DIGITS: u8 = 6;
/// Steps either side of the current one whose codes are accepted.
pub const SKEW_STEPS: u16 = 1;
/// Random bytes in a new secret: the 160 bits RFC 4226 recommends.
pub const SECRET_BYTES: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum FactorError {
    #[error("the system's random source failed")]
    NoRandomness,
    /// A stored secret TOTP cannot use (shorter than 128 bits: not one of ours).
    #[error("not a TOTP secret: {0}")]
    Unusable(String),
}

/// A user's TOTP authenticator: its secret, and the names an app shows beside its codes.
#[derive(Clone)]
pub struct Authenticator {
    totp: Totp,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("account", &self.totp.account_name())
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// What an app shows as the account: the otpauth label cannot hold a colon.
fn label(text: &str) -> String {
    text.replace(':', "_")
}

impl Authenticator {
    /// An authenticator with a new random secret, for `account` (what the app shows: the
    /// user's address or name) of `issuer` (the service's name).
    pub fn generate(account: &str, issuer: &str) -> Result<Self, FactorError> {
        let mut secret = vec![0u8; SECRET_BYTES];
        SystemRandom::new()
            .fill(&mut secret)
            .map_err(|_| FactorError::NoRandomness)?;
        Self::from_secret(secret, account, issuer)
    }

    /// The authenticator of a stored (unsealed) secret.
    pub fn from_secret(secret: Vec<u8>, account: &str, issuer: &str) -> Result<Self, FactorError> {
        let totp = Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(DIGITS)
            .with_skew(SKEW_STEPS)
            .with_step_duration(STEP_SECS)
            .with_secret(Secret::from(secret))
            .with_account_name(label(account))
            .with_issuer(Some(label(issuer)))
            .build()
            .map_err(|error| FactorError::Unusable(error.to_string()))?;
        Ok(Self { totp })
    }

    /// The authenticator of a secret in base32, as an app is given it (`secret_base32`, the
    /// otpauth URI's `secret`); none if it is not base32.
    pub fn from_base32(secret: &str, account: &str, issuer: &str) -> Option<Self> {
        let secret = Secret::try_from_base32(secret.trim()).ok()?;
        Self::from_secret(secret.as_ref().to_vec(), account, issuer).ok()
    }

    /// The raw secret, to be sealed before it is stored.
    pub fn secret(&self) -> &[u8] {
        self.totp.secret().as_ref()
    }

    /// The secret in base32, as a person types it into an app that cannot scan the QR code.
    pub fn secret_base32(&self) -> String {
        self.totp.secret().to_base32()
    }

    /// The `otpauth://totp/...` URI an app adds the account from (the QR code's content).
    pub fn uri(&self) -> String {
        // The label and the issuer are ours and colon-free: `to_url` cannot refuse them.
        self.totp.to_url().unwrap_or_default()
    }

    /// The step `code` matches at `unix_secs`, if it is this step's code or a neighbour's.
    /// Spaces are ignored (apps show `123 456`); anything but six digits matches nothing.
    pub fn check(&self, code: &str, unix_secs: u64) -> Option<u64> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != usize::from(DIGITS) || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        self.totp.check(&code, unix_secs)
    }

    /// The code of the step that `unix_secs` falls in.
    pub fn code_at(&self, unix_secs: u64) -> String {
        self.totp.generate(unix_secs).to_string()
    }
}

/// The step `unix_secs` falls in.
pub fn step_at(unix_secs: u64) -> u64 {
    unix_secs / STEP_SECS
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B's SHA-1 seed.
    fn rfc_6238() -> Authenticator {
        Authenticator::from_secret(b"12345678901234567890".to_vec(), "cosmo", "JWT Auth").unwrap()
    }

    #[test]
    fn codes_are_rfc_6238s_test_vectors_in_six_digits() {
        let authenticator = rfc_6238();
        // The appendix's eight-digit values, of which an app shows the last six.
        for (time, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ] {
            assert_eq!(authenticator.code_at(time), code, "at {time}");
            assert_eq!(authenticator.check(code, time), Some(step_at(time)));
        }
    }

    #[test]
    fn a_code_is_good_one_step_either_side_and_answers_its_own_step() {
        let authenticator = rfc_6238();
        let step = 40_000_000;
        let code = authenticator.code_at(step * STEP_SECS);
        for time in [
            (step - 1) * STEP_SECS,      // the step before: the app's clock is ahead
            step * STEP_SECS,            // its first second
            step * STEP_SECS + 29,       // its last
            (step + 1) * STEP_SECS + 29, // the step after: typed late
        ] {
            assert_eq!(authenticator.check(&code, time), Some(step), "at {time}");
        }
        for time in [(step - 1) * STEP_SECS - 1, (step + 2) * STEP_SECS] {
            assert_eq!(authenticator.check(&code, time), None, "at {time}");
        }
    }

    #[test]
    fn spaces_are_ignored_and_anything_but_six_digits_matches_nothing() {
        let authenticator = rfc_6238();
        assert_eq!(authenticator.check("287 082", 59), Some(1));
        assert_eq!(authenticator.check(" 287082\t", 59), Some(1));
        for wrong in [
            "",
            "28708",
            "2870820",
            "28708a",
            "２８７０８２",
            "-287082",
            "287082\0",
        ] {
            assert_eq!(authenticator.check(wrong, 59), None, "{wrong:?}");
        }
    }

    #[test]
    fn a_new_secret_is_160_random_bits_and_its_uri_is_what_apps_read() {
        let first = Authenticator::generate("ann@example.com", "JWT Auth").unwrap();
        let second = Authenticator::generate("ann@example.com", "JWT Auth").unwrap();
        assert_eq!(first.secret().len(), 20);
        assert_ne!(first.secret(), second.secret());
        assert_eq!(first.secret_base32().len(), 32);
        let uri = first.uri();
        assert!(
            uri.starts_with("otpauth://totp/JWT%20Auth:ann%40example.com?secret="),
            "{uri}"
        );
        assert!(uri.contains(&format!("secret={}", first.secret_base32())));
        assert!(uri.contains("issuer=JWT%20Auth"), "{uri}");
    }

    #[test]
    fn an_app_given_the_base32_secret_computes_the_same_codes() {
        let authenticator = rfc_6238();
        let app = Authenticator::from_base32(&authenticator.secret_base32(), "x", "y").unwrap();
        assert_eq!(app.code_at(59), "287082");
        assert!(Authenticator::from_base32("not base32!", "x", "y").is_none());
    }

    #[test]
    fn a_colon_in_a_name_cannot_break_the_label() {
        let authenticator = Authenticator::generate("a:b", "Acme: Auth").unwrap();
        assert!(
            authenticator
                .uri()
                .starts_with("otpauth://totp/Acme_%20Auth:a_b?")
        );
    }

    #[test]
    fn a_stored_secret_shorter_than_128_bits_is_refused() {
        assert!(Authenticator::from_secret(vec![1; 15], "cosmo", "JWT Auth").is_err());
        assert!(Authenticator::from_secret(vec![1; 16], "cosmo", "JWT Auth").is_ok());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let authenticator = rfc_6238();
        let shown = format!("{authenticator:?}");
        assert!(!shown.contains(&authenticator.secret_base32()));
        assert!(!shown.contains("12345678901234567890"));
    }
}

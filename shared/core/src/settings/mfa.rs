//! The second factor's variables: its key, the name apps show, and how long a login waits
//! for its code.

use std::{sync::Arc, time::Duration};

use super::{SettingsError, parse_ttl};
use crate::{
    mfa::key::{KEY_VAR, MfaKey},
    users::is_valid_scope,
};

pub const ISSUER_VAR: &str = "MFA_ISSUER";
pub const CHALLENGE_TTL_VAR: &str = "MFA_TOKEN_EXPIRES";
pub const CHALLENGE_MAX_FAILURES_VAR: &str = "MFA_TOKEN_MAX_FAILURES";
pub const SCOPE_VAR: &str = "MFA_SCOPE";
pub const LOCK_MAX_FAILURES_VAR: &str = "MFA_MAX_FAILURES";
/// Wrong codes that lock a user's factor for `LOGIN_FAILURE_WINDOW` (0: never locked).
pub const DEFAULT_LOCK_MAX_FAILURES: u32 = 5;

/// What an authenticator app shows beside the account's codes.
pub const DEFAULT_ISSUER: &str = "JWT Auth";
/// How long a login may wait for its second factor.
pub const DEFAULT_CHALLENGE_TTL: Duration = Duration::from_secs(5 * 60);
/// The issue's ceiling: an `mfa_token` is a password already checked; it must not last.
pub const MAX_CHALLENGE_TTL: Duration = Duration::from_secs(5 * 60);
/// Wrong codes an `mfa_token` takes before it dies (the factor's own lock counts too).
pub const DEFAULT_CHALLENGE_MAX_FAILURES: u32 = 5;
/// The longest name an app is given.
const MAX_ISSUER_CHARS: usize = 64;

/// Every variable this module reads.
pub const VARIABLES: [&str; 6] = [
    KEY_VAR,
    ISSUER_VAR,
    CHALLENGE_TTL_VAR,
    CHALLENGE_MAX_FAILURES_VAR,
    SCOPE_VAR,
    LOCK_MAX_FAILURES_VAR,
];

#[derive(Clone, Debug)]
pub struct MfaSettings {
    /// `MFA_ENCRYPTION_KEY`: seals the TOTP secrets and hashes the recovery codes. Without it
    /// no factor can be enrolled or checked (the template deploys no such route; a function
    /// given none answers 500 and logs why); a login still asks a user who has a factor for a
    /// code.
    pub key: Option<Arc<MfaKey>>,
    /// `MFA_ISSUER`: the service's name in authenticator apps.
    pub issuer: String,
    /// `MFA_TOKEN_EXPIRES`: how long an `mfa_token` lives (at most 5 minutes).
    pub challenge_ttl: Duration,
    /// `MFA_TOKEN_MAX_FAILURES`: wrong codes an `mfa_token` takes before it dies.
    pub challenge_max_failures: u32,
    /// `MFA_SCOPE`: a scope the access tokens of a session that passed a second factor carry
    /// beside the user's (none unset), so that API Gateway's JWT authorizer, which reads
    /// only the token, can require a second factor on a route (`AuthorizationScopes`).
    pub scope: Option<String>,
    /// `MFA_MAX_FAILURES`: wrong codes, over every `mfa_token` and route of the user, that
    /// lock the factor for `LOGIN_FAILURE_WINDOW`, as wrong passwords lock a login. 0: off.
    pub lock_max_failures: u32,
}

impl Default for MfaSettings {
    fn default() -> Self {
        Self {
            key: None,
            issuer: DEFAULT_ISSUER.to_owned(),
            challenge_ttl: DEFAULT_CHALLENGE_TTL,
            challenge_max_failures: DEFAULT_CHALLENGE_MAX_FAILURES,
            scope: None,
            lock_max_failures: DEFAULT_LOCK_MAX_FAILURES,
        }
    }
}

impl MfaSettings {
    pub(super) fn read(read: &impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let invalid = |variable: &'static str| move |problem| SettingsError { variable, problem };
        let key = match read(KEY_VAR) {
            None => None,
            Some(text) => Some(Arc::new(MfaKey::from_base64(&text).map_err(|error| {
                // The error names the variable itself: the sentence is the problem's.
                let sentence = error.to_string();
                SettingsError {
                    variable: KEY_VAR,
                    problem: sentence
                        .strip_prefix(KEY_VAR)
                        .map(str::trim_start)
                        .unwrap_or(&sentence)
                        .to_owned(),
                }
            })?)),
        };
        let issuer = match read(ISSUER_VAR) {
            None => DEFAULT_ISSUER.to_owned(),
            Some(text) => {
                let issuer = text.trim().to_owned();
                if issuer.is_empty()
                    || issuer.chars().count() > MAX_ISSUER_CHARS
                    || issuer.chars().any(|c| c.is_control())
                {
                    return Err(SettingsError {
                        variable: ISSUER_VAR,
                        problem: format!(
                            "must be 1 to {MAX_ISSUER_CHARS} printable characters: the name \
                             authenticator apps show, e.g. `Acme`"
                        ),
                    });
                }
                issuer
            }
        };
        let challenge_ttl = match read(CHALLENGE_TTL_VAR) {
            None => DEFAULT_CHALLENGE_TTL,
            Some(text) => parse_ttl(&text).map_err(invalid(CHALLENGE_TTL_VAR))?,
        };
        if challenge_ttl > MAX_CHALLENGE_TTL {
            return Err(SettingsError {
                variable: CHALLENGE_TTL_VAR,
                problem: "is over 5m: an mfa_token stands for a password already checked, so \
                          it must not last; set 5m or less"
                    .to_owned(),
            });
        }
        let challenge_max_failures = match read(CHALLENGE_MAX_FAILURES_VAR) {
            None => DEFAULT_CHALLENGE_MAX_FAILURES,
            Some(text) => match text.trim().parse::<u32>() {
                Ok(count @ 1..=20) => count,
                _ => {
                    return Err(SettingsError {
                        variable: CHALLENGE_MAX_FAILURES_VAR,
                        problem: format!(
                            "`{}` is not a whole number from 1 to 20: the wrong codes an \
                             mfa_token takes before it dies (default {DEFAULT_CHALLENGE_MAX_FAILURES})",
                            text.trim()
                        ),
                    });
                }
            },
        };
        let scope = match read(SCOPE_VAR) {
            None => None,
            Some(text) if is_valid_scope(text.trim()) => Some(text.trim().to_owned()),
            Some(_) => {
                return Err(SettingsError {
                    variable: SCOPE_VAR,
                    problem: "is not one scope-token (printable ASCII, no space, quote or \
                              backslash), e.g. `mfa`"
                        .to_owned(),
                });
            }
        };
        let lock_max_failures = match read(LOCK_MAX_FAILURES_VAR) {
            None => DEFAULT_LOCK_MAX_FAILURES,
            Some(text) => match text.trim().parse::<u32>() {
                Ok(count @ 0..=20) => count,
                _ => {
                    return Err(SettingsError {
                        variable: LOCK_MAX_FAILURES_VAR,
                        problem: format!(
                            "`{}` is not a whole number from 0 to 20: the wrong codes that lock \
                             a user's second factor (default {DEFAULT_LOCK_MAX_FAILURES}; 0 \
                             turns the lock off)",
                            text.trim()
                        ),
                    });
                }
            },
        };
        Ok(Self {
            key,
            issuer,
            challenge_ttl,
            challenge_max_failures,
            scope,
            lock_max_failures,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<MfaSettings, SettingsError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        MfaSettings::read(&|name: &str| {
            pairs
                .iter()
                .find(|(variable, _)| variable == name)
                .map(|(_, value)| value.clone())
        })
    }

    #[test]
    fn unset_there_is_no_key_and_the_defaults_hold() {
        let settings = read(&[]).unwrap();
        assert!(settings.key.is_none());
        assert_eq!(settings.issuer, "JWT Auth");
        assert_eq!(settings.challenge_ttl, Duration::from_secs(300));
        assert_eq!(settings.challenge_max_failures, 5);
    }

    #[test]
    fn a_key_of_32_bytes_is_read_and_a_bad_one_is_named_with_the_fix_never_shown() {
        let key = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
        assert!(read(&[(KEY_VAR, key)]).unwrap().key.is_some());
        let error = read(&[(KEY_VAR, "c2VjcmV0LXRvby1zaG9ydA==")]).unwrap_err();
        assert_eq!(error.variable, KEY_VAR);
        let said = error.to_string();
        assert!(
            said.starts_with("MFA_ENCRYPTION_KEY: is 16 bytes, not 32"),
            "{said}"
        );
        assert!(said.contains("openssl rand -base64 32"), "{said}");
        assert!(!said.contains("c2VjcmV0"), "{said}");
        assert!(
            !said.contains("MFA_ENCRYPTION_KEY MFA_ENCRYPTION_KEY"),
            "{said}"
        );
    }

    #[test]
    fn an_mfa_token_lives_at_most_five_minutes_and_dies_after_1_to_20_wrong_codes() {
        assert_eq!(
            read(&[(CHALLENGE_TTL_VAR, "2m")]).unwrap().challenge_ttl,
            Duration::from_secs(120)
        );
        assert_eq!(
            read(&[(CHALLENGE_TTL_VAR, "6m")]).unwrap_err().variable,
            CHALLENGE_TTL_VAR
        );
        assert_eq!(
            read(&[(CHALLENGE_MAX_FAILURES_VAR, "3")])
                .unwrap()
                .challenge_max_failures,
            3
        );
        for wrong in ["0", "21", "x", "-1"] {
            let error = read(&[(CHALLENGE_MAX_FAILURES_VAR, wrong)]).unwrap_err();
            assert_eq!(error.variable, CHALLENGE_MAX_FAILURES_VAR, "{wrong}");
        }
    }

    #[test]
    fn the_lock_takes_0_to_20_wrong_codes() {
        assert_eq!(read(&[]).unwrap().lock_max_failures, 5);
        assert_eq!(
            read(&[(LOCK_MAX_FAILURES_VAR, "0")])
                .unwrap()
                .lock_max_failures,
            0
        );
        for wrong in ["21", "-1", "five"] {
            let error = read(&[(LOCK_MAX_FAILURES_VAR, wrong)]).unwrap_err();
            assert_eq!(error.variable, LOCK_MAX_FAILURES_VAR);
        }
    }

    #[test]
    fn the_mfa_scope_is_one_scope_token() {
        assert_eq!(read(&[]).unwrap().scope, None);
        assert_eq!(
            read(&[(SCOPE_VAR, " mfa ")]).unwrap().scope.as_deref(),
            Some("mfa")
        );
        for wrong in ["", "two words", "quo\"te"] {
            assert_eq!(read(&[(SCOPE_VAR, wrong)]).unwrap_err().variable, SCOPE_VAR);
        }
    }

    #[test]
    fn the_issuer_is_a_short_printable_name() {
        assert_eq!(read(&[(ISSUER_VAR, " Acme ")]).unwrap().issuer, "Acme");
        for wrong in ["", "  ", "a\nb", &"x".repeat(65)] {
            assert_eq!(
                read(&[(ISSUER_VAR, wrong)]).unwrap_err().variable,
                ISSUER_VAR
            );
        }
    }
}

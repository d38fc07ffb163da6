//! Argon2id password hashing (OWASP's parameters: 19 MiB, 2 passes, 1 lane).

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

/// A hash of a random password nobody knows, with the same parameters as `hash`. Checking an
/// unknown user's password against it costs what a real check costs, so response time does not
/// reveal which usernames exist.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$JyQzk1ajMfsHUJKy/cTgTw$SpxVtJNnKco5Zu1T9PCDJ6qGPmoavnMVzyMJ6mtm6uA";

#[derive(Debug, thiserror::Error)]
#[error("could not hash the password: {0}")]
pub struct HashError(String);

/// Hashes `password` with a fresh random salt into a PHC string (`$argon2id$v=19$...`).
pub fn hash(password: &str) -> Result<String, HashError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|error| HashError(error.to_string()))
}

/// Whether `password` matches `phc_hash`. A malformed stored hash never matches.
/// Runs on the blocking pool: a check takes tens of milliseconds of pure CPU.
pub async fn verify(password: &str, phc_hash: &str) -> bool {
    let (password, phc_hash) = (password.to_owned(), phc_hash.to_owned());
    tokio::task::spawn_blocking(move || verify_blocking(&password, &phc_hash))
        .await
        .unwrap_or(false)
}

/// `verify` on the current thread.
pub fn verify_blocking(password: &str, phc_hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), phc_hash)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_argon2id_with_owasp_parameters_and_verifies() {
        let hashed = hash("space-corgi").unwrap();
        assert!(
            hashed.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hashed}"
        );
        assert!(verify_blocking("space-corgi", &hashed));
        assert!(!verify_blocking("space-corgI", &hashed));
    }

    #[test]
    fn same_password_hashes_differently_each_time() {
        assert_ne!(hash("pw").unwrap(), hash("pw").unwrap());
    }

    #[test]
    fn dummy_hash_has_the_same_cost_parameters_as_real_hashes() {
        let real = hash("x").unwrap();
        let params = |phc: &str| phc.split('$').take(4).collect::<Vec<_>>().join("$");
        assert_eq!(params(DUMMY_HASH), params(&real));
        assert!(!verify_blocking("", DUMMY_HASH));
        assert!(!verify_blocking("space-corgi", DUMMY_HASH));
    }

    #[test]
    fn malformed_stored_hash_never_matches() {
        assert!(!verify_blocking("pw", "not a hash"));
        assert!(!verify_blocking("pw", ""));
    }

    #[tokio::test]
    async fn async_verify_agrees_with_blocking_verify() {
        let hashed = hash("pw").unwrap();
        assert!(verify("pw", &hashed).await);
        assert!(!verify("nope", &hashed).await);
    }
}

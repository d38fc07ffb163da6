//! Argon2id password hashing (OWASP's parameters: 19 MiB, 2 passes, 1 lane), and the checker
//! that verifies passwords with bounded CPU and memory.

use std::sync::{Arc, Mutex, OnceLock};

use argon2::{
    Algorithm, Argon2, Block, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash::phc::Output,
};
use tokio::sync::Semaphore;

/// A hash of a random password nobody knows, with the same parameters as `hash`. Checking an
/// unknown user's password against it costs what a real check costs, so response time does not
/// reveal which usernames exist.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$JyQzk1ajMfsHUJKy/cTgTw$SpxVtJNnKco5Zu1T9PCDJ6qGPmoavnMVzyMJ6mtm6uA";

/// The largest Argon2 memory a checker keeps between verifications (64 MiB of 1 KiB blocks). A
/// stored hash that asks for more is still checked, in memory freed right after.
const MAX_KEPT_BLOCKS: usize = 64 * 1024;

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

/// Verifies passwords at most `workers` at a time, each in an Argon2 memory of its own that is
/// kept and reused: a flood of logins waits for a worker instead of asking for 19 MiB more per
/// login, so memory stays at `workers` × 19 MiB whatever the load. (The system allocator keeps
/// freed blocks of that size rather than give them back, so allocating per login grew a busy
/// server by gigabytes.) Cheap to clone; clones share the workers.
#[derive(Clone)]
pub struct PasswordChecker {
    /// How many workers; `None` is one per CPU, counted at the first check, so that a function
    /// that never checks a password (refresh, profile) never reads the cgroup files to count.
    worker_count: Option<usize>,
    workers: Arc<OnceLock<Arc<Semaphore>>>,
    /// The memories of idle workers; a worker takes one, or makes it on its first check.
    memories: Arc<Mutex<Vec<Vec<Block>>>>,
}

impl PasswordChecker {
    /// A checker with `workers` workers (at least one).
    pub fn new(workers: usize) -> Self {
        Self {
            worker_count: Some(workers),
            workers: Arc::default(),
            memories: Arc::default(),
        }
    }

    /// One worker per CPU this process may use: Argon2 is pure CPU, so more would only share
    /// the CPUs and hold more memory.
    pub fn per_cpu() -> Self {
        Self {
            worker_count: None,
            workers: Arc::default(),
            memories: Arc::default(),
        }
    }

    fn workers(&self) -> Arc<Semaphore> {
        self.workers
            .get_or_init(|| {
                let count = self.worker_count.unwrap_or_else(|| {
                    std::thread::available_parallelism().map_or(1, |cpus| cpus.get())
                });
                Arc::new(Semaphore::new(count.max(1)))
            })
            .clone()
    }

    /// Whether `password` matches `phc_hash`, once a worker is free. A malformed stored hash
    /// never matches. The check runs on the blocking pool; if the caller stops waiting, a check
    /// already started still finishes and frees its worker.
    #[expect(
        clippy::expect_used,
        reason = "the semaphore is private and never closed, so acquiring it cannot fail"
    )]
    pub async fn verify(&self, password: &str, phc_hash: &str) -> bool {
        let worker = self
            .workers()
            .acquire_owned()
            .await
            .expect("a checker never closes its semaphore");
        let (password, phc_hash) = (password.to_owned(), phc_hash.to_owned());
        let memories = self.memories.clone();
        tokio::task::spawn_blocking(move || {
            let mut memory = take(&memories);
            let matches = verify_in(&mut memory, &password, &phc_hash);
            give_back(&memories, memory);
            drop(worker);
            matches
        })
        .await
        .unwrap_or(false)
    }

    /// `hash(password)`, once a worker is free: a new password (a sign-up, a change, a reset)
    /// costs what a check costs, and a flood of them waits for the same workers instead of
    /// asking for 19 MiB each at once.
    #[expect(
        clippy::expect_used,
        reason = "the semaphore is private and never closed, so acquiring it cannot fail"
    )]
    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        let worker = self
            .workers()
            .acquire_owned()
            .await
            .expect("a checker never closes its semaphore");
        let memories = self.memories.clone();
        tokio::task::spawn_blocking(move || {
            let mut memory = take(&memories);
            let hashed = hash_in(&mut memory, &password);
            give_back(&memories, memory);
            drop(worker);
            hashed
        })
        .await
        .map_err(|_| HashError("the hash's thread failed".to_owned()))?
    }
}

fn take(memories: &Mutex<Vec<Vec<Block>>>) -> Vec<Block> {
    memories
        .lock()
        .map(|mut idle| idle.pop().unwrap_or_default())
        .unwrap_or_default()
}

fn give_back(memories: &Mutex<Vec<Vec<Block>>>, memory: Vec<Block>) {
    if let Ok(mut idle) = memories.lock() {
        idle.push(memory);
    }
}

/// `hash`, in `memory` (a worker's, kept between calls as a check's is): the same parameters
/// (`Params::default()`, OWASP's), a random 16-byte salt, the PHC string `hash` writes. Without
/// the kept memory, a burst of sign-ups grew a server by 19 MiB per thread the allocator kept
/// an arena for (300 at once: 650 MiB).
fn hash_in(memory: &mut Vec<Block>, password: &str) -> Result<String, HashError> {
    use base64::{Engine, engine::general_purpose::STANDARD_NO_PAD};
    use ring::rand::{SecureRandom, SystemRandom};

    let params = Params::default();
    let mut salt = [0u8; 16];
    SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| HashError("the system's random source failed".to_owned()))?;
    let needed = params.block_count();
    if memory.len() < needed {
        memory.resize(needed, Block::default());
    }
    let mut output = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(
            password.as_bytes(),
            &salt,
            &mut output,
            &mut memory[..needed],
        )
        .map_err(|error| HashError(error.to_string()))?;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(output),
    ))
}

/// `verify_blocking`, in `memory`, which grows to what the hash asks for (up to
/// `MAX_KEPT_BLOCKS`) and is left for the next check. Argon2 writes every block before it
/// reads it, so what a previous check left there does not matter.
fn verify_in(memory: &mut Vec<Block>, password: &str, phc_hash: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc_hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(version), Ok(params)) = (
        Algorithm::try_from(hash.algorithm.as_str()),
        hash.version
            .map_or(Ok(Version::default()), Version::try_from),
        Params::try_from(&hash),
    ) else {
        return false;
    };
    let needed = params.block_count();
    let mut oversized = Vec::new();
    let blocks = if needed <= MAX_KEPT_BLOCKS {
        if memory.len() < needed {
            memory.resize(needed, Block::default());
        }
        &mut memory[..needed]
    } else {
        oversized.resize(needed, Block::default());
        &mut oversized[..]
    };
    let mut computed = [0u8; Output::MAX_LENGTH];
    let Some(computed) = computed.get_mut(..expected.len()) else {
        return false;
    };
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, computed, blocks)
        .is_ok()
        // `Output`'s comparison takes the same time wherever the bytes differ.
        && Output::new(computed).is_ok_and(|computed| &computed == expected)
}

/// Whether `password` matches `phc_hash`, on the current thread, in memory of its own: the
/// Argon2 crate's own verification, which `PasswordChecker` must always agree with.
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
        let mut memory = Vec::new();
        for malformed in [
            "not a hash",
            "",
            "$argon2id$v=19$m=19456,t=2,p=1$",
            "$scrypt$x$y",
        ] {
            assert!(!verify_blocking("pw", malformed));
            assert!(!verify_in(&mut memory, "pw", malformed), "{malformed}");
        }
    }

    /// Hashes of `password` under other algorithms, versions, costs and output lengths.
    fn varied_hashes(password: &str) -> Vec<String> {
        let mut hashes = vec![hash(password).unwrap()];
        for (algorithm, version, m_cost, t_cost, lanes, output) in [
            (Algorithm::Argon2id, Version::V0x13, 64, 1, 1, 32),
            (Algorithm::Argon2i, Version::V0x13, 256, 3, 2, 16),
            (Algorithm::Argon2d, Version::V0x10, 128, 2, 1, 64),
            (Algorithm::Argon2id, Version::V0x13, 32 * 1024, 1, 4, 32),
        ] {
            let params = Params::new(m_cost, t_cost, lanes, Some(output)).unwrap();
            let hashed = Argon2::new(algorithm, version, params)
                .hash_password(password.as_bytes())
                .unwrap();
            hashes.push(hashed.to_string());
        }
        hashes
    }

    #[test]
    fn verification_in_a_reused_memory_agrees_with_argon2s_own() {
        // One memory for every check, from small to large to small again: what the previous
        // check left in it never changes an answer.
        let mut memory = Vec::new();
        for hashed in varied_hashes("space-corgi") {
            for attempt in ["space-corgi", "space-corgI", "", "space-corgi "] {
                assert_eq!(
                    verify_in(&mut memory, attempt, &hashed),
                    verify_blocking(attempt, &hashed),
                    "{attempt:?} against {hashed}"
                );
            }
            assert!(verify_in(&mut memory, "space-corgi", &hashed), "{hashed}");
        }
        assert_eq!(
            memory.len(),
            32 * 1024,
            "the largest memory asked for is kept"
        );
    }

    #[test]
    fn a_hash_that_asks_for_more_than_is_kept_is_checked_in_memory_of_its_own() {
        let params = Params::new(80 * 1024, 1, 1, None).unwrap();
        let hashed = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"pw")
            .unwrap()
            .to_string();
        let mut memory = Vec::new();
        assert!(verify_in(&mut memory, "pw", &hashed));
        assert!(!verify_in(&mut memory, "pW", &hashed));
        assert!(memory.is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_checks_share_the_workers_and_keep_one_memory_each() {
        let hashed = hash("pw").unwrap();
        let checker = PasswordChecker::new(2);
        let checks: Vec<_> = (0..8)
            .map(|i| {
                let (checker, hashed) = (checker.clone(), hashed.clone());
                tokio::spawn(async move {
                    let attempt = if i % 2 == 0 { "pw" } else { "wrong" };
                    (i % 2 == 0, checker.verify(attempt, &hashed).await)
                })
            })
            .collect();
        for check in checks {
            let (expected, answer) = check.await.unwrap();
            assert_eq!(answer, expected);
        }
        let kept = checker.memories.lock().unwrap();
        assert!(
            (1..=2).contains(&kept.len()),
            "{} memories for 2 workers",
            kept.len()
        );
        assert_eq!(checker.workers().available_permits(), 2);
    }

    #[tokio::test]
    async fn a_check_waits_for_a_free_worker() {
        let checker = PasswordChecker::new(1);
        let busy = checker.workers().acquire_owned().await.unwrap();
        let hashed = hash("pw").unwrap();
        let waiting = tokio::time::timeout(
            std::time::Duration::from_millis(200),
            checker.verify("pw", &hashed),
        )
        .await;
        assert!(waiting.is_err(), "it checked without a worker");
        drop(busy);
        assert!(checker.verify("pw", &hashed).await);
    }

    #[tokio::test]
    async fn a_new_password_is_hashed_by_a_free_worker_too() {
        let checker = PasswordChecker::new(1);
        let busy = checker.workers().acquire_owned().await.unwrap();
        let waiting = tokio::time::timeout(
            std::time::Duration::from_millis(200),
            checker.hash("a new password".to_owned()),
        )
        .await;
        assert!(waiting.is_err(), "it hashed without a worker");
        drop(busy);
        let hashed = checker.hash("a new password".to_owned()).await.unwrap();
        assert!(hashed.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(checker.verify("a new password", &hashed).await);
        // The argon2 crate's own verification agrees: the PHC string is the one `hash` writes.
        assert!(verify_blocking("a new password", &hashed));
        assert!(!verify_blocking("another password", &hashed));
        let again = checker.hash("a new password".to_owned()).await.unwrap();
        assert_ne!(again, hashed, "each hash has its own salt");
    }
}

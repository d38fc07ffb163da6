//! What every `MfaStore` and `MfaChallenges` must do, as checks that take the store: the
//! in-memory stores run them in `auth-core`'s tests, the DynamoDB stores against a real server
//! in `auth-dynamodb`'s. Every write is conditional on the factor read; a TOTP step and a
//! recovery code are each spent once, however many try at once; a challenge is taken once and
//! dies at its end or at its last wrong code.

use std::sync::Arc;

use auth_core::{
    accounts::{AccountStore, NewAccount, mail_token::MailToken},
    clock::Clock,
    mfa::{Challenge, Confirmation, FailureCount, MfaChallenges, MfaFields, MfaStore, Proof},
    tokens::new_token_id,
    users::{DEMO_PASSWORD_HASH, User, UserStore},
};

use super::accounts::new_address;

/// The traits of a users store these checks need: the factor's writes, a way to make a user,
/// and `find` to see what the writes did.
pub trait Factors: MfaStore + AccountStore + UserStore {}

impl<T: MfaStore + AccountStore + UserStore + ?Sized> Factors for T {}

/// The most wrong codes the challenge checks allow.
const MAX_FAILURES: u32 = 5;

fn now() -> i64 {
    Clock::System.unix_secs()
}

/// A sealed secret as the stores see it: any text; these are unique.
fn sealed() -> String {
    format!("v1.test.{}", new_token_id())
}

fn codes(count: usize) -> Vec<String> {
    (0..count)
        .map(|_| MailToken::generate().unwrap().hash)
        .collect()
}

/// A new user's name.
async fn new_user(store: &dyn Factors) -> String {
    let address = new_address();
    let account = NewAccount {
        email: &address,
        password_hash: DEMO_PASSWORD_HASH,
        signup_token: &MailToken::generate().unwrap().hash,
        created_at: now(),
    };
    assert!(store.create(&account).await.unwrap());
    address
}

async fn user(store: &dyn Factors, username: &str) -> User {
    store
        .find(username)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no user {username}"))
}

async fn mfa(store: &dyn Factors, username: &str) -> MfaFields {
    user(store, username).await.account.mfa
}

/// A user with a confirmed factor at `step`, with `recovery_codes`: its name and sealed secret.
async fn enrolled(store: &dyn Factors, step: u64, recovery_codes: &[String]) -> (String, String) {
    let username = new_user(store).await;
    let secret = sealed();
    assert!(store.begin_enrolment(&username, &secret).await.unwrap());
    let confirmation = Confirmation {
        username: &username,
        sealed_secret: &secret,
        step,
        recovery_codes,
        valid_after: now(),
        kept_session: Some("kept-session"),
    };
    assert!(store.confirm_enrolment(&confirmation).await.unwrap());
    (username, secret)
}

/// An enrolment is pending until a confirmation of that very secret; a later one replaces it;
/// the confirmation makes it the factor with its step spent and its codes, ends the other
/// sessions, and keeps the caller's; nothing is enrolled again while it stands.
pub async fn an_enrolment_is_confirmed_only_for_the_pending_secret(store: &dyn Factors) {
    let username = new_user(store).await;
    assert_eq!(mfa(store, &username).await, MfaFields::default());
    let (first, second) = (sealed(), sealed());
    assert!(store.begin_enrolment(&username, &first).await.unwrap());
    assert!(store.begin_enrolment(&username, &second).await.unwrap());
    let pending = mfa(store, &username).await;
    assert_eq!(pending.pending.as_deref(), Some(second.as_str()));
    assert!(!pending.is_on(), "pending is not on");

    let recovery = codes(10);
    let valid_after = now();
    let confirmation = |secret| Confirmation {
        username: &username,
        sealed_secret: secret,
        step: 100,
        recovery_codes: &recovery,
        valid_after,
        kept_session: Some("caller-session"),
    };
    assert!(
        !store
            .confirm_enrolment(&confirmation(&first))
            .await
            .unwrap(),
        "a replaced enrolment cannot be confirmed"
    );
    assert!(!mfa(store, &username).await.is_on());
    assert!(
        store
            .confirm_enrolment(&confirmation(&second))
            .await
            .unwrap()
    );
    let confirmed = user(store, &username).await;
    let mut stored_codes = confirmed.account.mfa.recovery_codes.clone();
    stored_codes.sort();
    let mut expected_codes = recovery.clone();
    expected_codes.sort();
    assert_eq!(stored_codes, expected_codes);
    assert_eq!(
        confirmed.account.mfa.secret.as_deref(),
        Some(second.as_str())
    );
    assert_eq!(confirmed.account.mfa.pending, None);
    assert_eq!(confirmed.account.mfa.last_step, Some(100));
    assert_eq!(confirmed.tokens_valid_after, Some(valid_after));
    assert_eq!(
        confirmed.account.kept_session.as_deref(),
        Some("caller-session")
    );

    assert!(
        !store
            .confirm_enrolment(&confirmation(&second))
            .await
            .unwrap()
    );
    assert!(
        !store.begin_enrolment(&username, &sealed()).await.unwrap(),
        "no second enrolment while a factor is on"
    );
    assert_eq!(mfa(store, &username).await.pending, None);

    let nobody = new_address();
    assert!(!store.begin_enrolment(&nobody, &first).await.unwrap());
    assert!(store.find(&nobody).await.unwrap().is_none());
}

/// A step is spent only if later than the last, and only on the factor read.
pub async fn each_step_is_spent_once_and_only_after_the_last(store: &dyn Factors) {
    let (username, secret) = enrolled(store, 100, &codes(2)).await;
    for refused in [99, 100] {
        assert!(
            !store
                .spend(&username, &secret, Proof::Step(refused))
                .await
                .unwrap(),
            "step {refused} is not after 100"
        );
    }
    assert!(
        !store
            .spend(&username, &sealed(), Proof::Step(101))
            .await
            .unwrap()
    );
    assert_eq!(mfa(store, &username).await.last_step, Some(100));
    assert!(
        store
            .spend(&username, &secret, Proof::Step(101))
            .await
            .unwrap()
    );
    assert!(
        !store
            .spend(&username, &secret, Proof::Step(101))
            .await
            .unwrap()
    );
    assert!(
        store
            .spend(&username, &secret, Proof::Step(103))
            .await
            .unwrap()
    );
    assert!(
        !store
            .spend(&username, &secret, Proof::Step(102))
            .await
            .unwrap()
    );
    assert_eq!(mfa(store, &username).await.last_step, Some(103));
    assert!(
        !store
            .spend(&new_address(), &secret, Proof::Step(200))
            .await
            .unwrap()
    );
}

/// A recovery code works once; one not among those left, never; the last one used leaves none.
pub async fn each_recovery_code_is_spent_once(store: &dyn Factors) {
    let recovery = codes(2);
    let (username, secret) = enrolled(store, 100, &recovery).await;
    let unknown = codes(1).remove(0);
    assert!(
        !store
            .spend(&username, &secret, Proof::RecoveryCode(&unknown))
            .await
            .unwrap()
    );
    assert!(
        !store
            .spend(&username, &sealed(), Proof::RecoveryCode(&recovery[0]))
            .await
            .unwrap(),
        "another factor's write"
    );
    assert!(
        store
            .spend(&username, &secret, Proof::RecoveryCode(&recovery[0]))
            .await
            .unwrap()
    );
    assert!(
        !store
            .spend(&username, &secret, Proof::RecoveryCode(&recovery[0]))
            .await
            .unwrap()
    );
    assert_eq!(
        mfa(store, &username).await.recovery_codes,
        vec![recovery[1].clone()]
    );
    assert!(
        store
            .spend(&username, &secret, Proof::RecoveryCode(&recovery[1]))
            .await
            .unwrap()
    );
    let left = mfa(store, &username).await;
    assert!(left.recovery_codes.is_empty());
    assert!(left.is_on(), "the factor stays on without recovery codes");
    assert_eq!(left.last_step, Some(100), "a recovery code spends no step");
}

/// New codes replace every old one, with a step or a recovery code as proof, spent in the same
/// write; a proof refused changes nothing.
pub async fn new_recovery_codes_replace_the_old_on_a_proof(store: &dyn Factors) {
    let old = codes(3);
    let (username, secret) = enrolled(store, 100, &old).await;
    let new = codes(3);
    assert!(
        !store
            .replace_recovery_codes(&username, &secret, Proof::Step(100), &new)
            .await
            .unwrap()
    );
    assert!(mfa(store, &username).await.recovery_codes.contains(&old[0]));
    assert!(
        store
            .replace_recovery_codes(&username, &secret, Proof::Step(101), &new)
            .await
            .unwrap()
    );
    let replaced = mfa(store, &username).await;
    assert_eq!(replaced.last_step, Some(101));
    assert!(
        old.iter()
            .all(|code| !replaced.recovery_codes.contains(code))
    );
    assert_eq!(replaced.recovery_codes.len(), 3);

    let newer = codes(2);
    assert!(
        store
            .replace_recovery_codes(&username, &secret, Proof::RecoveryCode(&new[1]), &newer)
            .await
            .unwrap()
    );
    let mut now_left = mfa(store, &username).await.recovery_codes;
    now_left.sort();
    let mut expected = newer.clone();
    expected.sort();
    assert_eq!(now_left, expected);
    assert!(
        !store
            .replace_recovery_codes(&username, &secret, Proof::RecoveryCode(&new[0]), &codes(1))
            .await
            .unwrap(),
        "an old set's code proves nothing"
    );
}

/// The factor goes only on a proof: with it its secret, any pending one, its step and codes.
pub async fn a_factor_is_removed_only_on_a_proof(store: &dyn Factors) {
    let recovery = codes(2);
    let (username, secret) = enrolled(store, 100, &recovery).await;
    assert!(
        !store
            .remove_factor(&username, &secret, Proof::Step(99))
            .await
            .unwrap()
    );
    assert!(
        !store
            .remove_factor(&username, &sealed(), Proof::Step(101))
            .await
            .unwrap()
    );
    assert!(mfa(store, &username).await.is_on());
    assert!(
        store
            .remove_factor(&username, &secret, Proof::RecoveryCode(&recovery[0]))
            .await
            .unwrap()
    );
    assert_eq!(mfa(store, &username).await, MfaFields::default());
    assert!(
        !store
            .spend(&username, &secret, Proof::Step(200))
            .await
            .unwrap()
    );

    let (username, secret) = enrolled(store, 100, &codes(1)).await;
    assert!(
        store
            .remove_factor(&username, &secret, Proof::Step(101))
            .await
            .unwrap()
    );
    assert_eq!(mfa(store, &username).await, MfaFields::default());
    assert!(
        store.begin_enrolment(&username, &sealed()).await.unwrap(),
        "enrol again"
    );
}

/// Ten uses of one step at once, and ten of one recovery code: exactly one of each succeeds.
pub async fn concurrent_uses_of_one_code_succeed_once(store: Arc<dyn Factors>) {
    let recovery = codes(1);
    let (username, secret) = enrolled(store.as_ref(), 100, &recovery).await;
    for proof in [Proof::Step(101), Proof::RecoveryCode(&recovery[0])] {
        let uses: Vec<_> = (0..10)
            .map(|_| {
                let (store, username, secret) = (store.clone(), username.clone(), secret.clone());
                let proof = match proof {
                    Proof::Step(step) => Err(step),
                    Proof::RecoveryCode(code) => Ok(code.to_owned()),
                };
                tokio::spawn(async move {
                    let proof = match &proof {
                        Err(step) => Proof::Step(*step),
                        Ok(code) => Proof::RecoveryCode(code),
                    };
                    store.spend(&username, &secret, proof).await.unwrap()
                })
            })
            .collect();
        let mut succeeded = 0;
        for used in uses {
            succeeded += usize::from(used.await.unwrap());
        }
        assert_eq!(succeeded, 1, "{proof:?}");
    }
}

fn challenge(expires_at: i64) -> Challenge {
    Challenge {
        username: new_address(),
        session_id: new_token_id(),
        source_ip: Some("203.0.113.7".to_owned()),
        created_at: expires_at - 300,
        expires_at,
        failures: 0,
    }
}

fn challenge_hash() -> String {
    MailToken::generate().unwrap().hash
}

/// A challenge is found by its hash until taken, and taken once.
pub async fn a_challenge_is_found_until_it_is_taken_once(store: &dyn MfaChallenges) {
    let now = now();
    let (hash, kept) = (challenge_hash(), challenge(now + 300));
    store.put_challenge(&hash, &kept).await.unwrap();
    let mut without_ip = challenge(now + 300);
    without_ip.source_ip = None;
    let other = challenge_hash();
    store.put_challenge(&other, &without_ip).await.unwrap();
    assert_eq!(
        store.find_challenge(&other, now).await.unwrap(),
        Some(without_ip)
    );
    assert_eq!(
        store.find_challenge(&challenge_hash(), now).await.unwrap(),
        None
    );
    for _ in 0..2 {
        assert_eq!(
            store.find_challenge(&hash, now).await.unwrap().as_ref(),
            Some(&kept)
        );
    }
    assert!(
        store
            .take_challenge(&hash, now, MAX_FAILURES)
            .await
            .unwrap()
    );
    assert!(
        !store
            .take_challenge(&hash, now, MAX_FAILURES)
            .await
            .unwrap()
    );
    assert_eq!(store.find_challenge(&hash, now).await.unwrap(), None);
    assert_eq!(
        store.count_failure(&hash, now, MAX_FAILURES).await.unwrap(),
        FailureCount::Gone
    );
}

/// Wrong codes count one by one; the last one allowed kills the challenge for good: it is
/// still read (with its count, for the caller to refuse), never counted or taken again.
pub async fn wrong_codes_count_up_to_the_limit_and_the_last_kills_it(store: &dyn MfaChallenges) {
    let now = now();
    let hash = challenge_hash();
    store
        .put_challenge(&hash, &challenge(now + 300))
        .await
        .unwrap();
    for count in 1..=MAX_FAILURES {
        assert_eq!(
            store.count_failure(&hash, now, MAX_FAILURES).await.unwrap(),
            FailureCount::Counted(count)
        );
        let found = store.find_challenge(&hash, now).await.unwrap();
        assert_eq!(
            found.map(|found| found.failures),
            Some(count),
            "still read, with its count"
        );
    }
    assert_eq!(
        store.count_failure(&hash, now, MAX_FAILURES).await.unwrap(),
        FailureCount::Gone
    );
    assert!(
        !store
            .take_challenge(&hash, now, MAX_FAILURES)
            .await
            .unwrap()
    );
}

/// A challenge at or past its end is none: not found, not taken, not counted.
pub async fn a_challenge_past_its_end_is_none(store: &dyn MfaChallenges) {
    let now = now();
    let hash = challenge_hash();
    store
        .put_challenge(&hash, &challenge(now + 10))
        .await
        .unwrap();
    let later = now + 10;
    assert_eq!(store.find_challenge(&hash, later).await.unwrap(), None);
    assert_eq!(
        store
            .count_failure(&hash, later, MAX_FAILURES)
            .await
            .unwrap(),
        FailureCount::Gone
    );
    assert!(
        !store
            .take_challenge(&hash, later, MAX_FAILURES)
            .await
            .unwrap()
    );
}

/// Ten takes of one challenge at once: exactly one; ten wrong codes at once against a limit of
/// five: exactly five counted.
pub async fn concurrent_answers_take_once_and_count_to_the_limit(store: Arc<dyn MfaChallenges>) {
    let now = now();
    let hash = challenge_hash();
    store
        .put_challenge(&hash, &challenge(now + 300))
        .await
        .unwrap();
    let takes: Vec<_> = (0..10)
        .map(|_| {
            let (store, hash) = (store.clone(), hash.clone());
            tokio::spawn(async move {
                store
                    .take_challenge(&hash, now, MAX_FAILURES)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut taken = 0;
    for take in takes {
        taken += usize::from(take.await.unwrap());
    }
    assert_eq!(taken, 1);

    let hash = challenge_hash();
    store
        .put_challenge(&hash, &challenge(now + 300))
        .await
        .unwrap();
    let counts: Vec<_> = (0..10)
        .map(|_| {
            let (store, hash) = (store.clone(), hash.clone());
            tokio::spawn(
                async move { store.count_failure(&hash, now, MAX_FAILURES).await.unwrap() },
            )
        })
        .collect();
    let mut counted = Vec::new();
    for count in counts {
        if let FailureCount::Counted(count) = count.await.unwrap() {
            counted.push(count);
        }
    }
    counted.sort_unstable();
    assert_eq!(counted, (1..=MAX_FAILURES).collect::<Vec<_>>());
}

//! What every `AccountRecords` must do, as checks that take the store: the in-memory store runs
//! them in `auth-core`'s tests, the DynamoDB store against a real server in `auth-dynamodb`'s.
//! Mailed tokens are single use and bound to their purpose, a mail slot is one per address
//! until its end, and request counts count once each, per key and window.

use std::{collections::BTreeSet, sync::Arc};

use auth_core::{
    accounts::{AccountRecords, MailTokenRecord, Purpose, mail_token::MailToken},
    clock::Clock,
    tokens::new_token_id,
};

fn now() -> i64 {
    Clock::System.unix_secs()
}

/// A new token's hash.
fn token_hash() -> String {
    MailToken::generate().unwrap().hash
}

/// A key no other check uses.
fn new_key(kind: &str) -> String {
    format!("{kind}#{}", new_token_id())
}

fn record(purpose: Purpose, expires_at: i64) -> MailTokenRecord {
    MailTokenRecord {
        purpose,
        username: format!("ann.{}@example.com", new_token_id()),
        expires_at,
        password_hash: (purpose == Purpose::Signup).then(|| "$argon2id$pending".to_owned()),
    }
}

/// A token's record is read by its purpose alone, left in place by a peek, and taken once: the
/// take of another purpose finds nothing and leaves it, and after the take there is none.
pub async fn a_mail_token_is_taken_once_and_only_for_its_purpose(store: &dyn AccountRecords) {
    let now = now();
    for (purpose, other) in [
        (Purpose::Signup, Purpose::Recovery),
        (Purpose::Recovery, Purpose::Signup),
    ] {
        let hash = token_hash();
        let kept = record(purpose, now + 3600);
        store.put_mail_token(&hash, &kept).await.unwrap();
        assert_eq!(
            store.take_mail_token(&hash, other, now).await.unwrap(),
            None
        );
        assert_eq!(
            store.peek_mail_token(&hash, other, now).await.unwrap(),
            None
        );
        for _ in 0..2 {
            let peeked = store.peek_mail_token(&hash, purpose, now).await.unwrap();
            assert_eq!(peeked.as_ref(), Some(&kept), "a peek leaves it");
        }
        let taken = store.take_mail_token(&hash, purpose, now).await.unwrap();
        assert_eq!(taken.as_ref(), Some(&kept));
        assert_eq!(
            store.take_mail_token(&hash, purpose, now).await.unwrap(),
            None
        );
        assert_eq!(
            store.peek_mail_token(&hash, purpose, now).await.unwrap(),
            None
        );
    }
    // A hash never put finds nothing.
    let unknown = token_hash();
    for purpose in Purpose::ALL {
        assert_eq!(
            store.take_mail_token(&unknown, purpose, now).await.unwrap(),
            None
        );
        assert_eq!(
            store.peek_mail_token(&unknown, purpose, now).await.unwrap(),
            None
        );
    }
}

/// A token is good until its end, not at it: from then on neither a peek nor a take finds it.
pub async fn a_mail_token_past_its_end_is_no_token(store: &dyn AccountRecords) {
    let now = now();
    let hash = token_hash();
    let kept = record(Purpose::Recovery, now + 100);
    store.put_mail_token(&hash, &kept).await.unwrap();
    let peeked = store
        .peek_mail_token(&hash, Purpose::Recovery, now + 99)
        .await;
    assert_eq!(peeked.unwrap().as_ref(), Some(&kept));
    let late = now + 100;
    assert_eq!(
        store
            .take_mail_token(&hash, Purpose::Recovery, late)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .peek_mail_token(&hash, Purpose::Recovery, late)
            .await
            .unwrap(),
        None
    );
}

/// A record put again under the same hash is the new one.
pub async fn a_mail_token_put_again_is_replaced(store: &dyn AccountRecords) {
    let now = now();
    let hash = token_hash();
    store
        .put_mail_token(&hash, &record(Purpose::Signup, now + 60))
        .await
        .unwrap();
    let newer = record(Purpose::Recovery, now + 120);
    store.put_mail_token(&hash, &newer).await.unwrap();
    assert_eq!(
        store
            .take_mail_token(&hash, Purpose::Signup, now)
            .await
            .unwrap(),
        None
    );
    let taken = store
        .take_mail_token(&hash, Purpose::Recovery, now)
        .await
        .unwrap();
    assert_eq!(taken, Some(newer));
}

/// Ten takes of one token at once: exactly one gets the record.
pub async fn concurrent_takes_of_one_token_give_it_to_exactly_one(store: Arc<dyn AccountRecords>) {
    let now = now();
    let hash = token_hash();
    let kept = record(Purpose::Signup, now + 3600);
    store.put_mail_token(&hash, &kept).await.unwrap();
    let takes: Vec<_> = (0..10)
        .map(|_| {
            let (store, hash) = (store.clone(), hash.clone());
            tokio::spawn(async move {
                store
                    .take_mail_token(&hash, Purpose::Signup, now)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut taken = Vec::new();
    for take in takes {
        taken.extend(take.await.unwrap());
    }
    assert_eq!(taken, [kept]);
}

/// An address gets one slot until its end: a second claim is refused until then, and granted
/// from then on, or at once after a release. Addresses are apart.
pub async fn a_mail_slot_is_one_until_its_end_or_its_release(store: &dyn AccountRecords) {
    let now = now();
    let address = new_key("ann@example.com");
    let until = now + 60;
    assert!(store.claim_mail_slot(&address, until, now).await.unwrap());
    assert!(!store.claim_mail_slot(&address, until, now).await.unwrap());
    assert!(
        !store
            .claim_mail_slot(&address, until + 60, until - 1)
            .await
            .unwrap()
    );
    let other = new_key("bob@example.com");
    assert!(
        store.claim_mail_slot(&other, until, now).await.unwrap(),
        "another address"
    );
    // At its end the slot is free again, and the new claim holds until its own end.
    assert!(
        store
            .claim_mail_slot(&address, until + 60, until)
            .await
            .unwrap()
    );
    assert!(
        !store
            .claim_mail_slot(&address, until + 120, until + 59)
            .await
            .unwrap()
    );
    // A release (the mail could not be sent) frees it at once.
    store.release_mail_slot(&address).await.unwrap();
    assert!(
        store
            .claim_mail_slot(&address, until + 120, until + 1)
            .await
            .unwrap()
    );
    assert!(
        !store
            .claim_mail_slot(&address, until + 120, until + 2)
            .await
            .unwrap()
    );
    // Releasing a slot nobody holds is no error.
    store
        .release_mail_slot(&new_key("nobody@example.com"))
        .await
        .unwrap();
}

/// Ten claims of one address's slot at once: exactly one gets it.
pub async fn concurrent_claims_of_one_slot_give_it_to_exactly_one(store: Arc<dyn AccountRecords>) {
    let now = now();
    let address = new_key("ann@example.com");
    let claims: Vec<_> = (0..10)
        .map(|_| {
            let (store, address) = (store.clone(), address.clone());
            tokio::spawn(async move {
                store
                    .claim_mail_slot(&address, now + 60, now)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut claimed = 0;
    for claim in claims {
        claimed += usize::from(claim.await.unwrap());
    }
    assert_eq!(claimed, 1);
}

/// Each request under a key counts one more, 1, 2, 3…, each key apart; a window that has ended
/// (at or before now) counts nothing and answers 0.
pub async fn requests_count_one_by_one_per_key_and_a_past_window_counts_nothing(
    store: &dyn AccountRecords,
) {
    let now = now();
    let end = now + 60;
    let (first, second) = (new_key("signup"), new_key("signup"));
    for expected in 1..=3 {
        assert_eq!(
            store.count_request(&first, end, now).await.unwrap(),
            expected
        );
    }
    assert_eq!(store.count_request(&second, end, now).await.unwrap(), 1);
    for past in [now, now - 1] {
        assert_eq!(store.count_request(&first, past, now).await.unwrap(), 0);
    }
    let never_counted = new_key("signup");
    assert_eq!(
        store.count_request(&never_counted, now, now).await.unwrap(),
        0
    );
    assert_eq!(
        store.count_request(&first, end, now).await.unwrap(),
        4,
        "0 counted nothing"
    );
    assert_eq!(
        store.count_request(&never_counted, end, now).await.unwrap(),
        1
    );
}

/// A key counted in a window that has ended starts again from 1 in the next (the old record
/// may still be there: DynamoDB deletes it later).
pub async fn a_key_whose_window_ended_counts_from_one_again(store: &dyn AccountRecords) {
    let start = now();
    let key = new_key("recover");
    assert_eq!(
        store.count_request(&key, start + 10, start).await.unwrap(),
        1
    );
    assert_eq!(
        store
            .count_request(&key, start + 10, start + 9)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .count_request(&key, start + 20, start + 10)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .count_request(&key, start + 20, start + 11)
            .await
            .unwrap(),
        2
    );
}

/// Ten requests under one key at once count 1 to 10, each once.
pub async fn concurrent_requests_each_count_once(store: Arc<dyn AccountRecords>) {
    let now = now();
    let key = new_key("login");
    let counts: Vec<_> = (0..10)
        .map(|_| {
            let (store, key) = (store.clone(), key.clone());
            tokio::spawn(async move { store.count_request(&key, now + 60, now).await.unwrap() })
        })
        .collect();
    let mut seen = BTreeSet::new();
    for count in counts {
        seen.insert(count.await.unwrap());
    }
    assert_eq!(seen, (1..=10).collect::<BTreeSet<u64>>());
}

/// Keys of any length (an address key from a request, a token hash a request presents) key
/// records of their own, never a refused call: empty, and far past DynamoDB's 2048 bytes.
pub async fn keys_of_every_shape_key_records_of_their_own(store: &dyn AccountRecords) {
    let now = now();
    let long = |fill: char| format!("{}{}", new_token_id(), fill.to_string().repeat(5000));
    let (first, second) = (long('a'), long('b'));
    assert!(store.claim_mail_slot(&first, now + 60, now).await.unwrap());
    assert!(store.claim_mail_slot(&second, now + 60, now).await.unwrap());
    assert!(!store.claim_mail_slot(&first, now + 60, now).await.unwrap());
    store.release_mail_slot(&first).await.unwrap();
    assert!(store.claim_mail_slot(&first, now + 60, now).await.unwrap());
    assert_eq!(store.count_request(&first, now + 60, now).await.unwrap(), 1);
    assert_eq!(
        store.count_request(&second, now + 60, now).await.unwrap(),
        1
    );
    assert_eq!(store.count_request(&first, now + 60, now).await.unwrap(), 2);
    for hash in [String::new(), first.clone()] {
        assert_eq!(
            store
                .take_mail_token(&hash, Purpose::Signup, now)
                .await
                .unwrap(),
            None
        );
        let kept = record(Purpose::Signup, now + 60);
        store.put_mail_token(&hash, &kept).await.unwrap();
        assert_eq!(
            store
                .peek_mail_token(&second, Purpose::Signup, now)
                .await
                .unwrap(),
            None
        );
        let taken = store
            .take_mail_token(&hash, Purpose::Signup, now)
            .await
            .unwrap();
        assert_eq!(taken, Some(kept));
    }
}

//! What every `SessionStore` must do, as checks that take the store: the in-memory store runs
//! them in `auth-core`'s tests, the DynamoDB store against a real server in `auth-dynamodb`'s.

use std::sync::Arc;

use auth_core::{
    claims::AuthMethods,
    clock::Clock,
    sessions::{
        AttemptBucket, AttemptOutcome, DEFAULT_PAGE_SIZE, HeldAttempt, LoginAttempts,
        MAX_PAGE_SIZE, MAX_PLACE_HOLD_SECS, Reservation, Rotation, RotationOutcome, SessionCursor,
        SessionInfo, SessionQuery, SessionStart, SessionStore,
    },
    tokens::new_token_id,
};

fn now() -> i64 {
    Clock::System.unix_secs()
}

/// A time in the future far enough that nothing of a test expires during it.
fn later() -> i64 {
    now() + 3600
}

fn rotation<'a>(session: &'a str, presented: &'a str, replacement: &'a str) -> Rotation<'a> {
    Rotation {
        session,
        presented,
        replacement,
        now: now(),
        grace_since: None,
        record_until: later(),
    }
}

/// Whether `session` is revoked at `at`.
async fn session_revoked_at(store: &dyn SessionStore, session: &str, at: i64) -> bool {
    store.is_revoked(None, Some(session), at).await.unwrap()
}

pub async fn revoked_token_is_revoked_and_others_are_not(store: &dyn SessionStore) {
    let (revoked, other) = (new_token_id(), new_token_id());
    store.revoke_token(&revoked, later(), now()).await.unwrap();
    assert!(store.is_revoked(Some(&revoked), None, now()).await.unwrap());
    assert!(!store.is_revoked(Some(&other), None, now()).await.unwrap());
    assert!(!store.is_revoked(None, None, now()).await.unwrap());
}

pub async fn revoked_session_revokes_every_token_of_it(store: &dyn SessionStore) {
    let (session, other) = (new_token_id(), new_token_id());
    store
        .revoke_session(&session, later(), now())
        .await
        .unwrap();
    assert!(
        store
            .is_revoked(Some(&new_token_id()), Some(&session), now())
            .await
            .unwrap()
    );
    assert!(
        !store
            .is_revoked(Some(&new_token_id()), Some(&other), now())
            .await
            .unwrap()
    );
}

/// Revoking twice is revoking once: a retried logout is not an error, and changes nothing.
pub async fn revoking_again_is_revoking_once(store: &dyn SessionStore) {
    let (jti, session) = (new_token_id(), new_token_id());
    let end = later();
    for _ in 0..2 {
        store.revoke_token(&jti, end, now()).await.unwrap();
        store.revoke_session(&session, end, now()).await.unwrap();
    }
    assert!(store.is_revoked(Some(&jti), None, now()).await.unwrap());
    assert!(session_revoked_at(store, &session, end - 1).await);
    assert!(!session_revoked_at(store, &session, end).await);
}

/// A record means nothing from its end on, whether or not the store has deleted it yet (DynamoDB
/// deletes expired items days later).
pub async fn records_mean_nothing_from_their_end_on(store: &dyn SessionStore) {
    let (jti, session) = (new_token_id(), new_token_id());
    let start = now();
    let end = start + 100;
    store.revoke_token(&jti, end, start).await.unwrap();
    store.revoke_session(&session, end, start).await.unwrap();
    assert!(store.is_revoked(Some(&jti), None, end - 1).await.unwrap());
    assert!(session_revoked_at(store, &session, end - 1).await);
    assert!(!store.is_revoked(Some(&jti), None, end).await.unwrap());
    assert!(!session_revoked_at(store, &session, end).await);
    assert!(
        !store
            .is_revoked(Some(&jti), Some(&session), end + 1)
            .await
            .unwrap()
    );
}

/// Every write to a session's record sets the record's end to the one it is given: a
/// rotation, a replay that revokes the session, and a revocation alike. (The stores once
/// differed here: one kept the latest end, the other the first.)
pub async fn every_write_to_a_session_sets_the_end_of_its_record(store: &dyn SessionStore) {
    let session = new_token_id();
    let first = new_token_id();
    let start = now();
    let session = session.as_str();
    let rotate = |presented: String, until: i64| {
        let replacement = new_token_id();
        async move {
            store
                .rotate(&Rotation {
                    session,
                    presented: &presented,
                    replacement: &replacement,
                    now: start,
                    grace_since: None,
                    record_until: until,
                })
                .await
                .unwrap()
        }
    };
    assert!(matches!(
        rotate(first.clone(), start + 300).await,
        RotationOutcome::Rotated(_)
    ));
    // The replay of `first` revokes the session, until the end that replay gives.
    assert_eq!(
        rotate(first.clone(), start + 200).await,
        RotationOutcome::Reused
    );
    assert!(session_revoked_at(store, session, start + 199).await);
    assert!(!session_revoked_at(store, session, start + 200).await);
    // A revocation sets it again, later or earlier.
    store
        .revoke_session(session, start + 400, start)
        .await
        .unwrap();
    assert!(session_revoked_at(store, session, start + 399).await);
    assert!(!session_revoked_at(store, session, start + 400).await);
    store
        .revoke_session(session, start + 150, start)
        .await
        .unwrap();
    assert!(session_revoked_at(store, session, start + 149).await);
    assert!(!session_revoked_at(store, session, start + 150).await);
}

/// A session record past its end means nothing to a rotation either: the presented token
/// rotates as the first of a session would, even if the old record was revoked.
pub async fn a_session_record_past_its_end_does_not_stop_a_rotation(store: &dyn SessionStore) {
    let session = new_token_id();
    let start = now();
    store
        .revoke_session(&session, start + 10, start)
        .await
        .unwrap();
    let (presented, replacement) = (new_token_id(), new_token_id());
    let outcome = store
        .rotate(&Rotation {
            now: start + 10,
            ..rotation(&session, &presented, &replacement)
        })
        .await
        .unwrap();
    assert_eq!(outcome, RotationOutcome::Rotated(replacement.clone()));
    assert!(!session_revoked_at(store, &session, start + 10).await);
}

/// A rotation within a grace that began at `since`.
fn graced<'a>(
    session: &'a str,
    presented: &'a str,
    replacement: &'a str,
    since: i64,
) -> Rotation<'a> {
    Rotation {
        grace_since: Some(since),
        ..rotation(session, presented, replacement)
    }
}

fn rotated(id: &str) -> RotationOutcome {
    RotationOutcome::Rotated(id.to_owned())
}

pub async fn rotation_spends_each_token_once_and_reuse_revokes_the_session(
    store: &dyn SessionStore,
) {
    let session = new_token_id();
    let (first, second, third) = (new_token_id(), new_token_id(), new_token_id());
    let outcome = store.rotate(&rotation(&session, &first, &second)).await;
    assert_eq!(outcome.unwrap(), rotated(&second));
    let outcome = store.rotate(&rotation(&session, &second, &third)).await;
    assert_eq!(outcome.unwrap(), rotated(&third));
    assert!(!session_revoked_at(store, &session, now()).await);

    // The first token, spent two rotations ago, comes back: a replay.
    let outcome = store
        .rotate(&rotation(&session, &first, &new_token_id()))
        .await;
    assert_eq!(outcome.unwrap(), RotationOutcome::Reused);
    assert!(session_revoked_at(store, &session, now()).await);
    // Even the legitimate current token is dead now.
    let outcome = store
        .rotate(&rotation(&session, &third, &new_token_id()))
        .await;
    assert_eq!(outcome.unwrap(), RotationOutcome::Revoked);
}

/// The same rotation made twice (the SDK retries a write whose answer was lost, and the
/// retry finds the token spent by the first attempt) is made once: the session lives on with
/// the replacement, while any other rotation of the spent token is a replay.
pub async fn the_same_rotation_made_again_is_no_replay(store: &dyn SessionStore) {
    let session = new_token_id();
    let (presented, replacement) = (new_token_id(), new_token_id());
    let once = rotation(&session, &presented, &replacement);
    for _ in 0..2 {
        assert_eq!(store.rotate(&once).await.unwrap(), rotated(&replacement));
    }
    assert!(!session_revoked_at(store, &session, now()).await);
    let other = new_token_id();
    assert_eq!(
        store
            .rotate(&rotation(&session, &presented, &other))
            .await
            .unwrap(),
        RotationOutcome::Reused
    );
}

pub async fn a_revoked_session_does_not_rotate(store: &dyn SessionStore) {
    let session = new_token_id();
    store
        .revoke_session(&session, later(), now())
        .await
        .unwrap();
    let outcome = store
        .rotate(&rotation(&session, &new_token_id(), &new_token_id()))
        .await;
    assert_eq!(outcome.unwrap(), RotationOutcome::Revoked);
}

pub async fn within_the_grace_a_spent_token_gets_the_current_one_again(store: &dyn SessionStore) {
    let session = new_token_id();
    let (first, lost) = (new_token_id(), new_token_id());
    let since = now() - 10;
    assert_eq!(
        store
            .rotate(&graced(&session, &first, &lost, since))
            .await
            .unwrap(),
        rotated(&lost)
    );
    // The client never got `lost`, and retries with `first`, twice: it gets `lost` again, not
    // a second live token, so the session never forks.
    for _ in 0..2 {
        let retry = new_token_id();
        assert_eq!(
            store
                .rotate(&graced(&session, &first, &retry, since))
                .await
                .unwrap(),
            rotated(&lost)
        );
    }
    let next = new_token_id();
    assert_eq!(
        store
            .rotate(&graced(&session, &lost, &next, since))
            .await
            .unwrap(),
        rotated(&next)
    );
    assert!(!session_revoked_at(store, &session, now()).await);
    // Spent twice over now (first, then lost): a replay even within the grace.
    assert_eq!(
        store
            .rotate(&graced(&session, &first, &new_token_id(), since))
            .await
            .unwrap(),
        RotationOutcome::Reused
    );
}

pub async fn after_the_grace_a_spent_token_is_a_replay(store: &dyn SessionStore) {
    let session = new_token_id();
    let (first, second) = (new_token_id(), new_token_id());
    assert_eq!(
        store
            .rotate(&rotation(&session, &first, &second))
            .await
            .unwrap(),
        rotated(&second)
    );
    // A grace that began after the rotation does not cover it.
    let replacement = new_token_id();
    let late = Rotation {
        grace_since: Some(now() + 5),
        ..rotation(&session, &first, &replacement)
    };
    assert_eq!(store.rotate(&late).await.unwrap(), RotationOutcome::Reused);
}

/// Twenty rotations of one token at once: one wins, and the rest are replays.
pub async fn concurrent_rotations_of_one_token_rotate_exactly_once(store: Arc<dyn SessionStore>) {
    let session = new_token_id();
    let presented = new_token_id();
    let attempts = (0..20).map(|_| {
        let (store, session, presented) = (store.clone(), session.clone(), presented.clone());
        tokio::spawn(async move {
            let replacement = new_token_id();
            store
                .rotate(&rotation(&session, &presented, &replacement))
                .await
                .unwrap()
        })
    });
    let mut outcomes = Vec::new();
    for attempt in attempts.collect::<Vec<_>>() {
        outcomes.push(attempt.await.unwrap());
    }
    let rotations = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, RotationOutcome::Rotated(_)))
        .count();
    assert_eq!(rotations, 1, "{outcomes:?}");
    assert!(outcomes.contains(&RotationOutcome::Reused));
}

fn held(window_ends_at: i64, failures_seen: u64) -> Reservation {
    Reservation::Held(HeldAttempt {
        window_ends_at,
        failures_seen,
    })
}

fn full(failures: u64, in_use: u64, window_ends_at: i64) -> Reservation {
    Reservation::Full(LoginAttempts {
        failures,
        in_use,
        window_ends_at,
        last_taken_at: 0,
    })
}

/// A reservation at `now`, its `last_taken_at` left out (`full` compares the counts).
async fn reserve(
    store: &dyn SessionStore,
    bucket: AttemptBucket<'_>,
    max: u64,
    now: i64,
) -> Reservation {
    match store
        .reserve_login_attempt(bucket, max, now, now + 900)
        .await
        .unwrap()
    {
        Reservation::Full(attempts) => Reservation::Full(LoginAttempts {
            last_taken_at: 0,
            ..attempts
        }),
        held => held,
    }
}

async fn settle(
    store: &dyn SessionStore,
    bucket: AttemptBucket<'_>,
    reservation: Reservation,
    outcome: AttemptOutcome,
) {
    let Reservation::Held(place) = reservation else {
        panic!("no place to settle: {reservation:?}");
    };
    store
        .settle_login_attempt(bucket, place, outcome)
        .await
        .unwrap();
}

pub async fn login_attempts_hold_places_in_a_window_and_start_over_after_it(
    store: &dyn SessionStore,
) {
    let username = format!("user-{}", new_token_id());
    let bucket = AttemptBucket::Username(&username);
    let now = now();
    let end = now + 900;
    let mut places = Vec::new();
    for _ in 0..3 {
        let place = reserve(store, bucket, 3, now).await;
        assert_eq!(place, held(end, 0));
        places.push(place);
    }
    // The window stays the one the first attempt opened, and holds three places at most.
    assert_eq!(reserve(store, bucket, 3, now + 10).await, full(0, 3, end));
    settle(store, bucket, places[0], AttemptOutcome::Failed).await;
    assert_eq!(reserve(store, bucket, 3, now + 10).await, full(1, 3, end));
    // Once it has passed, it starts again, even if the record is still there.
    assert_eq!(reserve(store, bucket, 3, end).await, held(end + 900, 0));
    // Usernames are counted apart, case included, and apart from a device of the same id.
    let upper = username.to_uppercase();
    for other in [
        AttemptBucket::Username(&upper),
        AttemptBucket::Device(&username),
    ] {
        assert_eq!(reserve(store, other, 1, end).await, held(end + 900, 0));
        assert_eq!(reserve(store, other, 1, end).await, full(0, 1, end + 900));
    }
}

/// A failure keeps its place; a success gives it back and clears the failures it saw (once,
/// however many successes saw them); an attempt never checked gives its place back alone.
pub async fn settled_places_are_kept_or_given_back_as_their_outcome_says(store: &dyn SessionStore) {
    let username = format!("user-{}", new_token_id());
    let bucket = AttemptBucket::Username(&username);
    let now = now();
    let end = now + 900;
    let failed = reserve(store, bucket, 5, now).await;
    settle(store, bucket, failed, AttemptOutcome::Failed).await;
    let unchecked = reserve(store, bucket, 5, now).await;
    settle(store, bucket, unchecked, AttemptOutcome::Unchecked).await;
    assert_eq!(reserve(store, bucket, 1, now).await, full(1, 1, end));

    let failed = reserve(store, bucket, 5, now).await;
    assert_eq!(failed, held(end, 1));
    settle(store, bucket, failed, AttemptOutcome::Failed).await;
    let (first, second) = (
        reserve(store, bucket, 5, now).await,
        reserve(store, bucket, 5, now).await,
    );
    assert_eq!((first, second), (held(end, 2), held(end, 2)));
    settle(store, bucket, first, AttemptOutcome::Succeeded).await;
    assert_eq!(reserve(store, bucket, 1, now).await, full(0, 1, end));
    settle(store, bucket, second, AttemptOutcome::Succeeded).await;
    assert_eq!(reserve(store, bucket, 1, now).await, held(end, 0));
    assert_eq!(reserve(store, bucket, 1, now).await, full(0, 1, end));

    // A place of an ended window settles nothing in the next one.
    let stale = Reservation::Held(HeldAttempt {
        window_ends_at: end - 900,
        failures_seen: 0,
    });
    settle(store, bucket, stale, AttemptOutcome::Failed).await;
    settle(store, bucket, stale, AttemptOutcome::Unchecked).await;
    assert_eq!(reserve(store, bucket, 1, now).await, full(0, 1, end));
}

/// A place nobody settled is free again once no place has been taken for
/// `MAX_PLACE_HOLD_SECS`, and never before; a failure's place is never freed so, and a window
/// with `max` failures admits nobody, whatever its count of places says.
pub async fn stale_places_free_up_and_spent_failures_admit_nobody(store: &dyn SessionStore) {
    let username = format!("user-{}", new_token_id());
    let bucket = AttemptBucket::Username(&username);
    let now = now();
    let end = now + 900;
    let failed = reserve(store, bucket, 3, now).await;
    settle(store, bucket, failed, AttemptOutcome::Failed).await;
    // Two places taken and never settled (their functions died).
    reserve(store, bucket, 3, now).await;
    reserve(store, bucket, 3, now + 5).await;
    let hold = MAX_PLACE_HOLD_SECS;
    assert_eq!(
        reserve(store, bucket, 3, now + 5 + hold - 1).await,
        full(1, 3, end)
    );
    let reclaimed = reserve(store, bucket, 3, now + 5 + hold).await;
    assert_eq!(
        reclaimed,
        held(end, 1),
        "the stale places are free, the failure's is not"
    );
    assert_eq!(
        reserve(store, bucket, 3, now + 5 + hold).await,
        held(end, 1)
    );
    assert_eq!(
        reserve(store, bucket, 3, now + 5 + hold).await,
        full(1, 3, end)
    );

    // Failures spent: nobody, even with a place given back in error (a settlement applied
    // twice).
    let other = format!("user-{}", new_token_id());
    let bucket = AttemptBucket::Username(&other);
    for _ in 0..2 {
        let place = reserve(store, bucket, 2, now).await;
        settle(store, bucket, place, AttemptOutcome::Failed).await;
    }
    let given_back_in_error = Reservation::Held(HeldAttempt {
        window_ends_at: end,
        failures_seen: 0,
    });
    settle(
        store,
        bucket,
        given_back_in_error,
        AttemptOutcome::Unchecked,
    )
    .await;
    assert_eq!(reserve(store, bucket, 2, now).await, full(2, 1, end));
    assert_eq!(
        reserve(store, bucket, 2, now + 5 + hold).await,
        full(2, 1, end)
    );
}

/// Ten attempts at once for four places: exactly four get one, and no update is lost.
pub async fn concurrent_attempts_never_take_more_places_than_there_are(
    store: Arc<dyn SessionStore>,
) {
    let username = format!("user-{}", new_token_id());
    let now = now();
    let attempts: Vec<_> = (0..10)
        .map(|_| {
            let (store, username) = (store.clone(), username.clone());
            tokio::spawn(async move {
                reserve(store.as_ref(), AttemptBucket::Username(&username), 4, now).await
            })
        })
        .collect();
    let mut held_places = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Reservation::Held(place) => {
                assert_eq!(
                    place,
                    HeldAttempt {
                        window_ends_at: now + 900,
                        failures_seen: 0
                    }
                );
                held_places += 1;
            }
            Reservation::Full(attempts) => assert_eq!(attempts.in_use, 4),
        }
    }
    assert_eq!(held_places, 4);
}

/// Ten attempts at once after a window has ended (its record still there) open one new window
/// between them and all hold a place in it: an attempt that finds another has restarted the
/// window first takes its place in that one, and none fails.
pub async fn concurrent_attempts_after_a_window_ended_all_hold_places_in_one_new_window(
    store: Arc<dyn SessionStore>,
) {
    let username = format!("user-{}", new_token_id());
    let start = now();
    let bucket = AttemptBucket::Username(&username);
    let first = store
        .reserve_login_attempt(bucket, 10, start, start + 1)
        .await
        .unwrap();
    settle(store.as_ref(), bucket, first, AttemptOutcome::Failed).await;
    let later = start + 5;
    let attempts: Vec<_> = (0..10)
        .map(|_| {
            let (store, username) = (store.clone(), username.clone());
            tokio::spawn(async move {
                reserve(
                    store.as_ref(),
                    AttemptBucket::Username(&username),
                    10,
                    later,
                )
                .await
            })
        })
        .collect();
    for attempt in attempts {
        assert_eq!(attempt.await.unwrap(), held(later + 900, 0));
    }
    assert_eq!(
        reserve(store.as_ref(), bucket, 10, later).await,
        full(0, 10, later + 900)
    );
}

/// Ids of every shape a signed token or a login form can carry, each different from the others:
/// empty, NUL, characters outside the BMP (four UTF-8 bytes each), and lengths on both sides of
/// the 2048-byte limit of a DynamoDB key, for the id alone and with each record's prefix. A
/// store keys each of them to a record of its own, whatever its own key rules.
pub fn edge_ids() -> Vec<String> {
    let mut ids = vec![
        String::new(),
        "\0".to_owned(),
        "a\0b".to_owned(),
        "\u{1F600}".repeat(512),
        "\u{1F600}".repeat(513),
        "x".repeat(100_000),
    ];
    for prefix in ["", "token#", "session#", "login#"] {
        let at_limit = 2048 - prefix.len();
        ids.extend([at_limit, at_limit + 1].map(|length| "y".repeat(length)));
    }
    ids.sort();
    ids.dedup();
    ids
}

/// Every edge id keys a session that rotates and detects reuse, revokes its own token and its
/// own session and nothing else, and counts failed logins as a username. Run it on a fresh
/// store: the ids are fixed.
pub async fn ids_of_every_shape_key_records_of_their_own(store: &dyn SessionStore) {
    let ids = edge_ids();
    // As a session's id and as the ids of its refresh tokens (which the session's record
    // keeps): each session rotates its first token once, then the spent token comes back.
    for (index, session) in ids.iter().enumerate() {
        let what = format!("session {index} ({} bytes)", session.len());
        let (first, second) = (&ids[(index + 1) % ids.len()], &ids[(index + 2) % ids.len()]);
        let outcome = store.rotate(&rotation(session, first, second)).await;
        assert_eq!(outcome.unwrap(), rotated(second), "{what}");
        assert!(!session_revoked_at(store, session, now()).await, "{what}");
        let outcome = store
            .rotate(&rotation(session, first, &new_token_id()))
            .await;
        assert_eq!(outcome.unwrap(), RotationOutcome::Reused, "{what}");
        assert!(session_revoked_at(store, session, now()).await, "{what}");
    }

    // As the ids of revoked tokens and sessions.
    for (index, id) in ids.iter().enumerate() {
        let what = format!("id {index} ({} bytes)", id.len());
        assert!(
            !store.is_revoked(Some(id), None, now()).await.unwrap(),
            "{what}"
        );
        store.revoke_token(id, later(), now()).await.unwrap();
        assert!(
            store.is_revoked(Some(id), None, now()).await.unwrap(),
            "{what}"
        );
        store.revoke_session(id, later(), now()).await.unwrap();
        assert!(session_revoked_at(store, id, now()).await, "{what}");
    }
    let fresh = new_token_id();
    assert!(
        !store
            .is_revoked(Some(&fresh), Some(&fresh), now())
            .await
            .unwrap()
    );

    // As usernames and device ids whose login attempts are counted, each apart.
    for id in &ids {
        for bucket in [AttemptBucket::Username(id), AttemptBucket::Device(id)] {
            let what = format!("{} of {} bytes", bucket.key_parts().0, id.len());
            let place = reserve(store, bucket, 1, now()).await;
            assert!(matches!(place, Reservation::Held(_)), "{what}");
            settle(store, bucket, place, AttemptOutcome::Failed).await;
        }
    }
    for id in &ids {
        for bucket in [AttemptBucket::Username(id), AttemptBucket::Device(id)] {
            let place = reserve(store, bucket, 2, now()).await;
            assert!(
                matches!(
                    place,
                    Reservation::Held(HeldAttempt {
                        failures_seen: 1,
                        ..
                    })
                ),
                "{} of {} bytes: {place:?}",
                bucket.key_parts().0,
                id.len()
            );
        }
    }
}

// Listed sessions ("where you're signed in"): `start_session`, `touch_session`,
// `list_sessions`, `end_session_of`.

/// A username of its own for one check, so that checks sharing a store never see each other's
/// sessions.
fn new_username() -> String {
    format!("user-{}", new_token_id())
}

/// What a login of `username` records of a new session that began `ago` seconds before now.
fn start_of<'a>(session: &'a str, username: &'a str, ago: i64) -> SessionStart<'a> {
    SessionStart {
        session,
        username,
        started_at: now() - ago,
        refresh_until: later(),
        record_until: later(),
        source_ip: Some("203.0.113.9"),
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"),
        methods: AuthMethods::Password,
    }
}

/// The session `start` records, as a listing shows it before any refresh.
fn info_of(start: &SessionStart<'_>) -> SessionInfo {
    SessionInfo {
        id: start.session.to_owned(),
        started_at: start.started_at,
        refreshed_at: None,
        source_ip: start.source_ip.map(str::to_owned),
        user_agent: start.user_agent.map(str::to_owned),
        methods: Some(start.methods),
    }
}

/// A listing of `username`'s sessions at `at`, of up to `limit`.
fn query_at(username: &str, at: i64, limit: usize) -> SessionQuery<'_> {
    SessionQuery {
        username,
        not_before: None,
        now: at,
        limit,
        after: None,
    }
}

/// The ids on the first page of `username`'s sessions at `at` (of up to `MAX_PAGE_SIZE`).
async fn listed_ids_at(store: &dyn SessionStore, username: &str, at: i64) -> Vec<String> {
    let page = store
        .list_sessions(&query_at(username, at, MAX_PAGE_SIZE))
        .await
        .unwrap();
    page.sessions.into_iter().map(|info| info.id).collect()
}

async fn listed_ids(store: &dyn SessionStore, username: &str) -> Vec<String> {
    listed_ids_at(store, username, now()).await
}

/// Three logins of one user are listed newest first, each with what its login recorded; a
/// session of another user is not among them, nor theirs among the other's.
pub async fn started_sessions_are_listed_newest_first_as_their_logins_recorded(
    store: &dyn SessionStore,
) {
    let (user, other) = (new_username(), new_username());
    let ids: Vec<String> = (0..4).map(|_| new_token_id()).collect();
    let starts = [
        start_of(&ids[0], &user, 300),
        SessionStart {
            source_ip: Some("2001:db8::1"),
            user_agent: Some("curl/8.5.0"),
            methods: AuthMethods::PasswordAndOtp,
            ..start_of(&ids[1], &user, 200)
        },
        SessionStart {
            source_ip: None,
            user_agent: None,
            methods: AuthMethods::PasswordAndRecoveryCode,
            ..start_of(&ids[2], &user, 100)
        },
    ];
    for start in &starts {
        store.start_session(start).await.unwrap();
    }
    store
        .start_session(&start_of(&ids[3], &other, 150))
        .await
        .unwrap();
    let page = store
        .list_sessions(&query_at(&user, now(), DEFAULT_PAGE_SIZE))
        .await
        .unwrap();
    let expected: Vec<SessionInfo> = starts.iter().rev().map(info_of).collect();
    assert_eq!(page.sessions, expected);
    assert_eq!(page.next, None);
    assert_eq!(listed_ids(store, &other).await, [ids[3].clone()]);
    assert!(listed_ids(store, &new_username()).await.is_empty());
}

/// Only live sessions are listed: not one logged out, ended, reused (so revoked), whose
/// refresh token has expired, whose record has ended, or begun before the user's
/// `tokens_valid_after`.
pub async fn ended_expired_and_superseded_sessions_are_not_listed(store: &dyn SessionStore) {
    let user = new_username();
    let ids: Vec<String> = (0..7).map(|_| new_token_id()).collect();
    let at = now();
    let refresh_ending = SessionStart {
        refresh_until: at + 50,
        ..start_of(&ids[3], &user, 40)
    };
    let record_ending = SessionStart {
        record_until: at + 60,
        ..start_of(&ids[4], &user, 50)
    };
    let oldest = start_of(&ids[5], &user, 500);
    for start in [
        start_of(&ids[0], &user, 10),
        start_of(&ids[1], &user, 20),
        start_of(&ids[2], &user, 30),
        refresh_ending,
        record_ending,
        oldest,
        start_of(&ids[6], &user, 5),
    ] {
        store.start_session(&start).await.unwrap();
    }
    assert_eq!(listed_ids(store, &user).await.len(), 7);

    // A logout, an end by its user, and a replay of a spent refresh token.
    store.revoke_session(&ids[0], later(), at).await.unwrap();
    assert!(
        store
            .end_session_of(&user, &ids[1], None, at)
            .await
            .unwrap()
    );
    let (first, second) = (new_token_id(), new_token_id());
    assert_eq!(
        store
            .rotate(&rotation(&ids[2], &first, &second))
            .await
            .unwrap(),
        rotated(&second)
    );
    assert_eq!(
        store
            .rotate(&rotation(&ids[2], &first, &new_token_id()))
            .await
            .unwrap(),
        RotationOutcome::Reused
    );
    let live = [&ids[6], &ids[3], &ids[4], &ids[5]].map(|id| id.to_string());
    assert_eq!(listed_ids_at(store, &user, at).await, live);
    // A password change ends every session begun before it, without touching them.
    let page = store
        .list_sessions(&SessionQuery {
            not_before: Some(oldest.started_at + 1),
            ..query_at(&user, at, MAX_PAGE_SIZE)
        })
        .await
        .unwrap();
    let listed: Vec<&str> = page.sessions.iter().map(|info| info.id.as_str()).collect();
    assert_eq!(listed, [&ids[6], &ids[3], &ids[4]].map(String::as_str));
    let page = store
        .list_sessions(&SessionQuery {
            not_before: Some(oldest.started_at),
            ..query_at(&user, at, MAX_PAGE_SIZE)
        })
        .await
        .unwrap();
    assert_eq!(
        page.sessions.len(),
        4,
        "not_before is the first second kept"
    );
    // The store forgets records past their end, as a TTL does: look later last.
    assert_eq!(listed_ids_at(store, &user, at + 49).await, live);
    // Its refresh token expired; then its record ended.
    assert_eq!(
        listed_ids_at(store, &user, at + 50).await,
        [&ids[6], &ids[4], &ids[5]].map(|id| id.to_string())
    );
    assert_eq!(
        listed_ids_at(store, &user, at + 60).await,
        [&ids[6], &ids[5]].map(|id| id.to_string())
    );
}

/// A refresh moves a listed session's last refresh and, when it issued a new refresh token,
/// how long it is listed; it never lists a session no login started, nor brings back an ended
/// one.
pub async fn a_refresh_updates_a_listed_session_and_lists_no_other(store: &dyn SessionStore) {
    let user = new_username();
    let (listed, unstarted, ended) = (new_token_id(), new_token_id(), new_token_id());
    let at = now();
    let start = SessionStart {
        refresh_until: at + 100,
        ..start_of(&listed, &user, 60)
    };
    store.start_session(&start).await.unwrap();
    store
        .touch_session(&listed, at + 5, Some(at + 1000))
        .await
        .unwrap();
    let refreshed = |refreshed_at| {
        vec![SessionInfo {
            refreshed_at: Some(refreshed_at),
            ..info_of(&start)
        }]
    };
    let page = store
        .list_sessions(&query_at(&user, at + 100, MAX_PAGE_SIZE))
        .await
        .unwrap();
    assert_eq!(page.sessions, refreshed(at + 5));
    // Without a new refresh token, only the time moves.
    store.touch_session(&listed, at + 6, None).await.unwrap();
    let page = store
        .list_sessions(&query_at(&user, at + 999, MAX_PAGE_SIZE))
        .await
        .unwrap();
    assert_eq!(page.sessions, refreshed(at + 6));
    assert!(listed_ids_at(store, &user, at + 1000).await.is_empty());

    // A session begun before records were kept: refreshed, it stays unlisted and rotates as
    // the first of a session does.
    store
        .touch_session(&unstarted, at, Some(later()))
        .await
        .unwrap();
    assert!(
        !store
            .end_session_of(&user, &unstarted, None, at)
            .await
            .unwrap()
    );
    let (first, second) = (new_token_id(), new_token_id());
    assert_eq!(
        store
            .rotate(&rotation(&unstarted, &first, &second))
            .await
            .unwrap(),
        rotated(&second)
    );

    // An ended session stays ended.
    store
        .start_session(&start_of(&ended, &user, 30))
        .await
        .unwrap();
    store.revoke_session(&ended, later(), at).await.unwrap();
    store
        .touch_session(&ended, at + 1, Some(later()))
        .await
        .unwrap();
    assert_eq!(listed_ids_at(store, &user, at + 1).await, [listed.as_str()]);
    assert!(session_revoked_at(store, &ended, at + 1).await);
}

/// `end_session_of` ends a live session of its user, once: another user's session, an unknown
/// id and an ended session are all `false`, and change nothing.
pub async fn a_user_ends_their_own_session_once_and_no_one_elses(store: &dyn SessionStore) {
    let (user, other) = (new_username(), new_username());
    let (mine, theirs) = (new_token_id(), new_token_id());
    store
        .start_session(&start_of(&mine, &user, 20))
        .await
        .unwrap();
    store
        .start_session(&start_of(&theirs, &other, 10))
        .await
        .unwrap();
    let at = now();
    assert!(
        !store
            .end_session_of(&user, &theirs, None, at)
            .await
            .unwrap()
    );
    assert!(
        !store
            .end_session_of(&user, &new_token_id(), None, at)
            .await
            .unwrap()
    );
    assert!(!store.end_session_of(&other, &mine, None, at).await.unwrap());
    assert_eq!(listed_ids(store, &other).await, [theirs.as_str()]);
    assert!(!session_revoked_at(store, &theirs, at).await);

    assert!(store.end_session_of(&user, &mine, None, at).await.unwrap());
    assert!(!store.end_session_of(&user, &mine, None, at).await.unwrap());
    assert!(session_revoked_at(store, &mine, at).await);
    assert!(listed_ids(store, &user).await.is_empty());
    assert_eq!(
        store
            .rotate(&rotation(&mine, &new_token_id(), &new_token_id()))
            .await
            .unwrap(),
        RotationOutcome::Revoked
    );
    // A session whose refresh token has expired is over, and not one to end.
    let expired = new_token_id();
    store
        .start_session(&SessionStart {
            refresh_until: at + 5,
            ..start_of(&expired, &user, 30)
        })
        .await
        .unwrap();
    assert!(
        !store
            .end_session_of(&user, &expired, None, at + 5)
            .await
            .unwrap()
    );
}

/// A session begun before `not_before` was ended by its user's cut-off (a password change, an
/// operator): not one to end again, so `false` and untouched, as for an unknown id; one begun
/// at `not_before` or later ends as any other.
pub async fn a_session_older_than_the_users_cut_off_is_not_ended_again(store: &dyn SessionStore) {
    let user = new_username();
    let (older, newer) = (new_token_id(), new_token_id());
    store
        .start_session(&start_of(&older, &user, 20))
        .await
        .unwrap();
    let newer_start = start_of(&newer, &user, 10);
    store.start_session(&newer_start).await.unwrap();
    // The cut-off is the newer session's own start: one begun at it is live.
    let (at, cut_off) = (now(), newer_start.started_at);
    assert!(
        !store
            .end_session_of(&user, &older, Some(cut_off), at)
            .await
            .unwrap()
    );
    assert!(!session_revoked_at(store, &older, at).await);
    assert!(
        store
            .end_session_of(&user, &newer, Some(cut_off), at)
            .await
            .unwrap()
    );
    assert!(session_revoked_at(store, &newer, at).await);
}

/// Twenty ends of one session at once: exactly one ends it.
pub async fn concurrent_ends_of_one_session_end_it_once(store: Arc<dyn SessionStore>) {
    let user = new_username();
    let session = new_token_id();
    store
        .start_session(&start_of(&session, &user, 10))
        .await
        .unwrap();
    let ends: Vec<_> = (0..20)
        .map(|_| {
            let (store, user, session) = (store.clone(), user.clone(), session.clone());
            tokio::spawn(async move { store.end_session_of(&user, &session, None, now()).await })
        })
        .collect();
    let mut ended = 0;
    for end in ends {
        ended += usize::from(end.await.unwrap().unwrap());
    }
    assert_eq!(ended, 1);
}

/// The sessions a listing test starts: `count` of them, three to a second (so that pages end
/// within a second as well as between seconds), started `concurrency` at a time. Their ids in
/// the listing's order.
async fn start_many(
    store: &Arc<dyn SessionStore>,
    user: &str,
    count: usize,
    concurrency: usize,
) -> Vec<String> {
    let at = now();
    let mut started: Vec<(i64, String)> = Vec::with_capacity(count);
    let mut pending = Vec::new();
    for index in 0..count {
        let (store, user, session) = (store.clone(), user.to_owned(), new_token_id());
        let started_at = at - 3600 + (index / 3) as i64;
        started.push((started_at, session.clone()));
        pending.push(tokio::spawn(async move {
            let start = SessionStart {
                started_at,
                ..start_of(&session, &user, 0)
            };
            store.start_session(&start).await.unwrap();
        }));
        if pending.len() == concurrency {
            for start in pending.drain(..) {
                start.await.unwrap();
            }
        }
    }
    for start in pending {
        start.await.unwrap();
    }
    started.sort_by(|a, b| b.cmp(a));
    started.into_iter().map(|(_, id)| id).collect()
}

/// A thousand sessions of one user list in pages of a hundred, following each page's cursor:
/// every session exactly once, newest first, and no cursor after the last page.
pub async fn a_thousand_sessions_list_in_pages_each_once_in_order(store: Arc<dyn SessionStore>) {
    let user = new_username();
    let expected = start_many(&store, &user, 1000, 32).await;
    let mut listed = Vec::new();
    let mut cursor: Option<SessionCursor> = None;
    let mut pages = 0;
    loop {
        let page = store
            .list_sessions(&SessionQuery {
                after: cursor.as_ref(),
                ..query_at(&user, now(), MAX_PAGE_SIZE)
            })
            .await
            .unwrap();
        pages += 1;
        assert!(page.sessions.len() <= MAX_PAGE_SIZE);
        listed.extend(page.sessions.into_iter().map(|info| info.id));
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
        assert!(pages <= 10, "more pages than sessions allow");
    }
    assert_eq!(pages, 10);
    assert_eq!(listed.len(), expected.len());
    assert!(
        listed == expected,
        "the pages list every session once, in order"
    );
}

/// Pages of a few sessions end between sessions of one second and between seconds alike, and
/// a page that ends the list has no cursor.
pub async fn pages_end_within_a_second_and_between_seconds(store: Arc<dyn SessionStore>) {
    let user = new_username();
    let expected = start_many(&store, &user, 10, 10).await;
    for limit in [1, 2, 3, 4, 5, 10, 11] {
        let mut listed = Vec::new();
        let mut cursor: Option<SessionCursor> = None;
        loop {
            let page = store
                .list_sessions(&SessionQuery {
                    after: cursor.as_ref(),
                    ..query_at(&user, now(), limit)
                })
                .await
                .unwrap();
            assert!(page.sessions.len() <= limit);
            listed.extend(page.sessions.into_iter().map(|info| info.id));
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(listed, expected, "pages of {limit}");
    }
}

/// A session its login recorded rotates as before: its first refresh token (the login's)
/// rotates, a replay of it is detected, and the session leaves the list. A start keeps the
/// rotation state a session already has.
pub async fn a_started_session_rotates_and_detects_reuse(store: &dyn SessionStore) {
    let user = new_username();
    let session = new_token_id();
    store
        .start_session(&start_of(&session, &user, 10))
        .await
        .unwrap();
    let (login, second) = (new_token_id(), new_token_id());
    assert_eq!(
        store
            .rotate(&rotation(&session, &login, &second))
            .await
            .unwrap(),
        rotated(&second)
    );
    store
        .touch_session(&session, now(), Some(later()))
        .await
        .unwrap();
    assert_eq!(listed_ids(store, &user).await, [session.as_str()]);
    assert_eq!(
        store
            .rotate(&rotation(&session, &login, &new_token_id()))
            .await
            .unwrap(),
        RotationOutcome::Reused
    );
    assert!(session_revoked_at(store, &session, now()).await);
    assert!(listed_ids(store, &user).await.is_empty());

    let restarted = new_token_id();
    let (first, next) = (new_token_id(), new_token_id());
    assert_eq!(
        store
            .rotate(&rotation(&restarted, &first, &next))
            .await
            .unwrap(),
        rotated(&next)
    );
    store
        .start_session(&start_of(&restarted, &user, 5))
        .await
        .unwrap();
    assert_eq!(
        store
            .rotate(&rotation(&restarted, &first, &new_token_id()))
            .await
            .unwrap(),
        RotationOutcome::Reused,
        "the start kept the session's spent token"
    );
}

//! Login throttling: after `max_failures` failed logins in a window, logins of that username
//! are refused until the window ends, the right password included, and alike for usernames
//! that do not exist, so the answer tells nothing about who has an account.
//!
//! Only failures lock. Each attempt takes one of the window's `max_failures` places before its
//! password is checked, in one atomic update, so a burst of concurrent guesses cannot slip past
//! the limit: no more than the places left are checked at once. A right password gives its
//! place back (and clears the failures counted before it); a wrong one keeps it, as a failure.
//! An attempt that finds every place taken by checks still in flight waits for them (as long as
//! its request can) rather than be refused for failures that have not happened; a place nobody
//! settled is free again once it is stale (`sessions::MAX_PLACE_HOLD_SECS`).
//!
//! A bucket is a username's, or a device's (`device_proof`): a client that shows it logged in
//! as the user before counts against its own allowance, so strangers cannot lock it out.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::{
    clock::Clock,
    sessions::{
        AttemptBucket, AttemptOutcome, HeldAttempt, LoginAttempts, Reservation, SessionStore,
    },
    settings::LoginThrottlePolicy,
    store::StoreError,
};

/// The longest pause before the first look again at a full window; each next one may be twice
/// as long, up to `MAX_PAUSE`. Each pause is a random share of it ("full jitter"), so that
/// waiters in several processes do not poll the store in step.
const FIRST_PAUSE: Duration = Duration::from_millis(20);
const MAX_PAUSE: Duration = Duration::from_millis(400);

/// Why a login was refused before its password was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleReason {
    /// The bucket has had `max_failures` failures in its window.
    Failures,
    /// Every place was taken by checks in flight for as long as the login could wait.
    ChecksInFlight,
}

/// A login refused before its password was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub reason: ThrottleReason,
    /// Whole seconds until a login may succeed, at least one: the end of the window for
    /// failures; for checks in flight, until the places they hold are free whatever becomes of
    /// them (`MAX_PLACE_HOLD_SECS` after the last was taken), or a second.
    pub retry_after: u64,
}

/// Why a login may not go ahead.
#[derive(Debug, thiserror::Error)]
pub enum ThrottleError {
    #[error("too many login attempts")]
    Throttled(Throttled),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A login attempt let through, holding its place until it is settled. One dropped unsettled
/// (its request stopped at the deadline mid-check, before any answer told the client
/// anything) gives its place back from a task of its own: a place is never lost to a request
/// that ended early, which would shrink the allowance of the whole window.
#[must_use = "an admission holds a place until it is settled"]
pub struct Admission {
    store: Arc<dyn SessionStore>,
    bucket: OwnedBucket,
    held: HeldAttempt,
    /// Whether a settlement was sent: from then on the place is the store's to settle, and a
    /// drop gives nothing back (a settlement that reached the store and a give-back after it
    /// would free a failure's place). One sent but lost is free after `MAX_PLACE_HOLD_SECS`.
    settling: bool,
    /// This process's turn at the bucket, passed on when the admission goes.
    _turn: Turn,
}

impl std::fmt::Debug for Admission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admission")
            .field("held", &self.held)
            .field("settling", &self.settling)
            .finish_non_exhaustive()
    }
}

impl Admission {
    /// Settles the attempt with its `outcome`: only a failure keeps its place.
    pub async fn settle(mut self, outcome: AttemptOutcome) -> Result<(), StoreError> {
        self.settling = true;
        self.store
            .settle_login_attempt(self.bucket.borrowed(), self.held, outcome)
            .await
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        if self.settling {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (store, bucket, held) = (self.store.clone(), self.bucket.clone(), self.held);
        runtime.spawn(async move {
            let outcome = AttemptOutcome::Unchecked;
            if let Err(error) = store
                .settle_login_attempt(bucket.borrowed(), held, outcome)
                .await
            {
                tracing::error!(%error, "could not give back the place of a login that stopped");
            }
        });
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum OwnedBucket {
    Username(String),
    Device(String),
    SecondFactor(String),
}

impl OwnedBucket {
    fn of(bucket: AttemptBucket<'_>) -> Self {
        match bucket {
            AttemptBucket::Username(username) => OwnedBucket::Username(username.to_owned()),
            AttemptBucket::Device(device) => OwnedBucket::Device(device.to_owned()),
            AttemptBucket::SecondFactor(username) => OwnedBucket::SecondFactor(username.to_owned()),
        }
    }

    fn borrowed(&self) -> AttemptBucket<'_> {
        match self {
            OwnedBucket::Username(username) => AttemptBucket::Username(username),
            OwnedBucket::Device(device) => AttemptBucket::Device(device),
            OwnedBucket::SecondFactor(username) => AttemptBucket::SecondFactor(username),
        }
    }
}

/// Turns at each bucket within this process: no more of its attempts of one bucket go to the
/// store at once than the bucket has places. The others wait here, in order, instead of
/// polling the store (the local server's many requests; a Lambda instance has one at a time).
#[derive(Default)]
struct Turns {
    queues: Mutex<HashMap<OwnedBucket, Arc<Semaphore>>>,
}

/// A turn at a bucket; the queue of a bucket nobody waits at any more goes with its last turn.
struct Turn {
    turns: Arc<Turns>,
    bucket: OwnedBucket,
    permit: Option<OwnedSemaphorePermit>,
}

impl Turns {
    fn queue(&self, bucket: &OwnedBucket, places: usize) -> Arc<Semaphore> {
        let mut queues = self
            .queues
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        queues
            .entry(bucket.clone())
            .or_insert_with(|| Arc::new(Semaphore::new(places)))
            .clone()
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut queues = self
            .turns
            .queues
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        drop(self.permit.take());
        // The map's own handle is the last one: nobody holds or awaits a turn.
        if queues
            .get(&self.bucket)
            .is_some_and(|queue| Arc::strong_count(queue) == 1)
        {
            queues.remove(&self.bucket);
        }
    }
}

/// The throttle over the sessions store, where the windows are kept.
#[derive(Clone)]
pub struct LoginThrottle {
    policy: LoginThrottlePolicy,
    store: Arc<dyn SessionStore>,
    turns: Arc<Turns>,
}

impl LoginThrottle {
    pub fn new(policy: LoginThrottlePolicy, store: Arc<dyn SessionStore>) -> Self {
        Self {
            policy,
            store,
            turns: Arc::default(),
        }
    }

    pub fn is_on(&self) -> bool {
        self.policy.max_failures > 0
    }

    /// Whether `admission`'s attempt, should it fail, is the failure that locks its bucket:
    /// what is worth one entry in its user's activity log, where each refusal while locked
    /// (as many as anyone cares to send) is not.
    pub fn failure_would_lock(&self, admission: &Admission) -> bool {
        self.is_on()
            && admission.held.failures_seen.saturating_add(1) >= u64::from(self.policy.max_failures)
    }

    /// Takes a place in `bucket`'s window for one login attempt, waiting up to `wait_limit`
    /// for checks in flight that hold every place. `None` when throttling is off: there is
    /// nothing to settle.
    pub async fn admit(
        &self,
        bucket: AttemptBucket<'_>,
        clock: &Clock,
        wait_limit: Duration,
    ) -> Result<Option<Admission>, ThrottleError> {
        if !self.is_on() {
            return Ok(None);
        }
        let started = tokio::time::Instant::now();
        // The wait a refusal for checks in flight announces: until the last places seen are
        // free whatever becomes of them (or a second, if none was seen).
        let in_flight = |seen: Option<LoginAttempts>, now: i64| {
            let free_at = seen.map_or(now, |attempts| {
                attempts.in_flight_until().min(attempts.window_ends_at)
            });
            ThrottleError::Throttled(Throttled {
                reason: ThrottleReason::ChecksInFlight,
                retry_after: free_at.saturating_sub(now).max(1) as u64,
            })
        };
        let max = u64::from(self.policy.max_failures);
        let window = self.policy.window.as_secs() as i64;
        let owned = OwnedBucket::of(bucket);
        let mut turn = Turn {
            turns: self.turns.clone(),
            bucket: owned.clone(),
            permit: None,
        };
        let queue = self.turns.queue(
            &owned,
            usize::try_from(max)
                .unwrap_or(usize::MAX)
                .min(Semaphore::MAX_PERMITS),
        );
        match tokio::time::timeout(wait_limit, queue.acquire_owned()).await {
            Ok(Ok(permit)) => turn.permit = Some(permit),
            // The semaphore is never closed; waiting past the limit is the other way here.
            Ok(Err(_)) | Err(_) => return Err(in_flight(None, clock.unix_secs())),
        }
        let mut pause = FIRST_PAUSE;
        loop {
            let now = clock.unix_secs();
            let attempts = match self
                .store
                .reserve_login_attempt(bucket, max, now, now.saturating_add(window))
                .await?
            {
                Reservation::Held(held) => {
                    return Ok(Some(Admission {
                        store: self.store.clone(),
                        bucket: owned,
                        held,
                        settling: false,
                        _turn: turn,
                    }));
                }
                Reservation::Full(attempts) => attempts,
            };
            if attempts.failures >= max {
                return Err(ThrottleError::Throttled(Throttled {
                    reason: ThrottleReason::Failures,
                    retry_after: attempts.window_ends_at.saturating_sub(now).max(1) as u64,
                }));
            }
            // Places held by checks in flight elsewhere (or by failures of this process).
            let waited = started.elapsed();
            if waited >= wait_limit {
                return Err(in_flight(Some(attempts), now));
            }
            // Real time, whatever the clock: this waits for other requests, not for a window.
            let jittered = pause.mul_f64(fastrand::f64()).max(Duration::from_millis(1));
            tokio::time::sleep(jittered.min(wait_limit - waited)).await;
            pause = (pause * 2).min(MAX_PAUSE);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{sync::Arc, time::Duration};

    use super::*;
    use crate::sessions::InMemorySessionStore;

    const WAIT: Duration = Duration::from_secs(3);
    const COSMO: AttemptBucket<'static> = AttemptBucket::Username("cosmo");

    /// A throttle of `max_failures` per minute over a store of its own, and a manual clock.
    fn throttle(max_failures: u32) -> (LoginThrottle, Arc<InMemorySessionStore>, Clock) {
        let store = Arc::new(InMemorySessionStore::default());
        let policy = LoginThrottlePolicy {
            max_failures,
            window: Duration::from_secs(60),
        };
        let clock = Clock::manual_at(Duration::from_secs(1_800_000_000));
        (LoginThrottle::new(policy, store.clone()), store, clock)
    }

    async fn attempt(throttle: &LoginThrottle, clock: &Clock, outcome: AttemptOutcome) {
        let admission = throttle.admit(COSMO, clock, WAIT).await.unwrap().unwrap();
        admission.settle(outcome).await.unwrap();
    }

    fn refused_for(result: Result<Option<Admission>, ThrottleError>) -> Option<Throttled> {
        match result {
            Err(ThrottleError::Throttled(throttled)) => Some(throttled),
            _ => None,
        }
    }

    async fn is_full(store: &InMemorySessionStore, clock: &Clock) -> bool {
        let now = clock.unix_secs();
        matches!(
            store.reserve_login_attempt(COSMO, 1, now, now + 60).await,
            Ok(Reservation::Full(_))
        )
    }

    #[tokio::test]
    async fn the_attempt_after_max_failures_is_refused_until_the_window_ends() {
        let (throttle, _, clock) = throttle(3);
        for _ in 0..3 {
            attempt(&throttle, &clock, AttemptOutcome::Failed).await;
        }
        clock.advance(Duration::from_secs(20));
        let refused = refused_for(throttle.admit(COSMO, &clock, WAIT).await);
        assert_eq!(
            refused,
            Some(Throttled {
                reason: ThrottleReason::Failures,
                retry_after: 40
            })
        );
        // Another username, and a device of this one, are not affected; after the window the
        // username starts again.
        for other in [
            AttemptBucket::Username("wanda"),
            AttemptBucket::Device("d1"),
        ] {
            let admission = throttle.admit(other, &clock, WAIT).await.unwrap();
            admission
                .unwrap()
                .settle(AttemptOutcome::Failed)
                .await
                .unwrap();
        }
        clock.advance(Duration::from_secs(40));
        attempt(&throttle, &clock, AttemptOutcome::Failed).await;
    }

    #[tokio::test]
    async fn correct_logins_use_up_nothing_however_many() {
        let (throttle, _, clock) = throttle(2);
        for _ in 0..50 {
            attempt(&throttle, &clock, AttemptOutcome::Succeeded).await;
        }
        // Both failures are still allowed, and only the attempt after them is refused.
        attempt(&throttle, &clock, AttemptOutcome::Failed).await;
        attempt(&throttle, &clock, AttemptOutcome::Failed).await;
        assert!(refused_for(throttle.admit(COSMO, &clock, WAIT).await).is_some());
    }

    #[tokio::test]
    async fn a_success_clears_the_failures_before_it() {
        let (throttle, _, clock) = throttle(2);
        attempt(&throttle, &clock, AttemptOutcome::Failed).await;
        attempt(&throttle, &clock, AttemptOutcome::Succeeded).await;
        // Two more failures after the success: the count restarted from zero.
        attempt(&throttle, &clock, AttemptOutcome::Failed).await;
        attempt(&throttle, &clock, AttemptOutcome::Failed).await;
        assert!(refused_for(throttle.admit(COSMO, &clock, WAIT).await).is_some());
    }

    #[tokio::test]
    async fn an_unchecked_attempt_gives_its_place_back_and_clears_nothing() {
        let (throttle, _, clock) = throttle(2);
        attempt(&throttle, &clock, AttemptOutcome::Failed).await;
        for _ in 0..5 {
            attempt(&throttle, &clock, AttemptOutcome::Unchecked).await;
        }
        attempt(&throttle, &clock, AttemptOutcome::Failed).await;
        assert!(refused_for(throttle.admit(COSMO, &clock, WAIT).await).is_some());
    }

    /// An attempt that finds every place held by checks in flight waits for one to be given
    /// back, instead of being refused for failures that never happened.
    #[tokio::test(start_paused = true)]
    async fn an_attempt_behind_checks_in_flight_waits_for_a_place() {
        let (throttle, store, clock) = throttle(2);
        let first = throttle.admit(COSMO, &clock, WAIT).await.unwrap().unwrap();
        let second = throttle.admit(COSMO, &clock, WAIT).await.unwrap().unwrap();
        let waiting = tokio::spawn({
            let (throttle, clock) = (throttle.clone(), clock.clone());
            async move { throttle.admit(COSMO, &clock, WAIT).await }
        });
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(!waiting.is_finished(), "admitted with every place taken");
        first.settle(AttemptOutcome::Succeeded).await.unwrap();
        let third = waiting.await.unwrap().unwrap().unwrap();
        // The other place, settled as a failure, stays taken.
        second.settle(AttemptOutcome::Failed).await.unwrap();
        let now = clock.unix_secs();
        assert!(matches!(
            store.reserve_login_attempt(COSMO, 2, now, now + 60).await,
            Ok(Reservation::Full(attempts)) if attempts.failures == 1 && attempts.in_use == 2
        ));
        third.settle(AttemptOutcome::Succeeded).await.unwrap();
    }

    /// Waiters behind guesses in flight are refused for failures as soon as the guesses fail.
    #[tokio::test(start_paused = true)]
    async fn waiters_behind_failing_guesses_are_refused_with_the_window() {
        let (throttle, _, clock) = throttle(1);
        let guess = throttle.admit(COSMO, &clock, WAIT).await.unwrap().unwrap();
        let waiting = tokio::spawn({
            let (throttle, clock) = (throttle.clone(), clock.clone());
            async move { throttle.admit(COSMO, &clock, WAIT).await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        guess.settle(AttemptOutcome::Failed).await.unwrap();
        assert_eq!(
            refused_for(waiting.await.unwrap()),
            Some(Throttled {
                reason: ThrottleReason::Failures,
                retry_after: 60
            })
        );
    }

    /// A place held past the wait (a check slower than the request can wait, or one never
    /// settled) refuses with what is true: checks in flight, and the time by which their
    /// places are free whatever becomes of them. Then they are.
    #[tokio::test(start_paused = true)]
    async fn a_place_held_past_the_wait_refuses_with_checks_in_flight_until_it_is_stale() {
        let (throttle, store, clock) = throttle(1);
        let held = throttle.admit(COSMO, &clock, WAIT).await.unwrap().unwrap();
        // Taken from the store's side alone: a place of another process, never settled.
        let now = clock.unix_secs();
        let other = AttemptBucket::Username("wanda");
        store
            .reserve_login_attempt(other, 1, now, now + 60)
            .await
            .unwrap();
        clock.advance(Duration::from_secs(10));
        let started = tokio::time::Instant::now();
        let refused = refused_for(throttle.admit(other, &clock, WAIT).await);
        assert_eq!(
            refused,
            Some(Throttled {
                reason: ThrottleReason::ChecksInFlight,
                retry_after: (crate::sessions::MAX_PLACE_HOLD_SECS - 10) as u64
            })
        );
        assert_eq!(started.elapsed(), WAIT);
        clock.advance(Duration::from_secs(20));
        let reclaimed = throttle.admit(other, &clock, WAIT).await.unwrap().unwrap();
        reclaimed.settle(AttemptOutcome::Succeeded).await.unwrap();
        held.settle(AttemptOutcome::Succeeded).await.unwrap();
    }

    /// Once a settlement is sent, a drop gives nothing back: a failure that reached the store
    /// keeps its place, so the failures never outnumber the places.
    #[tokio::test]
    async fn a_failure_settled_then_dropped_keeps_its_place() {
        let (throttle, store, clock) = throttle(1);
        let admission = throttle.admit(COSMO, &clock, WAIT).await.unwrap().unwrap();
        // A settlement whose future is dropped after its write reached the store.
        let mut settling = Box::pin(admission.settle(AttemptOutcome::Failed));
        let _ = futures_poll_once(settling.as_mut());
        drop(settling);
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        assert!(is_full(&store, &clock).await);
        assert_eq!(
            refused_for(throttle.admit(COSMO, &clock, WAIT).await).map(|t| t.reason),
            Some(ThrottleReason::Failures)
        );
    }

    /// Polls `future` once, as a runtime would before a deadline drops it.
    fn futures_poll_once<F: std::future::Future>(
        future: std::pin::Pin<&mut F>,
    ) -> std::task::Poll<F::Output> {
        let waker = std::task::Waker::noop();
        future.poll(&mut std::task::Context::from_waker(waker))
    }

    /// A request stopped at its deadline mid-check drops its admission: the place comes back.
    #[tokio::test]
    async fn a_dropped_admission_gives_its_place_back() {
        let (throttle, store, clock) = throttle(1);
        let admission = throttle.admit(COSMO, &clock, WAIT).await.unwrap();
        assert!(is_full(&store, &clock).await);
        drop(admission);
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        assert!(
            !is_full(&store, &clock).await,
            "the dropped place is still taken"
        );
    }

    #[tokio::test]
    async fn a_settlement_after_its_window_ended_changes_nothing() {
        let (throttle, store, clock) = throttle(1);
        let now = clock.unix_secs();
        let Ok(Reservation::Held(old)) = store.reserve_login_attempt(COSMO, 1, now, now + 60).await
        else {
            panic!("no place in a fresh window");
        };
        clock.advance(Duration::from_secs(61));
        let current = throttle.admit(COSMO, &clock, WAIT).await.unwrap().unwrap();
        store
            .settle_login_attempt(COSMO, old, AttemptOutcome::Unchecked)
            .await
            .unwrap();
        // The new window's one place is still the current attempt's, and its success frees it.
        assert!(is_full(&store, &clock).await);
        current.settle(AttemptOutcome::Succeeded).await.unwrap();
        attempt(&throttle, &clock, AttemptOutcome::Succeeded).await;
    }

    /// Within one process, attempts of one bucket beyond its places wait their turn here, not
    /// at the store; the queue of a bucket goes when nobody waits at it.
    #[tokio::test(start_paused = true)]
    async fn a_process_queues_its_attempts_beyond_the_places_and_forgets_idle_queues() {
        let (throttle, _, clock) = throttle(1);
        let first = throttle.admit(COSMO, &clock, WAIT).await.unwrap().unwrap();
        let waiting = tokio::spawn({
            let (throttle, clock) = (throttle.clone(), clock.clone());
            async move { throttle.admit(COSMO, &clock, WAIT).await }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!waiting.is_finished());
        first.settle(AttemptOutcome::Succeeded).await.unwrap();
        let second = waiting.await.unwrap().unwrap().unwrap();
        assert_eq!(throttle.turns.queues.lock().unwrap().len(), 1);
        second.settle(AttemptOutcome::Failed).await.unwrap();
        assert!(throttle.turns.queues.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn zero_max_failures_turns_throttling_off() {
        let (throttle, _, clock) = throttle(0);
        assert!(!throttle.is_on());
        for _ in 0..50 {
            assert!(throttle.admit(COSMO, &clock, WAIT).await.unwrap().is_none());
        }
    }
}

//! Where every handler and store gets the time: the system clock in every deployment, a clock
//! a test moves by hand elsewhere, so that windows and expiries are tested exactly and without
//! waiting.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

#[derive(Debug, Clone, Default)]
pub enum Clock {
    #[default]
    System,
    /// Milliseconds since the epoch, moved only by `advance`.
    Manual(Arc<AtomicU64>),
}

impl Clock {
    /// A clock that stands at the system's time now until it is advanced.
    pub fn manual() -> Self {
        Self::manual_at(Clock::System.now())
    }

    /// A clock that stands at `since_epoch` until it is advanced.
    pub fn manual_at(since_epoch: Duration) -> Self {
        let millis = u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX);
        Clock::Manual(Arc::new(AtomicU64::new(millis)))
    }

    /// The time since the epoch.
    pub fn now(&self) -> Duration {
        match self {
            Clock::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default(),
            Clock::Manual(millis) => Duration::from_millis(millis.load(Ordering::SeqCst)),
        }
    }

    /// Whole seconds since the epoch, as token times are.
    pub fn unix_secs(&self) -> i64 {
        i64::try_from(self.now().as_secs()).unwrap_or(i64::MAX)
    }

    /// Waits `duration`: in real time on the system clock; a manual clock is moved on at once.
    pub async fn sleep(&self, duration: Duration) {
        match self {
            Clock::System => tokio::time::sleep(duration).await,
            Clock::Manual(_) => self.advance(duration),
        }
    }

    /// Moves a manual clock on by `by`. The system clock cannot be moved: a test that tries has
    /// a bug, and says so.
    #[expect(
        clippy::panic,
        reason = "only a test moves a clock; moving the system's is its bug"
    )]
    pub fn advance(&self, by: Duration) {
        match self {
            Clock::System => panic!("the system clock cannot be advanced"),
            Clock::Manual(millis) => {
                let by = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
                millis.fetch_add(by, Ordering::SeqCst);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_starts_at_the_system_time_and_moves_only_when_advanced() {
        let before = Clock::System.unix_secs();
        let clock = Clock::manual();
        let start = clock.now();
        assert!((before..=before + 1).contains(&clock.unix_secs()));
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(clock.now(), start);
        clock.advance(Duration::from_millis(1500));
        assert_eq!(clock.now(), start + Duration::from_millis(1500));
    }

    #[tokio::test]
    async fn a_manual_clock_sleeps_by_moving_on() {
        let clock = Clock::manual();
        let start = clock.now();
        clock.sleep(Duration::from_secs(3600)).await;
        assert_eq!(clock.now(), start + Duration::from_secs(3600));
    }

    #[test]
    fn clones_of_a_manual_clock_share_its_time() {
        let clock = Clock::manual();
        let copy = clock.clone();
        clock.advance(Duration::from_secs(60));
        assert_eq!(copy.now(), clock.now());
    }
}

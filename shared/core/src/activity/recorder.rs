//! Writing the log without slowing or failing the request that records: each entry is written
//! by a task of its own, started when the event is known and not waited for; the answer goes
//! out meanwhile. A write that fails, takes longer than `WRITE_TIMEOUT`, or finds
//! `MAX_WRITES_IN_FLIGHT` writes still going (a store that is slow or down under a flood) is
//! dropped and counted as `activity_write_failed`: memory stays bounded whatever the store
//! does. In Lambda, a write still going when the answer is sent goes on when the environment
//! next runs (its request has normally left by then: the task starts before the answer is
//! built).

use std::{
    sync::{
        Arc,
        atomic::{AtomicI64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::sync::Notify;

use super::{Activity, ActivityEntry, ActivityEvent, ActivityLog, ActivityOutcome, entry_id};
use crate::{
    clock::Clock,
    metrics::{Event, Metrics},
    store::StoreError,
};

/// The longest a write may take before it is given up (and counted).
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(3);
/// Writes going at once beyond which a new entry is dropped (and counted).
pub const MAX_WRITES_IN_FLIGHT: usize = 256;

/// Records activity in a log, if the state has one. Cheap to clone.
#[derive(Clone)]
pub struct ActivityRecorder {
    log: Option<Arc<dyn ActivityLog>>,
    retention: Duration,
    metrics: Metrics,
    clock: Clock,
    in_flight: Arc<InFlight>,
}

#[derive(Default)]
struct InFlight {
    writes: AtomicUsize,
    settled: Notify,
    /// The last entry's time in microseconds: each entry's id is later than the one before,
    /// so a user's entries from one process keep their order even within a clock tick.
    last_micros: AtomicI64,
}

impl ActivityRecorder {
    pub fn new(
        log: Option<Arc<dyn ActivityLog>>,
        retention: Duration,
        metrics: Metrics,
        clock: Clock,
    ) -> Self {
        Self {
            log,
            retention,
            metrics,
            clock,
            in_flight: Arc::default(),
        }
    }

    /// Whether entries go anywhere.
    pub fn is_on(&self) -> bool {
        self.log.is_some()
    }

    /// The log, to read it.
    pub fn log(&self) -> Option<&dyn ActivityLog> {
        self.log.as_deref()
    }

    /// Adds an entry to `username`'s log, now, without waiting for the write: never fails,
    /// never delays its caller.
    pub fn record(
        &self,
        username: &str,
        event: ActivityEvent,
        outcome: ActivityOutcome,
        activity: Activity,
    ) {
        let Some(log) = self.log.clone() else {
            return;
        };
        let now = self.clock.now();
        let micros = self.next_micros(now);
        let entry = ActivityEntry {
            id: entry_id(micros),
            at_ms: micros / 1_000,
            event,
            outcome,
            detail: activity.detail.map(str::to_owned),
            session: activity.session,
            source_ip: activity.source_ip,
            user_agent: activity.user_agent,
        };
        let expires_at =
            i64::try_from(now.saturating_add(self.retention).as_secs()).unwrap_or(i64::MAX);
        let username = username.to_owned();
        let recorder = self.clone();
        self.spawn_bounded(
            async move { log.append(&username, &entry, expires_at).await },
            move |why| recorder.dropped(event, why),
        );
    }

    /// Runs `write`, another write no answer need wait for (a session's last refresh, in its
    /// record), the same way: not waited for, given up after `WRITE_TIMEOUT`, dropped when
    /// `MAX_WRITES_IN_FLIGHT` writes are going, and each failure logged (as `what`), never the
    /// request's. `settled` waits for it too.
    pub fn write_in_background(
        &self,
        what: &'static str,
        write: impl Future<Output = Result<(), StoreError>> + Send + 'static,
    ) {
        self.spawn_bounded(write, move |why| tracing::warn!(what, why, "not written"));
    }

    /// The one way both kinds of write run: on a task of its own, counted in flight (none
    /// started beyond `MAX_WRITES_IN_FLIGHT`), given up after `WRITE_TIMEOUT`; `not_written`
    /// hears why, whenever a write is not made.
    fn spawn_bounded(
        &self,
        write: impl Future<Output = Result<(), StoreError>> + Send + 'static,
        not_written: impl FnOnce(&str) + Send + 'static,
    ) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            not_written("no runtime to write it on");
            return;
        };
        if self.in_flight.writes.fetch_add(1, Ordering::AcqRel) >= MAX_WRITES_IN_FLIGHT {
            self.finished();
            not_written("too many writes in flight");
            return;
        }
        let recorder = self.clone();
        runtime.spawn(async move {
            match tokio::time::timeout(WRITE_TIMEOUT, write).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => not_written(&error.to_string()),
                Err(_) => not_written("the write timed out"),
            }
            recorder.finished();
        });
    }

    /// Waits until every write started so far has ended: for tests, and for a command that
    /// exits after recording.
    pub async fn settled(&self) {
        loop {
            let settled = self.in_flight.settled.notified();
            if self.in_flight.writes.load(Ordering::Acquire) == 0 {
                return;
            }
            settled.await;
        }
    }

    fn next_micros(&self, now: Duration) -> i64 {
        let now = i64::try_from(now.as_micros()).unwrap_or(i64::MAX);
        let previous = self
            .in_flight
            .last_micros
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |last| {
                Some(now.max(last.saturating_add(1)))
            })
            .unwrap_or(now);
        now.max(previous.saturating_add(1))
    }

    fn finished(&self) {
        if self.in_flight.writes.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.in_flight.settled.notify_waiters();
        }
    }

    fn dropped(&self, event: ActivityEvent, why: &str) {
        // The event's name and the store's error only: an entry's fields stay out of logs.
        tracing::warn!(%event, why, "an activity log entry was not written");
        self.metrics
            .emit(Event::ActivityWriteFailed, self.clock.now());
    }
}

#[cfg(test)]
mod tests {
    use async_trait::async_trait;

    use super::*;
    use crate::{
        activity::{ActivityPage, InMemoryActivityLog},
        store::StoreError,
    };

    struct Down;

    #[async_trait]
    impl ActivityLog for Down {
        async fn append(&self, _: &str, _: &ActivityEntry, _: i64) -> Result<(), StoreError> {
            Err(StoreError::unavailable("down"))
        }

        async fn list(
            &self,
            _: &str,
            _: usize,
            _: Option<&str>,
            _: i64,
        ) -> Result<ActivityPage, StoreError> {
            Err(StoreError::unavailable("down"))
        }
    }

    #[tokio::test]
    async fn entries_of_one_clock_tick_keep_the_order_they_were_recorded_in() {
        let log = Arc::new(InMemoryActivityLog::default());
        let clock = Clock::manual();
        let recorder = ActivityRecorder::new(
            Some(log.clone()),
            Duration::from_secs(90 * 86_400),
            Metrics::off(),
            clock.clone(),
        );
        let events = [
            ActivityEvent::Login,
            ActivityEvent::Refresh,
            ActivityEvent::Logout,
        ];
        for event in events {
            recorder.record(
                "ann",
                event,
                ActivityOutcome::Succeeded,
                Activity::default(),
            );
        }
        recorder.settled().await;
        let page = log.list("ann", 10, None, clock.unix_secs()).await.unwrap();
        let newest_first: Vec<_> = page.entries.iter().map(|entry| entry.event).collect();
        assert_eq!(
            newest_first,
            [
                ActivityEvent::Logout,
                ActivityEvent::Refresh,
                ActivityEvent::Login
            ]
        );
    }

    #[derive(Debug, Default)]
    struct Counted(std::sync::Mutex<Vec<Event>>);

    impl crate::metrics::MetricSink for Counted {
        fn write_line(&self, _: crate::Function, event: Event, _: &str) {
            self.0.lock().unwrap().push(event);
        }
    }

    #[tokio::test]
    async fn a_failed_write_is_counted_and_nothing_waits_for_it() {
        let sink = Arc::new(Counted::default());
        let recorder = ActivityRecorder::new(
            Some(Arc::new(Down)),
            Duration::from_secs(60),
            Metrics::to(crate::Function::Login, sink.clone()),
            Clock::System,
        );
        recorder.record(
            "ann",
            ActivityEvent::Login,
            ActivityOutcome::Failed,
            Activity::default(),
        );
        recorder.settled().await;
        assert_eq!(*sink.0.lock().unwrap(), [Event::ActivityWriteFailed]);
    }
}

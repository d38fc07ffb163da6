//! Security events captured, as a test reads them: the lines a function wrote, each checked
//! to be one valid EMF document that names nothing but its function and event, and an event
//! the function is declared to count (`Event::counted_by`).

use std::{io::Write, sync::Arc};

use auth_core::metrics::{Event, Function, MetricSink, Metrics};
use serde_json::Value;

use crate::log::CapturedLog;

/// Metrics of `function` kept in `CapturedLog`, for a test to read. A line of an event the
/// function is not declared to count (`Event::counted_by`) fails the test where it is written.
pub fn captured_metrics(function: Function) -> (Metrics, CapturedLog) {
    let log = CapturedLog::default();
    let metrics = Metrics::to(function, Arc::new(CapturedLines(log.clone())));
    (metrics, log)
}

#[derive(Debug)]
struct CapturedLines(CapturedLog);

impl MetricSink for CapturedLines {
    fn write_line(&self, function: Function, event: Event, line: &str) {
        assert!(
            event.counted_by().contains(&function),
            "{function:?} counted {event:?}, which Event::counted_by does not declare"
        );
        let _ = self.0.clone().write_all(line.as_bytes());
    }
}

/// The metric lines `log` (of `captured_metrics`) received, as `(function, event)`: each line
/// checked to be one valid EMF document that names nothing but its function and event.
pub fn metric_events(log: &CapturedLog) -> Vec<(String, String)> {
    let contents = log.contents();
    let events = metric_events_in(&contents);
    assert_eq!(events.len(), contents.lines().count(), "{contents}");
    events
}

/// The metric lines among a function's log lines (those with an `_aws` member), as
/// `metric_events` checks and reads them.
pub fn metric_events_in(logs: &str) -> Vec<(String, String)> {
    logs.lines()
        .filter_map(|line| {
            let document = serde_json::from_str::<Value>(line).ok()?;
            document.get("_aws").is_some().then_some((line, document))
        })
        .map(|(line, document)| {
            if let Err(why) = crate::emf::validate(line) {
                panic!("not EMF ({why}): {line}");
            }
            let event = document["Event"].as_str().expect("an Event").to_owned();
            let function = document["Function"]
                .as_str()
                .expect("a Function")
                .to_owned();
            let mut members: Vec<&str> = document
                .as_object()
                .expect("an object")
                .keys()
                .map(String::as_str)
                .collect();
            members.sort_unstable();
            let mut expected = vec!["Event", "Function", "_aws", event.as_str()];
            expected.sort_unstable();
            assert_eq!(members, expected, "{line}");
            let declared = Event::named(&event).is_some_and(|known| {
                known
                    .counted_by()
                    .iter()
                    .any(|counter| counter.name() == function)
            });
            assert!(
                declared,
                "{function} counted {event}, which Event::counted_by does not declare"
            );
            (function, event)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use auth_core::metrics::line;

    use super::*;

    const AT: Duration = Duration::from_millis(1_764_489_600_123);

    #[test]
    fn off_writes_nothing_and_captured_keeps_each_line() {
        Metrics::off().emit(Event::Logout, AT);
        let (metrics, log) = captured_metrics(Function::Logout);
        metrics.emit(Event::Logout, AT);
        metrics.emit(Event::StoreUnavailable, AT);
        assert_eq!(
            log.contents(),
            line(Function::Logout, Event::Logout, AT)
                + &line(Function::Logout, Event::StoreUnavailable, AT)
        );
    }

    #[test]
    #[should_panic(expected = "which Event::counted_by does not declare")]
    fn a_line_the_function_does_not_count_fails_the_test_that_writes_it() {
        let (metrics, _log) = captured_metrics(Function::Discovery);
        metrics.emit(Event::LoginFailed, AT);
    }
}

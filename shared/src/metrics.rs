//! The security events an operator acts on, as CloudWatch Embedded Metric Format (EMF) lines:
//! one JSON object per line on stdout, which CloudWatch Logs turns into a metric. No network
//! call and no SDK: a formatted line and one write per event.
//!
//! The names (namespace, events, dimensions, functions) are the ones the template's alarms and
//! dashboard read: `lambda-emulator/tests/operations.rs` holds the template to this module.
//! A line carries the event, the function and the time, never a username, a token, a token id,
//! a session id or an address: the log line an event is about (which says whose) is separate.
//!
//! Why not through `tracing`: its JSON formatter nests an event's fields under `"fields"` and
//! adds its own members, and its text format prefixes the line, so no `tracing` event is an
//! EMF document. A function on a custom runtime (`provided.al2023`) gets no JSON wrapping
//! from Lambda for what it prints itself (`LogFormat: JSON` structures only Lambda's own
//! platform lines there), so a line written straight to stdout reaches CloudWatch as it is.

use std::{io::Write, time::Duration};

/// The namespace of every metric.
pub const NAMESPACE: &str = "JwtAuth";
/// The unit of every metric: each line counts one event.
pub const UNIT: &str = "Count";
/// The dimension sets of every line: the total over every function (what the alarms watch),
/// and per function (what the dashboard shows).
pub const DIMENSION_SETS: [&[&str]; 2] = [&["Event"], &["Function", "Event"]];

/// An event an operator acts on; its metric is named by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    LoginSucceeded,
    /// A wrong password, or a user that does not exist.
    LoginFailed,
    LoginThrottled,
    /// A spent refresh token presented again: a theft signal; the session is ended.
    RefreshReuseDetected,
    /// A token refused as revoked: logged out, of an ended session, or older than its user's
    /// last password change.
    RevokedTokenPresented,
    Logout,
    /// A request answered 503 because the store did not answer.
    StoreUnavailable,
}

impl Event {
    pub const ALL: [Event; 7] = [
        Event::LoginSucceeded,
        Event::LoginFailed,
        Event::LoginThrottled,
        Event::RefreshReuseDetected,
        Event::RevokedTokenPresented,
        Event::Logout,
        Event::StoreUnavailable,
    ];

    /// The event whose metric is `name`.
    pub fn named(name: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|event| event.name() == name)
    }

    /// The metric's name, and the value of its `Event` dimension.
    pub fn name(self) -> &'static str {
        match self {
            Event::LoginSucceeded => "login_succeeded",
            Event::LoginFailed => "login_failed",
            Event::LoginThrottled => "login_throttled",
            Event::RefreshReuseDetected => "refresh_reuse_detected",
            Event::RevokedTokenPresented => "revoked_token_presented",
            Event::Logout => "logout",
            Event::StoreUnavailable => "store_unavailable",
        }
    }

    /// The functions that count this event: its per-function series, which the dashboard
    /// shows. Held true by every test that captures lines (a line of another function panics
    /// there) and by the emulator test over the bootstraps.
    pub fn counted_by(self) -> &'static [Function] {
        use Function::*;
        match self {
            Event::LoginSucceeded | Event::LoginFailed | Event::LoginThrottled => &[Login],
            Event::RefreshReuseDetected => &[Refresh],
            // Logout revokes without looking a token up (RFC 7009): it never refuses one.
            Event::RevokedTokenPresented => &[Refresh, Profile, Authorizer],
            Event::Logout => &[Logout],
            // Discovery reads no store.
            Event::StoreUnavailable => &[Login, Refresh, Profile, Logout, Authorizer],
        }
    }
}

/// The function an event happened in: its Cargo binary, never its generated physical name
/// (which changes with the stack, and would split the dashboard's lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Login,
    Refresh,
    Profile,
    Logout,
    Discovery,
    Authorizer,
}

impl Function {
    pub const ALL: [Function; 6] = [
        Function::Login,
        Function::Refresh,
        Function::Profile,
        Function::Logout,
        Function::Discovery,
        Function::Authorizer,
    ];

    /// The value of the `Function` dimension.
    pub fn name(self) -> &'static str {
        match self {
            Function::Login => "login",
            Function::Refresh => "refresh",
            Function::Profile => "profile",
            Function::Logout => "logout",
            Function::Discovery => "discovery",
            Function::Authorizer => "authorizer",
        }
    }
}

/// The EMF line of `event` in `function` at `at` (since the epoch), newline included. Every
/// name is a fixed identifier of the lists above, so the line is formatted, not serialised: no
/// escaping can be needed, and the tests parse every possible line.
pub fn line(function: Function, event: Event, at: Duration) -> String {
    let event = event.name();
    format!(
        concat!(
            r#"{{"_aws":{{"Timestamp":{millis},"CloudWatchMetrics":[{{"Namespace":"{namespace}","#,
            r#""Dimensions":[["Event"],["Function","Event"]],"#,
            r#""Metrics":[{{"Name":"{event}","Unit":"{unit}"}}]}}]}},"#,
            r#""Function":"{function}","Event":"{event}","{event}":1}}"#,
            "\n"
        ),
        millis = at.as_millis(),
        namespace = NAMESPACE,
        unit = UNIT,
        function = function.name(),
        event = event,
    )
}

/// Where a function's events go. Off (the default) writes nothing: the state a test or
/// `local-api` builds. A cold start sets it to stdout for its own function.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    to: Option<(Function, Sink)>,
}

#[derive(Debug, Clone)]
enum Sink {
    Stdout,
    #[cfg(any(test, feature = "testing"))]
    Captured(crate::testing::CapturedLog),
}

impl Metrics {
    /// Writes nothing.
    pub fn off() -> Self {
        Self::default()
    }

    /// Lines of `function` on stdout, beside the function's `tracing` log.
    pub fn stdout(function: Function) -> Self {
        Self {
            to: Some((function, Sink::Stdout)),
        }
    }

    /// Lines of `function` kept in memory, for a test to read.
    #[cfg(any(test, feature = "testing"))]
    pub fn captured(function: Function) -> (Self, crate::testing::CapturedLog) {
        let log = crate::testing::CapturedLog::default();
        let metrics = Self {
            to: Some((function, Sink::Captured(log.clone()))),
        };
        (metrics, log)
    }

    /// Writes the line of `event` at `at`. A failed write is dropped: a metric must never fail
    /// the request it counts.
    pub fn emit(&self, event: Event, at: Duration) {
        let Some((function, sink)) = &self.to else {
            return;
        };
        let line = line(*function, event, at);
        match sink {
            // One write_all under the lock: the line never interleaves with a tracing line.
            Sink::Stdout => {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(line.as_bytes()).and_then(|()| out.flush());
            }
            #[cfg(any(test, feature = "testing"))]
            Sink::Captured(log) => {
                assert!(
                    event.counted_by().contains(function),
                    "{function:?} counted {event:?}, which Event::counted_by does not declare"
                );
                let _ = log.clone().write_all(line.as_bytes());
            }
        }
    }
}

/// The EMF specification's rules for a document, as a test checks a line against them
/// (docs.aws.amazon.com, CloudWatch, "Specification: Embedded metric format").
#[cfg(any(test, feature = "testing"))]
pub mod spec {
    use serde_json::{Map, Value};

    /// The units a `MetricDefinition` may name.
    pub const UNITS: [&str; 27] = [
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Bytes",
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Bits",
        "Kilobits",
        "Megabits",
        "Gigabits",
        "Terabits",
        "Percent",
        "Count",
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
        "Bits/Second",
        "Kilobits/Second",
        "Megabits/Second",
        "Gigabits/Second",
        "Terabits/Second",
        "Count/Second",
        "None",
    ];

    /// Why `document` (one log event's text) is not a valid EMF document, if it is not.
    pub fn validate(document: &str) -> Result<(), String> {
        let root: Value =
            serde_json::from_str(document).map_err(|error| format!("not JSON: {error}"))?;
        let root = root.as_object().ok_or("the root is not an object")?;
        let aws = root
            .get("_aws")
            .and_then(Value::as_object)
            .ok_or("no _aws object")?;
        only_members(aws, &["Timestamp", "CloudWatchMetrics"], "_aws")?;
        match aws.get("Timestamp") {
            Some(Value::Number(millis)) if millis.is_u64() => {}
            _ => return Err("_aws.Timestamp is not a number of milliseconds".into()),
        }
        let directives = aws
            .get("CloudWatchMetrics")
            .and_then(Value::as_array)
            .ok_or("_aws.CloudWatchMetrics is not an array")?;
        for directive in directives {
            metric_directive(root, directive)?;
        }
        Ok(())
    }

    fn metric_directive(root: &Map<String, Value>, directive: &Value) -> Result<(), String> {
        let directive = directive
            .as_object()
            .ok_or("a MetricDirective is not an object")?;
        only_members(
            directive,
            &["Namespace", "Dimensions", "Metrics"],
            "MetricDirective",
        )?;
        match directive.get("Namespace").and_then(Value::as_str) {
            Some(namespace) if !namespace.is_empty() && namespace.len() <= 255 => {}
            _ => return Err("Namespace is not a string of 1 to 255 characters".into()),
        }
        let dimension_sets = directive
            .get("Dimensions")
            .and_then(Value::as_array)
            .ok_or("Dimensions is not an array")?;
        for set in dimension_sets {
            let set = set.as_array().ok_or("a DimensionSet is not an array")?;
            if set.len() > 30 {
                return Err("a DimensionSet has more than 30 dimensions".into());
            }
            for name in set {
                let name = name.as_str().ok_or("a dimension name is not a string")?;
                match root.get(name) {
                    Some(Value::String(_)) => {}
                    Some(_) => return Err(format!("the value of dimension {name} is no string")),
                    None => return Err(format!("no member for dimension {name}")),
                }
            }
        }
        let metrics = directive
            .get("Metrics")
            .and_then(Value::as_array)
            .ok_or("Metrics is not an array")?;
        if metrics.len() > 100 {
            return Err("more than 100 metrics in one directive".into());
        }
        for metric in metrics {
            metric_definition(root, metric)?;
        }
        Ok(())
    }

    fn metric_definition(root: &Map<String, Value>, metric: &Value) -> Result<(), String> {
        let metric = metric
            .as_object()
            .ok_or("a MetricDefinition is not an object")?;
        only_members(
            metric,
            &["Name", "Unit", "StorageResolution"],
            "MetricDefinition",
        )?;
        let name = metric
            .get("Name")
            .and_then(Value::as_str)
            .ok_or("a metric has no Name")?;
        if let Some(unit) = metric.get("Unit")
            && !unit.as_str().is_some_and(|unit| UNITS.contains(&unit))
        {
            return Err(format!("metric {name}: unit {unit} is not one of EMF's"));
        }
        if let Some(resolution) = metric.get("StorageResolution")
            && !matches!(resolution.as_u64(), Some(1 | 60))
        {
            return Err(format!("metric {name}: StorageResolution is not 1 or 60"));
        }
        match root.get(name) {
            Some(Value::Number(_)) => Ok(()),
            Some(Value::Array(values))
                if values.len() <= 100 && values.iter().all(Value::is_number) =>
            {
                Ok(())
            }
            Some(_) => Err(format!("the value of metric {name} is not a number")),
            None => Err(format!("no member for metric {name}")),
        }
    }

    /// The specification's objects "MUST NOT contain any additional members".
    fn only_members(
        object: &Map<String, Value>,
        allowed: &[&str],
        what: &str,
    ) -> Result<(), String> {
        match object.keys().find(|key| !allowed.contains(&key.as_str())) {
            Some(key) => Err(format!(
                "{what} has a member {key} the specification does not define"
            )),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// The example document of the EMF specification.
    const SPEC_EXAMPLE: &str = r#"{
      "_aws": {
        "Timestamp": 1574109732004,
        "CloudWatchMetrics": [
          {
            "Namespace": "lambda-function-metrics",
            "Dimensions": [["functionVersion"]],
            "Metrics": [
              {
                "Name": "time",
                "Unit": "Milliseconds",
                "StorageResolution": 60
              }
            ]
          }
        ]
      },
      "functionVersion": "$LATEST",
      "time": 100,
      "requestId": "989ffbf8-9ace-4817-a57c-e4dd734019ee"
    }"#;

    const AT: Duration = Duration::from_millis(1_764_489_600_123);

    fn parsed(function: Function, event: Event) -> Value {
        let text = line(function, event, AT);
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn the_specifications_example_is_valid() {
        assert_eq!(spec::validate(SPEC_EXAMPLE), Ok(()));
    }

    #[test]
    fn the_validator_refuses_what_the_specification_forbids() {
        let example: Value = serde_json::from_str(SPEC_EXAMPLE).unwrap();
        let broken = |change: &dyn Fn(&mut Value)| {
            let mut document = example.clone();
            change(&mut document);
            spec::validate(&document.to_string())
        };
        for (why, change) in [
            (
                "no _aws",
                &(|d: &mut Value| d["_aws"] = json!(null)) as &dyn Fn(&mut Value),
            ),
            ("timestamp", &|d| d["_aws"]["Timestamp"] = json!("now")),
            ("no metric member", &|d| {
                d.as_object_mut().unwrap().remove("time");
            }),
            ("metric not a number", &|d| d["time"] = json!("100")),
            ("no dimension member", &|d| {
                d.as_object_mut().unwrap().remove("functionVersion");
            }),
            ("dimension not a string", &|d| {
                d["functionVersion"] = json!(1)
            }),
            ("unknown unit", &|d| {
                d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] = json!("Things")
            }),
            ("extra member", &|d| {
                d["_aws"]["CloudWatchMetrics"][0]["Extra"] = json!(1)
            }),
            ("no namespace", &|d| {
                d["_aws"]["CloudWatchMetrics"][0]["Namespace"] = json!("")
            }),
        ] {
            assert!(broken(change).is_err(), "{why}");
        }
        assert!(spec::validate("prefix {}").is_err());
    }

    #[test]
    fn every_line_is_one_valid_emf_document_on_one_line() {
        for function in Function::ALL {
            for event in Event::ALL {
                let text = line(function, event, AT);
                assert!(text.ends_with('\n') && text.matches('\n').count() == 1);
                assert_eq!(spec::validate(text.trim_end()), Ok(()), "{text}");
            }
        }
    }

    #[test]
    fn a_line_counts_one_event_by_event_and_by_function() {
        assert_eq!(
            parsed(Function::Refresh, Event::RefreshReuseDetected),
            json!({
                "_aws": {
                    "Timestamp": 1_764_489_600_123_u64,
                    "CloudWatchMetrics": [{
                        "Namespace": "JwtAuth",
                        "Dimensions": [["Event"], ["Function", "Event"]],
                        "Metrics": [{"Name": "refresh_reuse_detected", "Unit": "Count"}]
                    }]
                },
                "Function": "refresh",
                "Event": "refresh_reuse_detected",
                "refresh_reuse_detected": 1
            })
        );
    }

    #[test]
    fn a_line_carries_nothing_but_the_event_the_function_and_the_time() {
        let document = parsed(Function::Login, Event::LoginFailed);
        let mut members: Vec<&str> = document
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        members.sort_unstable();
        assert_eq!(members, ["Event", "Function", "_aws", "login_failed"]);
    }

    #[test]
    fn names_need_no_escaping() {
        let names = Event::ALL
            .iter()
            .map(|event| event.name())
            .chain(Function::ALL.iter().map(|function| function.name()))
            .chain([NAMESPACE, UNIT]);
        for name in names {
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{name}"
            );
        }
    }

    #[test]
    fn off_writes_nothing_and_captured_keeps_each_line() {
        Metrics::off().emit(Event::Logout, AT);
        let (metrics, log) = Metrics::captured(Function::Logout);
        metrics.emit(Event::Logout, AT);
        metrics.emit(Event::StoreUnavailable, AT);
        assert_eq!(
            log.contents(),
            line(Function::Logout, Event::Logout, AT)
                + &line(Function::Logout, Event::StoreUnavailable, AT)
        );
    }

    /// Every line a function can write, pinned in `interop/emf_lines.json`, which
    /// `interop/check_emf.py` compares with what AWS's own EMF library (aws-embedded-metrics)
    /// writes for the same metric: a second implementation of the format, not ours.
    #[test]
    fn every_line_a_function_can_write_is_the_one_pinned_for_aws_embedded_metrics() {
        let lines: Vec<Value> = Event::ALL
            .into_iter()
            .flat_map(|event| {
                event
                    .counted_by()
                    .iter()
                    .map(move |function| (*function, event))
            })
            .map(|(function, event)| {
                json!({
                    "function": function.name(),
                    "event": event.name(),
                    "timestamp_ms": AT.as_millis() as u64,
                    "line": line(function, event, AT),
                })
            })
            .collect();
        let pinned = Value::Array(lines);
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../interop/emf_lines.json");
        if std::env::var_os("UPDATE_INTEROP_VECTORS").is_some() {
            std::fs::write(&path, serde_json::to_string_pretty(&pinned).unwrap() + "\n").unwrap();
        }
        let file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(
            file, pinned,
            "run with UPDATE_INTEROP_VECTORS=1 if the change is deliberate"
        );
    }
}

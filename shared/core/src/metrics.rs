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

use std::{fmt, io::Write, sync::Arc, time::Duration};

pub use crate::function::Function;

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
    /// An account made by `POST /signup` (not a sign-up of a known address).
    SignedUp,
    /// An address confirmed with its mailed token.
    SignupConfirmed,
    /// A reset link mailed to a known address.
    RecoveryRequested,
    /// A password changed with the current one.
    PasswordChanged,
    /// A password set with a mailed reset token.
    PasswordReset,
    MailSent,
    /// A mail the mail service did not take: its alarm means people wait for mail in vain.
    MailFailed,
    /// A request over its route's per-address limit, answered 429.
    IpThrottled,
    /// A right password of a user with a second factor: answered with an `mfa_token`.
    MfaChallenged,
    /// A wrong TOTP or recovery code (at a login, or to change the factor).
    MfaFailed,
    /// A second factor locked by wrong codes, answered 429: a guessing signal.
    MfaLocked,
    /// A recovery code used: its user may have lost their authenticator.
    RecoveryCodeUsed,
    /// A second factor confirmed.
    MfaEnrolled,
    /// A second factor removed by its user.
    MfaRemoved,
    /// An activity log entry not written (the store failed, was too slow, or too many writes
    /// were in flight): the request it recorded was answered all the same.
    ActivityWriteFailed,
    /// One of a user's sessions ended by its user (`DELETE /sessions/{id}`).
    SessionEnded,
}

impl Event {
    pub const ALL: [Event; 23] = [
        Event::LoginSucceeded,
        Event::LoginFailed,
        Event::LoginThrottled,
        Event::RefreshReuseDetected,
        Event::RevokedTokenPresented,
        Event::Logout,
        Event::StoreUnavailable,
        Event::SignedUp,
        Event::SignupConfirmed,
        Event::RecoveryRequested,
        Event::PasswordChanged,
        Event::PasswordReset,
        Event::MailSent,
        Event::MailFailed,
        Event::IpThrottled,
        Event::MfaChallenged,
        Event::MfaFailed,
        Event::MfaLocked,
        Event::RecoveryCodeUsed,
        Event::MfaEnrolled,
        Event::MfaRemoved,
        Event::ActivityWriteFailed,
        Event::SessionEnded,
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
            Event::SignedUp => "signed_up",
            Event::SignupConfirmed => "signup_confirmed",
            Event::RecoveryRequested => "recovery_requested",
            Event::PasswordChanged => "password_changed",
            Event::PasswordReset => "password_reset",
            Event::MailSent => "mail_sent",
            Event::MailFailed => "mail_failed",
            Event::IpThrottled => "ip_throttled",
            Event::MfaChallenged => "mfa_challenged",
            Event::MfaFailed => "mfa_failed",
            Event::MfaLocked => "mfa_locked",
            Event::RecoveryCodeUsed => "recovery_code_used",
            Event::MfaEnrolled => "mfa_enrolled",
            Event::MfaRemoved => "mfa_removed",
            Event::ActivityWriteFailed => "activity_write_failed",
            Event::SessionEnded => "session_ended",
        }
    }

    /// The functions that count this event: its per-function series, which the dashboard
    /// shows. Held true by every test that captures lines (a line of another function panics
    /// there) and by the emulator test over the bootstraps.
    pub fn counted_by(self) -> &'static [Function] {
        use Function::*;
        match self {
            // A login with a second factor succeeds at its second step.
            Event::LoginSucceeded => &[Login, LoginMfa],
            Event::LoginFailed | Event::LoginThrottled => &[Login],
            Event::RefreshReuseDetected => &[Refresh],
            // Logout revokes without looking a token up (RFC 7009) but for the scopes that end
            // other sessions too, which need a live token.
            Event::RevokedTokenPresented => &[
                Refresh,
                Profile,
                Logout,
                Authorizer,
                ChangePassword,
                Mfa,
                Sessions,
            ],
            Event::Logout => &[Logout],
            // Discovery reads no store.
            Event::StoreUnavailable => &[
                Login,
                Refresh,
                Profile,
                Logout,
                Authorizer,
                Signup,
                Verify,
                Recover,
                Resend,
                ChangePassword,
                ResetPassword,
                LoginMfa,
                Mfa,
                Sessions,
            ],
            Event::SignedUp => &[Signup],
            Event::SignupConfirmed => &[Verify],
            Event::RecoveryRequested => &[Recover, Resend],
            Event::PasswordChanged => &[ChangePassword],
            Event::PasswordReset => &[ResetPassword],
            Event::MailSent | Event::MailFailed => &Function::MAILING,
            Event::IpThrottled => &[
                Login,
                Signup,
                Verify,
                Recover,
                Resend,
                ChangePassword,
                ResetPassword,
                LoginMfa,
                Mfa,
            ],
            Event::MfaChallenged => &[Login],
            Event::MfaFailed | Event::MfaLocked | Event::RecoveryCodeUsed => &[LoginMfa, Mfa],
            Event::MfaEnrolled | Event::MfaRemoved => &[Mfa],
            Event::ActivityWriteFailed => &Function::RECORDING_ACTIVITY,
            Event::SessionEnded => &[Sessions],
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
    to: Option<(Function, Arc<dyn MetricSink>)>,
}

/// Where the lines of a function's events are written: stdout in a Lambda function, a log a
/// test reads (`auth_testkit::metrics`).
pub trait MetricSink: fmt::Debug + Send + Sync {
    /// Writes `line`, the EMF line of `event` in `function`. A sink never fails the request it
    /// counts: a failed write is dropped.
    fn write_line(&self, function: Function, event: Event, line: &str);
}

/// The function's stdout, beside its `tracing` log.
#[derive(Debug)]
pub struct Stdout;

impl MetricSink for Stdout {
    fn write_line(&self, _function: Function, _event: Event, line: &str) {
        // One write_all under the lock: the line never interleaves with a tracing line.
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(line.as_bytes()).and_then(|()| out.flush());
    }
}

impl Metrics {
    /// Writes nothing.
    pub fn off() -> Self {
        Self::default()
    }

    /// Lines of `function` on stdout, beside the function's `tracing` log.
    pub fn stdout(function: Function) -> Self {
        Self::to(function, Arc::new(Stdout))
    }

    /// Lines of `function` to `sink`.
    pub fn to(function: Function, sink: Arc<dyn MetricSink>) -> Self {
        Self {
            to: Some((function, sink)),
        }
    }

    /// Writes the line of `event` at `at`.
    pub fn emit(&self, event: Event, at: Duration) {
        if let Some((function, sink)) = &self.to {
            sink.write_line(*function, event, &line(*function, event, at));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    const AT: Duration = Duration::from_millis(1_764_489_600_123);

    fn parsed(function: Function, event: Event) -> Value {
        let text = line(function, event, AT);
        serde_json::from_str(&text).unwrap()
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
                // A hyphen needs no escaping in JSON either (`password-reset`, a Cargo binary).
                name.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
                "{name}"
            );
        }
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
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interop/emf_lines.json");
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

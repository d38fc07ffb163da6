//! Log setup for every binary: JSON lines when Lambda asks for them (`AWS_LAMBDA_LOG_FORMAT`),
//! readable text otherwise, at `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG` (default INFO).
//!
//! Like `lambda_http::tracing::init_default_subscriber`, with one difference: `lambda_runtime`
//! is capped at DEBUG, because at TRACE it logs every raw event, and events carry
//! `Authorization` headers and login passwords.

use std::str::FromStr;

use lambda_http::tracing::subscriber::{
    EnvFilter,
    filter::{Directive, LevelFilter},
};

/// Where the runtime logs raw events; never more verbose than DEBUG.
const RUNTIME_CAP: &str = "lambda_runtime=debug";

/// Installs the global subscriber. Call once, first thing in `main`.
pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").ok();
    let rust_log = std::env::var("RUST_LOG").ok();
    let collector = lambda_http::tracing::subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_env_filter(filter(level.as_deref(), rust_log.as_deref()));
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT")
        .is_ok_and(|format| format.eq_ignore_ascii_case("json"));
    if json {
        collector.json().init();
    } else {
        collector.init();
    }
}

/// The filter for Lambda's level (which wins) or `RUST_LOG`'s directives; when anything is at
/// TRACE, the runtime is capped at DEBUG.
pub fn filter(lambda_level: Option<&str>, rust_log: Option<&str>) -> EnvFilter {
    let (default_level, directives) = match lambda_level {
        // Lambda's levels are TRACE..ERROR and FATAL, which tracing calls ERROR.
        Some(level) => (
            LevelFilter::from_str(level).unwrap_or(if level.eq_ignore_ascii_case("fatal") {
                LevelFilter::ERROR
            } else {
                LevelFilter::INFO
            }),
            "",
        ),
        None => (LevelFilter::INFO, rust_log.unwrap_or("")),
    };
    let filter = EnvFilter::builder()
        .with_default_directive(default_level.into())
        .parse_lossy(directives);
    if filter
        .max_level_hint()
        .is_some_and(|level| level > LevelFilter::DEBUG)
    {
        let cap = Directive::from_str(RUNTIME_CAP).unwrap_or_else(|_| LevelFilter::DEBUG.into());
        filter.add_directive(cap)
    } else {
        filter
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_testkit::CapturedLog;

    use lambda_http::tracing::{self, subscriber::util::SubscriberInitExt};

    /// What reaches the log with this filter when the runtime and our code log at every level.
    fn logged_with(filter: EnvFilter) -> String {
        let captured = CapturedLog::default();
        let writer = captured.clone();
        let collector = lambda_http::tracing::subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_env_filter(filter)
            .finish();
        let _guard = collector.set_default();
        tracing::trace!(target: "lambda_runtime::layers::api_response", "raw event with Bearer secret-token");
        tracing::debug!(target: "lambda_runtime::runtime", "runtime debug line");
        tracing::trace!(target: "auth_core::tokens", "our trace line");
        tracing::info!(target: "auth_http", "our info line");
        tracing::error!(target: "auth_http", "our error line");
        captured.contents()
    }

    #[test]
    fn trace_level_never_logs_the_runtimes_raw_events() {
        for (level, rust_log) in [
            (Some("TRACE"), None),
            (None, Some("trace")),
            (None, Some("lambda_runtime=trace")),
        ] {
            let log = logged_with(filter(level, rust_log));
            assert!(
                !log.contains("secret-token"),
                "{level:?} {rust_log:?}: {log}"
            );
            assert!(
                log.contains("runtime debug line"),
                "{level:?} {rust_log:?}: {log}"
            );
        }
        assert!(logged_with(filter(Some("TRACE"), None)).contains("our trace line"));
    }

    #[test]
    fn default_is_info() {
        let log = logged_with(filter(None, None));
        assert!(log.contains("our info line"));
        assert!(!log.contains("runtime debug line"));
        assert!(!log.contains("our trace line"));
    }

    #[test]
    fn lambda_level_wins_over_rust_log_and_fatal_means_error() {
        for (level, rust_log) in [(Some("ERROR"), Some("trace")), (Some("FATAL"), None)] {
            let log = logged_with(filter(level, rust_log));
            assert!(
                log.contains("our error line") && !log.contains("our info line"),
                "{level:?}: {log}"
            );
        }
        assert!(logged_with(filter(Some("nonsense"), None)).contains("our info line"));
    }
}

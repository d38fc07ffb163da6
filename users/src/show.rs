//! A user's sessions and activity as the operator reads them: one tab-separated line each.
//!
//! What a client sent (its user agent, its address) is printed through the same bounds the
//! store keeps it with, control characters (a tab, a line break, a terminal's escape) dropped,
//! and a user agent as the device it names: an item's text can never forge a line or a column.

use std::time::{Duration, UNIX_EPOCH};

use auth_core::{
    activity::ActivityEntry,
    sessions::{SessionInfo, bounded_source_ip, bounded_user_agent},
};
use auth_devices::Device;

/// The device a user agent names, `Firefox 133 on Linux`; `-` without one.
fn device(user_agent: Option<&str>) -> String {
    match user_agent.and_then(bounded_user_agent) {
        Some(agent) => {
            let device = Device::of(Some(&agent));
            format!("{} on {}", device.browser, device.os)
        }
        None => "-".to_owned(),
    }
}

/// A stored text as a column: bounded, without control characters, `-` when there is none.
fn column(text: Option<&str>, bound: fn(&str) -> Option<String>) -> String {
    text.and_then(bound).unwrap_or_else(|| "-".to_owned())
}

fn seconds(at: i64) -> String {
    let at = UNIX_EPOCH + Duration::from_secs(u64::try_from(at).unwrap_or_default());
    humantime::format_rfc3339_seconds(at).to_string()
}

fn millis(at_ms: i64) -> String {
    let at = UNIX_EPOCH + Duration::from_millis(u64::try_from(at_ms).unwrap_or_default());
    humantime::format_rfc3339_millis(at).to_string()
}

/// `id  started  last refresh  address  amr  device`.
pub fn session_line(session: &SessionInfo) -> String {
    let amr = session
        .methods
        .map(|methods| methods.values().join(" "))
        .unwrap_or_else(|| "-".to_owned());
    [
        session.id.clone(),
        seconds(session.started_at),
        session.refreshed_at.map_or_else(|| "-".to_owned(), seconds),
        column(session.source_ip.as_deref(), bounded_source_ip),
        amr,
        device(session.user_agent.as_deref()),
    ]
    .join("\t")
}

/// `time  event  outcome  detail  address  device  session`.
pub fn activity_line(entry: &ActivityEntry) -> String {
    [
        millis(entry.at_ms),
        entry.event.name().to_owned(),
        entry.outcome.name().to_owned(),
        column(entry.detail.as_deref(), bounded_user_agent),
        column(entry.source_ip.as_deref(), bounded_source_ip),
        device(entry.user_agent.as_deref()),
        column(entry.session.as_deref(), bounded_user_agent),
    ]
    .join("\t")
}

#[cfg(test)]
mod tests {
    use auth_core::{
        activity::{ActivityEvent, ActivityOutcome},
        claims::AuthMethods,
    };

    use super::*;

    #[test]
    fn a_session_line_shows_its_times_address_methods_and_device() {
        let session = SessionInfo {
            id: "s-1".to_owned(),
            started_at: 1_769_850_000,
            refreshed_at: Some(1_769_853_600),
            source_ip: Some("203.0.113.9".to_owned()),
            user_agent: Some(
                "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0".to_owned(),
            ),
            methods: Some(AuthMethods::PasswordAndOtp),
        };
        assert_eq!(
            session_line(&session),
            "s-1\t2026-01-31T09:00:00Z\t2026-01-31T10:00:00Z\t203.0.113.9\tpwd otp mfa\t\
             Firefox 133 on Linux"
        );
        let bare = SessionInfo {
            refreshed_at: None,
            source_ip: None,
            user_agent: None,
            methods: None,
            ..session
        };
        assert_eq!(session_line(&bare), "s-1\t2026-01-31T09:00:00Z\t-\t-\t-\t-");
    }

    #[test]
    fn an_activity_line_cannot_be_split_or_forged_by_what_a_client_sent() {
        let entry = ActivityEntry {
            id: "1769850000000000#0000abcd".to_owned(),
            at_ms: 1_769_850_000_123,
            event: ActivityEvent::Login,
            outcome: ActivityOutcome::Failed,
            detail: Some("wrong_password".to_owned()),
            session: None,
            source_ip: Some("203.0.113.9\t\n2026-01-01T00:00:00Z".to_owned()),
            user_agent: Some("evil\n2026-01-01T00:00:00.000Z\tlogin\tsuccess\u{1b}[2J".to_owned()),
        };
        let line = activity_line(&entry);
        assert!(
            line.starts_with("2026-01-31T09:00:00.123Z\tlogin\tfailure\twrong_password\t"),
            "{line}"
        );
        assert!(!line.contains('\n') && !line.contains('\u{1b}'), "{line}");
        assert_eq!(line.split('\t').count(), 7, "{line}");
        assert!(line.ends_with("\tUnknown on Unknown\t-"), "{line}");
    }
}

//! What an answer shows of a session and of an activity entry: times in RFC 3339 (UTC), the
//! device a person recognises, never the user agent as stored (`auth_devices`: a product's
//! name and version digits), and a source address only when it reads as one.

use std::{
    net::IpAddr,
    time::{Duration, UNIX_EPOCH},
};

use auth_core::{activity::ActivityEntry, claims::AuthMethods, sessions::SessionInfo};
use auth_devices::Device;
use serde_json::{Value, json};

/// The last second RFC 3339's four-digit year can say (9999-12-31T23:59:59Z): a time past it,
/// which only a damaged record could hold, is shown as this.
const LAST_SHOWN_SECOND: u64 = 253_402_300_799;

/// `session` as its user sees it listed; `current` when it is the session of the token that
/// asked.
pub fn session(session: &SessionInfo, current: bool) -> Value {
    json!({
        "id": session.id,
        "started_at": rfc3339_seconds(session.started_at),
        "last_refreshed_at": session.refreshed_at.map(rfc3339_seconds),
        "ip_address": address(session.source_ip.as_deref()),
        "device": device(session.user_agent.as_deref()),
        "amr": session.methods.map(AuthMethods::values).unwrap_or_default(),
        "current": current,
    })
}

/// `entry` of a user's activity log.
pub fn entry(entry: &ActivityEntry) -> Value {
    let mut shown = json!({
        "id": entry.id,
        "event": entry.event.name(),
        "outcome": entry.outcome.name(),
        "at": rfc3339_millis(entry.at_ms),
        "ip_address": address(entry.source_ip.as_deref()),
        "device": device(entry.user_agent.as_deref()),
        "session_id": entry.session,
    });
    if let Some(detail) = &entry.detail {
        shown["detail"] = json!(detail);
    }
    shown
}

fn device(user_agent: Option<&str>) -> Value {
    let device = Device::of(user_agent);
    json!({"browser": device.browser, "os": device.os})
}

/// The source address, if it is one: API Gateway's `sourceIp` always is, and anything else a
/// record could hold is not shown.
fn address(source_ip: Option<&str>) -> Option<String> {
    source_ip
        .and_then(|ip| ip.parse::<IpAddr>().ok())
        .map(|ip| ip.to_string())
}

fn rfc3339_seconds(unix_secs: i64) -> String {
    let secs = u64::try_from(unix_secs).unwrap_or(0).min(LAST_SHOWN_SECOND);
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string()
}

fn rfc3339_millis(unix_millis: i64) -> String {
    let millis = u64::try_from(unix_millis)
        .unwrap_or(0)
        .min(LAST_SHOWN_SECOND * 1_000 + 999);
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(millis)).to_string()
}

#[cfg(test)]
mod tests {
    use auth_core::activity::{ActivityEvent, ActivityOutcome};

    use super::*;

    fn info() -> SessionInfo {
        SessionInfo {
            id: "00000000-0000-4000-8000-000000000001".to_owned(),
            started_at: 1_795_910_400,
            refreshed_at: None,
            source_ip: Some("203.0.113.9".to_owned()),
            user_agent: Some(
                "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0".to_owned(),
            ),
            methods: Some(AuthMethods::PasswordAndOtp),
        }
    }

    #[test]
    fn a_session_shows_its_times_address_device_and_methods_never_its_user_agent() {
        assert_eq!(
            session(&info(), true),
            json!({
                "id": "00000000-0000-4000-8000-000000000001",
                "started_at": "2026-11-29T00:00:00Z",
                "last_refreshed_at": null,
                "ip_address": "203.0.113.9",
                "device": {"browser": "Firefox 133", "os": "Linux"},
                "amr": ["pwd", "otp", "mfa"],
                "current": true,
            })
        );
        let refreshed = SessionInfo {
            refreshed_at: Some(1_795_910_465),
            source_ip: None,
            user_agent: None,
            methods: None,
            ..info()
        };
        let shown = session(&refreshed, false);
        assert_eq!(shown["last_refreshed_at"], "2026-11-29T00:01:05Z");
        assert_eq!(shown["ip_address"], Value::Null);
        assert_eq!(
            shown["device"],
            json!({"browser": "Unknown", "os": "Unknown"})
        );
        assert_eq!(shown["amr"], json!([]));
        assert_eq!(shown["current"], false);
    }

    #[test]
    fn an_entry_shows_its_time_to_the_millisecond_and_its_detail_only_when_it_has_one() {
        let mut logged = ActivityEntry {
            id: "1795910400123456#0a1b2c3d".to_owned(),
            at_ms: 1_795_910_400_123,
            event: ActivityEvent::Login,
            outcome: ActivityOutcome::Failed,
            detail: Some("wrong_password".to_owned()),
            session: None,
            source_ip: Some("2001:db8::1".to_owned()),
            user_agent: Some("curl/8.5.0".to_owned()),
        };
        assert_eq!(
            entry(&logged),
            json!({
                "id": "1795910400123456#0a1b2c3d",
                "event": "login",
                "outcome": "failure",
                "detail": "wrong_password",
                "at": "2026-11-29T00:00:00.123Z",
                "ip_address": "2001:db8::1",
                "device": {"browser": "curl 8.5", "os": "Unknown"},
                "session_id": null,
            })
        );
        logged.detail = None;
        logged.session = Some("00000000-0000-4000-8000-000000000001".to_owned());
        let shown = entry(&logged);
        assert!(shown.get("detail").is_none(), "{shown}");
        assert_eq!(shown["session_id"], "00000000-0000-4000-8000-000000000001");
    }

    #[test]
    fn what_a_damaged_record_holds_is_shown_within_bounds_or_not_at_all() {
        let damaged = SessionInfo {
            started_at: -5,
            refreshed_at: Some(i64::MAX),
            source_ip: Some("203.0.113.9<script>".to_owned()),
            ..info()
        };
        let shown = session(&damaged, false);
        assert_eq!(shown["started_at"], "1970-01-01T00:00:00Z");
        assert_eq!(shown["last_refreshed_at"], "9999-12-31T23:59:59Z");
        assert_eq!(shown["ip_address"], Value::Null);
        assert_eq!(rfc3339_millis(i64::MAX), "9999-12-31T23:59:59.999Z");
    }
}

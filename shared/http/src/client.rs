//! What the activity log and a session's record keep of where a request came from: API
//! Gateway's source address and the `User-Agent` header, bounded (`auth_core::sessions`).

use auth_core::activity::Activity;
use lambda_http::{Request, http::header::USER_AGENT};

use crate::ip_limit::source_ip;

/// The request's `User-Agent`, if it is text.
pub fn user_agent(request: &Request) -> Option<&str> {
    request
        .headers()
        .get(USER_AGENT)
        .and_then(|value| value.to_str().ok())
}

/// An activity of `request`'s client: its source address and user agent.
pub fn activity_of(request: &Request) -> Activity {
    Activity::default().from_client(source_ip(request).as_deref(), user_agent(request))
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_testkit::request;

    #[test]
    fn the_user_agent_is_kept_without_its_control_characters() {
        let request = request(
            "GET",
            "/sessions",
            &[(
                "user-agent",
                "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0\t",
            )],
            None,
        );
        let activity = activity_of(&request);
        assert_eq!(
            activity.user_agent.as_deref(),
            Some("Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0")
        );
    }
}

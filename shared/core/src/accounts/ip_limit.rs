//! Requests counted per route and source address, in fixed windows: API Gateway's HTTP APIs
//! cannot have AWS WAF in front, so the limits a sign-up or a recovery flood meets are here.
//! Each limited route has its variable (`SIGNUP_IP_LIMIT=10/1h`); unset or `0`, it is off.

use std::time::Duration;

use super::AccountRecords;
use crate::store::StoreError;

/// The routes a source address is counted at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitedRoute {
    Login,
    Signup,
    Verify,
    Recover,
    Resend,
    /// `/password` and `/password/reset`: one allowance for both.
    Password,
}

impl LimitedRoute {
    pub const ALL: [LimitedRoute; 6] = [
        LimitedRoute::Login,
        LimitedRoute::Signup,
        LimitedRoute::Verify,
        LimitedRoute::Recover,
        LimitedRoute::Resend,
        LimitedRoute::Password,
    ];

    pub fn name(self) -> &'static str {
        match self {
            LimitedRoute::Login => "login",
            LimitedRoute::Signup => "signup",
            LimitedRoute::Verify => "verify",
            LimitedRoute::Recover => "recover",
            LimitedRoute::Resend => "resend",
            LimitedRoute::Password => "password",
        }
    }

    /// The variable that sets the route's limit.
    pub fn variable(self) -> &'static str {
        match self {
            LimitedRoute::Login => "LOGIN_IP_LIMIT",
            LimitedRoute::Signup => "SIGNUP_IP_LIMIT",
            LimitedRoute::Verify => "VERIFY_IP_LIMIT",
            LimitedRoute::Recover => "RECOVER_IP_LIMIT",
            LimitedRoute::Resend => "RESEND_IP_LIMIT",
            LimitedRoute::Password => "PASSWORD_IP_LIMIT",
        }
    }
}

/// At most `max` requests from one address in each `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpLimit {
    pub max: u64,
    pub window: Duration,
}

/// `COUNT/WINDOW` (`10/1h`, `100/15m`, `5/60`), or `0` / `off` for none.
pub fn parse_limit(text: &str) -> Result<Option<IpLimit>, String> {
    let text = text.trim();
    let accepted = "expected COUNT/WINDOW, like `10/1h` or `100/15m`, or 0 to turn the limit off";
    if text == "0" || text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let (count, window) = text
        .split_once('/')
        .ok_or_else(|| format!("`{text}` is not valid; {accepted}"))?;
    let max = count
        .trim()
        .parse::<u64>()
        .map_err(|_| format!("`{count}` is not a whole number; {accepted}"))?;
    let window = crate::settings::parse_ttl(window).map_err(|problem| format!("its window: {problem}"))?;
    if max == 0 {
        return Ok(None);
    }
    Ok(Some(IpLimit { max, window }))
}

/// The limit of each route, as configured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpLimits {
    limits: Vec<(LimitedRoute, IpLimit)>,
}

impl IpLimits {
    pub fn new(limits: impl IntoIterator<Item = (LimitedRoute, IpLimit)>) -> Self {
        Self {
            limits: limits.into_iter().collect(),
        }
    }

    pub fn of(&self, route: LimitedRoute) -> Option<IpLimit> {
        self.limits
            .iter()
            .find(|(limited, _)| *limited == route)
            .map(|(_, limit)| *limit)
    }
}

/// A request over its route's limit: how long until the window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpThrottled {
    pub retry_after: Duration,
}

/// Counts a request of `source` at `route` under `limit` at `now` (seconds since the epoch):
/// `Ok(Err(_))` once the window holds more than `limit.max`. Windows are fixed (aligned to
/// multiples of their length), each counter a record that ends with its window.
pub async fn count(
    records: &dyn AccountRecords,
    route: LimitedRoute,
    limit: IpLimit,
    source: &str,
    now: i64,
) -> Result<Result<(), IpThrottled>, StoreError> {
    let window = i64::try_from(limit.window.as_secs()).unwrap_or(i64::MAX).max(1);
    let window_start = now - now.rem_euclid(window);
    let window_end = window_start.saturating_add(window);
    let key = format!("{}#{source}#{window_start}", route.name());
    let count = records.count_request(&key, window_end, now).await?;
    if count <= limit.max {
        return Ok(Ok(()));
    }
    Ok(Err(IpThrottled {
        retry_after: Duration::from_secs(u64::try_from(window_end - now).unwrap_or(1).max(1)),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_is_a_count_per_window_and_zero_turns_it_off() {
        assert_eq!(
            parse_limit("10/1h"),
            Ok(Some(IpLimit { max: 10, window: Duration::from_secs(3600) }))
        );
        assert_eq!(
            parse_limit(" 100 / 90 "),
            Ok(Some(IpLimit { max: 100, window: Duration::from_secs(90) }))
        );
        assert_eq!(parse_limit("0"), Ok(None));
        assert_eq!(parse_limit("off"), Ok(None));
        assert_eq!(parse_limit("0/1h"), Ok(None));
        for bad in ["10", "ten/1h", "10/", "10/0s", "-1/1h", "10/1x"] {
            let problem = parse_limit(bad).unwrap_err();
            assert!(problem.contains("10/1h") || problem.contains("window"), "{bad}: {problem}");
        }
    }

    #[test]
    fn every_route_has_its_own_variable() {
        let mut variables: Vec<_> = LimitedRoute::ALL.iter().map(|route| route.variable()).collect();
        variables.sort_unstable();
        variables.dedup();
        assert_eq!(variables.len(), LimitedRoute::ALL.len());
    }
}

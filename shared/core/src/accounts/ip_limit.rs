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
    /// `/login/mfa` and the second factor's own routes: one allowance for all.
    Mfa,
}

impl LimitedRoute {
    pub const ALL: [LimitedRoute; 7] = [
        LimitedRoute::Login,
        LimitedRoute::Signup,
        LimitedRoute::Verify,
        LimitedRoute::Recover,
        LimitedRoute::Resend,
        LimitedRoute::Password,
        LimitedRoute::Mfa,
    ];

    pub fn name(self) -> &'static str {
        match self {
            LimitedRoute::Login => "login",
            LimitedRoute::Signup => "signup",
            LimitedRoute::Verify => "verify",
            LimitedRoute::Recover => "recover",
            LimitedRoute::Resend => "resend",
            LimitedRoute::Password => "password",
            LimitedRoute::Mfa => "mfa",
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
            LimitedRoute::Mfa => "MFA_IP_LIMIT",
        }
    }
}

/// At most `max` requests from one address in each `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpLimit {
    pub max: u64,
    pub window: Duration,
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
    let window = i64::try_from(limit.window.as_secs())
        .unwrap_or(i64::MAX)
        .max(1);
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
    fn every_route_has_its_own_variable() {
        let mut variables: Vec<_> = LimitedRoute::ALL
            .iter()
            .map(|route| route.variable())
            .collect();
        variables.sort_unstable();
        variables.dedup();
        assert_eq!(variables.len(), LimitedRoute::ALL.len());
    }
}

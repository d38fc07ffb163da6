//! The activity log's variables: where it is kept, and for how long.

use std::time::Duration;

use super::{SettingsError, parse_ttl};

/// The DynamoDB table of the log. Unset, nothing is logged (the local server keeps the log in
/// memory).
pub const TABLE_VAR: &str = "ACTIVITY_TABLE";
pub const RETENTION_VAR: &str = "ACTIVITY_RETENTION";
/// How long an entry is kept: long enough to look back on a season's logins.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(90 * 86_400);
/// The shortest retention: an entry must outlive the sessions it concerns' refresh tokens.
const MIN_RETENTION: Duration = Duration::from_secs(86_400);
/// The longest: a log is not an archive (and DynamoDB's TTL is a number of seconds).
const MAX_RETENTION: Duration = Duration::from_secs(10 * 365 * 86_400);

/// Every variable this module reads.
pub const VARIABLES: [&str; 2] = [TABLE_VAR, RETENTION_VAR];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivitySettings {
    /// `ACTIVITY_TABLE`.
    pub table: Option<String>,
    /// `ACTIVITY_RETENTION`: each entry's life (default 90 days).
    pub retention: Duration,
}

impl Default for ActivitySettings {
    fn default() -> Self {
        Self {
            table: None,
            retention: DEFAULT_RETENTION,
        }
    }
}

impl ActivitySettings {
    pub fn read(read: &impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let retention = match read(RETENTION_VAR) {
            None => DEFAULT_RETENTION,
            Some(text) => parse_retention(&text).map_err(|problem| SettingsError {
                variable: RETENTION_VAR,
                problem,
            })?,
        };
        Ok(Self {
            table: read(TABLE_VAR),
            retention,
        })
    }
}

fn parse_retention(text: &str) -> Result<Duration, String> {
    let retention = parse_ttl(text)?;
    if !(MIN_RETENTION..=MAX_RETENTION).contains(&retention) {
        return Err(format!(
            "`{}` is outside 1 day to 10 years (`90d` is the default)",
            text.trim()
        ));
    }
    Ok(retention)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    }

    #[test]
    fn retention_is_ninety_days_unless_set_and_a_bad_value_names_the_variable() {
        assert_eq!(
            ActivitySettings::read(&read(&[])).unwrap(),
            ActivitySettings::default()
        );
        let set = ActivitySettings::read(&read(&[(TABLE_VAR, "activity"), (RETENTION_VAR, "30d")]))
            .unwrap();
        assert_eq!(set.table.as_deref(), Some("activity"));
        assert_eq!(set.retention, Duration::from_secs(30 * 86_400));
        for bad in ["1h", "11y", "soon"] {
            let error = ActivitySettings::read(&read(Box::leak(Box::new([(RETENTION_VAR, bad)]))))
                .unwrap_err();
            assert_eq!(error.variable, RETENTION_VAR, "{bad}");
        }
    }
}

//! What the self-service routes need configured: who may sign up (`SIGNUP`), where mail comes
//! from and its links lead (`MAIL_FROM`, `APP_URL`), how long a mailed token lives, how long
//! an answer that must not tell known addresses from unknown ones takes at least, and the
//! per-address request limits (`accounts::ip_limit`).

use std::time::Duration;

use super::{SettingsError, parse_ttl};
use crate::accounts::{
    email,
    ip_limit::{IpLimit, IpLimits, LimitedRoute},
};

pub const SIGNUP_VAR: &str = "SIGNUP";
pub const MAIL_FROM_VAR: &str = "MAIL_FROM";
pub const APP_URL_VAR: &str = "APP_URL";
pub const SIGNUP_TOKEN_TTL_VAR: &str = "SIGNUP_TOKEN_EXPIRES";
pub const RECOVERY_TOKEN_TTL_VAR: &str = "RECOVERY_TOKEN_EXPIRES";
pub const MIN_ANSWER_TIME_VAR: &str = "ACCOUNT_MIN_ANSWER_TIME";

pub const DEFAULT_SIGNUP_TOKEN_TTL: Duration = Duration::from_secs(24 * 60 * 60);
pub const DEFAULT_RECOVERY_TOKEN_TTL: Duration = Duration::from_secs(60 * 60);
/// A reset link is a password: it lives an hour at most (OWASP's forgot-password advice).
pub const MAX_RECOVERY_TOKEN_TTL: Duration = Duration::from_secs(60 * 60);
/// Longer than a sign-up's Argon2 hash, two store writes and an SES call take together, so
/// that a known address's answer (a mail sent) and an unknown one's (none) both take it.
pub const DEFAULT_MIN_ANSWER_TIME: Duration = Duration::from_millis(500);
/// The least time between two mails to one address.
pub const MAIL_INTERVAL: Duration = Duration::from_secs(60);

/// Who may make an account with `POST /signup`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SignupPolicy {
    /// Nobody: accounts are made by an operator (`users add`). The default, so that a
    /// deployment of before does not change.
    #[default]
    Off,
    /// Anyone with an address.
    Open,
    /// Addresses of these domains only (lower case): a company's own sign-up.
    Domains(Vec<String>),
}

impl SignupPolicy {
    /// Whether the normalised address `email` may sign up.
    pub fn allows(&self, email: &str) -> bool {
        match self {
            SignupPolicy::Off => false,
            SignupPolicy::Open => true,
            SignupPolicy::Domains(domains) => {
                let domain = email::domain_of(email);
                domains.iter().any(|allowed| allowed == domain)
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSettings {
    pub signup: SignupPolicy,
    /// The SES identity mail is sent from (an address or `Name <address>`).
    pub mail_from: Option<String>,
    /// The page a mail's link opens, with `?type=...&token=...` added.
    pub app_url: Option<String>,
    pub signup_token_ttl: Duration,
    pub recovery_token_ttl: Duration,
    pub min_answer_time: Duration,
    pub ip_limits: IpLimits,
}

impl Default for AccountSettings {
    fn default() -> Self {
        Self {
            signup: SignupPolicy::Off,
            mail_from: None,
            app_url: None,
            signup_token_ttl: DEFAULT_SIGNUP_TOKEN_TTL,
            recovery_token_ttl: DEFAULT_RECOVERY_TOKEN_TTL,
            min_answer_time: DEFAULT_MIN_ANSWER_TIME,
            ip_limits: IpLimits::default(),
        }
    }
}

fn parse_signup(text: &str) -> Result<SignupPolicy, String> {
    let text = text.trim();
    match text.to_ascii_lowercase().as_str() {
        "off" => return Ok(SignupPolicy::Off),
        "open" => return Ok(SignupPolicy::Open),
        _ => {}
    }
    let domains: Vec<String> = text
        .split(',')
        .map(|domain| domain.trim().trim_start_matches('@').to_ascii_lowercase())
        .filter(|domain| !domain.is_empty())
        .collect();
    let invalid = domains
        .iter()
        .find(|domain| email::normalise(&format!("a@{domain}")).is_err());
    match (domains.is_empty(), invalid) {
        (true, _) => Err(
            "expected `off`, `open`, or a comma-separated list of email domains like \
                          `example.com,example.org`"
                .to_owned(),
        ),
        (false, Some(domain)) => Err(format!(
            "`{domain}` is not an email domain; expected `off`, `open`, or domains like \
             `example.com,example.org`"
        )),
        (false, None) => Ok(SignupPolicy::Domains(domains)),
    }
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
    let window = parse_ttl(window).map_err(|problem| format!("its window: {problem}"))?;
    if max == 0 {
        return Ok(None);
    }
    Ok(Some(IpLimit { max, window }))
}

/// The page a mail's link opens: https (a token in a link over plain HTTP could be read on
/// the way), or http on this machine (`local-api`); no fragment, since the token goes in the
/// query.
fn check_page_url(url: &str) -> Result<(), String> {
    let (plain, rest) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
        (Some(rest), _) => (false, rest),
        (None, Some(rest)) => (true, rest),
        (None, None) => {
            return Err(format!(
                "`{url}` is not an https:// URL: the links in mail carry tokens"
            ));
        }
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if authority.is_empty() {
        return Err(format!("`{url}` has no host"));
    }
    // `http://localhost:x@evil.example` is evil.example's URL: no user info, ever.
    if authority.contains('@') {
        return Err(format!(
            "`{url}` has user info (`@`) before its host: give the page's URL alone"
        ));
    }
    let host = match authority.strip_prefix('[') {
        Some(ipv6) => ipv6
            .split(']')
            .next()
            .map(|inner| format!("[{inner}]"))
            .unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default().to_owned(),
    };
    if plain && !["127.0.0.1", "localhost", "[::1]"].contains(&host.as_str()) {
        return Err(format!(
            "`{url}` is not an https:// URL: the links in mail carry tokens (http:// only for \
             this machine: 127.0.0.1, localhost, [::1])"
        ));
    }
    if url.contains('#') || url.contains(char::is_whitespace) {
        return Err(format!(
            "`{url}` must have no fragment or spaces: the token is added to its query"
        ));
    }
    Ok(())
}

/// A duration of zero or more: `0` turns the wait off.
fn parse_wait(text: &str) -> Result<Duration, String> {
    if text.trim() == "0" {
        return Ok(Duration::ZERO);
    }
    let wait = humantime::parse_duration(text.trim()).map_err(|_| {
        format!(
            "`{}` is not a duration like `500ms` or `1s`; 0 turns it off",
            text.trim()
        )
    })?;
    if wait > Duration::from_secs(5) {
        return Err(format!(
            "`{}` is over 5 s: a request must answer within the function's 10 s",
            text.trim()
        ));
    }
    Ok(wait)
}

impl AccountSettings {
    pub(super) fn read(read: &impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let invalid = |variable: &'static str| move |problem| SettingsError { variable, problem };
        let ttl = |variable: &'static str, default: Duration| match read(variable) {
            None => Ok(default),
            Some(text) => parse_ttl(&text).map_err(invalid(variable)),
        };
        let recovery_token_ttl = ttl(RECOVERY_TOKEN_TTL_VAR, DEFAULT_RECOVERY_TOKEN_TTL)?;
        if recovery_token_ttl > MAX_RECOVERY_TOKEN_TTL {
            return Err(SettingsError {
                variable: RECOVERY_TOKEN_TTL_VAR,
                problem: "is over 1h: a reset link works like a password, so it must not live \
                          longer; set 1h or less"
                    .to_owned(),
            });
        }
        let app_url = read(APP_URL_VAR).map(|url| url.trim().to_owned());
        if let Some(url) = &app_url {
            check_page_url(url).map_err(invalid(APP_URL_VAR))?;
        }
        let mut limits = Vec::new();
        for route in LimitedRoute::ALL {
            if let Some(text) = read(route.variable())
                && let Some(limit) = parse_limit(&text).map_err(invalid(route.variable()))?
            {
                limits.push((route, limit));
            }
        }
        Ok(Self {
            signup: match read(SIGNUP_VAR) {
                None => SignupPolicy::Off,
                Some(text) => parse_signup(&text).map_err(invalid(SIGNUP_VAR))?,
            },
            mail_from: read(MAIL_FROM_VAR).map(|from| from.trim().to_owned()),
            app_url,
            signup_token_ttl: ttl(SIGNUP_TOKEN_TTL_VAR, DEFAULT_SIGNUP_TOKEN_TTL)?,
            recovery_token_ttl,
            min_answer_time: match read(MIN_ANSWER_TIME_VAR) {
                None => DEFAULT_MIN_ANSWER_TIME,
                Some(text) => parse_wait(&text).map_err(invalid(MIN_ANSWER_TIME_VAR))?,
            },
            ip_limits: IpLimits::new(limits),
        })
    }
}

/// The variables this module reads.
pub const VARIABLES: [&str; 13] = [
    SIGNUP_VAR,
    MAIL_FROM_VAR,
    APP_URL_VAR,
    SIGNUP_TOKEN_TTL_VAR,
    RECOVERY_TOKEN_TTL_VAR,
    MIN_ANSWER_TIME_VAR,
    "LOGIN_IP_LIMIT",
    "SIGNUP_IP_LIMIT",
    "VERIFY_IP_LIMIT",
    "RECOVER_IP_LIMIT",
    "RESEND_IP_LIMIT",
    "PASSWORD_IP_LIMIT",
    "MFA_IP_LIMIT",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_is_a_count_per_window_and_zero_turns_it_off() {
        assert_eq!(
            parse_limit("10/1h"),
            Ok(Some(IpLimit {
                max: 10,
                window: Duration::from_secs(3600)
            }))
        );
        assert_eq!(
            parse_limit(" 100 / 90 "),
            Ok(Some(IpLimit {
                max: 100,
                window: Duration::from_secs(90)
            }))
        );
        assert_eq!(parse_limit("0"), Ok(None));
        assert_eq!(parse_limit("off"), Ok(None));
        assert_eq!(parse_limit("0/1h"), Ok(None));
        for bad in ["10", "ten/1h", "10/", "10/0s", "-1/1h", "10/1x"] {
            let problem = parse_limit(bad).unwrap_err();
            assert!(
                problem.contains("10/1h") || problem.contains("window"),
                "{bad}: {problem}"
            );
        }
    }

    fn read(pairs: &[(&str, &str)]) -> Result<AccountSettings, SettingsError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        AccountSettings::read(&|name: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        })
    }

    #[test]
    fn by_default_nobody_signs_up_and_no_limit_is_on() {
        let settings = read(&[]).unwrap();
        assert_eq!(settings, AccountSettings::default());
        assert!(!settings.signup.allows("ann@example.com"));
        for route in LimitedRoute::ALL {
            assert_eq!(settings.ip_limits.of(route), None);
        }
    }

    #[test]
    fn signup_is_off_open_or_a_list_of_domains() {
        assert_eq!(
            read(&[(SIGNUP_VAR, "OPEN")]).unwrap().signup,
            SignupPolicy::Open
        );
        let domains = read(&[(SIGNUP_VAR, " Example.com, @corp.example ")])
            .unwrap()
            .signup;
        assert_eq!(
            domains,
            SignupPolicy::Domains(vec!["example.com".into(), "corp.example".into()])
        );
        assert!(domains.allows("ann@corp.example"));
        assert!(!domains.allows("ann@evil.example"));
        assert!(!domains.allows("ann@sub.corp.example"));
        for bad in ["yes", "example", ",", "a b.com"] {
            let error = read(&[(SIGNUP_VAR, bad)]).unwrap_err();
            assert_eq!(error.variable, SIGNUP_VAR);
            assert!(error.problem.contains("open"), "{bad}: {}", error.problem);
        }
    }

    #[test]
    fn a_reset_link_lives_an_hour_at_most() {
        let error = read(&[(RECOVERY_TOKEN_TTL_VAR, "2h")]).unwrap_err();
        assert_eq!(error.variable, RECOVERY_TOKEN_TTL_VAR);
        assert_eq!(
            read(&[(RECOVERY_TOKEN_TTL_VAR, "20m")])
                .unwrap()
                .recovery_token_ttl,
            Duration::from_secs(1200)
        );
    }

    #[test]
    fn each_route_has_its_limit_and_zero_turns_one_off() {
        let settings = read(&[("SIGNUP_IP_LIMIT", "10/1h"), ("LOGIN_IP_LIMIT", "0")]).unwrap();
        assert_eq!(
            settings.ip_limits.of(LimitedRoute::Signup),
            Some(IpLimit {
                max: 10,
                window: Duration::from_secs(3600)
            })
        );
        assert_eq!(settings.ip_limits.of(LimitedRoute::Login), None);
        let error = read(&[("RECOVER_IP_LIMIT", "lots")]).unwrap_err();
        assert_eq!(error.variable, "RECOVER_IP_LIMIT");
        for route in LimitedRoute::ALL {
            assert!(VARIABLES.contains(&route.variable()));
        }
    }

    #[test]
    fn the_page_url_is_https_but_on_this_machine_and_the_answer_time_is_bounded() {
        assert!(read(&[(APP_URL_VAR, "https://app.example/welcome")]).is_ok());
        assert!(read(&[(APP_URL_VAR, "http://127.0.0.1:3000/demo")]).is_ok());
        assert_eq!(
            read(&[(APP_URL_VAR, "http://app.example")])
                .unwrap_err()
                .variable,
            APP_URL_VAR
        );
        for bad in [
            "http://localhost:x@evil.example/",
            "https://user@app.example/",
            "http://localhost.evil.example/",
            "http://127.0.0.1.evil.example",
            "https:///path",
            "ftp://app.example",
        ] {
            assert_eq!(
                read(&[(APP_URL_VAR, bad)]).unwrap_err().variable,
                APP_URL_VAR,
                "{bad}"
            );
        }
        assert!(read(&[(APP_URL_VAR, "http://[::1]:8001/")]).is_ok());
        assert!(read(&[(APP_URL_VAR, "http://localhost:8001/?lang=fr")]).is_ok());
        assert_eq!(
            read(&[(MIN_ANSWER_TIME_VAR, "0")]).unwrap().min_answer_time,
            Duration::ZERO
        );
        assert_eq!(
            read(&[(MIN_ANSWER_TIME_VAR, "250ms")])
                .unwrap()
                .min_answer_time,
            Duration::from_millis(250)
        );
        assert_eq!(
            read(&[(MIN_ANSWER_TIME_VAR, "6s")]).unwrap_err().variable,
            MIN_ANSWER_TIME_VAR
        );
    }
}

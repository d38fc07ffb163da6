//! What browser clients need configured: where tokens travel (`JWT_TOKEN_LOCATION`), the
//! attributes of the cookies that carry them, and which other origins may call the API
//! (`CORS_ALLOWED_ORIGINS`). The names and defaults are flask-jwt-extended's, except where a
//! safer default costs a client of the seed contract nothing (`Secure`, `SameSite=Lax`, the
//! refresh cookie's path).

use super::{SettingsError, parse_switch};

pub const TOKEN_LOCATION_VAR: &str = "JWT_TOKEN_LOCATION";
pub const COOKIE_SECURE_VAR: &str = "JWT_COOKIE_SECURE";
pub const COOKIE_SAMESITE_VAR: &str = "JWT_COOKIE_SAMESITE";
pub const COOKIE_DOMAIN_VAR: &str = "JWT_COOKIE_DOMAIN";
pub const REFRESH_COOKIE_PATH_VAR: &str = "JWT_REFRESH_COOKIE_PATH";
pub const COOKIE_CSRF_PROTECT_VAR: &str = "JWT_COOKIE_CSRF_PROTECT";
pub const CORS_ALLOWED_ORIGINS_VAR: &str = "CORS_ALLOWED_ORIGINS";

/// What a page of an allowed origin may send and read, the same on API Gateway (the template's
/// `CorsConfiguration`, checked against these by a test) and on `local-api`.
/// DELETE for `DELETE /mfa/totp`, the one route of that method.
pub const CORS_ALLOWED_METHODS: [&str; 3] = ["GET", "POST", "DELETE"];
pub const CORS_ALLOWED_HEADERS: [&str; 4] = [
    "authorization",
    "content-type",
    "x-csrf-token",
    "login-proof",
];
/// A throttled or unavailable answer says when to try again; a page should be able to read it.
pub const CORS_EXPOSED_HEADERS: [&str; 3] = ["retry-after", "www-authenticate", "login-proof"];
/// How long a browser may reuse a preflight's answer: a narrowed origin list reaches every
/// browser within ten minutes.
pub const CORS_MAX_AGE_SECS: u64 = 600;

/// Where a request's token is looked for, and where issued tokens are put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenLocation {
    /// `Authorization: Bearer`, and tokens in the JSON body of login and refresh.
    Headers,
    /// HttpOnly cookies, with CSRF double submit.
    Cookies,
}

impl TokenLocation {
    /// flask-jwt-extended's name, as `JWT_TOKEN_LOCATION` and its error messages say it.
    pub fn name(self) -> &'static str {
        match self {
            TokenLocation::Headers => "headers",
            TokenLocation::Cookies => "cookies",
        }
    }
}

/// `JWT_TOKEN_LOCATION`: one or both locations, in the order a request is searched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenLocations(Vec<TokenLocation>);

impl Default for TokenLocations {
    /// Headers only: the seed contract.
    fn default() -> Self {
        Self(vec![TokenLocation::Headers])
    }
}

impl TokenLocations {
    pub fn new(locations: Vec<TokenLocation>) -> Option<Self> {
        let distinct = locations
            .iter()
            .enumerate()
            .all(|(index, location)| !locations[..index].contains(location));
        (!locations.is_empty() && distinct).then_some(Self(locations))
    }

    pub fn iter(&self) -> impl Iterator<Item = TokenLocation> + '_ {
        self.0.iter().copied()
    }

    pub fn has(&self, location: TokenLocation) -> bool {
        self.0.contains(&location)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn parse(text: &str) -> Result<Self, String> {
        let accepted = "expected `headers`, `cookies` or both, comma-separated in the order to \
                        look for a token (`headers,cookies`)";
        let locations = text
            .split(',')
            .map(|name| match name.trim() {
                "headers" => Ok(TokenLocation::Headers),
                "cookies" => Ok(TokenLocation::Cookies),
                other => Err(format!("`{other}` is not a token location; {accepted}")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(locations).ok_or_else(|| format!("`{text}` names a location twice; {accepted}"))
    }
}

/// The `SameSite` attribute of every cookie this API sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    Strict,
    Lax,
    None,
}

impl SameSite {
    pub fn name(self) -> &'static str {
        match self {
            SameSite::Strict => "Strict",
            SameSite::Lax => "Lax",
            SameSite::None => "None",
        }
    }
}

/// How the token cookies are set, and whether their requests must prove they come from a page
/// that can read the CSRF cookies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookiePolicy {
    /// `Secure`: sent over HTTPS only. Browsers count `http://localhost` as secure.
    pub secure: bool,
    pub same_site: SameSite,
    /// `Domain` of the CSRF cookies, for a page on a sibling host (`app.example.com` for an API
    /// at `api.example.com` with `example.com`) to read them; unset, they are the API host's
    /// only. The token cookies are always the API host's only.
    pub domain: Option<String>,
    /// The refresh cookie's `Path`; unset, `/refresh` under the path the API is reached at, so
    /// the long-lived token goes to the one route that takes it.
    pub refresh_path: Option<String>,
    /// CSRF double submit: a state-changing request with a cookie token must send the token's
    /// `csrf` claim in `X-CSRF-TOKEN`, which only a page that can read the CSRF cookie can.
    pub csrf_protect: bool,
}

impl Default for CookiePolicy {
    fn default() -> Self {
        Self {
            secure: true,
            same_site: SameSite::Lax,
            domain: None,
            refresh_path: None,
            csrf_protect: true,
        }
    }
}

/// Everything in this module, read from the environment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BrowserSettings {
    pub token_locations: TokenLocations,
    pub cookies: CookiePolicy,
    /// Origins whose pages may call the API with credentials. API Gateway applies them on AWS
    /// (the template's `CorsConfiguration`); `local-api` applies them itself. Empty: no CORS.
    pub cors_allowed_origins: Vec<String>,
}

impl BrowserSettings {
    /// Reads the variables through `read`, which treats an empty value as unset.
    pub(super) fn read(read: &impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let invalid = |variable: &'static str| move |problem| SettingsError { variable, problem };
        let switch = |variable: &'static str, default: bool| match read(variable) {
            None => Ok(default),
            Some(text) => parse_switch(&text).map_err(invalid(variable)),
        };
        let token_locations = match read(TOKEN_LOCATION_VAR) {
            None => TokenLocations::default(),
            Some(text) => TokenLocations::parse(&text).map_err(invalid(TOKEN_LOCATION_VAR))?,
        };
        let secure = switch(COOKIE_SECURE_VAR, true)?;
        // Any case, as Werkzeug (and so flask-jwt-extended) takes it.
        let same_site = match read(COOKIE_SAMESITE_VAR)
            .map(|text| text.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("lax") => SameSite::Lax,
            Some("strict") => SameSite::Strict,
            Some("none") if secure => SameSite::None,
            Some("none") => {
                return Err(SettingsError {
                    variable: COOKIE_SAMESITE_VAR,
                    problem: format!(
                        "`None` needs {COOKIE_SECURE_VAR}=true: browsers refuse a SameSite=None \
                         cookie that is not Secure"
                    ),
                });
            }
            Some(other) => {
                return Err(SettingsError {
                    variable: COOKIE_SAMESITE_VAR,
                    problem: format!("`{other}` is not one of Lax, Strict, None"),
                });
            }
        };
        let domain = read(COOKIE_DOMAIN_VAR)
            .map(|domain| check_cookie_domain(domain.trim()).map(str::to_owned))
            .transpose()
            .map_err(invalid(COOKIE_DOMAIN_VAR))?;
        let refresh_path = read(REFRESH_COOKIE_PATH_VAR)
            .map(|path| check_cookie_path(path.trim()).map(str::to_owned))
            .transpose()
            .map_err(invalid(REFRESH_COOKIE_PATH_VAR))?;
        let cors_allowed_origins = match read(CORS_ALLOWED_ORIGINS_VAR) {
            None => Vec::new(),
            Some(text) => parse_origins(&text).map_err(invalid(CORS_ALLOWED_ORIGINS_VAR))?,
        };
        let csrf_protect = switch(COOKIE_CSRF_PROTECT_VAR, true)?;
        // SameSite=None sends the cookies with any site's requests: CSRF double submit is then
        // the only thing between another site and the user's session.
        if token_locations.has(TokenLocation::Cookies)
            && same_site == SameSite::None
            && !csrf_protect
        {
            return Err(SettingsError {
                variable: COOKIE_CSRF_PROTECT_VAR,
                problem: format!(
                    "`false` with {COOKIE_SAMESITE_VAR}=None leaves cookie mode open to \
                     cross-site request forgery: keep it true, or use SameSite Lax or Strict"
                ),
            });
        }
        Ok(Self {
            token_locations,
            cookies: CookiePolicy {
                secure,
                same_site,
                domain,
                refresh_path,
                csrf_protect,
            },
            cors_allowed_origins,
        })
    }

    /// Whether tokens travel in cookies (alone or beside headers).
    pub fn uses_cookies(&self) -> bool {
        self.token_locations.has(TokenLocation::Cookies)
    }

    /// Whether issued tokens carry a `csrf` claim: in cookie mode with CSRF protection.
    pub fn tokens_carry_csrf(&self) -> bool {
        self.uses_cookies() && self.cookies.csrf_protect
    }
}

/// A host name for `Domain`: two labels at least (a browser refuses a cookie for a top-level
/// domain, and the login would leave no session), each of letters, digits and inner hyphens; a
/// leading dot allowed (browsers ignore it); nothing a header could be split at.
fn check_cookie_domain(domain: &str) -> Result<&str, String> {
    let name = domain.strip_prefix('.').unwrap_or(domain);
    let labels: Vec<&str> = name.split('.').collect();
    let valid = name.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
        });
    if valid {
        Ok(domain)
    } else {
        Err(format!(
            "`{domain}` is not a domain of two labels or more (`example.com`); no scheme, \
             port or path"
        ))
    }
}

/// A cookie `Path`: absolute, in the characters a URL path has, nothing that ends the
/// attribute (`;`) or the header.
fn check_cookie_path(path: &str) -> Result<&str, String> {
    let valid = path.starts_with('/')
        && path.len() <= 200
        && path.bytes().all(|byte| {
            byte.is_ascii_alphanumeric() || matches!(byte, b'/' | b'-' | b'_' | b'.' | b'~' | b'$')
        });
    if valid {
        Ok(path)
    } else {
        Err(format!(
            "`{path}` is not an absolute path of letters, digits and `/-_.~$` (`/refresh`)"
        ))
    }
}

/// Comma-separated origins (`scheme://host[:port]`), each exactly as a browser sends it in
/// `Origin`. `*` is refused: these requests carry credentials, and the CORS standard forbids a
/// wildcard for them.
fn parse_origins(text: &str) -> Result<Vec<String>, String> {
    let mut origins: Vec<String> = Vec::new();
    for origin in text
        .split(',')
        .map(str::trim)
        .filter(|origin| !origin.is_empty())
    {
        if origin == "*" {
            return Err(
                "`*` is not allowed: requests with cookies need each origin named".to_owned(),
            );
        }
        let rest = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"))
            .ok_or_else(|| format!("`{origin}` is not an http:// or https:// origin"))?;
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (rest, None),
        };
        let host_ok = !host.is_empty()
            && host
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-'));
        // A browser never sends the scheme's own port, nor an empty one: such an origin would
        // match nothing.
        let default_port = if origin.starts_with("https://") {
            443
        } else {
            80
        };
        let port_ok = port.is_none_or(|port| {
            port.bytes().all(|byte| byte.is_ascii_digit())
                && port
                    .parse::<u16>()
                    .is_ok_and(|port| port > 0 && port != default_port)
        });
        if !host_ok || !port_ok || origin != origin.to_ascii_lowercase() {
            return Err(format!(
                "`{origin}` is not an origin as a browser sends it: lowercase \
                 scheme://host[:port] (no default port), no path or trailing slash"
            ));
        }
        if !origins.iter().any(|known| known == origin) {
            origins.push(origin.to_owned());
        }
    }
    Ok(origins)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_from(pairs: &[(&str, &str)]) -> Result<BrowserSettings, SettingsError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        BrowserSettings::read(&|name: &str| {
            pairs
                .iter()
                .find(|(key, value)| key == name && !value.is_empty())
                .map(|(_, value)| value.clone())
        })
    }

    #[test]
    fn defaults_are_headers_only_and_safe_cookies_and_no_cors() {
        let settings = read_from(&[]).unwrap();
        assert_eq!(settings, BrowserSettings::default());
        assert_eq!(
            settings.token_locations.iter().collect::<Vec<_>>(),
            [TokenLocation::Headers]
        );
        assert!(!settings.uses_cookies() && !settings.tokens_carry_csrf());
        let cookies = settings.cookies;
        assert!(cookies.secure && cookies.csrf_protect);
        assert_eq!(cookies.same_site, SameSite::Lax);
        assert!(settings.cors_allowed_origins.is_empty());
    }

    #[test]
    fn token_locations_keep_their_order() {
        for (text, expected) in [
            ("cookies", vec![TokenLocation::Cookies]),
            (
                "headers, cookies",
                vec![TokenLocation::Headers, TokenLocation::Cookies],
            ),
            (
                "cookies,headers",
                vec![TokenLocation::Cookies, TokenLocation::Headers],
            ),
        ] {
            let settings = read_from(&[(TOKEN_LOCATION_VAR, text)]).unwrap();
            assert_eq!(
                settings.token_locations.iter().collect::<Vec<_>>(),
                expected,
                "{text}"
            );
            assert!(settings.uses_cookies() == expected.contains(&TokenLocation::Cookies));
        }
    }

    #[test]
    fn unknown_or_repeated_locations_name_the_variable() {
        for text in [
            "query_string",
            "headers,json",
            "cookies,cookies",
            "headers,",
        ] {
            let error = read_from(&[(TOKEN_LOCATION_VAR, text)]).unwrap_err();
            assert_eq!(error.variable, TOKEN_LOCATION_VAR, "{text}");
        }
    }

    #[test]
    fn csrf_claims_only_in_cookie_mode_with_protection_on() {
        let with = |protect: &str| {
            read_from(&[
                (TOKEN_LOCATION_VAR, "cookies"),
                (COOKIE_CSRF_PROTECT_VAR, protect),
            ])
            .unwrap()
        };
        assert!(with("true").tokens_carry_csrf());
        assert!(!with("false").tokens_carry_csrf());
        let headers = read_from(&[(COOKIE_CSRF_PROTECT_VAR, "true")]).unwrap();
        assert!(!headers.tokens_carry_csrf());
    }

    #[test]
    fn cookie_attributes_are_read_and_checked() {
        let settings = read_from(&[
            (COOKIE_SECURE_VAR, "false"),
            (COOKIE_SAMESITE_VAR, "Strict"),
            (COOKIE_DOMAIN_VAR, ".example.com"),
            (REFRESH_COOKIE_PATH_VAR, "/auth/refresh"),
        ])
        .unwrap();
        assert_eq!(
            settings.cookies,
            CookiePolicy {
                secure: false,
                same_site: SameSite::Strict,
                domain: Some(".example.com".to_owned()),
                refresh_path: Some("/auth/refresh".to_owned()),
                csrf_protect: true,
            }
        );
        for (variable, value) in [
            (COOKIE_SECURE_VAR, "yes"),
            (COOKIE_SAMESITE_VAR, "lax-ish"),
            (COOKIE_DOMAIN_VAR, "https://example.com"),
            (COOKIE_DOMAIN_VAR, "example.com; HttpOnly"),
            (COOKIE_DOMAIN_VAR, "com"),
            (COOKIE_DOMAIN_VAR, "example..com"),
            (COOKIE_DOMAIN_VAR, "-a.example.com"),
            (COOKIE_DOMAIN_VAR, "a-.example.com"),
            (REFRESH_COOKIE_PATH_VAR, "refresh"),
            (REFRESH_COOKIE_PATH_VAR, "/refresh; Domain=evil.example"),
            (COOKIE_CSRF_PROTECT_VAR, "off"),
        ] {
            let error = read_from(&[(variable, value)]).unwrap_err();
            assert_eq!(error.variable, variable, "{value}");
        }
    }

    #[test]
    fn samesite_is_read_in_any_case_as_werkzeug_reads_it() {
        for (text, same_site) in [
            ("lax", SameSite::Lax),
            ("STRICT", SameSite::Strict),
            ("none", SameSite::None),
        ] {
            let settings = read_from(&[(COOKIE_SAMESITE_VAR, text)]).unwrap();
            assert_eq!(settings.cookies.same_site, same_site, "{text}");
        }
    }

    #[test]
    fn cookies_sent_to_every_site_must_keep_their_csrf_protection() {
        let error = read_from(&[
            (TOKEN_LOCATION_VAR, "cookies"),
            (COOKIE_SAMESITE_VAR, "None"),
            (COOKIE_CSRF_PROTECT_VAR, "false"),
        ])
        .unwrap_err();
        assert_eq!(error.variable, COOKIE_CSRF_PROTECT_VAR);
        // Lax keeps other sites' requests from carrying the cookies; so does header mode.
        for (location, same_site) in [("cookies", "Lax"), ("headers", "None")] {
            assert!(
                read_from(&[
                    (TOKEN_LOCATION_VAR, location),
                    (COOKIE_SAMESITE_VAR, same_site),
                    (COOKIE_CSRF_PROTECT_VAR, "false"),
                ])
                .is_ok(),
                "{location} {same_site}"
            );
        }
    }

    #[test]
    fn samesite_none_needs_secure_cookies() {
        assert_eq!(
            read_from(&[(COOKIE_SAMESITE_VAR, "None")])
                .unwrap()
                .cookies
                .same_site,
            SameSite::None
        );
        let error =
            read_from(&[(COOKIE_SAMESITE_VAR, "None"), (COOKIE_SECURE_VAR, "false")]).unwrap_err();
        assert_eq!(error.variable, COOKIE_SAMESITE_VAR);
    }

    #[test]
    fn cors_origins_are_exact_origins_and_never_a_wildcard() {
        let settings = read_from(&[(
            CORS_ALLOWED_ORIGINS_VAR,
            "http://localhost:8001, https://app.example.com,http://localhost:8001",
        )])
        .unwrap();
        assert_eq!(
            settings.cors_allowed_origins,
            ["http://localhost:8001", "https://app.example.com"]
        );
        let ported = read_from(&[(CORS_ALLOWED_ORIGINS_VAR, "https://app.example.com:8443")]);
        assert_eq!(
            ported.unwrap().cors_allowed_origins,
            ["https://app.example.com:8443"]
        );
        for text in [
            "*",
            "app.example.com",
            "https://app.example.com/",
            "https://app.example.com/path",
            "https://APP.example.com",
            "https://app.example.com:0",
            "https://app.example.com:",
            "https://app.example.com:443",
            "http://app.example.com:80",
            "http://localhost:+80",
            "ftp://app.example.com",
        ] {
            let error = read_from(&[(CORS_ALLOWED_ORIGINS_VAR, text)]).unwrap_err();
            assert_eq!(error.variable, CORS_ALLOWED_ORIGINS_VAR, "{text}");
        }
    }
}

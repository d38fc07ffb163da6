//! A user agent as a person recognises it: the browser (or tool) with its version, and the
//! operating system: `Firefox 133` on `Linux`, `Safari 17` on `iOS`, `curl 8.5`. What the
//! sessions a user lists and the activity they read show of the `User-Agent` header, which is
//! stored as the client sent it (bounded) and parsed only where it is shown.
//!
//! Nothing of the header reaches the answer but the name of a product this crate knows (its
//! own words) and that product's version digits: a user agent is whatever a client chose to
//! send, and an attacker's (markup, a line break, a fake entry) must never show up in a page
//! that lists it. Every field is made of `[A-Za-z0-9 ._-]` alone.
//!
//! Hand-written, not a crate: the user-agent parsers on crates.io are either the uap family,
//! which load a data set of about a thousand regular expressions at start (hundreds of
//! milliseconds of a cold start, and the data in the binary), or woothee, self-contained but
//! without a release since 2021, which knows neither `python-requests` nor curl's version and
//! costs a binary 1.3 MB (its regex engine and data set: measured with the release profile),
//! a fifth of a function's 6 MB budget. What a person needs to recognise a device is the
//! product and the system's family: a short, ordered table of product tokens.

/// The part of a user agent read: a browser's is under 300 bytes, and the store keeps 512.
const MAX_READ_BYTES: usize = 1024;
/// The most digits of one version number shown: no product's version is longer; a longer one
/// is no version, and is not shown.
const MAX_VERSION_DIGITS: usize = 6;

/// What a part of a device that cannot be told is shown as.
pub const UNKNOWN: &str = "Unknown";

/// A device as a person recognises it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// The browser or tool, with its version when it has one: `Chrome 131`, `curl 8.5`, or
    /// `Unknown`.
    pub browser: String,
    /// The operating system's family: `Windows`, `macOS`, `iOS`, `Android`, `Linux`,
    /// `ChromeOS`, or `Unknown`.
    pub os: String,
}

impl Device {
    /// The device of `user_agent` (none: `Unknown` and `Unknown`).
    pub fn of(user_agent: Option<&str>) -> Self {
        let agent = user_agent.map(bounded).unwrap_or_default();
        Self {
            browser: browser_of(agent).unwrap_or_else(|| UNKNOWN.to_owned()),
            os: os_of(agent).unwrap_or(UNKNOWN).to_owned(),
        }
    }
}

/// How much of a product's version is shown: a browser's major version is what people know
/// it by (`Chrome 131`); a tool's minor version tells one install from another (`curl 8.5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Digits {
    Major,
    MajorMinor,
}

/// A product, found by any of its `tokens` (the `name` of a `name/version` of the header).
struct Product {
    tokens: &'static [&'static str],
    name: &'static str,
    digits: Digits,
    /// The token whose version is the product's, when it is not its own: Safari says its
    /// version in `Version/17.5`, its own token being WebKit's build.
    version_from: Option<&'static str>,
}

const fn product(tokens: &'static [&'static str], name: &'static str, digits: Digits) -> Product {
    Product {
        tokens,
        name,
        digits,
        version_from: None,
    }
}

/// The products known, the most specific first: a browser built on Chromium names Chrome and
/// Safari too, Chrome names Safari, and the first found is the one meant.
const PRODUCTS: &[Product] = &[
    product(&["Edg", "EdgA", "EdgiOS", "Edge"], "Edge", Digits::Major),
    product(&["OPR", "OPiOS", "OPT"], "Opera", Digits::Major),
    product(&["SamsungBrowser"], "Samsung Internet", Digits::Major),
    product(&["Vivaldi"], "Vivaldi", Digits::Major),
    product(&["YaBrowser"], "Yandex Browser", Digits::Major),
    product(&["Brave"], "Brave", Digits::Major),
    product(&["Firefox", "FxiOS"], "Firefox", Digits::Major),
    product(&["HeadlessChrome"], "Headless Chrome", Digits::Major),
    product(&["Chromium"], "Chromium", Digits::Major),
    product(&["Chrome", "CriOS"], "Chrome", Digits::Major),
    Product {
        tokens: &["Safari"],
        name: "Safari",
        digits: Digits::Major,
        version_from: Some("Version"),
    },
    product(&["curl"], "curl", Digits::MajorMinor),
    product(&["Wget"], "Wget", Digits::MajorMinor),
    product(&["python-requests"], "Python requests", Digits::MajorMinor),
    product(&["python-httpx"], "Python httpx", Digits::MajorMinor),
    product(&["aiohttp"], "Python aiohttp", Digits::MajorMinor),
    product(&["Python-urllib"], "Python urllib", Digits::MajorMinor),
    product(&["Go-http-client"], "Go HTTP client", Digits::MajorMinor),
    product(
        &["Java-http-client"],
        "Java HTTP client",
        Digits::MajorMinor,
    ),
    product(&["okhttp"], "OkHttp", Digits::MajorMinor),
    product(&["axios"], "axios", Digits::MajorMinor),
    product(&["PostmanRuntime"], "Postman", Digits::MajorMinor),
    product(&["insomnia"], "Insomnia", Digits::MajorMinor),
    product(&["HTTPie"], "HTTPie", Digits::MajorMinor),
];

/// Operating systems, the most specific first: an iPhone's header says `like Mac OS X`, and
/// Android's and ChromeOS's say `Linux`. Each is found by a word of the header.
const SYSTEMS: &[(&[&str], &str)] = &[
    (&["iPhone", "iPad", "iPod", "iOS", "iPadOS"], "iOS"),
    (&["Android"], "Android"),
    (&["CrOS"], "ChromeOS"),
    (&["Windows", "Win64", "Win32", "WinNT"], "Windows"),
    (&["Macintosh", "macOS"], "macOS"),
    (&["Linux", "Ubuntu", "Fedora", "Debian"], "Linux"),
];

/// The first `MAX_READ_BYTES` of `agent`, cut on a character boundary.
fn bounded(agent: &str) -> &str {
    if agent.len() <= MAX_READ_BYTES {
        return agent;
    }
    let mut end = MAX_READ_BYTES;
    while !agent.is_char_boundary(end) {
        end -= 1;
    }
    &agent[..end]
}

/// The `name/version` products of the header, in order (a comment's words come as names
/// without a version).
fn tokens(agent: &str) -> impl Iterator<Item = (&str, &str)> {
    agent
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ';' | ','))
        .filter(|token| !token.is_empty())
        .map(|token| token.split_once('/').unwrap_or((token, "")))
}

fn browser_of(agent: &str) -> Option<String> {
    let (product, own_version) = PRODUCTS.iter().find_map(|product| {
        tokens(agent)
            .find(|(name, _)| product.tokens.iter().any(|t| t.eq_ignore_ascii_case(name)))
            .map(|(_, version)| (product, version))
    })?;
    let version = match product.version_from {
        Some(from) => tokens(agent)
            .find(|(name, _)| name.eq_ignore_ascii_case(from))
            .map(|(_, version)| version)
            .unwrap_or_default(),
        None => own_version,
    };
    Some(match shown_version(version, product.digits) {
        Some(version) => format!("{} {version}", product.name),
        None => product.name.to_owned(),
    })
}

/// The digits of `version` a person is shown: `131.0.6778.85` is `131` (or `131.0`), and
/// anything but digits ends it. None when it does not start with a digit, or a number is
/// longer than any version's.
fn shown_version(version: &str, digits: Digits) -> Option<String> {
    let wanted = match digits {
        Digits::Major => 1,
        Digits::MajorMinor => 2,
    };
    let mut parts = Vec::with_capacity(wanted);
    for part in version.split('.').take(wanted) {
        let number: &str = &part[..part.bytes().take_while(u8::is_ascii_digit).count()];
        if number.is_empty() || number.len() > MAX_VERSION_DIGITS {
            break;
        }
        parts.push(number);
        // `8.5.0-beta`, `17_5`: digits end at the first other character.
        if number.len() != part.len() {
            break;
        }
    }
    (!parts.is_empty()).then(|| parts.join("."))
}

fn os_of(agent: &str) -> Option<&'static str> {
    let words = || {
        agent
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|word| !word.is_empty())
    };
    SYSTEMS.iter().find_map(|(names, system)| {
        words()
            .any(|word| names.iter().any(|name| name.eq_ignore_ascii_case(word)))
            .then_some(*system)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(agent: &str) -> (String, String) {
        let device = Device::of(Some(agent));
        (device.browser, device.os)
    }

    fn is_shown_safely(text: &str) -> bool {
        !text.is_empty()
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '.' | '_' | '-'))
    }

    #[test]
    fn the_browsers_people_use_are_named_with_their_major_version() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
                "Firefox 133",
                "Linux",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/131.0.0.0 Safari/537.36",
                "Chrome 131",
                "Windows",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86",
                "Edge 131",
                "Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, \
                 like Gecko) Version/17.6 Safari/605.1.15",
                "Safari 17",
                "macOS",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
                 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
                "Safari 17",
                "iOS",
            ),
            (
                "Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like \
                 Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
                "Chrome 131",
                "iOS",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 \
                 (KHTML, like Gecko) FxiOS/133.0 Mobile/15E148 Safari/605.1.15",
                "Firefox 133",
                "iOS",
            ),
            (
                "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/131.0.0.0 Mobile Safari/537.36",
                "Chrome 131",
                "Android",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like \
                 Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
                "Samsung Internet 26",
                "Android",
            ),
            (
                "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
                "Firefox 133",
                "Android",
            ),
            (
                "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/131.0.0.0 Safari/537.36",
                "Chrome 131",
                "ChromeOS",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0",
                "Opera 115",
                "Windows",
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 HeadlessChrome/131.0.6778.85 Safari/537.36",
                "Headless Chrome 131",
                "Linux",
            ),
            (
                "Mozilla/5.0 (X11; Ubuntu; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chromium/120.0.0.0 Chrome/120.0.0.0 Safari/537.36",
                "Chromium 120",
                "Linux",
            ),
        ];
        for (agent, browser, os) in cases {
            assert_eq!(
                device(agent),
                (browser.to_owned(), os.to_owned()),
                "{agent}"
            );
        }
    }

    #[test]
    fn tools_are_named_with_their_major_and_minor_version() {
        let cases = [
            ("curl/8.5.0", "curl 8.5"),
            ("python-requests/2.32.3", "Python requests 2.32"),
            ("Python/3.12 aiohttp/3.10.5", "Python aiohttp 3.10"),
            ("Python-urllib/3.12", "Python urllib 3.12"),
            ("Wget/1.21.4", "Wget 1.21"),
            ("Go-http-client/2.0", "Go HTTP client 2.0"),
            ("PostmanRuntime/7.42.0", "Postman 7.42"),
            ("okhttp/4.12.0", "OkHttp 4.12"),
            ("HTTPie/3.2.4", "HTTPie 3.2"),
        ];
        for (agent, browser) in cases {
            assert_eq!(
                device(agent),
                (browser.to_owned(), UNKNOWN.to_owned()),
                "{agent}"
            );
        }
    }

    #[test]
    fn what_cannot_be_told_is_unknown() {
        for agent in [
            None,
            Some(""),
            Some("   "),
            Some("my-own-client"),
            Some("/////"),
        ] {
            assert_eq!(
                Device::of(agent),
                Device {
                    browser: UNKNOWN.to_owned(),
                    os: UNKNOWN.to_owned()
                },
                "{agent:?}"
            );
        }
        // A product without a version it can show is named alone.
        for (agent, browser) in [
            ("curl", "curl"),
            ("curl/", "curl"),
            ("curl/beta", "curl"),
            (
                "Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 Safari/605.1.15",
                "Safari",
            ),
            ("Firefox/12345678.0", "Firefox"),
        ] {
            assert_eq!(Device::of(Some(agent)).browser, browser, "{agent}");
        }
    }

    #[test]
    fn version_digits_end_at_the_first_other_character() {
        assert_eq!(device("curl/8.5.0-DEV").0, "curl 8.5");
        assert_eq!(device("curl/8-DEV.5").0, "curl 8");
        assert_eq!(device("Firefox/133.0a1").0, "Firefox 133");
        assert_eq!(device("Firefox/133a1").0, "Firefox 133");
    }

    /// Log injection through user agents: whatever a client sends, a device shows only the
    /// words of this crate and digits.
    #[test]
    fn nothing_of_a_hostile_user_agent_is_shown_but_known_names_and_digits() {
        let hostile = [
            "Firefox/133<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>/1.0 (Windows)",
            "curl/8.5.0\r\nX-Injected: yes",
            "Chrome/131.0\"}, {\"browser\": \"forged",
            "Mozilla/5.0 (Linux; Android 14; \u{202e}evil\u{202d}) Chrome/131.0.0.0",
            "Safari/1 Version/17.5'; DROP TABLE sessions; --",
            "\u{0}\u{1b}[31mred\u{1b}[0m",
            "Edg/99999999999999999999999",
            "python-requests/2.32.3 ".repeat(200).as_str(),
        ]
        .map(str::to_owned);
        for agent in hostile.iter().chain(std::iter::once(&"é/1 ".repeat(400))) {
            let shown = Device::of(Some(agent));
            assert!(is_shown_safely(&shown.browser), "{:?}", shown.browser);
            assert!(is_shown_safely(&shown.os), "{:?}", shown.os);
            assert!(shown.browser.len() <= 40, "{:?}", shown.browser);
        }
        assert_eq!(
            device("Firefox/133<script>alert(1)</script>").0,
            "Firefox 133"
        );
        assert_eq!(device("curl/8.5.0\r\nX-Injected: yes").0, "curl 8.5");
    }

    #[test]
    fn every_name_this_crate_shows_is_safe_to_show() {
        for product in PRODUCTS {
            assert!(is_shown_safely(product.name), "{}", product.name);
        }
        for (_, system) in SYSTEMS {
            assert!(is_shown_safely(system), "{system}");
        }
    }

    #[test]
    fn a_long_user_agent_is_read_to_a_bound_cut_on_a_character_boundary() {
        let long = format!("{}Firefox/133.0", "é".repeat(MAX_READ_BYTES));
        assert_eq!(Device::of(Some(&long)).browser, UNKNOWN);
        let cut = bounded(&long);
        assert!(cut.len() <= MAX_READ_BYTES && long.starts_with(cut));
    }
}

//! One CORS policy: API Gateway applies the template's `CorsConfiguration` on AWS, `local-api`
//! applies auth_core::settings::browser's lists; a header or method allowed in one place and not
//! the other fails here. And the browser settings the functions read are the template's.

use std::path::PathBuf;

use auth_core::settings::browser::{
    CORS_ALLOWED_HEADERS, CORS_ALLOWED_METHODS, CORS_EXPOSED_HEADERS, CORS_MAX_AGE_SECS,
};
use serde_norway::Value;

fn template() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
    serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_sequence()
        .unwrap_or_else(|| panic!("{value:?} is not a list"))
        .iter()
        .map(|item| item.as_str().unwrap().to_owned())
        .collect()
}

/// The configuration `CorsConfiguration: !If [HasCors, <this>, !Ref AWS::NoValue]` applies.
fn cors_configuration(template: &Value) -> Value {
    let Value::Tagged(tagged) =
        &template["Resources"]["AuthApi"]["Properties"]["CorsConfiguration"]
    else {
        panic!("AuthApi's CorsConfiguration is not an !If");
    };
    assert_eq!(tagged.tag.to_string(), "!If");
    let branches = tagged.value.as_sequence().unwrap();
    assert_eq!(branches[0].as_str(), Some("HasCors"));
    branches[1].clone()
}

#[test]
fn api_gateway_and_the_local_server_allow_the_same_headers_methods_and_age() {
    let template = template();
    let cors = cors_configuration(&template);
    assert_eq!(strings(&cors["AllowMethods"]), CORS_ALLOWED_METHODS);
    assert_eq!(strings(&cors["AllowHeaders"]), CORS_ALLOWED_HEADERS);
    assert_eq!(strings(&cors["ExposeHeaders"]), CORS_EXPOSED_HEADERS);
    assert_eq!(cors["MaxAge"].as_u64(), Some(CORS_MAX_AGE_SECS));
    // Cookies are credentials: without this the browser drops every answer.
    assert_eq!(cors["AllowCredentials"].as_bool(), Some(true));
}

#[test]
fn cors_is_off_unless_origins_are_given_and_a_wildcard_cannot_be() {
    let template = template();
    let parameter = &template["Parameters"]["CorsAllowedOrigins"];
    assert_eq!(parameter["Default"].as_str(), Some(""));
    let Value::Tagged(condition) = &template["Conditions"]["HasCors"] else {
        panic!("HasCors is not a condition");
    };
    assert_eq!(condition.tag.to_string(), "!Not");
    // CloudFormation matches the whole value (Java regex; this pattern reads the same in Rust's).
    let allowed_pattern = regex::Regex::new(parameter["AllowedPattern"].as_str().unwrap()).unwrap();
    // What the template lets through, Settings accepts (local-api reads the same origins);
    // what either refuses for safety (a wildcard, a path), both refuse. Spaces are trimmed
    // locally, but the template's !Split would keep them in the origin: refused there.
    for (origins, in_template, in_settings) in [
        ("", true, true),
        ("https://app.example.com", true, true),
        ("http://localhost:8001,https://app.example.com", true, true),
        (
            "https://app.example.com, http://localhost:8001",
            false,
            true,
        ),
        ("*", false, false),
        ("https://*", false, false),
        ("https://app.example.com/", false, false),
        ("app.example.com", false, false),
    ] {
        assert_eq!(allowed_pattern.is_match(origins), in_template, "{origins}");
        let settings = auth_core::settings::Settings::from_lookup(|name| match name {
            "JWT_SECRET_KEY" => Some("a-secret-of-at-least-thirty-two-bytes!!".to_owned()),
            "CORS_ALLOWED_ORIGINS" => Some(origins.to_owned()).filter(|text| !text.is_empty()),
            _ => None,
        });
        assert_eq!(settings.is_ok(), in_settings, "{origins}");
    }
}

#[test]
fn the_template_takes_the_cookie_domains_the_functions_take() {
    let template = template();
    let pattern = template["Parameters"]["CookieDomain"]["AllowedPattern"]
        .as_str()
        .unwrap();
    let allowed_pattern = regex::Regex::new(pattern).unwrap();
    for domain in [
        "",
        "example.com",
        ".example.com",
        "a-b.example.co.uk",
        "com",
        "example..com",
        "-a.example.com",
        "a-.example.com",
        "example.com.",
        "https://example.com",
        "example.com:443",
    ] {
        let settings = auth_core::settings::Settings::from_lookup(|name| match name {
            "JWT_SECRET_KEY" => Some("a-secret-of-at-least-thirty-two-bytes!!".to_owned()),
            "JWT_COOKIE_DOMAIN" => Some(domain.to_owned()).filter(|text| !text.is_empty()),
            _ => None,
        });
        assert_eq!(
            allowed_pattern.is_match(domain),
            settings.is_ok(),
            "{domain}"
        );
    }
}

#[test]
fn every_cookie_setting_reaches_the_functions_from_a_parameter() {
    let template = template();
    let variables = &template["Globals"]["Function"]["Environment"]["Variables"];
    for (variable, parameter) in [
        ("JWT_TOKEN_LOCATION", "TokenLocation"),
        ("JWT_COOKIE_SECURE", "CookieSecure"),
        ("JWT_COOKIE_SAMESITE", "CookieSameSite"),
        ("JWT_COOKIE_DOMAIN", "CookieDomain"),
        ("JWT_REFRESH_COOKIE_PATH", "RefreshCookiePath"),
        ("JWT_COOKIE_CSRF_PROTECT", "CookieCsrfProtect"),
    ] {
        let Value::Tagged(reference) = &variables[variable] else {
            panic!("{variable} is not set from a parameter");
        };
        assert_eq!(
            (reference.tag.to_string().as_str(), reference.value.as_str()),
            ("!Ref", Some(parameter)),
            "{variable}"
        );
        assert!(
            template["Parameters"][parameter].is_mapping(),
            "no parameter {parameter}"
        );
    }
    // The functions never see the origins: API Gateway answers CORS.
    assert!(variables.get("CORS_ALLOWED_ORIGINS").is_none());
}

//! Lambda refuses a function whose environment is over 4 KB (keys and values together): the
//! template's limits on the key parameters keep an RS256 deployment under it with every other
//! variable at a realistic worst (cookie mode's domain and path, the self-service and the
//! second factor's settings, at their limits), and a real RSA-2048 key with two published keys
//! fits.

use std::path::PathBuf;

use lambda_emulator::Template;
use serde_json::json;

/// Lambda's limit on a function's environment variables, keys and values together.
const LAMBDA_ENVIRONMENT_LIMIT: usize = 4096;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn template_text() -> String {
    std::fs::read_to_string(root().join("template.yaml")).unwrap()
}

/// A parameter's `MaxLength`.
fn max_length(parameter: &str) -> usize {
    let document: serde_norway::Value = serde_norway::from_str(&template_text()).unwrap();
    document["Parameters"][parameter]["MaxLength"]
        .as_u64()
        .unwrap_or_else(|| panic!("{parameter} has no MaxLength")) as usize
}

/// A number parameter's `MaxValue`.
fn max_value(parameter: &str) -> u64 {
    let document: serde_norway::Value = serde_norway::from_str(&template_text()).unwrap();
    document["Parameters"][parameter]["MaxValue"]
        .as_u64()
        .unwrap_or_else(|| panic!("{parameter} has no MaxValue"))
}

/// The biggest environment the template gives a function with these keys, `issuer` and
/// `audience`, the tables as CloudFormation names them, and cookie mode with its domain and
/// refresh path as long as the template allows: its size in bytes, as JSON, and the function.
fn environment_size(
    private_key: &str,
    public_keys: &str,
    issuer: &str,
    audience: &str,
) -> (usize, usize, String) {
    let stack = "jwt-auth-service-production";
    let overrides = json!({"Parameters": {
        "JWT_TOKEN_LOCATION": "headers,cookies",
        "JWT_COOKIE_SECURE": "false",
        "JWT_COOKIE_SAMESITE": "Strict",
        "JWT_COOKIE_DOMAIN": "d".repeat(max_length("CookieDomain")),
        "JWT_REFRESH_COOKIE_PATH": format!("/{}", "p".repeat(max_length("RefreshCookiePath") - 1)),
        "JWT_COOKIE_CSRF_PROTECT": "false",
        "JWT_ALGORITHM": "RS256",
        "JWT_PRIVATE_KEY": private_key,
        "JWT_PUBLIC_KEYS": public_keys,
        "JWT_ISSUER": issuer,
        "JWT_AUDIENCE": audience,
        "USERS_TABLE": format!("{stack}-UsersTable-1A2B3C4D5E6F7G8H"),
        "SESSIONS_TABLE": format!("{stack}-SessionsTable-1A2B3C4D5E6F7G8H"),
        // The activity log's, in the functions that record (its retention at its longest).
        "ACTIVITY_TABLE": format!("{stack}-ActivityTable-1A2B3C4D5E6F7G8H"),
        "ACTIVITY_RETENTION": format!("{}d", max_value("ActivityRetentionDays")),
        // Not AWS_ENDPOINT_URL_DYNAMODB or _SESV2: a deployment without DynamoDbEndpoint or
        // SesEndpoint has neither (Fn::If to AWS::NoValue); an empty one is sam local's, which
        // has no 4 KB limit.
        // Self-service by mail, as long as the template allows.
        "SIGNUP": "s".repeat(max_length("Signup")),
        "MAIL_FROM": "m".repeat(max_length("MailFrom")),
        "APP_URL": "u".repeat(max_length("AppUrl")),
        "LOGIN_IP_LIMIT": "l".repeat(max_length("LoginIpLimit")),
        "SIGNUP_IP_LIMIT": "l".repeat(max_length("SignupIpLimit")),
        "VERIFY_IP_LIMIT": "l".repeat(max_length("VerifyIpLimit")),
        "RECOVER_IP_LIMIT": "l".repeat(max_length("RecoverIpLimit")),
        "RESEND_IP_LIMIT": "l".repeat(max_length("ResendIpLimit")),
        "PASSWORD_IP_LIMIT": "l".repeat(max_length("PasswordIpLimit")),
        // The second factor's, as long as the template allows.
        "MFA_ENCRYPTION_KEY": "k".repeat(max_length("MfaEncryptionKey")),
        "MFA_ISSUER": "i".repeat(max_length("MfaIssuer")),
        "MFA_SCOPE": "s".repeat(max_length("MfaScope")),
        "MFA_IP_LIMIT": "l".repeat(max_length("MfaIpLimit")),
    }});
    let template = Template::load(&root().join("template.yaml")).unwrap();
    let mut largest = (0, 0, String::new());
    for function in template.function_ids() {
        let mut variables = template.function(&function, &overrides).unwrap().variables;
        // An RS256 deployment has no HS256 secret (`!If [IsHs256, ..., AWS::NoValue]`): the
        // resolver, which decides conditions on the parameters' defaults (HS256), would count
        // its name beside the keys that replace it.
        assert_eq!(variables.remove("JWT_SECRET_KEY").as_deref(), Some(""));
        let bytes: usize = variables
            .iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| name.len() + value.len())
            .sum();
        // As JSON (what the API takes), escapes counted: the stricter reading of the limit.
        let json = serde_json::to_string(&variables).unwrap().len();
        println!("{function}: {bytes} bytes, {json} as JSON");
        largest = largest.max((json, bytes, function));
    }
    let (json, bytes, function) = largest;
    (bytes, json, function)
}

#[test]
fn keys_at_the_templates_maximum_lengths_fit_in_lambdas_environment() {
    // Line breaks every 64 characters, as in a PEM: each is two bytes in JSON.
    let filled = |length: usize| {
        (0..length)
            .map(|i| if i % 65 == 64 { '\n' } else { 'k' })
            .collect::<String>()
    };
    let (bytes, json, function) = environment_size(
        &filled(max_length("JwtPrivateKey")),
        &filled(max_length("JwtPublicKeys")),
        &"i".repeat(max_length("JwtIssuer")),
        &"a".repeat(max_length("JwtAudience")),
    );
    println!(
        "environment at the parameters' maximum lengths: {function}'s, {bytes} bytes, {json} as JSON"
    );
    assert!(json <= LAMBDA_ENVIRONMENT_LIMIT, "{function}: {json} bytes");
}

#[test]
fn an_rsa_2048_key_and_two_published_keys_fit_in_the_templates_limits() {
    let read =
        |name: &str| std::fs::read_to_string(root().join("interop/keys").join(name)).unwrap();
    let private = read("rs256-private.pem");
    let public = read("rs256-public.pem") + &read("stranger-rs256-public.pem");
    // On one line with \n, as a CloudFormation parameter carries a PEM.
    let one_line = |pem: &str| pem.replace('\n', "\\n");
    assert!(one_line(&private).len() <= max_length("JwtPrivateKey"));
    assert!(one_line(&public).len() <= max_length("JwtPublicKeys"));
    let (bytes, json, function) = environment_size(
        &private,
        &public,
        "https://authentication.platform.example-corporation.com/identity/v1",
        "https://api.platform.example-corporation.com/reports",
    );
    println!("RSA-2048 key and two published keys: {function}'s, {bytes} bytes, {json} as JSON");
    assert!(json <= LAMBDA_ENVIRONMENT_LIMIT, "{function}: {json} bytes");
}

/// The settings only some functions read reach only those, since every byte of an environment
/// counts (LoginMfaFunction's, at the parameters' longest, has little to spare): rotation is
/// read by the refresh alone (`AppState::rotation`); the login throttle by the login and the
/// password change, where a wrong current password counts as a failed login
/// (`AppState::login_throttle`); its window also by the second factor's lock
/// (`AppState::mfa_throttle`, login-mfa and mfa).
#[test]
fn the_settings_only_some_functions_read_reach_those_alone() {
    use auth_core::Function;
    let template = Template::load(&root().join("template.yaml")).unwrap();
    let overrides = json!({"Parameters": {
        "JWT_SECRET_KEY": "a-secret-of-at-least-thirty-two-bytes!!",
        "USERS_TABLE": "users",
        "SESSIONS_TABLE": "sessions",
        "ACTIVITY_TABLE": "activity",
    }});
    let readers: [(&str, &[Function]); 4] = [
        ("JWT_REFRESH_TOKEN_ROTATION", &[Function::Refresh]),
        ("JWT_REFRESH_TOKEN_ROTATION_GRACE", &[Function::Refresh]),
        (
            "LOGIN_MAX_FAILURES",
            &[Function::Login, Function::ChangePassword],
        ),
        (
            "LOGIN_FAILURE_WINDOW",
            &[
                Function::Login,
                Function::ChangePassword,
                Function::LoginMfa,
                Function::Mfa,
            ],
        ),
    ];
    for (variable, expected) in readers {
        let mut given: Vec<&str> = Function::ALL
            .into_iter()
            .filter(|function| {
                let id = crate::bootstraps::function_id_of(&template, function.name());
                let config = template.function(&id, &overrides).unwrap();
                config.variables.contains_key(variable)
            })
            .map(Function::name)
            .collect();
        let mut expected: Vec<&str> = expected.iter().map(|function| function.name()).collect();
        given.sort_unstable();
        expected.sort_unstable();
        assert_eq!(given, expected, "{variable}");
    }
}

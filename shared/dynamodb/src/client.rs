//! The DynamoDB plumbing both stores share: one client configuration (region, credentials,
//! endpoint, timeouts, an HTTPS client on rustls with ring trusting `TrustRoots`), and the
//! reading of its errors.
//!
//! Every call has a timeout well inside the functions' 10 s, so an unreachable, throttled or
//! slow table becomes `StoreError::Unavailable` (503) rather than a Lambda timeout; a call
//! DynamoDB refuses as invalid is `StoreError::Rejected` (500, a bug).

use std::time::Duration;

pub use aws_config::SdkConfig;
use aws_config::{BehaviorVersion, timeout::TimeoutConfig};
use aws_sdk_dynamodb::{
    Client,
    error::{DisplayErrorContext, ProvideErrorMetadata, SdkError},
};
use aws_smithy_http_client::tls;
use sha2::{Digest, Sha256};

use auth_core::store::{StoreError, is_valid_key};

use crate::trust_roots::TrustRoots;

/// Time to open a connection; a reachable endpoint answers far sooner.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Time for one attempt; the SDK retries throttling and transient failures.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
/// Time for a whole call, retries included: half the functions' 10 s timeout.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(5);

/// The SDK's variable for a DynamoDB endpoint of one's own (a local server).
pub const ENDPOINT_VARIABLE: &str = "AWS_ENDPOINT_URL_DYNAMODB";

/// The key of the record of `id` among the records of one `kind` (`token`, `session`, `login`):
/// `kind#id`, or, when that is longer than a key may be, `kind-sha256#` and the id's SHA-256 in
/// hex. So an id of any length, from a token or a login form, keys a record of its own, as it
/// does in memory; no `kind#…` key can equal a hashed one.
pub(crate) fn record_key(kind: &str, id: &str) -> String {
    let key = format!("{kind}#{id}");
    if is_valid_key(&key) {
        return key;
    }
    format!("{kind}-sha256#{:x}", Sha256::digest(id.as_bytes()))
}

/// The AWS configuration every store client is built from: region, credentials and endpoint
/// (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_DYNAMODB`) from the standard places, with our timeouts
/// and an HTTPS client on rustls with ring, the smallest TLS stack the SDK offers, trusting the
/// roots the environment calls for (`TrustRoots::from_env`).
pub async fn aws_config() -> SdkConfig {
    aws_config_trusting(TrustRoots::from_env()).await
}

/// `aws_config`, with an HTTPS client that trusts `roots`.
pub async fn aws_config_trusting(roots: TrustRoots) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client(roots))
        .timeout_config(timeouts())
        .load()
        .await
}

/// Every call's timeouts (see the constants).
fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

/// An HTTPS client on rustls with ring, trusting `roots`.
#[expect(
    clippy::expect_used,
    reason = "a TLS context of a trust store and no client certificate always builds"
)]
fn https_client(roots: TrustRoots) -> aws_sdk_dynamodb::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .tls_context(
            tls::TlsContext::builder()
                .with_trust_store(roots.trust_store())
                .build()
                .expect("a TLS context of a trust store always builds"),
        )
        .build_https()
}

/// The AWS configuration of a Lambda function: what `aws_config` loads, read from the variables
/// Lambda sets (`AWS_REGION`, and the execution role's `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`) without the SDK's default chain of
/// providers. Lambda always sets those, so the chain's other providers (profile files, SSO,
/// web identity through STS, ECS, the instance metadata service) are code a function never
/// runs: left out, each function is 0.8-1 MB smaller and its cold start reads no files. An
/// endpoint of one's own for every service (`AWS_ENDPOINT_URL`) is read here, a service's
/// (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_KMS`) by its client (`client_of`,
/// `auth_kms::client`); `AWS_USE_FIPS_ENDPOINT` and `AWS_USE_DUALSTACK_ENDPOINT` are honoured.
/// Not read: `AWS_MAX_ATTEMPTS` and `AWS_RETRY_MODE` (the SDK's standard retries, 3 attempts)
/// and anything of a profile.
pub fn lambda_aws_config() -> SdkConfig {
    lambda_aws_config_of(|name| std::env::var(name).ok(), TrustRoots::from_env())
}

/// `lambda_aws_config` over the variables `lookup` reads, its HTTPS client trusting `roots`.
pub fn lambda_aws_config_of(
    lookup: impl Fn(&str) -> Option<String>,
    roots: TrustRoots,
) -> SdkConfig {
    let read = |name: &str| lookup(name).filter(|value| !value.is_empty());
    let switch = |name: &str| read(name).is_some_and(|value| value.eq_ignore_ascii_case("true"));
    let mut config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(https_client(roots))
        .timeout_config(timeouts())
        .retry_config(aws_config::retry::RetryConfig::standard())
        .sleep_impl(aws_smithy_async::rt::sleep::TokioSleep::new())
        .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
            aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
        ))
        .use_fips(switch("AWS_USE_FIPS_ENDPOINT"))
        .use_dual_stack(switch("AWS_USE_DUALSTACK_ENDPOINT"));
    if let Some(region) = read("AWS_REGION").or_else(|| read("AWS_DEFAULT_REGION")) {
        config = config.region(aws_config::Region::new(region));
    }
    if let Some(endpoint) = read("AWS_ENDPOINT_URL") {
        config = config.endpoint_url(endpoint);
    }
    config.build()
}

/// A DynamoDB client with the configuration of `aws_config`. Build one per cold start and
/// share it (it is a cheap handle): loading the configuration is most of a client's cost.
pub async fn client() -> Client {
    client_of(&aws_config().await)
}

/// A DynamoDB client of `shared`, a configuration of `aws_config` that another client (KMS's)
/// shares, so that a cold start loads it once.
pub fn client_of(shared: &SdkConfig) -> Client {
    let mut config = aws_sdk_dynamodb::config::Builder::from(shared);
    // Read here too, for a Lambda function's configuration has no loader to read it
    // (`lambda_aws_config`). The template declares the variable so that a local run can set
    // it; CloudFormation and sam local pass it as "" otherwise, which the SDK would take for
    // the endpoint and fail every call with. Empty means unset, as for every other variable.
    if let Some(endpoint) = endpoint_override(ENDPOINT_VARIABLE) {
        config.set_endpoint_url(endpoint);
    }
    Client::from_conf(config.build())
}

/// Whether a local tool (local-api over DynamoDB, the users command) has been told which
/// DynamoDB to reach: an endpoint of its own, or a region (a variable, or the profile's). Told neither, the SDK would ask the EC2
/// instance metadata service (169.254.169.254) for a region and then call AWS: a local tool
/// refuses instead, before any client exists.
pub async fn check_local_target() -> Result<(), String> {
    let set = |name: &str| std::env::var(name).is_ok_and(|value| !value.is_empty());
    if set(ENDPOINT_VARIABLE)
        || set("AWS_ENDPOINT_URL")
        || set("AWS_REGION")
        || set("AWS_DEFAULT_REGION")
    {
        return Ok(());
    }
    use aws_config::meta::region::ProvideRegion;
    if aws_config::profile::ProfileFileRegionProvider::new()
        .region()
        .await
        .is_some()
    {
        return Ok(());
    }
    Err(format!(
        "no AWS region and no endpoint: set {ENDPOINT_VARIABLE}=http://127.0.0.1:8000 (any local \
         DynamoDB-compatible server: moto, DynamoDB Local), or AWS_REGION (and credentials) for \
         AWS itself; without either the SDK would ask the EC2 instance metadata service"
    ))
}

/// What a service's endpoint variable (`AWS_ENDPOINT_URL_DYNAMODB`) says when it is set: its
/// endpoint, or with an empty value none at all. Unset: `None`, and the client keeps the
/// configuration's endpoint (`AWS_ENDPOINT_URL`, or a shared config file's for local tools).
pub fn endpoint_override(service_variable: &str) -> Option<Option<String>> {
    std::env::var(service_variable)
        .ok()
        .map(|value| (!value.is_empty()).then_some(value))
}

/// A client of `aws_config` whose endpoint is `url`, with credentials of its own and, when none
/// is configured, a region: for tests of a server that is down, slow or fake, whose outcome
/// must not depend on the AWS setup of whoever runs them.
pub async fn client_at(url: &str) -> Client {
    let shared = aws_config().await;
    let mut config = aws_sdk_dynamodb::config::Builder::from(&shared)
        .endpoint_url(url)
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "client_at",
        ));
    if shared.region().is_none() {
        config.set_region(Some(aws_sdk_dynamodb::config::Region::new("us-east-1")));
    }
    Client::from_conf(config.build())
}

/// An SDK failure as a `StoreError`. An outage's detail is one line that says what to do
/// (`next_step`) when the cause is a common one, the SDK's whole chain of causes going to the
/// debug log (`RUST_LOG=debug`); else the chain itself. A `ValidationException` is DynamoDB
/// refusing what we sent, not an outage.
pub fn store_error<E, R>(error: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let detail = DisplayErrorContext(&error).to_string();
    if refusal(&error).is_none() {
        return StoreError::Unavailable(match next_step(&error, &detail) {
            Some(step) => {
                tracing::debug!(chain = %detail, "{step}");
                step
            }
            None => detail,
        });
    }
    let operation = operation_name::<E>();
    // Logged here, where it is known: a request may make several calls at once and answer
    // with another one's error.
    tracing::error!(operation, %detail, "DynamoDB refused a call as invalid: a bug");
    StoreError::Rejected { operation, detail }
}

/// What to do about the common causes of a failed call, in one line: no region, no
/// credentials, a server that refuses the connection or does not answer, a table that does not
/// exist, credentials AWS does not accept or a policy that does not allow the call. `chain` is
/// the error's chain of causes.
fn next_step<E, R>(error: &SdkError<E, R>, chain: &str) -> Option<String>
where
    E: ProvideErrorMetadata,
{
    if let Some(answered) = error.as_service_error() {
        let code = answered.code().unwrap_or_default();
        return match code {
            "ResourceNotFoundException" => Some(
                "the table does not exist: create it with `users create-table` (the sessions \
                 table: `users create-sessions-table`), or check USERS_TABLE, SESSIONS_TABLE and \
                 the region"
                    .to_owned(),
            ),
            "AccessDeniedException" => Some(format!(
                "AWS denied the call ({code}): the credentials' IAM policy must allow it on the \
                 table"
            )),
            "UnrecognizedClientException"
            | "InvalidSignatureException"
            | "ExpiredTokenException"
            | "InvalidClientTokenId" => Some(format!(
                "AWS did not accept the credentials ({code}): check AWS_ACCESS_KEY_ID, \
                 AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, or AWS_PROFILE"
            )),
            _ => None,
        };
    }
    let lower = chain.to_ascii_lowercase();
    // A certificate the client does not trust (UnknownIssuer, say) is no server that is down:
    // the chain itself says what is wrong with it.
    if lower.contains("certificate") || lower.contains("tls") {
        return None;
    }
    let endpoint = endpoint_override(ENDPOINT_VARIABLE).flatten().or_else(|| {
        std::env::var("AWS_ENDPOINT_URL")
            .ok()
            .filter(|url| !url.is_empty())
    });
    let server = match &endpoint {
        Some(url) => {
            format!("the server at {url}: is it running (AWS_ENDPOINT_URL_DYNAMODB names it)?")
        }
        None => "DynamoDB: check the network, the endpoint and AWS_REGION".to_owned(),
    };
    if lower.contains("region") && !lower.contains("credential") {
        return Some(
            "no AWS region: set AWS_REGION (for example AWS_REGION=us-east-1), or \
             AWS_ENDPOINT_URL_DYNAMODB for a local server"
                .to_owned(),
        );
    }
    if lower.contains("credential") {
        return Some(
            "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (any values \
             for a local server), or AWS_PROFILE"
                .to_owned(),
        );
    }
    // The whole call's timeout, or (when the SDK gave up retrying first) one attempt's.
    let waited = match lower.contains("operation attempt timeout") {
        true => ATTEMPT_TIMEOUT,
        false => OPERATION_TIMEOUT,
    };
    match error {
        SdkError::TimeoutError(_) => Some(format!(
            "no answer within {}s from {server}",
            waited.as_secs()
        )),
        SdkError::DispatchFailure(failure) if failure.is_timeout() => Some(format!(
            "no answer within {}s from {server}",
            waited.as_secs()
        )),
        SdkError::DispatchFailure(failure) if failure.is_io() => {
            Some(format!("cannot connect to {server}"))
        }
        _ => None,
    }
}

/// DynamoDB's reason, when it refused the call as invalid (`ValidationException`).
pub fn refusal<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> Option<&str> {
    let refused = error.as_service_error()?;
    (refused.code() == Some("ValidationException"))
        .then(|| refused.message().unwrap_or("no reason given"))
}

/// The DynamoDB operation whose error type is `E`: `GetItem` for `…::GetItemError`. The SDK
/// names every operation's error so, and the log then says which call was refused.
fn operation_name<E>() -> &'static str {
    let name = std::any::type_name::<E>();
    let name = name.rsplit("::").next().unwrap_or(name);
    name.strip_suffix("Error").unwrap_or(name)
}

/// A request the SDK could not build (a required field left out): a bug of ours.
pub fn build_error(error: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::Rejected {
        operation: "building a request",
        detail: error.to_string(),
    }
}

/// Whether a conditional write failed its condition (an answer, not an outage).
pub fn is_condition_failure<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    error
        .as_service_error()
        .and_then(ProvideErrorMetadata::code)
        == Some("ConditionalCheckFailedException")
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::store::MAX_KEY_BYTES;

    /// What Lambda sets is all a function's configuration reads; nothing else is looked up.
    #[tokio::test]
    async fn a_functions_configuration_is_lambdas_variables_and_no_provider_chain() {
        let variables = [
            ("AWS_REGION", "eu-west-1"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("AWS_USE_FIPS_ENDPOINT", "true"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
        ];
        let read = |name: &str| {
            variables
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        };
        let config = lambda_aws_config_of(read, TrustRoots::System);
        assert_eq!(
            config.region().map(|region| region.as_ref()),
            Some("eu-west-1")
        );
        assert_eq!(config.use_fips(), Some(true));
        assert_eq!(config.use_dual_stack(), Some(false));
        assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:4566"));
        assert!(config.credentials_provider().is_some());
        assert!(config.sleep_impl().is_some(), "retries need a timer");
        // AWS_DEFAULT_REGION when Lambda's is missing; no region at all is left for the first
        // call to report, as the SDK does.
        let config = lambda_aws_config_of(
            |name| (name == "AWS_DEFAULT_REGION").then(|| "ap-south-1".to_owned()),
            TrustRoots::System,
        );
        assert_eq!(
            config.region().map(|region| region.as_ref()),
            Some("ap-south-1")
        );
        assert_eq!(config.endpoint_url(), None);
        assert_eq!(
            lambda_aws_config_of(|_| None, TrustRoots::System).region(),
            None
        );
    }

    #[test]
    fn a_key_is_one_to_2048_bytes_of_utf8_counted_in_bytes_not_characters() {
        assert!(!is_valid_key(""));
        assert!(is_valid_key("\0"));
        assert!(is_valid_key(&"x".repeat(MAX_KEY_BYTES)));
        assert!(!is_valid_key(&"x".repeat(MAX_KEY_BYTES + 1)));
        // 512 four-byte characters are 2048 bytes; one more is over, though only 513 characters.
        assert!(is_valid_key(&"\u{1F600}".repeat(512)));
        assert!(!is_valid_key(&"\u{1F600}".repeat(513)));
    }

    #[test]
    fn a_record_key_is_a_valid_key_for_any_id_and_differs_for_different_ids() {
        let at_limit = "x".repeat(MAX_KEY_BYTES - "token#".len());
        let over = format!("{at_limit}x");
        let ids = [
            String::new(),
            "\0".to_owned(),
            "\u{1F600}".repeat(1000),
            at_limit.clone(),
            over.clone(),
            "x".repeat(100_000),
        ];
        let keys: Vec<String> = ids.iter().map(|id| record_key("token", id)).collect();
        for key in &keys {
            assert!(is_valid_key(key), "{} bytes", key.len());
        }
        assert_eq!(record_key("token", ""), "token#");
        assert_eq!(record_key("token", &at_limit), format!("token#{at_limit}"));
        assert!(record_key("token", &over).starts_with("token-sha256#"));
        assert_eq!(record_key("token", &over), record_key("token", &over));
        let distinct: std::collections::HashSet<&String> = keys.iter().collect();
        assert_eq!(distinct.len(), keys.len());
    }
}

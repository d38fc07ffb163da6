//! The DynamoDB plumbing both stores share: one client configuration (region, credentials,
//! endpoint, timeouts, an HTTPS client on rustls with ring), and the reading of its errors.
//!
//! Every call has a timeout well inside the functions' 10 s, so an unreachable, throttled or
//! slow table becomes a `StoreError` (503) rather than a Lambda timeout.

use std::time::Duration;

use aws_config::{BehaviorVersion, SdkConfig, timeout::TimeoutConfig};
use aws_sdk_dynamodb::{
    Client,
    error::{DisplayErrorContext, ProvideErrorMetadata, SdkError},
};
use aws_smithy_http_client::tls;

use crate::store::StoreError;

/// Time to open a connection; a reachable endpoint answers far sooner.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// Time for one attempt; the SDK retries throttling and transient failures.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
/// Time for a whole call, retries included: half the functions' 10 s timeout.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(5);

/// The SDK's variable for a DynamoDB endpoint of one's own (a local server).
pub const ENDPOINT_VARIABLE: &str = "AWS_ENDPOINT_URL_DYNAMODB";

/// DynamoDB's limit on a partition key, in bytes of UTF-8.
pub const MAX_KEY_BYTES: usize = 2048;

/// The AWS configuration every store client is built from: region, credentials and endpoint
/// (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_DYNAMODB`) from the standard places, with our timeouts
/// and an HTTPS client on rustls with ring, the smallest TLS stack the SDK offers.
pub async fn aws_config() -> SdkConfig {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build();
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https)
        .timeout_config(timeouts)
        .load()
        .await
}

/// A DynamoDB client with the configuration of `aws_config`. Build one per cold start and
/// share it (it is a cheap handle): loading the configuration is most of a client's cost.
pub async fn client() -> Client {
    let mut config = aws_sdk_dynamodb::config::Builder::from(&aws_config().await);
    // The template declares the variable so that a local run can set it; CloudFormation
    // and sam local pass it as "" otherwise, which the SDK would take for the endpoint and
    // fail every call with. Empty means unset, as for every other variable here.
    if std::env::var_os(ENDPOINT_VARIABLE).is_some_and(|value| value.is_empty()) {
        config.set_endpoint_url(None);
    }
    Client::from_conf(config.build())
}

/// A client of `aws_config` whose endpoint is `url`: for tests of a server that is down or slow.
pub async fn client_at(url: &str) -> Client {
    let config = aws_sdk_dynamodb::config::Builder::from(&aws_config().await)
        .endpoint_url(url)
        .build();
    Client::from_conf(config)
}

/// An SDK failure as a `StoreError`, with the whole chain of causes (for the log only).
pub(crate) fn store_error(error: impl std::error::Error) -> StoreError {
    StoreError(DisplayErrorContext(error).to_string())
}

/// Whether a conditional write failed its condition (an answer, not an outage).
pub(crate) fn is_condition_failure<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    error
        .as_service_error()
        .and_then(ProvideErrorMetadata::code)
        == Some("ConditionalCheckFailedException")
}

/// Creates the on-demand table `table` with the string partition key `key`, as the template's
/// tables are (for local servers and tests).
#[cfg(feature = "admin")]
pub(crate) async fn create_table(
    client: &Client,
    table: &str,
    key: &str,
) -> Result<(), StoreError> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let attribute = AttributeDefinition::builder()
        .attribute_name(key)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(store_error)?;
    let schema = KeySchemaElement::builder()
        .attribute_name(key)
        .key_type(KeyType::Hash)
        .build()
        .map_err(store_error)?;
    client
        .create_table()
        .table_name(table)
        .attribute_definitions(attribute)
        .key_schema(schema)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .map_err(store_error)?;
    Ok(())
}

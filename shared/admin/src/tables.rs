//! Creating the tables as `template.yaml` declares them, for local servers and tests (a
//! deployment's tables are the template's).

use auth_core::store::StoreError;
use auth_dynamodb::{
    client::{build_error, store_error},
    sessions::{EXPIRES_AT, KEY},
};
use aws_sdk_dynamodb::{
    Client,
    types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        TimeToLiveSpecification,
    },
};

/// Creates the on-demand table `table` with the string partition key `key`, as the template's
/// tables are.
pub(crate) async fn create_table(
    client: &Client,
    table: &str,
    key: &str,
) -> Result<(), StoreError> {
    let attribute = AttributeDefinition::builder()
        .attribute_name(key)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(build_error)?;
    let schema = KeySchemaElement::builder()
        .attribute_name(key)
        .key_type(KeyType::Hash)
        .build()
        .map_err(build_error)?;
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

/// Creates the sessions table `table` over `client`, TTL included.
pub async fn create_sessions_table(client: &Client, table: &str) -> Result<(), StoreError> {
    create_table(client, table, KEY).await?;
    let ttl = TimeToLiveSpecification::builder()
        .attribute_name(EXPIRES_AT)
        .enabled(true)
        .build()
        .map_err(build_error)?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(ttl)
        .send()
        .await
        .map_err(store_error)?;
    Ok(())
}

//! Creating the tables as `template.yaml` declares them, for local servers and tests (a
//! deployment's tables are the template's).

use auth_core::store::StoreError;
use auth_dynamodb::{
    client::{build_error, store_error},
    sessions::{EXPIRES_AT, KEY},
    users::{EMAIL, EMAIL_INDEX, USERNAME},
};
use aws_sdk_dynamodb::{
    Client,
    types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        Projection, ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
    },
};

/// The string attribute `name`, as a key of the table or of an index.
fn string_attribute(name: &str) -> Result<AttributeDefinition, StoreError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(build_error)
}

/// `name` as the partition key of a table or an index.
fn partition_key(name: &str) -> Result<KeySchemaElement, StoreError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(KeyType::Hash)
        .build()
        .map_err(build_error)
}

/// Creates the on-demand table `table` with the string partition key `key`, as the template's
/// tables are, and the global secondary indexes `indexes` (each on-demand with its table).
async fn create_table(
    client: &Client,
    table: &str,
    key: &str,
    indexes: &[(&str, GlobalSecondaryIndex)],
) -> Result<(), StoreError> {
    let mut create = client
        .create_table()
        .table_name(table)
        .attribute_definitions(string_attribute(key)?)
        .key_schema(partition_key(key)?)
        .billing_mode(BillingMode::PayPerRequest);
    for (attribute, index) in indexes {
        create = create
            .attribute_definitions(string_attribute(attribute)?)
            .global_secondary_indexes(index.clone());
    }
    create.send().await.map_err(store_error)?;
    Ok(())
}

/// The users table's index by address (`AccountStore::find_by_email`): partition key `email`,
/// keys only, since a user is then read by username, strongly consistent. An item without an
/// `email` is not in it.
fn email_index() -> Result<GlobalSecondaryIndex, StoreError> {
    GlobalSecondaryIndex::builder()
        .index_name(EMAIL_INDEX)
        .key_schema(partition_key(EMAIL)?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::KeysOnly)
                .build(),
        )
        .build()
        .map_err(build_error)
}

/// Creates the users table `table` over `client`: partition key `username`, and the `email`
/// index.
pub(crate) async fn create_users_table(client: &Client, table: &str) -> Result<(), StoreError> {
    create_table(client, table, USERNAME, &[(EMAIL, email_index()?)]).await
}

/// Creates the sessions table `table` over `client`, TTL included.
pub async fn create_sessions_table(client: &Client, table: &str) -> Result<(), StoreError> {
    create_table(client, table, KEY, &[]).await?;
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

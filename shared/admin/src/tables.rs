//! Creating the tables as `template.yaml` declares them, for local servers and tests (a
//! deployment's tables are the template's).

use auth_core::store::StoreError;
use auth_dynamodb::{
    activity,
    client::{build_error, store_error},
    sessions::{EXPIRES_AT, KEY, OWNER, STARTED_AT, USER_SESSIONS_INDEX},
    users::{EMAIL, EMAIL_INDEX, USERNAME},
};
use aws_sdk_dynamodb::{
    Client,
    types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        Projection, ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
    },
};

/// The attribute `name` of type `kind`, as a key of the table or of an index.
fn key_attribute(name: &str, kind: ScalarAttributeType) -> Result<AttributeDefinition, StoreError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(kind)
        .build()
        .map_err(build_error)
}

/// The string attribute `name`, as a key of the table or of an index.
fn string_attribute(name: &str) -> Result<AttributeDefinition, StoreError> {
    key_attribute(name, ScalarAttributeType::S)
}

/// `name` as the partition key of a table or an index.
fn partition_key(name: &str) -> Result<KeySchemaElement, StoreError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(KeyType::Hash)
        .build()
        .map_err(build_error)
}

/// `name` as the sort key of a table or an index.
fn sort_key(name: &str) -> Result<KeySchemaElement, StoreError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(KeyType::Range)
        .build()
        .map_err(build_error)
}

/// A table's keys, and its global secondary indexes (each on-demand with its table) with the
/// attributes that key them.
struct TableDesign {
    key: &'static str,
    sort: Option<&'static str>,
    /// Every attribute an index keys on, with its type.
    index_attributes: Vec<AttributeDefinition>,
    indexes: Vec<GlobalSecondaryIndex>,
}

/// Creates the on-demand table `table` of `design`, with its string keys, as the template's
/// tables are.
async fn create_table(client: &Client, table: &str, design: TableDesign) -> Result<(), StoreError> {
    let mut create = client
        .create_table()
        .table_name(table)
        .attribute_definitions(string_attribute(design.key)?)
        .key_schema(partition_key(design.key)?)
        .billing_mode(BillingMode::PayPerRequest)
        .set_global_secondary_indexes((!design.indexes.is_empty()).then_some(design.indexes));
    if let Some(sort) = design.sort {
        create = create
            .attribute_definitions(string_attribute(sort)?)
            .key_schema(sort_key(sort)?);
    }
    for attribute in design.index_attributes {
        create = create.attribute_definitions(attribute);
    }
    create.send().await.map_err(store_error)?;
    Ok(())
}

/// Turns on the TTL of `table` on its attribute `attribute`.
async fn expire_items_on(client: &Client, table: &str, attribute: &str) -> Result<(), StoreError> {
    let ttl = TimeToLiveSpecification::builder()
        .attribute_name(attribute)
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

/// The sessions table's index of each user's listed sessions (`SessionStore::list_sessions`):
/// partition key `owner`, sort key `started_at` (N), every attribute projected, since a listing
/// shows them all. Sparse: a session without an `owner` (not started by a login, or ended) is
/// not in it.
fn user_sessions_index() -> Result<GlobalSecondaryIndex, StoreError> {
    GlobalSecondaryIndex::builder()
        .index_name(USER_SESSIONS_INDEX)
        .key_schema(partition_key(OWNER)?)
        .key_schema(sort_key(STARTED_AT)?)
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .map_err(build_error)
}

/// Creates the users table `table` over `client`: partition key `username`, and the `email`
/// index.
pub(crate) async fn create_users_table(client: &Client, table: &str) -> Result<(), StoreError> {
    let design = TableDesign {
        key: USERNAME,
        sort: None,
        index_attributes: vec![string_attribute(EMAIL)?],
        indexes: vec![email_index()?],
    };
    create_table(client, table, design).await
}

/// Creates the sessions table `table` over `client`: partition key `pk`, the `user-sessions`
/// index, and the TTL.
pub async fn create_sessions_table(client: &Client, table: &str) -> Result<(), StoreError> {
    let design = TableDesign {
        key: KEY,
        sort: None,
        index_attributes: vec![
            string_attribute(OWNER)?,
            key_attribute(STARTED_AT, ScalarAttributeType::N)?,
        ],
        indexes: vec![user_sessions_index()?],
    };
    create_table(client, table, design).await?;
    expire_items_on(client, table, EXPIRES_AT).await
}

/// Creates the activity table `table` over `client`: partition key `pk` (the username), sort
/// key `sk` (the entry's id), and the TTL that ends each entry's retention.
pub async fn create_activity_table(client: &Client, table: &str) -> Result<(), StoreError> {
    let design = TableDesign {
        key: activity::KEY,
        sort: Some(activity::SORT_KEY),
        index_attributes: Vec::new(),
        indexes: Vec::new(),
    };
    create_table(client, table, design).await?;
    expire_items_on(client, table, activity::EXPIRES_AT).await
}

//! The DynamoDB layer: the stores of `auth_core`'s traits over DynamoDB tables, and the one SDK
//! client they share. The only crate of the service that depends on the AWS SDK.
//!
//! - `client`: the client configuration (region, credentials, endpoint, timeouts, an HTTPS
//!   client on rustls with ring trusting `trust_roots`), and the reading of its errors;
//! - `users`, `sessions`: the stores, each owning its table's item layout, the self-service
//!   routes' reads and writes included (`AccountStore` over the users table and its `email`
//!   index, `AccountRecords` in the sessions table);
//! - `activity`: the users' activity log, in a table of its own;
//! - `lookup`: a token's records across both tables in one `BatchGetItem`;
//! - `stores`: all of them over one client, as every deployment that names both tables runs.

pub mod activity;
pub mod client;
pub mod lookup;
pub mod sessions;
pub mod trust_roots;
pub mod users;

use std::sync::Arc;

use auth_core::Stores;
use aws_sdk_dynamodb::Client;

pub use activity::{DynamoActivityLog, activity_log};
pub use client::{aws_config, client, client_at, client_of};
pub use lookup::DynamoTokenLookup;
pub use sessions::{DynamoSessionStore, USER_SESSIONS_INDEX};
pub use users::DynamoUserStore;

/// The stores of the users table `users_table` and the sessions table `sessions_table` over
/// `client`, with the lookup that reads both in one round trip, and the self-service and
/// second-factor routes' stores: the same two store objects, as `AccountStore` and
/// `AccountRecords`, `MfaStore` and `MfaChallenges`.
pub fn stores(client: Client, users_table: &str, sessions_table: &str) -> Stores {
    let users = Arc::new(DynamoUserStore::new(client.clone(), users_table));
    let sessions = Arc::new(DynamoSessionStore::new(client.clone(), sessions_table));
    Stores {
        users: users.clone(),
        sessions: sessions.clone(),
        lookup: Arc::new(DynamoTokenLookup::new(client, users_table, sessions_table)),
        accounts: Some(users.clone()),
        records: Some(sessions.clone()),
        factors: Some(users),
        challenges: Some(sessions),
        // The activity log is a table of its own, which not every deployment names: see
        // `Stores::with_activity` and `activity_log`.
        activity: None,
    }
}

//! One set of behaviours per store trait, as checks that take the store: each store of the
//! service (in memory in `auth-core`'s tests, DynamoDB against a real server in
//! `auth-dynamodb`'s) runs the same checks, so both answer alike.

pub mod account_records;
pub mod accounts;
pub mod activity;
pub mod lookup;
pub mod mfa;
pub mod sessions;
pub mod users;

//! What the tests of every crate share, and nothing else uses: a dev-dependency only, never
//! linked into a function.
//!
//! - `fixtures` (re-exported here): a known state, requests, bodies, tokens, claims, users;
//! - `log`: a log that keeps what it is written; `metrics`: security events captured and
//!   checked; `emf`: the EMF specification's rules;
//! - `dynamodb`: stores over a real DynamoDB-compatible server, and over one that is down;
//! - `kms`: signing keys in a real KMS-compatible server;
//! - `contract`: one set of behaviours per store trait, run against every store.

// Test code: a fixture that cannot do what a test asked of it fails the test, with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod contract;
pub mod dynamodb;
pub mod emf;
mod fixtures;
pub mod kms;
pub mod log;
pub mod mail;
pub mod metrics;
pub mod ses;

pub use dynamodb::{
    dynamodb_endpoint, dynamodb_sessions_at, dynamodb_store_at, fresh_dynamodb_activity,
    fresh_dynamodb_sessions, fresh_dynamodb_store,
};
pub use fixtures::*;
pub use log::CapturedLog;
pub use metrics::{captured_metrics, metric_events, metric_events_in};

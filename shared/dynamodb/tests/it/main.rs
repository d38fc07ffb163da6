//! The DynamoDB stores and lookup against a real DynamoDB-compatible server (moto, which
//! `./scripts/test` starts; ignored without one), each test with tables of its own: the
//! stores' contract suites, and what only DynamoDB can do wrong. `tls.rs` is a binary of its
//! own: it sets `SSL_CERT_FILE` for its whole process.
//!
//! One test binary for the crate, its files modules of it: one link instead of one per
//! file (kanidm's layout). Add a module here rather than a file under tests/.

// Test code: an unwrap, expect or panic is how a test says where it failed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod accounts;
mod activity;
mod faults;
mod lookup;
mod mfa;
mod sessions;
mod users;
mod wire;

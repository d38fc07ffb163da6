//! The release bootstraps under the Runtime API emulator, and the template's routes, CORS, environment size, operations, and sessions and activity log checked against the code.
//!
//! One test binary for the crate, its files modules of it: one link instead of one per
//! file (kanidm's layout). Add a module here rather than a file under tests/.

// Test code: an unwrap, expect or panic is how a test says where it failed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod accounts;
mod accounts_template;
mod bootstraps;
mod cors;
mod environment_size;
mod kms;
mod mfa;
mod mfa_template;
mod operations;
mod routes;
mod sessions;
mod sessions_template;

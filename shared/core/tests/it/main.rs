//! The domain through its public surface, with the test kit's fixtures: tokens exactly as
//! flask-jwt-extended issues and checks them (HS256 and the asymmetric algorithms), and the
//! in-memory stores against their traits' contract suites.
//!
//! One test binary for the crate, its files modules of it: one link instead of one per
//! file (kanidm's layout). Add a module here rather than a file under tests/.

// Test code: an unwrap, expect or panic is how a test says where it failed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod account_records;
mod accounts;
mod activity;
mod asymmetric_tokens;
mod lookup;
mod mfa;
mod sessions;
mod tokens;
mod users;

//! The login function's handler, end to end over the in-memory stores: the contract, its security events, and how the bootstrap starts.
//!
//! One test binary for the crate, its files modules of it: one link instead of one per
//! file (kanidm's layout). Add a module here rather than a file under tests/.

// Test code: an unwrap, expect or panic is how a test says where it failed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod activity;
mod kms;
mod login;
mod metrics;
mod startup;

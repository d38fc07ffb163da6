//! The local server and every handler behind it, as a client and a browser drive them: the contract over both stores, cookies, CORS, sessions, deadlines, the OpenAPI description, interop and the real binary.
//!
//! One test binary for the crate, its files modules of it: one link instead of one per
//! file (kanidm's layout). Add a module here rather than a file under tests/.

// Test code: an unwrap, expect or panic is how a test says where it failed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod binary;
#[macro_use]
mod common;
mod accounts;
mod asymmetric;
mod cookies;
mod cors;
mod deadlines;
mod dynamodb;
mod events;
mod hostile_accounts;
mod hostile_mfa;
mod hostile_sessions;
mod interop;
mod mfa;
mod mfa_harness;
mod openapi;
mod oversized;
mod round_trips;
mod server;
mod session_records;
mod sessions;
mod sessions_view;
mod slow_clients;
mod startup;
mod store_keys;
mod upstream;

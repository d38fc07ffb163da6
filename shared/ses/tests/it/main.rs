//! Mail by SES against a real SES-compatible server (moto, which `./scripts/test` starts): a
//! mail arrives with its parts, sender and recipient; what SES refuses and an SES out of reach
//! are told apart; no error text holds an address in full or the body.

// Test code: a failed step fails the test, with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod sending;

//! Signing in KMS against a real KMS-compatible server (moto, which `./scripts/test` starts):
//! the key's public key read at the start, tokens and device proofs signed by `kms:Sign` and
//! accepted by a function that holds the public keys alone, and what KMS refuses or cannot do.

// Test code: a failed step fails the test, with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod signing;

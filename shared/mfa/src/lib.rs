//! The second factor itself, for the routes that enrol and check it (the stores' side, and
//! the key that seals secrets and hashes recovery codes, are `auth_core::mfa`): no Lambda, no
//! HTTP, no AWS SDK.
//!
//! - `authenticator`: TOTP codes as RFC 6238 defines them and authenticator apps compute them
//!   (SHA-1, 6 digits, 30 s steps, one step either side), with the otpauth URI that adds one;
//! - `recovery`: recovery codes, shown once, each good once;
//! - `qr`: the otpauth URI as a QR code, in SVG;
//! - the flows, each a plain async fn over the `AppState`: `challenge` (a login's second step),
//!   `enrolment` (the user's own changes), both spending codes through `proof`; `schema` reads
//!   their bodies.

pub mod authenticator;
pub mod challenge;
pub mod enrolment;
pub mod proof;
pub mod qr;
pub mod recovery;
pub mod schema;

pub use auth_core::mfa::key::MfaKey;
pub use authenticator::Authenticator;

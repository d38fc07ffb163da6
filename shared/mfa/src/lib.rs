//! The second factor itself, for the routes that enrol and check it (the stores' side is
//! `auth_core::mfa`): no Lambda, no HTTP, no AWS SDK.
//!
//! - `authenticator`: TOTP codes as RFC 6238 defines them and authenticator apps compute them
//!   (SHA-1, 6 digits, 30 s steps, one step either side), with the otpauth URI that adds one;
//! - `key`: the key a deployment keeps outside its tables (`MFA_ENCRYPTION_KEY`), which seals
//!   each TOTP secret (AES-256-GCM, bound to its user) and hashes each recovery code, so that a
//!   copy of the users table passes no second factor;
//! - `recovery`: recovery codes, shown once, each good once;
//! - `qr`: the otpauth URI as a QR code, in SVG.

pub mod authenticator;
pub mod key;
pub mod qr;
pub mod recovery;

pub use authenticator::Authenticator;
pub use key::MfaKey;

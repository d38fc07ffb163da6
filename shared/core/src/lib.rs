//! The domain of the service, which knows nothing of Lambda, HTTP or the AWS SDK: what every
//! other layer builds on (docs/architecture.md).
//!
//! - Configuration: `settings` (read and validated once, into a typed struct), `keys` (the
//!   asymmetric key set and the crypto provider jsonwebtoken runs on).
//! - Tokens: `claims`, `tokens` (issuing and verifying exactly as flask-jwt-extended does),
//!   `grant` (the pair a login or a refresh hands out).
//! - Input: `login_schema` and `logout_schema` (the seed app's marshmallow rules).
//! - Accounts: `passwords` (Argon2id), `users`, `sessions`, `mfa` (the second factor's stores),
//!   `lookup` (a token's records in one read), `login_throttle`, and `access`, the decision
//!   every token route and the authorizer make: is this token's user still allowed in?
//! - What users see of their accounts: `activity`, the security activity log (the sessions
//!   they can list and end are `sessions`' records).
//! - Running: `clock`, `store` (what every store shares), `metrics` (security events as
//!   CloudWatch metric lines), `function` (the deployed functions) and `state` (what a cold
//!   start builds once, with its one builder).

pub mod access;
pub mod accounts;
pub mod activity;
pub mod claims;
pub mod clock;
pub mod device_proof;
pub mod function;
pub mod grant;
pub mod keys;
pub mod login_schema;
pub mod login_throttle;
pub mod logout_schema;
pub mod lookup;
pub mod metrics;
pub mod mfa;
pub mod passwords;
pub mod sessions;
pub mod settings;
pub mod state;
pub mod store;
pub mod tokens;
pub mod users;

pub use function::Function;
pub use state::{AppState, StartupError, Stores};

//! Everything the functions (login, refresh, profile, logout) share.
//!
//! Domain modules (`settings`, `clock`, `claims`, `tokens`, `login_schema`, `logout_schema`,
//! `passwords`, `users`, `sessions`, `lookup`, `login_throttle`, `store`) know nothing of Lambda
//! or HTTP; `http` is the one place where their errors become statuses; `app` is the state a
//! cold start builds once, `init_error` and `logging` the Lambda start-up report and log setup,
//! `metrics` the security events as CloudWatch metric lines;
//! `dynamodb` the plumbing both DynamoDB stores share, and `trust_roots` the certificate
//! authorities its HTTPS client trusts.
//!
//! Features: `dynamodb` (default) brings the DynamoDB stores and the AWS SDK; without it the
//! crate has no AWS SDK: the token, header and schema code and the in-memory stores (what the
//! fuzz targets build). `admin` adds
//! what only an operator does (create tables, add and change users); `testing` the fixtures of
//! the tests.

pub mod app;
pub mod claims;
pub mod clock;
#[cfg(feature = "dynamodb")]
pub mod dynamodb;
pub mod http;
pub mod init_error;
pub mod logging;
pub mod login_schema;
pub mod login_throttle;
pub mod logout_schema;
pub mod lookup;
pub mod metrics;
pub mod passwords;
pub mod sessions;
pub mod settings;
pub mod store;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod tokens;
#[cfg(feature = "dynamodb")]
pub mod trust_roots;
pub mod users;

pub use app::AppState;

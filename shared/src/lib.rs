//! Everything the login, refresh and profile functions share.
//!
//! Domain modules (`settings`, `claims`, `tokens`, `login_schema`, `logout_schema`,
//! `passwords`, `users`, `sessions`, `login_throttle`) know nothing of Lambda or HTTP; `http`
//! is the one place where their errors become statuses.

pub mod app;
pub mod claims;
pub mod http;
pub mod init_error;
pub mod logging;
pub mod login_schema;
pub mod login_throttle;
pub mod logout_schema;
pub mod passwords;
pub mod sessions;
pub mod settings;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod tokens;
pub mod users;

pub use app::AppState;

//! The thin HTTP layer over `auth_core`: what a request presents (a bearer, or a cookie with its
//! CSRF proof), JSON bodies, where the request reached the API, the deadline, the access log,
//! how issued tokens reach the client, and `errors`, the one place a failure becomes a status.
//! A handler is a plain async function over a `lambda_http::Request`; `respond` turns its
//! result into the answer.

pub mod access_log;
pub mod bearer;
pub mod body;
pub mod client;
pub mod cookies;
pub mod csrf;
pub mod deadline;
pub mod device_proof;
pub mod errors;
pub mod grant;
pub mod guard;
pub mod ip_limit;
pub mod issuer;
pub mod location;
pub mod presented;
pub mod query;
mod respond;
mod response;

pub use errors::{ApiError, ErrorKey};
pub use respond::respond;
pub use response::json_response;

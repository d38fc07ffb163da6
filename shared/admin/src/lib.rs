//! What only an operator does to the tables: the `users` command and the tests use it; no
//! function does, so none carries it (their IAM policies allow none of it either).
//!
//! - `tables`: create the users table (with its `email` index) and the sessions table as the
//!   template declares them;
//! - `users`: add, import, change, give an address to, grant and revoke scopes of, end the
//!   sessions of, take the second factor from, remove and list users.

mod tables;
mod users;

pub use tables::create_sessions_table;
pub use users::{AdminError, UserAdmin, sessions_end_now};

//! What only an operator does to the tables: the `users` command and the tests use it; no
//! function does, so none carries it (their IAM policies allow none of it either).
//!
//! - `tables`: create the users table (with its `email` index), the sessions table (with its
//!   `user-sessions` index) and the activity table as the template declares them;
//! - `activity`: what an operator's changes write in the user's activity log;
//! - `users`: add, import, change, give an address to, grant and revoke scopes of, end the
//!   sessions of, take the second factor from, remove and list users.

mod activity;
mod tables;
mod users;

pub use activity::OperatorLog;
pub use tables::{create_activity_table, create_sessions_table};
pub use users::{AdminError, UserAdmin, sessions_end_now};

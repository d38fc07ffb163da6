//! Runs a function's real `bootstrap` binary the way Lambda does: as a child process that talks
//! to a Runtime API, here an emulator of the documented one on loopback
//! (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>), with the environment the
//! SAM template gives the function.
//!
//! The end-to-end tests feed it API Gateway events; the cold-start benchmark times it.

// A test tool: an emulator or benchmark whose own state breaks fails the run that drives it,
// with the reason, which is what an unwrap, expect or panic does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod cpu_share;
pub mod events;
pub mod http_message;
pub mod machine;
pub mod runtime_api;
pub mod template;
pub mod tls_front;

pub use machine::elf_architecture;
pub use runtime_api::{ExecutionEnvironment, InitError, Invocation, InvokeError, Reply};
pub use template::{Route, Template, TemplateError};

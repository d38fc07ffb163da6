//! The release bootstraps under the Runtime API emulator, and the template's routes, CORS, environment size and operations checked against the code.
//!
//! One test binary for the crate, its files modules of it: one link instead of one per
//! file (kanidm's layout). Add a module here rather than a file under tests/.

mod bootstraps;
mod cors;
mod environment_size;
mod operations;
mod routes;

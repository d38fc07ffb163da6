//! `check-reply EVENT_FILE REPLY_FILE`: is the reply (API Gateway payload 2.0, as
//! `sam local invoke` prints it) the one the event documents? Exits 0 if so; otherwise prints
//! why and exits 1. `scripts/sam-local-invoke` uses it, so sam local and the Rust tests judge
//! replies by the same rules.

// A test tool: an emulator or benchmark whose own state breaks fails the run that drives it,
// with the reason, which is what an unwrap, expect or panic does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{path::Path, process::ExitCode};

use lambda_emulator::events::{self, ADDED_BY_DYNAMODB};
use serde_json::Value;

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let [event, reply] = arguments.as_slice() else {
        eprintln!("usage: check-reply EVENT_FILE REPLY_FILE");
        return ExitCode::from(2);
    };
    match check(Path::new(event), Path::new(reply)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            println!("{why}");
            ExitCode::FAILURE
        }
    }
}

fn check(event: &Path, reply: &Path) -> Result<(), String> {
    let event = events::read(event).map_err(|error| format!("{}: {error}", event.display()))?;
    let text =
        std::fs::read_to_string(reply).map_err(|error| format!("{}: {error}", reply.display()))?;
    let reply: Value = serde_json::from_str(&text)
        .map_err(|_| format!("not JSON: {}", text.chars().take(300).collect::<String>()))?;
    if reply.get("statusCode").is_none() {
        // An invocation error ({"errorType", "errorMessage"}) rather than a reply.
        return Err(format!("not an API Gateway reply: {reply}"));
    }
    event
        .expected
        .check_gateway_reply(&reply, ADDED_BY_DYNAMODB)
}

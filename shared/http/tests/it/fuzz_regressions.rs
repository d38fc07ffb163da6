//! Replays the fuzz inputs that must keep passing, on stable Rust and without libFuzzer: every
//! file of `fuzz/regressions/<target>/` (crashes the fuzzer found, and tricky inputs written by
//! hand) and of `fuzz/seeds/<target>/`, through exactly the code path of the fuzz target
//! (`fuzz/harness.rs`, shared with the targets). An input passes when nothing panics, which
//! includes the properties the harness asserts for every input; the hand-written regressions
//! must also give the answers listed here. `./scripts/fuzz` runs the fuzzer itself.

#[path = "../../../../fuzz/harness.rs"]
mod harness;

use std::{
    fs,
    panic::{self, AssertUnwindSafe},
    path::{Path, PathBuf},
};

/// The inputs of `fuzz/<kind>/<target>/`, sorted by name. Notes (`*.md`) are not inputs.
fn inputs(kind: &str, target: &str) -> Vec<(String, Vec<u8>)> {
    let dir: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "..", "fuzz", kind, target]
        .iter()
        .collect();
    let mut inputs: Vec<(String, Vec<u8>)> = fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|path| path.is_file() && path.extension().is_none_or(|ext| ext != "md"))
        .map(|path| {
            let name = file_name(&path);
            let bytes = fs::read(&path).unwrap_or_else(|error| panic!("{name}: {error}"));
            (name, bytes)
        })
        .collect();
    inputs.sort();
    inputs
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .expect("a file has a name")
        .to_string_lossy()
        .into_owned()
}

/// Runs every input of `fuzz/<kind>/<target>/` through `run`, all of them even when some
/// panic, and checks the answer of each input `expected` lists. Returns how many ran.
fn replay(kind: &str, target: &str, run: fn(&[u8]) -> String, expected: &[(&str, &str)]) -> usize {
    let inputs = inputs(kind, target);
    assert!(
        !inputs.is_empty(),
        "fuzz/{kind}/{target}/ has no inputs: the replay would prove nothing"
    );
    for (name, _) in expected {
        assert!(
            inputs.iter().any(|(input, _)| input == name),
            "fuzz/{kind}/{target}/{name} is expected but missing"
        );
    }
    let mut failures = Vec::new();
    for (name, bytes) in &inputs {
        match panic::catch_unwind(AssertUnwindSafe(|| run(bytes))) {
            Err(_) => failures.push(format!("{name}: panicked (message above)")),
            Ok(answer) => {
                let wanted = expected.iter().find(|(input, _)| input == name);
                if let Some((_, wanted)) = wanted
                    && answer != *wanted
                {
                    failures.push(format!("{name}:\n   got: {answer}\n  want: {wanted}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "fuzz/{kind}/{target}/: {} of {} inputs failed:\n{}",
        failures.len(),
        inputs.len(),
        failures.join("\n")
    );
    inputs.len()
}

/// The answers of the hand-written `bearer_token_verify` regressions: `header:` what the bytes
/// give as an `Authorization` header (and the token found in it), `raw:` what they give passed
/// straight to the verifier. Tokens named `signed-*` are signed with `harness::SECRET`.
const BEARER_TOKEN_VERIFY: &[(&str, &str)] = &[
    (
        "bearer-invalid-utf8",
        "header: token of 11 bytes, refused: Invalid header padding; \
         raw: refused: Invalid header padding",
    ),
    (
        "bearer-tab-separated",
        "header: token of 269 bytes, access token of \"cosmo\", expires at 4102444800; \
         raw: refused: Invalid header padding",
    ),
    (
        "bearer-token-of-many-dots",
        "header: token of 10000 bytes, refused: Invalid header string; \
         raw: refused: Invalid header padding",
    ),
    // Header bytes are Latin-1, as in Flask: the UTF-8 no-break space is `Â` and a Latin-1
    // no-break space, so the first word is `BearerÂ`, not `Bearer`.
    (
        "bearer-unicode-no-break-space",
        "header: refused: Missing 'Bearer' type in 'Authorization' header. \
         Expected 'Authorization: Bearer <JWT>'; raw: refused: Invalid header padding",
    ),
    (
        "header-segment-nested-200-deep",
        "header: token of 539 bytes, refused: Invalid header string; \
         raw: refused: Invalid header padding",
    ),
    (
        "many-bearer-fields",
        "header: refused: Missing 'Bearer' type in 'Authorization' header. \
         Expected 'Authorization: Bearer <JWT>'; raw: refused: Not enough segments",
    ),
    (
        "many-commas-around-bearer",
        "header: token of 269 bytes, access token of \"cosmo\", expires at 4102444800; \
         raw: refused: Invalid header padding",
    ),
    (
        "many-commas-only",
        "header: refused: Missing Authorization Header; raw: refused: Not enough segments",
    ),
    (
        "raw-nul-and-control-bytes",
        "header: not a header value; raw: refused: Invalid header padding",
    ),
    (
        "signed-expiry-out-of-i64-string",
        "header: token of 285 bytes, refused: Expiration Time claim (exp) must be an integer.; \
         raw: refused: Invalid header padding",
    ),
    // PyJWT's int(" 4102444800 "): a padded integer string is an integer.
    (
        "signed-expiry-padded-string",
        "header: token of 275 bytes, access token of \"cosmo\", expires at 4102444800; \
         raw: refused: Invalid header padding",
    ),
    // exp = f64::MAX, iat = -f64::MAX, nbf = false: flask-jwt-extended takes it, but a refresh
    // token whose session began (at its `iat`, having no `auth_time`) longer ago than
    // JWT_SESSION_MAX_AGE has expired, whatever its `exp`; nothing overflows on the way.
    (
        "signed-huge-float-claims",
        "header: token of 300 bytes, refused: Token has expired; \
         raw: refused: Invalid header padding",
    ),
    (
        "signed-padded-segments",
        "header: token of 273 bytes, access token of \"cosmo!\", expires at 4102444800; \
         raw: refused: Invalid header padding",
    ),
    (
        "signed-payload-nested-200-deep",
        "header: token of 615 bytes, refused: Invalid payload string; \
         raw: refused: Invalid header padding",
    ),
];

/// The answers of the hand-written `login_body` regressions: the body refused, or what the login
/// and the logout schemas say of it.
const LOGIN_BODY: &[(&str, &str)] = &[
    (
        "big-integer-unknown-field.json",
        "login: refused: \"n\" Unknown field.; logout: refused: \"n\" Unknown field., \
         \"password\" Unknown field., \"username\" Unknown field.",
    ),
    (
        "combining-character.json",
        "login: ok for \"e\\u{301}\"; logout: refused: \"password\" Unknown field., \
         \"username\" Unknown field.",
    ),
    // serde_json keeps the last of duplicate keys.
    (
        "duplicate-keys.json",
        "login: ok for \"second\"; logout: refused: \"password\" Unknown field., \
         \"username\" Unknown field.",
    ),
    (
        "empty-object.json",
        "login: refused: \"password\" Missing data for required field., \
         \"username\" Missing data for required field.; logout: ok without a token",
    ),
    (
        "invalid-utf8-in-string.json",
        "body refused: Request body is not valid JSON",
    ),
    (
        "logout-with-token.json",
        "login: refused: \"password\" Missing data for required field., \
         \"refresh_token\" Unknown field., \"username\" Missing data for required field.; \
         logout: ok with a token of 5 bytes",
    ),
    (
        "lone-surrogate-escape.json",
        "body refused: Request body is not valid JSON",
    ),
    (
        "many-unknown-fields.json",
        "login: refused: \"f0\" Unknown field., \"f1\" Unknown field., \"f10\" Unknown field., \
         \"f100\" Unknown field., and 998 more; logout: refused: \"f0\" Unknown field., \
         \"f1\" Unknown field., \"f10\" Unknown field., \"f100\" Unknown field., and 996 more",
    ),
    // serde_json's nesting limit, exactly: 127 levels are read, 128 are not.
    (
        "nested-127-levels-accepted.json",
        "login: refused: \"username\" Not a valid string.; logout: refused: \
         \"password\" Unknown field., \"username\" Unknown field.",
    ),
    (
        "nested-128-levels-refused.json",
        "body refused: Request body is not valid JSON",
    ),
    (
        "nested-200-deep.json",
        "body refused: Request body is not valid JSON",
    ),
    (
        "nul-escapes.json",
        "login: ok for \"\\0\"; logout: refused: \"password\" Unknown field., \
         \"username\" Unknown field.",
    ),
    (
        "number-out-of-range.json",
        "body refused: Request body is not valid JSON",
    ),
    (
        "trailing-garbage.json",
        "body refused: Request body is not valid JSON",
    ),
    (
        "utf8-bom.json",
        "body refused: Request body is not valid JSON",
    ),
    (
        "whitespace-only",
        "body refused: Request body is empty: expected a JSON object",
    ),
];

#[test]
fn bearer_token_verify_regressions_pass() {
    let count = replay(
        "regressions",
        "bearer_token_verify",
        harness::bearer_token_verify,
        BEARER_TOKEN_VERIFY,
    );
    assert!(count >= BEARER_TOKEN_VERIFY.len());
}

#[test]
fn login_body_regressions_pass() {
    let count = replay("regressions", "login_body", harness::login_body, LOGIN_BODY);
    assert!(count >= LOGIN_BODY.len());
}

#[test]
fn seeds_pass_too() {
    replay(
        "seeds",
        "bearer_token_verify",
        harness::bearer_token_verify,
        &[],
    );
    replay("seeds", "login_body", harness::login_body, &[]);
}

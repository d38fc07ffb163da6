//! The `users` command end to end against the DynamoDB-compatible test server.

// Test code: an unwrap, expect or panic is how a test says where it failed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    io::Write,
    process::{Command, Output, Stdio},
    sync::atomic::{AtomicUsize, Ordering},
};

use auth_core::{
    mfa::{Confirmation, MfaFields, MfaStore},
    passwords::PasswordChecker,
    users::{UserStore, authenticate},
};
use auth_dynamodb::DynamoUserStore;
use auth_testkit::dynamodb_endpoint;

struct Cli {
    table: String,
}

impl Cli {
    fn new() -> Self {
        let _ = dynamodb_endpoint();
        static TABLES: AtomicUsize = AtomicUsize::new(0);
        let table = format!(
            "users-cli-{}-{}",
            std::process::id(),
            TABLES.fetch_add(1, Ordering::Relaxed)
        );
        let cli = Cli { table };
        let created = cli.run(&["create-table"], None);
        assert!(
            created.status.success(),
            "{}",
            String::from_utf8_lossy(&created.stderr)
        );
        cli
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        self.run_with(args, stdin, &[])
    }

    /// `run`, with the variables `variables` set too (and the activity log's unset unless
    /// they set it).
    fn run_with(&self, args: &[&str], stdin: Option<&str>, variables: &[(&str, &str)]) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_users"))
            .args(args)
            .env("USERS_TABLE", &self.table)
            .env_remove("ACTIVITY_TABLE")
            .envs(variables.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
        drop(input);
        child.wait_with_output().unwrap()
    }

    async fn store(&self) -> DynamoUserStore {
        DynamoUserStore::connect(self.table.clone()).await
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn add_passwd_disable_enable_list_remove_end_to_end() {
    let cli = Cli::new();
    let store = cli.store().await;

    let added = cli.run(
        &["add", "cosmo", "--profile", r#"{"display_name": "Cosmo"}"#],
        Some("space-corgi\nignored line\n"),
    );
    assert!(added.status.success(), "{}", stderr(&added));
    assert_eq!(stdout(&added).trim(), "added cosmo");
    let user = authenticate(&store, &PasswordChecker::new(1), "cosmo", "space-corgi")
        .await
        .unwrap()
        .expect("password from stdin's first line");
    assert_eq!(user.profile["display_name"], "Cosmo");
    assert!(
        user.password_hash
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
    );

    let again = cli.run(&["add", "cosmo"], Some("another-corgi-walk\n"));
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
    assert!(
        authenticate(&store, &PasswordChecker::new(1), "cosmo", "space-corgi")
            .await
            .unwrap()
            .is_some(),
        "not overwritten"
    );

    let forced = cli.run(
        &["add", "cosmo", "--force"],
        Some("replaced-corgi-walk\r\n"),
    );
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert!(
        authenticate(
            &store,
            &PasswordChecker::new(1),
            "cosmo",
            "replaced-corgi-walk"
        )
        .await
        .unwrap()
        .is_some()
    );

    assert!(
        cli.run(&["passwd", "cosmo"], Some("space-corgi\n"))
            .status
            .success()
    );
    assert!(
        authenticate(&store, &PasswordChecker::new(1), "cosmo", "space-corgi")
            .await
            .unwrap()
            .is_some()
    );

    assert!(cli.run(&["disable", "cosmo"], None).status.success());
    assert!(store.find("cosmo").await.unwrap().unwrap().disabled);
    let listed = cli.run(&["list"], None);
    assert!(
        stdout(&listed).starts_with("cosmo\tdisabled\t"),
        "{}",
        stdout(&listed)
    );
    assert!(cli.run(&["enable", "cosmo"], None).status.success());
    assert!(!store.find("cosmo").await.unwrap().unwrap().disabled);

    assert!(cli.run(&["remove", "cosmo"], None).status.success());
    assert!(store.find("cosmo").await.unwrap().is_none());
    let missing = cli.run(&["remove", "cosmo"], None);
    assert!(!missing.status.success());
    assert_eq!(stderr(&missing).trim(), "users: no user cosmo");
}

#[test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
fn empty_password_and_missing_table_are_refused() {
    let cli = Cli::new();
    let empty = cli.run(&["add", "cosmo"], Some("\n"));
    assert!(!empty.status.success());
    assert!(stderr(&empty).contains("the password is empty"));

    let no_table = Command::new(env!("CARGO_BIN_EXE_users"))
        .arg("list")
        .env_remove("USERS_TABLE")
        .output()
        .unwrap();
    assert!(!no_table.status.success());
    assert!(stderr(&no_table).contains("USERS_TABLE: is required"));
}

#[test]
fn the_password_is_never_an_argument() {
    let help = Command::new(env!("CARGO_BIN_EXE_users"))
        .args(["add", "--help"])
        .output()
        .unwrap();
    let text = stdout(&help);
    assert!(help.status.success());
    assert!(!text.to_lowercase().contains("--password"), "{text}");
}

#[test]
fn an_empty_endpoint_variable_counts_as_unset_instead_of_breaking_every_call() {
    // What CloudFormation and sam local pass for the template's declared but unset variable.
    // With no network here the default endpoint is unreachable: a clear store error, no panic.
    let output = Command::new(env!("CARGO_BIN_EXE_users"))
        .arg("list")
        .env("USERS_TABLE", "users")
        .env("AWS_ENDPOINT_URL_DYNAMODB", "")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    let errors = stderr(&output);
    assert!(!output.status.success());
    assert!(!errors.contains("panicked"), "{errors}");
    assert!(errors.contains("store unavailable"), "{errors}");
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn passwd_disable_end_sessions_and_mfa_reset_each_end_the_users_sessions() {
    let cli = Cli::new();
    let store = cli.store().await;
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    };
    let before = now();
    let added = cli.run(&["add", "cosmo"], Some("space-corgi\n"));
    assert!(added.status.success(), "{}", stderr(&added));
    let valid_after = || async {
        store
            .find("cosmo")
            .await
            .unwrap()
            .unwrap()
            .tokens_valid_after
    };
    // A new account refuses every token issued before it existed: an earlier account of the
    // same name's, above all.
    let created = valid_after()
        .await
        .expect("a new user's tokens_valid_after is set");
    assert!(created > before && created <= now() + 1, "{created}");
    for args in [
        &["passwd", "cosmo"][..],
        &["end-sessions", "cosmo"],
        &["mfa-reset", "cosmo"],
        &["disable", "cosmo"],
    ] {
        // Wait out the value the command before set (the next whole second after it ran), so
        // that this one's can only be new if this command wrote it.
        let previous = valid_after().await.expect("tokens_valid_after is set");
        while now() < previous {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let before = now();
        let ran = cli.run(args, Some("new-corgi\n"));
        assert!(ran.status.success(), "{args:?}: {}", stderr(&ran));
        let after = valid_after().await.expect("tokens_valid_after is set");
        // The next whole second: tokens issued up to now are refused.
        assert!(
            after > previous && after > before && after <= now() + 1,
            "{args:?}: {after}, before {previous}"
        );
        assert!(
            !store
                .find("cosmo")
                .await
                .unwrap()
                .unwrap()
                .public_record()
                .contains_key("tokens_valid_after"),
            "it is not a profile field"
        );
    }
    let missing = cli.run(&["end-sessions", "nobody"], None);
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("no user nobody"));
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn mfa_reset_removes_the_factor_and_says_so() {
    let cli = Cli::new();
    let store = cli.store().await;
    let added = cli.run(&["add", "cosmo"], Some("space-corgi\n"));
    assert!(added.status.success(), "{}", stderr(&added));
    assert!(store.begin_enrolment("cosmo", "v1.k.sealed").await.unwrap());
    let recovery_codes = ["h".to_owned()];
    let confirmation = Confirmation {
        username: "cosmo",
        sealed_secret: "v1.k.sealed",
        step: 7,
        recovery_codes: &recovery_codes,
        valid_after: 1_700_000_000,
        kept_session: Some("s"),
    };
    assert!(store.confirm_enrolment(&confirmation).await.unwrap());

    let reset = cli.run(&["mfa-reset", "cosmo"], None);
    assert!(reset.status.success(), "{}", stderr(&reset));
    assert_eq!(
        stdout(&reset).trim(),
        "cosmo: second factor removed; every session ended"
    );
    let user = store.find("cosmo").await.unwrap().unwrap();
    assert_eq!(user.account.mfa, MfaFields::default());
    assert_eq!(user.account.kept_session, None);

    let missing = cli.run(&["mfa-reset", "nobody"], None);
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("no user nobody"),
        "{}",
        stderr(&missing)
    );
}

#[test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
fn create_sessions_table_needs_sessions_table_and_makes_it() {
    let _ = dynamodb_endpoint();
    let users = |args: &[&str], table: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_users"));
        command.args(args).env_remove("SESSIONS_TABLE");
        if let Some(table) = table {
            command.env("SESSIONS_TABLE", table);
        }
        command.output().unwrap()
    };
    let refused = users(&["create-sessions-table"], None);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("SESSIONS_TABLE: is required"));
    let table = format!("sessions-cli-{}", std::process::id());
    let created = users(&["create-sessions-table"], Some(&table));
    assert!(created.status.success(), "{}", stderr(&created));
    assert_eq!(stdout(&created).trim(), format!("created table {table}"));
}

/// An account moved from elsewhere keeps the tokens it had since `--created-at`; a replacement
/// cannot be dated back (it would revive the tokens of what it replaces), nor can an account be
/// created in the future.
#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn created_at_dates_an_imported_account_back_but_never_a_replacement() {
    let cli = Cli::new();
    let store = cli.store().await;
    let imported = cli.run(
        &["add", "cosmo", "--created-at", "2026-01-31T09:00:00Z"],
        Some("space-corgi\n"),
    );
    assert!(imported.status.success(), "{}", stderr(&imported));
    let cosmo = store.find("cosmo").await.unwrap().unwrap();
    assert_eq!(cosmo.tokens_valid_after, Some(1_769_850_000));
    assert_eq!(cosmo.profile["created_at"], "2026-01-31T09:00:00Z");

    let replaced = cli.run(
        &[
            "add",
            "cosmo",
            "--force",
            "--created-at",
            "2026-01-31T09:00:00Z",
        ],
        Some("another-corgi-walk\n"),
    );
    assert!(!replaced.status.success());
    assert!(
        stderr(&replaced).contains("--force"),
        "{}",
        stderr(&replaced)
    );
    let again = cli.run(
        &["add", "cosmo", "--created-at", "2026-01-31T09:00:00Z"],
        Some("another-corgi-walk\n"),
    );
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
    let future = cli.run(
        &["add", "wanda", "--created-at", "2999-01-01T00:00:00Z"],
        Some("a-future-walk-in-space\n"),
    );
    assert!(
        stderr(&future).contains("cannot be created in the future"),
        "{}",
        stderr(&future)
    );
    assert!(store.find("wanda").await.unwrap().is_none());
}

#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn grant_revoke_scope_and_list_end_to_end() {
    let cli = Cli::new();
    let store = cli.store().await;
    let added = cli.run(&["add", "cosmo"], Some("space-corgi\n"));
    assert!(added.status.success(), "{}", stderr(&added));
    let listed = cli.run(&["list"], None);
    assert!(
        stdout(&listed).trim_end().ends_with("\t-"),
        "{}",
        stdout(&listed)
    );

    let granted = cli.run(&["grant", "cosmo", "write", "read", "read"], None);
    assert!(granted.status.success(), "{}", stderr(&granted));
    assert_eq!(stdout(&granted).trim(), "cosmo has scopes: read write");
    let again = cli.run(&["grant", "cosmo", "read"], None);
    assert_eq!(stdout(&again).trim(), "cosmo has scopes: read write");
    assert_eq!(
        store.find("cosmo").await.unwrap().unwrap().scopes,
        ["read", "write"]
    );
    let listed = cli.run(&["list"], None);
    let line = stdout(&listed);
    assert!(
        line.starts_with("cosmo\tenabled\t") && line.trim_end().ends_with("\tread write"),
        "{line}"
    );

    let revoked = cli.run(&["revoke-scope", "cosmo", "write"], None);
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    assert_eq!(stdout(&revoked).trim(), "cosmo has scopes: read");
    let revoked = cli.run(&["revoke-scope", "cosmo", "read"], None);
    assert_eq!(stdout(&revoked).trim(), "cosmo has no scopes");
    assert!(
        store
            .find("cosmo")
            .await
            .unwrap()
            .unwrap()
            .scopes
            .is_empty()
    );

    for command in ["grant", "revoke-scope"] {
        let missing = cli.run(&[command, "nobody", "read"], None);
        assert!(!missing.status.success());
        assert_eq!(stderr(&missing).trim(), "users: no user nobody");
    }
    assert!(store.find("nobody").await.unwrap().is_none());
}

/// `add --email` and `set-email` give a user the address self-service mail goes to, trimmed
/// and lower-cased; one address is one account's, so an address another user has, or is named
/// by, is refused with whose it is.
#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn add_email_and_set_email_give_each_address_to_one_user() {
    use auth_core::accounts::AccountStore;
    let cli = Cli::new();
    let store = cli.store().await;
    let holder = |address: &'static str| {
        let store = store.clone();
        async move {
            store
                .find_by_email(address)
                .await
                .unwrap()
                .map(|user| user.username)
        }
    };

    let added = cli.run(
        &["add", "cosmo", "--email", " Cosmo@Example.COM "],
        Some("space-corgi\n"),
    );
    assert!(added.status.success(), "{}", stderr(&added));
    assert_eq!(
        stdout(&added).trim(),
        "added cosmo with the address cosmo@example.com"
    );
    assert_eq!(holder("cosmo@example.com").await.as_deref(), Some("cosmo"));

    let taken = cli.run(
        &["add", "wanda", "--email", "cosmo@example.com"],
        Some("space-corgi-walk\n"),
    );
    assert!(!taken.status.success());
    assert_eq!(
        stderr(&taken).trim(),
        "users: cosmo@example.com is already the address of user cosmo: set-email cosmo to \
         another first"
    );
    assert!(store.find("wanda").await.unwrap().is_none(), "not added");

    let added = cli.run(&["add", "wanda"], Some("space-corgi-walk\n"));
    assert!(added.status.success(), "{}", stderr(&added));
    let set = cli.run(&["set-email", "wanda", "Wanda@Example.com"], None);
    assert!(set.status.success(), "{}", stderr(&set));
    assert_eq!(
        stdout(&set).trim(),
        "wanda has the address wanda@example.com"
    );
    assert_eq!(holder("wanda@example.com").await.as_deref(), Some("wanda"));

    let taken = cli.run(&["set-email", "wanda", "COSMO@example.com"], None);
    assert!(!taken.status.success());
    assert_eq!(
        stderr(&taken).trim(),
        "users: cosmo@example.com is already the address of user cosmo: set-email cosmo to \
         another first"
    );
    let added = cli.run(&["add", "lee@example.com"], Some("space-corgi-walk\n"));
    assert!(added.status.success(), "{}", stderr(&added));
    let named = cli.run(&["set-email", "wanda", "lee@example.com"], None);
    assert!(!named.status.success());
    assert_eq!(
        stderr(&named).trim(),
        "users: lee@example.com is the username of another user: an address names one account"
    );
    let malformed = cli.run(&["set-email", "wanda", "wanda at example.com"], None);
    assert!(!malformed.status.success());
    assert_eq!(
        stderr(&malformed).trim(),
        "users: Not a valid email address."
    );
    assert_eq!(
        holder("wanda@example.com").await.as_deref(),
        Some("wanda"),
        "each refusal changed nothing"
    );

    // A user may move to another address: the old one is nobody's then.
    let moved = cli.run(&["set-email", "cosmo", "cosmo@example.net"], None);
    assert!(moved.status.success(), "{}", stderr(&moved));
    assert_eq!(holder("cosmo@example.net").await.as_deref(), Some("cosmo"));
    assert_eq!(holder("cosmo@example.com").await, None);
    let missing = cli.run(&["set-email", "nobody", "nobody@example.com"], None);
    assert!(!missing.status.success());
    assert_eq!(stderr(&missing).trim(), "users: no user nobody");
}

/// An address no mail can reach is refused before the password is asked for or the store is
/// asked.
#[test]
fn add_with_an_invalid_email_is_refused_before_the_password_or_the_store() {
    let closed = format!("http://127.0.0.1:{}", closed_port());
    for (address, said) in [
        ("wanda", "users: Not a valid email address."),
        (
            "wända@example.com",
            "users: Email address has characters outside ASCII: write an international domain \
             in its xn-- form; a local part must be ASCII.",
        ),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_users"))
            .args(["add", "wanda", "--email", address])
            .env("USERS_TABLE", "users")
            .env("AWS_ENDPOINT_URL_DYNAMODB", &closed)
            .env("AWS_REGION", "us-east-1")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1));
        assert_eq!(stderr(&output).trim(), said);
    }
}

#[test]
fn an_invalid_scope_is_refused_by_name_before_the_store_is_asked() {
    for (command, bad) in [
        ("grant", "read write"),
        ("grant", "say\"hi\""),
        ("revoke-scope", "back\\slash"),
    ] {
        // A closed port: had the store been asked, the error would be "store unavailable".
        let output = Command::new(env!("CARGO_BIN_EXE_users"))
            .args([command, "cosmo", "read", bad])
            .env("USERS_TABLE", "users")
            .env("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .unwrap();
        let errors = stderr(&output);
        assert!(!output.status.success());
        assert!(
            errors.starts_with(&format!("users: scope {bad:?} is not a scope-token")),
            "{errors}"
        );
    }
}

#[test]
fn revoke_scope_help_says_a_revoked_scope_lasts_until_the_access_token_expires() {
    let help = Command::new(env!("CARGO_BIN_EXE_users"))
        .args(["revoke-scope", "--help"])
        .output()
        .unwrap();
    assert!(help.status.success());
    let text = stdout(&help);
    assert!(text.contains("access-token lifetime"), "{text}");
    assert!(text.contains("end-sessions"), "{text}");
}

/// `users list` over `USERS_TABLE=users` in an environment of `variables` alone (no profile,
/// no AWS variables of the caller's): the exit status and what it printed to stderr.
fn list_with_only(variables: &[(&str, &str)]) -> (Option<i32>, String) {
    let home = std::env::temp_dir().join(format!("users-cli-home-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_users"))
        .arg("list")
        .env_clear()
        .env("HOME", &home)
        .env("USERS_TABLE", "users")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(variables.iter().copied())
        .output()
        .unwrap();
    (output.status.code(), stderr(&output))
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

const CREDENTIALS: [(&str, &str); 2] = [
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
];

#[test]
fn without_a_region_or_an_endpoint_it_refuses_before_any_connection() {
    let (status, errors) = list_with_only(&CREDENTIALS);
    assert_eq!(status, Some(1), "{errors}");
    assert_eq!(
        errors.trim(),
        "users: no AWS region and no endpoint: set AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000 \
         (any local DynamoDB-compatible server: moto, DynamoDB Local), or AWS_REGION (and \
         credentials) for AWS itself; without either the SDK would ask the EC2 instance \
         metadata service"
    );
}

#[test]
fn a_stopped_server_no_region_and_no_credentials_each_say_what_to_do_in_one_line() {
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let stopped = [
        ("AWS_ENDPOINT_URL_DYNAMODB", endpoint.as_str()),
        ("AWS_REGION", "us-east-1"),
        CREDENTIALS[0],
        CREDENTIALS[1],
    ];
    let (status, errors) = list_with_only(&stopped);
    assert_eq!(status, Some(1), "{errors}");
    assert_eq!(
        errors.trim(),
        format!(
            "users: store unavailable: cannot connect to the server at {endpoint}: is it \
             running (AWS_ENDPOINT_URL_DYNAMODB names it)?"
        )
    );
    // RUST_LOG=debug shows the SDK's chain of causes too.
    let (_, debug) = list_with_only(&[
        stopped[0],
        stopped[1],
        stopped[2],
        stopped[3],
        ("RUST_LOG", "debug"),
    ]);
    assert!(debug.contains("Connection refused"), "{debug}");
    // An endpoint but no region, and a region but no credentials.
    let (status, errors) = list_with_only(&[
        ("AWS_ENDPOINT_URL_DYNAMODB", endpoint.as_str()),
        CREDENTIALS[0],
        CREDENTIALS[1],
    ]);
    assert_eq!(status, Some(1), "{errors}");
    assert_eq!(
        errors.trim(),
        "users: store unavailable: no AWS region: set AWS_REGION (for example \
         AWS_REGION=us-east-1), or AWS_ENDPOINT_URL_DYNAMODB for a local server"
    );
    let (status, errors) = list_with_only(&[
        ("AWS_ENDPOINT_URL_DYNAMODB", endpoint.as_str()),
        ("AWS_REGION", "us-east-1"),
    ]);
    assert_eq!(status, Some(1), "{errors}");
    assert_eq!(
        errors.trim(),
        "users: store unavailable: no AWS credentials: set AWS_ACCESS_KEY_ID and \
         AWS_SECRET_ACCESS_KEY (any values for a local server), or AWS_PROFILE"
    );
}

#[test]
fn a_server_that_never_answers_is_named_after_the_timeout() {
    // Accepts, reads, never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", silent.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in silent.incoming().flatten() {
            held.push(stream);
        }
    });
    let (status, errors) = list_with_only(&[
        ("AWS_ENDPOINT_URL_DYNAMODB", endpoint.as_str()),
        ("AWS_REGION", "us-east-1"),
        CREDENTIALS[0],
        CREDENTIALS[1],
    ]);
    assert_eq!(status, Some(1), "{errors}");
    assert_eq!(
        errors.trim(),
        format!(
            "users: store unavailable: no answer within 5s from the server at {endpoint}: is it \
             running (AWS_ENDPOINT_URL_DYNAMODB names it)?"
        )
    );
}

#[test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
fn a_table_that_does_not_exist_says_how_to_create_it() {
    let endpoint = dynamodb_endpoint();
    let (status, errors) = list_with_only(&[
        ("AWS_ENDPOINT_URL_DYNAMODB", endpoint.as_str()),
        ("AWS_REGION", "us-east-1"),
        ("USERS_TABLE", "no-such-table-here"),
        CREDENTIALS[0],
        CREDENTIALS[1],
    ]);
    assert_eq!(status, Some(1), "{errors}");
    assert_eq!(
        errors.trim(),
        "users: store unavailable: the table does not exist: create it with `users \
         create-table` (the sessions table: `users create-sessions-table`), or check \
         USERS_TABLE, SESSIONS_TABLE and the region"
    );
}

/// `users add` and `passwd` refuse a password the policy refuses, each with its reason, before
/// the store is asked or the password hashed.
#[test]
fn a_weak_password_is_refused_with_what_to_do_before_the_store_is_asked() {
    let closed = format!("http://127.0.0.1:{}", closed_port());
    let cases = [
        (
            "corgi",
            "users: the password is 5 characters: use at least 8 (a phrase of a few unrelated \
             words is long and easy to remember)",
        ),
        (
            "password",
            "users: the password is too easy to guess (it is one of the most common passwords): \
             it would be among an attacker's first million guesses; use a phrase of a few \
             unrelated words",
        ),
    ];
    for (password, said) in cases {
        let output = Command::new(env!("CARGO_BIN_EXE_users"))
            .args(["add", "wanda"])
            .env("USERS_TABLE", "users")
            .env("AWS_ENDPOINT_URL_DYNAMODB", &closed)
            .env("AWS_REGION", "us-east-1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(format!("{password}\n").as_bytes())?;
                child.wait_with_output()
            })
            .unwrap();
        assert_eq!(output.status.code(), Some(1));
        assert_eq!(stderr(&output).trim(), said);
    }
}

/// An operator lists a user's live sessions, ends one of them (not another user's), and reads
/// the user's activity log, where each change they made to the user is written.
#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn sessions_end_session_and_activity_end_to_end() {
    use auth_core::{
        claims::AuthMethods,
        sessions::{SessionStart, SessionStore},
        tokens::new_token_id,
    };
    let cli = Cli::new();
    let sessions_table = format!("{}-sessions", cli.table);
    let activity_table = format!("{}-activity", cli.table);
    let tables = [
        ("SESSIONS_TABLE", sessions_table.as_str()),
        ("ACTIVITY_TABLE", activity_table.as_str()),
    ];
    let run = |args: &[&str], stdin: Option<&str>| cli.run_with(args, stdin, &tables);
    for command in ["create-sessions-table", "create-activity-table"] {
        let created = run(&[command], None);
        assert!(created.status.success(), "{}", stderr(&created));
    }
    // An account from before: its sessions below began after it was created, and before any
    // change made to it now.
    let added = run(
        &["add", "cosmo", "--created-at", "2026-01-31T09:00:00Z"],
        Some("space-corgi\n"),
    );
    assert!(added.status.success(), "{}", stderr(&added));
    let now = auth_core::clock::Clock::System.unix_secs();

    let store = auth_dynamodb::DynamoSessionStore::connect(sessions_table.clone()).await;
    let (older, newer, wandas) = (new_token_id(), new_token_id(), new_token_id());
    let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
    for (session, username, started_at) in [
        (&older, "cosmo", now - 100),
        (&newer, "cosmo", now - 50),
        (&wandas, "wanda", now - 70),
    ] {
        store
            .start_session(&SessionStart {
                session,
                username,
                started_at,
                refresh_until: now + 3600,
                record_until: now + 3600,
                source_ip: Some("203.0.113.9"),
                user_agent: Some(firefox),
                methods: AuthMethods::Password,
            })
            .await
            .unwrap();
    }
    let listed = run(&["sessions", "cosmo"], None);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let lines: Vec<String> = stdout(&listed).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with(&format!("{newer}\t")), "{lines:?}");
    assert!(lines[1].starts_with(&format!("{older}\t")), "{lines:?}");
    assert!(
        lines[0].ends_with("\t-\t203.0.113.9\tpwd\tFirefox 133 on Linux"),
        "{lines:?}"
    );

    let foreign = run(&["end-session", "cosmo", &wandas], None);
    assert!(!foreign.status.success());
    assert!(
        stderr(&foreign).contains(&format!("cosmo has no live session {wandas}")),
        "{}",
        stderr(&foreign)
    );
    let ended = run(&["end-session", "cosmo", &newer], None);
    assert!(ended.status.success(), "{}", stderr(&ended));
    assert_eq!(
        stdout(&ended).trim(),
        format!("ended session {newer} of cosmo")
    );
    let again = run(&["end-session", "cosmo", &newer], None);
    assert!(!again.status.success());
    let listed = run(&["sessions", "cosmo"], None);
    assert_eq!(stdout(&listed).lines().count(), 1, "{}", stdout(&listed));
    assert!(stdout(&listed).starts_with(&older));

    for command in ["disable", "enable", "end-sessions", "mfa-reset"] {
        let done = run(&[command, "cosmo"], None);
        assert!(done.status.success(), "{command}: {}", stderr(&done));
        assert!(stderr(&done).is_empty(), "{command}: {}", stderr(&done));
    }
    let changed = run(&["passwd", "cosmo"], Some("another-corgi-walk\n"));
    assert!(changed.status.success(), "{}", stderr(&changed));
    // Every session began before the operator ended them.
    let listed = run(&["sessions", "cosmo"], None);
    assert!(listed.status.success());
    assert_eq!(stdout(&listed), "");

    let activity = run(&["activity", "cosmo"], None);
    assert!(activity.status.success(), "{}", stderr(&activity));
    let read: Vec<Vec<String>> = stdout(&activity)
        .lines()
        .map(|line| line.split('\t').map(str::to_owned).collect())
        .collect();
    let events: Vec<(&str, &str, &str)> = read
        .iter()
        .map(|columns| {
            (
                columns[1].as_str(),
                columns[2].as_str(),
                columns[3].as_str(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            ("account_changed", "success", "password_set"),
            ("account_changed", "success", "mfa_reset"),
            ("sessions_ended", "success", "by_operator"),
            ("account_changed", "success", "enabled"),
            ("account_changed", "success", "disabled"),
            ("session_ended", "success", "by_operator"),
        ]
    );
    assert_eq!(read[5][6], newer, "the session it ended");
    let limited = run(&["activity", "cosmo", "--limit", "2"], None);
    assert_eq!(stdout(&limited).lines().count(), 2);
    assert_eq!(stdout(&run(&["activity", "wanda"], None)), "");

    let unknown = run(&["sessions", "nobody"], None);
    assert!(!unknown.status.success());
    assert_eq!(stderr(&unknown).trim(), "users: no user nobody");
    let absent = run(&["disable", "nobody"], None);
    assert!(!absent.status.success());
    let entries = run(&["activity", "nobody"], None);
    assert_eq!(
        stdout(&entries),
        "",
        "nothing is logged for a user who does not exist"
    );
}

/// An activity log that cannot be written never fails the change it would record: the change
/// is made, and a warning says it was not logged. Without ACTIVITY_TABLE nothing is logged and
/// `activity` says what it needs.
#[tokio::test]
#[ignore = "needs a DynamoDB-compatible server: ./scripts/test runs it"]
async fn a_log_that_cannot_be_written_is_a_warning_and_no_table_is_no_log() {
    let cli = Cli::new();
    let added = cli.run(&["add", "cosmo"], Some("space-corgi\n"));
    assert!(added.status.success(), "{}", stderr(&added));
    let missing = format!("{}-no-such-activity", cli.table);
    let disabled = cli.run_with(&["disable", "cosmo"], None, &[("ACTIVITY_TABLE", &missing)]);
    assert!(disabled.status.success(), "{}", stderr(&disabled));
    assert_eq!(stdout(&disabled).trim(), "disabled cosmo");
    assert!(
        stderr(&disabled)
            .starts_with("users: warning: done, but not written to cosmo's activity log"),
        "{}",
        stderr(&disabled)
    );
    assert!(
        cli.store()
            .await
            .find("cosmo")
            .await
            .unwrap()
            .unwrap()
            .disabled
    );

    let enabled = cli.run(&["enable", "cosmo"], None);
    assert!(enabled.status.success());
    assert!(stderr(&enabled).is_empty(), "{}", stderr(&enabled));
    let activity = cli.run(&["activity", "cosmo"], None);
    assert!(!activity.status.success());
    assert!(
        stderr(&activity).contains("ACTIVITY_TABLE: is required"),
        "{}",
        stderr(&activity)
    );
    let create = cli.run(&["create-activity-table"], None);
    assert!(stderr(&create).contains("ACTIVITY_TABLE: is required"));
}

#[test]
fn the_help_names_the_tables_each_command_needs() {
    let help = Command::new(env!("CARGO_BIN_EXE_users"))
        .arg("--help")
        .output()
        .unwrap();
    let help = stdout(&help);
    for expected in [
        "sessions",
        "end-session",
        "activity",
        "create-activity-table",
        "SESSIONS_TABLE",
        "ACTIVITY_TABLE",
        "ACTIVITY_RETENTION",
    ] {
        assert!(help.contains(expected), "{expected}: {help}");
    }
}

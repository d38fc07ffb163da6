//! `cargo run -p users -- add NAME`: manage the users in the DynamoDB table `USERS_TABLE`, their
//! sessions (`SESSIONS_TABLE`) and read their activity log (`ACTIVITY_TABLE`), with the same
//! configuration (region, credentials, `AWS_ENDPOINT_URL_DYNAMODB`) as the functions. With
//! `ACTIVITY_TABLE` set, each change an operator makes to a user is written to that user's log.
//!
//! Passwords come from a no-echo prompt on a terminal, or from the first line of standard input
//! otherwise; never from the command line, where `ps` and shell history would keep them.

mod show;

use std::{
    io::{BufRead, IsTerminal},
    process::ExitCode,
    time::SystemTime,
};

use auth_admin::{
    AdminError, OperatorLog, UserAdmin, create_activity_table, create_sessions_table,
};
use auth_core::{
    accounts::{AccountFields, email},
    activity::{ActivityEvent, detail},
    clock::Clock,
    passwords,
    sessions::{MAX_PAGE_SIZE, SessionCursor, SessionInfo, SessionStore, live_sessions_page},
    settings::{
        ActivitySettings, SESSIONS_TABLE_REQUIRED, SESSIONS_TABLE_VAR, USERS_TABLE_REQUIRED,
        USERS_TABLE_VAR, activity,
    },
    store::{StoreError, is_valid_key},
    users::{User, UserStore},
};
use auth_dynamodb::{DynamoActivityLog, DynamoSessionStore, DynamoUserStore};
use clap::{Parser, Subcommand};
use serde_json::{Map, Value};

/// What `activity` and `create-activity-table` say without `ACTIVITY_TABLE`.
const ACTIVITY_TABLE_REQUIRED: &str = "ACTIVITY_TABLE: is required: the name of the DynamoDB \
     table of the users' activity log (`users create-activity-table` makes one on a local server)";
/// The most entries `activity` shows at once.
const MAX_ACTIVITY_SHOWN: usize = 1000;

#[derive(Parser)]
#[command(
    name = "users",
    about = "Manage the users of the DynamoDB table named by USERS_TABLE",
    after_help = "Tables: USERS_TABLE (the users), SESSIONS_TABLE (sessions, end-session, \
                  create-sessions-table), ACTIVITY_TABLE (activity, create-activity-table; when \
                  set, passwd, disable, enable, end-sessions, end-session and mfa-reset are \
                  written to the user's activity log, kept for ACTIVITY_RETENTION, default 90d)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Add a user (refuses to replace an existing one without --force). Tokens issued before
    /// the account was created never open it.
    Add {
        username: String,
        /// Replace the user if it exists: its whole record (password, profile, enabled,
        /// created_at, scopes).
        #[arg(long)]
        force: bool,
        /// Public profile fields as a JSON object, e.g. '{"display_name": "Cosmo"}'.
        #[arg(long, value_name = "JSON")]
        profile: Option<String>,
        /// For an account moved from elsewhere: it has existed since this time (RFC 3339, e.g.
        /// 2026-01-31T09:00:00Z), and its tokens issued since then keep working. Default: now.
        /// Never with --force: a replacement dated back would revive the tokens it replaces.
        #[arg(long, value_name = "TIME", value_parser = parse_time, conflicts_with = "force")]
        created_at: Option<SystemTime>,
        /// The user's email address, where the self-service mails (a password reset) go:
        /// trimmed and lower-cased. Refused if another user has it, or is named by it.
        #[arg(long, value_name = "ADDRESS")]
        email: Option<String>,
    },
    /// Give the user an email address, where the self-service mails (a password reset) go.
    ///
    /// The address is trimmed and lower-cased; it is refused if another user has it or is named
    /// by it (one address is one account). Tokens mailed to the user's old address stop
    /// working. Their sessions go on.
    SetEmail {
        username: String,
        #[arg(value_name = "ADDRESS")]
        address: String,
    },
    /// Set a new password; the user's tokens issued until now stop working.
    Passwd { username: String },
    /// Refuse the user's logins and tokens; re-enabling does not bring the tokens back.
    Disable { username: String },
    /// Sign the user out everywhere: their tokens issued until now stop working.
    EndSessions { username: String },
    /// List the user's live sessions, newest first (SESSIONS_TABLE): id, started, last
    /// refresh, source address, sign-in methods (amr) and device, tab-separated. Sessions a
    /// password change, disable or end-sessions ended are not listed.
    Sessions { username: String },
    /// End one of the user's sessions (SESSIONS_TABLE): its refresh tokens die at once, its
    /// access tokens from the next request. Fails if it is not a live session of the user.
    EndSession {
        username: String,
        /// The session's id, as `sessions` lists it.
        #[arg(value_name = "ID")]
        session: String,
    },
    /// Show the user's activity log, newest first (ACTIVITY_TABLE): time, event, outcome,
    /// detail, source address, device and session, tab-separated.
    Activity {
        username: String,
        /// How many entries to show, the newest.
        #[arg(long, default_value_t = 20, value_name = "N",
              value_parser = clap::value_parser!(u16).range(1..=MAX_ACTIVITY_SHOWN as i64))]
        limit: u16,
    },
    /// Remove the user's second factor and sign them out everywhere, for a user who lost both
    /// their authenticator and their recovery codes.
    ///
    /// Their password alone opens the account until they enrol a factor again. Check who is
    /// asking first: this is what someone who has only the password would ask for.
    MfaReset { username: String },
    /// Let a disabled user in again.
    Enable { username: String },
    /// Grant OAuth scopes to the user, from their next access token on.
    ///
    /// A scope they have already is no change. Each scope is an RFC 6749 scope-token: 1 to 128
    /// printable ASCII characters, none of them a space, " or \. Tokens already issued are left
    /// alone: the user's next access token (at login or refresh) carries the scopes.
    Grant {
        username: String,
        /// One or more scopes to grant.
        #[arg(value_name = "SCOPE", required = true)]
        scopes: Vec<String>,
    },
    /// Take OAuth scopes from the user, gone within one access-token lifetime.
    ///
    /// A scope they do not have is no change. Their sessions go on: an access token already
    /// issued keeps the scopes it carries until it expires, and their next one (at login or
    /// refresh) is without the scope; so a revoked scope is gone at the latest one access-token
    /// lifetime (JWT_ACCESS_TOKEN_EXPIRES) later. To take it at once, run end-sessions as well.
    RevokeScope {
        username: String,
        /// One or more scopes to take.
        #[arg(value_name = "SCOPE", required = true)]
        scopes: Vec<String>,
    },
    /// Delete the user.
    Remove { username: String },
    /// List the users: name, state, creation time and scopes (space-separated, - for none).
    List,
    /// Create the table (for local DynamoDB-compatible servers; in AWS the SAM template does).
    CreateTable,
    /// Create the sessions table named by SESSIONS_TABLE, with its TTL and its user-sessions
    /// index (local servers only).
    CreateSessionsTable,
    /// Create the activity table named by ACTIVITY_TABLE, with its TTL (local servers only).
    CreateActivityTable,
}

#[tokio::main]
async fn main() -> ExitCode {
    // Silent unless asked: RUST_LOG=debug adds the SDK's chain of causes to a failure's line.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off")),
        )
        .without_time()
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli.command).await {
        Ok(message) => {
            if !message.is_empty() {
                println!("{message}");
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("users: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<String, String> {
    let refused = |error: AdminError| error.to_string();
    match command {
        Command::Add {
            username,
            force,
            profile,
            created_at,
            email,
        } => {
            let username = check_username(username)?;
            let profile = parse_profile(profile.as_deref())?;
            // Before the password is asked for: a mistyped address costs no prompt.
            let email = email
                .as_deref()
                .map(email::normalise)
                .transpose()
                .map_err(|error| AdminError::InvalidEmail(error).to_string())?;
            let password_hash = hash(&read_password(&username)?)?;
            let admin = UserAdmin::of(&users().await?);
            let user = User {
                username,
                password_hash,
                disabled: false,
                tokens_valid_after: None,
                scopes: Vec::new(),
                profile,
                account: AccountFields {
                    email,
                    ..AccountFields::default()
                },
            };
            match created_at {
                Some(created_at) => admin.import(&user, created_at).await,
                None => admin.add(&user, force).await,
            }
            .map_err(refused)?;
            Ok(match &user.account.email {
                Some(address) => format!("added {} with the address {address}", user.username),
                None => format!("added {}", user.username),
            })
        }
        Command::SetEmail { username, address } => {
            let admin = UserAdmin::of(&users().await?);
            let address = admin
                .set_email(&username, &address)
                .await
                .map_err(refused)?;
            Ok(format!("{username} has the address {address}"))
        }
        Command::Passwd { username } => {
            let store = users().await?;
            // Fail before asking for a password nobody will use; the update itself is
            // conditional on the user existing, so a removal in between is still caught.
            if store
                .find(&username)
                .await
                .map_err(|error| error.to_string())?
                .is_none()
            {
                return Err(AdminError::NotFound(username).to_string());
            }
            let password_hash = hash(&read_password(&username)?)?;
            UserAdmin::of(&store)
                .set_password_hash(&username, &password_hash)
                .await
                .map_err(refused)?;
            log_change(
                &username,
                ActivityEvent::AccountChanged,
                detail::PASSWORD_SET,
                None,
            )
            .await;
            Ok(format!("changed the password of {username}"))
        }
        Command::Disable { username } => {
            let admin = UserAdmin::of(&users().await?);
            admin.set_disabled(&username, true).await.map_err(refused)?;
            log_change(
                &username,
                ActivityEvent::AccountChanged,
                detail::ACCOUNT_DISABLED,
                None,
            )
            .await;
            Ok(format!("disabled {username}"))
        }
        Command::EndSessions { username } => {
            let admin = UserAdmin::of(&users().await?);
            admin.end_sessions(&username).await.map_err(refused)?;
            log_change(
                &username,
                ActivityEvent::SessionsEnded,
                detail::BY_OPERATOR,
                None,
            )
            .await;
            Ok(format!("ended every session of {username}"))
        }
        Command::Sessions { username } => {
            let user = existing_user(&username).await?;
            let store = sessions().await?;
            let listed = live_sessions(&store, &user, Clock::System.unix_secs())
                .await
                .map_err(|error| error.to_string())?;
            let lines: Vec<String> = listed.iter().map(show::session_line).collect();
            Ok(lines.join("\n"))
        }
        Command::EndSession { username, session } => {
            let user = existing_user(&username).await?;
            let store = sessions().await?;
            let not_before = user.sessions_not_before(&session);
            let ended = store
                .end_session_of(&username, &session, not_before, Clock::System.unix_secs())
                .await
                .map_err(|error| error.to_string())?;
            if !ended {
                return Err(format!(
                    "{username} has no live session {session}: see `users sessions {username}`"
                ));
            }
            log_change(
                &username,
                ActivityEvent::SessionEnded,
                detail::BY_OPERATOR,
                Some(&session),
            )
            .await;
            Ok(format!("ended session {session} of {username}"))
        }
        Command::Activity { username, limit } => {
            let log = activity_log().await?;
            let page = log
                .log()
                .list(
                    &username,
                    usize::from(limit),
                    None,
                    Clock::System.unix_secs(),
                )
                .await
                .map_err(|error| error.to_string())?;
            Ok(page
                .entries
                .iter()
                .map(show::activity_line)
                .collect::<Vec<_>>()
                .join("\n"))
        }
        Command::MfaReset { username } => {
            let admin = UserAdmin::of(&users().await?);
            admin.mfa_reset(&username).await.map_err(refused)?;
            log_change(
                &username,
                ActivityEvent::AccountChanged,
                detail::MFA_RESET,
                None,
            )
            .await;
            Ok(format!(
                "{username}: second factor removed; every session ended"
            ))
        }
        Command::Enable { username } => {
            let admin = UserAdmin::of(&users().await?);
            admin
                .set_disabled(&username, false)
                .await
                .map_err(refused)?;
            log_change(
                &username,
                ActivityEvent::AccountChanged,
                detail::ACCOUNT_ENABLED,
                None,
            )
            .await;
            Ok(format!("enabled {username}"))
        }
        Command::Grant { username, scopes } => {
            let admin = UserAdmin::of(&users().await?);
            let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
            let held = admin
                .grant_scopes(&username, &scopes)
                .await
                .map_err(refused)?;
            Ok(scopes_line(&username, &held))
        }
        Command::RevokeScope { username, scopes } => {
            let admin = UserAdmin::of(&users().await?);
            let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
            let held = admin
                .revoke_scopes(&username, &scopes)
                .await
                .map_err(refused)?;
            Ok(scopes_line(&username, &held))
        }
        Command::Remove { username } => {
            let admin = UserAdmin::of(&users().await?);
            admin.remove(&username).await.map_err(refused)?;
            Ok(format!("removed {username}"))
        }
        Command::List => {
            let admin = UserAdmin::of(&users().await?);
            let users = admin.list().await.map_err(|error| error.to_string())?;
            Ok(users.iter().map(list_line).collect::<Vec<_>>().join("\n"))
        }
        Command::CreateSessionsTable => {
            let table = table(SESSIONS_TABLE_VAR, SESSIONS_TABLE_REQUIRED)?;
            auth_dynamodb::client::check_local_target().await?;
            create_sessions_table(&auth_dynamodb::client().await, &table)
                .await
                .map_err(|error| error.to_string())?;
            Ok(format!("created table {table}"))
        }
        Command::CreateActivityTable => {
            let table = table(activity::TABLE_VAR, ACTIVITY_TABLE_REQUIRED)?;
            auth_dynamodb::client::check_local_target().await?;
            create_activity_table(&auth_dynamodb::client().await, &table)
                .await
                .map_err(|error| error.to_string())?;
            Ok(format!("created table {table}"))
        }
        Command::CreateTable => {
            let admin = UserAdmin::of(&users().await?);
            admin
                .create_table()
                .await
                .map_err(|error| error.to_string())?;
            Ok(format!("created table {}", admin.table()))
        }
    }
}

/// The value of the table variable `name`, or `required` when it is unset.
fn table(name: &str, required: &str) -> Result<String, String> {
    std::env::var(name)
        .ok()
        .filter(|table| !table.is_empty())
        .ok_or_else(|| required.to_owned())
}

async fn users() -> Result<DynamoUserStore, String> {
    let table = table(USERS_TABLE_VAR, USERS_TABLE_REQUIRED)?;
    auth_dynamodb::client::check_local_target().await?;
    Ok(DynamoUserStore::connect(table).await)
}

/// The user `username` of `USERS_TABLE`, or the sentence that says there is none.
async fn existing_user(username: &str) -> Result<User, String> {
    users()
        .await?
        .find(username)
        .await
        .map_err(|error| error.to_string())?
        .ok_or_else(|| AdminError::NotFound(username.to_owned()).to_string())
}

async fn sessions() -> Result<DynamoSessionStore, String> {
    let table = table(SESSIONS_TABLE_VAR, SESSIONS_TABLE_REQUIRED)?;
    auth_dynamodb::client::check_local_target().await?;
    Ok(DynamoSessionStore::connect(table).await)
}

/// The activity log of `ACTIVITY_TABLE`, with `ACTIVITY_RETENTION`; none when the table is
/// unset.
async fn operator_log() -> Result<Option<OperatorLog>, String> {
    let settings =
        ActivitySettings::read(&|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
            .map_err(|error| error.to_string())?;
    let Some(table) = settings.table else {
        return Ok(None);
    };
    auth_dynamodb::client::check_local_target().await?;
    let log = DynamoActivityLog::new(auth_dynamodb::client().await, table);
    Ok(Some(OperatorLog::new(
        std::sync::Arc::new(log),
        settings.retention,
    )))
}

/// The activity log, which `activity` needs.
async fn activity_log() -> Result<OperatorLog, String> {
    operator_log()
        .await?
        .ok_or_else(|| ACTIVITY_TABLE_REQUIRED.to_owned())
}

/// Writes an operator's change to the user's activity log, when there is one. The change is
/// made already: a failed write is a warning, never the command's failure.
async fn log_change(
    username: &str,
    event: ActivityEvent,
    detail: &'static str,
    session: Option<&str>,
) {
    let written = match operator_log().await {
        Ok(None) => return,
        Ok(Some(log)) => log
            .record(username, event, detail, session)
            .await
            .map_err(|error| error.to_string()),
        Err(problem) => Err(problem),
    };
    if let Err(problem) = written {
        eprintln!("users: warning: done, but not written to {username}'s activity log: {problem}");
    }
}

/// Every live session of `user` at `now`, newest first, page after page, as `GET /sessions`
/// lists them to the user.
async fn live_sessions(
    store: &dyn SessionStore,
    user: &User,
    now: i64,
) -> Result<Vec<SessionInfo>, StoreError> {
    // As `GET /sessions` lists them, the session a password change kept included: else the
    // operator could not see (nor end) the one session a password change left signed in.
    let mut listed = Vec::new();
    let mut after: Option<SessionCursor> = None;
    loop {
        let page = live_sessions_page(store, user, now, MAX_PAGE_SIZE, after.as_ref()).await?;
        listed.extend(page.sessions);
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(listed),
        }
    }
}

/// Any username the login schema takes and a DynamoDB key can hold.
fn check_username(username: String) -> Result<String, String> {
    if !is_valid_key(&username) {
        return Err(AdminError::InvalidUsername.to_string());
    }
    Ok(username)
}

fn parse_time(text: &str) -> Result<SystemTime, String> {
    humantime::parse_rfc3339_weak(text)
        .map_err(|_| format!("`{text}` is not a time like 2026-01-31T09:00:00Z"))
}

fn parse_profile(json: Option<&str>) -> Result<Map<String, Value>, String> {
    match json.map(serde_json::from_str::<Value>) {
        None => Ok(Map::new()),
        Some(Ok(Value::Object(fields))) => Ok(fields),
        Some(_) => {
            Err("--profile must be a JSON object, e.g. '{\"display_name\": \"Cosmo\"}'".to_owned())
        }
    }
}

fn hash(password: &str) -> Result<String, String> {
    passwords::hash(password).map_err(|error| error.to_string())
}

/// From a no-echo prompt (asked twice) on a terminal, else the first line of standard input.
fn read_password(username: &str) -> Result<String, String> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("Password for {username}: "))
            .map_err(|e| e.to_string())?;
        let again = rpassword::prompt_password("Repeat it: ").map_err(|e| e.to_string())?;
        if first != again {
            return Err("the passwords differ".to_owned());
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        line.trim_end_matches(['\n', '\r']).to_owned()
    };
    if password.is_empty() {
        return Err("the password is empty".to_owned());
    }
    // The one policy for a password a person sets.
    auth_password_policy::check(&password, username).map_err(|weak| weak.to_string())?;
    Ok(password)
}

/// What a grant or revoke leaves the user with.
fn scopes_line(username: &str, scopes: &[String]) -> String {
    if scopes.is_empty() {
        format!("{username} has no scopes")
    } else {
        format!("{username} has scopes: {}", scopes.join(" "))
    }
}

fn list_line(user: &User) -> String {
    let state = if user.disabled { "disabled" } else { "enabled" };
    let created = user
        .profile
        .get("created_at")
        .and_then(Value::as_str)
        .unwrap_or("-");
    // Space-separated, as in an OAuth `scope`: a scope-token holds no space or tab.
    let scopes = if user.scopes.is_empty() {
        "-".to_owned()
    } else {
        user.scopes.join(" ")
    };
    format!("{}\t{state}\t{created}\t{scopes}", user.username)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn grant_and_revoke_scope_take_a_user_and_one_or_more_scopes() {
        let parsed = Cli::try_parse_from(["users", "grant", "cosmo", "read", "write"]).unwrap();
        let Command::Grant { username, scopes } = parsed.command else {
            panic!("not grant");
        };
        assert_eq!(username, "cosmo");
        assert_eq!(scopes, ["read", "write"]);
        let parsed = Cli::try_parse_from(["users", "revoke-scope", "cosmo", "read"]).unwrap();
        let Command::RevokeScope { username, scopes } = parsed.command else {
            panic!("not revoke-scope");
        };
        assert_eq!(username, "cosmo");
        assert_eq!(scopes, ["read"]);
        for command in ["grant", "revoke-scope"] {
            assert!(
                Cli::try_parse_from(["users", command, "cosmo"]).is_err(),
                "{command} without a scope"
            );
        }
    }

    /// A password change keeps the caller's session, begun before the user's
    /// `tokens_valid_after`: the operator sees it, as its user does, and not the sessions the
    /// change ended.
    #[tokio::test]
    async fn sessions_lists_the_session_a_password_change_kept_and_none_it_ended() {
        use auth_core::{
            claims::AuthMethods,
            sessions::{InMemorySessionStore, SessionStart},
        };
        let store = InMemorySessionStore::default();
        let now = Clock::System.unix_secs();
        for (session, started_at) in [("ended", now - 20), ("kept", now - 10), ("later", now)] {
            store
                .start_session(&SessionStart {
                    session,
                    username: "cosmo",
                    started_at,
                    refresh_until: now + 3_600,
                    record_until: now + 7_200,
                    source_ip: None,
                    user_agent: None,
                    methods: AuthMethods::Password,
                })
                .await
                .unwrap();
        }
        let mut user = auth_testkit::contract::users::user_named("cosmo");
        user.tokens_valid_after = Some(now - 5);
        user.account.kept_session = Some("kept".to_owned());
        let listed = live_sessions(&store, &user, now).await.unwrap();
        let ids: Vec<&str> = listed.iter().map(|session| session.id.as_str()).collect();
        assert_eq!(ids, ["later", "kept"]);
        // Without a kept session, what the change ended is not listed.
        user.account.kept_session = None;
        let listed = live_sessions(&store, &user, now).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].id, "later");
    }

    #[test]
    fn list_line_ends_with_the_scopes_space_separated_or_a_dash() {
        let mut user = auth_testkit::contract::users::user_named("cosmo");
        user.profile
            .insert("created_at".to_owned(), "2026-01-31T09:00:00Z".into());
        assert_eq!(list_line(&user), "cosmo\tenabled\t2026-01-31T09:00:00Z\t-");
        user.scopes = vec!["admin:users".to_owned(), "read".to_owned()];
        user.disabled = true;
        assert_eq!(
            list_line(&user),
            "cosmo\tdisabled\t2026-01-31T09:00:00Z\tadmin:users read"
        );
    }
}

//! `cargo run -p local-api`: the API on http://127.0.0.1:3000 with the demo user, no Docker.

use std::{net::Ipv4Addr, process::ExitCode, sync::Arc};

use auth_core::{
    AppState, Stores,
    accounts::{AccountRecords, AccountStore},
    activity::{ActivityLog, InMemoryActivityLog},
    mfa::key::KEY_VAR as MFA_KEY_VAR,
    mfa::{MfaChallenges, MfaStore},
    sessions::{InMemorySessionStore, SessionStore},
    settings::accounts::{SIGNUP_VAR, SignupPolicy},
    settings::{self, SECRET_KEY_VAR, Settings, Signing},
    users::{InMemoryUserStore, UserStore},
};
use auth_dynamodb::{DynamoSessionStore, DynamoUserStore};
use base64::Engine as _;
use lambda_http::Error;
use local_api::{connections, outbox};

mod demo;

const DEFAULT_PORT: u16 = 3000;

#[tokio::main]
async fn main() -> ExitCode {
    auth_lambda::logging::init();
    // A sentence a person reads (`VARIABLE: problem`), never Rust's Debug of the error.
    match serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("local-api: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> Result<(), Error> {
    let port = match std::env::var("PORT") {
        Err(_) => DEFAULT_PORT,
        Ok(text) => text
            .trim()
            .parse::<u16>()
            .map_err(|_| format!("PORT: `{text}` is not a port number (0-65535)"))?,
    };
    settings::reject_non_unicode_env()?;
    // Locally only: without a configured secret, one that lives as long as the process,
    // so the first run needs no setup. Lambda functions refuse to start without one.
    let generated_secret = match std::env::var(SECRET_KEY_VAR) {
        Ok(secret) if !secret.is_empty() => None,
        _ => Some(random_secret()?),
    };
    // The same for the second factor's key: a newcomer enrols without setting one.
    let generated_mfa_key = match std::env::var(MFA_KEY_VAR) {
        Ok(key) if !key.is_empty() => None,
        _ => Some(random_mfa_key()?),
    };
    // Locally, sign-up is open unless SIGNUP says otherwise: a newcomer tries the whole flow.
    let settings = Settings::from_lookup(|name| match std::env::var(name) {
        Ok(value) if !value.is_empty() => Some(value),
        _ if name == SECRET_KEY_VAR => generated_secret.clone(),
        _ if name == MFA_KEY_VAR => generated_mfa_key.clone(),
        _ if name == SIGNUP_VAR => Some("open".to_owned()),
        _ => None,
    })?;
    // A KMS key (JWT_KMS_KEY_ARN) is read as the functions that sign read it; the AWS
    // configuration is loaded for it alone.
    let settings = match &settings.signing {
        Signing::Kms(_) => auth_kms::read_key(settings, &auth_dynamodb::aws_config().await).await?,
        _ => settings,
    };
    let stores = stores(&settings).await?;

    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port))
        .await
        .map_err(|error| match error.kind() {
            std::io::ErrorKind::AddrInUse => format!(
                "PORT: {port} is in use on 127.0.0.1: stop what listens there, or start on \
                 another port (PORT=3001, or PORT=0 for any free one)"
            ),
            _ => format!("PORT: cannot listen on 127.0.0.1:{port}: {error}"),
        })?;
    let url = format!("http://{}", listener.local_addr()?);
    // DEMO_PORT: the demo page of demo/ on a second port (demo.rs), where mailed links lead
    // unless APP_URL says otherwise.
    let demo_page = demo::start(listener.local_addr()?.port(), &settings.browser).await?;
    let mut settings = settings;
    let app_url = settings
        .accounts
        .app_url
        .get_or_insert_with(|| demo_page.clone().unwrap_or_else(|| format!("{url}/")))
        .clone();
    let mail_dir = std::env::var(outbox::MAIL_DIR_VAR)
        .ok()
        .filter(|dir| !dir.is_empty())
        .map(std::path::PathBuf::from);
    let from = settings
        .accounts
        .mail_from
        .clone()
        .unwrap_or_else(|| "local-api <no-reply@localhost>".to_owned());
    let outbox = outbox::LocalOutbox::new(from, mail_dir.clone()).map_err(|error| {
        format!(
            "{}: cannot create the folder: {error}",
            outbox::MAIL_DIR_VAR
        )
    })?;
    let state = Arc::new(
        AppState::builder(&settings, stores)
            .mailer(Arc::new(outbox))
            .build()?,
    );
    println!("JWT auth API listening on {url}");
    println!("Routes: POST {url}/login, POST {url}/refresh, GET {url}/profile, POST {url}/logout");
    println!(
        "Your account: GET {url}/sessions, DELETE {url}/sessions/{{id}}, GET {url}/account/activity"
    );
    println!(
        "Accounts: POST {url}/signup, /verify, /recover, /resend, /password, /password/reset \
         (sign-up {}; mail printed here{}; links open {app_url})",
        match &settings.accounts.signup {
            SignupPolicy::Off => "off".to_owned(),
            SignupPolicy::Open => "open".to_owned(),
            SignupPolicy::Domains(domains) => format!("for {}", domains.join(", ")),
        },
        mail_dir
            .map(|dir| format!(" and written to {} as .eml", dir.display()))
            .unwrap_or_default(),
    );
    match &settings.users_table {
        Some(table) => println!("Users: DynamoDB table {table}"),
        None => {
            println!("Users: embedded demo user cosmo / space-corgi (set USERS_TABLE for DynamoDB)")
        }
    }
    match &settings.sessions_table {
        Some(table) => println!("Sessions: DynamoDB table {table}"),
        None => println!("Sessions: in memory (set SESSIONS_TABLE for DynamoDB)"),
    }
    match &settings.activity.table {
        Some(table) => println!("Activity log: DynamoDB table {table}"),
        None => println!("Activity log: in memory (set ACTIVITY_TABLE for DynamoDB)"),
    }
    if generated_mfa_key.is_some() {
        println!(
            "{MFA_KEY_VAR} is unset: using a random key; second factors enrolled now will not \
             open after a restart (set it to `openssl rand -base64 32` to keep them)."
        );
    }
    match &settings.signing {
        Signing::Hs256(_) if generated_secret.is_some() => println!(
            "{SECRET_KEY_VAR} is unset: using a random secret; tokens will not survive a restart."
        ),
        Signing::Hs256(_) => println!("Tokens: HS256"),
        // What a verifier is configured with: the issuer, and the keys under it (here too,
        // when JWT_ISSUER names this server's public URL).
        Signing::Asymmetric(keys) => println!(
            "Tokens: {}{}, issuer {issuer}, keys at {issuer}/.well-known/jwks.json{}",
            keys.asymmetric().name(),
            keys.remote_signer()
                .map(|signer| format!(" signed in KMS by {}", signer.key_name()))
                .unwrap_or_default(),
            match settings.issuer.is_some() {
                true => format!(" (served here at {url}/.well-known/jwks.json)"),
                false => String::new(),
            },
            issuer = settings.issuer.as_deref().unwrap_or(&url),
        ),
        // Read above: never here.
        Signing::Kms(key) => println!("Tokens: {}, KMS key {}", key.asymmetric.name(), key.key_id),
    }
    let browser = &settings.browser;
    let locations: Vec<&str> = browser
        .token_locations
        .iter()
        .map(|location| location.name())
        .collect();
    println!(
        "Token location: {}{}",
        locations.join(", "),
        match (browser.uses_cookies(), browser.cookies.csrf_protect) {
            (true, true) => " (HttpOnly cookies, CSRF double submit with X-CSRF-TOKEN)",
            (true, false) => " (HttpOnly cookies, no CSRF check)",
            (false, _) => " (set JWT_TOKEN_LOCATION=cookies for a browser page)",
        }
    );
    match browser.cors_allowed_origins.is_empty() {
        true => println!("CORS: none (set CORS_ALLOWED_ORIGINS for a page on another origin)"),
        false => println!("CORS: {}", browser.cors_allowed_origins.join(", ")),
    }
    println!(
        "Try: curl -s -X POST {url}/login -H 'Content-Type: application/json' -d '{{\"username\":\"cosmo\",\"password\":\"space-corgi\"}}'"
    );
    println!("Press Ctrl-C to stop.");

    let upstream = local_api::upstream::Upstream::from_lookup(
        |name| std::env::var(name).ok(),
        state.clone(),
        &url,
    )?
    .map(Arc::new);
    if let Some(upstream) = &upstream {
        println!(
            "Upstream: {url}{}/... -> {} for a good access token, with X-Auth-Sub and the rest",
            upstream.prefix(),
            upstream.base()
        );
    }
    let read_timeout = match std::env::var(connections::READ_TIMEOUT_VAR) {
        Ok(text) if !text.is_empty() => settings::parse_ttl(&text)
            .map_err(|problem| format!("{}: {problem}", connections::READ_TIMEOUT_VAR))?,
        _ => connections::DEFAULT_READ_TIMEOUT,
    };
    connections::serve(
        listener,
        local_api::app(state, url, upstream, read_timeout),
        read_timeout,
        shutdown_signal(),
    )
    .await?;
    println!("Stopped.");
    Ok(())
}

/// The stores `settings` name, as the functions build them: DynamoDB for a table that is named,
/// with the one-round-trip lookup of the Lambda functions when both are; else the embedded
/// demo user, and sessions in memory (gone at a restart, with the random secret's tokens).
/// The activity log likewise: its DynamoDB table (`ACTIVITY_TABLE`) when named, else in
/// memory, so that a newcomer reads their activity with no setup.
async fn stores(settings: &Settings) -> Result<Stores, String> {
    let tables = [
        &settings.users_table,
        &settings.sessions_table,
        &settings.activity.table,
    ];
    if tables.iter().any(|table| table.is_some()) {
        auth_dynamodb::client::check_local_target().await?;
    }
    let activity: Arc<dyn ActivityLog> = match &settings.activity.table {
        Some(table) => auth_dynamodb::activity_log(auth_dynamodb::client().await, table),
        None => Arc::new(InMemoryActivityLog::default()),
    };
    let stores = match (&settings.users_table, &settings.sessions_table) {
        (Some(users), Some(sessions)) => {
            auth_dynamodb::stores(auth_dynamodb::client().await, users, sessions)
        }
        (users_table, sessions_table) => {
            type UsersSide = (Arc<dyn UserStore>, Arc<dyn AccountStore>, Arc<dyn MfaStore>);
            let (users, accounts, factors): UsersSide = match users_table {
                Some(table) => {
                    let store = Arc::new(DynamoUserStore::connect(table.as_str()).await);
                    (store.clone(), store.clone(), store)
                }
                None => {
                    let store = Arc::new(InMemoryUserStore::demo());
                    (store.clone(), store.clone(), store)
                }
            };
            type SessionsSide = (
                Arc<dyn SessionStore>,
                Arc<dyn AccountRecords>,
                Arc<dyn MfaChallenges>,
            );
            let (sessions, records, challenges): SessionsSide = match sessions_table {
                Some(table) => {
                    let store = Arc::new(DynamoSessionStore::connect(table.as_str()).await);
                    (store.clone(), store.clone(), store)
                }
                None => {
                    let store = Arc::new(InMemorySessionStore::default());
                    (store.clone(), store.clone(), store)
                }
            };
            Stores::separate(users, sessions)
                .with_accounts(accounts, records)
                .with_mfa(factors, challenges)
        }
    };
    Ok(stores.with_activity(activity))
}

/// A second-factor key (32 random bytes) in base64, as `MFA_ENCRYPTION_KEY` takes it.
fn random_mfa_key() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// 384 random bits from the OS, as hex.
fn random_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 48];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
}

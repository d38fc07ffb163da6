//! What a function's `main` runs, so that each is one call: `run` starts the runtime, makes the
//! cold start (`cold_start`: the log, then what the function builds once, or its failure
//! reported to Lambda) and answers events (`serve`: the Runtime API loop, each request logged).
//! `state_from_env` is the state the store-backed functions build: settings from the
//! environment over the DynamoDB tables they name; `signing_state_from_env` and
//! `mailing_state_from_env` add, for the functions that issue tokens or send mail alone, a key
//! in KMS or a mailer over SES.

pub mod init_error;
pub mod logging;

use std::{future::Future, pin::Pin, sync::Arc};

use auth_core::{
    AppState, Function, StartupError,
    metrics::Metrics,
    settings::{
        Settings,
        accounts::{APP_URL_VAR, MAIL_FROM_VAR},
    },
    state::StateBuilder,
    tokens::TokenService,
};
use auth_http::access_log::logged;
use lambda_http::{Body, Error, Request, Response, service_fn};

/// A handler's answer to one request, boxed: what `serve` runs for each.
pub type Answer<'a> = Pin<Box<dyn Future<Output = Result<Response<Body>, Error>> + Send + 'a>>;

/// Runs an HTTP function: builds `build` once (the cold start), then answers every event with
/// `handler` over what it built.
pub fn run<S, E, H>(build: impl Future<Output = Result<S, E>>, handler: H) -> Result<(), Error>
where
    S: Sync,
    E: std::error::Error + Send + Sync + 'static,
    H: for<'a> Fn(&'a S, Request) -> Answer<'a> + Sync,
{
    runtime()?.block_on(async {
        let state = cold_start(build).await?;
        serve(&state, handler).await
    })
}

/// The runtime a function runs on: one thread. Lambda hands a function one event at a time,
/// and a cold start spawning a worker per CPU (and reading the cgroup files to count them)
/// would pay for threads it never uses.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Sets up the log, then runs `build`: what a cold start builds once. A failure is logged,
/// reported to Lambda's Runtime API (`init_error`) and returned for `main` to exit with.
pub async fn cold_start<T, E>(build: impl Future<Output = Result<T, E>>) -> Result<T, Error>
where
    E: std::error::Error + Send + Sync + 'static,
{
    logging::init();
    match build.await {
        Ok(built) => Ok(built),
        Err(error) => Err(init_error::report_init_error(error).await),
    }
}

/// Answers the function's events with `handler` over `state`, one at a time (Lambda hands a
/// function one event at a time), each logged (`access_log`).
pub async fn serve<S, H>(state: &S, handler: H) -> Result<(), Error>
where
    S: Sync,
    H: for<'a> Fn(&'a S, Request) -> Answer<'a> + Sync,
{
    lambda_http::run(service_fn(|request| {
        logged(request, |request| handler(state, request))
    }))
    .await
}

/// What a Lambda function over the stores runs with: settings from the environment and the
/// DynamoDB tables they name, over one client, and its security events on stdout as metric
/// lines of `function`. There is no silent fallback to memory in the cloud: a revocation that
/// only one instance knew of would not be one.
pub async fn state_from_env(function: Function) -> Result<AppState, StartupError> {
    let settings = Settings::from_env_for(function.key_use())?;
    let config = auth_dynamodb::client::lambda_aws_config();
    builder_over_dynamodb(function, &settings, &config)?.build()
}

/// `state_from_env` for a function that issues tokens (login, refresh): with `JWT_KMS_KEY_ARN`,
/// the KMS key's public key is read first (one `kms:GetPublicKey` per cold start), and tokens
/// are signed in KMS. Only these functions link the KMS client.
pub async fn signing_state_from_env(function: Function) -> Result<AppState, StartupError> {
    let settings = Settings::from_env_for(function.key_use())?;
    let config = auth_dynamodb::client::lambda_aws_config();
    let settings = auth_kms::read_key(settings, &config).await?;
    builder_over_dynamodb(function, &settings, &config)?.build()
}

/// `state_from_env` for a function that sends mail (`Function::MAILING`: sign-up, recovery,
/// resend): `MAIL_FROM` and `APP_URL` are required, and its mail goes by SES from `MAIL_FROM`
/// (`auth_ses::SesMailer`, over the same AWS configuration as the stores). Only these
/// functions link the SES client.
pub async fn mailing_state_from_env(function: Function) -> Result<AppState, StartupError> {
    let settings = Settings::from_env_for(function.key_use())?;
    let from = mail_from(&settings)?;
    let config = auth_dynamodb::client::lambda_aws_config();
    let mailer = Arc::new(auth_ses::SesMailer::new(&config, from));
    builder_over_dynamodb(function, &settings, &config)?
        .mailer(mailer)
        .build()
}

/// The address a mailing function sends from, when its settings have all that every mail
/// needs: `MAIL_FROM`, and `APP_URL`, where the mail's link leads.
fn mail_from(settings: &Settings) -> Result<String, StartupError> {
    let set = |value: &Option<String>| value.clone().filter(|value| !value.trim().is_empty());
    let from = set(&settings.accounts.mail_from).ok_or(StartupError::MailSetting {
        variable: MAIL_FROM_VAR,
        what: "the SES identity mail is sent from, e.g. no-reply@example.com",
    })?;
    set(&settings.accounts.app_url).ok_or(StartupError::MailSetting {
        variable: APP_URL_VAR,
        what: "the https URL of the page a mail's link opens",
    })?;
    Ok(from)
}

/// The builder of the state of `settings` over the DynamoDB tables they name, with a client of
/// `config`, its security events counted as `function`'s.
fn builder_over_dynamodb(
    function: Function,
    settings: &Settings,
    config: &auth_dynamodb::client::SdkConfig,
) -> Result<StateBuilder, StartupError> {
    let users_table = settings
        .users_table
        .clone()
        .ok_or(StartupError::NoUsersTable)?;
    let sessions_table = settings
        .sessions_table
        .clone()
        .ok_or(StartupError::NoSessionsTable)?;
    let client = auth_dynamodb::client_of(config);
    let mut stores = auth_dynamodb::stores(client.clone(), &users_table, &sessions_table);
    // Only the functions that record or read it are given the table (template.yaml).
    if let Some(table) = &settings.activity.table {
        stores = stores.with_activity(auth_dynamodb::activity_log(client, table));
    }
    Ok(AppState::builder(settings, stores).metrics(Metrics::stdout(function)))
}

/// What a function that reads no store runs with (discovery, which only verifies): the token
/// service of the settings in the environment. No SDK client is built.
pub async fn tokens_from_env() -> Result<TokenService, StartupError> {
    let settings = Settings::from_env_for(Function::Discovery.key_use())?;
    Ok(TokenService::new(&settings)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail_error(pairs: &[(&str, &str)]) -> Option<StartupError> {
        let settings = auth_testkit::settings_with(pairs);
        mail_from(&settings).err()
    }

    #[test]
    fn a_mailing_function_needs_mail_from_and_app_url_and_says_which_is_missing() {
        let from = ("MAIL_FROM", "no-reply@example.com");
        let url = ("APP_URL", "https://app.example.com/welcome");
        for (pairs, missing) in [
            (&[url][..], MAIL_FROM_VAR),
            (&[from][..], APP_URL_VAR),
            (&[][..], MAIL_FROM_VAR),
        ] {
            let error = mail_error(pairs).unwrap();
            assert!(
                matches!(error, StartupError::MailSetting { variable, .. } if variable == missing),
                "{error}"
            );
            assert!(error.to_string().contains(missing), "{error}");
        }
        let settings = auth_testkit::settings_with(&[from, url]);
        assert_eq!(mail_from(&settings).unwrap(), "no-reply@example.com");
    }
}

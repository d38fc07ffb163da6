//! What a function builds once per cold start and every request borrows.

use std::{sync::Arc, time::Duration};

use crate::{
    clock::Clock,
    http::deadline,
    login_throttle::LoginThrottle,
    lookup::{SeparateLookup, TokenLookup},
    metrics::{Event, Metrics},
    passwords::PasswordChecker,
    sessions::SessionStore,
    settings::{
        BrowserSettings, RotationPolicy, SESSIONS_TABLE_REQUIRED, Settings, SettingsError,
        USERS_TABLE_REQUIRED,
    },
    tokens::{SigningError, TokenService},
    users::UserStore,
};

pub struct AppState {
    pub tokens: TokenService,
    pub users: Arc<dyn UserStore>,
    /// Revoked tokens, sessions and login-failure counts.
    pub sessions: Arc<dyn SessionStore>,
    /// What a token's request reads of both stores, in one round trip where they allow it.
    pub lookup: Arc<dyn TokenLookup>,
    pub rotation: RotationPolicy,
    pub login_throttle: LoginThrottle,
    /// Checks passwords with one worker per CPU, each with an Argon2 memory it keeps.
    pub passwords: PasswordChecker,
    /// The time every check and every record is measured by.
    pub clock: Clock,
    /// How long a request may take when it has no Lambda deadline (`http::deadline`).
    pub request_budget: Duration,
    /// Where tokens travel (headers, cookies) and how the cookies are set.
    pub browser: BrowserSettings,
    /// Where the security events go: stdout in a Lambda function, nowhere unless set.
    pub metrics: Metrics,
}

/// Why a function could not start. Names the variable at fault, never a secret.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("invalid configuration: {0}")]
    Settings(#[from] SettingsError),
    #[error("could not load the signing key: {0}")]
    Keys(#[from] SigningError),
    #[error("invalid configuration: {USERS_TABLE_REQUIRED}")]
    NoUsersTable,
    #[error("invalid configuration: {SESSIONS_TABLE_REQUIRED}")]
    NoSessionsTable,
}

impl AppState {
    pub fn new(
        settings: &Settings,
        users: Arc<dyn UserStore>,
        sessions: Arc<dyn SessionStore>,
    ) -> Result<Self, StartupError> {
        Ok(Self {
            tokens: TokenService::new(settings)?,
            lookup: Arc::new(SeparateLookup::new(users.clone(), sessions.clone())),
            users,
            sessions,
            rotation: settings.rotation,
            login_throttle: LoginThrottle::new(settings.login_throttle),
            passwords: PasswordChecker::per_cpu(),
            clock: Clock::System,
            request_budget: deadline::DEFAULT_BUDGET,
            browser: settings.browser.clone(),
            metrics: Metrics::off(),
        })
    }

    /// Counts `event` now, as a metric line of this function.
    pub fn record(&self, event: Event) {
        self.metrics.emit(event, self.clock.now());
    }

    /// What a Lambda function runs with: settings from the environment and the DynamoDB
    /// tables they name, over one client. There is no silent fallback to memory in the cloud:
    /// a revocation that only one instance knew of would not be one. Its security events go to
    /// stdout as metric lines of `function`.
    #[cfg(feature = "dynamodb")]
    pub async fn from_env(function: crate::metrics::Function) -> Result<Self, StartupError> {
        use crate::{
            dynamodb, lookup::DynamoTokenLookup, sessions::DynamoSessionStore,
            users::DynamoUserStore,
        };

        let settings = Settings::from_env()?;
        let users_table = settings
            .users_table
            .clone()
            .ok_or(StartupError::NoUsersTable)?;
        let sessions_table = settings
            .sessions_table
            .clone()
            .ok_or(StartupError::NoSessionsTable)?;
        let client = dynamodb::client().await;
        let mut state = Self::new(
            &settings,
            Arc::new(DynamoUserStore::new(client.clone(), &users_table)),
            Arc::new(DynamoSessionStore::new(client.clone(), &sessions_table)),
        )?;
        state.lookup = Arc::new(DynamoTokenLookup::new(client, users_table, sessions_table));
        state.metrics = Metrics::stdout(function);
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::TokenKind;

    #[tokio::test]
    async fn state_issues_tokens_with_the_settings_and_finds_users_in_the_store() {
        let state = crate::testing::state();
        let token = state
            .tokens
            .issue(TokenKind::Access, "cosmo", true)
            .unwrap();
        assert_eq!(
            state
                .tokens
                .verify(&token, TokenKind::Access)
                .unwrap()
                .subject,
            "cosmo"
        );
        assert!(state.users.find("cosmo").await.unwrap().is_some());
    }

    #[test]
    fn missing_users_table_error_names_the_variable() {
        assert!(
            StartupError::NoUsersTable
                .to_string()
                .contains("USERS_TABLE: is required")
        );
    }

    #[test]
    fn missing_sessions_table_error_names_the_variable() {
        assert!(
            StartupError::NoSessionsTable
                .to_string()
                .contains("SESSIONS_TABLE: is required")
        );
    }

    #[test]
    fn startup_error_names_the_variable() {
        let error = StartupError::from(Settings::from_lookup(|_| None).unwrap_err());
        assert!(error.to_string().contains("JWT_SECRET_KEY"));
    }
}

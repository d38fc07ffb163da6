//! What a function builds once per cold start and every request borrows.

use std::sync::Arc;

use crate::{
    settings::{Settings, SettingsError, USERS_TABLE_REQUIRED},
    tokens::{SigningError, TokenService},
    users::{DynamoUserStore, UserStore},
};

pub struct AppState {
    pub tokens: TokenService,
    pub users: Arc<dyn UserStore>,
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
}

impl AppState {
    pub fn new(settings: &Settings, users: Arc<dyn UserStore>) -> Result<Self, StartupError> {
        Ok(Self {
            tokens: TokenService::new(settings)?,
            users,
        })
    }

    /// What a Lambda function runs with: settings from the environment and the DynamoDB users
    /// table they name. There is no silent fallback to a demo user in the cloud.
    pub async fn from_env() -> Result<Self, StartupError> {
        let settings = Settings::from_env()?;
        let table = settings
            .users_table
            .clone()
            .ok_or(StartupError::NoUsersTable)?;
        Self::new(&settings, Arc::new(DynamoUserStore::connect(table).await))
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
    fn startup_error_names_the_variable() {
        let error = StartupError::from(Settings::from_lookup(|_| None).unwrap_err());
        assert!(error.to_string().contains("JWT_SECRET_KEY"));
    }
}

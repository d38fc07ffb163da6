//! What a function builds once per cold start and every request borrows.

use std::sync::Arc;

use crate::{
    settings::{Settings, SettingsError},
    tokens::{SigningError, TokenService},
    users::{InMemoryUserStore, UserStore},
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
}

impl AppState {
    pub fn new(settings: &Settings, users: Arc<dyn UserStore>) -> Result<Self, StartupError> {
        Ok(Self {
            tokens: TokenService::new(settings)?,
            users,
        })
    }

    /// Settings from the environment and the embedded demo user store (the seed app's database).
    pub fn from_env_with_demo_users() -> Result<Self, StartupError> {
        Self::new(&Settings::from_env()?, Arc::new(InMemoryUserStore::demo()))
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
    fn startup_error_names_the_variable() {
        let error = StartupError::from(Settings::from_lookup(|_| None).unwrap_err());
        assert!(error.to_string().contains("JWT_SECRET_KEY"));
    }
}

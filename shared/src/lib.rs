//! Everything the login, refresh and profile functions share.
//!
//! Domain modules (`settings`, `claims`, `tokens`, `login_schema`, `passwords`, `users`) know
//! nothing of Lambda or HTTP; `http` is the one place where their errors become statuses.

pub mod app;
pub mod claims;
pub mod http;
pub mod logging;
pub mod login_schema;
pub mod passwords;
pub mod settings;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tokens;
pub mod users;

pub use app::AppState;

/// Fixtures for this crate's own unit tests.
#[cfg(test)]
mod testing_support {
    use std::sync::Arc;

    use lambda_http::{Body, Request};

    use crate::{AppState, settings::Settings, users::InMemoryUserStore};

    pub fn state() -> AppState {
        let settings = Settings::from_lookup(|name| {
            (name == crate::settings::SECRET_KEY_VAR)
                .then(|| "unit-test-secret-unit-test-secret-01".to_owned())
        })
        .unwrap();
        AppState::new(&settings, Arc::new(InMemoryUserStore::demo())).unwrap()
    }

    pub fn request_with_authorization(value: &str) -> Request {
        lambda_http::http::Request::builder()
            .uri("/profile")
            .header("authorization", value)
            .body(Body::Empty)
            .unwrap()
    }
}

//! Mail the handlers' tests read back: an outbox that keeps every mail sent, and a mailer that
//! is down.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use auth_core::accounts::mail::{Mail, MailError, Mailer};

/// Keeps every mail it is given, in order.
#[derive(Debug, Default, Clone)]
pub struct Outbox {
    sent: Arc<Mutex<Vec<Mail>>>,
}

impl Outbox {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every mail sent so far.
    pub fn sent(&self) -> Vec<Mail> {
        self.sent.lock().unwrap().clone()
    }

    /// The mails sent to `address`.
    pub fn to(&self, address: &str) -> Vec<Mail> {
        self.sent()
            .into_iter()
            .filter(|mail| mail.to == address)
            .collect()
    }

    /// The token in the link of the last mail to `address` (`token=...` in its text).
    pub fn last_token_to(&self, address: &str) -> String {
        let mail = self
            .to(address)
            .pop()
            .unwrap_or_else(|| panic!("no mail to {address}"));
        token_in(&mail.text).unwrap_or_else(|| panic!("no token in the mail: {}", mail.text))
    }
}

/// The token of the first `token=` link in `text`.
pub fn token_in(text: &str) -> Option<String> {
    let start = text.find("token=")? + "token=".len();
    let token: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    (!token.is_empty()).then_some(token)
}

#[async_trait]
impl Mailer for Outbox {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        self.sent.lock().unwrap().push(mail.clone());
        Ok(())
    }
}

/// A mail service that takes nothing: `Unavailable`, as SES throttling or down.
#[derive(Debug, Default, Clone)]
pub struct DownMailer;

#[async_trait]
impl Mailer for DownMailer {
    async fn send(&self, _mail: &Mail) -> Result<(), MailError> {
        Err(MailError::Unavailable(
            "the test's mail service is down".to_owned(),
        ))
    }
}

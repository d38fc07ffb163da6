//! A mail and what sends it. The text is ours (plain text and HTML, rendered by
//! `auth-accounts`); the sender, with its `From`, is the deployment's (Amazon SES in a
//! function, the log and a folder in `local-api`, a list in the tests).

use async_trait::async_trait;

/// One message to one address.
#[derive(Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl std::fmt::Debug for Mail {
    /// The body holds a token: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mail")
            .field("to", &super::email::mask(&self.to))
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// A mail that was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The sender could not take it now (unreachable, throttled, slow): a later try may work.
    #[error("mail service unavailable: {0}")]
    Unavailable(String),
    /// The sender refused it (an unverified sender, a suppressed address, no permission):
    /// a retry gets the same answer.
    #[error("mail refused: {0}")]
    Refused(String),
}

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;
}

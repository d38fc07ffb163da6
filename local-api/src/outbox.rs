//! The local server's mail: no mail service, so each mail is printed (its link with it: a
//! newcomer finishes a sign-up from the terminal), and with `MAIL_DIR` also written there as
//! an `.eml` file, which any mail program opens. Never used by a Lambda function, whose mail
//! goes through SES and whose log holds no token.

use std::{
    path::PathBuf,
    sync::atomic::{AtomicU64, Ordering},
};

use async_trait::async_trait;
use auth_core::accounts::mail::{Mail, MailError, Mailer};

pub const MAIL_DIR_VAR: &str = "MAIL_DIR";

/// Prints each mail, and writes it to `dir` when there is one.
#[derive(Debug)]
pub struct LocalOutbox {
    from: String,
    dir: Option<PathBuf>,
    written: AtomicU64,
}

impl LocalOutbox {
    /// An outbox whose mails come `from`, written to `dir` too if given (created if missing).
    pub fn new(from: impl Into<String>, dir: Option<PathBuf>) -> std::io::Result<Self> {
        if let Some(dir) = &dir {
            std::fs::create_dir_all(dir)?;
        }
        Ok(Self {
            from: from.into(),
            dir,
            written: AtomicU64::new(0),
        })
    }

    /// `mail` as an RFC 5322 message: plain text and HTML as alternatives.
    pub fn eml(&self, mail: &Mail) -> String {
        let boundary = "=_local-api-alternative";
        format!(
            "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/alternative; boundary=\"{boundary}\"\r\n\r\n\
             --{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n\
             --{boundary}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n\
             --{boundary}--\r\n",
            from = self.from,
            to = mail.to,
            subject = mail.subject,
            text = mail.text.replace('\n', "\r\n"),
            html = mail.html,
        )
    }
}

#[async_trait]
impl Mailer for LocalOutbox {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        println!(
            "local-api outbox: to {} — {}\n{}",
            mail.to,
            mail.subject,
            mail.text.trim_end()
        );
        if let Some(dir) = &self.dir {
            let number = self.written.fetch_add(1, Ordering::Relaxed) + 1;
            let millis = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|since| since.as_millis())
                .unwrap_or_default();
            let path = dir.join(format!("{millis}-{number}.eml"));
            tokio::fs::write(&path, self.eml(mail))
                .await
                .map_err(|error| MailError::Unavailable(format!("{}: {error}", path.display())))?;
        }
        Ok(())
    }
}

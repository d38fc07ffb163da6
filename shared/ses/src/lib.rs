//! Mail by Amazon SES: `SesMailer` sends each mail with one SES v2 `SendEmail` request (a
//! simple message: the subject, a text and an HTML body, all UTF-8) from the deployment's
//! `MAIL_FROM` to one address. Only the functions that send mail (sign-up, recovery, resend)
//! link it, and only their IAM policy allows `ses:SendEmail`.
//!
//! A failure is `MailError::Unavailable` when a later try may work (throttling, a timeout, no
//! connection, SES's own fault) and `MailError::Refused` when it will not (an unverified
//! sender, a paused or suspended account, a call the role may not make, no credentials). Its
//! text names the operation and SES's error code; an address in it is masked
//! (`auth_core::accounts::email::mask`) and the body, which holds a token, is never in it.

use async_trait::async_trait;
use auth_dynamodb::client::SdkConfig;
use aws_sdk_sesv2::{
    Client,
    config::http::HttpResponse,
    error::{DisplayErrorContext, ProvideErrorMetadata, SdkError},
    operation::send_email::SendEmailError,
    types::{Body, Content, Destination, EmailContent, Message},
};

use auth_core::accounts::{
    email,
    mail::{Mail, MailError, Mailer},
};

/// The SDK's variable for an SES v2 endpoint of one's own (a local server such as moto).
pub const ENDPOINT_VARIABLE: &str = "AWS_ENDPOINT_URL_SESV2";

/// The character set of every part of a mail: its text may hold any language.
pub const CHARSET: &str = "UTF-8";

/// The operation every error names.
const OPERATION: &str = "SendEmail";

/// An SES v2 client of `config`, at the endpoint of one's own `AWS_ENDPOINT_URL_SESV2` names
/// (a local server), if any: read here too, as a Lambda function's configuration has no loader
/// to read it; an empty value means unset, as for DynamoDB's and KMS's. Else the
/// configuration's endpoint (`AWS_ENDPOINT_URL`), else SES's of the region.
pub fn client(config: &SdkConfig) -> Client {
    let mut builder = aws_sdk_sesv2::config::Builder::from(config);
    if let Some(endpoint) = auth_dynamodb::client::endpoint_override(ENDPOINT_VARIABLE) {
        builder.set_endpoint_url(endpoint);
    }
    Client::from_conf(builder.build())
}

/// Sends mail with SES, from one identity.
#[derive(Debug, Clone)]
pub struct SesMailer {
    client: Client,
    from: String,
}

impl SesMailer {
    /// Sends from `from` (the SES identity of `MAIL_FROM`: an address, or `Name <address>`)
    /// over a client of `config` (`client`).
    pub fn new(config: &SdkConfig, from: impl Into<String>) -> Self {
        Self::with_client(client(config), from)
    }

    /// Sends from `from` over `client`: for a test, a client of its own endpoint or timeouts.
    pub fn with_client(client: Client, from: impl Into<String>) -> Self {
        Self {
            client,
            from: from.into(),
        }
    }

    /// The address mail is sent from.
    pub fn from_address(&self) -> &str {
        &self.from
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let content = simple_content(mail).map_err(|error| {
            MailError::Refused(scrubbed(format!(
                "{OPERATION} to {}: the request did not build: {error}",
                email::mask(&mail.to)
            )))
        })?;
        self.client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(&mail.to).build())
            .content(content)
            .send()
            .await
            .map(|_| ())
            .map_err(|error| mail_error(&mail.to, error))
    }
}

/// `mail` as SES's simple content: the subject, the text and the HTML body, each UTF-8.
fn simple_content(mail: &Mail) -> Result<EmailContent, aws_sdk_sesv2::error::BuildError> {
    let utf8 = |data: &str| Content::builder().data(data).charset(CHARSET).build();
    let message = Message::builder()
        .subject(utf8(&mail.subject)?)
        .body(
            Body::builder()
                .text(utf8(&mail.text)?)
                .html(utf8(&mail.html)?)
                .build(),
        )
        .build();
    Ok(EmailContent::builder().simple(message).build())
}

/// A failed `SendEmail` to `to` as a `MailError`: what may pass is `Unavailable`, anything
/// else `Refused`. The text: the operation, the masked recipient, SES's code and message when
/// it answered (else the SDK's chain of causes), every address in it masked.
fn mail_error(to: &str, error: SdkError<SendEmailError, HttpResponse>) -> MailError {
    let to = email::mask(to);
    let (passing, detail) = match &error {
        SdkError::ServiceError(context) => {
            let answered = context.err();
            let code = answered.code().unwrap_or("an error");
            let detail = format!(
                "{code}: {}",
                answered.message().unwrap_or("no reason given")
            );
            let status = context.raw().status().as_u16();
            (is_passing_answer(answered.code(), Some(status)), detail)
        }
        SdkError::TimeoutError(_) => (true, DisplayErrorContext(&error).to_string()),
        // An answer that could not be read: SES's fault, or the network's.
        SdkError::ResponseError(_) => (true, DisplayErrorContext(&error).to_string()),
        // A connection that failed or timed out; not a request that could not be made (no
        // credentials, no region), which no retry mends.
        SdkError::DispatchFailure(failure) => (
            failure.is_io() || failure.is_timeout(),
            DisplayErrorContext(&error).to_string(),
        ),
        _ => (false, DisplayErrorContext(&error).to_string()),
    };
    let text = scrubbed(format!("{OPERATION} to {to}: {detail}"));
    if passing {
        MailError::Unavailable(text)
    } else {
        MailError::Refused(text)
    }
}

/// Whether SES's answer (its error `code`, its HTTP `status`) says a later try may work:
/// throttling and sending limits, and SES's own faults (5xx). Everything else SES refuses
/// (`MessageRejected`, `MailFromDomainNotVerifiedException`, `AccountSuspendedException`,
/// `SendingPausedException`, `NotFoundException`, `BadRequestException`, access denied,
/// credentials it does not accept) gets the same answer however often it is sent.
fn is_passing_answer(code: Option<&str>, status: Option<u16>) -> bool {
    matches!(
        code,
        Some(
            "TooManyRequestsException"
                | "ThrottlingException"
                | "Throttling"
                | "LimitExceededException"
                | "InternalServiceErrorException"
                | "ServiceUnavailable"
        )
    ) || status.is_some_and(|status| status == 429 || status >= 500)
}

/// `text` with every address in it masked: SES's messages may name the recipient (an
/// unverified address in the sandbox) or the sender.
fn scrubbed(text: String) -> String {
    let in_address = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.@".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        // An address has a local part: the `@auth([])` of an SDK hint is none.
        if word
            .split_once('@')
            .is_some_and(|(local, _)| local.chars().any(|c| c.is_ascii_alphanumeric()))
        {
            out.push_str(&email::mask(word));
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if in_address(c) {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_limits_and_ses_faults_may_pass_and_every_other_answer_is_a_refusal() {
        for passing in [
            "TooManyRequestsException",
            "ThrottlingException",
            "LimitExceededException",
            "InternalServiceErrorException",
        ] {
            assert!(is_passing_answer(Some(passing), Some(400)), "{passing}");
        }
        assert!(is_passing_answer(None, Some(503)));
        assert!(is_passing_answer(Some("SomethingNew"), Some(500)));
        assert!(is_passing_answer(None, Some(429)));
        for refused in [
            "MessageRejected",
            "MailFromDomainNotVerifiedException",
            "AccountSuspendedException",
            "SendingPausedException",
            "NotFoundException",
            "BadRequestException",
            "AccessDeniedException",
            "UnrecognizedClientException",
            "InvalidSignatureException",
        ] {
            assert!(!is_passing_answer(Some(refused), Some(400)), "{refused}");
            assert!(!is_passing_answer(Some(refused), None), "{refused}");
        }
    }

    #[test]
    fn every_address_in_an_error_text_is_masked_and_the_rest_kept() {
        assert_eq!(
            scrubbed(
                "MessageRejected: Email address is not verified. The following identities \
                 failed the check in region US-EAST-1: ann.lee@example.org, \
                 No Reply <no-reply@example.com>."
                    .to_owned()
            ),
            "MessageRejected: Email address is not verified. The following identities failed \
             the check in region US-EAST-1: a***@example.org, No Reply <n***@example.com>."
        );
        for kept in [
            "dispatch failure: http://127.0.0.1:1/v2/email",
            "consider using `@optionalAuth` or `@auth([])`",
        ] {
            assert_eq!(scrubbed(kept.to_owned()), kept);
        }
    }

    #[test]
    fn a_mail_is_simple_content_with_every_part_in_utf8() {
        let mail = Mail {
            to: "ann@example.org".to_owned(),
            subject: "Bestätigen".to_owned(),
            text: "text".to_owned(),
            html: "<p>html</p>".to_owned(),
        };
        let content = simple_content(&mail).unwrap();
        let message = content.simple().unwrap();
        let subject = message.subject().unwrap();
        assert_eq!(
            (subject.data(), subject.charset()),
            ("Bestätigen", Some(CHARSET))
        );
        let body = message.body().unwrap();
        let text = body.text().unwrap();
        let html = body.html().unwrap();
        assert_eq!((text.data(), text.charset()), ("text", Some(CHARSET)));
        assert_eq!(
            (html.data(), html.charset()),
            ("<p>html</p>", Some(CHARSET))
        );
    }
}

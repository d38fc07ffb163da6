//! Mail through a real SES-compatible server (moto, which `./scripts/test` starts beside
//! DynamoDB and KMS, at the same endpoint): a sender identity of each test's own, and the mail
//! the server took, read back from moto's state.
//!
//! moto keeps what SES v2's `SendEmail` sent in its SES (v1) backend, and lists it at
//! `GET {endpoint}/moto-api/data.json` (moto 5.2), under `ses` → `Message`:
//!
//! ```json
//! {"ses": {"Message": [{"id": "…", "source": "no-reply@example.com",
//!                       "destinations": {"ToAddresses": ["ann@example.org"]},
//!                       "subject": "…", "body": "…"}],
//!          "RawMessage": [], "EmailIdentity": [{"email_identity": "…", …}], …}}
//! ```
//!
//! A simple message keeps one body: its HTML part when it has one, else its text (so the text
//! of a mail with both is not there to read: a test reads it off the request, see
//! `SentMail::body`). `destinations` has `CcAddresses` and `BccAddresses` beside `ToAddresses`
//! when a mail had them. Mail from every account and region is in the one list.

use aws_sdk_sesv2::Client;
use serde_json::Value;

/// The SES-compatible server the tests run against.
pub fn ses_endpoint() -> String {
    std::env::var(auth_ses::ENDPOINT_VARIABLE).unwrap_or_else(|_| {
        panic!(
            "{} is not set: the SES tests send mail through a real SES-compatible server; run \
             ./scripts/test, which starts moto_server",
            auth_ses::ENDPOINT_VARIABLE
        )
    })
}

/// An SES v2 client of `endpoint`, configured otherwise as the tests' other clients are.
pub async fn ses_client(endpoint: &str) -> Client {
    let config = auth_dynamodb::aws_config().await;
    Client::from_conf(
        aws_sdk_sesv2::config::Builder::from(&config)
            .endpoint_url(endpoint)
            .build(),
    )
}

/// A new sender on the server at `endpoint`, an address of a domain of its own, made an SES
/// identity (`CreateEmailIdentity`, which moto verifies at once): what `MAIL_FROM` names.
pub async fn verified_sender(endpoint: &str) -> String {
    let address = format!("no-reply@{}.example.com", uuid::Uuid::new_v4().simple());
    ses_client(endpoint)
        .await
        .create_email_identity()
        .email_identity(&address)
        .send()
        .await
        .expect("the test server creates email identities");
    address
}

/// An address no mail was sent to yet: a recipient of one test's own.
pub fn fresh_recipient() -> String {
    format!("ann.{}@example.org", uuid::Uuid::new_v4().simple())
}

/// One mail the server took, as moto keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentMail {
    /// `FromEmailAddress`, as sent.
    pub from: String,
    /// The `ToAddresses`.
    pub to: Vec<String>,
    pub subject: String,
    /// moto keeps one body of a simple message: the HTML part when there is one, else the
    /// text.
    pub body: String,
}

/// Every mail the server at `endpoint` took, oldest first, read from `/moto-api/data.json`.
pub fn sent_mail(endpoint: &str) -> Vec<SentMail> {
    let url = format!("{}/moto-api/data.json", endpoint.trim_end_matches('/'));
    let state: Value = ureq::get(&url)
        .call()
        .unwrap_or_else(|error| panic!("GET {url}: {error}"))
        .body_mut()
        .with_config()
        .limit(256 * 1024 * 1024)
        .read_json()
        .unwrap_or_else(|error| panic!("GET {url}: not JSON: {error}"));
    let text = |message: &Value, field: &str| {
        message[field]
            .as_str()
            .unwrap_or_else(|| panic!("moto's mail has no {field}: {message}"))
            .to_owned()
    };
    state["ses"]["Message"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|message| SentMail {
            from: text(message, "source"),
            to: message["destinations"]["ToAddresses"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter_map(|to| to.as_str().map(str::to_owned))
                .collect(),
            subject: text(message, "subject"),
            body: text(message, "body"),
        })
        .collect()
}

/// The mail the server at `endpoint` took for `address`, oldest first.
pub fn mails_to(endpoint: &str, address: &str) -> Vec<SentMail> {
    sent_mail(endpoint)
        .into_iter()
        .filter(|mail| mail.to.iter().any(|to| to == address))
        .collect()
}

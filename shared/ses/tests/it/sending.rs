use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use auth_core::accounts::{
    email,
    mail::{Mail, MailError, Mailer},
};
use auth_dynamodb::{client::lambda_aws_config_of, trust_roots::TrustRoots};
use auth_ses::{CHARSET, SesMailer};
use auth_testkit::ses::{fresh_recipient, mails_to, ses_endpoint, verified_sender};
use aws_sdk_sesv2::{
    Client,
    config::{
        ConfigBag, Credentials, Intercept, Region, RuntimeComponents,
        interceptors::BeforeTransmitInterceptorContextRef, retry::RetryConfig,
        timeout::TimeoutConfig,
    },
    error::BoxError,
};
use serde_json::Value;

/// What the link of a mail carries: no error text may hold it.
const TOKEN: &str = "tok3n-0f-the-link";

fn mail_to(to: &str) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: "Bestätigen Sie Ihre Adresse".to_owned(),
        text: format!("Öffnen: https://app.example.com/welcome?type=signup&token={TOKEN}"),
        html: format!(
            "<p>Öffnen: <a href=\"https://app.example.com/welcome?type=signup&amp;token={TOKEN}\">\
             bestätigen</a></p>"
        ),
    }
}

/// Keeps the body of every request its client sends.
#[derive(Debug, Default, Clone)]
struct SentRequests(Arc<Mutex<Vec<Vec<u8>>>>);

impl Intercept for SentRequests {
    fn name(&self) -> &'static str {
        "SentRequests"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let body = context
            .request()
            .body()
            .bytes()
            .unwrap_or_default()
            .to_vec();
        self.0.lock().unwrap().push(body);
        Ok(())
    }
}

/// Asserts that `error`'s text names the call and holds neither `addresses` in full nor the
/// mail's token.
fn assert_discreet(error: &MailError, addresses: &[&str]) {
    let text = error.to_string();
    assert!(text.contains("SendEmail"), "names the operation: {text}");
    for address in addresses {
        assert!(!text.contains(address), "{address} in full: {text}");
    }
    assert!(!text.contains(TOKEN), "the body: {text}");
}

#[tokio::test]
#[ignore = "needs an SES-compatible server: ./scripts/test starts moto"]
async fn a_mail_arrives_from_the_sender_to_the_recipient_with_its_subject_text_and_html() {
    let endpoint = ses_endpoint();
    let from = verified_sender(&endpoint).await;
    let to = fresh_recipient();
    let config = auth_dynamodb::aws_config().await;
    // The client the functions use (its endpoint from AWS_ENDPOINT_URL_SESV2), its requests
    // kept: moto keeps one body of a simple message, the HTML, so the text is read off the wire.
    let requests = SentRequests::default();
    let client = auth_ses::client(&config);
    let client = Client::from_conf(
        client
            .config()
            .to_builder()
            .interceptor(requests.clone())
            .build(),
    );
    let mail = mail_to(&to);

    SesMailer::with_client(client, &from)
        .send(&mail)
        .await
        .unwrap();

    let arrived = mails_to(&endpoint, &to);
    assert_eq!(arrived.len(), 1, "{arrived:?}");
    let arrived = &arrived[0];
    assert_eq!(arrived.from, from);
    assert_eq!(arrived.to, vec![to.clone()]);
    assert_eq!(arrived.subject, mail.subject);
    assert_eq!(arrived.body, mail.html);

    let sent = requests.0.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    let request: Value = serde_json::from_slice(&sent[0]).unwrap();
    assert_eq!(request["FromEmailAddress"], from.as_str());
    assert_eq!(
        request["Destination"]["ToAddresses"],
        serde_json::json!([to])
    );
    let simple = &request["Content"]["Simple"];
    for (part, data) in [
        (&simple["Subject"], &mail.subject),
        (&simple["Body"]["Text"], &mail.text),
        (&simple["Body"]["Html"], &mail.html),
    ] {
        assert_eq!(part["Data"], data.as_str(), "{request}");
        assert_eq!(part["Charset"], CHARSET, "{request}");
    }
}

#[tokio::test]
#[ignore = "needs an SES-compatible server: ./scripts/test starts moto"]
async fn the_configured_client_reaches_ses_at_its_endpoint_variable() {
    let endpoint = ses_endpoint();
    let from = verified_sender(&endpoint).await;
    let to = fresh_recipient();
    let mailer = SesMailer::new(&auth_dynamodb::aws_config().await, from.clone());
    assert_eq!(mailer.from_address(), from);

    mailer.send(&mail_to(&to)).await.unwrap();

    assert_eq!(mails_to(&endpoint, &to).len(), 1);
}

#[tokio::test]
#[ignore = "needs an SES-compatible server: ./scripts/test starts moto"]
async fn an_unverified_sender_is_refused_with_the_code_and_no_address_in_full() {
    let endpoint = ses_endpoint();
    let from = format!("no-reply@unverified-{}.example.com", std::process::id());
    let to = fresh_recipient();
    let mailer = SesMailer::new(&auth_dynamodb::aws_config().await, from.clone());

    let error = mailer.send(&mail_to(&to)).await.unwrap_err();

    assert!(matches!(error, MailError::Refused(_)), "{error}");
    assert!(error.to_string().contains("MessageRejected"), "{error}");
    assert!(error.to_string().contains(&email::mask(&to)), "{error}");
    assert_discreet(&error, &[&to, &from]);
    assert!(mails_to(&endpoint, &to).is_empty());
}

/// A Lambda function's configuration (its timeouts and retries) with credentials, a region,
/// and at most `attempts` tries, for a client of `endpoint`.
fn client_at(endpoint: &str, attempts: u32) -> Client {
    let config = lambda_aws_config_of(|_| None, TrustRoots::System);
    Client::from_conf(
        aws_sdk_sesv2::config::Builder::from(&config)
            .endpoint_url(endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
            .retry_config(RetryConfig::standard().with_max_attempts(attempts))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_millis(500))
                    .operation_timeout(Duration::from_secs(2))
                    .build(),
            )
            .build(),
    )
}

/// An endpoint nothing listens at: a port just freed, which refuses connections.
fn closed_port_endpoint() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}")
}

#[tokio::test]
async fn an_ses_out_of_reach_is_unavailable_at_once_and_says_no_address_in_full() {
    let to = fresh_recipient();
    let from = "no-reply@example.com";
    let mailer = SesMailer::with_client(client_at(&closed_port_endpoint(), 2), from);
    let started = Instant::now();

    let error = mailer.send(&mail_to(&to)).await.unwrap_err();

    assert!(matches!(error, MailError::Unavailable(_)), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_discreet(&error, &[&to, from]);
}

#[tokio::test]
async fn a_call_without_credentials_is_refused_as_no_retry_mends_it() {
    let to = fresh_recipient();
    let client = Client::from_conf(
        aws_sdk_sesv2::Config::builder()
            .behavior_version_latest()
            .region(Region::new("us-east-1"))
            .endpoint_url(closed_port_endpoint())
            .build(),
    );

    let error = SesMailer::with_client(client, "no-reply@example.com")
        .send(&mail_to(&to))
        .await
        .unwrap_err();

    assert!(matches!(error, MailError::Refused(_)), "{error}");
    assert_discreet(&error, &[&to]);
}

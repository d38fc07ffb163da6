//! The store's HTTPS client (rustls on ring) completes a real TLS handshake and a DynamoDB call
//! with the roots it is given, and refuses a peer outside them: the deployed functions reach
//! DynamoDB over HTTPS only, and no other test leaves plain HTTP. A local TLS server, with a
//! certificate made for the test, answers a GetItem; the system store trusts it through
//! `SSL_CERT_FILE` (read by rustls-native-certs), Amazon Trust Services' roots do not.

// Test code: an unwrap, expect or panic is how a test says where it failed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use auth_core::{store::StoreError, users::UserStore};
use auth_dynamodb::{DynamoUserStore, trust_roots::TrustRoots};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
    task::JoinHandle,
};
use tokio_rustls::{
    TlsAcceptor,
    rustls::{
        ServerConfig,
        crypto::ring,
        pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer},
    },
};

/// Reads one HTTP/1.1 request (headers and a `content-length` body) and returns its head.
async fn read_request(stream: &mut (impl AsyncReadExt + Unpin)) -> String {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let read = stream.read(&mut buffer).await.unwrap();
        assert!(read > 0, "the client closed the connection mid-request");
        received.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&received).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let head = text[..end].to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .map_or(0, |value| value.trim().parse().unwrap());
            if received.len() >= end + 4 + length {
                return head;
            }
        }
    }
}

/// The test's certificate for `localhost`, in a CA bundle file named by `SSL_CERT_FILE`, and the
/// environment the SDK needs; set once for the whole binary. The file is in Cargo's scratch
/// directory for integration tests, under one name that each run overwrites.
fn test_certificate() -> &'static rcgen::CertifiedKey<rcgen::KeyPair> {
    static CERTIFICATE: std::sync::OnceLock<rcgen::CertifiedKey<rcgen::KeyPair>> =
        std::sync::OnceLock::new();
    CERTIFICATE.get_or_init(|| {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let cert_file =
            std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("dynamodb-tls-ca.pem");
        std::fs::write(&cert_file, certified.cert.pem()).unwrap();
        // SAFETY: every test of this binary calls this before it reads the environment, and
        // the first call sets it while the others wait on the lock.
        #[allow(unsafe_code)]
        unsafe {
            std::env::set_var("SSL_CERT_FILE", &cert_file);
            std::env::set_var("AWS_REGION", "us-east-1");
            std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
            std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        }
        certified
    })
}

/// A TLS server on `localhost` with the test's certificate: it answers the first request that
/// comes over a completed handshake (a GetItem, with no item) and returns the request's head.
/// Connections whose handshake fails are dropped, as the client's retries come.
async fn get_item_server() -> (u16, JoinHandle<String>) {
    let certified = test_certificate();
    let server_config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(certified.cert.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
                certified.signing_key.serialize_der(),
            )),
        )
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(server_config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let Ok(mut tls) = acceptor.accept(tcp).await else {
                continue;
            };
            let head = read_request(&mut tls).await;
            // GetItem without an Item: no such user.
            let body = "{}";
            let response = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\n\
                 content-length: {}\r\n\r\n{body}",
                body.len()
            );
            tls.write_all(response.as_bytes()).await.unwrap();
            tls.shutdown().await.unwrap();
            return head;
        }
    });
    (port, server)
}

#[tokio::test]
async fn the_store_reaches_dynamodb_over_tls_with_ring_and_the_system_trust_roots() {
    let (port, server) = get_item_server().await;
    // Not in Lambda, and SSL_CERT_FILE is set: the system store, which that file replaces.
    assert_eq!(TrustRoots::from_env(), TrustRoots::System);

    let store = auth_testkit::dynamodb_store_at(&format!("https://localhost:{port}")).await;
    let found = store.find("cosmo").await;
    assert!(matches!(found, Ok(None)), "{found:?}");
    let head = server.await.unwrap();
    assert!(
        head.contains("x-amz-target: dynamodb_20120810.getitem"),
        "{head}"
    );
}

#[tokio::test]
async fn amazon_trust_services_roots_refuse_a_server_certified_by_anyone_else() {
    let (port, server) = get_item_server().await;
    let config = aws_sdk_dynamodb::config::Builder::from(
        &auth_dynamodb::client::aws_config_trusting(TrustRoots::AmazonTrustServices).await,
    )
    .endpoint_url(format!("https://localhost:{port}"))
    .build();
    let store = DynamoUserStore::new(aws_sdk_dynamodb::Client::from_conf(config), "users");

    let found = store.find("cosmo").await;
    let Err(StoreError::Unavailable(detail)) = found else {
        panic!("expected the store to be unreachable, got {found:?}");
    };
    assert!(detail.contains("UnknownIssuer"), "{detail}");
    assert!(
        !server.is_finished(),
        "a handshake completed and the server answered"
    );
    server.abort();
}

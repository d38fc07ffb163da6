//! The store's HTTPS client (rustls on ring, trust roots from the system) completes a real TLS
//! handshake and a DynamoDB call: the deployed functions reach DynamoDB over HTTPS only, and
//! no other test leaves plain HTTP. A local TLS server, with a certificate made for the test
//! and trusted through `SSL_CERT_FILE` (read by rustls-native-certs), answers a GetItem.

use std::sync::Arc;

use shared::users::UserStore;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
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

#[tokio::test]
async fn the_store_reaches_dynamodb_over_tls_with_ring_and_the_system_trust_roots() {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_file = std::env::temp_dir().join(format!("test-ca-{}.pem", uuid::Uuid::new_v4()));
    std::fs::write(&cert_file, certified.cert.pem()).unwrap();
    // SAFETY: this test binary has this one test; nothing else reads the environment meanwhile.
    unsafe {
        std::env::set_var("SSL_CERT_FILE", &cert_file);
        std::env::set_var("AWS_REGION", "us-east-1");
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    }

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
        let (tcp, _) = listener.accept().await.unwrap();
        let mut tls = acceptor.accept(tcp).await.expect("a TLS handshake");
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
        head
    });

    let store = shared::testing::dynamodb_store_at(&format!("https://localhost:{port}")).await;
    let found = store.find("cosmo").await;
    let _ = std::fs::remove_file(&cert_file);
    assert!(matches!(found, Ok(None)), "{found:?}");
    let head = server.await.unwrap();
    assert!(
        head.contains("x-amz-target: dynamodb_20120810.getitem"),
        "{head}"
    );
}

//! A TLS terminator on loopback in front of a plain-HTTP server (moto), with a certificate made
//! for it at start: a bootstrap told to trust that certificate (`SSL_CERT_FILE`, which
//! rustls-native-certs reads, as on Lambda) pays a real TLS handshake to reach its store, as
//! every cold start in AWS does to reach DynamoDB.
//!
//! Like DynamoDB, and unlike moto (which closes every connection after its answer), it keeps
//! the client's connection open: each request is relayed over a connection of its own to the
//! server and its answer sent back without `Connection: close`, so a warm request pays no
//! handshake, as in AWS.

use std::{
    io,
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use tokio::{
    io::AsyncWriteExt,
    net::{TcpListener, TcpStream},
};
use tokio_rustls::{
    TlsAcceptor,
    rustls::{
        ServerConfig,
        crypto::ring,
        pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer},
    },
};

use crate::http_message::{find, next_message};

/// A running terminator: its `https://localhost:<port>` URL, the certificate to trust, and
/// counts of the TLS handshakes it completed and the requests it relayed.
pub struct TlsFront {
    pub url: String,
    pub certificate: PathBuf,
    pub handshakes: Arc<AtomicUsize>,
    pub requests: Arc<AtomicUsize>,
}

impl TlsFront {
    /// Starts a terminator relaying to `upstream` (`host:port`), writing its certificate into
    /// `directory`. It serves as long as the runtime lives.
    pub async fn start(upstream: &str, directory: &Path) -> io::Result<Self> {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
            .map_err(io::Error::other)?;
        let certificate = directory.join("tls-front.pem");
        std::fs::write(&certificate, certified.cert.pem())?;
        let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(io::Error::other)?
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(certified.cert.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
                    certified.signing_key.serialize_der(),
                )),
            )
            .map_err(io::Error::other)?;
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("https://localhost:{}", listener.local_addr()?.port());
        let upstream = upstream.to_owned();
        let handshakes = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let counts = (handshakes.clone(), requests.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (acceptor, upstream) = (acceptor.clone(), upstream.clone());
                let (handshakes, requests) = counts.clone();
                let _ = client.set_nodelay(true);
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(client).await {
                        handshakes.fetch_add(1, Ordering::Relaxed);
                        let _ = serve(tls, &upstream, &requests).await;
                    }
                });
            }
        });
        Ok(Self {
            url,
            certificate,
            handshakes,
            requests,
        })
    }
}

/// Relays each request of the connection `client` to `upstream` until the client closes it.
async fn serve(
    mut client: tokio_rustls::server::TlsStream<TcpStream>,
    upstream: &str,
    requests: &AtomicUsize,
) -> io::Result<()> {
    let mut buffered = Vec::new();
    while let Some(request) = next_message(&mut client, &mut buffered).await? {
        requests.fetch_add(1, Ordering::Relaxed);
        let mut server = TcpStream::connect(upstream).await?;
        server.set_nodelay(true)?;
        server.write_all(&request).await?;
        // An answer is framed like a request (moto's have a `content-length`); the server's
        // close after it is not waited for.
        let response = next_message(&mut server, &mut Vec::new())
            .await?
            .ok_or_else(|| io::Error::other("the server closed without an answer"))?;
        client.write_all(&keep_alive(&response)).await?;
        client.flush().await?;
    }
    Ok(())
}

/// `response` without its `Connection: close` header.
fn keep_alive(response: &[u8]) -> Vec<u8> {
    let Some(head_end) = find(response, b"\r\n\r\n") else {
        return response.to_vec();
    };
    let head = String::from_utf8_lossy(&response[..head_end]);
    let kept: Vec<&str> = head
        .split("\r\n")
        .filter(|line| !line.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    let mut answer = kept.join("\r\n").into_bytes();
    answer.extend_from_slice(&response[head_end..]);
    answer
}

//! The local server's connections, which no client can hold open: a request's head must arrive
//! within the read timeout (else hyper closes the connection) and its body too (else `408`, in
//! `serve`), an idle keep-alive connection is closed after it, and at most `MAX_CONNECTIONS`
//! are open at once (one more is closed as it is accepted). `axum::serve` has none of these
//! limits, and local-api also guards a real service (`UPSTREAM_URL`).

use std::{future::Future, sync::Arc, time::Duration};

use axum::Router;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::Semaphore};

/// How long a client has to send a request's head, and then its body: far longer than any
/// client on a working network needs.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections open at once: a browser opens six per origin, a load test a few hundred.
pub const MAX_CONNECTIONS: usize = 512;
/// The variable that sets the read timeout (seconds or a duration: `5s`).
pub const READ_TIMEOUT_VAR: &str = "READ_TIMEOUT";

/// Serves `app` on `listener` until `shutdown` completes, then lets each open connection finish
/// the request it is answering.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    read_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // The process is out of descriptors, or the peer left before the accept:
                // that connection is lost, the server goes on.
                Err(error) => {
                    tracing::warn!(%error, "a connection could not be accepted");
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::warn!(
                max = MAX_CONNECTIONS,
                "too many open connections: one more is closed"
            );
            drop(stream);
            continue;
        };
        // The peer's address, as API Gateway's `sourceIp` (`crate::serve`).
        let service = TowerToHyperService::new(
            app.clone()
                .layer(axum::Extension(axum::extract::ConnectInfo(peer))),
        );
        let mut stopping = stopping.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(read_timeout)
                // Room above API Gateway's limits, which `serve` answers with 431 JSON.
                .max_headers(10 * crate::MAX_HEADERS);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = stopping.changed() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
    let _ = stop.send(true);
    // Every connection has ended once every slot is back.
    let _ = slots.acquire_many(MAX_CONNECTIONS as u32).await;
    Ok(())
}

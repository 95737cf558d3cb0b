//! The accept loop: every connection is counted against its peer's cap and the server's
//! (see `limits`) and served by hyper's HTTP/1 with a header read timeout and websocket
//! upgrades. A connection over a cap is accepted and closed at once, so it holds no
//! descriptor. When `shutdown` completes, no connection is accepted any more, every
//! connection finishes the request it is serving (a run stopped by the engine's
//! `StopHandle` is answered) and closes, and then `serve` returns.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::limits::{connection_cap, HEADER_TIMEOUT, MAX_CONNECTIONS_PER_PEER};
use super::peers::{Peers, Permit};

/// How long to wait before accepting again when accepting failed for want of resources
/// (descriptors, memory): the connections that hold them may close meanwhile.
const AFTER_ACCEPT_ERROR: Duration = Duration::from_secs(1);

/// Serves `app` on `listener` until `shutdown` completes and every connection has closed.
pub async fn serve(listener: TcpListener, app: Router, shutdown: impl Future<Output = ()>) {
    let peers = Peers::new(MAX_CONNECTIONS_PER_PEER, connection_cap(open_files_limit()));
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(HEADER_TIMEOUT);
    let (stop, stopping) = watch::channel(());
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        while connections.try_join_next().is_some() {}
        let (stream, address) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                after_accept_error(error).await;
                continue;
            }
        };
        // Over a cap, `stream` is dropped here: the connection is closed at once.
        match peers.admit(address.ip()) {
            Ok(permit) => {
                let io = Counted { stream, _permit: permit };
                connections.spawn(connection(http.clone(), io, app.clone(), stopping.clone()));
            }
            Err(refusal) => tracing::debug!("closed a connection from {address} at once: {refusal:?}"),
        }
    }
    drop(listener);
    let _ = stop.send(());
    while connections.join_next().await.is_some() {}
}

/// Serves one connection; when told to stop, it finishes the request under way and closes.
async fn connection(http: http1::Builder, io: Counted, app: Router, mut stopping: watch::Receiver<()>) {
    let served = http.serve_connection(TokioIo::new(io), TowerToHyperService::new(app)).with_upgrades();
    tokio::pin!(served);
    let result = tokio::select! {
        result = served.as_mut() => result,
        _ = stopping.changed() => {
            served.as_mut().graceful_shutdown();
            served.await
        }
    };
    // A client that went away, or sent its headers too slowly, is no news.
    if let Err(error) = result {
        tracing::debug!("a connection ended: {error}");
    }
}

/// A failed accept: a connection gone before it was accepted is passed over; running out
/// of descriptors or memory waits a little for some to be given back.
async fn after_accept_error(error: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(error.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return;
    }
    tracing::warn!("cannot accept a connection: {error}");
    tokio::time::sleep(AFTER_ACCEPT_ERROR).await;
}

/// The soft limit on this process's open files (raised at start, see `descriptors`).
fn open_files_limit() -> u64 {
    nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE).map_or(1024, |(soft, _)| soft)
}

/// A connection's socket with its place in the count, which it keeps as long as the
/// socket is open: after a websocket upgrade, the websocket holds it.
struct Counted {
    stream: TcpStream,
    _permit: Permit,
}

impl AsyncRead for Counted {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

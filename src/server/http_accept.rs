//! How the native HTTP servers (the stand-in, the static widget server and
//! the scripted test server) take connections: with a deadline for the
//! request head and a limit on open connections.
//!
//! - **Head deadline** ([`HEAD_TIMEOUT`], 10 s): a client that opens a
//!   connection and sends a request head slowly, or never, is disconnected
//!   when the deadline passes instead of holding a task and a socket
//!   forever. The same deadline closes a keep-alive connection that stays
//!   idle between requests (browsers reconnect without a sound; the widget
//!   polls every few seconds). For the stand-in and the static server it is
//!   hyper's `header_read_timeout`; the test server reads heads itself and
//!   applies [`HEAD_TIMEOUT`] around that.
//! - **Connection limit** ([`MAX_CONNECTIONS`], 256 per server): one more
//!   gets a short `503 Service Unavailable` in plain text (`Retry-After: 1`,
//!   with the CORS header, so a widget sees a server error and backs off
//!   instead of a network failure), then the connection is closed. Writing
//!   that answer is itself bounded: at most [`MAX_REFUSING`] at once, two
//!   seconds each; beyond that a connection is closed without a word.
//!
//! axum's own `serve` has neither (it configures no timer for hyper), so the
//! stand-in and the static server run their routers through
//! [`serve_router`], a small accept loop over hyper's HTTP/1 connection
//! builder. On stop it stops accepting, asks open connections to finish
//! their current request, and gives them [`GRACE`] to do so.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use super::background::StopSignal;

/// How long a client has to send a whole request head.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Most connections one server keeps open at once.
pub const MAX_CONNECTIONS: usize = 256;
/// Most `503` answers being written at once.
pub const MAX_REFUSING: usize = 64;
/// How long open connections get to finish when the server stops.
pub const GRACE: Duration = Duration::from_secs(5);

/// The whole answer to a connection beyond the limit.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Length: 21\r\n\
Retry-After: 1\r\n\
Access-Control-Allow-Origin: *\r\n\
Cache-Control: no-store\r\n\
Connection: close\r\n\
\r\n\
too many connections\n";

/// Admits connections up to a limit and refuses the rest with a `503`.
#[derive(Debug, Clone)]
pub(crate) struct Gate {
    open: Arc<Semaphore>,
    refusing: Arc<Semaphore>,
}

impl Gate {
    /// A gate for at most `max` open connections.
    pub(crate) fn new(max: usize) -> Self {
        Self {
            open: Arc::new(Semaphore::new(max)),
            refusing: Arc::new(Semaphore::new(MAX_REFUSING)),
        }
    }

    /// The connection with the permit that counts it, or `None` when the
    /// server is full (the `503` is then written in the background).
    pub(crate) fn admit(&self, socket: TcpStream) -> Option<(TcpStream, OwnedSemaphorePermit)> {
        match Arc::clone(&self.open).try_acquire_owned() {
            Ok(permit) => Some((socket, permit)),
            Err(_) => {
                self.refuse(socket);
                None
            }
        }
    }

    fn refuse(&self, mut socket: TcpStream) {
        let Ok(permit) = Arc::clone(&self.refusing).try_acquire_owned() else {
            return; // Dropped: closed without an answer.
        };
        tokio::spawn(async move {
            let _permit = permit;
            let _ = tokio::time::timeout(Duration::from_secs(2), async {
                socket.write_all(BUSY).await?;
                socket.shutdown().await?;
                // Take in what the client sent, so that closing does not
                // reset the connection under the answer.
                let mut sink = [0u8; 1024];
                while socket.read(&mut sink).await? > 0 {}
                Ok::<_, io::Error>(())
            })
            .await;
        });
    }
}

/// Serves `router` on `listener` with the head deadline and the connection
/// limit (see the module docs) until `stop` resolves.
pub(crate) async fn serve_router(
    listener: TcpListener,
    router: Router,
    stop: StopSignal,
) -> io::Result<()> {
    let gate = Gate::new(MAX_CONNECTIONS);
    let (closing, closed) = watch::channel(false);
    let mut connections = JoinSet::new();
    let stop = stop.wait();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => {
                    let Some((socket, permit)) = gate.admit(socket) else {
                        continue;
                    };
                    let service = TowerToHyperService::new(router.clone());
                    let closed = closed.clone();
                    connections.spawn(async move {
                        let _permit = permit;
                        let _ = socket.set_nodelay(true);
                        let mut builder = http1::Builder::new();
                        builder
                            .timer(TokioTimer::new())
                            .header_read_timeout(HEAD_TIMEOUT);
                        let connection = builder.serve_connection(TokioIo::new(socket), service);
                        tokio::pin!(connection);
                        let finished = tokio::select! {
                            _ = connection.as_mut() => true,
                            () = until_closing(closed) => false,
                        };
                        if !finished {
                            connection.as_mut().graceful_shutdown();
                            let _ = connection.await;
                        }
                    });
                }
                Err(_) => {
                    // Out of descriptors and the like: wait instead of spinning.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    let _ = closing.send(true);
    let _ = tokio::time::timeout(GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    Ok(())
}

/// Resolves once the server is stopping (or gone).
async fn until_closing(mut closed: watch::Receiver<bool>) {
    let _ = closed.wait_for(|closed| *closed).await.map(|_| ());
}

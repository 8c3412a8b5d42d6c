//! Runs a server on its own thread with its own tokio runtime.
//!
//! Both the scripted test server and the stand-in are started from plain
//! (non-async) Rust tests as well as from async end-to-end tests. A dedicated
//! thread with a private runtime works from either: the caller never needs a
//! runtime, and an async caller's runtime is never blocked by the server.
//! The listener is bound on the caller's thread so that "address in use" and
//! the chosen port are known before `spawn` returns.

use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener as StdTcpListener};
use std::thread::JoinHandle;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// A server running on a background thread; stops on [`Background::stop`] or drop.
#[derive(Debug)]
pub(crate) struct Background {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl Background {
    /// Binds `bind` now, then runs `serve(listener, stop_signal)` on a new
    /// thread. `serve` must return soon after the stop signal resolves.
    pub(crate) fn start<F, Fut>(name: &str, bind: SocketAddr, serve: F) -> io::Result<Self>
    where
        F: FnOnce(TcpListener, StopSignal) -> Fut + Send + 'static,
        Fut: Future<Output = io::Result<()>>,
    {
        let std_listener = StdTcpListener::bind(bind)?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let (stop_tx, stop_rx) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()?;
                runtime.block_on(async move {
                    let listener = TcpListener::from_std(std_listener)?;
                    serve(listener, StopSignal(stop_rx)).await
                })
                // Dropping the runtime here cancels connection tasks still running.
            })?;
        Ok(Self {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// The bound address (with the real port when 0 was asked for).
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Signals the server to stop and waits for its thread to finish.
    pub(crate) fn stop(mut self) -> io::Result<()> {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> io::Result<()> {
        if let Some(stop) = self.stop.take() {
            // The server may already have exited on its own; nothing to tell then.
            let _ = stop.send(());
        }
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .map_err(|_| io::Error::other("server thread panicked"))?,
            None => Ok(()),
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.stop_inner();
    }
}

/// Resolves when the owner asks the server to stop (or drops its handle).
#[derive(Debug)]
pub struct StopSignal(oneshot::Receiver<()>);

impl StopSignal {
    /// Waits for the stop request.
    pub async fn wait(self) {
        // An error means the sender was dropped, which is also a request to stop.
        let _ = self.0.await;
    }

    /// A signal that resolves on Ctrl-C (SIGINT) or SIGTERM, for the CLI.
    pub fn on_termination() -> Self {
        let (tx, rx) = oneshot::channel();
        tokio::spawn(async move {
            wait_for_termination().await;
            let _ = tx.send(());
        });
        Self(rx)
    }
}

async fn wait_for_termination() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

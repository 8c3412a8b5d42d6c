//! [`use_obs`]: the one WebSocket to OBS Studio, driven by the core's
//! [`ObsClient`].
//!
//! The client decides everything (when to connect, what to send, when to
//! give up, how long to wait before the next attempt); this hook only
//! carries out its [`Action`]s with browser objects and feeds back what
//! happened. It owns three things, all released in its own `on_cleanup`:
//! - the socket: a `web_sys::WebSocket` and the four listeners set on it
//!   (`open`, `message`, `close`, `error`), kept together so a socket
//!   never outlives its listeners or the other way round. Each socket
//!   carries the client's number for it; a socket is replaced or closed
//!   only through the client, and its listeners are detached before it is
//!   closed, so a late event of an old socket never reaches the client;
//! - the client's one timer ([`Action::Wake`]): handshake and request
//!   timeouts, the next poll round, the next reconnect attempt;
//! - the hashing of a password challenge: `crypto.subtle.digest` is
//!   asynchronous, so it runs in a task that holds only a weak reference to
//!   the hook, and whose answer the client ignores if the socket it was for
//!   is gone. Should the browser refuse to hash (no secure context), the
//!   handshake runs into its timeout and is tried again.
//!
//! Listeners and the timer also hold weak references only: after cleanup
//! nothing can reach the client, and the client's signal is updated with
//! `try_update`, which does nothing once it is disposed.
//!
//! The password reaches only the hash: it is not logged, not put in an
//! error, and the socket URL never carries it.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use gloo_timers::callback::Timeout;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{CloseEvent, Event, MessageEvent, WebSocket};

use crate::app::use_clock::now_ms;
use crate::core::obs::auth::AuthJob;
use crate::core::obs::{Action, ObsClient, ObsSettings, StreamMark};

/// The close code for "no close frame": what the client hears when a
/// socket fails to open or drops.
const ABNORMAL_CLOSURE: u16 = 1006;

/// What [`use_obs`] gives back.
#[derive(Clone, Copy)]
pub struct UseObs {
    /// New settings from the host page (`lsh:obs`): the client starts
    /// again with them (the same settings again change nothing).
    pub set_settings: UnsyncCallback<ObsSettings>,
}

/// Reads OBS through obs-websocket while the owner lives.
///
/// ```ignore
/// let obs = use_obs(state.obs, UnsyncCallback::new(move |(at, mark)| marks.update(..)));
/// ```
///
/// Starts the client in `client` at once (a client without settings stays
/// off and opens nothing), and hands every stream event worth marking on
/// the chart, with the browser time it happened, to `on_mark`. The owner's
/// cleanup closes the socket (code 1000), cancels the timer and detaches
/// every listener. Outside a browser there is no WebSocket: the client
/// then sees each connection fail and reads `unreachable`.
pub fn use_obs(client: RwSignal<ObsClient>, on_mark: UnsyncCallback<(f64, StreamMark)>) -> UseObs {
    let driver = Rc::new(Driver {
        client,
        on_mark,
        socket: RefCell::new(None),
        timer: RefCell::new(None),
    });
    driver.input(|c| c.start(now_ms()));

    let set_settings = {
        let driver = Rc::downgrade(&driver);
        UnsyncCallback::new(move |settings: ObsSettings| {
            if let Some(driver) = driver.upgrade() {
                driver.input(|c| c.reconfigure(settings, now_ms()));
            }
        })
    };

    let owned = SendWrapper::new(driver);
    on_cleanup(move || owned.take().shut_down());
    UseObs { set_settings }
}

/// The hook's resources and the client they serve.
struct Driver {
    client: RwSignal<ObsClient>,
    on_mark: UnsyncCallback<(f64, StreamMark)>,
    socket: RefCell<Option<Socket>>,
    timer: RefCell<Option<Timeout>>,
}

/// One WebSocket with the listeners set on it.
struct Socket {
    number: u64,
    web_socket: WebSocket,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
}

impl Socket {
    /// Detaches the listeners, then closes the socket normally. The
    /// listeners' closures are freed when `self` is dropped, which
    /// wasm-bindgen defers until any of them that is running returns.
    fn close(self) {
        let web_socket = &self.web_socket;
        web_socket.set_onopen(None);
        web_socket.set_onmessage(None);
        web_socket.set_onclose(None);
        web_socket.set_onerror(None);
        let _ = web_socket.close_with_code(1000);
    }
}

impl Driver {
    /// Feeds one input to the client and carries out what it answers, in
    /// order. A socket the browser refuses to create is reported closed
    /// only after the whole list: the client's answer to that (a retry
    /// timer) must not be overwritten by a later action of the same list
    /// (the handshake timer that follows every connect).
    fn input(self: &Rc<Self>, input: impl FnOnce(&mut ObsClient) -> Vec<Action>) {
        let actions = self.client.try_update(input).unwrap_or_default();
        self.run(actions);
    }

    /// Carries out `actions` (not generic, so the refused socket's report
    /// can come back through here without a new instance per level).
    fn run(self: &Rc<Self>, actions: Vec<Action>) {
        let mut refused = None;
        for action in actions {
            if let Err(socket) = self.perform(action) {
                refused = Some(socket);
            }
        }
        if let Some(socket) = refused {
            let closed = self
                .client
                .try_update(|c| c.on_closed(socket, ABNORMAL_CLOSURE, now_ms()))
                .unwrap_or_default();
            self.run(closed);
        }
    }

    /// Carries out one action; `Err(socket)` when the browser refused to
    /// create that socket.
    fn perform(self: &Rc<Self>, action: Action) -> Result<(), u64> {
        match action {
            Action::Connect { socket, url } => return self.connect(socket, &url),
            Action::Send { socket, text } => {
                if let Some(open) = self.socket.borrow().as_ref() {
                    if open.number == socket {
                        // A send on a closing socket fails; its close
                        // event follows and the client retries.
                        let _ = open.web_socket.send_with_str(&text);
                    }
                }
            }
            Action::Authenticate { socket, job } => self.authenticate(socket, job),
            Action::Close { socket } => {
                let current = self.socket.borrow().as_ref().map(|s| s.number);
                if current == Some(socket) {
                    let closing = self.socket.borrow_mut().take();
                    if let Some(closing) = closing {
                        closing.close();
                    }
                }
            }
            Action::Wake(after_ms) => {
                let delay = after_ms.clamp(0.0, f64::from(i32::MAX)).ceil() as u32;
                let driver = Rc::downgrade(self);
                let timeout = Timeout::new(delay, move || {
                    with_driver(&driver, |d| d.input(|c| c.on_timer(now_ms())));
                });
                // Replacing the handle cancels the earlier timer.
                *self.timer.borrow_mut() = Some(timeout);
            }
            Action::Mark(mark) => self.on_mark.run((now_ms(), mark)),
        }
        Ok(())
    }

    /// Drops any socket and opens `url` as socket `number`; `Err` when the
    /// browser refuses at once (a malformed URL, or a policy that forbids
    /// it), which the client hears as a socket that never opened.
    fn connect(self: &Rc<Self>, number: u64, url: &str) -> Result<(), u64> {
        let previous = self.socket.borrow_mut().take();
        if let Some(previous) = previous {
            previous.close();
        }
        let web_socket = WebSocket::new(url).map_err(|_| number)?;
        let weak = Rc::downgrade(self);
        let on_open = {
            let driver = weak.clone();
            Closure::<dyn FnMut(Event)>::new(move |_: Event| {
                with_driver(&driver, |d| d.input(|c| c.on_open(number)));
            })
        };
        let on_message = {
            let driver = weak.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                // obs-websocket's JSON encoding sends text frames only; a
                // binary frame is not a message the client can read.
                let text = event.data().as_string().unwrap_or_default();
                with_driver(&driver, |d| d.input(|c| c.on_text(number, &text, now_ms())));
            })
        };
        let on_close = {
            let driver = weak.clone();
            Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
                let code = event.code();
                with_driver(&driver, |d| {
                    d.input(|c| c.on_closed(number, code, now_ms()))
                });
            })
        };
        // An error is always followed by a close event, which carries what
        // the client needs; nothing to do here but be the one listener.
        let on_error = Closure::<dyn FnMut(Event)>::new(|_: Event| {});
        web_socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        web_socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        web_socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        web_socket.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        *self.socket.borrow_mut() = Some(Socket {
            number,
            web_socket,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
            _on_error: on_error,
        });
        Ok(())
    }

    /// Hashes the challenge with `crypto.subtle` and hands the result back.
    fn authenticate(self: &Rc<Self>, socket: u64, job: AuthJob) {
        let driver = Rc::downgrade(self);
        wasm_bindgen_futures::spawn_local(async move {
            let Some(secret) = sha256(job.secret_input().as_bytes()).await else {
                return;
            };
            let Some(auth) = sha256(job.auth_input(&secret).as_bytes()).await else {
                return;
            };
            let authentication = AuthJob::authentication(&auth);
            with_driver(&driver, |d| {
                d.input(|c| c.on_authentication(socket, &authentication));
            });
        });
    }

    /// Closes the socket and cancels the timer; nothing reaches the
    /// client after this.
    fn shut_down(&self) {
        self.timer.borrow_mut().take();
        let socket = self.socket.borrow_mut().take();
        if let Some(socket) = socket {
            socket.close();
        }
    }
}

/// Runs `f` with the driver if the hook still lives.
fn with_driver(driver: &Weak<Driver>, f: impl FnOnce(&Rc<Driver>)) {
    if let Some(driver) = driver.upgrade() {
        f(&driver);
    }
}

/// SHA-256 of `bytes` with the browser's `crypto.subtle`.
async fn sha256(bytes: &[u8]) -> Option<Vec<u8>> {
    let subtle = window().crypto().ok()?.subtle();
    let promise = subtle.digest_with_str_and_u8_array("SHA-256", bytes).ok()?;
    let digest = JsFuture::from(promise).await.ok()?;
    Some(js_sys::Uint8Array::new(&digest).to_vec())
}

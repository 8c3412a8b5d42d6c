//! live-stream-health: a widget that shows a streamer the health of their live
//! stream while they are live, and a local stand-in for the stats endpoint it
//! polls.
//!
//! The crate has three layers:
//! - [`core`]: plain Rust with no browser or server imports: response parsing,
//!   status rules, the history ring, the poll state machine, token claims, URL
//!   parameters and chart geometry. `cargo test` covers it natively.
//! - `app` (feature `csr`): the Leptos shell. The state lives in signals
//!   provided as context, derived values in memos, the page in one component
//!   per file; one `use_*` hook per concern (polling, shared polling,
//!   persistence, the URL fragment, alerts, the host protocol, the clock)
//!   owns every timer, request and listener it creates and releases them in
//!   its own cleanup.
//! - `server` (feature `server`): the native stand-in for the Live Stream
//!   Health endpoint, the token tool and test servers.

pub mod core;

#[cfg(feature = "csr")]
pub mod app;

#[cfg(feature = "server")]
pub mod server;

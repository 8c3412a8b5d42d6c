//! live-stream-health: a widget that shows a streamer the health of their live
//! stream while they are live, and a local stand-in for the stats endpoint it
//! polls.
//!
//! The crate has three layers:
//! - [`core`]: plain Rust with no browser or server imports: response parsing,
//!   status rules, the history ring, the poll state machine, token claims, URL
//!   parameters and chart geometry. `cargo test` covers it natively.
//! - `app` (feature `csr`): the Leptos components and browser glue. It reads
//!   signals and calls the core; it owns every timer, request and listener it
//!   creates and releases them on cleanup.
//! - `server` (feature `server`): the native stand-in for the Live Stream
//!   Health endpoint, the token tool and test servers.

pub mod core;

#[cfg(feature = "csr")]
pub mod app;

#[cfg(feature = "server")]
pub mod server;

//! The native side of live-stream-health (feature `server`).
//!
//! - [`standin`]: the local stand-in for the Live Stream Health Stats API and
//!   the slice of the System/Video APIs needed to set it up.
//! - [`verify`]: the token checks and their rejection matrix.
//! - [`drift`]: the pure drift engine (drift, averages, deviation, status).
//! - [`simulate`]: simulated encoders (named scenarios, scripts).
//! - [`audience`]: simulated audiences behind the viewer counts (pure).
//! - [`ingest`]: real encoders' timing: media time from RTMP timestamps, and
//!   drift across publishes on the real and the scaled clock (pure).
//! - [`rtmp`]: the RTMP ingest (session glue around `rml_rtmp`): encoders
//!   publish to `rtmp://HOST:PORT/live/<stream key>`.
//! - [`rtmp_guard`]: what may reach `rml_rtmp` (sizes, chunk order, AMF0
//!   depth), checked before it sees a byte.
//! - [`store`]: persistent state with atomic writes.
//! - [`keys`]: RSA signing-key pairs.
//! - [`token`]: minting tokens and building monitor links (the `token` command).
//! - `testserver` (feature `testkit` only): a scripted, misbehaving
//!   endpoint for the widget's browser tests; test scaffolding, not shipped.
//! - [`body`]: the JSON bodies both servers send.
//! - [`utc`]: the API's timestamp format.
//! - [`demo`]: the demo backend (streams per scenario, key, monitor links).
//! - [`statics`]: a static file server for the built widget.
//! - [`cli`]: the `live-stream-health` command line.
//! - [`http_accept`]: how the HTTP servers take connections (request-head
//!   deadline, connection limit).
//!
//! Servers run on a background thread with their own tokio runtime (see
//! `background`), so plain and async tests can start them alike. The pure
//! parts (drift, simulate, ingest, token helpers) have no tokio or I/O in
//! them.

pub mod audience;
mod background;
pub mod body;
pub mod cli;
pub mod demo;
pub mod drift;
pub mod http_accept;
pub mod ingest;
pub mod keys;
pub mod rtmp;
pub mod rtmp_guard;
pub mod simulate;
pub mod standin;
pub mod statics;
pub mod store;
#[cfg(feature = "testkit")]
pub mod testserver;
pub mod token;
pub mod utc;
pub mod verify;

pub use background::StopSignal;

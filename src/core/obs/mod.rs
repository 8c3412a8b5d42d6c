//! Reading OBS Studio through obs-websocket v5, so the monitor can tell the
//! streamer whether trouble comes from their computer, their network, or
//! the way to the platform.
//!
//! The stats service sees only the ingest side of a stream; OBS, through
//! the WebSocket server built into every OBS since 28, sees the sending
//! side. The monitor reads it when the link carries `obs=PORT` (always
//! `ws://127.0.0.1:PORT`) and, when OBS has one, `obspw=PASSWORD`.
//!
//! - [`protocol`]: the messages (Hello, Identify, Identified, Event,
//!   Request, RequestResponse), read tolerantly and written by hand.
//! - [`auth`]: the challenge-response, as two strings to hash and the
//!   base64 around them (the browser hashes with `crypto.subtle`).
//! - [`client`]: the connection as a state machine: events in, actions
//!   out, the `data-encoder` state, reconnects with backoff.
//! - [`encoder`]: OBS's counters turned into bitrate, congestion and
//!   per-minute drop and skip rates.
//! - [`figures`]: the Encoder panel's texts and `data-value`s.
//! - [`marks`]: the stream events the history chart marks.
//! - [`diagnosis`]: the ingest side and the encoder side joined into one
//!   verdict with a sentence.
//!
//! Like the rest of the core, nothing here does I/O or reads a clock: the
//! browser shell and the native tests drive the same code with real
//! sockets and timers.

pub mod auth;
pub mod client;
pub mod diagnosis;
pub mod encoder;
pub mod figures;
pub mod marks;
pub mod protocol;

pub use client::{Action, EncoderState, ObsClient, ObsSettings, StreamMark};
pub use diagnosis::{diagnose, Diagnosis, EncoderView, IngestSide};
pub use encoder::{EncoderModel, EncoderStats, FrameCount};
pub use figures::{EncoderMetric, Figure};
pub use marks::{ChartMark, DiagnosisLog, StreamMarks, TimedMark};

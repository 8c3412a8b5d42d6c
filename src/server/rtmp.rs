//! RTMP ingest for the stand-in: real encoders (OBS, ffmpeg) publish to
//! `rtmp://HOST:PORT/live/<stream key>` and the stats endpoint reports the
//! drift of what they actually send.
//!
//! The protocol (handshake, chunking, AMF commands) is `rml_rtmp`'s; this
//! module is only the session glue around it, one tokio task per connection:
//! 1. **Handshake** with `rml_rtmp::handshake`, then a `ServerSession`;
//!    every byte after the handshake goes through it and every packet it
//!    returns is written back in order, as it requires.
//! 2. **connect** is accepted for the application [`APP`] (`live`) only.
//! 3. **publish** asks the `PublishRegistry` (the stand-in) about the stream
//!    key; anything after a `?` in the key is ignored (some encoders append
//!    parameters). An unknown key, or the key of a simulated stream, is
//!    rejected with `NetStream.Publish.BadName` and the connection closed.
//!    `play` is rejected the same way: the stand-in only ingests. One publish
//!    per connection.
//! 4. **Media**: each audio/video message's timestamp and kind go into a
//!    [`MediaClock`] (see [`super::ingest`] for the timestamp rules).
//! 5. **Sampling**: from the moment the publish is accepted, a 1 Hz ticker
//!    (the drift engine's [`SAMPLE_INTERVAL_MS`], on the real clock, missed
//!    ticks skipped rather than bunched) reads the media time. Requests never
//!    trigger samples; the endpoint returns the latest one.
//! 6. **End**: `FCUnpublish`/`deleteStream`/`closeStream`, the peer closing
//!    the socket, a protocol error, or [`NO_DATA_TIMEOUT`] without an
//!    audio/video message (without any byte before publishing; and no
//!    connection stays open without publishing past [`PUBLISH_WITHIN`]). A frozen
//!    encoder (SIGSTOP, a hung machine) sends no close, so only the timeout
//!    ends it; until then its samples show the drift growing.
//!
//! **The sample at disconnect is dropped.** A graceful stop (ffmpeg on `q`
//! or SIGINT) flushes its encoders: a burst of media that arrives just before
//! the close and would read as the encoder suddenly catching up, leaving a
//! `poor` verdict on a clean stop for the next three minutes. So a sample is
//! held for [`SETTLE`] (250 ms) before it is recorded, and a publish that
//! ends within that time takes its held sample with it. Readings lag by
//! those 250 ms; sampling stays 1 Hz.
//!
//! **A newer publish wins.** When an encoder publishes a key that is already
//! live, the new publish replaces the old one (the old connection is closed
//! at its next sample). An encoder that reconnects after a network drop
//! would otherwise be locked out until the old, half-open connection hit the
//! no-data timeout.
//!
//! **Robustness.** Every error on network input ends that connection and
//! nothing else:
//! - every byte after the handshake passes [`super::rtmp_guard`] before
//!   `rml_rtmp` sees it: bounded message sizes, no interleaved or
//!   out-of-step chunks, AMF0 nesting checked without recursion, and the
//!   other inputs `rml_rtmp` would panic or overflow its stack on;
//! - a panic inside `rml_rtmp` all the same is caught where input is
//!   handed to it and closes that connection; the native tool is built to
//!   unwind (see `.cargo/config.toml`), so even a panic elsewhere in a
//!   connection's task ends only that task;
//! - **room for publishers**: connections that are not publishing (yet)
//!   are at most [`MAX_PENDING`]; when one more arrives, the oldest of them
//!   is closed to make room, so idle or slow sockets can delay but never
//!   lock out a real encoder, which gets from connect to publish in
//!   milliseconds. Publishing connections have their own limit,
//!   [`MAX_PUBLISHERS`]. A connection must finish the handshake within
//!   [`HANDSHAKE_WITHIN`] and publish within [`PUBLISH_WITHIN`].
//!
//! Each connection logs one line when a publish starts and one when it
//! ends, to stderr.

use std::collections::VecDeque;
use std::fmt;
use std::future::pending;
use std::io;
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant as StdInstant};

use rml_rtmp::handshake::{Handshake, HandshakeProcessResult, PeerType};
use rml_rtmp::sessions::{
    ServerSession, ServerSessionConfig, ServerSessionEvent, ServerSessionResult,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{AbortHandle, JoinSet};
use tokio::time::{sleep_until, Instant, Interval, MissedTickBehavior};

use super::drift::SAMPLE_INTERVAL_MS;
use super::ingest::{classify_audio, classify_video, MediaClock, MediaKind};
use super::rtmp_guard::ChunkGuard;

/// The RTMP application encoders publish to: `rtmp://HOST:PORT/live`.
pub const APP: &str = "live";
/// The usual RTMP port, the stand-in's default.
pub const DEFAULT_PORT: u16 = 1935;
/// A connection that sends no audio or video for this long (no byte at all
/// before it publishes) is closed, ending its publish. Ten seconds is well
/// past any pause a working encoder makes (keyframe intervals are at most a
/// few seconds) and short enough that a frozen encoder stops counting as
/// live soon; its last samples, showing the drift it built up, stay.
pub const NO_DATA_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection that is not publishing this long after it opened is closed
/// (a real encoder gets from TCP connect to publish in milliseconds); this
/// bounds connections that trickle bytes to dodge [`NO_DATA_TIMEOUT`], and
/// closes connections that stay open after their publish ended.
pub const PUBLISH_WITHIN: Duration = Duration::from_secs(10);
/// A connection that has not finished the RTMP handshake this long after it
/// opened is closed.
pub const HANDSHAKE_WITHIN: Duration = Duration::from_secs(5);
/// How long a sample is held before it is recorded (see the module docs).
pub const SETTLE: Duration = Duration::from_millis(250);
/// Most connections open at once that are not publishing; one more closes
/// the oldest of them.
pub const MAX_PENDING: usize = 32;
/// Most connections publishing at once.
pub const MAX_PUBLISHERS: usize = 64;

const SAMPLE_INTERVAL: Duration = Duration::from_millis(SAMPLE_INTERVAL_MS.unsigned_abs());
const READ_BUFFER_BYTES: usize = 64 * 1024;

/// What the ingest needs from the stand-in: stream keys and drift engines.
pub(crate) trait PublishRegistry: Send + Sync + 'static {
    /// An encoder asks to publish `stream_key`; `at` is when the publish is
    /// accepted, if it is. Starts a new drift session and returns its ticket,
    /// or the reason for the refusal (sent to the encoder).
    fn begin_publish(&self, stream_key: &str, at: StdInstant) -> Result<PublishTicket, String>;

    /// Records a sample taken at `at`: `media_ms` of media sent since the
    /// publish was accepted. False when a newer publish has replaced this one.
    fn record_sample(&self, ticket: &PublishTicket, at: StdInstant, media_ms: i64) -> bool;

    /// The publish ended (no sample is taken for the moment it ended).
    fn end_publish(&self, ticket: &PublishTicket);
}

/// One accepted publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PublishTicket {
    /// The live stream it feeds.
    pub(crate) stream_id: String,
    /// Distinguishes it from earlier and later publishes of the stream.
    pub(crate) session: u64,
}

/// Accepts RTMP connections until the task is dropped (dropping it also
/// ends every connection it spawned).
pub(crate) async fn serve<R: PublishRegistry>(listener: TcpListener, registry: Arc<R>) {
    let admission = Arc::new(Mutex::new(Admission::default()));
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, peer)) => {
                    let evicted = lock(&admission).make_room();
                    if let Some(oldest) = evicted {
                        oldest.abort();
                        eprintln!(
                            "rtmp: {MAX_PENDING} connections not publishing; closed the oldest to admit {peer}"
                        );
                    }
                    let registry = Arc::clone(&registry);
                    // Held while spawning, so the new connection is listed
                    // before it can ask to publish.
                    let mut admitted = lock(&admission);
                    let task = connections.spawn(handle(socket, peer, registry, Arc::clone(&admission)));
                    admitted.pending.push_back(task);
                }
                Err(error) => {
                    // Out of descriptors and the like: wait instead of spinning.
                    eprintln!("rtmp: accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(finished) = connections.join_next_with_id(), if !connections.is_empty() => {
                let id = match &finished {
                    Ok((id, ())) => *id,
                    Err(error) => error.id(),
                };
                lock(&admission).pending.retain(|task| task.id() != id);
                if let Err(error) = finished {
                    if error.is_panic() {
                        eprintln!("rtmp: a connection task panicked: {error}");
                    }
                }
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Which connections hold which kind of room.
#[derive(Debug, Default)]
struct Admission {
    /// Connections not publishing, oldest first.
    pending: VecDeque<AbortHandle>,
    /// Connections that were admitted as publishers and are still open.
    publishers: usize,
}

impl Admission {
    /// The oldest pending connection, taken off the list to be closed, when
    /// the list is full.
    fn make_room(&mut self) -> Option<AbortHandle> {
        (self.pending.len() >= MAX_PENDING)
            .then(|| self.pending.pop_front())
            .flatten()
    }
}

/// A connection's room as a publisher; gives it back when dropped.
struct PublisherSlot(Arc<Mutex<Admission>>);

impl PublisherSlot {
    /// Moves the current task from the pending list to the publishers, if
    /// there is room for one more.
    fn take(admission: &Arc<Mutex<Admission>>) -> Option<Self> {
        let mut state = lock(admission);
        if state.publishers >= MAX_PUBLISHERS {
            return None;
        }
        if let Some(id) = tokio::task::try_id() {
            state.pending.retain(|task| task.id() != id);
        }
        state.publishers += 1;
        Some(Self(Arc::clone(admission)))
    }
}

impl Drop for PublisherSlot {
    fn drop(&mut self) {
        let mut state = lock(&self.0);
        state.publishers = state.publishers.saturating_sub(1);
    }
}

/// Why a connection ended.
#[derive(Debug)]
enum Closed {
    /// The encoder closed the socket.
    ByPeer,
    /// Reading or writing failed.
    Io(io::Error),
    /// The bytes were not valid RTMP, or the session could not answer them.
    Protocol(String),
    /// Nothing arrived for [`NO_DATA_TIMEOUT`].
    NoData,
    /// The handshake took longer than [`HANDSHAKE_WITHIN`].
    NoHandshake,
    /// Not publishing [`PUBLISH_WITHIN`] after the connection opened.
    Idle,
    /// The connection asked for something refused.
    Refused(String),
    /// A newer publish of the same stream took over.
    Replaced,
}

impl fmt::Display for Closed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ByPeer => f.write_str("closed by the encoder"),
            Self::Io(error) => write!(f, "connection error: {error}"),
            Self::Protocol(why) => write!(f, "protocol error: {why}"),
            Self::NoData => write!(f, "no data for {} s, closed", NO_DATA_TIMEOUT.as_secs()),
            Self::NoHandshake => write!(
                f,
                "no handshake {} s after connecting, closed",
                HANDSHAKE_WITHIN.as_secs()
            ),
            Self::Idle => write!(
                f,
                "not publishing {} s after connecting, closed",
                PUBLISH_WITHIN.as_secs()
            ),
            Self::Refused(why) => write!(f, "refused: {why}"),
            Self::Replaced => f.write_str("replaced by a newer publish of the same key, closed"),
        }
    }
}

impl From<io::Error> for Closed {
    fn from(error: io::Error) -> Self {
        Self::Io(error)
    }
}

fn protocol<E: fmt::Display>(error: E) -> Closed {
    Closed::Protocol(error.to_string())
}

async fn handle<R: PublishRegistry>(
    mut socket: TcpStream,
    peer: SocketAddr,
    registry: Arc<R>,
    admission: Arc<Mutex<Admission>>,
) {
    // Responses are small and each one unblocks the encoder: send at once.
    let _ = socket.set_nodelay(true);
    let now = Instant::now();
    let mut connection = Connection {
        peer,
        registry,
        admission,
        slot: None,
        guard: ChunkGuard::new(),
        publish: None,
        close: None,
        opened: now,
        last_byte: now,
    };
    let closed = connection.run(&mut socket).await;
    if connection.publish.is_some() {
        connection.end_publish(&closed);
    } else if !matches!(closed, Closed::ByPeer | Closed::Replaced) {
        eprintln!("rtmp {peer}: {closed}");
    }
}

/// A publish in progress on one connection.
struct Publish {
    ticket: PublishTicket,
    clock: MediaClock,
    ticks: Interval,
    /// A sample taken but not yet recorded (see [`SETTLE`]).
    held: Option<HeldSample>,
    last_media: Instant,
}

struct HeldSample {
    taken_at: StdInstant,
    media_ms: i64,
    record_at: Instant,
}

/// One encoder connection.
struct Connection<R: PublishRegistry> {
    peer: SocketAddr,
    registry: Arc<R>,
    admission: Arc<Mutex<Admission>>,
    /// Held from the first accepted publish until the connection closes.
    slot: Option<PublisherSlot>,
    /// Checks every byte before the session sees it.
    guard: ChunkGuard,
    publish: Option<Publish>,
    /// Set when the connection must close once pending output is written.
    close: Option<Closed>,
    opened: Instant,
    last_byte: Instant,
}

impl<R: PublishRegistry> Drop for Connection<R> {
    /// A connection dropped mid-publish (the stand-in stopping) ends it too.
    fn drop(&mut self) {
        if let Some(publish) = self.publish.take() {
            self.registry.end_publish(&publish.ticket);
        }
    }
}

impl<R: PublishRegistry> Connection<R> {
    async fn run(&mut self, socket: &mut TcpStream) -> Closed {
        match self.serve(socket).await {
            Ok(never) => match never {},
            Err(closed) => closed,
        }
    }

    /// Runs until the connection ends; the error says how.
    async fn serve(&mut self, socket: &mut TcpStream) -> Result<std::convert::Infallible, Closed> {
        let mut buffer = vec![0u8; READ_BUFFER_BYTES];
        let leftover = self.handshake(socket, &mut buffer).await?;
        let (mut session, initial) =
            ServerSession::new(ServerSessionConfig::new()).map_err(protocol)?;
        let mut output = Vec::new();
        append_packets(&mut output, initial);
        if !leftover.is_empty() {
            let results = self.input(&mut session, &leftover)?;
            self.react(&mut session, results, &mut output)?;
        }
        self.flush(socket, &mut output).await?;

        loop {
            let deadline = self.deadline();
            let record_at = self
                .publish
                .as_ref()
                .and_then(|p| p.held.as_ref())
                .map(|held| held.record_at);
            tokio::select! {
                read = socket.read(&mut buffer) => {
                    let count = read?;
                    if count == 0 {
                        return Err(Closed::ByPeer);
                    }
                    self.last_byte = Instant::now();
                    let results = self.input(&mut session, &buffer[..count])?;
                    self.react(&mut session, results, &mut output)?;
                    self.flush(socket, &mut output).await?;
                }
                () = next_tick(self.publish.as_mut().map(|p| &mut p.ticks)) => self.take_sample()?,
                () = sleep_until_some(record_at) => self.record_held()?,
                () = sleep_until(deadline) => return Err(self.timed_out()),
            }
        }
    }

    /// Hands input to the session once the guard has admitted it; a panic
    /// inside `rml_rtmp` all the same ends this connection only.
    fn input(
        &mut self,
        session: &mut ServerSession,
        bytes: &[u8],
    ) -> Result<Vec<ServerSessionResult>, Closed> {
        self.guard
            .admit(bytes, self.publish.is_some())
            .map_err(protocol)?;
        session_input(session, bytes)
    }

    /// Runs the server side of the handshake; returns bytes that followed it.
    async fn handshake(
        &mut self,
        socket: &mut TcpStream,
        buffer: &mut [u8],
    ) -> Result<Vec<u8>, Closed> {
        let mut handshake = Handshake::new(PeerType::Server);
        let handshake_deadline = self.opened + HANDSHAKE_WITHIN;
        loop {
            let deadline = self.deadline().min(handshake_deadline);
            let count = tokio::time::timeout_at(deadline, socket.read(buffer))
                .await
                .map_err(|_| {
                    if Instant::now() >= handshake_deadline {
                        Closed::NoHandshake
                    } else {
                        self.timed_out()
                    }
                })??;
            if count == 0 {
                return Err(Closed::ByPeer);
            }
            self.last_byte = Instant::now();
            let step = handshake
                .process_bytes(&buffer[..count])
                .map_err(|e| Closed::Protocol(format!("handshake: {e}")))?;
            match step {
                HandshakeProcessResult::InProgress { response_bytes } => {
                    socket.write_all(&response_bytes).await?;
                }
                HandshakeProcessResult::Completed {
                    response_bytes,
                    remaining_bytes,
                } => {
                    socket.write_all(&response_bytes).await?;
                    return Ok(remaining_bytes);
                }
            }
        }
    }

    /// Writes what the session produced, then closes if a refusal asked to.
    async fn flush(&mut self, socket: &mut TcpStream, output: &mut Vec<u8>) -> Result<(), Closed> {
        if !output.is_empty() {
            // Answers are a few bytes; a peer that stops reading them (a
            // frozen encoder) must not stall the loop that times it out.
            tokio::time::timeout(NO_DATA_TIMEOUT, socket.write_all(output))
                .await
                .map_err(|_| {
                    Closed::Io(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the encoder stopped reading",
                    ))
                })??;
            output.clear();
        }
        match self.close.take() {
            Some(closed) => {
                // Let the refusal reach the encoder before the socket goes.
                let _ = socket.shutdown().await;
                Err(closed)
            }
            None => Ok(()),
        }
    }

    /// The moment the connection times out unless something arrives.
    fn deadline(&self) -> Instant {
        match &self.publish {
            Some(publish) => publish.last_media + NO_DATA_TIMEOUT,
            None => (self.last_byte + NO_DATA_TIMEOUT).min(self.opened + PUBLISH_WITHIN),
        }
    }

    /// Which timeout [`Self::deadline`] was.
    fn timed_out(&self) -> Closed {
        if self.publish.is_none() && Instant::now() >= self.opened + PUBLISH_WITHIN {
            Closed::Idle
        } else {
            Closed::NoData
        }
    }

    /// Handles what the session made of the input; packets to send go to
    /// `output`, in order.
    fn react(
        &mut self,
        session: &mut ServerSession,
        results: Vec<ServerSessionResult>,
        output: &mut Vec<u8>,
    ) -> Result<(), Closed> {
        for result in results {
            match result {
                ServerSessionResult::OutboundResponse(packet) => {
                    output.extend_from_slice(&packet.bytes);
                }
                ServerSessionResult::RaisedEvent(event) => {
                    self.on_event(session, event, output)?;
                }
                ServerSessionResult::UnhandleableMessageReceived(_) => {}
            }
            if self.close.is_some() {
                break;
            }
        }
        Ok(())
    }

    fn on_event(
        &mut self,
        session: &mut ServerSession,
        event: ServerSessionEvent,
        output: &mut Vec<u8>,
    ) -> Result<(), Closed> {
        match event {
            ServerSessionEvent::ConnectionRequested {
                request_id,
                app_name,
            } => {
                if app_name == APP {
                    let accepted = session.accept_request(request_id).map_err(protocol)?;
                    append_packets(output, accepted);
                } else {
                    let why = format!(
                        "unknown application {app_name:?}: publish to rtmp://HOST:PORT/{APP}/<stream key>"
                    );
                    self.refuse(
                        session,
                        request_id,
                        "NetConnection.Connect.Rejected",
                        why,
                        output,
                    )?;
                }
            }
            ServerSessionEvent::PublishStreamRequested {
                request_id,
                stream_key,
                ..
            } => self.on_publish(session, request_id, &stream_key, output)?,
            ServerSessionEvent::PublishStreamFinished { .. } => {
                self.end_publish(&"the encoder stopped publishing");
            }
            ServerSessionEvent::AudioDataReceived {
                data, timestamp, ..
            } => self.on_media(timestamp.value, classify_audio(&data)),
            ServerSessionEvent::VideoDataReceived {
                data, timestamp, ..
            } => self.on_media(timestamp.value, classify_video(&data)),
            ServerSessionEvent::PlayStreamRequested { request_id, .. } => {
                let why = "this stand-in takes publishes only".to_owned();
                self.refuse(session, request_id, "NetStream.Play.Failed", why, output)?;
            }
            // Metadata carries no media time; the rest needs no answer.
            _ => {}
        }
        Ok(())
    }

    fn on_publish(
        &mut self,
        session: &mut ServerSession,
        request_id: u32,
        stream_key: &str,
        output: &mut Vec<u8>,
    ) -> Result<(), Closed> {
        if self.publish.is_some() {
            let why = "this connection is already publishing".to_owned();
            return self.refuse(
                session,
                request_id,
                "NetStream.Publish.BadName",
                why,
                output,
            );
        }
        let key = stream_key
            .split_once('?')
            .map_or(stream_key, |(key, _)| key);
        if self.slot.is_none() {
            match PublisherSlot::take(&self.admission) {
                Some(slot) => self.slot = Some(slot),
                None => {
                    let why =
                        format!("the stand-in takes at most {MAX_PUBLISHERS} publishes at once");
                    return self.refuse(
                        session,
                        request_id,
                        "NetStream.Publish.Rejected",
                        why,
                        output,
                    );
                }
            }
        }
        let accepted_at = StdInstant::now();
        match self.registry.begin_publish(key, accepted_at) {
            Ok(ticket) => {
                let answer = match session.accept_request(request_id) {
                    Ok(answer) => answer,
                    Err(error) => {
                        self.registry.end_publish(&ticket);
                        return Err(protocol(error));
                    }
                };
                append_packets(output, answer);
                eprintln!(
                    "rtmp {}: publishing to live stream {}",
                    self.peer, ticket.stream_id
                );
                let start = Instant::from_std(accepted_at);
                let mut ticks = tokio::time::interval_at(start + SAMPLE_INTERVAL, SAMPLE_INTERVAL);
                ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
                self.publish = Some(Publish {
                    ticket,
                    clock: MediaClock::new(),
                    ticks,
                    held: None,
                    last_media: start,
                });
                Ok(())
            }
            Err(why) => self.refuse(
                session,
                request_id,
                "NetStream.Publish.BadName",
                why,
                output,
            ),
        }
    }

    /// Answers a request with an error status and marks the connection for
    /// closing once the answer is written.
    fn refuse(
        &mut self,
        session: &mut ServerSession,
        request_id: u32,
        code: &str,
        why: String,
        output: &mut Vec<u8>,
    ) -> Result<(), Closed> {
        let answer = session
            .reject_request(request_id, code, &why)
            .map_err(protocol)?;
        append_packets(output, answer);
        self.close = Some(Closed::Refused(why));
        Ok(())
    }

    fn on_media(&mut self, timestamp: u32, kind: MediaKind) {
        if let Some(publish) = &mut self.publish {
            publish.clock.observe(timestamp, kind);
            if kind != MediaKind::Config {
                publish.last_media = Instant::now();
            }
        }
    }

    /// The 1 Hz tick: reads the media time now and holds it for [`SETTLE`].
    fn take_sample(&mut self) -> Result<(), Closed> {
        // Ticks are a second apart and holds a quarter of that; a hold still
        // open here means the task was starved, and it is due anyway.
        self.record_held()?;
        if let Some(publish) = &mut self.publish {
            let taken_at = StdInstant::now();
            publish.held = Some(HeldSample {
                taken_at,
                media_ms: publish.clock.media_ms(),
                record_at: Instant::from_std(taken_at) + SETTLE,
            });
        }
        Ok(())
    }

    /// Records the held sample, if any.
    fn record_held(&mut self) -> Result<(), Closed> {
        let Some(publish) = &mut self.publish else {
            return Ok(());
        };
        let Some(held) = publish.held.take() else {
            return Ok(());
        };
        if self
            .registry
            .record_sample(&publish.ticket, held.taken_at, held.media_ms)
        {
            Ok(())
        } else {
            // Replaced: the registry already moved on; nothing to end.
            let ticket = self.publish.take().map(|p| p.ticket);
            if let Some(ticket) = ticket {
                eprintln!(
                    "rtmp {}: publish to live stream {} replaced by a newer one",
                    self.peer, ticket.stream_id
                );
            }
            Err(Closed::Replaced)
        }
    }

    /// Ends the publish, dropping a held sample (the one at disconnect).
    fn end_publish(&mut self, why: &dyn fmt::Display) {
        if let Some(publish) = self.publish.take() {
            self.registry.end_publish(&publish.ticket);
            eprintln!(
                "rtmp {}: publish to live stream {} ended: {why}",
                self.peer, publish.ticket.stream_id
            );
        }
    }
}

/// `session.handle_input(bytes)`, with a panic in `rml_rtmp` turned into
/// the end of this connection.
fn session_input(
    session: &mut ServerSession,
    bytes: &[u8],
) -> Result<Vec<ServerSessionResult>, Closed> {
    match catch_unwind(AssertUnwindSafe(|| session.handle_input(bytes))) {
        Ok(results) => results.map_err(protocol),
        Err(_) => Err(Closed::Protocol(
            "the RTMP library failed on this input".to_owned(),
        )),
    }
}

fn append_packets(output: &mut Vec<u8>, results: Vec<ServerSessionResult>) {
    for result in results {
        if let ServerSessionResult::OutboundResponse(packet) = result {
            output.extend_from_slice(&packet.bytes);
        }
    }
}

/// The next tick of `ticks`, or never.
async fn next_tick(ticks: Option<&mut Interval>) {
    match ticks {
        Some(ticks) => {
            ticks.tick().await;
        }
        None => pending().await,
    }
}

/// Sleeps until `at`, or forever when there is nothing to wait for.
async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => sleep_until(at).await,
        None => pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// What the connection told the registry.
    #[derive(Debug, Clone, PartialEq)]
    enum Call {
        Record(i64),
        End,
    }

    /// A registry that accepts one key and can be told the publish was
    /// replaced.
    #[derive(Default)]
    struct FakeRegistry {
        calls: Mutex<Vec<Call>>,
        replaced: Mutex<bool>,
    }

    impl FakeRegistry {
        fn calls(&self) -> Vec<Call> {
            self.calls.lock().map(|c| c.clone()).unwrap_or_default()
        }
    }

    impl PublishRegistry for FakeRegistry {
        fn begin_publish(
            &self,
            stream_key: &str,
            _at: StdInstant,
        ) -> Result<PublishTicket, String> {
            match stream_key {
                "good-key" => Ok(PublishTicket {
                    stream_id: "stream".to_owned(),
                    session: 1,
                }),
                _ => Err("unknown stream key".to_owned()),
            }
        }

        fn record_sample(&self, _ticket: &PublishTicket, _at: StdInstant, media_ms: i64) -> bool {
            if let Ok(mut calls) = self.calls.lock() {
                calls.push(Call::Record(media_ms));
            }
            !self.replaced.lock().map(|r| *r).unwrap_or(true)
        }

        fn end_publish(&self, _ticket: &PublishTicket) {
            if let Ok(mut calls) = self.calls.lock() {
                calls.push(Call::End);
            }
        }
    }

    /// A connection already publishing to `good-key`.
    fn publishing(registry: &Arc<FakeRegistry>) -> Connection<FakeRegistry> {
        let ticket = registry
            .begin_publish("good-key", StdInstant::now())
            .expect("known key");
        let now = Instant::now();
        Connection {
            peer: SocketAddr::from(([127, 0, 0, 1], 1)),
            registry: Arc::clone(registry),
            admission: Arc::default(),
            slot: None,
            guard: ChunkGuard::new(),
            publish: Some(Publish {
                ticket,
                clock: MediaClock::new(),
                ticks: tokio::time::interval_at(now + SAMPLE_INTERVAL, SAMPLE_INTERVAL),
                held: None,
                last_media: now,
            }),
            close: None,
            opened: now,
            last_byte: now,
        }
    }

    /// An AVC sequence header at 0, then a second of video from 5 000.
    fn send_a_second_of_video(connection: &mut Connection<FakeRegistry>) {
        connection.on_media(0, classify_video(&[0x17, 0, 0, 0, 0]));
        for frame in 0..=30 {
            connection.on_media(5_000 + frame * 100 / 3, classify_video(&[0x27, 1, 0, 0, 0]));
        }
    }

    /// A message left half-sent on chunk stream 3, then one on stream 4:
    /// `rml_rtmp`'s deserializer subtracts with overflow on it.
    #[cfg(debug_assertions)]
    #[test]
    fn a_panic_inside_the_rtmp_library_becomes_a_closed_connection() {
        let mut bytes = vec![0x03, 0, 0, 0, 0, 1, 0x2c, 18, 0, 0, 0, 0];
        bytes.extend_from_slice(&[0x05; 128]);
        bytes.extend_from_slice(&[0x04, 0, 0, 0, 0, 0, 10, 18, 0, 0, 0, 0]);
        bytes.extend_from_slice(&[0x05; 10]);
        let Ok((mut session, _)) = ServerSession::new(ServerSessionConfig::new()) else {
            panic!("a session");
        };
        let closed = session_input(&mut session, &bytes);
        assert!(
            matches!(&closed, Err(Closed::Protocol(why)) if why.contains("library")),
            "{closed:?}"
        );
        // The guard refuses the same bytes before the library sees them.
        assert!(ChunkGuard::new().admit(&bytes, false).is_err());
    }

    #[test]
    fn the_oldest_pending_connection_makes_room() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let mut tasks = JoinSet::new();
            let mut admission = Admission::default();
            for _ in 0..MAX_PENDING {
                assert!(admission.make_room().is_none());
                admission.pending.push_back(tasks.spawn(pending::<()>()));
            }
            let first = admission.pending.front().map(AbortHandle::id);
            let evicted = admission.make_room().map(|task| task.id());
            assert_eq!(evicted, first);
            assert_eq!(admission.pending.len(), MAX_PENDING - 1);
        });
    }

    #[test]
    fn publishers_have_their_own_limit() {
        let admission = Arc::new(Mutex::new(Admission::default()));
        let slots: Vec<_> = (0..MAX_PUBLISHERS)
            .map(|_| PublisherSlot::take(&admission))
            .collect();
        assert!(slots.iter().all(Option::is_some));
        assert!(PublisherSlot::take(&admission).is_none());
        drop(slots);
        assert_eq!(lock(&admission).publishers, 0);
        assert!(PublisherSlot::take(&admission).is_some());
    }

    #[tokio::test]
    async fn a_held_sample_is_recorded_after_it_settles() {
        let registry = Arc::new(FakeRegistry::default());
        let mut connection = publishing(&registry);
        send_a_second_of_video(&mut connection);
        connection.take_sample().expect("sampled");
        assert_eq!(registry.calls(), vec![], "held, not yet recorded");
        connection.record_held().expect("recorded");
        assert_eq!(registry.calls(), vec![Call::Record(1_000)]);
    }

    #[tokio::test]
    async fn the_sample_held_when_the_publish_ends_is_dropped() {
        let registry = Arc::new(FakeRegistry::default());
        let mut connection = publishing(&registry);
        send_a_second_of_video(&mut connection);
        connection.take_sample().expect("sampled");
        // The flush burst and the close arrive before the sample settles.
        connection.on_media(6_500, classify_video(&[0x27, 1, 0, 0, 0]));
        connection.end_publish(&"test");
        connection.record_held().expect("nothing to record");
        assert_eq!(registry.calls(), vec![Call::End]);
        drop(connection);
        assert_eq!(registry.calls(), vec![Call::End], "ended once");
    }

    #[tokio::test]
    async fn a_replaced_publish_closes_its_connection_without_ending_the_new_one() {
        let registry = Arc::new(FakeRegistry::default());
        let mut connection = publishing(&registry);
        if let Ok(mut replaced) = registry.replaced.lock() {
            *replaced = true;
        }
        connection.take_sample().expect("sampled");
        assert!(matches!(connection.record_held(), Err(Closed::Replaced)));
        drop(connection);
        assert_eq!(registry.calls(), vec![Call::Record(0)]);
    }

    #[tokio::test]
    async fn a_connection_that_never_publishes_is_closed_after_publish_within() {
        let registry = Arc::new(FakeRegistry::default());
        let mut connection = publishing(&registry);
        connection.end_publish(&"test");
        let now = Instant::now();
        let Some(opened) = now.checked_sub(PUBLISH_WITHIN - Duration::from_secs(5)) else {
            return; // A machine up for less than 25 s: nothing to check.
        };
        connection.opened = opened;
        connection.last_byte = now;
        // Bytes keep arriving, but the publish deadline comes first.
        assert_eq!(connection.deadline(), opened + PUBLISH_WITHIN);
        assert!(matches!(connection.timed_out(), Closed::NoData));
        if let Some(earlier) = opened.checked_sub(Duration::from_secs(10)) {
            connection.opened = earlier;
            assert!(matches!(connection.timed_out(), Closed::Idle));
        }
    }

    #[tokio::test]
    async fn media_keeps_the_no_data_deadline_away_and_config_does_not() {
        let registry = Arc::new(FakeRegistry::default());
        let mut connection = publishing(&registry);
        let before = connection.deadline();
        tokio::time::sleep(Duration::from_millis(20)).await;
        connection.on_media(0, MediaKind::Config);
        assert_eq!(connection.deadline(), before);
        connection.on_media(40, MediaKind::Audio);
        assert!(connection.deadline() > before);
    }
}

//! The obs-websocket client as a pure state machine.
//!
//! The shell owns one WebSocket and one timer; this module decides what
//! they do, like [`crate::core::poll`] does for the stats requests. Inputs
//! are what happened ([`ObsClient::on_open`], [`ObsClient::on_text`],
//! [`ObsClient::on_closed`], [`ObsClient::on_timer`], and
//! [`ObsClient::on_authentication`] when the shell has hashed a
//! challenge); every input returns the [`Action`]s to carry out, in order.
//! The state is read with [`ObsClient::state`] (the `data-encoder` value),
//! [`ObsClient::message`] and [`ObsClient::stats`].
//!
//! The life of a connection:
//! 1. [`Action::Connect`] opens `ws://127.0.0.1:PORT` (loopback only: the
//!    monitor never reaches OBS on another machine). Each socket has a
//!    number; inputs about an older socket are ignored, so a late close
//!    event of a socket already given up cannot disturb the next one.
//! 2. OBS sends `Hello`. With a challenge and a password, the client asks
//!    the shell to hash ([`Action::Authenticate`]); without a password it
//!    gives up at once (`refused`: asking again cannot help).
//! 3. `Identify` (RPC 1, Outputs events), then `Identified`.
//! 4. Every [`POLL_INTERVAL_MS`], one round of `GetStreamStatus` and
//!    `GetStats`; a round still unanswered at the next tick is not
//!    doubled, and one unanswered for [`REQUEST_TIMEOUT_MS`] ends the
//!    connection (OBS hung). `StreamStateChanged` events move the streaming
//!    state between polls and mark starts, stops and reconnects.
//!
//! Handshake steps 1-3 must finish within [`HANDSHAKE_TIMEOUT_MS`].
//!
//! When a connection ends, the close code decides: 4009 (authentication
//! failed) is `refused` with no retry, as are 4010 (OBS speaks another RPC
//! version) and 4011 (kicked from OBS's session list, which the protocol
//! says must not be retried); anything else retries after
//! [`reconnect_delay_ms`] (1, 2, 4, 8, then every 15 s), so OBS closed
//! and reopened is found again within seconds. There is no jitter: one
//! monitor talks to one OBS on its own machine, so there is no crowd of
//! clients to spread out. A socket that never opened reads `unreachable`.
//!
//! Streaming state: the `StreamStateChanged` events are the truth. A
//! `GetStreamStatus` answer only fills in what no event said yet (the
//! client connected to an OBS already streaming), or corrects a state the
//! answer contradicts outright (`outputActive` false). It cannot tell
//! reconnecting apart: while OBS reconnects, `outputActive` stays true.
//!
//! The password stays in memory for reconnects and goes nowhere else: not
//! into `Debug` output, a message, an action other than
//! [`Action::Authenticate`], or the state.

use std::fmt;

use super::auth::AuthJob;
use super::encoder::{EncoderModel, EncoderStats};
use super::protocol::{
    self, close_code, request_type, Event, OutputState, ResponseBody, ServerMessage, StreamStatus,
};

/// Time between two rounds of requests.
pub const POLL_INTERVAL_MS: f64 = 1_000.0;
/// A round unanswered this long ends the connection.
pub const REQUEST_TIMEOUT_MS: f64 = 10_000.0;
/// From opening the socket to `Identified`.
pub const HANDSHAKE_TIMEOUT_MS: f64 = 5_000.0;
/// The first reconnect delay.
pub const FIRST_RECONNECT_MS: f64 = 1_000.0;
/// The longest reconnect delay.
pub const MAX_RECONNECT_MS: f64 = 15_000.0;

/// The n-th consecutive failed connection (from 1) waits this long before
/// the next attempt: 1 s doubling up to [`MAX_RECONNECT_MS`].
pub fn reconnect_delay_ms(failures: u32) -> f64 {
    let doublings = failures.saturating_sub(1).min(16);
    (FIRST_RECONNECT_MS * f64::from(1u32 << doublings)).min(MAX_RECONNECT_MS)
}

/// Where to find OBS and how to sign in.
#[derive(Clone, PartialEq, Eq)]
pub struct ObsSettings {
    port: u16,
    password: Option<String>,
}

impl fmt::Debug for ObsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObsSettings")
            .field("port", &self.port)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl ObsSettings {
    /// OBS on loopback `port`, with its obs-websocket password if it has
    /// one (an empty password counts as none).
    pub fn new(port: u16, password: Option<&str>) -> ObsSettings {
        ObsSettings {
            port,
            password: password.filter(|p| !p.is_empty()).map(str::to_string),
        }
    }

    /// Reads the `obs` parameter: a port number 1 to 65535, digits only.
    pub fn parse_port(text: &str) -> Option<u16> {
        let text = text.trim();
        if text.is_empty() || text.len() > 5 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        text.parse::<u16>().ok().filter(|port| *port > 0)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The WebSocket URL: always loopback.
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }
}

/// The `data-encoder` value: the connection to OBS and, once connected,
/// OBS's streaming state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum EncoderState {
    /// No `obs` parameter: the monitor does not read OBS.
    #[default]
    Off,
    /// Opening the socket, signing in, or waiting for the first status.
    Connecting,
    /// OBS cannot be reached (not running, obs-websocket off, another
    /// port); retrying.
    Unreachable,
    /// OBS refused this monitor (wrong or missing password, kicked,
    /// another protocol version); not retried.
    Refused,
    /// OBS is starting the stream.
    Starting,
    /// OBS is streaming.
    Live,
    /// OBS lost the ingest and is reconnecting to it.
    Reconnecting,
    /// OBS is connected but not streaming.
    Stopped,
}

impl EncoderState {
    /// The `data-encoder` value.
    pub fn as_str(self) -> &'static str {
        match self {
            EncoderState::Off => "off",
            EncoderState::Connecting => "connecting",
            EncoderState::Unreachable => "unreachable",
            EncoderState::Refused => "refused",
            EncoderState::Starting => "starting",
            EncoderState::Live => "live",
            EncoderState::Reconnecting => "reconnecting",
            EncoderState::Stopped => "stopped",
        }
    }
}

/// Why OBS refused the monitor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Close code 4009.
    WrongPassword,
    /// OBS asked for a password and the link has none.
    PasswordNeeded,
    /// Close code 4010, or a `Hello` without RPC version 1.
    UnsupportedVersion,
    /// Close code 4011.
    Kicked,
}

/// Why OBS is unreachable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unreachable {
    /// The socket never opened.
    NoAnswer,
    /// The connection was lost, or OBS quit.
    Lost,
    /// Something answered that does not speak obs-websocket.
    NotObs,
    /// The handshake or a request timed out.
    Timeout,
}

/// A stream event worth marking on the history chart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamMark {
    /// OBS started streaming.
    Started,
    /// OBS lost the ingest and is reconnecting.
    Reconnecting,
    /// OBS is back after a reconnect.
    Reconnected,
    /// OBS stopped streaming.
    Stopped,
}

impl StreamMark {
    /// What a streamer reads on the chart.
    pub fn label(self) -> &'static str {
        match self {
            StreamMark::Started => "OBS started streaming",
            StreamMark::Reconnecting => "OBS lost the ingest",
            StreamMark::Reconnected => "OBS reconnected",
            StreamMark::Stopped => "OBS stopped streaming",
        }
    }

    /// A `data-mark` value.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamMark::Started => "stream-started",
            StreamMark::Reconnecting => "reconnecting",
            StreamMark::Reconnected => "reconnected",
            StreamMark::Stopped => "stream-stopped",
        }
    }
}

/// What the shell does.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Drop any socket and open `url` as socket number `socket`.
    Connect {
        /// Number to give back with every input about this socket.
        socket: u64,
        /// `ws://127.0.0.1:PORT`.
        url: String,
    },
    /// Send a text message on socket `socket`.
    Send {
        /// The socket.
        socket: u64,
        /// The message.
        text: String,
    },
    /// Hash the challenge (see [`super::auth`]) and call
    /// [`ObsClient::on_authentication`] with `socket` and the result.
    Authenticate {
        /// The socket.
        socket: u64,
        /// The strings to hash.
        job: AuthJob,
    },
    /// Close socket `socket` (code 1000) and forget it.
    Close {
        /// The socket.
        socket: u64,
    },
    /// Set the single timer to call [`ObsClient::on_timer`] after this
    /// many milliseconds, replacing any earlier one.
    Wake(f64),
    /// Mark this stream event on the history chart, now.
    Mark(StreamMark),
}

#[derive(Clone, Debug, PartialEq)]
enum Phase {
    Off,
    /// Socket asked for; waiting for `Hello`.
    Opening {
        opened: bool,
    },
    /// Waiting for the shell's hash.
    Authenticating,
    /// `Identify` sent.
    Identifying,
    /// Identified: polling.
    Ready,
    /// Between attempts.
    Waiting {
        until_ms: f64,
    },
    Refused(Refusal),
}

/// The requests of one poll round still unanswered.
#[derive(Clone, Debug, Default, PartialEq)]
struct Round {
    sent_ms: f64,
    stream_status: Option<String>,
    stats: Option<String>,
}

impl Round {
    fn settled(&self) -> bool {
        self.stream_status.is_none() && self.stats.is_none()
    }
}

/// The streaming state as OBS last told it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Streaming {
    Starting,
    Live,
    Reconnecting,
    Stopped,
}

/// The obs-websocket client.
#[derive(Clone, Debug, PartialEq)]
pub struct ObsClient {
    settings: Option<ObsSettings>,
    phase: Phase,
    socket: u64,
    started_ms: f64,
    failures: u32,
    unreachable: Unreachable,
    next_request: u64,
    round: Option<Round>,
    streaming: Option<Streaming>,
    last_event_ms: f64,
    encoder: EncoderModel,
    obs_websocket_version: Option<String>,
    ignored_messages: u64,
}

impl ObsClient {
    /// A client for `settings`, or one that stays off (`None`). Call
    /// [`ObsClient::start`] next.
    pub fn new(settings: Option<ObsSettings>) -> ObsClient {
        ObsClient {
            settings,
            phase: Phase::Off,
            socket: 0,
            started_ms: 0.0,
            failures: 0,
            unreachable: Unreachable::NoAnswer,
            next_request: 0,
            round: None,
            streaming: None,
            last_event_ms: f64::NEG_INFINITY,
            encoder: EncoderModel::new(),
            obs_websocket_version: None,
            ignored_messages: 0,
        }
    }

    /// Starts connecting (nothing when off).
    pub fn start(&mut self, now_ms: f64) -> Vec<Action> {
        if self.settings.is_none() {
            return Vec::new();
        }
        self.failures = 0;
        self.connect(now_ms)
    }

    /// Stops: closes the socket, and stays off until started again.
    pub fn stop(&mut self) -> Vec<Action> {
        let had_socket = self.has_socket();
        self.phase = Phase::Off;
        self.forget_connection();
        if had_socket {
            vec![Action::Close {
                socket: self.socket,
            }]
        } else {
            Vec::new()
        }
    }

    /// Uses new settings (a host's `lsh:obs`): drops the connection and
    /// what it measured, and starts again at once. The same settings again
    /// change nothing, so a host repeating itself never interrupts OBS.
    pub fn reconfigure(&mut self, settings: ObsSettings, now_ms: f64) -> Vec<Action> {
        if self.settings.as_ref() == Some(&settings) {
            return Vec::new();
        }
        let mut actions = self.stop();
        self.settings = Some(settings);
        actions.extend(self.start(now_ms));
        actions
    }

    /// The `data-encoder` value.
    pub fn state(&self) -> EncoderState {
        match &self.phase {
            Phase::Off => EncoderState::Off,
            Phase::Refused(_) => EncoderState::Refused,
            Phase::Waiting { .. } => EncoderState::Unreachable,
            Phase::Opening { .. } | Phase::Authenticating | Phase::Identifying => {
                if self.failures > 0 {
                    EncoderState::Unreachable
                } else {
                    EncoderState::Connecting
                }
            }
            Phase::Ready => match self.streaming {
                None => EncoderState::Connecting,
                Some(Streaming::Starting) => EncoderState::Starting,
                Some(Streaming::Live) => EncoderState::Live,
                Some(Streaming::Reconnecting) => EncoderState::Reconnecting,
                Some(Streaming::Stopped) => EncoderState::Stopped,
            },
        }
    }

    /// Why OBS refused the monitor, when it did.
    pub fn refusal(&self) -> Option<Refusal> {
        match self.phase {
            Phase::Refused(refusal) => Some(refusal),
            _ => None,
        }
    }

    /// One line for the encoder panel.
    pub fn message(&self) -> Option<String> {
        let port = self.settings.as_ref().map_or(0, ObsSettings::port);
        let text = match (self.state(), self.refusal()) {
            (EncoderState::Off, _) => return None,
            (EncoderState::Connecting, _) => format!("Connecting to OBS on port {port}"),
            (EncoderState::Unreachable, _) => {
                match self.unreachable {
                    Unreachable::NotObs => {
                        format!("Something on port {port} answered, but it is not OBS's WebSocket server")
                    }
                    _ => format!("OBS not reachable on port {port}"),
                }
            }
            (_, Some(Refusal::WrongPassword)) => "OBS refused the password".to_string(),
            (_, Some(Refusal::PasswordNeeded)) => {
                "OBS asks for a password: add obspw to the link".to_string()
            }
            (_, Some(Refusal::UnsupportedVersion)) => {
                "This OBS speaks another obs-websocket version (OBS 28 or later is needed)"
                    .to_string()
            }
            (_, Some(Refusal::Kicked)) => {
                "OBS closed this connection from its session list".to_string()
            }
            (EncoderState::Refused, None) => "OBS refused the connection".to_string(),
            (EncoderState::Starting, _) => "OBS is starting the stream".to_string(),
            (EncoderState::Live, _) => "OBS is streaming".to_string(),
            (EncoderState::Reconnecting, _) => {
                "OBS lost the ingest and is reconnecting".to_string()
            }
            (EncoderState::Stopped, _) => "OBS is not streaming".to_string(),
        };
        Some(text)
    }

    /// The encoder figures at `now_ms` (empty until connected).
    pub fn stats(&self, now_ms: f64) -> EncoderStats {
        self.encoder.stats(now_ms)
    }

    /// The encoder model.
    pub fn encoder(&self) -> &EncoderModel {
        &self.encoder
    }

    /// obs-websocket's version, from its `Hello`.
    pub fn obs_websocket_version(&self) -> Option<&str> {
        self.obs_websocket_version.as_deref()
    }

    /// Consecutive failed connection attempts.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Messages that could not be read or were not expected.
    pub fn ignored_messages(&self) -> u64 {
        self.ignored_messages
    }

    /// The current socket's number.
    pub fn socket(&self) -> u64 {
        self.socket
    }

    /// The socket opened.
    pub fn on_open(&mut self, socket: u64) -> Vec<Action> {
        if socket == self.socket {
            if let Phase::Opening { opened } = &mut self.phase {
                *opened = true;
            }
        }
        Vec::new()
    }

    /// A text message arrived.
    pub fn on_text(&mut self, socket: u64, text: &str, now_ms: f64) -> Vec<Action> {
        if socket != self.socket || !self.has_socket() {
            return Vec::new();
        }
        let message = protocol::parse(text);
        match (&self.phase, message) {
            (Phase::Opening { .. }, Ok(ServerMessage::Hello(hello))) => {
                self.obs_websocket_version = hello.obs_websocket_version;
                if hello.rpc_version.is_some_and(|v| v < protocol::RPC_VERSION) {
                    return self.refuse(Refusal::UnsupportedVersion);
                }
                match (hello.authentication, self.password()) {
                    (None, _) => {
                        self.phase = Phase::Identifying;
                        vec![self.send(protocol::identify(None))]
                    }
                    (Some(challenge), Some(password)) => {
                        let job = AuthJob::new(password, &challenge);
                        self.phase = Phase::Authenticating;
                        vec![Action::Authenticate {
                            socket: self.socket,
                            job,
                        }]
                    }
                    (Some(_), None) => self.refuse(Refusal::PasswordNeeded),
                }
            }
            (Phase::Opening { .. }, _) => self.fail(Unreachable::NotObs, now_ms),
            (Phase::Identifying, Ok(ServerMessage::Identified { .. })) => {
                self.phase = Phase::Ready;
                self.failures = 0;
                self.poll(now_ms)
            }
            (Phase::Ready, Ok(ServerMessage::Event(event))) => self.on_event(event, now_ms),
            (Phase::Ready, Ok(ServerMessage::Response(response))) => {
                let Some(round) = self.round.as_mut() else {
                    self.ignored_messages += 1;
                    return Vec::new();
                };
                let sent_ms = round.sent_ms;
                let id = Some(response.request_id);
                if id == round.stream_status {
                    round.stream_status = None;
                } else if id == round.stats {
                    round.stats = None;
                } else {
                    self.ignored_messages += 1;
                    return Vec::new();
                }
                if round.settled() {
                    self.round = None;
                }
                match response.body {
                    ResponseBody::StreamStatus(status) => {
                        self.encoder.on_stream_status(&status, now_ms);
                        self.on_stream_status(&status, sent_ms);
                    }
                    ResponseBody::Stats(stats) => self.encoder.on_stats(&stats, now_ms),
                    ResponseBody::Other => {}
                }
                Vec::new()
            }
            _ => {
                self.ignored_messages += 1;
                Vec::new()
            }
        }
    }

    /// The shell hashed the challenge of socket `socket` (see
    /// [`Action::Authenticate`]).
    pub fn on_authentication(&mut self, socket: u64, authentication: &str) -> Vec<Action> {
        if socket != self.socket || self.phase != Phase::Authenticating {
            return Vec::new();
        }
        self.phase = Phase::Identifying;
        vec![self.send(protocol::identify(Some(authentication)))]
    }

    /// Socket `socket` closed with `code` (1006 when no close frame came,
    /// or it never opened).
    pub fn on_closed(&mut self, socket: u64, code: u16, now_ms: f64) -> Vec<Action> {
        if socket != self.socket || !self.has_socket() {
            return Vec::new();
        }
        match code {
            close_code::AUTHENTICATION_FAILED => self.refuse(Refusal::WrongPassword),
            close_code::UNSUPPORTED_RPC_VERSION => self.refuse(Refusal::UnsupportedVersion),
            close_code::SESSION_INVALIDATED => self.refuse(Refusal::Kicked),
            _ => {
                let reason = match self.phase {
                    Phase::Opening { opened: false } => Unreachable::NoAnswer,
                    _ => Unreachable::Lost,
                };
                self.retry(reason, now_ms)
            }
        }
    }

    /// The timer fired.
    pub fn on_timer(&mut self, now_ms: f64) -> Vec<Action> {
        match self.phase.clone() {
            Phase::Off | Phase::Refused(_) => Vec::new(),
            Phase::Waiting { until_ms } if now_ms >= until_ms => self.connect(now_ms),
            Phase::Waiting { until_ms } => vec![Action::Wake(until_ms - now_ms)],
            Phase::Opening { .. } | Phase::Authenticating | Phase::Identifying => {
                let deadline = self.started_ms + HANDSHAKE_TIMEOUT_MS;
                if now_ms >= deadline {
                    self.fail(Unreachable::Timeout, now_ms)
                } else {
                    vec![Action::Wake(deadline - now_ms)]
                }
            }
            Phase::Ready => match &self.round {
                Some(round) if now_ms - round.sent_ms >= REQUEST_TIMEOUT_MS => {
                    self.fail(Unreachable::Timeout, now_ms)
                }
                Some(_) => vec![Action::Wake(POLL_INTERVAL_MS)],
                None => self.poll(now_ms),
            },
        }
    }

    fn password(&self) -> Option<&str> {
        self.settings.as_ref()?.password.as_deref()
    }

    fn has_socket(&self) -> bool {
        matches!(
            self.phase,
            Phase::Opening { .. } | Phase::Authenticating | Phase::Identifying | Phase::Ready
        )
    }

    fn connect(&mut self, now_ms: f64) -> Vec<Action> {
        let Some(settings) = &self.settings else {
            return Vec::new();
        };
        let url = settings.url();
        self.socket += 1;
        self.started_ms = now_ms;
        self.phase = Phase::Opening { opened: false };
        vec![
            Action::Connect {
                socket: self.socket,
                url,
            },
            Action::Wake(HANDSHAKE_TIMEOUT_MS),
        ]
    }

    fn send(&self, text: String) -> Action {
        Action::Send {
            socket: self.socket,
            text,
        }
    }

    /// Sends one round of requests and sets the next tick.
    fn poll(&mut self, now_ms: f64) -> Vec<Action> {
        self.next_request += 1;
        let status_id = format!("s{}", self.next_request);
        let stats_id = format!("t{}", self.next_request);
        let actions = vec![
            self.send(protocol::request(
                request_type::GET_STREAM_STATUS,
                &status_id,
            )),
            self.send(protocol::request(request_type::GET_STATS, &stats_id)),
            Action::Wake(POLL_INTERVAL_MS),
        ];
        self.round = Some(Round {
            sent_ms: now_ms,
            stream_status: Some(status_id),
            stats: Some(stats_id),
        });
        actions
    }

    fn on_event(&mut self, event: Event, now_ms: f64) -> Vec<Action> {
        let Event::StreamStateChanged { state, .. } = event else {
            return Vec::new();
        };
        let was = self.streaming;
        let (streaming, mark) = match state {
            OutputState::Starting => (Streaming::Starting, None),
            OutputState::Started => {
                self.encoder.reset_stream_counters();
                (Streaming::Live, Some(StreamMark::Started))
            }
            OutputState::Reconnecting => (Streaming::Reconnecting, Some(StreamMark::Reconnecting)),
            OutputState::Reconnected => {
                self.encoder.reset_stream_counters();
                (Streaming::Live, Some(StreamMark::Reconnected))
            }
            // Marked once, at the first of STOPPING and STOPPED, and only
            // for a stream that was on air (a start that failed is no stop).
            OutputState::Stopping | OutputState::Stopped => (
                Streaming::Stopped,
                matches!(was, Some(Streaming::Live | Streaming::Reconnecting))
                    .then_some(StreamMark::Stopped),
            ),
            OutputState::Other(_) => return Vec::new(),
        };
        self.streaming = Some(streaming);
        self.last_event_ms = now_ms;
        mark.map(Action::Mark).into_iter().collect()
    }

    /// A `GetStreamStatus` answer to a round sent at `sent_ms`. Events are
    /// the truth; an answer to a round sent before the latest event may
    /// predate it and is not used. A newer answer fills in the state when
    /// no event has said anything yet (OBS was already streaming), and
    /// corrects one it contradicts: inactive means stopped (except while
    /// starting: an output is not active until it has started); active
    /// means on air, reconnecting when it says so. Active alone cannot
    /// end a reconnect: OBS reports active while it reconnects.
    fn on_stream_status(&mut self, status: &StreamStatus, sent_ms: f64) {
        let Some(active) = status.active else {
            return;
        };
        if sent_ms < self.last_event_ms {
            return;
        }
        let reconnecting = status.reconnecting == Some(true);
        self.streaming = Some(match (self.streaming, active) {
            (Some(Streaming::Starting), false) => Streaming::Starting,
            (_, false) => Streaming::Stopped,
            (_, true) if reconnecting => Streaming::Reconnecting,
            (Some(Streaming::Reconnecting), true) => Streaming::Reconnecting,
            (Some(Streaming::Starting), true) => Streaming::Starting,
            (_, true) => Streaming::Live,
        });
    }

    fn refuse(&mut self, refusal: Refusal) -> Vec<Action> {
        let socket = self.socket;
        self.phase = Phase::Refused(refusal);
        self.forget_connection();
        vec![Action::Close { socket }]
    }

    /// Ends the current socket ourselves, and retries.
    fn fail(&mut self, reason: Unreachable, now_ms: f64) -> Vec<Action> {
        let socket = self.socket;
        let mut actions = vec![Action::Close { socket }];
        actions.extend(self.retry(reason, now_ms));
        actions
    }

    /// The socket is gone: wait, then connect again.
    fn retry(&mut self, reason: Unreachable, now_ms: f64) -> Vec<Action> {
        self.failures = self.failures.saturating_add(1);
        self.unreachable = reason;
        let delay = reconnect_delay_ms(self.failures);
        self.phase = Phase::Waiting {
            until_ms: now_ms + delay,
        };
        self.forget_connection();
        vec![Action::Wake(delay)]
    }

    fn forget_connection(&mut self) {
        self.round = None;
        self.streaming = None;
        self.last_event_ms = f64::NEG_INFINITY;
        self.encoder.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::obs::protocol::Challenge;

    const HELLO: &str = r#"{"op":0,"d":{"obsWebSocketVersion":"5.1.0","rpcVersion":1}}"#;
    const HELLO_AUTH: &str = r#"{"op":0,"d":{"obsWebSocketVersion":"5.1.0","rpcVersion":1,"authentication":{"challenge":"c1","salt":"s1"}}}"#;
    const IDENTIFIED: &str = r#"{"op":2,"d":{"negotiatedRpcVersion":1}}"#;

    fn client(password: Option<&str>) -> ObsClient {
        ObsClient::new(Some(ObsSettings::new(4455, password)))
    }

    fn sent(actions: &[Action]) -> Vec<String> {
        actions
            .iter()
            .filter_map(|a| match a {
                Action::Send { text, .. } => Some(text.clone()),
                _ => None,
            })
            .collect()
    }

    fn request_ids(actions: &[Action]) -> (String, String) {
        let ids: Vec<String> = sent(actions)
            .iter()
            .map(|text| {
                let value: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
                value["d"]["requestId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        (ids[0].clone(), ids[1].clone())
    }

    fn status_response(id: &str, active: bool, bytes: u64, frames: u64) -> String {
        format!(
            r#"{{"op":7,"d":{{"requestType":"GetStreamStatus","requestId":"{id}","requestStatus":{{"result":true,"code":100}},"responseData":{{"outputActive":{active},"outputReconnecting":false,"outputCongestion":0,"outputBytes":{bytes},"outputSkippedFrames":0,"outputTotalFrames":{frames}}}}}}}"#
        )
    }

    fn stats_response(id: &str, frames: u64) -> String {
        format!(
            r#"{{"op":7,"d":{{"requestType":"GetStats","requestId":"{id}","requestStatus":{{"result":true,"code":100}},"responseData":{{"cpuUsage":17.5,"activeFps":30,"renderSkippedFrames":0,"renderTotalFrames":{frames},"outputSkippedFrames":0,"outputTotalFrames":{frames}}}}}}}"#
        )
    }

    /// Answers both requests of a round.
    fn answer(c: &mut ObsClient, actions: &[Action], active: bool, now: f64) {
        let (s, t) = request_ids(actions);
        c.on_text(1, &status_response(&s, active, 0, 0), now);
        c.on_text(1, &stats_response(&t, 0), now);
    }

    fn event(state: &str) -> String {
        format!(
            r#"{{"op":5,"d":{{"eventType":"StreamStateChanged","eventIntent":64,"eventData":{{"outputActive":true,"outputState":"OBS_WEBSOCKET_OUTPUT_{state}"}}}}}}"#
        )
    }

    /// A client identified without a password, with its first round's
    /// actions.
    fn identified() -> (ObsClient, Vec<Action>) {
        let mut c = client(None);
        c.start(0.0);
        c.on_open(1);
        c.on_text(1, HELLO, 10.0);
        let actions = c.on_text(1, IDENTIFIED, 20.0);
        (c, actions)
    }

    #[test]
    fn without_settings_it_stays_off_and_does_nothing() {
        let mut c = ObsClient::new(None);
        assert!(c.start(0.0).is_empty());
        assert_eq!(c.state(), EncoderState::Off);
        assert_eq!(c.message(), None);
        assert!(c.on_timer(1000.0).is_empty());
    }

    #[test]
    fn connects_to_loopback_only() {
        let mut c = client(None);
        assert_eq!(
            c.start(0.0),
            vec![
                Action::Connect {
                    socket: 1,
                    url: "ws://127.0.0.1:4455".into()
                },
                Action::Wake(HANDSHAKE_TIMEOUT_MS)
            ]
        );
        assert_eq!(c.state(), EncoderState::Connecting);
        assert_eq!(
            c.message().as_deref(),
            Some("Connecting to OBS on port 4455")
        );
    }

    #[test]
    fn hello_without_challenge_identifies_then_polls_once_a_second() {
        let mut c = client(None);
        c.start(0.0);
        assert!(c.on_open(1).is_empty());
        let actions = c.on_text(1, HELLO, 10.0);
        assert_eq!(
            sent(&actions),
            vec![r#"{"op":1,"d":{"rpcVersion":1,"eventSubscriptions":64}}"#.to_string()]
        );
        assert_eq!(c.obs_websocket_version(), Some("5.1.0"));
        let actions = c.on_text(1, IDENTIFIED, 20.0);
        let texts = sent(&actions);
        assert_eq!(texts.len(), 2);
        assert!(
            texts[0].contains(r#""requestType":"GetStreamStatus""#),
            "{}",
            texts[0]
        );
        assert!(
            texts[1].contains(r#""requestType":"GetStats""#),
            "{}",
            texts[1]
        );
        assert_eq!(actions.last(), Some(&Action::Wake(POLL_INTERVAL_MS)));
        // Connected, but the streaming state is not known until OBS answers.
        assert_eq!(c.state(), EncoderState::Connecting);
    }

    #[test]
    fn hello_with_challenge_asks_the_shell_to_hash_then_identifies_with_the_result() {
        let mut c = client(Some("pw"));
        c.start(0.0);
        c.on_open(1);
        let actions = c.on_text(1, HELLO_AUTH, 10.0);
        let expected_job = AuthJob::new(
            "pw",
            &Challenge {
                challenge: "c1".into(),
                salt: "s1".into(),
            },
        );
        assert_eq!(
            actions,
            vec![Action::Authenticate {
                socket: 1,
                job: expected_job
            }]
        );
        // A result for another socket is ignored.
        assert!(c.on_authentication(7, "x").is_empty());
        let actions = c.on_authentication(1, "AUTH=");
        assert_eq!(
            sent(&actions),
            vec![
                r#"{"op":1,"d":{"rpcVersion":1,"authentication":"AUTH=","eventSubscriptions":64}}"#
                    .to_string()
            ]
        );
        let actions = c.on_text(1, IDENTIFIED, 30.0);
        assert_eq!(sent(&actions).len(), 2);
    }

    #[test]
    fn a_challenge_without_a_password_is_refused_at_once() {
        let mut c = client(None);
        c.start(0.0);
        c.on_open(1);
        assert_eq!(
            c.on_text(1, HELLO_AUTH, 10.0),
            vec![Action::Close { socket: 1 }]
        );
        assert_eq!(c.state(), EncoderState::Refused);
        assert_eq!(c.refusal(), Some(Refusal::PasswordNeeded));
        assert!(c.on_timer(20_000.0).is_empty(), "no retry");
    }

    #[test]
    fn close_4009_is_refused_and_not_retried() {
        let mut c = client(Some("wrong"));
        c.start(0.0);
        c.on_open(1);
        c.on_text(1, HELLO_AUTH, 10.0);
        c.on_authentication(1, "nope");
        assert_eq!(
            c.on_closed(1, 4009, 30.0),
            vec![Action::Close { socket: 1 }]
        );
        assert_eq!(c.state(), EncoderState::Refused);
        assert_eq!(c.message().as_deref(), Some("OBS refused the password"));
        assert!(c.on_timer(60_000.0).is_empty());
        // The close event of the socket already given up changes nothing.
        assert!(c.on_closed(1, 1006, 40.0).is_empty());
        assert_eq!(c.state(), EncoderState::Refused);
    }

    #[test]
    fn new_settings_from_the_host_start_again_and_the_same_ones_change_nothing() {
        let mut c = client(Some("wrong"));
        c.start(0.0);
        c.on_open(1);
        c.on_text(1, HELLO_AUTH, 10.0);
        c.on_authentication(1, "nope");
        c.on_closed(1, 4009, 30.0);
        assert_eq!(c.state(), EncoderState::Refused);
        // A refused monitor is not retried, but a new password is tried.
        let right = ObsSettings::new(4455, Some("right"));
        let actions = c.reconfigure(right.clone(), 100.0);
        assert_eq!(
            actions,
            vec![
                Action::Connect {
                    socket: 2,
                    url: "ws://127.0.0.1:4455".into()
                },
                Action::Wake(HANDSHAKE_TIMEOUT_MS),
            ]
        );
        assert_eq!(c.state(), EncoderState::Connecting);
        assert!(c.reconfigure(right, 200.0).is_empty());
        // While connected, the old socket is closed first.
        let (mut c, _) = identified();
        let actions = c.reconfigure(ObsSettings::new(4455, Some("pw")), 300.0);
        assert_eq!(actions.first(), Some(&Action::Close { socket: 1 }));
        assert!(matches!(
            actions.get(1),
            Some(Action::Connect { socket: 2, .. })
        ));
        assert!(c.on_text(1, HELLO, 310.0).is_empty());
    }

    #[test]
    fn close_codes_map_to_states() {
        let cases = [
            (4009, EncoderState::Refused, Some(Refusal::WrongPassword)),
            (
                4010,
                EncoderState::Refused,
                Some(Refusal::UnsupportedVersion),
            ),
            (4011, EncoderState::Refused, Some(Refusal::Kicked)),
            (1000, EncoderState::Unreachable, None),
            (1001, EncoderState::Unreachable, None),
            (1006, EncoderState::Unreachable, None),
            (4002, EncoderState::Unreachable, None),
        ];
        for (code, state, refusal) in cases {
            let (mut c, _) = identified();
            c.on_closed(1, code, 100.0);
            assert_eq!((c.state(), c.refusal()), (state, refusal), "code {code}");
        }
    }

    #[test]
    fn a_socket_that_never_opens_is_unreachable_and_retried_with_backoff() {
        let mut c = client(None);
        c.start(0.0);
        let mut now = 0.0;
        let mut delays = Vec::new();
        for attempt in 1..=7u64 {
            let actions = c.on_closed(attempt, 1006, now);
            assert_eq!(c.state(), EncoderState::Unreachable);
            assert_eq!(
                c.message().as_deref(),
                Some("OBS not reachable on port 4455")
            );
            let [Action::Wake(delay)] = actions[..] else {
                panic!("{actions:?}");
            };
            delays.push(delay);
            now += delay;
            let actions = c.on_timer(now);
            assert_eq!(
                actions[0],
                Action::Connect {
                    socket: attempt + 1,
                    url: "ws://127.0.0.1:4455".into()
                }
            );
            // Still unreachable while the next attempt is under way.
            assert_eq!(c.state(), EncoderState::Unreachable);
        }
        assert_eq!(
            delays,
            vec![1000.0, 2000.0, 4000.0, 8000.0, 15000.0, 15000.0, 15000.0]
        );
    }

    #[test]
    fn an_early_timer_while_waiting_waits_for_the_rest() {
        let mut c = client(None);
        c.start(0.0);
        c.on_closed(1, 1006, 0.0);
        assert_eq!(c.on_timer(400.0), vec![Action::Wake(600.0)]);
    }

    #[test]
    fn obs_restarted_is_found_again_and_the_failure_count_resets() {
        let (mut c, _) = identified();
        c.on_closed(1, 1001, 1000.0);
        assert_eq!(c.state(), EncoderState::Unreachable);
        assert_eq!(c.stats(1000.0).bitrate_kbps, None);
        let actions = c.on_timer(2000.0);
        assert!(matches!(actions[0], Action::Connect { socket: 2, .. }));
        c.on_open(2);
        c.on_text(2, HELLO, 2010.0);
        c.on_text(2, IDENTIFIED, 2020.0);
        assert_eq!(c.failures(), 0);
        c.on_closed(2, 1006, 3000.0);
        assert_eq!(c.on_timer(3000.0), vec![Action::Wake(1000.0)]);
    }

    #[test]
    fn something_that_is_not_obs_is_closed_and_retried() {
        let mut c = client(None);
        c.start(0.0);
        c.on_open(1);
        let actions = c.on_text(1, "HTTP/1.1 200 OK", 10.0);
        assert_eq!(
            actions,
            vec![Action::Close { socket: 1 }, Action::Wake(1000.0)]
        );
        assert_eq!(c.state(), EncoderState::Unreachable);
        assert!(c.message().unwrap_or_default().contains("not OBS"));
    }

    #[test]
    fn a_handshake_that_stalls_times_out() {
        let mut c = client(None);
        c.start(0.0);
        c.on_open(1);
        assert_eq!(
            c.on_timer(1000.0),
            vec![Action::Wake(HANDSHAKE_TIMEOUT_MS - 1000.0)]
        );
        let actions = c.on_timer(HANDSHAKE_TIMEOUT_MS);
        assert_eq!(
            actions,
            vec![Action::Close { socket: 1 }, Action::Wake(1000.0)]
        );
        assert_eq!(c.state(), EncoderState::Unreachable);
    }

    #[test]
    fn one_round_at_a_time_and_a_hung_obs_is_dropped() {
        let (mut c, _) = identified();
        // No answers: the ticks do not pile up requests.
        for tick in 1..10 {
            let actions = c.on_timer(20.0 + f64::from(tick) * 1000.0);
            assert_eq!(actions, vec![Action::Wake(POLL_INTERVAL_MS)], "tick {tick}");
        }
        let actions = c.on_timer(20.0 + REQUEST_TIMEOUT_MS);
        assert_eq!(
            actions,
            vec![Action::Close { socket: 1 }, Action::Wake(1000.0)]
        );
        assert_eq!(c.state(), EncoderState::Unreachable);
    }

    #[test]
    fn answers_feed_the_encoder_model_and_the_next_round_follows() {
        let (mut c, actions) = identified();
        let (s, t) = request_ids(&actions);
        c.on_text(1, &status_response(&s, true, 0, 0), 30.0);
        c.on_text(1, &stats_response(&t, 0), 31.0);
        assert_eq!(c.state(), EncoderState::Live);
        let mut now = 20.0;
        for second in 1..=6u64 {
            now += 1000.0;
            let actions = c.on_timer(now);
            let (s, t) = request_ids(&actions);
            c.on_text(
                1,
                &status_response(&s, true, second * 62_500, second * 30),
                now + 5.0,
            );
            c.on_text(1, &stats_response(&t, second * 30), now + 6.0);
        }
        let stats = c.stats(now + 10.0);
        assert_eq!(stats.bitrate_kbps.map(f64::round), Some(500.0));
        assert_eq!(stats.cpu_percent, Some(17.5));
        assert_eq!(stats.network.percent, Some(0.0));
        assert!(stats.fresh);
    }

    #[test]
    fn answers_to_unknown_ids_are_ignored() {
        let (mut c, _) = identified();
        c.on_text(1, &status_response("nope", true, 1, 1), 30.0);
        assert_eq!(c.ignored_messages(), 1);
        assert_eq!(c.state(), EncoderState::Connecting);
    }

    #[test]
    fn malformed_messages_after_identification_are_ignored() {
        let (mut c, _) = identified();
        for text in ["", "{", "[]", r#"{"op":"x"}"#, r#"{"op":7,"d":{}}"#] {
            assert!(c.on_text(1, text, 30.0).is_empty(), "{text}");
        }
        assert_eq!(c.ignored_messages(), 5);
        assert_eq!(c.on_timer(1020.0), vec![Action::Wake(POLL_INTERVAL_MS)]);
    }

    #[test]
    fn events_drive_the_streaming_state_and_mark_the_chart() {
        let (mut c, _) = identified();
        let cases = [
            ("STARTING", EncoderState::Starting, vec![]),
            (
                "STARTED",
                EncoderState::Live,
                vec![Action::Mark(StreamMark::Started)],
            ),
            (
                "RECONNECTING",
                EncoderState::Reconnecting,
                vec![Action::Mark(StreamMark::Reconnecting)],
            ),
            (
                "RECONNECTED",
                EncoderState::Live,
                vec![Action::Mark(StreamMark::Reconnected)],
            ),
            (
                "STOPPING",
                EncoderState::Stopped,
                vec![Action::Mark(StreamMark::Stopped)],
            ),
            ("STOPPED", EncoderState::Stopped, vec![]),
            ("STARTING", EncoderState::Starting, vec![]),
            // A start that fails is no stop.
            ("STOPPED", EncoderState::Stopped, vec![]),
        ];
        for (state, expected, marks) in cases {
            assert_eq!(c.on_text(1, &event(state), 100.0), marks, "{state}");
            assert_eq!(c.state(), expected, "{state}");
        }
    }

    #[test]
    fn while_reconnecting_an_active_stream_status_does_not_read_live() {
        let (mut c, actions) = identified();
        c.on_text(1, &event("RECONNECTING"), 25.0);
        // An answer to a round sent before the event says nothing newer.
        answer(&mut c, &actions, false, 30.0);
        assert_eq!(c.state(), EncoderState::Reconnecting);
        // OBS 29 says outputActive=true while it reconnects.
        let actions = c.on_timer(1020.0);
        answer(&mut c, &actions, true, 1030.0);
        assert_eq!(c.state(), EncoderState::Reconnecting);
        c.on_text(1, &event("RECONNECTED"), 1500.0);
        assert_eq!(c.state(), EncoderState::Live);
    }

    #[test]
    fn joining_a_stream_already_live_reads_live_from_the_status() {
        let (mut c, actions) = identified();
        answer(&mut c, &actions, false, 30.0);
        assert_eq!(c.state(), EncoderState::Stopped);
        c.on_text(1, &event("STARTING"), 40.0);
        c.on_text(1, &event("STARTED"), 50.0);
        assert_eq!(c.state(), EncoderState::Live);
        let actions = c.on_timer(1020.0);
        // A newer status saying inactive: the stream ended.
        answer(&mut c, &actions, false, 1030.0);
        assert_eq!(c.state(), EncoderState::Stopped);
        let actions = c.on_timer(2020.0);
        answer(&mut c, &actions, true, 2030.0);
        assert_eq!(c.state(), EncoderState::Live);
    }

    #[test]
    fn a_stale_socket_cannot_disturb_the_current_one() {
        let (mut c, _) = identified();
        c.on_closed(1, 1006, 100.0);
        c.on_timer(1100.0);
        c.on_open(2);
        assert!(c.on_text(1, HELLO, 1110.0).is_empty());
        assert!(c.on_closed(1, 4009, 1120.0).is_empty());
        assert_eq!(c.state(), EncoderState::Unreachable);
        c.on_text(2, HELLO, 1130.0);
        c.on_text(2, IDENTIFIED, 1140.0);
        assert_eq!(c.state(), EncoderState::Connecting);
    }

    #[test]
    fn stop_closes_the_socket_and_turns_off() {
        let (mut c, _) = identified();
        assert_eq!(c.stop(), vec![Action::Close { socket: 1 }]);
        assert_eq!(c.state(), EncoderState::Off);
        assert!(c.on_timer(5000.0).is_empty());
        assert!(c.stop().is_empty());
    }

    #[test]
    fn the_password_never_shows_in_debug_output_or_messages() {
        let mut c = client(Some("hunter2-secret"));
        let mut shown = format!("{c:?}");
        c.start(0.0);
        c.on_open(1);
        let actions = c.on_text(1, HELLO_AUTH, 10.0);
        shown.push_str(&format!("{c:?}{actions:?}"));
        c.on_closed(1, 4009, 20.0);
        shown.push_str(&format!("{c:?}{:?}", c.message()));
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn ports_are_digits_from_1_to_65535() {
        let cases = [
            ("4455", Some(4455)),
            (" 4455 ", Some(4455)),
            ("1", Some(1)),
            ("65535", Some(65535)),
            ("0", None),
            ("65536", None),
            ("-1", None),
            ("+4455", None),
            ("44 55", None),
            ("", None),
            ("0004455", None),
            ("4455x", None),
        ];
        for (text, port) in cases {
            assert_eq!(ObsSettings::parse_port(text), port, "{text:?}");
        }
    }
}

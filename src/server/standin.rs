//! The local stand-in for the Live Stream Health Stats API, plus the small
//! slice of the platform's System and Video APIs needed to set it up.
//!
//! Routes:
//! - `GET /live-stream-health?token=JWT`: the stats endpoint (see
//!   [`super::verify`] for the token checks and the rejection matrix). Body
//!   `{"data":[{"ingest_health":{"updated_at","stream_drift_session_avg",
//!   "stream_drift_deviation_from_rolling_avg","status"}}]}`; `unknown`
//!   carries null numbers (see [`super::drift`]).
//! - `GET /counts?token=JWT`: the viewer counts endpoint, with the same
//!   token checks and rejection matrix (`aud` may also name a video, asset
//!   or playback id, which the stand-in does not have: 404). Body
//!   `{"data":[{"views","viewers","updated_at"}]}` with `updated_at` in UTC
//!   with a `Z`. The counts come from the stream's [audience](super::audience):
//!   a simulated stream's follows its scenario on the scaled clock; a real
//!   encoder's ramps up while it publishes and drops after it stops; a
//!   stream that never had an encoder reports 0 and 0.
//! - `POST|GET /system/v1/signing-keys`, `GET|DELETE
//!   /system/v1/signing-keys/{id}`: HTTP Basic auth with an access token that
//!   has the System permission (401 without valid credentials, 403 without the
//!   permission). Keys take the access token's environment; creation returns
//!   the base64 of the private PEM once, nothing else ever does.
//! - `POST|GET /video/v1/live-streams`: Basic auth, Video permission. `POST`
//!   takes an optional `{"simulate":"<scenario>"}` (a name or `script:...`,
//!   see [`super::simulate`]) and an optional `"passthrough"` (free text, at
//!   most 255 characters, returned as given). Every stream has a
//!   `stream_key`; `status` is `active` while an encoder (simulated or real)
//!   is connected.
//! - `GET /health`: `ok`.
//!
//! RTMP ingest ([`super::rtmp`], [`Config::rtmp_listen`]): real encoders
//! publish to `rtmp://HOST:PORT/live/<stream key>` of a stream created
//! without `simulate`, and the endpoint reports the drift of what they send
//! (see [`super::ingest`]). Simulated streams refuse publishes: their health
//! is scripted.
//!
//! Every response carries `Access-Control-Allow-Origin: *` (never
//! credentials); any `OPTIONS` request is answered as a CORS preflight.
//!
//! Time: simulated encoders run on a simulated clock that starts at the real
//! time when the server starts and runs `time_scale` times faster, so tests
//! see 30-second windows and 3-minute timeouts in a fraction of that.
//! `updated_at` is on that clock (it runs ahead of real time when scaled).
//! Token expiry is always checked against the real clock, because tokens are
//! minted with real time. Encoders are advanced by a sweep every second and
//! again just before a request reads them; because sampling is deterministic
//! per stream-time tick, both give identical results. Encoder state is not
//! persisted: after a restart each simulated encoder reconnects and starts
//! its scenario from the beginning (stream, keys and tokens carry over).
//!
//! Real encoders send media in real time, so their drift, rolling window and
//! 1 Hz sampling stay on the real clock at any time scale; only their
//! `updated_at` and the 3-minute `unknown` timeout after a publish ends are
//! on the scaled clock (details in [`super::ingest`]). Both clocks are read
//! from one monotonic `Instant`, so they agree exactly at time scale 1. Like
//! simulated encoders, real ones are not persisted: after a restart their
//! streams read `unknown` until the encoder publishes again (OBS and ffmpeg
//! reconnect on their own or on a click; a publish is a new session anyway).

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use super::audience::{Audience, Counts};
use super::background::{Background, StopSignal};
use super::body::{counts_json, error_json, health_json};
use super::drift::{DriftEngine, Reading, Status};
use super::http_accept;
use super::ingest::LiveIngest;
use super::keys;
use super::rtmp::{self, PublishRegistry, PublishTicket};
use super::simulate::{seed_from, Scenario, ScenarioError, SimulatedEncoder};
use super::store::{AccessToken, Credentials, LiveStream, Permission, Store, StoreError};
use super::utc;
use super::verify::{self, Rejection};

/// Largest accepted `time_scale`.
pub const MAX_TIME_SCALE: f64 = 10_000.0;
/// Longest `passthrough` accepted, in characters (as Mux).
pub const MAX_PASSTHROUGH_CHARS: usize = 255;

/// Whether and where the stand-in takes RTMP publishes from real encoders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtmpListen {
    /// No RTMP ingest.
    Off,
    /// Bind this address (port 0 picks a free one); failing to is an error.
    On(SocketAddr),
    /// Bind this address if it is free; otherwise run without ingest and
    /// report why ([`Running::rtmp_unavailable`]). The command line's
    /// default, so a second stand-in or a busy port 1935 does not stop the
    /// HTTP side.
    IfFree(SocketAddr),
}

/// How the stand-in starts.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to bind; port 0 picks a free one. Default `127.0.0.1:0`.
    pub listen: SocketAddr,
    /// Where state is persisted. Created if missing.
    pub data_dir: PathBuf,
    /// Simulated seconds per real second, `> 0` and at most
    /// [`MAX_TIME_SCALE`]. Default 1.
    pub time_scale: f64,
    /// Scenarios that must each have a simulated stream in `development`;
    /// existing ones (same `simulate` spec) are reused.
    pub simulate: Vec<String>,
    /// RTMP ingest. Default `On(127.0.0.1:0)`: a free port, like `listen`
    /// (the command line defaults to `IfFree(127.0.0.1:1935)`).
    pub rtmp_listen: RtmpListen,
}

impl Config {
    /// Defaults: `127.0.0.1:0`, time scale 1, no simulated streams, RTMP
    /// ingest on a free port of 127.0.0.1.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.into(),
            time_scale: 1.0,
            simulate: Vec::new(),
            rtmp_listen: RtmpListen::On(SocketAddr::from(([127, 0, 0, 1], 0))),
        }
    }
}

/// Why the stand-in could not start or do something.
#[derive(Debug)]
pub enum StandinError {
    /// The data directory could not be read or written.
    Store(StoreError),
    /// Binding or running the server failed.
    Io(io::Error),
    /// A scenario spec was refused.
    Scenario(ScenarioError),
    /// A configuration value is out of range.
    Config(String),
    /// Key generation failed.
    Key(String),
}

impl fmt::Display for StandinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Store(e) => write!(f, "{e}"),
            Self::Io(e) => write!(f, "{e}"),
            Self::Scenario(e) => write!(f, "{e}"),
            Self::Config(e) | Self::Key(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for StandinError {}

impl From<StoreError> for StandinError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl From<io::Error> for StandinError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

impl From<ScenarioError> for StandinError {
    fn from(e: ScenarioError) -> Self {
        Self::Scenario(e)
    }
}

/// A signing key as returned once at creation.
#[derive(Clone)]
pub struct NewSigningKey {
    /// The key id (`kid`).
    pub id: String,
    /// PKCS#1 PEM of the private key. Not stored by the stand-in.
    pub private_key_pem: String,
    /// Unix seconds.
    pub created_at: i64,
}

impl fmt::Debug for NewSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewSigningKey")
            .field("id", &self.id)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// The simulated clock: real time, sped up from the moment the server started.
#[derive(Debug, Clone, Copy)]
struct SimClock {
    started: Instant,
    started_unix_ms: i64,
    scale: f64,
}

impl SimClock {
    /// Scaled time now, Unix ms.
    fn now_ms(&self) -> i64 {
        self.scaled_ms_at(Instant::now())
    }

    /// Scaled time at `at`, Unix ms.
    fn scaled_ms_at(&self, at: Instant) -> i64 {
        let elapsed = at.saturating_duration_since(self.started).as_secs_f64() * 1000.0;
        self.started_unix_ms + (elapsed * self.scale) as i64
    }

    /// Real time at `at`, Unix ms, from the same monotonic origin.
    fn real_ms_at(&self, at: Instant) -> i64 {
        let elapsed = at.saturating_duration_since(self.started).as_millis();
        self.started_unix_ms + i64::try_from(elapsed).unwrap_or(i64::MAX / 2)
    }
}

/// State shared by handlers, the sweep task, the RTMP ingest and [`Running`].
#[derive(Debug)]
struct Shared {
    store: Mutex<Store>,
    encoders: Mutex<HashMap<String, SimulatedEncoder>>,
    /// Drift of streams fed by real encoders, by stream id.
    ingests: Mutex<HashMap<String, LiveIngest>>,
    /// Audiences of streams fed by real encoders, by stream id (simulated
    /// encoders keep their own), on the scaled clock.
    audiences: Mutex<HashMap<String, Audience>>,
    /// Numbers publishes, so a replaced one can be told from its successor.
    next_publish: AtomicU64,
    clock: SimClock,
    /// Parsed public keys by `kid`, so a token check parses no PEM and holds
    /// the store's lock only for lookups.
    verifier: verify::Verifier,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn start_encoder(&self, stream: &LiveStream) -> Result<(), ScenarioError> {
        let Some(spec) = &stream.simulate else {
            return Ok(());
        };
        let scenario = Scenario::parse(spec)?;
        let encoder = SimulatedEncoder::new(scenario, self.clock.now_ms(), seed_from(&stream.id));
        lock(&self.encoders).insert(stream.id.clone(), encoder);
        Ok(())
    }

    fn create_live_stream(
        &self,
        environment_id: &str,
        simulate: Option<&str>,
        passthrough: Option<&str>,
    ) -> Result<LiveStream, StandinError> {
        if let Some(spec) = simulate {
            Scenario::parse(spec)?;
        }
        if passthrough.is_some_and(|p| p.chars().count() > MAX_PASSTHROUGH_CHARS) {
            return Err(StandinError::Config(format!(
                "passthrough is limited to {MAX_PASSTHROUGH_CHARS} characters"
            )));
        }
        let stream = lock(&self.store).add_live_stream(
            environment_id,
            simulate.map(str::to_owned),
            passthrough.map(str::to_owned),
        )?;
        self.start_encoder(&stream)?;
        Ok(stream)
    }

    fn is_active(&self, stream_id: &str) -> bool {
        let simulated = lock(&self.encoders)
            .get(stream_id)
            .is_some_and(SimulatedEncoder::is_connected);
        simulated
            || lock(&self.ingests)
                .get(stream_id)
                .is_some_and(LiveIngest::is_live)
    }

    /// What the stats endpoint reports for a stream at scaled time `now`.
    fn reading(&self, stream_id: &str, now: i64) -> Reading {
        if let Some(encoder) = lock(&self.encoders).get_mut(stream_id) {
            encoder.advance_to(now);
            return encoder.reading(now);
        }
        match lock(&self.ingests).get(stream_id) {
            Some(ingest) => ingest.reading(now),
            None => DriftEngine::new().reading(now),
        }
    }

    /// Whether a real encoder publishes to the stream at scaled time `now`,
    /// and how well; `None` for a stream no encoder ever published to.
    fn publishing(&self, stream_id: &str, now: i64) -> Option<Option<Status>> {
        lock(&self.ingests)
            .get(stream_id)
            .map(|ingest| ingest.is_live().then(|| ingest.reading(now).status))
    }

    /// What the counts endpoint reports for a stream at scaled time `now`.
    fn counts(&self, stream_id: &str, now: i64) -> Counts {
        if let Some(encoder) = lock(&self.encoders).get_mut(stream_id) {
            encoder.advance_to(now);
            return encoder.counts();
        }
        let Some(playing) = self.publishing(stream_id, now) else {
            return Counts {
                viewers: 0,
                views: 0,
                updated_at_ms: now.div_euclid(1000) * 1000,
            };
        };
        let mut audiences = lock(&self.audiences);
        let audience = audiences
            .entry(stream_id.to_owned())
            .or_insert_with(|| Audience::new(seed_from(stream_id), now));
        audience.advance_to(now, playing);
        audience.counts()
    }

    fn advance_all(&self) {
        let now = self.clock.now_ms();
        for encoder in lock(&self.encoders).values_mut() {
            encoder.advance_to(now);
        }
        // Real encoders' audiences follow their publishes second by second
        // (a request in between reads the state at its own time).
        let playing: Vec<(String, Option<Status>)> = lock(&self.ingests)
            .iter()
            .map(|(id, ingest)| {
                (
                    id.clone(),
                    ingest.is_live().then(|| ingest.reading(now).status),
                )
            })
            .collect();
        let mut audiences = lock(&self.audiences);
        for (stream_id, playing) in playing {
            audiences
                .entry(stream_id.clone())
                .or_insert_with(|| Audience::new(seed_from(&stream_id), now))
                .advance_to(now, playing);
        }
    }
}

/// The RTMP ingest's view of the stand-in: stream keys in, samples out.
impl PublishRegistry for Shared {
    fn begin_publish(&self, stream_key: &str, at: Instant) -> Result<PublishTicket, String> {
        let stream = lock(&self.store)
            .live_stream_by_key(stream_key)
            .cloned()
            .ok_or_else(|| "unknown stream key".to_owned())?;
        if let Some(scenario) = &stream.simulate {
            return Err(format!(
                "live stream {} is simulated ({scenario}); publish to a stream created without `simulate`",
                stream.id
            ));
        }
        let session = self.next_publish.fetch_add(1, Ordering::Relaxed);
        let mut ingests = lock(&self.ingests);
        let ingest = ingests.entry(stream.id.clone()).or_default();
        if ingest.is_live() {
            eprintln!(
                "rtmp: a new publish replaces the one feeding live stream {}",
                stream.id
            );
        }
        ingest.begin(
            session,
            self.clock.real_ms_at(at),
            self.clock.scaled_ms_at(at),
        );
        Ok(PublishTicket {
            stream_id: stream.id,
            session,
        })
    }

    fn record_sample(&self, ticket: &PublishTicket, at: Instant, media_ms: i64) -> bool {
        lock(&self.ingests)
            .get_mut(&ticket.stream_id)
            .is_some_and(|ingest| {
                ingest.record(
                    ticket.session,
                    self.clock.real_ms_at(at),
                    self.clock.scaled_ms_at(at),
                    media_ms,
                )
            })
    }

    fn end_publish(&self, ticket: &PublishTicket) {
        if let Some(ingest) = lock(&self.ingests).get_mut(&ticket.stream_id) {
            ingest.end(ticket.session);
        }
    }
}

/// A running stand-in. Stops on [`Running::shutdown`] or drop.
#[derive(Debug)]
pub struct Running {
    background: Background,
    shared: Arc<Shared>,
    bootstrap: Option<Credentials>,
    bootstrapped_now: bool,
    simulated: Vec<LiveStream>,
    rtmp_addr: Option<SocketAddr>,
    rtmp_unavailable: Option<String>,
}

/// Binds the RTMP listener on the caller's thread, like the HTTP one, so a
/// busy port is known before `spawn` returns.
fn bind_rtmp(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    let listener = std::net::TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Starts the stand-in on a background thread with its own runtime.
///
/// Opens (or bootstraps) the data directory, makes sure `config.simulate`
/// streams exist, binds `config.listen` and returns once it accepts requests.
pub fn spawn(config: Config) -> Result<Running, StandinError> {
    if !(config.time_scale > 0.0 && config.time_scale <= MAX_TIME_SCALE) {
        return Err(StandinError::Config(format!(
            "time scale must be above 0 and at most {MAX_TIME_SCALE}"
        )));
    }
    let scenarios = config
        .simulate
        .iter()
        .map(|spec| Scenario::parse(spec).map(|s| s.spec))
        .collect::<Result<Vec<_>, _>>()?;

    let (rtmp_listener, rtmp_unavailable) = match config.rtmp_listen {
        RtmpListen::Off => (None, None),
        RtmpListen::On(addr) => {
            let listener = bind_rtmp(addr).map_err(|e| {
                StandinError::Io(io::Error::new(
                    e.kind(),
                    format!("cannot listen for RTMP on {addr}: {e}"),
                ))
            })?;
            (Some(listener), None)
        }
        RtmpListen::IfFree(addr) => match bind_rtmp(addr) {
            Ok(listener) => (Some(listener), None),
            Err(e) => (None, Some(format!("cannot listen for RTMP on {addr}: {e}"))),
        },
    };
    let rtmp_addr = match &rtmp_listener {
        Some(listener) => Some(listener.local_addr()?),
        None => None,
    };

    let (store, fresh) = Store::open(&config.data_dir)?;
    let bootstrapped_now = fresh.is_some();
    let bootstrap = fresh.or_else(|| store.read_bootstrap());
    let shared = Arc::new(Shared {
        store: Mutex::new(store),
        encoders: Mutex::new(HashMap::new()),
        ingests: Mutex::new(HashMap::new()),
        audiences: Mutex::new(HashMap::new()),
        next_publish: AtomicU64::new(1),
        clock: SimClock {
            started: Instant::now(),
            started_unix_ms: utc::now_unix_millis(),
            scale: config.time_scale,
        },
        verifier: verify::Verifier::default(),
    });

    let existing: Vec<LiveStream> = lock(&shared.store).live_streams().to_vec();
    for stream in &existing {
        if let Err(error) = shared.start_encoder(stream) {
            // A spec this version no longer understands leaves the stream idle.
            eprintln!("live stream {}: not simulated: {error}", stream.id);
        }
    }

    let development = lock(&shared.store)
        .environment_named("development")?
        .id
        .clone();
    let mut simulated = Vec::new();
    for spec in scenarios {
        let found = existing.iter().find(|s| {
            s.environment_id == development && s.simulate.as_deref() == Some(spec.as_str())
        });
        let stream = match found {
            Some(stream) => stream.clone(),
            None => shared.create_live_stream(&development, Some(&spec), None)?,
        };
        simulated.push(stream);
    }

    let serve_shared = Arc::clone(&shared);
    let background = Background::start("standin", config.listen, move |listener, stop| {
        serve(listener, rtmp_listener, serve_shared, stop)
    })?;
    Ok(Running {
        background,
        shared,
        bootstrap,
        bootstrapped_now,
        simulated,
        rtmp_addr,
        rtmp_unavailable,
    })
}

impl Running {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.background.addr()
    }

    /// `http://ADDR` (no trailing slash): the widget's `endpoint` parameter.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// `http://ADDR/live-stream-health`.
    pub fn endpoint(&self) -> String {
        format!("{}/live-stream-health", self.base_url())
    }

    /// `http://ADDR/counts`: the viewer counts endpoint.
    pub fn counts_endpoint(&self) -> String {
        format!("{}/counts", self.base_url())
    }

    /// The bootstrap access token (System + Video in `development`), from
    /// this start or from `bootstrap.json` of an earlier one.
    pub fn bootstrap(&self) -> Option<&Credentials> {
        self.bootstrap.as_ref()
    }

    /// Whether this start created the data directory's state (and so the
    /// bootstrap credentials).
    pub fn bootstrapped_now(&self) -> bool {
        self.bootstrapped_now
    }

    /// The streams created or reused for [`Config::simulate`], in order.
    pub fn simulated_streams(&self) -> &[LiveStream] {
        &self.simulated
    }

    /// Simulated-clock time in Unix ms (what `updated_at` is measured on).
    pub fn simulated_now_ms(&self) -> i64 {
        self.shared.clock.now_ms()
    }

    /// The address RTMP publishes go to, when ingest is on.
    pub fn rtmp_addr(&self) -> Option<SocketAddr> {
        self.rtmp_addr
    }

    /// `rtmp://ADDR/live`: the "Server" an encoder is given (OBS's field).
    pub fn rtmp_server_url(&self) -> Option<String> {
        self.rtmp_addr
            .map(|addr| format!("rtmp://{addr}/{}", rtmp::APP))
    }

    /// `rtmp://ADDR/live/<stream key>`: the one URL ffmpeg publishes to.
    pub fn rtmp_publish_url(&self, stream_key: &str) -> Option<String> {
        self.rtmp_server_url()
            .map(|server| format!("{server}/{stream_key}"))
    }

    /// Why RTMP ingest is off although it was asked for
    /// ([`RtmpListen::IfFree`] on a busy address).
    pub fn rtmp_unavailable(&self) -> Option<&str> {
        self.rtmp_unavailable.as_deref()
    }

    /// Creates a live stream in the named environment, optionally simulated.
    pub fn create_live_stream(
        &self,
        environment: &str,
        simulate: Option<&str>,
    ) -> Result<LiveStream, StandinError> {
        self.create_live_stream_with(environment, simulate, None)
    }

    /// Creates a live stream with a `passthrough` text as well.
    pub fn create_live_stream_with(
        &self,
        environment: &str,
        simulate: Option<&str>,
        passthrough: Option<&str>,
    ) -> Result<LiveStream, StandinError> {
        let environment_id = lock(&self.shared.store)
            .environment_named(environment)?
            .id
            .clone();
        self.shared
            .create_live_stream(&environment_id, simulate, passthrough)
    }

    /// Every live stream of the named environment, oldest first.
    pub fn live_streams(&self, environment: &str) -> Result<Vec<LiveStream>, StandinError> {
        let store = lock(&self.shared.store);
        let environment_id = store.environment_named(environment)?.id.clone();
        Ok(store
            .live_streams()
            .iter()
            .filter(|s| s.environment_id == environment_id)
            .cloned()
            .collect())
    }

    /// Whether an encoder, simulated or real, is connected to the stream.
    pub fn is_active(&self, stream_id: &str) -> bool {
        self.shared.advance_all();
        self.shared.is_active(stream_id)
    }

    /// Creates a signing key in the named environment and returns its
    /// private half (which the stand-in does not keep).
    pub fn create_signing_key(&self, environment: &str) -> Result<NewSigningKey, StandinError> {
        let environment_id = lock(&self.shared.store)
            .environment_named(environment)?
            .id
            .clone();
        let pair = keys::generate().map_err(StandinError::Key)?;
        let key = lock(&self.shared.store).add_signing_key(&environment_id, pair.public_key_pem)?;
        Ok(NewSigningKey {
            id: key.id,
            private_key_pem: pair.private_key_pem,
            created_at: key.created_at,
        })
    }

    /// Whether a signing key with this id exists (in any environment).
    pub fn has_signing_key(&self, id: &str) -> bool {
        lock(&self.shared.store).signing_key(id).is_some()
    }

    /// Creates an access token (for tests of permissions and environments;
    /// the platform does this in its dashboard).
    pub fn create_access_token(
        &self,
        environment: &str,
        permissions: &[Permission],
    ) -> Result<Credentials, StandinError> {
        Ok(lock(&self.shared.store).create_access_token(environment, permissions)?)
    }

    /// Stops the server and waits for it. State is already on disk.
    pub fn shutdown(self) -> Result<(), StandinError> {
        Ok(self.background.stop()?)
    }
}

/// Serves the stand-in on `listener` (and RTMP ingest on `rtmp`) until
/// `stop` resolves.
async fn serve(
    listener: TcpListener,
    rtmp: Option<std::net::TcpListener>,
    shared: Arc<Shared>,
    stop: StopSignal,
) -> io::Result<()> {
    let ingest = match rtmp {
        Some(rtmp) => Some(tokio::spawn(rtmp::serve(
            TcpListener::from_std(rtmp)?,
            Arc::clone(&shared),
        ))),
        None => None,
    };
    let sweeper = Arc::clone(&shared);
    let sweep = tokio::spawn(async move {
        let mut ticks = tokio::time::interval(Duration::from_secs(1));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            sweeper.advance_all();
        }
    });
    let result = http_accept::serve_router(listener, router(shared), stop).await;
    sweep.abort();
    if let Some(ingest) = ingest {
        // Dropping the accept loop drops every encoder connection with it.
        ingest.abort();
    }
    result
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok\n" }))
        .route("/live-stream-health", get(live_stream_health))
        .route("/counts", get(viewer_counts))
        .route(
            "/system/v1/signing-keys",
            get(list_signing_keys).post(create_signing_key),
        )
        .route(
            "/system/v1/signing-keys/{id}",
            get(show_signing_key).delete(delete_signing_key),
        )
        .route(
            "/video/v1/live-streams",
            get(list_live_streams).post(create_live_stream),
        )
        .fallback(|| async { api_error(StatusCode::NOT_FOUND, "not_found", "no such route") })
        .layer(middleware::from_fn(cors))
        .with_state(shared)
}

/// Answers preflights and adds CORS and caching headers to every response.
async fn cors(request: Request, next: Next) -> Response {
    let mut response = if request.method() == Method::OPTIONS {
        let mut preflight = StatusCode::NO_CONTENT.into_response();
        let headers = preflight.headers_mut();
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, DELETE, OPTIONS"),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        preflight
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("Retry-After"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn json_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

fn api_error(status: StatusCode, kind: &str, message: &str) -> Response {
    json_response(status, error_json(kind, message))
}

#[derive(Deserialize)]
struct HealthQuery {
    token: Option<String>,
}

async fn live_stream_health(
    State(shared): State<Arc<Shared>>,
    query: Result<Query<HealthQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let token = query.ok().and_then(|Query(q)| q.token).unwrap_or_default();
    let verified = shared
        .verifier
        .verify(&token, utc::now_unix_secs(), &shared.store);
    let verified = match verified {
        Ok(verified) => verified,
        Err(rejection) => return rejection_response(&rejection),
    };
    let now = shared.clock.now_ms();
    let reading = shared.reading(&verified.stream_id, now);
    let body = health_json(
        &utc::format_api_time(reading.updated_at_ms.div_euclid(1000)),
        reading.session_avg_ms,
        reading.deviation_ms,
        reading.status.as_str(),
    );
    json_response(StatusCode::OK, body)
}

async fn viewer_counts(
    State(shared): State<Arc<Shared>>,
    query: Result<Query<HealthQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let token = query.ok().and_then(|Query(q)| q.token).unwrap_or_default();
    let verified = shared.verifier.verify_for(
        verify::Endpoint::Counts,
        &token,
        utc::now_unix_secs(),
        &shared.store,
    );
    let verified = match verified {
        Ok(verified) => verified,
        Err(rejection) => return rejection_response(&rejection),
    };
    let counts = shared.counts(&verified.stream_id, shared.clock.now_ms());
    let updated_at = format!(
        "{}Z",
        utc::format_api_time(counts.updated_at_ms.div_euclid(1000))
    );
    json_response(
        StatusCode::OK,
        counts_json(&updated_at, counts.views, counts.viewers),
    )
}

fn rejection_response(rejection: &Rejection) -> Response {
    let status = StatusCode::from_u16(rejection.status()).unwrap_or(StatusCode::UNAUTHORIZED);
    api_error(status, rejection.kind(), &rejection.message())
}

/// Why a System/Video API request was refused.
#[derive(Debug, Clone, Copy)]
enum AuthFailure {
    /// No, malformed or wrong credentials: 401 with a Basic challenge.
    Unauthenticated,
    /// Valid credentials without the needed permission: 403.
    Forbidden(Permission),
}

impl IntoResponse for AuthFailure {
    fn into_response(self) -> Response {
        match self {
            Self::Unauthenticated => {
                let mut response = api_error(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "valid access token credentials are required (HTTP Basic auth)",
                );
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"live-stream-health\""),
                );
                response
            }
            Self::Forbidden(needed) => {
                let what = match needed {
                    Permission::System => "System",
                    Permission::Video => "Video",
                };
                api_error(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    &format!("the access token lacks the {what} permission"),
                )
            }
        }
    }
}

/// Checks Basic auth and the permission; returns the access token.
fn authorize(
    shared: &Shared,
    headers: &HeaderMap,
    needed: Permission,
) -> Result<AccessToken, AuthFailure> {
    let (id, secret) = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(parse_basic)
        .ok_or(AuthFailure::Unauthenticated)?;
    let token = lock(&shared.store)
        .authenticate(&id, &secret)
        .cloned()
        .ok_or(AuthFailure::Unauthenticated)?;
    if !token.permissions.contains(&needed) {
        return Err(AuthFailure::Forbidden(needed));
    }
    Ok(token)
}

fn parse_basic(value: &str) -> Option<(String, String)> {
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

fn signing_key_json(id: &str, created_at: i64) -> Value {
    json!({"id": id, "created_at": created_at.to_string()})
}

fn internal_error(message: &str) -> Response {
    api_error(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", message)
}

async fn create_signing_key(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let token = match authorize(&shared, &headers, Permission::System) {
        Ok(token) => token,
        Err(failure) => return failure.into_response(),
    };
    let pair = match tokio::task::spawn_blocking(keys::generate).await {
        Ok(Ok(pair)) => pair,
        _ => return internal_error("key generation failed"),
    };
    let added = lock(&shared.store).add_signing_key(&token.environment_id, pair.public_key_pem);
    match added {
        Ok(key) => {
            let private_key =
                base64::engine::general_purpose::STANDARD.encode(pair.private_key_pem);
            let body = json!({"data": {
                "private_key": private_key,
                "id": key.id,
                "created_at": key.created_at.to_string(),
            }});
            json_response(StatusCode::CREATED, body.to_string())
        }
        Err(_) => internal_error("could not save the signing key"),
    }
}

async fn list_signing_keys(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let token = match authorize(&shared, &headers, Permission::System) {
        Ok(token) => token,
        Err(failure) => return failure.into_response(),
    };
    let keys: Vec<Value> = lock(&shared.store)
        .signing_keys_in(&token.environment_id)
        .iter()
        .map(|k| signing_key_json(&k.id, k.created_at))
        .collect();
    json_response(StatusCode::OK, json!({"data": keys}).to_string())
}

async fn show_signing_key(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let token = match authorize(&shared, &headers, Permission::System) {
        Ok(token) => token,
        Err(failure) => return failure.into_response(),
    };
    let store = lock(&shared.store);
    match store
        .signing_key(&id)
        .filter(|k| k.environment_id == token.environment_id)
    {
        Some(key) => json_response(
            StatusCode::OK,
            json!({"data": signing_key_json(&key.id, key.created_at)}).to_string(),
        ),
        None => api_error(StatusCode::NOT_FOUND, "not_found", "signing key not found"),
    }
}

async fn delete_signing_key(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let token = match authorize(&shared, &headers, Permission::System) {
        Ok(token) => token,
        Err(failure) => return failure.into_response(),
    };
    let deleted = lock(&shared.store).delete_signing_key(&token.environment_id, &id);
    match deleted {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => api_error(StatusCode::NOT_FOUND, "not_found", "signing key not found"),
        Err(_) => internal_error("could not save the deletion"),
    }
}

fn live_stream_json(stream: &LiveStream, active: bool) -> Value {
    let mut json = json!({
        "id": stream.id,
        "stream_key": stream.stream_key,
        "status": if active { "active" } else { "idle" },
        "created_at": stream.created_at.to_string(),
        "simulate": stream.simulate,
    });
    if let (Some(passthrough), Some(object)) = (&stream.passthrough, json.as_object_mut()) {
        object.insert("passthrough".to_owned(), json!(passthrough));
    }
    json
}

#[derive(Deserialize)]
struct CreateLiveStream {
    simulate: Option<String>,
    passthrough: Option<String>,
}

async fn create_live_stream(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token = match authorize(&shared, &headers, Permission::Video) {
        Ok(token) => token,
        Err(failure) => return failure.into_response(),
    };
    let request: CreateLiveStream = if body.iter().all(u8::is_ascii_whitespace) {
        CreateLiveStream {
            simulate: None,
            passthrough: None,
        }
    } else {
        match serde_json::from_slice(&body) {
            Ok(request) => request,
            Err(_) => {
                return api_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_parameters",
                    "the body must be a JSON object",
                )
            }
        }
    };
    let created = shared.create_live_stream(
        &token.environment_id,
        request.simulate.as_deref(),
        request.passthrough.as_deref(),
    );
    match created {
        Ok(stream) => json_response(
            StatusCode::CREATED,
            json!({"data": live_stream_json(&stream, false)}).to_string(),
        ),
        Err(StandinError::Scenario(error)) => api_error(
            StatusCode::BAD_REQUEST,
            "invalid_parameters",
            &error.to_string(),
        ),
        Err(StandinError::Config(why)) => {
            api_error(StatusCode::BAD_REQUEST, "invalid_parameters", &why)
        }
        Err(_) => internal_error("could not create the live stream"),
    }
}

async fn list_live_streams(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let token = match authorize(&shared, &headers, Permission::Video) {
        Ok(token) => token,
        Err(failure) => return failure.into_response(),
    };
    shared.advance_all();
    let streams: Vec<LiveStream> = lock(&shared.store)
        .live_streams()
        .iter()
        .filter(|s| s.environment_id == token.environment_id)
        .cloned()
        .collect();
    let data: Vec<Value> = streams
        .iter()
        .map(|s| live_stream_json(s, shared.is_active(&s.id)))
        .collect();
    json_response(StatusCode::OK, json!({"data": data}).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_parses_id_and_secret() {
        let header = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("abc:s3:cret")
        );
        assert_eq!(
            parse_basic(&header),
            Some(("abc".to_owned(), "s3:cret".to_owned()))
        );
        assert_eq!(parse_basic("Bearer abc"), None);
        assert_eq!(parse_basic("Basic !!!"), None);
    }
}

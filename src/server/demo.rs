//! The demo backend: a stand-in with one simulated stream per scenario, one
//! stream for a real encoder, a signing key, and a ready-made monitor link
//! per stream.
//!
//! The encoder stream (labelled [`ENCODER_LABEL`]) is found again by its
//! `passthrough` ([`ENCODER_PASSTHROUGH`]), so restarts reuse it and its
//! stream key. It exists only while RTMP ingest is on; the demo hands out
//! the ffmpeg command that publishes a synthetic test source to it
//! ([`ffmpeg_test_command`]) and the OBS settings (Server
//! `rtmp://127.0.0.1:1935/live`, Stream Key).
//!
//! Idempotent across restarts with the same data directory: streams are
//! found by their scenario (see [`Config::simulate`]), and the demo's signing
//! key is reused while it still exists. To make that possible the demo keeps
//! the key's private half in `DATA_DIR/demo-signing-key.json`, written
//! atomically with mode 0600 — the one place the stand-in ever writes a
//! private key, and only for this local demo. Links printed by an earlier
//! run keep working until their tokens expire. Delete the file (or the key
//! through the API) to rotate it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::simulate::NAMED_SCENARIOS;
use super::standin::{self, Config, Running, StandinError};
use super::statics::{self, StaticServer};
use super::store::write_atomically;
use super::store::LiveStream;
use super::token;

const DEMO_KEY_FILE: &str = "demo-signing-key.json";

/// How the demo labels its real-encoder stream in its output.
pub const ENCODER_LABEL: &str = "encoder";
/// The `passthrough` that marks the demo's real-encoder stream.
pub const ENCODER_PASSTHROUGH: &str = "demo: real encoder (OBS, ffmpeg)";

/// An ffmpeg command line that publishes a synthetic test source (colour
/// bars with a counter, a 440 Hz tone) in real time to `publish_url`.
pub fn ffmpeg_test_command(publish_url: &str) -> String {
    format!(
        "ffmpeg -re -f lavfi -i testsrc=size=1280x720:rate=30 \
         -re -f lavfi -i sine=frequency=440 \
         -c:v libx264 -preset veryfast -tune zerolatency -g 60 -c:a aac \
         -f flv {publish_url}"
    )
}

/// How the demo starts.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// The stand-in's configuration; `simulate` is replaced by `scenarios`.
    pub standin: Config,
    /// Scenarios to create streams for. Default: every named scenario.
    pub scenarios: Vec<String>,
    /// Where the widget is served; links are `<widget_base>#token=...`.
    /// `None` with `serve_dir` set means the static server's own URL.
    pub widget_base: Option<String>,
    /// Lifetime of the minted tokens. Default 24 h.
    pub valid_for: Duration,
    /// Serve this directory (the built widget) as well.
    pub serve_dir: Option<PathBuf>,
    /// Where to serve `serve_dir`. Default `127.0.0.1:8080`.
    pub widget_listen: SocketAddr,
}

impl DemoConfig {
    /// Defaults around a data directory (stand-in on a free port).
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            standin: Config::new(data_dir),
            scenarios: NAMED_SCENARIOS
                .iter()
                .map(|(n, _)| (*n).to_owned())
                .collect(),
            widget_base: None,
            valid_for: token::DEFAULT_VALIDITY,
            serve_dir: None,
            widget_listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
        }
    }
}

/// One simulated stream and the link that monitors it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoLink {
    /// The scenario spec.
    pub scenario: String,
    /// The live stream id.
    pub stream_id: String,
    /// The token alone.
    pub token: String,
    /// `<widget_base>#token=...&endpoint=<stand-in URL>`.
    pub link: String,
}

/// The stream for a real encoder and how to publish to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoEncoder {
    /// The live stream id.
    pub stream_id: String,
    /// What the encoder publishes with.
    pub stream_key: String,
    /// `rtmp://ADDR/live`: OBS's "Server".
    pub rtmp_server: String,
    /// `rtmp://ADDR/live/<stream key>`.
    pub publish_url: String,
    /// [`ffmpeg_test_command`] for `publish_url`.
    pub ffmpeg_command: String,
    /// The token alone.
    pub token: String,
    /// The monitor link.
    pub link: String,
}

/// A running demo.
#[derive(Debug)]
pub struct Demo {
    /// The stand-in.
    pub running: Running,
    /// One link per scenario, in the order asked for.
    pub links: Vec<DemoLink>,
    /// One wall link with every simulated stream on it, labelled with its
    /// scenario (see [`wall_link`]).
    pub wall_link: String,
    /// The real-encoder stream, when RTMP ingest is on.
    pub encoder: Option<DemoEncoder>,
    statics: Option<StaticServer>,
}

impl Demo {
    /// The static widget server, when `serve_dir` was given.
    pub fn static_server(&self) -> Option<&StaticServer> {
        self.statics.as_ref()
    }

    /// Stops both servers.
    pub fn shutdown(self) -> Result<(), StandinError> {
        if let Some(statics) = self.statics {
            statics.shutdown()?;
        }
        self.running.shutdown()
    }
}

#[derive(Serialize, Deserialize)]
struct DemoKey {
    id: String,
    private_key_pem: String,
}

/// Starts the stand-in (and optionally the static server), ensures streams
/// and a signing key, and mints a link per stream.
pub fn start(config: DemoConfig) -> Result<Demo, StandinError> {
    let data_dir = config.standin.data_dir.clone();
    let mut standin_config = config.standin;
    standin_config.simulate = config.scenarios.clone();
    let running = standin::spawn(standin_config)?;

    let key_path = data_dir.join(DEMO_KEY_FILE);
    let saved: Option<DemoKey> = std::fs::read(&key_path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let key = match saved {
        Some(key) if running.has_signing_key(&key.id) => key,
        _ => {
            let created = running.create_signing_key("development")?;
            let key = DemoKey {
                id: created.id,
                private_key_pem: created.private_key_pem,
            };
            let text = serde_json::to_vec_pretty(&key).unwrap_or_default();
            write_atomically(&data_dir, DEMO_KEY_FILE, &text)?;
            key
        }
    };

    let statics = match &config.serve_dir {
        Some(dir) => Some(statics::spawn(dir, config.widget_listen)?),
        None => None,
    };
    let widget_base = config
        .widget_base
        .or_else(|| statics.as_ref().map(StaticServer::base_url))
        .unwrap_or_else(|| "http://127.0.0.1:8080/".to_owned());

    let endpoint = running.base_url();
    let encoder = match running.rtmp_server_url() {
        Some(rtmp_server) => {
            let stream = encoder_stream(&running)?;
            let jwt = token::mint(&key.private_key_pem, &key.id, &stream.id, config.valid_for)
                .map_err(|e| StandinError::Key(e.to_string()))?;
            let publish_url = format!("{rtmp_server}/{}", stream.stream_key);
            Some(DemoEncoder {
                stream_id: stream.id,
                stream_key: stream.stream_key,
                ffmpeg_command: ffmpeg_test_command(&publish_url),
                publish_url,
                rtmp_server,
                link: token::monitor_link(&widget_base, &jwt, Some(&endpoint)),
                token: jwt,
            })
        }
        None => None,
    };
    let mut links = Vec::new();
    for (scenario, stream) in config.scenarios.iter().zip(running.simulated_streams()) {
        let jwt = token::mint(&key.private_key_pem, &key.id, &stream.id, config.valid_for)
            .map_err(|e| StandinError::Key(e.to_string()))?;
        links.push(DemoLink {
            scenario: scenario.clone(),
            stream_id: stream.id.clone(),
            link: token::monitor_link(&widget_base, &jwt, Some(&endpoint)),
            token: jwt,
        });
    }
    let wall_link = wall_link(&widget_base, &links, &endpoint);
    Ok(Demo {
        running,
        links,
        wall_link,
        encoder,
        statics,
    })
}

/// The wall link for `links`: `<widget_base>#wall&token=..&label=<scenario>..&endpoint=..`,
/// every simulated stream on one screen, each tile named after its scenario.
pub fn wall_link(widget_base: &str, links: &[DemoLink], endpoint: &str) -> String {
    let base = widget_base.split('#').next().unwrap_or(widget_base);
    let mut link = format!("{base}#wall");
    for stream in links {
        link.push_str("&token=");
        link.push_str(&stream.token);
        link.push_str("&label=");
        link.push_str(&token::percent_encode(&stream.scenario));
    }
    link.push_str("&endpoint=");
    link.push_str(&token::percent_encode(endpoint));
    link
}

/// The demo's real-encoder stream in `development`, created on first use.
fn encoder_stream(running: &Running) -> Result<LiveStream, StandinError> {
    let existing = running
        .live_streams("development")?
        .into_iter()
        .find(|s| s.simulate.is_none() && s.passthrough.as_deref() == Some(ENCODER_PASSTHROUGH));
    match existing {
        Some(stream) => Ok(stream),
        None => running.create_live_stream_with("development", None, Some(ENCODER_PASSTHROUGH)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::params;
    use crate::core::wall;

    #[test]
    fn the_wall_link_carries_every_stream_with_its_scenario_as_label() {
        let links: Vec<DemoLink> = [("excellent", "a.b.c"), ("poor spike", "d.e.f")]
            .iter()
            .map(|(scenario, token)| DemoLink {
                scenario: (*scenario).into(),
                stream_id: String::new(),
                token: (*token).into(),
                link: String::new(),
            })
            .collect();
        let link = wall_link(
            "http://127.0.0.1:8080/#old",
            &links,
            "http://127.0.0.1:8787",
        );
        let fragment = link
            .strip_prefix("http://127.0.0.1:8080/#")
            .unwrap_or_default();
        assert!(wall::is_wall(fragment), "{link}");
        let (wall_link, notices) = wall::parse(fragment);
        assert!(notices.is_empty(), "{notices:?}");
        let streams: Vec<(&str, Option<&str>)> = wall_link
            .streams
            .iter()
            .map(|s| (s.token.as_str(), s.label.as_deref()))
            .collect();
        assert_eq!(
            streams,
            [("a.b.c", Some("excellent")), ("d.e.f", Some("poor spike"))]
        );
        let (config, _) = params::parse("", fragment);
        assert_eq!(config.endpoint.base(), "http://127.0.0.1:8787");
    }
}

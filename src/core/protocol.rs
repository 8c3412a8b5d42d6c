//! The postMessage protocol between the widget (in an iframe) and its host
//! page, as plain data: parsing what the host sends, building what the
//! widget sends.
//!
//! Messages are objects with a `type` and the protocol version `v`. The
//! shell exchanges them as JSON text (`JSON.stringify` / `JSON.parse`),
//! checks `event.origin` against the configured `origin` before calling
//! [`parse_host_message`], and posts only to that origin, never `*`.
//! Nothing built here carries the token: the builders take the fields they
//! send, and the token is not one of them.
//!
//! **Versions.** Every message the widget sends carries `"v":1`
//! ([`PROTOCOL_VERSION`]); all of them are built through one function, so
//! none can go out without it. From the host, a message with `"v":1` or
//! with no `v` at all (hosts written before the field existed) is read;
//! any other `v` (a later version, or a value that is not a version) is
//! ignored as a whole ([`Ignored::UnknownVersion`]): a later version may
//! give a known `type` new meaning, and guessing would be worse than doing
//! nothing. A later version that keeps these messages compatible can be
//! accepted here by widening that one check.
//!
//! | direction | `type` | fields (besides `type` and `v`) |
//! |---|---|---|
//! | widget → host | `lsh:ready` | (none) |
//! | widget → host | `lsh:status` | `status`, `state`, `sessionAvgMs`, `deviationMs`, `updatedAt`, `driftTrendMsPerMin`, `fallingBehind`, `viewers`, `views`, `encoder` |
//! | widget → host | `lsh:token-expiring` | `expiresAt` (ISO 8601 UTC) |
//! | widget → host | `lsh:token-rejected` | `httpStatus` (null for a malformed token) |
//! | widget → host | `lsh:resize` | `height` (CSS pixels) |
//! | host → widget | `lsh:token` | `token` |
//! | host → widget | `lsh:config` | any of `interval` (s), `layout`, `theme`, `viewers` (`"on"`/`"off"`) |
//! | host → widget | `lsh:obs` | `port` (OBS's WebSocket port), `password` (optional) |
//!
//! `encoder` is `null` unless the link reads OBS (`obs=PORT`); then it is
//! an object: `state` (the `data-encoder` value), `message` (the panel's
//! line), `diagnosis` (a `data-diagnosis` value), `advice` (its sentence,
//! `null` while OBS gives nothing to judge by), and `bitrateKbps`,
//! `congestionPercent`, `networkDropPercent`, `encoderSkipPercent`,
//! `cpuPercent` (one decimal, `null` while unknown).
//!
//! `lsh:obs` lets a host hand over OBS's WebSocket password without putting
//! it in the frame's address. The password is a credential like the token:
//! it goes only into the OBS client, and no message the widget sends
//! carries it. The page's policy allows only the link's `obs` port (see
//! [`crate::core::csp`]), so the shell uses an `lsh:obs` only for that port.

use serde::Deserialize;

use crate::core::format::push_number;
use crate::core::lenient::{self, Lenient};
use crate::core::num::within;
use crate::core::obs::{EncoderState, EncoderView, ObsSettings};
use crate::core::params::{Layout, Theme};
use crate::core::time::format_iso_utc;

/// The protocol version the widget speaks: the `v` of every message it
/// sends, and the one it reads from hosts (besides messages without `v`).
pub const PROTOCOL_VERSION: u32 = 1;

/// Longest message text accepted from a host.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024;

/// A message from the host page.
#[derive(Clone, Debug, PartialEq)]
pub enum HostMessage {
    /// Set or replace the token.
    Token(String),
    /// Change settings at run time.
    Config(ConfigChange),
    /// Where OBS's WebSocket server is and its password.
    Obs(ObsSettings),
}

/// Settings a host may change at run time; absent fields stay as they are.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ConfigChange {
    /// New poll interval in milliseconds (already clamped to 1..=300 s).
    pub interval_ms: Option<f64>,
    /// New layout.
    pub layout: Option<Layout>,
    /// New theme.
    pub theme: Option<Theme>,
    /// Viewer counts on (`true`) or off.
    pub viewers: Option<bool>,
}

/// Why a host message was not used. The widget ignores these silently (a
/// page may post other messages to its frames), so nothing ever throws.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ignored {
    /// Not JSON, not an object, or too large.
    NotAMessage,
    /// A `type` that is not ours.
    OtherType,
    /// Ours, but a field is missing or invalid.
    Invalid(&'static str),
    /// Ours, but of a protocol version this widget does not speak (a `v`
    /// other than [`PROTOCOL_VERSION`]).
    UnknownVersion,
}

/// The fields of any host message. A missing or odd `type` or `token` is
/// handled like an unknown message or a missing token. A setting that is
/// absent or `null` stays as it is, while one that cannot be read makes
/// the message invalid rather than half-applied.
#[derive(Deserialize)]
struct Fields {
    #[serde(rename = "type")]
    kind: Lenient<String>,
    v: Lenient<f64>,
    token: Lenient<String>,
    interval: Lenient<f64>,
    layout: Lenient<String>,
    theme: Lenient<String>,
    viewers: Lenient<String>,
    port: Lenient<f64>,
    password: Lenient<String>,
}

/// Parses a message from the host (already checked for origin).
pub fn parse_host_message(text: &str) -> Result<HostMessage, Ignored> {
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(Ignored::NotAMessage);
    }
    let fields: Option<Fields> = lenient::from_str(text).map_err(|_| Ignored::NotAMessage)?;
    // Not an object.
    let fields = fields.ok_or(Ignored::NotAMessage)?;
    match fields.kind.value().as_deref() {
        Some("lsh:token") => {
            spoken(&fields.v)?;
            let token = fields.token.value().ok_or(Ignored::Invalid("token"))?;
            let token = token.trim();
            if token.is_empty() {
                return Err(Ignored::Invalid("token"));
            }
            Ok(HostMessage::Token(token.to_string()))
        }
        Some("lsh:config") => {
            spoken(&fields.v)?;
            let mut change = ConfigChange::default();
            if !matches!(fields.interval, Lenient::Absent) {
                let seconds = fields
                    .interval
                    .value()
                    .ok_or(Ignored::Invalid("interval"))?;
                change.interval_ms = Some(within(seconds.round(), 1.0, 300.0) * 1000.0);
            }
            if !matches!(fields.layout, Lenient::Absent) {
                change.layout = Some(match fields.layout.value().as_deref() {
                    Some("full") => Layout::Full,
                    Some("compact") => Layout::Compact,
                    _ => return Err(Ignored::Invalid("layout")),
                });
            }
            if !matches!(fields.theme, Lenient::Absent) {
                change.theme = Some(match fields.theme.value().as_deref() {
                    Some("auto") => Theme::Auto,
                    Some("light") => Theme::Light,
                    Some("dark") => Theme::Dark,
                    _ => return Err(Ignored::Invalid("theme")),
                });
            }
            if !matches!(fields.viewers, Lenient::Absent) {
                change.viewers = Some(match fields.viewers.value().as_deref() {
                    Some("on") => true,
                    Some("off") => false,
                    _ => return Err(Ignored::Invalid("viewers")),
                });
            }
            Ok(HostMessage::Config(change))
        }
        Some("lsh:obs") => {
            spoken(&fields.v)?;
            let port = fields
                .port
                .value()
                .filter(|p| p.fract() == 0.0 && (1.0..=65535.0).contains(p))
                .ok_or(Ignored::Invalid("port"))?;
            let password = match &fields.password {
                Lenient::Absent => None,
                Lenient::Value(password) => Some(password.as_str()),
                Lenient::Unreadable => return Err(Ignored::Invalid("password")),
            };
            Ok(HostMessage::Obs(ObsSettings::new(port as u16, password)))
        }
        _ => Err(Ignored::OtherType),
    }
}

/// Whether a host message's `v` is one this widget reads: none (a host
/// written before versions) or [`PROTOCOL_VERSION`].
fn spoken(v: &Lenient<f64>) -> Result<(), Ignored> {
    match v {
        Lenient::Absent => Ok(()),
        Lenient::Value(v) if *v == f64::from(PROTOCOL_VERSION) => Ok(()),
        Lenient::Value(_) | Lenient::Unreadable => Err(Ignored::UnknownVersion),
    }
}

// Outgoing messages are written by hand rather than through
// `serde_json::Value`: every field is a fixed word, a whole number or an
// ISO date, and serialising a `Value` would link float formatting into the
// WebAssembly bundle for nothing.

/// A message of `kind` with the protocol version and `fields` (JSON
/// members, each preceded by a comma). Every outgoing message is built
/// here, so every one carries `v`.
fn message(kind: &str, fields: &str) -> String {
    format!(r#"{{"type":"{kind}","v":{PROTOCOL_VERSION}{fields}}}"#)
}

fn whole(value: Option<f64>) -> String {
    match value {
        Some(v) if v.is_finite() => (v.round() as i64).to_string(),
        _ => "null".to_string(),
    }
}

fn count(value: Option<u64>) -> String {
    value.map_or_else(|| "null".to_string(), |v| v.to_string())
}

/// A JSON string literal for text we generate (words and ISO dates); any
/// character outside printable ASCII or needing an escape is dropped.
fn quoted(text: &str) -> String {
    let clean: String = text
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\' || *c == ' ')
        .collect();
    format!("\"{clean}\"")
}

/// `lsh:ready`.
pub fn ready() -> String {
    message("lsh:ready", "")
}

/// The fields of an `lsh:status` message.
#[derive(Clone, Debug, PartialEq)]
pub struct StatusMessage<'a> {
    /// `data-status` value.
    pub status: &'a str,
    /// `data-state` value.
    pub state: &'a str,
    /// Session average, ms.
    pub session_avg_ms: Option<f64>,
    /// Deviation, ms.
    pub deviation_ms: Option<f64>,
    /// The report's `updated_at`, epoch ms.
    pub updated_at_ms: Option<i64>,
    /// Drift trend, ms per minute.
    pub drift_trend_ms_per_min: Option<f64>,
    /// The slow-drift warning is showing.
    pub falling_behind: bool,
    /// Unique viewers shown, `None` while unknown or hidden.
    pub viewers: Option<u64>,
    /// Views shown, `None` while unknown or hidden.
    pub views: Option<u64>,
    /// OBS's side, when the link reads OBS.
    pub encoder: Option<&'a EncoderView>,
}

/// `lsh:status`.
pub fn status(status: &StatusMessage<'_>) -> String {
    let updated_at = status
        .updated_at_ms
        .map_or_else(|| "null".to_string(), |at| quoted(&format_iso_utc(at)));
    let fields = format!(
        r#","status":{},"state":{},"sessionAvgMs":{},"deviationMs":{},"updatedAt":{},"driftTrendMsPerMin":{},"fallingBehind":{},"viewers":{},"views":{}"#,
        quoted(status.status),
        quoted(status.state),
        whole(status.session_avg_ms),
        whole(status.deviation_ms),
        updated_at,
        whole(status.drift_trend_ms_per_min),
        status.falling_behind,
        count(status.viewers),
        count(status.views),
    );
    let fields = format!(r#"{fields},"encoder":{}"#, encoder(status.encoder));
    message("lsh:status", &fields)
}

/// The `encoder` object of `lsh:status`, or `null` when OBS is not read.
fn encoder(view: Option<&EncoderView>) -> String {
    let Some(view) = view.filter(|v| v.state != EncoderState::Off) else {
        return "null".to_string();
    };
    let tenths = |value: Option<f64>| match value.filter(|v| v.is_finite()) {
        Some(v) => {
            let mut out = String::new();
            push_number(&mut out, v);
            out
        }
        None => "null".to_string(),
    };
    let stats = &view.stats;
    let advice = if view.has_diagnosis() {
        quoted(view.diagnosis.sentence())
    } else {
        "null".to_string()
    };
    format!(
        r#"{{"state":{},"message":{},"diagnosis":{},"advice":{advice},"bitrateKbps":{},"congestionPercent":{},"networkDropPercent":{},"encoderSkipPercent":{},"cpuPercent":{}}}"#,
        quoted(view.state.as_str()),
        view.message
            .as_deref()
            .map_or_else(|| "null".to_string(), quoted),
        quoted(view.diagnosis.as_str()),
        tenths(stats.bitrate_kbps),
        tenths(stats.congestion.map(|c| c * 100.0)),
        tenths(stats.network.percent),
        tenths(stats.encoder_lag.percent),
        tenths(stats.cpu_percent),
    )
}

/// `lsh:token-expiring`.
pub fn token_expiring(expires_at_ms: f64) -> String {
    let expires_at = quoted(&format_iso_utc(expires_at_ms as i64));
    message(
        "lsh:token-expiring",
        &format!(r#","expiresAt":{expires_at}"#),
    )
}

/// `lsh:token-rejected`; `None` for a token refused before any request.
pub fn token_rejected(http_status: Option<u16>) -> String {
    let status = http_status.map_or_else(|| "null".to_string(), |s| s.to_string());
    message("lsh:token-rejected", &format!(r#","httpStatus":{status}"#))
}

/// `lsh:resize`.
pub fn resize(height_px: f64) -> String {
    let height = if height_px.is_finite() {
        height_px.ceil().max(0.0) as i64
    } else {
        0
    };
    message("lsh:resize", &format!(r#","height":{height}"#))
}

#[cfg(test)]
mod tests {
    use super::*;

    use serde_json::Value;

    #[test]
    fn token_messages_parse() {
        assert_eq!(
            parse_host_message(r#"{"type":"lsh:token","token":" a.b.c "}"#),
            Ok(HostMessage::Token("a.b.c".into()))
        );
        assert_eq!(
            parse_host_message(r#"{"type":"lsh:token","token":""}"#),
            Err(Ignored::Invalid("token"))
        );
        assert_eq!(
            parse_host_message(r#"{"type":"lsh:token","token":5}"#),
            Err(Ignored::Invalid("token"))
        );
    }

    #[test]
    fn config_messages_parse_and_clamp() {
        let parsed = parse_host_message(
            r#"{"type":"lsh:config","interval":0.2,"layout":"compact","theme":"dark"}"#,
        );
        assert_eq!(
            parsed,
            Ok(HostMessage::Config(ConfigChange {
                interval_ms: Some(1000.0),
                layout: Some(Layout::Compact),
                theme: Some(Theme::Dark),
                viewers: None,
            }))
        );
        assert_eq!(
            parse_host_message(r#"{"type":"lsh:config","interval":9999}"#),
            Ok(HostMessage::Config(ConfigChange {
                interval_ms: Some(300_000.0),
                ..Default::default()
            }))
        );
        assert_eq!(
            parse_host_message(r#"{"type":"lsh:config","layout":"tiny"}"#),
            Err(Ignored::Invalid("layout"))
        );
        assert_eq!(
            parse_host_message(r#"{"type":"lsh:config","interval":"5"}"#),
            Err(Ignored::Invalid("interval"))
        );
    }

    #[test]
    fn config_messages_turn_viewer_counts_on_and_off() {
        for (text, viewers) in [
            (r#"{"type":"lsh:config","viewers":"off"}"#, false),
            (r#"{"type":"lsh:config","viewers":"on"}"#, true),
        ] {
            assert_eq!(
                parse_host_message(text),
                Ok(HostMessage::Config(ConfigChange {
                    viewers: Some(viewers),
                    ..Default::default()
                })),
                "{text}"
            );
        }
        for text in [
            r#"{"type":"lsh:config","viewers":false}"#,
            r#"{"type":"lsh:config","viewers":"maybe"}"#,
        ] {
            assert_eq!(
                parse_host_message(text),
                Err(Ignored::Invalid("viewers")),
                "{text}"
            );
        }
    }

    #[test]
    fn null_settings_are_left_as_they_are() {
        assert_eq!(
            parse_host_message(
                r#"{"type":"lsh:config","layout":null,"theme":"dark","interval":null}"#
            ),
            Ok(HostMessage::Config(ConfigChange {
                theme: Some(Theme::Dark),
                ..Default::default()
            }))
        );
        assert_eq!(
            parse_host_message(r#"{"type":"lsh:config","theme":["dark"]}"#),
            Err(Ignored::Invalid("theme"))
        );
        assert_eq!(
            parse_host_message(r#"{"type":"lsh:token","token":null}"#),
            Err(Ignored::Invalid("token"))
        );
    }

    #[test]
    fn obs_messages_carry_a_port_and_maybe_a_password() {
        let cases = [
            (
                r#"{"type":"lsh:obs","port":4455,"password":"pw"}"#,
                Ok(HostMessage::Obs(ObsSettings::new(4455, Some("pw")))),
            ),
            (
                r#"{"type":"lsh:obs","v":1,"port":1}"#,
                Ok(HostMessage::Obs(ObsSettings::new(1, None))),
            ),
            (
                r#"{"type":"lsh:obs","port":65535,"password":null}"#,
                Ok(HostMessage::Obs(ObsSettings::new(65535, None))),
            ),
            (
                r#"{"type":"lsh:obs","port":4455,"password":""}"#,
                Ok(HostMessage::Obs(ObsSettings::new(4455, None))),
            ),
            (r#"{"type":"lsh:obs"}"#, Err(Ignored::Invalid("port"))),
            (
                r#"{"type":"lsh:obs","port":0}"#,
                Err(Ignored::Invalid("port")),
            ),
            (
                r#"{"type":"lsh:obs","port":65536}"#,
                Err(Ignored::Invalid("port")),
            ),
            (
                r#"{"type":"lsh:obs","port":4455.5}"#,
                Err(Ignored::Invalid("port")),
            ),
            (
                r#"{"type":"lsh:obs","port":"4455"}"#,
                Err(Ignored::Invalid("port")),
            ),
            (
                r#"{"type":"lsh:obs","port":4455,"password":7}"#,
                Err(Ignored::Invalid("password")),
            ),
            (
                r#"{"type":"lsh:obs","v":2,"port":4455}"#,
                Err(Ignored::UnknownVersion),
            ),
        ];
        for (text, expected) in cases {
            let parsed = parse_host_message(text);
            assert_eq!(parsed, expected, "{text}");
            assert!(!format!("{parsed:?}").contains("pw"), "{text}");
        }
    }

    #[test]
    fn foreign_and_broken_messages_are_ignored() {
        let cases = [
            ("", Ignored::NotAMessage),
            ("not json", Ignored::NotAMessage),
            ("[1]", Ignored::NotAMessage),
            ("\"lsh:token\"", Ignored::NotAMessage),
            (r#"{"type":"webpackOk"}"#, Ignored::OtherType),
            (r#"{"token":"a.b.c"}"#, Ignored::OtherType),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_host_message(text), Err(expected), "{text}");
        }
        let huge = format!(
            r#"{{"type":"lsh:token","token":"{}"}}"#,
            "a".repeat(MAX_MESSAGE_BYTES)
        );
        assert_eq!(parse_host_message(&huge), Err(Ignored::NotAMessage));
    }

    #[test]
    fn outgoing_messages_have_their_fields_and_no_token() {
        let text = status(&StatusMessage {
            status: "poor",
            state: "live",
            session_avg_ms: Some(384.4),
            deviation_ms: Some(-1500.0),
            updated_at_ms: Some(1_668_447_143_000),
            drift_trend_ms_per_min: None,
            falling_behind: false,
            viewers: Some(1204),
            views: None,
            encoder: None,
        });
        let value: Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(value["type"], "lsh:status");
        assert_eq!(value["sessionAvgMs"], 384);
        assert_eq!(value["deviationMs"], -1500);
        assert_eq!(value["updatedAt"], "2022-11-14T17:32:23Z");
        assert_eq!(value["driftTrendMsPerMin"], Value::Null);
        assert_eq!(value["viewers"], 1204);
        assert_eq!(value["views"], Value::Null);
        assert_eq!(value["encoder"], Value::Null);
        assert!(!text.contains("token"));
        assert_eq!(ready(), r#"{"type":"lsh:ready","v":1}"#);
        assert!(token_expiring(1_668_447_143_000.0).contains("2022-11-14T17:32:23Z"));
        assert!(token_rejected(Some(401)).contains("\"httpStatus\":401"));
        assert!(token_rejected(None).contains("\"httpStatus\":null"));
        assert_eq!(resize(120.2), r#"{"type":"lsh:resize","v":1,"height":121}"#);
        for text in [
            ready(),
            token_expiring(0.0),
            token_rejected(Some(403)),
            resize(f64::NAN),
        ] {
            assert!(serde_json::from_str::<Value>(&text).is_ok(), "{text}");
        }
    }

    #[test]
    fn status_carries_obs_s_side_when_the_link_reads_obs() {
        use crate::core::obs::{Diagnosis, EncoderStats, FrameCount};
        let base = |encoder| StatusMessage {
            status: "poor",
            state: "live",
            session_avg_ms: None,
            deviation_ms: None,
            updated_at_ms: None,
            drift_trend_ms_per_min: None,
            falling_behind: false,
            viewers: None,
            views: None,
            encoder,
        };
        let congested = EncoderView {
            state: EncoderState::Live,
            message: Some("OBS is streaming".into()),
            stats: EncoderStats {
                fresh: true,
                bitrate_kbps: Some(487.26),
                congestion: Some(1.0),
                network: FrameCount {
                    lost: 60,
                    total: 1800,
                    percent: Some(3.333),
                },
                cpu_percent: Some(18.04),
                ..EncoderStats::default()
            },
            diagnosis: Diagnosis::SlowNetwork,
        };
        let value: Value =
            serde_json::from_str(&status(&base(Some(&congested)))).unwrap_or_default();
        let encoder = &value["encoder"];
        assert_eq!(encoder["state"], "live");
        assert_eq!(encoder["message"], "OBS is streaming");
        assert_eq!(encoder["diagnosis"], "slow-network");
        assert_eq!(
            encoder["advice"],
            "The network between you and the ingest is too slow: lower the bitrate."
        );
        assert_eq!(encoder["bitrateKbps"], 487.3);
        assert_eq!(encoder["congestionPercent"], 100);
        assert_eq!(encoder["networkDropPercent"], 3.3);
        assert_eq!(encoder["encoderSkipPercent"], Value::Null);
        assert_eq!(encoder["cpuPercent"], 18);

        let refused = EncoderView {
            state: EncoderState::Refused,
            message: Some("OBS refused the password".into()),
            stats: EncoderStats::default(),
            diagnosis: Diagnosis::NoEncoderData,
        };
        let value: Value = serde_json::from_str(&status(&base(Some(&refused)))).unwrap_or_default();
        assert_eq!(value["encoder"]["state"], "refused");
        assert_eq!(value["encoder"]["message"], "OBS refused the password");
        assert_eq!(value["encoder"]["advice"], Value::Null);

        let off = EncoderView {
            state: EncoderState::Off,
            ..refused.clone()
        };
        let value: Value = serde_json::from_str(&status(&base(Some(&off)))).unwrap_or_default();
        assert_eq!(value["encoder"], Value::Null);
    }

    #[test]
    fn every_outgoing_message_carries_the_protocol_version() {
        let status_text = status(&StatusMessage {
            status: "good",
            state: "live",
            session_avg_ms: None,
            deviation_ms: Some(800.0),
            updated_at_ms: None,
            drift_trend_ms_per_min: Some(12.0),
            falling_behind: false,
            viewers: Some(3),
            views: Some(4),
            encoder: None,
        });
        for text in [
            ready(),
            status_text,
            token_expiring(1_668_447_143_000.0),
            token_rejected(None),
            resize(80.0),
        ] {
            let value: Value = serde_json::from_str(&text).unwrap_or_default();
            assert_eq!(value["v"], 1, "{text}");
            assert!(
                value["type"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("lsh:")),
                "{text}"
            );
        }
    }

    #[test]
    fn host_messages_of_version_one_or_without_a_version_are_read() {
        let token = Ok(HostMessage::Token("a.b.c".into()));
        for text in [
            r#"{"type":"lsh:token","token":"a.b.c"}"#,
            r#"{"type":"lsh:token","v":1,"token":"a.b.c"}"#,
            r#"{"v":1.0,"type":"lsh:token","token":"a.b.c"}"#,
            r#"{"type":"lsh:token","v":null,"token":"a.b.c"}"#,
        ] {
            assert_eq!(parse_host_message(text), token, "{text}");
        }
        assert_eq!(
            parse_host_message(r#"{"type":"lsh:config","v":1,"theme":"light"}"#),
            Ok(HostMessage::Config(ConfigChange {
                theme: Some(Theme::Light),
                ..Default::default()
            }))
        );
    }

    #[test]
    fn host_messages_of_another_version_are_ignored_whole() {
        for v in ["2", "99", "0", "-1", "1.5", "\"1\"", "[1]", "true", "{}"] {
            for text in [
                format!(r#"{{"type":"lsh:token","v":{v},"token":"a.b.c"}}"#),
                format!(r#"{{"type":"lsh:config","v":{v},"layout":"compact"}}"#),
            ] {
                assert_eq!(
                    parse_host_message(&text),
                    Err(Ignored::UnknownVersion),
                    "{text}"
                );
            }
        }
        // A later version's message that is broken too is still just of
        // another version; one that is not ours stays another type.
        assert_eq!(
            parse_host_message(r#"{"type":"lsh:config","v":2,"layout":"tiny"}"#),
            Err(Ignored::UnknownVersion)
        );
        assert_eq!(
            parse_host_message(r#"{"type":"lsh:hello","v":2}"#),
            Err(Ignored::OtherType)
        );
    }
}

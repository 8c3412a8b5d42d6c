//! obs-websocket v5 messages: reading what OBS sends, writing what the
//! monitor sends.
//!
//! Every message is a JSON object `{"op": <opcode>, "d": {...}}`. The monitor
//! reads four kinds ([`ServerMessage`]): `Hello` (op 0, with the
//! authentication challenge when OBS has a password), `Identified` (op 2),
//! `Event` (op 5) and `RequestResponse` (op 7). It writes two: `Identify`
//! (op 1) and `Request` (op 6), built as text by [`identify`] and
//! [`request`]. `Reidentify` (op 3) is never needed: the subscriptions (Outputs
//! events only) are fixed when identifying.
//!
//! Reading is typed and tolerant, like every other document the widget
//! reads: the message goes through [`crate::core::lenient`] into
//! `#[derive(Deserialize)]` structs whose every field is a
//! [`Lenient`] (a field of the wrong type reads as unreadable, a nested
//! value that is not an object as missing), and unknown fields are skipped.
//! So a newer OBS that adds fields, or a field of an odd type, costs only
//! that field; only text that is not JSON, a message over
//! [`MAX_MESSAGE_BYTES`], or a message that is not an object with a numeric
//! `op` is a [`ProtocolError`]. A repeated key keeps its first value, as
//! everywhere in [`crate::core::lenient`]. Nothing here panics.
//!
//! Why the shared reader and not visitors of its own: serde_json's parser
//! is generic over the visitor it drives, so each visitor written here
//! would link another copy of it into the page. Reading OBS's messages with
//! private visitors (a "loose" scalar, an "object or nothing" per nested
//! struct) cost about 4 KB gzip more than this.
//!
//! Counters (`outputBytes`, frame counts) must be finite and non-negative;
//! anything else reads as missing, so a bad value can never make a rate
//! negative or infinite.

use std::fmt;

use serde::Deserialize;

use crate::core::lenient::{self, Lenient};

/// The obs-websocket RPC version this client speaks.
pub const RPC_VERSION: u32 = 1;

/// Messages larger than this are refused unread. The largest message the
/// monitor asks for (a `GetStats` answer) is under 1 KiB.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// Opcodes (`op`).
pub mod op {
    /// Server → client, first message after the socket opens.
    pub const HELLO: u32 = 0;
    /// Client → server, the answer to `Hello`.
    pub const IDENTIFY: u32 = 1;
    /// Server → client, identification accepted.
    pub const IDENTIFIED: u32 = 2;
    /// Client → server, new session parameters (unused here).
    pub const REIDENTIFY: u32 = 3;
    /// Server → client, something happened in OBS.
    pub const EVENT: u32 = 5;
    /// Client → server, a request.
    pub const REQUEST: u32 = 6;
    /// Server → client, the answer to a request.
    pub const REQUEST_RESPONSE: u32 = 7;
}

/// `eventSubscriptions` bits.
pub mod subscription {
    /// `General` events (`ExitStarted`: OBS is quitting).
    pub const GENERAL: u32 = 1 << 0;
    /// `Outputs` events (`StreamStateChanged`).
    pub const OUTPUTS: u32 = 1 << 6;
    /// What the monitor subscribes to: the stream's state changes only,
    /// so OBS does not serialize scene, input or media events for it (a
    /// quitting OBS is seen from its socket closing).
    pub const MONITOR: u32 = OUTPUTS;
}

/// WebSocket close codes obs-websocket uses (`WebSocketCloseCode`).
pub mod close_code {
    /// The `Identify` carried no or a wrong `authentication`.
    pub const AUTHENTICATION_FAILED: u16 = 4009;
    /// The server cannot speak the requested RPC version.
    pub const UNSUPPORTED_RPC_VERSION: u16 = 4010;
    /// Kicked from OBS's session list: the protocol says not to reconnect.
    pub const SESSION_INVALIDATED: u16 = 4011;
    /// What a browser reports when no close frame arrived (refused
    /// connection, reset, the peer vanished).
    pub const ABNORMAL: u16 = 1006;
}

/// The request types the monitor and its tests send.
pub mod request_type {
    /// Stream output status: active, reconnecting, congestion, bytes, frames
    /// dropped by the network.
    pub const GET_STREAM_STATUS: &str = "GetStreamStatus";
    /// OBS-wide statistics: CPU, fps, render and encoder-lag skips.
    pub const GET_STATS: &str = "GetStats";
    /// Start streaming (test harness only).
    pub const START_STREAM: &str = "StartStream";
    /// Stop streaming (test harness only).
    pub const STOP_STREAM: &str = "StopStream";
}

/// A message from OBS.
#[derive(Clone, Debug, PartialEq)]
pub enum ServerMessage {
    /// op 0.
    Hello(Hello),
    /// op 2.
    Identified {
        /// `negotiatedRpcVersion`, when readable.
        rpc_version: Option<u32>,
    },
    /// op 5.
    Event(Event),
    /// op 7.
    Response(Response),
    /// Any other opcode (batch responses, future ones): ignored.
    Other {
        /// The opcode.
        op: u32,
    },
}

/// The `Hello` message.
#[derive(Clone, Debug, PartialEq)]
pub struct Hello {
    /// `obsWebSocketVersion`, e.g. `5.1.0`.
    pub obs_websocket_version: Option<String>,
    /// The RPC version OBS would like to use.
    pub rpc_version: Option<u32>,
    /// Present when OBS has a password.
    pub authentication: Option<Challenge>,
}

/// The authentication challenge of a `Hello`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// Per-connection random string.
    pub challenge: String,
    /// Per-password random string.
    pub salt: String,
}

/// An event the monitor reads.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// `StreamStateChanged`.
    StreamStateChanged {
        /// `outputActive`.
        active: Option<bool>,
        /// `outputState`.
        state: OutputState,
    },
    /// `ExitStarted`: OBS is quitting; the socket closes next.
    ExitStarted,
    /// Any other event type.
    Other(String),
}

/// `outputState` of `StreamStateChanged` (`ObsOutputState`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutputState {
    /// `OBS_WEBSOCKET_OUTPUT_STARTING`.
    Starting,
    /// `OBS_WEBSOCKET_OUTPUT_STARTED`.
    Started,
    /// `OBS_WEBSOCKET_OUTPUT_RECONNECTING`: the connection to the ingest
    /// dropped and OBS retries.
    Reconnecting,
    /// `OBS_WEBSOCKET_OUTPUT_RECONNECTED`: back; the stream counters
    /// restart at 0.
    Reconnected,
    /// `OBS_WEBSOCKET_OUTPUT_STOPPING`.
    Stopping,
    /// `OBS_WEBSOCKET_OUTPUT_STOPPED`.
    Stopped,
    /// Anything else (paused/resumed are for recordings), or missing.
    Other(String),
}

impl OutputState {
    /// Reads an `outputState` word.
    pub fn from_wire(word: &str) -> OutputState {
        match word {
            "OBS_WEBSOCKET_OUTPUT_STARTING" => OutputState::Starting,
            "OBS_WEBSOCKET_OUTPUT_STARTED" => OutputState::Started,
            "OBS_WEBSOCKET_OUTPUT_RECONNECTING" => OutputState::Reconnecting,
            "OBS_WEBSOCKET_OUTPUT_RECONNECTED" => OutputState::Reconnected,
            "OBS_WEBSOCKET_OUTPUT_STOPPING" => OutputState::Stopping,
            "OBS_WEBSOCKET_OUTPUT_STOPPED" => OutputState::Stopped,
            other => OutputState::Other(other.to_string()),
        }
    }
}

/// A `RequestResponse`.
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    /// `requestType`, mirrored from the request.
    pub request_type: String,
    /// `requestId`, mirrored from the request.
    pub request_id: String,
    /// `requestStatus.result`: false when OBS could not do it.
    pub ok: bool,
    /// `requestStatus.code` (100 is success).
    pub code: Option<u32>,
    /// `requestStatus.comment`, on errors.
    pub comment: Option<String>,
    /// `responseData`, read according to `requestType`.
    pub body: ResponseBody,
}

/// The `responseData` of the requests the monitor makes.
#[derive(Clone, Debug, PartialEq)]
pub enum ResponseBody {
    /// `GetStreamStatus`.
    StreamStatus(StreamStatus),
    /// `GetStats`.
    Stats(Stats),
    /// Any other request type, or a failed request.
    Other,
}

/// `GetStreamStatus` data: the stream output, seen from OBS.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StreamStatus {
    /// `outputActive`. Stays true while OBS reconnects (the event says
    /// otherwise).
    pub active: Option<bool>,
    /// `outputReconnecting`.
    pub reconnecting: Option<bool>,
    /// `outputCongestion`, 0 (none) to 1 (nothing gets out).
    pub congestion: Option<f64>,
    /// `outputBytes` sent since the output (re)connected.
    pub bytes: Option<f64>,
    /// `outputSkippedFrames`: frames dropped because the network could not
    /// take them.
    pub dropped_frames: Option<f64>,
    /// `outputTotalFrames`.
    pub total_frames: Option<f64>,
    /// `outputDuration`, ms.
    pub duration_ms: Option<f64>,
}

/// `GetStats` data: OBS as a whole.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    /// `cpuUsage`: OBS's share of the whole machine's CPU, percent.
    pub cpu_percent: Option<f64>,
    /// `activeFps`.
    pub active_fps: Option<f64>,
    /// `averageFrameRenderTime`, ms.
    pub average_render_ms: Option<f64>,
    /// `renderSkippedFrames`: frames the renderer missed (render lag).
    pub render_skipped_frames: Option<f64>,
    /// `renderTotalFrames`.
    pub render_total_frames: Option<f64>,
    /// `outputSkippedFrames`: frames skipped because the encoder could not
    /// keep up (encoder lag).
    pub encoder_skipped_frames: Option<f64>,
    /// `outputTotalFrames`.
    pub encoder_total_frames: Option<f64>,
}

/// Why a message could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtocolError {
    /// Larger than [`MAX_MESSAGE_BYTES`].
    TooLarge,
    /// Not a JSON object.
    NotJson,
    /// No numeric `op`.
    NoOpcode,
    /// A `RequestResponse` without `requestId`, or an event without
    /// `eventType`.
    MissingField(&'static str),
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::TooLarge => f.write_str("message too large"),
            ProtocolError::NotJson => f.write_str("message is not a JSON object"),
            ProtocolError::NoOpcode => f.write_str("message has no opcode"),
            ProtocolError::MissingField(field) => write!(f, "message has no {field}"),
        }
    }
}

/// Reads one text message from OBS.
pub fn parse(text: &str) -> Result<ServerMessage, ProtocolError> {
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(ProtocolError::TooLarge);
    }
    let envelope = lenient::from_str::<Envelope>(text)
        .ok()
        .flatten()
        .ok_or(ProtocolError::NotJson)?;
    let op = whole(&envelope.op).ok_or(ProtocolError::NoOpcode)?;
    let d = envelope.d.value().unwrap_or_default();
    Ok(match op {
        op::HELLO => ServerMessage::Hello(Hello {
            obs_websocket_version: d.obs_web_socket_version.value(),
            rpc_version: whole(&d.rpc_version),
            authentication: d.authentication.value().and_then(|a| {
                Some(Challenge {
                    challenge: a.challenge.value()?,
                    salt: a.salt.value()?,
                })
            }),
        }),
        op::IDENTIFIED => ServerMessage::Identified {
            rpc_version: whole(&d.negotiated_rpc_version),
        },
        op::EVENT => {
            let event_type = d
                .event_type
                .value()
                .ok_or(ProtocolError::MissingField("eventType"))?;
            let data = d.event_data.value().unwrap_or_default();
            ServerMessage::Event(match event_type.as_str() {
                "StreamStateChanged" => Event::StreamStateChanged {
                    active: flag(&data.output_active),
                    state: OutputState::from_wire(&data.output_state.value().unwrap_or_default()),
                },
                "ExitStarted" => Event::ExitStarted,
                _ => Event::Other(event_type),
            })
        }
        op::REQUEST_RESPONSE => {
            let request_id = d
                .request_id
                .value()
                .ok_or(ProtocolError::MissingField("requestId"))?;
            let request_type = d.request_type.value().unwrap_or_default();
            let status = d.request_status.value().unwrap_or_default();
            let ok = flag(&status.result) == Some(true);
            let data = d.response_data.value().unwrap_or_default();
            let body = match request_type.as_str() {
                _ if !ok => ResponseBody::Other,
                request_type::GET_STREAM_STATUS => ResponseBody::StreamStatus(StreamStatus {
                    active: flag(&data.output_active),
                    reconnecting: flag(&data.output_reconnecting),
                    congestion: counter(&data.output_congestion).map(|c| c.min(1.0)),
                    bytes: counter(&data.output_bytes),
                    dropped_frames: counter(&data.output_skipped_frames),
                    total_frames: counter(&data.output_total_frames),
                    duration_ms: counter(&data.output_duration),
                }),
                request_type::GET_STATS => ResponseBody::Stats(Stats {
                    cpu_percent: counter(&data.cpu_usage),
                    active_fps: counter(&data.active_fps),
                    average_render_ms: counter(&data.average_frame_render_time),
                    render_skipped_frames: counter(&data.render_skipped_frames),
                    render_total_frames: counter(&data.render_total_frames),
                    encoder_skipped_frames: counter(&data.output_skipped_frames),
                    encoder_total_frames: counter(&data.output_total_frames),
                }),
                _ => ResponseBody::Other,
            };
            ServerMessage::Response(Response {
                request_type,
                request_id,
                ok,
                code: whole(&status.code),
                comment: status.comment.value(),
                body,
            })
        }
        op => ServerMessage::Other { op },
    })
}

/// The `Identify` message: RPC version 1, the authentication string when
/// OBS asked for one (see [`super::auth`]), and the monitor's event
/// subscriptions.
pub fn identify(authentication: Option<&str>) -> String {
    let authentication = authentication
        .map(|auth| format!(r#","authentication":{}"#, json_string(auth)))
        .unwrap_or_default();
    format!(
        r#"{{"op":{},"d":{{"rpcVersion":{RPC_VERSION}{authentication},"eventSubscriptions":{}}}}}"#,
        op::IDENTIFY,
        subscription::MONITOR
    )
}

/// A `Request` without request data.
pub fn request(request_type: &str, request_id: &str) -> String {
    format!(
        r#"{{"op":{},"d":{{"requestType":{},"requestId":{}}}}}"#,
        op::REQUEST,
        json_string(request_type),
        json_string(request_id)
    )
}

/// `text` as a JSON string literal (the outgoing messages are built by hand
/// so the browser build does not link a JSON serializer for three strings).
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A whole, non-negative number that fits a `u32` (opcodes, versions,
/// status codes).
fn whole(value: &Lenient<f64>) -> Option<u32> {
    number(value)
        .filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n <= f64::from(u32::MAX))
        .map(|n| n as u32)
}

/// A finite, non-negative number.
fn counter(value: &Lenient<f64>) -> Option<f64> {
    number(value).filter(|n| n.is_finite() && *n >= 0.0)
}

fn number(value: &Lenient<f64>) -> Option<f64> {
    match value {
        Lenient::Value(number) => Some(*number),
        Lenient::Absent | Lenient::Unreadable => None,
    }
}

/// A JSON boolean.
fn flag(value: &Lenient<bool>) -> Option<bool> {
    match value {
        Lenient::Value(flag) => Some(*flag),
        Lenient::Absent | Lenient::Unreadable => None,
    }
}

// --- the wire shapes -------------------------------------------------------

#[derive(Deserialize)]
struct Envelope {
    op: Lenient<f64>,
    d: Lenient<Data>,
}

/// The fields of every `d` the monitor reads, in one struct: each opcode
/// fills its own and leaves the rest missing.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Data {
    obs_web_socket_version: Lenient<String>,
    rpc_version: Lenient<f64>,
    authentication: Lenient<AuthenticationData>,
    negotiated_rpc_version: Lenient<f64>,
    event_type: Lenient<String>,
    event_data: Lenient<Fields>,
    request_type: Lenient<String>,
    request_id: Lenient<String>,
    request_status: Lenient<RequestStatusData>,
    response_data: Lenient<Fields>,
}

#[derive(Deserialize, Default)]
struct AuthenticationData {
    challenge: Lenient<String>,
    salt: Lenient<String>,
}

#[derive(Deserialize, Default)]
struct RequestStatusData {
    result: Lenient<bool>,
    code: Lenient<f64>,
    comment: Lenient<String>,
}

/// Event and response data fields the monitor reads.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Fields {
    output_active: Lenient<bool>,
    output_state: Lenient<String>,
    output_reconnecting: Lenient<bool>,
    output_congestion: Lenient<f64>,
    output_bytes: Lenient<f64>,
    output_skipped_frames: Lenient<f64>,
    output_total_frames: Lenient<f64>,
    output_duration: Lenient<f64>,
    cpu_usage: Lenient<f64>,
    active_fps: Lenient<f64>,
    average_frame_render_time: Lenient<f64>,
    render_skipped_frames: Lenient<f64>,
    render_total_frames: Lenient<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `Hello` of obs-websocket's protocol documentation.
    pub(crate) const DOC_HELLO: &str = r#"{
      "op": 0,
      "d": {
        "obsWebSocketVersion": "5.0.0",
        "rpcVersion": 1,
        "authentication": {
          "challenge": "+IxH4CnCiqpX1rM9scsNynZzbOe4KhDeYcTNS3PDaeY=",
          "salt": "lM1GncleQOaCu9lT1yeUZhFYnqhsLLP1G5lAGo3ixaI="
        }
      }
    }"#;

    #[test]
    fn reads_the_documented_hello_with_its_challenge() {
        assert_eq!(
            parse(DOC_HELLO),
            Ok(ServerMessage::Hello(Hello {
                obs_websocket_version: Some("5.0.0".into()),
                rpc_version: Some(1),
                authentication: Some(Challenge {
                    challenge: "+IxH4CnCiqpX1rM9scsNynZzbOe4KhDeYcTNS3PDaeY=".into(),
                    salt: "lM1GncleQOaCu9lT1yeUZhFYnqhsLLP1G5lAGo3ixaI=".into(),
                }),
            }))
        );
    }

    #[test]
    fn a_hello_without_a_password_has_no_challenge() {
        let hello = parse(r#"{"op":0,"d":{"obsWebSocketVersion":"5.1.0","rpcVersion":1}}"#);
        let Ok(ServerMessage::Hello(hello)) = hello else {
            panic!("not a hello: {hello:?}");
        };
        assert_eq!(hello.authentication, None);
        assert_eq!(hello.obs_websocket_version.as_deref(), Some("5.1.0"));
    }

    #[test]
    fn a_challenge_with_a_field_of_the_wrong_type_is_no_challenge() {
        let hello =
            parse(r#"{"op":0,"d":{"rpcVersion":1,"authentication":{"challenge":5,"salt":"s"}}}"#);
        let Ok(ServerMessage::Hello(hello)) = hello else {
            panic!("not a hello: {hello:?}");
        };
        assert_eq!(hello.authentication, None);
    }

    #[test]
    fn reads_identified() {
        assert_eq!(
            parse(r#"{"op":2,"d":{"negotiatedRpcVersion":1}}"#),
            Ok(ServerMessage::Identified {
                rpc_version: Some(1)
            })
        );
    }

    #[test]
    fn reads_stream_state_changes() {
        let cases = [
            (
                "OBS_WEBSOCKET_OUTPUT_STARTING",
                false,
                OutputState::Starting,
            ),
            ("OBS_WEBSOCKET_OUTPUT_STARTED", true, OutputState::Started),
            (
                "OBS_WEBSOCKET_OUTPUT_RECONNECTING",
                false,
                OutputState::Reconnecting,
            ),
            (
                "OBS_WEBSOCKET_OUTPUT_RECONNECTED",
                true,
                OutputState::Reconnected,
            ),
            (
                "OBS_WEBSOCKET_OUTPUT_STOPPING",
                false,
                OutputState::Stopping,
            ),
            ("OBS_WEBSOCKET_OUTPUT_STOPPED", false, OutputState::Stopped),
            (
                "OBS_WEBSOCKET_OUTPUT_PAUSED",
                true,
                OutputState::Other("OBS_WEBSOCKET_OUTPUT_PAUSED".into()),
            ),
        ];
        for (word, active, state) in cases {
            let text = format!(
                r#"{{"op":5,"d":{{"eventType":"StreamStateChanged","eventIntent":64,"eventData":{{"outputActive":{active},"outputState":"{word}"}}}}}}"#
            );
            assert_eq!(
                parse(&text),
                Ok(ServerMessage::Event(Event::StreamStateChanged {
                    active: Some(active),
                    state
                })),
                "{word}"
            );
        }
    }

    #[test]
    fn reads_exit_started_and_passes_other_events_by_name() {
        assert_eq!(
            parse(r#"{"op":5,"d":{"eventType":"ExitStarted","eventIntent":1}}"#),
            Ok(ServerMessage::Event(Event::ExitStarted))
        );
        assert_eq!(
            parse(
                r#"{"op":5,"d":{"eventType":"SceneNameChanged","eventData":{"x":[1,{"y":null}]}}}"#
            ),
            Ok(ServerMessage::Event(Event::Other(
                "SceneNameChanged".into()
            )))
        );
    }

    const STREAM_STATUS: &str = r#"{"op":7,"d":{"requestType":"GetStreamStatus","requestId":"s-1",
        "requestStatus":{"result":true,"code":100},
        "responseData":{"outputActive":true,"outputReconnecting":false,"outputTimecode":"00:00:10.033",
        "outputDuration":10033,"outputCongestion":0.0,"outputBytes":652331,"outputSkippedFrames":0,"outputTotalFrames":306}}}"#;

    const STATS: &str = r#"{"op":7,"d":{"requestType":"GetStats","requestId":"t-1",
        "requestStatus":{"result":true,"code":100},
        "responseData":{"activeFps":30.000000300000007,"availableDiskSpace":12345.5,"averageFrameRenderTime":1.2,
        "cpuUsage":18.4,"memoryUsage":210.3,"outputSkippedFrames":2,"outputTotalFrames":900,
        "renderSkippedFrames":1,"renderTotalFrames":901,"webSocketSessionIncomingMessages":7,"webSocketSessionOutgoingMessages":8}}}"#;

    #[test]
    fn reads_a_stream_status_response() {
        let Ok(ServerMessage::Response(response)) = parse(STREAM_STATUS) else {
            panic!("not a response");
        };
        assert_eq!(response.request_id, "s-1");
        assert!(response.ok);
        assert_eq!(response.code, Some(100));
        assert_eq!(
            response.body,
            ResponseBody::StreamStatus(StreamStatus {
                active: Some(true),
                reconnecting: Some(false),
                congestion: Some(0.0),
                bytes: Some(652_331.0),
                dropped_frames: Some(0.0),
                total_frames: Some(306.0),
                duration_ms: Some(10_033.0),
            })
        );
    }

    #[test]
    fn reads_a_stats_response_with_encoder_lag_apart_from_network_drops() {
        let Ok(ServerMessage::Response(response)) = parse(STATS) else {
            panic!("not a response");
        };
        let ResponseBody::Stats(stats) = response.body else {
            panic!("not stats");
        };
        assert_eq!(stats.cpu_percent, Some(18.4));
        assert_eq!(stats.encoder_skipped_frames, Some(2.0));
        assert_eq!(stats.encoder_total_frames, Some(900.0));
        assert_eq!(stats.render_skipped_frames, Some(1.0));
        assert_eq!(stats.render_total_frames, Some(901.0));
        assert_eq!(stats.average_render_ms, Some(1.2));
    }

    #[test]
    fn odd_values_cost_only_their_field() {
        let text = r#"{"op":7,"d":{"requestType":"GetStreamStatus","requestId":"s-2",
            "requestStatus":{"result":true,"code":"100"},
            "responseData":{"outputActive":"yes","outputCongestion":7,"outputBytes":-5,
            "outputSkippedFrames":null,"outputTotalFrames":[1],"outputDuration":{"ms":1},"extra":{"deep":[{}]}}}}"#;
        let Ok(ServerMessage::Response(response)) = parse(text) else {
            panic!("not a response");
        };
        assert_eq!(response.code, None);
        assert_eq!(
            response.body,
            ResponseBody::StreamStatus(StreamStatus {
                active: None,
                reconnecting: None,
                congestion: Some(1.0),
                bytes: None,
                dropped_frames: None,
                total_frames: None,
                duration_ms: None,
            })
        );
    }

    #[test]
    fn a_failed_request_has_no_body() {
        let text = r#"{"op":7,"d":{"requestType":"GetStreamStatus","requestId":"s-3",
            "requestStatus":{"result":false,"code":501,"comment":"not running"},"responseData":{"outputActive":true}}}"#;
        let Ok(ServerMessage::Response(response)) = parse(text) else {
            panic!("not a response");
        };
        assert!(!response.ok);
        assert_eq!(response.code, Some(501));
        assert_eq!(response.comment.as_deref(), Some("not running"));
        assert_eq!(response.body, ResponseBody::Other);
    }

    #[test]
    fn data_that_is_not_an_object_reads_as_empty() {
        assert_eq!(
            parse(r#"{"op":2,"d":"nope"}"#),
            Ok(ServerMessage::Identified { rpc_version: None })
        );
        assert_eq!(
            parse(r#"{"op":9,"d":[]}"#),
            Ok(ServerMessage::Other { op: 9 })
        );
    }

    #[test]
    fn malformed_messages_are_errors_not_panics() {
        let cases = [
            ("", ProtocolError::NotJson),
            ("<html>", ProtocolError::NotJson),
            ("[1,2]", ProtocolError::NotJson),
            ("42", ProtocolError::NotJson),
            (r#"{"op":1e400}"#, ProtocolError::NotJson),
            (r#"{"d":{}}"#, ProtocolError::NoOpcode),
            (r#"{"op":"0"}"#, ProtocolError::NoOpcode),
            (r#"{"op":-1}"#, ProtocolError::NoOpcode),
            (r#"{"op":0.5}"#, ProtocolError::NoOpcode),
            (
                r#"{"op":5,"d":{}}"#,
                ProtocolError::MissingField("eventType"),
            ),
            (
                r#"{"op":7,"d":{"requestType":"GetStats"}}"#,
                ProtocolError::MissingField("requestId"),
            ),
        ];
        for (text, error) in cases {
            assert_eq!(parse(text), Err(error), "{text}");
        }
        let huge = format!(
            r#"{{"op":5,"d":{{"eventType":"{}"}}}}"#,
            "x".repeat(MAX_MESSAGE_BYTES)
        );
        assert_eq!(parse(&huge), Err(ProtocolError::TooLarge));
    }

    #[test]
    fn a_repeated_key_keeps_its_first_value() {
        assert_eq!(
            parse(r#"{"op":2,"op":0,"d":{"negotiatedRpcVersion":1,"negotiatedRpcVersion":"x"}}"#),
            Ok(ServerMessage::Identified {
                rpc_version: Some(1)
            })
        );
    }

    #[test]
    fn identify_carries_version_authentication_and_subscriptions() {
        assert_eq!(
            identify(None),
            r#"{"op":1,"d":{"rpcVersion":1,"eventSubscriptions":64}}"#
        );
        assert_eq!(
            identify(Some("1Ct943GAT+6YQUUX47Ia/ncufilbe6+oD6lY+5kaCu4=")),
            r#"{"op":1,"d":{"rpcVersion":1,"authentication":"1Ct943GAT+6YQUUX47Ia/ncufilbe6+oD6lY+5kaCu4=","eventSubscriptions":64}}"#
        );
    }

    #[test]
    fn built_messages_are_valid_json_whatever_the_strings() {
        let text = request("Get\"Stats\\", "id\n\u{1}");
        let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(value["op"], 6);
        assert_eq!(value["d"]["requestType"], "Get\"Stats\\");
        assert_eq!(value["d"]["requestId"], "id\n\u{1}");
        let value: serde_json::Value =
            serde_json::from_str(&identify(Some("\"}"))).unwrap_or_default();
        assert_eq!(value["d"]["authentication"], "\"}");
    }
}

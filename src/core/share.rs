//! Shared polling across tabs, as plain data: what one tab tells the others.
//!
//! A streamer often has the same monitor open in several places of one
//! browser (a control panel tab, an OBS dock, a producer's tab). They share
//! one poller: the tab holding a Web Lock named by [`share_key`] polls and
//! broadcasts what each request returned on a `BroadcastChannel` of the same
//! name; the others render those results instead of polling. When the
//! leading tab closes, the browser grants the lock to the next tab waiting
//! for it, which polls when the last broadcast said the next poll was due,
//! so the stream of samples goes on without a longer gap (`src/app/share.rs`
//! holds the browser glue).
//!
//! Design decisions a newcomer asks about:
//! - **What is shared is the response, not the widget's conclusions.** A
//!   2xx body goes out as received (already bounded by
//!   [`MAX_BODY_BYTES`]) and every tab parses it with the same
//!   [`parse_report`]; failures go out as their kind. Each tab keeps its own
//!   history, alerts and summary, so a follower behaves exactly as if it had
//!   made the request itself.
//! - **The token is never shared.** Nothing here carries it, and a 4xx (a
//!   verdict on the leader's token, not on the stream) is not broadcast: the
//!   leader stops and lets the lock go, and the next tab tries its own token.
//!   Nor is the leader's token an alibi for a follower's: a follower shows
//!   shared results only once a request of its own has been answered 2xx,
//!   and proves its token again every five minutes
//!   ([`crate::core::poll`]).
//! - **Keyed by endpoint and stream.** Tabs watching another stream, or the
//!   same stream through another endpoint, never mix. The key uses the
//!   token's `sub`, which the widget reads without verifying; a channel only
//!   reaches pages of the widget's own origin, so this is no new trust.
//! - **Pace is the leader's.** A follower with another `interval` shows the
//!   leader's cadence; `next_in_ms` tells followers when the next request is
//!   due, which is also when a follower that takes over makes its first one.

use serde::Deserialize;

use crate::core::api::{parse_report, ResponseError, MAX_BODY_BYTES};
use crate::core::lenient::{self, Lenient};
use crate::core::poll::Outcome;

/// The lock and channel name for a stream watched through an endpoint.
pub fn share_key(endpoint_base: &str, stream_id: &str) -> String {
    format!("live-stream-health:v1:poll:{endpoint_base}:{stream_id}")
}

/// What the shell learned from one request, before interpretation.
#[derive(Clone, Debug, PartialEq)]
pub enum Response {
    /// A 2xx response and its body.
    Body(String),
    /// A 2xx response whose declared length was over [`MAX_BODY_BYTES`].
    TooLarge {
        /// The declared length.
        bytes: usize,
    },
    /// Another status, with `Retry-After` already in milliseconds.
    Http {
        /// The status code.
        status: u16,
        /// `Retry-After`, milliseconds from when it was read.
        retry_after_ms: Option<f64>,
    },
    /// No response (connection, DNS, CORS).
    Network,
    /// No response in time.
    Timeout,
}

impl Response {
    /// What the health poller makes of it.
    pub fn outcome(&self) -> Outcome {
        self.outcome_with(parse_report)
    }

    /// What a poller whose bodies `parse` reads makes of it (the viewer
    /// counts, [`crate::core::counts`], travel the same way).
    pub fn outcome_with<R>(
        &self,
        parse: impl FnOnce(&str) -> Result<R, ResponseError>,
    ) -> Outcome<R> {
        match self {
            Response::Body(body) => match parse(body) {
                Ok(report) => Outcome::Report(report),
                Err(error) => Outcome::BadBody(error),
            },
            Response::TooLarge { bytes } => {
                Outcome::BadBody(ResponseError::TooLarge { bytes: *bytes })
            }
            Response::Http {
                status,
                retry_after_ms,
            } => Outcome::Http {
                status: *status,
                retry_after_ms: *retry_after_ms,
            },
            Response::Network => Outcome::Network,
            Response::Timeout => Outcome::Timeout,
        }
    }

    /// Whether other tabs may use it: everything but a verdict on the
    /// leader's own token (a 4xx other than 429).
    pub fn is_shareable(&self) -> bool {
        !matches!(self, Response::Http { status, .. } if (400..500).contains(status) && *status != 429)
    }
}

/// A message on the shared channel.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    /// A tab started following: the leader answers with its latest result.
    Hello,
    /// The leader's latest request settled.
    Result {
        /// What came back.
        response: Response,
        /// Milliseconds from now until the leader's next request.
        next_in_ms: f64,
    },
}

/// Longest message accepted: a body at its cap, escaped, plus the frame.
pub const MAX_MESSAGE_BYTES: usize = 2 * MAX_BODY_BYTES + 256;

/// Builds the text of a message. `None` for a response that is not shared.
pub fn encode(message: &Message) -> Option<String> {
    let (response, next_in_ms) = match message {
        Message::Hello => return Some(r#"{"type":"hello"}"#.to_string()),
        Message::Result {
            response,
            next_in_ms,
        } => (response, whole(*next_in_ms)),
    };
    if !response.is_shareable() {
        return None;
    }
    let fields = match response {
        Response::Body(body) => format!(r#""kind":"body","body":{}"#, json_string(body)),
        Response::TooLarge { bytes } => format!(r#""kind":"too-large","bytes":{bytes}"#),
        Response::Http {
            status,
            retry_after_ms,
        } => match retry_after_ms {
            Some(wait) => format!(
                r#""kind":"http","status":{status},"retryAfterMs":{}"#,
                whole(*wait)
            ),
            None => format!(r#""kind":"http","status":{status}"#),
        },
        Response::Network => r#""kind":"network""#.to_string(),
        Response::Timeout => r#""kind":"timeout""#.to_string(),
    };
    Some(format!(
        r#"{{"type":"result",{fields},"nextInMs":{next_in_ms}}}"#
    ))
}

/// `text` as a JSON string literal. Written here rather than with
/// `serde_json::to_string`, whose serializer would be linked into the
/// WebAssembly for this one string.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let code = u32::from(c) as usize;
                out.push_str("\\u00");
                out.push(char::from(HEX[code >> 4]));
                out.push(char::from(HEX[code & 15]));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A non-negative whole number of milliseconds (no float formatting).
fn whole(ms: f64) -> u64 {
    if ms.is_finite() && ms > 0.0 {
        ms.round().min(1e15) as u64
    } else {
        0
    }
}

/// Why a message was not used. Followers drop these silently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unusable;

/// The fields of any message on the channel, as [`encode`] writes them.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fields {
    /// `hello` or `result`.
    #[serde(rename = "type")]
    message: Lenient<String>,
    /// What kind of response a result carries.
    kind: Lenient<String>,
    body: Lenient<String>,
    bytes: Lenient<f64>,
    status: Lenient<f64>,
    /// Absent or `null`: no `Retry-After`.
    retry_after_ms: Lenient<f64>,
    next_in_ms: Lenient<f64>,
}

/// Reads a message from the channel. Only pages of the widget's origin can
/// post there, but it is still input: anything odd is [`Unusable`].
pub fn decode(text: &str) -> Result<Message, Unusable> {
    if text.len() > MAX_MESSAGE_BYTES {
        return Err(Unusable);
    }
    let fields: Option<Fields> = lenient::from_str(text).map_err(|_| Unusable)?;
    let fields = fields.ok_or(Unusable)?;
    match fields.message.value().as_deref() {
        Some("hello") => return Ok(Message::Hello),
        Some("result") => {}
        _ => return Err(Unusable),
    }
    let next_in_ms = bounded_whole(fields.next_in_ms).ok_or(Unusable)?;
    let response = match fields.kind.value().as_deref() {
        Some("body") => Response::Body(fields.body.value().ok_or(Unusable)?),
        Some("too-large") => Response::TooLarge {
            bytes: bounded_whole(fields.bytes).ok_or(Unusable)? as usize,
        },
        Some("http") => {
            let status = fields.status.value().ok_or(Unusable)?;
            if !(100.0..=599.0).contains(&status) || status.fract() != 0.0 {
                return Err(Unusable);
            }
            let retry_after_ms = match fields.retry_after_ms {
                Lenient::Absent => None,
                wait => Some(bounded_whole(wait).ok_or(Unusable)?),
            };
            Response::Http {
                status: status as u16,
                retry_after_ms,
            }
        }
        Some("network") => Response::Network,
        Some("timeout") => Response::Timeout,
        _ => return Err(Unusable),
    };
    if !response.is_shareable() {
        return Err(Unusable);
    }
    Ok(Message::Result {
        response,
        next_in_ms,
    })
}

/// A whole, non-negative number up to 86,400,000 (a day in milliseconds,
/// and more than any body size the widget reads), as an `f64`.
fn bounded_whole(value: Lenient<f64>) -> Option<f64> {
    value
        .value()
        .filter(|n| (0.0..=86_400_000.0).contains(n) && n.fract() == 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::status::Status;

    fn result(response: Response, next_in_ms: f64) -> Message {
        Message::Result {
            response,
            next_in_ms,
        }
    }

    #[test]
    fn keys_separate_streams_and_endpoints() {
        let a = share_key("https://stats.mux.com", "stream-a");
        assert_eq!(
            a,
            "live-stream-health:v1:poll:https://stats.mux.com:stream-a"
        );
        assert_ne!(a, share_key("https://stats.mux.com", "stream-b"));
        assert_ne!(a, share_key("http://127.0.0.1:8787", "stream-a"));
    }

    #[test]
    fn every_shared_message_reads_back_as_written() {
        let body = r#"{"data":[{"ingest_health":{"updated_at":"2022-11-14T17:32:23","stream_drift_session_avg":384,"stream_drift_deviation_from_rolling_avg":12,"status":"excellent"}}]}"#;
        let messages = [
            Message::Hello,
            result(Response::Body(body.to_string()), 5000.0),
            result(
                Response::Body("<html>\"quoted\"\n\u{2028}</html>".into()),
                0.0,
            ),
            result(Response::TooLarge { bytes: 5_000_000 }, 8000.0),
            result(
                Response::Http {
                    status: 503,
                    retry_after_ms: None,
                },
                3000.0,
            ),
            result(
                Response::Http {
                    status: 429,
                    retry_after_ms: Some(30_000.0),
                },
                30_000.0,
            ),
            result(Response::Network, 2000.0),
            result(Response::Timeout, 4000.0),
        ];
        for message in messages {
            let text = encode(&message).expect("shareable");
            assert_eq!(decode(&text), Ok(message.clone()), "{text}");
        }
    }

    #[test]
    fn a_shared_body_means_the_same_to_every_tab() {
        let body = r#"{"data":[{"ingest_health":{"updated_at":"2022-11-14T17:32:23","stream_drift_session_avg":384,"stream_drift_deviation_from_rolling_avg":12,"status":"excellent"}}]}"#;
        let text = encode(&result(Response::Body(body.into()), 1000.0)).expect("shareable");
        let Ok(Message::Result { response, .. }) = decode(&text) else {
            panic!("not read back: {text}");
        };
        let Outcome::Report(report) = response.outcome() else {
            panic!("not a report");
        };
        assert_eq!(report.status, Status::Excellent);
        assert_eq!(report.session_avg_ms, Some(384.0));
        assert_eq!(
            Response::Body("<html>".into()).outcome(),
            Outcome::BadBody(ResponseError::NotJson)
        );
    }

    #[test]
    fn verdicts_on_the_leaders_token_are_not_shared() {
        for status in [400, 401, 403, 404, 410] {
            let message = result(
                Response::Http {
                    status,
                    retry_after_ms: None,
                },
                0.0,
            );
            assert_eq!(encode(&message), None, "{status}");
            let forged =
                format!(r#"{{"type":"result","kind":"http","status":{status},"nextInMs":0}}"#);
            assert_eq!(decode(&forged), Err(Unusable), "{status}");
        }
        assert!(Response::Http {
            status: 429,
            retry_after_ms: None
        }
        .is_shareable());
    }

    #[test]
    fn odd_messages_are_unusable() {
        let cases = [
            "",
            "not json",
            "[]",
            r#"{"type":"lsh:token","token":"a.b.c"}"#,
            r#"{"type":"result","kind":"body","nextInMs":1000}"#,
            r#"{"type":"result","kind":"body","body":7,"nextInMs":1000}"#,
            r#"{"type":"result","kind":"network"}"#,
            r#"{"type":"result","kind":"network","nextInMs":-5}"#,
            r#"{"type":"result","kind":"network","nextInMs":1.5}"#,
            r#"{"type":"result","kind":"network","nextInMs":1e12}"#,
            r#"{"type":"result","kind":"teapot","nextInMs":1000}"#,
            r#"{"type":"result","kind":"http","status":99,"nextInMs":1000}"#,
            r#"{"type":"result","kind":"http","status":"503","nextInMs":1000}"#,
            r#"{"type":"result","kind":"http","status":503.5,"nextInMs":1000}"#,
            r#"{"type":"result","kind":"http","status":503,"retryAfterMs":"soon","nextInMs":1}"#,
            r#"{"type":"result","kind":"too-large","bytes":-1,"nextInMs":1000}"#,
        ];
        for text in cases {
            assert_eq!(decode(text), Err(Unusable), "{text}");
        }
        let huge = format!(
            r#"{{"type":"result","kind":"body","body":"{}","nextInMs":1}}"#,
            "x".repeat(MAX_MESSAGE_BYTES)
        );
        assert_eq!(decode(&huge), Err(Unusable));
    }

    #[test]
    fn bodies_read_back_exactly_through_a_json_parser() {
        for text in [
            "",
            "plain",
            "q\"b\\s",
            "\u{0}\u{1f}\n\t\r",
            "é ✓ \u{2028} 😀",
        ] {
            let ours = json_string(text);
            assert_eq!(
                serde_json::from_str::<String>(&ours).ok().as_deref(),
                Some(text)
            );
        }
    }

    #[test]
    fn odd_delays_are_sent_as_whole_non_negative_bounded_whole() {
        for (delay, sent) in [(-3.0, 0), (f64::NAN, 0), (1234.4, 1234), (1234.6, 1235)] {
            let text = encode(&result(Response::Network, delay)).expect("shareable");
            assert!(text.contains(&format!(r#""nextInMs":{sent}}}"#)), "{text}");
        }
    }
}

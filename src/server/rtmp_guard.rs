//! What may reach `rml_rtmp`: a check of every byte an encoder sends, run
//! before the bytes are handed to its `ServerSession`.
//!
//! `rml_rtmp` 0.8 trusts its input in ways that let one unauthenticated
//! connection take the whole stand-in down:
//! - its AMF0 decoder (`rml_amf0`) recurses once per nesting level, so a
//!   data message of arrays nested a few thousand deep overflows the
//!   thread's stack, and a stack overflow aborts the process whatever the
//!   panic strategy;
//! - its chunk deserializer keeps one payload buffer for all chunk streams
//!   and subtracts lengths unchecked, so a message left half-sent on one
//!   chunk stream followed by a shorter one on another panics (and in a
//!   build without overflow checks reserves an absurd capacity); an
//!   extended-timestamp delta below `0xFFFFFF` panics the same way;
//! - it reserves the declared length of a message (up to 16 MiB) up front;
//! - a command with fewer than three values, or `@setDataFrame` alone,
//!   panics on an index;
//! - a window acknowledgement size near `u32::MAX` overflows its counter.
//!
//! [`ChunkGuard`] follows the chunk stream exactly as the deserializer does
//! (same header formats, same previous-header rules, same chunk-size
//! changes) without keeping media payloads, and refuses, before the session
//! sees any of them:
//! - messages larger than [`MAX_CONTROL_BYTES`] (64 KiB) unless they are
//!   audio or video of an accepted publish, which may take
//!   [`MAX_MEDIA_BYTES`] (8 MiB: a 4K keyframe at a high bitrate fits);
//! - a chunk of another message while one is half-received (interleaving:
//!   `rml_rtmp` cannot reassemble it; ffmpeg and OBS never do it), and a
//!   non-continuation header in the middle of a message;
//! - extended-timestamp deltas below `0xFFFFFF`, a chunk size of 0, a
//!   window acknowledgement size above 2^31;
//! - AMF0 (data and command messages, also those flagged AMF3) nested more
//!   than [`MAX_AMF_DEPTH`] deep, measured by an iterative scan that reads
//!   values exactly as the decoder will; commands with fewer than three
//!   values; `@setDataFrame` without its values.
//!
//! A refusal ends the connection (see [`super::rtmp`]); anything else is
//! passed on unchanged. The guard is pure (no I/O), so the unit tests below
//! drive it byte by byte.

use std::collections::HashMap;
use std::fmt;

/// Largest message other than an accepted publish's audio or video.
pub const MAX_CONTROL_BYTES: u32 = 64 * 1024;
/// Largest audio or video message of an accepted publish.
pub const MAX_MEDIA_BYTES: u32 = 8 * 1024 * 1024;
/// Deepest AMF0 nesting accepted (real encoders use two or three levels).
pub const MAX_AMF_DEPTH: usize = 32;
/// Largest window acknowledgement size accepted (2^31).
const MAX_WINDOW_ACK: u32 = 1 << 31;
/// The chunk size every RTMP peer starts with.
const INITIAL_CHUNK_SIZE: u32 = 128;
/// A timestamp field of this value announces an extended timestamp.
const EXTENDED_TIMESTAMP: u32 = 0x00ff_ffff;
/// Largest chunk size RTMP allows (31 bits).
const MAX_CHUNK_SIZE: u32 = 0x7fff_ffff;

/// Why input was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(String);

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn refuse<T>(why: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal(why.into()))
}

/// The fields a chunk stream remembers from its previous header, as the
/// deserializer does (compressed headers inherit them).
#[derive(Debug, Clone, Copy)]
struct StreamHeader {
    length: u32,
    type_id: u8,
    timestamp_field: u32,
}

/// The message being received.
#[derive(Debug)]
struct Message {
    csid: u32,
    type_id: u8,
    length: u32,
    received: u32,
    /// The body, kept for the messages the guard reads (not audio/video).
    body: Option<Vec<u8>>,
}

#[derive(Debug, Clone, Copy)]
enum Stage {
    /// Collecting a chunk header (at most 18 bytes) in `head`.
    Header,
    /// Passing over the payload of the current chunk: `chunk` bytes in all,
    /// `left` of them still to come.
    Payload { chunk: u32, left: u32 },
}

/// Follows one connection's chunk stream (after the handshake) and refuses
/// what `rml_rtmp` cannot be trusted with. See the module docs.
#[derive(Debug)]
pub struct ChunkGuard {
    stage: Stage,
    head: Vec<u8>,
    chunk_size: u32,
    streams: HashMap<u32, StreamHeader>,
    message: Option<Message>,
}

impl Default for ChunkGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkGuard {
    /// A guard for a fresh session (chunk size 128).
    pub fn new() -> Self {
        Self {
            stage: Stage::Header,
            head: Vec::with_capacity(18),
            chunk_size: INITIAL_CHUNK_SIZE,
            streams: HashMap::new(),
            message: None,
        }
    }

    /// Checks the next `bytes` of the connection. `publishing` says whether
    /// a publish has been accepted (audio and video may then be larger).
    /// After a refusal the connection must be closed: the guard's state no
    /// longer follows the peer.
    pub fn admit(&mut self, bytes: &[u8], publishing: bool) -> Result<(), Refusal> {
        let mut rest = bytes;
        while !rest.is_empty() {
            match self.stage {
                Stage::Header => {
                    self.head.push(rest[0]);
                    rest = &rest[1..];
                    if let Some(header) = self.parse_header()? {
                        self.head.clear();
                        self.begin_chunk(header, publishing)?;
                    }
                }
                Stage::Payload { chunk, left } => {
                    let take = rest.len().min(left as usize);
                    let (now, later) = rest.split_at(take);
                    if let Some(body) = self.message.as_mut().and_then(|m| m.body.as_mut()) {
                        body.extend_from_slice(now);
                    }
                    rest = later;
                    // `take` is at most `left`, a u32.
                    let left = left - take as u32;
                    self.stage = Stage::Payload { chunk, left };
                    if left == 0 {
                        self.end_chunk(chunk)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// The chunk header collected so far, once it is complete.
    fn parse_header(&self) -> Result<Option<ChunkHeader>, Refusal> {
        let head = &self.head;
        let basic_len = match head[0] & 0x3f {
            0 => 2,
            1 => 3,
            _ => 1,
        };
        if head.len() < basic_len {
            return Ok(None);
        }
        let format = head[0] >> 6;
        let csid = match basic_len {
            2 => u32::from(head[1]) + 64,
            3 => u32::from(head[2]) * 256 + u32::from(head[1]) + 64,
            _ => u32::from(head[0] & 0x3f),
        };
        let previous = self.streams.get(&csid).copied();
        if format != 0 && previous.is_none() {
            return refuse(format!(
                "a compressed chunk header on chunk stream {csid}, which has no previous header"
            ));
        }
        let message_header_len = [11, 7, 3, 0][usize::from(format)];
        let fixed_len = basic_len + message_header_len;
        if head.len() < fixed_len.min(basic_len + 3) {
            return Ok(None);
        }
        let fields = &head[basic_len..];
        let timestamp_field = match (format, previous) {
            (3, Some(previous)) => previous.timestamp_field,
            _ => u24(&fields[0..3]),
        };
        let extended = timestamp_field >= EXTENDED_TIMESTAMP;
        let total = fixed_len + if extended { 4 } else { 0 };
        if head.len() < total {
            return Ok(None);
        }
        let (length, type_id) = match (format, previous) {
            (0 | 1, _) => (u24(&fields[3..6]), fields[6]),
            (_, Some(previous)) => (previous.length, previous.type_id),
            // Unreachable: refused above.
            (_, None) => return refuse("no previous header"),
        };
        let extended_value = extended.then(|| {
            let at = fixed_len;
            u32::from_be_bytes([head[at], head[at + 1], head[at + 2], head[at + 3]])
        });
        Ok(Some(ChunkHeader {
            format,
            csid,
            stream: StreamHeader {
                length,
                type_id,
                timestamp_field,
            },
            extended_value,
        }))
    }

    fn begin_chunk(&mut self, header: ChunkHeader, publishing: bool) -> Result<(), Refusal> {
        let in_progress = self.message.as_ref().filter(|m| m.received > 0);
        if let Some(message) = in_progress {
            if header.csid != message.csid {
                return refuse(format!(
                    "a chunk on chunk stream {} while a message on chunk stream {} is half-received \
                     (interleaved messages are not supported)",
                    header.csid, message.csid
                ));
            }
            if header.format != 3 {
                return refuse("a new message header in the middle of a message");
            }
        } else {
            if let (Some(value), true) = (header.extended_value, header.format != 0) {
                if value < EXTENDED_TIMESTAMP {
                    return refuse("an extended timestamp delta below 0xFFFFFF");
                }
            }
            let StreamHeader {
                length, type_id, ..
            } = header.stream;
            let media = matches!(type_id, 8 | 9);
            let limit = if media && publishing {
                MAX_MEDIA_BYTES
            } else {
                MAX_CONTROL_BYTES
            };
            if length > limit {
                return refuse(format!(
                    "a message of {length} bytes (type {type_id}); at most {limit} accepted here"
                ));
            }
            self.message = Some(Message {
                csid: header.csid,
                type_id,
                length,
                received: 0,
                body: (!media).then(|| Vec::with_capacity(length.min(4096) as usize)),
            });
        }
        self.streams.insert(header.csid, header.stream);
        let (length, received) = self
            .message
            .as_ref()
            .map_or((0, 0), |m| (m.length, m.received));
        // As the deserializer computes it.
        let chunk = if length > self.chunk_size {
            (length - received).min(self.chunk_size)
        } else {
            length
        };
        self.stage = Stage::Payload { chunk, left: chunk };
        if chunk == 0 {
            self.end_chunk(chunk)?;
        }
        Ok(())
    }

    /// The current chunk's `chunk` payload bytes have passed.
    fn end_chunk(&mut self, chunk: u32) -> Result<(), Refusal> {
        let done = self.message.as_mut().is_some_and(|message| {
            message.received += chunk;
            message.received >= message.length
        });
        self.stage = Stage::Header;
        if done {
            if let Some(message) = self.message.take() {
                self.on_message(&message)?;
            }
        }
        Ok(())
    }

    /// A whole message arrived: the checks that need its body.
    fn on_message(&mut self, message: &Message) -> Result<(), Refusal> {
        let body = message.body.as_deref().unwrap_or_default();
        match message.type_id {
            1 => {
                let size = be_u32(body).unwrap_or(0);
                if size == 0 || size > MAX_CHUNK_SIZE {
                    return refuse(format!("chunk size {size}"));
                }
                self.chunk_size = size;
            }
            5 if be_u32(body).is_some_and(|size| size > MAX_WINDOW_ACK) => {
                return refuse("a window acknowledgement size above 2^31");
            }
            15 | 18 => check_data(body)?,
            17 => check_command(body.strip_prefix(&[0]).unwrap_or(body))?,
            20 => check_command(body)?,
            _ => {}
        }
        Ok(())
    }
}

/// A complete chunk header.
#[derive(Debug)]
struct ChunkHeader {
    format: u8,
    csid: u32,
    stream: StreamHeader,
    extended_value: Option<u32>,
}

fn u24(bytes: &[u8]) -> u32 {
    (u32::from(bytes[0]) << 16) | (u32::from(bytes[1]) << 8) | u32::from(bytes[2])
}

fn be_u32(bytes: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?))
}

fn check_data(body: &[u8]) -> Result<(), Refusal> {
    match scan_amf0(body) {
        Amf0Scan::TooDeep => refuse(format!("AMF0 nested more than {MAX_AMF_DEPTH} deep")),
        Amf0Scan::Values {
            count,
            first_string,
        } if count < 2 && first_string.as_deref() == Some(b"@setDataFrame".as_slice()) => {
            refuse("@setDataFrame without its values")
        }
        // A malformed body is refused by the decoder itself, cleanly.
        _ => Ok(()),
    }
}

fn check_command(body: &[u8]) -> Result<(), Refusal> {
    match scan_amf0(body) {
        Amf0Scan::TooDeep => refuse(format!("AMF0 nested more than {MAX_AMF_DEPTH} deep")),
        Amf0Scan::Values { count, .. } if count < 3 => {
            refuse("a command with fewer than three values")
        }
        _ => Ok(()),
    }
}

/// What an AMF0 body holds, as far as the guard cares.
#[derive(Debug, PartialEq, Eq)]
enum Amf0Scan {
    /// Decodes: `count` top-level values, the first one's bytes if a string.
    Values {
        count: usize,
        first_string: Option<Vec<u8>>,
    },
    /// The decoder would fail on it (without going deeper than allowed).
    Malformed,
    /// Nested deeper than [`MAX_AMF_DEPTH`].
    TooDeep,
}

/// An open container during the scan.
enum Frame {
    /// A strict array with `left` values still announced.
    Array { left: u32 },
    /// An object or ECMA array: label/value pairs until an empty label.
    Object,
}

/// Reads an AMF0 body the way `rml_amf0::deserialize` does (values until the
/// end or a top-level object-end marker; strings and labels may be cut
/// short by the end of the body; a strict array ends early at an
/// object-end marker), without recursion.
fn scan_amf0(body: &[u8]) -> Amf0Scan {
    let mut reader = Reader { bytes: body, at: 0 };
    let mut stack: Vec<Frame> = Vec::new();
    let mut count = 0;
    let mut first_string = None;
    loop {
        let value = match stack.last_mut() {
            None => match reader.value() {
                Err(()) => return Amf0Scan::Malformed,
                Ok(None) => {
                    return Amf0Scan::Values {
                        count,
                        first_string,
                    }
                }
                Ok(Some(value)) => {
                    count += 1;
                    if count == 1 {
                        if let Value::String(text) = &value {
                            first_string = Some(text.to_vec());
                        }
                    }
                    value
                }
            },
            Some(Frame::Array { left }) => {
                if *left == 0 {
                    stack.pop();
                    continue;
                }
                *left -= 1;
                match reader.value() {
                    Err(()) => return Amf0Scan::Malformed,
                    Ok(None) => {
                        stack.pop();
                        continue;
                    }
                    Ok(Some(value)) => value,
                }
            }
            Some(Frame::Object) => {
                let Some(label_len) = reader.u16() else {
                    return Amf0Scan::Malformed;
                };
                if label_len == 0 {
                    if reader.u8() != Some(0x09) {
                        return Amf0Scan::Malformed;
                    }
                    stack.pop();
                    continue;
                }
                reader.take_up_to(usize::from(label_len));
                match reader.value() {
                    Err(()) | Ok(None) => return Amf0Scan::Malformed,
                    Ok(Some(value)) => value,
                }
            }
        };
        match value {
            Value::Array(left) => stack.push(Frame::Array { left }),
            Value::Object => stack.push(Frame::Object),
            Value::Scalar | Value::String(_) => {}
        }
        if stack.len() > MAX_AMF_DEPTH {
            return Amf0Scan::TooDeep;
        }
    }
}

/// The start of one AMF0 value.
enum Value<'a> {
    Scalar,
    String(&'a [u8]),
    Array(u32),
    Object,
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let slice = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(slice)
    }

    /// Up to `n` bytes: the decoder reads strings with a single `read`.
    fn take_up_to(&mut self, n: usize) -> &'a [u8] {
        let end = self.bytes.len().min(self.at.saturating_add(n));
        let slice = &self.bytes[self.at..end];
        self.at = end;
        slice
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .and_then(|b| b.try_into().ok().map(u32::from_be_bytes))
    }

    /// The next value's marker and fixed fields: `Ok(None)` at the end or
    /// at an object-end marker, `Err` where the decoder fails.
    fn value(&mut self) -> Result<Option<Value<'a>>, ()> {
        let Some(marker) = self.u8() else {
            return Ok(None);
        };
        let value = match marker {
            0x09 => return Ok(None),
            0x00 => self.take(8).map(|_| Value::Scalar),
            0x01 => self.take(1).map(|_| Value::Scalar),
            0x05 | 0x06 => Some(Value::Scalar),
            0x02 => self
                .u16()
                .map(|len| Value::String(self.take_up_to(usize::from(len)))),
            0x03 => Some(Value::Object),
            0x08 => self.u32().map(|_| Value::Object),
            0x0a => self.u32().map(Value::Array),
            _ => None,
        };
        value.map(Some).ok_or(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amf_string(text: &str) -> Vec<u8> {
        let mut out = vec![0x02];
        out.extend_from_slice(&(text.len() as u16).to_be_bytes());
        out.extend_from_slice(text.as_bytes());
        out
    }

    /// A message as chunks: a type-0 header, then type-3 continuations.
    fn message(csid: u8, type_id: u8, body: &[u8], chunk_size: usize) -> Vec<u8> {
        let mut out = vec![csid, 0, 0, 0];
        out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        out.push(type_id);
        out.extend_from_slice(&[1, 0, 0, 0]);
        for (i, part) in body.chunks(chunk_size).enumerate() {
            if i > 0 {
                out.push(0xc0 | csid);
            }
            out.extend_from_slice(part);
        }
        out
    }

    fn connect() -> Vec<u8> {
        let mut body = amf_string("connect");
        body.extend_from_slice(&[0, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]);
        body.extend_from_slice(&[0x03, 0, 3, b'a', b'p', b'p']);
        body.extend(amf_string("live"));
        body.extend_from_slice(&[0, 0, 9]);
        message(3, 20, &body, 128)
    }

    /// Feeds `bytes` whole and byte by byte; both must agree.
    fn admit(bytes: &[u8], publishing: bool) -> Result<(), Refusal> {
        let whole = ChunkGuard::new().admit(bytes, publishing);
        let mut guard = ChunkGuard::new();
        let split = bytes
            .iter()
            .try_for_each(|b| guard.admit(std::slice::from_ref(b), publishing));
        assert_eq!(whole, split, "split input must be judged the same");
        whole
    }

    #[test]
    fn what_encoders_send_passes() {
        let mut stream = connect();
        // Set chunk size 4096, then a 10 KB video frame and audio, as ffmpeg does.
        stream.extend(message(2, 1, &4096u32.to_be_bytes(), 128));
        stream.extend(message(6, 9, &[0x27; 10_000], 4096));
        stream.extend(message(4, 8, &[0xaf; 300], 4096));
        // A type-1 header reusing the stream, then a type-3 new message.
        stream.extend_from_slice(&[0x46, 0, 0, 33, 0, 0, 5, 9, 1, 2, 3, 4, 5]);
        stream.extend_from_slice(&[0xc6, 1, 2, 3, 4, 5]);
        // Metadata, as OBS sends it.
        let mut meta = amf_string("@setDataFrame");
        meta.extend(amf_string("onMetaData"));
        meta.extend_from_slice(&[0x08, 0, 0, 0, 1, 0, 5]);
        meta.extend_from_slice(b"width");
        meta.extend_from_slice(&[0, 0x40, 0x94, 0, 0, 0, 0, 0, 0, 0, 0, 9]);
        stream.extend(message(5, 18, &meta, 4096));
        assert_eq!(admit(&stream, true), Ok(()));
    }

    #[test]
    fn deep_amf0_is_refused_before_the_decoder_sees_it() {
        let deep = [0x0a, 0, 0, 0, 1].repeat(3_000);
        let mut stream = message(2, 1, &65_536u32.to_be_bytes(), 128);
        stream.extend(message(3, 18, &deep, 65_536));
        assert!(admit(&stream, false).is_err());
        // The 100,000-deep variant is too large to be a control message at all.
        let deeper = [0x0a, 0, 0, 0, 1].repeat(100_000);
        assert!(admit(&message(3, 18, &deeper, 128), false).is_err());
        for level in [&[0x03, 0, 1, b'a'][..], &[0x08, 0, 0, 0, 1, 0, 1, b'a']] {
            let mut body = amf_string("connect");
            body.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0]);
            body.extend(level.repeat(MAX_AMF_DEPTH + 1));
            assert!(admit(&message(3, 20, &body, 128), false).is_err());
        }
        // At the limit it passes (the decoder's own errors end it cleanly).
        let mut fine = amf_string("x");
        fine.extend([0x0a, 0, 0, 0, 1].repeat(MAX_AMF_DEPTH));
        fine.push(0x05);
        assert_eq!(admit(&message(3, 18, &fine, 128), false), Ok(()));
    }

    #[test]
    fn scanning_follows_the_decoder() {
        let values = |count, first: Option<&str>| Amf0Scan::Values {
            count,
            first_string: first.map(|s| s.as_bytes().to_vec()),
        };
        assert_eq!(scan_amf0(&[]), values(0, None));
        // A top-level object-end marker ends the values.
        assert_eq!(scan_amf0(&[0x05, 0x09, 0x05]), values(1, None));
        // A strict array ends early at an object-end marker.
        assert_eq!(
            scan_amf0(&[0x0a, 0, 0, 0, 9, 0x05, 0x09, 0x05]),
            values(2, None)
        );
        // A string cut short by the end of the body still decodes.
        assert_eq!(scan_amf0(&[0x02, 0, 9, b'a', b'b']), values(1, Some("ab")));
        // An object property without a value, a bad end, an unknown marker.
        assert_eq!(scan_amf0(&[0x03, 0, 1, b'a']), Amf0Scan::Malformed);
        assert_eq!(scan_amf0(&[0x03, 0, 0, 7]), Amf0Scan::Malformed);
        assert_eq!(scan_amf0(&[0x11]), Amf0Scan::Malformed);
        assert_eq!(scan_amf0(&[0x00, 1, 2]), Amf0Scan::Malformed);
        assert_eq!(
            scan_amf0(&[0x03, 0, 1, b'a', 0x05, 0, 0, 9, 0x01, 1]),
            values(2, None)
        );
    }

    #[test]
    fn commands_the_session_would_index_past_are_refused() {
        assert!(admit(&message(3, 20, &amf_string("connect"), 128), false).is_err());
        assert!(admit(&message(3, 20, &[], 128), false).is_err());
        let mut amf3 = vec![0];
        amf3.extend(amf_string("publish"));
        assert!(admit(&message(3, 17, &amf3, 128), false).is_err());
        assert!(admit(&message(3, 18, &amf_string("@setDataFrame"), 128), false).is_err());
        // Other one-value data messages are fine.
        assert_eq!(admit(&message(3, 18, &amf_string("x"), 128), false), Ok(()));
    }

    #[test]
    fn a_half_sent_message_then_another_chunk_stream_is_refused() {
        let mut stream = message(3, 18, &[0x05; 300], 128);
        stream.truncate(12 + 128);
        stream.extend(message(4, 18, &[0x05; 10], 128));
        assert!(admit(&stream, false).is_err());
        // A new full header on the same stream mid-message too.
        let mut stream = message(3, 18, &[0x05; 300], 128);
        stream.truncate(12 + 128);
        stream.extend(message(3, 18, &[0x05; 10], 128));
        assert!(admit(&stream, false).is_err());
    }

    #[test]
    fn sizes_are_bounded_by_what_the_connection_may_send() {
        let frame = message(6, 9, &[0x17; 100_000], 128);
        assert!(
            admit(&frame, false).is_err(),
            "no large media before publishing"
        );
        assert_eq!(admit(&frame, true), Ok(()));
        let mut huge = message(6, 9, &[0x17; 10], 128);
        huge[4..7].copy_from_slice(&[0xff, 0xff, 0xff]);
        assert!(admit(&huge, true).is_err());
        let big_data = message(3, 18, &[0x05; 70_000], 128);
        assert!(admit(&big_data, true).is_err());
    }

    #[test]
    fn odd_sizes_and_timestamps_are_refused() {
        assert!(admit(&message(2, 1, &0u32.to_be_bytes(), 128), false).is_err());
        assert!(admit(&message(2, 1, &u32::MAX.to_be_bytes(), 128), false).is_err());
        assert!(admit(&message(2, 5, &u32::MAX.to_be_bytes(), 128), false).is_err());
        assert_eq!(
            admit(&message(2, 5, &2_500_000u32.to_be_bytes(), 128), false),
            Ok(())
        );
        // A compressed header on a stream that has none.
        assert!(admit(&[0xc3, 1, 2, 3], false).is_err());
        // Type 0 with an extended timestamp, then a type-1 delta below 0xFFFFFF.
        let mut stream = vec![0x03, 0xff, 0xff, 0xff, 0, 0, 1, 18, 0, 0, 0, 0];
        stream.extend_from_slice(&0x0100_0000u32.to_be_bytes());
        stream.push(0x05);
        let mut good = stream.clone();
        stream.extend_from_slice(&[0x43, 0xff, 0xff, 0xff, 0, 0, 1, 18, 0, 0, 0, 5, 0x05]);
        assert!(admit(&stream, false).is_err());
        good.extend_from_slice(&[0x43, 0xff, 0xff, 0xff, 0, 0, 1, 18, 1, 0, 0, 0, 0x05]);
        assert_eq!(admit(&good, false), Ok(()));
    }

    #[test]
    fn a_smaller_chunk_size_splits_messages_as_announced() {
        let mut stream = message(2, 1, &1u32.to_be_bytes(), 128);
        stream.extend(message(3, 18, &[0x05; 40], 1));
        assert_eq!(admit(&stream, false), Ok(()));
        // Sent with 128-byte chunks after announcing 1: out of step, and the
        // continuation headers land where payload was expected.
        let mut wrong = message(2, 1, &1u32.to_be_bytes(), 128);
        wrong.extend(message(3, 20, &[0x05; 40], 128));
        wrong.extend(message(3, 20, &[0x05; 40], 128));
        assert!(admit(&wrong, false).is_err());
    }
}

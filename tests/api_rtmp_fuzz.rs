//! Hostile input on the stand-in's RTMP port: the real tool (`serve`, run as
//! a child process, so a crash is seen as one) takes bounded, seeded random
//! and structured garbage, and must come out of it still answering `/health`,
//! with no connection task having panicked, and still ingesting a real
//! ffmpeg publish.
//!
//! What is thrown at it: random bytes before and after a valid handshake,
//! random chunk headers, huge declared message lengths, AMF0 nested
//! thousands deep (strict arrays, objects, ECMA arrays; in data and command
//! messages), a message left half-sent on one chunk stream with the next
//! one on another, commands with too few values, `@setDataFrame` alone,
//! extended-timestamp deltas below their threshold, odd chunk and window
//! sizes, and a crowd of connections at once.
//!
//! Deterministic: a fixed seed (`LSH_FUZZ_SEED` overrides it). Bounded:
//! `LSH_FUZZ_CASES` random cases per family (default 500), about 10 s in a
//! debug build. `LSH_FUZZ_BIN` runs another build of the tool (say, a
//! release build) instead of the test's own.
#![cfg(feature = "server")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use live_stream_health::server::token;
use rml_rtmp::handshake::{Handshake, HandshakeProcessResult, PeerType};
use serde_json::Value;

/// A small, seeded xorshift generator: the same cases on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// The tool running `serve` in its own data directory.
struct Tool {
    child: Child,
    http: SocketAddr,
    rtmp: SocketAddr,
    credentials: String,
    stderr: Arc<Mutex<String>>,
    dir: PathBuf,
}

impl Tool {
    fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("lsh-rtmp-fuzz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let bin = std::env::var("LSH_FUZZ_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_live-stream-health").to_owned());
        let mut child = Command::new(bin)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(["--rtmp-listen", "127.0.0.1:0", "--data-dir"])
            .arg(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the tool starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&stderr);
        let err = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if let Ok(mut text) = sink.lock() {
                    text.push_str(&line);
                    text.push('\n');
                }
            }
        });
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let (mut http, mut rtmp, mut credentials) = (None, None, None);
        while http.is_none() || rtmp.is_none() || credentials.is_none() {
            let line = lines.next().expect("a line").expect("utf-8");
            if let Some(url) = line.strip_prefix("stand-in listening on http://") {
                http = url.trim_end_matches('/').parse().ok();
            } else if let Some(rest) = line.strip_prefix("RTMP ingest: rtmp://") {
                rtmp = rest.split('/').next().and_then(|a| a.parse().ok());
            } else if let Some((_, pair)) = line.split_once("development): ") {
                credentials = Some(pair.trim().to_owned());
            }
        }
        // Keep reading stdout so the tool never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
        Self {
            child,
            http: http.expect("HTTP address"),
            rtmp: rtmp.expect("RTMP address"),
            credentials: credentials.expect("credentials"),
            stderr,
            dir,
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The tool is still running and answers `/health`.
    fn assert_alive(&mut self, after: &str) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "the tool exited ({status}) after {after}:\n{}",
                self.stderr()
            );
        }
        let body = http_get(self.http, "/health", None)
            .unwrap_or_else(|e| panic!("/health failed after {after}: {e}\n{}", self.stderr()));
        assert!(body.0 == 200, "/health after {after}: {body:?}");
        let log = self.stderr();
        assert!(
            !log.contains("panicked"),
            "a connection panicked after {after}:\n{log}"
        );
    }
}

impl Drop for Tool {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A minimal HTTP/1.1 request over a raw socket: (status, body).
fn http_get(addr: SocketAddr, path: &str, auth: Option<&str>) -> Result<(u16, String), String> {
    http_request(addr, "GET", path, auth, "")
}

fn http_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: &str,
) -> Result<(u16, String), String> {
    use base64::Engine as _;
    let mut stream =
        TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let auth = auth
        .map(|pair| {
            let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
            format!("Authorization: Basic {encoded}\r\n")
        })
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| e.to_string())?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status in {response:?}"))?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

// --- RTMP building blocks -------------------------------------------------

fn amf_string(text: &str) -> Vec<u8> {
    let mut out = vec![0x02];
    out.extend_from_slice(&(text.len() as u16).to_be_bytes());
    out.extend_from_slice(text.as_bytes());
    out
}

fn amf_number(value: f64) -> Vec<u8> {
    let mut out = vec![0x00];
    out.extend_from_slice(&value.to_be_bytes());
    out
}

fn amf_object(pairs: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = vec![0x03];
    for (key, value) in pairs {
        out.extend_from_slice(&(key.len() as u16).to_be_bytes());
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(value);
    }
    out.extend_from_slice(&[0, 0, 9]);
    out
}

/// A message as chunks on `csid`: a type-0 header, then type-3 continuations.
fn message(csid: u8, type_id: u8, stream_id: u32, body: &[u8], chunk_size: usize) -> Vec<u8> {
    let mut out = vec![csid & 0x3f];
    out.extend_from_slice(&[0, 0, 0]);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    out.push(type_id);
    out.extend_from_slice(&stream_id.to_le_bytes());
    for (i, part) in body.chunks(chunk_size.max(1)).enumerate() {
        if i > 0 {
            out.push(0xc0 | (csid & 0x3f));
        }
        out.extend_from_slice(part);
    }
    out
}

fn set_chunk_size(size: u32) -> Vec<u8> {
    message(2, 1, 0, &size.to_be_bytes(), 128)
}

fn connect_command() -> Vec<u8> {
    let mut body = amf_string("connect");
    body.extend(amf_number(1.0));
    body.extend(amf_object(&[
        ("app", amf_string("live")),
        ("type", amf_string("nonprivate")),
        ("tcUrl", amf_string("rtmp://127.0.0.1/live")),
    ]));
    message(3, 20, 0, &body, 128)
}

/// Opens a connection and completes the handshake; `None` if the server
/// closed it (a refused connection is not a failure here).
fn handshaken(addr: SocketAddr) -> Option<TcpStream> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut client = Handshake::new(PeerType::Client);
    let c0c1 = client.generate_outbound_p0_and_p1().ok()?;
    stream.write_all(&c0c1).ok()?;
    let mut buffer = [0u8; 4096];
    loop {
        let count = stream.read(&mut buffer).ok()?;
        if count == 0 {
            return None;
        }
        match client.process_bytes(&buffer[..count]).ok()? {
            HandshakeProcessResult::InProgress { response_bytes } => {
                stream.write_all(&response_bytes).ok()?;
            }
            HandshakeProcessResult::Completed { response_bytes, .. } => {
                stream.write_all(&response_bytes).ok()?;
                return Some(stream);
            }
        }
    }
}

/// Sends `bytes`, half-closes, and reads until the server closes (or 5 s).
fn throw(stream: &mut TcpStream, bytes: &[u8]) {
    let _ = stream.write_all(bytes);
    let _ = stream.shutdown(Shutdown::Write);
    let mut sink = [0u8; 4096];
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

fn throw_after_handshake(addr: SocketAddr, bytes: &[u8]) {
    if let Some(mut stream) = handshaken(addr) {
        throw(&mut stream, bytes);
    }
}

fn throw_raw(addr: SocketAddr, bytes: &[u8]) {
    if let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        throw(&mut stream, bytes);
    }
}

/// AMF0 values nested `depth` deep, each level built by `level`.
fn nested(depth: usize, level: &[u8]) -> Vec<u8> {
    level.repeat(depth)
}

/// The structured hostile inputs, by name.
fn structured_cases() -> Vec<(&'static str, Vec<u8>)> {
    let strict_array = [0x0a, 0, 0, 0, 1];
    // Object with one property "a" whose value is the next level.
    let object = [0x03, 0, 1, b'a'];
    let ecma = [0x08, 0, 0, 0, 1, 0, 1, b'a'];
    let big_chunks = set_chunk_size(1 << 20);
    let with_big_chunks = |body: Vec<u8>, type_id: u8| {
        let mut out = big_chunks.clone();
        out.extend(message(3, type_id, 0, &body, 1 << 20));
        out
    };
    let mut command_prefix = amf_string("connect");
    command_prefix.extend(amf_number(1.0));
    let mut half_sent = message(3, 18, 0, &[0x05; 300], 128);
    half_sent.truncate(12 + 128);
    half_sent.extend(message(4, 18, 0, &[0x05; 10], 128));
    let mut ext_delta = vec![0x03, 0xff, 0xff, 0xff, 0, 0, 4, 18, 0, 0, 0, 0];
    ext_delta.extend_from_slice(&0x0100_0000u32.to_be_bytes());
    ext_delta.extend_from_slice(&[5, 5, 5, 5]);
    // Type 1 (delta) header with the extended marker and a delta below it.
    ext_delta.extend_from_slice(&[0x43, 0xff, 0xff, 0xff, 0, 0, 4, 18]);
    ext_delta.extend_from_slice(&5u32.to_be_bytes());
    ext_delta.extend_from_slice(&[5, 5, 5, 5]);
    let mut window = message(2, 5, 0, &u32::MAX.to_be_bytes(), 128);
    window.extend(message(3, 18, 0, &[0x05; 64], 128));
    vec![
        (
            "a data message of strict arrays nested 100,000 deep (as sent, 128-byte chunks)",
            message(3, 18, 0, &nested(100_000, &strict_array), 128),
        ),
        (
            "strict arrays nested 3,000 deep",
            message(3, 18, 0, &nested(3_000, &strict_array), 128),
        ),
        (
            "strict arrays nested 3,000 deep in one big chunk",
            with_big_chunks(nested(3_000, &strict_array), 18),
        ),
        (
            "objects nested 5,000 deep",
            with_big_chunks(nested(5_000, &object), 18),
        ),
        (
            "ECMA arrays nested 5,000 deep",
            with_big_chunks(nested(5_000, &ecma), 18),
        ),
        ("deep nesting in a command", {
            let mut body = command_prefix.clone();
            body.extend(nested(5_000, &strict_array));
            with_big_chunks(body, 20)
        }),
        ("deep nesting in an AMF3-flagged command", {
            let mut body = vec![0];
            body.extend(command_prefix.clone());
            body.extend(nested(5_000, &object));
            with_big_chunks(body, 17)
        }),
        ("deep nesting in an AMF3-flagged data message", {
            with_big_chunks(nested(5_000, &strict_array), 15)
        }),
        (
            "a 300-byte message half-sent on chunk stream 3, then one on stream 4",
            half_sent,
        ),
        (
            "a command with one value",
            message(3, 20, 0, &amf_string("connect"), 128),
        ),
        ("a command with no value", message(3, 20, 0, &[], 128)),
        (
            "an AMF3-flagged command with one value",
            message(
                3,
                17,
                0,
                &[&[0u8][..], &amf_string("publish")].concat(),
                128,
            ),
        ),
        (
            "@setDataFrame alone",
            message(3, 18, 0, &amf_string("@setDataFrame"), 128),
        ),
        ("@setDataFrame alone after connecting", {
            let mut out = connect_command();
            out.extend(message(3, 18, 0, &amf_string("@setDataFrame"), 128));
            out
        }),
        ("an extended-timestamp delta below its threshold", ext_delta),
        (
            "a declared length of 16 MiB (media)",
            message(6, 9, 1, &[0x17; 100], 128)
                .into_iter()
                .enumerate()
                .map(|(i, b)| if (4..7).contains(&i) { 0xff } else { b })
                .collect(),
        ),
        (
            "a declared length of 16 MiB (data)",
            vec![0x03, 0, 0, 0, 0xff, 0xff, 0xff, 18, 0, 0, 0, 0, 0x0a],
        ),
        ("chunk size 0, then a message", {
            let mut out = set_chunk_size(0);
            out.extend(message(3, 18, 0, &[0x05; 40], 128));
            out
        }),
        ("chunk size 2^31 - 1, then a message", {
            let mut out = set_chunk_size(0x7fff_ffff);
            out.extend(message(3, 18, 0, &[0x05; 40], 0x7fff_ffff));
            out
        }),
        ("chunk size 1, then a message", {
            let mut out = set_chunk_size(1);
            out.extend(message(3, 18, 0, &[0x05; 40], 1));
            out
        }),
        ("a window acknowledgement size of 2^32 - 1", window),
        (
            "a continuation chunk with no message before it",
            vec![0xc3, 1, 2, 3, 4, 5],
        ),
        (
            "a type-1 header on a fresh chunk stream",
            vec![0x47, 0, 0, 1, 0, 0, 4, 18, 5, 5, 5, 5],
        ),
        (
            "a three-byte chunk stream id, maximal",
            vec![0x01, 0xff, 0xff, 0, 0, 0, 0, 0, 1, 18, 0, 0, 0, 0, 5],
        ),
    ]
}

/// One random chunk on one of a few chunk streams (so compressed headers
/// often have a previous header to refer to): random format, plausible or
/// random lengths and types, sometimes an extended timestamp, and a payload
/// that is sometimes exactly a chunk's worth.
fn random_chunk(rng: &mut Rng) -> Vec<u8> {
    let fmt = rng.below(4) as u8;
    let csid = 3 + rng.below(4) as u8;
    let mut out = match rng.below(16) {
        0 => vec![fmt << 6, rng.next() as u8],
        1 => vec![(fmt << 6) | 1, rng.next() as u8, rng.next() as u8],
        2 => vec![(fmt << 6) | (2 + rng.below(62) as u8)],
        _ => vec![(fmt << 6) | csid],
    };
    let header_len = [11, 7, 3, 0][fmt as usize];
    let mut header = rng.bytes(header_len);
    let mut length = rng.below(300) as usize;
    if header_len >= 7 && rng.below(4) != 0 {
        header[3..6].copy_from_slice(&(length as u32).to_be_bytes()[1..]);
        header[6] = [1, 2, 3, 4, 5, 6, 8, 9, 15, 17, 18, 20][rng.below(12) as usize];
    } else {
        length = rng.below(300) as usize;
    }
    if header_len >= 3 && rng.below(8) == 0 {
        header[..3].copy_from_slice(&[0xff, 0xff, 0xff]);
        header.extend(rng.bytes(4));
    }
    out.extend(header);
    let payload = match rng.below(3) {
        0 => length.min(128),
        1 => length,
        _ => rng.below(300) as usize,
    };
    out.extend(rng.bytes(payload));
    out
}

/// A plausible publishing session: chunk size, connect, createStream,
/// publish (with a key the stand-in does not know), metadata, media. Also
/// returns where `connect` ends: a client waits for its answer before going
/// on, and so does [`throw_session`].
fn valid_session(rng: &mut Rng) -> (Vec<u8>, usize) {
    let mut out = set_chunk_size(4096);
    out.extend(connect_command());
    let connected = out.len();
    let mut create = amf_string("createStream");
    create.extend(amf_number(2.0));
    create.push(0x05);
    out.extend(message(3, 20, 0, &create, 4096));
    let mut publish = amf_string("publish");
    publish.extend(amf_number(3.0));
    publish.push(0x05);
    publish.extend(amf_string(&format!("key{}", rng.next())));
    publish.extend(amf_string("live"));
    out.extend(message(4, 20, 1, &publish, 4096));
    let mut meta = amf_string("@setDataFrame");
    meta.extend(amf_string("onMetaData"));
    meta.extend_from_slice(&[0x08, 0, 0, 0, 1]);
    meta.extend_from_slice(&[0, 5]);
    meta.extend_from_slice(b"width");
    meta.extend(amf_number(1280.0));
    meta.extend_from_slice(&[0, 0, 9]);
    out.extend(message(4, 18, 1, &meta, 4096));
    for _ in 0..rng.below(6) {
        let len = 1 + rng.below(9000) as usize;
        out.extend(message(6, 9, 1, &rng.bytes(len), 4096));
        out.extend(message(4, 8, 1, &rng.bytes(1 + len / 20), 4096));
    }
    (out, connected)
}

/// Sends a session in two parts, pausing after the first (the `connect`)
/// so that the stand-in has accepted it before the rest arrives.
fn throw_session(addr: SocketAddr, bytes: &[u8], split: usize) {
    if let Some(mut stream) = handshaken(addr) {
        let (first, rest) = bytes.split_at(split.min(bytes.len()));
        let _ = stream.write_all(first);
        std::thread::sleep(Duration::from_millis(3));
        throw(&mut stream, rest);
    }
}

/// `bytes` with a few random mutations: bit flips, overwritten bytes, a
/// range cut out or repeated, or a tail cut off.
fn mutate(rng: &mut Rng, mut bytes: Vec<u8>) -> Vec<u8> {
    for _ in 0..1 + rng.below(6) {
        if bytes.is_empty() {
            break;
        }
        let at = rng.below(bytes.len() as u64) as usize;
        match rng.below(5) {
            0 => bytes[at] ^= 1 << rng.below(8),
            1 => bytes[at] = rng.next() as u8,
            2 => {
                let end = (at + 1 + rng.below(64) as usize).min(bytes.len());
                bytes.drain(at..end);
            }
            3 => {
                let end = (at + 1 + rng.below(64) as usize).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                bytes.splice(at..at, copy);
            }
            _ => bytes.truncate(at),
        }
    }
    bytes
}

/// Random AMF0-ish bytes: markers and lengths that are often valid.
fn random_amf(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..rng.below(400) {
        match rng.below(10) {
            0 => out.extend(amf_number(rng.next() as f64)),
            1 => out.extend(amf_string("publish")),
            2 => out.extend_from_slice(&[0x0a, 0, 0, 0, rng.below(4) as u8]),
            3 => out.extend_from_slice(&[0x03, 0, 1, b'k']),
            4 => out.extend_from_slice(&[0x08, 0, 0, 0, 2, 0, 1, b'k']),
            5 => out.extend_from_slice(&[0, 0, 9]),
            6 => out.push(0x05),
            7 => out.extend_from_slice(&[0x02, 0xff, 0xff]),
            8 | 9 if rng.below(3) == 0 => out.push(rng.next() as u8),
            _ => out.extend(amf_string("k")),
        }
    }
    out
}

#[test]
fn hostile_rtmp_input_ends_only_its_own_connection() {
    let seed = std::env::var("LSH_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_1e55_u64);
    let cases: usize = std::env::var("LSH_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(500);
    let started = Instant::now();
    let mut tool = Tool::start();
    let rtmp = tool.rtmp;
    let mut rng = Rng(seed | 1);
    let mut thrown = 0usize;

    for (name, bytes) in structured_cases() {
        throw_after_handshake(rtmp, &bytes);
        thrown += 1;
        tool.assert_alive(name);
    }

    for _ in 0..cases {
        let len = 1 + rng.below(4000) as usize;
        let mut bytes = rng.bytes(len);
        // Half of them with the right version byte, to get further in.
        if rng.below(2) == 0 {
            bytes[0] = 3;
        }
        throw_raw(rtmp, &bytes);
        thrown += 1;
    }
    tool.assert_alive("random bytes before the handshake");

    for _ in 0..cases {
        let len = 1 + rng.below(4000) as usize;
        throw_after_handshake(rtmp, &rng.bytes(len));
        thrown += 1;
    }
    tool.assert_alive("random bytes after the handshake");

    for _ in 0..cases {
        let mut bytes = if rng.below(2) == 0 {
            connect_command()
        } else {
            Vec::new()
        };
        for n in 0..1 + rng.below(12) {
            let mut chunk = random_chunk(&mut rng);
            if n == 0 {
                // A full header first, so later compressed ones can refer to it.
                chunk[0] &= 0x3f;
            }
            bytes.extend(chunk);
        }
        throw_after_handshake(rtmp, &bytes);
        thrown += 1;
    }
    tool.assert_alive("random chunk headers");

    for _ in 0..cases {
        let type_id = [15, 17, 18, 20][rng.below(4) as usize];
        let mut body = if type_id == 17 { vec![0] } else { Vec::new() };
        if rng.below(2) == 0 {
            body.extend(amf_string(
                ["connect", "publish", "@setDataFrame"][rng.below(3) as usize],
            ));
        }
        body.extend(random_amf(&mut rng));
        let mut bytes = set_chunk_size(1 << 16);
        bytes.extend(message(3, type_id, 0, &body, 1 << 16));
        throw_after_handshake(rtmp, &bytes);
        thrown += 1;
    }
    tool.assert_alive("random AMF0 commands and data");

    for i in 0..cases {
        let (session, split) = valid_session(&mut rng);
        // One in ten goes unmutated: a whole refused publish.
        let bytes = if i % 10 == 0 {
            session
        } else {
            mutate(&mut rng, session)
        };
        throw_session(rtmp, &bytes, split);
        thrown += 1;
    }
    tool.assert_alive("mutated publishing sessions");

    // A crowd at once: idle, half-handshaken and garbage-sending connections.
    let crowd: Vec<_> = (0..120)
        .map(|i| {
            let garbage = rng.bytes(1 + (i * 37) % 2000);
            std::thread::spawn(move || match i % 3 {
                0 => throw_raw(rtmp, &garbage[..1.min(garbage.len())]),
                1 => throw_raw(rtmp, &garbage),
                _ => throw_after_handshake(rtmp, &garbage),
            })
        })
        .collect();
    for connection in crowd {
        let _ = connection.join();
    }
    thrown += 120;
    tool.assert_alive("120 connections at once");

    let elapsed = started.elapsed();
    println!(
        "{thrown} hostile connections in {:.1} s (seed {seed:#x}, {cases} per random family)",
        elapsed.as_secs_f64()
    );
    println!("how they ended (the tool's log, numbers left out):");
    for (count, reason) in ending_reasons(&tool.stderr()) {
        println!("{count:6}  {reason}");
    }

    // A real encoder still gets in, and its samples reach the endpoint.
    publish_and_see_samples(&mut tool);
    tool.assert_alive("the real publish");
}

/// The tool's log lines about connections, grouped without the numbers
/// (addresses, sizes), most frequent first.
fn ending_reasons(log: &str) -> Vec<(usize, String)> {
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for line in log.lines() {
        let Some(rest) = line.strip_prefix("rtmp") else {
            continue;
        };
        let reason = rest
            .split_once(": ")
            .map_or(rest, |(_, reason)| reason)
            .chars()
            .filter(|c| !c.is_ascii_digit())
            .collect::<String>();
        *counts.entry(reason).or_default() += 1;
    }
    let mut sorted: Vec<_> = counts.into_iter().map(|(r, c)| (c, r)).collect();
    sorted.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    sorted
}

/// Creates a stream and a signing key over the API, publishes to it with
/// ffmpeg, and waits for a numeric deviation on the stats endpoint.
fn publish_and_see_samples(tool: &mut Tool) {
    let credentials = tool.credentials.clone();
    let (status, body) = http_request(
        tool.http,
        "POST",
        "/video/v1/live-streams",
        Some(&credentials),
        "{}",
    )
    .expect("create a stream");
    assert_eq!(status, 201, "{body}");
    let stream: Value = serde_json::from_str(&body).expect("JSON");
    let stream_id = stream["data"]["id"].as_str().expect("id").to_owned();
    let stream_key = stream["data"]["stream_key"]
        .as_str()
        .expect("key")
        .to_owned();
    let (status, body) = http_request(
        tool.http,
        "POST",
        "/system/v1/signing-keys",
        Some(&credentials),
        "",
    )
    .expect("create a key");
    assert_eq!(status, 201, "{body}");
    let key: Value = serde_json::from_str(&body).expect("JSON");
    let pem = token::read_key(key["data"]["private_key"].as_str().expect("key")).expect("PEM");
    let jwt = token::mint(
        &pem,
        key["data"]["id"].as_str().expect("kid"),
        &stream_id,
        Duration::from_secs(600),
    )
    .expect("mint");

    let url = format!("rtmp://{}/live/{stream_key}", tool.rtmp);
    let mut ffmpeg = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-re"])
        .args(["-f", "lavfi", "-i", "testsrc=size=160x120:rate=15"])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-g", "15"])
        .args(["-t", "30", "-f", "flv", &url])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("ffmpeg starts (Debian package `ffmpeg`)");
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last = String::new();
    let seen = loop {
        let (status, body) = http_get(tool.http, &format!("/live-stream-health?token={jwt}"), None)
            .expect("stats endpoint");
        assert_eq!(status, 200, "{body}");
        let json: Value = serde_json::from_str(&body).expect("JSON");
        let deviation =
            &json["data"][0]["ingest_health"]["stream_drift_deviation_from_rolling_avg"];
        if deviation.is_number() {
            break true;
        }
        last = body;
        if Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    let _ = ffmpeg.kill();
    let _ = ffmpeg.wait();
    assert!(
        seen,
        "no sample from a real ffmpeg publish within 20 s; last answer {last}\n{}",
        tool.stderr()
    );
}

//! The stand-in's HTTP servers under clients that hold connections: a
//! request head that never completes is cut off after the head deadline,
//! and connections beyond the limit get a short `503` and are closed. Raw
//! sockets on 127.0.0.1, so nothing completes a request behind our back.
#![cfg(feature = "server")]

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use live_stream_health::server::http_accept::{HEAD_TIMEOUT, MAX_CONNECTIONS};
use live_stream_health::server::standin::{self, Config, RtmpListen};
use live_stream_health::server::statics;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lsh-limits-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Reads until the server closes the connection; `Err` with what was read
/// so far if it is still open after `limit`.
fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Result<String, String> {
    let deadline = Instant::now() + limit;
    let mut response = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(String::from_utf8_lossy(&response).into_owned());
        }
        stream.set_read_timeout(Some(left)).expect("timeout");
        match stream.read(&mut buffer) {
            Ok(0) => return Ok(String::from_utf8_lossy(&response).into_owned()),
            Ok(n) => response.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => {
                return Ok(String::from_utf8_lossy(&response).into_owned())
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(String::from_utf8_lossy(&response).into_owned())
            }
            Err(e) => return Err(format!("{e}")),
        }
    }
}

fn get_health(addr: SocketAddr) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("send");
    read_until_closed(&mut stream, Duration::from_secs(10)).expect("an answer")
}

/// Half a request head, and no head at all: both cut off in time.
fn check_head_deadline(addr: SocketAddr, what: &str) {
    let started = Instant::now();
    let mut half = TcpStream::connect(addr).expect("connect");
    half.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .expect("send");
    let mut silent = TcpStream::connect(addr).expect("connect");
    let limit = HEAD_TIMEOUT + Duration::from_secs(5);
    for (name, stream) in [("half a head", &mut half), ("no head", &mut silent)] {
        let answer = read_until_closed(stream, limit.saturating_sub(started.elapsed()))
            .unwrap_or_else(|so_far| {
                panic!("{what}: {name} still held after {limit:?} (read {so_far:?})")
            });
        assert!(!answer.contains(" 200 "), "{what}: {name}: {answer}");
    }
    let held = started.elapsed();
    assert!(
        held >= HEAD_TIMEOUT.saturating_sub(Duration::from_secs(1)),
        "{what}: cut off after {held:?}, before the deadline"
    );
}

/// `MAX_CONNECTIONS` idle connections, then one more: `503`, closed; the
/// server still answers once they go.
fn check_connection_limit(addr: SocketAddr, what: &str) {
    let mut held: Vec<TcpStream> = Vec::new();
    for _ in 0..MAX_CONNECTIONS {
        held.push(TcpStream::connect(addr).expect("connect"));
    }
    // Accepted in order: once the server has taken the first ones, the
    // extra one is beyond the limit.
    std::thread::sleep(Duration::from_millis(300));
    let mut extra = TcpStream::connect(addr).expect("connect");
    let answer = read_until_closed(&mut extra, Duration::from_secs(5))
        .unwrap_or_else(|so_far| panic!("{what}: no answer beyond the limit (read {so_far:?})"));
    assert!(
        answer.starts_with("HTTP/1.1 503 "),
        "{what}: beyond the limit: {answer:?}"
    );
    assert!(
        answer.ends_with("too many connections\n"),
        "{what}: {answer:?}"
    );
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("access-control-allow-origin: *"),
        "{what}: {answer:?}"
    );
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let answer = get_health(addr);
        if answer.starts_with("HTTP/1.1 200 ") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: after the crowd: {answer:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_standin_cuts_off_slow_heads_and_refuses_beyond_its_limit() {
    let dir = temp_dir("standin");
    let mut config = Config::new(&dir);
    config.rtmp_listen = RtmpListen::Off;
    let server = standin::spawn(config).expect("starts");
    let addr = server.addr();
    // One after the other: slow heads opened after a crowd that fills the
    // limit would be refused at once, not held until the deadline.
    check_head_deadline(addr, "stand-in");
    check_connection_limit(addr, "stand-in");
    server.shutdown().expect("stops");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_static_server_cuts_off_slow_heads_and_refuses_beyond_its_limit() {
    let dir = temp_dir("statics");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("index.html"), "<p>index</p>").expect("index");
    std::fs::write(dir.join("health"), "ok").expect("health file");
    let server = statics::spawn(&dir, SocketAddr::from(([127, 0, 0, 1], 0))).expect("serves");
    let addr = server.addr();
    check_head_deadline(addr, "static server");
    check_connection_limit(addr, "static server");
    server.shutdown().expect("stops");
    let _ = std::fs::remove_dir_all(dir);
}

//! The scripted test server, exercised over real HTTP on 127.0.0.1 (test
//! scaffolding: feature `testkit`).
#![cfg(feature = "testkit")]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use live_stream_health::server::testserver::{self, TestServer};
use serde_json::Value;

fn start() -> TestServer {
    let addr: SocketAddr = "127.0.0.1:0".parse().expect("literal address");
    testserver::spawn(addr).expect("test server starts")
}

/// Sends one raw request and returns the whole response (head and body).
fn raw(addr: SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read");
    String::from_utf8_lossy(&response).into_owned()
}

fn get(addr: SocketAddr, path: &str) -> (u16, String, String) {
    let response = raw(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"),
    );
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_owned(), body.to_owned())
}

fn health(addr: SocketAddr, run: &str, steps: &str) -> (u16, String, String) {
    get(
        addr,
        &format!("/s/{run}/{steps}/live-stream-health?token=t"),
    )
}

fn ingest(body: &str) -> Value {
    let value: Value = serde_json::from_str(body).expect("json body");
    value["data"][0]["ingest_health"].clone()
}

#[test]
fn steps_advance_per_request_and_the_last_repeats() {
    let server = start();
    let addr = server.addr();
    let statuses: Vec<Value> = (0..4)
        .map(|_| ingest(&health(addr, "seq", "excellent,good,poor").2)["status"].clone())
        .collect();
    assert_eq!(statuses, ["excellent", "good", "poor", "poor"]);
    // Another run with the same steps has its own counter.
    assert_eq!(
        ingest(&health(addr, "seq2", "excellent,good,poor").2)["status"],
        "excellent"
    );
}

#[test]
fn valid_bodies_have_the_contract_shape_and_distinct_times() {
    let server = start();
    let addr = server.addr();
    let first = ingest(&health(addr, "shape", "excellent,good,poor,unknown").2);
    assert_eq!(first["stream_drift_session_avg"], 384);
    assert_eq!(first["stream_drift_deviation_from_rolling_avg"], 12);
    let time = first["updated_at"].as_str().expect("updated_at string");
    assert_eq!(time.len(), 19, "{time}");
    assert!(!time.ends_with('Z'));
    let good = ingest(&health(addr, "shape", "excellent,good,poor,unknown").2);
    assert_eq!(good["stream_drift_deviation_from_rolling_avg"], 800);
    assert!(good["updated_at"].as_str() > Some(time));
    let poor = ingest(&health(addr, "shape", "excellent,good,poor,unknown").2);
    assert_eq!(poor["stream_drift_deviation_from_rolling_avg"], -1500);
    let unknown = ingest(&health(addr, "shape", "excellent,good,poor,unknown").2);
    assert_eq!(unknown["status"], "unknown");
    assert!(unknown["stream_drift_session_avg"].is_null());
}

#[test]
fn same_repeats_the_previous_body_exactly() {
    let server = start();
    let addr = server.addr();
    let first = health(addr, "same", "good,same").2;
    let second = health(addr, "same", "good,same").2;
    assert_eq!(first, second);
}

#[test]
fn odd_bodies_are_served_as_scripted() {
    let server = start();
    let addr = server.addr();
    let strange = ingest(&health(addr, "odd", "strange").2);
    assert_eq!(strange["status"], "marvellous");
    let nostatus = ingest(&health(addr, "odd", "nostatus").2);
    assert!(nostatus.get("status").is_none());
    assert_eq!(nostatus["stream_drift_deviation_from_rolling_avg"], 1200);
    let strnum = ingest(&health(addr, "odd", "strnum").2);
    assert_eq!(strnum["stream_drift_session_avg"], "384");
    assert_eq!(health(addr, "odd", "empty").2, r#"{"data":[]}"#);
    assert_eq!(health(addr, "odd", "notarray").2, r#"{"data":{}}"#);
    let zoned = ingest(&health(addr, "odd", "zoned").2);
    assert!(zoned["updated_at"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
    let garbage = ingest(&health(addr, "odd", "garbage-time").2);
    assert_eq!(garbage["updated_at"], "yesterday");
    let markup = ingest(&health(addr, "odd", "markup").2);
    assert_eq!(markup["status"], "<img src=x onerror=alert(1)>");
    let (status, head, body) = health(addr, "odd", "html");
    assert_eq!(status, 200);
    assert!(head.contains("text/html"));
    assert!(body.starts_with("<!DOCTYPE html>"));
    let trunc = health(addr, "odd", "trunc").2;
    assert!(serde_json::from_str::<Value>(&trunc).is_err());
    let huge = health(addr, "odd", "huge").2;
    assert!(huge.len() >= 5 * 1024 * 1024);
    assert_eq!(ingest(&huge)["status"], "excellent");
}

#[test]
fn future_is_an_hour_ahead() {
    let server = start();
    let addr = server.addr();
    let now = ingest(&health(addr, "fut", "excellent").2)["updated_at"].clone();
    let future = ingest(&health(addr, "fut2", "future").2)["updated_at"].clone();
    let hour = |v: &Value| v.as_str().map(|t| t[11..13].to_owned());
    assert_ne!(hour(&now), hour(&future));
}

#[test]
fn error_steps_carry_their_status_and_retry_after() {
    let server = start();
    let addr = server.addr();
    for (step, want) in [
        ("e500", 500),
        ("e502", 502),
        ("e503", 503),
        ("e401", 401),
        ("e403", 403),
        ("e404", 404),
        ("e429", 429),
    ] {
        let (status, head, body) = health(addr, "err", step);
        assert_eq!(status, want, "{step}");
        assert!(!head.contains("\nRetry-After:"), "{step}");
        let value: Value = serde_json::from_str(&body).expect("json error body");
        assert!(value["error"]["messages"].is_array(), "{step}");
    }
    let (status, head, _) = health(addr, "err", "e429ra3");
    assert_eq!(status, 429);
    assert!(head.contains("\nRetry-After: 3"));
}

#[test]
fn every_response_and_preflight_carries_cors_and_no_store() {
    let server = start();
    let addr = server.addr();
    for (_, head, _) in [
        health(addr, "cors", "excellent"),
        health(addr, "cors2", "e503"),
        get(addr, "/health"),
        get(addr, "/nowhere"),
    ] {
        assert!(head.contains("Access-Control-Allow-Origin: *"), "{head}");
        assert!(head.contains("Cache-Control: no-store"), "{head}");
    }
    let preflight = raw(
        addr,
        "OPTIONS /s/x/excellent/live-stream-health?token=t HTTP/1.1\r\nHost: t\r\n\
Origin: http://localhost:8080\r\nAccess-Control-Request-Method: GET\r\n\r\n",
    );
    assert!(preflight.starts_with("HTTP/1.1 204"), "{preflight}");
    assert!(preflight.contains("Access-Control-Allow-Origin: *"));
    assert!(preflight.contains("Access-Control-Allow-Headers: *"));
}

#[test]
fn reset_closes_without_a_response() {
    let server = start();
    let response = raw(
        server.addr(),
        "GET /s/r/reset/live-stream-health?token=t HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    assert_eq!(response, "");
}

#[test]
fn hang_is_in_flight_until_the_client_leaves() {
    let server = start();
    let addr = server.addr();
    let mut client = TcpStream::connect(addr).expect("connect");
    client
        .write_all(b"GET /s/hang/hang/live-stream-health?token=t HTTP/1.1\r\nHost: t\r\n\r\n")
        .expect("send");
    let stats = |wanted: u64| -> Value {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let stats: Value =
                serde_json::from_str(&get(addr, "/s/hang/hang/stats").2).expect("stats json");
            if stats["in_flight"] == wanted || Instant::now() > deadline {
                return stats;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    let during = stats(1);
    assert_eq!(during["in_flight"], 1);
    assert_eq!(during["requests"], 1);
    drop(client);
    let after = stats(0);
    assert_eq!(after["in_flight"], 0);
    assert_eq!(after["max_in_flight"], 1);
}

#[test]
fn drip_sends_headers_then_a_byte_at_a_time() {
    let server = start();
    let mut client = TcpStream::connect(server.addr()).expect("connect");
    client
        .set_read_timeout(Some(Duration::from_millis(2500)))
        .expect("timeout");
    client
        .write_all(b"GET /s/drip/drip/live-stream-health?token=t HTTP/1.1\r\nHost: t\r\n\r\n")
        .expect("send");
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    while started.elapsed() < Duration::from_millis(2200) {
        match client.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => received.extend_from_slice(&buffer[..n]),
        }
    }
    let text = String::from_utf8_lossy(&received);
    let (head, body) = text.split_once("\r\n\r\n").expect("headers arrive at once");
    assert!(head.starts_with("HTTP/1.1 200"));
    assert!((1..=4).contains(&body.len()), "{body:?}");
}

#[test]
fn concurrent_requests_are_counted() {
    let server = start();
    let addr = server.addr();
    let clients: Vec<TcpStream> = (0..3)
        .map(|_| {
            let mut client = TcpStream::connect(addr).expect("connect");
            client
                .write_all(
                    b"GET /s/conc/hang/live-stream-health?token=t HTTP/1.1\r\nHost: t\r\n\r\n",
                )
                .expect("send");
            client
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut stats: Value = Value::Null;
    while Instant::now() < deadline {
        stats = serde_json::from_str(&get(addr, "/s/conc/x/stats").2).expect("stats json");
        if stats["in_flight"] == 3 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(stats["max_in_flight"], 3, "{stats}");
    // Arrival times: one per request, the first at 0, in order.
    let arrivals: Vec<u64> = stats["arrivals_ms"]
        .as_array()
        .expect("arrivals")
        .iter()
        .filter_map(Value::as_u64)
        .collect();
    assert_eq!(arrivals.len(), 3, "{stats}");
    assert_eq!(arrivals[0], 0);
    assert!(arrivals.windows(2).all(|w| w[0] <= w[1]), "{stats}");
    drop(clients);
    assert_eq!(get(addr, "/health").2, "ok\n");
    server.shutdown().expect("clean shutdown");
}

#[test]
fn a_request_head_that_never_completes_is_cut_off() {
    use live_stream_health::server::http_accept::HEAD_TIMEOUT;
    let server = start();
    let started = Instant::now();
    let mut half = TcpStream::connect(server.addr()).expect("connect");
    half.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .expect("send");
    half.set_read_timeout(Some(HEAD_TIMEOUT + Duration::from_secs(5)))
        .expect("timeout");
    let mut answer = Vec::new();
    let read = half.read_to_end(&mut answer);
    assert!(
        read.is_ok(),
        "still held after {:.1} s: {read:?}",
        started.elapsed().as_secs_f64()
    );
    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
    assert!(started.elapsed() >= HEAD_TIMEOUT - Duration::from_secs(1));
}

#[test]
fn connections_beyond_the_limit_get_a_503() {
    use live_stream_health::server::http_accept::MAX_CONNECTIONS;
    let server = start();
    let addr = server.addr();
    let held: Vec<TcpStream> = (0..MAX_CONNECTIONS)
        .map(|_| TcpStream::connect(addr).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut extra = TcpStream::connect(addr).expect("connect");
    extra
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut answer = Vec::new();
    let _ = extra.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 503 "), "{answer:?}");
    assert!(answer.ends_with("too many connections\n"), "{answer:?}");
    drop(held);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(get(addr, "/health").0, 200);
}

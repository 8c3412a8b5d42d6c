//! The static widget server (`demo-backend --serve-dir`) over real HTTP on
//! 127.0.0.1: it serves the files under its root and nothing else, whatever
//! the encoding of the path. Requests go out on a raw TCP socket so the
//! request target reaches the server exactly as written (no client
//! normalises `..`, `//` or escapes away).
#![cfg(feature = "server")]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use live_stream_health::server::statics::{self, StaticServer};

/// What the file outside the served root holds; it must never be sent.
const SECRET: &str = "SECRET-9f3c1e: the demo's private signing key";
/// What the served root's index.html holds.
const INDEX: &str = "<p>widget index</p>";

/// A served root and, next to it, a directory with the secret file:
/// `<base>/root/{index.html, app.js, sub/page.html, link -> ../secret/secret.txt,
/// linkdir -> ../secret}` and `<base>/secret/secret.txt`.
struct Site {
    base: PathBuf,
    root: PathBuf,
    secret: PathBuf,
    server: StaticServer,
}

impl Site {
    fn new(name: &str) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let base = std::env::temp_dir().join(format!(
            "lsh-statics-{name}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&base);
        let root = base.join("root");
        let secret_dir = base.join("secret");
        std::fs::create_dir_all(root.join("sub")).expect("root");
        std::fs::create_dir_all(&secret_dir).expect("secret dir");
        std::fs::write(root.join("index.html"), INDEX).expect("index");
        std::fs::write(root.join("app.js"), "console.log('app')").expect("app");
        std::fs::write(root.join("sub/page.html"), "<p>sub page</p>").expect("sub");
        std::fs::write(root.join(".hidden"), SECRET).expect("dotfile");
        let secret = secret_dir.join("secret.txt");
        std::fs::write(&secret, SECRET).expect("secret");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&secret, root.join("link.txt")).expect("symlink");
            std::os::unix::fs::symlink(&secret_dir, root.join("linkdir")).expect("symlink");
        }
        let server = statics::spawn(&root, SocketAddr::from(([127, 0, 0, 1], 0))).expect("serves");
        Self {
            base,
            root,
            secret,
            server,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.server.addr()
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

/// Sends `GET <target>` as-is; returns the status and the whole response.
fn get_raw(addr: SocketAddr, target: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let request = format!("GET {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, response)
}

/// Percent-encodes every byte of `path` except unreserved characters, so
/// `/` becomes `%2F` (or `%2f` with `lower`).
fn encode_all(path: &str, lower: bool) -> String {
    path.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_~".contains(&b) {
                (b as char).to_string()
            } else if lower {
                format!("%{b:02x}")
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// How many `..` lead from the served root to the filesystem root.
fn depth(root: &Path) -> usize {
    root.components().count()
}

#[test]
fn files_under_the_root_are_served() {
    let site = Site::new("ok");
    let (status, response) = get_raw(site.addr(), "/app.js");
    assert_eq!(status, 200, "{response}");
    assert!(response.ends_with("console.log('app')"), "{response}");
    let (status, response) = get_raw(site.addr(), "/sub/page.html");
    assert_eq!(status, 200, "{response}");
    let (status, response) = get_raw(site.addr(), "/");
    assert_eq!(status, 200, "{response}");
    assert!(response.ends_with(INDEX), "{response}");
    // A client-side route (no extension) falls back to the index.
    let (status, response) = get_raw(site.addr(), "/monitor/stream");
    assert_eq!(status, 200, "{response}");
    assert!(response.ends_with(INDEX), "{response}");
    // An escaped but harmless name is still found.
    let (status, _) = get_raw(site.addr(), "/%61pp.js");
    assert_eq!(status, 200);
}

#[test]
fn no_encoding_of_a_path_reaches_a_file_outside_the_root() {
    let site = Site::new("escape");
    let secret = site.secret.to_string_lossy().into_owned();
    let up = "../".repeat(depth(&site.root));
    let up_to_secret = format!("{up}{}", secret.trim_start_matches('/'));
    let mut targets: Vec<String> = vec![
        // Absolute paths smuggled in one segment.
        format!("/{}", encode_all(&secret, false)),
        format!("/{}", encode_all(&secret, true)),
        format!("/%2F{}", secret.trim_start_matches('/').replace('/', "%2f")),
        "/%2Fetc%2Fpasswd".to_owned(),
        // Traversal with escaped slashes and dots, mixed case.
        format!("/..%2F{}", up_to_secret.replace('/', "%2F")),
        format!("/..%2f..%2F{}", up_to_secret.replace('/', "%2f")),
        "/..%2Fsecret%2Fsecret.txt".to_owned(),
        "/%2e%2e/secret/secret.txt".to_owned(),
        "/%2E%2E%2Fsecret%2Fsecret.txt".to_owned(),
        "/.%2e/secret/secret.txt".to_owned(),
        "/%2e./secret/secret.txt".to_owned(),
        "/sub/%2e%2e/%2e%2e/secret/secret.txt".to_owned(),
        // Double encoding: decoded once it is a literal name, never a path.
        "/%252e%252e%252fsecret%252fsecret.txt".to_owned(),
        "/%252e%252e/secret/secret.txt".to_owned(),
        // Overlong UTF-8 for '.' and '/'.
        "/%c0%ae%c0%ae/secret/secret.txt".to_owned(),
        "/%c0%ae%c0%ae%c0%afsecret%c0%afsecret.txt".to_owned(),
        "/%e0%80%ae%e0%80%ae/secret/secret.txt".to_owned(),
        // Backslashes, raw and escaped.
        "/..%5csecret%5csecret.txt".to_owned(),
        "/..%5Csecret%5Csecret.txt".to_owned(),
        "/sub%5c..%5c..%5csecret%5csecret.txt".to_owned(),
        // Path parameters.
        "/..;/secret/secret.txt".to_owned(),
        "/sub/..;/..;/secret/secret.txt".to_owned(),
        "/%2e%2e;x=1/secret/secret.txt".to_owned(),
        // Doubled slashes.
        format!("//{}", secret.trim_start_matches('/')),
        format!("/.//{}", secret.trim_start_matches('/')),
        "//etc/passwd".to_owned(),
        // NUL and drive prefixes.
        "/secret.txt%00.js".to_owned(),
        "/..%00/secret/secret.txt".to_owned(),
        "/c:%5csecret.txt".to_owned(),
        "/C%3A%2Fsecret.txt".to_owned(),
        // Hidden files inside the root.
        "/.hidden".to_owned(),
        "/%2ehidden".to_owned(),
        // Symlinks inside the root that point out of it.
        "/link.txt".to_owned(),
        "/linkdir/secret.txt".to_owned(),
        "/linkdir/".to_owned(),
        "/linkdir".to_owned(),
    ];
    // Plain `..` (sent as written: no client cleans it up).
    targets.push(format!("/{up_to_secret}"));
    targets.push("/../secret/secret.txt".to_owned());
    for target in &targets {
        let (status, response) = get_raw(site.addr(), target);
        assert!(
            !response.contains(SECRET),
            "{target} disclosed the secret: {response}"
        );
        assert_eq!(status, 404, "{target}: {response}");
        assert!(
            !response.contains(&*site.base.to_string_lossy()),
            "{target}: the answer names a path: {response}"
        );
    }
}

#[test]
fn request_targets_that_are_not_paths_disclose_nothing() {
    let site = Site::new("targets");
    let secret = site.secret.to_string_lossy().into_owned();
    for target in [
        format!("http://test/..%2F..%2F{}", secret.replace('/', "%2F")),
        format!("..{secret}"),
        secret.clone(),
        "*".to_owned(),
        format!("/%{}", "zz"),
    ] {
        let (status, response) = get_raw(site.addr(), &target);
        assert!(
            !response.contains(SECRET),
            "{target} disclosed the secret: {response}"
        );
        assert!((400..500).contains(&status), "{target}: {response}");
        assert!(
            !response.contains(&*site.base.to_string_lossy()),
            "{target}: the answer names a path: {response}"
        );
    }
}

#[test]
fn a_directory_without_an_index_is_never_listed() {
    let site = Site::new("listing");
    std::fs::create_dir_all(site.root.join("assets")).expect("dir");
    std::fs::write(site.root.join("assets/a.css"), "a{}").expect("file");
    for target in ["/assets/", "/assets"] {
        let (status, response) = get_raw(site.addr(), target);
        assert!(!response.contains("a.css"), "{target}: {response}");
        // No listing: the client-side route fallback (the root's index).
        assert_eq!(status, 200, "{target}: {response}");
        assert!(response.ends_with(INDEX), "{target}: {response}");
    }
}

// ---------------------------------------------------------------------------
// Served as a CDN serves it: precompressed, hashed assets immutable, the
// page revalidated.

/// The widget's bundle as trunk names it: a page, hashed assets, and an
/// unhashed copied file. The wasm stand-in is text that compresses well.
fn bundle_site(name: &str) -> Site {
    let site = Site::new(name);
    let wasm: String = (0..4000).map(|i| format!("(func ${i})")).collect();
    std::fs::write(site.root.join("app-0123456789abcdef_bg.wasm"), &wasm).expect("wasm");
    std::fs::write(
        site.root.join("app-0123456789abcdef.js"),
        "function start(){}".repeat(200),
    )
    .expect("js");
    std::fs::write(site.root.join("embed.js"), "class Element{}".repeat(200)).expect("embed");
    site
}

/// One exchange: `GET target` with extra request header lines; the status,
/// the response head (lower-case names) and the body bytes.
struct Exchange {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Exchange {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

fn exchange(addr: SocketAddr, method: &str, target: &str, extra: &[(&str, &str)]) -> Exchange {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut request = format!("{method} {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    for (name, value) in extra {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| {
            let (key, value) = l.split_once(':')?;
            Some((key.trim().to_ascii_lowercase(), value.trim().to_owned()))
        })
        .collect();
    Exchange {
        status,
        headers,
        body: response[split + 4..].to_vec(),
    }
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(bytes, 4096)
        .read_to_end(&mut out)
        .expect("valid brotli");
    out
}

/// Asks for `target` with brotli preferred until brotli comes: a request
/// never waits for brotli, so until the server has compressed the file
/// (in the background) it answers with gzip. Gives up after a minute and
/// returns the last answer, for the caller's assertions to name.
fn exchange_brotli(addr: SocketAddr, method: &str, target: &str) -> Exchange {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let answer = exchange(addr, method, target, &[("Accept-Encoding", "br, gzip")]);
        let encoding = answer.header("content-encoding").map(str::to_owned);
        if encoding.as_deref() == Some("br") || std::time::Instant::now() > deadline {
            return answer;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn each_file_goes_out_in_the_encoding_the_browser_prefers() {
    let site = bundle_site("encodings");
    for file in [
        "app-0123456789abcdef_bg.wasm",
        "app-0123456789abcdef.js",
        "embed.js",
    ] {
        let original = std::fs::read(site.root.join(file)).expect("original");
        let target = format!("/{file}");
        // What Chromium prefers: brotli (gzip until it is ready).
        let br = exchange_brotli(site.addr(), "GET", &target);
        assert_eq!(br.status, 200, "{file}");
        assert_eq!(br.header("content-encoding"), Some("br"), "{file}");
        assert_eq!(br.header("vary"), Some("Accept-Encoding"), "{file}");
        assert!(
            br.body.len() < original.len() / 4,
            "{file}: {}",
            br.body.len()
        );
        assert_eq!(unbrotli(&br.body), original, "{file}");
        // Without brotli: gzip.
        let gz = exchange(site.addr(), "GET", &target, &[("Accept-Encoding", "gzip")]);
        assert_eq!(gz.header("content-encoding"), Some("gzip"), "{file}");
        assert_eq!(gz.header("vary"), Some("Accept-Encoding"), "{file}");
        assert_eq!(gunzip(&gz.body), original, "{file}");
        // Brotli refused with q=0: gzip.
        let refused = exchange(
            site.addr(),
            "GET",
            &target,
            &[("Accept-Encoding", "br;q=0, gzip;q=0.5")],
        );
        assert_eq!(refused.header("content-encoding"), Some("gzip"), "{file}");
        // No Accept-Encoding: the file as it is, still marked as varying.
        let plain = exchange(site.addr(), "GET", &target, &[]);
        assert_eq!(plain.header("content-encoding"), None, "{file}");
        assert_eq!(plain.header("vary"), Some("Accept-Encoding"), "{file}");
        assert_eq!(plain.body, original, "{file}");
        // Three representations, three tags.
        let tags = [br.header("etag"), gz.header("etag"), plain.header("etag")];
        assert!(tags.iter().all(Option::is_some), "{file}: {tags:?}");
        assert!(tags[0] != tags[1] && tags[1] != tags[2] && tags[0] != tags[2]);
        // Content-Length is the bytes actually sent.
        assert_eq!(
            br.header("content-length"),
            Some(br.body.len().to_string().as_str())
        );
    }
}

#[test]
fn hashed_assets_are_immutable_and_the_page_is_revalidated() {
    let site = bundle_site("caching");
    for hashed in ["/app-0123456789abcdef_bg.wasm", "/app-0123456789abcdef.js"] {
        let response = exchange(site.addr(), "GET", hashed, &[("Accept-Encoding", "br")]);
        assert_eq!(response.status, 200, "{hashed}");
        assert_eq!(
            response.header("cache-control"),
            Some("public, max-age=31536000, immutable"),
            "{hashed}"
        );
    }
    for unhashed in ["/", "/index.html", "/embed.js", "/monitor/route"] {
        let first = exchange_brotli(site.addr(), "GET", unhashed);
        assert_eq!(first.status, 200, "{unhashed}");
        assert_eq!(
            first.header("cache-control"),
            Some("no-cache"),
            "{unhashed}"
        );
        let etag = first.header("etag").expect("an etag").to_owned();
        // The browser revalidates with the tag of the copy it holds.
        let again = exchange(
            site.addr(),
            "GET",
            unhashed,
            &[("Accept-Encoding", "br"), ("If-None-Match", &etag)],
        );
        assert_eq!(again.status, 304, "{unhashed}");
        assert!(again.body.is_empty(), "{unhashed}: a 304 has no body");
        assert_eq!(again.header("etag"), Some(etag.as_str()));
    }
    // The brotli copy's tag does not stand for the uncompressed copy.
    let br = exchange(
        site.addr(),
        "GET",
        "/embed.js",
        &[("Accept-Encoding", "br")],
    );
    let etag = br.header("etag").expect("an etag").to_owned();
    let plain = exchange(site.addr(), "GET", "/embed.js", &[("If-None-Match", &etag)]);
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("content-encoding"), None);
}

#[test]
fn a_rebuilt_file_is_served_fresh_not_from_the_compressed_cache() {
    let site = bundle_site("rebuild");
    let first = exchange_brotli(site.addr(), "GET", "/embed.js");
    assert_eq!(unbrotli(&first.body), b"class Element{}".repeat(200));
    // A rebuild: new content, new size.
    let rebuilt = "class Rebuilt{}".repeat(300);
    std::fs::write(site.root.join("embed.js"), &rebuilt).expect("rebuild");
    let second = exchange_brotli(site.addr(), "GET", "/embed.js");
    assert_eq!(unbrotli(&second.body), rebuilt.as_bytes());
    assert_ne!(first.header("etag"), second.header("etag"));
    let gz = exchange(
        site.addr(),
        "GET",
        "/embed.js",
        &[("Accept-Encoding", "gzip")],
    );
    assert_eq!(gunzip(&gz.body), rebuilt.as_bytes());
}

#[test]
fn a_head_request_describes_the_compressed_copy_without_sending_it() {
    let site = bundle_site("head");
    let get = exchange_brotli(site.addr(), "GET", "/app-0123456789abcdef.js");
    let head = exchange_brotli(site.addr(), "HEAD", "/app-0123456789abcdef.js");
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-encoding"), Some("br"));
    assert_eq!(head.header("etag"), get.header("etag"));
}

#[test]
fn a_file_that_does_not_shrink_goes_out_as_it_is() {
    let site = bundle_site("incompressible");
    // Two bytes cannot shrink; an image type is never recompressed.
    std::fs::write(site.root.join("tiny.js"), "1;").expect("tiny");
    std::fs::write(site.root.join("logo.png"), "png".repeat(500)).expect("png");
    for target in ["/tiny.js", "/logo.png"] {
        let response = exchange(
            site.addr(),
            "GET",
            target,
            &[("Accept-Encoding", "br, gzip")],
        );
        assert_eq!(response.status, 200, "{target}");
        assert_eq!(response.header("content-encoding"), None, "{target}");
    }
    let png = exchange(site.addr(), "GET", "/logo.png", &[]);
    assert_eq!(png.header("vary"), None);
}

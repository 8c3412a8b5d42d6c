//! A small static file server for the built widget (`dist/`), so the demo can
//! be one process: `GET /path` serves `DIR/path`, a directory serves its
//! `index.html`, and an unknown path without a file extension falls back to
//! `DIR/index.html` (client-side routes). Unknown paths *with* an extension
//! are 404, so a missing `.wasm` fails loudly instead of returning HTML.
//!
//! **Only files under the root, ever.** The demo's data directory (with its
//! private signing key) sits on the same machine, so the path is checked
//! twice:
//! 1. *Lexically*, after percent-decoding each `/`-separated segment once:
//!    every segment must be a plain name. Refused (404, no fallback): a
//!    decoded `/` or `\`, NUL or another control character, `:` (drive
//!    prefixes), a name starting with `.` (`.`, `..`, `..;`, dotfiles), an
//!    empty segment other than a trailing one (`//`), bad escapes and
//!    decoded bytes that are not UTF-8 (overlong encodings such as
//!    `%c0%ae`), and any request target that is not an absolute path.
//!    Decoding happens exactly once, so `%252e` is the literal name `%2e`.
//! 2. *Physically*: the file found is canonicalised (symlinks resolved) and
//!    must still lie under the canonical root, so a symlink inside the root
//!    that points elsewhere is refused too.
//!
//! Refusals and misses are a bare `404` with an empty body: no directory
//! listing, no error text, no path is ever disclosed.
//!
//! Responses carry `Cache-Control: no-cache` so a rebuilt widget is picked up
//! on reload, with an `ETag` and a `Last-Modified` so that the check is a
//! `304 Not Modified` (as on any real static host or CDN) instead of the
//! whole bundle again: a reloaded monitor then starts from the browser's
//! cache, including its compiled WebAssembly. `If-None-Match` wins over
//! `If-Modified-Since` when a request carries both. Only `GET` and `HEAD` are
//! served.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;

use super::background::Background;
use super::http_accept;
use super::utc::format_http_date;
use crate::core::time::parse_http_date_ms;

/// A running static server; stops on [`StaticServer::shutdown`] or drop.
#[derive(Debug)]
pub struct StaticServer {
    inner: Background,
}

impl StaticServer {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr()
    }

    /// `http://ADDR/`.
    pub fn base_url(&self) -> String {
        format!("http://{}/", self.addr())
    }

    /// Stops the server and waits for it.
    pub fn shutdown(self) -> io::Result<()> {
        self.inner.stop()
    }
}

/// Serves `dir` on `addr` from a background thread.
pub fn spawn(dir: &Path, addr: SocketAddr) -> io::Result<StaticServer> {
    if !dir.join("index.html").is_file() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{} has no index.html", dir.display()),
        ));
    }
    // Canonical once, so every served file can be compared against it.
    let root = Arc::new(dir.canonicalize()?);
    let inner = Background::start("static", addr, move |listener, stop| async move {
        let app = Router::new().fallback(serve_file).with_state(root);
        http_accept::serve_router(listener, app, stop).await
    })?;
    Ok(StaticServer { inner })
}

async fn serve_file(State(root): State<Arc<PathBuf>>, request: Request) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let Some(path) = resolve(&root, request.uri().path()).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // Owned: a borrow of the request may not live across an await.
    let if_none_match = header_text(&request, header::IF_NONE_MATCH);
    let if_modified_since = header_text(&request, header::IF_MODIFIED_SINCE);
    let Ok(metadata) = tokio::fs::metadata(&path).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let validators = Validators::of(&metadata);
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static(content_type(&path)),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::ETAG, header_value(&validators.etag)),
        (
            header::LAST_MODIFIED,
            header_value(&validators.last_modified),
        ),
    ];
    if validators.not_modified(if_none_match.as_deref(), if_modified_since.as_deref()) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    match tokio::fs::read(&path).await {
        Ok(bytes) => (headers, bytes).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The file to serve for `url_path`: a canonical path under the canonical
/// `root`, or `None` (404) for a refused path or a miss.
async fn resolve(root: &Path, url_path: &str) -> Option<PathBuf> {
    let relative = safe_relative_path(url_path)?;
    let wanted = root.join(&relative);
    match inside(root, &wanted).await {
        Some(Place::File(file)) => return Some(file),
        Some(Place::Dir(dir)) => {
            if let Some(Place::File(index)) = inside(root, &dir.join("index.html")).await {
                return Some(index);
            }
        }
        // Something is there but leads outside (or is no file): refused.
        None if exists_at_all(&wanted).await => return None,
        None => {}
    }
    // A client-side route: a missing, extensionless path gets the index.
    if relative.extension().is_some() {
        return None;
    }
    match inside(root, &root.join("index.html")).await {
        Some(Place::File(index)) => Some(index),
        _ => None,
    }
}

/// What a path under the root is, once symlinks are resolved.
enum Place {
    File(PathBuf),
    Dir(PathBuf),
}

/// `path` canonicalised, if it exists and stays under `root` (already
/// canonical); `None` for a miss and for anything that leads outside.
async fn inside(root: &Path, path: &Path) -> Option<Place> {
    let canonical = tokio::fs::canonicalize(path).await.ok()?;
    if !canonical.starts_with(root) {
        return None;
    }
    let metadata = tokio::fs::metadata(&canonical).await.ok()?;
    if metadata.is_file() {
        Some(Place::File(canonical))
    } else if metadata.is_dir() {
        Some(Place::Dir(canonical))
    } else {
        None
    }
}

/// True when something (even a dangling or outward symlink) sits at `path`:
/// such a path is refused, not answered with the client-side route fallback.
async fn exists_at_all(path: &Path) -> bool {
    tokio::fs::symlink_metadata(path).await.is_ok()
}

fn header_text(request: &Request, name: header::HeaderName) -> Option<String> {
    let value = request.headers().get(name)?;
    value.to_str().ok().map(str::to_owned)
}

fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A file's cache validators: an `ETag` from its size and modification time
/// (a rebuild rewrites the file, so both change together with the content)
/// and its `Last-Modified` date.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Validators {
    etag: String,
    last_modified: String,
    /// Modification time in whole Unix seconds (HTTP dates have no finer unit).
    modified_secs: i64,
}

impl Validators {
    fn of(metadata: &std::fs::Metadata) -> Validators {
        let modified = metadata
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .unwrap_or_default();
        Validators::new(metadata.len(), modified.as_secs(), modified.subsec_nanos())
    }

    fn new(len: u64, secs: u64, nanos: u32) -> Validators {
        let modified_secs = i64::try_from(secs).unwrap_or(i64::MAX);
        Validators {
            etag: format!("\"{len:x}-{secs:x}-{nanos:x}\""),
            last_modified: format_http_date(modified_secs),
            modified_secs,
        }
    }

    /// True when a conditional request's copy is current (RFC 9110 13.2.2:
    /// `If-None-Match` is evaluated, with weak comparison, instead of
    /// `If-Modified-Since` when present).
    fn not_modified(&self, if_none_match: Option<&str>, if_modified_since: Option<&str>) -> bool {
        if let Some(tags) = if_none_match {
            return tags
                .split(',')
                .map(str::trim)
                .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == self.etag);
        }
        if_modified_since
            .and_then(parse_http_date_ms)
            .is_some_and(|since_ms| self.modified_secs.saturating_mul(1000) <= since_ms)
    }
}

/// The URL path as a relative filesystem path of plain names, or `None`
/// when any segment is not one (see the module docs).
fn safe_relative_path(url_path: &str) -> Option<PathBuf> {
    let rest = url_path.strip_prefix('/')?;
    let mut relative = PathBuf::new();
    let mut segments = rest.split('/').peekable();
    while let Some(raw) = segments.next() {
        let is_last = segments.peek().is_none();
        let segment = percent_decode(raw)?;
        if segment.is_empty() {
            // Only the root itself or a trailing slash (`/dir/`).
            if is_last {
                break;
            }
            return None;
        }
        if !is_plain_name(&segment) {
            return None;
        }
        relative.push(segment);
    }
    Some(relative)
}

/// A file or directory name that cannot mean anything but itself.
fn is_plain_name(name: &str) -> bool {
    !name.starts_with('.')
        && !name
            .chars()
            .any(|c| matches!(c, '/' | '\\' | ':') || c.is_control())
}

/// Decodes `%XX` escapes; `None` for bad escapes or non-UTF-8 results.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "json" => "application/json",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validators_answer_conditional_requests() {
        let file = Validators::new(51_093, 1_668_447_143, 250);
        assert_eq!(file.etag, "\"c795-63727ba7-fa\"");
        assert_eq!(file.last_modified, "Mon, 14 Nov 2022 17:32:23 GMT");
        // Unconditional: send the file.
        assert!(!file.not_modified(None, None));
        // If-None-Match: any listed tag, weak or strong, or `*`.
        assert!(file.not_modified(Some("\"c795-63727ba7-fa\""), None));
        assert!(file.not_modified(Some("\"x\", W/\"c795-63727ba7-fa\""), None));
        assert!(file.not_modified(Some("*"), None));
        assert!(!file.not_modified(Some("\"c795-63727ba7-fb\""), None));
        assert!(!file.not_modified(Some(""), None));
        // If-Modified-Since: not modified at or after the date.
        let at = Some("Mon, 14 Nov 2022 17:32:23 GMT");
        assert!(file.not_modified(None, at));
        assert!(file.not_modified(None, Some("Tue, 15 Nov 2022 00:00:00 GMT")));
        assert!(!file.not_modified(None, Some("Mon, 14 Nov 2022 17:32:22 GMT")));
        assert!(!file.not_modified(None, Some("yesterday")));
        // If-None-Match wins: a stale tag means send, whatever the date.
        assert!(!file.not_modified(Some("\"old\""), at));
    }

    #[tokio::test]
    async fn a_conditional_get_of_an_unchanged_file_is_304(
    ) -> Result<(), Box<dyn std::error::Error>> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let dir = std::env::temp_dir().join(format!("lsh-statics-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("index.html"), "<p>widget</p>")?;
        std::fs::write(dir.join("app.wasm"), [0u8, 97, 115, 109])?;
        let server = spawn(&dir, SocketAddr::from(([127, 0, 0, 1], 0)))?;
        let get = |extra: String| {
            let addr = server.addr();
            async move {
                let mut stream = tokio::net::TcpStream::connect(addr).await?;
                let head = format!(
                    "GET /app.wasm HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}\r\n"
                );
                stream.write_all(head.as_bytes()).await?;
                let mut response = String::new();
                stream.read_to_string(&mut response).await.map(|_| response)
            }
        };
        let first = get(String::new()).await?;
        assert!(first.starts_with("HTTP/1.1 200"), "{first}");
        let header = |response: &str, name: &str| {
            response
                .lines()
                .find_map(|l| {
                    let (key, value) = l.split_once(':')?;
                    key.eq_ignore_ascii_case(name)
                        .then(|| value.trim().to_owned())
                })
                .unwrap_or_default()
        };
        let etag = header(&first, "etag");
        let modified = header(&first, "last-modified");
        assert!(etag.starts_with('"') && etag.len() > 2, "{first}");
        assert!(parse_http_date_ms(&modified).is_some(), "{first}");
        assert_eq!(header(&first, "cache-control"), "no-cache");

        let by_tag = get(format!("If-None-Match: {etag}\r\n")).await?;
        assert!(by_tag.starts_with("HTTP/1.1 304"), "{by_tag}");
        assert_eq!(header(&by_tag, "etag"), etag);
        assert!(by_tag.ends_with("\r\n\r\n"), "a 304 has no body: {by_tag}");
        let by_date = get(format!("If-Modified-Since: {modified}\r\n")).await?;
        assert!(by_date.starts_with("HTTP/1.1 304"), "{by_date}");
        let changed = get("If-None-Match: \"other\"\r\n".into()).await?;
        assert!(changed.starts_with("HTTP/1.1 200"), "{changed}");

        server.shutdown()?;
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }

    #[test]
    fn paths_that_could_escape_are_refused() {
        assert_eq!(safe_relative_path("/a/b.js"), Some(PathBuf::from("a/b.js")));
        assert_eq!(safe_relative_path("/"), Some(PathBuf::new()));
        assert_eq!(safe_relative_path("/a/"), Some(PathBuf::from("a")));
        assert_eq!(safe_relative_path("/%61.js"), Some(PathBuf::from("a.js")));
        // Decoded once: a double-encoded dot is a literal (harmless) name.
        assert_eq!(
            safe_relative_path("/%252e%252e"),
            Some(PathBuf::from("%2e%2e"))
        );
        for bad in [
            "/../etc/passwd",
            "/a/%2e%2e/b",
            "/a\\b",
            "/%00",
            "/%zz",
            "/%2",
            "/c:/x",
            "/%2Fetc%2Fpasswd",
            "/%2fetc",
            "/..%2F..%2Fetc",
            "/a%5c..%5cb",
            "/%c0%ae%c0%ae/x",
            "/..;/x",
            "/.hidden",
            "/.",
            "//etc/passwd",
            "/a//b",
            "/a/%0a",
            "",
            "*",
            "etc/passwd",
        ] {
            assert_eq!(safe_relative_path(bad), None, "{bad}");
        }
    }
}

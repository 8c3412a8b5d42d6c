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
//! **Served the way a CDN serves a static site**, so the demo (and the
//! benchmarks on an emulated 4G link) see what a streamer on a real host sees:
//! - *Precompressed.* Each text or WebAssembly file is compressed once, with
//!   brotli (quality 11) and gzip (level 9), and the bytes are kept in memory
//!   next to the original; a request gets the representation its
//!   `Accept-Encoding` prefers (brotli over gzip at equal `q`, `q=0` refuses),
//!   with `Content-Encoding` and `Vary: Accept-Encoding`. A compressed copy is
//!   kept only when it is smaller. Files are compressed in the background
//!   when the server starts, and on first request otherwise; a file whose
//!   size or modification time changed (a rebuild) is read and compressed
//!   again. Files over [`MAX_CACHED_FILE`] are sent as they are.
//! - *Hashed assets are immutable.* A file whose name carries a build hash
//!   (trunk's `name-<16 hex digits>.ext` or `name-<hash>_bg.wasm`) gets
//!   `Cache-Control: public, max-age=31536000, immutable`: its content can
//!   never change under that name, so a returning visitor's browser uses it
//!   without asking.
//! - *Everything else (`index.html`, `embed.js`) is `no-cache`* with an
//!   `ETag` and a `Last-Modified`, so a reload revalidates with a
//!   `304 Not Modified` instead of the whole file, and a rebuilt widget is
//!   picked up at once. Each encoding has its own `ETag` (`"...-br"`,
//!   `"...-gz"`): they are different bytes. `If-None-Match` wins over
//!   `If-Modified-Since` when a request carries both.
//!
//! This is the default rather than an option: it costs a second or two of
//! one core at start for the demo's bundle, and there is no case where an
//! uncompressed, uncached widget is what a streamer should be shown. Only
//! `GET` and `HEAD` are served.
//!
//! **A request never waits for brotli.** Quality 11 takes seconds of a core
//! for the bundle's WebAssembly; a visitor who arrives before it is done
//! gets gzip (milliseconds), and brotli from then on. The compressed copies
//! are kept once per process, by canonical path and checked against the
//! file's size and modification time, and each file is compressed by one
//! thread at a time: the end-to-end tests start a server per test, several
//! at once, and compressing the bundle in each of them took the machine
//! long enough for pages to time out.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::UNIX_EPOCH;

use axum::body::Bytes;
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
    let site = Arc::new(Site {
        root: dir.canonicalize()?,
    });
    let served = Arc::clone(&site);
    let inner = Background::start("static", addr, move |listener, stop| async move {
        let app = Router::new().fallback(serve_file).with_state(served);
        http_accept::serve_router(listener, app, stop).await
    })?;
    // Precompress the bundle now rather than on the first visitor's request.
    // Detached: it ends on its own after one walk of the root.
    std::thread::Builder::new()
        .name("static-precompress".into())
        .spawn(move || site.precompress_all())?;
    Ok(StaticServer { inner })
}

/// The served root.
struct Site {
    root: PathBuf,
}

/// Every file's representations, for every static server of the process.
fn cache() -> &'static Mutex<HashMap<PathBuf, Arc<Representations>>> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Arc<Representations>>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Files some thread of the process is compressing with brotli now.
fn compressing() -> &'static Mutex<HashSet<PathBuf>> {
    static COMPRESSING: OnceLock<Mutex<HashSet<PathBuf>>> = OnceLock::new();
    COMPRESSING.get_or_init(|| Mutex::new(HashSet::new()))
}

/// Files larger than this are sent from disk as they are, never cached.
pub const MAX_CACHED_FILE: u64 = 32 * 1024 * 1024;
/// When the cache holds more than this, it starts over.
const MAX_CACHE_TOTAL: usize = 256 * 1024 * 1024;

impl Site {
    /// The cached representations of `path`, if still current.
    fn cached(&self, path: &Path, validators: &Validators) -> Option<Arc<Representations>> {
        let cache = cache().lock().unwrap_or_else(|e| e.into_inner());
        cache
            .get(path)
            .filter(|r| r.validators == *validators)
            .cloned()
    }

    /// Keeps `representations` of `path`, unless what is kept is as
    /// current and has brotli while this has not.
    fn remember(&self, path: PathBuf, representations: Arc<Representations>) {
        let mut cache = cache().lock().unwrap_or_else(|e| e.into_inner());
        let better_kept = cache.get(&path).is_some_and(|kept| {
            kept.validators == representations.validators
                && kept.brotli.is_some()
                && representations.brotli.is_none()
        });
        if better_kept {
            return;
        }
        let total: usize = cache.values().map(|r| r.size()).sum();
        if total + representations.size() > MAX_CACHE_TOTAL {
            cache.clear();
        }
        cache.insert(path, representations);
    }

    /// Reads and compresses every file under the root (a few levels deep,
    /// no symlinks, no dotfiles), so the first visitor is served from memory.
    fn precompress_all(&self) {
        let mut pending = vec![(self.root.clone(), 0)];
        while let Some((dir, depth)) = pending.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let hidden = entry.file_name().to_string_lossy().starts_with('.');
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                if hidden || kind.is_symlink() {
                    continue;
                }
                let path = entry.path();
                if kind.is_dir() && depth < 4 {
                    pending.push((path, depth + 1));
                } else if kind.is_file() {
                    self.compress_fully(path);
                }
            }
        }
    }
}

impl Site {
    /// Reads and compresses `path` with gzip and brotli and keeps the
    /// result, unless it is kept already or another thread is at it.
    fn compress_fully(&self, path: PathBuf) {
        if let Ok(metadata) = std::fs::metadata(&path) {
            let current = self.cached(&path, &Validators::of(&metadata));
            if current.is_some_and(|kept| kept.brotli.is_some() || !compressible(&path)) {
                return;
            }
        }
        if !compressing()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path.clone())
        {
            return;
        }
        if let Ok(Some(found)) = Representations::read(&path, true) {
            self.remember(path.clone(), Arc::new(found));
        }
        compressing()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&path);
    }
}

/// A file as the server sends it: its validators, its bytes, and the
/// compressed copies worth sending.
#[derive(Debug)]
struct Representations {
    validators: Validators,
    identity: Bytes,
    gzip: Option<Bytes>,
    brotli: Option<Bytes>,
}

impl Representations {
    /// Reads `path` and compresses it when its type compresses (with
    /// brotli too when `brotli`); `Ok(None)` for a file too large to cache.
    fn read(path: &Path, brotli: bool) -> io::Result<Option<Representations>> {
        let metadata = std::fs::metadata(path)?;
        if metadata.len() > MAX_CACHED_FILE {
            return Ok(None);
        }
        let validators = Validators::of(&metadata);
        let identity = std::fs::read(path)?;
        let (gzip, brotli) = if compressible(path) {
            let smaller =
                |packed: Vec<u8>| (packed.len() < identity.len()).then(|| Bytes::from(packed));
            (
                gzip_bytes(&identity).ok().and_then(smaller),
                brotli
                    .then(|| brotli_bytes(&identity).ok())
                    .flatten()
                    .and_then(smaller),
            )
        } else {
            (None, None)
        };
        Ok(Some(Representations {
            validators,
            identity: Bytes::from(identity),
            gzip,
            brotli,
        }))
    }

    fn size(&self) -> usize {
        self.identity.len()
            + self.gzip.as_ref().map_or(0, Bytes::len)
            + self.brotli.as_ref().map_or(0, Bytes::len)
    }

    /// The encoding to send for a request's `Accept-Encoding`, and its bytes.
    fn pick(&self, accept_encoding: Option<&str>) -> (Encoding, &Bytes) {
        let offered = Offered {
            brotli: self.brotli.is_some(),
            gzip: self.gzip.is_some(),
        };
        match (
            negotiate(accept_encoding, offered),
            &self.brotli,
            &self.gzip,
        ) {
            (Encoding::Brotli, Some(bytes), _) => (Encoding::Brotli, bytes),
            (Encoding::Gzip, _, Some(bytes)) => (Encoding::Gzip, bytes),
            _ => (Encoding::Identity, &self.identity),
        }
    }
}

fn gzip_bytes(bytes: &[u8]) -> io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes)?;
    encoder.finish()
}

fn brotli_bytes(bytes: &[u8]) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        // Quality 11, a 4 MB window: what a CDN's build step uses.
        let mut writer = brotli::CompressorWriter::new(&mut out, 64 * 1024, 11, 22);
        writer.write_all(bytes)?;
        writer.flush()?;
    }
    Ok(out)
}

/// A content coding the server can send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

impl Encoding {
    /// The `Content-Encoding` value, and the suffix of the representation's
    /// `ETag`.
    fn token(self) -> Option<(&'static str, &'static str)> {
        match self {
            Encoding::Identity => None,
            Encoding::Gzip => Some(("gzip", "gz")),
            Encoding::Brotli => Some(("br", "br")),
        }
    }
}

/// Which compressed copies of a file exist.
#[derive(Clone, Copy, Debug)]
struct Offered {
    brotli: bool,
    gzip: bool,
}

/// The coding to send for `Accept-Encoding` (RFC 9110 12.5.3): the offered
/// coding with the highest `q`, brotli first at equal `q`; `*` stands for any
/// coding not named; `q=0` refuses; a missing header or one naming nothing
/// offered means identity. An unreadable `q` makes that entry count for
/// nothing, so a malformed header never yields a coding the client refused.
fn negotiate(accept_encoding: Option<&str>, offered: Offered) -> Encoding {
    let Some(header) = accept_encoding else {
        return Encoding::Identity;
    };
    let mut named: Vec<(String, f32)> = Vec::new();
    for entry in header.split(',') {
        let mut parts = entry.split(';');
        let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        if coding.is_empty() {
            continue;
        }
        let mut q = 1.0f32;
        for parameter in parts {
            if let Some((key, value)) = parameter.split_once('=') {
                if key.trim().eq_ignore_ascii_case("q") {
                    q = value
                        .trim()
                        .parse::<f32>()
                        .ok()
                        .filter(|q| (0.0..=1.0).contains(q))
                        .unwrap_or(0.0);
                }
            }
        }
        named.push((coding, q));
    }
    let q_of = |coding: &str| {
        named
            .iter()
            .find(|(name, _)| name == coding)
            .or_else(|| named.iter().find(|(name, _)| name == "*"))
            .map_or(0.0, |(_, q)| *q)
    };
    let brotli = if offered.brotli { q_of("br") } else { 0.0 };
    let gzip = if offered.gzip {
        q_of("gzip").max(q_of("x-gzip"))
    } else {
        0.0
    };
    if brotli > 0.0 && brotli >= gzip {
        Encoding::Brotli
    } else if gzip > 0.0 {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

/// True for a name carrying a build hash: the part after the last `-` of the
/// name (before its first `.`) starts with 16 hex digits and then ends or
/// goes on with `_` (trunk's `app-0123456789abcdef_bg.wasm`).
fn is_hashed(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let stem = name.split('.').next().unwrap_or("");
    let Some((_, tail)) = stem.rsplit_once('-') else {
        return false;
    };
    let hex = tail.bytes().take_while(u8::is_ascii_hexdigit).count();
    hex == 16 && matches!(tail.as_bytes().get(16), None | Some(b'_'))
}

/// Text and WebAssembly compress; images here are already compressed.
fn compressible(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()).unwrap_or(""),
        "html" | "js" | "mjs" | "wasm" | "css" | "svg" | "json" | "txt" | "ico"
    )
}

async fn serve_file(State(site): State<Arc<Site>>, request: Request) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let Some(path) = resolve(&site.root, request.uri().path()).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // Owned: a borrow of the request may not live across an await.
    let if_none_match = header_text(&request, header::IF_NONE_MATCH);
    let if_modified_since = header_text(&request, header::IF_MODIFIED_SINCE);
    let accept_encoding = header_text(&request, header::ACCEPT_ENCODING);
    let Ok(metadata) = tokio::fs::metadata(&path).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let validators = Validators::of(&metadata);
    let representations = match site.cached(&path, &validators) {
        Some(found) => Some(found),
        None => {
            let file = path.clone();
            // Gzip now, brotli for the next visitor (see the module doc).
            match tokio::task::spawn_blocking(move || Representations::read(&file, false)).await {
                Ok(Ok(Some(found))) => {
                    let found = Arc::new(found);
                    site.remember(path.clone(), Arc::clone(&found));
                    if compressible(&path) {
                        let site = Arc::clone(&site);
                        let file = path.clone();
                        tokio::task::spawn_blocking(move || site.compress_fully(file));
                    }
                    Some(found)
                }
                // Too large to cache: sent from disk below.
                Ok(Ok(None)) => None,
                _ => return StatusCode::NOT_FOUND.into_response(),
            }
        }
    };
    // The validators of what was read (a rebuild may have raced the stat).
    let validators = representations
        .as_ref()
        .map_or(validators, |r| r.validators.clone());
    let (encoding, body) = match &representations {
        Some(found) => {
            let (encoding, bytes) = found.pick(accept_encoding.as_deref());
            (encoding, Some(bytes.clone()))
        }
        None => (Encoding::Identity, None),
    };
    let etag = validators.etag_for(encoding);
    let cache_control = if is_hashed(&path) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response = Response::new(axum::body::Body::empty());
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&path)),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    headers.insert(header::ETAG, header_value(&etag));
    headers.insert(
        header::LAST_MODIFIED,
        header_value(&validators.last_modified),
    );
    if compressible(&path) {
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    if validators.not_modified(
        &etag,
        if_none_match.as_deref(),
        if_modified_since.as_deref(),
    ) {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        return response;
    }
    if let Some((coding, _)) = encoding.token() {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    let body = match body {
        Some(bytes) => bytes,
        None => match tokio::fs::read(&path).await {
            Ok(bytes) => Bytes::from(bytes),
            Err(_) => return StatusCode::NOT_FOUND.into_response(),
        },
    };
    *response.body_mut() = axum::body::Body::from(body);
    response
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

    /// The `ETag` of one encoding of the file: each is different bytes.
    fn etag_for(&self, encoding: Encoding) -> String {
        match encoding.token() {
            None => self.etag.clone(),
            Some((_, suffix)) => {
                let inner = self.etag.trim_matches('"');
                format!("\"{inner}-{suffix}\"")
            }
        }
    }

    /// True when a conditional request's copy (of the representation tagged
    /// `etag`) is current (RFC 9110 13.2.2: `If-None-Match` is evaluated,
    /// with weak comparison, instead of `If-Modified-Since` when present).
    fn not_modified(
        &self,
        etag: &str,
        if_none_match: Option<&str>,
        if_modified_since: Option<&str>,
    ) -> bool {
        if let Some(tags) = if_none_match {
            return tags
                .split(',')
                .map(str::trim)
                .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag);
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
        assert!(!file.not_modified(&file.etag, None, None));
        // If-None-Match: any listed tag, weak or strong, or `*`.
        assert!(file.not_modified(&file.etag, Some("\"c795-63727ba7-fa\""), None));
        assert!(file.not_modified(&file.etag, Some("\"x\", W/\"c795-63727ba7-fa\""), None));
        assert!(file.not_modified(&file.etag, Some("*"), None));
        assert!(!file.not_modified(&file.etag, Some("\"c795-63727ba7-fb\""), None));
        assert!(!file.not_modified(&file.etag, Some(""), None));
        // If-Modified-Since: not modified at or after the date.
        let at = Some("Mon, 14 Nov 2022 17:32:23 GMT");
        assert!(file.not_modified(&file.etag, None, at));
        assert!(file.not_modified(&file.etag, None, Some("Tue, 15 Nov 2022 00:00:00 GMT")));
        assert!(!file.not_modified(&file.etag, None, Some("Mon, 14 Nov 2022 17:32:22 GMT")));
        assert!(!file.not_modified(&file.etag, None, Some("yesterday")));
        // If-None-Match wins: a stale tag means send, whatever the date.
        assert!(!file.not_modified(&file.etag, Some("\"old\""), at));
    }

    #[test]
    fn each_encoding_has_its_own_etag() {
        let file = Validators::new(51_093, 1_668_447_143, 250);
        assert_eq!(file.etag_for(Encoding::Identity), "\"c795-63727ba7-fa\"");
        assert_eq!(file.etag_for(Encoding::Brotli), "\"c795-63727ba7-fa-br\"");
        assert_eq!(file.etag_for(Encoding::Gzip), "\"c795-63727ba7-fa-gz\"");
        let br = file.etag_for(Encoding::Brotli);
        assert!(file.not_modified(&br, Some(&br), None));
        // The identity copy's tag does not validate the brotli copy.
        assert!(!file.not_modified(&br, Some(&file.etag), None));
    }

    #[test]
    fn accept_encoding_picks_the_smallest_coding_the_client_takes() {
        let both = Offered {
            brotli: true,
            gzip: true,
        };
        let gzip_only = Offered {
            brotli: false,
            gzip: true,
        };
        let none = Offered {
            brotli: false,
            gzip: false,
        };
        let pick = |header: Option<&str>| negotiate(header, both);
        // Chromium and Firefox send this.
        assert_eq!(pick(Some("gzip, deflate, br, zstd")), Encoding::Brotli);
        assert_eq!(pick(Some("gzip, deflate")), Encoding::Gzip);
        assert_eq!(pick(Some("GZIP")), Encoding::Gzip);
        assert_eq!(pick(Some("x-gzip")), Encoding::Gzip);
        assert_eq!(pick(None), Encoding::Identity);
        assert_eq!(pick(Some("")), Encoding::Identity);
        assert_eq!(pick(Some("identity")), Encoding::Identity);
        assert_eq!(pick(Some("deflate, zstd")), Encoding::Identity);
        // q: the highest wins, brotli at a tie, q=0 refuses.
        assert_eq!(pick(Some("br;q=0.5, gzip;q=0.8")), Encoding::Gzip);
        assert_eq!(pick(Some("br;q=0.8, gzip;q=0.8")), Encoding::Brotli);
        assert_eq!(pick(Some("br;q=0, gzip")), Encoding::Gzip);
        assert_eq!(pick(Some("br;q=0, gzip;q=0")), Encoding::Identity);
        assert_eq!(pick(Some("br ; Q=0.000, gzip")), Encoding::Gzip);
        // `*` stands for codings not named.
        assert_eq!(pick(Some("*")), Encoding::Brotli);
        assert_eq!(pick(Some("br;q=0, *")), Encoding::Gzip);
        assert_eq!(pick(Some("*;q=0")), Encoding::Identity);
        // A malformed q counts for nothing.
        assert_eq!(pick(Some("br;q=lots, gzip")), Encoding::Gzip);
        assert_eq!(pick(Some("br;q=2")), Encoding::Identity);
        assert_eq!(pick(Some(",,;;=,br")), Encoding::Brotli);
        // Only what exists is picked.
        assert_eq!(negotiate(Some("br, gzip"), gzip_only), Encoding::Gzip);
        assert_eq!(negotiate(Some("br"), gzip_only), Encoding::Identity);
        assert_eq!(negotiate(Some("br, gzip"), none), Encoding::Identity);
    }

    #[test]
    fn hashed_names_are_recognised() {
        for hashed in [
            "live-stream-health-f3ff0837cca4d366.js",
            "live-stream-health-f3ff0837cca4d366_bg.wasm",
            "main-c6f16ac52f18ed55.css",
            "dir/chart-8dd6c7b973af2a50.css",
        ] {
            assert!(is_hashed(Path::new(hashed)), "{hashed}");
        }
        for plain in [
            "index.html",
            "embed.js",
            "live-stream-health.js",
            "app-f3ff0837cca4d36.js",
            "app-f3ff0837cca4d3661.js",
            "app-g3ff0837cca4d366.js",
            "f3ff0837cca4d366.js",
            "app-f3ff0837cca4d366x.js",
        ] {
            assert!(!is_hashed(Path::new(plain)), "{plain}");
        }
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

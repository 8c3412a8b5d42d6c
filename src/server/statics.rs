//! A small static file server for the built widget (`dist/`), so the demo can
//! be one process: `GET /path` serves `DIR/path`, a directory serves its
//! `index.html`, and an unknown path without a file extension falls back to
//! `DIR/index.html` (client-side routes). Unknown paths *with* an extension
//! are 404, so a missing `.wasm` fails loudly instead of returning HTML.
//!
//! Paths are resolved segment by segment and anything that could leave the
//! directory (`..`, backslashes, NUL, absolute components) is refused with 404.
//! Responses carry `Cache-Control: no-cache` so a rebuilt widget is picked up
//! on reload. Only `GET` and `HEAD` are served.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;

use super::background::Background;

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
    let root = Arc::new(dir.to_owned());
    let inner = Background::start("static", addr, move |listener, stop| async move {
        let app = Router::new().fallback(serve_file).with_state(root);
        axum::serve(listener, app)
            .with_graceful_shutdown(stop.wait())
            .await
    })?;
    Ok(StaticServer { inner })
}

async fn serve_file(State(root): State<Arc<PathBuf>>, request: Request) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let Some(relative) = safe_relative_path(request.uri().path()) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut path = root.join(&relative);
    if path.is_dir() {
        path = path.join("index.html");
    }
    if !path.is_file() {
        if relative.extension().is_some() {
            return StatusCode::NOT_FOUND.into_response();
        }
        path = root.join("index.html");
    }
    match tokio::fs::read(&path).await {
        Ok(bytes) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(content_type(&path)),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The URL path as a relative filesystem path, or `None` if it could escape.
fn safe_relative_path(url_path: &str) -> Option<PathBuf> {
    let mut relative = PathBuf::new();
    for segment in url_path.split('/') {
        let segment = percent_decode(segment)?;
        match segment.as_str() {
            "" | "." => {}
            ".." => return None,
            s if s.contains(['\\', '\0', ':']) => return None,
            s => relative.push(s),
        }
    }
    Some(relative)
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
    fn paths_that_could_escape_are_refused() {
        assert_eq!(safe_relative_path("/a/b.js"), Some(PathBuf::from("a/b.js")));
        assert_eq!(safe_relative_path("/"), Some(PathBuf::new()));
        for bad in [
            "/../etc/passwd",
            "/a/%2e%2e/b",
            "/a\\b",
            "/%00",
            "/%zz",
            "/c:/x",
        ] {
            assert_eq!(safe_relative_path(bad), None, "{bad}");
        }
    }
}

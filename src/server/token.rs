//! Minting playback-style tokens for the stats endpoint, and the helpers of
//! the `token` command (key input, durations, monitor links).
//!
//! A token is an RS256 JWT with header `{"alg":"RS256","typ":"JWT","kid":ID}`
//! and claims `sub` (live stream id), `aud` = `live_stream_id`, `exp` and
//! `kid` again: the stand-in accepts `kid` in either place, and putting it in
//! both keeps tokens valid for verifiers that only look in one.
//!
//! Signing goes through `jsonwebtoken` (backend `rust_crypto`); the API tests
//! also build tokens by hand with the `rsa` crate, so the stand-in is checked
//! against a second, independent minter.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use super::utc;

/// The only audience the endpoint accepts.
pub const AUDIENCE: &str = "live_stream_id";
/// Default lifetime of a minted token.
pub const DEFAULT_VALIDITY: Duration = Duration::from_secs(24 * 3600);

/// Why a token could not be minted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenError(String);

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TokenError {}

#[derive(Serialize)]
struct Claims<'a> {
    sub: &'a str,
    aud: &'a str,
    exp: i64,
    kid: &'a str,
}

/// Signs a token for `stream_id` with the PEM private key `key_id`, expiring
/// at `expires_at` (Unix seconds).
pub fn mint_until(
    private_key_pem: &str,
    key_id: &str,
    stream_id: &str,
    expires_at: i64,
) -> Result<String, TokenError> {
    let key = EncodingKey::from_rsa_pem(private_key_pem.as_bytes()).map_err(|e| {
        TokenError(format!(
            "the key is not an RSA private key in PEM form: {e}"
        ))
    })?;
    let mut header = Header::new(Algorithm::RS256);
    header.typ = Some("JWT".to_owned());
    header.kid = Some(key_id.to_owned());
    let claims = Claims {
        sub: stream_id,
        aud: AUDIENCE,
        exp: expires_at,
        kid: key_id,
    };
    jsonwebtoken::encode(&header, &claims, &key)
        .map_err(|e| TokenError(format!("signing failed: {e}")))
}

/// Signs a token valid for `valid_for` from now.
pub fn mint(
    private_key_pem: &str,
    key_id: &str,
    stream_id: &str,
    valid_for: Duration,
) -> Result<String, TokenError> {
    let seconds = i64::try_from(valid_for.as_secs()).unwrap_or(i64::MAX / 2);
    mint_until(
        private_key_pem,
        key_id,
        stream_id,
        utc::now_unix_secs().saturating_add(seconds),
    )
}

/// Reads the `--key` argument: `@path` (a PEM file, or a file holding the
/// base64 of one), PEM text, or the base64 of PEM text as the signing-key API
/// returns it. Returns PEM text; only checks that it looks like PEM.
pub fn read_key(input: &str) -> Result<String, TokenError> {
    let text = match input.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(Path::new(path))
            .map_err(|e| TokenError(format!("cannot read key file {path}: {e}")))?,
        None => input.to_owned(),
    };
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        return Ok(text.to_owned());
    }
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| {
            TokenError("the key is neither PEM nor base64 of PEM (use @file for a file)".to_owned())
        })?;
    let pem = String::from_utf8(decoded)
        .map_err(|_| TokenError("the base64 key does not decode to PEM text".to_owned()))?;
    if !pem.trim_start().starts_with("-----BEGIN") {
        return Err(TokenError(
            "the base64 key does not decode to PEM text".to_owned(),
        ));
    }
    Ok(pem)
}

/// Parses `90s`, `15m`, `6h`, `7d` (a bare number means seconds).
pub fn parse_duration(text: &str) -> Result<Duration, TokenError> {
    let text = text.trim();
    let bad = || {
        TokenError(format!(
            "{text:?} is not a duration like 30s, 15m, 6h or 7d"
        ))
    };
    let (number, unit) = match text.char_indices().last() {
        Some((index, c)) if c.is_ascii_alphabetic() => (&text[..index], c),
        Some(_) => (text, 's'),
        None => return Err(bad()),
    };
    let multiplier = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return Err(bad()),
    };
    let count: u64 = number.parse().map_err(|_| bad())?;
    let seconds = count.checked_mul(multiplier).ok_or_else(bad)?;
    if seconds == 0 {
        return Err(TokenError("the duration must be positive".to_owned()));
    }
    Ok(Duration::from_secs(seconds))
}

/// `<base_url>#token=<jwt>[&endpoint=<urlencoded endpoint>]`. An existing
/// fragment on `base_url` is replaced: the token must not leak into a
/// query string (fragments are never sent to the widget's host).
pub fn monitor_link(base_url: &str, token: &str, endpoint: Option<&str>) -> String {
    let base = base_url.split('#').next().unwrap_or(base_url);
    let mut link = format!("{base}#token={token}");
    if let Some(endpoint) = endpoint {
        link.push_str("&endpoint=");
        link.push_str(&percent_encode(endpoint));
    }
    link
}

/// Percent-encodes everything except RFC 3986 unreserved characters.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_seconds_minutes_hours_days() {
        let cases = [
            ("30s", 30),
            ("15m", 900),
            ("6h", 21_600),
            ("7d", 604_800),
            ("45", 45),
        ];
        for (text, seconds) in cases {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_secs(seconds)),
                "{text}"
            );
        }
        for text in ["", "h", "6x", "-5m", "0s", "99999999999999999999d"] {
            assert!(parse_duration(text).is_err(), "{text}");
        }
    }

    #[test]
    fn monitor_link_puts_token_and_encoded_endpoint_in_the_fragment() {
        assert_eq!(
            monitor_link("https://monitor.example/", "a.b.c", None),
            "https://monitor.example/#token=a.b.c"
        );
        assert_eq!(
            monitor_link(
                "http://127.0.0.1:8080/#old",
                "a.b.c",
                Some("http://127.0.0.1:8787")
            ),
            "http://127.0.0.1:8080/#token=a.b.c&endpoint=http%3A%2F%2F127.0.0.1%3A8787"
        );
    }

    #[test]
    fn bad_key_input_is_an_error_not_a_panic() {
        assert!(read_key("not a key!").is_err());
        assert!(read_key("aGVsbG8=").is_err()); // base64 of "hello"
        assert!(read_key("@/nonexistent/key.pem").is_err());
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----";
        let encoded = base64::engine::general_purpose::STANDARD.encode(pem);
        assert_eq!(read_key(&encoded).as_deref(), Ok(pem));
        assert!(mint_until(pem, "kid", "stream", 0).is_err());
    }
}

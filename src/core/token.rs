//! Reading a monitor token's claims in the browser, without verifying it.
//!
//! The widget cannot verify the RS256 signature (it has no key, and need not:
//! the stats service does). It only peeks at the payload for two things the
//! streamer must see before the service says no: when the link expires
//! (`exp`) and which stream it watches (`sub`, used to keep history when the
//! host swaps in a fresh token for the same stream). A token that is not a
//! three-part JWT with a JSON object payload is refused up front with a clear
//! message instead of being sent to the service.
//!
//! The payload is read into `Payload`, a typed struct with lenient
//! fields: other claims, and a `sub` that is not a string, are ignored; an
//! `exp` that is present but not a number refuses the token, since the
//! widget could not say when the link expires.
//!
//! The token is a credential: nothing here formats it into messages.

use serde::Deserialize;

use crate::core::lenient::{self, Lenient};

/// What the widget reads from a token's payload.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenClaims {
    /// `sub`: the live stream the token is for.
    pub stream_id: Option<String>,
    /// `exp`: expiry as Unix epoch milliseconds.
    pub expires_at_ms: Option<f64>,
}

/// Why a token was refused before any request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// Empty after trimming.
    Empty,
    /// Not three dot-separated parts.
    NotAJwt,
    /// The payload is not base64url.
    BadEncoding,
    /// The payload is not a JSON object.
    BadPayload,
    /// `exp` is present but not a number.
    BadExpiry,
}

impl TokenError {
    /// A short sentence for the streamer or the host's developer.
    pub fn describe(self) -> &'static str {
        match self {
            TokenError::Empty => "The token is empty.",
            TokenError::NotAJwt => {
                "The token is malformed: it is not a JSON Web Token (three parts separated by dots)."
            }
            TokenError::BadEncoding => "The token is malformed: its payload is not base64url.",
            TokenError::BadPayload => "The token is malformed: its payload is not a JSON object.",
            TokenError::BadExpiry => "The token is malformed: its expiry (exp) is not a number.",
        }
    }
}

/// The claims the widget reads, as they sit in the payload.
#[derive(Deserialize)]
struct Payload {
    exp: Lenient<f64>,
    sub: Lenient<String>,
}

/// Longest token accepted. Real ones are under 1 KiB; this bounds the work
/// a hostile URL or message can cause.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Peeks at a JWT's claims. Does not verify anything.
pub fn read_claims(token: &str) -> Result<TokenClaims, TokenError> {
    let token = token.trim();
    if token.is_empty() {
        return Err(TokenError::Empty);
    }
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::NotAJwt);
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::NotAJwt);
    };
    if header.is_empty() || payload.is_empty() {
        return Err(TokenError::NotAJwt);
    }
    let payload = decode_base64url(payload).ok_or(TokenError::BadEncoding)?;
    let payload = std::str::from_utf8(&payload).map_err(|_| TokenError::BadPayload)?;
    let payload: Option<Payload> =
        lenient::from_str(payload).map_err(|_| TokenError::BadPayload)?;
    // Not an object.
    let payload = payload.ok_or(TokenError::BadPayload)?;
    let expires_at_ms = match payload.exp {
        Lenient::Absent => None,
        Lenient::Value(seconds) => Some(seconds * 1000.0),
        Lenient::Unreadable => return Err(TokenError::BadExpiry),
    };
    let stream_id = payload.sub.value();
    Ok(TokenClaims {
        stream_id,
        expires_at_ms,
    })
}

/// Decodes unpadded (or padded) base64url.
pub fn decode_base64url(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for byte in text.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    // A single leftover sextet cannot encode a byte.
    if bits >= 6 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Encodes base64url without padding (test helper for building tokens).
    pub(crate) fn encode_base64url(bytes: &[u8]) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let mut n = 0u32;
            for (i, b) in chunk.iter().enumerate() {
                n |= u32::from(*b) << (16 - 8 * i);
            }
            for i in 0..=chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            }
        }
        out
    }

    /// A token with the given payload and a fake signature.
    pub(crate) fn token_with(payload: &str) -> String {
        format!(
            "{}.{}.c2lnbmF0dXJl",
            encode_base64url(br#"{"alg":"RS256","typ":"JWT","kid":"k1"}"#),
            encode_base64url(payload.as_bytes())
        )
    }

    #[test]
    fn reads_exp_and_sub() {
        let token =
            token_with(r#"{"sub":"stream-1","aud":"live_stream_id","exp":1700000000,"kid":"k1"}"#);
        let claims = read_claims(&token);
        assert_eq!(
            claims,
            Ok(TokenClaims {
                stream_id: Some("stream-1".into()),
                expires_at_ms: Some(1_700_000_000_000.0),
            })
        );
    }

    #[test]
    fn surrounding_whitespace_is_ignored_and_exp_is_optional() {
        let token = format!("  {}\n", token_with(r#"{"sub":"s"}"#));
        assert_eq!(read_claims(&token).map(|c| c.expires_at_ms), Ok(None));
    }

    #[test]
    fn malformed_tokens_are_refused_with_a_reason() {
        let long = "a".repeat(MAX_TOKEN_BYTES + 1);
        let cases: Vec<(String, TokenError)> = vec![
            (String::new(), TokenError::Empty),
            ("   ".into(), TokenError::Empty),
            ("not-a-token".into(), TokenError::NotAJwt),
            ("a.b".into(), TokenError::NotAJwt),
            ("a.b.c.d".into(), TokenError::NotAJwt),
            (".e30.sig".into(), TokenError::NotAJwt),
            ("eyJ9..sig".into(), TokenError::NotAJwt),
            (long, TokenError::NotAJwt),
            ("eyJ9.e30!.sig".into(), TokenError::BadEncoding),
            ("eyJ9.e.sig".into(), TokenError::BadEncoding),
            (token_with("not json"), TokenError::BadPayload),
            (token_with("[1]"), TokenError::BadPayload),
            (token_with(r#"{"exp":"tomorrow"}"#), TokenError::BadExpiry),
        ];
        for (token, expected) in cases {
            assert_eq!(read_claims(&token), Err(expected), "{token}");
        }
    }

    #[test]
    fn odd_claims_are_ignored_but_an_unreadable_expiry_is_not() {
        let odd = token_with(r#"{"sub":42,"exp":null,"aud":["x"],"nested":{"exp":"no"}}"#);
        assert_eq!(
            read_claims(&odd),
            Ok(TokenClaims {
                stream_id: None,
                expires_at_ms: None,
            })
        );
        for payload in [r#"{"exp":[1]}"#, r#"{"exp":true}"#, r#"{"exp":{}}"#] {
            assert_eq!(
                read_claims(&token_with(payload)),
                Err(TokenError::BadExpiry),
                "{payload}"
            );
        }
        // The first of repeated claims is the one read.
        let repeated = token_with(r#"{"exp":2,"exp":"soon","sub":"a","sub":"b"}"#);
        assert_eq!(
            read_claims(&repeated),
            Ok(TokenClaims {
                stream_id: Some("a".into()),
                expires_at_ms: Some(2000.0),
            })
        );
    }

    #[test]
    fn unsigned_tokens_with_empty_signature_still_parse() {
        // `alg: none` tokens end in a dot; the service rejects them, the
        // widget only reads the claims.
        let token = format!("eyJhbGciOiJub25lIn0.{}.", encode_base64url(br#"{"exp":1}"#));
        assert_eq!(
            read_claims(&token).map(|c| c.expires_at_ms),
            Ok(Some(1000.0))
        );
    }

    #[test]
    fn base64url_round_trips_every_length() {
        let bytes: Vec<u8> = (0..=255).collect();
        for len in 0..40 {
            let encoded = encode_base64url(&bytes[..len]);
            assert_eq!(decode_base64url(&encoded).as_deref(), Some(&bytes[..len]));
        }
        assert_eq!(decode_base64url("e30=").as_deref(), Some(&b"{}"[..]));
        assert_eq!(decode_base64url("a"), None);
    }
}

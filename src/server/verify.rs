//! Checking a token presented to `GET /live-stream-health` or `GET /counts`.
//!
//! Order of checks, and what each failure answers (all bodies are
//! `{"error":{"type":...,"messages":[...]}}`):
//!
//! | check | failure | status | type |
//! |---|---|---|---|
//! | a `token` parameter is present and non-empty | missing token | 400 | `invalid_parameters` |
//! | three base64url parts, JSON header and claims | malformed | 401 | `unauthorized` |
//! | header `alg` is exactly `RS256` (so `none`, `HS256` — even keyed with the public key PEM — and everything else) | unsupported algorithm | 401 | `unauthorized` |
//! | `kid` in the header, else in the claims (both present must agree) | missing/unknown kid | 401 | `unauthorized` |
//! | RS256 signature with that key's public half | bad signature | 401 | `unauthorized` |
//! | `exp` present, numeric, and `exp + 30 s` not before now | expired / no exp | 401 | `unauthorized` |
//! | `nbf`, if present, not after `now + 30 s` | not yet valid | 401 | `unauthorized` |
//! | `aud` is (or contains) `live_stream_id`; for `/counts` also `video_id`, `asset_id` or `playback_id` | wrong audience | 403 | `forbidden` |
//! | for `/counts`, an `aud` other than `live_stream_id` names a video, asset or playback id | unknown target (the stand-in has only live streams) | 404 | `not_found` |
//! | `sub` names a live stream | unknown stream | 404 | `not_found` |
//! | the key's environment is the stream's | other environment | 403 | `forbidden` |
//!
//! 401 means "this is not a token we can trust"; 403 means "a genuine token,
//! but not for this"; 404 means "genuine, for this endpoint, but the stream
//! does not exist". Expiry gets a 30 s leeway ([`LEEWAY_SECS`]) for clock skew
//! between the minting backend and the API. Audience and environment are
//! checked only after the signature, so an unsigned claim can never earn more
//! than a 401. The algorithm is checked on our own parse of the header before
//! any key is touched, which is what rules out algorithm confusion.
//! The signature is checked here with the `rsa` crate (PKCS#1 v1.5, SHA-256)
//! against a key parsed once per `kid` ([`Verifier`]).
//! Messages never contain the token.
//!
//! Both endpoints check a token the same way, in the same order
//! ([`Endpoint`]); they differ only in the audiences they take. Mux's viewer
//! counts endpoint takes tokens for a video, an asset, a playback id or a
//! live stream; the stand-in has live streams only, so a genuine counts
//! token for anything else is answered like a token for a stream it does
//! not know: 404.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine as _};
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier as _;
use rsa::RsaPublicKey;
use serde_json::Value;
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use super::store::Store;
use super::token::AUDIENCE;

/// Clock-skew allowance for `exp` and `nbf`, in seconds.
pub const LEEWAY_SECS: i64 = 30;

/// The audiences the viewer counts endpoint takes besides `live_stream_id`.
pub const OTHER_COUNTS_AUDIENCES: [&str; 3] = ["video_id", "asset_id", "playback_id"];

/// Which endpoint a token is presented to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `GET /live-stream-health`: `aud` must be `live_stream_id`.
    LiveStreamHealth,
    /// `GET /counts`: `aud` may also be `video_id`, `asset_id` or
    /// `playback_id`.
    Counts,
}

/// base64url, with or without padding.
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// No `token` query parameter.
    MissingToken,
    /// Not a structurally valid JWT, or a required claim is missing or mistyped.
    Malformed(&'static str),
    /// `alg` other than RS256.
    UnsupportedAlgorithm,
    /// No `kid`, or no signing key with that id.
    UnknownKey,
    /// The signature does not verify with the key.
    BadSignature,
    /// `exp` is in the past (beyond the leeway).
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    NotYetValid,
    /// `aud` is not one the endpoint takes.
    WrongAudience(Endpoint),
    /// A counts token for a video, asset or playback id (the `aud` named):
    /// the stand-in has live streams only.
    UnknownTarget(&'static str),
    /// `sub` is not a known live stream.
    UnknownStream,
    /// The signing key belongs to another environment than the stream.
    OtherEnvironment,
}

impl Rejection {
    /// HTTP status for this rejection.
    pub fn status(&self) -> u16 {
        match self {
            Self::MissingToken => 400,
            Self::WrongAudience(_) | Self::OtherEnvironment => 403,
            Self::UnknownStream | Self::UnknownTarget(_) => 404,
            _ => 401,
        }
    }

    /// The error body's `type`.
    pub fn kind(&self) -> &'static str {
        match self.status() {
            400 => "invalid_parameters",
            403 => "forbidden",
            404 => "not_found",
            _ => "unauthorized",
        }
    }

    /// The error body's message.
    pub fn message(&self) -> String {
        match self {
            Self::MissingToken => "a token query parameter is required".to_owned(),
            Self::Malformed(what) => format!("the token is malformed: {what}"),
            Self::UnsupportedAlgorithm => "the token must be signed with RS256".to_owned(),
            Self::UnknownKey => "the token's signing key (kid) is not known".to_owned(),
            Self::BadSignature => "the token's signature is invalid".to_owned(),
            Self::Expired => "the token has expired".to_owned(),
            Self::NotYetValid => "the token is not valid yet".to_owned(),
            Self::WrongAudience(Endpoint::LiveStreamHealth) => {
                format!("the token's audience must be {AUDIENCE}")
            }
            Self::WrongAudience(Endpoint::Counts) => format!(
                "the token's audience must be {AUDIENCE}, {}",
                OTHER_COUNTS_AUDIENCES.join(", ")
            ),
            Self::UnknownTarget(audience) => {
                format!("the stand-in serves counts for live streams only: no such {audience}")
            }
            Self::UnknownStream => "the live stream does not exist".to_owned(),
            Self::OtherEnvironment => {
                "the token's signing key belongs to another environment".to_owned()
            }
        }
    }
}

/// A token that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The live stream it grants access to.
    pub stream_id: String,
    /// The signing key that signed it.
    pub key_id: String,
}

/// A signing key's public half, parsed once and ready to verify RS256.
#[derive(Debug)]
pub struct CachedKey {
    /// The PEM it was parsed from: a key replaced under the same id is
    /// noticed by comparing this, not trusted from the cache.
    pem: String,
    key: VerifyingKey<Sha256>,
}

impl CachedKey {
    fn parse(pem: &str) -> Option<CachedKey> {
        let public = RsaPublicKey::from_public_key_pem(pem)
            .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem))
            .ok()?;
        Some(CachedKey {
            pem: pem.to_owned(),
            key: VerifyingKey::new(public),
        })
    }
}

/// Verifies tokens with a cache of parsed public keys, and touches the store
/// only for the two lookups (key, stream), never during the RSA work.
///
/// Parsing a PEM and building the RSA key cost more than the signature check
/// itself, and holding the store's lock through the check serialised every
/// request; measured with `tests/load-standin.sh`. The cache is keyed by
/// `kid` and checked against the store's PEM on every request, so a deleted
/// key is refused at once and a replaced one is re-parsed.
#[derive(Debug, Default)]
pub struct Verifier {
    keys: Mutex<HashMap<String, Arc<CachedKey>>>,
}

impl Verifier {
    /// Checks a `/live-stream-health` token at `now` (Unix seconds) against
    /// the keys and streams in `store`.
    pub fn verify(
        &self,
        token: &str,
        now: i64,
        store: &Mutex<Store>,
    ) -> Result<Verified, Rejection> {
        self.verify_for(Endpoint::LiveStreamHealth, token, now, store)
    }

    /// Checks a token presented to `endpoint`.
    pub fn verify_for(
        &self,
        endpoint: Endpoint,
        token: &str,
        now: i64,
        store: &Mutex<Store>,
    ) -> Result<Verified, Rejection> {
        let lock = || store.lock().unwrap_or_else(PoisonError::into_inner);
        check(
            endpoint,
            token,
            now,
            |kid| {
                let store = lock();
                let stored = store.signing_key(kid)?;
                let environment = stored.environment_id.clone();
                let key = self.key_for(kid, &stored.public_key_pem)?;
                Some((environment, key))
            },
            |stream_id| {
                let store = lock();
                let stream = store.live_stream(stream_id)?;
                Some((stream.id.clone(), stream.environment_id.clone()))
            },
        )
    }

    fn key_for(&self, kid: &str, pem: &str) -> Option<Arc<CachedKey>> {
        let mut keys = self.keys.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(cached) = keys.get(kid).filter(|cached| cached.pem == pem) {
            return Some(Arc::clone(cached));
        }
        let parsed = Arc::new(CachedKey::parse(pem)?);
        keys.insert(kid.to_owned(), Arc::clone(&parsed));
        Some(parsed)
    }
}

/// Checks `token` at `now` (Unix seconds) against the keys and streams in
/// `store`, parsing the key afresh (see [`Verifier`] for the cached form).
pub fn verify(token: &str, now: i64, store: &Store) -> Result<Verified, Rejection> {
    check(
        Endpoint::LiveStreamHealth,
        token,
        now,
        |kid| {
            let stored = store.signing_key(kid)?;
            let key = CachedKey::parse(&stored.public_key_pem)?;
            Some((stored.environment_id.clone(), Arc::new(key)))
        },
        |stream_id| {
            let stream = store.live_stream(stream_id)?;
            Some((stream.id.clone(), stream.environment_id.clone()))
        },
    )
}

/// The checks in the documented order. `key_of(kid)` gives the key's
/// environment and parsed key; `stream_of(sub)` the stream's id and
/// environment.
fn check(
    endpoint: Endpoint,
    token: &str,
    now: i64,
    key_of: impl FnOnce(&str) -> Option<(String, Arc<CachedKey>)>,
    stream_of: impl FnOnce(&str) -> Option<(String, String)>,
) -> Result<Verified, Rejection> {
    if token.is_empty() {
        return Err(Rejection::MissingToken);
    }
    let mut parts = token.split('.');
    let (Some(header_part), Some(claims_part), Some(signature_part), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Rejection::Malformed("expected three dot-separated parts"));
    };
    let header = decode_json_object(header_part).ok_or(Rejection::Malformed("bad header"))?;
    // Unsigned until the signature is checked; before that only used to find the key.
    let claims = decode_json_object(claims_part).ok_or(Rejection::Malformed("bad claims"))?;

    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(Rejection::UnsupportedAlgorithm);
    }

    let header_kid = string_field(&header, "kid")?;
    let claims_kid = string_field(&claims, "kid")?;
    let key_id = match (header_kid, claims_kid) {
        (Some(a), Some(b)) if a != b => {
            return Err(Rejection::Malformed(
                "kid differs between header and claims",
            ))
        }
        (Some(kid), _) | (None, Some(kid)) => kid,
        (None, None) => return Err(Rejection::UnknownKey),
    };
    let (key_environment, key) = key_of(key_id).ok_or(Rejection::UnknownKey)?;

    // RS256 over the first two parts exactly as sent.
    let signed = &token[..header_part.len() + 1 + claims_part.len()];
    let signature = BASE64URL
        .decode(signature_part.as_bytes())
        .map_err(|_| Rejection::Malformed("cannot be decoded"))?;
    let signature =
        Signature::try_from(signature.as_slice()).map_err(|_| Rejection::BadSignature)?;
    key.key
        .verify(signed.as_bytes(), &signature)
        .map_err(|_| Rejection::BadSignature)?;
    // From here on the claims are trusted.

    let exp = claims
        .get("exp")
        .and_then(Value::as_f64)
        .ok_or(Rejection::Malformed("exp claim missing or not a number"))?;
    if exp + (LEEWAY_SECS as f64) < now as f64 {
        return Err(Rejection::Expired);
    }
    if let Some(nbf) = claims.get("nbf") {
        let nbf = nbf
            .as_f64()
            .ok_or(Rejection::Malformed("nbf claim is not a number"))?;
        if nbf > (now + LEEWAY_SECS) as f64 {
            return Err(Rejection::NotYetValid);
        }
    }

    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(aud)) => vec![aud.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !audiences.contains(&AUDIENCE) {
        let other = OTHER_COUNTS_AUDIENCES
            .into_iter()
            .find(|known| audiences.contains(known));
        return Err(match (endpoint, other) {
            (Endpoint::Counts, Some(audience)) => Rejection::UnknownTarget(audience),
            _ => Rejection::WrongAudience(endpoint),
        });
    }

    let stream_id = claims
        .get("sub")
        .and_then(Value::as_str)
        .ok_or(Rejection::Malformed("sub claim missing or not a string"))?;
    let (stream_id, stream_environment) = stream_of(stream_id).ok_or(Rejection::UnknownStream)?;
    if stream_environment != key_environment {
        return Err(Rejection::OtherEnvironment);
    }
    Ok(Verified {
        stream_id,
        key_id: key_id.to_owned(),
    })
}

fn decode_json_object(part: &str) -> Option<serde_json::Map<String, Value>> {
    let bytes = BASE64URL.decode(part.as_bytes()).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// A string field, absent allowed, any other type malformed.
fn string_field<'a>(
    object: &'a serde_json::Map<String, Value>,
    name: &'static str,
) -> Result<Option<&'a str>, Rejection> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(value)) => Ok(Some(value)),
        Some(_) => Err(Rejection::Malformed("kid is not a string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_documented_matrix() {
        let cases = [
            (Rejection::MissingToken, 400),
            (Rejection::Malformed("x"), 401),
            (Rejection::UnsupportedAlgorithm, 401),
            (Rejection::UnknownKey, 401),
            (Rejection::BadSignature, 401),
            (Rejection::Expired, 401),
            (Rejection::NotYetValid, 401),
            (Rejection::WrongAudience(Endpoint::LiveStreamHealth), 403),
            (Rejection::WrongAudience(Endpoint::Counts), 403),
            (Rejection::OtherEnvironment, 403),
            (Rejection::UnknownStream, 404),
            (Rejection::UnknownTarget("playback_id"), 404),
        ];
        for (rejection, status) in cases {
            assert_eq!(rejection.status(), status, "{rejection:?}");
        }
    }
}

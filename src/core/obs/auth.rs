//! obs-websocket authentication, without a hash function of its own.
//!
//! When OBS has a password, its `Hello` carries a `salt` and a
//! `challenge`, and the `Identify` must carry
//! `base64(sha256(base64(sha256(password + salt)) + challenge))`.
//!
//! The browser hashes with `crypto.subtle.digest`, which is asynchronous
//! and already in every browser, so the core does not link a SHA-256 of its
//! own: an [`AuthJob`] gives the two strings to hash, in order, and does
//! the base64 steps around them. The shell runs
//! `digest(job.secret_input())`, then `digest(job.auth_input(&secret))`,
//! then hands `AuthJob::authentication(&digest)` back to the client. Native
//! code with a hash function at hand calls [`AuthJob::compute`].
//!
//! The password is a credential: an `AuthJob` never shows it in `Debug`,
//! and nothing in this module logs or formats it.

use std::fmt;

use super::protocol::Challenge;

/// One authentication to compute: the password and the `Hello`'s challenge.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthJob {
    password: String,
    challenge: Challenge,
}

impl fmt::Debug for AuthJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthJob")
            .field("password", &"<redacted>")
            .field("challenge", &self.challenge)
            .finish()
    }
}

impl AuthJob {
    /// The job for `password` and a `Hello`'s challenge.
    pub fn new(password: &str, challenge: &Challenge) -> AuthJob {
        AuthJob {
            password: password.to_string(),
            challenge: challenge.clone(),
        }
    }

    /// First string to hash: `password + salt`. It contains the password:
    /// hash it, never show or keep it.
    pub fn secret_input(&self) -> String {
        format!("{}{}", self.password, self.challenge.salt)
    }

    /// Second string to hash: the base64 secret (of the first digest)
    /// followed by the challenge.
    pub fn auth_input(&self, secret_digest: &[u8]) -> String {
        format!("{}{}", base64(secret_digest), self.challenge.challenge)
    }

    /// The `authentication` string for `Identify`, from the second digest.
    pub fn authentication(auth_digest: &[u8]) -> String {
        base64(auth_digest)
    }

    /// All three steps with a synchronous SHA-256.
    pub fn compute(&self, mut sha256: impl FnMut(&[u8]) -> Vec<u8>) -> String {
        let secret = sha256(self.secret_input().as_bytes());
        let auth = sha256(self.auth_input(&secret).as_bytes());
        AuthJob::authentication(&auth)
    }
}

/// Standard base64 with padding (RFC 4648 §4), as obs-websocket uses.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn sha256(bytes: &[u8]) -> Vec<u8> {
        Sha256::digest(bytes).to_vec()
    }

    /// The example of obs-websocket's protocol documentation ("Creating an
    /// authentication string"): password `supersecretpassword` with the
    /// `Hello`'s salt and challenge. The document gives the inputs; the
    /// expected secret and authentication were computed independently
    /// (Python's hashlib and base64). The `Identify` example further down
    /// that document carries an unrelated string (`Dj6cLS…`), not the
    /// answer to this challenge.
    #[test]
    fn matches_the_protocol_documentation_example() {
        let job = AuthJob::new(
            "supersecretpassword",
            &Challenge {
                challenge: "+IxH4CnCiqpX1rM9scsNynZzbOe4KhDeYcTNS3PDaeY=".into(),
                salt: "lM1GncleQOaCu9lT1yeUZhFYnqhsLLP1G5lAGo3ixaI=".into(),
            },
        );
        assert_eq!(
            job.secret_input(),
            "supersecretpasswordlM1GncleQOaCu9lT1yeUZhFYnqhsLLP1G5lAGo3ixaI="
        );
        let secret = sha256(job.secret_input().as_bytes());
        assert_eq!(
            base64(&secret),
            "H1IfVz1pSREUQzbFTVnX/Tyb+gMhMik5x7yUBCY0PTs="
        );
        assert_eq!(
            job.auth_input(&secret),
            "H1IfVz1pSREUQzbFTVnX/Tyb+gMhMik5x7yUBCY0PTs=+IxH4CnCiqpX1rM9scsNynZzbOe4KhDeYcTNS3PDaeY="
        );
        assert_eq!(
            job.compute(sha256),
            "1Ct943GAT+6YQUUX47Ia/ncufilbe6+oD6lY+5kaCu4="
        );
    }

    #[test]
    fn base64_pads_like_rfc_4648() {
        let cases: [(&[u8], &str); 7] = [
            (b"", ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
            (b"fooba", "Zm9vYmE="),
            (b"foobar", "Zm9vYmFy"),
        ];
        for (bytes, text) in cases {
            assert_eq!(base64(bytes), text);
        }
        assert_eq!(base64(&[0xfb, 0xff, 0xbf]), "+/+/");
    }

    #[test]
    fn debug_output_never_shows_the_password() {
        let job = AuthJob::new(
            "hunter2-secret",
            &Challenge {
                challenge: "c".into(),
                salt: "s".into(),
            },
        );
        let shown = format!("{job:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("redacted"), "{shown}");
    }
}

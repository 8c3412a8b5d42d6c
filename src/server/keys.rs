//! RSA signing-key pairs for the signing-key API.
//!
//! Keys are 2048-bit RSA, like the platform's. The private half is encoded as
//! PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`, what the platform hands out base64
//! encoded); the public half as SubjectPublicKeyInfo PEM (`BEGIN PUBLIC KEY`),
//! the form the stand-in stores. Generation takes 70-190 ms optimised and
//! seconds unoptimised, which is why Cargo.toml optimises the bignum crates in
//! dev builds and why the server generates on a blocking thread.

use rand_core::OsRng;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use rsa::{RsaPrivateKey, RsaPublicKey};

/// Modulus size of generated keys.
pub const KEY_BITS: usize = 2048;

/// A freshly generated pair, both halves as PEM text.
#[derive(Clone)]
pub struct KeyPair {
    /// PKCS#1 PEM of the private key.
    pub private_key_pem: String,
    /// SubjectPublicKeyInfo PEM of the public key.
    pub public_key_pem: String,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a private key, even in a debug dump.
        f.debug_struct("KeyPair")
            .field("public_key_pem", &self.public_key_pem)
            .finish_non_exhaustive()
    }
}

/// Generates a 2048-bit RSA pair from the OS random source.
pub fn generate() -> Result<KeyPair, String> {
    let private = RsaPrivateKey::new(&mut OsRng, KEY_BITS)
        .map_err(|e| format!("RSA key generation failed: {e}"))?;
    let private_key_pem = private
        .to_pkcs1_pem(LineEnding::LF)
        .map_err(|e| format!("cannot encode the private key: {e}"))?
        .to_string();
    let public_key_pem = RsaPublicKey::from(&private)
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| format!("cannot encode the public key: {e}"))?;
    Ok(KeyPair {
        private_key_pem,
        public_key_pem,
    })
}

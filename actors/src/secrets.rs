//! Encryption of stored secrets (target credentials, tokens) with AES-256-GCM.
//!
//! A sealed secret is `k1:<base64 nonce>:<base64 ciphertext+tag>` with a random 96-bit nonce
//! per seal. The key is 32 bytes, kept as 64 hex characters in a key file readable only by
//! its owner (mode 0600), created on first start. Neither errors nor `Debug` ever show the
//! key or a plaintext.

use std::fmt;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

/// Version tag of the sealed format (and of the key that sealed it).
const FORMAT: &str = "k1";
const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;

/// Why a secret could not be loaded, sealed or opened. Messages never contain key material
/// or plaintext.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("secret key must be exactly 64 hex characters (32 bytes)")]
    InvalidKey,
    #[error("cannot access key file {path}")]
    KeyFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "key file {path} is accessible by group or others (mode {mode:o}); run `chmod 600` on it"
    )]
    InsecureKeyFile { path: PathBuf, mode: u32 },
    #[error("sealed secret is malformed (expected k1:<nonce>:<ciphertext>)")]
    Malformed,
    #[error("cannot decrypt secret: wrong key or tampered data")]
    Decrypt,
    #[error("cannot encrypt secret")]
    Encrypt,
    #[error("decrypted secret is not valid JSON")]
    Json,
}

/// Seals and opens secrets with one AES-256-GCM key.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretBox")
            .field("key", &"<redacted>")
            .finish()
    }
}

impl SecretBox {
    /// A box from 64 hex characters (surrounding whitespace ignored). Never pads or truncates.
    pub fn from_key_hex(hex: &str) -> Result<Self, SecretError> {
        let key = decode_hex(hex.trim()).ok_or(SecretError::InvalidKey)?;
        if key.len() != KEY_LEN {
            return Err(SecretError::InvalidKey);
        }
        let cipher = Aes256Gcm::new_from_slice(&key).map_err(|_| SecretError::InvalidKey)?;
        Ok(Self { cipher })
    }

    /// Loads the key file at `path`, or creates it (mode 0600, parent directories 0700) with
    /// a new random key. Refuses a key file that group or others can access.
    pub fn load_or_create(path: &Path) -> Result<Self, SecretError> {
        let io_err = |source| SecretError::KeyFile {
            path: path.to_owned(),
            source,
        };
        match fs::symlink_metadata(path) {
            Ok(_) => Self::load(path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    fs::DirBuilder::new()
                        .recursive(true)
                        .mode(0o700)
                        .create(parent)
                        .map_err(io_err)?;
                }
                match create_key_file(path) {
                    Ok(()) => Self::load(path),
                    // Another process created it first: use theirs.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::load(path),
                    Err(e) => Err(io_err(e)),
                }
            }
            Err(e) => Err(io_err(e)),
        }
    }

    fn load(path: &Path) -> Result<Self, SecretError> {
        let io_err = |source| SecretError::KeyFile {
            path: path.to_owned(),
            source,
        };
        let mode = fs::metadata(path).map_err(io_err)?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(SecretError::InsecureKeyFile {
                path: path.to_owned(),
                mode: mode & 0o7777,
            });
        }
        let hex = fs::read_to_string(path).map_err(io_err)?;
        Self::from_key_hex(&hex)
    }

    /// Encrypts `plaintext` into `k1:<base64 nonce>:<base64 ciphertext>`.
    pub fn seal(&self, plaintext: &[u8]) -> Result<String, SecretError> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = self
            .cipher
            .encrypt(&nonce, plaintext)
            .map_err(|_| SecretError::Encrypt)?;
        Ok(format!(
            "{FORMAT}:{}:{}",
            STANDARD.encode(nonce),
            STANDARD.encode(ciphertext)
        ))
    }

    /// Decrypts a value produced by [`SecretBox::seal`] with the same key.
    pub fn open(&self, sealed: &str) -> Result<Vec<u8>, SecretError> {
        let mut parts = sealed.trim().splitn(3, ':');
        let (Some(FORMAT), Some(nonce), Some(ciphertext)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(SecretError::Malformed);
        };
        let nonce = STANDARD.decode(nonce).map_err(|_| SecretError::Malformed)?;
        if nonce.len() != NONCE_LEN {
            return Err(SecretError::Malformed);
        }
        let ciphertext = STANDARD
            .decode(ciphertext)
            .map_err(|_| SecretError::Malformed)?;
        self.cipher
            .decrypt(Nonce::from_slice(&nonce), ciphertext.as_slice())
            .map_err(|_| SecretError::Decrypt)
    }

    /// Seals a JSON value (serialised compactly).
    pub fn seal_json(&self, value: &Value) -> Result<String, SecretError> {
        let bytes = serde_json::to_vec(value).map_err(|_| SecretError::Json)?;
        self.seal(&bytes)
    }

    /// Opens a value sealed with [`SecretBox::seal_json`].
    pub fn open_json(&self, sealed: &str) -> Result<Value, SecretError> {
        let bytes = self.open(sealed)?;
        serde_json::from_slice(&bytes).map_err(|_| SecretError::Json)
    }
}

/// A random secret token: `prefix` + 64 hex characters (256 bits from the OS generator).
pub fn random_token(prefix: &str) -> String {
    format!("{prefix}{}", hex::encode(Aes256Gcm::generate_key(OsRng)))
}

/// Writes a new random key to `path` atomically: a private temp file hard-linked into place,
/// so a concurrent reader never sees a half-written key and two creators cannot both win.
fn create_key_file(path: &Path) -> std::io::Result<()> {
    let key = Aes256Gcm::generate_key(OsRng);
    let tmp = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
    let written = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(encode_hex(&key).as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        fs::hard_link(&tmp, path)
    })();
    let _ = fs::remove_file(&tmp);
    written
}

fn encode_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    hex.as_bytes()
        .chunks(2)
        .map(|pair| {
            let high = char::from(pair[0]).to_digit(16)?;
            let low = char::from(pair[1]).to_digit(16)?;
            u8::try_from(high * 16 + low).ok()
        })
        .collect()
}

//! Secret encryption: round trips, wrong keys and tampering fail, key files stay private.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::os::unix::fs::PermissionsExt;

use actors::secrets::{SecretBox, SecretError};
use serde_json::json;

const KEY_A: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const KEY_B: &str = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

#[test]
fn round_trip() {
    let secrets = SecretBox::from_key_hex(KEY_A).unwrap();
    let sealed = secrets.seal(b"hunter2").unwrap();
    assert!(sealed.starts_with("k1:"));
    assert!(!sealed.contains("hunter2"));
    assert_eq!(secrets.open(&sealed).unwrap(), b"hunter2");
    assert_ne!(
        secrets.seal(b"hunter2").unwrap(),
        sealed,
        "fresh nonce per seal"
    );

    let value = json!({ "token": "abc", "headers": { "x-api-key": "k" } });
    let sealed = secrets.seal_json(&value).unwrap();
    assert_eq!(secrets.open_json(&sealed).unwrap(), value);
    assert_eq!(secrets.open(&secrets.seal(b"").unwrap()).unwrap(), b"");
}

#[test]
fn wrong_key_fails() {
    let sealed = SecretBox::from_key_hex(KEY_A)
        .unwrap()
        .seal(b"hunter2")
        .unwrap();
    let other = SecretBox::from_key_hex(KEY_B).unwrap();
    assert!(matches!(other.open(&sealed), Err(SecretError::Decrypt)));
}

#[test]
fn tampered_ciphertext_fails() {
    let secrets = SecretBox::from_key_hex(KEY_A).unwrap();
    let sealed = secrets.seal(b"hunter2").unwrap();
    let (head, ciphertext) = sealed.rsplit_once(':').unwrap();
    let mut bytes = base64_decode(ciphertext);
    bytes[0] ^= 1;
    let tampered = format!("{head}:{}", base64_encode(&bytes));
    assert!(matches!(secrets.open(&tampered), Err(SecretError::Decrypt)));

    for malformed in [
        "",
        "hunter2",
        "k2:AAAA:AAAA",
        "k1:not base64:AAAA",
        "k1:AAAA:AAAA",
    ] {
        assert!(
            matches!(secrets.open(malformed), Err(SecretError::Malformed)),
            "{malformed:?} is malformed"
        );
    }
}

#[test]
fn bad_hex_is_rejected() {
    let cases = [
        "",
        "00",
        &KEY_A[..62],
        &format!("{KEY_A}00"),
        &format!("{}zz", &KEY_A[..62]),
        "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
    ];
    for hex in cases {
        assert!(
            matches!(SecretBox::from_key_hex(hex), Err(SecretError::InvalidKey)),
            "{hex:?} must be rejected"
        );
    }
    assert!(SecretBox::from_key_hex(&KEY_A.to_uppercase()).is_ok());
}

#[test]
fn key_file_is_created_private_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/secret.key");
    let first = SecretBox::load_or_create(&path).unwrap();
    let mode = fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let hex = fs::read_to_string(&path).unwrap();
    assert_eq!(hex.trim().len(), 64);

    let sealed = first.seal(b"persisted").unwrap();
    let second = SecretBox::load_or_create(&path).unwrap();
    assert_eq!(second.open(&sealed).unwrap(), b"persisted");
    assert_eq!(
        fs::read_dir(path.parent().unwrap()).unwrap().count(),
        1,
        "no temp files left"
    );
}

#[test]
fn readable_key_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret.key");
    fs::write(&path, KEY_A).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    let err = SecretBox::load_or_create(&path).unwrap_err();
    assert!(matches!(
        err,
        SecretError::InsecureKeyFile { mode: 0o644, .. }
    ));
    assert!(err.to_string().contains("chmod 600"));
    assert!(!err.to_string().contains(KEY_A));
}

#[test]
fn nothing_secret_is_printed() {
    let secrets = SecretBox::from_key_hex(KEY_A).unwrap();
    let debug = format!("{secrets:?}");
    assert!(!debug.contains("0001020304"), "{debug}");
    assert!(!debug.to_lowercase().contains("0x0"));
    let sealed = secrets.seal(b"hunter2").unwrap();
    let err = SecretBox::from_key_hex(KEY_B)
        .unwrap()
        .open(&sealed)
        .unwrap_err();
    assert!(!format!("{err} {err:?}").contains("hunter2"));
    let err = SecretBox::from_key_hex("abcd").unwrap_err();
    assert!(!format!("{err} {err:?}").contains("abcd"));
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

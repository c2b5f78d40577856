//! Credentials: argon2id password hashes and API tokens (`krw_<id>_<secret>`, stored as SHA-256,
//! compared in constant time). Plaintext passwords and tokens are never stored or logged.

use aes_gcm::aead::OsRng;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::secrets::random_token;

/// A password could not be hashed (argon2 refused its parameters).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// The argon2id PHC string of `password` with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Verifies `password` against `phc`, or, for an unknown user (`None`), against a dummy hash
/// of the same cost and answers `false`: a login for a missing username takes as long as one
/// with a wrong password, so timing does not tell which usernames exist.
pub fn verify_password_or_dummy(password: &str, phc: Option<&str>) -> bool {
    static DUMMY: std::sync::LazyLock<Option<String>> =
        std::sync::LazyLock::new(|| hash_password("krawall: no such user").ok());
    match phc {
        Some(phc) => verify_password(password, phc),
        None => {
            if let Some(dummy) = DUMMY.as_deref() {
                let _ = verify_password(password, dummy);
            }
            false
        }
    }
}

/// Whether `password` matches the PHC string (false for a malformed hash).
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A freshly issued token: the plaintext (shown once) and what is stored.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub id: Uuid,
    pub plaintext: String,
    pub hash: String,
}

/// Prefix of every API token (so secret scanners and people can recognise one).
pub const TOKEN_PREFIX: &str = "krw_";

/// A new API token: `krw_<32 hex id>_<64 hex, 256 random bits>`.
pub fn issue_token() -> IssuedToken {
    let id = Uuid::now_v7();
    let plaintext = random_token(&format!("{TOKEN_PREFIX}{}_", id.simple()));
    let hash = token_hash(&plaintext);
    IssuedToken {
        id,
        plaintext,
        hash,
    }
}

/// The token id inside a presented token, if it is shaped like one.
pub fn token_id(presented: &str) -> Option<Uuid> {
    let rest = presented.strip_prefix(TOKEN_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    (secret.len() == 64).then_some(())?;
    Uuid::try_parse(id).ok()
}

/// Hex SHA-256 of a token string.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Whether the presented token hashes to `stored` (constant-time comparison).
pub fn token_matches(presented: &str, stored: &str) -> bool {
    token_hash(presented)
        .as_bytes()
        .ct_eq(stored.as_bytes())
        .into()
}

/// Constant-time equality of two secrets (CSRF tokens, session ids).
pub fn secrets_equal(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let phc = hash_password("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &phc));
        assert!(!verify_password("correct horse batterY", &phc));
        assert!(!verify_password("anything", "not a hash"));
        assert!(verify_password_or_dummy(
            "correct horse battery",
            Some(&phc)
        ));
        assert!(!verify_password_or_dummy("correct horse battery", None));
        assert!(!verify_password_or_dummy("krawall: no such user", None));
    }

    #[test]
    fn tokens_carry_their_id_and_match_only_their_hash() {
        let t = issue_token();
        assert_eq!(token_id(&t.plaintext), Some(t.id));
        assert!(token_matches(&t.plaintext, &t.hash));
        assert!(!token_matches(&format!("{}0", t.plaintext), &t.hash));
        assert_eq!(token_id("krw_nope"), None);
        assert!(!t.hash.contains(&t.plaintext));
    }
}

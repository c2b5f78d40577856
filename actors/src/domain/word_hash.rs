//! 64-bit word hashes for the reply scores (quality keywords and word counts, repetition
//! shingles): each word is hashed once, and sets and counts hold hashes instead of strings.
//! Two different words collide with probability about 2⁻⁶⁴ per pair; FNV-1a is stable across
//! runs, so scores are reproducible.

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0100_0000_01b3;

/// A hash of the bytes of `word`.
pub fn hash_word(word: &str) -> u64 {
    hash_bytes(word.as_bytes())
}

/// [`hash_word`] of a word given as bytes.
pub fn hash_bytes(word: &[u8]) -> u64 {
    word.iter()
        .fold(OFFSET, |h, b| (h ^ u64::from(*b)).wrapping_mul(PRIME))
}

/// A hash of the characters of `word` that `keep` accepts, and how many it accepted (the hash
/// of the word with the others removed, without building it).
pub fn hash_kept(word: &str, keep: impl Fn(char) -> bool) -> (u64, usize) {
    let (mut h, mut kept) = (OFFSET, 0);
    if word.is_ascii() {
        for b in word.bytes().filter(|b| keep(char::from(*b))) {
            h = (h ^ u64::from(b)).wrapping_mul(PRIME);
            kept += 1;
        }
        return (h, kept);
    }
    let mut buf = [0u8; 4];
    for c in word.chars().filter(|c| keep(*c)) {
        for b in c.encode_utf8(&mut buf).bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(PRIME);
        }
        kept += 1;
    }
    (h, kept)
}

/// A hash of a sequence of word hashes (a shingle), order-sensitive.
pub fn hash_sequence(words: &[u64]) -> u64 {
    words.iter().fold(OFFSET, |h, w| {
        let h = (h ^ w).wrapping_mul(PRIME);
        h ^ (h >> 29)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_characters_hash_like_the_cleaned_word() {
        let keep = |c: char| c.is_alphanumeric();
        assert_eq!(hash_kept("don't", keep), (hash_word("dont"), 4));
        assert_eq!(hash_kept("é-cole!", keep), (hash_word("école"), 5));
        assert_eq!(hash_kept("...", keep), (hash_word(""), 0));
        assert_ne!(hash_word("ab"), hash_word("ba"));
    }

    #[test]
    fn sequences_depend_on_order_and_content() {
        let (a, b, c) = (hash_word("a"), hash_word("b"), hash_word("c"));
        assert_eq!(hash_sequence(&[a, b, c]), hash_sequence(&[a, b, c]));
        assert_ne!(hash_sequence(&[a, b, c]), hash_sequence(&[b, a, c]));
        assert_ne!(hash_sequence(&[a, b]), hash_sequence(&[a, b, c]));
    }
}

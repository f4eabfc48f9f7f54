//! Text normalization and hashing shared by the parser, the ids and dedup.
//!
//! Two strings that a reader would call "the same text" must normalize to the same
//! key: Unicode NFKC, case-folded, with punctuation and runs of whitespace collapsed
//! to one space. Everything that compares or fingerprints text goes through here so
//! that the definition lives in one place.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

/// Appends the normalized form of `s` to `out`: NFKC, lowercase, every run of
/// non-alphanumeric characters replaced by a single space, no leading or trailing
/// space.
pub fn normalize_into(s: &str, out: &mut String) {
    let start = out.len();
    // Most news text is ASCII or already NFKC; the byte loop and the quick check
    // keep the common case free of Unicode tables.
    if s.is_ascii() {
        let mut buf = Vec::with_capacity(s.len() + 1);
        let mut pending_space = start < out.len();
        // Appending a space after every separator run and trimming at the end
        // keeps the loop free of "is this the first word" checks.
        let mut in_sep = true;
        for &b in s.as_bytes() {
            let folded = ASCII_FOLD[b as usize];
            if folded != 0 {
                if in_sep && pending_space {
                    buf.push(b' ');
                }
                buf.push(folded);
                in_sep = false;
                pending_space = true;
            } else {
                in_sep = true;
            }
        }
        // Only ASCII bytes were pushed, so this never fails.
        out.push_str(std::str::from_utf8(&buf).unwrap_or_default());
        return;
    }
    let mut pending_space = false;
    let mut push = |c: char, out: &mut String| {
        // Combining marks (Thai tone marks, the Devanagari virama, ...) are part
        // of their word, not separators.
        if c.is_alphanumeric() || is_combining_mark(c) {
            if pending_space && out.len() > start {
                out.push(' ');
            }
            pending_space = false;
            if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else {
                out.extend(c.to_lowercase());
            }
        } else {
            pending_space = true;
        }
    };
    if is_nfkc_quick(s.chars()) == IsNormalized::Yes {
        for c in s.chars() {
            push(c, out);
        }
    } else {
        for c in s.nfkc() {
            push(c, out);
        }
    }
}

/// ASCII byte → its lowercase form if alphanumeric, else 0 (a separator).
const ASCII_FOLD: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 128 {
        let b = i as u8;
        if b.is_ascii_alphanumeric() {
            t[i] = b.to_ascii_lowercase();
        }
        i += 1;
    }
    t
};

/// The first `max` bytes of `s`, cut back to a character boundary.
#[inline]
pub fn head(s: &str, max: usize) -> &str {
    let mut cut = s.len().min(max);
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    &s[..cut]
}

/// The last `max` bytes of `s`, moved forward to a character boundary.
#[inline]
pub fn tail(s: &str, max: usize) -> &str {
    let mut from = s.len().saturating_sub(max);
    while !s.is_char_boundary(from) {
        from += 1;
    }
    &s[from..]
}

/// Lowercases the first `N` bytes of `s` (cut back to a character boundary):
/// on the stack when ASCII, which is nearly always, else on the heap. Used by
/// the per-line lookups that only ever look at a line's head.
pub fn lower_head<'a, const N: usize>(
    s: &'a str,
    buf: &'a mut [u8; N],
) -> std::borrow::Cow<'a, str> {
    let head = head(s, N);
    if head.is_ascii() {
        for (d, b) in buf.iter_mut().zip(head.bytes()) {
            *d = b.to_ascii_lowercase();
        }
        // ASCII in, ASCII out.
        std::borrow::Cow::Borrowed(std::str::from_utf8(&buf[..head.len()]).unwrap_or_default())
    } else {
        std::borrow::Cow::Owned(head.to_lowercase())
    }
}

/// The normalized form of `s` (see [`normalize_into`]).
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    normalize_into(s, &mut out);
    out
}

/// A 64-bit digest of `parts`, used for ids and content hashes: XXH3, whose
/// output is fixed by its specification, so ids stay stable across releases. 64
/// bits keep the dedup index compact; collisions become likely only around 2^32
/// distinct keys, far beyond what one index holds within its TTL.
pub fn digest64(parts: &[&str]) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            // A separator no normalized text contains keeps ("ab","c") != ("a","bc").
            h.update(&[0x1f]);
        }
        h.update(p.as_bytes());
    }
    h.digest()
}

/// Formats a 64-bit id the way outputs carry it.
pub fn id_hex(id: u64) -> String {
    format!("{id:016x}")
}

/// Counts words in normalized text (see [`normalize`]): one more than its spaces.
pub fn normalized_word_count(normalized: &str) -> usize {
    if normalized.is_empty() {
        0
    } else {
        1 + normalized.bytes().filter(|b| *b == b' ').count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization_folds_case_punctuation_and_width() {
        assert_eq!(normalize("  Hello,   WORLD!! "), "hello world");
        assert_eq!(normalize("“Jadi,” katanya."), "jadi katanya");
        // NFKC folds full-width letters and ligatures.
        assert_eq!(normalize("ＡＢＣ ﬁne"), "abc fine");
        assert_eq!(normalize("...!!"), "");
        // Marks stay inside their words: Thai tone mark, Devanagari virama.
        assert_eq!(normalize("ไม่ ใช่"), "ไม่ ใช่");
        assert_eq!(normalize("नमस्ते!"), "नमस्ते");
    }

    #[test]
    fn digests_separate_parts() {
        assert_ne!(digest64(&["ab", "c"]), digest64(&["a", "bc"]));
        assert_eq!(id_hex(digest64(&["x"])).len(), 16);
        assert_eq!(id_hex(0xab), "00000000000000ab");
    }

    #[test]
    fn counts_normalized_words() {
        assert_eq!(normalized_word_count(&normalize("Rp1,3 Juta - ok")), 4);
        assert_eq!(normalized_word_count(""), 0);
    }
}

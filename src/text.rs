//! Text normalization and hashing shared by the parser, the ids and dedup.
//!
//! Two strings that a reader would call "the same text" must normalize to the same
//! key: Unicode NFKC, case-folded, with punctuation and runs of whitespace collapsed
//! to one space. Everything that compares or fingerprints text goes through here so
//! that the definition lives in one place.

use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

/// Appends the normalized form of `s` to `out`: NFKC, lowercase, every run of
/// non-alphanumeric characters replaced by a single space, no leading or trailing
/// space.
pub fn normalize_into(s: &str, out: &mut String) {
    let start = out.len();
    // NFKC is the expensive step; most news text is already NFKC (ASCII always is),
    // so skip the decomposition when the quick check says so.
    let mut pending_space = false;
    let mut push = |c: char, out: &mut String| {
        if c.is_alphanumeric() {
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
    if s.is_ascii() || is_nfkc_quick(s.chars()) == IsNormalized::Yes {
        for c in s.chars() {
            push(c, out);
        }
    } else {
        for c in s.nfkc() {
            push(c, out);
        }
    }
}

/// The normalized form of `s` (see [`normalize_into`]).
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    normalize_into(s, &mut out);
    out
}

/// A 128-bit hex digest, used for ids and content hashes. BLAKE3 is fast enough to
/// run on every page and has no collisions to worry about at this width.
pub fn digest_hex(parts: &[&str]) -> String {
    let mut h = blake3::Hasher::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            // A separator no normalized text contains keeps ("ab","c") != ("a","bc").
            h.update(&[0x1f]);
        }
        h.update(p.as_bytes());
    }
    let bytes = h.finalize();
    let mut out = String::with_capacity(32);
    for b in &bytes.as_bytes()[..16] {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Counts words the way `word_count` reports them: runs of alphanumeric characters.
pub fn word_count(s: &str) -> usize {
    let mut n = 0;
    let mut in_word = false;
    for c in s.chars() {
        let w = c.is_alphanumeric();
        if w && !in_word {
            n += 1;
        }
        in_word = w;
    }
    n
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
    }

    #[test]
    fn digests_separate_parts() {
        assert_ne!(digest_hex(&["ab", "c"]), digest_hex(&["a", "bc"]));
        assert_eq!(digest_hex(&["x"]).len(), 32);
    }

    #[test]
    fn counts_words() {
        assert_eq!(word_count("Rp1,3 Juta - ok"), 4);
        assert_eq!(word_count(""), 0);
    }
}

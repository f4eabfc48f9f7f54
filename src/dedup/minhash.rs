//! MinHash fingerprints of article bodies: shingling, one-permutation hashing with
//! optimal densification, the 2-bit compressed form the index stores, and LSH band
//! keys.
//!
//! Speed drives the design. Classic MinHash runs `K` independent hash functions
//! over every shingle; one-permutation hashing (OPH) hashes each shingle once and
//! uses the hash's high bits to pick one of [`SIGNATURE_SLOTS`] bins and its low
//! bits as the value, keeping the minimum per bin. Bins that no shingle reached are
//! filled by optimal densification (Shrivastava, ICML 2017): an empty bin borrows
//! the value of a non-empty bin chosen by a fixed hash of (bin, attempt), so two
//! texts agree on a densified bin with the same probability as on a real one, and
//! the fraction of equal slots stays an unbiased estimate of the Jaccard similarity
//! of the two shingle sets.
//!
//! Shingles are word k-grams (default k = 3) for scripts that separate words with
//! spaces, and character k-grams over the non-space characters (default k = 4) for
//! scripts written without them (Thai, Lao, Khmer, Myanmar, Han, kana), where a
//! "word" would be a whole clause. Every step uses fixed seeds, so signatures are
//! stable across runs and machines and may be stored.

use xxhash_rust::xxh3::xxh3_64;

/// Number of slots (bins) in a [`Signature`]. The standard error of an estimate is
/// about `sqrt(J(1-J)/SIGNATURE_SLOTS)`, at most 0.031 at 256. 128 slots (0.044)
/// left only 88% of estimates within ±0.05 of the true Jaccard; 256 slots at 2
/// stored bits each cost the index the same 64 bytes as 128 slots at 4 bits.
pub const SIGNATURE_SLOTS: usize = 256;

/// Number of LSH bands; a pair becomes a candidate when any band matches.
pub const BANDS: usize = 8;

/// Slots per LSH band. With `ROWS` = 2 and `BANDS` = 8 a pair with Jaccard `J`
/// becomes a candidate with probability `1 - (1 - J^2)^8`: 0.90 at 0.5, 0.97 at 0.6.
pub const ROWS: usize = 2;

const _: () = assert!(BANDS * ROWS <= SIGNATURE_SLOTS);
// The densification mask works in 64-bit words, the compressed form in words of
// `SLOTS_PER_WORD` slots of `STORED_BITS` bits.
const _: () = assert!(SIGNATURE_SLOTS % 64 == 0);

/// Bits kept per slot in a [`Compressed`] signature (b-bit MinHash).
pub const STORED_BITS: usize = 2;
/// Slots per `u64` word of a [`Compressed`] signature.
const SLOTS_PER_WORD: usize = 64 / STORED_BITS;
/// `u64` words in a [`Compressed`] signature (8: 64 bytes).
pub const COMPRESSED_WORDS: usize = SIGNATURE_SLOTS / SLOTS_PER_WORD;
const _: () = assert!(64 % STORED_BITS == 0 && STORED_BITS.is_power_of_two());
const _: () = assert!(SIGNATURE_SLOTS % SLOTS_PER_WORD == 0);
/// Mask of each slot's lowest bit within a word.
const SLOT_LOW_BITS: u64 = {
    let mut m = 0u64;
    let mut i = 0;
    while i < 64 {
        m |= 1 << i;
        i += STORED_BITS;
    }
    m
};

/// Marks an empty bin during hashing and every slot of [`Signature::EMPTY`]. Real
/// values are clamped to `u32::MAX - 1` so the marker is unambiguous.
const EMPTY_SLOT: u32 = u32::MAX;

// Fixed seeds: changing any of them changes every stored signature.
const SHINGLE_SEED: u64 = 0x9e37_79b9_7f4a_7c15;
const CHAR_SEED: u64 = 0x243f_6a88_85a3_08d3;
const DENSIFY_SEED: u64 = 0x1319_8a2e_0370_7344;
const BAND_SEED: u64 = 0xa409_3822_299f_31d0;
const NIBBLE_SEED: u64 = 0x082e_fa98_ec4e_6c89;

/// Densification gives up on random probing after this many attempts per bin and
/// scans for the next filled bin instead; with one filled bin out of 256 that
/// happens to 1 bin in 3,000, and only bounds the work for very short texts.
const MAX_DONOR_ATTEMPTS: u32 = 8 * SIGNATURE_SLOTS as u32;

/// Largest shingle size; larger configured sizes are treated as this. Shingles
/// that long would make any edit look like a new text anyway.
pub const MAX_K: usize = 64;

/// How a body is cut into shingles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShingleConfig {
    /// Words per shingle for space-separated scripts; clamped to `1..=MAX_K`.
    pub word_k: usize,
    /// Characters per shingle for scripts written without spaces; clamped to
    /// `1..=MAX_K`.
    pub char_k: usize,
}

impl Default for ShingleConfig {
    fn default() -> Self {
        Self {
            word_k: 3,
            char_k: 4,
        }
    }
}

/// A MinHash signature: per slot, the minimum 32-bit value among the shingles
/// hashed into that bin (after densification).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Signature(pub [u32; SIGNATURE_SLOTS]);

impl Signature {
    /// The signature of a text with no tokens. It matches nothing, not even itself:
    /// two empty bodies are not evidence of duplicate articles.
    pub const EMPTY: Signature = Signature([EMPTY_SLOT; SIGNATURE_SLOTS]);

    /// Whether this is [`Signature::EMPTY`].
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|&v| v == EMPTY_SLOT)
    }
}

/// The b-bit (b = [`STORED_BITS`]) form of a [`Signature`] kept by the index: 64
/// bytes instead of 1,024. Slot `i` is the `i % SLOTS_PER_WORD`-th group of bits
/// of word `i / SLOTS_PER_WORD`.
///
/// The stored bits are a keyed hash of (slot value, slot index), not simply the
/// value's low bits. Equal values still give equal bits, but a signature made of a
/// few repeated values (a short text, or densified copies) no longer gives the same
/// bits in every slot, which would otherwise make two unrelated short texts agree
/// on every slot far too often.
#[derive(Clone, PartialEq, Eq, Debug)]
#[repr(align(64))]
pub struct Compressed([u64; COMPRESSED_WORDS]);

impl Compressed {
    /// The compressed [`Signature::EMPTY`]: all zero bits. A real signature maps
    /// here with probability 2^-512 and is then nudged off it in [`compress`].
    pub const EMPTY: Compressed = Compressed([0; COMPRESSED_WORDS]);

    /// Whether this is [`Compressed::EMPTY`].
    pub fn is_empty(&self) -> bool {
        self.0 == [0; COMPRESSED_WORDS]
    }

    /// The stored words, for serialization (the dedup changelog).
    pub fn words(&self) -> &[u64; COMPRESSED_WORDS] {
        &self.0
    }

    /// A compressed signature from stored words, as [`Self::words`] gave them.
    pub fn from_words(words: [u64; COMPRESSED_WORDS]) -> Self {
        Compressed(words)
    }

    /// The stored bits of slot `i` (`i < SIGNATURE_SLOTS`).
    pub fn slot_bits(&self, i: usize) -> u8 {
        let mask = (1u64 << STORED_BITS) - 1;
        ((self.0[i / SLOTS_PER_WORD] >> ((i % SLOTS_PER_WORD) * STORED_BITS)) & mask) as u8
    }
}

/// Turns normalized paragraphs into signatures, reusing its token buffer so the hot
/// path does not allocate once the buffer has grown to the longest body seen.
#[derive(Debug, Clone, Default)]
pub struct Fingerprinter {
    config: ShingleConfig,
    /// Hash of every token of the current text, in order.
    tokens: Vec<u64>,
}

impl Fingerprinter {
    /// A fingerprinter with the given shingle sizes.
    pub fn new(config: ShingleConfig) -> Self {
        Self {
            config,
            tokens: Vec::new(),
        }
    }

    /// The shingle sizes in use.
    pub fn config(&self) -> &ShingleConfig {
        &self.config
    }

    /// The signature of a body given as paragraphs already passed through
    /// [`crate::text::normalize`]. Words are split on spaces (and any other ASCII
    /// whitespace or control character); shingles run across paragraph
    /// boundaries. A text with fewer than k tokens gets one shingle made of all
    /// its tokens; a text with none gets [`Signature::EMPTY`]. Any string is
    /// accepted; unnormalized input just fingerprints less usefully.
    pub fn signature<S: AsRef<str>>(&mut self, paragraphs: &[S]) -> Signature {
        self.tokens.clear();
        let k = if is_unspaced(paragraphs) {
            for p in paragraphs {
                self.tokens.extend(
                    p.as_ref()
                        .chars()
                        .filter(|c| !c.is_whitespace())
                        .map(|c| mix64(c as u64 ^ CHAR_SEED)),
                );
            }
            self.config.char_k
        } else {
            for p in paragraphs {
                hash_words(p.as_ref().as_bytes(), &mut self.tokens);
            }
            self.config.word_k
        };
        signature_of_tokens(&self.tokens, k.clamp(1, MAX_K))
    }
}

/// One-off [`Fingerprinter::signature`]; allocates a token buffer per call.
pub fn fingerprint<S: AsRef<str>>(paragraphs: &[S], config: &ShingleConfig) -> Signature {
    Fingerprinter::new(*config).signature(paragraphs)
}

/// Whether a text should be shingled by characters: more than half of its
/// alphabetic characters belong to scripts written without spaces between words.
pub fn is_unspaced<S: AsRef<str>>(paragraphs: &[S]) -> bool {
    // Every such script lies at U+0E00 or above, i.e. in a UTF-8 sequence whose
    // lead byte is 0xE0 or more; most bodies have none and skip the char walk.
    let maybe = paragraphs.iter().any(|p| {
        let p = p.as_ref();
        !p.is_ascii() && p.bytes().any(|b| b >= 0xe0)
    });
    if !maybe {
        return false;
    }
    let (mut unspaced, mut other) = (0usize, 0usize);
    for c in paragraphs.iter().flat_map(|p| p.as_ref().chars()) {
        if c.is_alphabetic() {
            if is_unspaced_script(c) {
                unspaced += 1;
            } else {
                other += 1;
            }
        }
    }
    unspaced > other
}

/// Appends the hash of every word of `text`, splitting on bytes up to 0x20 (space
/// and ASCII control characters), which never occur inside a UTF-8 sequence.
///
/// This touches every byte of every body, so separators are found eight bytes at
/// a time (SWAR) rather than byte by byte: one loop turn per word, not per byte.
/// Hashing the words with xxh3 is still over half of all fingerprinting time.
fn hash_words(text: &[u8], out: &mut Vec<u64>) {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Adding 0x5f to a byte's low 7 bits sets its high bit iff they are ≥ 0x21,
    // with no carry into the next byte; OR-ing the byte keeps bytes ≥ 0x80 out.
    const ADD: u64 = 0x5f5f_5f5f_5f5f_5f5f;
    let mut start = 0;
    #[inline(always)]
    fn emit(word: &[u8], out: &mut Vec<u64>) {
        if !word.is_empty() {
            out.push(xxh3_64(word));
        }
    }
    let mut chunks = text.chunks_exact(8);
    let mut base = 0;
    for chunk in chunks.by_ref() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let mut separators = !(((x & LOW7) + ADD) | x) & HIGH;
        while separators != 0 {
            let at = base + (separators.trailing_zeros() / 8) as usize;
            emit(&text[start..at], out);
            start = at + 1;
            separators &= separators - 1;
        }
        base += 8;
    }
    for (i, &b) in chunks.remainder().iter().enumerate() {
        if b <= b' ' {
            emit(&text[start..base + i], out);
            start = base + i + 1;
        }
    }
    emit(&text[start..], out);
}

/// Thai, Lao, Myanmar, Khmer, Han and kana. Hangul is left out: Korean puts spaces
/// between words.
fn is_unspaced_script(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0EFF      // Thai, Lao
        | 0x1000..=0x109F    // Myanmar
        | 0xA9E0..=0xA9FF    // Myanmar Extended-B
        | 0xAA60..=0xAA7F    // Myanmar Extended-A
        | 0x1780..=0x17FF    // Khmer
        | 0x19E0..=0x19FF    // Khmer Symbols
        | 0x3040..=0x30FF    // Hiragana, Katakana
        | 0x31F0..=0x31FF    // Katakana Phonetic Extensions
        | 0xFF66..=0xFF9D    // Halfwidth Katakana
        | 0x3400..=0x4DBF    // CJK Extension A
        | 0x4E00..=0x9FFF    // CJK Unified Ideographs
        | 0xF900..=0xFAFF    // CJK Compatibility Ideographs
        | 0x20000..=0x3134F  // CJK Extensions B-G and Compatibility Supplement
    )
}

/// OPH over the k-shingles of `tokens`, then densification.
fn signature_of_tokens(tokens: &[u64], k: usize) -> Signature {
    if tokens.is_empty() {
        return Signature::EMPTY;
    }
    let mut slots = [EMPTY_SLOT; SIGNATURE_SLOTS];
    let mut add = |h: u64| {
        let bin = fast_range((h >> 32) as u32, SIGNATURE_SLOTS);
        // Keep u32::MAX free as the empty-bin marker; the bias is 2^-32.
        let value = (h as u32).min(EMPTY_SLOT - 1);
        // Branch-free: whether a shingle lowers its bin's minimum is a coin flip
        // early on, and a mispredicted branch costs more than the store.
        slots[bin] = slots[bin].min(value);
    };
    if tokens.len() < k {
        add(shingle_hash(tokens));
    } else {
        match k {
            1 => shingles_of::<1>(tokens, add),
            2 => shingles_of::<2>(tokens, add),
            3 => shingles_of::<3>(tokens, add),
            4 => shingles_of::<4>(tokens, add),
            5 => shingles_of::<5>(tokens, add),
            _ => tokens.windows(k).for_each(|w| add(shingle_hash(w))),
        }
    }
    densify(&mut slots);
    Signature(slots)
}

/// Order-sensitive hash of a shingle from its token hashes, which are already
/// full-avalanche: each token is rotated by a distinct multiple of 21 bits (Horner
/// form) and xored in, then one multiply and xor-shift spread the result. That is
/// a few cycles per shingle instead of rehashing the shingle's bytes. Distinct
/// rotations need `tokens.len() <= 64`, hence [`MAX_K`].
#[inline(always)]
fn shingle_hash(tokens: &[u64]) -> u64 {
    let mut h = SHINGLE_SEED ^ tokens.len() as u64;
    for &t in tokens {
        h = h.rotate_left(21) ^ t;
    }
    finish_shingle(h)
}

#[inline(always)]
fn finish_shingle(h: u64) -> u64 {
    // The bin comes from the product's high half, which depends on every input
    // bit; the xor-shift then folds it into the low half that becomes the value.
    let h = h.wrapping_mul(0x9fb2_1c65_1e98_df25);
    h ^ (h >> 32)
}

/// [`shingle_hash`] of every window of `K` tokens, with `K` known at compile time
/// so the per-shingle loop unrolls.
#[inline(always)]
fn shingles_of<const K: usize>(tokens: &[u64], mut add: impl FnMut(u64)) {
    for window in tokens.windows(K) {
        let mut h = SHINGLE_SEED ^ K as u64;
        for &t in window.iter().take(K) {
            h = h.rotate_left(21) ^ t;
        }
        add(finish_shingle(h));
    }
}

/// Optimal densification: each empty bin copies the value of the first originally
/// filled bin hit by the probe sequence `hash(bin, 1), hash(bin, 2), ...`.
fn densify(slots: &mut [u32; SIGNATURE_SLOTS]) {
    let mut filled = [0u64; SIGNATURE_SLOTS / 64];
    let mut count = 0;
    for (i, &v) in slots.iter().enumerate() {
        if v != EMPTY_SLOT {
            filled[i / 64] |= 1 << (i % 64);
            count += 1;
        }
    }
    let is_filled = |j: usize| filled[j / 64] & (1 << (j % 64)) != 0;
    if count == SIGNATURE_SLOTS {
        return;
    }
    if count == 1 {
        // Every probe sequence ends at the only filled bin.
        let v = slots
            .iter()
            .copied()
            .find(|&v| v != EMPTY_SLOT)
            .unwrap_or(EMPTY_SLOT);
        slots.fill(v);
        return;
    }
    for i in 0..SIGNATURE_SLOTS {
        if is_filled(i) {
            continue;
        }
        let donor = (1..=MAX_DONOR_ATTEMPTS)
            .map(|attempt| {
                let h = mix64(DENSIFY_SEED ^ ((i as u64) << 32 | attempt as u64));
                fast_range((h >> 32) as u32, SIGNATURE_SLOTS)
            })
            .find(|&j| is_filled(j))
            // Still deterministic in (bin, filled set), which is all that matters.
            .or_else(|| {
                (1..SIGNATURE_SLOTS)
                    .map(|d| (i + d) % SIGNATURE_SLOTS)
                    .find(|&j| is_filled(j))
            });
        if let Some(j) = donor {
            // Donors are originally filled bins, never overwritten here.
            slots[i] = slots[j];
        }
    }
}

/// Estimated Jaccard similarity: the fraction of equal slots. An empty signature
/// estimates 0 against anything.
pub fn estimate(a: &Signature, b: &Signature) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let equal = a.0.iter().zip(&b.0).filter(|(x, y)| x == y).count();
    equal as f64 / SIGNATURE_SLOTS as f64
}

/// The LSH band keys: band `j` hashes slots `j*ROWS .. (j+1)*ROWS`, seeded with `j`
/// so equal rows in different bands give different keys.
pub fn band_keys(sig: &Signature) -> [u64; BANDS] {
    let mut keys = [0u64; BANDS];
    for (j, (key, rows)) in keys.iter_mut().zip(sig.0.chunks_exact(ROWS)).enumerate() {
        let mut h = BAND_SEED ^ (j as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        for &v in rows {
            h = mix64(h ^ v as u64);
        }
        *key = h;
    }
    keys
}

/// The b-bit form of `sig` (see [`Compressed`]).
pub fn compress(sig: &Signature) -> Compressed {
    if sig.is_empty() {
        return Compressed::EMPTY;
    }
    let mut words = [0u64; COMPRESSED_WORDS];
    for (i, &v) in sig.0.iter().enumerate() {
        let bits = mix64(NIBBLE_SEED ^ ((v as u64) << 32 | i as u64)) >> (64 - STORED_BITS);
        words[i / SLOTS_PER_WORD] |= bits << ((i % SLOTS_PER_WORD) * STORED_BITS);
    }
    if words == [0; COMPRESSED_WORDS] {
        words[0] = 1;
    }
    Compressed(words)
}

/// Estimated Jaccard similarity of two compressed signatures, corrected for the
/// 2^-b chance that different values share their stored bits (b-bit MinHash, Li &
/// König 2010): `Ĵ = (m/K − 2^-b) / (1 − 2^-b)`, clamped to [0, 1]. An empty
/// signature estimates 0 against anything.
pub fn estimate_compressed(a: &Compressed, b: &Compressed) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let mut equal = 0u32;
    for (x, y) in a.0.iter().zip(&b.0) {
        // Fold each slot's bits of the difference onto its low bit: 1 iff it differs.
        let mut d = x ^ y;
        let mut shift = 1;
        while shift < STORED_BITS {
            d |= d >> shift;
            shift <<= 1;
        }
        equal += SLOTS_PER_WORD as u32 - (d & SLOT_LOW_BITS).count_ones();
    }
    const CHANCE: f64 = 1.0 / (1u64 << STORED_BITS) as f64;
    let raw = equal as f64 / SIGNATURE_SLOTS as f64;
    ((raw - CHANCE) / (1.0 - CHANCE)).clamp(0.0, 1.0)
}

/// MurmurHash3's 64-bit finalizer: a cheap, full-avalanche mix.
#[inline]
pub(crate) fn mix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    h
}

/// Maps a uniform 32-bit value to `0..n` without division (Lemire's fast range).
#[inline]
fn fast_range(x: u32, n: usize) -> usize {
    ((x as u64 * n as u64) >> 32) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn sig(text: &str) -> Signature {
        fingerprint(&[text], &ShingleConfig::default())
    }

    fn words(n: usize, offset: usize) -> Vec<String> {
        (offset..offset + n).map(|i| format!("w{i}")).collect()
    }

    #[test]
    fn identical_text_gives_identical_signature() {
        let text = "presiden meresmikan jembatan baru di kota itu pada senin pagi";
        assert_eq!(sig(text), sig(text));
        assert!(!sig(text).is_empty());
        assert_eq!(estimate(&sig(text), &sig(text)), 1.0);
        // Shingles run across paragraphs, so the split does not matter.
        let split = fingerprint(
            &[
                "presiden meresmikan jembatan",
                "baru di kota itu pada senin pagi",
            ],
            &ShingleConfig::default(),
        );
        assert_eq!(split, sig(text));
    }

    #[test]
    fn estimate_is_near_true_jaccard() {
        // 600 distinct words, docs share words 200..600: with 3-shingles
        // A has 598, B has 598, shared 398 → J = 398 / 798 ≈ 0.499.
        let a = words(600, 0).join(" ");
        let b = words(600, 200).join(" ");
        let e = estimate(&sig(&a), &sig(&b));
        assert!((e - 398.0 / 798.0).abs() < 0.12, "estimate {e}");
        let c = estimate_compressed(&compress(&sig(&a)), &compress(&sig(&b)));
        assert!((c - 398.0 / 798.0).abs() < 0.15, "compressed estimate {c}");
        // Unrelated texts.
        let d = words(600, 5000).join(" ");
        assert!(estimate(&sig(&a), &sig(&d)) < 0.05);
        assert!(estimate_compressed(&compress(&sig(&a)), &compress(&sig(&d))) < 0.1);
    }

    #[test]
    fn word_order_matters() {
        let a = words(300, 0);
        let mut b = a.clone();
        b.reverse();
        assert!(estimate(&sig(&a.join(" ")), &sig(&b.join(" "))) < 0.05);
    }

    #[test]
    fn unspaced_scripts_use_character_shingles() {
        let thai = "นายกรัฐมนตรีเปิดสะพานแห่งใหม่ในกรุงเทพเมื่อวันจันทร์";
        let chinese = "总理周一在首都为新大桥揭幕";
        let japanese = "首相は月曜日に新しい橋を開通させた";
        for t in [thai, chinese, japanese] {
            assert!(is_unspaced(&[t]), "{t}");
        }
        assert!(!is_unspaced(&["perdana menteri membuka jembatan"]));
        assert!(!is_unspaced(&["대통령이 월요일 새 다리를 개통했다"]));
        // One character changed in a long unspaced text keeps most shingles.
        let long = format!("{chinese}国家体育场举行了盛大的开幕式数万名观众到场");
        let mut changed: Vec<char> = long.chars().collect();
        changed[3] = '新';
        let changed: String = changed.into_iter().collect();
        let e = estimate(&sig(&long), &sig(&changed));
        assert!(e > 0.5 && e < 1.0, "estimate {e}");
        // With word shingles the whole text would be one token and share nothing.
        assert_eq!(long.split(' ').count(), 1);
    }

    #[test]
    fn mostly_latin_text_with_some_han_uses_words() {
        let text = "the minister visited 北京 on monday and met local officials there";
        assert!(!is_unspaced(&[text]));
    }

    #[test]
    fn short_and_empty_texts() {
        let one = sig("banjir");
        assert!(!one.is_empty());
        assert_eq!(one, sig("banjir"));
        assert!(one.0.iter().all(|&v| v == one.0[0]));
        assert!(estimate(&one, &sig("gempa")) < 0.01);
        // Two different one-word bodies must not look alike once compressed.
        let c = estimate_compressed(&compress(&one), &compress(&sig("gempa")));
        assert!(c < 0.2, "compressed estimate {c}");
        assert_eq!(sig("dua kata"), sig("dua kata"));
        assert_ne!(sig("dua kata"), sig("kata dua"));

        for empty in ["", "   ", "\n"] {
            assert!(sig(empty).is_empty());
        }
        let none: [&str; 0] = [];
        assert!(fingerprint(&none, &ShingleConfig::default()).is_empty());
        let e = Signature::EMPTY;
        assert_eq!(estimate(&e, &e), 0.0);
        assert_eq!(estimate(&e, &one), 0.0);
        assert!(compress(&e).is_empty());
        assert_eq!(estimate_compressed(&compress(&e), &compress(&e)), 0.0);
        assert_eq!(estimate_compressed(&compress(&one), &compress(&one)), 1.0);
    }

    #[test]
    fn words_split_on_spaces_and_controls() {
        let words = |s: &str| {
            let mut out = Vec::new();
            hash_words(s.as_bytes(), &mut out);
            out
        };
        let h = |w: &str| xxh3_64(w.as_bytes());
        assert_eq!(words("satu dua"), vec![h("satu"), h("dua")]);
        assert_eq!(
            words("  a\tbb\n\u{1}ccc  "),
            vec![h("a"), h("bb"), h("ccc")]
        );
        assert!(words("").is_empty() && words("   \n ").is_empty());
        // Separators at every offset of the 8-byte chunks, and non-ASCII bytes.
        for n in 0..40 {
            let text: Vec<String> = (0..n).map(|i| "é".repeat(i % 5 + 1)).collect();
            let expected: Vec<u64> = text.iter().map(|w| h(w)).collect();
            assert_eq!(words(&text.join(" ")), expected);
        }
        for b in 0u8..=255 {
            let s = [b'x', b, b'y', b'z', b'z', b'z', b'z', b'z', b'z', b'z'];
            let mut out = Vec::new();
            hash_words(&s, &mut out);
            assert_eq!(out.len(), if b <= b' ' { 2 } else { 1 }, "byte {b:#x}");
        }
    }

    #[test]
    fn unrolled_shingles_match_the_generic_hash() {
        let tokens: Vec<u64> = (0..20).map(mix64).collect();
        for k in 1..=5 {
            let mut unrolled = Vec::new();
            match k {
                1 => shingles_of::<1>(&tokens, |h| unrolled.push(h)),
                2 => shingles_of::<2>(&tokens, |h| unrolled.push(h)),
                3 => shingles_of::<3>(&tokens, |h| unrolled.push(h)),
                4 => shingles_of::<4>(&tokens, |h| unrolled.push(h)),
                _ => shingles_of::<5>(&tokens, |h| unrolled.push(h)),
            }
            let generic: Vec<u64> = tokens.windows(k).map(shingle_hash).collect();
            assert_eq!(unrolled, generic, "k = {k}");
        }
    }

    #[test]
    fn zero_k_is_treated_as_one() {
        let cfg = ShingleConfig {
            word_k: 0,
            char_k: 0,
        };
        assert!(!fingerprint(&["a b c"], &cfg).is_empty());
        assert!(!fingerprint(&["总理周一"], &cfg).is_empty());
    }

    #[test]
    fn densification_fills_every_slot() {
        let s = sig(&words(20, 0).join(" "));
        assert!(s.0.iter().all(|&v| v != EMPTY_SLOT));
        // A few shingles: many slots repeat the same values.
        let distinct: HashSet<u32> = s.0.iter().copied().collect();
        assert!(distinct.len() <= 18);
    }

    #[test]
    fn band_keys_follow_rows() {
        let a = sig(&words(400, 0).join(" "));
        let b = a.clone();
        assert_eq!(band_keys(&a), band_keys(&b));
        let mut c = a.clone();
        c.0[0] ^= 1;
        let (ka, kc) = (band_keys(&a), band_keys(&c));
        assert_ne!(ka[0], kc[0]);
        assert_eq!(ka[1..], kc[1..]);
        // Equal rows in different bands still give different keys.
        let flat = Signature([7; SIGNATURE_SLOTS]);
        let k = band_keys(&flat);
        assert_ne!(k[0], k[1]);
    }

    #[test]
    fn compressed_bits_follow_slot_equality() {
        let a = sig(&words(400, 0).join(" "));
        let b = sig(&words(400, 100).join(" "));
        let (ca, cb) = (compress(&a), compress(&b));
        for i in 0..SIGNATURE_SLOTS {
            if a.0[i] == b.0[i] {
                assert_eq!(ca.slot_bits(i), cb.slot_bits(i));
            }
        }
        assert!(!ca.is_empty());
    }
}

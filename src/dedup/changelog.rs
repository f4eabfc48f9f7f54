//! The dedup changelog's record format, and the table a restore builds from it.
//!
//! Every change to the dedup state (an article recorded or replaced, a headline
//! published, the event-time watermark moving, an entry leaving) is one keyed
//! record, so a compacted topic keeps exactly the live state: the last record per
//! key, with deleted keys tombstoned (null value). This module is pure: it turns
//! [`Change`]s into key and value bytes and back, and folds decoded changes into
//! a [`RestoreTable`]; the Kafka edge moves the bytes.
//!
//! # Keys
//! Text, so an operator can read them with any console consumer:
//! `a:<article id, 16 hex digits>`, `h:<headline id, 16 hex digits>`,
//! `w:<instance id>` (each instance's event-time watermark).
//!
//! # Values
//! A fixed little-endian layout, chosen over JSON because a restore decodes a
//! million of them before the instance may consume: byte 0 is the format version
//! ([`FORMAT_VERSION`]), byte 1 the kind (`a`, `h`, `w`, matching the key), then:
//!
//! | kind | fields | bytes |
//! |---|---|---|
//! | `a` | cluster id u64, content hash u64, version u16, event time u32, flags u8 (bit 0: representative, band keys follow), 2-bit signature 8 × u64, band keys 8 × u64 if bit 0 | 89 or 153 |
//! | `h` | published event time u32, flags u8 (bit 0: item time follows), item time i64 if bit 0 | 7 or 15 |
//! | `w` | event time u32 | 6 |
//!
//! The article id is in the key only. Band keys are stored because the index
//! files a representative under them, and they cannot be recomputed from the
//! 2-bit signature. Decoding checks every length and never panics: a record it
//! cannot read is an error for the caller to count and skip.

use rustc_hash::FxHashMap;
use thiserror::Error;

use super::minhash::{Compressed, BANDS, COMPRESSED_WORDS};

/// Version byte of every value this build writes. A reader rejects others, so a
/// rolled-back binary never misreads a newer layout.
pub const FORMAT_VERSION: u8 = 1;

const KIND_ARTICLE: u8 = b'a';
const KIND_HEADLINE: u8 = b'h';
const KIND_WATERMARK: u8 = b'w';
const FLAG_REPRESENTATIVE: u8 = 1;
const FLAG_ITEM_TIME: u8 = 1;

const ARTICLE_FIXED: usize = 2 + 8 + 8 + 2 + 4 + 1 + 8 * COMPRESSED_WORDS;
const ARTICLE_BANDS: usize = 8 * BANDS;
const HEADLINE_FIXED: usize = 2 + 4 + 1;
const WATERMARK_LEN: usize = 2 + 4;

/// Why a changelog record could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChangelogError {
    #[error("unrecognised changelog key {0:?}")]
    Key(String),
    #[error("changelog value has format version {0}, this build reads {FORMAT_VERSION}")]
    Version(u8),
    #[error("changelog value of kind {value:?} under a key of kind {key:?}")]
    KindMismatch { key: char, value: char },
    #[error("changelog value of kind {kind:?} is {got} bytes, expected {expected}")]
    Length {
        kind: char,
        expected: usize,
        got: usize,
    },
}

/// The identity of one piece of dedup state: a changelog key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StateKey {
    Article(u64),
    Headline(u64),
    Watermark(String),
}

impl StateKey {
    /// The key bytes: `a:<hex>`, `h:<hex>` or `w:<instance>`.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            StateKey::Article(id) => format!("a:{id:016x}").into_bytes(),
            StateKey::Headline(id) => format!("h:{id:016x}").into_bytes(),
            StateKey::Watermark(instance) => format!("w:{instance}").into_bytes(),
        }
    }

    pub fn decode(key: &[u8]) -> Result<StateKey, ChangelogError> {
        let bad = || ChangelogError::Key(String::from_utf8_lossy(key).into_owned());
        let (kind, rest) = match key {
            [k, b':', rest @ ..] => (*k, rest),
            _ => return Err(bad()),
        };
        let hex = |rest: &[u8]| -> Result<u64, ChangelogError> {
            // Exactly 16 lowercase hex digits, as written: one spelling per key,
            // or compaction would keep two records for one entry.
            if rest.len() != 16 || !rest.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                return Err(bad());
            }
            let s = std::str::from_utf8(rest).map_err(|_| bad())?;
            u64::from_str_radix(s, 16).map_err(|_| bad())
        };
        match kind {
            KIND_ARTICLE => Ok(StateKey::Article(hex(rest)?)),
            KIND_HEADLINE => Ok(StateKey::Headline(hex(rest)?)),
            KIND_WATERMARK if !rest.is_empty() => std::str::from_utf8(rest)
                .map(|s| StateKey::Watermark(s.to_string()))
                .map_err(|_| bad()),
            _ => Err(bad()),
        }
    }

    fn kind(&self) -> u8 {
        match self {
            StateKey::Article(_) => KIND_ARTICLE,
            StateKey::Headline(_) => KIND_HEADLINE,
            StateKey::Watermark(_) => KIND_WATERMARK,
        }
    }
}

/// One article-index entry: the newest record for its article id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleState {
    pub article_id: u64,
    pub cluster_id: u64,
    pub content_hash: u64,
    pub version: u16,
    /// Unix seconds; drives expiry.
    pub event_time: u32,
    /// The 2-bit signature the index verifies candidates with.
    pub signature: Compressed,
    /// The LSH band keys, when the article represents its cluster and is
    /// findable by similarity; `None` for copies and empty bodies.
    pub band_keys: Option<[u64; BANDS]>,
}

/// One headline entry: when it was published, and the item's own time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadlineState {
    pub id: u64,
    pub published_event_time: u32,
    pub item_time: Option<i64>,
}

/// One changelog record, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Article(Box<ArticleState>),
    Headline(HeadlineState),
    /// An instance's event-time watermark: a restore skips what it has expired.
    Watermark {
        instance: String,
        event_time: u32,
    },
    /// The entry left the state (expired or evicted): a tombstone.
    Delete(StateKey),
}

impl Change {
    pub fn key(&self) -> StateKey {
        match self {
            Change::Article(a) => StateKey::Article(a.article_id),
            Change::Headline(h) => StateKey::Headline(h.id),
            Change::Watermark { instance, .. } => StateKey::Watermark(instance.clone()),
            Change::Delete(k) => k.clone(),
        }
    }

    /// The value bytes; `None` for a tombstone.
    pub fn encode_value(&self) -> Option<Vec<u8>> {
        let mut v = Vec::new();
        match self {
            Change::Delete(_) => return None,
            Change::Article(a) => {
                v.reserve_exact(ARTICLE_FIXED + ARTICLE_BANDS);
                v.extend_from_slice(&[FORMAT_VERSION, KIND_ARTICLE]);
                v.extend_from_slice(&a.cluster_id.to_le_bytes());
                v.extend_from_slice(&a.content_hash.to_le_bytes());
                v.extend_from_slice(&a.version.to_le_bytes());
                v.extend_from_slice(&a.event_time.to_le_bytes());
                let flags = if a.band_keys.is_some() {
                    FLAG_REPRESENTATIVE
                } else {
                    0
                };
                v.push(flags);
                for w in a.signature.words() {
                    v.extend_from_slice(&w.to_le_bytes());
                }
                if let Some(keys) = &a.band_keys {
                    for k in keys {
                        v.extend_from_slice(&k.to_le_bytes());
                    }
                }
            }
            Change::Headline(h) => {
                v.extend_from_slice(&[FORMAT_VERSION, KIND_HEADLINE]);
                v.extend_from_slice(&h.published_event_time.to_le_bytes());
                match h.item_time {
                    Some(t) => {
                        v.push(FLAG_ITEM_TIME);
                        v.extend_from_slice(&t.to_le_bytes());
                    }
                    None => v.push(0),
                }
            }
            Change::Watermark { event_time, .. } => {
                v.extend_from_slice(&[FORMAT_VERSION, KIND_WATERMARK]);
                v.extend_from_slice(&event_time.to_le_bytes());
            }
        }
        Some(v)
    }

    /// Key and value bytes, as produced to the changelog topic.
    pub fn encode(&self) -> (Vec<u8>, Option<Vec<u8>>) {
        (self.key().encode(), self.encode_value())
    }

    /// Reads one record; a missing value is a tombstone.
    pub fn decode(key: &[u8], value: Option<&[u8]>) -> Result<Change, ChangelogError> {
        let key = StateKey::decode(key)?;
        let Some(v) = value else {
            return Ok(Change::Delete(key));
        };
        let kind = key.kind() as char;
        let length = |expected: usize| ChangelogError::Length {
            kind,
            expected,
            got: v.len(),
        };
        match v {
            [] | [_] => return Err(length(2)),
            [version, ..] if *version != FORMAT_VERSION => {
                return Err(ChangelogError::Version(*version))
            }
            [_, k, ..] if *k != key.kind() => {
                return Err(ChangelogError::KindMismatch {
                    key: kind,
                    value: *k as char,
                })
            }
            _ => {}
        }
        let mut r = Reader { v, at: 2 };
        match key {
            StateKey::Article(article_id) => {
                if v.len() < ARTICLE_FIXED {
                    return Err(length(ARTICLE_FIXED));
                }
                let cluster_id = r.u64();
                let content_hash = r.u64();
                let version = r.u16();
                let event_time = r.u32();
                let flags = r.u8();
                let expected = if flags & FLAG_REPRESENTATIVE != 0 {
                    ARTICLE_FIXED + ARTICLE_BANDS
                } else {
                    ARTICLE_FIXED
                };
                if v.len() != expected {
                    return Err(length(expected));
                }
                let signature = Compressed::from_words(std::array::from_fn(|_| r.u64()));
                let band_keys =
                    (flags & FLAG_REPRESENTATIVE != 0).then(|| std::array::from_fn(|_| r.u64()));
                Ok(Change::Article(Box::new(ArticleState {
                    article_id,
                    cluster_id,
                    content_hash,
                    version,
                    event_time,
                    signature,
                    band_keys,
                })))
            }
            StateKey::Headline(id) => {
                if v.len() < HEADLINE_FIXED {
                    return Err(length(HEADLINE_FIXED));
                }
                let published_event_time = r.u32();
                let flags = r.u8();
                let expected = if flags & FLAG_ITEM_TIME != 0 {
                    HEADLINE_FIXED + 8
                } else {
                    HEADLINE_FIXED
                };
                if v.len() != expected {
                    return Err(length(expected));
                }
                let item_time = (flags & FLAG_ITEM_TIME != 0).then(|| r.u64() as i64);
                Ok(Change::Headline(HeadlineState {
                    id,
                    published_event_time,
                    item_time,
                }))
            }
            StateKey::Watermark(instance) => {
                if v.len() != WATERMARK_LEN {
                    return Err(length(WATERMARK_LEN));
                }
                Ok(Change::Watermark {
                    instance,
                    event_time: r.u32(),
                })
            }
        }
    }
}

/// Little-endian reads from a value whose length the caller has checked.
struct Reader<'a> {
    v: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut b = [0u8; N];
        // The length checks in `Change::decode` keep this in bounds; a short
        // value would read zeros rather than panic.
        if let Some(src) = self.v.get(self.at..self.at + N) {
            b.copy_from_slice(src);
        }
        self.at += N;
        b
    }
    fn u8(&mut self) -> u8 {
        self.take::<1>()[0]
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes(self.take())
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take())
    }
    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take())
    }
}

/// The live state read back from a changelog: the last record per key, with
/// tombstoned keys removed. Articles keep their first-seen order in a vector
/// and a map from id to position, which holds a million entries in about 200 MB
/// rather than the twice that of a map of whole entries.
#[derive(Debug, Default)]
pub struct RestoreTable {
    articles: Vec<Option<ArticleState>>,
    article_pos: FxHashMap<u64, u32>,
    live_articles: usize,
    headlines: FxHashMap<u64, HeadlineState>,
    /// The highest watermark any instance wrote.
    watermark: u32,
    /// Records applied, tombstones included.
    pub records: u64,
}

impl RestoreTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one record: the last write per key wins, a tombstone deletes.
    pub fn apply(&mut self, change: Change) {
        self.records += 1;
        match change {
            Change::Article(a) => match self.article_pos.get(&a.article_id) {
                Some(&i) => {
                    let slot = &mut self.articles[i as usize];
                    if slot.is_none() {
                        self.live_articles += 1;
                    }
                    *slot = Some(*a);
                }
                None => {
                    self.article_pos
                        .insert(a.article_id, self.articles.len() as u32);
                    self.articles.push(Some(*a));
                    self.live_articles += 1;
                }
            },
            Change::Headline(h) => {
                self.headlines.insert(h.id, h);
            }
            Change::Watermark { event_time, .. } => {
                self.watermark = self.watermark.max(event_time);
            }
            Change::Delete(StateKey::Article(id)) => {
                if let Some(&i) = self.article_pos.get(&id) {
                    if self.articles[i as usize].take().is_some() {
                        self.live_articles -= 1;
                    }
                }
            }
            Change::Delete(StateKey::Headline(id)) => {
                self.headlines.remove(&id);
            }
            // A watermark is never deleted; an old instance's stays harmless.
            Change::Delete(StateKey::Watermark(_)) => {}
        }
    }

    /// Live article entries.
    pub fn articles(&self) -> usize {
        self.live_articles
    }

    /// Live headline entries.
    pub fn headlines(&self) -> usize {
        self.headlines.len()
    }

    /// The event-time watermark to resume from: the highest written by any
    /// instance, or the newest entry's time if that is later.
    pub fn watermark(&self) -> u32 {
        let a = self.articles.iter().flatten().map(|a| a.event_time);
        let h = self.headlines.values().map(|h| h.published_event_time);
        a.chain(h).fold(self.watermark, u32::max)
    }

    /// The live entries, oldest event time first (the order the FIFO index
    /// must receive them in, so expiry and eviction still take the oldest).
    pub fn into_entries(self) -> (Vec<ArticleState>, Vec<HeadlineState>) {
        let mut articles: Vec<ArticleState> = self.articles.into_iter().flatten().collect();
        articles.sort_by_key(|a| a.event_time);
        let mut headlines: Vec<HeadlineState> = self.headlines.into_values().collect();
        headlines.sort_by_key(|h| (h.published_event_time, h.id));
        (articles, headlines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn article(id: u64, representative: bool) -> ArticleState {
        ArticleState {
            article_id: id,
            cluster_id: id ^ 1,
            content_hash: 0xdead_beef,
            version: 3,
            event_time: 1_760_000_000,
            signature: Compressed::from_words(std::array::from_fn(|i| i as u64 * 0x0101)),
            band_keys: representative.then(|| std::array::from_fn(|i| u64::MAX - i as u64)),
        }
    }

    fn roundtrip(c: &Change) -> Change {
        let (k, v) = c.encode();
        Change::decode(&k, v.as_deref()).unwrap()
    }

    #[test]
    fn every_kind_roundtrips_with_the_documented_sizes() {
        let cases = [
            (Change::Article(Box::new(article(7, true))), Some(153)),
            (Change::Article(Box::new(article(7, false))), Some(89)),
            (
                Change::Headline(HeadlineState {
                    id: u64::MAX,
                    published_event_time: 5,
                    item_time: Some(-3),
                }),
                Some(15),
            ),
            (
                Change::Headline(HeadlineState {
                    id: 0,
                    published_event_time: 5,
                    item_time: None,
                }),
                Some(7),
            ),
            (
                Change::Watermark {
                    instance: "warta-0".into(),
                    event_time: 9,
                },
                Some(6),
            ),
            (Change::Delete(StateKey::Article(42)), None),
            (Change::Delete(StateKey::Headline(42)), None),
        ];
        for (c, len) in cases {
            assert_eq!(c.encode_value().map(|v| v.len()), len, "{c:?}");
            assert_eq!(roundtrip(&c), c);
        }
        assert_eq!(
            StateKey::Article(0xab).encode(),
            b"a:00000000000000ab".to_vec()
        );
    }

    #[test]
    fn malformed_records_are_errors() {
        let (k, v) = Change::Article(Box::new(article(1, true))).encode();
        let v = v.unwrap();
        assert!(matches!(
            Change::decode(&k, Some(&v[..v.len() - 1])),
            Err(ChangelogError::Length { .. })
        ));
        let mut newer = v.clone();
        newer[0] = 2;
        assert_eq!(
            Change::decode(&k, Some(&newer)),
            Err(ChangelogError::Version(2))
        );
        assert!(matches!(
            Change::decode(b"h:0000000000000001", Some(&v)),
            Err(ChangelogError::KindMismatch { .. })
        ));
        for key in [
            &b"a:1"[..],
            b"a:000000000000000G",
            b"a:00000000000000AB",
            b"x:0000000000000001",
            b"w:",
            b"",
        ] {
            assert!(
                matches!(StateKey::decode(key), Err(ChangelogError::Key(_))),
                "{key:?}"
            );
        }
    }

    #[test]
    fn the_table_keeps_the_last_write_and_honours_tombstones() {
        let mut t = RestoreTable::new();
        let mut a1 = article(1, true);
        t.apply(Change::Article(Box::new(a1.clone())));
        a1.version = 4;
        a1.event_time += 10;
        t.apply(Change::Article(Box::new(a1.clone())));
        t.apply(Change::Article(Box::new(article(2, false))));
        t.apply(Change::Delete(StateKey::Article(2)));
        t.apply(Change::Delete(StateKey::Article(99)));
        t.apply(Change::Headline(HeadlineState {
            id: 5,
            published_event_time: 1,
            item_time: None,
        }));
        t.apply(Change::Delete(StateKey::Headline(5)));
        t.apply(Change::Watermark {
            instance: "i".into(),
            event_time: 2_000_000_000,
        });
        assert_eq!((t.articles(), t.headlines(), t.records), (1, 0, 8));
        assert_eq!(t.watermark(), 2_000_000_000);
        // A deleted id written again comes back.
        t.apply(Change::Article(Box::new(article(2, false))));
        assert_eq!(t.articles(), 2);
        let (articles, _) = t.into_entries();
        assert_eq!(articles.len(), 2);
        assert_eq!(articles[1], a1, "newest write wins, oldest event first");
    }

    fn any_change() -> impl Strategy<Value = Change> {
        prop_oneof![
            (
                any::<u64>(),
                any::<u64>(),
                any::<u64>(),
                any::<u16>(),
                any::<u32>(),
                any::<[u64; COMPRESSED_WORDS]>(),
                proptest::option::of(any::<[u64; BANDS]>())
            )
                .prop_map(|(a, c, h, v, t, s, b)| Change::Article(Box::new(
                    ArticleState {
                        article_id: a,
                        cluster_id: c,
                        content_hash: h,
                        version: v,
                        event_time: t,
                        signature: Compressed::from_words(s),
                        band_keys: b,
                    }
                ))),
            (
                any::<u64>(),
                any::<u32>(),
                proptest::option::of(any::<i64>())
            )
                .prop_map(|(id, p, i)| Change::Headline(HeadlineState {
                    id,
                    published_event_time: p,
                    item_time: i,
                })),
            ("[a-z0-9-]{1,20}", any::<u32>()).prop_map(|(instance, event_time)| {
                Change::Watermark {
                    instance,
                    event_time,
                }
            }),
            any::<u64>().prop_map(|id| Change::Delete(StateKey::Article(id))),
            any::<u64>().prop_map(|id| Change::Delete(StateKey::Headline(id))),
        ]
    }

    proptest! {
        #[test]
        fn encode_then_decode_is_identity(c in any_change()) {
            prop_assert_eq!(roundtrip(&c), c);
        }

        #[test]
        fn decode_never_panics_on_arbitrary_bytes(
            key in proptest::collection::vec(any::<u8>(), 0..24),
            value in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..200)),
        ) {
            let _ = Change::decode(&key, value.as_deref());
        }

        #[test]
        fn decode_never_panics_on_corrupted_values(
            c in any_change(),
            cut in any::<prop::sample::Index>(),
            flip in any::<(prop::sample::Index, u8)>(),
        ) {
            let (k, v) = c.encode();
            if let Some(mut v) = v {
                let i = flip.0.index(v.len());
                v[i] ^= flip.1;
                let _ = Change::decode(&k, Some(&v));
                let n = cut.index(v.len());
                let _ = Change::decode(&k, Some(&v[..n]));
            }
        }
    }
}

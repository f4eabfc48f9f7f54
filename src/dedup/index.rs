//! The bounded index of recent articles that near-duplicate lookups run against:
//! a FIFO ring of slots, a table from article id to its newest slot, and one LSH
//! table per band. It owns storage, expiry and candidate lookup; deciding what a
//! match means (duplicate, new version, new cluster) belongs to the caller.
//!
//! # Layout and bounds
//! Slots live in a ring sized to the capacity, stored as struct-of-arrays (~95
//! bytes a slot, most of it the 64-byte [`Compressed`] signature). Every insert
//! takes the next sequence number (`u32`, wrapping); the live slots are the window
//! `[head_seq, head_seq + len)`, and slots leave only from the head, in insertion
//! order. The hash tables store `(fingerprint: u32, seq: u32)` pairs in linear
//! probing arrays pre-sized to `capacity / 0.8` buckets (8 bytes each, nine
//! tables). Because slots leave in FIFO order, an entry is stale exactly when its
//! seq has left the window, so evicting a slot touches no table: stale entries are
//! skipped by lookups, overwritten by inserts whose probe meets them, and dropped
//! in bulk by an in-place sweep when a table's used buckets pass 85%. All memory
//! is bounded by the capacity, so it stays flat however many articles stream by:
//! 185 bytes per unit of capacity at 1,000,000 (95 in the slot, 90 in the
//! tables). A sweep is one pass over one table: ~8 ms at that size, about once
//! per 150,000 inserts per table once the ring is full (~0.5 µs per insert
//! amortized over the nine tables). The tables fill at the same pace, so their
//! sweeps tend to fall on neighbouring inserts: a pause of tens of milliseconds.
//!
//! Seqs repeat every 2^32 inserts. A stale entry that survives that long without
//! being reused or swept would point into the window again; such a pointer can
//! only yield a wasted verification (band tables) or be rejected by the article
//! id check (id table), so it is harmless.
//!
//! # Time
//! Entries expire by event time, never wall time: [`ArticleIndex::expire`] pops
//! slots from the head while `event_time + ttl < now`. Eviction follows insertion
//! order, so an entry whose event time is older than the head's waits behind it;
//! every lookup therefore also ignores entries with `event_time + ttl < now`, so an
//! expired entry never matches even before it is popped. When the ring is full an
//! insert evicts the head early; that is counted apart from expiry.

use thiserror::Error;

use super::changelog::ArticleState;
use super::minhash::{
    band_keys, compress, estimate_compressed, mix64, Compressed, Signature, BANDS,
};

/// Default capacity: the number of articles the index holds at most.
pub const DEFAULT_CAPACITY: usize = 1_000_000;

/// Default time to live: 7 days of event time.
pub const DEFAULT_TTL_SECS: u32 = 7 * 24 * 60 * 60;

/// Largest accepted capacity. Sequence numbers are `u32` and the window must be
/// far shorter than their cycle; 2^30 slots would also take ~200 GB.
pub const MAX_CAPACITY: usize = 1 << 30;

/// Seeds the article-id hash so ids that are small integers still spread.
const ARTICLE_SEED: u64 = 0x4528_21e6_38d0_1377;

/// Slot flag: the slot has entries in the band tables.
const FLAG_IN_BANDS: u8 = 1;

/// Sizing and retention of an [`ArticleIndex`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexConfig {
    /// Most articles held at once; beyond it the oldest is evicted. Tables are
    /// allocated for this many up front, so memory does not grow afterwards.
    pub capacity: usize,
    /// Event-time seconds an entry stays matchable after its `event_time`.
    pub ttl_secs: u32,
}

impl Default for IndexConfig {
    fn default() -> Self {
        Self {
            capacity: DEFAULT_CAPACITY,
            ttl_secs: DEFAULT_TTL_SECS,
        }
    }
}

/// Why an index could not be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IndexError {
    #[error("dedup index capacity must be between 1 and {max}, got {got}")]
    Capacity { got: usize, max: usize },
}

/// What [`ArticleIndex::insert`] stores.
#[derive(Debug, Clone, Copy)]
pub struct NewSlot<'a> {
    /// Identifies the article (e.g. a hash of its canonical URL); looked up by
    /// [`ArticleIndex::by_article`].
    pub article_id: u64,
    /// The near-duplicate cluster the caller assigned; stored, never interpreted.
    pub cluster_id: u64,
    /// Exact-content hash, so the caller can tell "unchanged" from "edited".
    pub content_hash: u64,
    /// The caller's version counter for this article.
    pub version: u16,
    /// Event time, unix seconds; drives expiry.
    pub event_time: u32,
    /// The body's signature; stored compressed.
    pub signature: &'a Signature,
    /// Whether the slot should be findable by [`ArticleIndex::candidates`]. Insert
    /// only cluster representatives into the bands: a thousand copies of one wire
    /// story in the bands would make every lookup of it verify a thousand slots.
    /// Ignored (treated as false) for an empty signature.
    pub in_bands: bool,
}

/// A live slot, borrowed from the index.
#[derive(Debug, Clone, Copy)]
pub struct SlotView<'a> {
    pub seq: u32,
    pub article_id: u64,
    pub cluster_id: u64,
    pub content_hash: u64,
    pub version: u16,
    pub event_time: u32,
    pub in_bands: bool,
    pub signature: &'a Compressed,
}

/// Counters and size, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexStats {
    /// Slots in the ring (including any expired by event time but not yet popped).
    pub live: usize,
    /// Slots removed by [`ArticleIndex::expire`] since creation.
    pub expired_total: u64,
    /// Slots removed because the ring was full, since creation.
    pub evicted_total: u64,
    /// Bytes the index has allocated: every buffer's capacity times its element
    /// size, plus the struct itself.
    pub memory_bytes: usize,
    /// Hash-table rebuilds that dropped stale entries, since creation. Each costs
    /// a pass over one table; many per million inserts means tables too small.
    pub table_sweeps: u64,
}

/// Bounded near-duplicate index; see the module docs.
#[derive(Debug)]
pub struct ArticleIndex {
    ring: Ring,
    ttl_secs: u32,
    // Slot storage, one element per ring position; grown lazily up to capacity.
    signatures: Vec<Compressed>,
    article_ids: Vec<u64>,
    cluster_ids: Vec<u64>,
    content_hashes: Vec<u64>,
    event_times: Vec<u32>,
    versions: Vec<u16>,
    flags: Vec<u8>,
    /// article id → newest seq for that id.
    by_article: SeqTable,
    /// band key → seq, one table per band.
    bands: [SeqTable; BANDS],
    expired_total: u64,
    evicted_total: u64,
    /// Whether [`Self::removed`] is kept (see [`ArticleIndex::track_removals`]).
    track_removals: bool,
    /// Article ids of slots popped since the last [`ArticleIndex::drain_removed`].
    removed: Vec<u64>,
}

/// The fields of a slot besides its signature.
#[derive(Debug, Clone, Copy)]
struct SlotMeta {
    article_id: u64,
    cluster_id: u64,
    content_hash: u64,
    version: u16,
    event_time: u32,
}

impl ArticleIndex {
    /// An empty index. Allocates the hash tables for `cfg.capacity` entries now
    /// (about 90 bytes per unit of capacity); slot storage grows as slots fill.
    pub fn new(cfg: IndexConfig) -> Result<Self, IndexError> {
        Self::starting_at(cfg, 0)
    }

    fn starting_at(cfg: IndexConfig, first_seq: u32) -> Result<Self, IndexError> {
        if cfg.capacity == 0 || cfg.capacity > MAX_CAPACITY {
            return Err(IndexError::Capacity {
                got: cfg.capacity,
                max: MAX_CAPACITY,
            });
        }
        let capacity = cfg.capacity;
        Ok(Self {
            ring: Ring {
                head_seq: first_seq,
                head_pos: 0,
                len: 0,
                cap: capacity as u32,
            },
            ttl_secs: cfg.ttl_secs,
            signatures: Vec::new(),
            article_ids: Vec::new(),
            cluster_ids: Vec::new(),
            content_hashes: Vec::new(),
            event_times: Vec::new(),
            versions: Vec::new(),
            flags: Vec::new(),
            by_article: SeqTable::for_entries(capacity),
            bands: std::array::from_fn(|_| SeqTable::for_entries(capacity)),
            expired_total: 0,
            evicted_total: 0,
            track_removals: false,
            removed: Vec::new(),
        })
    }

    /// An index whose first insert gets `first_seq`, to test wrap-around.
    #[cfg(test)]
    pub(crate) fn with_first_seq(cfg: IndexConfig, first_seq: u32) -> Result<Self, IndexError> {
        Self::starting_at(cfg, first_seq)
    }

    /// Number of slots held (see [`IndexStats::live`]).
    pub fn len(&self) -> usize {
        self.ring.len as usize
    }

    /// Whether no slot is held.
    pub fn is_empty(&self) -> bool {
        self.ring.len == 0
    }

    /// The configured capacity.
    pub fn capacity(&self) -> usize {
        self.ring.cap as usize
    }

    /// The newest slot inserted for `article_id`, unless it has left the ring or
    /// its event time has expired at `now`.
    pub fn by_article(&self, article_id: u64, now: u32) -> Option<SlotView<'_>> {
        let ring = self.ring;
        self.by_article
            .matches(article_fp(article_id))
            .filter(|&seq| ring.contains(seq))
            .filter(|&seq| self.article_ids[ring.pos(seq)] == article_id)
            // One live entry per id is the rule; taking the newest keeps lookups
            // right even if a 2^32-old stale entry comes back into the window.
            .max_by_key(|&seq| ring.offset(seq))
            .filter(|&seq| self.fresh(ring.pos(seq), now))
            .map(|seq| self.view(seq))
    }

    /// The slot with sequence number `seq`, if it is still in the ring (expired or
    /// not: this does not look at event time).
    pub fn slot(&self, seq: u32) -> Option<SlotView<'_>> {
        self.ring.contains(seq).then(|| self.view(seq))
    }

    /// Clears `out` and fills it with the distinct seqs, oldest first, of live,
    /// unexpired slots inserted with `in_bands` that share at least one band key
    /// with `sig`. Candidates still need verification (see [`Self::best_match`]).
    pub fn candidates(&self, sig: &Signature, now: u32, out: &mut Vec<u32>) {
        out.clear();
        self.for_each_candidate(sig, now, |seq, _| out.push(seq));
        let ring = self.ring;
        out.sort_unstable_by_key(|&seq| ring.offset(seq));
        out.dedup();
    }

    /// The candidate most similar to `sig` by [`estimate_compressed`], if its
    /// estimate is at least `threshold`; ties go to the older slot. Only the
    /// candidates are verified, so a pair whose bands all differ is never found
    /// (see [`crate::dedup::minhash::ROWS`] for the odds).
    pub fn best_match(
        &self,
        sig: &Signature,
        now: u32,
        threshold: f64,
    ) -> Option<(SlotView<'_>, f64)> {
        // Most articles have no candidate at all; compress only when one shows up.
        let mut query: Option<Compressed> = None;
        let ring = self.ring;
        let mut best: Option<(u32, f64)> = None;
        // A slot found through several bands is verified each time; that costs a
        // few word operations and saves deduplicating without an allocation.
        self.for_each_candidate(sig, now, |seq, pos| {
            let query = query.get_or_insert_with(|| compress(sig));
            let estimate = estimate_compressed(query, &self.signatures[pos]);
            if threshold.is_nan() || estimate < threshold {
                return;
            }
            let better = match best {
                None => true,
                Some((best_seq, best_estimate)) => {
                    estimate > best_estimate
                        || (estimate == best_estimate && ring.offset(seq) < ring.offset(best_seq))
                }
            };
            if better {
                best = Some((seq, estimate));
            }
        });
        best.map(|(seq, estimate)| (self.view(seq), estimate))
    }

    /// Stores a slot and returns its seq. Evicts the oldest slot first if the ring
    /// is full (counted in [`IndexStats::evicted_total`]); call [`Self::expire`]
    /// before inserting so that expired slots leave as expired, not evicted.
    pub fn insert(&mut self, entry: NewSlot<'_>) -> u32 {
        let in_bands = entry.in_bands && !entry.signature.is_empty();
        self.insert_parts(
            SlotMeta {
                article_id: entry.article_id,
                cluster_id: entry.cluster_id,
                content_hash: entry.content_hash,
                version: entry.version,
                event_time: entry.event_time,
            },
            compress(entry.signature),
            in_bands.then(|| band_keys(entry.signature)),
        )
    }

    /// Stores a slot read back from the changelog: the 2-bit signature as
    /// stored, and the band keys it was filed under (`None`: not in the bands).
    /// Otherwise as [`Self::insert`].
    pub fn restore(&mut self, e: &ArticleState) -> u32 {
        self.insert_parts(
            SlotMeta {
                article_id: e.article_id,
                cluster_id: e.cluster_id,
                content_hash: e.content_hash,
                version: e.version,
                event_time: e.event_time,
            },
            e.signature.clone(),
            e.band_keys,
        )
    }

    fn insert_parts(
        &mut self,
        m: SlotMeta,
        signature: Compressed,
        bands: Option<[u64; BANDS]>,
    ) -> u32 {
        if self.ring.len == self.ring.cap {
            self.pop_head();
            self.evicted_total += 1;
        }
        let seq = self.ring.next_seq();
        let pos = self.ring.pos(seq);
        let cap = self.ring.cap as usize;
        put(&mut self.signatures, pos, signature, cap);
        put(&mut self.article_ids, pos, m.article_id, cap);
        put(&mut self.cluster_ids, pos, m.cluster_id, cap);
        put(&mut self.content_hashes, pos, m.content_hash, cap);
        put(&mut self.event_times, pos, m.event_time, cap);
        put(&mut self.versions, pos, m.version, cap);
        put(
            &mut self.flags,
            pos,
            if bands.is_some() { FLAG_IN_BANDS } else { 0 },
            cap,
        );
        self.ring.len += 1;

        let ring = self.ring;
        let ids = &self.article_ids;
        self.by_article
            .upsert(article_fp(m.article_id), seq, ring, |old| {
                ids[ring.pos(old)] == m.article_id
            });
        if let Some(keys) = bands {
            for (table, key) in self.bands.iter_mut().zip(keys) {
                table.insert(fingerprint(key), seq, ring);
            }
        }
        seq
    }

    /// Starts or stops remembering the article ids of slots that leave the ring
    /// (expired or evicted), for [`Self::drain_removed`]. Off by default, so an
    /// index nobody drains does not grow a list.
    pub fn track_removals(&mut self, on: bool) {
        self.track_removals = on;
        if !on {
            self.removed.clear();
        }
    }

    /// Appends to `out` every article id that has left the index entirely since
    /// the last call: a slot of it left and no newer slot for it remains. These
    /// are the ids whose changelog entries must be tombstoned.
    pub fn drain_removed(&mut self, out: &mut Vec<u64>) {
        let mut removed = std::mem::take(&mut self.removed);
        removed.sort_unstable();
        removed.dedup();
        // `now` = 0: any slot still in the ring counts, expired by event time or not.
        out.extend(
            removed
                .drain(..)
                .filter(|&id| self.by_article(id, 0).is_none()),
        );
        self.removed = removed;
    }

    /// Pops slots from the head while `event_time + ttl < now`; returns how many.
    /// Stops at the first unexpired slot even if later ones are older (see the
    /// module docs on out-of-order event times).
    pub fn expire(&mut self, now: u32) -> usize {
        let mut popped = 0;
        while self.ring.len > 0 && !self.fresh(self.ring.head_pos as usize, now) {
            self.pop_head();
            popped += 1;
        }
        self.expired_total += popped as u64;
        popped
    }

    /// Counters and allocated size.
    pub fn stats(&self) -> IndexStats {
        fn bytes<T>(v: &Vec<T>) -> usize {
            v.capacity() * std::mem::size_of::<T>()
        }
        let tables: usize = self
            .bands
            .iter()
            .chain(std::iter::once(&self.by_article))
            .map(|t| bytes(&t.buckets))
            .sum();
        IndexStats {
            table_sweeps: self
                .bands
                .iter()
                .chain(std::iter::once(&self.by_article))
                .map(|t| t.sweeps)
                .sum(),
            live: self.len(),
            expired_total: self.expired_total,
            evicted_total: self.evicted_total,
            memory_bytes: std::mem::size_of::<Self>()
                + bytes(&self.signatures)
                + bytes(&self.article_ids)
                + bytes(&self.cluster_ids)
                + bytes(&self.content_hashes)
                + bytes(&self.event_times)
                + bytes(&self.versions)
                + bytes(&self.flags)
                + tables,
        }
    }

    /// Calls `f(seq, pos)` for every live, unexpired band match of `sig`, once per
    /// matching band.
    fn for_each_candidate(&self, sig: &Signature, now: u32, mut f: impl FnMut(u32, usize)) {
        if sig.is_empty() || self.ring.len == 0 {
            return;
        }
        let ring = self.ring;
        let fps = band_keys(sig).map(fingerprint);
        let homes: [usize; BANDS] = std::array::from_fn(|j| self.bands[j].home(fps[j]));
        // Load every band's home bucket before walking any chain: the loads are
        // independent, so their cache misses (the tables are far larger than the
        // cache) overlap instead of queuing one per band.
        let first: [u64; BANDS] = std::array::from_fn(|j| self.bands[j].buckets[homes[j]]);
        std::hint::black_box(&first);
        for ((table, fp), home) in self.bands.iter().zip(fps).zip(homes) {
            for seq in table.matches_from(fp, home) {
                if !ring.contains(seq) {
                    continue;
                }
                let pos = ring.pos(seq);
                if self.fresh(pos, now) {
                    f(seq, pos);
                }
            }
        }
    }

    /// Whether the slot at `pos` is still within its TTL at `now`.
    fn fresh(&self, pos: usize, now: u32) -> bool {
        self.event_times[pos] as u64 + self.ttl_secs as u64 >= now as u64
    }

    fn pop_head(&mut self) {
        if self.track_removals {
            self.removed
                .push(self.article_ids[self.ring.head_pos as usize]);
        }
        let ring = &mut self.ring;
        ring.head_seq = ring.head_seq.wrapping_add(1);
        ring.head_pos += 1;
        if ring.head_pos == ring.cap {
            ring.head_pos = 0;
        }
        ring.len -= 1;
    }

    /// Caller guarantees `seq` is in the window.
    fn view(&self, seq: u32) -> SlotView<'_> {
        let pos = self.ring.pos(seq);
        SlotView {
            seq,
            article_id: self.article_ids[pos],
            cluster_id: self.cluster_ids[pos],
            content_hash: self.content_hashes[pos],
            version: self.versions[pos],
            event_time: self.event_times[pos],
            in_bands: self.flags[pos] & FLAG_IN_BANDS != 0,
            signature: &self.signatures[pos],
        }
    }
}

/// Writes `value` at ring position `pos`. Positions fill in order until the ring
/// first wraps, so `pos` is either an existing element or the next one; growth is
/// by doubling but never past `cap`, so no buffer ends up larger than the ring.
fn put<T>(v: &mut Vec<T>, pos: usize, value: T, cap: usize) {
    if let Some(slot) = v.get_mut(pos) {
        *slot = value;
        return;
    }
    debug_assert_eq!(pos, v.len());
    if v.len() == v.capacity() {
        let target = (v.len() * 2).max(1024).min(cap);
        v.reserve_exact(target.saturating_sub(v.len()).max(1));
    }
    v.push(value);
}

/// The live window of sequence numbers and where it sits in the slot arrays.
#[derive(Debug, Clone, Copy)]
struct Ring {
    /// Seq of the oldest slot.
    head_seq: u32,
    /// Array position of the oldest slot.
    head_pos: u32,
    /// Slots held; the window is `[head_seq, head_seq + len)`, wrapping.
    len: u32,
    cap: u32,
}

impl Ring {
    /// Distance from the head: 0 for the oldest slot. Wrapping arithmetic makes
    /// this right across the u32 wrap of seqs.
    #[inline]
    fn offset(self, seq: u32) -> u32 {
        seq.wrapping_sub(self.head_seq)
    }

    #[inline]
    fn contains(self, seq: u32) -> bool {
        self.offset(seq) < self.len
    }

    #[inline]
    fn next_seq(self) -> u32 {
        self.head_seq.wrapping_add(self.len)
    }

    /// Array position of `seq`; it need not be live, only within `cap` of the head.
    #[inline]
    fn pos(self, seq: u32) -> usize {
        let p = self.head_pos as usize + self.offset(seq) as usize;
        if p >= self.cap as usize {
            p - self.cap as usize
        } else {
            p
        }
    }
}

/// Fingerprint of an article id for the id table.
fn article_fp(article_id: u64) -> u32 {
    fingerprint(mix64(article_id ^ ARTICLE_SEED))
}

/// A table fingerprint from a well-mixed 64-bit hash: its high 32 bits, never 0
/// (0 marks an empty bucket).
fn fingerprint(hash: u64) -> u32 {
    ((hash >> 32) as u32).max(1)
}

/// Linear-probing table of `(fingerprint, seq)` entries packed into one `u64`
/// (0 = empty). The home bucket is derived from the fingerprint alone, so the
/// table can be rebuilt without the original keys. Entries whose seq left the
/// ring are stale: skipped, reused, and dropped by [`SeqTable::sweep`].
#[derive(Debug)]
struct SeqTable {
    buckets: Vec<u64>,
    /// Non-empty buckets, live or stale.
    occupied: usize,
    /// Sweep before `occupied` would pass this. Leaves at least one empty bucket
    /// (probes stop there) and room for every entry the ring can hold.
    limit: usize,
    /// Sweeps so far (see [`IndexStats::table_sweeps`]).
    sweeps: u64,
}

impl SeqTable {
    /// A table for up to `entries` live entries, at 80% load when full.
    fn for_entries(entries: usize) -> Self {
        let n = (entries + entries / 4).max(entries + 2);
        let limit = (n * 85 / 100).max(entries + 1).min(n - 1);
        Self {
            // Zeroed allocation: pages are only touched as buckets fill.
            buckets: vec![0; n],
            occupied: 0,
            limit,
            sweeps: 0,
        }
    }

    #[inline]
    fn home(&self, fp: u32) -> usize {
        ((fp as u64 * self.buckets.len() as u64) >> 32) as usize
    }

    #[inline]
    fn next(&self, i: usize) -> usize {
        if i + 1 == self.buckets.len() {
            0
        } else {
            i + 1
        }
    }

    /// The seqs stored under `fp`, in probe order, live or stale.
    fn matches(&self, fp: u32) -> impl Iterator<Item = u32> + '_ {
        self.matches_from(fp, self.home(fp))
    }

    /// [`Self::matches`] with the home bucket already computed.
    fn matches_from(&self, fp: u32, home: usize) -> impl Iterator<Item = u32> + '_ {
        let mut i = home;
        // The table always has an empty bucket; the step bound is a backstop.
        let mut steps = self.buckets.len();
        std::iter::from_fn(move || {
            while steps > 0 {
                let b = self.buckets[i];
                if b == 0 {
                    break;
                }
                steps -= 1;
                i = self.next(i);
                if (b >> 32) as u32 == fp {
                    return Some(b as u32);
                }
            }
            steps = 0;
            None
        })
    }

    /// Adds `(fp, seq)` in the first empty or stale bucket of its probe chain.
    fn insert(&mut self, fp: u32, seq: u32, ring: Ring) {
        self.make_room(ring);
        let entry = pack(fp, seq);
        let mut i = self.home(fp);
        loop {
            let b = self.buckets[i];
            if b == 0 {
                self.occupied += 1;
                self.buckets[i] = entry;
                return;
            }
            if !ring.contains(b as u32) {
                self.buckets[i] = entry;
                return;
            }
            i = self.next(i);
        }
    }

    /// Points the live entry for the same key (`same_key(seq)` on a live seq with
    /// the same fingerprint) at `seq`, or adds one like [`Self::insert`].
    fn upsert(&mut self, fp: u32, seq: u32, ring: Ring, same_key: impl Fn(u32) -> bool) {
        self.make_room(ring);
        let entry = pack(fp, seq);
        let mut reusable = None;
        let mut i = self.home(fp);
        loop {
            let b = self.buckets[i];
            if b == 0 {
                break;
            }
            let old = b as u32;
            if !ring.contains(old) {
                reusable.get_or_insert(i);
            } else if (b >> 32) as u32 == fp && same_key(old) {
                self.buckets[i] = entry;
                return;
            }
            i = self.next(i);
        }
        if reusable.is_none() {
            self.occupied += 1;
        }
        self.buckets[reusable.unwrap_or(i)] = entry;
    }

    fn make_room(&mut self, ring: Ring) {
        if self.occupied + 1 > self.limit {
            self.sweep(ring);
        }
    }

    /// Rebuilds the table in place without its stale entries.
    ///
    /// Walks every bucket once, starting just after an empty one. No probe chain
    /// crosses an empty bucket, so each entry's home lies in the part already
    /// walked, whose layout is final. Dropping stale entries leaves holes; an entry
    /// moves back to the first hole at or after its home, if one lies before it.
    /// The walk only remembers the latest hole: if that one is not between an
    /// entry's home and the entry, no earlier hole is either, and the entry stays
    /// put. At 1M capacity a sweep takes ~8 ms (1.25M buckets, most of it moving
    /// entries back through the holes).
    fn sweep(&mut self, ring: Ring) {
        let n = self.buckets.len();
        let Some(empty) = self.buckets.iter().position(|&b| b == 0) else {
            return; // Unreachable: `limit` keeps a bucket empty.
        };
        // Cyclic distance from `from` forward to `to`.
        let dist = |from: usize, to: usize| if to >= from { to - from } else { to + n - from };
        let mut occupied = 0;
        let mut last_hole = empty;
        let mut i = empty;
        for _ in 0..n {
            i = self.next(i);
            let b = self.buckets[i];
            if b == 0 {
                last_hole = i;
                continue;
            }
            if !ring.contains(b as u32) {
                self.buckets[i] = 0;
                last_hole = i;
                continue;
            }
            occupied += 1;
            let home = self.home((b >> 32) as u32);
            if dist(home, last_hole) >= dist(home, i) {
                continue;
            }
            let mut j = home;
            while self.buckets[j] != 0 {
                j = self.next(j);
            }
            self.buckets[j] = b;
            self.buckets[i] = 0;
            last_hole = i;
        }
        self.occupied = occupied;
        self.sweeps += 1;
    }

    /// Whether every entry can be reached from its home without crossing an
    /// empty bucket, and `occupied` counts the non-empty buckets.
    #[cfg(test)]
    fn is_consistent(&self) -> bool {
        let reachable = self.buckets.iter().enumerate().all(|(i, &b)| {
            if b == 0 {
                return true;
            }
            let mut j = self.home((b >> 32) as u32);
            while j != i {
                if self.buckets[j] == 0 {
                    return false;
                }
                j = self.next(j);
            }
            true
        });
        reachable && self.occupied == self.buckets.iter().filter(|&&b| b != 0).count()
    }
}

#[inline]
fn pack(fp: u32, seq: u32) -> u64 {
    (fp as u64) << 32 | seq as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::minhash::{fingerprint as sign, ShingleConfig};

    const DAY: u32 = 86_400;
    const T0: u32 = 1_760_000_000;

    fn body(seed: usize, words: usize) -> Signature {
        let text: Vec<String> = (0..words).map(|i| format!("w{}x{}", seed, i)).collect();
        sign(&[text.join(" ")], &ShingleConfig::default())
    }

    /// Distinct signatures without the cost of fingerprinting text; their band
    /// keys spread like real ones.
    fn random_signature(i: u64) -> Signature {
        Signature(std::array::from_fn(|j| {
            (mix64(i << 8 | j as u64) >> 33) as u32
        }))
    }

    fn slot(article_id: u64, sig: &Signature, event_time: u32) -> NewSlot<'_> {
        NewSlot {
            article_id,
            cluster_id: article_id,
            content_hash: article_id ^ 0xff,
            version: 1,
            event_time,
            signature: sig,
            in_bands: true,
        }
    }

    fn index(capacity: usize) -> ArticleIndex {
        ArticleIndex::new(IndexConfig {
            capacity,
            ttl_secs: 7 * DAY,
        })
        .unwrap()
    }

    #[test]
    fn rejects_bad_capacity() {
        for capacity in [0, MAX_CAPACITY + 1] {
            let cfg = IndexConfig {
                capacity,
                ..IndexConfig::default()
            };
            assert!(matches!(
                ArticleIndex::new(cfg),
                Err(IndexError::Capacity { .. })
            ));
        }
    }

    #[test]
    fn insert_and_lookup_by_article() {
        let mut ix = index(100);
        let (a, b) = (body(1, 300), body(2, 300));
        let sa = ix.insert(slot(10, &a, T0));
        let sb = ix.insert(slot(20, &b, T0));
        assert_eq!(ix.len(), 2);
        let v = ix.by_article(10, T0).unwrap();
        assert_eq!((v.seq, v.article_id, v.content_hash), (sa, 10, 10 ^ 0xff));
        assert_eq!(v.signature, &compress(&a));
        assert_eq!(ix.by_article(20, T0).unwrap().seq, sb);
        assert!(ix.by_article(30, T0).is_none());
        assert_eq!(ix.slot(sb).unwrap().article_id, 20);
        assert!(ix.slot(sb + 1).is_none());
    }

    #[test]
    fn newest_version_wins() {
        let mut ix = index(100);
        let (a, a2) = (body(1, 300), body(3, 300));
        ix.insert(slot(10, &a, T0));
        ix.insert(slot(11, &a, T0));
        let newer = ix.insert(NewSlot {
            version: 2,
            ..slot(10, &a2, T0 + 60)
        });
        let v = ix.by_article(10, T0 + 60).unwrap();
        assert_eq!((v.seq, v.version), (newer, 2));
        assert_eq!(ix.by_article(11, T0).unwrap().version, 1);
    }

    #[test]
    fn near_duplicates_are_found_through_bands() {
        let mut ix = index(1000);
        for i in 0..200 {
            ix.insert(slot(i, &body(i as usize, 400), T0));
        }
        let original: Vec<String> = (0..400).map(|i| format!("w{}x{}", 77, i)).collect();
        let mut edited = original.clone();
        for w in edited.iter_mut().step_by(40) {
            *w = "changed".into();
        }
        let query = sign(&[edited.join(" ")], &ShingleConfig::default());
        let mut out = Vec::new();
        ix.candidates(&query, T0, &mut out);
        assert!(out.contains(&77), "{out:?}");
        let (m, estimate) = ix.best_match(&query, T0, 0.5).unwrap();
        assert_eq!(m.article_id, 77);
        assert!(estimate > 0.6, "{estimate}");
        // Unrelated text: no match.
        assert!(ix.best_match(&body(9999, 400), T0, 0.5).is_none());
        // Identical text matches with estimate 1, and ties go to the older slot.
        ix.insert(slot(500, &body(77, 400), T0));
        let (m, estimate) = ix.best_match(&body(77, 400), T0, 0.5).unwrap();
        assert_eq!((m.article_id, estimate), (77, 1.0));
    }

    #[test]
    fn slots_outside_bands_and_empty_signatures_are_not_candidates() {
        let mut ix = index(100);
        let a = body(1, 300);
        ix.insert(NewSlot {
            in_bands: false,
            ..slot(1, &a, T0)
        });
        ix.insert(slot(2, &Signature::EMPTY, T0));
        ix.insert(slot(3, &Signature::EMPTY, T0));
        let mut out = vec![42];
        ix.candidates(&a, T0, &mut out);
        assert!(out.is_empty());
        ix.candidates(&Signature::EMPTY, T0, &mut out);
        assert!(out.is_empty());
        assert!(ix.best_match(&Signature::EMPTY, T0, 0.0).is_none());
        // Still reachable by id.
        assert!(!ix.by_article(1, T0).unwrap().in_bands);
        assert!(!ix.by_article(2, T0).unwrap().in_bands);
    }

    #[test]
    fn ttl_expiry_by_event_time() {
        let mut ix = index(100);
        let (a, b) = (body(1, 300), body(2, 300));
        ix.insert(slot(1, &a, T0));
        ix.insert(slot(2, &b, T0 + DAY));
        // Exactly at the TTL still live; one second later expired.
        assert_eq!(ix.expire(T0 + 7 * DAY), 0);
        assert!(ix.best_match(&a, T0 + 7 * DAY, 0.5).is_some());
        assert_eq!(ix.expire(T0 + 7 * DAY + 1), 1);
        assert!(ix.by_article(1, T0 + 7 * DAY + 1).is_none());
        assert!(ix.best_match(&a, T0 + 7 * DAY + 1, 0.5).is_none());
        assert!(ix.by_article(2, T0 + 7 * DAY + 1).is_some());
        assert_eq!(ix.stats().expired_total, 1);
        assert_eq!(ix.stats().evicted_total, 0);
        assert_eq!(ix.len(), 1);
    }

    #[test]
    fn expired_but_unpopped_entries_never_match() {
        let mut ix = index(100);
        let (late, old) = (body(1, 300), body(2, 300));
        // Out of order: a newer event first, then one 6 days older.
        ix.insert(slot(1, &late, T0 + 6 * DAY));
        ix.insert(slot(2, &old, T0));
        let now = T0 + 7 * DAY + 1;
        // The head is not expired, so nothing is popped...
        assert_eq!(ix.expire(now), 0);
        assert_eq!(ix.len(), 2);
        // ...but the old entry is already invisible.
        assert!(ix.by_article(2, now).is_none());
        assert!(ix.best_match(&old, now, 0.5).is_none());
        let mut out = Vec::new();
        ix.candidates(&old, now, &mut out);
        assert!(out.is_empty());
        assert!(ix.best_match(&late, now, 0.5).is_some());
    }

    #[test]
    fn capacity_eviction_is_fifo_and_counted() {
        let mut ix = index(3);
        let sigs: Vec<Signature> = (0..5).map(|i| body(i, 200)).collect();
        for (i, s) in sigs.iter().enumerate() {
            ix.insert(slot(i as u64, s, T0));
        }
        assert_eq!(ix.len(), 3);
        let stats = ix.stats();
        assert_eq!((stats.evicted_total, stats.expired_total), (2, 0));
        for gone in [0, 1] {
            assert!(ix.by_article(gone, T0).is_none());
            assert!(ix.best_match(&sigs[gone as usize], T0, 0.5).is_none());
        }
        for kept in [2u64, 3, 4] {
            assert_eq!(ix.by_article(kept, T0).unwrap().seq, kept as u32);
            assert_eq!(
                ix.best_match(&sigs[kept as usize], T0, 0.5)
                    .unwrap()
                    .0
                    .article_id,
                kept
            );
        }
        assert!(ix.slot(1).is_none());
    }

    #[test]
    fn sequence_numbers_wrap() {
        let cfg = IndexConfig {
            capacity: 5,
            ttl_secs: 7 * DAY,
        };
        let mut ix = ArticleIndex::with_first_seq(cfg, u32::MAX - 7).unwrap();
        let sigs: Vec<Signature> = (0..40).map(|i| body(i, 100)).collect();
        let mut seqs = Vec::new();
        for (i, s) in sigs.iter().enumerate() {
            seqs.push(ix.insert(slot(i as u64, s, T0)));
            // Everything in the last `capacity` inserts is found, nothing older.
            for (j, s) in sigs.iter().enumerate().take(i + 1) {
                let live = i - j < 5;
                let by_id = ix.by_article(j as u64, T0).map(|v| v.seq);
                assert_eq!(by_id, live.then_some(seqs[j]), "insert {i}, article {j}");
                let matched = ix.best_match(s, T0, 0.9).map(|(v, _)| v.article_id);
                assert_eq!(matched, live.then_some(j as u64), "insert {i}, article {j}");
            }
        }
        assert_eq!(seqs[7], u32::MAX);
        assert_eq!(seqs[8], 0);
        // Candidates come back oldest first across the wrap.
        let mut out = Vec::new();
        ix.insert(slot(100, &sigs[39], T0));
        ix.candidates(&sigs[39], T0, &mut out);
        assert_eq!(out, vec![seqs[39], seqs[39].wrapping_add(1)]);
    }

    #[test]
    fn table_sweeps_keep_lookups_correct_under_churn() {
        let cap = 64;
        let mut ix = index(cap);
        let last = 5_000u64;
        // Thousands of inserts through a 64-slot ring: every table fills with
        // stale entries and is swept many times. Ids repeat with a period longer
        // than the ring, so upserts meet their own stale entries; every third
        // slot stays out of the bands.
        for round in 0..last {
            let id = round % 97;
            let seq = ix.insert(NewSlot {
                version: (round / 97) as u16,
                in_bands: round % 3 != 0,
                ..slot(id, &random_signature(round), T0)
            });
            assert_eq!(seq, round as u32);
            assert_eq!(ix.by_article(id, T0).unwrap().seq, seq);
            for t in std::iter::once(&ix.by_article).chain(ix.bands.iter()) {
                assert!(t.occupied <= t.limit && t.occupied < t.buckets.len());
                if round % 50 == 0 {
                    assert!(t.is_consistent(), "round {round}");
                }
            }
        }
        assert!(ix.by_article.sweeps > 10 && ix.bands.iter().all(|t| t.sweeps > 10));
        // An id is reachable, at its newest seq, exactly when that seq is among
        // the last `cap` inserts.
        for id in 0..97 {
            let newest = (0..last).rev().find(|r| r % 97 == id).unwrap();
            let expected = (newest >= last - cap as u64).then_some(newest as u32);
            assert_eq!(ix.by_article(id, T0).map(|v| v.seq), expected, "id {id}");
        }
        // A signature is found through the bands exactly when its slot is live
        // and was inserted into them.
        let mut out = Vec::new();
        for round in last - 3 * cap as u64..last {
            ix.candidates(&random_signature(round), T0, &mut out);
            let expected = round >= last - cap as u64 && round % 3 != 0;
            assert_eq!(out.contains(&(round as u32)), expected, "round {round}");
            assert!(out.iter().all(|&s| ix.slot(s).is_some()));
        }
        assert_eq!(ix.stats().evicted_total, last - cap as u64);
    }

    #[test]
    fn sweep_drops_only_stale_entries() {
        let mut t = SeqTable::for_entries(10);
        let ring = Ring {
            head_seq: 5,
            head_pos: 0,
            len: 5,
            cap: 10,
        };
        // Same fingerprint for everything: one long chain across stale and live.
        for seq in 0..10 {
            t.buckets[seq] = pack(7, seq as u32);
        }
        t.occupied = 10;
        t.sweep(ring);
        assert_eq!(t.occupied, 5);
        assert!(t.is_consistent());
        let mut got: Vec<u32> = t.matches(7).collect();
        got.sort();
        assert_eq!(got, vec![5, 6, 7, 8, 9]);
    }

    #[test]
    fn sweep_keeps_every_live_entry_reachable() {
        // Few distinct fingerprints make long clusters, some wrapping around the
        // end of the table; a window that drops the oldest third leaves holes
        // throughout them.
        for (seed, distinct) in [(1u64, 7u64), (2, 50), (3, 1_000_000)] {
            let mut t = SeqTable::for_entries(1_000);
            let full = Ring {
                head_seq: 0,
                head_pos: 0,
                len: 1_000,
                cap: 1_000,
            };
            let fp_of = |seq: u32| fingerprint(mix64(seed << 32 | (seq as u64 % distinct)));
            for seq in 0..1_000u32 {
                t.insert(fp_of(seq), seq, full);
            }
            assert!(t.is_consistent());
            let window = Ring {
                head_seq: 300,
                len: 700,
                ..full
            };
            t.sweep(window);
            assert!(t.is_consistent(), "seed {seed}");
            assert_eq!(t.occupied, 700);
            for seq in 0..1_000u32 {
                let found = t.matches(fp_of(seq)).any(|s| s == seq);
                assert_eq!(found, seq >= 300, "seed {seed}, seq {seq}");
            }
        }
    }

    #[test]
    fn a_restored_slot_matches_like_the_inserted_one() {
        let mut original = index(100);
        let mut restored = index(100);
        let (a, b) = (body(1, 300), body(2, 300));
        for (id, sig, in_bands) in [(1, &a, true), (2, &b, false)] {
            original.insert(NewSlot {
                in_bands,
                ..slot(id, sig, T0)
            });
            let v = original.by_article(id, T0).unwrap();
            restored.restore(&ArticleState {
                article_id: v.article_id,
                cluster_id: v.cluster_id,
                content_hash: v.content_hash,
                version: v.version,
                event_time: v.event_time,
                signature: v.signature.clone(),
                band_keys: in_bands.then(|| band_keys(sig)),
            });
        }
        for ix in [&original, &restored] {
            let (m, estimate) = ix.best_match(&a, T0, 0.5).unwrap();
            assert_eq!((m.article_id, estimate), (1, 1.0));
            assert!(ix.best_match(&b, T0, 0.5).is_none(), "not in the bands");
            assert_eq!(ix.by_article(2, T0).unwrap().content_hash, 2 ^ 0xff);
        }
    }

    #[test]
    fn removals_are_reported_once_an_id_has_no_slot_left() {
        let mut ix = index(3);
        ix.track_removals(true);
        let s = random_signature(1);
        ix.insert(slot(1, &s, T0));
        ix.insert(slot(2, &s, T0 + DAY));
        // A newer version of 1: its old slot leaving does not remove the id.
        ix.insert(NewSlot {
            version: 2,
            ..slot(1, &s, T0 + 2 * DAY)
        });
        ix.insert(slot(3, &s, T0 + 3 * DAY)); // evicts 1's first slot
        let mut out = Vec::new();
        ix.drain_removed(&mut out);
        assert!(out.is_empty(), "{out:?}");
        ix.expire(T0 + 8 * DAY + 1); // expires 2 (T0 + DAY), not the rest
        ix.drain_removed(&mut out);
        assert_eq!(out, vec![2]);
        ix.insert(slot(4, &s, T0 + 3 * DAY));
        ix.insert(slot(5, &s, T0 + 3 * DAY)); // evicts 1 v2
        out.clear();
        ix.drain_removed(&mut out);
        assert_eq!(out, vec![1]);
        out.clear();
        ix.drain_removed(&mut out);
        assert!(out.is_empty(), "reported once");
    }

    #[test]
    fn memory_is_bounded_by_capacity() {
        let mut ix = index(2_000);
        let before = ix.stats().memory_bytes;
        for i in 0..10_000u64 {
            ix.insert(slot(i, &random_signature(i), T0));
        }
        let full = ix.stats().memory_bytes;
        assert!(full > before);
        for i in 0..10_000u64 {
            ix.insert(NewSlot {
                in_bands: i % 2 == 0,
                ..slot(i % 300, &random_signature(i), T0)
            });
        }
        assert_eq!(ix.stats().memory_bytes, full);
        assert!(full / 2_000 <= 200, "{} bytes per slot", full / 2_000);
    }
}

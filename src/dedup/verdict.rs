//! Article verdicts: `new`, `unchanged`, `updated` or `duplicate`, decided from
//! the article's id (its canonical URL), its exact content hash and its MinHash
//! signature, against an [`ArticleStore`].
//!
//! The order of checks is the contract: the same URL first (a recrawl is never
//! called a copy of itself), then similar content on other URLs. Only articles
//! that start or represent a cluster go into the LSH bands, so a story copied a
//! thousand times is still one candidate to verify.

use super::changelog::ArticleState;
use super::index::{ArticleIndex, IndexStats, NewSlot};
use super::minhash::{band_keys, compress, estimate_compressed, Compressed, Signature};

/// What the store remembers about an article; owned, so that a backend may build
/// it from a remote answer.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredArticle {
    pub article_id: u64,
    pub cluster_id: u64,
    pub content_hash: u64,
    pub version: u16,
    /// Whether the article represents its cluster (is findable by similarity).
    pub representative: bool,
    pub signature: Compressed,
}

/// The few operations the verdict logic needs. [`ArticleIndex`] is the in-memory
/// implementation; a persistent or shared backend implements the same.
pub trait ArticleStore {
    /// The newest unexpired entry for an article id.
    fn by_article(&mut self, article_id: u64, now: u32) -> Option<StoredArticle>;
    /// The most similar unexpired representative at or above `threshold`.
    fn best_match(
        &mut self,
        signature: &Signature,
        now: u32,
        threshold: f64,
    ) -> Option<(StoredArticle, f64)>;
    /// Records an article (as its cluster's representative when `representative`).
    fn insert(&mut self, entry: &NewEntry<'_>);
    /// Drops entries whose event time is older than the TTL; returns how many.
    fn expire(&mut self, now: u32) -> usize;
    /// Size and eviction counters, for metrics.
    fn stats(&self) -> IndexStats;
    /// Records an entry read back from the changelog. A store that keeps its
    /// own durable state (a shared backend) has nothing to restore.
    fn restore(&mut self, _entry: &ArticleState) {}
    /// Starts remembering which articles leave the store, for
    /// [`Self::drain_removed`]; a store with its own expiry ignores this.
    fn track_removals(&mut self, _on: bool) {}
    /// Appends the ids of articles that left the store entirely (expired or
    /// evicted) since the last call: their changelog entries become tombstones.
    fn drain_removed(&mut self, _out: &mut Vec<u64>) {}
    /// Records a new representative and claims its place, atomically against
    /// other instances: returns the article it turned out to duplicate when
    /// another instance claimed the same story first. A store private to one
    /// instance has no rival, so it inserts and returns `None`.
    fn claim(&mut self, entry: &NewEntry<'_>, _threshold: f64) -> Option<(StoredArticle, f64)> {
        self.insert(entry);
        None
    }
    /// Whether the store is shared with other instances and durable on its own:
    /// its writes take effect at once, not at the batch's commit, and it has no
    /// changelog to write.
    fn shared(&self) -> bool {
        false
    }
    /// Names the input about to be decided (0: none), so a shared store can
    /// recognise its own earlier writes when an aborted batch is replayed.
    fn begin_input(&mut self, _origin: u64) {}
    /// The error a backend hit since the last call. Answers given since then are
    /// unreliable, and the batch must be decided again.
    fn take_error(&mut self) -> Option<StoreError> {
        None
    }
}

/// A backend's failure, as [`ArticleStore::take_error`] reports it.
#[derive(Debug, thiserror::Error)]
#[error("the dedup store failed")]
pub struct StoreError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

impl<S: ArticleStore + ?Sized> ArticleStore for Box<S> {
    fn by_article(&mut self, article_id: u64, now: u32) -> Option<StoredArticle> {
        (**self).by_article(article_id, now)
    }
    fn best_match(
        &mut self,
        signature: &Signature,
        now: u32,
        threshold: f64,
    ) -> Option<(StoredArticle, f64)> {
        (**self).best_match(signature, now, threshold)
    }
    fn insert(&mut self, entry: &NewEntry<'_>) {
        (**self).insert(entry)
    }
    fn expire(&mut self, now: u32) -> usize {
        (**self).expire(now)
    }
    fn stats(&self) -> IndexStats {
        (**self).stats()
    }
    fn restore(&mut self, entry: &ArticleState) {
        (**self).restore(entry)
    }
    fn track_removals(&mut self, on: bool) {
        (**self).track_removals(on)
    }
    fn drain_removed(&mut self, out: &mut Vec<u64>) {
        (**self).drain_removed(out)
    }
    fn claim(&mut self, entry: &NewEntry<'_>, threshold: f64) -> Option<(StoredArticle, f64)> {
        (**self).claim(entry, threshold)
    }
    fn shared(&self) -> bool {
        (**self).shared()
    }
    fn begin_input(&mut self, origin: u64) {
        (**self).begin_input(origin)
    }
    fn take_error(&mut self) -> Option<StoreError> {
        (**self).take_error()
    }
}

/// A store seen through a window that records nothing: lookups answer, and
/// inserts and claims are dropped (for a page too old to be remembered).
pub struct ReadOnly<'a, S: ArticleStore + ?Sized>(pub &'a mut S);

impl<S: ArticleStore + ?Sized> ArticleStore for ReadOnly<'_, S> {
    fn by_article(&mut self, article_id: u64, now: u32) -> Option<StoredArticle> {
        self.0.by_article(article_id, now)
    }
    fn best_match(
        &mut self,
        signature: &Signature,
        now: u32,
        threshold: f64,
    ) -> Option<(StoredArticle, f64)> {
        self.0.best_match(signature, now, threshold)
    }
    fn insert(&mut self, _entry: &NewEntry<'_>) {}
    fn expire(&mut self, _now: u32) -> usize {
        0
    }
    fn stats(&self) -> IndexStats {
        self.0.stats()
    }
}

/// An article to record.
#[derive(Debug, Clone, Copy)]
pub struct NewEntry<'a> {
    pub article_id: u64,
    pub cluster_id: u64,
    pub content_hash: u64,
    pub version: u16,
    pub event_time: u32,
    pub signature: &'a Signature,
    pub representative: bool,
}

fn stored(v: super::index::SlotView<'_>) -> StoredArticle {
    StoredArticle {
        article_id: v.article_id,
        cluster_id: v.cluster_id,
        content_hash: v.content_hash,
        version: v.version,
        representative: v.in_bands,
        signature: v.signature.clone(),
    }
}

impl ArticleStore for ArticleIndex {
    fn by_article(&mut self, article_id: u64, now: u32) -> Option<StoredArticle> {
        ArticleIndex::by_article(self, article_id, now).map(stored)
    }

    fn best_match(
        &mut self,
        signature: &Signature,
        now: u32,
        threshold: f64,
    ) -> Option<(StoredArticle, f64)> {
        ArticleIndex::best_match(self, signature, now, threshold).map(|(v, sim)| (stored(v), sim))
    }

    fn insert(&mut self, e: &NewEntry<'_>) {
        ArticleIndex::insert(
            self,
            NewSlot {
                article_id: e.article_id,
                cluster_id: e.cluster_id,
                content_hash: e.content_hash,
                version: e.version,
                event_time: e.event_time,
                signature: e.signature,
                in_bands: e.representative,
            },
        );
    }

    fn expire(&mut self, now: u32) -> usize {
        ArticleIndex::expire(self, now)
    }

    fn stats(&self) -> IndexStats {
        ArticleIndex::stats(self)
    }

    fn restore(&mut self, entry: &ArticleState) {
        ArticleIndex::restore(self, entry);
    }

    fn track_removals(&mut self, on: bool) {
        ArticleIndex::track_removals(self, on)
    }

    fn drain_removed(&mut self, out: &mut Vec<u64>) {
        ArticleIndex::drain_removed(self, out)
    }
}

/// An [`ArticleStore`] whose inserts wait in a batch until [`Staged::commit`].
///
/// Exactly-once processing commits a batch's outputs, offsets and dedup state
/// together: an aborted batch is replayed, and its replay must see the state as it
/// was before the batch, or a `new` article whose output was aborted would come
/// back `unchanged` and never be published. Decisions inside a batch see the
/// batch's own earlier inserts, so a copy within one batch is still a duplicate.
pub struct Staged<S> {
    inner: S,
    pending: Vec<Pending>,
}

struct Pending {
    stored: StoredArticle,
    event_time: u32,
    signature: Signature,
}

impl<S: ArticleStore> Staged<S> {
    pub fn new(inner: S) -> Self {
        Staged {
            inner,
            pending: Vec::new(),
        }
    }

    /// Applies the batch's inserts, in order.
    pub fn commit(&mut self) {
        for p in self.pending.drain(..) {
            self.inner.insert(&NewEntry {
                article_id: p.stored.article_id,
                cluster_id: p.stored.cluster_id,
                content_hash: p.stored.content_hash,
                version: p.stored.version,
                event_time: p.event_time,
                signature: &p.signature,
                representative: p.stored.representative,
            });
        }
    }

    /// Forgets the batch's inserts.
    pub fn rollback(&mut self) {
        self.pending.clear();
    }

    /// Inserts waiting for a commit.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// The batch's inserts as changelog entries, in order. Several inserts of
    /// one article id in a batch all appear; the last is the one that counts,
    /// as it is in the index.
    pub fn pending_states(&self) -> impl Iterator<Item = ArticleState> + '_ {
        self.pending.iter().map(|p| ArticleState {
            article_id: p.stored.article_id,
            cluster_id: p.stored.cluster_id,
            content_hash: p.stored.content_hash,
            version: p.stored.version,
            event_time: p.event_time,
            signature: p.stored.signature.clone(),
            // The index files only non-empty representatives under band keys.
            band_keys: (p.stored.representative && !p.signature.is_empty())
                .then(|| band_keys(&p.signature)),
        })
    }
}

impl<S: ArticleStore> ArticleStore for Staged<S> {
    fn by_article(&mut self, article_id: u64, now: u32) -> Option<StoredArticle> {
        match self
            .pending
            .iter()
            .rev()
            .find(|p| p.stored.article_id == article_id)
        {
            Some(p) => Some(p.stored.clone()),
            None => self.inner.by_article(article_id, now),
        }
    }

    fn best_match(
        &mut self,
        signature: &Signature,
        now: u32,
        threshold: f64,
    ) -> Option<(StoredArticle, f64)> {
        let mut best = self.inner.best_match(signature, now, threshold);
        for p in self.pending.iter().filter(|p| p.stored.representative) {
            let sim = super::minhash::estimate(signature, &p.signature);
            // Ties keep the earlier (committed) article: the first seen is canonical.
            if sim >= threshold && best.as_ref().is_none_or(|(_, b)| sim > *b) {
                best = Some((p.stored.clone(), sim));
            }
        }
        best
    }

    fn insert(&mut self, e: &NewEntry<'_>) {
        if self.inner.shared() {
            // A shared store's writes must be seen by the other instances now.
            return self.inner.insert(e);
        }
        self.pending.push(Pending {
            stored: StoredArticle {
                article_id: e.article_id,
                cluster_id: e.cluster_id,
                content_hash: e.content_hash,
                version: e.version,
                representative: e.representative,
                signature: compress(e.signature),
            },
            event_time: e.event_time,
            signature: e.signature.clone(),
        });
    }

    fn expire(&mut self, now: u32) -> usize {
        self.inner.expire(now)
    }

    fn stats(&self) -> IndexStats {
        self.inner.stats()
    }

    fn restore(&mut self, entry: &ArticleState) {
        self.inner.restore(entry)
    }

    fn track_removals(&mut self, on: bool) {
        self.inner.track_removals(on)
    }

    fn drain_removed(&mut self, out: &mut Vec<u64>) {
        self.inner.drain_removed(out)
    }

    fn claim(&mut self, e: &NewEntry<'_>, threshold: f64) -> Option<(StoredArticle, f64)> {
        if self.inner.shared() {
            return self.inner.claim(e, threshold);
        }
        self.insert(e);
        None
    }

    fn shared(&self) -> bool {
        self.inner.shared()
    }

    fn begin_input(&mut self, origin: u64) {
        self.inner.begin_input(origin)
    }

    fn take_error(&mut self) -> Option<StoreError> {
        self.inner.take_error()
    }
}

/// The verdict on one article, with its evidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    /// First time this content is seen.
    New,
    /// Same URL, same content: counted, not republished.
    Unchanged,
    /// Same URL, changed content; `similarity` is to the previous version.
    Updated { similarity: f64 },
    /// Another URL's article, at or above the threshold.
    Duplicate { duplicate_of: u64, similarity: f64 },
}

impl Verdict {
    /// The stable lowercase name used in records, headers and metric labels.
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::New => "new",
            Verdict::Unchanged => "unchanged",
            Verdict::Updated { .. } => "updated",
            Verdict::Duplicate { .. } => "duplicate",
        }
    }
}

/// A verdict plus the identity it gives the article.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    pub verdict: Verdict,
    /// The cluster: the id of the first-seen article of the story.
    pub cluster_id: u64,
    /// 1 for a new article, +1 for each update of the same URL.
    pub version: u16,
}

/// The fingerprint of one article body.
#[derive(Debug, Clone, Copy)]
pub struct ArticleKey<'a> {
    pub article_id: u64,
    pub content_hash: u64,
    pub signature: &'a Signature,
    /// Event time (the page's `fetched_at`), unix seconds.
    pub event_time: u32,
}

/// Decides and records the verdict for one article. `threshold` is the minimum
/// estimated Jaccard similarity for a duplicate.
pub fn decide<S: ArticleStore + ?Sized>(
    store: &mut S,
    key: ArticleKey<'_>,
    now: u32,
    threshold: f64,
) -> Decision {
    let previous = store.by_article(key.article_id, now);
    if let Some(prev) = &previous {
        if prev.content_hash == key.content_hash {
            // Nothing to record: the stored entry already describes this content.
            return Decision {
                verdict: Verdict::Unchanged,
                cluster_id: prev.cluster_id,
                version: prev.version,
            };
        }
    }
    // A changed page that was a copy of another story may still be one, so a
    // non-representative's update is checked against the bands like a new page.
    let may_be_copy = previous.as_ref().is_none_or(|p| !p.representative);
    if may_be_copy {
        if let Some((m, similarity)) = store.best_match(key.signature, now, threshold) {
            // A page matching its own earlier version is an update, not a copy.
            if m.article_id != key.article_id {
                let version = previous.as_ref().map_or(1, |p| p.version.saturating_add(1));
                store.insert(&NewEntry {
                    article_id: key.article_id,
                    cluster_id: m.cluster_id,
                    content_hash: key.content_hash,
                    version,
                    event_time: key.event_time,
                    signature: key.signature,
                    representative: false,
                });
                return Decision {
                    verdict: Verdict::Duplicate {
                        duplicate_of: m.cluster_id,
                        similarity,
                    },
                    cluster_id: m.cluster_id,
                    version,
                };
            }
        }
    }
    let decision = match previous {
        Some(prev) => Decision {
            verdict: Verdict::Updated {
                similarity: estimate_compressed(&prev.signature, &compress(key.signature)),
            },
            cluster_id: if prev.representative {
                prev.cluster_id
            } else {
                key.article_id
            },
            version: prev.version.saturating_add(1),
        },
        None => Decision {
            verdict: Verdict::New,
            cluster_id: key.article_id,
            version: 1,
        },
    };
    let entry = NewEntry {
        article_id: key.article_id,
        cluster_id: decision.cluster_id,
        content_hash: key.content_hash,
        version: decision.version,
        event_time: key.event_time,
        signature: key.signature,
        representative: true,
    };
    if decision.verdict != Verdict::New {
        store.insert(&entry);
        return decision;
    }
    // Another instance may have claimed the same story since the lookup.
    match store.claim(&entry, threshold) {
        None => decision,
        Some((m, similarity)) => {
            store.insert(&NewEntry {
                cluster_id: m.cluster_id,
                representative: false,
                ..entry
            });
            Decision {
                verdict: Verdict::Duplicate {
                    duplicate_of: m.cluster_id,
                    similarity,
                },
                cluster_id: m.cluster_id,
                version: 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::index::IndexConfig;
    use crate::dedup::minhash::{fingerprint, ShingleConfig};
    use crate::text::normalize;

    fn sig(text: &str) -> Signature {
        fingerprint(&[normalize(text)], &ShingleConfig::default())
    }

    fn body(seed: u64, words: usize) -> String {
        let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..words)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                format!("w{}", x % 5000)
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn key<'a>(id: u64, hash: u64, s: &'a Signature, t: u32) -> ArticleKey<'a> {
        ArticleKey {
            article_id: id,
            content_hash: hash,
            signature: s,
            event_time: t,
        }
    }

    #[test]
    fn new_unchanged_updated_duplicate() {
        let mut idx = ArticleIndex::new(IndexConfig::default()).unwrap();
        let a = body(1, 300);
        let sa = sig(&a);
        let d = decide(&mut idx, key(10, 1, &sa, 100), 100, 0.5);
        assert_eq!(d.verdict, Verdict::New);
        assert_eq!((d.cluster_id, d.version), (10, 1));

        let d = decide(&mut idx, key(10, 1, &sa, 200), 200, 0.5);
        assert_eq!(d.verdict, Verdict::Unchanged);

        let a2 = format!("{a} {}", body(2, 30));
        let sa2 = sig(&a2);
        let d = decide(&mut idx, key(10, 2, &sa2, 300), 300, 0.5);
        assert!(matches!(d.verdict, Verdict::Updated { similarity } if similarity > 0.7));
        assert_eq!((d.cluster_id, d.version), (10, 2));

        let d = decide(&mut idx, key(20, 3, &sa, 400), 400, 0.5);
        assert!(matches!(
            d.verdict,
            Verdict::Duplicate {
                duplicate_of: 10,
                ..
            }
        ));
        assert_eq!(d.cluster_id, 10);
        // The copy's own recrawl is unchanged, and stays in the cluster.
        let d = decide(&mut idx, key(20, 3, &sa, 500), 500, 0.5);
        assert_eq!(d.verdict, Verdict::Unchanged);
        assert_eq!(d.cluster_id, 10);

        let b = body(3, 300);
        let sb = sig(&b);
        let d = decide(&mut idx, key(30, 4, &sb, 600), 600, 0.5);
        assert_eq!(d.verdict, Verdict::New);
    }

    #[test]
    fn staged_inserts_roll_back_and_commit() {
        let mut st = Staged::new(ArticleIndex::new(IndexConfig::default()).unwrap());
        let s = sig(&body(9, 300));
        assert_eq!(
            decide(&mut st, key(1, 1, &s, 10), 10, 0.5).verdict,
            Verdict::New
        );
        // Within the batch, the copy sees the pending original.
        let d = decide(&mut st, key(2, 1, &s, 10), 10, 0.5);
        assert!(matches!(
            d.verdict,
            Verdict::Duplicate {
                duplicate_of: 1,
                ..
            }
        ));
        st.rollback();
        // The replay after an abort decides exactly as the first time.
        assert_eq!(
            decide(&mut st, key(1, 1, &s, 10), 10, 0.5).verdict,
            Verdict::New
        );
        st.commit();
        assert_eq!(st.pending(), 0);
        assert_eq!(
            decide(&mut st, key(1, 1, &s, 20), 20, 0.5).verdict,
            Verdict::Unchanged
        );
    }

    #[test]
    fn expired_articles_are_new_again() {
        let mut idx = ArticleIndex::new(IndexConfig {
            capacity: 100,
            ttl_secs: 1000,
        })
        .unwrap();
        let s = sig(&body(5, 200));
        assert_eq!(
            decide(&mut idx, key(1, 1, &s, 0), 0, 0.5).verdict,
            Verdict::New
        );
        idx.expire(5000);
        assert_eq!(
            decide(&mut idx, key(2, 1, &s, 5000), 5000, 0.5).verdict,
            Verdict::New
        );
    }
}

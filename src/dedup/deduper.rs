//! The dedup state of one instance: the article store (in memory or Redis),
//! the headline index, the event-time watermark that expires them, and the
//! changelog bookkeeping: which changes a batch writes, the tombstones of
//! committed removals, and the restore from the compacted topic.
//!
//! Pure and synchronous, like the rest of `dedup/`: it knows nothing of Kafka
//! or of output records; the pipeline asks it for verdicts
//! ([`Deduper::article_verdict`], [`Deduper::headline_verdict`]) and the Kafka
//! edge writes its [`Deduper::changes`].

use crate::dedup::changelog::{Change, RestoreTable, StateKey};
use crate::dedup::headlines::{HeadlineIndex, HeadlineVerdict};
use crate::dedup::index::IndexStats;
use crate::dedup::verdict::{
    decide, ArticleKey, ArticleStore, Decision, ReadOnly, Staged, StoreError,
};

/// What happens to an article judged a duplicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuplicatePolicy {
    /// Publish it to `topics.duplicates`, the audit trail.
    Route,
    /// Publish nothing; count it.
    Drop,
    /// Publish it to `topics.articles`, marked `verdict: duplicate`.
    Mark,
}

/// What the deduper takes from `[dedup]` (see `config::DedupSettings`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeduperConfig {
    /// With dedup off every article is new and nothing is stored.
    pub enabled: bool,
    /// Similarity at or above which a body is a copy or an update.
    pub threshold: f64,
    /// Event-time age after which entries expire.
    pub ttl_secs: u32,
    pub max_articles: usize,
    pub max_headlines: usize,
    /// What happens to an article judged a duplicate.
    pub duplicates: DuplicatePolicy,
    /// How far event time may run ahead of the time an input was read
    /// (`input.max_future_skew_secs`): the watermark never moves further.
    pub max_future_skew_secs: u32,
}

/// The near-duplicate state of one instance, which [`Deduper::decide`] (in
/// the pipeline) consults and updates. One per instance.
///
/// State changes are staged: [`Deduper::commit`] makes a batch's decisions
/// permanent, [`Deduper::rollback`] forgets them (an aborted transaction).
///
/// With a changelog ([`Deduper::enable_changelog`]), [`Deduper::changes`] lists
/// what the open batch would write: its inserts and updates, the watermark, and
/// tombstones for entries that earlier commits expired or evicted. Expiry runs
/// at commit, after the batch's transaction, so its tombstones travel with the
/// next batch; a crash in between loses none, because a restore skips what the
/// watermark has expired and tombstones it then.
pub struct Deduper {
    config: DeduperConfig,
    articles: Staged<Box<dyn ArticleStore + Send + Sync>>,
    headlines: HeadlineIndex,
    /// Highest event time seen; expiry follows it, so one late event does not
    /// move time backwards.
    watermark: u32,
    committed_watermark: u32,
    /// The instance name under which the watermark is written; `Some` when the
    /// changelog is on.
    changelog: Option<String>,
    /// Tombstones of committed removals, not yet written. Kept across a
    /// rollback: they describe committed state, and the aborted transaction
    /// that carried them wrote nothing.
    tombstones: Vec<Change>,
}

/// What [`Deduper::restore`] loaded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Restored {
    pub articles: usize,
    pub headlines: usize,
    /// Entries the watermark had already expired: skipped and tombstoned.
    pub expired: usize,
    pub watermark: u32,
}

impl Deduper {
    /// A deduper over another article store (a persistent or shared backend).
    pub fn with_store(
        config: DeduperConfig,
        articles: Box<dyn ArticleStore + Send + Sync>,
    ) -> Self {
        Deduper {
            headlines: HeadlineIndex::new(config.max_headlines, config.ttl_secs),
            config,
            articles: Staged::new(articles),
            watermark: 0,
            committed_watermark: 0,
            changelog: None,
            tombstones: Vec::new(),
        }
    }

    /// Tracks every change for a changelog; `instance` names this instance's
    /// watermark record.
    pub fn enable_changelog(&mut self, instance: impl Into<String>) {
        self.changelog = Some(instance.into());
        self.articles.track_removals(true);
        self.headlines.track_removals(true);
    }

    /// The changelog records of the open batch, in the order to write them:
    /// earlier removals' tombstones, then this batch's entries and watermark.
    /// Empty without a changelog.
    pub fn changes(&self) -> Vec<Change> {
        let Some(instance) = &self.changelog else {
            return Vec::new();
        };
        let mut out = self.tombstones.clone();
        out.extend(
            self.articles
                .pending_states()
                .map(|a| Change::Article(Box::new(a))),
        );
        out.extend(self.headlines.pending_states().map(Change::Headline));
        if self.watermark > self.committed_watermark {
            out.push(Change::Watermark {
                instance: instance.clone(),
                event_time: self.watermark,
            });
        }
        out
    }

    /// Loads the state read back from the changelog into the empty indexes.
    /// Entries the watermark has expired are skipped and queued as tombstones,
    /// as are entries the caps evict, so the topic sheds them.
    pub fn restore(&mut self, table: RestoreTable) -> Restored {
        let watermark = table.watermark();
        let ttl = self.config.ttl_secs;
        let expired = |t: u32| t.saturating_add(ttl) < watermark;
        let (articles, headlines) = table.into_entries();
        let mut r = Restored {
            watermark,
            ..Restored::default()
        };
        for a in &articles {
            if expired(a.event_time) {
                self.tombstones
                    .push(Change::Delete(StateKey::Article(a.article_id)));
                r.expired += 1;
            } else {
                self.articles.restore(a);
                r.articles += 1;
            }
        }
        for h in &headlines {
            if expired(h.published_event_time) {
                self.tombstones
                    .push(Change::Delete(StateKey::Headline(h.id)));
                r.expired += 1;
            } else {
                self.headlines.restore(h);
                r.headlines += 1;
            }
        }
        self.watermark = self.watermark.max(watermark);
        self.committed_watermark = self.watermark;
        self.collect_removed();
        r
    }

    /// Applies a change another instance committed (following the shared
    /// changelog), between batches. Entries are added as the newest for their
    /// key; tombstones and watermarks are not applied: this instance expires
    /// entries by its own event time, and cannot remove one slot from its ring.
    /// Returns whether the change was applied.
    pub fn apply_remote(&mut self, change: &Change) -> bool {
        if !self.config.enabled {
            return false;
        }
        match change {
            Change::Article(a) => {
                self.articles.restore(a);
                true
            }
            Change::Headline(h) => {
                self.headlines.restore(h);
                true
            }
            Change::Watermark { .. } | Change::Delete(_) => false,
        }
    }

    /// Makes the decisions since the last commit permanent, then expires what
    /// the event-time watermark has passed.
    pub fn commit(&mut self) {
        // The open batch carried the queued tombstones; they are written now.
        self.tombstones.clear();
        self.articles.commit();
        self.headlines.commit();
        if self.watermark > self.committed_watermark && self.config.enabled {
            self.articles.expire(self.watermark);
            self.headlines.expire(self.watermark);
        }
        self.committed_watermark = self.watermark;
        self.collect_removed();
    }

    /// Queues tombstones for the entries that left the indexes entirely.
    fn collect_removed(&mut self) {
        if self.changelog.is_none() {
            return;
        }
        let mut ids = Vec::new();
        self.articles.drain_removed(&mut ids);
        self.tombstones.extend(
            ids.drain(..)
                .map(|id| Change::Delete(StateKey::Article(id))),
        );
        self.headlines.drain_removed(&mut ids);
        self.tombstones.extend(
            ids.drain(..)
                .map(|id| Change::Delete(StateKey::Headline(id))),
        );
    }

    /// Forgets the decisions since the last commit.
    pub fn rollback(&mut self) {
        self.articles.rollback();
        self.headlines.rollback();
        self.watermark = self.committed_watermark;
    }

    /// Whether the article store is shared with other instances (Redis): only
    /// then does [`Self::set_origin`] matter.
    pub fn shares_store(&self) -> bool {
        self.articles.shared()
    }

    /// Names the input the next [`Self::decide`] is for (a hash of where it was
    /// read; 0 for none), so a shared store recognises the writes of an aborted
    /// attempt at the same input.
    pub fn set_origin(&mut self, origin: u64) {
        self.articles.begin_input(origin);
    }

    /// The error the article store hit since the last call. The verdicts since
    /// then are unreliable: roll the batch back and decide it again.
    pub fn take_store_error(&mut self) -> Option<StoreError> {
        self.articles.take_error()
    }

    /// Article index size and eviction counters.
    pub fn article_stats(&self) -> IndexStats {
        self.articles.stats()
    }

    /// Headline entries held.
    pub fn headline_count(&self) -> usize {
        self.headlines.len()
    }

    /// Headline entries expired and evicted since creation.
    pub fn headline_removed_totals(&self) -> (u64, u64) {
        self.headlines.removed_totals()
    }

    /// Approximate bytes held by the headline index.
    pub fn headline_memory_bytes(&self) -> usize {
        self.headlines.memory_bytes()
    }

    /// Advances the event-time watermark to `event_time` (never backwards)
    /// and returns the time the verdicts use.
    pub fn advance(&mut self, event_time: u32) -> u32 {
        self.watermark = self.watermark.max(event_time);
        self.watermark
    }

    /// The verdict on an article body, staged until [`Self::commit`]; with
    /// `record` false it is judged against the state without changing it.
    pub fn article_verdict(&mut self, key: ArticleKey<'_>, now: u32, record: bool) -> Decision {
        let threshold = self.config.threshold;
        if record {
            decide(&mut self.articles, key, now, threshold)
        } else {
            decide(&mut ReadOnly(&mut self.articles), key, now, threshold)
        }
    }

    /// Whether a headline is new, updated or seen, staged until [`Self::commit`].
    pub fn headline_verdict(
        &mut self,
        id: u64,
        item_time: Option<i64>,
        now: u32,
    ) -> HeadlineVerdict {
        self.headlines.observe(id, item_time, now)
    }

    /// What this deduper was opened with.
    pub fn config(&self) -> &DeduperConfig {
        &self.config
    }
}

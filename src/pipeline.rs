//! Raw input bytes → output records, in two pure, synchronous stages:
//!
//! 1. [`Preparer::prepare`]: validate, parse and fingerprint one input. It keeps
//!    no state between inputs, so the Kafka service runs it on a worker pool.
//! 2. [`Deduper::decide`]: the near-duplicate verdicts (stateful, so sequential)
//!    and the output records.
//!
//! [`Pipeline`] chains the two for callers that process one input at a time.
//! Every input has exactly one [`Outcome`], and the records it yields follow from
//! that outcome. The edges count outcomes, so the counts always add up to the
//! inputs read.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::{DuplicatePolicy, Settings, StoreKind};
use crate::dedup::deduper::DeduperConfig;
pub use crate::dedup::deduper::{Deduper, Restored};
use crate::dedup::headlines::HeadlineVerdict;
use crate::dedup::index::{ArticleIndex, IndexConfig};
use crate::dedup::minhash::{Fingerprinter, Signature};
use crate::dedup::verdict::{ArticleKey, Decision, StoreError, Verdict};
use crate::event::{
    rfc3339, Article, ArticleVerdict, DateFlag, Headline, HeadlineVerdictKind, InvalidInput, Page,
    RejectCode, Rejected, SourceRef, SCHEMA_VERSION,
};
use crate::parse::{ParsedPage, Parser};
use crate::text::{digest64, id_hex, normalize, normalized_word_count};

/// Which output a record goes to; the topic name comes from the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Destination {
    Articles,
    Headlines,
    Duplicates,
    DeadLetter,
}

impl Destination {
    pub fn topic(self, settings: &Settings) -> &str {
        let t = &settings.topics;
        match self {
            Destination::Articles => &t.articles,
            Destination::Headlines => &t.headlines,
            Destination::Duplicates => &t.duplicates,
            Destination::DeadLetter => &t.dead_letter,
        }
    }
}

/// A record's payload.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Payload {
    Article(Box<Article>),
    Headline(Headline),
    Rejected(Box<Rejected>),
}

/// One output record.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub destination: Destination,
    /// The Kafka key: the cluster id for articles (versions and copies share a
    /// partition), the headline id for headlines; none for dead letters, which
    /// keep the input's own key.
    pub key: Option<String>,
    pub payload: Payload,
}

/// What became of one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A page with an article body. An `unchanged` or dropped article publishes
    /// nothing for the article itself, but its headlines are still considered.
    Article {
        verdict: ArticleVerdict,
        headlines: HeadlineCounts,
    },
    /// A page with a headline list and no article body (an index page).
    HeadlinesOnly { headlines: HeadlineCounts },
    /// The input went to the dead-letter output.
    Rejected(RejectCode),
}

/// Headlines of one page: published (new or updated) and suppressed (seen).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeadlineCounts {
    pub published: usize,
    pub suppressed: usize,
}

/// The result of processing one input.
#[derive(Debug, Clone, PartialEq)]
pub struct Processed {
    pub outcome: Outcome,
    pub records: Vec<Record>,
}

/// An input after the stateless stage.
#[derive(Debug)]
pub enum Prepared {
    Page(Box<PreparedPage>),
    Rejected(Processed),
}

/// A parsed, fingerprinted page, ready for dedup.
#[derive(Debug)]
pub struct PreparedPage {
    pub page: Page,
    pub parsed: ParsedPage,
    pub article_id: u64,
    pub content_hash: u64,
    pub signature: Signature,
    /// When the input was read (wall clock): event time never moves the
    /// expiry watermark past it by more than the allowed skew.
    pub received: DateTime<Utc>,
    /// What the `[parse]` caps cut from the page.
    pub truncated: Truncated,
}

/// Items a `[parse]` cap removed from one page, counted in metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Truncated {
    pub headlines: usize,
    pub paragraphs: usize,
}

/// Stage 1: validation, parsing and fingerprinting. One per worker thread.
pub struct Preparer {
    settings: Arc<Settings>,
    parser: Parser,
    fingerprinter: Fingerprinter,
}

impl Preparer {
    pub fn new(settings: Arc<Settings>) -> Self {
        let shingles = settings.dedup.shingles;
        Preparer {
            settings,
            parser: Parser::new(),
            fingerprinter: Fingerprinter::new(shingles),
        }
    }

    /// Validates, parses and fingerprints one input. `now` stands in for a
    /// missing `fetched_at`.
    pub fn prepare(&mut self, bytes: &[u8], source: SourceRef, now: DateTime<Utc>) -> Prepared {
        let page = match Page::from_bytes(bytes, self.settings.input, now) {
            Ok(page) => page,
            Err(e) => return Prepared::Rejected(reject(e, source, bytes)),
        };
        let hints = self.settings.site(&page.site).cloned().unwrap_or_default();
        let limits = self.settings.parse;
        crate::parse::budget::start(limits.max_work_units);
        let mut parsed = self.parser.parse(&page, &hints);
        let over_budget = crate::parse::budget::exceeded();
        crate::parse::budget::finish();
        if over_budget {
            let e = InvalidInput::new(
                RejectCode::ParseBudgetExceeded,
                format!(
                    "parsing the page needed more than {} work units (parse.max_work_units)",
                    limits.max_work_units
                ),
            );
            return Prepared::Rejected(reject(e, source, bytes));
        }
        let truncated = Truncated {
            headlines: parsed.headlines.len().saturating_sub(limits.max_headlines),
            paragraphs: parsed
                .paragraphs
                .len()
                .saturating_sub(limits.max_paragraphs),
        };
        parsed.headlines.truncate(limits.max_headlines);
        parsed.paragraphs.truncate(limits.max_paragraphs);
        parsed.normalized.truncate(limits.max_paragraphs);
        if parsed.paragraphs.is_empty() && parsed.headlines.is_empty() {
            let e = InvalidInput::new(
                RejectCode::NoContent,
                "the page has neither article paragraphs nor a headline list",
            );
            return Prepared::Rejected(reject(e, source, bytes));
        }
        let signature = self.fingerprinter.signature(&parsed.normalized);
        Prepared::Page(Box::new(PreparedPage {
            article_id: article_id(&page.canonical_url),
            content_hash: content_hash(&parsed.normalized),
            signature,
            received: now,
            truncated,
            page,
            parsed,
        }))
    }
}

/// Why the dedup state could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot build the dedup index")]
    Index(#[from] crate::dedup::index::IndexError),
    #[error("cannot open the Redis dedup store (dedup.store = \"redis\")")]
    Redis(#[from] crate::dedup::redis::RedisStoreError),
}

/// Opening the dedup state from the settings: which store, what size.
impl Deduper {
    /// A deduper over the store `dedup.store` names.
    pub fn open(settings: Arc<Settings>) -> Result<Self, OpenError> {
        match settings.dedup.store {
            // With dedup off nothing is looked up: no reason to need Redis.
            _ if !settings.dedup.enabled => Ok(Self::new(settings)?),
            StoreKind::Memory => Ok(Self::new(settings)?),
            StoreKind::Redis => {
                let store = crate::dedup::redis::RedisStore::connect(
                    &settings.redis,
                    settings.dedup.ttl_secs,
                )?;
                Ok(Self::with_store(deduper_config(&settings), Box::new(store)))
            }
        }
    }

    /// A deduper with the in-memory index, sized from the settings.
    pub fn new(settings: Arc<Settings>) -> Result<Self, crate::dedup::index::IndexError> {
        let d = settings.dedup;
        let articles = ArticleIndex::new(IndexConfig {
            // With dedup off nothing is inserted; keep the allocation small.
            capacity: if d.enabled { d.max_articles } else { 1 },
            ttl_secs: d.ttl_secs,
        })?;
        Ok(Self::with_store(
            deduper_config(&settings),
            Box::new(articles),
        ))
    }
}

/// The deduper's part of the settings.
fn deduper_config(settings: &Settings) -> DeduperConfig {
    let d = settings.dedup;
    DeduperConfig {
        enabled: d.enabled,
        threshold: d.threshold,
        ttl_secs: d.ttl_secs,
        max_articles: d.max_articles,
        max_headlines: d.max_headlines,
        duplicates: d.duplicates,
        max_future_skew_secs: settings.input.max_future_skew_secs,
    }
}

/// Stage 2 of the pipeline: [`Deduper::decide`] turns a prepared input into
/// its verdicts (through the dedup state, [`crate::dedup::deduper`]) and its
/// output records.
impl Deduper {
    /// Decides one prepared input and builds its records. Takes a reference so
    /// that a batch rolled back after an abort can be decided again.
    pub fn decide(&mut self, prepared: &Prepared) -> Processed {
        let p = match prepared {
            Prepared::Rejected(r) => return r.clone(),
            Prepared::Page(p) => p.as_ref(),
        };
        let d = *self.config();
        let event_time = unix_secs(p.page.fetched_at);
        // Validation rejects a fetched_at beyond the skew; the cap keeps the
        // watermark honest for callers that skip it, so one event cannot
        // expire the whole state.
        let ceiling = unix_secs(p.received).saturating_add(d.max_future_skew_secs);
        let now = self.advance(event_time.min(ceiling));
        // A page fetched longer ago than the TTL is judged against the state
        // but not recorded: its entry would be expired on arrival, and on the
        // way in it could evict a live one.
        let stale = event_time.saturating_add(d.ttl_secs) < now;
        let mut records = Vec::with_capacity(1 + p.parsed.headlines.len());

        let mut article_outcome = None;
        if !p.parsed.paragraphs.is_empty() {
            let key = ArticleKey {
                article_id: p.article_id,
                content_hash: p.content_hash,
                signature: &p.signature,
                event_time,
            };
            let decision = if d.enabled {
                self.article_verdict(key, now, !stale)
            } else {
                Decision {
                    verdict: Verdict::New,
                    cluster_id: p.article_id,
                    version: 1,
                }
            };
            let verdict = kind(decision.verdict);
            let destination = match (verdict, d.duplicates) {
                (ArticleVerdict::Unchanged, _) => None,
                (ArticleVerdict::Duplicate, DuplicatePolicy::Route) => {
                    Some(Destination::Duplicates)
                }
                (ArticleVerdict::Duplicate, DuplicatePolicy::Drop) => None,
                _ => Some(Destination::Articles),
            };
            if let Some(destination) = destination {
                let article = article(p, decision);
                records.push(Record {
                    destination,
                    key: Some(article.cluster_id.clone()),
                    payload: Payload::Article(Box::new(article)),
                });
            }
            article_outcome = Some(verdict);
        }

        let mut counts = HeadlineCounts::default();
        for (i, h) in p.parsed.headlines.iter().enumerate() {
            let id = headline_id(&p.page.site, &h.title);
            let verdict = if d.enabled {
                // A time computed from the fetch ("2 jam lalu", "14:32") moves
                // with every crawl; only a printed date can show an update.
                let computed = h
                    .flags
                    .iter()
                    .any(|f| matches!(f, DateFlag::Relative | DateFlag::DateInferred));
                let item_time = h.published_at.filter(|_| !computed).map(|t| t.timestamp());
                self.headline_verdict(id, item_time, now)
            } else {
                HeadlineVerdict::New
            };
            let verdict = match verdict {
                HeadlineVerdict::Seen => {
                    counts.suppressed += 1;
                    continue;
                }
                HeadlineVerdict::New => HeadlineVerdictKind::New,
                HeadlineVerdict::Updated => HeadlineVerdictKind::Updated,
            };
            counts.published += 1;
            records.push(Record {
                destination: Destination::Headlines,
                key: Some(id_hex(id)),
                payload: Payload::Headline(Headline {
                    schema_version: SCHEMA_VERSION,
                    id: id_hex(id),
                    site: p.page.site.clone(),
                    title: h.title.clone(),
                    url: h.url.clone(),
                    published_at: h.published_at.as_ref().map(rfc3339),
                    precision: h.precision,
                    flags: h.flags.clone(),
                    verdict,
                    seen_on: p.page.url.clone(),
                    position: i as u32 + 1,
                }),
            });
        }
        let outcome = match article_outcome {
            Some(verdict) => Outcome::Article {
                verdict,
                headlines: counts,
            },
            None => Outcome::HeadlinesOnly { headlines: counts },
        };
        Processed { outcome, records }
    }
}

/// Both stages, one input at a time.
pub struct Pipeline {
    preparer: Preparer,
    deduper: Deduper,
}

impl Pipeline {
    pub fn new(settings: Arc<Settings>) -> Result<Self, OpenError> {
        Ok(Pipeline {
            preparer: Preparer::new(settings.clone()),
            deduper: Deduper::open(settings)?,
        })
    }

    /// Processes one input and commits its dedup state. `now` stands in for a
    /// missing `fetched_at`.
    pub fn process(&mut self, bytes: &[u8], source: SourceRef, now: DateTime<Utc>) -> Processed {
        let prepared = self.preparer.prepare(bytes, source, now);
        let processed = self.deduper.decide(&prepared);
        self.deduper.commit();
        processed
    }

    /// [`Self::process`], failing when the dedup store failed on the way.
    pub fn try_process(
        &mut self,
        bytes: &[u8],
        source: SourceRef,
        now: DateTime<Utc>,
    ) -> Result<Processed, StoreError> {
        let prepared = self.preparer.prepare(bytes, source, now);
        let processed = self.deduper.decide(&prepared);
        if let Some(e) = self.deduper.take_store_error() {
            self.deduper.rollback();
            return Err(e);
        }
        self.deduper.commit();
        Ok(processed)
    }

    pub fn deduper(&self) -> &Deduper {
        &self.deduper
    }
}

fn kind(v: Verdict) -> ArticleVerdict {
    match v {
        Verdict::New => ArticleVerdict::New,
        Verdict::Unchanged => ArticleVerdict::Unchanged,
        Verdict::Updated { .. } => ArticleVerdict::Updated,
        Verdict::Duplicate { .. } => ArticleVerdict::Duplicate,
    }
}

/// The outcome of a rejected input: one dead-letter record.
pub fn reject(e: InvalidInput, source: SourceRef, bytes: &[u8]) -> Processed {
    let code = e.code;
    Processed {
        outcome: Outcome::Rejected(code),
        records: vec![Record {
            destination: Destination::DeadLetter,
            key: None,
            payload: Payload::Rejected(Box::new(Rejected::new(e, source, bytes))),
        }],
    }
}

fn unix_secs(t: DateTime<Utc>) -> u32 {
    t.timestamp().clamp(0, u32::MAX as i64) as u32
}

/// Rounds a similarity for output: three decimals are all the estimate carries.
fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn article(p: &PreparedPage, decision: Decision) -> Article {
    let parsed = &p.parsed;
    let page = &p.page;
    let (similarity, duplicate_of) = match decision.verdict {
        Verdict::Updated { similarity } => (Some(round3(similarity)), None),
        Verdict::Duplicate {
            duplicate_of,
            similarity,
        } => (Some(round3(similarity)), Some(id_hex(duplicate_of))),
        Verdict::New | Verdict::Unchanged => (None, None),
    };
    Article {
        schema_version: SCHEMA_VERSION,
        id: id_hex(p.article_id),
        url: page.url.clone(),
        canonical_url: page.canonical_url.clone(),
        site: page.site.clone(),
        title: parsed.title.as_ref().map(|(t, _)| t.clone()),
        caption: parsed.caption.clone(),
        word_count: parsed
            .normalized
            .iter()
            .map(|n| normalized_word_count(n))
            .sum(),
        text: parsed.paragraphs.join("\n\n"),
        paragraphs: parsed.paragraphs.clone(),
        published_at: parsed.published.clone(),
        date_rejected: parsed.date_rejected.clone(),
        language: parsed.language.clone(),
        fetched_at: rfc3339(&page.fetched_at),
        fetched_at_source: page.fetched_at_source,
        content_hash: id_hex(p.content_hash),
        removed: parsed.removed,
        verdict: kind(decision.verdict),
        version: decision.version as u32,
        cluster_id: id_hex(decision.cluster_id),
        similarity,
        duplicate_of,
        metadata: page.metadata.clone(),
        modified_at: parsed.modified.clone(),
        authors: parsed.authors.clone(),
        sources: parsed.sources,
    }
}

/// The article id: a digest of the canonical URL, so recrawls share it.
pub fn article_id(canonical_url: &str) -> u64 {
    digest64(&["article", canonical_url])
}

/// The digest of a normalized body.
pub fn content_hash(normalized: &[String]) -> u64 {
    let parts: Vec<&str> = normalized.iter().map(String::as_str).collect();
    digest64(&parts)
}

/// The headline id: a digest of the site and the normalized title, so the same
/// headline on every page of a site has one id.
pub fn headline_id(site: &str, title: &str) -> u64 {
    digest64(&["headline", site, &normalize(title)])
}

//! `warta-lab bench`: warta's own benchmark commands, for figures that criterion's
//! harness does not give (whole-pipeline throughput over a user's own file,
//! dedup state restore and changelog size, the Redis store beside memory).
//!
//! `warta-lab bench parse FILE` loads a JSONL file into memory and runs the
//! pipeline over it `rounds` times on one thread, reporting the median round.
//! The end-to-end Kafka load generator is the product's `warta bench kafka`
//! (`warta::loadgen`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use chrono::Utc;

use warta::config::Settings;
use warta::event::SourceRef;
use warta::loadgen::median;
use warta::pipeline::Pipeline;

/// Figures from one `bench parse` run.
#[derive(Debug, Clone, Copy)]
pub struct ParseBench {
    pub pages: usize,
    pub rounds: usize,
    /// Median over rounds of the mean time per page.
    pub median_page_micros: f64,
    pub pages_per_sec: f64,
}

impl std::fmt::Display for ParseBench {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pages={} rounds={} median_us_per_page={:.2} pages_per_sec={:.0}",
            self.pages, self.rounds, self.median_page_micros, self.pages_per_sec
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("cannot read {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0} holds no input lines")]
    Empty(String),
    #[error("cannot build the dedup index")]
    Index(#[from] warta::dedup::index::IndexError),
    #[error("cannot open the dedup state")]
    Open(#[from] warta::pipeline::OpenError),
}

/// Runs the pipeline over every line of `path`, `rounds` times.
pub fn parse(
    settings: Arc<Settings>,
    path: &Path,
    rounds: usize,
) -> Result<ParseBench, BenchError> {
    let data = std::fs::read(path).map_err(|source| BenchError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let lines: Vec<&[u8]> = data
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        return Err(BenchError::Empty(path.display().to_string()));
    }
    let mut pipeline = Pipeline::new(settings)?;
    let now = Utc::now();
    let rounds = rounds.max(1);
    let mut per_page = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        for (i, line) in lines.iter().enumerate() {
            std::hint::black_box(pipeline.process(
                line,
                SourceRef::Line { line: i as u64 + 1 },
                now,
            ));
        }
        per_page.push(start.elapsed().as_secs_f64() / lines.len() as f64);
    }
    per_page.sort_by(f64::total_cmp);
    let median = per_page[per_page.len() / 2];
    Ok(ParseBench {
        pages: lines.len(),
        rounds,
        median_page_micros: median * 1e6,
        pages_per_sec: 1.0 / median,
    })
}

/// Figures from one `bench restore` run.
#[derive(Debug, Clone, Copy, Default)]
pub struct RestoreBench {
    /// Live articles and headlines in the changelog.
    pub articles: usize,
    pub headlines: usize,
    /// Records read, superseded writes and tombstones included.
    pub records: usize,
    pub bytes: usize,
    /// Reading the records from the MockCluster and decoding them (only with
    /// `--mock`; in-process runs decode from memory).
    pub read_secs: f64,
    /// Decoding every record into the restore table (in-process runs).
    pub decode_secs: f64,
    /// Allocating the index and loading the table into it.
    pub load_secs: f64,
    pub total_secs: f64,
}

impl std::fmt::Display for RestoreBench {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "articles={} headlines={} records={} bytes={} read_s={:.2} decode_s={:.2} load_s={:.2} total_s={:.2} records_per_sec={:.0}",
            self.articles,
            self.headlines,
            self.records,
            self.bytes,
            self.read_secs,
            self.decode_secs,
            self.load_secs,
            self.total_secs,
            self.records as f64 / self.total_secs.max(1e-9)
        )
    }
}

/// A changelog as warta writes it: `articles` live articles (9 in 10 cluster
/// representatives with band keys, event times spread over six days),
/// `headlines` live headlines, and `churn` × `articles` extra records that a
/// later write supersedes (earlier versions, and ids later tombstoned), in
/// write order.
pub fn synthetic_changelog(
    articles: usize,
    headlines: usize,
    churn: f64,
) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    use warta::dedup::changelog::{ArticleState, Change, HeadlineState, StateKey};
    use warta::dedup::minhash::Compressed;
    fn mix(mut x: u64) -> u64 {
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^ (x >> 31)
    }
    const T0: u32 = 1_764_000_000;
    const SPAN: u32 = 6 * 24 * 3600;
    let article = |i: u64, version: u16| ArticleState {
        article_id: mix(i),
        cluster_id: mix(i),
        content_hash: mix(i ^ 0x5555) ^ version as u64,
        version,
        event_time: T0 + (i as u32 % SPAN),
        signature: Compressed::from_words(std::array::from_fn(|w| mix(i << 8 | w as u64))),
        band_keys: (i % 10 != 0).then(|| std::array::from_fn(|b| mix(i << 16 | 0x100 | b as u64))),
    };
    let extra = (articles as f64 * churn) as usize;
    let mut log = Vec::with_capacity(articles + headlines + extra + 1);
    // Churn first: old versions of live articles and entries later deleted.
    for j in 0..extra {
        let c = if j % 2 == 0 {
            Change::Article(Box::new(article(j as u64 % articles.max(1) as u64, 1)))
        } else {
            Change::Delete(StateKey::Article(mix(u64::MAX - j as u64)))
        };
        log.push(c.encode());
    }
    for i in 0..articles as u64 {
        log.push(Change::Article(Box::new(article(i, 2))).encode());
    }
    for i in 0..headlines as u64 {
        log.push(
            Change::Headline(HeadlineState {
                id: mix(i ^ 0xaaaa_aaaa),
                published_event_time: T0 + (i as u32 % SPAN),
                item_time: (i % 3 != 0).then_some(T0 as i64),
            })
            .encode(),
        );
    }
    log.push(
        Change::Watermark {
            instance: "bench".into(),
            event_time: T0 + SPAN,
        }
        .encode(),
    );
    log
}

fn restore_settings(settings: &Settings, articles: usize, headlines: usize) -> Arc<Settings> {
    let mut s = settings.clone();
    s.dedup.max_articles = articles.max(1);
    s.dedup.max_headlines = headlines.max(1);
    Arc::new(s)
}

/// Restores a synthetic changelog in process, from memory: decode every
/// record into the restore table, then allocate the index and load it. The
/// broker's part (fetching the bytes) is not included; see [`restore_mock`].
pub fn restore(
    settings: &Settings,
    articles: usize,
    headlines: usize,
    churn: f64,
) -> Result<RestoreBench, BenchError> {
    use warta::dedup::changelog::{Change, RestoreTable};
    let log = synthetic_changelog(articles, headlines, churn);
    let bytes = log
        .iter()
        .map(|(k, v)| k.len() + v.as_ref().map_or(0, Vec::len))
        .sum();
    let settings = restore_settings(settings, articles, headlines);
    let started = std::time::Instant::now();
    let mut table = RestoreTable::new();
    for (k, v) in &log {
        if let Ok(c) = Change::decode(k, v.as_deref()) {
            table.apply(c);
        }
    }
    let decode_secs = started.elapsed().as_secs_f64();
    let loading = std::time::Instant::now();
    let mut deduper = warta::pipeline::Deduper::new(settings)?;
    deduper.enable_changelog("bench");
    let r = deduper.restore(table);
    Ok(RestoreBench {
        articles: r.articles,
        headlines: r.headlines,
        records: log.len(),
        bytes,
        read_secs: 0.0,
        decode_secs,
        load_secs: loading.elapsed().as_secs_f64(),
        total_secs: started.elapsed().as_secs_f64(),
    })
}

/// Errors of `bench restore --mock`.
#[derive(Debug, thiserror::Error)]
pub enum RestoreBenchError {
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    #[error("the restore failed")]
    Run(#[from] warta::kafka::RunError),
    #[error(transparent)]
    Bench(#[from] BenchError),
}

/// Restores a synthetic changelog end to end through the Kafka protocol: the
/// records are produced to a `partitions`-partition topic on librdkafka's
/// MockCluster (which keeps only the last 5 MB of each partition, hence many
/// partitions), then `warta run`'s own restore reads them back and loads the
/// index. Only the restore is timed.
pub fn restore_mock(
    settings: &Settings,
    articles: usize,
    headlines: usize,
    churn: f64,
    partitions: i32,
) -> Result<RestoreBench, RestoreBenchError> {
    use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
    let log = synthetic_changelog(articles, headlines, churn);
    let bytes: usize = log
        .iter()
        .map(|(k, v)| k.len() + v.as_ref().map_or(0, Vec::len))
        .sum();
    let mock = rdkafka::mocking::MockCluster::new(1)?;
    let topic = "warta-dedup-state";
    mock.create_topic(topic, partitions, 1)?;
    let brokers = mock.bootstrap_servers();
    let producer: ThreadedProducer<DefaultProducerContext> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("linger.ms", "20")
        .set("queue.buffering.max.messages", "1000000")
        .set("batch.size", "1000000")
        .create()?;
    for (k, v) in &log {
        let mut r: BaseRecord<'_, Vec<u8>, Vec<u8>> = BaseRecord::to(topic).key(k);
        if let Some(v) = v {
            r = r.payload(v);
        }
        let mut r = r;
        loop {
            match producer.send(r) {
                Ok(()) => break,
                Err((_, back)) => {
                    r = back;
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
    }
    producer.flush(Duration::from_secs(300))?;
    let mut s = (*restore_settings(settings, articles, headlines)).clone();
    s.kafka.brokers = brokers;
    s.topics.state = topic.into();
    let settings = Arc::new(s);
    let health = warta::http::Health::new(Duration::from_secs(3600));
    let started = std::time::Instant::now();
    let mut deduper = warta::pipeline::Deduper::new(settings.clone()).map_err(BenchError::from)?;
    deduper.enable_changelog("bench");
    let r = warta::kafka::state::restore(&settings, &health, &mut deduper)?;
    let total_secs = started.elapsed().as_secs_f64();
    Ok(RestoreBench {
        articles: r.restored.articles,
        headlines: r.restored.headlines,
        records: log.len(),
        bytes,
        total_secs,
        ..Default::default()
    })
}

/// Figures from one `bench store` run: the dedup stage alone (verdicts and
/// records, parsing excluded) over the same prepared pages, with the
/// in-memory index and with the Redis store, rounds alternating.
#[derive(Debug, Clone, Default)]
pub struct StoreBench {
    pub pages: usize,
    pub rounds: usize,
    /// Median seconds per round.
    pub memory_secs: f64,
    pub redis_secs: f64,
    /// Verdict counts of the last Redis round.
    pub verdicts: std::collections::BTreeMap<&'static str, usize>,
    /// Pages of the last round whose Redis outcome differed from memory's.
    pub mismatched: usize,
}

impl std::fmt::Display for StoreBench {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let per_page = |s: f64| s / self.pages as f64 * 1e6;
        writeln!(
            f,
            "pages: {} per round ({:?}; {} differ from memory), rounds: {} each, alternating",
            self.pages, self.verdicts, self.mismatched, self.rounds
        )?;
        writeln!(
            f,
            "memory: median {:.1} µs/page ({:.0} pages/s)",
            per_page(self.memory_secs),
            self.pages as f64 / self.memory_secs
        )?;
        writeln!(
            f,
            "redis:  median {:.1} µs/page ({:.0} pages/s)",
            per_page(self.redis_secs),
            self.pages as f64 / self.redis_secs
        )?;
        write!(
            f,
            "redis/memory time: {:.1}",
            self.redis_secs / self.memory_secs
        )
    }
}

/// Why `bench store` failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreBenchError {
    #[error("cannot build the pages")]
    Corpus(#[from] crate::corpus::CorpusError),
    #[error("cannot open the dedup state")]
    Open(#[from] warta::pipeline::OpenError),
    #[error("the Redis store failed during the bench")]
    Store(#[from] warta::dedup::verdict::StoreError),
}

/// Times the dedup stage with the in-memory index and with the Redis store
/// that `settings.redis` names (each Redis round under a fresh key prefix).
/// The pages: `originals` IndoSum articles, then each one's recrawl and a copy
/// on another site.
pub fn store(
    settings: &Settings,
    corpus: &Path,
    originals: usize,
    rounds: usize,
) -> Result<StoreBench, StoreBenchError> {
    use warta::pipeline::{Deduper, Outcome, Preparer};
    let fetched = chrono::DateTime::parse_from_rfc3339("2025-12-31T05:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|_| Utc::now());
    let events = crate::corpus::indosum_events(corpus, originals, fetched)?;
    let mut pages = events.clone();
    for (i, e) in events.iter().enumerate() {
        pages.push(e.clone());
        if let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(e) {
            v["url"] = format!("https://salinan.example/{i}").into();
            pages.push(v.to_string().into_bytes());
        }
    }
    let mut memory_settings = settings.clone();
    memory_settings.dedup.store = warta::config::StoreKind::Memory;
    let memory_settings = Arc::new(memory_settings);
    let mut preparer = Preparer::new(memory_settings.clone());
    let prepared: Vec<_> = pages
        .iter()
        .map(|p| preparer.prepare(p, SourceRef::Line { line: 0 }, fetched))
        .collect();
    let mut out = StoreBench {
        pages: prepared.len(),
        rounds,
        ..StoreBench::default()
    };
    let (mut memory, mut redis) = (Vec::new(), Vec::new());
    let run = |deduper: &mut Deduper| -> Result<(f64, Vec<Outcome>), StoreBenchError> {
        let started = std::time::Instant::now();
        let mut outcomes = Vec::with_capacity(prepared.len());
        for (i, p) in prepared.iter().enumerate() {
            deduper.set_origin(i as u64 + 1);
            outcomes.push(std::hint::black_box(deduper.decide(p)).outcome);
            deduper.commit();
        }
        if let Some(e) = deduper.take_store_error() {
            return Err(e.into());
        }
        Ok((started.elapsed().as_secs_f64(), outcomes))
    };
    for round in 0..rounds.max(1) {
        let mut m = Deduper::open(memory_settings.clone())?;
        let (secs, expected) = run(&mut m)?;
        memory.push(secs);
        let mut s = settings.clone();
        s.dedup.store = warta::config::StoreKind::Redis;
        s.redis.prefix = format!("{}-bench-{}-{round}", s.redis.prefix, std::process::id());
        let mut r = Deduper::open(Arc::new(s))?;
        let (secs, outcomes) = run(&mut r)?;
        redis.push(secs);
        out.verdicts.clear();
        out.mismatched = 0;
        for (o, e) in outcomes.iter().zip(&expected) {
            let name = match o {
                Outcome::Article { verdict, .. } => verdict.as_str(),
                Outcome::HeadlinesOnly { .. } => "headlines_only",
                Outcome::Rejected(_) => "rejected",
            };
            *out.verdicts.entry(name).or_default() += 1;
            out.mismatched += usize::from(o != e);
        }
    }
    out.memory_secs = median(&mut memory);
    out.redis_secs = median(&mut redis);
    Ok(out)
}

/// Figures from one `bench changelog` run.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChangelogBench {
    pub pages: usize,
    /// Records written (entries, watermarks, tombstones) and their bytes.
    pub records: usize,
    pub bytes: usize,
    pub tombstones: usize,
    /// What compaction keeps: the last record per key, tombstoned keys dropped.
    pub live_keys: usize,
    pub live_bytes: usize,
    pub live_articles: usize,
    /// Articles in the index at the end; compaction must keep exactly these.
    pub index_articles: usize,
    pub cap: usize,
    pub secs: f64,
}

impl std::fmt::Display for ChangelogBench {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mb = |b: usize| b as f64 / 1e6;
        writeln!(f, "pages decided: {} in {:.1} s", self.pages, self.secs)?;
        writeln!(
            f,
            "changelog written: {} records ({} tombstones), {:.1} MB",
            self.records,
            self.tombstones,
            mb(self.bytes)
        )?;
        writeln!(
            f,
            "after compaction: {} keys, {:.1} MB; {} article entries, the index holds {} (cap {})",
            self.live_keys,
            mb(self.live_bytes),
            self.live_articles,
            self.index_articles,
            self.cap
        )?;
        write!(
            f,
            "bounded: {}",
            self.live_articles == self.index_articles && self.live_articles <= self.cap
        )
    }
}

/// Streams `articles × (1 + churn)` synthetic pages through a deduper with the
/// changelog on, `dedup.max_articles = articles`: `articles` distinct URLs
/// first, then the churn (updated versions of earlier URLs and new URLs, half
/// each), one page every 0.4 s of event time so that the TTL (7 days) expires
/// the oldest entries too. Compacts the written log the way Kafka does and
/// compares it with the index.
pub fn changelog(settings: &Settings, articles: usize, churn: f64) -> ChangelogBench {
    use warta::dedup::changelog::Change;
    use warta::pipeline::{Deduper, Preparer};
    let mut s = settings.clone();
    s.dedup.max_articles = articles.max(1);
    let settings = Arc::new(s);
    let mut preparer = Preparer::new(settings.clone());
    let Ok(mut deduper) = Deduper::new(settings.clone()) else {
        return ChangelogBench::default();
    };
    deduper.enable_changelog("bench");
    let total = articles + (articles as f64 * churn.max(0.0)) as usize;
    let start = chrono::DateTime::parse_from_rfc3339("2025-12-01T00:00:00Z")
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|_| Utc::now());
    let page = |i: usize| -> Vec<u8> {
        // Past the first `articles`, even pages update an earlier URL.
        let (url, version) = if i >= articles && i % 2 == 0 {
            ((i * 7919) % articles, i)
        } else {
            (i, 0)
        };
        // Words drawn from a 50,000-word vocabulary by a generator seeded
        // with the URL and version: unrelated pages share few shingles, as
        // real articles do (templated text would make every page a candidate
        // of every other).
        let mut x = (url as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ version as u64;
        let mut content = String::with_capacity(400);
        for w in 0..60 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            content.push_str(&format!("k{} ", x % 50_000));
            if w % 12 == 11 {
                content.push_str(".\n");
            }
        }
        let t = start + chrono::Duration::milliseconds(i as i64 * 400);
        serde_json::json!({
            "url": format!("https://contoh.id/berita/{url}"),
            "fetched_at": t.to_rfc3339(),
            "content": content,
        })
        .to_string()
        .into_bytes()
    };
    let mut out = ChangelogBench {
        pages: total,
        cap: articles,
        ..ChangelogBench::default()
    };
    let mut live: std::collections::HashMap<Vec<u8>, usize> = std::collections::HashMap::new();
    let mut write = |changes: Vec<Change>, out: &mut ChangelogBench| {
        for c in changes {
            let (k, v) = c.encode();
            out.records += 1;
            out.bytes += k.len() + v.as_ref().map_or(0, Vec::len);
            match v {
                Some(v) => {
                    live.insert(k, v.len());
                }
                None => {
                    out.tombstones += 1;
                    live.remove(&k);
                }
            }
        }
    };
    let started = std::time::Instant::now();
    let mut i = 0;
    while i < total {
        let end = (i + 500).min(total);
        for j in i..end {
            let p = preparer.prepare(&page(j), SourceRef::Line { line: j as u64 }, start);
            deduper.decide(&p);
        }
        write(deduper.changes(), &mut out);
        deduper.commit();
        i = end;
    }
    // One more (empty) batch carries the last commit's tombstones.
    write(deduper.changes(), &mut out);
    deduper.commit();
    out.secs = started.elapsed().as_secs_f64();
    out.live_keys = live.len();
    out.live_bytes = live.iter().map(|(k, v)| k.len() + v).sum();
    out.live_articles = live.keys().filter(|k| k.starts_with(b"a:")).count();
    out.index_articles = deduper.article_stats().live;
    out
}

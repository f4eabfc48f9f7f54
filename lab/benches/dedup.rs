//! Dedup benchmarks: MinHash fingerprinting plus lookup and insert against an
//! `ArticleIndex` holding 1,000,000 articles, and the index's memory under churn.
//!
//! Articles are synthetic: 400 words in 8 paragraphs, drawn from a fixed 50,000-word
//! vocabulary with Zipf-like frequencies by a seeded generator, so every run sees
//! the same data. Targets (issue: near-duplicate detection):
//! - `dedup/pipeline/fresh`: fingerprint + best_match + insert ≥ 100,000 articles/s
//!   on one core against a full 1,000,000-article index;
//! - memory per indexed article at 1,000,000 ≤ 200 bytes;
//! - memory flat over 5,000,000 inserts with a 1,000,000 cap.
//!
//! The memory figures are printed to stderr. `cargo bench -p warta-lab --bench dedup` runs
//! everything (about 3 minutes on one core, most of it the pre-fill and the 5M
//! churn); set `DEDUP_BENCH_SKIP=churn` or `DEDUP_BENCH_SKIP=index` (see [`skip`])
//! for quicker runs.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput};
use warta::dedup::index::{ArticleIndex, IndexConfig, NewSlot};
use warta::dedup::minhash::{Fingerprinter, ShingleConfig};

const VOCABULARY: usize = 50_000;
const RANK_BITS: u32 = 20;
const WORDS: usize = 400;
const PARAGRAPHS: usize = 8;
const CAPACITY: usize = 1_000_000;
const TOTAL_CHURN: usize = 5_000_000;
const THRESHOLD: f64 = 0.5;
/// Event time of the first article; the clock advances as articles arrive.
const T0: u32 = 1_760_000_000;

struct Corpus {
    vocabulary: Vec<String>,
    /// Inverse CDF of the rank distribution, sampled at 2^20 points: drawing a
    /// word is then one table lookup instead of a `powf`.
    ranks: Vec<u16>,
    rng: fastrand::Rng,
}

impl Corpus {
    fn new(seed: u64) -> Self {
        let mut rng = fastrand::Rng::with_seed(seed);
        let vocabulary = (0..VOCABULARY)
            .map(|_| {
                let len = 2 + rng.usize(..5) + rng.usize(..5);
                (0..len)
                    .map(|_| (b'a' + rng.usize(..26) as u8) as char)
                    .collect()
            })
            .collect();
        // Rank with probability roughly proportional to 1/rank: log-uniform.
        let ranks = (0..1u32 << RANK_BITS)
            .map(|q| {
                let u = (q as f64 + 0.5) / (1u64 << RANK_BITS) as f64;
                let rank = ((VOCABULARY as f64 + 1.0).powf(u) - 1.0) as usize;
                rank.min(VOCABULARY - 1) as u16
            })
            .collect();
        Self {
            vocabulary,
            ranks,
            rng,
        }
    }

    fn word_index(&mut self) -> usize {
        self.ranks[(self.rng.u64(..) >> (64 - RANK_BITS)) as usize] as usize
    }

    fn word(&mut self) -> &str {
        let i = self.word_index();
        &self.vocabulary[i]
    }

    fn article(&mut self) -> Vec<String> {
        (0..PARAGRAPHS)
            .map(|_| {
                let mut p = String::with_capacity(WORDS / PARAGRAPHS * 8);
                for i in 0..WORDS / PARAGRAPHS {
                    if i > 0 {
                        p.push(' ');
                    }
                    let w = self.word_index();
                    p.push_str(&self.vocabulary[w]);
                }
                p
            })
            .collect()
    }

    /// `original` with about 5% of its words replaced: a near-duplicate (J ≈ 0.75).
    fn edit(&mut self, original: &[String]) -> Vec<String> {
        original
            .iter()
            .map(|p| {
                let words: Vec<String> = p
                    .split(' ')
                    .map(|w| {
                        if self.rng.usize(..20) == 0 {
                            self.word().to_owned()
                        } else {
                            w.to_owned()
                        }
                    })
                    .collect();
                words.join(" ")
            })
            .collect()
    }
}

/// The work per incoming article: expire, fingerprint, look up, insert. Inserted
/// into the bands only when it matched nothing, as a caller keeping only cluster
/// representatives in the bands would.
struct Pipeline {
    index: ArticleIndex,
    fingerprinter: Fingerprinter,
    next_id: u64,
    now: u32,
}

impl Pipeline {
    fn new() -> Self {
        let cfg = IndexConfig {
            capacity: CAPACITY,
            ..IndexConfig::default()
        };
        Self {
            index: ArticleIndex::new(cfg).expect("valid bench capacity"),
            fingerprinter: Fingerprinter::new(ShingleConfig::default()),
            next_id: 0,
            now: T0,
        }
    }

    fn process(&mut self, article: &[String]) -> Option<u64> {
        self.index.expire(self.now);
        let sig = self.fingerprinter.signature(article);
        let cluster = self
            .index
            .best_match(&sig, self.now, THRESHOLD)
            .map(|(m, _)| m.cluster_id);
        self.next_id += 1;
        self.index.insert(NewSlot {
            article_id: self.next_id,
            cluster_id: cluster.unwrap_or(self.next_id),
            content_hash: self.next_id,
            version: 1,
            event_time: self.now,
            signature: &sig,
            in_bands: cluster.is_none(),
        });
        cluster
    }
}

fn rss_bytes() -> u64 {
    // Second field of statm: resident pages (4 KiB on the machines we run on).
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn report(p: &Pipeline, inserted: usize, started: Instant) {
    let stats = p.index.stats();
    eprintln!(
        "dedup/memory inserted={inserted:>9} live={:>9} expired={:>9} evicted={:>9} \
         sweeps={:>4} memory_bytes={:>11} ({:.1} B/slot of capacity) rss={:>5} MiB  [{:.1}s]",
        stats.live,
        stats.expired_total,
        stats.evicted_total,
        stats.table_sweeps,
        stats.memory_bytes,
        stats.memory_bytes as f64 / CAPACITY as f64,
        rss_bytes() >> 20,
        started.elapsed().as_secs_f64(),
    );
}

/// Whether a slow stage should be skipped: `DEDUP_BENCH_SKIP=churn` skips the
/// 5M-insert churn run, `DEDUP_BENCH_SKIP=index` the pre-fill, the pipeline
/// benches and the churn (for quick fingerprinting or profiling runs).
fn skip(stage: &str) -> bool {
    std::env::var("DEDUP_BENCH_SKIP").is_ok_and(|v| v.split(',').any(|s| s.trim() == stage))
}

fn main() {
    let mut criterion = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();

    let mut corpus = Corpus::new(0x5eed);
    let mut group = criterion.benchmark_group("dedup");
    group.throughput(Throughput::Elements(1));
    group.bench_function("fingerprint", |b| {
        let mut fp = Fingerprinter::new(ShingleConfig::default());
        b.iter_batched(
            || corpus.article(),
            |article| {
                black_box(fp.signature(&article));
                article
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
    if skip("index") {
        criterion.final_summary();
        return;
    }

    let mut pipeline = Pipeline::new();
    eprintln!("dedup/memory empty index: rss={} MiB", rss_bytes() >> 20);

    // Pre-fill to capacity. Event time advances a quarter second per article, so
    // the million span under 3 days and nothing expires yet.
    let started = Instant::now();
    let mut recent: Vec<Vec<String>> = Vec::new();
    for i in 0..CAPACITY {
        let article = corpus.article();
        pipeline.now = T0 + (i / 4) as u32;
        pipeline.process(&article);
        if i >= CAPACITY - 10_000 {
            recent.push(article);
        }
    }
    let rate = CAPACITY as f64 / started.elapsed().as_secs_f64();
    eprintln!("dedup/prefill {CAPACITY} articles, generation included: {rate:.0} articles/s");
    report(&pipeline, CAPACITY, started);
    let stats = pipeline.index.stats();
    eprintln!(
        "dedup/memory at {CAPACITY} articles: {} bytes/article (target ≤ 200)",
        stats.memory_bytes / CAPACITY
    );

    let mut group = criterion.benchmark_group("dedup");
    group.throughput(Throughput::Elements(1));
    // Fresh articles, generated outside the timed routine. One input per timed
    // call (PerIteration) so the text is in cache as it is in production, where
    // the parser has just produced it; the per-call timer overhead is well under
    // 1% of a ~10 µs routine.
    group.bench_function("pipeline/fresh", |b| {
        b.iter_batched(
            || corpus.article(),
            |article| {
                black_box(pipeline.process(&article));
                article
            },
            BatchSize::PerIteration,
        )
    });
    // Edited copies of indexed articles: every lookup verifies and matches.
    let mut k = 0;
    group.bench_function("pipeline/near_duplicate", |b| {
        b.iter_batched(
            || {
                k = (k + 1) % recent.len();
                corpus.edit(&recent[k])
            },
            |article| {
                black_box(pipeline.process(&article));
                article
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
    let matched = recent
        .iter()
        .take(1_000)
        .map(|a| corpus.edit(a))
        .filter(|a| pipeline.process(a).is_some())
        .count();
    eprintln!("dedup/recall edited copies (~5% words replaced) matched: {matched}/1000");
    let mut out = Vec::new();
    let candidates: usize = (0..1_000)
        .map(|_| {
            let sig = pipeline.fingerprinter.signature(&corpus.article());
            pipeline.index.candidates(&sig, pipeline.now, &mut out);
            out.len()
        })
        .sum();
    eprintln!(
        "dedup/candidates per fresh article (false positives to verify): {:.3}",
        candidates as f64 / 1_000.0
    );

    if skip("churn") {
        criterion.final_summary();
        return;
    }
    // Churn to 5,000,000 inserts. The clock now advances one second per article,
    // so the 7-day TTL (604,800 s) starts expiring slots once ~600k churn inserts
    // have passed; before that the cap evicts.
    let started = Instant::now();
    let mut next_report = (pipeline.next_id as usize / 1_000_000 + 1) * 1_000_000;
    while (pipeline.next_id as usize) < TOTAL_CHURN {
        let article = corpus.article();
        pipeline.now += 1;
        pipeline.process(&article);
        let inserted = pipeline.next_id as usize;
        if inserted == next_report {
            report(&pipeline, inserted, started);
            next_report += 1_000_000;
        }
    }
    criterion.final_summary();
}

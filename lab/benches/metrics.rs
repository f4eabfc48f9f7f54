//! What the Prometheus metrics cost: the stateless and dedup stages over 1,200
//! IndoSum pages in batches of 200, with exactly the metric calls `warta run`
//! makes, once with no recorder (every call a no-op) and once with warta's
//! Prometheus recorder (rendered once per round, as a scrape would). Both run
//! side by side in one process, first as 40 interleaved off/on pairs (the
//! printed ratio of medians), then as two criterion groups; the target is a
//! ratio under 1.02.
//!
//! `cargo bench -p warta-lab --bench metrics`

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use warta::config::{Settings, Sources};
use warta::event::SourceRef;
use warta::metrics::{self as m, BatchTally};
use warta::pipeline::{Deduper, Preparer};
use warta_lab::corpus;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-12-31T05:15:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn pages() -> Vec<Vec<u8>> {
    let dir = warta_lab::repo_root().join(corpus::INDOSUM_DIR);
    corpus::indosum_events(&dir, 1200, now()).expect("IndoSum corpus in ../shared")
}

/// One round: every page through both stages, instrumented as the service
/// instruments a batch (src/kafka/service.rs: flush_batch, prepare_parallel).
fn round(settings: &Arc<Settings>, pages: &[Vec<u8>]) {
    let mut preparer = Preparer::new(settings.clone());
    let mut deduper = Deduper::new(settings.clone()).expect("index");
    for batch in pages.chunks(200) {
        let mut tally = BatchTally::default();
        let timers = m::StageTimers::default();
        let bytes: usize = batch.iter().map(Vec::len).sum();
        m::consumed("raw-pages", batch.len() as u64, bytes as u64);
        for (i, bytes) in batch.iter().enumerate() {
            let started = Instant::now();
            let source = SourceRef::Line { line: i as u64 };
            let prepared = preparer.prepare(bytes, source, now());
            timers.parse(started.elapsed());
            let started = Instant::now();
            let processed = deduper.decide(&prepared);
            timers.dedup(started.elapsed());
            tally.add(&prepared, &processed);
            black_box(processed);
        }
        deduper.commit();
        tally.committed(now());
        let a = deduper.article_stats();
        m::index(
            a.live,
            deduper.headline_count(),
            a.memory_bytes,
            (a.evicted_total, 0),
        );
    }
}

fn bench(c: &mut Criterion) {
    let env = [
        ("WARTA__DEDUP__MAX_ARTICLES", "20000"),
        ("WARTA__DEDUP__MAX_HEADLINES", "50000"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let settings = Arc::new(
        Settings::load(Sources {
            file: None,
            env: Some(env),
        })
        .expect("settings"),
    );
    let pages = pages();
    let recorder = warta::http::builder().expect("builder").build_recorder();
    let handle = recorder.handle();
    metrics::with_local_recorder(&recorder, || m::register(&["raw-pages".to_string()]));

    // Interleaved rounds first: on a noisy machine, load drifts between
    // criterion's two back-to-back groups; alternating off/on pairs sees the
    // same drift on both sides.
    let (mut off, mut on) = (Vec::new(), Vec::new());
    for _ in 0..40 {
        let t = Instant::now();
        round(&settings, &pages);
        off.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        metrics::with_local_recorder(&recorder, || round(&settings, &pages));
        black_box(handle.render());
        on.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let (off, on) = (
        warta::loadgen::median(&mut off),
        warta::loadgen::median(&mut on),
    );
    println!(
        "interleaved, 40 pairs of 1,200 pages: median off {off:.2} ms, on {on:.2} ms, on/off {:.4}",
        on / off
    );

    let mut g = c.benchmark_group("metrics");
    g.throughput(Throughput::Elements(pages.len() as u64));
    g.sample_size(30);
    g.bench_function("off", |b| b.iter(|| round(&settings, &pages)));
    g.bench_function("on", |b| {
        b.iter(|| {
            metrics::with_local_recorder(&recorder, || round(&settings, &pages));
            black_box(handle.render());
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Parse benchmarks: the seed page and 1,000+ text pages built from real
//! Indonesian news (IndoSum, ../shared/corpora/indosum-dev) in several invented
//! site templates. Target: ≥ 20,000 seed-sized pages/s on one core (< 50 µs/page).
//!
//! `cargo bench -p warta-lab --bench parse`

use std::hint::black_box;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use warta::config::Settings;
use warta::event::{InputLimits, Page, SourceRef};
use warta::parse::{Parser, SiteHints};
use warta::pipeline::Pipeline;
use warta_lab::corpus;

// The binary runs on mimalloc; measure the same allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-12-31T05:15:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn seed_bytes() -> Vec<u8> {
    let path = warta_lab::repo_root().join("tests/fixtures/seed.jsonl");
    let mut b = std::fs::read(path).expect("seed fixture");
    while b.last() == Some(&b'\n') {
        b.pop();
    }
    b
}

/// 1,200 pages: IndoSum articles rendered in the three templates, each with a
/// sidebar of other articles' titles.
fn corpus_pages() -> Vec<Vec<u8>> {
    let dir = warta_lab::repo_root().join(corpus::INDOSUM_DIR);
    corpus::indosum_events(&dir, 1200, now()).expect("IndoSum corpus in ../shared")
}

fn bench(c: &mut Criterion) {
    let settings = Arc::new(Settings::defaults().expect("defaults"));
    let limits = InputLimits {
        max_content_bytes: 10 << 20,
        ..InputLimits::default()
    };
    let seed = seed_bytes();
    let seed_page = Page::from_bytes(&seed, limits, now()).expect("seed is valid");
    let hints = SiteHints::default();

    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Elements(1));
    let mut parser = Parser::new();
    g.bench_function("seed", |b| {
        b.iter(|| parser.parse(black_box(&seed_page), &hints))
    });
    let mut pipeline = Pipeline::new(settings.clone()).expect("index");
    g.bench_function("seed_pipeline", |b| {
        b.iter(|| pipeline.process(black_box(&seed), SourceRef::Line { line: 1 }, now()))
    });
    g.finish();

    let pages = corpus_pages();
    assert!(
        pages.len() >= 1000,
        "need 1,000 corpus pages, got {}",
        pages.len()
    );
    let parsed_pages: Vec<Page> = pages
        .iter()
        .map(|p| Page::from_bytes(p, limits, now()).expect("corpus page is valid"))
        .collect();
    let mut g = c.benchmark_group("parse_indosum");
    g.throughput(Throughput::Elements(parsed_pages.len() as u64));
    g.sample_size(20);
    g.bench_function("pages", |b| {
        b.iter(|| {
            for p in &parsed_pages {
                black_box(parser.parse(p, &hints));
            }
        })
    });
    g.bench_function("pipeline", |b| {
        b.iter(|| {
            for p in &pages {
                black_box(pipeline.process(p, SourceRef::Line { line: 1 }, now()));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! HTML parse benchmark: the 181 pages of the Zyte article-extraction benchmark
//! (../shared/corpora/scrapinghub-aeb, median 115 KB of HTML), parse only —
//! pages are read, decoded and validated before timing. Target: median ≤ 2 ms
//! per page on one core.
//!
//! `cargo bench -p warta-lab --bench html` prints criterion's time for the whole set (mean
//! per page = time / 181) and, first, the median of per-page times.

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use warta::event::Page;
use warta::parse::{Parser, SiteHints};
use warta_lab::eval_html::{aeb_pages, html_page};

// The binary runs on mimalloc; measure the same allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn pages() -> Vec<Page> {
    let dir = warta_lab::repo_root().join("../shared/corpora/scrapinghub-aeb");
    aeb_pages(&dir)
        .expect("AEB corpus in ../shared")
        .iter()
        .map(|(_, url, html, _)| html_page(url, html, "2020-01-01T00:00:00Z").expect("valid"))
        .collect()
}

fn bench(c: &mut Criterion) {
    let pages = pages();
    let hints = SiteHints::default();
    let mut parser = Parser::new();

    // Median of per-page times over 20 rounds (after one warm-up round).
    let mut times = Vec::with_capacity(pages.len() * 20);
    for round in 0..21 {
        for p in &pages {
            let t = Instant::now();
            black_box(parser.parse(black_box(p), &hints));
            if round > 0 {
                times.push(t.elapsed().as_secs_f64() * 1e3);
            }
        }
    }
    times.sort_by(f64::total_cmp);
    let q = |f: f64| times[((times.len() - 1) as f64 * f) as usize];
    let sizes: Vec<usize> = {
        let mut s: Vec<usize> = pages.iter().map(|p| p.content.len()).collect();
        s.sort();
        s
    };
    println!(
        "html/aeb per page: median {:.3} ms, p90 {:.3} ms, p99 {:.3} ms over {} pages (median {} KB of HTML)",
        q(0.5),
        q(0.9),
        q(0.99),
        pages.len(),
        sizes[sizes.len() / 2] / 1024
    );

    let mut g = c.benchmark_group("html");
    g.throughput(Throughput::Elements(pages.len() as u64));
    g.sample_size(20);
    g.bench_function("aeb_181_pages", |b| {
        b.iter(|| {
            for p in &pages {
                black_box(parser.parse(black_box(p), &hints));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Hostile page shapes on doubling inputs: each shape at N, 2N, 4N and 8N,
//! where 8N stays under the 10 MiB page limit, through the whole stateless
//! stage (JSON validation, parse, fingerprint: `Preparer::prepare`). Linear
//! time shows as a ratio near 2 per doubling; the acceptance bound is 2.3.
//!
//! Besides criterion's report, the run prints a markdown table of the median
//! per size and the ratio per doubling (medians of the same run, measured side
//! by side), which docs/performance.md quotes.
//!
//! `cargo bench -p warta-lab --bench hostile` (`-- <shape>` for one shape)

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use criterion::{BenchmarkId, Criterion};
use warta::config::Settings;
use warta::event::SourceRef;
use warta::pipeline::{Prepared, Preparer};

// The binary runs on mimalloc; measure the same allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-12-31T06:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// A few distinct words for item `i`: pages of distinct lines defeat any
/// shortcut an exact-repeat check would take.
fn words(i: usize, n: usize) -> String {
    let mut x = (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (0..n)
        .map(|_| {
            x ^= x >> 29;
            x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
            format!("k{:x}", x >> 40)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A page shape: its name, N, and the page content for a size.
struct Shape {
    name: &'static str,
    base: usize,
    html: bool,
    content: fn(usize) -> String,
}

const SHAPES: &[Shape] = &[
    Shape {
        name: "attributes",
        base: 100_000,
        html: true,
        content: |n| {
            let mut s = String::from("<html><body><div");
            for i in 0..n {
                s.push_str(&format!(" a{i}=1"));
            }
            s.push_str(
                "><p>Isi berita yang cukup panjang untuk sebuah paragraf.</p></div></body></html>",
            );
            s
        },
    },
    Shape {
        name: "elements",
        base: 64_000,
        html: true,
        content: |n| format!("<html><body>{}</body></html>", "<span>x</span>".repeat(n)),
    },
    Shape {
        name: "attribute_value",
        base: 1 << 20,
        html: true,
        content: |n| {
            format!(
                "<html><body><div title=\"{}\"><p>Isi berita yang cukup panjang.</p></div></body></html>",
                "v".repeat(n)
            )
        },
    },
    Shape {
        name: "text_run",
        base: 1 << 20,
        html: true,
        content: |n| format!("<html><body><p>{}</p></body></html>", "kata ".repeat(n / 5)),
    },
    Shape {
        name: "html_paragraphs",
        base: 16_000,
        html: true,
        content: |n| {
            let mut s = String::from("<html><body>");
            for i in 0..n {
                s.push_str(&format!("<p><a href=\"/x{i}\">{}</a></p>", words(i, 5)));
            }
            s.push_str("</body></html>");
            s
        },
    },
    Shape {
        name: "text_lines",
        base: 10_000,
        html: false,
        content: |n| {
            let mut s = String::from("Judul Berita Hari Ini\n");
            for i in 0..n {
                s.push_str(&words(i, 8));
                s.push_str(".\n");
            }
            s
        },
    },
    Shape {
        name: "list_items",
        base: 10_000,
        html: true,
        content: |n| {
            let mut s = String::from("<html><body><ul>");
            for i in 0..n {
                s.push_str(&format!(
                    "<li><a href=\"/a{i}\">Judul berita nomor {i} hari ini</a> <span>Rabu, 31 Desember 2025 | 12:10</span></li>"
                ));
            }
            s.push_str("</ul></body></html>");
            s
        },
    },
    Shape {
        name: "headline_pairs",
        base: 16_000,
        html: false,
        content: |n| {
            let mut s = String::new();
            for i in 0..n {
                s.push_str(&format!(
                    "Judul berita nomor {i} hari ini\nRabu, 31 Desember 2025 | 12:10\n"
                ));
            }
            s
        },
    },
    Shape {
        name: "meta_json_ld",
        base: 5_000,
        html: true,
        content: |n| {
            let mut s = String::from("<html><head>");
            for i in 0..n {
                s.push_str(&format!(
                    "<meta property=\"og:title\" content=\"Judul {i}\"><script type=\"application/ld+json\">{{\"@type\":\"NewsArticle\",\"headline\":\"Judul {i}\",\"datePublished\":\"2025-12-31T12:10:00+07:00\"}}</script>"
                ));
            }
            s.push_str("</head><body><p>Isi berita yang cukup panjang untuk sebuah paragraf.</p></body></html>");
            s
        },
    },
    Shape {
        name: "deep_nesting",
        base: 200_000,
        html: true,
        content: |n| {
            format!(
                "<html><body>{}<p>Isi berita.</p></body></html>",
                "<div>".repeat(n)
            )
        },
    },
];

/// Per shape and size: the per-page time of each criterion sample.
type Samples = BTreeMap<(&'static str, usize), Vec<Duration>>;

fn bench(c: &mut Criterion, samples: &Mutex<Samples>) {
    let settings = Arc::new(Settings::defaults().expect("defaults"));
    let limit = settings.input.max_content_bytes;
    for shape in SHAPES {
        let mut g = c.benchmark_group(format!("hostile_{}", shape.name));
        g.sample_size(10);
        g.warm_up_time(Duration::from_millis(500));
        g.measurement_time(Duration::from_secs(3));
        for k in [1, 2, 4, 8] {
            let n = shape.base * k;
            let content = (shape.content)(n);
            assert!(
                content.len() <= limit,
                "{} at {n} is {} bytes, over the page limit",
                shape.name,
                content.len()
            );
            let event = serde_json::json!({
                "url": "https://example.id/berita/1",
                "fetched_at": "2025-12-31T05:00:00Z",
                "content_type": if shape.html { "text/html" } else { "text/plain" },
                "content": content,
            });
            let bytes = serde_json::to_vec(&event).expect("json");
            let mut preparer = Preparer::new(settings.clone());
            // Every shape must be processed, not rejected on the way (a
            // rejection would be fast for the wrong reason).
            if let Prepared::Rejected(r) =
                preparer.prepare(&bytes, SourceRef::Line { line: 1 }, now())
            {
                panic!("{} at {n} was rejected: {:?}", shape.name, r.outcome);
            }
            g.bench_with_input(BenchmarkId::from_parameter(n), &bytes, |b, bytes| {
                b.iter_custom(|iters| {
                    let t = Instant::now();
                    for _ in 0..iters {
                        black_box(preparer.prepare(
                            black_box(bytes),
                            SourceRef::Line { line: 1 },
                            now(),
                        ));
                    }
                    let elapsed = t.elapsed();
                    samples
                        .lock()
                        .unwrap()
                        .entry((shape.name, n))
                        .or_default()
                        .push(elapsed / iters.max(1) as u32);
                    elapsed
                })
            });
        }
        g.finish();
    }
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let samples = Mutex::new(Samples::new());
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c, &samples);
    c.final_summary();

    let mut samples = samples.into_inner().unwrap();
    if samples.is_empty() {
        return;
    }
    println!("\n| shape | N | median at N, 2N, 4N, 8N | ratio per doubling |");
    println!("|---|---|---|---|");
    let mut worst = 0.0f64;
    for shape in SHAPES {
        let sizes: Vec<usize> = [1, 2, 4, 8].iter().map(|k| shape.base * k).collect();
        let medians: Vec<Duration> = sizes
            .iter()
            .filter_map(|n| samples.get_mut(&(shape.name, *n)).map(|v| median(v)))
            .collect();
        if medians.len() != sizes.len() {
            continue;
        }
        let ratios: Vec<f64> = medians
            .windows(2)
            .map(|w| w[1].as_secs_f64() / w[0].as_secs_f64())
            .collect();
        worst = ratios.iter().copied().fold(worst, f64::max);
        println!(
            "| {} | {} | {} | {} |",
            shape.name,
            shape.base,
            medians
                .iter()
                .map(|m| format!("{:.2} ms", m.as_secs_f64() * 1e3))
                .collect::<Vec<_>>()
                .join(", "),
            ratios
                .iter()
                .map(|r| format!("{r:.2}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    println!("\nworst ratio per doubling: {worst:.2} (bound 2.3)");
}

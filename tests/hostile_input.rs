//! Hostile input, bounded: one event cannot poison the dedup state through its
//! event time, a page cannot buy unbounded work or output, an oversized line
//! costs its cap in memory and still reaches the dead-letter output, and a
//! write error on stdout fails the run instead of reporting success.

mod common;

use std::collections::BTreeMap;
use std::io::Write as _;

use chrono::{DateTime, Utc};
use common::*;
use warta::event::{ArticleVerdict, RejectCode, SourceRef};
use warta::pipeline::{Outcome, Payload, Pipeline};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// A text page with an article body: a title and three paragraphs of words
/// drawn from `seed`, so pages of different seeds share no shingles.
fn article(seed: &str) -> String {
    let mut x = seed.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let mut word = || {
        x ^= x >> 29;
        x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
        format!("kata{:x}", x >> 44)
    };
    let mut para = |n: usize| {
        let words: Vec<String> = (0..n).map(|_| word()).collect();
        format!("{}.", words.join(" "))
    };
    let body = [para(25), para(30), para(28)].join("\n");
    format!("Judul Berita {seed} Yang Cukup Panjang\nJakarta - {body}")
}

fn verdict(outcome: Outcome) -> Result<ArticleVerdict, RejectCode> {
    match outcome {
        Outcome::Article { verdict, .. } => Ok(verdict),
        Outcome::Rejected(code) => Err(code),
        Outcome::HeadlinesOnly { .. } => panic!("expected an article page"),
    }
}

fn settings(pairs: &[(&str, &str)]) -> std::sync::Arc<warta::config::Settings> {
    settings_from_env(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
    )
}

/// A pipeline fed one page at a time, read at 06:00 on 2025-12-31; returns
/// each page's verdict or rejection code.
fn feeder(
    env: &[(&str, &str)],
) -> impl FnMut(&str, &str, &str) -> Result<ArticleVerdict, RejectCode> {
    let mut p = Pipeline::new(settings(env)).unwrap();
    let now = at("2025-12-31T06:00:00Z");
    let mut line = 0;
    move |url, fetched_at, content| {
        line += 1;
        let bytes = page_line(url, fetched_at, content);
        verdict(
            p.process(bytes.as_bytes(), SourceRef::Line { line }, now)
                .outcome,
        )
    }
}

/// The poison sequence of issue 16: a page dated 9999 used to move the expiry
/// watermark past every entry, so a copy came out `new` and a recrawl was
/// republished as version 1.
#[test]
fn a_page_from_the_future_cannot_expire_the_dedup_state() {
    let mut run = feeder(&[]);
    let a = article("Sukamaju");
    assert_eq!(
        run("https://a.id/1", "2025-12-31T05:00:00Z", &a),
        Ok(ArticleVerdict::New)
    );
    assert_eq!(
        run(
            "https://b.id/2",
            "9999-12-31T00:00:00Z",
            &article("Sukamundur")
        ),
        Err(RejectCode::FetchedAtInFuture)
    );
    // Eight days ahead is as bad as 9999 for a seven-day TTL.
    assert_eq!(
        run(
            "https://b.id/3",
            "2026-01-08T06:00:00Z",
            &article("Sukamundur")
        ),
        Err(RejectCode::FetchedAtInFuture)
    );
    assert_eq!(
        run("https://c.id/3", "2025-12-31T05:30:00Z", &a),
        Ok(ArticleVerdict::Duplicate)
    );
    assert_eq!(
        run("https://a.id/1", "2025-12-31T05:45:00Z", &a),
        Ok(ArticleVerdict::Unchanged)
    );
}

/// A page fetched longer ago than the TTL is judged, but recording it would
/// evict a live entry from a full index.
#[test]
fn a_page_older_than_the_ttl_evicts_nothing() {
    let mut run = feeder(&[("WARTA__DEDUP__MAX_ARTICLES", "2")]);
    let (a, b, old) = (article("Satu"), article("Dua"), article("Lama"));
    assert_eq!(
        run("https://a.id/1", "2025-12-31T04:00:00Z", &a),
        Ok(ArticleVerdict::New)
    );
    assert_eq!(
        run("https://a.id/2", "2025-12-31T05:00:00Z", &b),
        Ok(ArticleVerdict::New)
    );
    assert_eq!(
        run("https://a.id/old", "2025-12-01T05:00:00Z", &old),
        Ok(ArticleVerdict::New)
    );
    assert_eq!(
        run("https://a.id/1", "2025-12-31T05:30:00Z", &a),
        Ok(ArticleVerdict::Unchanged),
        "the stale page evicted a live entry"
    );
}

#[test]
fn headlines_per_page_are_capped() {
    let mut text = String::new();
    for i in 0..700 {
        text.push_str(&format!(
            "Judul berita nomor {i} hari ini\nRabu, 31 Desember 2025 | 12:10\n"
        ));
    }
    let mut p = Pipeline::new(settings(&[])).unwrap();
    let bytes = page_line("https://a.id/indeks", "2025-12-31T06:00:00Z", &text);
    let out = p.process(
        bytes.as_bytes(),
        SourceRef::Line { line: 1 },
        at("2025-12-31T06:00:00Z"),
    );
    let headlines = out
        .records
        .iter()
        .filter(|r| matches!(r.payload, Payload::Headline(_)))
        .count();
    assert_eq!(headlines, 500);
}

#[test]
fn a_page_over_its_work_budget_is_dead_lettered() {
    let mut p = Pipeline::new(settings(&[("WARTA__PARSE__MAX_WORK_UNITS", "1000")])).unwrap();
    let html = format!(
        "<html><body>{}</body></html>",
        "<p>Isi berita yang cukup panjang untuk sebuah paragraf.</p>".repeat(2000)
    );
    let bytes = page_line("https://a.id/1", "2025-12-31T06:00:00Z", &html);
    let out = p.process(
        bytes.as_bytes(),
        SourceRef::Line { line: 1 },
        at("2025-12-31T06:00:00Z"),
    );
    assert_eq!(
        out.outcome,
        Outcome::Rejected(RejectCode::ParseBudgetExceeded)
    );
    // The next page starts with a full budget.
    let bytes = page_line(
        "https://a.id/2",
        "2025-12-31T06:00:00Z",
        &article("Berikut"),
    );
    let out = p.process(
        bytes.as_bytes(),
        SourceRef::Line { line: 2 },
        at("2025-12-31T06:00:00Z"),
    );
    assert!(matches!(out.outcome, Outcome::Article { .. }));
}

#[test]
fn a_line_over_the_cap_keeps_its_head_length_and_hash_and_the_run_continues() {
    let long = page_line(
        "https://a.id/long",
        "2025-12-31T06:00:00Z",
        &"x".repeat(9000),
    );
    let good = page_line("https://a.id/ok", "2025-12-31T06:00:00Z", &article("Baik"));
    let stdin = format!("{long}\r\n{good}\n");
    let run = process_stdin(
        stdin.as_bytes(),
        &[
            ("WARTA__INPUT__MAX_LINE_BYTES", "2048"),
            ("WARTA__INPUT__MAX_CONTENT_BYTES", "1024"),
        ],
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    let dlq = on_topic(&run.records, "raw-pages-dlq");
    assert_eq!(dlq.len(), 1);
    assert_eq!(dlq[0]["code"], "input_too_large");
    assert_eq!(dlq[0]["source"]["line"], 1);
    assert_eq!(dlq[0]["input"].as_str().unwrap(), &long[..2048]);
    assert_eq!(dlq[0]["input_length"], long.len() as u64);
    assert_eq!(
        dlq[0]["input_xxh3"],
        format!("{:016x}", xxhash_rust::xxh3::xxh3_64(long.as_bytes()))
    );
    assert_eq!(on_topic(&run.records, "clean-articles").len(), 1);
}

#[test]
fn a_closed_or_full_stdout_fails_the_run() {
    let dir = std::env::temp_dir().join(format!("warta-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("pages.jsonl");
    let mut f = std::fs::File::create(&input).unwrap();
    for i in 0..50 {
        writeln!(
            f,
            "{}",
            page_line(
                &format!("https://a.id/{i}"),
                "2025-12-31T06:00:00Z",
                &article(&format!("Kota{i}"))
            )
        )
        .unwrap();
    }
    drop(f);
    let bin = env!("CARGO_BIN_EXE_warta");
    for redirect in [">&-", ">/dev/full"] {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("exec \"$0\" process \"$1\" {redirect}"))
            .arg(bin)
            .arg(&input)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{redirect}: {stderr}");
        assert!(
            stderr.contains("stdout") || stderr.contains("output"),
            "{redirect}: {stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

//! Variants of the seed page the parser was not tuned on. Each must give the same
//! article and headlines as the seed itself (or exactly the documented difference).

mod common;

use common::*;
use serde_json::Value;

const URL: &str = "https://rmol.id/read/2021/10/08/kazakhstan-lsm-aktif";
const FETCHED: &str = "2025-12-31T05:15:00Z";

/// Runs one page and returns (article, headlines).
fn run_page(content: &str) -> (Value, Vec<Value>) {
    let line = page_line(URL, FETCHED, content);
    let run = process_stdin(line.as_bytes(), &[]);
    assert_eq!(run.status, 0, "stderr: {}", run.stderr);
    let articles = on_topic(&run.records, "clean-articles");
    assert_eq!(articles.len(), 1, "one article: {}", run.stdout);
    let headlines = on_topic(&run.records, "clean-headlines")
        .into_iter()
        .cloned()
        .collect();
    (articles[0].clone(), headlines)
}

fn seed_lines() -> Vec<String> {
    seed_text().lines().map(str::to_string).collect()
}

/// The article fields that must not change between variants.
fn essentials(a: &Value) -> Value {
    serde_json::json!({
        "title": a["title"],
        "caption": a["caption"],
        "paragraphs": a["paragraphs"],
        "published_at": a["published_at"],
        "language": a["language"],
        "content_hash": a["content_hash"],
    })
}

fn headline_pairs(h: &[Value]) -> Vec<(String, String)> {
    h.iter()
        .map(|h| {
            (
                h["title"].as_str().unwrap().to_string(),
                h["published_at"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn baseline() -> (Value, Vec<Value>) {
    run_page(&seed_text())
}

#[test]
fn crlf_line_endings() {
    let (base, base_h) = baseline();
    let (a, h) = run_page(&seed_text().replace('\n', "\r\n"));
    assert_eq!(essentials(&a), essentials(&base));
    assert_eq!(a["removed"], base["removed"]);
    assert_eq!(headline_pairs(&h), headline_pairs(&base_h));
}

#[test]
fn extra_blank_lines() {
    let (base, base_h) = baseline();
    let spaced = format!("\n\n  \n{}\n\n\n", seed_text().replace('\n', "\n\n \n"));
    let (a, h) = run_page(&spaced);
    assert_eq!(essentials(&a), essentials(&base));
    assert_eq!(a["removed"], base["removed"]);
    assert_eq!(headline_pairs(&h), headline_pairs(&base_h));
}

#[test]
fn headline_block_before_the_article() {
    let (base, base_h) = baseline();
    let lines = seed_lines();
    let moved: Vec<String> = lines[16..].iter().chain(&lines[..16]).cloned().collect();
    let (a, h) = run_page(&moved.join("\n"));
    assert_eq!(essentials(&a), essentials(&base));
    assert_eq!(a["removed"], base["removed"]);
    assert_eq!(headline_pairs(&h), headline_pairs(&base_h));
}

#[test]
fn baca_juga_inside_the_body() {
    let (base, base_h) = baseline();
    let mut lines = seed_lines();
    lines.insert(
        9,
        "Baca juga: Kazakhstan Gelar Pemilu Parlemen Lebih Awal".to_string(),
    );
    let (a, h) = run_page(&lines.join("\n"));
    assert_eq!(essentials(&a), essentials(&base));
    assert_eq!(a["removed"]["boilerplate_lines"], 2);
    assert_eq!(headline_pairs(&h), headline_pairs(&base_h));
}

#[test]
fn english_date_lines() {
    let (base, base_h) = baseline();
    let english: Vec<String> = seed_lines()
        .into_iter()
        .map(|l| match l.strip_prefix("Rabu, 31 Desember 2025 | ") {
            Some(time) => {
                let (h, m) = time.split_once(':').unwrap();
                let h: u32 = h.parse().unwrap();
                let (h12, ampm) = if h >= 12 {
                    (if h == 12 { 12 } else { h - 12 }, "PM")
                } else {
                    (h, "AM")
                };
                format!("Wednesday, December 31, 2025 {h12}:{m} {ampm}")
            }
            None => l,
        })
        .collect();
    assert!(english
        .iter()
        .any(|l| l.starts_with("Wednesday, December 31, 2025 12:10 PM")));
    let (a, h) = run_page(&english.join("\n"));
    assert_eq!(essentials(&a), essentials(&base));
    assert_eq!(headline_pairs(&h), headline_pairs(&base_h));
}

#[test]
fn no_headline_list() {
    let (base, _) = baseline();
    let lines = seed_lines();
    let (a, h) = run_page(&lines[..16].join("\n"));
    assert_eq!(essentials(&a), essentials(&base));
    assert!(h.is_empty());
    assert_eq!(a["removed"]["headline_items"], 0);
    assert_eq!(a["removed"]["boilerplate_lines"], 0);
    assert_eq!(a["removed"]["repeated_paragraphs"], 1);
}

#[test]
fn title_and_dateline_are_recognised() {
    let lines = seed_lines();
    let mut page = vec![
        "Kazakhstan Punya 17.000 LSM Aktif".to_string(),
        "Jumat, 08 Oktober 2021, 10:15 WIB".to_string(),
    ];
    page.extend(lines[..16].iter().cloned());
    let (a, _) = run_page(&page.join("\n"));
    assert_eq!(a["title"], "Kazakhstan Punya 17.000 LSM Aktif");
    assert_eq!(a["published_at"]["value"], "2021-10-08T10:15:00+07:00");
    assert_eq!(a["published_at"]["precision"], "minute");
    assert_eq!(a["paragraphs"].as_array().unwrap().len(), 13);
}

#[test]
fn event_title_is_used_when_the_text_has_none() {
    let mut ev = seed_event();
    ev["title"] = "Kazakhstan dan Masyarakat Sipil".into();
    let run = process_stdin(ev.to_string().as_bytes(), &[]);
    let a = on_topic(&run.records, "clean-articles")[0];
    assert_eq!(a["title"], "Kazakhstan dan Masyarakat Sipil");
}

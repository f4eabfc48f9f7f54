//! `warta-lab eval html`: the HTML parser measured on public benchmarks with each
//! benchmark's own metric, so the figures compare with published peer scores.
//!
//! - AEB (Zyte article-extraction benchmark): article body P/R/F1 over 4-gram
//!   shingles of `\w+` tokens, normalised per page, means over pages (the
//!   benchmark's `evaluate.py`), plus the worst pages and parse time per page.
//! - htmldate's evaluation set: publication-date accuracy at day level.
//! - Fundus parser fixtures: title and time-zone-aware publication date matches.
//!
//! Everything reads `../shared/corpora` (never copied into the repository).

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use warta::parse::{ParsedPage, Parser, SiteHints};

pub const CORPORA_DIR: &str = "../shared/corpora";

#[derive(Debug, thiserror::Error)]
pub enum EvalHtmlError {
    #[error("reading {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not the expected JSON: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{0}")]
    Corpus(String),
}

pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> EvalHtmlError + '_ {
    move |source| EvalHtmlError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads a file, gunzipping `*.gz`.
pub fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, EvalHtmlError> {
    let raw = std::fs::read(path).map_err(io(path))?;
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(io(path))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

pub(crate) fn read_json(path: &Path) -> Result<Value, EvalHtmlError> {
    let bytes = read_maybe_gz(path)?;
    serde_json::from_slice(&bytes).map_err(|source| EvalHtmlError::Json {
        path: path.to_path_buf(),
        source,
    })
}

pub use warta::event::html_page;

/// The body text the benchmarks compare: paragraphs, one per line.
pub fn body_text(p: &ParsedPage) -> String {
    p.paragraphs.join("\n")
}

// ---------------------------------------------------------------- AEB metric

fn tokens(text: &str) -> Vec<&str> {
    // Python's `\w` with re.UNICODE: letters, digits, underscore (and marks).
    text.split(|c: char| !(c.is_alphanumeric() || c == '_' || is_mark(c)))
        .filter(|t| !t.is_empty())
        .collect()
}

fn is_mark(c: char) -> bool {
    unicode_normalization::char::is_combining_mark(c)
}

fn shingles<'a>(toks: &[&'a str]) -> HashMap<Vec<&'a str>, u32> {
    let n = toks.len().min(4);
    let mut m = HashMap::new();
    for i in 0..=(toks.len() - n) {
        *m.entry(toks[i..i + n].to_vec()).or_insert(0) += 1;
    }
    m
}

/// Per-page (tp, fp, fn), normalised to sum to 1, as AEB's `evaluate.py`.
pub fn shingle_match(truth: &str, pred: &str) -> (f64, f64, f64) {
    let (tt, pt) = (tokens(truth), tokens(pred));
    let (ts, ps) = (shingles(&tt), shingles(&pt));
    let (mut tp, mut fp, mut fneg) = (0f64, 0f64, 0f64);
    for (k, &t) in &ts {
        let p = ps.get(k).copied().unwrap_or(0);
        tp += t.min(p) as f64;
        fneg += t.saturating_sub(p) as f64;
    }
    for (k, &p) in &ps {
        let t = ts.get(k).copied().unwrap_or(0);
        fp += p.saturating_sub(t) as f64;
    }
    let s = tp + fp + fneg;
    if s > 0.0 {
        (tp / s, fp / s, fneg / s)
    } else {
        (tp, fp, fneg)
    }
}

/// Mean precision and recall over pages, and F1 of the means.
pub fn aeb_scores(pages: &[(f64, f64, f64)]) -> (f64, f64, f64) {
    let prec: Vec<f64> = pages
        .iter()
        .filter(|(tp, fp, _)| tp + fp > 0.0)
        .map(|(tp, fp, _)| tp / (tp + fp))
        .collect();
    let rec: Vec<f64> = pages
        .iter()
        .filter(|(tp, _, fneg)| tp + fneg > 0.0)
        .map(|(tp, _, fneg)| tp / (tp + fneg))
        .collect();
    let mean = |v: &[f64]| {
        if v.is_empty() {
            0.0
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        }
    };
    let (p, r) = (mean(&prec), mean(&rec));
    let f1 = if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    };
    (p, r, f1)
}

/// One AEB page's result.
#[derive(Debug, Clone)]
pub struct AebPage {
    pub id: String,
    pub url: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

#[derive(Debug, Clone)]
pub struct AebReport {
    pub pages: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Median parse time per page (ms), on this thread.
    pub median_ms: f64,
    /// Total parse time over all pages (ms), on this thread.
    pub total_ms: f64,
    /// Each page's extracted body, in AEB's output format (`{id: {articleBody, url}}`).
    pub predictions: serde_json::Map<String, Value>,
    pub per_page: Vec<AebPage>,
    /// A peer's prediction file scored with the same code, as a metric check.
    pub peers: Vec<(String, f64, f64, f64)>,
}

/// One AEB page: (id, url, html bytes, ground-truth body).
pub type AebInput = (String, String, Vec<u8>, String);

/// Loads the AEB pages.
pub fn aeb_pages(dir: &Path) -> Result<Vec<AebInput>, EvalHtmlError> {
    let gt_path = dir.join("ground-truth.json");
    let gt = read_json(&gt_path)?;
    let obj = gt
        .as_object()
        .ok_or_else(|| EvalHtmlError::Corpus("ground-truth.json is not an object".into()))?;
    let mut ids: Vec<&String> = obj.keys().collect();
    ids.sort();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let item = &obj[id];
        let url = item["url"].as_str().unwrap_or_default().to_string();
        let body = item["articleBody"].as_str().unwrap_or_default().to_string();
        let html = read_maybe_gz(&dir.join("html").join(format!("{id}.html.gz")))?;
        out.push((id.clone(), url, html, body));
    }
    Ok(out)
}

/// Scores warta (and, when given, peers' stored outputs) on AEB.
pub fn aeb(dir: &Path, peers: &[&str]) -> Result<AebReport, EvalHtmlError> {
    let pages = aeb_pages(dir)?;
    let mut parser = Parser::new();
    let hints = SiteHints::default();
    let mut scores = Vec::with_capacity(pages.len());
    let mut per_page = Vec::with_capacity(pages.len());
    let mut times = Vec::with_capacity(pages.len());
    let mut truths = HashMap::new();
    let mut predictions = serde_json::Map::new();
    for (id, url, html, truth) in &pages {
        let Some(page) = html_page(url, html, "2020-01-01T00:00:00Z") else {
            return Err(EvalHtmlError::Corpus(format!("page {id} did not validate")));
        };
        let t = Instant::now();
        let parsed = parser.parse(&page, &hints);
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        let body = body_text(&parsed);
        let s = shingle_match(truth, &body);
        predictions.insert(
            id.clone(),
            serde_json::json!({ "articleBody": body, "url": url }),
        );
        let (p, r, f1) = aeb_scores(&[s]);
        per_page.push(AebPage {
            id: id.clone(),
            url: url.clone(),
            precision: p,
            recall: r,
            f1,
        });
        scores.push(s);
        truths.insert(id.clone(), truth.clone());
    }
    let (precision, recall, f1) = aeb_scores(&scores);
    let total_ms = times.iter().sum();
    times.sort_by(f64::total_cmp);
    let median_ms = times.get(times.len() / 2).copied().unwrap_or(0.0);
    let mut peer_scores = Vec::new();
    for name in peers {
        let path = dir.join("output").join(format!("{name}.json.gz"));
        let Ok(v) = read_json(&path) else { continue };
        let v = v.get("output").cloned().unwrap_or(v);
        let s: Vec<(f64, f64, f64)> = truths
            .iter()
            .map(|(id, truth)| {
                let pred = v
                    .get(id)
                    .and_then(|x| x.get("articleBody"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                shingle_match(truth, pred)
            })
            .collect();
        let (p, r, f) = aeb_scores(&s);
        peer_scores.push((name.to_string(), p, r, f));
    }
    Ok(AebReport {
        pages: pages.len(),
        precision,
        recall,
        f1,
        median_ms,
        total_ms,
        predictions,
        per_page,
        peers: peer_scores,
    })
}

impl fmt::Display for AebReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "aeb: pages={} precision={:.3} recall={:.3} f1={:.3} median_parse_ms={:.2} pages_per_s={:.0}",
            self.pages,
            self.precision,
            self.recall,
            self.f1,
            self.median_ms,
            self.pages as f64 * 1000.0 / self.total_ms.max(1e-9)
        )?;
        for (name, p, r, f1) in &self.peers {
            writeln!(f, "aeb peer (stored output, same metric): {name} precision={p:.3} recall={r:.3} f1={f1:.3}")?;
        }
        let mut worst: Vec<&AebPage> = self.per_page.iter().collect();
        worst.sort_by(|a, b| a.f1.total_cmp(&b.f1));
        writeln!(f, "aeb worst 10 pages (f1 precision recall id url):")?;
        for p in worst.iter().take(10) {
            writeln!(
                f,
                "  {:.3} {:.3} {:.3} {} {}",
                p.f1,
                p.precision,
                p.recall,
                &p.id[..p.id.len().min(12)],
                p.url
            )?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- htmldate

#[derive(Debug, Clone)]
pub struct DateReport {
    pub pages: usize,
    pub with_date: usize,
    pub correct: usize,
    /// Pages whose date came from each source: (source, pages, correct).
    pub by_source: Vec<(String, usize, usize)>,
    pub misses: Vec<(String, String, Option<String>)>,
    /// Pages labelled without a date (NaN in the gold file), not scored.
    pub unlabelled: usize,
}

impl DateReport {
    pub fn accuracy(&self) -> f64 {
        self.correct as f64 / self.pages.max(1) as f64
    }
    pub fn precision(&self) -> f64 {
        self.correct as f64 / self.with_date.max(1) as f64
    }
}

impl fmt::Display for DateReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "htmldate: pages={} (unlabelled, not scored: {}) with_date={} correct={} accuracy={:.3} precision={:.3}",
            self.pages,
            self.unlabelled,
            self.with_date,
            self.correct,
            self.accuracy(),
            self.precision()
        )?;
        for (s, n, c) in &self.by_source {
            writeln!(f, "  source {s}: pages={n} correct={c}")?;
        }
        if f.alternate() {
            for (url, gold, got) in &self.misses {
                writeln!(f, "  miss {gold} {got:?} {url}")?;
            }
        }
        Ok(())
    }
}

/// Publication-date accuracy (day level) on htmldate's 1,000 labelled pages.
pub fn htmldate(dir: &Path) -> Result<DateReport, EvalHtmlError> {
    let mut parser = Parser::new();
    let hints = SiteHints::default();
    let mut report = DateReport {
        pages: 0,
        with_date: 0,
        correct: 0,
        by_source: Vec::new(),
        misses: Vec::new(),
        unlabelled: 0,
    };
    let mut by_source: HashMap<String, (usize, usize)> = HashMap::new();
    for set in ["eval_default.json", "eval_mediacloud_2020.json"] {
        // The file is Python's JSON dialect: pages without a gold date say NaN.
        let path = dir.join("tests").join(set);
        let raw = String::from_utf8_lossy(&read_maybe_gz(&path)?).replace(": NaN", ": null");
        let labels: Value =
            serde_json::from_str(&raw).map_err(|source| EvalHtmlError::Json { path, source })?;
        let Some(obj) = labels.as_object() else {
            continue;
        };
        let mut urls: Vec<&String> = obj.keys().collect();
        urls.sort();
        for url in urls {
            let item = &obj[url];
            let Some(file) = item["file"].as_str() else {
                continue;
            };
            let Some(gold) = item["date"].as_str() else {
                report.unlabelled += 1;
                continue;
            };
            let path = ["eval", "test_set", "cache"]
                .iter()
                .map(|d| dir.join("tests").join(d).join(format!("{file}.gz")))
                .find(|p| p.exists());
            let Some(path) = path else { continue };
            let html = read_maybe_gz(&path)?;
            report.pages += 1;
            let Some(page) = html_page(url, &html, "2026-06-01T00:00:00Z") else {
                report.misses.push((url.clone(), gold.to_string(), None));
                continue;
            };
            let parsed = parser.parse(&page, &hints);
            let got = parsed
                .published
                .as_ref()
                .map(|p| p.value.chars().take(10).collect::<String>());
            let shown = parsed.published.as_ref().map(|p| {
                let raw: String = p.raw.chars().take(60).collect();
                format!("{} {:?} {raw:?}", p.value, p.source)
            });
            if let Some(p) = &parsed.published {
                report.with_date += 1;
                let e = by_source.entry(format!("{:?}", p.source)).or_default();
                e.0 += 1;
                if got.as_deref() == Some(gold) {
                    e.1 += 1;
                }
            }
            if got.as_deref() == Some(gold) {
                report.correct += 1;
            } else {
                report.misses.push((url.clone(), gold.to_string(), shown));
            }
        }
    }
    let mut v: Vec<(String, usize, usize)> =
        by_source.into_iter().map(|(k, (n, c))| (k, n, c)).collect();
    v.sort();
    report.by_source = v;
    Ok(report)
}

// ---------------------------------------------------------------- Fundus

#[derive(Debug, Clone)]
pub struct FundusReport {
    pub pages: usize,
    pub title_match: usize,
    pub date_match: usize,
    pub both: usize,
    pub misses: Vec<String>,
}

impl fmt::Display for FundusReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct = |n: usize| n as f64 / self.pages.max(1) as f64;
        writeln!(
            f,
            "fundus: pages={} title={:.3} date={:.3} both={:.3}",
            self.pages,
            pct(self.title_match),
            pct(self.date_match),
            pct(self.both)
        )?;
        if f.alternate() {
            for m in &self.misses {
                writeln!(f, "  miss {m}")?;
            }
        }
        Ok(())
    }
}

fn same_title(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        // Invisible characters (zero-width space, soft hyphen, word joiner,
        // BOM) are not part of what a reader sees, in either title.
        s.replace(['\u{200b}', '\u{ad}', '\u{2060}', '\u{feff}'], "")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .replace(['“', '”', '„', '«', '»'], "\"")
            .replace(['‘', '’'], "'")
    };
    norm(a) == norm(b)
}

/// A Fundus crawl time as RFC 3339: naive UTC, except a few that carry their
/// offset.
pub fn fundus_fetched_at(crawl: &str) -> String {
    DateTime::parse_from_str(crawl, "%Y-%m-%d %H:%M:%S%.f%:z")
        .map(|t| t.to_rfc3339())
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(crawl, "%Y-%m-%d %H:%M:%S%.f")
                .map(|t| t.and_utc().to_rfc3339())
        })
        .unwrap_or_default()
}

/// Title and time-zone-aware date matches on Fundus's per-publisher fixtures
/// (dates compared as instants, to the minute).
pub fn fundus(dir: &Path) -> Result<FundusReport, EvalHtmlError> {
    let tsv_path = dir.join("version_to_html_mapping.tsv");
    let tsv = std::fs::read_to_string(&tsv_path).map_err(io(&tsv_path))?;
    let mut parser = Parser::new();
    let hints = SiteHints::default();
    let mut r = FundusReport {
        pages: 0,
        title_match: 0,
        date_match: 0,
        both: 0,
        misses: Vec::new(),
    };
    for line in tsv.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 8 {
            continue;
        }
        let (group, file, url, crawl, title, date) =
            (cols[0], cols[3], cols[4], cols[5], cols[6], cols[7]);
        let html = read_maybe_gz(&dir.join("test_data").join(group).join(file))?;
        let fetched = fundus_fetched_at(crawl);
        r.pages += 1;
        // A page the parser cannot take counts as a miss, never as a skip.
        let Some(page) = html_page(url, &html, &fetched) else {
            r.misses
                .push(format!("{group}/{file}: not a valid page event"));
            continue;
        };
        let parsed = parser.parse(&page, &hints);
        let got_title = parsed.title.as_ref().map(|(t, _)| t.as_str()).unwrap_or("");
        let t_ok = same_title(got_title, title);
        let expected = DateTime::parse_from_str(date, "%Y-%m-%d %H:%M:%S%.f%:z").ok();
        // A few expectations carry no offset: compare the page's local time.
        let expected_naive =
            chrono::NaiveDateTime::parse_from_str(date, "%Y-%m-%d %H:%M:%S%.f").ok();
        let got = parsed
            .published
            .as_ref()
            .and_then(|p| DateTime::parse_from_rfc3339(&p.value).ok());
        let d_ok = match (expected, expected_naive, got) {
            (Some(e), _, Some(g)) => minute(e) == minute(g),
            (None, Some(n), Some(g)) => {
                g.naive_local().and_utc().timestamp().div_euclid(60)
                    == n.and_utc().timestamp().div_euclid(60)
            }
            _ => false,
        };
        r.title_match += t_ok as usize;
        r.date_match += d_ok as usize;
        r.both += (t_ok && d_ok) as usize;
        if !(t_ok && d_ok) {
            r.misses.push(format!(
                "{group}/{file}: title {:?} vs {:?}; date {:?} vs {date}",
                got_title,
                title,
                parsed.published.as_ref().map(|p| (&p.value, p.source))
            ));
        }
    }
    Ok(r)
}

fn minute(t: DateTime<FixedOffset>) -> i64 {
    t.timestamp().div_euclid(60)
}

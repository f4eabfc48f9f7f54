//! `warta-lab eval html --corpus body`: article-body extraction scored the same
//! way on every corpus in `../shared/corpora` that has body gold, each split
//! into a tuning half and a validation half, with a peer's bodies beside.
//!
//! - AEB (181 pages): gold `articleBody`.
//! - Fundus fixtures (252 pages): the expected body's summary, section
//!   headlines and paragraphs, in order.
//! - Mozilla Readability test pages (130): the visible text of each
//!   `expected.html`.
//!
//! The metric is AEB's (see [`shingle_match`]) for all three. A page belongs
//! to the tuning half when the xxh3 hash of its key (the HTML file's path
//! inside its corpus folder) is even, to the validation half otherwise: the
//! split never depends on the pages' content or on the scores. Rules are tuned
//! on tuning halves and kept only if no validation half gets worse.
//!
//! [`ablation`] reruns everything with one content rule switched off at a
//! time (through the parser's ablation hook, which has no configuration).

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;
use warta::parse::html::content::{self, Rule};
use warta::parse::html::dom::{Dom, Tag};
use warta::parse::{Parser, SiteHints};

use crate::eval_html::{
    aeb_pages, aeb_scores, body_text, fundus_fetched_at, html_page, io, read_json, read_maybe_gz,
    shingle_match, EvalHtmlError,
};

/// The corpora with body gold, in table order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BodyCorpus {
    Aeb,
    Fundus,
    Readability,
}

impl BodyCorpus {
    pub const ALL: [BodyCorpus; 3] = [BodyCorpus::Aeb, BodyCorpus::Fundus, BodyCorpus::Readability];

    pub fn name(self) -> &'static str {
        match self {
            BodyCorpus::Aeb => "aeb",
            BodyCorpus::Fundus => "fundus",
            BodyCorpus::Readability => "readability",
        }
    }
}

/// The two halves of each corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Half {
    Tuning,
    Validation,
}

impl Half {
    /// The half a page belongs to, from its key alone.
    pub fn of(key: &str) -> Half {
        if xxhash_rust::xxh3::xxh3_64(key.as_bytes()) % 2 == 0 {
            Half::Tuning
        } else {
            Half::Validation
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Half::Tuning => "tuning",
            Half::Validation => "validation",
        }
    }
}

/// One page with body gold.
pub struct BodyPage {
    pub corpus: BodyCorpus,
    /// The HTML file's path inside its corpus folder.
    pub key: String,
    pub url: String,
    pub fetched_at: String,
    pub html: Vec<u8>,
    pub gold: String,
}

impl BodyPage {
    pub fn half(&self) -> Half {
        Half::of(&self.key)
    }
}

/// Every page of the three corpora under `corpora`.
pub fn load(corpora: &Path) -> Result<Vec<BodyPage>, EvalHtmlError> {
    let mut pages = aeb(&corpora.join("scrapinghub-aeb"))?;
    pages.extend(fundus(&corpora.join("fundus-parser-fixtures"))?);
    pages.extend(readability(&corpora.join("mozilla-readability-testpages"))?);
    Ok(pages)
}

fn aeb(dir: &Path) -> Result<Vec<BodyPage>, EvalHtmlError> {
    Ok(aeb_pages(dir)?
        .into_iter()
        .map(|(id, url, html, gold)| BodyPage {
            corpus: BodyCorpus::Aeb,
            url,
            fetched_at: "2020-01-01T00:00:00Z".into(),
            html,
            gold,
            key: format!("html/{id}.html.gz"),
        })
        .collect())
}

/// A Fundus expectation's body: summary, then each section's headlines and
/// paragraphs, one per line.
fn fundus_gold(version: &Value) -> String {
    let body = &version["body"];
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    };
    let mut out = strings(&body["summary"]);
    for section in body["sections"].as_array().into_iter().flatten() {
        out.extend(strings(&section["headline"]));
        out.extend(strings(&section["paragraphs"]));
    }
    out.join("\n")
}

fn fundus(dir: &Path) -> Result<Vec<BodyPage>, EvalHtmlError> {
    let tsv_path = dir.join("version_to_html_mapping.tsv");
    let tsv = std::fs::read_to_string(&tsv_path).map_err(io(&tsv_path))?;
    let mut expected: HashMap<String, Value> = HashMap::new();
    let mut out = Vec::new();
    for line in tsv.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [group, publisher, version, file, url, crawl, ..] = cols[..] else {
            continue;
        };
        let json = format!("test_data/{group}/{publisher}.json");
        if !expected.contains_key(&json) {
            let v = read_json(&dir.join(&json))?;
            expected.insert(json.clone(), v);
        }
        let key = format!("test_data/{group}/{file}");
        out.push(BodyPage {
            corpus: BodyCorpus::Fundus,
            url: url.into(),
            fetched_at: fundus_fetched_at(crawl),
            html: read_maybe_gz(&dir.join(&key))?,
            gold: fundus_gold(&expected[&json][version]),
            key,
        });
    }
    Ok(out)
}

fn readability(dir: &Path) -> Result<Vec<BodyPage>, EvalHtmlError> {
    let cases_dir = dir.join("test").join("test-pages");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&cases_dir)
        .map_err(io(&cases_dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    let mut out = Vec::with_capacity(cases.len());
    for case in cases {
        let name = case.file_name().unwrap_or_default().to_string_lossy();
        let key = format!("test/test-pages/{name}/source.html.gz");
        let expected = read_maybe_gz(&case.join("expected.html.gz"))?;
        out.push(BodyPage {
            corpus: BodyCorpus::Readability,
            // The test pages were captured with this base URL.
            url: "http://fakehost/test/page.html".into(),
            fetched_at: "2026-07-09T00:00:00Z".into(),
            html: read_maybe_gz(&dir.join(&key))?,
            gold: visible_text(&String::from_utf8_lossy(&expected)),
            key,
        });
    }
    Ok(out)
}

/// The visible text of an HTML fragment, each block on its own line, so that
/// words of adjacent blocks never run together.
pub fn visible_text(html: &str) -> String {
    let dom = Dom::parse(html);
    let mut out = String::new();
    // Ends of the open block elements.
    let mut open: Vec<usize> = Vec::new();
    for i in 1..dom.len() {
        while open.last().is_some_and(|&end| i >= end) {
            open.pop();
            out.push('\n');
        }
        match dom.tag(i) {
            Tag::Text => out.push_str(dom.text_of(i)),
            Tag::Br => out.push('\n'),
            Tag::A
            | Tag::Span
            | Tag::Strong
            | Tag::B
            | Tag::Em
            | Tag::I
            | Tag::U
            | Tag::Small
            | Tag::Sup
            | Tag::Sub
            | Tag::Font
            | Tag::Code
            | Tag::Time
            | Tag::Img
            | Tag::Wbr
            | Tag::Other => {}
            _ => {
                out.push('\n');
                open.push(dom.end(i));
            }
        }
    }
    out
}

/// Precision, recall and F1 over a set of pages (AEB's aggregation), and how
/// many pages came out with no body at all.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scores {
    pub pages: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub empty: usize,
}

impl Scores {
    fn of(matches: &[(f64, f64, f64)], empty: usize) -> Scores {
        let (precision, recall, f1) = aeb_scores(matches);
        Scores {
            pages: matches.len(),
            precision,
            recall,
            f1,
            empty,
        }
    }
}

/// One page's outcome.
#[derive(Debug, Clone)]
pub struct PageResult {
    pub corpus: BodyCorpus,
    pub key: String,
    pub half: Half,
    pub body: String,
    /// (tp, fp, fn) normalised, AEB's per-page match.
    pub matched: (f64, f64, f64),
    /// The peer's match, when a peer's bodies were given.
    pub peer: Option<(f64, f64, f64)>,
}

/// The table: per corpus and half, warta and (when given) the peer.
pub struct BodyReport {
    pub peer_name: Option<String>,
    pub rows: Vec<(BodyCorpus, Half, Scores, Option<Scores>)>,
    pub pages: Vec<PageResult>,
}

impl BodyReport {
    /// warta's scores for one corpus and half.
    pub fn scores(&self, corpus: BodyCorpus, half: Half) -> Option<Scores> {
        self.rows
            .iter()
            .find(|r| r.0 == corpus && r.1 == half)
            .map(|r| r.2)
    }
}

/// Extracts every page's body and scores it; `peer` holds another tool's
/// bodies as `{corpus: {key: body}}` (lab/peers/bodies.py writes it).
pub fn evaluate(pages: &[BodyPage], peer: Option<(&str, &Value)>) -> BodyReport {
    let mut parser = Parser::new();
    let hints = SiteHints::default();
    let mut results = Vec::with_capacity(pages.len());
    for p in pages {
        // A page that does not validate as an event is an empty body.
        let body = html_page(&p.url, &p.html, &p.fetched_at)
            .map(|page| body_text(&parser.parse(&page, &hints)))
            .unwrap_or_default();
        let peer_match = peer.map(|(_, v)| {
            let pred = v[p.corpus.name()][&p.key].as_str().unwrap_or("");
            shingle_match(&p.gold, pred)
        });
        results.push(PageResult {
            corpus: p.corpus,
            key: p.key.clone(),
            half: p.half(),
            matched: shingle_match(&p.gold, &body),
            body,
            peer: peer_match,
        });
    }
    let mut rows = Vec::new();
    for corpus in BodyCorpus::ALL {
        for half in [Half::Tuning, Half::Validation] {
            let these: Vec<&PageResult> = results
                .iter()
                .filter(|r| r.corpus == corpus && r.half == half)
                .collect();
            if these.is_empty() {
                continue;
            }
            let ours: Vec<_> = these.iter().map(|r| r.matched).collect();
            let empty = these.iter().filter(|r| r.body.trim().is_empty()).count();
            let theirs: Option<Vec<_>> = these.iter().map(|r| r.peer).collect();
            rows.push((
                corpus,
                half,
                Scores::of(&ours, empty),
                theirs.map(|t| Scores::of(&t, 0)),
            ));
        }
    }
    BodyReport {
        peer_name: peer.map(|(n, _)| n.to_string()),
        rows,
        pages: results,
    }
}

impl fmt::Display for BodyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let peer = self.peer_name.as_deref().unwrap_or("peer");
        writeln!(
            f,
            "| corpus | half | pages | warta P | warta R | warta F1 | empty | {peer} P | {peer} R | {peer} F1 |"
        )?;
        writeln!(f, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")?;
        for (corpus, half, w, t) in &self.rows {
            write!(
                f,
                "| {} | {} | {} | {:.3} | {:.3} | {:.3} | {} |",
                corpus.name(),
                half.name(),
                w.pages,
                w.precision,
                w.recall,
                w.f1,
                w.empty
            )?;
            match t {
                Some(t) => writeln!(f, " {:.3} | {:.3} | {:.3} |", t.precision, t.recall, t.f1)?,
                None => writeln!(f, " | | |")?,
            }
        }
        if f.alternate() {
            for r in &self.pages {
                let (p, rc, _) = aeb_scores(&[r.matched]);
                write!(
                    f,
                    "  page {} {} {} P={p:.3} R={rc:.3}",
                    r.corpus.name(),
                    r.half.name(),
                    r.key
                )?;
                if let Some(m) = r.peer {
                    let (pp, pr, _) = aeb_scores(&[m]);
                    write!(f, " peer P={pp:.3} R={pr:.3}")?;
                }
                writeln!(f)?;
            }
        }
        Ok(())
    }
}

/// What switching one rule off does: per corpus, pages whose body changed,
/// and F1 with the rule and without it.
pub struct AblationRow {
    pub rule: Rule,
    /// (corpus, pages changed, pages better with the rule, F1 with, F1 without)
    pub per_corpus: Vec<(BodyCorpus, usize, usize, f64, f64)>,
}

/// Reruns the evaluation once per rule with that rule switched off.
pub fn ablation(pages: &[BodyPage], base: &BodyReport) -> Vec<AblationRow> {
    let mut rows = Vec::new();
    for rule in Rule::ALL {
        content::set_disabled_rules(&[rule]);
        let without = evaluate(pages, None);
        content::set_disabled_rules(&[]);
        let mut per_corpus = Vec::new();
        for corpus in BodyCorpus::ALL {
            let pairs: Vec<(&PageResult, &PageResult)> = base
                .pages
                .iter()
                .zip(&without.pages)
                .filter(|(a, _)| a.corpus == corpus)
                .collect();
            let changed = pairs.iter().filter(|(a, b)| a.body != b.body).count();
            let f1 = |m: &[(f64, f64, f64)]| aeb_scores(m).2;
            let page_f1 = |m: (f64, f64, f64)| aeb_scores(&[m]).2;
            let helped = pairs
                .iter()
                .filter(|(a, b)| page_f1(a.matched) > page_f1(b.matched) + 1e-9)
                .count();
            let with: Vec<_> = pairs.iter().map(|(a, _)| a.matched).collect();
            let wo: Vec<_> = pairs.iter().map(|(_, b)| b.matched).collect();
            per_corpus.push((corpus, changed, helped, f1(&with), f1(&wo)));
        }
        rows.push(AblationRow { rule, per_corpus });
    }
    rows
}

/// The ablation rows as a Markdown table.
pub fn ablation_table(rows: &[AblationRow]) -> String {
    let mut s = String::from(
        "| rule | pages changed (aeb / fundus / readability) | pages helped | F1 with → without (aeb / fundus / readability) |\n|---|---|---:|---|\n",
    );
    for r in rows {
        let changed: Vec<String> = r.per_corpus.iter().map(|c| c.1.to_string()).collect();
        let helped: usize = r.per_corpus.iter().map(|c| c.2).sum();
        let f1: Vec<String> = r
            .per_corpus
            .iter()
            .map(|c| format!("{:.3} → {:.3}", c.3, c.4))
            .collect();
        s.push_str(&format!(
            "| {:?} | {} | {} | {} |\n",
            r.rule,
            changed.join(" / "),
            helped,
            f1.join(" / ")
        ));
    }
    s
}

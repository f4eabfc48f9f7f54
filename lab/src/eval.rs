//! `warta-lab eval dedup`: measures near-duplicate detection on a labelled set built
//! from real Indonesian news (IndoSum), so thresholds are chosen by measurement.
//!
//! Originals are rendered as text pages of one invented site template and
//! indexed. Positives are the same articles transformed the way syndication and
//! recrawls transform them, on another template with another sidebar. Negatives
//! are other articles on the same templates; hard negatives share a source and
//! category with an indexed article. Every page goes through the real parser and
//! fingerprinter, so sidebars, captions and boilerplate are removed exactly as in
//! production. Queries are not inserted, so positives cannot match each other.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::corpus::{self, render_page, templates, CorpusArticle};
use warta::config::Settings;
use warta::dedup::index::{ArticleIndex, IndexConfig, NewSlot};
use warta::event::SourceRef;
use warta::pipeline::{Prepared, Preparer};

/// How syndication and recrawls change an article.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transform {
    /// Same article, another template and sidebar.
    OtherTemplate,
    /// First paragraph replaced by a local intro.
    NewIntro,
    /// Last paragraph cut.
    LastCut,
    /// `Baca juga:` lines inserted in the body.
    BacaJuga,
    /// About 10% of the words replaced.
    WordEdits,
    /// Paragraphs split at a sentence boundary, and neighbours joined.
    SplitJoin,
}

impl Transform {
    pub const ALL: [Transform; 6] = [
        Transform::OtherTemplate,
        Transform::NewIntro,
        Transform::LastCut,
        Transform::BacaJuga,
        Transform::WordEdits,
        Transform::SplitJoin,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Transform::OtherTemplate => "other_template",
            Transform::NewIntro => "new_intro",
            Transform::LastCut => "last_cut",
            Transform::BacaJuga => "baca_juga",
            Transform::WordEdits => "word_edits",
            Transform::SplitJoin => "split_join",
        }
    }
}

/// What `eval dedup` measures with.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// Articles indexed as originals (positives are built from them).
    pub originals: usize,
    /// Articles used as negatives.
    pub negatives: usize,
    /// Seed of the deterministic choices (shuffle, edits).
    pub seed: u64,
    /// Thresholds for the sweep.
    pub thresholds: Vec<f64>,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            originals: 1200,
            negatives: 1200,
            seed: 7,
            thresholds: (4..=18).map(|i| i as f64 * 0.05).collect(),
        }
    }
}

/// One query's result: the best candidate's similarity and whether it was the
/// right article.
#[derive(Debug, Clone, Copy)]
struct Query {
    transform: Option<Transform>,
    hard_negative: bool,
    /// Share of the original's words the positive keeps.
    kept: f64,
    best: Option<(bool, f64)>,
}

/// Precision and recall at one threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    pub threshold: f64,
    pub precision: f64,
    pub recall: f64,
    /// Recall on positives that keep at least 80% of the original text.
    pub recall_kept80: f64,
    pub f1: f64,
    pub hard_negatives_flagged: usize,
    pub negatives_flagged: usize,
}

/// The evaluation's results.
#[derive(Debug, Clone)]
pub struct EvalReport {
    pub originals: usize,
    pub positives: usize,
    pub negatives: usize,
    pub hard_negatives: usize,
    pub threshold: f64,
    /// Per transformation at `threshold`: (name, positives, kept ≥ 0.8, recall,
    /// mean similarity to the right original).
    pub per_transform: Vec<(&'static str, usize, usize, f64, f64)>,
    pub at_threshold: Scores,
    pub sweep: Vec<Scores>,
}

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("cannot load the IndoSum corpus")]
    Corpus(#[from] corpus::CorpusError),
    #[error("the corpus has {have} articles; the evaluation needs {need}")]
    TooSmall { have: usize, need: usize },
    #[error("cannot build the dedup index")]
    Index(#[from] warta::dedup::index::IndexError),
}

const INTROS: [&str; 4] = [
    "SURABAYA - Kabar ini juga menjadi perhatian warga Jawa Timur yang mengikuti perkembangannya sejak pekan lalu.",
    "MEDAN - Redaksi kami merangkum informasi berikut untuk pembaca di Sumatera Utara dan sekitarnya.",
    "MAKASSAR - Berita ini dihimpun dari berbagai sumber dan dilengkapi keterangan pejabat setempat.",
    "DENPASAR - Perkembangan terbaru soal ini terus dipantau oleh pemerintah daerah dan masyarakat.",
];

/// Runs the evaluation with the settings' shingle sizes; the report's scores
/// at `settings.dedup.threshold` are the production defaults' quality.
pub fn dedup(
    settings: Arc<Settings>,
    corpus_dir: &Path,
    options: &EvalOptions,
) -> Result<EvalReport, EvalError> {
    let mut articles = corpus::load_indosum(corpus_dir)?;
    let need = options.originals + options.negatives;
    if articles.len() < need {
        return Err(EvalError::TooSmall {
            have: articles.len(),
            need,
        });
    }
    let mut rng = fastrand::Rng::with_seed(options.seed);
    rng.shuffle(&mut articles);
    let (originals, rest) = articles.split_at(options.originals);
    let negatives = &rest[..options.negatives];
    let vocabulary: Vec<&str> = originals
        .iter()
        .flat_map(|a| a.paragraphs.iter())
        .flat_map(|p| p.split_whitespace())
        .filter(|w| w.chars().all(char::is_alphabetic) && w.len() > 3)
        .collect();
    let titles: Vec<&str> = articles.iter().map(|a| a.title.as_str()).collect();
    let templates = templates();
    let fetched_at: DateTime<Utc> = DateTime::parse_from_rfc3339("2025-12-31T05:15:00Z")
        .unwrap_or_default()
        .with_timezone(&Utc);

    let mut preparer = Preparer::new(settings.clone());
    let mut page_signature = |site: &str,
                              id: &str,
                              title: &str,
                              paragraphs: &[String],
                              sidebar_at: usize,
                              template: usize| {
        let t = &templates[template % templates.len()];
        let sidebar: Vec<&str> = (1..=10)
            .map(|k| titles[(sidebar_at + k * 131) % titles.len()])
            .collect();
        let content = render_page(t, title, paragraphs, &sidebar, fetched_at);
        let event = serde_json::json!({
            "url": format!("https://{}/{site}/{id}", t.site),
            "fetched_at": "2025-12-31T05:15:00Z",
            "content": content,
        })
        .to_string();
        match preparer.prepare(event.as_bytes(), SourceRef::Line { line: 0 }, fetched_at) {
            Prepared::Page(p) => Some(p.signature),
            Prepared::Rejected(_) => None,
        }
    };

    let mut index = ArticleIndex::new(IndexConfig {
        capacity: options.originals * 2,
        ttl_secs: settings.dedup.ttl_secs,
    })?;
    let now = fetched_at.timestamp().clamp(0, u32::MAX as i64) as u32;
    for (i, a) in originals.iter().enumerate() {
        if let Some(sig) = page_signature("asli", &a.id, &a.title, &a.paragraphs, i, 0) {
            index.insert(NewSlot {
                article_id: i as u64,
                cluster_id: i as u64,
                content_hash: i as u64,
                version: 1,
                event_time: now,
                signature: &sig,
                in_bands: true,
            });
        }
    }

    let mut queries = Vec::new();
    for (i, a) in originals.iter().enumerate() {
        for (k, t) in Transform::ALL.iter().enumerate() {
            let (paragraphs, kept) = transform(*t, a, &vocabulary, &titles, &mut rng);
            let template = 1 + (i + k) % (templates.len() - 1);
            let sig = page_signature(
                "salinan",
                &a.id,
                &a.title,
                &paragraphs,
                i + 7 * (k + 1),
                template,
            );
            let best = sig.and_then(|s| index.best_match(&s, now, 0.0));
            queries.push(Query {
                transform: Some(*t),
                hard_negative: false,
                kept,
                best: best.map(|(v, sim)| (v.article_id == i as u64, sim)),
            });
        }
    }
    let indexed_groups: HashSet<(&str, &str)> = originals
        .iter()
        .map(|a| (a.source.as_str(), a.category.as_str()))
        .collect();
    let mut hard_negatives = 0;
    for (i, a) in negatives.iter().enumerate() {
        let hard = indexed_groups.contains(&(a.source.as_str(), a.category.as_str()));
        hard_negatives += usize::from(hard);
        let sig = page_signature("lain", &a.id, &a.title, &a.paragraphs, i + 3, i);
        let best = sig.and_then(|s| index.best_match(&s, now, 0.0));
        queries.push(Query {
            transform: None,
            hard_negative: hard,
            kept: 0.0,
            best: best.map(|(_, sim)| (false, sim)),
        });
    }

    let threshold = settings.dedup.threshold;
    let per_transform = Transform::ALL
        .iter()
        .map(|t| {
            let qs: Vec<&Query> = queries.iter().filter(|q| q.transform == Some(*t)).collect();
            let kept80 = qs.iter().filter(|q| q.kept >= 0.8).count();
            let hits = qs
                .iter()
                .filter(|q| matches!(q.best, Some((true, s)) if s >= threshold))
                .count();
            let sims: Vec<f64> = qs
                .iter()
                .filter_map(|q| match q.best {
                    Some((true, s)) => Some(s),
                    _ => None,
                })
                .collect();
            let mean = if sims.is_empty() {
                0.0
            } else {
                sims.iter().sum::<f64>() / sims.len() as f64
            };
            (
                t.name(),
                qs.len(),
                kept80,
                hits as f64 / qs.len().max(1) as f64,
                mean,
            )
        })
        .collect();
    let sweep = options
        .thresholds
        .iter()
        .map(|&t| scores(&queries, t))
        .collect();
    Ok(EvalReport {
        originals: originals.len(),
        positives: queries.iter().filter(|q| q.transform.is_some()).count(),
        negatives: negatives.len(),
        hard_negatives,
        threshold,
        per_transform,
        at_threshold: scores(&queries, threshold),
        sweep,
    })
}

fn scores(queries: &[Query], threshold: f64) -> Scores {
    let (mut tp, mut fp, mut pos, mut pos80, mut tp80) = (0usize, 0usize, 0usize, 0usize, 0usize);
    let (mut neg_flagged, mut hard_flagged) = (0, 0);
    for q in queries {
        let flagged = q.best.filter(|(_, s)| *s >= threshold);
        match q.transform {
            Some(_) => {
                pos += 1;
                let right = matches!(flagged, Some((true, _)));
                tp += usize::from(right);
                fp += usize::from(matches!(flagged, Some((false, _))));
                if q.kept >= 0.8 {
                    pos80 += 1;
                    tp80 += usize::from(right);
                }
            }
            None => {
                if flagged.is_some() {
                    fp += 1;
                    neg_flagged += 1;
                    hard_flagged += usize::from(q.hard_negative);
                }
            }
        }
    }
    let precision = if tp + fp == 0 {
        1.0
    } else {
        tp as f64 / (tp + fp) as f64
    };
    let recall = tp as f64 / pos.max(1) as f64;
    Scores {
        threshold,
        precision,
        recall,
        recall_kept80: tp80 as f64 / pos80.max(1) as f64,
        f1: if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        },
        hard_negatives_flagged: hard_flagged,
        negatives_flagged: neg_flagged,
    }
}

/// Applies a transformation; returns the new paragraphs and the share of the
/// original's words they keep.
fn transform(
    t: Transform,
    a: &CorpusArticle,
    vocabulary: &[&str],
    titles: &[&str],
    rng: &mut fastrand::Rng,
) -> (Vec<String>, f64) {
    let words = |ps: &[String]| {
        ps.iter()
            .map(|p| p.split_whitespace().count())
            .sum::<usize>()
    };
    let total = words(&a.paragraphs).max(1) as f64;
    let mut ps = a.paragraphs.clone();
    let kept = match t {
        Transform::OtherTemplate => 1.0,
        Transform::NewIntro => {
            let removed = ps[0].split_whitespace().count() as f64;
            ps[0] = INTROS[rng.usize(..INTROS.len())].to_string();
            1.0 - removed / total
        }
        Transform::LastCut => {
            if ps.len() > 1 {
                let last = ps.pop().unwrap_or_default();
                1.0 - last.split_whitespace().count() as f64 / total
            } else {
                1.0
            }
        }
        Transform::BacaJuga => {
            let mut out = Vec::with_capacity(ps.len() + 2);
            for (i, p) in ps.into_iter().enumerate() {
                out.push(p);
                if i == 0 || i == 3 {
                    out.push(format!("Baca juga: {}", titles[rng.usize(..titles.len())]));
                }
            }
            ps = out;
            1.0
        }
        Transform::WordEdits => {
            let mut edited = 0usize;
            for p in ps.iter_mut() {
                let mut ws: Vec<String> = p.split_whitespace().map(str::to_string).collect();
                for w in ws.iter_mut() {
                    if rng.usize(..10) == 0 {
                        *w = vocabulary[rng.usize(..vocabulary.len())].to_string();
                        edited += 1;
                    }
                }
                *p = ws.join(" ");
            }
            1.0 - edited as f64 / total
        }
        Transform::SplitJoin => {
            let mut out: Vec<String> = Vec::new();
            for (i, p) in ps.into_iter().enumerate() {
                if i % 2 == 0 {
                    // Split after the first sentence.
                    match p.find(". ") {
                        Some(cut) => {
                            out.push(p[..=cut].to_string());
                            out.push(p[cut + 2..].to_string());
                        }
                        None => out.push(p),
                    }
                } else if let Some(prev) = out.last_mut() {
                    prev.push(' ');
                    prev.push_str(&p);
                } else {
                    out.push(p);
                }
            }
            ps = out;
            1.0
        }
    };
    (ps, kept)
}

impl std::fmt::Display for EvalReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "dedup evaluation: {} originals indexed, {} positives, {} negatives ({} hard: same source and category)",
            self.originals, self.positives, self.negatives, self.hard_negatives
        );
        let _ = writeln!(
            s,
            "\nper transformation at threshold {:.2}:",
            self.threshold
        );
        let _ = writeln!(
            s,
            "  {:<16} {:>9} {:>9} {:>8} {:>9}",
            "transformation", "positives", "kept>=80%", "recall", "mean_sim"
        );
        for (name, n, k80, recall, mean) in &self.per_transform {
            let _ = writeln!(s, "  {name:<16} {n:>9} {k80:>9} {recall:>8.4} {mean:>9.3}");
        }
        let a = &self.at_threshold;
        let _ = writeln!(
            s,
            "\nat threshold {:.2}: precision {:.4} recall {:.4} recall(kept>=80%) {:.4} F1 {:.4} negatives flagged {} (hard {})",
            a.threshold, a.precision, a.recall, a.recall_kept80, a.f1, a.negatives_flagged, a.hard_negatives_flagged
        );
        let _ = writeln!(s, "\nthreshold sweep:");
        let _ = writeln!(
            s,
            "  {:>9} {:>9} {:>8} {:>10} {:>8} {:>9} {:>6}",
            "threshold", "precision", "recall", "recall80", "F1", "neg_flag", "hard"
        );
        for x in &self.sweep {
            let _ = writeln!(
                s,
                "  {:>9.2} {:>9.4} {:>8.4} {:>10.4} {:>8.4} {:>9} {:>6}",
                x.threshold,
                x.precision,
                x.recall,
                x.recall_kept80,
                x.f1,
                x.negatives_flagged,
                x.hard_negatives_flagged
            );
        }
        f.write_str(&s)
    }
}

//! Builds realistic text pages from the IndoSum corpus (real Indonesian news,
//! `../shared/corpora/indosum-dev`) for benchmarks and the dedup evaluation.
//!
//! IndoSum ships tokenized sentences, not pages, so this module detokenizes them
//! and wraps each article in an invented site template: optional caption, title,
//! dateline, body, and a sidebar of other articles' headlines with dates.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

/// The corpus folder, relative to the repository root.
pub const INDOSUM_DIR: &str = "../shared/corpora/indosum-dev/indosum";

/// One article of the corpus, detokenized.
#[derive(Debug, Clone, PartialEq)]
pub struct CorpusArticle {
    pub id: String,
    pub source: String,
    pub category: String,
    pub url: String,
    /// Made from the URL slug; IndoSum has no titles.
    pub title: String,
    pub paragraphs: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    #[error("cannot read corpus file {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("corpus file {path}, line {line}: not an IndoSum record")]
    Format {
        path: PathBuf,
        line: usize,
        #[source]
        source: serde_json::Error,
    },
    #[error("no corpus files in {0}")]
    Empty(PathBuf),
}

#[derive(Deserialize)]
struct IndoSumRecord {
    id: String,
    source: String,
    category: String,
    source_url: String,
    paragraphs: Vec<Vec<Vec<String>>>,
}

/// Loads every `dev.*.jsonl.gz` fold of IndoSum in `dir`, without the articles
/// that appear in more than one fold.
pub fn load_indosum(dir: &Path) -> Result<Vec<CorpusArticle>, CorpusError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CorpusError::Io { path, source }
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("dev.") && n.ends_with(".jsonl.gz"))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(CorpusError::Empty(dir.to_path_buf()));
    }
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for path in files {
        let f = std::fs::File::open(&path).map_err(io(&path))?;
        let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(f));
        for (i, line) in reader.lines().enumerate() {
            let line = line.map_err(io(&path))?;
            let rec: IndoSumRecord =
                serde_json::from_str(&line).map_err(|source| CorpusError::Format {
                    path: path.clone(),
                    line: i + 1,
                    source,
                })?;
            if !seen.insert(rec.id.clone()) {
                continue;
            }
            let paragraphs: Vec<String> = rec
                .paragraphs
                .iter()
                .map(|sentences| {
                    sentences
                        .iter()
                        .map(|s| detokenize(s))
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .filter(|p| !p.trim().is_empty())
                .collect();
            if paragraphs.is_empty() {
                continue;
            }
            out.push(CorpusArticle {
                title: title_from_url(&rec.source_url),
                id: rec.id,
                source: rec.source,
                category: rec.category,
                url: rec.source_url,
                paragraphs,
            });
        }
    }
    Ok(out)
}

/// Joins tokens into text, undoing the tokenizer's spaces around punctuation.
pub fn detokenize(tokens: &[String]) -> String {
    let mut out = String::new();
    let mut open_quote = false;
    let mut glue_next = false;
    for t in tokens {
        let tok = t.as_str();
        let closing = matches!(
            tok,
            "." | "," | ";" | ":" | "!" | "?" | ")" | "]" | "%" | "'s"
        ) || (tok == "\"" && open_quote);
        if !out.is_empty() && !closing && !glue_next {
            out.push(' ');
        }
        out.push_str(tok);
        glue_next = matches!(tok, "(" | "[") || (tok == "\"" && !open_quote);
        if tok == "\"" {
            open_quote = !open_quote;
        }
    }
    out
}

/// "https://x.id/a/ketua-mpr-mustahil-transportasi" → "Ketua Mpr Mustahil Transportasi".
fn title_from_url(url: &str) -> String {
    let slug = url
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    let words: Vec<String> = slug
        .split(['-', '_'])
        .filter(|w| !w.is_empty() && !w.chars().all(|c| c.is_ascii_digit()))
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect(),
                None => String::new(),
            }
        })
        .collect();
    if words.is_empty() {
        "Berita".to_string()
    } else {
        words.join(" ")
    }
}

/// Where a template puts the headline sidebar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SidebarPlace {
    Before,
    After,
}

/// An invented site layout for text pages.
#[derive(Debug, Clone)]
pub struct Template {
    pub site: &'static str,
    pub caption_credit: Option<&'static str>,
    pub sidebar: SidebarPlace,
    pub sidebar_len: usize,
    pub dateline: bool,
    /// Appended after the sidebar, as many sites do.
    pub more_link: &'static str,
}

/// The templates used by benches and the dedup evaluation.
pub fn templates() -> Vec<Template> {
    vec![
        Template {
            site: "warta-satu.example",
            caption_credit: Some("Net"),
            sidebar: SidebarPlace::After,
            sidebar_len: 10,
            dateline: false,
            more_link: "Selengkapnya",
        },
        Template {
            site: "kabar-dua.example",
            caption_credit: None,
            sidebar: SidebarPlace::Before,
            sidebar_len: 6,
            dateline: true,
            more_link: "Berita Lainnya",
        },
        Template {
            site: "berita-tiga.example",
            caption_credit: Some("Antara"),
            sidebar: SidebarPlace::After,
            sidebar_len: 8,
            dateline: true,
            more_link: "Lihat Selengkapnya",
        },
    ]
}

const HARI: [&str; 7] = [
    "Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu",
];
const BULAN: [&str; 12] = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
];

/// `Rabu, 31 Desember 2025 | 12:10`, in the page's local time.
pub fn indonesian_date_line<Z: chrono::TimeZone>(t: DateTime<Z>) -> String {
    use chrono::{Datelike, Timelike};
    format!(
        "{}, {} {} {} | {:02}:{:02}",
        HARI[t.weekday().num_days_from_monday() as usize],
        t.day(),
        BULAN[t.month0() as usize],
        t.year(),
        t.hour(),
        t.minute()
    )
}

/// Renders an article as a text page of `template`, with `sidebar` titles as the
/// headline list, dated backwards from `fetched_at` one item every 7 minutes.
pub fn render_page(
    template: &Template,
    title: &str,
    paragraphs: &[String],
    sidebar: &[&str],
    fetched_at: DateTime<Utc>,
) -> String {
    let local = fetched_at.with_timezone(&chrono_tz::Asia::Jakarta);
    let mut lines: Vec<String> = Vec::new();
    let mut side: Vec<String> = Vec::new();
    for (i, t) in sidebar.iter().take(template.sidebar_len).enumerate() {
        side.push(t.to_string());
        side.push(indonesian_date_line(
            local - Duration::minutes(7 * i as i64 + 3),
        ));
    }
    side.push(template.more_link.to_string());
    if template.sidebar == SidebarPlace::Before {
        lines.append(&mut side.clone());
    }
    if let Some(credit) = template.caption_credit {
        lines.push(format!("Ilustrasi {}/{credit}", title));
    }
    lines.push(title.to_string());
    if template.dateline {
        lines.push(indonesian_date_line(local - Duration::hours(2)));
    }
    lines.extend(paragraphs.iter().cloned());
    if template.sidebar == SidebarPlace::After {
        lines.append(&mut side);
    }
    lines.join("\n")
}

/// `n` raw page events (JSON bytes) from IndoSum, rendered in the templates in
/// turn, each with a sidebar of ten other articles' titles: the pages the
/// benches feed through the pipeline.
pub fn indosum_events(
    dir: &Path,
    n: usize,
    fetched_at: DateTime<Utc>,
) -> Result<Vec<Vec<u8>>, CorpusError> {
    let articles = load_indosum(dir)?;
    let templates = templates();
    let titles: Vec<&str> = articles.iter().map(|a| a.title.as_str()).collect();
    Ok(articles
        .iter()
        .take(n)
        .enumerate()
        .map(|(i, a)| {
            let t = &templates[i % templates.len()];
            let sidebar: Vec<&str> = (1..=10)
                .map(|k| titles[(i + k * 37) % titles.len()])
                .collect();
            serde_json::json!({
                "url": format!("https://{}/berita/{}", t.site, a.id),
                "fetched_at": fetched_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "content": render_page(t, &a.title, &a.paragraphs, &sidebar, fetched_at),
            })
            .to_string()
            .into_bytes()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detokenizes_punctuation_and_quotes() {
        let toks: Vec<String> = [
            "Ia", "berkata", ",", "\"", "Jadi", "begitu", ".", "\"", "(", "ANTARA", ")",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(detokenize(&toks), "Ia berkata, \"Jadi begitu.\" (ANTARA)");
    }

    #[test]
    fn titles_from_slugs() {
        assert_eq!(
            title_from_url("https://kumparan.com/x/ketua-mpr-mustahil-transportasi-123"),
            "Ketua Mpr Mustahil Transportasi"
        );
    }
}

//! `warta bench`: warta's own benchmark commands, for figures that criterion's
//! harness does not give (whole-pipeline throughput over a user's own file).
//!
//! `warta bench parse FILE` loads a JSONL file into memory and runs the pipeline
//! over it `rounds` times on one thread, reporting the median round.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;

use crate::config::Settings;
use crate::event::SourceRef;
use crate::pipeline::Pipeline;

/// Figures from one `bench parse` run.
#[derive(Debug, Clone, Copy)]
pub struct ParseBench {
    pub pages: usize,
    pub rounds: usize,
    /// Median over rounds of the mean time per page.
    pub median_page_micros: f64,
    pub pages_per_sec: f64,
}

impl std::fmt::Display for ParseBench {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pages={} rounds={} median_us_per_page={:.2} pages_per_sec={:.0}",
            self.pages, self.rounds, self.median_page_micros, self.pages_per_sec
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("cannot read {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0} holds no input lines")]
    Empty(String),
    #[error("cannot build the dedup index")]
    Index(#[from] crate::dedup::index::IndexError),
}

/// Runs the pipeline over every line of `path`, `rounds` times.
pub fn parse(
    settings: Arc<Settings>,
    path: &Path,
    rounds: usize,
) -> Result<ParseBench, BenchError> {
    let data = std::fs::read(path).map_err(|source| BenchError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let lines: Vec<&[u8]> = data
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        return Err(BenchError::Empty(path.display().to_string()));
    }
    let mut pipeline = Pipeline::new(settings)?;
    let now = Utc::now();
    let rounds = rounds.max(1);
    let mut per_page = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        for (i, line) in lines.iter().enumerate() {
            std::hint::black_box(pipeline.process(
                line,
                SourceRef::Line { line: i as u64 + 1 },
                now,
            ));
        }
        per_page.push(start.elapsed().as_secs_f64() / lines.len() as f64);
    }
    per_page.sort_by(f64::total_cmp);
    let median = per_page[per_page.len() / 2];
    Ok(ParseBench {
        pages: lines.len(),
        rounds,
        median_page_micros: median * 1e6,
        pages_per_sec: 1.0 / median,
    })
}

//! `warta process`: the pipeline over a JSONL file or stdin, without Kafka.
//!
//! Each input line is one raw page. Output records go to stdout as JSONL, each
//! tagged with its topic (`{"topic":…,"key":…,"value":…}`), or with `--out DIR`
//! to one `<topic>.jsonl` file per topic holding the values. A plain-text page
//! (`.txt`) is accepted as a single input when its URL is given.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde::Serialize;

use crate::config::Settings;
use crate::event::ArticleVerdict;
use crate::event::{RawPage, SourceRef};
use crate::pipeline::{HeadlineCounts, Outcome, Pipeline, Record};

/// Where input comes from.
#[derive(Debug, Clone)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

/// What `warta process` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    pub input: Input,
    /// Treat the whole input as one plain-text page with this URL.
    pub text_url: Option<String>,
    /// `fetched_at` for a plain-text page.
    pub text_fetched_at: Option<String>,
    /// Write one file per topic here instead of tagged records to stdout.
    pub out_dir: Option<PathBuf>,
}

/// Counts of what happened; the outcomes add up to `inputs`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub inputs: u64,
    /// Article pages, by verdict.
    pub new: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub duplicates: u64,
    /// Pages with a headline list and no article.
    pub index_pages: u64,
    pub rejected: u64,
    /// Headlines published (new or updated) and suppressed (seen before).
    pub headlines: u64,
    pub headlines_suppressed: u64,
    pub elapsed: Duration,
}

impl Summary {
    pub fn record(&mut self, outcome: Outcome) {
        self.inputs += 1;
        let headlines = match outcome {
            Outcome::Article { verdict, headlines } => {
                *match verdict {
                    ArticleVerdict::New => &mut self.new,
                    ArticleVerdict::Updated => &mut self.updated,
                    ArticleVerdict::Unchanged => &mut self.unchanged,
                    ArticleVerdict::Duplicate => &mut self.duplicates,
                } += 1;
                headlines
            }
            Outcome::HeadlinesOnly { headlines } => {
                self.index_pages += 1;
                headlines
            }
            Outcome::Rejected(_) => {
                self.rejected += 1;
                HeadlineCounts::default()
            }
        };
        self.headlines += headlines.published as u64;
        self.headlines_suppressed += headlines.suppressed as u64;
    }

    /// Article pages of any verdict.
    pub fn articles(&self) -> u64 {
        self.new + self.updated + self.unchanged + self.duplicates
    }

    /// Whether every input is accounted for exactly once.
    pub fn balanced(&self) -> bool {
        self.articles() + self.index_pages + self.rejected == self.inputs
    }

    pub fn pages_per_sec(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.inputs as f64 / secs
        } else {
            0.0
        }
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pages={} articles={} (new={} updated={} unchanged={} duplicate={}) index_pages={} rejected={} headlines={} headlines_suppressed={} elapsed={:.3}s pages_per_sec={:.0}",
            self.inputs,
            self.articles(),
            self.new,
            self.updated,
            self.unchanged,
            self.duplicates,
            self.index_pages,
            self.rejected,
            self.headlines,
            self.headlines_suppressed,
            self.elapsed.as_secs_f64(),
            self.pages_per_sec()
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("cannot read input {path}")]
    Read {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot write output {path}")]
    Write {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("a plain-text page needs --url (the page's absolute URL)")]
    TextNeedsUrl,
    #[error("cannot open the dedup state")]
    Open(#[from] crate::pipeline::OpenError),
    #[error("the dedup store failed; the output stops before the input it failed on")]
    Store(#[from] crate::dedup::verdict::StoreError),
}

/// Runs the pipeline over the input. Records go to `stdout` unless
/// `options.out_dir` is set.
pub fn run(
    settings: Arc<Settings>,
    options: &Options,
    stdout: &mut dyn Write,
) -> Result<Summary, ProcessError> {
    let input_name = match &options.input {
        Input::Stdin => "-".to_string(),
        Input::File(p) => p.display().to_string(),
    };
    let read_err = |source| ProcessError::Read {
        path: input_name.clone(),
        source,
    };
    let is_txt =
        matches!(&options.input, Input::File(p) if p.extension().is_some_and(|e| e == "txt"));
    if is_txt && options.text_url.is_none() {
        return Err(ProcessError::TextNeedsUrl);
    }
    let mut reader: Box<dyn BufRead> = match &options.input {
        Input::Stdin => Box::new(BufReader::new(io::stdin())),
        Input::File(p) => Box::new(BufReader::new(File::open(p).map_err(read_err)?)),
    };
    let mut sink = Sink::new(options.out_dir.as_deref(), stdout)?;
    let mut pipeline = Pipeline::new(settings.clone())?;
    let mut summary = Summary::default();
    let start = Instant::now();

    if let Some(url) = &options.text_url {
        let mut content = String::new();
        reader.read_to_string(&mut content).map_err(read_err)?;
        let raw = RawPage {
            url: url.clone(),
            content: Some(content),
            content_base64: None,
            charset: None,
            fetched_at: options.text_fetched_at.clone(),
            content_type: Some("text/plain".into()),
            site: None,
            language: None,
            timezone: None,
            title: None,
            metadata: None,
        };
        let bytes = serde_json::to_vec(&raw).unwrap_or_default();
        let processed = pipeline.try_process(&bytes, SourceRef::Line { line: 1 }, Utc::now())?;
        summary.record(processed.outcome);
        sink.write(&settings, &processed.records)?;
    } else {
        let mut line = Vec::with_capacity(64 * 1024);
        let mut n: u64 = 0;
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line).map_err(read_err)? == 0 {
                break;
            }
            n += 1;
            while matches!(line.last(), Some(b'\n' | b'\r')) {
                line.pop();
            }
            let processed = pipeline.try_process(&line, SourceRef::Line { line: n }, Utc::now())?;
            summary.record(processed.outcome);
            sink.write(&settings, &processed.records)?;
        }
    }
    sink.flush()?;
    summary.elapsed = start.elapsed();
    Ok(summary)
}

#[derive(Serialize)]
struct Tagged<'a> {
    topic: &'a str,
    key: Option<&'a str>,
    value: &'a crate::pipeline::Payload,
}

/// Where records are written.
enum Sink<'a> {
    Stdout(BufWriter<&'a mut dyn Write>),
    Dir {
        dir: PathBuf,
        files: HashMap<String, BufWriter<File>>,
    },
}

impl<'a> Sink<'a> {
    fn new(dir: Option<&Path>, stdout: &'a mut dyn Write) -> Result<Self, ProcessError> {
        Ok(match dir {
            None => Sink::Stdout(BufWriter::new(stdout)),
            Some(d) => {
                std::fs::create_dir_all(d).map_err(|source| ProcessError::Write {
                    path: d.display().to_string(),
                    source,
                })?;
                Sink::Dir {
                    dir: d.to_path_buf(),
                    files: HashMap::new(),
                }
            }
        })
    }

    fn write(&mut self, settings: &Settings, records: &[Record]) -> Result<(), ProcessError> {
        for r in records {
            let topic = r.destination.topic(settings);
            match self {
                Sink::Stdout(w) => {
                    let tagged = Tagged {
                        topic,
                        key: r.key.as_deref(),
                        value: &r.payload,
                    };
                    write_json_line(w, &tagged).map_err(|source| ProcessError::Write {
                        path: "-".into(),
                        source,
                    })?;
                }
                Sink::Dir { dir, files } => {
                    let path = dir.join(format!("{topic}.jsonl"));
                    let w = match files.get_mut(topic) {
                        Some(w) => w,
                        None => {
                            let f = File::create(&path).map_err(|source| ProcessError::Write {
                                path: path.display().to_string(),
                                source,
                            })?;
                            files.entry(topic.to_string()).or_insert(BufWriter::new(f))
                        }
                    };
                    write_json_line(w, &r.payload).map_err(|source| ProcessError::Write {
                        path: path.display().to_string(),
                        source,
                    })?;
                }
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ProcessError> {
        let err = |path: String| move |source| ProcessError::Write { path, source };
        match self {
            Sink::Stdout(w) => w.flush().map_err(err("-".into())),
            Sink::Dir { dir, files } => {
                for (topic, w) in files.iter_mut() {
                    w.flush().map_err(err(dir
                        .join(format!("{topic}.jsonl"))
                        .display()
                        .to_string()))?;
                }
                Ok(())
            }
        }
    }
}

fn write_json_line<W: Write, T: Serialize>(w: &mut W, value: &T) -> io::Result<()> {
    serde_json::to_writer(&mut *w, value)?;
    w.write_all(b"\n")
}

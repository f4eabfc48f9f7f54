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
use crate::event::{InvalidInput, RawPage, RejectCode, Rejected, SourceRef};
use crate::pipeline::{Destination, HeadlineCounts, Outcome, Payload, Pipeline, Processed, Record};

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
        // Read no more than the content limit (and one byte to tell); the
        // validator then rejects an oversized page as `content_too_large`.
        let limit = settings.input.max_content_bytes as u64 + 1;
        let mut bytes = Vec::new();
        (&mut reader)
            .take(limit)
            .read_to_end(&mut bytes)
            .map_err(read_err)?;
        if bytes.len() as u64 == limit {
            io::copy(&mut reader, &mut io::sink()).map_err(read_err)?;
        }
        let content = match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        let raw = RawPage {
            url: url.clone(),
            content,
            fetched_at: options.text_fetched_at.clone(),
            content_type: Some(crate::event::ContentType::Text),
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
        let cap = settings.max_line_bytes;
        loop {
            let read = read_line_capped(&mut reader, &mut line, cap).map_err(read_err)?;
            let source = SourceRef::Line { line: n + 1 };
            let processed = match read {
                LineRead::Eof => break,
                LineRead::Whole => pipeline.try_process(&line, source, Utc::now())?,
                LineRead::TooLong { total, hash } => {
                    let e = InvalidInput::new(
                        RejectCode::InputTooLarge,
                        format!(
                            "the line is {total} bytes, over the limit of {cap} (input.max_line_bytes); the first {} are kept",
                            line.len()
                        ),
                    );
                    // A character cut by the cap would make the kept bytes
                    // invalid UTF-8 (and the dead letter base64).
                    if let Err(e) = std::str::from_utf8(&line) {
                        if e.error_len().is_none() {
                            line.truncate(e.valid_up_to());
                        }
                    }
                    // The kept bytes move into the dead letter: a copy would
                    // double the memory an oversized line costs.
                    let kept = std::mem::replace(&mut line, Vec::with_capacity(64 * 1024));
                    let mut rejected = Rejected::from_vec(e, source, kept);
                    rejected.truncated_from(total, hash);
                    Processed {
                        outcome: Outcome::Rejected(RejectCode::InputTooLarge),
                        records: vec![Record {
                            destination: Destination::DeadLetter,
                            key: None,
                            payload: Payload::Rejected(Box::new(rejected)),
                        }],
                    }
                }
            };
            n += 1;
            summary.record(processed.outcome);
            sink.write(&settings, &processed.records)?;
        }
    }
    sink.flush()?;
    summary.elapsed = start.elapsed();
    Ok(summary)
}

/// What [`read_line_capped`] read.
#[derive(Debug, PartialEq, Eq)]
enum LineRead {
    Eof,
    /// The whole line is in the buffer, without its line break.
    Whole,
    /// The line was longer than the cap: the buffer holds its first `cap`
    /// bytes; `total` is its length without the line break and `hash` the
    /// xxh3-64 of all of it.
    TooLong {
        total: u64,
        hash: u64,
    },
}

/// Reads one line into `line`, holding at most `cap` bytes of it (plus a
/// carriage return): the excess of a longer line is hashed and skipped as it
/// streams past, so a 500 MB line costs the cap in memory, not 500 MB. The
/// line break ("\n" or "\r\n") is not part of the line, its length or its hash.
fn read_line_capped(r: &mut dyn BufRead, line: &mut Vec<u8>, cap: usize) -> io::Result<LineRead> {
    line.clear();
    let mut over: Option<Overflow> = None;
    let mut any = false;
    loop {
        let buf = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            if !any {
                return Ok(LineRead::Eof);
            }
            break;
        }
        any = true;
        let (n, body, done) = match memchr::memchr(b'\n', buf) {
            Some(i) => (i + 1, &buf[..i], true),
            None => (buf.len(), buf, false),
        };
        match over.as_mut() {
            Some(o) => o.feed(body, done),
            None if line.len() + body.len() <= cap + 1 => {
                // Grow once to the largest size a line can need, rather than
                // doubling past it (a 12 MiB line would get a 16 MiB buffer).
                if line.len() + body.len() > line.capacity() {
                    line.reserve_exact(cap + 1 - line.len());
                }
                line.extend_from_slice(body);
            }
            None => {
                let mut o = Overflow {
                    hasher: xxhash_rust::xxh3::Xxh3::new(),
                    total: line.len() as u64,
                    held_cr: false,
                };
                o.hasher.update(line);
                let room = (cap + 1).saturating_sub(line.len()).min(body.len());
                line.reserve_exact(room);
                line.extend_from_slice(&body[..room]);
                o.feed(body, done);
                over = Some(o);
            }
        }
        r.consume(n);
        if done {
            break;
        }
    }
    let (total, hash) = match over {
        Some(o) => (o.total, o.hasher.digest()),
        None => {
            while line.last() == Some(&b'\r') {
                line.pop();
            }
            if line.len() <= cap {
                return Ok(LineRead::Whole);
            }
            (
                line.len() as u64,
                xxhash_rust::xxh3::xxh3_64(line.as_slice()),
            )
        }
    };
    line.truncate(cap);
    Ok(LineRead::TooLong { total, hash })
}

/// The hash and length of the part of a long line past the cap.
struct Overflow {
    hasher: xxhash_rust::xxh3::Xxh3,
    total: u64,
    /// A "\r" that ended the previous piece: text, unless the line ends
    /// right after it.
    held_cr: bool,
}

impl Overflow {
    fn feed(&mut self, piece: &[u8], end: bool) {
        if self.held_cr && !(end && piece.is_empty()) {
            self.hasher.update(b"\r");
            self.total += 1;
        }
        let (piece, cr) = match piece.split_last() {
            Some((b'\r', rest)) => (rest, true),
            _ => (piece, false),
        };
        self.held_cr = cr;
        self.hasher.update(piece);
        self.total += piece.len() as u64;
    }
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

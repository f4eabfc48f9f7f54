//! Subscribe to warta's `clean-articles` (or `clean-headlines`,
//! `page-duplicates`) with rdkafka, into typed structs you can copy.
//!
//! ```text
//! cargo run --example consume -- --brokers 127.0.0.1:9092 --group search-indexer \
//!     [--topic clean-articles] [--max 100] [--idle-seconds 10]
//! ```
//!
//! Reads with `isolation.level = read_committed` (warta writes in transactions:
//! an aborted batch is never seen), in a consumer group, with auto-commit off:
//! an offset is committed only after its record was handled, so a crash
//! re-reads rather than skips. Prints one JSON line per record.
//!
//! The structs follow `schemas/clean-articles.v1.json` and
//! `schemas/clean-headlines.v1.json`. They ignore fields they do not know and
//! map enum values they do not know to `Other`, as the compatibility policy
//! asks of consumers (docs/events.md): a schema version may add optional
//! fields and enum values, never remove or change one.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::ClientConfig;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The schema version these structs read (header `warta-schema`).
pub const SCHEMA_VERSION: &str = "1";

/// A record of `clean-articles` (and `page-duplicates`). Kafka key: `cluster_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Article {
    pub schema_version: u32,
    /// 16 hex digits: a digest of `canonical_url`, stable across releases.
    pub id: String,
    pub url: String,
    pub canonical_url: String,
    pub site: String,
    pub title: Option<String>,
    pub caption: Option<Caption>,
    pub paragraphs: Vec<String>,
    pub text: String,
    pub published_at: Option<Published>,
    /// ISO 639-1 (or 639-3) code, lowercase.
    pub language: Option<String>,
    pub word_count: u64,
    /// UTC, whole seconds.
    pub fetched_at: DateTime<FixedOffset>,
    pub fetched_at_source: String,
    pub content_hash: String,
    pub removed: Removed,
    pub verdict: Verdict,
    pub version: u32,
    pub cluster_id: String,
    /// `updated` and `duplicate` only.
    #[serde(default)]
    pub similarity: Option<f64>,
    /// `duplicate` only.
    #[serde(default)]
    pub duplicate_of: Option<String>,
    #[serde(default)]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    pub modified_at: Option<Published>,
    #[serde(default)]
    pub authors: Vec<String>,
    /// Field name → where it came from (HTML pages).
    #[serde(default)]
    pub sources: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Caption {
    pub text: String,
    pub credit: Option<String>,
}

/// A stated date: `value` carries the page's UTC offset; `precision` says how
/// much of it the page gave (`day`: local midnight).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Published {
    pub value: DateTime<FixedOffset>,
    pub precision: Precision,
    pub source: String,
    pub raw: String,
    #[serde(default)]
    pub flags: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    Second,
    Minute,
    Day,
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    New,
    Updated,
    Duplicate,
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removed {
    pub repeated_paragraphs: u32,
    pub boilerplate_lines: u32,
    pub headline_items: u32,
    pub captions: u32,
}

/// A record of `clean-headlines`. Kafka key: `id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Headline {
    pub schema_version: u32,
    /// 16 hex digits: a digest of `site` and the normalized title.
    pub id: String,
    pub site: String,
    pub title: String,
    #[serde(default)]
    pub url: Option<String>,
    pub published_at: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    pub precision: Option<Precision>,
    #[serde(default)]
    pub flags: Vec<String>,
    pub verdict: Verdict,
    pub seen_on: String,
    pub position: u32,
}

/// One record as handed to the caller.
#[derive(Debug, Clone, Serialize)]
pub struct Received<T> {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<String>,
    /// Header name → UTF-8 value (`warta-schema`, `warta-verdict`,
    /// `warta-source`, and the input's own headers).
    pub headers: BTreeMap<String, String>,
    pub value: T,
}

pub struct Options {
    pub brokers: String,
    pub group: String,
    pub topic: String,
    /// Stop after this many records (0: never).
    pub max: usize,
    /// Stop after this long without a record (`None`: never).
    pub idle: Option<Duration>,
}

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Consumes `options.topic`, hands each record to `handle`, and commits its
/// offset once `handle` returned. Returns how many records were handled.
pub fn consume<T: DeserializeOwned>(
    options: &Options,
    mut handle: impl FnMut(Received<T>) -> Result<(), Error>,
) -> Result<usize, Error> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &options.brokers)
        .set("group.id", &options.group)
        .set("isolation.level", "read_committed")
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .create()?;
    consumer.subscribe(&[&options.topic])?;
    let mut handled = 0;
    let mut last = Instant::now();
    while options.max == 0 || handled < options.max {
        let Some(message) = consumer.poll(Duration::from_millis(500)) else {
            if options.idle.is_some_and(|idle| last.elapsed() > idle) {
                break;
            }
            continue;
        };
        let m = message?;
        last = Instant::now();
        let headers: BTreeMap<String, String> = m
            .headers()
            .map(|hs| {
                hs.iter()
                    .map(|h| {
                        let v = String::from_utf8_lossy(h.value.unwrap_or_default());
                        (h.key.to_string(), v.into_owned())
                    })
                    .collect()
            })
            .unwrap_or_default();
        let at = format!("{}/{}/{}", m.topic(), m.partition(), m.offset());
        // A record of another schema version needs other structs: stop
        // rather than misread it.
        if headers.get("warta-schema").map(String::as_str) != Some(SCHEMA_VERSION) {
            return Err(format!(
                "{at}: schema version {:?}, these structs read {SCHEMA_VERSION}",
                headers.get("warta-schema")
            )
            .into());
        }
        let value: T = serde_json::from_slice(m.payload().unwrap_or_default())
            .map_err(|e| format!("{at}: {e}"))?;
        handle(Received {
            topic: m.topic().to_string(),
            partition: m.partition(),
            offset: m.offset(),
            key: m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
            headers,
            value,
        })?;
        consumer.commit_message(&m, CommitMode::Sync)?;
        handled += 1;
    }
    Ok(handled)
}

fn print<T: Serialize>(r: Received<T>) -> Result<(), Error> {
    println!("{}", serde_json::to_string(&r)?);
    Ok(())
}

fn main() -> Result<(), Error> {
    let mut options = Options {
        brokers: "127.0.0.1:9092".into(),
        group: String::new(),
        topic: "clean-articles".into(),
        max: 0,
        idle: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--brokers" => options.brokers = value()?,
            "--group" => options.group = value()?,
            "--topic" => options.topic = value()?,
            "--max" => options.max = value()?.parse()?,
            "--idle-seconds" => options.idle = Some(Duration::from_secs_f64(value()?.parse()?)),
            _ => return Err(format!("unknown argument {flag}").into()),
        }
    }
    if options.group.is_empty() {
        return Err("--group is required".into());
    }
    let n = if options.topic.ends_with("clean-headlines") {
        consume::<Headline>(&options, print)?
    } else {
        consume::<Article>(&options, print)?
    };
    eprintln!("consumed {n} records from {}", options.topic);
    Ok(())
}

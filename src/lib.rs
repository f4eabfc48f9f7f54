//! warta turns raw crawled news pages into clean article and headline events.
//!
//! A raw page (`url`, `fetched_at`, `content`) goes through three pure, synchronous
//! stages: it is validated into a [`event::Page`] (or rejected with a stable code),
//! parsed into a [`parse::ParsedPage`] (article body, caption, title, date and the
//! page's headline list), and turned into output records by [`pipeline::Pipeline`].
//! The edges that read and write those records (a JSONL file, later Kafka) are thin
//! and live apart from the stages, so tests can call every stage directly.
//!
//! # Layout
//! In the order a page travels (`docs/architecture.md` draws it):
//! - `main.rs`: the command line; the only place that uses `anyhow`.
//! - [`config`]: `config/default.toml` + file + `WARTA__…` env → validated [`config::Settings`].
//! - [`event`]: input and output event types (serde), schema version, rejection codes.
//! - [`validate`]: raw bytes → [`event::Page`] or a rejection with its code;
//!   [`charset`] decodes raw page bytes, [`canonical`] canonicalises URLs.
//! - [`parse`]: page → [`parse::ParsedPage`]; pure. `lang` (per-language data),
//!   `date` (the date grammar and every rule that picks a publication date),
//!   `textpage` (plain-text pages), `html` (HTML pages and feeds: `dom`,
//!   `meta`, `content`, `title`, `headlines`).
//! - [`language`]: the language code rule every source goes through (ISO 639-1, else 639-3).
//! - [`text`]: text normalization and hashing shared by the parser and ids.
//! - [`dedup`]: near-duplicate fingerprints (MinHash), the bounded LSH index and
//!   verdicts (pure); `deduper`, one instance's state with its changelog and
//!   tombstones; the changelog records; the optional Redis store.
//! - [`pipeline`]: raw bytes → output records: prepare (validate, parse,
//!   fingerprint), then decide (verdicts → records); every input exactly once.
//! - [`summary`]: the outcome counts `process` prints and the service totals.
//! - [`process`]: `warta process`, the pipeline over a JSONL file or stdin.
//! - [`kafka`]: the consumer-group service (exactly-once or at-least-once).
//! - [`app`]: `warta run` wired together: the metrics/health listener and the service.
//! - [`metrics`]: every metric name, described once; [`http`]: `/metrics`, `/healthz`, `/readyz`.
//! - [`schema`]: JSON Schemas of the input, each output topic and the Kafka headers.
//! - [`loadgen`]: `warta bench kafka`, an operator's load generator against a broker.
//!
//! Evaluation, corpus loaders and the benchmarks live in the `warta-lab` crate
//! (`lab/`), which depends on this one.

pub mod app;
pub mod canonical;
pub mod charset;
pub mod config;
pub mod dedup;
pub mod event;
pub mod http;
pub mod kafka;
pub mod language;
pub mod loadgen;
pub mod metrics;
pub mod parse;
pub mod pipeline;
pub mod process;
pub mod schema;
pub mod summary;
pub mod text;
pub mod validate;

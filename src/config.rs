//! Configuration: `config/default.toml` (embedded) → `--config FILE` →
//! `WARTA__SECTION__KEY` environment variables, deserialized into [`RawConfig`]
//! and validated into [`Settings`].
//!
//! Validation collects every problem (unknown keys, bad values, rules between
//! keys) and reports them together, so an operator fixes a config in one pass.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::parse::SiteHints;
use crate::validate::InputLimits;

/// The embedded defaults: the lowest configuration layer.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");

/// Configuration as written: every key optional-free because the defaults file
/// fills them; validated into [`Settings`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RawConfig {
    pub input: RawInput,
    pub parse: RawParse,
    pub topics: RawTopics,
    pub dedup: RawDedup,
    pub kafka: RawKafka,
    pub workers: RawWorkers,
    pub shutdown: RawShutdown,
    pub metrics: RawMetrics,
    pub log: RawLog,
    #[serde(default)]
    pub sites: BTreeMap<String, RawSite>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RawInput {
    pub max_content_bytes: u64,
    pub max_line_bytes: u64,
    pub max_url_bytes: u64,
    pub max_future_skew_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RawParse {
    pub max_headlines: u64,
    pub max_paragraphs: u64,
    pub max_work_units: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RawTopics {
    pub input: Vec<String>,
    pub articles: String,
    pub headlines: String,
    pub duplicates: String,
    pub dead_letter: String,
    pub state: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RawDedup {
    pub enabled: bool,
    pub threshold: f64,
    pub shingle_words: u64,
    pub shingle_chars: u64,
    pub ttl_secs: u64,
    pub max_articles: u64,
    pub max_headlines: u64,
    pub duplicates: String,
    pub changelog: bool,
    pub changelog_partitions: u64,
    pub follow_changelog: bool,
    pub store: String,
    pub redis: RawRedis,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RawRedis {
    pub urls: Vec<String>,
    pub cluster: bool,
    pub prefix: String,
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RawKafka {
    pub brokers: String,
    pub group_id: String,
    pub delivery: String,
    pub transactional_id_prefix: String,
    pub batch_max_records: u64,
    pub batch_max_ms: u64,
    pub transaction_timeout_ms: u64,
    pub retry_backoff_ms: u64,
    pub retry_backoff_max_ms: u64,
    pub statistics_interval_ms: u64,
    #[serde(default)]
    pub consumer: BTreeMap<String, String>,
    #[serde(default)]
    pub producer: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RawWorkers {
    pub threads: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RawShutdown {
    pub drain_timeout_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RawMetrics {
    pub enabled: bool,
    pub listen: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RawLog {
    pub level: String,
    pub format: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RawSite {
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
}

/// Output topic names, by what they carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    pub input: Vec<String>,
    pub articles: String,
    pub headlines: String,
    pub duplicates: String,
    pub dead_letter: String,
    /// The compacted changelog of the dedup state (`warta run`).
    pub state: String,
}

pub use crate::dedup::deduper::DuplicatePolicy;

/// Validated dedup settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DedupSettings {
    pub enabled: bool,
    pub threshold: f64,
    pub shingles: crate::dedup::minhash::ShingleConfig,
    pub ttl_secs: u32,
    pub max_articles: usize,
    pub max_headlines: usize,
    pub duplicates: DuplicatePolicy,
    /// Whether `warta run` writes the state to `topics.state` and restores it
    /// on start.
    pub changelog: bool,
    /// Partitions of `topics.state` when warta creates it.
    pub changelog_partitions: i32,
    /// Whether a running instance applies the changes other instances write
    /// to the changelog (one logical index across instances).
    pub follow_changelog: bool,
    /// Where the article index lives.
    pub store: StoreKind,
}

/// Where the article index lives (`dedup.store`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// In the instance's memory, restored from the changelog.
    Memory,
    /// In Redis, shared by every instance at once (`[dedup.redis]`).
    Redis,
}

/// Delivery guarantee of `warta run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    ExactlyOnce,
    AtLeastOnce,
}

/// Validated Kafka settings.
#[derive(Debug, Clone, PartialEq)]
pub struct KafkaSettings {
    pub brokers: String,
    pub group_id: String,
    pub delivery: Delivery,
    pub transactional_id_prefix: String,
    pub batch_max_records: usize,
    pub batch_max: std::time::Duration,
    pub transaction_timeout: std::time::Duration,
    pub retry_backoff: std::time::Duration,
    pub retry_backoff_max: std::time::Duration,
    pub statistics_interval_ms: u64,
    /// librdkafka properties passed through, keys with dots.
    pub consumer: BTreeMap<String, String>,
    pub producer: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Validated settings: everything checked, ready to use. Pass as `Arc<Settings>`.
#[derive(Debug, Clone)]
pub struct Settings {
    pub input: InputLimits,
    /// Longest input line read (`warta process`).
    pub max_line_bytes: usize,
    pub parse: crate::parse::ParseLimits,
    pub topics: Topics,
    pub dedup: DedupSettings,
    pub kafka: KafkaSettings,
    /// Parse/fingerprint threads (at least 1).
    pub worker_threads: usize,
    pub drain_timeout: std::time::Duration,
    /// Where `/metrics`, `/healthz` and `/readyz` are served (`warta run`);
    /// `None` when `metrics.enabled` is false.
    pub metrics_listen: Option<std::net::SocketAddr>,
    pub log_level: String,
    pub log_format: LogFormat,
    pub sites: BTreeMap<String, SiteHints>,
    /// How to reach Redis when `dedup.store = "redis"`.
    pub redis: crate::dedup::redis::RedisConfig,
    /// The merged configuration as read, for `warta check-config`.
    pub raw: RawConfig,
}

/// Configuration errors. `Invalid` carries every problem found.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration")]
    Load(#[from] config::ConfigError),
    #[error("invalid configuration:\n{0}")]
    Invalid(Problems),
}

/// A list of configuration problems, printed one per line.
#[derive(Debug)]
pub struct Problems(pub Vec<String>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "  - {p}")?;
        }
        Ok(())
    }
}

/// Where configuration comes from, besides the embedded defaults.
#[derive(Debug, Default, Clone)]
pub struct Sources<'a> {
    /// `--config FILE`.
    pub file: Option<&'a Path>,
    /// Environment variables; `None` reads the process environment. Tests pass
    /// their own map so they do not race on the real environment.
    pub env: Option<BTreeMap<String, String>>,
}

impl Settings {
    /// Loads and validates the layered configuration.
    pub fn load(sources: Sources<'_>) -> Result<Settings, ConfigError> {
        let mut builder = config::Config::builder().add_source(config::File::from_str(
            DEFAULT_TOML,
            config::FileFormat::Toml,
        ));
        if let Some(path) = sources.file {
            builder = builder.add_source(config::File::from(path).required(true));
        }
        let mut env = config::Environment::with_prefix("WARTA")
            .prefix_separator("__")
            .separator("__")
            .try_parsing(true)
            .list_separator(",")
            .with_list_parse_key("topics.input")
            .with_list_parse_key("dedup.redis.urls");
        if let Some(vars) = sources.env {
            env = env.source(Some(vars.into_iter().collect()));
        }
        let merged = builder.add_source(env).build()?;

        let mut problems = Vec::new();
        // Types first, every key of every section, so that one wrong type
        // does not hide the others; the keys at fault then take their
        // defaults, so the rules on the other keys are checked too.
        let resets = check_types(&config::Source::collect(&merged)?, &mut problems);
        let merged = if resets.is_empty() {
            merged
        } else {
            let mut b = config::Config::builder().add_source(merged);
            for (key, value) in resets {
                b = b.set_override(key, value)?;
            }
            b.build()?
        };
        let raw: RawConfig = match serde_ignored::deserialize(merged, |path| {
            problems.push(format!("unknown key `{path}`"));
        }) {
            Ok(raw) => raw,
            Err(e) => {
                problems.push(e.to_string());
                return Err(ConfigError::Invalid(Problems(problems)));
            }
        };
        let settings = validate(raw, &mut problems);
        if problems.is_empty() {
            Ok(settings)
        } else {
            Err(ConfigError::Invalid(Problems(problems)))
        }
    }

    /// The defaults alone, for tests and tools.
    pub fn defaults() -> Result<Settings, ConfigError> {
        Settings::load(Sources {
            file: None,
            env: Some(BTreeMap::new()),
        })
    }

    /// Per-site hints for `site`, or none.
    pub fn site(&self, site: &str) -> Option<&SiteHints> {
        self.sites.get(site)
    }

    /// The effective configuration as TOML, for `warta check-config`, with the
    /// values of secret-looking librdkafka properties masked.
    pub fn to_toml(&self) -> String {
        let mut raw = self.raw.clone();
        for m in [&mut raw.kafka.consumer, &mut raw.kafka.producer] {
            for (k, v) in m.iter_mut() {
                let k = k.to_ascii_lowercase();
                if ["password", "secret", "key", "token", "jaas"]
                    .iter()
                    .any(|s| k.contains(s))
                {
                    *v = "********".into();
                }
            }
        }
        toml::to_string_pretty(&raw).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
    }
}

/// Sections whose keys are free-form (their values are checked in `validate`).
const FREE_FORM: [&str; 3] = ["sites", "kafka.consumer", "kafka.producer"];

/// Checks every value against the type of its default: the embedded
/// `config/default.toml` lists every key, so it is the schema. Each problem
/// names the key and the layer that set it. Returns the keys at fault with
/// their default values.
fn check_types(
    merged: &config::Map<String, config::Value>,
    problems: &mut Vec<String>,
) -> Vec<(String, config::Value)> {
    let Ok(schema) = toml::from_str::<toml::Table>(DEFAULT_TOML) else {
        return Vec::new();
    };
    let mut resets = Vec::new();
    walk_types("", &schema, merged, problems, &mut resets);
    resets
}

fn walk_types(
    prefix: &str,
    schema: &toml::Table,
    values: &config::Map<String, config::Value>,
    problems: &mut Vec<String>,
    resets: &mut Vec<(String, config::Value)>,
) {
    use config::ValueKind as K;
    let mut keys: Vec<&String> = values.keys().collect();
    keys.sort();
    for k in keys {
        let v = &values[k];
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        // Unknown keys are reported by the deserializer.
        let Some(expected) = schema.get(k) else {
            continue;
        };
        let problem = match (expected, &v.kind) {
            (toml::Value::Table(t), K::Table(inner)) => {
                if !FREE_FORM.contains(&key.as_str()) {
                    walk_types(&key, t, inner, problems, resets);
                }
                None
            }
            (toml::Value::Table(_), _) => Some("must be a section (a table of keys)"),
            (toml::Value::Integer(_), kind) => match kind {
                K::I64(n) if *n < 0 => Some("must not be negative"),
                K::I128(n) if *n < 0 => Some("must not be negative"),
                K::I64(_) | K::U64(_) => None,
                K::I128(n) if u64::try_from(*n).is_ok() => None,
                K::U128(n) if u64::try_from(*n).is_ok() => None,
                K::I128(_) | K::U128(_) => Some("is too large (at most 18446744073709551615)"),
                K::Float(f) if f.fract() == 0.0 && *f >= 0.0 => {
                    Some("is too large (at most 18446744073709551615)")
                }
                K::Float(_) => Some("must be a whole number"),
                K::String(s) if s.trim().parse::<u64>().is_ok() => None,
                _ => Some("must be a whole number"),
            },
            (toml::Value::Float(_), kind) => match kind {
                K::I64(_) | K::U64(_) | K::I128(_) | K::U128(_) | K::Float(_) => None,
                K::String(s) if s.trim().parse::<f64>().is_ok() => None,
                _ => Some("must be a number"),
            },
            (toml::Value::Boolean(_), kind) => match kind {
                K::Boolean(_) => None,
                K::String(s) if matches!(s.trim(), "true" | "false") => None,
                _ => Some("must be true or false"),
            },
            (toml::Value::Array(_), kind) => match kind {
                // From the environment a list is a comma-separated string.
                K::Array(_) | K::String(_) => None,
                _ => Some("must be a list"),
            },
            (_, K::Table(_) | K::Array(_) | K::Nil) => Some("must be a single value"),
            _ => None,
        };
        if let Some(problem) = problem {
            let from = match v.origin() {
                Some("the environment") => format!(
                    "the environment, WARTA__{}",
                    key.to_ascii_uppercase().replace('.', "__")
                ),
                Some(o) => o.to_string(),
                None => "the defaults".to_string(),
            };
            problems.push(format!(
                "{key} {problem}, got {} (from {from})",
                describe_value(&v.kind)
            ));
            resets.push((key, to_config_value(expected)));
        }
    }
}

fn describe_value(kind: &config::ValueKind) -> String {
    use config::ValueKind as K;
    match kind {
        K::Nil => "nothing".into(),
        K::Boolean(b) => format!("{b}"),
        K::I64(n) => format!("{n}"),
        K::I128(n) => format!("{n}"),
        K::U64(n) => format!("{n}"),
        K::U128(n) => format!("{n}"),
        K::Float(f) => format!("{f}"),
        K::String(s) => format!("{s:?}"),
        K::Table(_) => "a table".into(),
        K::Array(_) => "a list".into(),
    }
}

fn to_config_value(v: &toml::Value) -> config::Value {
    use config::ValueKind as K;
    let kind = match v {
        toml::Value::Integer(n) => K::I64(*n),
        toml::Value::Float(f) => K::Float(*f),
        toml::Value::Boolean(b) => K::Boolean(*b),
        toml::Value::String(s) => K::String(s.clone()),
        toml::Value::Array(a) => K::Array(a.iter().map(to_config_value).collect()),
        toml::Value::Table(t) => K::Table(
            t.iter()
                .map(|(k, v)| (k.clone(), to_config_value(v)))
                .collect(),
        ),
        toml::Value::Datetime(d) => K::String(d.to_string()),
    };
    config::Value::new(None, kind)
}

fn validate(raw: RawConfig, problems: &mut Vec<String>) -> Settings {
    const MAX_CONTENT_LIMIT: u64 = 1 << 30;
    if raw.input.max_content_bytes == 0 || raw.input.max_content_bytes > MAX_CONTENT_LIMIT {
        problems.push(format!(
            "input.max_content_bytes ({}) must be between 1 and {MAX_CONTENT_LIMIT}",
            raw.input.max_content_bytes
        ));
    }
    let i = &raw.input;
    for (key, v, lo, hi) in [
        (
            "input.max_line_bytes",
            i.max_line_bytes,
            1024,
            2 * MAX_CONTENT_LIMIT,
        ),
        ("input.max_url_bytes", i.max_url_bytes, 64, 1 << 20),
        (
            "input.max_future_skew_secs",
            i.max_future_skew_secs,
            0,
            366 * 86_400,
        ),
        ("parse.max_headlines", raw.parse.max_headlines, 1, 1 << 20),
        ("parse.max_paragraphs", raw.parse.max_paragraphs, 1, 1 << 20),
        (
            "parse.max_work_units",
            raw.parse.max_work_units,
            1000,
            u64::MAX,
        ),
    ] {
        if !(lo..=hi).contains(&v) {
            problems.push(format!("{key} ({v}) must be between {lo} and {hi}"));
        }
    }
    if i.max_line_bytes < i.max_content_bytes {
        problems.push(format!(
            "input.max_line_bytes ({}) must be at least input.max_content_bytes ({}): a line holds the content",
            i.max_line_bytes, i.max_content_bytes
        ));
    }
    let t = &raw.topics;
    if t.input.is_empty() {
        problems.push("topics.input must name at least one topic".into());
    }
    let outputs = [
        ("topics.articles", &t.articles),
        ("topics.headlines", &t.headlines),
        ("topics.duplicates", &t.duplicates),
        ("topics.dead_letter", &t.dead_letter),
        ("topics.state", &t.state),
    ];
    for (key, name) in outputs
        .iter()
        .copied()
        .chain(t.input.iter().map(|n| ("topics.input", n)))
    {
        if !valid_topic_name(name) {
            problems.push(format!(
                "{key} ({name:?}) is not a valid Kafka topic name: 1 to 249 characters of [a-zA-Z0-9._-]"
            ));
        }
    }
    for (i, (ka, a)) in outputs.iter().enumerate() {
        for (kb, b) in &outputs[i + 1..] {
            if a == b {
                problems.push(format!("{ka} and {kb} must differ (both are {a:?})"));
            }
        }
        if t.input.contains(a) {
            problems.push(format!(
                "{ka} ({a:?}) must not also be an input topic: warta would read its own output"
            ));
        }
    }
    let d = &raw.dedup;
    if !(d.threshold > 0.0 && d.threshold <= 1.0) {
        problems.push(format!(
            "dedup.threshold ({}) must be in (0, 1]",
            d.threshold
        ));
    }
    for (key, v) in [
        ("dedup.shingle_words", d.shingle_words),
        ("dedup.shingle_chars", d.shingle_chars),
    ] {
        if !(1..=16).contains(&v) {
            problems.push(format!("{key} ({v}) must be between 1 and 16"));
        }
    }
    if d.ttl_secs == 0 || d.ttl_secs > u32::MAX as u64 {
        problems.push(format!(
            "dedup.ttl_secs ({}) must be between 1 and {}",
            d.ttl_secs,
            u32::MAX
        ));
    }
    let max_index = crate::dedup::index::MAX_CAPACITY as u64;
    for (key, v) in [
        ("dedup.max_articles", d.max_articles),
        ("dedup.max_headlines", d.max_headlines),
    ] {
        if v == 0 || v > max_index {
            problems.push(format!("{key} ({v}) must be between 1 and {max_index}"));
        }
    }
    if !(1..=10_000).contains(&d.changelog_partitions) {
        problems.push(format!(
            "dedup.changelog_partitions ({}) must be between 1 and 10000",
            d.changelog_partitions
        ));
    }
    let duplicates = match d.duplicates.as_str() {
        "route" => DuplicatePolicy::Route,
        "drop" => DuplicatePolicy::Drop,
        "mark" => DuplicatePolicy::Mark,
        other => {
            problems.push(format!(
                "dedup.duplicates ({other:?}) must be \"route\", \"drop\" or \"mark\""
            ));
            DuplicatePolicy::Route
        }
    };
    let store = match d.store.as_str() {
        "memory" => StoreKind::Memory,
        "redis" => StoreKind::Redis,
        other => {
            problems.push(format!(
                "dedup.store ({other:?}) must be \"memory\" or \"redis\""
            ));
            StoreKind::Memory
        }
    };
    let r = &d.redis;
    if store == StoreKind::Redis {
        if r.urls.is_empty() {
            problems.push("dedup.redis.urls must name at least one server".into());
        }
        if !r.cluster && r.urls.len() > 1 {
            problems.push(format!(
                "dedup.redis.urls names {} servers; set dedup.redis.cluster = true for a Redis Cluster",
                r.urls.len()
            ));
        }
    }
    for url in &r.urls {
        if !url.starts_with("redis://") {
            problems.push(format!(
                "dedup.redis.urls: {url:?} must start with redis:// (TLS to Redis is not built in)"
            ));
        }
    }
    if r.prefix.is_empty() || r.prefix.contains(['{', '}', ' ']) {
        problems.push(format!(
            "dedup.redis.prefix ({:?}) must be non-empty, without braces or spaces",
            r.prefix
        ));
    }
    if !(1..=60_000).contains(&r.timeout_ms) {
        problems.push(format!(
            "dedup.redis.timeout_ms ({}) must be between 1 and 60000",
            r.timeout_ms
        ));
    }
    let redis = crate::dedup::redis::RedisConfig {
        urls: r.urls.clone(),
        cluster: r.cluster,
        prefix: r.prefix.clone(),
        timeout: std::time::Duration::from_millis(r.timeout_ms.clamp(1, 60_000)),
    };
    let dedup = DedupSettings {
        enabled: d.enabled,
        threshold: d.threshold,
        shingles: crate::dedup::minhash::ShingleConfig {
            word_k: d.shingle_words.clamp(1, 16) as usize,
            char_k: d.shingle_chars.clamp(1, 16) as usize,
        },
        ttl_secs: d.ttl_secs.clamp(1, u32::MAX as u64) as u32,
        max_articles: d.max_articles.clamp(1, max_index) as usize,
        max_headlines: d.max_headlines.clamp(1, max_index) as usize,
        duplicates,
        changelog: d.changelog,
        changelog_partitions: d.changelog_partitions.clamp(1, 10_000) as i32,
        follow_changelog: d.follow_changelog,
        store,
    };
    let k = &raw.kafka;
    let delivery = match k.delivery.as_str() {
        "exactly-once" => Delivery::ExactlyOnce,
        "at-least-once" => Delivery::AtLeastOnce,
        other => {
            problems.push(format!(
                "kafka.delivery ({other:?}) must be \"exactly-once\" or \"at-least-once\""
            ));
            Delivery::ExactlyOnce
        }
    };
    if k.brokers.trim().is_empty() {
        problems.push("kafka.brokers must name at least one broker".into());
    }
    if k.group_id.trim().is_empty() {
        problems.push("kafka.group_id must not be empty".into());
    }
    if k.batch_max_records == 0 || k.batch_max_records > 100_000 {
        problems.push(format!(
            "kafka.batch_max_records ({}) must be between 1 and 100000",
            k.batch_max_records
        ));
    }
    if k.batch_max_ms == 0 {
        problems.push("kafka.batch_max_ms must be at least 1".into());
    }
    let max_poll = k
        .consumer
        .get("max.poll.interval.ms")
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(300_000);
    if k.transaction_timeout_ms == 0 || k.transaction_timeout_ms >= max_poll {
        problems.push(format!(
            "kafka.transaction_timeout_ms ({}) must be above 0 and below the consumer's max.poll.interval.ms ({max_poll})",
            k.transaction_timeout_ms
        ));
    }
    if k.retry_backoff_ms == 0 || k.retry_backoff_ms > k.retry_backoff_max_ms {
        problems.push(format!(
            "kafka.retry_backoff_ms ({}) must be above 0 and at most kafka.retry_backoff_max_ms ({})",
            k.retry_backoff_ms, k.retry_backoff_max_ms
        ));
    }
    // Env vars cannot carry dots in keys; librdkafka keys never contain '_'.
    let dotted = |m: &BTreeMap<String, String>| -> BTreeMap<String, String> {
        m.iter()
            .map(|(k, v)| (k.replace('_', "."), v.clone()))
            .collect()
    };
    let consumer = dotted(&k.consumer);
    let producer = dotted(&k.producer);
    for (section, m, owned) in [
        (
            "kafka.consumer",
            &consumer,
            &[
                "bootstrap.servers",
                "group.id",
                "enable.auto.offset.store",
                "isolation.level",
            ][..],
        ),
        (
            "kafka.producer",
            &producer,
            &[
                "bootstrap.servers",
                "transactional.id",
                "enable.idempotence",
            ][..],
        ),
    ] {
        for key in m.keys().filter(|key| owned.contains(&key.as_str())) {
            problems.push(format!(
                "{section}.\"{key}\" is set by warta from its own settings and cannot be overridden"
            ));
        }
    }
    if raw.shutdown.drain_timeout_ms == 0 {
        problems.push("shutdown.drain_timeout_ms must be at least 1".into());
    }
    let kafka = KafkaSettings {
        brokers: k.brokers.clone(),
        group_id: k.group_id.clone(),
        delivery,
        transactional_id_prefix: k.transactional_id_prefix.clone(),
        batch_max_records: k.batch_max_records.clamp(1, 100_000) as usize,
        batch_max: std::time::Duration::from_millis(k.batch_max_ms.max(1)),
        transaction_timeout: std::time::Duration::from_millis(k.transaction_timeout_ms.max(1)),
        retry_backoff: std::time::Duration::from_millis(k.retry_backoff_ms.max(1)),
        retry_backoff_max: std::time::Duration::from_millis(k.retry_backoff_max_ms.max(1)),
        statistics_interval_ms: k.statistics_interval_ms,
        consumer,
        producer,
    };
    let worker_threads = match raw.workers.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n.min(1024) as usize,
    };
    let metrics_listen = match raw.metrics.listen.parse::<std::net::SocketAddr>() {
        Ok(a) => raw.metrics.enabled.then_some(a),
        Err(_) => {
            problems.push(format!(
                "metrics.listen ({:?}) must be an IP address and port such as \"0.0.0.0:9898\"",
                raw.metrics.listen
            ));
            None
        }
    };
    let log_format = match raw.log.format.as_str() {
        "text" => LogFormat::Text,
        "json" => LogFormat::Json,
        other => {
            problems.push(format!(
                "log.format ({other:?}) must be \"text\" or \"json\""
            ));
            LogFormat::Text
        }
    };
    if let Err(e) = tracing_subscriber::EnvFilter::try_new(&raw.log.level) {
        problems.push(format!(
            "log.level ({:?}) is not a valid filter: {e}",
            raw.log.level
        ));
    }
    let mut sites = BTreeMap::new();
    for (site, s) in &raw.sites {
        let timezone = s.timezone.as_deref().and_then(|tz| match tz.parse::<Tz>() {
            Ok(tz) => Some(tz),
            Err(_) => {
                problems.push(format!(
                    "sites.{site:?}.timezone ({tz:?}) is not an IANA zone name such as \"Asia/Jakarta\""
                ));
                None
            }
        });
        let language = s.language.as_deref().and_then(|l| {
            let code = crate::language::code(l);
            if code.is_none() {
                problems.push(format!(
                    "sites.{site:?}.language ({l:?}) is not an ISO 639-1 or 639-3 code such as \"id\""
                ));
            }
            code
        });
        sites.insert(site.to_ascii_lowercase(), SiteHints { timezone, language });
    }
    Settings {
        input: InputLimits {
            max_content_bytes: raw.input.max_content_bytes as usize,
            max_url_bytes: raw.input.max_url_bytes.clamp(64, 1 << 20) as usize,
            max_future_skew_secs: raw.input.max_future_skew_secs.min(366 * 86_400) as u32,
        },
        max_line_bytes: raw.input.max_line_bytes.clamp(1024, 2 * MAX_CONTENT_LIMIT) as usize,
        parse: crate::parse::ParseLimits {
            max_headlines: raw.parse.max_headlines.clamp(1, 1 << 20) as usize,
            max_paragraphs: raw.parse.max_paragraphs.clamp(1, 1 << 20) as usize,
            max_work_units: raw.parse.max_work_units.max(1000),
        },
        topics: Topics {
            input: t.input.clone(),
            articles: t.articles.clone(),
            headlines: t.headlines.clone(),
            duplicates: t.duplicates.clone(),
            dead_letter: t.dead_letter.clone(),
            state: t.state.clone(),
        },
        dedup,
        kafka,
        worker_threads,
        drain_timeout: std::time::Duration::from_millis(raw.shutdown.drain_timeout_ms.max(1)),
        metrics_listen,
        log_level: raw.log.level.clone(),
        log_format,
        sites,
        redis,
        raw,
    }
}

fn valid_topic_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 249
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Sources<'static> {
        Sources {
            file: None,
            env: Some(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
        }
    }

    fn problems(r: Result<Settings, ConfigError>) -> Vec<String> {
        match r {
            Err(ConfigError::Invalid(p)) => p.0,
            Err(e) => panic!("unexpected error {e}"),
            Ok(_) => panic!("config was accepted"),
        }
    }

    #[test]
    fn redis_store_settings_are_validated_together() {
        let all = problems(Settings::load(env(&[
            ("WARTA__DEDUP__STORE", "redis"),
            (
                "WARTA__DEDUP__REDIS__URLS",
                "redis://127.0.0.1:7000,rediss://127.0.0.1:7001",
            ),
            ("WARTA__DEDUP__REDIS__PREFIX", "a{b}"),
            ("WARTA__DEDUP__REDIS__TIMEOUT_MS", "0"),
        ])));
        let joined = all.join("\n");
        for want in [
            "set dedup.redis.cluster = true",
            "must start with redis://",
            "dedup.redis.prefix",
            "dedup.redis.timeout_ms",
        ] {
            assert!(joined.contains(want), "{want:?} missing from:\n{joined}");
        }
        assert!(
            problems(Settings::load(env(&[("WARTA__DEDUP__STORE", "disk")])))[0]
                .contains("dedup.store")
        );
        let s = Settings::load(env(&[
            ("WARTA__DEDUP__STORE", "redis"),
            ("WARTA__DEDUP__REDIS__CLUSTER", "true"),
            (
                "WARTA__DEDUP__REDIS__URLS",
                "redis://10.0.0.1:7000,redis://10.0.0.2:7000",
            ),
        ]))
        .unwrap();
        assert_eq!(s.dedup.store, StoreKind::Redis);
        assert_eq!(s.redis.urls.len(), 2);
        assert!(s.redis.cluster);
    }

    #[test]
    fn defaults_are_valid() {
        let s = Settings::defaults().unwrap();
        assert_eq!(s.input.max_content_bytes, 10 * 1024 * 1024);
        assert_eq!(s.topics.articles, "clean-articles");
        assert_eq!(s.topics.input, vec!["raw-pages".to_string()]);
    }

    #[test]
    fn env_overrides_defaults() {
        let s = Settings::load(env(&[
            ("WARTA__INPUT__MAX_CONTENT_BYTES", "2048"),
            ("WARTA__TOPICS__INPUT", "a,b"),
            ("WARTA__LOG__FORMAT", "json"),
        ]))
        .unwrap();
        assert_eq!(s.input.max_content_bytes, 2048);
        assert_eq!(s.topics.input, vec!["a".to_string(), "b".to_string()]);
        assert_eq!(s.log_format, LogFormat::Json);
    }

    #[test]
    fn file_layer_and_sites() {
        let dir = std::env::temp_dir().join(format!("warta-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("w.toml");
        std::fs::write(
            &path,
            "[sites.\"rmol.id\"]\ntimezone = \"Asia/Makassar\"\nlanguage = \"ind\"\n[topics]\narticles = \"a2\"\n",
        )
        .unwrap();
        let s = Settings::load(Sources {
            file: Some(&path),
            env: Some(BTreeMap::new()),
        })
        .unwrap();
        assert_eq!(s.topics.articles, "a2");
        let hints = s.site("rmol.id").unwrap();
        assert_eq!(hints.timezone, Some(chrono_tz::Asia::Makassar));
        // Published as every language code is: 639-1 where one exists.
        assert_eq!(hints.language.as_deref(), Some("id"));

        std::fs::write(&path, "[sites.\"a.id\"]\nlanguage = \"indonesian\"\n").unwrap();
        let err = Settings::load(Sources {
            file: Some(&path),
            env: Some(BTreeMap::new()),
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("is not an ISO 639-1 or 639-3 code"), "{err}");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let p = problems(Settings::load(env(&[
            ("WARTA__INPUT__MAX_CONTENT_BYTEZ", "1"),
            ("WARTA__LOG__FORMAT", "xml"),
            ("WARTA__TOPICS__HEADLINES", "clean-articles"),
            ("WARTA__INPUT__MAX_CONTENT_BYTES", "0"),
        ])));
        let all = p.join("\n");
        assert!(
            all.contains("unknown key `input.max_content_bytez`"),
            "{all}"
        );
        assert!(all.contains("log.format (\"xml\")"), "{all}");
        assert!(
            all.contains("topics.articles and topics.headlines must differ"),
            "{all}"
        );
        assert!(all.contains("input.max_content_bytes (0)"), "{all}");
        assert_eq!(p.len(), 4, "{all}");
    }

    #[test]
    fn kafka_settings_and_masking() {
        let s = Settings::load(env(&[
            ("WARTA__KAFKA__DELIVERY", "at-least-once"),
            ("WARTA__KAFKA__CONSUMER__SASL_PASSWORD", "hunter2"),
            ("WARTA__KAFKA__CONSUMER__SECURITY_PROTOCOL", "SASL_SSL"),
        ]))
        .unwrap();
        assert_eq!(s.kafka.delivery, Delivery::AtLeastOnce);
        assert_eq!(
            s.kafka
                .consumer
                .get("security.protocol")
                .map(String::as_str),
            Some("SASL_SSL")
        );
        let shown = s.to_toml();
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("********"));
        let p = problems(Settings::load(env(&[
            ("WARTA__KAFKA__DELIVERY", "twice"),
            ("WARTA__KAFKA__TRANSACTION_TIMEOUT_MS", "400000"),
            ("WARTA__KAFKA__PRODUCER__TRANSACTIONAL_ID", "x"),
        ])));
        let all = p.join("\n");
        assert!(all.contains("kafka.delivery (\"twice\")"), "{all}");
        assert!(
            all.contains("below the consumer's max.poll.interval.ms"),
            "{all}"
        );
        assert!(all.contains("cannot be overridden"), "{all}");
    }

    #[test]
    fn types_are_checked_per_key_with_their_source_and_all_at_once() {
        let dir = std::env::temp_dir().join(format!("warta-config-types-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("w.toml");
        std::fs::write(&path, "[dedup]\nmax_articles = 1.7\nthreshold = \"high\"\n").unwrap();
        let p = problems(Settings::load(Sources {
            file: Some(&path),
            env: Some(
                [
                    ("WARTA__INPUT__MAX_CONTENT_BYTES", "99999999999999999999999"),
                    ("WARTA__KAFKA__BATCH_MAX_RECORDS", "-5"),
                    ("WARTA__LOG__FORMAT", "xml"),
                    ("WARTA__WORKERS", "5"),
                ]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ),
        }));
        let all = p.join("\n");
        for expected in [
            "dedup.max_articles must be a whole number, got 1.7 (from ".to_string(),
            "warta-config-types-".to_string(),
            "dedup.threshold must be a number, got \"high\" (from ".to_string(),
            "input.max_content_bytes is too large (at most 18446744073709551615), got 100000000000000000000000 (from the environment, WARTA__INPUT__MAX_CONTENT_BYTES)".to_string(),
            "kafka.batch_max_records must not be negative, got -5 (from the environment, WARTA__KAFKA__BATCH_MAX_RECORDS)".to_string(),
            "workers must be a section (a table of keys), got 5 (from the environment, WARTA__WORKERS)".to_string(),
            // A rule on another key is still checked.
            "log.format (\"xml\")".to_string(),
        ] {
            assert!(all.contains(&expected), "missing {expected:?} in:\n{all}");
        }
        assert!(
            p.iter().filter(|l| l.ends_with("w.toml)")).count() == 2,
            "{all}"
        );
        assert_eq!(p.len(), 6, "{all}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn wrong_types_name_the_key() {
        let p = problems(Settings::load(env(&[(
            "WARTA__INPUT__MAX_CONTENT_BYTES",
            "lots",
        )])));
        assert!(p[0].contains("max_content_bytes"), "{p:?}");
    }
}

//! Every metric warta exports, declared and described once, and the few
//! functions the service calls to record them.
//!
//! Names follow Prometheus conventions: the `warta_` prefix, `_total` on
//! counters, base units (`_seconds`, `_bytes`). Labels are bounded: a topic or
//! partition the deployment configured, a verdict, a rejection code from
//! [`RejectCode::ALL`], a librdkafka error name. Never a URL or a message.
//!
//! Counters are created at zero for every known label value when the exporter
//! starts, so dashboards and alerts see a series before the first event (a
//! missing series and a zero rate look different in PromQL).
//!
//! Outcomes are recorded when their batch commits, so an aborted and replayed
//! batch is counted once; consumption is recorded when it happens.

use std::time::Duration;

use chrono::{DateTime, Utc};
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};

use crate::event::{ArticleVerdict, HeadlineVerdictKind, RejectCode};
use crate::pipeline::{Destination, Outcome, Payload, Prepared, Processed};

pub const PAGES_CONSUMED: &str = "warta_pages_consumed_total";
pub const CONSUMED_BYTES: &str = "warta_consumed_bytes_total";
pub const ARTICLES_PUBLISHED: &str = "warta_articles_published_total";
pub const DUPLICATES: &str = "warta_duplicates_total";
pub const HEADLINES_PUBLISHED: &str = "warta_headlines_published_total";
pub const HEADLINES_SUPPRESSED: &str = "warta_headlines_suppressed_total";
pub const REJECTIONS: &str = "warta_rejections_total";
pub const RECORDS_PRODUCED: &str = "warta_records_produced_total";
pub const PARAGRAPHS_REMOVED: &str = "warta_paragraphs_removed_total";
pub const BOILERPLATE_REMOVED: &str = "warta_boilerplate_lines_removed_total";
pub const PARSE_DURATION: &str = "warta_parse_duration_seconds";
pub const DEDUP_DURATION: &str = "warta_dedup_duration_seconds";
pub const END_TO_END_LATENCY: &str = "warta_end_to_end_latency_seconds";
pub const PROCESSING_LAG: &str = "warta_processing_lag_seconds";
pub const INDEX_ENTRIES: &str = "warta_dedup_index_entries";
pub const INDEX_BYTES: &str = "warta_dedup_index_bytes";
pub const INDEX_EVICTIONS: &str = "warta_dedup_evictions_total";
pub const TRANSACTIONS_COMMITTED: &str = "warta_transactions_committed_total";
pub const TRANSACTIONS_ABORTED: &str = "warta_transactions_aborted_total";
pub const PRODUCE_ERRORS: &str = "warta_produce_errors_total";
pub const BROKER_RETRIES: &str = "warta_broker_retries_total";
pub const PRODUCERS_RECREATED: &str = "warta_producers_recreated_total";
pub const CONSUMER_LAG: &str = "warta_consumer_lag_messages";
pub const ASSIGNED_PARTITIONS: &str = "warta_assigned_partitions";
pub const BUILD_INFO: &str = "warta_build_info";
pub const STATE_RESTORE_RECORDS: &str = "warta_state_restore_records_total";
pub const STATE_RESTORE_REMAINING: &str = "warta_state_restore_remaining_records";
pub const STATE_RECORDS_INVALID: &str = "warta_state_records_invalid_total";
pub const STATE_RECORDS_WRITTEN: &str = "warta_state_records_written_total";
pub const STATE_REMOTE_APPLIED: &str = "warta_state_remote_changes_applied_total";
pub const STATE_FOLLOW_LAG: &str = "warta_state_follow_lag_seconds";
pub const STORE_ERRORS: &str = "warta_dedup_store_errors_total";
pub const PARSE_TRUNCATED: &str = "warta_parse_truncated_total";

/// Histogram buckets for per-page CPU work: 10 µs to 1 s.
pub const STAGE_BUCKETS: &[f64] = &[
    0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025,
    0.1, 1.0,
];
/// Histogram buckets for end-to-end latency: 10 ms to 1 h (a crawler's
/// `fetched_at` may be minutes old before warta sees the page).
pub const LATENCY_BUCKETS: &[f64] = &[
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
];

/// Output names used as the `output` label.
const OUTPUTS: [Destination; 4] = [
    Destination::Articles,
    Destination::Headlines,
    Destination::Duplicates,
    Destination::DeadLetter,
];

fn output_label(d: Destination) -> &'static str {
    match d {
        Destination::Articles => "articles",
        Destination::Headlines => "headlines",
        Destination::Duplicates => "duplicates",
        Destination::DeadLetter => "dead_letter",
    }
}

/// Describes every metric and creates the counters at zero. `input_topics` are
/// the configured input topics (the only values of the `topic` label).
pub fn register(input_topics: &[String]) {
    describe_counter!(PAGES_CONSUMED, "Input records consumed.");
    describe_counter!(
        CONSUMED_BYTES,
        metrics::Unit::Bytes,
        "Bytes of input record values consumed."
    );
    describe_counter!(
        ARTICLES_PUBLISHED,
        "Articles written to the articles topic, by verdict (new, updated; duplicate only with dedup.duplicates = \"mark\")."
    );
    describe_counter!(
        DUPLICATES,
        "Pages recognised as duplicates, by kind: unchanged (a recrawl of the same URL with the same body) or copy (another URL's article)."
    );
    describe_counter!(
        HEADLINES_PUBLISHED,
        "Headline items published, by verdict (new, updated)."
    );
    describe_counter!(
        HEADLINES_SUPPRESSED,
        "Headline items not published because they were already published (repeated sidebars)."
    );
    describe_counter!(
        REJECTIONS,
        "Inputs sent to the dead-letter topic, by error code."
    );
    describe_counter!(
        RECORDS_PRODUCED,
        "Records produced and committed, by output (articles, headlines, duplicates, dead_letter)."
    );
    describe_counter!(
        PARAGRAPHS_REMOVED,
        "Repeated paragraphs removed from article bodies."
    );
    describe_counter!(
        BOILERPLATE_REMOVED,
        "Boilerplate lines removed (\"Selengkapnya\", \"Baca juga\", ...)."
    );
    describe_histogram!(
        PARSE_DURATION,
        metrics::Unit::Seconds,
        "Time to validate, parse and fingerprint one page."
    );
    describe_histogram!(
        DEDUP_DURATION,
        metrics::Unit::Seconds,
        "Time to decide one page's dedup verdicts."
    );
    describe_histogram!(
        END_TO_END_LATENCY,
        metrics::Unit::Seconds,
        "From a page's fetched_at to the commit of its outputs."
    );
    describe_gauge!(
        PROCESSING_LAG,
        metrics::Unit::Seconds,
        "Now minus the fetched_at of the newest page committed."
    );
    describe_gauge!(
        INDEX_ENTRIES,
        "Entries held in the dedup index, by kind (articles, headlines)."
    );
    describe_gauge!(
        INDEX_BYTES,
        metrics::Unit::Bytes,
        "Memory allocated by the dedup index."
    );
    describe_counter!(
        INDEX_EVICTIONS,
        "Dedup entries evicted by the size cap before they expired, by kind."
    );
    describe_counter!(
        TRANSACTIONS_COMMITTED,
        "Batches committed (transactions, in exactly-once mode)."
    );
    describe_counter!(TRANSACTIONS_ABORTED, "Batches aborted and replayed.");
    describe_counter!(
        PRODUCE_ERRORS,
        "Errors producing or committing a batch, by librdkafka error code."
    );
    describe_counter!(
        BROKER_RETRIES,
        "Retriable broker errors that were backed off and retried."
    );
    describe_counter!(
        PRODUCERS_RECREATED,
        "Producers re-created after a fenced or fatal producer error."
    );
    describe_gauge!(
        CONSUMER_LAG,
        "Consumer lag of each assigned partition, in messages (librdkafka statistics)."
    );
    describe_gauge!(
        ASSIGNED_PARTITIONS,
        "Input partitions currently assigned to this instance."
    );
    describe_gauge!(BUILD_INFO, "Always 1; the labels describe the build.");
    describe_counter!(
        STATE_RESTORE_RECORDS,
        "Dedup changelog records read while restoring the state on start."
    );
    describe_gauge!(
        STATE_RESTORE_REMAINING,
        "Dedup changelog records left to read before the restore ends (an upper bound: compaction may have removed some); 0 once restored."
    );
    describe_counter!(
        STATE_RECORDS_INVALID,
        "Dedup changelog records that could not be decoded and were skipped."
    );
    describe_counter!(
        STATE_RECORDS_WRITTEN,
        "Dedup changelog records (entries, watermarks, tombstones) committed."
    );
    describe_counter!(
        STATE_REMOTE_APPLIED,
        "Dedup state changes committed by other instances and applied here."
    );
    describe_counter!(
        STORE_ERRORS,
        "Batches rewound because the shared dedup store (Redis) failed; each is decided again."
    );
    describe_counter!(
        PARSE_TRUNCATED,
        "Items a [parse] cap cut from pages, by what (headlines: parse.max_headlines, paragraphs: parse.max_paragraphs)."
    );
    describe_histogram!(
        STATE_FOLLOW_LAG,
        "Consistency window: another instance's produce of a dedup state change to this instance applying it before its next decision."
    );

    gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    for topic in input_topics {
        counter!(PAGES_CONSUMED, "topic" => topic.clone()).absolute(0);
        counter!(CONSUMED_BYTES, "topic" => topic.clone()).absolute(0);
    }
    for v in ["new", "updated", "duplicate"] {
        counter!(ARTICLES_PUBLISHED, "verdict" => v).absolute(0);
    }
    for k in ["unchanged", "copy"] {
        counter!(DUPLICATES, "kind" => k).absolute(0);
    }
    for v in ["new", "updated"] {
        counter!(HEADLINES_PUBLISHED, "verdict" => v).absolute(0);
    }
    counter!(HEADLINES_SUPPRESSED).absolute(0);
    for code in RejectCode::ALL {
        counter!(REJECTIONS, "code" => code.as_str()).absolute(0);
    }
    for d in OUTPUTS {
        counter!(RECORDS_PRODUCED, "output" => output_label(d)).absolute(0);
    }
    counter!(PARAGRAPHS_REMOVED).absolute(0);
    counter!(BOILERPLATE_REMOVED).absolute(0);
    for w in ["headlines", "paragraphs"] {
        counter!(PARSE_TRUNCATED, "what" => w).absolute(0);
    }
    for k in ["articles", "headlines"] {
        counter!(INDEX_EVICTIONS, "kind" => k).absolute(0);
        gauge!(INDEX_ENTRIES, "kind" => k).set(0.0);
    }
    gauge!(INDEX_BYTES).set(0.0);
    gauge!(PROCESSING_LAG).set(0.0);
    gauge!(ASSIGNED_PARTITIONS).set(0.0);
    counter!(TRANSACTIONS_COMMITTED).absolute(0);
    counter!(TRANSACTIONS_ABORTED).absolute(0);
    counter!(BROKER_RETRIES).absolute(0);
    counter!(PRODUCERS_RECREATED).absolute(0);
    counter!(STATE_RESTORE_RECORDS).absolute(0);
    gauge!(STATE_RESTORE_REMAINING).set(0.0);
    counter!(STATE_RECORDS_INVALID).absolute(0);
    counter!(STATE_RECORDS_WRITTEN).absolute(0);
    counter!(STATE_REMOTE_APPLIED).absolute(0);
    counter!(STORE_ERRORS).absolute(0);
    for w in ["headlines", "paragraphs"] {
        counter!(PARSE_TRUNCATED, "what" => w).absolute(0);
    }
    for code in COMMON_PRODUCE_ERRORS {
        counter!(PRODUCE_ERRORS, "code" => error_code(code)).absolute(0);
    }
}

/// An rdkafka error code in snake case (`MessageSizeTooLarge` →
/// `message_size_too_large`): a bounded label value, since it comes from
/// librdkafka's closed set of codes and never from a message.
pub fn error_code(code: rdkafka::types::RDKafkaErrorCode) -> String {
    let name = format!("{code:?}");
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The produce errors a dashboard should show at zero before they happen.
const COMMON_PRODUCE_ERRORS: [rdkafka::types::RDKafkaErrorCode; 8] = {
    use rdkafka::types::RDKafkaErrorCode as C;
    [
        C::MessageSizeTooLarge,
        C::MessageTimedOut,
        C::RequestTimedOut,
        C::NotLeaderForPartition,
        C::AllBrokersDown,
        C::ProducerFenced,
        C::InvalidProducerEpoch,
        C::CoordinatorNotAvailable,
    ]
};

/// `records` input records of `topic`, `bytes` long in all. Callers add up a
/// batch first: each call is a registry lookup, and per-page calls cost more
/// than the 2% budget on this hot path.
pub fn consumed(topic: &str, records: u64, bytes: u64) {
    counter!(PAGES_CONSUMED, "topic" => topic.to_string()).increment(records);
    counter!(CONSUMED_BYTES, "topic" => topic.to_string()).increment(bytes);
}

/// Handles to the per-page histograms, looked up once per batch (or worker
/// chunk) instead of once per page.
pub struct StageTimers {
    parse: metrics::Histogram,
    dedup: metrics::Histogram,
}

impl Default for StageTimers {
    fn default() -> Self {
        StageTimers {
            parse: histogram!(PARSE_DURATION),
            dedup: histogram!(DEDUP_DURATION),
        }
    }
}

impl StageTimers {
    pub fn parse(&self, d: Duration) {
        self.parse.record(d.as_secs_f64());
    }

    pub fn dedup(&self, d: Duration) {
        self.dedup.record(d.as_secs_f64());
    }
}

pub fn transaction_aborted(error_code: &str) {
    counter!(TRANSACTIONS_ABORTED).increment(1);
    counter!(PRODUCE_ERRORS, "code" => error_code.to_string()).increment(1);
}

pub fn broker_retry() {
    counter!(BROKER_RETRIES).increment(1);
}

pub fn producer_recreated() {
    counter!(PRODUCERS_RECREATED).increment(1);
}

pub fn assigned_partitions(n: usize) {
    gauge!(ASSIGNED_PARTITIONS).set(n as f64);
}

pub fn consumer_lag(topic: &str, partition: i32, lag: i64) {
    gauge!(CONSUMER_LAG, "topic" => topic.to_string(), "partition" => partition.to_string())
        .set(lag as f64);
}

/// Restore progress: `read` more records read, `remaining` left.
pub fn state_restore_progress(read: u64, remaining: u64) {
    counter!(STATE_RESTORE_RECORDS).increment(read);
    gauge!(STATE_RESTORE_REMAINING).set(remaining as f64);
}

pub fn state_records_invalid(n: u64) {
    counter!(STATE_RECORDS_INVALID).increment(n);
}

/// Changelog records of a committed batch.
pub fn state_records_written(n: usize) {
    counter!(STATE_RECORDS_WRITTEN).increment(n as u64);
}

/// A batch rewound because the shared dedup store failed.
pub fn store_error() {
    counter!(STORE_ERRORS).increment(1);
}

pub fn state_remote_applied(n: u64) {
    counter!(STATE_REMOTE_APPLIED).increment(n);
}

pub fn state_follow_lag(secs: f64) {
    histogram!(STATE_FOLLOW_LAG).record(secs);
}

/// Dedup index size, after a commit.
pub fn index(articles: usize, headlines: usize, bytes: usize, evicted: (u64, u64)) {
    gauge!(INDEX_ENTRIES, "kind" => "articles").set(articles as f64);
    gauge!(INDEX_ENTRIES, "kind" => "headlines").set(headlines as f64);
    gauge!(INDEX_BYTES).set(bytes as f64);
    counter!(INDEX_EVICTIONS, "kind" => "articles").absolute(evicted.0);
    counter!(INDEX_EVICTIONS, "kind" => "headlines").absolute(evicted.1);
}

/// What one batch did, gathered while it is processed and recorded only if it
/// commits.
#[derive(Debug, Default)]
pub struct BatchTally {
    published: [u64; 3],
    duplicates: [u64; 2],
    headlines: [u64; 2],
    suppressed: u64,
    /// Code and where the input came from, logged once at commit.
    rejections: Vec<(RejectCode, String)>,
    produced: [u64; 4],
    paragraphs_removed: u64,
    boilerplate_removed: u64,
    truncated: [u64; 2],
    fetched_at: Vec<DateTime<Utc>>,
}

impl BatchTally {
    /// Adds one input's result.
    pub fn add(&mut self, prepared: &Prepared, processed: &Processed) {
        if let Prepared::Page(p) = prepared {
            self.paragraphs_removed += u64::from(p.parsed.removed.repeated_paragraphs);
            self.boilerplate_removed += u64::from(p.parsed.removed.boilerplate_lines);
            self.truncated[0] += p.truncated.headlines as u64;
            self.truncated[1] += p.truncated.paragraphs as u64;
            self.fetched_at.push(p.page.fetched_at);
        }
        match processed.outcome {
            Outcome::Article { verdict, headlines } => {
                match verdict {
                    ArticleVerdict::Unchanged => self.duplicates[0] += 1,
                    ArticleVerdict::Duplicate => self.duplicates[1] += 1,
                    ArticleVerdict::New | ArticleVerdict::Updated => {}
                }
                self.suppressed += headlines.suppressed as u64;
            }
            Outcome::HeadlinesOnly { headlines } => self.suppressed += headlines.suppressed as u64,
            Outcome::Rejected(code) => {
                let source = processed
                    .records
                    .iter()
                    .find_map(|r| match &r.payload {
                        Payload::Rejected(x) => serde_json::to_string(&x.source).ok(),
                        _ => None,
                    })
                    .unwrap_or_default();
                self.rejections.push((code, source));
            }
        }
        for r in &processed.records {
            self.produced[OUTPUTS
                .iter()
                .position(|d| *d == r.destination)
                .unwrap_or(0)] += 1;
            match (&r.payload, r.destination) {
                (Payload::Article(a), Destination::Articles) => match a.verdict {
                    ArticleVerdict::New => self.published[0] += 1,
                    ArticleVerdict::Updated => self.published[1] += 1,
                    ArticleVerdict::Duplicate => self.published[2] += 1,
                    ArticleVerdict::Unchanged => {}
                },
                (Payload::Headline(h), _) => match h.verdict {
                    HeadlineVerdictKind::New => self.headlines[0] += 1,
                    HeadlineVerdictKind::Updated => self.headlines[1] += 1,
                },
                _ => {}
            }
        }
    }

    /// Records the batch; call after it committed.
    pub fn committed(self, now: DateTime<Utc>) {
        counter!(TRANSACTIONS_COMMITTED).increment(1);
        for (v, n) in ["new", "updated", "duplicate"].iter().zip(self.published) {
            counter!(ARTICLES_PUBLISHED, "verdict" => *v).increment(n);
        }
        for (k, n) in ["unchanged", "copy"].iter().zip(self.duplicates) {
            counter!(DUPLICATES, "kind" => *k).increment(n);
        }
        for (v, n) in ["new", "updated"].iter().zip(self.headlines) {
            counter!(HEADLINES_PUBLISHED, "verdict" => *v).increment(n);
        }
        counter!(HEADLINES_SUPPRESSED).increment(self.suppressed);
        for (code, source) in self.rejections {
            counter!(REJECTIONS, "code" => code.as_str()).increment(1);
            tracing::warn!(code = code.as_str(), %source, "input rejected to the dead-letter topic");
        }
        for (d, n) in OUTPUTS.iter().zip(self.produced) {
            counter!(RECORDS_PRODUCED, "output" => output_label(*d)).increment(n);
        }
        counter!(PARAGRAPHS_REMOVED).increment(self.paragraphs_removed);
        counter!(BOILERPLATE_REMOVED).increment(self.boilerplate_removed);
        for (w, n) in ["headlines", "paragraphs"].iter().zip(self.truncated) {
            counter!(PARSE_TRUNCATED, "what" => *w).increment(n);
        }
        let latency = histogram!(END_TO_END_LATENCY);
        for t in &self.fetched_at {
            // A fetched_at in the future (clock skew) is not a negative latency.
            latency.record((now - *t).to_std().unwrap_or_default().as_secs_f64());
        }
        if let Some(newest) = self.fetched_at.iter().max() {
            gauge!(PROCESSING_LAG).set((now - *newest).to_std().unwrap_or_default().as_secs_f64());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_snake_case() {
        use rdkafka::types::RDKafkaErrorCode as C;
        assert_eq!(error_code(C::MessageSizeTooLarge), "message_size_too_large");
        assert_eq!(error_code(C::AllBrokersDown), "all_brokers_down");
    }
}

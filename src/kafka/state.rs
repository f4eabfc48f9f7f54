//! The dedup state's changelog topic (`topics.state`), the Kafka Streams way:
//! creating it compacted when missing, restoring the [`Deduper`] from it before
//! the service consumes, and turning a batch's state changes into records for
//! the batch's own transaction.
//!
//! The record format is [`crate::dedup::changelog`]'s; this module only moves
//! bytes. A restore reads every partition from the beginning with
//! `read_committed` until librdkafka reports the end of each one (partition
//! EOF, which also steps over transaction markers that a high-watermark check
//! would wait for forever). The service creates its transactional producer
//! first, which fences this instance's previous incarnation and aborts its
//! open transaction, so the restore is never stuck behind our own zombie.

use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

use super::errors::{classify, ErrorClass, RunError};
use crate::config::Settings;
use crate::dedup::changelog::{Change, RestoreTable};
use crate::http::Health;
use crate::metrics;
use crate::pipeline::{Deduper, Restored};

/// Header naming the instance that wrote a changelog record, so an instance
/// following the changelog can tell its own writes from the others'.
pub const HEADER_INSTANCE: &str = "warta-instance";

/// One changelog record ready to produce; `value` is `None` for a tombstone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateRecord {
    pub key: Vec<u8>,
    pub value: Option<Vec<u8>>,
}

/// The records for a batch's state changes, in order.
pub fn records(changes: &[Change]) -> Vec<StateRecord> {
    changes
        .iter()
        .map(|c| {
            let (key, value) = c.encode();
            StateRecord { key, value }
        })
        .collect()
}

fn kafka(context: &'static str) -> impl FnOnce(KafkaError) -> RunError {
    move |source| RunError::Kafka { context, source }
}

/// The consumer that reads the changelog: assigned, never subscribed, so it
/// joins no group and commits nothing.
fn restore_consumer(settings: &Settings) -> Result<BaseConsumer<StateContext>, RunError> {
    let k = &settings.kafka;
    let mut c = ClientConfig::new();
    for (key, v) in &k.consumer {
        c.set(key, v);
    }
    c.set("bootstrap.servers", &k.brokers)
        .set("group.id", format!("{}-state-restore", k.group_id))
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        // Aborted batches' state must not come back (on a real broker).
        .set("isolation.level", "read_committed")
        .set("enable.partition.eof", "true")
        // Never create the changelog by asking for it: it must be compacted.
        .set("allow.auto.create.topics", "false")
        // Large fetches: a restore is a bulk read of small records.
        .set("fetch.max.bytes", "104857600")
        .set("max.partition.fetch.bytes", "16777216")
        .set("fetch.wait.max.ms", "100");
    c.create_with_context(StateContext)
        .map_err(kafka("creating the state restore consumer"))
}

/// Client callbacks of the changelog readers. librdkafka also reports some
/// partition EOFs (which end a restore, and are expected) through the error
/// callback; the default context would log each as an ERROR line.
pub struct StateContext;

impl rdkafka::ClientContext for StateContext {
    fn error(&self, error: KafkaError, reason: &str) {
        if matches!(error, KafkaError::Global(RDKafkaErrorCode::PartitionEOF)) {
            return;
        }
        tracing::warn!(error = %error, reason, "librdkafka error on the dedup state reader");
    }
}

impl rdkafka::consumer::ConsumerContext for StateContext {}

/// The changelog's partition count, or `None` when the topic does not exist.
fn partitions(consumer: &BaseConsumer<StateContext>, topic: &str) -> Result<Option<i32>, RunError> {
    let md = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(30))
        .map_err(kafka("reading the state topic's metadata"))?;
    let Some(t) = md.topics().iter().find(|t| t.name() == topic) else {
        return Ok(None);
    };
    match t.error() {
        None if !t.partitions().is_empty() => Ok(Some(t.partitions().len() as i32)),
        None => Ok(None),
        Some(e) if RDKafkaErrorCode::from(e) == RDKafkaErrorCode::UnknownTopicOrPartition => {
            Ok(None)
        }
        Some(e) => Err(RunError::Kafka {
            context: "reading the state topic's metadata",
            source: KafkaError::MetadataFetch(e.into()),
        }),
    }
}

/// Creates `topics.state` with `cleanup.policy=compact` if it does not exist.
/// Returns its partition count.
pub async fn ensure_topic(settings: &Settings) -> Result<i32, RunError> {
    let topic = &settings.topics.state;
    let consumer = restore_consumer(settings)?;
    if let Some(n) = tokio::task::block_in_place(|| partitions(&consumer, topic))? {
        return Ok(n);
    }
    let k = &settings.kafka;
    let mut c = ClientConfig::new();
    for (key, v) in &k.producer {
        c.set(key, v);
    }
    c.set("bootstrap.servers", &k.brokers);
    let admin: AdminClient<DefaultClientContext> =
        c.create().map_err(kafka("creating the admin client"))?;
    let n = settings.dedup.changelog_partitions;
    let new = NewTopic::new(topic, n, TopicReplication::Fixed(-1)).set("cleanup.policy", "compact");
    let results = admin
        .create_topics(
            [&new],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(30))),
        )
        .await
        .map_err(kafka("creating the state topic"))?;
    for r in results {
        match r {
            Ok(_) => {
                tracing::info!(topic = %topic, partitions = n, "created the compacted dedup state topic")
            }
            // Another instance created it meanwhile.
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((_, code)) => {
                return Err(RunError::Kafka {
                    context: "creating the state topic",
                    source: KafkaError::AdminOp(code),
                })
            }
        }
    }
    Ok(n)
}

/// Reads the whole changelog into `deduper`. Blocking: call it off the async
/// runtime. Readiness stays false meanwhile, with the progress in `/readyz`'s
/// reasons, in `warta_state_restore_*` metrics and in a log line every 5 s.
pub fn restore(
    settings: &Settings,
    health: &Health,
    deduper: &mut Deduper,
) -> Result<Restore, RunError> {
    let topic = settings.topics.state.as_str();
    let started = Instant::now();
    let consumer = restore_consumer(settings)?;
    let Some(n) = partitions(&consumer, topic)? else {
        tracing::info!(topic, "no dedup state topic yet: starting empty");
        return Ok(Restore::default());
    };
    // What there is to read, for progress; compaction makes it an upper bound.
    let mut total: u64 = 0;
    let mut ends = Vec::with_capacity(n as usize);
    let mut tpl = TopicPartitionList::new();
    for p in 0..n {
        let (low, high) = consumer
            .fetch_watermarks(topic, p, Duration::from_secs(30))
            .map_err(kafka("reading the state topic's offsets"))?;
        total += (high - low).max(0) as u64;
        ends.push(high);
        if high > low {
            tpl.add_partition_offset(topic, p, Offset::Beginning)
                .map_err(kafka("assigning the state topic"))?;
        }
    }
    let mut open = tpl.count();
    let mut done = vec![false; n as usize];
    for p in 0..n {
        done[p as usize] = ends[p as usize] <= 0 || tpl.find_partition(topic, p).is_none();
    }
    tracing::info!(
        topic,
        partitions = n,
        records = total,
        "restoring dedup state"
    );
    health.set_loading(format!("restoring dedup state: 0 of {total} records"));
    metrics::state_restore_progress(0, total);
    consumer
        .assign(&tpl)
        .map_err(kafka("assigning the state topic"))?;

    let mut table = RestoreTable::new();
    // Where the restore stopped in each partition: a follower resumes there.
    let mut next: Vec<i64> = ends.iter().map(|&e| e.max(0)).collect();
    let mut read: u64 = 0;
    let mut invalid: u64 = 0;
    let mut last_report = Instant::now();
    let mut last_log = Instant::now();
    let mut reported: u64 = 0;
    while open > 0 {
        let finished = match consumer.poll(Duration::from_millis(500)) {
            None => None,
            Some(Ok(m)) => {
                read += 1;
                if let Some(n) = next.get_mut(m.partition() as usize) {
                    *n = (*n).max(m.offset() + 1);
                }
                match Change::decode(m.key().unwrap_or_default(), m.payload()) {
                    Ok(c) => table.apply(c),
                    Err(e) => {
                        invalid += 1;
                        if invalid <= 10 {
                            tracing::warn!(error = %e, partition = m.partition(), offset = m.offset(), "skipping an unreadable dedup state record");
                        }
                    }
                }
                // Only the partition EOF event ends a partition: stopping at the
                // last record instead would leave its EOF queued, and librdkafka
                // logs a queued EOF as a global error when the consumer closes.
                None
            }
            Some(Err(KafkaError::PartitionEOF(p))) => Some(p),
            Some(Err(e)) => {
                if classify(&e) == ErrorClass::Fatal {
                    return Err(RunError::Kafka {
                        context: "restoring the dedup state",
                        source: e,
                    });
                }
                tracing::warn!(error = %e, "error while restoring the dedup state; continuing");
                None
            }
        };
        if let Some(p) = finished {
            if let Some(d) = done.get_mut(p as usize) {
                if !*d {
                    *d = true;
                    open -= 1;
                }
            }
        }
        if last_report.elapsed() >= Duration::from_secs(1) || open == 0 {
            metrics::state_restore_progress(read - reported, total.saturating_sub(read));
            reported = read;
            health.set_loading(format!("restoring dedup state: {read} of {total} records"));
            if last_log.elapsed() >= Duration::from_secs(5) {
                tracing::info!(read, total, "restoring dedup state");
                last_log = Instant::now();
            }
            last_report = Instant::now();
        }
    }
    let _ = consumer.unassign();
    metrics::state_restore_progress(read - reported, 0);
    metrics::state_records_invalid(invalid);
    let read_secs = started.elapsed().as_secs_f64();
    let restored = deduper.restore(table);
    tracing::info!(
        records = read,
        invalid,
        articles = restored.articles,
        headlines = restored.headlines,
        expired = restored.expired,
        read_secs,
        total_secs = started.elapsed().as_secs_f64(),
        "dedup state restored"
    );
    Ok(Restore {
        restored,
        next_offsets: next,
    })
}

/// What [`restore`] loaded, and where it stopped.
#[derive(Debug, Clone, Default)]
pub struct Restore {
    pub restored: Restored,
    /// Per partition of the changelog, the offset after the last record read.
    pub next_offsets: Vec<i64>,
}

/// A change another instance committed, for [`Deduper::apply_remote`].
#[derive(Debug)]
pub struct Followed {
    pub change: Change,
    /// The record's timestamp (its producer's clock at produce time), unix ms;
    /// the consistency window is measured from it.
    pub timestamp_ms: Option<i64>,
}

/// Follows the changelog from where the restore stopped, on its own thread,
/// and sends every change written by another instance (another
/// `warta-instance` header than `own`) to the service loop, which applies
/// them before deciding its next batch. Stops when `stop` is set.
pub fn follow(
    settings: &Settings,
    next_offsets: &[i64],
    own: String,
    tx: tokio::sync::mpsc::UnboundedSender<Followed>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Result<std::thread::JoinHandle<()>, RunError> {
    let consumer = restore_consumer(settings)?;
    let topic = settings.topics.state.clone();
    let mut tpl = TopicPartitionList::new();
    for (p, &o) in next_offsets.iter().enumerate() {
        tpl.add_partition_offset(&topic, p as i32, Offset::Offset(o))
            .map_err(kafka("assigning the state topic"))?;
    }
    consumer
        .assign(&tpl)
        .map_err(kafka("assigning the state topic"))?;
    let handle = std::thread::Builder::new()
        .name("warta-state-follow".into())
        .spawn(move || {
            use rdkafka::message::Headers;
            use std::sync::atomic::Ordering;
            while !stop.load(Ordering::Relaxed) {
                let m = match consumer.poll(Duration::from_millis(100)) {
                    None | Some(Err(KafkaError::PartitionEOF(_))) => continue,
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "error while following the dedup state");
                        continue;
                    }
                    Some(Ok(m)) => m,
                };
                let mine = m.headers().is_some_and(|h| {
                    h.iter()
                        .any(|h| h.key == HEADER_INSTANCE && h.value == Some(own.as_bytes()))
                });
                if mine {
                    continue;
                }
                match Change::decode(m.key().unwrap_or_default(), m.payload()) {
                    Ok(change) => {
                        let followed = Followed {
                            change,
                            timestamp_ms: m.timestamp().to_millis(),
                        };
                        if tx.send(followed).is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        metrics::state_records_invalid(1);
                        tracing::warn!(error = %e, "skipping an unreadable dedup state record");
                    }
                }
            }
        })
        .map_err(|_| RunError::Worker)?;
    Ok(handle)
}

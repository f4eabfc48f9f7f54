//! The consume → process → produce loop of `warta run`.
//!
//! Messages are collected into a batch that closes at `kafka.batch_max_records`
//! or `kafka.batch_max_ms`. A batch is then processed as a unit:
//!
//! 1. parse and fingerprint on `workers.threads` threads (contiguous chunks, so
//!    the order within every partition is kept), off the async runtime;
//! 2. dedup verdicts, sequentially, staged in the [`Deduper`];
//! 3. produce every output and the batch's dedup state changes (to
//!    `topics.state`, see [`super::state`]), then commit: in exactly-once mode
//!    the outputs, the state changes and the input offsets go in one
//!    transaction; in at-least-once mode the offsets are committed after every
//!    record is acknowledged;
//! 4. on success the dedup state is committed; on failure the transaction is
//!    aborted, the dedup state rolled back, and the consumer rewound to the
//!    batch's first offsets, so the batch is consumed and processed again.
//!
//! Before it subscribes, the service restores the dedup state from
//! `topics.state` (readiness stays false until then).
//!
//! In-flight work is one batch: the consumer is not polled while a batch is
//! processed, and a batch is bounded by `kafka.transaction_timeout_ms`, which
//! validation keeps below `max.poll.interval.ms`. Meanwhile librdkafka keeps
//! prefetching, up to `queued.max.messages.kbytes` (64 MiB by default,
//! settable under `[kafka.consumer]`), so the next batch is ready when this one
//! commits and memory stays bounded. Rebalance callbacks therefore
//! only run between batches, when no transaction is open; messages of revoked
//! partitions still waiting in the open batch are dropped (they were not
//! committed, so the partition's next owner reads them again).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Headers, Message, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use tokio::time::Instant;

use super::errors::{classify, ErrorClass, RunError};
use super::records::{dead_letter, to_kafka, InputRef, OutRecord};
use super::state::{StateRecord, HEADER_INSTANCE};
use crate::config::{Delivery, Settings};
use crate::event::SourceRef;
use crate::http::Health;
use crate::metrics::{self, BatchTally};
use crate::pipeline::{Deduper, Prepared, Preparer};
use crate::summary::Summary;

/// What a run did, for the exit log and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Input outcomes of committed batches.
    pub summary: Summary,
    pub batches_committed: u64,
    pub batches_aborted: u64,
    pub producers_recreated: u64,
    pub retriable_errors: u64,
    /// Changes other instances committed, applied from the shared changelog.
    pub remote_changes_applied: u64,
    /// Longest consistency window observed: another instance's produce of a
    /// change → this instance applying it before a decision, in ms.
    pub follow_lag_max_ms: u64,
}

fn kafka(context: &'static str) -> impl FnOnce(KafkaError) -> RunError {
    move |source| RunError::Kafka { context, source }
}

/// Consumer callbacks: remembers revoked partitions so the loop can drop their
/// messages from the open batch, and reports assignment, broker state and lag
/// to the health endpoints and metrics.
pub struct WartaContext {
    revoked: Mutex<Vec<(String, i32)>>,
    /// The partitions assigned now, kept from the rebalance events: asking the
    /// consumer (`assignment()`) inside a rebalance callback waits on
    /// librdkafka's main thread, and deadlocks when the callback runs while
    /// the consumer closes.
    assigned: Mutex<std::collections::BTreeSet<(String, i32)>>,
    health: Arc<Health>,
}

/// Whether librdkafka's statistics show a broker connection up.
fn broker_up(stats: &rdkafka::Statistics) -> bool {
    stats
        .brokers
        .values()
        .any(|b| b.nodeid >= 0 && b.state == "UP")
}

/// Producer callbacks: the broker state for `/readyz`. The consumer's
/// statistics arrive only when the service loop polls it, and the loop does not
/// while a batch waits on a broker that is down; the producer's polling thread
/// delivers them regardless (tests/kafka_faults.rs found `/readyz` saying
/// ready through a whole broker outage).
pub struct ProducerHealth {
    health: Arc<Health>,
}

impl ClientContext for ProducerHealth {
    fn stats(&self, stats: rdkafka::Statistics) {
        self.health.set_broker_up(broker_up(&stats));
    }
}

type WartaProducer = FutureProducer<ProducerHealth>;

impl ClientContext for WartaContext {
    fn stats(&self, stats: rdkafka::Statistics) {
        self.health.set_broker_up(broker_up(&stats));
        for (topic, t) in &stats.topics {
            for (partition, p) in &t.partitions {
                // -1 is librdkafka's internal "unassigned" partition.
                if *partition < 0 {
                    continue;
                }
                // Lag behind what this instance will consume next (app_offset):
                // librdkafka's own consumer_lag uses the consumer's committed
                // offset, which transactional commits do not update.
                let end = if p.ls_offset >= 0 {
                    p.ls_offset
                } else {
                    p.hi_offset
                };
                let lag = if !p.desired || end < 0 {
                    0
                } else if p.app_offset >= 0 {
                    (end - p.app_offset).max(0)
                } else if p.committed_offset >= 0 {
                    (end - p.committed_offset).max(0)
                } else {
                    continue;
                };
                metrics::consumer_lag(topic, *partition, lag);
            }
        }
    }
}

impl ConsumerContext for WartaContext {
    fn pre_rebalance(
        &self,
        _consumer: &rdkafka::consumer::BaseConsumer<Self>,
        rebalance: &Rebalance<'_>,
    ) {
        match rebalance {
            Rebalance::Revoke(tpl) => {
                tracing::info!(partitions = tpl.count(), "partitions revoked");
                if let Ok(mut r) = self.revoked.lock() {
                    r.extend(
                        tpl.elements()
                            .iter()
                            .map(|e| (e.topic().to_string(), e.partition())),
                    );
                }
            }
            Rebalance::Assign(tpl) => {
                tracing::info!(partitions = tpl.count(), "partitions assigned");
            }
            Rebalance::Error(e) => tracing::warn!(error = %e, "rebalance error"),
        }
    }

    fn post_rebalance(
        &self,
        _consumer: &rdkafka::consumer::BaseConsumer<Self>,
        rebalance: &Rebalance<'_>,
    ) {
        let Ok(mut assigned) = self.assigned.lock() else {
            return;
        };
        // Eager protocols revoke everything, then assign the whole new set;
        // cooperative ones add and remove increments. Both add up here.
        match rebalance {
            Rebalance::Assign(tpl) => {
                assigned.extend(
                    tpl.elements()
                        .iter()
                        .map(|e| (e.topic().to_string(), e.partition())),
                );
                // An assignment came from the group coordinator: a broker answers.
                self.health.set_broker_up(true);
            }
            Rebalance::Revoke(tpl) => {
                for e in tpl.elements() {
                    assigned.remove(&(e.topic().to_string(), e.partition()));
                }
            }
            Rebalance::Error(_) => {}
        }
        self.health.set_assigned(assigned.len());
    }
}

impl WartaContext {
    fn take_revoked(&self) -> Vec<(String, i32)> {
        self.revoked
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default()
    }
}

type WartaConsumer = StreamConsumer<WartaContext>;

/// This instance's stable name: `WARTA_INSTANCE_ID`, else the host name.
fn instance_id() -> String {
    std::env::var("WARTA_INSTANCE_ID")
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "local".into())
}

fn consumer_config(settings: &Settings) -> ClientConfig {
    let k = &settings.kafka;
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &k.brokers)
        .set("group.id", &k.group_id)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        // Raw pages may themselves be written transactionally.
        .set("isolation.level", "read_committed")
        .set("enable.partition.eof", "false")
        // librdkafka's 500 ms default would add up to half a second of latency
        // per page when the input is quiet; kafka.consumer.* can override it.
        .set("fetch.wait.max.ms", "50");
    if k.statistics_interval_ms > 0 {
        c.set(
            "statistics.interval.ms",
            k.statistics_interval_ms.to_string(),
        );
    }
    // Static membership when the deployment names its instances (a StatefulSet
    // pod name, say): a restarted instance takes its partitions back without a
    // rebalance of the whole group.
    if let Some(id) = std::env::var("WARTA_INSTANCE_ID")
        .ok()
        .filter(|s| !s.is_empty())
    {
        c.set("group.instance.id", id);
    }
    for (key, v) in &k.consumer {
        c.set(key, v);
    }
    c
}

fn producer_config(settings: &Settings) -> ClientConfig {
    let k = &settings.kafka;
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &k.brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set(
            "message.timeout.ms",
            k.transaction_timeout.as_millis().to_string(),
        )
        .set("linger.ms", "5");
    if k.statistics_interval_ms > 0 {
        c.set(
            "statistics.interval.ms",
            k.statistics_interval_ms.to_string(),
        );
    }
    if k.delivery == Delivery::ExactlyOnce {
        c.set(
            "transactional.id",
            format!(
                "{}-{}-{}",
                k.transactional_id_prefix,
                k.group_id,
                instance_id()
            ),
        )
        .set(
            "transaction.timeout.ms",
            k.transaction_timeout.as_millis().to_string(),
        );
    }
    for (key, v) in &k.producer {
        c.set(key, v);
    }
    c
}

/// Creates the producer; in exactly-once mode also initialises transactions,
/// which fences any older producer with the same transactional id.
fn make_producer(settings: &Settings, health: &Arc<Health>) -> Result<WartaProducer, RunError> {
    let producer: WartaProducer = producer_config(settings)
        .create_with_context(ProducerHealth {
            health: health.clone(),
        })
        .map_err(kafka("creating the producer"))?;
    if settings.kafka.delivery == Delivery::ExactlyOnce {
        producer
            .init_transactions(settings.kafka.transaction_timeout)
            .map_err(kafka("initialising transactions"))?;
    }
    Ok(producer)
}

/// Runs the service until `shutdown` resolves, then finishes the open batch
/// within `shutdown.drain_timeout_ms` and returns. `health` receives the loop's
/// heartbeat, the assignment and the broker state.
pub async fn run<F>(
    settings: Arc<Settings>,
    health: Arc<Health>,
    shutdown: F,
) -> Result<RunStats, RunError>
where
    F: Future<Output = ()>,
{
    let mut deduper = tokio::task::block_in_place(|| Deduper::open(settings.clone()))?;
    // The producer first: in exactly-once mode its init_transactions fences
    // this instance's previous incarnation and aborts its open transaction, so
    // a read_committed restore is not held up behind it.
    let producer = tokio::task::block_in_place(|| make_producer(&settings, &health))?;
    let instance = instance_id();
    // This incarnation's name on its changelog records: the follower skips
    // them, and only them (a previous incarnation's records were restored).
    let incarnation = format!(
        "{instance}/{}-{}",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or_default()
    );
    let mut follower = None;
    if settings.dedup.changelog && settings.dedup.enabled {
        deduper.enable_changelog(instance.clone());
        health.set_loading("dedup state: looking for the changelog topic");
        // A broker or a partition leader may be down at start: retry what is
        // retriable (readiness stays false meanwhile), stop on what is fatal.
        let mut backoff = settings.kafka.retry_backoff;
        let restore = loop {
            let attempt = match super::state::ensure_topic(&settings).await {
                Ok(_) => tokio::task::block_in_place(|| {
                    super::state::restore(&settings, &health, &mut deduper)
                }),
                Err(e) => Err(e),
            };
            match attempt {
                Ok(r) => break r,
                Err(RunError::Kafka { context, source })
                    if classify(&source) != ErrorClass::Fatal =>
                {
                    tracing::warn!(error = %source, context, backoff_ms = backoff.as_millis() as u64, "cannot restore the dedup state yet; retrying");
                    metrics::broker_retry();
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(settings.kafka.retry_backoff_max);
                }
                Err(e) => return Err(e),
            }
        };
        if settings.dedup.follow_changelog {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let handle = super::state::follow(
                &settings,
                &restore.next_offsets,
                incarnation.clone(),
                tx,
                stop.clone(),
            )?;
            follower = Some(Follower {
                rx,
                stop,
                handle: Some(handle),
            });
        }
    }
    health.set_loaded();
    let consumer: WartaConsumer = consumer_config(&settings)
        .create_with_context(WartaContext {
            assigned: Mutex::new(std::collections::BTreeSet::new()),
            revoked: Mutex::new(Vec::new()),
            health: health.clone(),
        })
        .map_err(kafka("creating the consumer"))?;
    let topics: Vec<&str> = settings.topics.input.iter().map(String::as_str).collect();
    consumer
        .subscribe(&topics)
        .map_err(kafka("subscribing to the input topics"))?;
    let mut svc = Service {
        deduper,
        instance: incarnation,
        follower,
        settings: settings.clone(),
        consumer,
        producer,
        stats: RunStats::default(),
        backoff: settings.kafka.retry_backoff,
        isolate: false,
        failures: 0,
        poison: None,
    };
    tracing::info!(
        delivery = ?settings.kafka.delivery,
        group = %settings.kafka.group_id,
        topics = ?settings.topics.input,
        workers = settings.worker_threads,
        "warta run started"
    );

    let mut batch: Vec<OwnedMessage> = Vec::new();
    let mut deadline: Option<Instant> = None;
    let mut heartbeat = tokio::time::interval(Duration::from_secs(1));
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    loop {
        health.beat();
        let timer = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            _ = &mut shutdown => break,
            // Idle or not, other instances' changes are applied at least once
            // a second, so the channel from the follower stays short.
            _ = heartbeat.tick() => svc.apply_followed(),
            _ = timer => {
                svc.flush(std::mem::take(&mut batch)).await?;
                deadline = None;
            }
            received = svc.consumer.recv() => {
                let message = match received {
                    Ok(m) => m.detach(),
                    Err(e) => {
                        svc.on_consume_error(&e).await?;
                        continue;
                    }
                };
                let revoked = svc.consumer.context().take_revoked();
                if !revoked.is_empty() {
                    batch.retain(|m| !revoked.iter().any(|(t, p)| m.topic() == t && m.partition() == *p));
                }
                batch.push(message);
                if batch.len() == 1 {
                    deadline = Some(Instant::now() + settings.kafka.batch_max);
                }
                let max = if svc.isolate { 1 } else { settings.kafka.batch_max_records };
                if batch.len() >= max {
                    svc.flush(std::mem::take(&mut batch)).await?;
                    deadline = None;
                }
            }
        }
    }
    tracing::info!(
        open = batch.len(),
        "shutting down: finishing the open batch"
    );
    if !batch.is_empty() {
        match tokio::time::timeout(settings.drain_timeout, svc.flush(batch)).await {
            Ok(result) => result?,
            Err(_) => tracing::warn!(
                "drain timeout passed; the open batch is left uncommitted and will be reprocessed"
            ),
        }
    }
    tracing::info!(summary = %svc.stats.summary, committed = svc.stats.batches_committed, aborted = svc.stats.batches_aborted, "warta run stopped");
    Ok(svc.stats)
}

struct Service {
    settings: Arc<Settings>,
    consumer: WartaConsumer,
    producer: WartaProducer,
    deduper: Deduper,
    /// This incarnation's name, on every changelog record it writes.
    instance: String,
    /// Follows the other instances' changelog records (the global table).
    follower: Option<Follower>,
    stats: RunStats,
    backoff: Duration,
    /// After a batch the broker refused, batches of one input, to find the
    /// input whose output cannot be written.
    isolate: bool,
    /// Consecutive failures of the batch being retried.
    failures: u32,
    /// An input whose outputs failed alone [`POISON_AFTER`] times: it becomes a
    /// dead letter (`output_rejected`) so its partition can move on.
    poison: Option<(String, i32, i64)>,
}

/// The changelog follower thread and the channel it feeds.
struct Follower {
    rx: tokio::sync::mpsc::UnboundedReceiver<super::state::Followed>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Failures of a one-input batch before its input is dead-lettered.
const POISON_AFTER: u32 = 3;

impl Service {
    /// Handles an error from a retriable step: returns it when fatal, else waits
    /// out the backoff.
    async fn on_error(&mut self, context: &'static str, e: &KafkaError) -> Result<(), RunError> {
        let class = classify(e);
        if class == ErrorClass::Fatal {
            tracing::error!(error = %e, context, "fatal Kafka error");
            return Err(RunError::Kafka {
                context,
                source: e.clone(),
            });
        }
        self.stats.retriable_errors += 1;
        metrics::broker_retry();
        tracing::warn!(error = %e, context, class = class.as_str(), backoff_ms = self.backoff.as_millis() as u64, "Kafka error; retrying");
        tokio::time::sleep(self.backoff).await;
        self.backoff = (self.backoff * 2).min(self.settings.kafka.retry_backoff_max);
        Ok(())
    }

    /// Handles an error the consumer queue reports. librdkafka reconnects by
    /// itself and queues an event for every failed attempt (a broker down, all
    /// brokers down), so an outage leaves dozens of them behind: waiting a
    /// doubling backoff on each stalled the loop for minutes after the broker
    /// was back (tests/kafka_faults.rs). Each waits the base backoff only.
    async fn on_consume_error(&mut self, e: &KafkaError) -> Result<(), RunError> {
        if classify(e) == ErrorClass::Fatal {
            tracing::error!(error = %e, context = "consuming", "fatal Kafka error");
            return Err(RunError::Kafka {
                context: "consuming",
                source: e.clone(),
            });
        }
        self.stats.retriable_errors += 1;
        metrics::broker_retry();
        tracing::warn!(error = %e, context = "consuming", "Kafka error; librdkafka retries by itself");
        tokio::time::sleep(self.settings.kafka.retry_backoff).await;
        Ok(())
    }

    /// Applies the changes other instances committed that the follower has
    /// read, and measures the consistency window: from their produce time to
    /// now, when they become visible to this instance's decisions.
    fn apply_followed(&mut self) {
        let Some(f) = &mut self.follower else {
            return;
        };
        let now_ms = Utc::now().timestamp_millis();
        let mut applied = 0u64;
        let mut max_lag_ms = 0i64;
        while let Ok(followed) = f.rx.try_recv() {
            if self.deduper.apply_remote(&followed.change) {
                applied += 1;
                if let Some(t) = followed.timestamp_ms {
                    let lag = (now_ms - t).max(0);
                    max_lag_ms = max_lag_ms.max(lag);
                    metrics::state_follow_lag(lag as f64 / 1000.0);
                }
            }
        }
        if applied > 0 {
            metrics::state_remote_applied(applied);
            self.stats.remote_changes_applied += applied;
            self.stats.follow_lag_max_ms = self.stats.follow_lag_max_ms.max(max_lag_ms as u64);
            tracing::debug!(applied, max_lag_ms, "applied other instances' dedup state");
        }
    }

    /// Processes and commits one batch; on failure aborts and rewinds so the
    /// batch is consumed again.
    ///
    /// The assignment is not paused while a slow batch runs: pausing a
    /// partition makes librdkafka drop what it has prefetched for it, and on
    /// resume the refetch waited out `fetch.queue.backoff.ms` (1 s) whenever the
    /// prefetch queue had been full, so under a backlog every batch cost a
    /// second (one 500-record batch per second: 509 pages/s exactly-once at
    /// 8,000 offered, `warta bench kafka`). Prefetched input is bounded by
    /// librdkafka's `queued.max.messages.kbytes` instead.
    async fn flush(&mut self, batch: Vec<OwnedMessage>) -> Result<(), RunError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.apply_followed();
        let started = std::time::Instant::now();
        let settings = self.settings.clone();
        let prepared = tokio::task::block_in_place(|| prepare_parallel(&settings, &batch))?;
        let prepared_at = started.elapsed();
        let mut outs: Vec<OutRecord> = Vec::with_capacity(batch.len() * 4);
        let mut summary = Summary::default();
        let mut tally = BatchTally::default();
        let timers = metrics::StageTimers::default();
        let mut consumed: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
        for m in &batch {
            let c = consumed.entry(m.topic()).or_default();
            c.0 += 1;
            c.1 += m.payload().map_or(0, <[u8]>::len) as u64;
        }
        for (topic, (records, bytes)) in consumed {
            metrics::consumed(topic, records, bytes);
        }
        // Deciding is CPU work, and with a shared store (Redis) network round
        // trips: the whole loop runs off the async workers, in one hand-off.
        let shared = self.deduper.shares_store();
        tokio::task::block_in_place(|| {
            for (m, p) in batch.iter().zip(&prepared) {
                let poisoned = self.poison.as_ref().is_some_and(|(t, part, o)| {
                    m.topic() == t && m.partition() == *part && m.offset() == *o
                });
                let processed = if poisoned {
                    output_rejected(m)
                } else {
                    let started = std::time::Instant::now();
                    if shared {
                        self.deduper.set_origin(origin(m));
                    }
                    let processed = self.deduper.decide(p);
                    timers.dedup(started.elapsed());
                    processed
                };
                let headers = input_headers(m);
                let input = InputRef {
                    topic: m.topic(),
                    partition: m.partition(),
                    offset: m.offset(),
                    key: m.key(),
                    value: m.payload().unwrap_or_default(),
                    headers: &headers,
                };
                let (processed, records) = match to_kafka(&settings, &input, &processed.records) {
                    Ok(records) => (processed, records),
                    Err(e) => {
                        tracing::error!(code = "output_unserializable", error = %ErrorChain(&e), "an output could not be serialized; the input goes to the dead-letter topic");
                        let rejected = output_unserializable(m);
                        let records = rejected
                            .records
                            .iter()
                            .filter_map(|r| match &r.payload {
                                crate::pipeline::Payload::Rejected(rej) => {
                                    Some(dead_letter(&settings, &input, rej))
                                }
                                _ => None,
                            })
                            .collect();
                        (rejected, records)
                    }
                };
                summary.record(processed.outcome);
                tally.add(p, &processed);
                outs.extend(records);
            }
        });
        if let Some(e) = self.deduper.take_store_error() {
            // Nothing was produced: decide the whole batch again, later.
            self.deduper.rollback();
            self.stats.batches_aborted += 1;
            metrics::store_error();
            tracing::warn!(code = "dedup_store", error = %ErrorChain(&e), records = batch.len(), "the dedup store failed; rewinding the batch");
            self.rewind(&batch)?;
            tokio::time::sleep(self.backoff).await;
            self.backoff = (self.backoff * 2).min(settings.kafka.retry_backoff_max);
            return Ok(());
        }
        // The batch's dedup state changes go in the same transaction as its
        // outputs and offsets, so an aborted batch leaves no state behind.
        let state = super::state::records(&self.deduper.changes());
        let decided_at = started.elapsed();
        match self.produce_and_commit(&batch, &outs, &state).await {
            Ok(()) => {
                tracing::debug!(
                    records = batch.len(),
                    outputs = outs.len(),
                    state = state.len(),
                    prepare_ms = prepared_at.as_millis() as u64,
                    decide_ms = (decided_at - prepared_at).as_millis() as u64,
                    commit_ms = (started.elapsed() - decided_at).as_millis() as u64,
                    "batch committed"
                );
                self.deduper.commit();
                metrics::state_records_written(state.len());
                tally.committed(Utc::now());
                let a = self.deduper.article_stats();
                let (_, headlines_evicted) = self.deduper.headline_removed_totals();
                metrics::index(
                    a.live,
                    self.deduper.headline_count(),
                    a.memory_bytes + self.deduper.headline_memory_bytes(),
                    (a.evicted_total, headlines_evicted),
                );
                self.stats.batches_committed += 1;
                self.isolate = false;
                self.failures = 0;
                self.poison = None;
                self.stats.summary.add(&summary);
                self.backoff = settings.kafka.retry_backoff;
                Ok(())
            }
            Err((context, e)) => {
                self.deduper.rollback();
                self.stats.batches_aborted += 1;
                let class = classify(&e);
                let code = error_code_name(&e);
                metrics::transaction_aborted(&code);
                tracing::warn!(code, error = %e, context, class = class.as_str(), records = batch.len(), "batch aborted; rewinding to its first offsets");
                let mut wedged = context == WEDGED;
                if settings.kafka.delivery == Delivery::ExactlyOnce && !wedged {
                    let producer = self.producer.clone();
                    let timeout = settings.kafka.transaction_timeout;
                    match bounded(timeout, move || producer.abort_transaction(timeout)).await {
                        Some(Ok(())) => {}
                        Some(Err(abort)) => {
                            tracing::warn!(error = %abort, "abort_transaction failed")
                        }
                        None => wedged = true,
                    }
                }
                self.rewind(&batch)?;
                self.failures += 1;
                if class == ErrorClass::AbortBatch {
                    if batch.len() > 1 {
                        self.isolate = true;
                    } else if self.failures >= POISON_AFTER {
                        let m = &batch[0];
                        tracing::error!(topic = m.topic(), partition = m.partition(), offset = m.offset(), "the broker refuses this input's outputs; sending it to the dead-letter topic");
                        self.poison = Some((m.topic().to_string(), m.partition(), m.offset()));
                    }
                }
                if wedged {
                    tracing::error!(
                        timeout_ms = settings.kafka.transaction_timeout.as_millis() as u64,
                        "the transactional producer did not return within the transaction timeout; replacing it (the new one fences the old)"
                    );
                }
                match if wedged {
                    ErrorClass::RecreateProducer
                } else {
                    class
                } {
                    ErrorClass::Fatal => Err(RunError::Kafka { context, source: e }),
                    ErrorClass::RecreateProducer => {
                        self.stats.producers_recreated += 1;
                        metrics::producer_recreated();
                        let (s, h) = (settings.clone(), self.consumer.context().health.clone());
                        self.producer = tokio::task::block_in_place(|| make_producer(&s, &h))?;
                        Ok(())
                    }
                    ErrorClass::AbortBatch | ErrorClass::Retriable => {
                        self.on_error(context, &e).await
                    }
                }
            }
        }
    }

    /// Produces the outputs and commits them with the input offsets.
    async fn produce_and_commit(
        &self,
        batch: &[OwnedMessage],
        outs: &[OutRecord],
        state: &[StateRecord],
    ) -> Result<(), (&'static str, KafkaError)> {
        let k = &self.settings.kafka;
        let eos = k.delivery == Delivery::ExactlyOnce;
        if eos {
            self.producer
                .begin_transaction()
                .map_err(|e| ("beginning a transaction", e))?;
        }
        let mut deliveries = Vec::with_capacity(outs.len());
        for o in outs {
            let mut headers = OwnedHeaders::new_with_capacity(o.headers.len());
            for (key, value) in &o.headers {
                headers = headers.insert(Header {
                    key,
                    value: Some(value),
                });
            }
            let mut record: FutureRecord<'_, Vec<u8>, Vec<u8>> = FutureRecord::to(&o.topic)
                .payload(&o.value)
                .headers(headers);
            if let Some(key) = &o.key {
                record = record.key(key);
            }
            deliveries.push(self.send(record).await?);
        }
        if !eos {
            // At least once, the state must never get ahead of the outputs: a
            // crash after the state but before an output would make the replay
            // call that input `unchanged` and its output would be lost. So the
            // outputs are acknowledged first; a crash in between only replays
            // the batch with its outputs written twice, as at-least-once allows.
            for d in deliveries.drain(..) {
                match d.await {
                    Ok(Ok(_)) => {}
                    Ok(Err((e, _))) => return Err(("delivering", e)),
                    Err(_) => return Err(("delivering", KafkaError::Canceled)),
                }
            }
        }
        for r in state {
            let headers = OwnedHeaders::new_with_capacity(1).insert(Header {
                key: HEADER_INSTANCE,
                value: Some(self.instance.as_bytes()),
            });
            let mut record: FutureRecord<'_, Vec<u8>, Vec<u8>> =
                FutureRecord::to(&self.settings.topics.state)
                    .key(&r.key)
                    .headers(headers);
            if let Some(v) = &r.value {
                record = record.payload(v);
            }
            deliveries.push(self.send(record).await?);
        }
        for d in deliveries {
            match d.await {
                Ok(Ok(_)) => {}
                Ok(Err((e, _))) => return Err(("delivering", e)),
                Err(_) => return Err(("delivering", KafkaError::Canceled)),
            }
        }
        let offsets = next_offsets(batch).map_err(|e| ("building offsets", e))?;
        let timeout = k.transaction_timeout;
        if eos {
            let group = self
                .consumer
                .group_metadata()
                .ok_or(("reading group metadata", KafkaError::Canceled))?;
            let producer = self.producer.clone();
            bounded(timeout, move || {
                producer
                    .send_offsets_to_transaction(&offsets, &group, timeout)
                    .map_err(|e| ("sending offsets to the transaction", e))?;
                producer
                    .commit_transaction(timeout)
                    .map_err(|e| ("committing the transaction", e))
            })
            .await
            .unwrap_or(Err((WEDGED, KafkaError::Canceled)))
        } else {
            let consumer = &self.consumer;
            tokio::task::block_in_place(|| {
                consumer
                    .commit(&offsets, CommitMode::Sync)
                    .map_err(|e| ("committing offsets", e))
            })
        }
    }

    /// Enqueues one record, waiting while the local queue is full.
    async fn send<'a>(
        &self,
        mut record: FutureRecord<'a, Vec<u8>, Vec<u8>>,
    ) -> Result<rdkafka::producer::DeliveryFuture, (&'static str, KafkaError)> {
        loop {
            match self.producer.send_result(record) {
                Ok(delivery) => return Ok(delivery),
                Err((
                    KafkaError::MessageProduction(rdkafka::types::RDKafkaErrorCode::QueueFull),
                    r,
                )) => {
                    // The local queue is full: let deliveries drain, then retry.
                    record = r;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err((e, _)) => return Err(("producing", e)),
            }
        }
    }

    /// Seeks every partition of the batch back to its first offset in the batch:
    /// everything before it is committed, everything from it is replayed.
    fn rewind(&self, batch: &[OwnedMessage]) -> Result<(), RunError> {
        let mut first: BTreeMap<(&str, i32), i64> = BTreeMap::new();
        for m in batch {
            first
                .entry((m.topic(), m.partition()))
                .or_insert(m.offset());
        }
        for ((topic, partition), offset) in first {
            if let Err(e) = self.consumer.seek(
                topic,
                partition,
                Offset::Offset(offset),
                Duration::from_secs(10),
            ) {
                // The partition may have been revoked meanwhile; its next owner
                // starts from the committed offset, which is before this batch.
                tracing::warn!(error = %e, topic, partition, offset, "cannot rewind partition");
            }
        }
        Ok(())
    }
}

/// The context of a transaction step whose client call did not return.
const WEDGED: &str = "a transaction step that did not return";

/// Runs a blocking transactional call on the blocking pool and waits for it
/// at most `timeout` plus a margin; `None` when it has not returned by then.
///
/// librdkafka's `send_offsets_to_transaction` waits for its request to be
/// taken up with no deadline of its own (`rd_kafka_txn_op_req(…,
/// RD_POLL_INFINITE)`), and a coordinator killed at the wrong moment left it
/// blocked for good (tests/kafka_faults.rs, coordinator-kill: the main
/// thread's stack). Past the deadline the call is left behind on its thread
/// and the producer replaced.
async fn bounded<T: Send + 'static>(
    timeout: Duration,
    call: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let margin = Duration::from_secs(5).max(timeout / 4);
    match tokio::time::timeout(timeout + margin, tokio::task::spawn_blocking(call)).await {
        Ok(Ok(v)) => Some(v),
        Ok(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Ok(Err(_)) | Err(_) => None,
    }
}

/// The outcome for an input whose outputs the broker refused: a dead letter.
/// Displays an error with its sources, `a: b: c`, for one log line.
struct ErrorChain<'a>(&'a dyn std::error::Error);

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(e) = source {
            write!(f, ": {e}")?;
            source = e.source();
        }
        Ok(())
    }
}

/// Names an input by where it was read, for [`Deduper::set_origin`]; never 0.
fn origin(m: &OwnedMessage) -> u64 {
    let (partition, offset) = (m.partition().to_string(), m.offset().to_string());
    crate::text::digest64(&[m.topic(), &partition, &offset]).max(1)
}

fn output_rejected(m: &OwnedMessage) -> crate::pipeline::Processed {
    reject_input(
        m,
        crate::event::RejectCode::OutputRejected,
        "the broker refused this input's outputs (for example, larger than message.max.bytes)",
    )
}

fn output_unserializable(m: &OwnedMessage) -> crate::pipeline::Processed {
    reject_input(
        m,
        crate::event::RejectCode::OutputUnserializable,
        "an output made from this input could not be serialized to JSON",
    )
}

fn reject_input(
    m: &OwnedMessage,
    code: crate::event::RejectCode,
    message: &str,
) -> crate::pipeline::Processed {
    let e = crate::event::InvalidInput::new(code, message);
    crate::pipeline::reject(
        e,
        SourceRef::Kafka {
            topic: m.topic().to_string(),
            partition: m.partition(),
            offset: m.offset(),
        },
        m.payload().unwrap_or_default(),
    )
}

/// Offsets to commit: one past the last message of each partition.
fn next_offsets(batch: &[OwnedMessage]) -> Result<TopicPartitionList, KafkaError> {
    let mut last: BTreeMap<(&str, i32), i64> = BTreeMap::new();
    for m in batch {
        let e = last.entry((m.topic(), m.partition())).or_insert(m.offset());
        *e = (*e).max(m.offset());
    }
    let mut tpl = TopicPartitionList::new();
    for ((topic, partition), offset) in last {
        tpl.add_partition_offset(topic, partition, Offset::Offset(offset + 1))?;
    }
    Ok(tpl)
}

fn input_headers(m: &OwnedMessage) -> Vec<(String, Vec<u8>)> {
    m.headers()
        .map(|h| {
            h.iter()
                .map(|h| {
                    (
                        h.key.to_string(),
                        h.value.map(<[u8]>::to_vec).unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Parses and fingerprints a batch on `workers.threads` threads. Each thread
/// takes a contiguous chunk, so results come back in input order.
fn prepare_parallel(
    settings: &Arc<Settings>,
    batch: &[OwnedMessage],
) -> Result<Vec<Prepared>, RunError> {
    let threads = settings.worker_threads.clamp(1, batch.len().max(1));
    let chunk = batch.len().div_ceil(threads);
    let now = Utc::now();
    let work = |msgs: &[OwnedMessage]| -> Vec<Prepared> {
        let mut preparer = Preparer::new(settings.clone());
        let timers = metrics::StageTimers::default();
        msgs.iter()
            .map(|m| {
                let source = SourceRef::Kafka {
                    topic: m.topic().to_string(),
                    partition: m.partition(),
                    offset: m.offset(),
                };
                let started = std::time::Instant::now();
                let prepared = preparer.prepare(m.payload().unwrap_or_default(), source, now);
                timers.parse(started.elapsed());
                prepared
            })
            .collect()
    };
    if threads == 1 {
        return Ok(work(batch));
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = batch
            .chunks(chunk)
            .map(|c| s.spawn(move || work(c)))
            .collect();
        let mut out = Vec::with_capacity(batch.len());
        for h in handles {
            out.extend(h.join().map_err(|_| RunError::Worker)?);
        }
        Ok(out)
    })
}

/// The error code of `e` as a bounded label value (see [`metrics::error_code`]).
fn error_code_name(e: &KafkaError) -> String {
    e.rdkafka_error_code()
        .map_or_else(|| "other".into(), metrics::error_code)
}

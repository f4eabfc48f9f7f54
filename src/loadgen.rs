//! `warta bench kafka`: an operator's load generator. It measures the service
//! end to end against a real broker (or librdkafka's in-process MockCluster):
//! throughput, and p50/p99 latency from produce to committed output. It stays
//! in the product binary because operators size a deployment with it against
//! their own cluster; the offline benchmarks live in the `warta-lab` crate.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use chrono::Utc;

use crate::config::Settings;

/// Figures from one `bench kafka` run.
#[derive(Debug, Clone, Copy)]
pub struct KafkaBench {
    pub sent: usize,
    pub received: usize,
    pub offered_rate: f64,
    /// Outputs per second from the first send to the last output.
    pub throughput: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl std::fmt::Display for KafkaBench {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "sent={} received={} offered_rate={:.0}/s throughput={:.0}/s latency_p50_ms={:.1} latency_p99_ms={:.1} latency_max_ms={:.1}",
            self.sent, self.received, self.offered_rate, self.throughput, self.p50_ms, self.p99_ms, self.max_ms
        )
    }
}

/// Errors of `bench kafka`.
#[derive(Debug, thiserror::Error)]
pub enum KafkaBenchError {
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    #[error("the service failed")]
    Run(#[from] crate::app::AppError),
    #[error("invalid bench settings")]
    Config(#[from] crate::config::ConfigError),
}

/// End-to-end benchmark against a real broker: produces `pages` in turn (each
/// with a unique URL and a per-page suffix, so none is a recrawl) at `rate` per second for `seconds`, runs the service
/// in-process, and measures the time from produce to the committed output
/// (read with `read_committed`). Topics get a fresh prefix on every run.
/// `brokers` = `None` runs against librdkafka's MockCluster, started in this
/// process (the only broker here with transactions, for exactly-once figures).
/// `metrics` turns the Prometheus recorder and listener on or off.
pub async fn kafka(
    base: &Settings,
    brokers: Option<&str>,
    rate: u32,
    seconds: u32,
    pages: &[String],
    metrics: bool,
) -> Result<KafkaBench, KafkaBenchError> {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;
    use rdkafka::consumer::{Consumer, StreamConsumer};
    use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
    use rdkafka::producer::{FutureProducer, FutureRecord};
    use rdkafka::ClientConfig;

    let prefix = format!("bench{}-", Utc::now().timestamp_millis() % 100_000_000);
    let name = |t: &str| format!("{prefix}{t}");
    let mock = match brokers {
        Some(_) => None,
        None => Some(rdkafka::mocking::MockCluster::new(1)?),
    };
    let brokers = match (&mock, brokers) {
        (Some(m), _) => m.bootstrap_servers(),
        (None, b) => b.unwrap_or_default().to_string(),
    };
    let brokers = brokers.as_str();
    let topics: Vec<String> = [
        "raw-pages",
        "clean-articles",
        "clean-headlines",
        "page-duplicates",
        "raw-pages-dlq",
        "warta-dedup-state",
    ]
    .iter()
    .map(|t| name(t))
    .collect();
    if let Some(m) = &mock {
        // The mock does not answer CreateTopics. It also keeps only the last
        // 5 MB of each partition (librdkafka's rdkafka_mock.c), so the input is
        // spread over enough partitions to hold a backlog of ~15k seed pages.
        for t in &topics {
            m.create_topic(t, 16, 1)?;
        }
    } else {
        let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .create()?;
        let new: Vec<NewTopic<'_>> = topics
            .iter()
            .map(|t| NewTopic::new(t, 2, TopicReplication::Fixed(1)))
            .collect();
        for r in admin.create_topics(&new, &AdminOptions::new()).await? {
            r.map_err(|(_, code)| rdkafka::error::KafkaError::AdminOp(code))?;
        }
    }
    let mut env: std::collections::BTreeMap<String, String> = [
        ("WARTA__KAFKA__BROKERS", brokers.to_string()),
        ("WARTA__KAFKA__GROUP_ID", name("group")),
        (
            "WARTA__KAFKA__DELIVERY",
            match base.kafka.delivery {
                crate::config::Delivery::ExactlyOnce => "exactly-once".into(),
                crate::config::Delivery::AtLeastOnce => "at-least-once".into(),
            },
        ),
        (
            "WARTA__KAFKA__BATCH_MAX_MS",
            base.kafka.batch_max.as_millis().to_string(),
        ),
        (
            "WARTA__KAFKA__BATCH_MAX_RECORDS",
            base.kafka.batch_max_records.to_string(),
        ),
        ("WARTA__TOPICS__INPUT", name("raw-pages")),
        ("WARTA__TOPICS__ARTICLES", name("clean-articles")),
        ("WARTA__TOPICS__HEADLINES", name("clean-headlines")),
        ("WARTA__TOPICS__DUPLICATES", name("page-duplicates")),
        ("WARTA__TOPICS__DEAD_LETTER", name("raw-pages-dlq")),
        ("WARTA__TOPICS__STATE", name("warta-dedup-state")),
        ("WARTA__DEDUP__MAX_ARTICLES", "200000".into()),
        ("WARTA__LOG__LEVEL", "warn".into()),
        ("WARTA__METRICS__ENABLED", metrics.to_string()),
        ("WARTA__METRICS__LISTEN", "127.0.0.1:0".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    env.insert(
        "WARTA__WORKERS__THREADS".into(),
        base.worker_threads.to_string(),
    );
    for (k, v) in &base.kafka.consumer {
        env.insert(
            format!(
                "WARTA__KAFKA__CONSUMER__{}",
                k.replace('.', "_").to_uppercase()
            ),
            v.clone(),
        );
    }
    let settings = Arc::new(Settings::load(crate::config::Sources {
        file: None,
        env: Some(env),
    })?);

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let service = tokio::spawn(crate::app::run(settings, async {
        let _ = stop_rx.await;
    }));

    let reader: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", name("reader"))
        .set("isolation.level", "read_committed")
        .set("auto.offset.reset", "earliest")
        // Measure warta, not the reader's fetch wait.
        .set("fetch.wait.max.ms", "10")
        .create()?;
    reader.subscribe(&[
        &name("clean-articles"),
        &name("page-duplicates"),
        &name("raw-pages-dlq"),
    ])?;

    // Let the service join its group and get its partitions before the clock
    // starts, so start-up does not count as latency.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let total = rate as usize * seconds as usize;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("linger.ms", "1")
        .create()?;
    let input = name("raw-pages");
    let start = Instant::now();
    let send = async {
        let mut sent = 0usize;
        let mut tick = tokio::time::interval(Duration::from_millis(10));
        let per_tick = (rate as usize).div_ceil(100).max(1);
        while sent < total {
            tick.tick().await;
            for _ in 0..per_tick.min(total - sent) {
                let event = serde_json::json!({
                    "url": format!("https://bench.example/berita/{sent}"),
                    "fetched_at": "2025-12-31T05:15:00Z",
                    "content": format!("{}\nCatatan redaksi nomor {sent}.", pages[sent % pages.len()]),
                })
                .to_string();
                let micros = Utc::now().timestamp_micros().to_string();
                let headers = OwnedHeaders::new().insert(Header {
                    key: "bench-sent-at",
                    value: Some(&micros),
                });
                let key = sent.to_string();
                let record = FutureRecord::to(&input)
                    .key(&key)
                    .payload(&event)
                    .headers(headers);
                if let Ok(delivery) = producer.send_result(record) {
                    drop(delivery);
                }
                sent += 1;
            }
        }
        sent
    };
    let receive = async {
        let mut latencies = Vec::with_capacity(total);
        let mut last = start;
        let deadline = Instant::now() + Duration::from_secs(seconds as u64 + 60);
        while latencies.len() < total && Instant::now() < deadline {
            let Ok(Ok(m)) = tokio::time::timeout(Duration::from_secs(1), reader.recv()).await
            else {
                continue;
            };
            let sent_at = m
                .headers()
                .and_then(|h| h.iter().find(|h| h.key == "bench-sent-at"))
                .and_then(|h| {
                    std::str::from_utf8(h.value.unwrap_or_default())
                        .ok()?
                        .parse::<i64>()
                        .ok()
                });
            if let Some(sent_at) = sent_at {
                latencies.push((Utc::now().timestamp_micros() - sent_at) as f64 / 1000.0);
                last = Instant::now();
            }
        }
        (latencies, last)
    };
    let (sent, (mut latencies, last)) = tokio::join!(send, receive);
    let _ = stop_tx.send(());
    service
        .await
        .map_err(|_| crate::app::AppError::Run(crate::kafka::RunError::Worker))??;
    // The bench topics are left in place for inspection; the bench's own
    // driver (lab/peers/kafka-bench.sh) deletes them between rounds.
    latencies.sort_by(f64::total_cmp);
    let q = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(f64::NAN)
    };
    Ok(KafkaBench {
        sent,
        received: latencies.len(),
        offered_rate: rate as f64,
        throughput: latencies.len() as f64 / (last - start).as_secs_f64().max(1e-9),
        p50_ms: q(0.50),
        p99_ms: q(0.99),
        max_ms: latencies.last().copied().unwrap_or(f64::NAN),
    })
}

/// The median of `xs` (NaN when empty).
pub fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    match xs.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => xs[n / 2],
        n => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

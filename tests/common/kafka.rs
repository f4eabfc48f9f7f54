//! Kafka helpers shared by the broker tests: the Apache Kafka broker `.ci/test`
//! starts, per-test topics on it, settings, producing the example pages,
//! reading every output topic, running the service, reporting counts.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use tokio::sync::oneshot;
use warta::app::run;
use warta::config::Settings;
use warta::kafka::RunStats;

pub const OUTPUTS: [&str; 4] = [
    "clean-articles",
    "clean-headlines",
    "page-duplicates",
    "raw-pages-dlq",
];

/// The dedup changelog's default name; tests on a shared broker prefix it.
pub const STATE_TOPIC: &str = "warta-dedup-state";

/// The single Apache Kafka broker `bash .ci/test` starts on 127.0.0.1 and
/// names in `WARTA_TEST_KAFKA_BROKERS`. Tests share it, each under a topic and
/// group prefix of its own ([`unique_prefix`]).
pub fn test_brokers() -> String {
    std::env::var("WARTA_TEST_KAFKA_BROKERS")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| {
            panic!(
                "WARTA_TEST_KAFKA_BROKERS is not set: run the tests with `bash .ci/test`, which \
                 installs and starts Apache Kafka (or start one with `bash .ci/kafka-start DIR` \
                 and set WARTA_TEST_KAFKA_BROKERS=127.0.0.1:19092)"
            )
        })
}

/// A prefix for topic and group names no other test (nor an earlier run on
/// the same broker) uses.
pub fn unique_prefix(tag: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{tag}{}-{}-",
        rand_suffix() % 1_000_000_000,
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Writes a test's measured counts to `target/tmp/warta-reports/NAME.txt`
/// (`.ci/test` prints them at the end, since cargo test hides a passing test's
/// output) and to stderr.
pub fn report(name: &str, text: &str) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("warta-reports");
    std::fs::create_dir_all(&dir).expect("report dir");
    std::fs::write(dir.join(format!("{name}.txt")), format!("{text}\n")).expect("report");
    eprintln!("{text}");
}

pub type Mock = rdkafka::mocking::MockCluster<'static, rdkafka::producer::DefaultProducerContext>;

/// A MockCluster of `brokers` brokers with warta's default topics: the input
/// and the outputs with 2 partitions each, the dedup changelog with
/// `state_partitions`. The mock does not answer CreateTopics, so neither the
/// tests' admin helper nor warta itself can create them.
pub fn mock_cluster(brokers: i32, state_partitions: i32) -> Mock {
    let m = Mock::new(brokers).expect("mock cluster");
    for t in std::iter::once("raw-pages").chain(OUTPUTS) {
        m.create_topic(t, 2, 1).expect("create topic");
    }
    m.create_topic(STATE_TOPIC, state_partitions, 1)
        .expect("create topic");
    m
}

pub fn settings(brokers: &str, group: &str, extra: &[(&str, &str)]) -> Arc<Settings> {
    let mut env: BTreeMap<String, String> = [
        ("WARTA__KAFKA__BROKERS", brokers),
        ("WARTA__KAFKA__GROUP_ID", group),
        ("WARTA__KAFKA__BATCH_MAX_MS", "100"),
        ("WARTA__KAFKA__TRANSACTION_TIMEOUT_MS", "20000"),
        ("WARTA__KAFKA__STATISTICS_INTERVAL_MS", "0"),
        ("WARTA__DEDUP__MAX_ARTICLES", "10000"),
        ("WARTA__DEDUP__MAX_HEADLINES", "10000"),
        ("WARTA__WORKERS__THREADS", "2"),
        ("WARTA__METRICS__LISTEN", "127.0.0.1:0"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in extra {
        env.insert(k.to_string(), v.to_string());
    }
    super::settings_from_env(env)
}

/// Produces the example pages (6 inputs, one of them invalid) with a key and a
/// header of the crawler's own, all to partition 0 so their order is fixed.
pub async fn produce_examples(brokers: &str) -> Vec<Vec<u8>> {
    produce_examples_to(brokers, "raw-pages").await
}

/// Produces the example pages to `topic`, partition 0.
pub async fn produce_examples_to(brokers: &str, topic: &str) -> Vec<Vec<u8>> {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    let lines: Vec<Vec<u8>> = std::fs::read_to_string(super::root().join("examples/pages.jsonl"))
        .unwrap()
        .lines()
        .map(|l| l.as_bytes().to_vec())
        .collect();
    for (i, line) in lines.iter().enumerate() {
        let key = format!("crawl-{i}");
        let headers = OwnedHeaders::new().insert(Header {
            key: "crawler-run",
            value: Some("42"),
        });
        producer
            .send(
                FutureRecord::to(topic)
                    .partition(0)
                    .key(&key)
                    .payload(line)
                    .headers(headers),
                Duration::from_secs(10),
            )
            .await
            .expect("produce input");
    }
    lines
}

#[derive(Debug, Clone)]
pub struct Out {
    pub key: Option<String>,
    pub value: Vec<u8>,
    pub headers: HashMap<String, String>,
}

/// Reads every topic with `read_committed` until `want` records per topic have
/// arrived (or the timeout passes), then a little longer to catch extras.
pub fn read_committed(
    brokers: &str,
    want: &BTreeMap<&str, usize>,
    timeout: Duration,
) -> BTreeMap<String, Vec<Out>> {
    let topics: Vec<String> = OUTPUTS.iter().map(|t| t.to_string()).collect();
    let want = want.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    read_topics(brokers, &topics, &want, timeout)
}

/// The partitions of `topic` (2 if the broker does not say: the mock's default).
pub fn partition_count(c: &BaseConsumer, topic: &str) -> i32 {
    c.fetch_metadata(Some(topic), Duration::from_secs(10))
        .ok()
        .and_then(|m| {
            m.topics()
                .iter()
                .find(|t| t.name() == topic)
                .map(|t| t.partitions().len() as i32)
        })
        .filter(|n| *n > 0)
        .unwrap_or(2)
}

/// Reads `topics` (every partition) from the beginning, `read_committed`,
/// until `want` records per topic have arrived and 2 s more have passed, or
/// until `timeout`.
pub fn read_topics(
    brokers: &str,
    topics: &[String],
    want: &BTreeMap<String, usize>,
    timeout: Duration,
) -> BTreeMap<String, Vec<Out>> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("reader-{}", rand_suffix()))
        .set("isolation.level", "read_committed")
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for t in topics {
        for p in 0..partition_count(&consumer, t) {
            tpl.add_partition_offset(t, p, Offset::Beginning).unwrap();
        }
    }
    consumer.assign(&tpl).unwrap();
    let mut out: BTreeMap<String, Vec<Out>> = BTreeMap::new();
    let start = std::time::Instant::now();
    let mut satisfied_at = None;
    while start.elapsed() < timeout {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
            let headers = m
                .headers()
                .map(|h| {
                    h.iter()
                        .map(|h| {
                            (
                                h.key.to_string(),
                                String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            out.entry(m.topic().to_string()).or_default().push(Out {
                key: m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
                value: m.payload().unwrap_or_default().to_vec(),
                headers,
            });
        }
        let done = want
            .iter()
            .all(|(t, n)| out.get(t).map_or(0, Vec::len) >= *n);
        match (done, satisfied_at) {
            (true, None) => satisfied_at = Some(std::time::Instant::now()),
            (true, Some(t)) if t.elapsed() > Duration::from_secs(2) => break,
            _ => {}
        }
    }
    out
}

pub fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

pub fn expected() -> BTreeMap<&'static str, usize> {
    // examples/pages.jsonl: seed (new), its recrawl (unchanged), a copy
    // (duplicate), an English page (new), an index page, one invalid line.
    BTreeMap::from([
        ("clean-articles", 2),
        ("page-duplicates", 1),
        ("clean-headlines", 14),
        ("raw-pages-dlq", 1),
    ])
}

pub async fn start(
    settings: Arc<Settings>,
) -> (oneshot::Sender<()>, tokio::task::JoinHandle<RunStats>) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        run(settings, async {
            let _ = rx.await;
        })
        .await
        .expect("warta run")
    });
    (tx, handle)
}

pub fn value_json(o: &Out) -> serde_json::Value {
    serde_json::from_slice(&o.value).expect("output is JSON")
}

/// Creates the topics with a per-test prefix, so tests share one broker.
pub async fn create_topics(brokers: &str, prefix: &str, input_partitions: i32) {
    create_topics_with(brokers, prefix, input_partitions, 2).await
}

/// The same with `state_partitions` for the dedup changelog, which is
/// compacted as warta would create it.
pub async fn create_topics_with(
    brokers: &str,
    prefix: &str,
    input_partitions: i32,
    state_partitions: i32,
) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("admin client");
    let names: Vec<String> = std::iter::once("raw-pages")
        .chain(OUTPUTS)
        .chain([STATE_TOPIC])
        .map(|t| format!("{prefix}{t}"))
        .collect();
    let topics: Vec<NewTopic<'_>> = names
        .iter()
        .enumerate()
        .map(|(i, n)| match i {
            0 => NewTopic::new(n, input_partitions, TopicReplication::Fixed(1)),
            5 => NewTopic::new(n, state_partitions, TopicReplication::Fixed(1))
                .set("cleanup.policy", "compact"),
            _ => NewTopic::new(n, 2, TopicReplication::Fixed(1)),
        })
        .collect();
    let results = admin
        .create_topics(
            &topics,
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
        )
        .await
        .expect("create topics");
    for r in results {
        if let Err((topic, code)) = r {
            panic!("cannot create {topic}: {code:?}");
        }
    }
    tokio::task::block_in_place(|| wait_for_topics(brokers, &names));
}

/// Waits (at most 30 s) until the broker's metadata shows every partition of
/// `names` with a leader: a topic just created may not be served yet, and a
/// service started on it at once would fail its first request.
pub fn wait_for_topics(brokers: &str, names: &[String]) {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("metadata client");
    let started = std::time::Instant::now();
    loop {
        let ready = c
            .fetch_metadata(None, Duration::from_secs(5))
            .map(|m| {
                names.iter().all(|n| {
                    m.topics().iter().any(|t| {
                        t.name() == n
                            && t.error().is_none()
                            && !t.partitions().is_empty()
                            && t.partitions()
                                .iter()
                                .all(|p| p.leader() >= 0 && p.error().is_none())
                    })
                })
            })
            .unwrap_or(false);
        if ready {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "topics {names:?} not served 30 s after their creation"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Creates more topics of `partitions` each on the test broker.
pub async fn create_more_topics(brokers: &str, names: &[String], partitions: i32) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("admin client");
    let topics: Vec<NewTopic<'_>> = names
        .iter()
        .map(|n| NewTopic::new(n, partitions, TopicReplication::Fixed(1)))
        .collect();
    for r in admin
        .create_topics(
            &topics,
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
        )
        .await
        .expect("create topics")
    {
        if let Err((topic, code)) = r {
            panic!("cannot create {topic}: {code:?}");
        }
    }
    tokio::task::block_in_place(|| wait_for_topics(brokers, names));
}

pub fn topic_env(prefix: &str) -> Vec<(String, String)> {
    vec![
        ("WARTA__TOPICS__INPUT".into(), format!("{prefix}raw-pages")),
        (
            "WARTA__TOPICS__ARTICLES".into(),
            format!("{prefix}clean-articles"),
        ),
        (
            "WARTA__TOPICS__HEADLINES".into(),
            format!("{prefix}clean-headlines"),
        ),
        (
            "WARTA__TOPICS__DUPLICATES".into(),
            format!("{prefix}page-duplicates"),
        ),
        (
            "WARTA__TOPICS__DEAD_LETTER".into(),
            format!("{prefix}raw-pages-dlq"),
        ),
        (
            "WARTA__TOPICS__STATE".into(),
            format!("{prefix}{STATE_TOPIC}"),
        ),
        ("WARTA__KAFKA__DELIVERY".into(), "at-least-once".into()),
    ]
}

/// Reads the output topics (named `{prefix}{topic}`) off the async runtime until
/// `want` records per topic arrived, then stops the service. Outputs are keyed
/// by the unprefixed topic name.
pub async fn collect_and_stop(
    brokers: &str,
    prefix: &str,
    want: BTreeMap<&'static str, usize>,
    timeout: Duration,
    stop: oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<RunStats>,
) -> (BTreeMap<String, Vec<Out>>, RunStats) {
    let topics: Vec<String> = OUTPUTS.iter().map(|t| format!("{prefix}{t}")).collect();
    let want: BTreeMap<String, usize> = want
        .into_iter()
        .map(|(t, n)| (format!("{prefix}{t}"), n))
        .collect();
    let (b, p) = (brokers.to_string(), prefix.to_string());
    let out = tokio::task::spawn_blocking(move || read_topics(&b, &topics, &want, timeout))
        .await
        .expect("reader thread");
    let _ = stop.send(());
    let stats = handle.await.expect("warta run");
    let out = out
        .into_iter()
        .map(|(t, v)| (t.strip_prefix(&p).unwrap_or(&t).to_string(), v))
        .collect();
    (out, stats)
}

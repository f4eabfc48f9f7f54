//! `warta run` against librdkafka's in-process MockCluster (real Kafka protocol
//! over TCP on 127.0.0.1): outputs with keys and headers, exactly-once abort and
//! replay, injected broker errors, and graceful shutdown.
//!
//! Two limits of the mock (librdkafka 2.12) shape these tests: its Fetch returns
//! no aborted-transaction list, so a `read_committed` reader also sees aborted
//! records, and its TxnOffsetCommit does not store offsets. The abort test
//! therefore checks the replay, not the invisibility of the aborted attempt, and
//! the offset check of the shutdown test runs in at-least-once mode. The
//! exactly-once visibility test runs against any broker with EndTxn, named by
//! `WARTA_TEST_EOS_BROKERS` (tests/kafka_eos_broker.rs).

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use tokio::sync::oneshot;
use warta::config::{Settings, Sources};
use warta::kafka::{run, RunStats};

const OUTPUTS: [&str; 4] = [
    "clean-articles",
    "clean-headlines",
    "page-duplicates",
    "raw-pages-dlq",
];

fn mock() -> MockCluster<'static, rdkafka::producer::DefaultProducerContext> {
    let m = MockCluster::new(3).expect("mock cluster");
    m.create_topic("raw-pages", 2, 1).unwrap();
    for t in OUTPUTS {
        m.create_topic(t, 2, 1).unwrap();
    }
    m
}

fn settings(brokers: &str, group: &str, extra: &[(&str, &str)]) -> Arc<Settings> {
    let mut env: BTreeMap<String, String> = [
        ("WARTA__KAFKA__BROKERS", brokers),
        ("WARTA__KAFKA__GROUP_ID", group),
        ("WARTA__KAFKA__BATCH_MAX_MS", "100"),
        ("WARTA__KAFKA__TRANSACTION_TIMEOUT_MS", "20000"),
        ("WARTA__KAFKA__STATISTICS_INTERVAL_MS", "0"),
        ("WARTA__DEDUP__MAX_ARTICLES", "10000"),
        ("WARTA__DEDUP__MAX_HEADLINES", "10000"),
        ("WARTA__WORKERS__THREADS", "2"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in extra {
        env.insert(k.to_string(), v.to_string());
    }
    Arc::new(
        Settings::load(Sources {
            file: None,
            env: Some(env),
        })
        .expect("settings"),
    )
}

/// Produces the example pages (6 inputs, one of them invalid) with a key and a
/// header of the crawler's own, all to partition 0 so their order is fixed.
async fn produce_examples(brokers: &str) -> Vec<Vec<u8>> {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    let lines: Vec<Vec<u8>> = std::fs::read_to_string(common::root().join("examples/pages.jsonl"))
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
                FutureRecord::to("raw-pages")
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
struct Out {
    key: Option<String>,
    value: Vec<u8>,
    headers: HashMap<String, String>,
}

/// Reads every topic with `read_committed` until `want` records per topic have
/// arrived (or the timeout passes), then a little longer to catch extras.
fn read_committed(
    brokers: &str,
    want: &BTreeMap<&str, usize>,
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
    for t in OUTPUTS {
        for p in 0..2 {
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
            .all(|(t, n)| out.get(*t).map_or(0, Vec::len) >= *n);
        match (done, satisfied_at) {
            (true, None) => satisfied_at = Some(std::time::Instant::now()),
            (true, Some(t)) if t.elapsed() > Duration::from_secs(2) => break,
            _ => {}
        }
    }
    out
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

fn expected() -> BTreeMap<&'static str, usize> {
    // examples/pages.jsonl: seed (new), its recrawl (unchanged), a copy
    // (duplicate), an English page (new), an index page, one invalid line.
    BTreeMap::from([
        ("clean-articles", 2),
        ("page-duplicates", 1),
        ("clean-headlines", 14),
        ("raw-pages-dlq", 1),
    ])
}

async fn start(
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

fn value_json(o: &Out) -> serde_json::Value {
    serde_json::from_slice(&o.value).expect("output is JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_in_outputs_out_with_keys_and_headers() {
    let mock = mock();
    let brokers = mock.bootstrap_servers();
    let inputs = produce_examples(&brokers).await;
    let (stop, handle) = start(settings(&brokers, "g-outputs", &[])).await;
    let b = brokers.clone();
    let out = tokio::task::spawn_blocking(move || {
        read_committed(&b, &expected(), Duration::from_secs(60))
    })
    .await
    .unwrap();
    let _ = stop.send(());
    let stats = handle.await.unwrap();
    for (topic, n) in expected() {
        assert_eq!(
            out.get(topic).map_or(0, Vec::len),
            n,
            "{topic}: {:?}",
            out.get(topic).map(|v| v.len())
        );
    }
    assert_eq!(stats.summary.inputs, 6);
    assert!(stats.summary.balanced());

    let articles = &out["clean-articles"];
    let seed = articles
        .iter()
        .find(|o| value_json(o)["site"] == "rmol.id")
        .expect("seed article");
    let seed_json = value_json(seed);
    assert_eq!(
        seed.key.as_deref(),
        seed_json["cluster_id"].as_str(),
        "articles are keyed by cluster"
    );
    assert_eq!(seed.headers["warta-schema"], "1");
    assert_eq!(seed.headers["warta-verdict"], "new");
    assert_eq!(seed.headers["warta-source"], "raw-pages/0/0");
    assert_eq!(
        seed.headers["crawler-run"], "42",
        "input headers are passed on"
    );

    let dup = &out["page-duplicates"][0];
    assert_eq!(dup.headers["warta-verdict"], "duplicate");
    assert_eq!(
        dup.key, seed.key,
        "a copy shares its original's key and partition"
    );
    assert_eq!(value_json(dup)["duplicate_of"], seed_json["id"]);

    let dlq = &out["raw-pages-dlq"][0];
    assert_eq!(
        dlq.value, inputs[5],
        "the dead letter keeps the original bytes"
    );
    assert_eq!(dlq.key.as_deref(), Some("crawl-5"), "and the original key");
    assert_eq!(dlq.headers["crawler-run"], "42", "and the original headers");
    assert_eq!(dlq.headers["warta-error-code"], "invalid_url");
    assert!(!dlq.headers["warta-error-message"].is_empty());

    for h in &out["clean-headlines"] {
        assert_eq!(h.key.as_deref(), value_json(h)["id"].as_str());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_once_abort_replays_the_batch_with_the_same_verdicts() {
    let mock = mock();
    let brokers = mock.bootstrap_servers();
    produce_examples(&brokers).await;
    // The first produce requests fail permanently: the batch cannot commit.
    mock.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE; 4],
    );
    let (stop, handle) = start(settings(&brokers, "g-abort", &[])).await;
    let b = brokers.clone();
    let out = tokio::task::spawn_blocking(move || {
        read_committed(&b, &expected(), Duration::from_secs(90))
    })
    .await
    .unwrap();
    let _ = stop.send(());
    let stats = handle.await.unwrap();
    assert!(stats.batches_aborted >= 1, "an aborted batch: {stats:?}");
    assert_eq!(
        stats.batches_committed, 1,
        "then one committed replay: {stats:?}"
    );
    // The committed replay accounts for every input once, with the verdicts of a
    // first attempt: the aborted attempt's dedup state was rolled back.
    let s = stats.summary;
    assert_eq!(
        (
            s.inputs,
            s.new,
            s.unchanged,
            s.duplicates,
            s.index_pages,
            s.rejected
        ),
        (6, 2, 1, 1, 1, 1)
    );
    assert_eq!(s.headlines, 14);
    // Every output of the replay reached the broker (the mock also shows the
    // aborted attempt's records; see the module docs).
    for (topic, n) in expected() {
        assert!(
            out.get(topic).map_or(0, Vec::len) >= n,
            "{topic} ({stats:?})"
        );
    }
    let new_ids: std::collections::BTreeSet<String> = out["clean-articles"]
        .iter()
        .filter(|o| o.headers["warta-verdict"] == "new")
        .map(|o| value_json(o)["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(new_ids.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retriable_errors_and_a_broker_outage_lose_nothing_and_duplicate_nothing() {
    let mock = mock();
    let brokers = mock.bootstrap_servers();
    produce_examples(&brokers).await;
    mock.request_errors(
        RDKafkaApiKey::Produce,
        &[
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
            RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
        ],
    );
    mock.broker_down(2).unwrap();
    let (stop, handle) = start(settings(&brokers, "g-retry", &[])).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    mock.broker_up(2).unwrap();
    let b = brokers.clone();
    let out = tokio::task::spawn_blocking(move || {
        read_committed(&b, &expected(), Duration::from_secs(90))
    })
    .await
    .unwrap();
    let _ = stop.send(());
    let stats = handle.await.unwrap();
    for (topic, n) in expected() {
        assert_eq!(out.get(topic).map_or(0, Vec::len), n, "{topic} ({stats:?})");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_commits_everything_processed() {
    let mock = mock();
    let brokers = mock.bootstrap_servers();
    produce_examples(&brokers).await;
    // A long batch window: the pages are still in the open batch at shutdown.
    // At-least-once, because the mock does not store transactional offsets.
    let (stop, handle) = start(settings(
        &brokers,
        "g-drain",
        &[
            ("WARTA__KAFKA__BATCH_MAX_MS", "600000"),
            ("WARTA__KAFKA__DELIVERY", "at-least-once"),
        ],
    ))
    .await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let _ = stop.send(());
    let stats = handle.await.unwrap();
    assert_eq!(
        stats.summary.inputs, 6,
        "the open batch was finished on shutdown: {stats:?}"
    );
    assert_eq!(stats.batches_committed, 1);

    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("group.id", "g-drain")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition("raw-pages", 0);
    let committed = consumer
        .committed_offsets(tpl, Duration::from_secs(10))
        .unwrap();
    let offset = committed.find_partition("raw-pages", 0).unwrap().offset();
    assert_eq!(
        offset,
        Offset::Offset(6),
        "every processed input's offset is committed"
    );
}

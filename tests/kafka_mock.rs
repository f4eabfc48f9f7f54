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

use std::time::Duration;

use common::kafka::*;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

fn mock() -> Mock {
    mock_cluster(3, 2)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_in_outputs_out_with_keys_and_headers() {
    let mock = mock();
    let brokers = mock.bootstrap_servers();
    let inputs = produce_examples(&brokers).await;
    let (stop, handle) = start(settings(&brokers, "g-outputs", &[])).await;
    let (out, stats) = collect_and_stop(
        &brokers,
        "",
        expected(),
        Duration::from_secs(60),
        stop,
        handle,
    )
    .await;
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
    // Two, so no single input is refused the three times that dead-letter it.
    mock.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE; 2],
    );
    let (stop, handle) = start(settings(&brokers, "g-abort", &[])).await;
    let (out, stats) = collect_and_stop(
        &brokers,
        "",
        expected(),
        Duration::from_secs(90),
        stop,
        handle,
    )
    .await;
    assert!(stats.batches_aborted >= 1, "an aborted batch: {stats:?}");
    // The replay starts one input at a time (isolating a refused input), then
    // batches again after the first success.
    assert!(
        stats.batches_committed >= 1,
        "then a committed replay: {stats:?}"
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
    let (out, stats) = collect_and_stop(
        &brokers,
        "",
        expected(),
        Duration::from_secs(90),
        stop,
        handle,
    )
    .await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_input_whose_output_the_broker_refuses_becomes_a_dead_letter() {
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let mock = mock();
    let brokers = mock.bootstrap_servers();
    produce_examples(&brokers).await;
    // A valid page whose article is larger than the producer's message.max.bytes.
    let content: String = (0..1500)
        .map(|i| {
            format!(
                "Kalimat nomor {i} membahas hal yang berbeda, yaitu topik {}.\n",
                i * 7919
            )
        })
        .collect();
    let big = serde_json::json!({"url": "https://besar.example/berita/1", "content": content})
        .to_string();
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .create()
        .unwrap();
    producer
        .send(
            FutureRecord::to("raw-pages")
                .partition(0)
                .key("big")
                .payload(&big),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    let (stop, handle) = start(settings(
        &brokers,
        "g-poison",
        &[("WARTA__KAFKA__PRODUCER__MESSAGE_MAX_BYTES", "30000")],
    ))
    .await;
    let mut want = expected();
    want.insert("raw-pages-dlq", 2);
    let (out, stats) =
        collect_and_stop(&brokers, "", want, Duration::from_secs(90), stop, handle).await;
    let dlq = &out["raw-pages-dlq"];
    let codes: Vec<&str> = dlq
        .iter()
        .map(|o| o.headers["warta-error-code"].as_str())
        .collect();
    assert_eq!(codes, ["invalid_url", "output_rejected"], "{stats:?}");
    let poisoned = &dlq[1];
    assert_eq!(poisoned.key.as_deref(), Some("big"));
    assert_eq!(poisoned.headers["warta-truncated"], big.len().to_string());
    assert!(
        big.as_bytes().starts_with(&poisoned.value),
        "a truncated prefix of the original"
    );
    assert_eq!(
        stats.summary.inputs, 7,
        "every input accounted for: {stats:?}"
    );
    assert!(
        out["clean-articles"].len() >= 2,
        "the other inputs went through"
    );
}

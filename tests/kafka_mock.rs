//! `warta run` against librdkafka's in-process MockCluster (real Kafka protocol
//! over TCP on 127.0.0.1), kept for what only the mock can do precisely: inject
//! an error into a given request type (an aborted transaction, retriable
//! produce errors) and take a broker down and up on cue. Everything else runs
//! on Apache Kafka (tests/kafka_broker.rs and the other `kafka_*` tests).
//!
//! Two limits of the mock (librdkafka 2.12) shape these tests: its Fetch returns
//! no aborted-transaction list, so a `read_committed` reader also sees aborted
//! records, and its TxnOffsetCommit does not store offsets. The abort test
//! therefore checks the replay, not the invisibility of the aborted attempt;
//! tests/kafka_eos_broker.rs and tests/kafka_crash.rs check that on Kafka.

mod common;

use std::time::Duration;

use common::kafka::*;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

fn mock() -> Mock {
    mock_cluster(3, 2)
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

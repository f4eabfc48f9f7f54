//! Exactly-once end to end on Apache Kafka (the broker `bash .ci/test` starts:
//! EndTxn, aborted-transaction lists in Fetch, TxnOffsetCommit): every output
//! visible once to a `read_committed` reader, and the input offsets committed
//! in the same transactions, so a second run of the group has nothing to do.
//! librdkafka's MockCluster can show neither (tests/kafka_mock.rs).

mod common;

use std::time::Duration;

use common::kafka::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_once_outputs_are_visible_once_and_offsets_committed() {
    let brokers = test_brokers();
    let prefix = unique_prefix("eos");
    create_topics(&brokers, &prefix, 1).await;
    let mut env = topic_env(&prefix);
    env.push(("WARTA__KAFKA__DELIVERY".into(), "exactly-once".into()));
    let extra: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    produce_examples_to(&brokers, &format!("{prefix}raw-pages")).await;
    let group = format!("{prefix}g");
    let (stop, handle) = start(settings(&brokers, &group, &extra)).await;
    let (out, stats) = collect_and_stop(
        &brokers,
        &prefix,
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
            "{topic} exactly once ({stats:?})"
        );
    }
    assert!(stats.batches_committed >= 1, "{stats:?}");
    // A second run of the same group finds everything committed: nothing to
    // do. It gets the time to join the group, restore and poll.
    let (stop, handle) = start(settings(&brokers, &group, &extra)).await;
    tokio::time::sleep(Duration::from_secs(8)).await;
    let _ = stop.send(());
    let second = handle.await.unwrap();
    assert_eq!(
        second.summary.inputs, 0,
        "offsets were committed with the outputs: {second:?}"
    );
    // More input after the restart is processed from the committed offset on:
    // the second instance did consume (the check above is not vacuous).
    let (stop, handle) = start(settings(&brokers, &group, &extra)).await;
    produce_examples_to(&brokers, &format!("{prefix}raw-pages")).await;
    let mut want = expected();
    want.insert("raw-pages-dlq", 2);
    let (out, third) = collect_and_stop(
        &brokers,
        &prefix,
        want,
        Duration::from_secs(60),
        stop,
        handle,
    )
    .await;
    assert_eq!(third.summary.inputs, 6, "{third:?}");
    assert_eq!(out["raw-pages-dlq"].len(), 2, "{third:?}");
}

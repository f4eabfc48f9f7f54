//! `warta run` in at-least-once mode against a real Kafka-protocol broker,
//! tansu, started on 127.0.0.1 by `.ci/test` (which sets
//! `WARTA_TEST_TANSU_BROKERS`). tansu 0.6 has no EndTxn, so exactly-once is
//! tested on MockCluster and here only at-least-once.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::kafka::*;

/// The broker `.ci/test` started; these tests need it and say so.
fn brokers() -> String {
    std::env::var("WARTA_TEST_TANSU_BROKERS").unwrap_or_else(|_| {
        panic!("WARTA_TEST_TANSU_BROKERS is not set: run the tests with `bash .ci/test`, which installs and starts tansu")
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_least_once_pages_in_outputs_out() {
    let brokers = brokers();
    let prefix = format!("t{}-", rand_suffix() % 1_000_000);
    create_topics(&brokers, &prefix, 1).await;
    let env = topic_env(&prefix);
    let extra: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    produce_examples_to(&brokers, &format!("{prefix}raw-pages")).await;
    let (stop, handle) = start(settings(&brokers, &format!("{prefix}g"), &extra)).await;
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
        let got = out.get(topic).map_or(0, Vec::len);
        assert_eq!(got, n, "{topic} ({stats:?})");
    }
    let sources: BTreeSet<&str> = out
        .values()
        .flatten()
        .map(|o| o.headers["warta-source"].as_str())
        .collect();
    assert!(sources.len() >= 4, "outputs name their inputs: {sources:?}");
}

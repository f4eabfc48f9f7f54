//! Exactly-once against a broker that implements transactions end to end
//! (EndTxn, aborted-transaction lists in Fetch, TxnOffsetCommit). Neither test
//! broker does: librdkafka's MockCluster neither filters aborted records nor
//! stores transactional offsets, and tansu 0.6 has no EndTxn. Point
//! `WARTA_TEST_EOS_BROKERS` at such a broker (Apache Kafka, Redpanda) to run it:
//!
//! `WARTA_TEST_EOS_BROKERS=127.0.0.1:9092 cargo test --test kafka_eos_broker -- --ignored --nocapture`
//!
//! It is `#[ignore]`d so that a run without such a broker reports it as not
//! run, rather than as passed.

mod common;

use std::time::Duration;

use common::kafka::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a broker with transactions: WARTA_TEST_EOS_BROKERS=host:port, then --ignored"]
async fn exactly_once_outputs_are_visible_once_and_offsets_committed() {
    let brokers = std::env::var("WARTA_TEST_EOS_BROKERS")
        .expect("WARTA_TEST_EOS_BROKERS names a broker with transactions (EndTxn)");
    let prefix = format!("e{}-", rand_suffix() % 1_000_000);
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
    // A second run of the same group finds everything committed: nothing to do.
    let (stop, handle) = start(settings(&brokers, &group, &extra)).await;
    tokio::time::sleep(Duration::from_secs(8)).await;
    let _ = stop.send(());
    assert_eq!(
        handle.await.unwrap().summary.inputs,
        0,
        "offsets were committed with the outputs"
    );
}

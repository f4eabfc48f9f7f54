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

/// Produces example page `line` (examples/pages.jsonl) to one partition.
async fn send_line(brokers: &str, topic: &str, partition: i32, line: usize) {
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let lines: Vec<String> = std::fs::read_to_string(common::root().join("examples/pages.jsonl"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let p: FutureProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    p.send(
        FutureRecord::<(), _>::to(topic)
            .partition(partition)
            .payload(&lines[line]),
        Duration::from_secs(10),
    )
    .await
    .expect("produce");
}

async fn wait_for(brokers: &str, prefix: &str, topic: &str, n: usize) -> usize {
    let (b, t) = (brokers.to_string(), format!("{prefix}{topic}"));
    tokio::task::spawn_blocking(move || {
        let out = read_topics(
            &b,
            std::slice::from_ref(&t),
            &std::collections::BTreeMap::from([(t.clone(), n)]),
            Duration::from_secs(60),
        );
        out.get(&t).map_or(0, Vec::len)
    })
    .await
    .unwrap()
}

/// Two instances in one consumer group on the real broker, sharing the dedup
/// state through the changelog (`dedup.follow_changelog`): the original goes
/// to partition 0 and its copy to partition 1, and each instance owns one
/// partition, so the copy is decided by the instance that never saw the
/// original. The test allows the consistency window 3 s (the copy is sent 3 s
/// after the original's output is readable); `warta_state_follow_lag_seconds`
/// measures the real one, printed here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_in_one_group_share_the_dedup_state() {
    two_instances_in_one_group(&[]).await;
}

/// The same with the articles in Redis (`.ci/test` starts redis-server),
/// following turned off and no wait for a window: the copy's instance reads
/// the original's record from Redis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_in_one_group_share_the_redis_store() {
    let url = std::env::var("WARTA_TEST_REDIS_URL").unwrap_or_else(|_| {
        panic!("WARTA_TEST_REDIS_URL is not set: run the tests with `bash .ci/test`, which installs and starts redis-server")
    });
    let prefix = format!("tansu-{}", rand_suffix());
    two_instances_in_one_group(&[
        ("WARTA__DEDUP__STORE", "redis"),
        ("WARTA__DEDUP__REDIS__URLS", &url),
        ("WARTA__DEDUP__REDIS__PREFIX", &prefix),
        ("WARTA__DEDUP__FOLLOW_CHANGELOG", "false"),
    ])
    .await;
}

async fn two_instances_in_one_group(store: &[(&str, &str)]) {
    let brokers = brokers();
    let prefix = format!("t{}-", rand_suffix() % 1_000_000);
    create_topics(&brokers, &prefix, 2).await;
    let env = topic_env(&prefix);
    let mut extra: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    extra.push(("WARTA__KAFKA__DELIVERY", "at-least-once"));
    extra.extend_from_slice(store);
    let group = format!("{prefix}g");
    let (stop_a, a) = start(settings(&brokers, &group, &extra)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (stop_b, b) = start(settings(&brokers, &group, &extra)).await;
    // The group rebalances to one partition each.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let input = format!("{prefix}raw-pages");
    send_line(&brokers, &input, 0, 0).await; // the seed
    assert_eq!(wait_for(&brokers, &prefix, "clean-articles", 1).await, 1);
    if store.is_empty() {
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    send_line(&brokers, &input, 1, 2).await; // its copy on another URL
    let dups = wait_for(&brokers, &prefix, "page-duplicates", 1).await;
    let _ = stop_a.send(());
    let _ = stop_b.send(());
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    eprintln!(
        "A: {:?}\nB: {:?}\nconsistency window (max applied): A {} ms, B {} ms",
        a.summary, b.summary, a.follow_lag_max_ms, b.follow_lag_max_ms
    );
    assert_eq!(
        (a.summary.inputs, b.summary.inputs),
        (1, 1),
        "each instance decided one page (one partition each)"
    );
    assert_eq!(dups, 1, "the copy is a duplicate; A {a:?}, B {b:?}");
    let (original, copy) = if a.summary.new == 1 { (a, b) } else { (b, a) };
    assert_eq!((original.summary.new, copy.summary.duplicates), (1, 1));
    if store.is_empty() {
        assert!(copy.remote_changes_applied > 0, "{copy:?}");
    }
}

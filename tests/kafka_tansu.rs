//! `warta run` in at-least-once mode against a real Kafka-protocol broker,
//! tansu, started on 127.0.0.1 by `.ci/test` (which sets
//! `WARTA_TEST_TANSU_BROKERS`). tansu 0.6 has no EndTxn, so exactly-once is
//! tested on MockCluster and here only at-least-once.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::kafka::*;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::ClientConfig;

/// The broker `.ci/test` started; these tests need it and say so.
fn brokers() -> String {
    std::env::var("WARTA_TEST_TANSU_BROKERS").unwrap_or_else(|_| {
        panic!("WARTA_TEST_TANSU_BROKERS is not set: run the tests with `bash .ci/test`, which installs and starts tansu")
    })
}

/// Creates the topics with a per-test prefix, so tests share one broker.
async fn create_topics(brokers: &str, prefix: &str, input_partitions: i32) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("admin client");
    let names: Vec<String> = std::iter::once("raw-pages")
        .chain(OUTPUTS)
        .map(|t| format!("{prefix}{t}"))
        .collect();
    let topics: Vec<NewTopic<'_>> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            NewTopic::new(
                n,
                if i == 0 { input_partitions } else { 2 },
                TopicReplication::Fixed(1),
            )
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
}

fn topic_env(prefix: &str) -> Vec<(String, String)> {
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
        ("WARTA__KAFKA__DELIVERY".into(), "at-least-once".into()),
    ]
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
    let want: BTreeMap<String, usize> = expected()
        .into_iter()
        .map(|(t, n)| (format!("{prefix}{t}"), n))
        .collect();
    let b = brokers.clone();
    let topics: Vec<String> = OUTPUTS.iter().map(|t| format!("{prefix}{t}")).collect();
    let out = tokio::task::spawn_blocking(move || {
        read_topics(&b, &topics, &want, Duration::from_secs(60))
    })
    .await
    .unwrap();
    let _ = stop.send(());
    let stats = handle.await.unwrap();
    for (topic, n) in expected() {
        let got = out.get(&format!("{prefix}{topic}")).map_or(0, Vec::len);
        assert_eq!(got, n, "{topic} ({stats:?})");
    }
    let sources: BTreeSet<&str> = out
        .values()
        .flatten()
        .map(|o| o.headers["warta-source"].as_str())
        .collect();
    assert!(sources.len() >= 4, "outputs name their inputs: {sources:?}");
}

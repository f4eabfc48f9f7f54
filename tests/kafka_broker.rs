//! `warta run` against Apache Kafka, the single KRaft broker `bash .ci/test`
//! starts (`WARTA_TEST_KAFKA_BROKERS`): outputs with keys and headers in both
//! delivery modes, graceful shutdown, an output the broker refuses, and two
//! instances of one group sharing the dedup state. Each test has topics and a
//! group of its own on the shared broker.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::kafka::*;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

/// Fresh topics (input with `input_partitions`) and the settings' variables
/// naming them, in `delivery` mode.
async fn fresh(
    tag: &str,
    input_partitions: i32,
    delivery: &str,
) -> (String, String, Vec<(String, String)>) {
    let brokers = test_brokers();
    let prefix = unique_prefix(tag);
    create_topics(&brokers, &prefix, input_partitions).await;
    let mut env = topic_env(&prefix);
    env.push(("WARTA__KAFKA__DELIVERY".into(), delivery.into()));
    (brokers, prefix, env)
}

fn borrow(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

async fn pages_in_outputs_out(delivery: &str) {
    let (brokers, prefix, env) = fresh("outputs", 1, delivery).await;
    let inputs = produce_examples_to(&brokers, &format!("{prefix}raw-pages")).await;
    let (stop, handle) = start(settings(&brokers, &format!("{prefix}g"), &borrow(&env))).await;
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
            "{topic} ({delivery}): {stats:?}"
        );
    }
    assert_eq!(stats.summary.inputs, 6);
    assert!(stats.summary.balanced());
    let sources: BTreeSet<&str> = out
        .values()
        .flatten()
        .map(|o| o.headers["warta-source"].as_str())
        .collect();
    assert!(sources.len() >= 4, "outputs name their inputs: {sources:?}");

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
    assert_eq!(
        seed.headers["warta-source"],
        format!("{prefix}raw-pages/0/0")
    );
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
async fn exactly_once_pages_in_outputs_out_with_keys_and_headers() {
    pages_in_outputs_out("exactly-once").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_least_once_pages_in_outputs_out_with_keys_and_headers() {
    pages_in_outputs_out("at-least-once").await;
}

/// A long batch window keeps the pages in the open batch at shutdown: the
/// drain finishes it and commits its offsets with the outputs (exactly once:
/// in the transaction).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_commits_everything_processed() {
    let (brokers, prefix, mut env) = fresh("drain", 1, "exactly-once").await;
    env.push(("WARTA__KAFKA__BATCH_MAX_MS".into(), "600000".into()));
    let input = format!("{prefix}raw-pages");
    produce_examples_to(&brokers, &input).await;
    let group = format!("{prefix}g");
    let (stop, handle) = start(settings(&brokers, &group, &borrow(&env))).await;
    // Until the pages are in the open batch (the broker's group join and the
    // restore come first), bounded.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let _ = stop.send(());
    let stats = handle.await.unwrap();
    assert_eq!(
        stats.summary.inputs, 6,
        "the open batch was finished on shutdown: {stats:?}"
    );
    assert_eq!(stats.batches_committed, 1);

    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("group.id", &group)
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(&input, 0);
    let committed =
        tokio::task::block_in_place(|| consumer.committed_offsets(tpl, Duration::from_secs(10)))
            .unwrap();
    let offset = committed.find_partition(&input, 0).unwrap().offset();
    assert_eq!(
        offset,
        Offset::Offset(6),
        "every processed input's offset is committed"
    );
}

/// A valid page whose article is larger than the producer's
/// `message.max.bytes`: its batch is aborted, the page isolated and
/// dead-lettered as `output_rejected` with a truncated prefix of its bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_input_whose_output_the_broker_refuses_becomes_a_dead_letter() {
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let (brokers, prefix, mut env) = fresh("poison", 1, "exactly-once").await;
    env.push((
        "WARTA__KAFKA__PRODUCER__MESSAGE_MAX_BYTES".into(),
        "30000".into(),
    ));
    let input = format!("{prefix}raw-pages");
    produce_examples_to(&brokers, &input).await;
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
            FutureRecord::to(&input)
                .partition(0)
                .key("big")
                .payload(&big),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    let (stop, handle) = start(settings(&brokers, &format!("{prefix}g"), &borrow(&env))).await;
    let mut want = expected();
    want.insert("raw-pages-dlq", 2);
    let (out, stats) = collect_and_stop(
        &brokers,
        &prefix,
        want,
        Duration::from_secs(90),
        stop,
        handle,
    )
    .await;
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
    for (topic, n) in expected() {
        if topic != "raw-pages-dlq" {
            assert_eq!(
                out.get(topic).map_or(0, Vec::len),
                n,
                "{topic}: the other inputs went through once ({stats:?})"
            );
        }
    }
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
            &BTreeMap::from([(t.clone(), n)]),
            Duration::from_secs(60),
        );
        out.get(&t).map_or(0, Vec::len)
    })
    .await
    .unwrap()
}

/// Two instances in one consumer group on the broker, sharing the dedup
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
    let prefix = unique_prefix("two-redis");
    two_instances_in_one_group(&[
        ("WARTA__DEDUP__STORE", "redis"),
        ("WARTA__DEDUP__REDIS__URLS", &url),
        ("WARTA__DEDUP__REDIS__PREFIX", &prefix),
        ("WARTA__DEDUP__FOLLOW_CHANGELOG", "false"),
    ])
    .await;
}

async fn two_instances_in_one_group(store: &[(&str, &str)]) {
    let brokers = test_brokers();
    let prefix = unique_prefix("two");
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
    eprintln!("A: {:?}\nB: {:?}", a.summary, b.summary);
    report(
        &format!("kafka_broker-two-instances-{}", if store.is_empty() { "changelog" } else { "redis" }),
        &format!(
            "kafka_broker two instances in one group ({}): consistency window (max applied) A {} ms, B {} ms",
            if store.is_empty() { "changelog" } else { "redis store" },
            a.follow_lag_max_ms,
            b.follow_lag_max_ms
        ),
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

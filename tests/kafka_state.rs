//! Durable dedup state: `warta run` writes its dedup state to the compacted
//! changelog topic, and a new instance restores it before consuming, so a page
//! seen before a restart is still `unchanged` and a copy of it still a
//! `duplicate`. On Apache Kafka (the broker `bash .ci/test` starts), each test
//! on topics of its own; the restart after an injected produce error on
//! librdkafka's MockCluster, whose error injection a real broker lacks.
//!
//! The mock shows aborted records to `read_committed` readers, so that test
//! shows that a restart after an aborted and replayed batch still restores the
//! right state (the replay rewrites the same keys last); that an aborted
//! batch's state stays invisible to a restore is shown on Kafka by
//! tests/kafka_crash.rs, and in process by tests/dedup_changelog.rs. The mock
//! does not store transactional offsets either, so there the second instance
//! re-reads the first one's inputs, and the restored state must make them
//! `unchanged` too.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::kafka::*;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use warta::kafka::RunStats;

/// Where a test runs: the test broker under a prefix of its own, or a mock.
struct Broker {
    brokers: String,
    prefix: String,
    mock: Option<Mock>,
}

impl Broker {
    /// Fresh topics on the test broker; the changelog with 3 partitions.
    async fn kafka(tag: &str) -> Self {
        let brokers = test_brokers();
        let prefix = unique_prefix(tag);
        create_topics_with(&brokers, &prefix, 1, 3).await;
        Broker {
            brokers,
            prefix,
            mock: None,
        }
    }

    fn mock() -> Self {
        let mock = mock_cluster(3, 3);
        Broker {
            brokers: mock.bootstrap_servers(),
            prefix: String::new(),
            mock: Some(mock),
        }
    }

    fn topic(&self, t: &str) -> String {
        format!("{}{t}", self.prefix)
    }

    fn group(&self, g: &str) -> String {
        format!("{}{g}", self.prefix)
    }

    /// The topic names and `extra`, for [`settings`].
    fn env(&self, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut env = topic_env(&self.prefix);
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        env
    }
}

fn borrow(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// Produces the example pages with these indexes (examples/pages.jsonl: 0 the
/// seed, 1 its recrawl, 2 a copy on another URL, 3 an English page, 4 an
/// index page, 5 an invalid line) to raw-pages partition 0.
async fn produce_pages(b: &Broker, which: &[usize]) {
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let producer: FutureProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &b.brokers)
        .create()
        .unwrap();
    let input = b.topic("raw-pages");
    let lines: Vec<String> = std::fs::read_to_string(common::root().join("examples/pages.jsonl"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    for &i in which {
        producer
            .send(
                FutureRecord::to(&input)
                    .partition(0)
                    .key(&format!("crawl-{i}"))
                    .payload(&lines[i]),
                Duration::from_secs(10),
            )
            .await
            .expect("produce input");
    }
}

/// Runs one instance until `want` outputs are readable, then stops it.
async fn run_until(
    b: &Broker,
    group: &str,
    extra: &[(&str, &str)],
    want: BTreeMap<&'static str, usize>,
) -> (BTreeMap<String, Vec<Out>>, RunStats) {
    let env = b.env(extra);
    let (stop, handle) = start(settings(&b.brokers, &b.group(group), &borrow(&env))).await;
    collect_and_stop(
        &b.brokers,
        &b.prefix,
        want,
        Duration::from_secs(90),
        stop,
        handle,
    )
    .await
}

fn count_state_records(b: &Broker) -> usize {
    let state = b.topic(STATE_TOPIC);
    let out = tokio::task::block_in_place(|| {
        read_topics(
            &b.brokers,
            std::slice::from_ref(&state),
            &BTreeMap::from([(state.clone(), 1)]),
            Duration::from_secs(20),
        )
    });
    out.get(&state).map_or(0, Vec::len)
}

/// Run 1: the seed, the English page and the index page. Graceful stop. Run 2,
/// a new instance: the seed's recrawl and its copy.
async fn restart_keeps_the_verdicts(delivery: &str, inject_produce_errors: bool) {
    restart_keeps_the_verdicts_with(delivery, inject_produce_errors, &[]).await
}

async fn restart_keeps_the_verdicts_with(
    delivery: &str,
    inject_produce_errors: bool,
    store: &[(&str, &str)],
) {
    // The injected error needs the mock; everything else runs on Kafka.
    let b = if inject_produce_errors {
        Broker::mock()
    } else {
        Broker::kafka("state").await
    };
    let group = format!("g-state-{delivery}-{inject_produce_errors}-{}", store.len());
    let mut extra = vec![("WARTA__KAFKA__DELIVERY", delivery)];
    extra.extend_from_slice(store);
    produce_pages(&b, &[0, 3, 4]).await;
    if let Some(mock) = b.mock.as_ref().filter(|_| inject_produce_errors) {
        // The first batch's produce fails once: aborted, rolled back, replayed.
        // One error, not two: a batch's outputs and state records may go out
        // in several Produce requests, and an input whose one-input batch
        // fails three times in a row is dead-lettered as `output_rejected`,
        // which would change run 1's verdicts (seen once in CI with two).
        mock.request_errors(
            RDKafkaApiKey::Produce,
            &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE; 1],
        );
    }
    let (out, first) = run_until(&b, &group, &extra, BTreeMap::from([("clean-articles", 2)])).await;
    assert_eq!(
        (first.summary.new, first.summary.index_pages),
        (2, 1),
        "run 1: {first:?}"
    );
    if inject_produce_errors {
        assert!(first.batches_aborted >= 1, "an aborted batch: {first:?}");
    }
    assert!(
        out["clean-headlines"].len() > 1,
        "run 1 published headlines"
    );
    assert!(
        count_state_records(&b) > 0,
        "run 1 wrote its state to the changelog"
    );

    produce_pages(&b, &[1, 2, 4]).await;
    let (out, second) =
        run_until(&b, &group, &extra, BTreeMap::from([("page-duplicates", 1)])).await;
    let s = second.summary;
    assert_eq!(s.new, 0, "nothing is new after the restart: {second:?}");
    assert_eq!(s.duplicates, 1, "the copy is a duplicate: {second:?}");
    assert!(s.unchanged >= 1, "the recrawl is unchanged: {second:?}");
    // An uninterrupted run over the same pages publishes 14 headlines, 12 for
    // the run-1 pages (`warta process` on the six lines): the copy's site
    // brings the only 2 new ones.
    assert_eq!(
        s.headlines, 2,
        "headlines published before the restart stay suppressed: {second:?}"
    );
    assert!(s.headlines_suppressed > 0);
    let dup = &out["page-duplicates"][0];
    assert_eq!(dup.headers["warta-verdict"], "duplicate");
    // The reader sees run 1's outputs too; run 2 added no `new` article.
    let new_articles = out["clean-articles"]
        .iter()
        .filter(|o| o.headers["warta-verdict"] == "new")
        .count();
    // (The mock also shows the aborted attempt's records, so only without one.)
    if !inject_produce_errors {
        assert_eq!(new_articles, 2, "only run 1's two new articles");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_at_least_once() {
    restart_keeps_the_verdicts("at-least-once", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_exactly_once() {
    restart_keeps_the_verdicts("exactly-once", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_after_an_aborted_and_replayed_batch() {
    restart_keeps_the_verdicts("exactly-once", true).await;
}

/// `dedup.store = "redis"` on the server `bash .ci/test` starts, under a key
/// prefix of its own.
fn redis_store(prefix: &str) -> Vec<(&'static str, String)> {
    let url = std::env::var("WARTA_TEST_REDIS_URL").unwrap_or_else(|_| {
        panic!("WARTA_TEST_REDIS_URL is not set: run the tests with `bash .ci/test`, which installs and starts redis-server")
    });
    vec![
        ("WARTA__DEDUP__STORE", "redis".to_string()),
        ("WARTA__DEDUP__REDIS__URLS", url),
        (
            "WARTA__DEDUP__REDIS__PREFIX",
            format!("{prefix}-{}", rand_suffix()),
        ),
    ]
}

fn borrowed<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

// The articles' state in Redis, the headlines' in the changelog.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_at_least_once_with_the_redis_store() {
    let store = redis_store("restart");
    restart_keeps_the_verdicts_with("at-least-once", false, &borrowed(&store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_exactly_once_with_the_redis_store() {
    let store = redis_store("restart-eos");
    restart_keeps_the_verdicts_with("exactly-once", false, &borrowed(&store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_changelog_a_restart_forgets() {
    // The control for the tests above: they fail if the state is not restored.
    let b = Broker::kafka("nolog").await;
    let extra = [
        ("WARTA__KAFKA__DELIVERY", "at-least-once"),
        ("WARTA__DEDUP__CHANGELOG", "false"),
    ];
    produce_pages(&b, &[0]).await;
    run_until(
        &b,
        "g-nolog",
        &extra,
        BTreeMap::from([("clean-articles", 1)]),
    )
    .await;
    produce_pages(&b, &[1]).await;
    let (_, second) = run_until(
        &b,
        "g-nolog",
        &extra,
        BTreeMap::from([("clean-articles", 2)]),
    )
    .await;
    assert_eq!(second.summary.new, 1, "{second:?}");
    assert_eq!(count_state_records(&b), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_reports_progress_and_keeps_readiness_false() {
    let b = Broker::kafka("progress").await;
    produce_pages(&b, &[0, 3, 4]).await;
    run_until(
        &b,
        "g-progress",
        &[("WARTA__KAFKA__DELIVERY", "at-least-once")],
        BTreeMap::from([("clean-articles", 2)]),
    )
    .await;
    let env = b.env(&[]);
    let settings = settings(&b.brokers, &b.group("g-progress"), &borrow(&env));
    let health = warta::http::Health::new(Duration::from_secs(60));
    let mut deduper = warta::pipeline::Deduper::new(settings.clone()).unwrap();
    deduper.enable_changelog("test");
    let restored = tokio::task::block_in_place(|| {
        warta::kafka::state::restore(&settings, &health, &mut deduper)
    })
    .expect("restore")
    .restored;
    assert_eq!(restored.articles, 2, "{restored:?}");
    assert!(restored.headlines > 1, "{restored:?}");
    // The service marks the state loaded only after the restore returns; until
    // then /readyz lists the restore's progress.
    let reasons = health.readiness();
    let progress = reasons
        .iter()
        .find(|r| r.starts_with("restoring dedup state: "))
        .unwrap_or_else(|| panic!("{reasons:?}"));
    // "N of M": every record read, and at least the entries restored plus a
    // watermark (a record per batch, more if a batch wrote a key twice).
    let counts: Vec<usize> = progress
        .trim_start_matches("restoring dedup state: ")
        .trim_end_matches(" records")
        .split(" of ")
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(counts[0], counts[1], "{progress}");
    assert!(
        counts[0] > restored.articles + restored.headlines,
        "{progress}"
    );
}

/// Two instances with their own inputs and one changelog: B flags a copy of a
/// page only A processed, once A's change has reached B (the consistency
/// window). Separate input topics make which instance sees which page
/// deterministic; in one consumer group the partition assignment decides it.
async fn two_instances(follow: bool) -> RunStats {
    two_instances_with(follow, &[]).await
}

async fn two_instances_with(follow: bool, store: &[(&str, &str)]) -> RunStats {
    let kafka = Broker::kafka("two").await;
    let brokers = kafka.brokers.clone();
    let (raw_a, raw_b) = (kafka.topic("raw-a"), kafka.topic("raw-b"));
    create_more_topics(&brokers, &[raw_a.clone(), raw_b.clone()], 1).await;
    let follow = if follow { "true" } else { "false" };
    let instance = |input: &str, group: &str| {
        let mut extra = vec![
            ("WARTA__TOPICS__INPUT", input),
            ("WARTA__KAFKA__DELIVERY", "at-least-once"),
            ("WARTA__DEDUP__FOLLOW_CHANGELOG", follow),
        ];
        extra.extend_from_slice(store);
        let env = kafka.env(&extra);
        settings(&brokers, &kafka.group(group), &borrow(&env))
    };
    let (stop_a, a) = start(instance(&raw_a, "g-two-a")).await;
    let (stop_b, b) = start(instance(&raw_b, "g-two-b")).await;
    // Both restored (an empty changelog) and subscribed.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let lines: Vec<String> = std::fs::read_to_string(common::root().join("examples/pages.jsonl"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let send = |topic: String, line: String| {
        let brokers = brokers.clone();
        async move {
            use rdkafka::producer::{FutureProducer, FutureRecord};
            let p: FutureProducer = rdkafka::ClientConfig::new()
                .set("bootstrap.servers", &brokers)
                .create()
                .unwrap();
            p.send(
                FutureRecord::<(), _>::to(&topic).payload(&line),
                Duration::from_secs(10),
            )
            .await
            .expect("produce");
        }
    };
    send(raw_a.clone(), lines[0].clone()).await; // the seed, to A
    let b2 = brokers.clone();
    let articles = kafka.topic("clean-articles");
    tokio::task::spawn_blocking(move || {
        read_topics(
            &b2,
            std::slice::from_ref(&articles),
            &BTreeMap::from([(articles.clone(), 1)]),
            Duration::from_secs(60),
        )
    })
    .await
    .unwrap();
    // A's batch is committed; give its change the window to reach B. With
    // Redis there is no window: B reads what A wrote before A's output.
    if store.is_empty() {
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    send(raw_b.clone(), lines[2].clone()).await; // the copy, to B
    let b2 = brokers.clone();
    let want = if follow == "true" || !store.is_empty() {
        ("page-duplicates", 1)
    } else {
        ("clean-articles", 2)
    };
    let prefix = kafka.prefix.clone();
    tokio::task::spawn_blocking(move || {
        read_topics(
            &b2,
            &OUTPUTS
                .iter()
                .map(|t| format!("{prefix}{t}"))
                .collect::<Vec<_>>(),
            &BTreeMap::from([(format!("{prefix}{}", want.0), want.1)]),
            Duration::from_secs(60),
        )
    })
    .await
    .unwrap();
    let _ = stop_a.send(());
    let _ = stop_b.send(());
    let a = a.await.unwrap();
    assert_eq!(a.summary.new, 1, "A: {a:?}");
    b.await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_finds_copies_of_what_another_instance_processed() {
    let b = two_instances(true).await;
    assert_eq!(b.summary.duplicates, 1, "B: {b:?}");
    assert!(b.remote_changes_applied > 0, "B: {b:?}");
    // The consistency window observed: A's produce → applied by B.
    report(
        "kafka_state-consistency-window",
        &format!(
            "kafka_state two instances, one changelog: consistency window (max over applied changes) {} ms",
            b.follow_lag_max_ms
        ),
    );
    assert!(b.follow_lag_max_ms < 2_000, "B: {b:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_following_each_instance_sees_only_its_own_pages() {
    let b = two_instances(false).await;
    assert_eq!((b.summary.new, b.summary.duplicates), (1, 0), "B: {b:?}");
    assert_eq!(b.remote_changes_applied, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_redis_store_an_instance_finds_copies_without_following() {
    // No changelog following: the copy is found through Redis alone.
    let store = redis_store("two");
    let b = two_instances_with(false, &borrowed(&store)).await;
    assert_eq!((b.summary.new, b.summary.duplicates), (0, 1), "B: {b:?}");
    assert_eq!(b.remote_changes_applied, 0);
}

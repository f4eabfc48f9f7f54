//! Crash tests on Apache Kafka (the broker `bash .ci/test` starts): two real
//! `warta run` processes in one consumer group, one of them `kill -9`ed
//! mid-stream and restarted. Afterwards a `read_committed` reader accounts for
//! every input.
//!
//! - Exactly-once: nothing lost, no output record twice, and the batch the kill
//!   left open is aborted, its dedup state with it: the changelog holds state
//!   records only a `read_uncommitted` reader sees, and the restarted instance
//!   (which restores with `read_committed`) decides that batch's pages as if
//!   they were new to it, so none of them goes missing as `unchanged`.
//! - At-least-once, with the in-memory store and with Redis: nothing lost;
//!   inputs processed twice are counted.
//!
//! The counts (lost, duplicated, replayed) go to `target/tmp/warta-reports/`,
//! which `.ci/test` prints. The three tests run one after another: each starts
//! two instances, and the machine has few cores.
//!
//! The input is 10,000 pages built from IndoSum: originals, recrawls of them
//! (same URL and body), copies on other sites, recrawls of copies, and
//! invalid inputs, keyed by URL so a URL's versions stay in one partition.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use warta_lab::corpus::{load_indosum, render_page, templates};

const OUTPUTS: [&str; 4] = [
    "clean-articles",
    "clean-headlines",
    "page-duplicates",
    "raw-pages-dlq",
];
/// Two instances, two partitions each.
const INPUT_PARTITIONS: i32 = 4;
const OUTPUT_PARTITIONS: i32 = 4;
/// The crash tests run one at a time (see the module docs).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// One input: its key and value, and whether it may legitimately leave no
/// output record (an unchanged recrawl publishes nothing).
struct Input {
    key: String,
    value: Vec<u8>,
    may_be_silent: bool,
}

/// 10,000 inputs: 3,000 originals, 3,400 recrawls, 3,000 copies, 500 recrawls
/// of copies, 100 invalid; shuffled with a fixed seed, each recrawl after its
/// original.
fn inputs() -> Vec<Input> {
    let corpus =
        load_indosum(&common::shared().join("corpora/indosum-dev/indosum")).expect("IndoSum");
    assert!(corpus.len() >= 3_000, "IndoSum dev has {}", corpus.len());
    let templates = templates();
    let fetched = Utc.with_ymd_and_hms(2025, 12, 31, 5, 0, 0).unwrap();
    let page = |i: usize, site: usize| -> (String, String) {
        let a = &corpus[i];
        let t = &templates[site % templates.len()];
        let sidebar: Vec<&str> = (1..=5)
            .map(|k| corpus[(i + k * 7) % corpus.len()].title.as_str())
            .collect();
        let url = format!("https://{}/berita/{i}", t.site);
        (
            url,
            render_page(t, &a.title, &a.paragraphs, &sidebar, fetched),
        )
    };
    let event = |url: &str, content: &str| {
        serde_json::json!({"url": url, "fetched_at": "2025-12-31T05:00:00Z", "content": content})
            .to_string()
            .into_bytes()
    };
    // (group, order within group, input); groups are shuffled, order kept.
    let mut groups: Vec<Vec<Input>> = Vec::new();
    for i in 0..3_000 {
        let (url, content) = page(i, i);
        let mut g = vec![Input {
            key: url.clone(),
            value: event(&url, &content),
            may_be_silent: false,
        }];
        let recrawls = if i < 400 { 2 } else { 1 };
        for _ in 0..recrawls {
            g.push(Input {
                key: url.clone(),
                value: event(&url, &content),
                may_be_silent: true,
            });
        }
        groups.push(g);
        let (curl, ccontent) = page(i, i + 1);
        let mut c = vec![Input {
            key: curl.clone(),
            value: event(&curl, &ccontent),
            // A copy whose original another instance holds is published as
            // new; one on the same instance goes to the duplicates topic.
            may_be_silent: false,
        }];
        if i < 500 {
            c.push(Input {
                key: curl.clone(),
                value: event(&curl, &ccontent),
                may_be_silent: true,
            });
        }
        groups.push(c);
    }
    for i in 0..100 {
        groups.push(vec![Input {
            key: format!("invalid-{i}"),
            value: format!("{{\"url\": \"not a url {i}\", \"content\": \"x\"}}").into_bytes(),
            may_be_silent: false,
        }]);
    }
    // A fixed seed: every run sends the same interleaving.
    fastrand::Rng::with_seed(0x5eed).shuffle(&mut groups);
    let all: Vec<Input> = groups.into_iter().flatten().collect();
    assert_eq!(all.len(), 10_000);
    all
}

/// Creates the test's topics on the test broker.
async fn create_topics(brokers: &str, prefix: &str) {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    let admin: AdminClient<rdkafka::client::DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("admin");
    let names: Vec<(String, i32)> =
        std::iter::once((format!("{prefix}raw-pages"), INPUT_PARTITIONS))
            .chain(
                OUTPUTS
                    .iter()
                    .chain([&common::kafka::STATE_TOPIC])
                    .map(|t| (format!("{prefix}{t}"), OUTPUT_PARTITIONS)),
            )
            .collect();
    let new: Vec<NewTopic<'_>> = names
        .iter()
        .map(|(n, p)| NewTopic::new(n, *p, TopicReplication::Fixed(1)))
        .collect();
    for r in admin
        .create_topics(&new, &AdminOptions::new())
        .await
        .expect("create topics")
    {
        r.expect("topic created");
    }
    let names: Vec<String> = names.into_iter().map(|(n, _)| n).collect();
    tokio::task::block_in_place(|| common::kafka::wait_for_topics(brokers, &names));
}

/// A `warta run` child, killed (SIGKILL) and reaped when dropped, so a failing
/// test leaves no process behind.
struct Warta(Child);

impl Drop for Warta {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// A `warta run` child process.
fn spawn_warta(dir: &Path, env: &[(String, String)], instance: &str, attempt: u32) -> Warta {
    let log = std::fs::File::create(dir.join(format!("warta-{instance}-{attempt}.log")))
        .expect("log file");
    Warta(
        Command::new(env!("CARGO_BIN_EXE_warta"))
            .arg("run")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("WARTA_INSTANCE_ID", instance)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn warta run"),
    )
}

/// Committed offsets of the group, summed, against the input's end offsets.
/// One long-lived client asks, so the broker sees no churn of group clients.
fn progress(c: &BaseConsumer, topic: &str, partitions: i32) -> (i64, i64) {
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition(topic, p);
    }
    let committed = c
        .committed_offsets(tpl, Duration::from_secs(5))
        .map(|t| {
            t.elements()
                .iter()
                .map(|e| match e.offset() {
                    Offset::Offset(o) => o,
                    _ => 0,
                })
                .sum()
        })
        .unwrap_or(0);
    let end = (0..partitions)
        .map(|p| {
            c.fetch_watermarks(topic, p, Duration::from_secs(5))
                .map(|(_, h)| h)
                .unwrap_or(0)
        })
        .sum();
    (committed, end)
}

/// (topic, key, warta-source, warta-verdict)
type OutputRecord = (String, Option<String>, String, String);

/// Every record of `topics` (`partitions` each) with this `isolation.level`:
/// read until every partition's position has reached its high watermark
/// (nothing is in flight: every instance has stopped), or 5 s without a
/// record, or 120 s in all.
fn read_all(brokers: &str, topics: &[String], isolation: &str) -> Vec<OutputRecord> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("crash-reader-{}", std::process::id()))
        .set("isolation.level", isolation)
        .set("enable.auto.commit", "false")
        .create()
        .expect("reader");
    let mut tpl = TopicPartitionList::new();
    let mut ends = Vec::new();
    for t in topics {
        for p in 0..common::kafka::partition_count(&c, t) {
            tpl.add_partition_offset(t, p, Offset::Beginning)
                .expect("partition");
            let (_, high) = c
                .fetch_watermarks(t, p, Duration::from_secs(10))
                .expect("watermarks");
            ends.push((t.clone(), p, high));
        }
    }
    c.assign(&tpl).expect("assign");
    let caught_up = || {
        let pos = c.position().expect("position");
        ends.iter().all(|(t, p, high)| {
            *high == 0
                || matches!(pos.find_partition(t, *p).map(|e| e.offset()),
                    Some(Offset::Offset(o)) if o >= *high)
        })
    };
    let mut out = Vec::new();
    let started = Instant::now();
    let mut idle_since = Instant::now();
    while idle_since.elapsed() < Duration::from_secs(5)
        && started.elapsed() < Duration::from_secs(120)
    {
        match c.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                let header = |name: &str| {
                    m.headers()
                        .and_then(|h| h.iter().find(|h| h.key == name))
                        .map(|h| String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned())
                        .unwrap_or_default()
                };
                out.push((
                    m.topic().to_string(),
                    m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
                    header("warta-source"),
                    header("warta-verdict"),
                ));
                idle_since = Instant::now();
            }
            _ if caught_up() => break,
            _ => {}
        }
    }
    out
}

/// Tails `topic` (`read_uncommitted`, from its end) until the first state
/// record of one of `instance`'s batches arrives (its `warta-instance` header
/// starts with `instance`, and none of its records came in the 50 ms before):
/// that instance is early in writing its batch's state, one record per
/// produce request, and has not committed. Any record of the instance would
/// not do: the first seen may be the last of a batch, a moment before its
/// commit, and the kill then replays nothing. False after 60 s without one.
fn wait_for_state_record(brokers: &str, topic: &str, instance: &str) -> bool {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("crash-tail-{}", std::process::id()))
        .set("isolation.level", "read_uncommitted")
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "10")
        .create()
        .expect("tail");
    let mut tpl = TopicPartitionList::new();
    for p in 0..common::kafka::partition_count(&c, topic) {
        tpl.add_partition_offset(topic, p, Offset::End)
            .expect("partition");
    }
    c.assign(&tpl).expect("assign");
    let started = Instant::now();
    let quiet = Duration::from_millis(50);
    let mut last_own = started;
    while started.elapsed() < Duration::from_secs(60) {
        if let Some(Ok(m)) = c.poll(Duration::from_millis(10)) {
            let own = m.headers().is_some_and(|h| {
                h.iter().any(|h| {
                    h.key == warta::kafka::state::HEADER_INSTANCE
                        && h.value.is_some_and(|v| v.starts_with(instance.as_bytes()))
                })
            });
            if own {
                if last_own.elapsed() >= quiet {
                    return true;
                }
                last_own = Instant::now();
            }
        }
    }
    false
}

fn output_topics(prefix: &str) -> Vec<String> {
    OUTPUTS.iter().map(|t| format!("{prefix}{t}")).collect()
}

fn sigterm(child: &Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
}

struct Report {
    /// Inputs whose article records disagree on the verdict (a replay that
    /// decided differently from the first attempt).
    verdicts_changed_on_replay: usize,
    lost: usize,
    silent: usize,
    /// Inputs with an output record twice to a `read_committed` reader.
    replayed_inputs: usize,
    duplicate_records: usize,
    /// Inputs processed again after the kill whose first attempt's outputs
    /// were aborted (seen only by a `read_uncommitted` reader).
    replayed_after_abort: usize,
    /// Output and dedup-state records of aborted transactions.
    aborted_output_records: usize,
    aborted_state_records: usize,
    by_topic: BTreeMap<String, usize>,
    seconds: f64,
}

async fn crash_test(prefix: &str, delivery: &str) -> Report {
    crash_test_with(prefix, delivery, &[]).await
}

async fn crash_test_with(prefix: &str, delivery: &str, extra: &[(String, String)]) -> Report {
    let brokers = common::kafka::test_brokers();
    create_topics(&brokers, prefix).await;
    let test_started = Instant::now();
    let dir = tempdir();
    let group = format!("{prefix}warta");
    let input_topic = format!("{prefix}raw-pages");
    let mut env: Vec<(String, String)> = vec![
        ("WARTA__KAFKA__BROKERS".into(), brokers.clone()),
        ("WARTA__KAFKA__GROUP_ID".into(), group.clone()),
        ("WARTA__KAFKA__BATCH_MAX_RECORDS".into(), "200".into()),
        (
            "WARTA__KAFKA__TRANSACTION_TIMEOUT_MS".into(),
            "20000".into(),
        ),
        ("WARTA__KAFKA__STATISTICS_INTERVAL_MS".into(), "0".into()),
        // A killed member is noticed after the session timeout.
        (
            "WARTA__KAFKA__CONSUMER__SESSION_TIMEOUT_MS".into(),
            "6000".into(),
        ),
        ("WARTA__DEDUP__MAX_ARTICLES".into(), "50000".into()),
        ("WARTA__WORKERS__THREADS".into(), "1".into()),
        ("WARTA__METRICS__ENABLED".into(), "false".into()),
        ("WARTA__LOG__LEVEL".into(), "warn".into()),
    ];
    env.extend(common::kafka::topic_env(prefix));
    // topic_env names at-least-once; the delivery under test comes last.
    env.push(("WARTA__KAFKA__DELIVERY".into(), delivery.into()));
    env.push(("RUST_LOG".into(), "warn".into()));
    env.extend_from_slice(extra);

    let inputs = tokio::task::spawn_blocking(inputs).await.expect("inputs");
    // Instance a's first incarnation sends one record per produce request,
    // so its batches spend a while with records on the broker before the
    // commit: the kill below then lands inside an open batch for certain.
    let mut slow = env.clone();
    slow.push((
        "WARTA__KAFKA__PRODUCER__BATCH_NUM_MESSAGES".into(),
        "1".into(),
    ));
    // And one request at a time: with librdkafka's five in flight per
    // connection over six state partitions, a batch's state records took
    // under the time the tail needs to see the first one, and the kill
    // landed after the commit (no replay) in every run.
    slow.push((
        "WARTA__KAFKA__PRODUCER__MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION".into(),
        "1".into(),
    ));
    let mut a = spawn_warta(&dir, &slow, "a", 1);
    let mut b = spawn_warta(&dir, &env, "b", 1);

    // Produce everything, then watch the committed offsets.
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("linger.ms", "5")
        .create()
        .expect("producer");
    let mut sources: Vec<String> = Vec::with_capacity(inputs.len());
    for chunk in inputs.chunks(500) {
        let mut pending = Vec::with_capacity(chunk.len());
        for i in chunk {
            let mut record = FutureRecord::to(&input_topic).key(&i.key).payload(&i.value);
            loop {
                match producer.send_result(record) {
                    Ok(delivery) => break pending.push(delivery),
                    Err((_, r)) => {
                        // Local queue full: let deliveries drain.
                        record = r;
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
        }
        for d in pending {
            let d = d.await.expect("delivery").expect("produce input");
            sources.push(format!("{input_topic}/{}/{}", d.partition, d.offset));
        }
    }

    let total = inputs.len() as i64;
    let watcher: std::sync::Arc<BaseConsumer> = std::sync::Arc::new(
        ClientConfig::new()
            .set("bootstrap.servers", &brokers)
            .set("group.id", &group)
            .set("enable.auto.commit", "false")
            .create()
            .expect("watcher"),
    );
    let started = Instant::now();
    let mut killed = false;
    loop {
        let (w, t1) = (watcher.clone(), input_topic.clone());
        let parts = INPUT_PARTITIONS;
        let (committed, end) = tokio::task::spawn_blocking(move || progress(&w, &t1, parts))
            .await
            .expect("progress");
        // A watermark query can fail or lag for a moment: the committed sum
        // is compared with the inputs produced, not with `end`.
        assert!(
            end <= total,
            "more records on the input topic than produced: {end}"
        );
        if !killed && committed >= total / 3 {
            // Mid-batch: as soon as a's next batch has written state records.
            let (b2, t2) = (
                brokers.clone(),
                format!("{prefix}{}", common::kafka::STATE_TOPIC),
            );
            let open = tokio::task::spawn_blocking(move || wait_for_state_record(&b2, &t2, "a/"))
                .await
                .expect("state tail");
            a.0.kill().expect("kill -9");
            let _ = a.0.wait();
            println!(
                "killed instance a at {committed}/{total} committed ({:.1} s), {}",
                started.elapsed().as_secs_f64(),
                if open {
                    "while its batch was writing state records"
                } else {
                    "(no state record of a seen within 60 s)"
                }
            );
            tokio::time::sleep(Duration::from_secs(1)).await;
            a = spawn_warta(&dir, &env, "a", 2);
            killed = true;
        }
        if killed && committed >= total {
            break;
        }
        if started.elapsed().as_secs() % 30 == 0 {
            println!(
                "{committed}/{total} committed after {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(420),
            "stalled at {committed}/{total} committed; logs in {}",
            dir.display()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    println!(
        "all {total} inputs committed after {:.1} s",
        started.elapsed().as_secs_f64()
    );
    for child in [&a, &b] {
        sigterm(&child.0);
    }
    for (name, Warta(child)) in [("a", &mut a), ("b", &mut b)] {
        // A graceful stop drains one batch; 60 s is far beyond that, and a
        // hang here is a failure, not a stuck test.
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!(
                    "instance {name} did not exit within 60 s of SIGTERM; logs in {}",
                    dir.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert!(
            status.success(),
            "instance {name} exited with {status} after SIGTERM; logs in {}",
            dir.display()
        );
    }

    let (b2, topics) = (brokers.clone(), output_topics(prefix));
    let outputs = tokio::task::spawn_blocking(move || read_all(&b2, &topics, "read_committed"))
        .await
        .expect("reader");
    let (b2, topics) = (brokers.clone(), output_topics(prefix));
    let uncommitted =
        tokio::task::spawn_blocking(move || read_all(&b2, &topics, "read_uncommitted"))
            .await
            .expect("reader");
    let state_topic = vec![format!("{prefix}{}", common::kafka::STATE_TOPIC)];
    let (b2, t2) = (brokers.clone(), state_topic.clone());
    let state_committed =
        tokio::task::spawn_blocking(move || read_all(&b2, &t2, "read_committed").len())
            .await
            .expect("reader");
    let b2 = brokers.clone();
    let state_all =
        tokio::task::spawn_blocking(move || read_all(&b2, &state_topic, "read_uncommitted").len())
            .await
            .expect("reader");
    // Account for every input.
    let mut per_source: HashMap<&str, usize> = HashMap::new();
    let mut by_topic: BTreeMap<String, usize> = BTreeMap::new();
    let mut seen_records: HashMap<(&str, Option<&str>, &str), usize> = HashMap::new();
    let mut article_verdicts: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    for (topic, key, source, verdict) in &outputs {
        if topic.ends_with("clean-articles") || topic.ends_with("page-duplicates") {
            article_verdicts
                .entry(source.as_str())
                .or_default()
                .insert(verdict.as_str());
        }
        *per_source.entry(source.as_str()).or_default() += 1;
        *by_topic
            .entry(topic.strip_prefix(prefix).unwrap_or(topic).to_string())
            .or_default() += 1;
        *seen_records
            .entry((topic.as_str(), key.as_deref(), source.as_str()))
            .or_default() += 1;
    }
    let mut lost = 0;
    let mut silent = 0;
    for (input, source) in inputs.iter().zip(&sources) {
        if !per_source.contains_key(source.as_str()) {
            if input.may_be_silent {
                silent += 1;
            } else {
                lost += 1;
            }
        }
    }
    let replayed: BTreeSet<&str> = seen_records
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|((_, _, s), _)| *s)
        .collect();
    let duplicate_records = seen_records.values().map(|n| n - 1).sum();
    let mut uncommitted_per_source: HashMap<&str, usize> = HashMap::new();
    for (_, _, source, _) in &uncommitted {
        *uncommitted_per_source.entry(source.as_str()).or_default() += 1;
    }
    let replayed_after_abort = uncommitted_per_source
        .iter()
        .filter(|(s, n)| **n > per_source.get(*s).copied().unwrap_or(0))
        .count();
    Report {
        replayed_after_abort,
        aborted_output_records: uncommitted.len().saturating_sub(outputs.len()),
        aborted_state_records: state_all.saturating_sub(state_committed),
        seconds: test_started.elapsed().as_secs_f64(),
        verdicts_changed_on_replay: article_verdicts.values().filter(|v| v.len() > 1).count(),
        lost,
        silent,
        replayed_inputs: replayed.len(),
        duplicate_records,
        by_topic,
    }
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "warta-crash-{}-{}",
        std::process::id(),
        common::kafka::rand_suffix() % 1_000_000
    ));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn print(name: &str, r: &Report) {
    common::kafka::report(
        &format!("kafka_crash-{}", name.replace(", ", "-").replace(' ', "-")),
        &format!(
            "kafka_crash {name}: 10000 inputs, kill -9 of 1 of 2 instances: lost={} duplicated_records={} \
             replayed_inputs(read_committed twice)={} replayed_after_abort={} aborted_output_records={} \
             aborted_state_records={} silent_unchanged={} verdicts_changed_on_replay={} outputs={:?} ({:.0} s)",
            r.lost,
            r.duplicate_records,
            r.replayed_inputs,
            r.replayed_after_abort,
            r.aborted_output_records,
            r.aborted_state_records,
            r.silent,
            r.verdicts_changed_on_replay,
            r.by_topic,
            r.seconds
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_least_once_survives_kill_9() {
    let _serial = SERIAL.lock().await;
    let prefix = common::kafka::unique_prefix("crash-alo");
    let r = crash_test(&prefix, "at-least-once").await;
    print("at-least-once", &r);
    assert_eq!(r.lost, 0, "inputs lost");
    // At least once: a replayed invalid input is dead-lettered again.
    assert!(r.by_topic.get("raw-pages-dlq").copied().unwrap_or(0) >= 100);
    assert!(r.by_topic.get("clean-articles").copied().unwrap_or(0) >= 3_000);
}

/// The same crash with the articles in Redis (`dedup.store = "redis"`, the
/// server `.ci/test` starts): nothing lost, and every input the crash made
/// the survivors process again gets the verdict of its first attempt, though
/// Redis kept that attempt's writes (each record names the input that wrote
/// it). The in-memory store cannot promise that in at-least-once mode: its
/// state may already hold a batch whose offsets were not committed, and the
/// replay then calls the batch's new articles `unchanged`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_least_once_with_the_redis_store_survives_kill_9_with_the_same_verdicts() {
    let url = std::env::var("WARTA_TEST_REDIS_URL").unwrap_or_else(|_| {
        panic!("WARTA_TEST_REDIS_URL is not set: run the tests with `bash .ci/test`, which installs and starts redis-server")
    });
    let _serial = SERIAL.lock().await;
    let prefix = common::kafka::unique_prefix("crash-redis");
    let redis = [
        ("WARTA__DEDUP__STORE".to_string(), "redis".to_string()),
        ("WARTA__DEDUP__REDIS__URLS".to_string(), url),
        ("WARTA__DEDUP__REDIS__PREFIX".to_string(), prefix.clone()),
    ];
    let r = crash_test_with(&prefix, "at-least-once", &redis).await;
    print("at-least-once, Redis store", &r);
    assert_eq!(r.lost, 0, "inputs lost");
    assert!(r.replayed_inputs > 0, "the kill made some inputs replay");
    assert_eq!(
        r.verdicts_changed_on_replay, 0,
        "a replay changed a verdict"
    );
    assert!(r.by_topic.get("clean-articles").copied().unwrap_or(0) >= 3_000);
    assert!(r.by_topic.get("page-duplicates").copied().unwrap_or(0) >= 3_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_once_survives_kill_9() {
    let _serial = SERIAL.lock().await;
    let prefix = common::kafka::unique_prefix("crash-eos");
    let r = crash_test(&prefix, "exactly-once").await;
    print("exactly-once", &r);
    // The dedup state of the batch the kill aborted must not survive: if it
    // did, the restarted instance would restore it and call that batch's
    // originals `unchanged`, publishing nothing for them (counted as lost).
    assert_eq!(r.lost, 0, "inputs lost");
    assert_eq!(r.verdicts_changed_on_replay, 0);
    assert_eq!(r.duplicate_records, 0, "output records written twice");
    assert_eq!(r.replayed_inputs, 0, "inputs visible twice");
    // The kill hit an open batch: its outputs and state records are on the
    // broker, aborted, and its inputs were processed again.
    assert!(r.aborted_state_records > 0, "no aborted state records");
    assert!(r.aborted_output_records > 0, "no aborted outputs");
    assert!(
        r.replayed_after_abort > 0,
        "no input replayed after the abort"
    );
    assert_eq!(r.by_topic.get("raw-pages-dlq"), Some(&100));
}

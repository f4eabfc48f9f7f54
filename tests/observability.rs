//! Observability of `warta run`, end to end: the health endpoints follow the
//! service's state, and a real Prometheus (started by `.ci/test`, which sets
//! `WARTA_TEST_PROMETHEUS_URL`) scrapes a running instance and evaluates every
//! PromQL expression of the Grafana dashboard and the alert rules.
//!
//! The broker is Apache Kafka, the one `bash .ci/test` starts
//! (`WARTA_TEST_KAFKA_BROKERS`); each test has topics of its own on it. Both
//! tests share one process-wide metrics recorder, so they run one after the
//! other.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::kafka::*;
use warta::app::App;
use warta::config::Settings;

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Fresh topics on the test broker (input with 2 partitions): brokers, prefix.
async fn fresh(tag: &str) -> (String, String) {
    let brokers = test_brokers();
    let prefix = unique_prefix(tag);
    create_topics(&brokers, &prefix, 2).await;
    (brokers, prefix)
}

/// GET `url` on a blocking thread; returns status and body.
async fn get(url: String) -> (u16, String) {
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(10)))
            .build()
            .into();
        match agent.get(&url).call() {
            Ok(mut r) => (
                r.status().as_u16(),
                r.body_mut().read_to_string().unwrap_or_default(),
            ),
            Err(e) => (0, e.to_string()),
        }
    })
    .await
    .expect("http thread")
}

/// `/metrics` as a map from series (name and labels, as printed) to value.
async fn scrape(base: &str) -> HashMap<String, f64> {
    let (status, text) = get(format!("{base}/metrics")).await;
    assert_eq!(status, 200, "{text}");
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            Some((series.to_string(), value.parse().ok()?))
        })
        .collect()
}

/// Polls `url` until it answers `status`, or panics after `within`.
async fn wait_for_status(url: &str, status: u16, within: Duration) -> String {
    let until = Instant::now() + within;
    loop {
        let (s, body) = get(url.to_string()).await;
        if s == status {
            return body;
        }
        assert!(
            Instant::now() < until,
            "{url} answered {s} {body}, not {status}, for {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn settings_with(brokers: &str, prefix: &str, listen: &str) -> Arc<Settings> {
    let mut env = topic_env(prefix);
    env.extend([
        ("WARTA__KAFKA__DELIVERY".into(), "exactly-once".into()),
        ("WARTA__METRICS__LISTEN".into(), listen.into()),
        // Lag comes from librdkafka statistics; a short interval so the
        // first report arrives within the test.
        ("WARTA__KAFKA__STATISTICS_INTERVAL_MS".into(), "500".into()),
        // Small batches, so a backlog takes many of them (see the lag check).
        ("WARTA__KAFKA__BATCH_MAX_RECORDS".into(), "20".into()),
    ]);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    settings(brokers, &format!("{prefix}warta-observability"), &env)
}

/// The examples hold an article, its recrawl, a copy on another site, an
/// English article, an index page and a bad input: every verdict has data.
async fn produce_mixed(brokers: &str, prefix: &str) {
    produce_examples_to(brokers, &format!("{prefix}raw-pages")).await;
}

/// The example pages `times` over, to partition 0, from one producer.
async fn produce_backlog(brokers: &str, topic: &str, times: usize) {
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let producer: FutureProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("linger.ms", "20")
        .create()
        .expect("producer");
    let lines: Vec<String> = std::fs::read_to_string(common::root().join("examples/pages.jsonl"))
        .expect("examples")
        .lines()
        .map(String::from)
        .collect();
    let mut pending = Vec::new();
    for _ in 0..times {
        for line in &lines {
            let record = FutureRecord::<(), _>::to(topic).partition(0).payload(line);
            pending.push(producer.send_result(record).expect("enqueue"));
        }
    }
    for d in pending {
        d.await.expect("delivery").expect("produce backlog");
    }
}

/// A dedup state change as another instance of the group writes it to the
/// changelog, so the following (consistency window) panels have data too.
async fn produce_peer_change(brokers: &str, prefix: &str) {
    use rdkafka::message::{Header, OwnedHeaders};
    use rdkafka::producer::{FutureProducer, FutureRecord};
    use warta::dedup::changelog::{Change, HeadlineState};
    let (key, value) = Change::Headline(HeadlineState {
        id: 0x5eed,
        published_event_time: 1_767_157_200,
        item_time: None,
    })
    .encode();
    let producer: FutureProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("producer");
    producer
        .send(
            FutureRecord::to(&format!("{prefix}{STATE_TOPIC}"))
                .key(&key)
                .payload(&value.expect("an entry, not a tombstone"))
                .headers(OwnedHeaders::new().insert(Header {
                    key: warta::kafka::state::HEADER_INSTANCE,
                    value: Some("observability-peer/1"),
                })),
            Duration::from_secs(10),
        )
        .await
        .expect("produce the peer's change");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn health_endpoints_follow_the_service() {
    let _serial = SERIAL.lock().await;
    let (brokers, prefix) = fresh("health").await;
    let app = App::start(settings_with(&brokers, &prefix, "127.0.0.1:0"))
        .await
        .expect("start");
    let base = format!("http://{}", app.metrics_addr().expect("listener"));

    // Listening, not yet running: alive, not ready, and the body says why.
    let (status, body) = get(format!("{base}/readyz")).await;
    assert_eq!(status, 503, "{body}");
    let why: serde_json::Value = serde_json::from_str(&body).expect("readyz JSON");
    assert_eq!(why["ready"], false);
    let reasons = why["reasons"].to_string();
    assert!(reasons.contains("no partitions assigned"), "{reasons}");
    assert_eq!(get(format!("{base}/healthz")).await.0, 200);

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let service = tokio::spawn(app.run(async {
        let _ = stopped.await;
    }));
    let ready = wait_for_status(&format!("{base}/readyz"), 200, Duration::from_secs(30)).await;
    assert!(ready.contains("\"assigned_partitions\":2"), "{ready}");
    assert_eq!(get(format!("{base}/healthz")).await.0, 200);

    // The recorder is process-wide and the other test may have run first:
    // compare increases, not absolute values.
    let before = scrape(&base).await;
    produce_mixed(&brokers, &prefix).await;
    let consumed = format!("warta_pages_consumed_total{{topic=\"{prefix}raw-pages\"}}");
    let delta = |after: &HashMap<String, f64>, series: &str| {
        after.get(series).copied().unwrap_or(f64::NAN) - before.get(series).copied().unwrap_or(0.0)
    };
    // Consumer lag, from librdkafka's statistics (every 500 ms here): the
    // first report for the input partition can come after the commit, so the
    // wait includes it.
    let lag_series =
        format!("warta_consumer_lag_messages{{topic=\"{prefix}raw-pages\",partition=\"0\"}}");
    let until = Instant::now() + Duration::from_secs(30);
    let after = loop {
        let m = scrape(&base).await;
        if delta(&m, &consumed) == 6.0
            && delta(&m, "warta_records_produced_total{output=\"dead_letter\"}") == 1.0
            && m.get(&lag_series) == Some(&0.0)
        {
            break m;
        }
        assert!(
            Instant::now() < until,
            "metrics never showed the 6 pages committed and a lag of 0:\n{m:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    for (series, want) in [
        ("warta_rejections_total{code=\"invalid_url\"}", 1.0),
        ("warta_rejections_total{code=\"invalid_json\"}", 0.0),
        ("warta_duplicates_total{kind=\"copy\"}", 1.0),
        ("warta_duplicates_total{kind=\"unchanged\"}", 1.0),
        ("warta_articles_published_total{verdict=\"new\"}", 2.0),
        ("warta_end_to_end_latency_seconds_count", 5.0),
        ("warta_parse_duration_seconds_count", 6.0),
    ] {
        assert_eq!(delta(&after, series), want, "{series}: {after:#?}");
    }
    let build_info = format!(
        "warta_build_info{{version=\"{}\"}}",
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(after.get(&build_info), Some(&1.0), "{build_info}");
    let (_, text) = get(format!("{base}/metrics")).await;
    assert!(text.contains("# HELP warta_pages_consumed_total Input records consumed."));
    assert!(text.contains("warta_parse_duration_seconds_bucket{le=\""));

    // A backlog of 1,200 inputs, taken 20 per batch, shows as lag on the
    // input partition, and the lag falls back to 0 once it is consumed.
    produce_backlog(&brokers, &format!("{prefix}raw-pages"), 200).await;
    let until = Instant::now() + Duration::from_secs(120);
    let mut max_lag = 0.0f64;
    loop {
        let m = scrape(&base).await;
        let lag = m.get(&lag_series).copied().unwrap_or(f64::NAN);
        max_lag = max_lag.max(lag);
        if delta(&m, &consumed) == 6.0 + 1_200.0 && lag == 0.0 {
            break;
        }
        assert!(
            Instant::now() < until,
            "the backlog was not consumed, or the lag stayed above 0 ({lag}):\n{m:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("consumer lag on the backlog of 1,200: at most {max_lag} messages");
    assert!(max_lag > 0.0, "the backlog never showed as lag");
    assert!(max_lag <= 1_200.0, "{max_lag}");

    let _ = stop.send(());
    service.await.expect("join").expect("run");
}

/// One expression of the dashboard or the alert rules.
#[derive(serde::Deserialize, Debug)]
struct Expr {
    source: String,
    expr: String,
    #[serde(default)]
    panel: bool,
}

fn expressions() -> Vec<Expr> {
    let out = Command::new("python3")
        .arg(".ci/promql_exprs.py")
        .output()
        .expect("run .ci/promql_exprs.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn prometheus_evaluates_every_dashboard_and_alert_expression() {
    let _serial = SERIAL.lock().await;
    let prometheus = std::env::var("WARTA_TEST_PROMETHEUS_URL").unwrap_or_else(|_| {
        panic!("WARTA_TEST_PROMETHEUS_URL is not set: run the tests with `bash .ci/test`, which installs and starts Prometheus")
    });
    let target = std::env::var("WARTA_TEST_PROMETHEUS_TARGET")
        .expect("WARTA_TEST_PROMETHEUS_TARGET (set by .ci/test)");
    let exprs = expressions();
    assert!(exprs.iter().filter(|e| e.panel).count() >= 8, "{exprs:?}");
    assert!(exprs.iter().filter(|e| !e.panel).count() >= 5, "{exprs:?}");

    let (brokers, prefix) = fresh("prometheus").await;
    let app = App::start(settings_with(&brokers, &prefix, &target))
        .await
        .expect("start (is the Prometheus target port free?)");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let service = tokio::spawn(app.run(async {
        let _ = stopped.await;
    }));

    let query = |q: &str| {
        format!(
            "{prometheus}/api/v1/query?query={}",
            url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
        )
    };
    let wait_for = |q: String, what: &'static str| {
        let url = query(&q);
        let until = Instant::now() + Duration::from_secs(60);
        async move {
            loop {
                let (_, body) = get(url.clone()).await;
                if body.contains("\"result\":[{") {
                    break;
                }
                assert!(
                    Instant::now() < until,
                    "Prometheus never saw {what} ({q}): {body}"
                );
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    };
    // increase() of a counter whose first sample already holds the batch is
    // 0, so Prometheus must see this instance's input counter at 0 before
    // anything is produced (a fast machine consumes within one scrape).
    wait_for(
        format!("warta_pages_consumed_total{{job=\"warta\",topic=\"{prefix}raw-pages\"}} == 0"),
        "the input counter at 0",
    )
    .await;
    produce_mixed(&brokers, &prefix).await;

    // Wait until Prometheus has scraped the committed batch, twice over, so
    // that rate() has two samples with the outputs in them.
    wait_for(
        format!("sum(warta_records_produced_total{{job=\"warta\"}}) > 0 and sum(increase(warta_pages_consumed_total{{job=\"warta\",topic=\"{prefix}raw-pages\"}}[1m])) > 0"),
        "warta's outputs",
    )
    .await;
    // Another instance's change, once this one follows the changelog (the
    // restore has ended: its outputs are out), for the consistency window.
    produce_peer_change(&brokers, &prefix).await;
    wait_for(
        "sum(warta_state_remote_changes_applied_total{job=\"warta\"}) > 0".into(),
        "the peer's change applied",
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;

    let mut failures = BTreeMap::new();
    let mut with_data = 0;
    for e in &exprs {
        let (status, body) = get(query(&e.expr)).await;
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        if status != 200 || v["status"] != "success" {
            failures.insert(e.source.clone(), format!("error {status}: {body}"));
            continue;
        }
        let empty = v["data"]["result"].as_array().is_some_and(|r| r.is_empty());
        if e.panel && empty {
            failures.insert(e.source.clone(), format!("no data for {}", e.expr));
        } else if !empty {
            with_data += 1;
        }
    }
    println!(
        "{} expressions evaluated ({} dashboard, {} alert rules), {with_data} returned data",
        exprs.len(),
        exprs.iter().filter(|e| e.panel).count(),
        exprs.iter().filter(|e| !e.panel).count()
    );
    let _ = stop.send(());
    service.await.expect("join").expect("run");
    assert!(failures.is_empty(), "{failures:#?}");
}

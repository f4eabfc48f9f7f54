//! The consumer examples against the test broker: examples/pages.jsonl is
//! produced to `raw-pages`, `warta run` (in-process) processes it, and then
//! examples/consume.rs (compiled in here as a module, so the code users copy
//! is the code under test) and examples/consume.py (confluent-kafka from PyPI,
//! in the virtualenv `.ci/consumer-venv` installs) read `clean-articles` and
//! `clean-headlines` in consumer groups. Both must see every record, typed or
//! schema-validated, and commit: a second run of the same group reads nothing.
//! Every record read back here is validated against its topic's schema and its
//! headers against `kafka-headers`.

mod common;
mod schemas_support;

#[path = "../examples/consume.rs"]
#[allow(dead_code)]
mod consume;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use common::kafka::{self as k, Out};
use serde_json::Value;

fn headers_json(o: &Out) -> Value {
    Value::Object(
        o.headers
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

fn python() -> String {
    let out = Command::new("bash")
        .arg(common::root().join(".ci/consumer-venv"))
        .output()
        .expect("run .ci/consumer-venv");
    assert!(
        out.status.success(),
        ".ci/consumer-venv failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .expect("the venv's python")
        .to_string()
}

/// Runs examples/consume.py; returns the records it printed.
fn consume_py(python: &str, brokers: &str, group: &str, topic: &str, max: usize) -> Vec<Value> {
    let out = Command::new(python)
        .arg(common::root().join("examples/consume.py"))
        .args(["--brokers", brokers, "--group", group, "--topic", topic])
        .args(["--max", &max.to_string(), "--idle-seconds", "15"])
        .current_dir(common::root())
        .output()
        .expect("run examples/consume.py");
    assert!(
        out.status.success(),
        "examples/consume.py failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("consume.py prints JSON lines"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_and_python_consumers_read_what_warta_run_published() {
    let brokers = k::test_brokers();
    let prefix = k::unique_prefix("consumers");
    k::create_topics(&brokers, &prefix, 1).await;
    let inputs = k::produce_examples_to(&brokers, &format!("{prefix}raw-pages")).await;

    // Exactly-once delivery (the default): the consumers read committed.
    let env: Vec<(String, String)> = k::topic_env(&prefix)
        .into_iter()
        .filter(|(k, _)| k != "WARTA__KAFKA__DELIVERY")
        .collect();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let settings = k::settings(&brokers, &format!("{prefix}warta"), &env);
    let (stop, handle) = k::start(settings).await;
    let (out, _stats) = k::collect_and_stop(
        &brokers,
        &prefix,
        k::expected(),
        Duration::from_secs(90),
        stop,
        handle,
    )
    .await;
    for (topic, n) in k::expected() {
        assert_eq!(
            out.get(topic).map_or(0, Vec::len),
            n,
            "{topic}: {:?}",
            out.get(topic)
        );
    }

    // Every record read back is valid, headers included.
    let validators = schemas_support::Validators::new();
    let listed: Vec<String> = warta::schema::schema("kafka-headers").unwrap()["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    for (topic, records) in &out {
        for o in records {
            let headers = headers_json(o);
            validators.assert_valid("kafka-headers", &headers, &format!("{topic} headers"));
            for name in o.headers.keys().filter(|n| n.starts_with("warta-")) {
                assert!(
                    listed.contains(name),
                    "header {name} is not in kafka-headers"
                );
            }
            assert_eq!(
                o.headers["crawler-run"], "42",
                "the input's own header passes"
            );
            if topic == "raw-pages-dlq" {
                // A dead letter is the input record itself.
                assert_eq!(o.value, inputs[5]);
                assert_eq!(o.headers["warta-error-code"], "invalid_url");
                assert_eq!(o.key.as_deref(), Some("crawl-5"));
            } else {
                validators.assert_valid(topic, &k::value_json(o), topic);
            }
        }
    }
    let articles: BTreeMap<String, &Out> = out["clean-articles"]
        .iter()
        .map(|o| (k::value_json(o)["id"].as_str().unwrap().to_string(), o))
        .collect();

    // The Rust example, in a group, typed.
    let options = |topic: &str, group: &str, max| consume::Options {
        brokers: brokers.clone(),
        group: format!("{prefix}{group}"),
        topic: format!("{prefix}{topic}"),
        max,
        idle: Some(Duration::from_secs(15)),
    };
    let o = options("clean-articles", "rust", 2);
    let got = tokio::task::spawn_blocking(move || {
        let mut got = Vec::new();
        let n = consume::consume::<consume::Article>(&o, |r| {
            got.push(r);
            Ok(())
        })
        .expect("consume.rs");
        assert_eq!(n, got.len());
        got
    })
    .await
    .unwrap();
    assert_eq!(got.len(), 2, "consume.rs read {got:?}");
    for r in &got {
        let a = &r.value;
        let original = articles
            .get(&a.id)
            .unwrap_or_else(|| panic!("consume.rs read an unknown article {}", a.id));
        assert_eq!(
            r.key.as_deref(),
            Some(a.cluster_id.as_str()),
            "key = cluster_id"
        );
        assert_eq!(r.headers, original.headers.clone().into_iter().collect());
        assert_eq!(a.verdict, consume::Verdict::New);
        assert_eq!(r.headers["warta-verdict"], "new");
        assert_eq!(a.schema_version, 1);
        assert!(!a.paragraphs.is_empty() && a.word_count > 0);
        assert_eq!(
            a.fetched_at.offset().local_minus_utc(),
            0,
            "fetched_at is UTC"
        );
    }
    let seed = got
        .iter()
        .find(|r| r.value.url == "https://rmol.id/read/2021/10/08/kazakhstan-lsm-aktif")
        .expect("the seed article");
    let published = seed.value.published_at.as_ref().expect("the seed's date");
    assert_eq!(published.value.to_rfc3339(), "2021-10-08T00:00:00+07:00");
    assert_eq!(published.precision, consume::Precision::Day);
    assert_eq!(seed.value.language.as_deref(), Some("id"));
    assert_eq!(
        seed.value
            .caption
            .as_ref()
            .and_then(|c| c.credit.as_deref()),
        Some("Net")
    );

    // Headlines too, then the same groups again: their offsets were committed.
    let o = options("clean-headlines", "rust", 14);
    let headlines = tokio::task::spawn_blocking(move || {
        let mut got = Vec::new();
        consume::consume::<consume::Headline>(&o, |r| {
            got.push(r.value);
            Ok(())
        })
        .expect("consume.rs headlines");
        got
    })
    .await
    .unwrap();
    assert_eq!(headlines.len(), 14);
    assert!(headlines.iter().any(
        |h| h.published_at.map(|t| t.to_rfc3339()) == Some("2025-12-31T12:10:00+07:00".into())
    ));
    let o = options("clean-articles", "rust", 0);
    let again = tokio::task::spawn_blocking(move || {
        let o = consume::Options {
            idle: Some(Duration::from_secs(8)),
            ..o
        };
        consume::consume::<consume::Article>(&o, |_| Ok(())).expect("consume.rs again")
    })
    .await
    .unwrap();
    assert_eq!(again, 0, "the group's offsets were committed");

    // The Python example: validates each record and its headers itself.
    let py = python();
    let (b, p) = (brokers.clone(), prefix.clone());
    let (py_articles, py_headlines, py_again) = tokio::task::spawn_blocking(move || {
        (
            consume_py(&py, &b, &format!("{p}py"), &format!("{p}clean-articles"), 2),
            consume_py(
                &py,
                &b,
                &format!("{p}py"),
                &format!("{p}clean-headlines"),
                14,
            ),
            consume_py(&py, &b, &format!("{p}py"), &format!("{p}clean-articles"), 0),
        )
    })
    .await
    .unwrap();
    let mut ids: Vec<&str> = py_articles
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, articles.keys().map(String::as_str).collect::<Vec<_>>());
    for r in py_articles.iter().chain(&py_headlines) {
        assert_eq!(r["valid"], true);
        assert_eq!(r["headers"]["warta-schema"], "1");
    }
    assert_eq!(py_headlines.len(), 14);
    assert!(py_again.is_empty(), "consume.py committed: {py_again:?}");
}

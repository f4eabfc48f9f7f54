//! The Redis article store (`dedup.store = "redis"`) against real servers that
//! `bash .ci/test` installs (Debian's redis-server) and starts on 127.0.0.1: a
//! single server (`WARTA_TEST_REDIS_URL`) and a three-node Redis Cluster
//! (`WARTA_TEST_REDIS_CLUSTER`, comma-separated seed URLs).
//!
//! What is shown:
//! - the verdicts and records equal the in-memory index's over a stream of new
//!   pages, recrawls, edits and copies, on both servers;
//! - the state survives a restart (a new pipeline), with no changelog;
//! - instances racing on copies of the same stories agree on one original per
//!   story (the atomic claim-or-match), and the claim resolves a race the
//!   lookup missed;
//! - a batch decided again after an abort gets the verdicts of its first
//!   attempt, though Redis kept that attempt's writes;
//! - every key carries the TTL;
//! - a Redis failure is an error, never a wrong verdict.

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Barrier};

use chrono::{TimeZone, Utc};
use common::settings_from_env as settings;
use serde_json::Value;
use warta::config::Settings;
use warta::dedup::redis::{RedisConfig, RedisStore};
use warta::dedup::verdict::{decide, ArticleKey, ArticleStore, Verdict};
use warta::event::SourceRef;
use warta::pipeline::{Outcome, Pipeline, Processed};

fn single_url() -> String {
    std::env::var("WARTA_TEST_REDIS_URL").unwrap_or_else(|_| {
        panic!("WARTA_TEST_REDIS_URL is not set: run the tests with `bash .ci/test`, which installs and starts redis-server")
    })
}

fn cluster_urls() -> String {
    std::env::var("WARTA_TEST_REDIS_CLUSTER").unwrap_or_else(|_| {
        panic!("WARTA_TEST_REDIS_CLUSTER is not set: run the tests with `bash .ci/test`, which starts a Redis Cluster")
    })
}

#[derive(Clone, Copy, Debug)]
enum Server {
    Single,
    Cluster,
}

/// A key prefix no other test or run uses, so every test starts empty.
fn prefix(name: &str) -> String {
    format!("test-{name}-{}", common::kafka::rand_suffix())
}

fn env(server: Server, prefix: &str) -> BTreeMap<String, String> {
    let (urls, cluster) = match server {
        Server::Single => (single_url(), "false"),
        Server::Cluster => (cluster_urls(), "true"),
    };
    BTreeMap::from([
        ("WARTA__DEDUP__STORE".into(), "redis".into()),
        ("WARTA__DEDUP__REDIS__URLS".into(), urls),
        ("WARTA__DEDUP__REDIS__CLUSTER".into(), cluster.into()),
        ("WARTA__DEDUP__REDIS__PREFIX".into(), prefix.into()),
    ])
}

fn redis_settings(server: Server, prefix: &str) -> Arc<Settings> {
    settings(env(server, prefix))
}

fn fetched(minute: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 12, 31, 5, 0, 0).unwrap() + chrono::Duration::minutes(minute as i64)
}

/// IndoSum pages rendered by warta's templates (as the benches use).
fn originals(n: usize) -> Vec<Value> {
    warta_lab::corpus::indosum_events(
        &common::shared().join("corpora/indosum-dev/indosum"),
        n,
        fetched(0),
    )
    .expect("IndoSum")
    .iter()
    .map(|b| serde_json::from_slice(b).unwrap())
    .collect()
}

fn with(page: &Value, url: Option<String>, content_suffix: &str, minute: u32) -> Vec<u8> {
    let mut p = page.clone();
    if let Some(url) = url {
        p["url"] = url.into();
    }
    if !content_suffix.is_empty() {
        let c = p["content"].as_str().unwrap().to_string();
        p["content"] = format!("{c}\n\n{content_suffix}").into();
    }
    p["fetched_at"] = fetched(minute).to_rfc3339().into();
    serde_json::to_vec(&p).unwrap()
}

/// Originals, then recrawls (some edited), copies on other sites, and recrawls
/// of the copies, interleaved: every verdict occurs many times.
fn stream(n: usize) -> Vec<Vec<u8>> {
    let pages = originals(n);
    let mut out = Vec::new();
    for (i, p) in pages.iter().enumerate() {
        out.push(with(p, None, "", 1));
        if i >= 3 {
            let q = &pages[i - 3];
            let edit = if i % 4 == 0 {
                "Pembaruan: keterangan resmi dari kepolisian menyusul sore ini setelah rapat koordinasi selesai."
            } else {
                ""
            };
            out.push(with(q, None, edit, 2));
            let url = format!("https://salinan.example/{}", i - 3);
            out.push(with(q, Some(url.clone()), "", 3));
            if i % 5 == 0 {
                out.push(with(q, Some(url), "", 4));
            }
        }
    }
    out
}

fn run_all(pipeline: &mut Pipeline, inputs: &[Vec<u8>]) -> Vec<Processed> {
    inputs
        .iter()
        .enumerate()
        .map(|(i, b)| {
            pipeline
                .try_process(b, SourceRef::Line { line: i as u64 + 1 }, fetched(0))
                .expect("dedup store")
        })
        .collect()
}

fn verdict_counts(out: &[Processed]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for p in out {
        let k = match p.outcome {
            Outcome::Article { verdict, .. } => verdict.as_str().to_string(),
            Outcome::HeadlinesOnly { .. } => "headlines_only".into(),
            Outcome::Rejected(c) => c.as_str().to_string(),
        };
        *m.entry(k).or_default() += 1;
    }
    m
}

fn same_verdicts_as_memory(server: Server) {
    let inputs = stream(120);
    let mut memory = Pipeline::new(settings(BTreeMap::new())).unwrap();
    let expected = run_all(&mut memory, &inputs);
    let mut redis = Pipeline::new(redis_settings(server, &prefix("same"))).unwrap();
    let got = run_all(&mut redis, &inputs);
    let counts = verdict_counts(&expected);
    eprintln!("{server:?}: {} inputs, verdicts {counts:?}", inputs.len());
    for v in ["new", "unchanged", "updated", "duplicate"] {
        assert!(counts.get(v).copied().unwrap_or(0) >= 10, "{v}: {counts:?}");
    }
    // Redis keeps an article's current version only: a copy of an older
    // version is measured against the newer one, so its similarity may differ
    // (module docs). Everything else, the cluster it joins included, is equal.
    let mut updated_clusters = std::collections::BTreeSet::new();
    let mut similarity_differs = 0;
    for (i, (e, g)) in expected.iter().zip(&got).enumerate() {
        let (e, g) = (without_similarity(e), without_similarity(g));
        assert_eq!(e.0, g.0, "input {i} decided differently on {server:?}");
        for r in &e.0 {
            let v = &r["value"];
            if v["verdict"] == "updated" {
                updated_clusters.insert(v["cluster_id"].to_string());
            } else if v["verdict"] == "duplicate" && e.1 != g.1 {
                assert!(
                    updated_clusters.contains(&v["cluster_id"].to_string()),
                    "input {i}: the similarity differs, yet its original was never updated"
                );
                similarity_differs += 1;
            }
        }
    }
    eprintln!(
        "copies of an updated article, measured against its newer version: {similarity_differs}"
    );
}

/// The records as JSON with the duplicates' similarity taken out, and it.
fn without_similarity(p: &Processed) -> (Vec<Value>, Vec<Value>) {
    let mut similarities = Vec::new();
    let records = p
        .records
        .iter()
        .map(|r| {
            let mut v = serde_json::to_value(&r.payload).unwrap();
            if v["verdict"] == "duplicate" {
                let sim = v["similarity"].take();
                assert!(sim.as_f64().unwrap() >= 0.5, "{v}");
                similarities.push(sim);
            }
            serde_json::json!({"to": format!("{:?}", r.destination), "key": r.key, "value": v})
        })
        .collect();
    (records, similarities)
}

#[test]
fn verdicts_equal_the_in_memory_index_on_one_server() {
    same_verdicts_as_memory(Server::Single);
}

#[test]
fn verdicts_equal_the_in_memory_index_on_a_cluster() {
    same_verdicts_as_memory(Server::Cluster);
}

#[test]
fn the_state_survives_a_restart_without_a_changelog() {
    let pages = originals(5);
    let prefix = prefix("restart");
    for server in [Server::Single, Server::Cluster] {
        let prefix = format!("{prefix}-{server:?}");
        let mut first = Pipeline::new(redis_settings(server, &prefix)).unwrap();
        let before = run_all(&mut first, &[with(&pages[0], None, "", 1)]);
        assert_eq!(verdict_counts(&before)["new"], 1);
        drop(first);

        let mut second = Pipeline::new(redis_settings(server, &prefix)).unwrap();
        let after = run_all(
            &mut second,
            &[
                with(&pages[0], None, "", 2),
                with(&pages[0], Some("https://salinan.example/x".into()), "", 3),
            ],
        );
        assert_eq!(
            verdict_counts(&after),
            BTreeMap::from([("duplicate".into(), 1), ("unchanged".into(), 1)]),
            "{server:?}"
        );
    }
}

/// Instances (threads, each with its own connection) decide copies of the same
/// stories, on their own URLs, at the same moment.
fn race(server: Server, instances: usize, stories: usize) -> Vec<Vec<Processed>> {
    let pages = Arc::new(originals(stories));
    let prefix = prefix("race");
    let start = Arc::new(Barrier::new(instances));
    let handles: Vec<_> = (0..instances)
        .map(|t| {
            let pages = pages.clone();
            let start = start.clone();
            let settings = redis_settings(server, &prefix);
            std::thread::spawn(move || {
                let mut pipeline = Pipeline::new(settings).unwrap();
                let inputs: Vec<Vec<u8>> = pages
                    .iter()
                    .enumerate()
                    .map(|(i, p)| with(p, Some(format!("https://situs{t}.example/{i}")), "", 1))
                    .collect();
                start.wait();
                run_all(&mut pipeline, &inputs)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

fn racing_instances_agree(server: Server) {
    let (instances, stories) = (3, 60);
    let out = race(server, instances, stories);
    for s in 0..stories {
        let articles: Vec<Value> = out
            .iter()
            .map(|o| {
                o[s].records
                    .iter()
                    .find_map(|r| match &r.payload {
                        warta::pipeline::Payload::Article(a) => {
                            Some(serde_json::to_value(a).unwrap())
                        }
                        _ => None,
                    })
                    .expect("an article record")
            })
            .collect();
        let new: Vec<&Value> = articles.iter().filter(|a| a["verdict"] == "new").collect();
        let brief: Vec<_> = articles
            .iter()
            .map(|a| {
                (
                    &a["id"],
                    &a["verdict"],
                    &a["duplicate_of"],
                    &a["similarity"],
                )
            })
            .collect();
        assert_eq!(
            new.len(),
            1,
            "story {s}: exactly one original, got {brief:?}"
        );
        let original = new[0]["id"].as_str().unwrap();
        for a in &articles {
            if a["verdict"] != "new" {
                assert_eq!(a["verdict"], "duplicate", "story {s}");
                assert_eq!(a["duplicate_of"].as_str(), Some(original), "story {s}");
            }
        }
    }
}

#[test]
fn racing_instances_agree_on_one_original_per_story() {
    racing_instances_agree(Server::Single);
}

#[test]
fn racing_instances_agree_on_a_cluster() {
    racing_instances_agree(Server::Cluster);
}

#[test]
fn the_claim_catches_a_copy_the_lookup_missed() {
    // The race, step by step: A looks up (nothing), B decides a copy (new), and
    // then A records its article: the claim finds B's, so A is the duplicate.
    let config = RedisConfig {
        urls: vec![single_url()],
        cluster: false,
        prefix: prefix("claim"),
        timeout: std::time::Duration::from_secs(2),
    };
    let mut a = RedisStore::connect(&config, 86_400).unwrap();
    let mut b = RedisStore::connect(&config, 86_400).unwrap();
    let settings = settings(BTreeMap::new());
    let prepared = warta::pipeline::Preparer::new(settings).prepare(
        &with(&originals(1)[0], None, "", 1),
        SourceRef::Line { line: 1 },
        fetched(0),
    );
    let warta::pipeline::Prepared::Page(page) = prepared else {
        panic!("the page parses");
    };
    let sig = page.signature.clone();
    let key = |id| ArticleKey {
        article_id: id,
        content_hash: 7,
        signature: &sig,
        event_time: 1_767_157_200,
    };
    assert!(a.by_article(1, 1_767_157_200).is_none());
    assert!(a.best_match(&sig, 1_767_157_200, 0.5).is_none());
    assert_eq!(
        decide(&mut b, key(2), 1_767_157_200, 0.5).verdict,
        Verdict::New
    );
    let entry = warta::dedup::verdict::NewEntry {
        article_id: 1,
        cluster_id: 1,
        content_hash: 7,
        version: 1,
        event_time: 1_767_157_200,
        signature: &sig,
        representative: true,
    };
    let (won, similarity) = a.claim(&entry, 0.5).expect("A loses the claim to B");
    assert_eq!(won.article_id, 2);
    assert!(similarity > 0.99);
    // B, deciding again, does not lose to A: the first shared band is B's.
    assert!(b
        .claim(
            &warta::dedup::verdict::NewEntry {
                article_id: 2,
                cluster_id: 2,
                ..entry
            },
            0.5
        )
        .is_none());
    assert!(a.take_error().is_none() && b.take_error().is_none());
}

#[test]
fn a_replayed_batch_gets_the_verdicts_of_its_first_attempt() {
    let pages = originals(10);
    let settings = redis_settings(Server::Single, &prefix("replay"));
    let mut preparer = warta::pipeline::Preparer::new(settings.clone());
    let mut deduper = warta::pipeline::Deduper::open(settings).unwrap();
    let batch: Vec<_> = pages
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            [
                with(p, None, "", 1),
                with(p, Some(format!("https://salinan.example/{i}")), "", 2),
            ]
        })
        .map(|b| preparer.prepare(&b, SourceRef::Line { line: 1 }, fetched(0)))
        .collect();
    let decide_all = |deduper: &mut warta::pipeline::Deduper, origin_base: u64| {
        batch
            .iter()
            .enumerate()
            .map(|(i, p)| {
                deduper.set_origin(origin_base + i as u64);
                deduper.decide(p)
            })
            .collect::<Vec<_>>()
    };
    let first = decide_all(&mut deduper, 1000);
    assert!(deduper.take_store_error().is_none());
    // The transaction aborts: the batch is rolled back and decided again.
    deduper.rollback();
    let replay = decide_all(&mut deduper, 1000);
    assert_eq!(first, replay);
    let counts = verdict_counts(&first);
    assert_eq!((counts["new"], counts["duplicate"]), (10, 10));
    // The control: the same pages as new inputs (other offsets) are recrawls.
    deduper.commit();
    let later = decide_all(&mut deduper, 5000);
    assert_eq!(verdict_counts(&later)["unchanged"], 20);
}

#[test]
fn every_key_expires_after_the_ttl() {
    let prefix = prefix("ttl");
    let mut e = env(Server::Single, &prefix);
    e.insert("WARTA__DEDUP__TTL_SECS".into(), "3600".into());
    let mut pipeline = Pipeline::new(settings(e)).unwrap();
    run_all(&mut pipeline, &[with(&originals(1)[0], None, "", 1)]);
    let client = redis::Client::open(single_url()).unwrap();
    let mut c = client.get_connection().unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query(&mut c)
        .unwrap();
    // The article record and its eight band claims.
    assert_eq!(keys.len(), 9, "{keys:?}");
    for k in keys {
        let ttl: i64 = redis::cmd("PTTL").arg(&k).query(&mut c).unwrap();
        assert!(ttl > 3_500_000 && ttl <= 3_600_000, "{k}: {ttl}");
    }
}

#[test]
fn a_redis_failure_is_an_error_not_a_verdict() {
    // A server of our own, to stop halfway.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut server = std::process::Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-server (bash .ci/test installs it)");
    let url = format!("redis://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            up = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(up, "redis-server did not start");
    let mut e = env(Server::Single, "fail");
    e.insert("WARTA__DEDUP__REDIS__URLS".into(), url.clone());
    e.insert("WARTA__DEDUP__REDIS__TIMEOUT_MS".into(), "500".into());
    let pages = originals(2);
    let mut pipeline = Pipeline::new(settings(e.clone())).unwrap();
    run_all(&mut pipeline, &[with(&pages[0], None, "", 1)]);
    server.kill().unwrap();
    server.wait().unwrap();
    let err = pipeline
        .try_process(
            &with(&pages[1], None, "", 1),
            SourceRef::Line { line: 2 },
            fetched(0),
        )
        .expect_err("a failed store is an error");
    let chain = format!("{:?}", error_chain(&err));
    assert!(chain.contains("Redis"), "{chain}");

    // The CLI: no server at all, a clear error chain and a failing exit.
    let env: Vec<(&str, &str)> = e.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let run = common::run_warta(&["process", "examples/pages.jsonl"], None, &env);
    assert_ne!(run.status, 0);
    assert!(
        run.stderr.contains("cannot open the Redis dedup store"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!("127.0.0.1:{port}")),
        "{}",
        run.stderr
    );
    assert!(run.records.is_empty());
}

fn error_chain(e: &dyn std::error::Error) -> Vec<String> {
    let mut out = vec![e.to_string()];
    let mut s = e.source();
    while let Some(x) = s {
        out.push(x.to_string());
        s = x.source();
    }
    out
}

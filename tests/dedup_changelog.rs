//! The dedup changelog in process, without a broker: the records a `Deduper`
//! writes, read back into a new `Deduper`, give the verdicts the writer would
//! have given; an aborted (rolled-back) batch writes nothing; expiry and the
//! caps write tombstones, so a compacted log holds only the live state.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Utc;
use warta::config::Settings;
use warta::dedup::changelog::{Change, RestoreTable};
use warta::event::{ArticleVerdict, SourceRef};
use warta::pipeline::{Deduper, Outcome, Prepared, Preparer};

type Log = Vec<(Vec<u8>, Option<Vec<u8>>)>;

fn settings(extra: &[(&str, &str)]) -> Arc<Settings> {
    let mut env: BTreeMap<String, String> = BTreeMap::from([
        ("WARTA__DEDUP__MAX_ARTICLES".into(), "10000".into()),
        ("WARTA__DEDUP__MAX_HEADLINES".into(), "10000".into()),
    ]);
    for (k, v) in extra {
        env.insert(k.to_string(), v.to_string());
    }
    common::settings_from_env(env)
}

fn examples() -> Vec<Vec<u8>> {
    std::fs::read_to_string(common::root().join("examples/pages.jsonl"))
        .unwrap()
        .lines()
        .map(|l| l.as_bytes().to_vec())
        .collect()
}

fn prepare(settings: &Arc<Settings>, pages: &[Vec<u8>]) -> Vec<Prepared> {
    let mut p = Preparer::new(settings.clone());
    pages
        .iter()
        .enumerate()
        .map(|(i, b)| p.prepare(b, SourceRef::Line { line: i as u64 + 1 }, Utc::now()))
        .collect()
}

fn deduper(settings: &Arc<Settings>) -> Deduper {
    let mut d = Deduper::new(settings.clone()).unwrap();
    d.enable_changelog("test-instance");
    d
}

/// Decides a batch, writes its changes to `log` (the transaction), commits.
fn batch(d: &mut Deduper, prepared: &[Prepared], log: &mut Log) -> Vec<Outcome> {
    let outcomes = prepared.iter().map(|p| d.decide(p).outcome).collect();
    log.extend(d.changes().iter().map(Change::encode));
    d.commit();
    outcomes
}

fn restored(settings: &Arc<Settings>, log: &Log) -> Deduper {
    let mut table = RestoreTable::new();
    for (k, v) in log {
        table.apply(Change::decode(k, v.as_deref()).expect("a record warta wrote"));
    }
    let mut d = deduper(settings);
    d.restore(table);
    d
}

fn verdict(o: &Outcome) -> Option<ArticleVerdict> {
    match o {
        Outcome::Article { verdict, .. } => Some(*verdict),
        _ => None,
    }
}

/// The last record per key, tombstoned keys dropped: what compaction keeps.
fn compact(log: &Log) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let mut live = BTreeMap::new();
    for (k, v) in log {
        match v {
            Some(v) => live.insert(k.clone(), v.clone()),
            None => live.remove(k),
        };
    }
    live
}

#[test]
fn a_restored_deduper_remembers_what_the_previous_one_saw() {
    let s = settings(&[]);
    let pages = examples();
    // Run 1: the seed, the English page and the index page.
    let first = prepare(&s, &[pages[0].clone(), pages[3].clone(), pages[4].clone()]);
    let mut log = Log::new();
    let mut d1 = deduper(&s);
    let v: Vec<_> = batch(&mut d1, &first, &mut log)
        .iter()
        .map(verdict)
        .collect();
    assert_eq!(
        v,
        [Some(ArticleVerdict::New), Some(ArticleVerdict::New), None]
    );
    drop(d1);

    // Run 2, restored from the log: the seed's recrawl and its copy on another
    // URL, then the index page again.
    let second = prepare(&s, &[pages[1].clone(), pages[2].clone(), pages[4].clone()]);
    let mut d2 = restored(&s, &log);
    let outcomes = batch(&mut d2, &second, &mut log);
    assert_eq!(verdict(&outcomes[0]), Some(ArticleVerdict::Unchanged));
    assert_eq!(verdict(&outcomes[1]), Some(ArticleVerdict::Duplicate));
    match outcomes[2] {
        Outcome::HeadlinesOnly { headlines } => {
            assert_eq!(
                headlines.published, 0,
                "every headline was published before"
            );
            assert!(headlines.suppressed > 0);
        }
        ref o => panic!("{o:?}"),
    }

    // Control: without the restore the same pages are new, so the test can fail.
    let mut fresh = deduper(&s);
    let outcomes = batch(&mut fresh, &second, &mut Log::new());
    assert_eq!(verdict(&outcomes[0]), Some(ArticleVerdict::New));
}

#[test]
fn an_aborted_batch_leaves_no_trace_and_its_replay_decides_the_same() {
    let s = settings(&[]);
    let pages = examples();
    let all = prepare(&s, &pages);
    let mut log = Log::new();
    let mut d = deduper(&s);
    // Attempt 1 is decided, then its transaction fails: nothing is written.
    let attempt: Vec<_> = all.iter().map(|p| d.decide(p).outcome).collect();
    assert!(!d.changes().is_empty());
    d.rollback();
    assert!(
        d.changes().is_empty(),
        "a rolled-back batch stages no change: {:?}",
        d.changes()
    );
    // The replay gets the same verdicts, and only it is written.
    let replay = batch(&mut d, &all, &mut log);
    assert_eq!(attempt, replay);
    let articles = log.iter().filter(|(k, _)| k.starts_with(b"a:")).count();
    assert_eq!(
        articles, 3,
        "seed, copy and English page; the recrawl changes nothing"
    );

    // A restart from the log decides the replayed pages as the live instance does.
    let mut again = restored(&s, &log);
    let after_restart: Vec<_> = all.iter().map(|p| again.decide(p).outcome).collect();
    let live: Vec<_> = all.iter().map(|p| d.decide(p).outcome).collect();
    assert_eq!(after_restart, live);
}

/// A synthetic article page: distinct text per `i`, fetched `minute` minutes in.
fn synthetic(i: usize, minute: i64) -> Vec<u8> {
    let content: String = (0..6)
        .map(|s| {
            format!(
                "Kalimat {s} artikel {i} membahas topik {} dan {}.\n",
                i * 31 + s,
                i * 7 + s
            )
        })
        .collect();
    let t = chrono::DateTime::parse_from_rfc3339("2025-12-01T00:00:00Z").unwrap()
        + chrono::Duration::minutes(minute);
    serde_json::json!({
        "url": format!("https://contoh.id/berita/{i}"),
        "fetched_at": t.to_rfc3339(),
        "content": content,
    })
    .to_string()
    .into_bytes()
}

#[test]
fn expiry_and_the_cap_tombstone_entries_so_the_compacted_log_stays_bounded() {
    // A one-hour TTL and a cap of 50 articles; 600 pages, one a minute.
    let s = settings(&[
        ("WARTA__DEDUP__TTL_SECS", "3600"),
        ("WARTA__DEDUP__MAX_ARTICLES", "50"),
    ]);
    let mut d = deduper(&s);
    let mut log = Log::new();
    for chunk in (0..600).collect::<Vec<_>>().chunks(20) {
        let pages: Vec<Vec<u8>> = chunk.iter().map(|&i| synthetic(i, i as i64)).collect();
        let prepared = prepare(&s, &pages);
        batch(&mut d, &prepared, &mut log);
    }
    // One more (empty) batch writes the last commit's tombstones.
    batch(&mut d, &[], &mut log);
    let live = compact(&log);
    let live_articles = live.keys().filter(|k| k.starts_with(b"a:")).count();
    let tombstones = log.iter().filter(|(_, v)| v.is_none()).count();
    assert_eq!(
        log.iter()
            .filter(|(k, v)| k.starts_with(b"a:") && v.is_some())
            .count(),
        600
    );
    assert!(tombstones >= 550, "{tombstones} tombstones");
    assert_eq!(
        live_articles,
        d.article_stats().live,
        "the compacted log holds exactly the index"
    );
    assert!(live_articles <= 50, "{live_articles}");
    // And it restores to the same index.
    let r = restored(&s, &log);
    assert_eq!(r.article_stats().live, live_articles);
}

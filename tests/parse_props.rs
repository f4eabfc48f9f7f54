//! Property tests: no input makes the pipeline or the date grammar panic, and every
//! input yields exactly one outcome with at least one record.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use warta::config::Settings;
use warta::event::SourceRef;
use warta::parse::date::{DateContext, DateParser};
use warta::parse::lang::{DateOrder, Lexicon};
use warta::pipeline::{Outcome, Pipeline};

/// A pipeline with a small dedup index: the default one allocates for a million
/// articles up front, which a property test run thousands of times does not need.
fn pipeline() -> Pipeline {
    let env = [
        ("WARTA__DEDUP__MAX_ARTICLES", "1000"),
        ("WARTA__DEDUP__MAX_HEADLINES", "1000"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let settings = Settings::load(warta::config::Sources {
        file: None,
        env: Some(env),
    })
    .unwrap();
    Pipeline::new(Arc::new(settings)).unwrap()
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-12-31T05:15:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// Lines built from news-like pieces, so the generator reaches the interesting
/// branches (dates, captions, boilerplate) and not only random noise.
fn newsy_line() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[A-Z][a-z]{1,10}( [A-Za-z]{1,10}){0,12}[.]?",
        "(Senin|Rabu|Jumat|Wednesday), [0-9]{1,2} (Desember|Mei|Dec|Okt) [0-9]{4} [|-] [0-9]{1,2}[:.][0-9]{2}( WIB| WITA)?",
        "[0-9]{1,2}/[0-9]{1,2}/[0-9]{2,4}, [0-9]{1,2}:[0-9]{2}",
        "(Jumat|Kamis) \\([0-9]{1,2}/[0-9]{1,2}\\)",
        "[A-Za-z ,]{5,60}/(Net|Ist|RMOL|Antara|[A-Z][a-z]{0,8})",
        "(Baca juga|Foto|Editor|Selengkapnya)[: ]{0,2}[A-Za-z ]{0,30}",
        "[\\p{Thai}\\p{Han} ]{0,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_content_never_panics(content in any::<String>()) {
        let mut p = pipeline();
        let line = serde_json::json!({"url": "https://a.id/x", "content": content}).to_string();
        let out = p.process(line.as_bytes(), SourceRef::Line { line: 1 }, now());
        prop_assert!(!out.records.is_empty());
    }

    #[test]
    fn newsy_pages_never_panic_and_account_once(lines in prop::collection::vec(newsy_line(), 0..40), sep in prop_oneof![Just("\n"), Just("\r\n"), Just("\r")]) {
        let mut p = pipeline();
        let content = lines.join(sep);
        let line = serde_json::json!({"url": "https://a.id/x", "fetched_at": "2025-12-31T05:15:00Z", "content": content}).to_string();
        let out = p.process(line.as_bytes(), SourceRef::Line { line: 1 }, now());
        let articles = out.records.iter().filter(|r| r.destination == warta::pipeline::Destination::Articles).count();
        // A fresh pipeline has seen nothing: every article is new and every
        // headline published unless the page lists it twice.
        match out.outcome {
            Outcome::Article { verdict, headlines } => {
                prop_assert_eq!(verdict, warta::event::ArticleVerdict::New);
                prop_assert_eq!((articles, out.records.len()), (1, 1 + headlines.published));
            }
            Outcome::HeadlinesOnly { headlines } => {
                prop_assert_eq!((articles, out.records.len()), (0, headlines.published));
            }
            Outcome::Rejected(_) => prop_assert_eq!(out.records.len(), 1),
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let mut p = pipeline();
        let out = p.process(&bytes, SourceRef::Line { line: 1 }, now());
        prop_assert_eq!(out.records.len(), 1);
    }

    #[test]
    fn date_grammar_never_panics(s in any::<String>(), t in newsy_line()) {
        let mut d = DateParser::new(Lexicon::builtin());
        for order in [DateOrder::Dmy, DateOrder::Mdy] {
            let ctx = DateContext { reference: now(), timezone: chrono_tz::Asia::Jakarta, order };
            let _ = d.parse_line(&s, &ctx);
            let _ = d.find_first(&s, &ctx);
            let _ = d.parse_line(&t, &ctx);
            if let Some(f) = d.find_first(&t, &ctx) {
                prop_assert!(t.get(f.span.clone()).is_some());
            }
        }
    }
}

//! The date grammar on real Indonesian date lines: every visible publication date
//! of the 26 article pages in ../shared/corpora/id-news-scraper-fixtures (expected
//! values from the scraper author's `expected.json`), and the headline timestamps
//! of three of its index pages. The strings were extracted from the HTML into
//! `tests/fixtures/dates/*.tsv`; the HTML itself stays outside the repository.

mod common;

use chrono::{DateTime, Timelike, Utc};
use warta::event::rfc3339;
use warta::parse::date::{DateContext, DateParser};
use warta::parse::lang::{DateOrder, Lexicon};

fn rows(name: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(common::root().join("tests/fixtures/dates").join(name))
        .expect("fixture");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

fn ctx() -> DateContext {
    DateContext {
        // The pages are from 2015–2017; the fetch time only matters for years
        // that the text omits, and none of these omit it.
        reference: DateTime::parse_from_rfc3339("2017-12-31T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc),
        timezone: chrono_tz::Asia::Jakarta,
        order: DateOrder::Dmy,
    }
}

/// detik-singlepage2 shows 15:32 (its creation time, also in its URL id) while the
/// scraper pinned the `datePublished` meta, 16:00:20, which the page never shows.
/// The visible text is what the grammar reads, so the check uses it.
const VISIBLE_OVERRIDES: [(&str, &str); 1] = [(
    "fixtures/websites/detik/detik-singlepage2.html",
    "2016-02-23T15:32:00+07:00",
)];

#[test]
fn article_date_lines_match_expected_json() {
    let mut parser = DateParser::new(Lexicon::builtin());
    let rows = rows("id_news_scraper_articles.tsv");
    assert_eq!(rows.len(), 26);
    let mut failures = Vec::new();
    for r in &rows {
        let (fixture, text, expected) = (&r[0], &r[1], &r[2]);
        let expected = match VISIBLE_OVERRIDES.iter().find(|(f, _)| f == fixture) {
            Some((_, v)) => v.to_string(),
            None => {
                // Pages print minutes; expected.json has seconds from machine
                // attributes. Compare to the minute.
                let t = DateTime::parse_from_rfc3339(expected).unwrap();
                rfc3339(&t.with_second(0).unwrap())
            }
        };
        match parser.parse_line(text, &ctx()) {
            Some(found) if rfc3339(&found.datetime) == expected && found.flags.is_empty() => {}
            other => failures.push(format!(
                "{fixture}: {text:?} → {:?}, expected {expected}",
                other.map(|f| (rfc3339(&f.datetime), f.flags))
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn index_page_headline_stamps_match() {
    let mut parser = DateParser::new(Lexicon::builtin());
    let rows = rows("id_news_mainpage_headlines.tsv");
    assert!(rows.len() >= 50);
    let kompas = rows.iter().filter(|r| r[0].contains("kompas")).count();
    assert_eq!(
        kompas, 10,
        "kompas-mainpage has 10 `Selasa, 23 Februari 2016 | 14:54` stamps"
    );
    let mut failures = Vec::new();
    for r in &rows {
        let (fixture, text, expected) = (&r[0], &r[3], &r[4]);
        match parser.parse_line(text, &ctx()) {
            Some(found) if rfc3339(&found.datetime) == *expected => {}
            other => failures.push(format!(
                "{fixture} #{}: {text:?} → {:?}, expected {expected}",
                r[1],
                other.map(|f| rfc3339(&f.datetime))
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

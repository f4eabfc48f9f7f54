//! Indonesian HTML pages from ../shared/corpora/id-news-scraper-fixtures through
//! the HTML parser: the 26 article pages' titles and WIB publication dates
//! against the scraper author's `expected.json`, the kompas index page's
//! `Selasa, 23 Februari 2016 | 14:54`-style headline list (as extracted into
//! tests/fixtures/dates/id_news_mainpage_headlines.tsv), and the RSS main
//! pages' items. The HTML stays outside the repository.

mod common;

use chrono::DateTime;
use serde_json::Value;
use warta::event::html_page;
use warta::parse::{ParsedPage, Parser, SiteHints};

fn corpus() -> std::path::PathBuf {
    common::shared().join("corpora/id-news-scraper-fixtures")
}

fn expected() -> Vec<Value> {
    let text = std::fs::read_to_string(corpus().join("expected.json")).expect("expected.json");
    serde_json::from_str::<Vec<Value>>(&text).expect("expected.json is a list")
}

fn parse_fixture(fixture: &str, url: &str) -> ParsedPage {
    let html = std::fs::read(corpus().join(fixture)).expect("fixture");
    let page = html_page(url, &html, "2017-05-15T00:00:00Z").expect("valid page");
    // tempo.co's English edition prints WIB times without a zone; an operator
    // configures that site's zone, as production would.
    let hints = SiteHints {
        timezone: fixture
            .contains("tempo-english")
            .then_some(chrono_tz::Asia::Jakarta),
        language: None,
    };
    Parser::new().parse(&page, &hints)
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Known misses, each with its reason; every other page must match.
const KNOWN: [(&str, &str); 0] = [];

/// Titles compare after whitespace collapsing; dates as instants to the
/// minute (pages print minutes; expected.json has seconds only where the page
/// has a machine timestamp).
#[test]
fn article_titles_and_wib_dates_match_expected_json() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for r in expected() {
        if r["function"] != "getDataFromSinglePage" {
            continue;
        }
        let fixture = r["fixture"].as_str().unwrap();
        let exp = &r["expected"];
        let url = exp["url"].as_str().unwrap_or("https://example.id/");
        let parsed = parse_fixture(fixture, url);
        checked += 1;
        let title = parsed.title.as_ref().map(|(t, _)| collapse(t));
        let want_title = collapse(exp["title"].as_str().unwrap());
        let known = |what: &str| {
            KNOWN
                .iter()
                .any(|(f, w)| fixture.ends_with(f) && *w == what)
        };
        if title.as_deref() != Some(want_title.as_str()) && !known("title") {
            failures.push(format!("{fixture}: title {title:?} != {want_title:?}"));
        }
        let want = DateTime::parse_from_rfc3339(exp["date_iso_wib"].as_str().unwrap()).unwrap();
        let got = parsed
            .published
            .as_ref()
            .and_then(|p| DateTime::parse_from_rfc3339(&p.value).ok());
        let ok = got.is_some_and(|g| {
            g.timestamp().div_euclid(60) == want.timestamp().div_euclid(60)
                && g.offset().local_minus_utc() == 7 * 3600
        });
        if !ok && !known("date") {
            failures.push(format!(
                "{fixture}: date {:?} != {want}",
                parsed
                    .published
                    .as_ref()
                    .map(|p| (&p.value, p.source, &p.raw))
            ));
        }
    }
    assert_eq!(checked, 26);
    assert!(
        failures.is_empty(),
        "{} of 26 failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn kompas_index_page_yields_its_dated_headlines_and_no_article() {
    let rows = std::fs::read_to_string(
        common::root().join("tests/fixtures/dates/id_news_mainpage_headlines.tsv"),
    )
    .unwrap();
    let want: Vec<(String, String)> = rows
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|c| c.len() >= 5 && c[0].contains("kompas-mainpage"))
        .map(|c| (c[2].to_string(), c[4].to_string()))
        .collect();
    assert_eq!(want.len(), 10);
    let parsed = parse_fixture(
        "fixtures/websites/kompas/kompas-mainpage.html",
        "http://indeks.kompas.com/",
    );
    assert!(
        parsed.paragraphs.is_empty(),
        "an index page has no article: {:?}",
        parsed.paragraphs
    );
    for (title, time) in &want {
        let h = parsed
            .headlines
            .iter()
            .find(|h| collapse(&h.title) == collapse(title))
            .unwrap_or_else(|| panic!("headline {title:?} missing"));
        let got = h.published_at.map(|t| warta::event::rfc3339(&t));
        assert_eq!(got.as_deref(), Some(time.as_str()), "{title}");
        assert!(
            h.url.as_deref().is_some_and(|u| u.starts_with("http://")),
            "{h:?}"
        );
    }
}

#[test]
fn rss_main_pages_yield_their_items() {
    for (fixture, min) in [
        ("fixtures/websites/antara/antara-mainpage.html", 10),
        ("fixtures/websites/detik/detik-mainpage.html", 10),
        ("fixtures/websites/kapanlagi/kapanlagi-mainpage.html", 3),
        ("fixtures/websites/republika/republika-mainpage.html", 10),
    ] {
        let raw = std::fs::read_to_string(corpus().join(fixture)).unwrap();
        let items_in_feed = raw.matches("<item>").count() + raw.matches("<item ").count();
        let parsed = parse_fixture(fixture, "http://feed.example.id/");
        assert!(items_in_feed >= min, "{fixture}: {items_in_feed} items");
        assert_eq!(parsed.headlines.len(), items_in_feed, "{fixture}");
        assert!(parsed.paragraphs.is_empty());
        for h in &parsed.headlines {
            assert!(!h.title.is_empty());
            assert!(h.published_at.is_some(), "{fixture}: {h:?}");
            assert!(h.url.is_some(), "{fixture}: {h:?}");
        }
    }
    // The first items are the scraper's expected first URLs.
    for r in expected() {
        if r["function"] != "getURLsFromMainPage" {
            continue;
        }
        let fixture = r["fixture"].as_str().unwrap();
        let raw = std::fs::read_to_string(corpus().join(fixture)).unwrap();
        if !raw.contains("<rss") {
            continue;
        }
        let parsed = parse_fixture(fixture, "http://feed.example.id/");
        let firsts: Vec<&str> = r["expected_first_urls"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let got: Vec<&str> = parsed
            .headlines
            .iter()
            .take(firsts.len())
            .filter_map(|h| h.url.as_deref())
            .collect();
        assert_eq!(got, firsts, "{fixture}");
    }
}

//! HTML pages (and RSS/Atom feeds) → [`ParsedPage`], the same shape the
//! plain-text parser returns, so dedup and the outputs apply unchanged.
//!
//! - [`dom`]: html5ever's tokenizer into a flat, depth-capped node arena.
//! - [`meta`]: what the page states about itself (JSON-LD, OpenGraph, `<meta>`,
//!   `<time>`), each value with its source.
//! - [`content`]: the article body, paragraph by paragraph, and the caption.
//! - [`title`]: the title, stated against shown.
//! - [`headlines`]: lists of dated links, and feed items.
//!
//! This file only sequences them; the publication date is decided by
//! [`crate::parse::date`], from what these modules found. Metadata comes
//! first: a date or title the page states in JSON-LD or meta tags outranks
//! anything read from the visible text, which is the fallback.

pub mod content;
pub mod dom;
pub mod headlines;
pub mod meta;
pub mod title;

use super::date::{self, resolve::Statement, DateParser};
use super::lang::Lexicon;
use super::textpage::split_caption;
use super::{ParsedPage, SiteHints, TitleSource};
use crate::event::{FieldSource, Page, Removed, Sources};
use dom::{Dom, Tag};

/// Below this many characters of body, a page with a headline list is an index
/// page: its "body" is teaser text, not an article.
const MIN_ARTICLE_CHARS: usize = 250;

/// Whether each block starts inside one of the headline ranges. The ranges
/// are merged and searched, not scanned per block: a page of 100,000 list
/// items has as many ranges as blocks.
fn in_ranges(blocks: &[content::Block], ranges: &[(usize, usize)]) -> Vec<bool> {
    let mut merged: Vec<(usize, usize)> = ranges.to_vec();
    merged.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(merged.len());
    for (s, e) in merged {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    blocks
        .iter()
        .map(|b| {
            let at = b.first as usize;
            // The last range starting at or before `at`.
            let k = out.partition_point(|&(s, _)| s <= at);
            k > 0 && at < out[k - 1].1
        })
        .collect()
}

/// Parses an HTML page or feed.
pub fn parse(
    lex: &Lexicon,
    dates: &mut DateParser<'_>,
    page: &Page,
    hints: &SiteHints,
) -> ParsedPage {
    let dom = Dom::parse(&page.content);
    let meta = meta::read(&dom);
    let analysis = content::analyse(&dom);

    let language = page
        .language
        .clone()
        .or_else(|| hints.language.clone())
        .or_else(|| text_language(lex, &analysis, &meta));
    let lang_data = language.as_deref().and_then(|c| lex.language(c));
    let (ctx, zone_stated) = date::page_context(
        page.fetched_at,
        hints.timezone.or(page.timezone),
        lang_data,
        meta.region.as_deref(),
        Some(&page.url),
    );
    let base = url::Url::parse(&page.url).ok();

    let mut removed = Removed::default();
    if dom.feed {
        let items = headlines::feed(&dom, dates, &ctx, base.as_ref());
        removed.headline_items = items.len() as u32;
        return ParsedPage {
            title: title::feed_title(&dom).map(|t| (t, TitleSource::Markup)),
            caption: None,
            paragraphs: Vec::new(),
            normalized: Vec::new(),
            published: None,
            date_rejected: None,
            language,
            headlines: items,
            removed,
            modified: None,
            authors: Vec::new(),
            sources: None,
        };
    }

    let found = headlines::html(&dom, &analysis.in_link, dates, &ctx, base.as_ref());
    removed.headline_items = found.items.len() as u32;
    let skip = in_ranges(&analysis.blocks, &found.ranges);
    let extracted = content::extract(&dom, &analysis, &skip);

    let (title, title_source, title_block) =
        title::choose(&dom, &analysis, &meta.titles, &page.site);

    let title_norm = title.as_deref().map(crate::text::normalize);
    let (mut paragraphs, mut normalized) = content::paragraphs(
        lex,
        dates,
        &ctx,
        &dom,
        &analysis,
        &extracted,
        title_norm.as_deref(),
        &mut removed,
    );
    let body_chars: usize = paragraphs.iter().map(|p| p.len()).sum();
    if !found.items.is_empty() && body_chars < MIN_ARTICLE_CHARS {
        paragraphs.clear();
        normalized.clear();
    }

    // Dates: stated first, then visible, then the URL.
    let (published_stated, generic, modified_stated) = (
        statements(&meta.published),
        statements(&meta.generic),
        statements(&meta.modified),
    );
    let blocks: Vec<date::visible::Block<'_>> = analysis
        .blocks
        .iter()
        .map(|b| date::visible::Block {
            text: &b.text,
            h1: b.tag == Tag::H1,
            quoted: b.tag == Tag::Blockquote,
        })
        .collect();
    let evidence = date::resolve::HtmlDates {
        url: &page.url,
        html: &page.content,
        published: &published_stated,
        generic: &generic,
        modified: &modified_stated,
        live: meta.live,
        zone_stated,
        blocks: &blocks,
        skip: &skip,
        title_block,
    };
    let (published, modified) = date::html_published(&evidence, dates, &ctx);

    let caption = content::caption(&dom, extracted.container).map(|c| {
        split_caption(lex, &c).unwrap_or(crate::event::Caption {
            text: c,
            credit: None,
        })
    });
    if caption.is_some() {
        removed.captions += 1;
    }
    let sources = Sources {
        title: title_source,
        published_at: published.as_ref().map(|p| FieldSource::from(p.source)),
        modified_at: modified.as_ref().map(|p| FieldSource::from(p.source)),
        authors: meta.authors_source.map(FieldSource::from),
        body: (!paragraphs.is_empty()).then_some(FieldSource::Text),
    };
    ParsedPage {
        title: title.map(|t| (t, TitleSource::Markup)),
        caption,
        paragraphs,
        normalized,
        published,
        date_rejected: None,
        language,
        headlines: found.items,
        removed,
        modified,
        authors: meta.authors,
        sources: Some(sources),
    }
}

/// The language of a page neither the event nor the site names: the text's
/// own words outrank `<html lang>`, which templates often get wrong
/// (Indonesian sites labelled "en"); the label serves for languages warta has
/// no word lists for.
fn text_language(lex: &Lexicon, analysis: &content::Analysis, meta: &meta::Meta) -> Option<String> {
    // The text's own words outrank `<html lang>`, which templates often
    // get wrong (Indonesian sites labelled "en"); the label serves for
    // languages warta has no word lists for.
    let mut sample = String::new();
    for b in analysis.blocks.iter().filter(|b| !b.junk && b.chars > 40) {
        sample.push_str(&b.text);
        sample.push('\n');
        if sample.len() > 4096 {
            break;
        }
    }
    // whatlang first decides whether the text is in a language warta
    // has word lists for; if not, the stopword count (which only knows
    // those languages) would misname it.
    // (whatlang is slower, so it only arbitrates.)
    if let Some(l) = meta.language.clone().filter(|l| l != "en") {
        return Some(l);
    }
    let counted = lex.detect(&sample).map(|l| l.code.clone());
    if counted.is_some() && counted == meta.language {
        return counted;
    }
    let detected = super::detect_language_whatlang(&sample);
    // whatlang often calls Indonesian Malay (or Javanese); the
    // stopword count knows Indonesian.
    let related = |c: &str| counted.as_deref() == Some("id") && matches!(c, "ms" | "jv" | "su");
    detected
        .clone()
        .filter(|c| lex.language(c).is_none() && !related(c))
        .or(counted)
        .or_else(|| meta.language.clone())
        .or(detected)
}

/// Stated values as the date rules take them.
fn statements(found: &[meta::Found]) -> Vec<Statement<'_>> {
    found
        .iter()
        .map(|f| Statement {
            value: &f.value,
            source: f.source,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The published day of a German page with `head` and `body` (a body
    /// paragraph follows), at `https://a.de/x`.
    fn day_of_page(head: &str, body: &str) -> Option<String> {
        let html = format!(
            "<html lang=de><head>{head}</head><body>{body}<p>Der Bericht beschreibt ausführlich, was geschah und warum es für die Leute vor Ort wichtig ist, mit vielen Einzelheiten.</p></body></html>"
        );
        let page =
            crate::validate::html_page("https://a.de/x", html.as_bytes(), "2026-01-01T00:00:00Z")?;
        let parsed = crate::parse::Parser::new().parse(&page, &SiteHints::default());
        parsed.published.map(|p| p.value.chars().take(10).collect())
    }

    /// The paragraphs of an English page with `body` at `https://a.com/x`.
    fn paragraphs_of(body: &str) -> Vec<String> {
        let html = format!("<html lang=en><body>{body}</body></html>");
        let page =
            crate::validate::html_page("https://a.com/x", html.as_bytes(), "2026-01-01T00:00:00Z")
                .unwrap();
        crate::parse::Parser::new()
            .parse(&page, &SiteHints::default())
            .paragraphs
    }

    #[test]
    fn a_line_the_article_repeats_side_by_side_stays() {
        let q =
            "What is your favourite dish to cook at home for friends and family on the weekend?";
        let answer = |n: u32| {
            format!("<p>Answer number {n}: I like to cook something slow, with vegetables from the market, and share it with everybody around the table.</p>")
        };
        let body = format!(
            "<div class='entry-content'><p>{q}</p>{}<p>{q}</p>{}</div>",
            answer(1),
            answer(2)
        );
        let got = paragraphs_of(&body);
        assert_eq!(got.iter().filter(|p| p.as_str() == q).count(), 2, "{got:?}");
        // The same line printed again outside the article's run of paragraphs
        // (a caption under a photo) is a repeat.
        let body = format!(
            "<div class='entry-content'><p>{q}</p>{}<div class='photo'><p>{q}</p></div>{}</div>",
            answer(1),
            answer(2)
        );
        let got = paragraphs_of(&body);
        assert_eq!(got.iter().filter(|p| p.as_str() == q).count(), 1, "{got:?}");
    }

    #[test]
    fn a_deck_gives_way_to_its_copy_in_the_body() {
        let para = |n: u32| {
            format!("<p>Paragraph {n} of the report tells, with many details, how the officers found the girl in the hotel room that night.</p>")
        };
        let deck =
            "The suspect confessed and the jury took just fifteen minutes to find him guilty";
        let body = "Webb confessed to the crime and the jury took just fifteen minutes to find him guilty.";
        let html = format!(
            "<article><h1>Video shows the rescue</h1><h2 class='subtitle'>{deck}</h2>{}{}<p>{body}</p>{}</article>",
            para(1),
            para(2),
            para(3)
        );
        let got = paragraphs_of(&html);
        assert!(got.iter().any(|p| p == body), "{got:?}");
        assert!(!got.iter().any(|p| p == deck), "{got:?}");
    }

    #[test]
    fn a_sentence_linking_a_phrase_is_prose() {
        let para = "<p>A video showing the dramatic moment a kidnapped girl was rescued by police officers was released on Monday by prosecutors.</p>";
        let linked = "The suspect, Michael Webb, was convicted and <a href='/a'>sentenced to life in federal prison last Thursday</a>.";
        let teaser = "Read more: <a href='/b'>Police officers rescue a kidnapped girl from a hotel room in Fort Worth</a>";
        let body =
            format!("<div class='article-body'>{para}<p>{linked}</p><p>{teaser}</p>{para}</div>");
        let got = paragraphs_of(&body);
        assert!(got.iter().any(|p| p.starts_with("The suspect")), "{got:?}");
        assert!(!got.iter().any(|p| p.starts_with("Read more")), "{got:?}");
        // A digest's item: its linked lead sentence, then its own words.
        let item = "<li><strong><a href='/c'>Google has bought CloudSimple, a startup that was once a key part of Microsoft's cloud plans</a>.</strong> CloudSimple was launched to help Microsoft win over the customers of VMware.</li>";
        let other = "<li><strong><a href='/d'>Amazon offers free music</a>.</strong> The company published a blog post saying that customers without a subscription could now listen for free, on phones, on television sets and on the web, with adverts between the songs.</li>";
        let body = format!("<div class='article-body'>{para}<ul>{other}{item}</ul>{para}</div>");
        let got = paragraphs_of(&body);
        assert!(
            got.iter().any(|p| p.starts_with("Google has bought")),
            "{got:?}"
        );
    }

    #[test]
    fn labelled_visible_dates() {
        // A publication label further down the dateline window wins over a
        // stamped date nearer the title (a comment's).
        let body = "<h1>Sternfusion am Teilchenbeschleuniger</h1><p>Eine Folge über Sterne.</p><p>24. August 2019 um 03:36</p><p>Veröffentlicht am 16.08.2019</p>";
        assert_eq!(day_of_page("", body).as_deref(), Some("2019-08-16"));
        // A dateline opening a long first paragraph.
        let body = "<h1>Arbeitsmarkt im Januar</h1><p>27.1.2022 - Der Arbeitsmarkt hält sich auch am Jahresanfang auf Erholungskurs, sagt die Behörde.</p>";
        assert_eq!(day_of_page("", body).as_deref(), Some("2022-01-27"));
    }

    #[test]
    fn stated_dates_that_disagree_follow_the_visible_one() {
        let head = r#"<script type="application/ld+json">{"@type":"NewsArticle","datePublished":"2022-01-04T07:29:00Z"}</script>
            <meta property="article:published_time" content="2022-01-06T08:29:34+01:00">"#;
        let body = "<h1>Vanlife in Schweden: die besten Tipps</h1><div>06.01.2022</div>";
        assert_eq!(day_of_page(head, body).as_deref(), Some("2022-01-06"));
        // A live blog's visible dates are its updates.
        let live = head.replace("NewsArticle", "LiveBlogPosting");
        assert_eq!(day_of_page(&live, body).as_deref(), Some("2022-01-04"));
    }

    #[test]
    fn a_generic_meta_date_yields_to_the_visible_one() {
        let head = r#"<meta name="date" content="2020-04-30">"#;
        let body = "<h1>Mietenstreik in den USA</h1><p>29.04.2020, 12:01 Uhr</p>";
        assert_eq!(day_of_page(head, body).as_deref(), Some("2020-04-29"));
        // With nothing visible, it still serves.
        assert_eq!(
            day_of_page(head, "<h1>Mietenstreik in den USA</h1>").as_deref(),
            Some("2020-04-30")
        );
    }

    #[test]
    fn a_date_header_against_the_title_beats_later_stamps() {
        let body = "<div>Freitag, 5. Juni 2015</div><h1>Through the Booking Glass</h1><p>Ein Buch im Juni.</p><p>6. Juni 2015 um 10:23</p>";
        assert_eq!(day_of_page("", body).as_deref(), Some("2015-06-05"));
    }

    #[test]
    fn a_quoted_post_does_not_date_the_page() {
        // An embedded tweet's byline is the tweet's date; the page's own
        // generic date stands.
        let head = r#"<meta name="date" content="2020-02-03T09:03:10+00:00">"#;
        let body = "<h1>Ein Produkt für alle Rechner</h1><blockquote class=\"twitter-tweet\"><p>I love it!</p>— Javier (@x) <a href=\"https://t.co/x\">16 мая 2018 г.</a></blockquote>";
        assert_eq!(day_of_page(head, body).as_deref(), Some("2020-02-03"));
    }

    #[test]
    fn a_yearless_date_under_the_title_yields_to_a_full_one() {
        // The sub-head mentions last Tuesday; the date line prints the year.
        let body = "<p>/ jueves 2 de abril de 2020</p><h1>Decomisa Aduana mas de 730 mil dólares</h1><h3>Esta acción se suma a la del pasado martes 30 de marzo</h3>";
        assert_eq!(day_of_page("", body).as_deref(), Some("2020-04-02"));
    }

    #[test]
    fn a_date_before_the_web_is_not_the_publication() {
        let body = "<h1>Ein Titel für die Seite</h1><p>28.09.1912</p><p>5. Mai 2019</p>";
        assert_eq!(day_of_page("", body).as_deref(), Some("2019-05-05"));
    }

    #[test]
    fn microformat_dates() {
        let body = "<h1>Rezension: Liebe ist Krieg</h1><abbr class='published' title='2017-09-09T10:52:00+02:00'>Samstag</abbr>";
        assert_eq!(day_of_page("", body).as_deref(), Some("2017-09-09"));
    }
}

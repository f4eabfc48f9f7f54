//! HTML pages (and RSS/Atom feeds) → [`ParsedPage`], the same shape the
//! plain-text parser returns, so dedup and the outputs apply unchanged.
//!
//! - [`dom`]: html5ever's tokenizer into a flat, depth-capped node arena.
//! - [`meta`]: what the page states about itself (JSON-LD, OpenGraph, `<meta>`,
//!   `<time>`), each value with its source.
//! - [`content`]: the article body, paragraph by paragraph, and the caption.
//! - [`headlines`]: lists of dated links, and feed items.
//! - [`charset`]: bytes → text (BOM, declared charset, `<meta charset>`).
//!
//! Metadata comes first: a date or title the page states in JSON-LD or meta
//! tags outranks anything read from the visible text, which is the fallback.

pub mod charset;
pub mod content;
pub mod dom;
pub mod headlines;
pub mod meta;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};

use super::date::{DateContext, DateParser, FoundDate};
use super::lang::{DateOrder, Lexicon};
use super::textpage::{drop_repeats_grouped, split_caption, RepeatKey};
use super::{ParsedPage, SiteHints, TitleSource};
use crate::event::{
    DateFlag, DateSource, FieldSource, Page, Precision, Published, Removed, Sources,
};
use dom::{Dom, Tag};

/// Below this many characters of body, a page with a headline list is an index
/// page: its "body" is teaser text, not an article.
const MIN_ARTICLE_CHARS: usize = 250;
/// Paragraphs shorter than this (in words) may repeat on an HTML page.
const REPEAT_MIN_WORDS: usize = 10;

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
        .or_else(|| {
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
            let related =
                |c: &str| counted.as_deref() == Some("id") && matches!(c, "ms" | "jv" | "su");
            detected
                .clone()
                .filter(|c| lex.language(c).is_none() && !related(c))
                .or(counted)
                .or_else(|| meta.language.clone())
                .or(detected)
        });
    let lang_data = language.as_deref().and_then(|c| lex.language(c));
    let ctx = DateContext {
        reference: page.fetched_at,
        // The page's region (`en-US`, `og:locale` en_GB), then its country
        // domain, name the zone before the language's default does.
        timezone: hints
            .timezone
            .or(page.timezone)
            .or(meta.region.as_deref().and_then(region_zone))
            .or_else(|| country_zone(&page.url))
            .or(lang_data.map(|l| l.default_timezone))
            .unwrap_or(chrono_tz::UTC),
        // English outside the US writes day first (en-GB, en-AU, en-IN, …).
        order: match (
            lang_data.map(|l| l.numeric_date_order),
            meta.region.as_deref(),
        ) {
            (Some(DateOrder::Mdy), Some(r)) if r != "us" => DateOrder::Dmy,
            (Some(o), _) => o,
            (None, _) => DateOrder::Dmy,
        },
    };
    // The zone was configured or is the language's own (not guessed from a
    // region or a domain).
    let zone_stated = hints.timezone.is_some()
        || page.timezone.is_some()
        || lang_data.is_some_and(|l| l.default_timezone == ctx.timezone);
    let base = url::Url::parse(&page.url).ok();

    let mut removed = Removed::default();
    if dom.feed {
        let items = headlines::feed(&dom, dates, &ctx, base.as_ref());
        removed.headline_items = items.len() as u32;
        return ParsedPage {
            title: dom_feed_title(&dom).map(|t| (t, TitleSource::Markup)),
            caption: None,
            paragraphs: Vec::new(),
            normalized: Vec::new(),
            published: None,
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
    let skip: Vec<bool> = analysis
        .blocks
        .iter()
        .map(|b| {
            let at = b.first as usize;
            found.ranges.iter().any(|&(s, e)| s <= at && at < e)
        })
        .collect();
    let extracted = content::extract(&dom, &analysis, &skip);

    // Title: the page's statement first, then the visible heading.
    let h1_block = analysis
        .blocks
        .iter()
        .find(|b| b.tag == Tag::H1 && b.chars >= 5);
    let h1 = h1_block.map(|b| b.text.clone());
    let kicker = h1_block.and_then(|b| heading_kicker(&dom, b.elem as usize));
    let shown = Shown {
        h1: h1.as_deref(),
        document: dom.title.as_deref(),
        kicker: kicker.as_ref().map(|(k, r)| (k.as_str(), r.as_str())),
    };
    let (title, title_source) = match stated_title(&meta.titles, shown) {
        Some(Stated::Heading) => (h1.clone(), Some(FieldSource::Text)),
        Some(Stated::Found(f)) => (Some(f.value.clone()), Some(FieldSource::from(f.source))),
        Some(Stated::Core(core, f)) => (Some(core), Some(FieldSource::from(f.source))),
        None => match &h1 {
            Some(h) => (Some(h.clone()), Some(FieldSource::Text)),
            None => match &dom.title {
                Some(t) if !t.is_empty() => (Some(t.clone()), Some(FieldSource::TitleElement)),
                _ => (None, None),
            },
        },
    };
    let title = title.map(|t| {
        let t = decode_entities(&t);
        let mut s = String::new();
        dom::push_collapsed(&mut s, &t);
        strip_site_name(s.trim_end(), &page.site)
    });
    // No heading shows the stated title, but a plain block shows it under a
    // rubric ("In Picture: …"): that block is the headline readers saw.
    let title = match title {
        Some(t) if title_source != Some(FieldSource::Text) => {
            let tn = crate::text::normalize(&t);
            let rubric = analysis.blocks.iter().find_map(|b| {
                if b.link_chars > 0 || b.chars as usize > t.len() + 40 || tn.len() < 10 {
                    return None;
                }
                let (head, tail) = b.text.trim().split_once(": ")?;
                // A short label set tight against its colon ("Share this
                // Story : …" is a widget, a three-word kicker is a sub-head).
                let words = head.split_whitespace().count();
                let tight = !head.ends_with(char::is_whitespace);
                ((1..=2).contains(&words) && tight && crate::text::normalize(tail) == tn)
                    .then(|| b.text.trim().to_string())
            });
            Some(rubric.unwrap_or(t))
        }
        t => t,
    };
    // The heading that shows the title anchors the search for a visible date.
    let title_block = title.as_deref().and_then(|t| {
        let tn = crate::text::normalize(t);
        analysis
            .blocks
            .iter()
            .position(|b| {
                b.tag.is_heading() && b.chars >= 10 && {
                    let bn = crate::text::normalize(&b.text);
                    tn.contains(&bn) || bn.contains(&tn)
                }
            })
            // A title set in a styled <div>, outside any link.
            .or_else(|| {
                analysis.blocks.iter().position(|b| {
                    b.chars >= 10 && b.link_chars == 0 && crate::text::normalize(&b.text) == tn
                })
            })
    });

    // Paragraphs.
    let title_norm = title.as_deref().map(crate::text::normalize);
    let mut paragraphs = Vec::new();
    // A `<p>`'s parent (paragraphs side by side in one parent may repeat a
    // line on purpose); a heading is a deck that yields to its body copy.
    let mut keys = Vec::new();
    for &bi in &extracted.blocks {
        let b = &analysis.blocks[bi];
        let text = b.text.trim();
        if lex.is_boilerplate(text) {
            removed.boilerplate_lines += 1;
            continue;
        }
        if b.chars < 60 && dates.parse_line(text, &ctx).is_some() {
            continue;
        }
        if b.tag.is_heading() && title_norm.as_deref() == Some(&crate::text::normalize(text)) {
            continue;
        }
        paragraphs.push(text.to_string());
        keys.push(RepeatKey {
            group: (b.tag == Tag::P).then(|| dom.parent(b.elem as usize) as u32),
            yields: b.tag.is_heading(),
        });
    }
    let (mut paragraphs, mut normalized) =
        drop_repeats_grouped(paragraphs, &keys, &mut removed, REPEAT_MIN_WORDS);
    let body_chars: usize = paragraphs.iter().map(|p| p.len()).sum();
    if !found.items.is_empty() && body_chars < MIN_ARTICLE_CHARS {
        paragraphs.clear();
        normalized.clear();
    }

    // Dates: stated first, then visible, then the URL.
    // No statement in markup: one in the page's scripts (a framework's
    // state object), which the page also wrote at publication.
    let embedded = meta
        .published
        .is_empty()
        .then(|| embedded_date(&page.content))
        .flatten()
        .map(|value| meta::Found {
            value,
            source: DateSource::Meta,
        });
    let stated: Vec<(FoundDate, &meta::Found)> = meta
        .published
        .iter()
        .chain(embedded.iter())
        .chain(meta.generic.iter())
        .filter_map(|f| Some((parse_machine_date(&f.value, dates, &ctx)?, f)))
        .collect();
    let generic = |f: &meta::Found| meta.generic.iter().any(|g| std::ptr::eq(g, f));
    // A statement whose day agrees with the date in the URL wins over the
    // first one (the URL is written once, at publication).
    let url_day = url_date(&page.url, &ctx).map(|p| p.value.chars().take(10).collect::<String>());
    let agrees = |d: &FoundDate| {
        url_day.as_deref() == Some(crate::event::rfc3339(&d.datetime).get(..10).unwrap_or(""))
    };
    // Statements that disagree on the day: the one the page shows in its
    // visible date line (not on a live blog, whose visible dates are its
    // updates).
    let day_of = |d: &FoundDate| {
        crate::event::rfc3339(&d.datetime)
            .get(..10)
            .map(str::to_string)
    };
    let disagree = stated
        .iter()
        .any(|(d, _)| day_of(d) != stated.first().and_then(|(f, _)| day_of(f)));
    let first = stated
        .iter()
        .find(|(d, _)| agrees(d))
        .or_else(|| {
            if !disagree || meta.live {
                return None;
            }
            let shown = text_date(&analysis, &skip, title_block, dates, &ctx)?;
            let shown_day = shown.value.get(..10)?;
            // A <time> is itself a visible date (often another article's):
            // checking it against the visible text would be circular.
            // A bare day (a print edition's date) does not replace a stamp.
            let stamped = stated
                .first()
                .is_some_and(|(d, _)| d.precision != Precision::Day);
            stated.iter().find(|(d, f)| {
                f.source != DateSource::TimeElement
                    && !(stamped && d.precision == Precision::Day)
                    && day_of(d).as_deref() == Some(shown_day)
            })
        })
        .or_else(|| stated.first());
    // A stated date days after the URL's date is a modification date that a
    // CMS put in the published field; the URL was written at publication.
    let url_earlier = |d: &FoundDate| {
        url_date(&page.url, &ctx).filter(|u| {
            DateTime::parse_from_rfc3339(&u.value).is_ok_and(|u| (d.datetime - u).num_hours() > 48)
        })
    };
    let published = first
        .map(|(d, f)| {
            if let Some(u) = url_earlier(d) {
                return u;
            }
            // Only a generic date stated, and the visible date line shows
            // another day: the page was generated or edited after it was
            // published, and readers see the publication date.
            if generic(f) && url_day.is_none() {
                let shown = text_date(&analysis, &skip, title_block, dates, &ctx);
                if let Some(t) = shown.filter(|t| t.value.get(..10) != day_of(d).as_deref()) {
                    return t;
                }
            }
            // A UTC stamp (often JSON-LD) and a local one for the same instant
            // (often a meta tag): report the local one, whose calendar day is
            // the one the page shows.
            let local = (d.datetime.offset().local_minus_utc() == 0)
                .then(|| {
                    stated.iter().find(|(o, _)| {
                        o.datetime.offset().local_minus_utc() != 0
                            && (o.datetime.timestamp() - d.datetime.timestamp()).abs() < 60
                    })
                })
                .flatten();
            match local {
                Some((o, of)) => published_from(o, &of.value, f.source),
                None => published_from(
                    &in_page_zone(d, &ctx, zone_stated, url_day.as_deref()),
                    &f.value,
                    f.source,
                ),
            }
        })
        .or_else(|| {
            // A visible date that contradicts the URL's date is another date
            // on the page (a comment, an update): the URL was written at
            // publication.
            let url_published = url_date(&page.url, &ctx);
            match text_date(&analysis, &skip, title_block, dates, &ctx) {
                Some(t) if url_published.is_none() || agrees_day(&t, url_day.as_deref()) => Some(t),
                Some(t) => url_published.or(Some(t)),
                None => url_published,
            }
        });
    let modified = meta.modified.iter().find_map(|f| {
        let d = parse_machine_date(&f.value, dates, &ctx)?;
        Some(published_from(&d, &f.value, f.source))
    });

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
        language,
        headlines: found.items,
        removed,
        modified,
        authors: meta.authors,
        sources: Some(sources),
    }
}

/// Keys of a publication date in JSON that scripts embed (`"published_at":
/// "2019-03-02T06:22:28+01:00"`), outside any JSON-LD block.
const EMBEDDED_KEYS: [&str; 8] = [
    "datePublished",
    "publishedDate",
    "publishDate",
    "published_at",
    "publishedAt",
    "date_published",
    "publish_date",
    "published",
];

/// The first embedded JSON publication date in the raw page: one pass over
/// the occurrences of "ublish", each checked for a quoted key from
/// [`EMBEDDED_KEYS`] followed by `: "value"`.
fn embedded_date(html: &str) -> Option<String> {
    let mut from = 0;
    let mut seen = 0;
    while let Some(pos) = html.get(from..).and_then(|h| h.find("ublish")) {
        let at = from + pos;
        from = at + 6;
        seen += 1;
        if seen > 200 {
            break;
        }
        // The key's opening quote, at most 10 bytes back.
        let back = html.get(at.saturating_sub(10)..at).unwrap_or("");
        let Some(q) = back.rfind('"') else { continue };
        let key_start = at - (back.len() - q) + 1;
        let Some(key_len) = html.get(key_start..).and_then(|h| h.find('"')) else {
            continue;
        };
        let key = &html[key_start..key_start + key_len];
        if !EMBEDDED_KEYS.contains(&key) {
            continue;
        }
        let rest = html.get(key_start + key_len + 1..)?;
        let rest = rest.trim_start().strip_prefix(':')?.trim_start();
        let Some(value) = rest.strip_prefix('"') else {
            continue;
        };
        let end = value.find('"').filter(|&e| (8..=40).contains(&e));
        if let Some(e) = end {
            let v = &value[..e];
            if v.starts_with(|c: char| c.is_ascii_digit()) {
                return Some(v.to_string());
            }
        }
    }
    None
}

/// Which stated title to report, or the visible heading instead.
#[derive(Debug, PartialEq)]
enum Stated<'a> {
    Found(&'a meta::Found),
    Heading,
    /// The headline shared by a statement and the heading, each behind its
    /// own kicker.
    Core(String, &'a meta::Found),
}

/// What the page shows readers: its first `<h1>` and its `<title>`.
#[derive(Debug, Clone, Copy, Default)]
struct Shown<'a> {
    h1: Option<&'a str>,
    document: Option<&'a str>,
    /// The `<h1>` split into a kicker in an element of its own and the rest
    /// (`<h1><span>Kicker</span>Headline</h1>`).
    kicker: Option<(&'a str, &'a str)>,
}

/// The kicker an `<h1>` sets in its own leading element, and the text after it.
fn heading_kicker(dom: &Dom, h1: usize) -> Option<(String, String)> {
    let lead = dom
        .children(h1)
        .find(|&c| dom.tag(c) != Tag::Text || !dom.text_of(c).trim().is_empty())?;
    if dom.tag(lead) == Tag::Text {
        return None;
    }
    let (mut kicker, mut whole) = (String::new(), String::new());
    dom.text_content(lead, &mut kicker);
    dom.text_content(h1, &mut whole);
    let kicker = kicker.trim();
    let rest = whole.trim().strip_prefix(kicker)?.trim();
    let words = kicker.split_whitespace().count();
    ((1..=8).contains(&words) && !rest.is_empty()).then(|| (kicker.to_string(), rest.to_string()))
}

/// Chooses among the stated titles (best first) with what the page shows:
///
/// - Two stated titles where one is the other plus words at either end
///   ("Kicker: Title", "Title | Section", "Title, and a subclause"): the shorter,
///   since the additions are labels or a longer SEO variant that the other
///   statement leaves out. When every statement carries a kicker, it stays.
/// - The first statement is the heading plus a trailing decoration ("Title -
///   Site", "Title | Section"): the heading.
/// - The first statement and the heading put different kickers before the
///   same headline ("Iran greift an: «…»", "Eskalation - «…»"): the headline,
///   since neither kicker is part of it.
/// - The JSON-LD headline is also the `<title>` (both written for search
///   engines), while OpenGraph's title is the one the heading shows readers:
///   the shown one.
///
/// Before all these: a statement that is the heading's kicker element and the
/// rest of the heading, joined by a separator ("Kicker / Headline" for
/// `<h1><span>Kicker</span>Headline</h1>`), is the title as readers see it,
/// kicker included, whichever statement comes first.
fn stated_title<'a>(stated: &'a [meta::Found], shown: Shown<'_>) -> Option<Stated<'a>> {
    let first = stated.first()?;
    let norm = |s: &str| crate::text::normalize(&decode_entities(s));
    if let Some((kicker, rest)) = shown.kicker {
        let (kicker, rest) = (norm(kicker), norm(rest));
        if !kicker.is_empty() && rest.split(' ').count() >= 3 {
            let shown_whole = format!("{kicker} {rest}");
            if let Some(f) = stated.iter().find(|f| norm(&f.value) == shown_whole) {
                return Some(Stated::Found(f));
            }
        }
    }
    let fn_ = norm(&first.value);
    let core = stated[1..].iter().find(|f| {
        let n = norm(&f.value);
        n.split(' ').count() >= 3
            && fn_.len() > n.len()
            && (fn_.ends_with(&format!(" {n}")) || fn_.starts_with(&format!("{n} ")))
    });
    if let Some(f) = core {
        return Some(Stated::Found(f));
    }
    let hn = shown.h1.map(norm).filter(|h| h.len() >= 10);
    if hn
        .as_ref()
        .is_some_and(|hn| fn_.starts_with(&format!("{hn} ")))
    {
        return Some(Stated::Heading);
    }
    if let Some(f) = same_words_as_shown(stated, shown.document) {
        return Some(Stated::Found(f));
    }
    let Some(hn) = hn else {
        return Some(Stated::Found(first));
    };
    if hn == fn_ {
        return Some(Stated::Found(first));
    }
    if let Some(core) = shared_headline(&first.value, shown.h1.unwrap_or_default()) {
        return Some(Stated::Core(core, first));
    }
    // normalize() folds case, so a Title-Cased <title> still matches.
    let document = shown.document.map(norm);
    let opens = |t: &str| document.as_deref().is_some_and(|d| d.starts_with(t));
    if first.source == DateSource::JsonLd && opens(&fn_) && !opens(&hn) {
        let og = stated
            .iter()
            .find(|f| f.source == DateSource::Opengraph && norm(&f.value) == hn);
        if let Some(og) = og {
            return Some(Stated::Found(og));
        }
    }
    Some(Stated::Found(first))
}

/// The OpenGraph title with the JSON-LD headline's words in another dress
/// ("A - B" and "A: B", quoted or not) when the `<title>` opens with it,
/// since that is the punctuation the publisher shows; `None` when the
/// JSON-LD headline is already it.
fn same_words_as_shown<'a>(
    stated: &'a [meta::Found],
    document: Option<&str>,
) -> Option<&'a meta::Found> {
    let (first, rest) = stated.split_first()?;
    if first.source != DateSource::JsonLd {
        return None;
    }
    let form = |s: &str| {
        let mut out = String::new();
        dom::push_collapsed(&mut out, &decode_entities(s));
        out.trim_end().to_string()
    };
    let document = form(document?);
    let first_form = form(&first.value);
    if first_form.is_empty() || document.starts_with(&first_form) {
        return None;
    }
    let words = crate::text::normalize(&first_form);
    rest.iter().find(|f| {
        let x = form(&f.value);
        f.source == DateSource::Opengraph
            && !x.is_empty()
            && document.starts_with(&x)
            && crate::text::normalize(&x) == words
    })
}

/// The headline two titles share behind different kickers: "A: Core" and
/// "B - Core" give "Core" (at least three words). The kickers are short and
/// have no word in common; otherwise the titles are two wordings of one
/// sentence ("I sell Walt Disney World holidays - …"), not two labels.
fn shared_headline(a: &str, b: &str) -> Option<String> {
    const SEPS: [&str; 4] = [": ", " - ", " – ", " | "];
    let tails = |t: &str| -> Vec<(String, String)> {
        let t = decode_entities(t);
        SEPS.iter()
            .filter_map(|sep| {
                let (head, tail) = t.split_once(sep)?;
                let (head, tail) = (crate::text::normalize(head), tail.trim());
                let kicker = (1..=5).contains(&head.split(' ').filter(|w| !w.is_empty()).count());
                (kicker && tail.split_whitespace().count() >= 3).then(|| (head, tail.to_string()))
            })
            .collect()
    };
    let disjoint = |x: &str, y: &str| !x.split(' ').any(|w| y.split(' ').any(|v| v == w));
    let theirs = tails(b);
    tails(a).into_iter().find_map(|(head, tail)| {
        let n = crate::text::normalize(&tail);
        theirs
            .iter()
            .any(|(h, t)| disjoint(h, &head) && crate::text::normalize(t) == n)
            .then_some(tail)
    })
}

/// Decodes character references left in a stated value (JSON-LD and meta
/// content are often HTML-escaped twice: `&quot;`, `&ouml;`, `&#039;`), with
/// the tokenizer's own spec table.
fn decode_entities(s: &str) -> String {
    if !s.contains('&') || s.len() > 2000 {
        return s.to_string();
    }
    let d = Dom::parse(&s.replace('<', "&lt;"));
    let mut out = String::new();
    for i in 0..d.len() {
        out.push_str(d.text_of(i));
    }
    out
}

/// Drops a site name appended or prepended to a title ("… | Republika Online",
/// "KapanLagi.com: …"): a segment naming the site's domain.
fn strip_site_name(title: &str, site: &str) -> String {
    // The registrable name: "bisniskeuangan.kompas.com" → "kompas",
    // "republika.co.id" → "republika".
    let labels: Vec<&str> = site.split('.').collect();
    let generic = [
        "com", "co", "or", "go", "ac", "net", "org", "web", "my", "sch", "id",
    ];
    let name = labels
        .iter()
        .rev()
        .skip(1)
        .find(|l| !generic.contains(l))
        .or(labels.first())
        .map(|l| l.to_lowercase())
        .unwrap_or_default();
    if name.len() < 3 {
        return title.to_string();
    }
    let names_site = |seg: &str| {
        let seg = seg.to_lowercase();
        let domain_like = !seg.contains(' ') && seg.contains('.') && seg.len() <= 40;
        domain_like
            || (seg.split_whitespace().count() <= 4 && seg.replace([' ', '-'], "").contains(&name))
    };
    for sep in [" | ", " - ", " – ", " — ", " :: "] {
        if let Some(at) = title.rfind(sep) {
            let (head, tail) = (&title[..at], &title[at + sep.len()..]);
            if names_site(tail) && head.len() >= 10 {
                return head.trim().to_string();
            }
        }
    }
    if let Some(at) = title.find(": ") {
        let (head, tail) = (&title[..at], &title[at + 2..]);
        if names_site(head) && tail.len() >= 10 {
            return tail.trim().to_string();
        }
    }
    title.to_string()
}

/// The main zone of a country (ISO 3166 code), for the countries whose
/// publishers mostly write in one zone or whose readers' day is the capital's.
fn region_zone(r: &str) -> Option<chrono_tz::Tz> {
    use chrono_tz::{America, Asia, Australia, Europe, Pacific};
    Some(match r {
        "us" => America::New_York,
        "ca" => America::Toronto,
        "mx" => America::Mexico_City,
        "br" => America::Sao_Paulo,
        "ar" => America::Argentina::Buenos_Aires,
        "co" => America::Bogota,
        "cl" => America::Santiago,
        "pe" => America::Lima,
        "gb" | "uk" => Europe::London,
        "ie" => Europe::Dublin,
        "pt" => Europe::Lisbon,
        "es" => Europe::Madrid,
        "fr" => Europe::Paris,
        "be" => Europe::Brussels,
        "nl" => Europe::Amsterdam,
        "lu" => Europe::Luxembourg,
        "de" => Europe::Berlin,
        "at" => Europe::Vienna,
        "ch" => Europe::Zurich,
        "it" => Europe::Rome,
        "dk" => Europe::Copenhagen,
        "no" => Europe::Oslo,
        "se" => Europe::Stockholm,
        "fi" => Europe::Helsinki,
        "pl" => Europe::Warsaw,
        "cz" => Europe::Prague,
        "gr" => Europe::Athens,
        "tr" => Europe::Istanbul,
        "ua" => Europe::Kyiv,
        "ru" => Europe::Moscow,
        "il" => Asia::Jerusalem,
        "in" => Asia::Kolkata,
        "id" => Asia::Jakarta,
        "my" => Asia::Kuala_Lumpur,
        "sg" => Asia::Singapore,
        "ph" => Asia::Manila,
        "cn" => Asia::Shanghai,
        "tw" => Asia::Taipei,
        "hk" => Asia::Hong_Kong,
        "jp" => Asia::Tokyo,
        "kr" => Asia::Seoul,
        "vn" => Asia::Ho_Chi_Minh,
        "th" => Asia::Bangkok,
        "au" => Australia::Sydney,
        "nz" => Pacific::Auckland,
        "za" => chrono_tz::Africa::Johannesburg,
        "ng" => chrono_tz::Africa::Lagos,
        "ke" => chrono_tz::Africa::Nairobi,
        "eg" => chrono_tz::Africa::Cairo,
        _ => return None,
    })
}

/// The zone of the page's country-code domain (`.it`, `.co.uk`, `.com.au`).
fn country_zone(url: &str) -> Option<chrono_tz::Tz> {
    let u = url::Url::parse(url).ok()?;
    let host = u.host_str()?;
    let tld = host.rsplit('.').next()?.to_ascii_lowercase();
    region_zone(&tld)
}

fn agrees_day(p: &Published, day: Option<&str>) -> bool {
    day.is_some_and(|d| p.value.get(..10) == Some(d))
}

/// A UTC stamp shown in the page's own zone (same instant): "09:10 WIB" is what
/// readers of an Indonesian page saw, and its calendar day is the page's.
///
/// A zone only inferred from the page's region or domain moves the calendar
/// day only when the URL's date confirms it: many publishers write their UTC
/// stamp's day as the publication day.
fn in_page_zone(
    d: &FoundDate,
    ctx: &DateContext,
    stated: bool,
    url_day: Option<&str>,
) -> FoundDate {
    let mut d = d.clone();
    if d.datetime.offset().local_minus_utc() == 0 && ctx.timezone != chrono_tz::UTC {
        let local = d.datetime.with_timezone(&ctx.timezone).fixed_offset();
        let day =
            |t: &DateTime<FixedOffset>| crate::event::rfc3339(t).get(..10).map(str::to_string);
        if stated || day(&local) == day(&d.datetime) || day(&local).as_deref() == url_day {
            d.datetime = local;
        }
    }
    d
}

fn dom_feed_title(dom: &Dom) -> Option<String> {
    (0..dom.len().min(200))
        .find(|&i| dom.tag(i) == Tag::Title)
        .map(|i| {
            let mut s = String::new();
            dom.text_content(i, &mut s);
            s.trim().to_string()
        })
        .filter(|s| !s.is_empty())
}

fn published_from(d: &FoundDate, raw: &str, source: DateSource) -> Published {
    Published {
        value: crate::event::rfc3339(&d.datetime),
        precision: d.precision,
        source,
        raw: raw.chars().take(200).collect(),
        flags: d.flags.clone(),
    }
}

/// A visible date line: the first short block near the `<h1>` (or from the
/// top, when there is none) that the date grammar reads as a date; failing
/// that, the first block anywhere that is nothing but a date, or that opens
/// with one (a dateline starting the first paragraph).
///
/// A date labelled as a publication ("Veröffentlicht am", "Diterbitkan")
/// wins at once; one labelled as a change ("Letzte Änderung", "Diperbarui")
/// is passed over.
fn text_date(
    a: &content::Analysis,
    skip: &[bool],
    title_block: Option<usize>,
    dates: &mut DateParser<'_>,
    ctx: &DateContext,
) -> Option<Published> {
    let anchor = title_block
        .or_else(|| a.blocks.iter().position(|b| b.tag == Tag::H1))
        .unwrap_or(0);
    // After the title first (the dateline), then just before it (a kicker);
    // a date with a time of day beats a bare day (often today's date in the
    // masthead) within the window.
    // Before the title, the nearest block first (a masthead's "now" sits
    // further up).
    let window =
        (anchor..a.blocks.len().min(anchor + 60)).chain((anchor.saturating_sub(15)..anchor).rev());
    let mut first: Option<Published> = None;
    let mut day_only: Option<Published> = None;
    let mut modified: Option<Published> = None;
    let mut yearless: Option<Published> = None;
    // After a stamped date, a few more blocks may still hold a labelled
    // publication date; beyond them the scan would only cost time.
    let mut budget = usize::MAX;
    for bi in window {
        let b = &a.blocks[bi];
        if skip.get(bi).copied().unwrap_or(false) || b.text.len() > 160 || quoted(b) {
            continue;
        }
        budget = budget.saturating_sub(1);
        if budget == 0 {
            break;
        }
        if let Some((d, raw, label)) = block_date(&b.text, dates, ctx) {
            let p = published_from(&d, &raw, DateSource::Text);
            // Labelled as the publication, or set right against the title
            // (a blog's date header): no later candidate can do better.
            let adjacent = bi + 1 >= anchor && bi <= anchor + 1;
            // A date without its year (a sub-head's "el pasado martes 30 de
            // marzo") is a guess; any date that prints its year outranks it.
            let year_inferred = d.flags.contains(&DateFlag::YearInferred);
            if label == Some(DateLabel::Published)
                || (adjacent && label.is_none() && !year_inferred)
            {
                return Some(p);
            }
            // A page's only date may be its last change (a wiki's "last
            // edited"): better than none, worse than any other.
            if label == Some(DateLabel::Modified) {
                modified.get_or_insert(p);
            } else if year_inferred {
                yearless.get_or_insert(p);
            } else if d.precision != Precision::Day {
                if first.is_none() {
                    budget = budget.min(12);
                }
                first.get_or_insert(p);
            } else {
                day_only.get_or_insert(p);
            }
        }
    }
    if first.is_some() || day_only.is_some() || yearless.is_some() {
        return first.or(day_only).or(yearless);
    }
    let in_body = a
        .blocks
        .iter()
        .enumerate()
        .filter(|(bi, b)| !skip.get(*bi).copied().unwrap_or(false) && !quoted(b))
        .find_map(|(_, b)| {
            if b.text.len() <= 80 {
                let (d, raw, _) = block_date(&b.text, dates, ctx)?;
                return Some(published_from(&d, &raw, DateSource::Text));
            }
            // Only the opening of a long block: a dateline, not a date the
            // story mentions.
            let mut cut = b.text.len().min(40);
            while !b.text.is_char_boundary(cut) {
                cut -= 1;
            }
            let head = &b.text[..cut];
            let d = dates.find_first(head, ctx).filter(|d| d.span.start == 0)?;
            let raw = head.get(d.span.clone()).unwrap_or(head).to_string();
            Some(published_from(&d, &raw, DateSource::Text))
        });
    in_body.or(modified)
}

/// Text set directly in a `<blockquote>`: the byline of a quoted or embedded
/// post (a tweet's "— Name (@handle) 16 May 2018"), whose date is the post's.
fn quoted(b: &content::Block) -> bool {
    b.tag == Tag::Blockquote
}

/// What the words just before a visible date say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DateLabel {
    Published,
    Modified,
}

/// Lower-case label words, in the languages warta reads and their neighbours.
const PUBLISHED_LABELS: [&str; 14] = [
    "veröffentlicht",
    "erschienen",
    "publiziert",
    "published",
    "posted",
    "publié",
    "publicado",
    "pubblicato",
    "diterbitkan",
    "dipublikasikan",
    "dipublikasi",
    "terbit",
    "gepostet",
    "erstellt",
];
const MODIFIED_LABELS: [&str; 14] = [
    "aktualisiert",
    "änderung",
    "geändert",
    "updated",
    "modified",
    "last update",
    "mis à jour",
    "modifié",
    "actualizado",
    "aggiornato",
    "diperbarui",
    "pembaruan",
    "update:",
    "edited",
];

/// The label closest before a date, looking at most 32 bytes back.
fn label_before(prefix: &str) -> Option<DateLabel> {
    let mut from = prefix.len().saturating_sub(32);
    while !prefix.is_char_boundary(from) {
        from += 1;
    }
    let tail = prefix[from..].to_lowercase();
    let last = |labels: &[&str]| labels.iter().filter_map(|l| tail.rfind(l)).max();
    match (last(&PUBLISHED_LABELS), last(&MODIFIED_LABELS)) {
        (Some(p), Some(m)) if m > p => Some(DateLabel::Modified),
        (Some(_), _) => Some(DateLabel::Published),
        (None, Some(_)) => Some(DateLabel::Modified),
        (None, None) => None,
    }
}

/// The date a short block shows, with its raw text and label: the whole
/// block, or the first date in it not labelled as a change (at most three
/// looked at), or failing that the change date.
fn block_date(
    text: &str,
    dates: &mut DateParser<'_>,
    ctx: &DateContext,
) -> Option<(FoundDate, String, Option<DateLabel>)> {
    // A date before the web (a birthday, a founding year) cannot be when
    // the page appeared; the URL's dates have the same floor.
    let on_the_web = |d: &FoundDate| d.datetime.year() >= FIRST_WEB_YEAR;
    if let Some(d) = dates.parse_line(text, ctx) {
        if !on_the_web(&d) {
            return None;
        }
        let label = label_before(text.get(..d.span.start).unwrap_or(""));
        return Some((d, text.to_string(), label));
    }
    let mut offset = 0;
    let mut modified = None;
    for _ in 0..3 {
        let Some(d) = text
            .get(offset..)
            .and_then(|rest| dates.find_first(rest, ctx))
        else {
            break;
        };
        let (start, end) = (offset + d.span.start, offset + d.span.end);
        if !on_the_web(&d) {
            offset = end;
            continue;
        }
        let label = label_before(text.get(..start).unwrap_or(""));
        let raw = text.get(start..end).unwrap_or(text).to_string();
        if label == Some(DateLabel::Modified) {
            modified.get_or_insert((d, raw, label));
            offset = end;
            continue;
        }
        return Some((d, raw, label));
    }
    modified
}

/// The earliest year a page can have been published in.
const FIRST_WEB_YEAR: i32 = 1995;

/// `/2016/02/23/`, `/2016-02-23/` or `/20160223` in the URL path.
fn url_date(url: &str, ctx: &DateContext) -> Option<Published> {
    let path = url::Url::parse(url).ok()?.path().to_string();
    // Each token with the separator that follows it ('\0' at the end).
    let mut toks: Vec<(&str, char)> = Vec::new();
    let mut start = 0;
    for (i, c) in path.char_indices() {
        if matches!(c, '/' | '-' | '_' | '.') {
            toks.push((&path[start..i], c));
            start = i + 1;
        }
    }
    toks.push((&path[start..], '\0'));
    let num = |t: &str, max_len: usize| {
        (!t.is_empty() && t.len() <= max_len && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse::<u32>().ok())
            .flatten()
    };
    for w in toks.windows(3) {
        let ((a, s1), (b, s2), (c, s3)) = (w[0], w[1], w[2]);
        // One separator between the parts; the day ends its segment
        // ("/2023/10/3-fragen" is a month and a slug).
        if s1 != s2 || !(s3 == s2 || s3 == '/' || s3 == '.' || s3 == '\0') {
            continue;
        }
        let ymd = (a.len() == 4)
            .then(|| Some((num(a, 4)? as i32, num(b, 2)?, num(c, 2)?)))
            .flatten();
        // "/29-10-2021": day, month, year.
        let dmy = (c.len() == 4 && s1 == '-')
            .then(|| Some((num(c, 4)? as i32, num(b, 2)?, num(a, 2)?)))
            .flatten();
        if let Some((y, m, d)) = ymd.or(dmy) {
            if (FIRST_WEB_YEAR..=2100).contains(&y) {
                if let Some(date) = NaiveDate::from_ymd_opt(y, m, d) {
                    return day_published(date, ctx, &path);
                }
            }
        }
    }
    let parts: Vec<&str> = toks.iter().map(|t| t.0).collect();
    for p in &parts {
        // Exactly eight digits: a 14-digit web-archive stamp is a capture time.
        if p.len() == 8 && p.bytes().all(|b| b.is_ascii_digit()) {
            let (y, m, d) = (&p[..4], &p[4..6], &p[6..8]);
            if let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i32>(), m.parse::<u32>(), d.parse::<u32>()) {
                if (FIRST_WEB_YEAR..=2100).contains(&y) {
                    if let Some(date) = NaiveDate::from_ymd_opt(y, m, d) {
                        return day_published(date, ctx, &path);
                    }
                }
            }
        }
    }
    None
}

fn day_published(date: NaiveDate, ctx: &DateContext, raw: &str) -> Option<Published> {
    let dt = localize(date.and_hms_opt(0, 0, 0)?, ctx)?;
    if dt > ctx.reference.fixed_offset() + chrono::Duration::days(2) {
        return None;
    }
    Some(Published {
        value: crate::event::rfc3339(&dt),
        precision: Precision::Day,
        source: DateSource::Url,
        raw: raw.chars().take(200).collect(),
        flags: Vec::new(),
    })
}

fn localize(naive: NaiveDateTime, ctx: &DateContext) -> Option<DateTime<FixedOffset>> {
    ctx.timezone
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.fixed_offset())
}

/// A machine-written date (ISO 8601 and its common variants, RFC 2822), or
/// failing that, anything the date grammar reads.
pub fn parse_machine_date(
    raw: &str,
    dates: &mut DateParser<'_>,
    ctx: &DateContext,
) -> Option<FoundDate> {
    let s = raw.trim();
    if s.len() < 6 || s.len() > 100 {
        return None;
    }
    // Java's Date.toString(): "Tue Jul 30 09:35:14 CEST 2019" → move the year
    // before the time so the grammar reads it.
    let parts: Vec<&str> = s.split_whitespace().collect();
    if parts.len() == 6 && parts[5].len() == 4 && parts[5].bytes().all(|b| b.is_ascii_digit()) {
        let reordered = format!(
            "{} {} {} {} {} {}",
            parts[0], parts[1], parts[2], parts[5], parts[3], parts[4]
        );
        if let Some(d) = dates.parse_line(&reordered, ctx) {
            return Some(d);
        }
    }
    let found = |dt: DateTime<FixedOffset>, precision| FoundDate {
        datetime: dt,
        precision,
        flags: Vec::new(),
        span: 0..s.len(),
    };
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(found(dt, Precision::Second));
    }
    if let Ok(dt) = DateTime::parse_from_rfc2822(s) {
        return Some(found(dt, Precision::Second));
    }
    // "2015-11-05 T10:08:58Z" (detik): a malformed stamp whose zone letter is
    // not to be trusted; its digits are the local time the page shows.
    if let Some(at) = s.find(" T") {
        let local = format!("{}T{}", &s[..at], s[at + 2..].trim_end_matches('Z'));
        if let Ok(naive) = NaiveDateTime::parse_from_str(&local, "%Y-%m-%dT%H:%M:%S") {
            if let Some(dt) = localize(naive, ctx) {
                return Some(found(dt, Precision::Second));
            }
        }
    }
    // ISO-like with a zone: 2015-11-05T14:56:43+0700, 2015-11-05 14:56:43 +07:00,
    // fractional seconds, a space instead of "T".
    let norm = s.replacen(' ', "T", 1);
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M%z",
        "%Y-%m-%dT%H:%M%:z",
        "%Y-%m-%dT%H:%M:%S%.fT%z",
        "%Y-%m-%dT%H:%M:%S%.fT%:z",
    ] {
        if let Ok(dt) = DateTime::parse_from_str(&norm, fmt) {
            return Some(found(dt, Precision::Second));
        }
    }
    let trimmed = norm
        .trim_end_matches('Z')
        .trim_end_matches("UTC")
        .trim_end_matches('T');
    for (fmt, precision) in [
        ("%Y-%m-%dT%H:%M:%S%.f", Precision::Second),
        ("%Y-%m-%dT%H:%M", Precision::Minute),
        ("%Y/%m/%dT%H:%M:%S", Precision::Second),
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(trimmed, fmt) {
            // A trailing Z means UTC; otherwise the page's zone.
            let dt = if norm.ends_with('Z') || norm.ends_with("UTC") {
                Some(chrono::Utc.from_utc_datetime(&naive).fixed_offset())
            } else {
                localize(naive, ctx)
            };
            if let Some(dt) = dt {
                return Some(found(dt, precision));
            }
        }
    }
    let date_part = s.get(..10).unwrap_or(s);
    for fmt in ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(date_part, fmt) {
            if let Some(dt) = d.and_hms_opt(0, 0, 0).and_then(|n| localize(n, ctx)) {
                return Some(found(dt, Precision::Day));
            }
        }
    }
    if s.len() == 8 {
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y%m%d") {
            if let Some(dt) = d.and_hms_opt(0, 0, 0).and_then(|n| localize(n, ctx)) {
                return Some(found(dt, Precision::Day));
            }
        }
    }
    dates
        .parse_line(s, ctx)
        .or_else(|| dates.find_first(s, ctx))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> DateContext {
        DateContext {
            reference: DateTime::parse_from_rfc3339("2025-12-31T00:00:00Z")
                .map(|t| t.with_timezone(&chrono::Utc))
                .unwrap_or_default(),
            timezone: chrono_tz::Asia::Jakarta,
            order: DateOrder::Dmy,
        }
    }

    #[test]
    fn machine_dates() {
        let mut p = DateParser::new(Lexicon::builtin());
        let c = ctx();
        let t = |s: &str, p: &mut DateParser<'_>| {
            parse_machine_date(s, p, &c).map(|d| crate::event::rfc3339(&d.datetime))
        };
        assert_eq!(
            t("2015-11-05T14:56:43+0700", &mut p).as_deref(),
            Some("2015-11-05T14:56:43+07:00")
        );
        assert_eq!(
            t("2015-11-05 14:56:43", &mut p).as_deref(),
            Some("2015-11-05T14:56:43+07:00")
        );
        assert_eq!(
            t("2015-11-05T07:56:43.000Z", &mut p).as_deref(),
            Some("2015-11-05T07:56:43+00:00")
        );
        assert_eq!(
            t("Thu, 05 Nov 2015 14:56:43 +0700", &mut p).as_deref(),
            Some("2015-11-05T14:56:43+07:00")
        );
        assert_eq!(
            t("2015-11-05", &mut p).as_deref(),
            Some("2015-11-05T00:00:00+07:00")
        );
        assert_eq!(
            t("Selasa, 23 Februari 2016 | 14:54 WIB", &mut p).as_deref(),
            Some("2016-02-23T14:54:00+07:00")
        );
        assert_eq!(t("garbage", &mut p), None);
    }

    #[test]
    fn stated_titles_against_the_heading() {
        let f = |v: &str, source| meta::Found {
            value: v.to_string(),
            source,
        };
        let pick_shown = |stated: &[meta::Found], shown: Shown| match stated_title(stated, shown) {
            Some(Stated::Found(f)) => f.value.clone(),
            Some(Stated::Heading) => format!("h1:{}", shown.h1.unwrap_or_default()),
            Some(Stated::Core(core, _)) => format!("core:{core}"),
            None => String::new(),
        };
        let pick = |stated: &[meta::Found], h1: Option<&str>| {
            pick_shown(
                stated,
                Shown {
                    h1,
                    document: None,
                    kicker: None,
                },
            )
        };
        let (ld, og) = (DateSource::JsonLd, DateSource::Opengraph);
        // Every statement carries the kicker: it stays, though the heading drops it.
        let both = [
            f("Kenia: Nairobi von unten", ld),
            f("Kenia: Nairobi von unten", og),
        ];
        assert_eq!(
            pick(&both, Some("Nairobi von unten")),
            "Kenia: Nairobi von unten"
        );
        // One statement adds a kicker or a trailing clause: the shorter one.
        let kicker = [
            f("Neue Schule: Judy Lybke, ganz eigen", ld),
            f("Judy Lybke, ganz eigen", og),
        ];
        assert_eq!(pick(&kicker, None), "Judy Lybke, ganz eigen");
        let clause = [
            f("Chelsea win at Cobham over Spurs", ld),
            f("Chelsea win at Cobham", og),
        ];
        assert_eq!(pick(&clause, None), "Chelsea win at Cobham");
        // A heading that adds a rubric does not replace the statement.
        let one = [f("Ehrengast der Buchmesse: Was lesen sie?", ld)];
        assert_eq!(
            pick(
                &one,
                Some("Kultur : Ehrengast der Buchmesse: Was lesen sie?")
            ),
            "Ehrengast der Buchmesse: Was lesen sie?"
        );
        // A statement that is the heading plus a site name: the heading.
        let site = [f("Harga beras naik lagi - Kompas.com", og)];
        assert_eq!(
            pick(&site, Some("Harga beras naik lagi")),
            "h1:Harga beras naik lagi"
        );
        // Statement and heading each put their own kicker before one headline.
        let kicked = [f("Iran greift an: «Israel hält sich zurück»", og)];
        assert_eq!(
            pick(
                &kicked,
                Some("Eskalation in Nahost - «Israel hält sich zurück»")
            ),
            "core:«Israel hält sich zurück»"
        );
        // ... but one kicker shared by both stays, as does a kicker the
        // heading extends, or two wordings of one sentence.
        assert_eq!(
            pick(&kicked, Some("Iran greift an - «Israel hält sich zurück»")),
            "Iran greift an: «Israel hält sich zurück»"
        );
        assert_eq!(
            pick(
                &kicked,
                Some("Nahost Iran greift an - «Israel hält sich zurück»")
            ),
            "Iran greift an: «Israel hält sich zurück»"
        );
        let sentence = [f(
            "'I sell Disney holidays - booking early saves you money'",
            og,
        )];
        assert_eq!(
            pick(
                &sentence,
                Some("'I sell Walt Disney holidays - booking early saves you money'")
            ),
            "'I sell Disney holidays - booking early saves you money'"
        );
        // JSON-LD and <title> carry the search variant, OpenGraph the heading's.
        let seo = [
            f("Starmer suggests he will keep taking gifts", ld),
            f("Starmer defiant over gifts", og),
        ];
        let at = |h1, document| Shown {
            h1: Some(h1),
            document,
            kicker: None,
        };
        let shown = |document| at("Starmer defiant over gifts", document);
        let document = Some("Starmer Suggests He Will Keep Taking Gifts | The Paper");
        assert_eq!(
            pick_shown(&seo, shown(document)),
            "Starmer defiant over gifts"
        );
        // The <title> is the heading's too, or says nothing: JSON-LD stays first.
        assert_eq!(
            pick_shown(&seo, shown(Some("Starmer defiant over gifts - The Paper"))),
            "Starmer suggests he will keep taking gifts"
        );
        assert_eq!(
            pick_shown(&seo, shown(None)),
            "Starmer suggests he will keep taking gifts"
        );
        // Same words, other punctuation: the <title>'s form.
        let dress = [
            f(
                "R&uuml;ckbau von Atomkraftwerk - K&uuml;hlt&uuml;rme gesprengt",
                ld,
            ),
            f("Rückbau von Atomkraftwerk: Kühltürme gesprengt", og),
        ];
        let titled = |document| at("Kühltürme gesprengt", document);
        let document = Some("Rückbau von Atomkraftwerk: Kühltürme gesprengt - Politik");
        assert_eq!(
            pick_shown(&dress, titled(document)),
            "Rückbau von Atomkraftwerk: Kühltürme gesprengt"
        );
        assert_eq!(
            pick_shown(&dress, titled(Some("Politik"))),
            "R&uuml;ckbau von Atomkraftwerk - K&uuml;hlt&uuml;rme gesprengt"
        );
        // The heading sets its kicker in an element of its own: the statement
        // that joins kicker and headline is the title readers see.
        let kicked = [
            f("Der 9. Juli naht: Gewerkschaften demonstrieren Einheit", ld),
            f(
                "Nationale Demo / Der 9. Juli naht: Gewerkschaften demonstrieren Einheit",
                og,
            ),
        ];
        let with_kicker = |kicker| Shown {
            h1: Some("Nationale DemoDer 9. Juli naht: Gewerkschaften demonstrieren Einheit"),
            document: None,
            kicker,
        };
        let shown_kicker = Some((
            "Nationale Demo",
            "Der 9. Juli naht: Gewerkschaften demonstrieren Einheit",
        ));
        assert_eq!(
            pick_shown(&kicked, with_kicker(shown_kicker)),
            "Nationale Demo / Der 9. Juli naht: Gewerkschaften demonstrieren Einheit"
        );
        // Without the kicker element, or when the heading's kicker is another
        // one, the statements' order decides as before.
        assert_eq!(
            pick_shown(&kicked, with_kicker(None)),
            "Der 9. Juli naht: Gewerkschaften demonstrieren Einheit"
        );
        let other = Some((
            "Streik",
            "Der 9. Juli naht: Gewerkschaften demonstrieren Einheit",
        ));
        assert_eq!(
            pick_shown(&kicked, with_kicker(other)),
            "Der 9. Juli naht: Gewerkschaften demonstrieren Einheit"
        );
    }

    #[test]
    fn heading_kickers_are_leading_elements() {
        let kicker = |html: &str| {
            let dom = Dom::parse(html);
            let h1 = (0..dom.len()).find(|&i| dom.tag(i) == Tag::H1).unwrap();
            heading_kicker(&dom, h1)
        };
        assert_eq!(
            kicker("<h1>\n <span>Nationale Demo</span>Der 9. Juli naht</h1>"),
            Some(("Nationale Demo".into(), "Der 9. Juli naht".into()))
        );
        assert_eq!(
            kicker("<h1><span class=k>Kultur</span> <span>Ein Titel hier</span></h1>"),
            Some(("Kultur".into(), "Ein Titel hier".into()))
        );
        // Text first, or nothing after the element: no kicker.
        assert_eq!(kicker("<h1>Ein <em>schöner</em> Titel</h1>"), None);
        assert_eq!(kicker("<h1><span>Nur ein Titel</span></h1>"), None);
    }

    /// The published day of a German page with `head` and `body` (a body
    /// paragraph follows), at `https://a.de/x`.
    fn day_of_page(head: &str, body: &str) -> Option<String> {
        let html = format!(
            "<html lang=de><head>{head}</head><body>{body}<p>Der Bericht beschreibt ausführlich, was geschah und warum es für die Leute vor Ort wichtig ist, mit vielen Einzelheiten.</p></body></html>"
        );
        let page =
            crate::event::html_page("https://a.de/x", html.as_bytes(), "2026-01-01T00:00:00Z")?;
        let parsed = crate::parse::Parser::new().parse(&page, &SiteHints::default());
        parsed.published.map(|p| p.value.chars().take(10).collect())
    }

    /// The paragraphs of an English page with `body` at `https://a.com/x`.
    fn paragraphs_of(body: &str) -> Vec<String> {
        let html = format!("<html lang=en><body>{body}</body></html>");
        let page =
            crate::event::html_page("https://a.com/x", html.as_bytes(), "2026-01-01T00:00:00Z")
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
        let c = ctx();
        let mut p = DateParser::new(Lexicon::builtin());
        let (d, _, label) = block_date(
            "Letzte Änderung: 31.10.2023 - 14:49 Erschienen am: 01.11.2023",
            &mut p,
            &c,
        )
        .unwrap();
        assert_eq!(
            crate::event::rfc3339(&d.datetime).get(..10),
            Some("2023-11-01")
        );
        assert_eq!(label, Some(DateLabel::Published));
        // Only a change date: kept, as such.
        let (_, _, label) = block_date("Diperbarui 02.11.2023", &mut p, &c).unwrap();
        assert_eq!(label, Some(DateLabel::Modified));
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
    fn embedded_and_microformat_dates() {
        let script =
            r#"<script>var s = {"id":1, "published_at" : "2019-03-02T06:22:28+01:00"};</script>"#;
        assert_eq!(
            embedded_date(script).as_deref(),
            Some("2019-03-02T06:22:28+01:00")
        );
        assert_eq!(
            embedded_date(r#"{"unpublished":"2019-03-02", "publisher":"X"}"#),
            None
        );
        let body = "<h1>Rezension: Liebe ist Krieg</h1><abbr class='published' title='2017-09-09T10:52:00+02:00'>Samstag</abbr>";
        assert_eq!(day_of_page("", body).as_deref(), Some("2017-09-09"));
    }

    #[test]
    fn url_dates() {
        let c = ctx();
        let d = url_date("https://a.id/read/2016/02/23/145448826/x", &c).map(|p| p.value);
        assert_eq!(d.as_deref(), Some("2016-02-23T00:00:00+07:00"));
        assert_eq!(url_date("https://a.id/berita/527615/x", &c), None);
        assert_eq!(url_date("https://a.de/2023/10/3-fragen-an-x/", &c), None);
        let d = url_date("https://a.de/meldungen/29-10-2021", &c).map(|p| p.value);
        assert_eq!(d.as_deref(), Some("2021-10-29T00:00:00+07:00"));
    }
}

//! Which of a page's dates is its publication date, and how it is reported.
//!
//! An HTML page states dates in markup (JSON-LD, meta tags, `<time>`), in its
//! scripts, in its URL and in a visible date line; [`html_published`] weighs
//! them. A text page has only its date lines and running text
//! ([`text_published`]). A date the crawler put in the event's `metadata`
//! outranks both ([`metadata_date`]).

use chrono::DateTime;

use super::from_url::url_date;
use super::grammar::{DateContext, DateParser, FoundDate};
use super::machine::{embedded_date, parse_machine_date};
use super::published::published_from;
use super::visible::{text_date, Block};
use super::zone::in_page_zone;
use crate::event::{DateSource, Page, Precision, Published, RejectedDate};
use crate::parse::lang::{DateWord, Lexicon};

/// A date the page's markup states, and where.
#[derive(Debug, Clone, Copy)]
pub struct Statement<'a> {
    pub value: &'a str,
    pub source: DateSource,
}

/// What an HTML page offers about its dates.
pub struct HtmlDates<'a> {
    pub url: &'a str,
    /// The raw page, for dates its scripts embed.
    pub html: &'a str,
    /// Publication dates stated in markup, best first.
    pub published: &'a [Statement<'a>],
    /// Dates stated without saying which (`<meta name="date">`).
    pub generic: &'a [Statement<'a>],
    /// Modification dates stated in markup, best first.
    pub modified: &'a [Statement<'a>],
    /// A live blog: its visible dates are its updates.
    pub live: bool,
    /// The zone was configured or is the language's own (see
    /// [`super::page_context`]).
    pub zone_stated: bool,
    /// The visible blocks, and which of them belong to headline lists.
    pub blocks: &'a [Block<'a>],
    pub skip: &'a [bool],
    /// The block that shows the title, which anchors the visible date line.
    pub title_block: Option<usize>,
}

/// The publication and modification dates of an HTML page: stated first,
/// then visible, then the URL.
pub fn html_published(
    ev: &HtmlDates<'_>,
    dates: &mut DateParser<'_>,
    ctx: &DateContext,
) -> (Option<Published>, Option<Published>) {
    // Dates: stated first, then visible, then the URL.
    // No statement in markup: one in the page's scripts (a framework's
    // state object), which the page also wrote at publication.
    let embedded_value = ev
        .published
        .is_empty()
        .then(|| embedded_date(ev.html))
        .flatten();
    let embedded = embedded_value.as_deref().map(|value| Statement {
        value,
        source: DateSource::Meta,
    });
    let stated: Vec<(FoundDate, &Statement<'_>)> = ev
        .published
        .iter()
        .chain(embedded.iter())
        .chain(ev.generic.iter())
        .filter_map(|f| Some((parse_machine_date(f.value, dates, ctx)?, f)))
        .collect();
    let generic = |f: &Statement<'_>| ev.generic.iter().any(|g| std::ptr::eq(g, f));
    // A statement whose day agrees with the date in the URL wins over the
    // first one (the URL is written once, at publication).
    let url_day = url_date(ev.url, ctx).map(|p| p.value.chars().take(10).collect::<String>());
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
            if !disagree || ev.live {
                return None;
            }
            let shown = text_date(ev.blocks, ev.skip, ev.title_block, dates, ctx)?;
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
        url_date(ev.url, ctx).filter(|u| {
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
                let shown = text_date(ev.blocks, ev.skip, ev.title_block, dates, ctx);
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
                Some((o, of)) => published_from(o, of.value, f.source),
                None => published_from(
                    &in_page_zone(d, ctx, ev.zone_stated, url_day.as_deref()),
                    f.value,
                    f.source,
                ),
            }
        })
        .or_else(|| {
            // A visible date that contradicts the URL's date is another date
            // on the page (a comment, an update): the URL was written at
            // publication.
            let url_published = url_date(ev.url, ctx);
            match text_date(ev.blocks, ev.skip, ev.title_block, dates, ctx) {
                Some(t) if url_published.is_none() || agrees_day(&t, url_day.as_deref()) => Some(t),
                Some(t) => url_published.or(Some(t)),
                None => url_published,
            }
        });
    let modified = ev.modified.iter().find_map(|f| {
        let d = parse_machine_date(f.value, dates, ctx)?;
        Some(published_from(&d, f.value, f.source))
    });
    (published, modified)
}

/// The publication date of a text page: its first date line, or failing
/// that a weekday-anchored date in the running text. When the page's only
/// date lines are impossible (`rejected`, the first of them), that is the
/// answer: no date, and the rejection reported, rather than some date from
/// the running text.
pub fn text_published(
    lex: &Lexicon,
    dates: &mut DateParser<'_>,
    dateline: Option<(FoundDate, &str)>,
    rejected: Option<RejectedDate>,
    paragraphs: &[String],
    ctx: &DateContext,
) -> (Option<Published>, Option<RejectedDate>) {
    if let Some((d, raw)) = dateline {
        return (Some(published_from(&d, raw, DateSource::Text)), None);
    }
    if rejected.is_some() {
        return (None, rejected);
    }
    let published = paragraphs.iter().find_map(|p| {
        let d = dates.find_first(p, ctx)?;
        // In running text only a weekday-anchored date ("Jumat (8/10)")
        // reports the news day; a bare "17 Agustus 1945" is history.
        let raw = &p[d.span.clone()];
        starts_with_weekday(lex, raw).then(|| published_from(&d, raw, DateSource::Text))
    });
    (published, None)
}

fn starts_with_weekday(lex: &Lexicon, raw: &str) -> bool {
    let first = raw
        .split(|c: char| !(c.is_alphabetic() || c == '\'' || c == '’'))
        .next()
        .unwrap_or("");
    matches!(lex.date_word_raw(first), Some(DateWord::Weekday(_)))
}

fn agrees_day(p: &Published, day: Option<&str>) -> bool {
    day.is_some_and(|d| p.value.get(..10) == Some(d))
}

/// A publication date the crawler put in `metadata` (`published_at` or
/// `datePublished`), which outranks anything read from the text.
pub fn metadata_date(
    dates: &mut DateParser<'_>,
    page: &Page,
    ctx: &DateContext,
) -> Option<Published> {
    let meta = page.metadata.as_ref()?;
    let raw = ["published_at", "datePublished", "date_published"]
        .iter()
        .find_map(|k| meta.get(*k)?.as_str())?;
    let (value, precision, flags) = match DateTime::parse_from_rfc3339(raw) {
        Ok(t) => (t, Precision::Second, Vec::new()),
        Err(_) => {
            let f = dates.parse_line(raw, ctx)?;
            (f.datetime, f.precision, f.flags)
        }
    };
    Some(Published {
        value: crate::event::rfc3339(&value),
        precision,
        source: crate::event::DateSource::Metadata,
        raw: raw.to_string(),
        flags,
    })
}

//! Page → [`ParsedPage`]: the article (title, caption, body paragraphs, date,
//! language) and the page's headline list. Pure and synchronous: no I/O, no
//! Kafka types, no clocks (the fetch time is the only notion of "now").
//!
//! - [`budget`]: the per-page work budget.
//! - [`lang`]: per-language data (date words, boilerplate, captions, stopwords).
//! - [`date`]: publication dates: the grammar and every rule that resolves
//!   them, for both page kinds.
//! - [`textpage`]: plain-text pages, one block per line.
//! - [`html`]: HTML pages and RSS/Atom feeds.

pub mod budget;
pub mod date;
pub mod html;
pub mod lang;
pub mod textpage;

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;

use crate::event::{
    Caption, ContentType, DateFlag, Page, Precision, Published, RejectedDate, Removed, Sources,
};
use lang::Lexicon;

/// Bounds on one page's parse (`[parse]` in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseLimits {
    /// Most headline items kept from one page.
    pub max_headlines: usize,
    /// Most body paragraphs kept in one article.
    pub max_paragraphs: usize,
    /// The page's work budget (see [`budget`]).
    pub max_work_units: u64,
}

impl Default for ParseLimits {
    /// The values of `config/default.toml`.
    fn default() -> Self {
        ParseLimits {
            max_headlines: 500,
            max_paragraphs: 5000,
            max_work_units: 50_000_000,
        }
    }
}

/// Per-site facts from the configuration, applied before anything the page or
/// the event says (an operator knows their sites better than a heuristic).
#[derive(Debug, Clone, Default)]
pub struct SiteHints {
    pub timezone: Option<Tz>,
    pub language: Option<String>,
}

/// Where the article title came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TitleSource {
    Text,
    Event,
    /// HTML pages: see [`ParsedPage::sources`] for which part of the markup.
    Markup,
}

/// One item of a page's headline list.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadlineItem {
    pub title: String,
    pub url: Option<String>,
    pub published_at: Option<DateTime<FixedOffset>>,
    pub precision: Option<Precision>,
    pub flags: Vec<DateFlag>,
}

/// Everything the parser found on one page.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedPage {
    pub title: Option<(String, TitleSource)>,
    pub caption: Option<Caption>,
    /// Clean body paragraphs in page order: no repeats, no boilerplate, hard
    /// wraps joined.
    pub paragraphs: Vec<String>,
    /// Normalized text of each paragraph (see [`crate::text::normalize`]), kept
    /// because the content hash and dedup fingerprints are computed from it.
    pub normalized: Vec<String>,
    pub published: Option<Published>,
    /// Text pages: a date line that reads as a date but cannot be one.
    pub date_rejected: Option<RejectedDate>,
    pub language: Option<String>,
    pub headlines: Vec<HeadlineItem>,
    pub removed: Removed,
    /// HTML pages: the stated last-modified date.
    pub modified: Option<Published>,
    /// HTML pages: the stated authors.
    pub authors: Vec<String>,
    /// HTML pages: where each field came from.
    pub sources: Option<Sources>,
}

/// Parses pages; holds reusable buffers, so keep one per worker thread.
pub struct Parser {
    lex: &'static Lexicon,
    dates: date::DateParser<'static>,
}

impl Default for Parser {
    fn default() -> Self {
        Self::new()
    }
}

impl Parser {
    pub fn new() -> Self {
        let lex = Lexicon::builtin();
        Parser {
            lex,
            dates: date::DateParser::new(lex),
        }
    }

    /// Parses a validated page.
    pub fn parse(&mut self, page: &Page, hints: &SiteHints) -> ParsedPage {
        if page.content_type == ContentType::Html {
            let mut parsed = html::parse(self.lex, &mut self.dates, page, hints);
            self.apply_event_fields(page, hints, &mut parsed);
            return parsed;
        }
        let language = page
            .language
            .clone()
            .or_else(|| hints.language.clone())
            .or_else(|| detect_language(self.lex, &textpage::prose_sample(&page.content)));
        let lang_data = language.as_deref().and_then(|c| self.lex.language(c));
        let configured = hints.timezone.or(page.timezone);
        let (ctx, _) = date::page_context(page.fetched_at, configured, lang_data, None, None);
        let mut parsed = textpage::parse(self.lex, &mut self.dates, &page.content, &ctx);
        parsed.language = language;
        self.apply_event_fields(page, hints, &mut parsed);
        parsed
    }

    /// What the crawler put in the event outranks the page for the date (it
    /// may come from the HTTP response or a sitemap) and fills in a missing title.
    fn apply_event_fields(&mut self, page: &Page, hints: &SiteHints, parsed: &mut ParsedPage) {
        let lang_data = parsed
            .language
            .as_deref()
            .and_then(|c| self.lex.language(c));
        let configured = hints.timezone.or(page.timezone);
        let (ctx, _) = date::page_context(page.fetched_at, configured, lang_data, None, None);
        if let Some(meta) = date::metadata_date(&mut self.dates, page, &ctx) {
            parsed.published = Some(meta);
            if let Some(s) = parsed.sources.as_mut() {
                s.published_at = Some(crate::event::FieldSource::Event);
            }
        }
        if parsed.title.is_none() {
            parsed.title = page.title.clone().map(|t| (t, TitleSource::Event));
            if let Some(s) = parsed.sources.as_mut() {
                s.title = parsed
                    .title
                    .as_ref()
                    .map(|_| crate::event::FieldSource::Event);
            }
        }
    }
}

/// Language of a page the event did not label: stopwords of the languages warta
/// has data for first (fast, and exact for those), then whatlang for the rest.
pub(crate) fn detect_language(lex: &Lexicon, content: &str) -> Option<String> {
    if let Some(l) = lex.detect(content) {
        return Some(l.code.clone());
    }
    detect_language_whatlang(content)
}

/// whatlang's reliable guess alone, as [`crate::language::code`] publishes it.
pub(crate) fn detect_language_whatlang(content: &str) -> Option<String> {
    let info = whatlang::detect(crate::text::head(content, 4096))?;
    info.is_reliable()
        .then(|| crate::language::code(info.lang().code()))
        .flatten()
}

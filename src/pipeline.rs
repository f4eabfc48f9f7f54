//! Raw input bytes → output records: validate, parse, build the records. Pure and
//! synchronous; the edges (a JSONL file, Kafka) call [`Pipeline::process`] once per
//! input and write what it returns.
//!
//! Every input has exactly one [`Outcome`], and the records it yields all follow
//! from that outcome: an article (with its headlines), an index page (headlines
//! only) or a rejection (one dead-letter record). The edges count outcomes, so the
//! counts always add up to the inputs read.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::Settings;
use crate::event::{
    rfc3339, Article, ContentType, Headline, InvalidInput, Page, RejectCode, Rejected, SourceRef,
    SCHEMA_VERSION,
};
use crate::parse::{ParsedPage, Parser, SiteHints};
use crate::text::{digest_hex, normalize, normalized_word_count};

/// Which output a record goes to; the topic name comes from the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Destination {
    Articles,
    Headlines,
    Duplicates,
    DeadLetter,
}

impl Destination {
    pub fn topic(self, settings: &Settings) -> &str {
        let t = &settings.topics;
        match self {
            Destination::Articles => &t.articles,
            Destination::Headlines => &t.headlines,
            Destination::Duplicates => &t.duplicates,
            Destination::DeadLetter => &t.dead_letter,
        }
    }
}

/// A record's payload.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Payload {
    Article(Box<Article>),
    Headline(Headline),
    Rejected(Box<Rejected>),
}

/// One output record.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub destination: Destination,
    /// The Kafka key: the article or headline id; none for dead letters, which
    /// keep the input's own key.
    pub key: Option<String>,
    pub payload: Payload,
}

/// What became of one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// An article was published, with this many headlines.
    Article { headlines: usize },
    /// A page with a headline list and no article body (an index page).
    HeadlinesOnly { headlines: usize },
    /// The input went to the dead-letter output.
    Rejected(RejectCode),
}

/// The result of processing one input.
#[derive(Debug, Clone, PartialEq)]
pub struct Processed {
    pub outcome: Outcome,
    pub records: Vec<Record>,
}

/// The pure processing pipeline. One per worker: it owns the parser's buffers.
pub struct Pipeline {
    settings: Arc<Settings>,
    parser: Parser,
}

impl Pipeline {
    pub fn new(settings: Arc<Settings>) -> Self {
        Pipeline {
            settings,
            parser: Parser::new(),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Processes one input. `now` stands in for a missing `fetched_at`.
    pub fn process(&mut self, bytes: &[u8], source: SourceRef, now: DateTime<Utc>) -> Processed {
        let page = match Page::from_bytes(bytes, self.settings.input, now) {
            Ok(page) => page,
            Err(e) => return reject(e, source, bytes),
        };
        if page.content_type == ContentType::Html {
            let e = InvalidInput::new(
                RejectCode::UnsupportedContentType,
                "text/html pages are not parsed yet; send text/plain",
            );
            return reject(e, source, bytes);
        }
        let hints = self.settings.site(&page.site).cloned().unwrap_or_default();
        let parsed = self.parser.parse(&page, &hints);
        build(&page, parsed, &hints, source, bytes)
    }
}

fn reject(e: InvalidInput, source: SourceRef, bytes: &[u8]) -> Processed {
    let code = e.code;
    Processed {
        outcome: Outcome::Rejected(code),
        records: vec![Record {
            destination: Destination::DeadLetter,
            key: None,
            payload: Payload::Rejected(Box::new(Rejected::new(e, source, bytes))),
        }],
    }
}

fn build(
    page: &Page,
    parsed: ParsedPage,
    _hints: &SiteHints,
    source: SourceRef,
    bytes: &[u8],
) -> Processed {
    let headlines: Vec<Headline> = parsed
        .headlines
        .iter()
        .enumerate()
        .map(|(i, h)| Headline {
            schema_version: SCHEMA_VERSION,
            id: headline_id(&page.site, &h.title),
            site: page.site.clone(),
            title: h.title.clone(),
            url: h.url.clone(),
            published_at: h.published_at.as_ref().map(rfc3339),
            precision: h.precision,
            flags: h.flags.clone(),
            seen_on: page.url.clone(),
            position: i as u32 + 1,
        })
        .collect();
    let n_headlines = headlines.len();
    let mut records = Vec::with_capacity(1 + n_headlines);
    let outcome = if parsed.paragraphs.is_empty() {
        if headlines.is_empty() {
            let e = InvalidInput::new(
                RejectCode::NoContent,
                "the page has neither article paragraphs nor a headline list",
            );
            return reject(e, source, bytes);
        }
        Outcome::HeadlinesOnly {
            headlines: n_headlines,
        }
    } else {
        let article = article(page, parsed);
        records.push(Record {
            destination: Destination::Articles,
            key: Some(article.id.clone()),
            payload: Payload::Article(Box::new(article)),
        });
        Outcome::Article {
            headlines: n_headlines,
        }
    };
    records.extend(headlines.into_iter().map(|h| Record {
        destination: Destination::Headlines,
        key: Some(h.id.clone()),
        payload: Payload::Headline(h),
    }));
    Processed { outcome, records }
}

fn article(page: &Page, parsed: ParsedPage) -> Article {
    let text = parsed.paragraphs.join("\n\n");
    let content_hash = digest_hex(&[&parsed.normalized.join(" ")]);
    Article {
        schema_version: SCHEMA_VERSION,
        id: article_id(&page.canonical_url),
        url: page.url.clone(),
        canonical_url: page.canonical_url.clone(),
        site: page.site.clone(),
        title: parsed.title.map(|(t, _)| t),
        caption: parsed.caption,
        word_count: parsed
            .normalized
            .iter()
            .map(|n| normalized_word_count(n))
            .sum(),
        paragraphs: parsed.paragraphs,
        text,
        published_at: parsed.published,
        language: parsed.language,
        fetched_at: rfc3339(&page.fetched_at),
        fetched_at_source: page.fetched_at_source,
        content_hash,
        removed: parsed.removed,
        metadata: page.metadata.clone(),
    }
}

/// The article id: a digest of the canonical URL, so recrawls share it.
pub fn article_id(canonical_url: &str) -> String {
    digest_hex(&["article", canonical_url])
}

/// The headline id: a digest of the site and the normalized title, so the same
/// headline on every page of a site has one id.
pub fn headline_id(site: &str, title: &str) -> String {
    digest_hex(&["headline", site, &normalize(title)])
}

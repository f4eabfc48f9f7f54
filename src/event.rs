//! Input and output event types and their schema version: the raw page as
//! crawlers write it, the validated [`Page`], the article, headline and
//! dead-letter records, and the stable rejection codes.
//!
//! Only the types live here: [`crate::validate`] turns raw bytes into a
//! [`Page`] (or a rejection), [`crate::canonical`] canonicalises URLs and
//! [`crate::charset`] decodes raw page bytes.
//!
//! These types are the public contract of warta: `docs/events.md` shows a real
//! example of each. Adding an optional output field keeps `SCHEMA_VERSION`;
//! renaming or removing one bumps it.

use std::fmt;

use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Version of every output record's schema; carried as `schema_version`.
pub const SCHEMA_VERSION: u32 = 1;

/// Why an input was rejected. The set is closed and the snake_case names are
/// stable: dashboards, alerts and dead-letter consumers match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectCode {
    /// The bytes are not valid UTF-8.
    InvalidUtf8,
    /// The bytes are not one JSON value.
    InvalidJson,
    /// The JSON value is not an object.
    NotAnObject,
    /// `url` is absent or null.
    MissingUrl,
    /// `url` is not an absolute http(s) URL.
    InvalidUrl,
    /// `content` is absent or null.
    MissingContent,
    /// `content` is empty or only whitespace.
    EmptyContent,
    /// `content` is larger than `input.max_content_bytes`.
    ContentTooLarge,
    /// A field has the wrong JSON type, or `fetched_at` or `timezone` has a value
    /// warta does not understand.
    InvalidField,
    /// `content_type` names a format warta cannot parse (yet).
    UnsupportedContentType,
    /// The page parsed, but holds neither an article body nor a headline list.
    NoContent,
    /// The broker refused the outputs warta made from this input (Kafka mode),
    /// for example because they exceed `message.max.bytes`.
    OutputRejected,
    /// `fetched_at` lies more than `input.max_future_skew_secs` after the time
    /// warta read the input: a wrong crawler clock, or an attempt to expire
    /// the dedup state.
    FetchedAtInFuture,
    /// Both `content` and `content_base64` are present; warta will not guess
    /// which one the crawler meant.
    AmbiguousContent,
    /// `url` is longer than `input.max_url_bytes`.
    UrlTooLong,
    /// The input line is longer than `input.max_line_bytes`; the dead letter
    /// keeps its first bytes, its length and its hash.
    InputTooLarge,
    /// Parsing the page took more work than `parse.max_work_units` allows.
    ParseBudgetExceeded,
}

impl RejectCode {
    /// Every code, for documentation and metric pre-registration.
    pub const ALL: [RejectCode; 17] = [
        RejectCode::InvalidUtf8,
        RejectCode::InvalidJson,
        RejectCode::NotAnObject,
        RejectCode::MissingUrl,
        RejectCode::InvalidUrl,
        RejectCode::MissingContent,
        RejectCode::EmptyContent,
        RejectCode::ContentTooLarge,
        RejectCode::InvalidField,
        RejectCode::UnsupportedContentType,
        RejectCode::NoContent,
        RejectCode::OutputRejected,
        RejectCode::FetchedAtInFuture,
        RejectCode::AmbiguousContent,
        RejectCode::UrlTooLong,
        RejectCode::InputTooLarge,
        RejectCode::ParseBudgetExceeded,
    ];

    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectCode::InvalidUtf8 => "invalid_utf8",
            RejectCode::InvalidJson => "invalid_json",
            RejectCode::NotAnObject => "not_an_object",
            RejectCode::MissingUrl => "missing_url",
            RejectCode::InvalidUrl => "invalid_url",
            RejectCode::MissingContent => "missing_content",
            RejectCode::EmptyContent => "empty_content",
            RejectCode::ContentTooLarge => "content_too_large",
            RejectCode::InvalidField => "invalid_field",
            RejectCode::UnsupportedContentType => "unsupported_content_type",
            RejectCode::NoContent => "no_content",
            RejectCode::OutputRejected => "output_rejected",
            RejectCode::FetchedAtInFuture => "fetched_at_in_future",
            RejectCode::AmbiguousContent => "ambiguous_content",
            RejectCode::UrlTooLong => "url_too_long",
            RejectCode::InputTooLarge => "input_too_large",
            RejectCode::ParseBudgetExceeded => "parse_budget_exceeded",
        }
    }
}

impl fmt::Display for RejectCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A validation failure: the code plus a message for humans. The message may
/// quote the input; metrics and logs label by `code` only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct InvalidInput {
    pub code: RejectCode,
    pub message: String,
}

impl InvalidInput {
    pub fn new(code: RejectCode, message: impl Into<String>) -> Self {
        InvalidInput {
            code,
            message: message.into(),
        }
    }
}

/// How a page's body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContentType {
    #[serde(rename = "text/plain")]
    Text,
    #[serde(rename = "text/html")]
    Html,
}

/// Where `fetched_at` came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FetchedAtSource {
    /// The input event carried it.
    Event,
    /// The input had none; warta used the time it processed the page.
    ProcessingTime,
}

/// The input event as crawlers write it. Unknown fields are ignored so that
/// crawlers can add their own without breaking warta.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RawPage {
    pub url: String,
    /// The page as text. Either this or `content_base64` is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// The page's raw bytes in standard base64, for crawlers that do not
    /// decode pages; decoded by a BOM, `charset`, `content_type`'s charset
    /// parameter or the page's `<meta charset>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_base64: Option<String>,
    /// The HTTP charset of `content_base64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetched_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<ContentType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
}

/// A validated input page: every field checked, defaults applied.
#[derive(Debug, Clone)]
pub struct Page {
    /// The URL exactly as the event gave it.
    pub url: String,
    /// The canonical form (see [`crate::canonical::canonical_url`]); the article id derives from it.
    pub canonical_url: String,
    /// The event's `site`, or the URL's host without `www.`.
    pub site: String,
    pub content: String,
    pub content_type: ContentType,
    pub fetched_at: DateTime<Utc>,
    pub fetched_at_source: FetchedAtSource,
    pub language: Option<String>,
    pub timezone: Option<Tz>,
    pub title: Option<String>,
    pub metadata: Option<Map<String, Value>>,
}

/// Formats a timestamp the way every output field does: RFC 3339, whole seconds.
pub fn rfc3339<Tz2: chrono::TimeZone>(t: &DateTime<Tz2>) -> String
where
    Tz2::Offset: fmt::Display,
{
    t.to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// How precise a parsed date is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    Second,
    Minute,
    Day,
}

/// Where a publication date was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateSource {
    /// A date line or a date inside the page's text.
    Text,
    /// A field of the input event's `metadata` (`published_at` or `datePublished`).
    Metadata,
    /// HTML pages: a JSON-LD `NewsArticle`/`Article`/`BlogPosting` (`datePublished`).
    JsonLd,
    /// HTML pages: an OpenGraph property (`article:published_time`, …).
    Opengraph,
    /// HTML pages: another `<meta>` tag or microdata (`pubdate`, `itemprop=datePublished`, …).
    Meta,
    /// HTML pages: a `<time datetime>` element.
    TimeElement,
    /// HTML pages: a date in the URL path (`/2016/02/23/`), day precision.
    Url,
}

/// Where an article field came from (HTML pages report it per field in
/// `Article::sources`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldSource {
    /// A JSON-LD `NewsArticle`/`Article`/`BlogPosting` object.
    JsonLd,
    /// An OpenGraph `<meta property="og:…">` or `article:…` tag.
    Opengraph,
    /// Another `<meta>` tag or microdata attribute.
    Meta,
    /// A `<time datetime>` element.
    TimeElement,
    /// The page's `<title>` element.
    TitleElement,
    /// The visible text (an `<h1>`, a date line, the body).
    Text,
    /// The URL path.
    Url,
    /// The input event (`title`, `metadata`).
    Event,
}

impl From<DateSource> for FieldSource {
    fn from(d: DateSource) -> FieldSource {
        match d {
            DateSource::Text => FieldSource::Text,
            DateSource::Metadata => FieldSource::Event,
            DateSource::JsonLd => FieldSource::JsonLd,
            DateSource::Opengraph => FieldSource::Opengraph,
            DateSource::Meta => FieldSource::Meta,
            DateSource::TimeElement => FieldSource::TimeElement,
            DateSource::Url => FieldSource::Url,
        }
    }
}

/// Which source each article field came from (HTML pages only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sources {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<FieldSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<FieldSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_at: Option<FieldSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authors: Option<FieldSource>,
    /// `text` when the body was extracted from the DOM, `json_ld` when it is the
    /// page's JSON-LD `articleBody`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<FieldSource>,
}

/// Something suspicious about a parsed date, reported rather than hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateFlag {
    /// The weekday written on the page does not fall on the written date.
    WeekdayMismatch,
    /// The page gave no year; it was inferred from `fetched_at`.
    YearInferred,
    /// The page gave a time of day only (`14:32 WIB`); the day is the fetch's,
    /// or the day before when the time is later than the fetch.
    DateInferred,
    /// The page gave an age (`2 jam lalu`, `3 hours ago`, `kemarin`); the time
    /// is `fetched_at` minus that age, as precise as the age's unit.
    Relative,
}

/// Why a date printed on the page was not taken as one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateRejection {
    /// A year before 1995 (before news sites) or after the year after `fetched_at`.
    YearOutOfRange,
    /// A day the calendar does not have (`31 Februari`).
    ImpossibleDate,
    /// A time of day that does not exist (`25:10`, `12:75`).
    ImpossibleTime,
}

/// A date line the page printed that could not be a publication date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedDate {
    /// The text the date was read from.
    pub raw: String,
    pub reason: DateRejection,
}

/// A publication date with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Published {
    /// RFC 3339 with the offset that applied on the page; midnight for `day` precision.
    pub value: String,
    pub precision: Precision,
    pub source: DateSource,
    /// The text the date was read from.
    pub raw: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<DateFlag>,
}

/// A photo caption and its credit (`…/Net` → credit `Net`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caption {
    pub text: String,
    pub credit: Option<String>,
}

/// What the parser took out of the page body, so users can see it worked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removed {
    pub repeated_paragraphs: u32,
    pub boilerplate_lines: u32,
    pub headline_items: u32,
    pub captions: u32,
}

/// A clean article, published to `clean-articles`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Article {
    pub schema_version: u32,
    /// Stable id: a digest of `canonical_url`.
    pub id: String,
    pub url: String,
    pub canonical_url: String,
    pub site: String,
    pub title: Option<String>,
    pub caption: Option<Caption>,
    pub paragraphs: Vec<String>,
    /// The paragraphs joined by blank lines.
    pub text: String,
    pub published_at: Option<Published>,
    /// Text pages: the date line that was not taken as `published_at`, and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_rejected: Option<RejectedDate>,
    pub language: Option<String>,
    pub word_count: usize,
    pub fetched_at: String,
    pub fetched_at_source: FetchedAtSource,
    /// Digest of the normalized body; equal bodies have equal hashes.
    pub content_hash: String,
    pub removed: Removed,
    /// Near-duplicate verdict: `new`, `updated` or `duplicate` (an `unchanged`
    /// recrawl is counted, not published).
    pub verdict: ArticleVerdict,
    /// 1 for a new article, +1 for each update of the same URL.
    pub version: u32,
    /// The story's cluster: the id of its first-seen article. Versions and copies
    /// share it, and it is the Kafka key.
    pub cluster_id: String,
    /// For `updated`, similarity to the previous version; for `duplicate`, to the
    /// article it copies (estimated Jaccard of word shingles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f64>,
    /// For `duplicate`: the id of the canonical (first-seen) article.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
    /// HTML pages: the last-modified date the page states (JSON-LD
    /// `dateModified`, `article:modified_time`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_at: Option<Published>,
    /// HTML pages: the authors the page states (JSON-LD `author`, `<meta name=author>`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authors: Vec<String>,
    /// HTML pages: where `title`, `published_at`, `modified_at`, `authors` and
    /// the body came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sources: Option<Sources>,
}

/// The near-duplicate verdict on an article.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArticleVerdict {
    New,
    Unchanged,
    Updated,
    Duplicate,
}

impl ArticleVerdict {
    pub const ALL: [ArticleVerdict; 4] = [
        ArticleVerdict::New,
        ArticleVerdict::Unchanged,
        ArticleVerdict::Updated,
        ArticleVerdict::Duplicate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ArticleVerdict::New => "new",
            ArticleVerdict::Unchanged => "unchanged",
            ArticleVerdict::Updated => "updated",
            ArticleVerdict::Duplicate => "duplicate",
        }
    }
}

/// One item of a page's headline list, published to `clean-headlines`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Headline {
    pub schema_version: u32,
    /// Stable id: a digest of `site` and the normalized title.
    pub id: String,
    pub site: String,
    pub title: String,
    /// The item's link, when the page gives one (HTML pages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// RFC 3339 with offset.
    pub published_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<Precision>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<DateFlag>,
    /// `new` for the first sighting within the TTL, `updated` when the item's
    /// time changed since it was published.
    pub verdict: HeadlineVerdictKind,
    /// The page the list was seen on.
    pub seen_on: String,
    /// 1-based place in the page's list.
    pub position: u32,
}

/// Whether a published headline is new or an update of one published before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeadlineVerdictKind {
    New,
    Updated,
}

/// Where a rejected input came from, so it can be found again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SourceRef {
    /// A line of a JSONL file (1-based).
    Line { line: u64 },
    /// A Kafka record.
    Kafka {
        topic: String,
        partition: i32,
        offset: i64,
    },
}

/// An input that could not become an article, published to the dead-letter topic
/// with its original bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejected {
    pub schema_version: u32,
    pub code: RejectCode,
    pub message: String,
    pub source: SourceRef,
    /// The original input, when it is valid UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// The original input in standard base64, when it is not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_base64: Option<String>,
    /// For an input too large to keep (`input_too_large`): its full length in
    /// bytes; `input` or `input_base64` then holds only its first bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_length: Option<u64>,
    /// With `input_length`: the xxh3-64 hash of the whole input, 16 hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_xxh3: Option<String>,
}

impl Rejected {
    pub fn new(err: InvalidInput, source: SourceRef, original: &[u8]) -> Rejected {
        Rejected::from_vec(err, source, original.to_vec())
    }

    /// [`Rejected::new`] taking the bytes, so a large input is not copied.
    pub fn from_vec(err: InvalidInput, source: SourceRef, original: Vec<u8>) -> Rejected {
        let (input, input_base64) = match String::from_utf8(original) {
            Ok(s) => (Some(s), None),
            Err(e) => (
                None,
                Some(base64::engine::general_purpose::STANDARD.encode(e.as_bytes())),
            ),
        };
        Rejected {
            schema_version: SCHEMA_VERSION,
            code: err.code,
            message: err.message,
            source,
            input,
            input_base64,
            input_length: None,
            input_xxh3: None,
        }
    }

    /// Marks the kept input as the first bytes of a longer one.
    pub fn truncated_from(&mut self, length: u64, hash: u64) {
        self.input_length = Some(length);
        self.input_xxh3 = Some(format!("{hash:016x}"));
    }
}

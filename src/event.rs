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
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Version of every output record's schema; carried as `schema_version`.
pub const SCHEMA_VERSION: u32 = 1;

/// Why an input was rejected. The set is closed and the snake_case names are
/// stable: dashboards, alerts and dead-letter consumers match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
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
    /// An output made from this input could not be serialized to JSON (a
    /// defect in warta, never expected): the input goes to the dead-letter
    /// topic instead of an empty record to `clean-articles`.
    OutputUnserializable,
}

impl RejectCode {
    /// Every code, for documentation and metric pre-registration.
    pub const ALL: [RejectCode; 18] = [
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
        RejectCode::OutputUnserializable,
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
            RejectCode::OutputUnserializable => "output_unserializable",
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FetchedAtSource {
    /// The input event carried it.
    Event,
    /// The input had none; warta used the time it processed the page.
    ProcessingTime,
}

/// The id pattern: 16 lowercase hex digits (a 64-bit XXH3 digest).
pub const ID_PATTERN: &str = "^[0-9a-f]{16}$";

/// A raw page event, as crawlers write it to `raw-pages` (or one line of a
/// `warta process` JSONL file). Unknown fields are ignored, so crawlers may add
/// their own. An event this schema rejects is rejected by warta too (with the
/// code in `raw-pages-dlq`); a few checks it cannot express (an IANA zone name,
/// `input.max_content_bytes`, a page with no text) warta makes on its own.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(
    title = "raw-pages",
    extend("oneOf" = [{"required": ["content"]}, {"required": ["content_base64"]}])
)]
pub struct RawPage {
    /// The page's absolute `http` or `https` URL, as crawled. Required (missing:
    /// `missing_url`; not absolute http(s): `invalid_url`; longer than
    /// `input.max_url_bytes`, 8 KiB by default: `url_too_long`).
    #[schemars(pattern(r"^[hH][tT][tT][pP][sS]?://"))]
    pub url: String,
    /// The page, decoded: plain text (one block per line) or HTML. Must hold
    /// more than whitespace. Exactly one of `content` and `content_base64` is
    /// required (both: `ambiguous_content`). A leading byte-order mark is
    /// dropped. At most `input.max_content_bytes` (10 MiB by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", pattern(r"\S"))]
    pub content: Option<String>,
    /// The page's raw bytes in standard base64 (RFC 4648 §4, padded), for
    /// crawlers that do not decode pages. The charset comes from `charset`, the
    /// `; charset=` parameter of `content_type`, a byte-order mark or the page's
    /// `<meta charset>`, else UTF-8 or windows-1252.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", pattern(r"^\s*[A-Za-z0-9+/]*={0,2}\s*$"))]
    pub content_base64: Option<String>,
    /// The HTTP charset of `content_base64` (`utf-8`, `windows-1252`,
    /// `iso-8859-1`, …); a declaration the bytes contradict is overruled.
    /// Ignored with `content`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charset: Option<String>,
    /// When the crawler fetched the page: RFC 3339 with a `Z` or numeric
    /// offset, any sub-second precision (stored to the second); at most
    /// `input.max_future_skew_secs` (1 h) ahead of warta's clock. When absent
    /// the processing time is used and the article says
    /// `"fetched_at_source": "processing_time"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "date-time"))]
    pub fetched_at: Option<String>,
    /// The media type, case-insensitive, optionally with parameters
    /// (`text/html; charset=utf-8`): `text/plain` (or `text`), `text/html` (or
    /// `html`), `application/xhtml+xml`, or a feed (`application/rss+xml`,
    /// `application/atom+xml`, `application/xml`, `text/xml`; read through the
    /// HTML parser, items as headlines). Anything else: `unsupported_content_type`.
    /// When absent it is sniffed from the first kilobyte.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The site name, lowercased on input; defaults to the URL's host without
    /// `www.`. Headline ids are per site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// The page's language as a BCP 47 tag or ISO 639-1 or 639-3 code (`id`,
    /// `en-US`, `ind`); only its primary subtag is used, and it is published as
    /// every language is (ISO 639-1 where one exists, else 639-3). A value that
    /// is not an ISO 639 code (`English`, `xx`) is ignored and the language
    /// detected, as when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// IANA zone name (`Asia/Jakarta`) for dates the page prints without a
    /// zone; unknown names are rejected with `invalid_field`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// A title, used when the page has no title line of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Free-form crawler metadata, passed through to the article unchanged.
    /// `published_at` or `datePublished` in it (RFC 3339) is used as the
    /// publication date when the page states none.
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// The source gave the time to the second (machine-readable dates).
    Second,
    /// The source gave hours and minutes; seconds are `:00`.
    Minute,
    /// The source gave only a date; the time is local midnight `00:00:00`.
    Day,
}

/// Where a publication date was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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

/// Which source each article field came from (HTML pages only). A key is
/// absent when that field was not found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Sources {
    /// Where `title` came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "FieldSource")]
    pub title: Option<FieldSource>,
    /// Where `published_at` came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "FieldSource")]
    pub published_at: Option<FieldSource>,
    /// Where `modified_at` came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "FieldSource")]
    pub modified_at: Option<FieldSource>,
    /// Where `authors` came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "FieldSource")]
    pub authors: Option<FieldSource>,
    /// `text` when the body was extracted from the DOM, `json_ld` when it is the
    /// page's JSON-LD `articleBody`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "FieldSource")]
    pub body: Option<FieldSource>,
}

/// Something suspicious about a parsed date, reported rather than hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RejectedDate {
    /// The text the date was read from, verbatim.
    pub raw: String,
    /// Why it is not a date: `year_out_of_range`, `impossible_date` or
    /// `impossible_time`.
    pub reason: DateRejection,
}

/// A date the page states, with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Published {
    /// RFC 3339, whole seconds, with the UTC offset that applied where the
    /// page was published: the page's own zone when it prints one, else the
    /// site's configured zone, else the event's `timezone`, else the
    /// language's usual zone (`+07:00`, WIB, for Indonesian), else UTC. Local
    /// midnight for `day` precision; `:00` seconds for `minute`.
    #[schemars(extend("format" = "date-time"))]
    pub value: String,
    /// How much of `value` the source stated; the rest is filled with zeros.
    pub precision: Precision,
    /// Where the date was found.
    pub source: DateSource,
    /// The text the date was read from, verbatim (for audits; not normalized).
    pub raw: String,
    /// Doubts about the date; absent when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<DateFlag>,
}

/// A photo caption and its credit (`…/Net` → credit `Net`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Caption {
    /// The caption without its credit.
    pub text: String,
    /// The photo credit (`Net`, `Antara`, `Ist`), or null when the caption
    /// names none.
    pub credit: Option<String>,
}

/// What the parser took out of the page body, so users can see it worked.
/// Counts of lines or paragraphs, each 0 or more.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Removed {
    /// Paragraphs dropped because they repeat an earlier one.
    pub repeated_paragraphs: u32,
    /// Boilerplate lines dropped ("Baca juga", "Selengkapnya", share buttons, …).
    pub boilerplate_lines: u32,
    /// Lines of the page's headline list (published to `clean-headlines` instead).
    pub headline_items: u32,
    /// Photo captions taken out of the body (the first one is `caption`).
    pub captions: u32,
}

/// A clean article. Published to `clean-articles` (verdicts `new` and
/// `updated`, and `duplicate` under `dedup.duplicates = "mark"`) and to
/// `page-duplicates` (verdict `duplicate`, under the default
/// `dedup.duplicates = "route"`). Kafka key: `cluster_id`. Consumers must
/// ignore fields they do not know: new optional fields may appear within a
/// schema version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(extend("allOf" = [
    {
        "if": {"properties": {"verdict": {"const": "duplicate"}}},
        "then": {"required": ["similarity", "duplicate_of"]},
        "else": {"not": {"required": ["duplicate_of"]}}
    },
    {
        "if": {"properties": {"verdict": {"const": "updated"}}},
        "then": {"required": ["similarity"], "properties": {"version": {"minimum": 2}}}
    },
    {
        "if": {"properties": {"verdict": {"const": "new"}}},
        "then": {"not": {"required": ["similarity"]}}
    }
]))]
pub struct Article {
    /// Version of this record's schema; a breaking change bumps it (see
    /// `docs/events.md`, "Compatibility").
    #[schemars(extend("const" = SCHEMA_VERSION))]
    pub schema_version: u32,
    /// Stable article id: the XXH3-64 digest of `canonical_url`, 16 lowercase
    /// hex digits. Recrawls of one page share it; it does not change between
    /// releases.
    #[schemars(pattern(ID_PATTERN))]
    pub id: String,
    /// The URL exactly as the input event gave it.
    pub url: String,
    /// The URL without `www.`, fragment, tracking parameters (`utm_*`,
    /// `fbclid`, …) and trailing slash, with the query sorted.
    pub canonical_url: String,
    /// The event's `site` (lowercased), or the URL's host without `www.`.
    pub site: String,
    /// The article's title: the page's title line or heading, else the event's
    /// `title`; null when neither exists (never a caption or a headline-list
    /// title).
    pub title: Option<String>,
    /// The photo caption at the top of the article, or null when there is none.
    pub caption: Option<Caption>,
    /// Clean body paragraphs in page order: repeats, boilerplate, captions and
    /// headline lists removed, hard-wrapped lines joined. May be empty only
    /// when the page has a headline list and no body.
    pub paragraphs: Vec<String>,
    /// The paragraphs joined by blank lines (`\n\n`).
    pub text: String,
    /// When the article was published, or null when the page states no date.
    pub published_at: Option<Published>,
    /// Text pages: the date line that was not taken as `published_at`, and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_rejected: Option<RejectedDate>,
    /// The language of the text: an ISO 639-1 code (`id`, `en`), or ISO 639-3
    /// for a language without one (`ace`); lowercase. From the event's
    /// `language`, the site's configuration, the page's `<html lang>`, or
    /// detection; null when none of these gives a reliable answer.
    #[schemars(pattern("^[a-z]{2,3}$"))]
    pub language: Option<String>,
    /// Words in `text` (whitespace-separated after normalization).
    pub word_count: usize,
    /// When the page was fetched: RFC 3339 in UTC (`+00:00`), whole seconds.
    #[schemars(extend("format" = "date-time"))]
    pub fetched_at: String,
    /// Whether `fetched_at` came from the event or is the processing time.
    pub fetched_at_source: FetchedAtSource,
    /// XXH3-64 digest of the normalized body (NFKC, case-folded, punctuation
    /// collapsed), 16 lowercase hex digits: equal bodies have equal hashes.
    #[schemars(pattern(ID_PATTERN))]
    pub content_hash: String,
    /// What the parser removed from the body.
    pub removed: Removed,
    /// Near-duplicate verdict: `new`, `updated` or `duplicate` (an `unchanged`
    /// recrawl is counted, not published).
    pub verdict: ArticleVerdict,
    /// 1 for a new article, +1 for each update of the same canonical URL.
    #[schemars(range(min = 1))]
    pub version: u32,
    /// The story's cluster: the `id` of its first-seen article. Versions and
    /// copies share it, and it is the Kafka key. Depends on arrival order and
    /// on the dedup state's TTL, so it is stable only while that state lives.
    #[schemars(pattern(ID_PATTERN))]
    pub cluster_id: String,
    /// Present for `updated` (similarity to the previous version) and
    /// `duplicate` (to the article it copies): estimated Jaccard similarity of
    /// word shingles, 0 to 1, three decimals. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    #[schemars(with = "f64")]
    pub similarity: Option<f64>,
    /// Present for `duplicate` only: the `id` of the first-seen article it copies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(ID_PATTERN))]
    #[schemars(with = "String")]
    pub duplicate_of: Option<String>,
    /// The input event's `metadata`, unchanged; absent when it had none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Map<String, Value>")]
    pub metadata: Option<Map<String, Value>>,
    /// HTML pages: the last-modified date the page states (JSON-LD
    /// `dateModified`, `article:modified_time`, …); absent when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Published")]
    pub modified_at: Option<Published>,
    /// HTML pages: the authors the page states (JSON-LD `author`,
    /// `<meta name=author>`), in page order; absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authors: Vec<String>,
    /// HTML pages: where `title`, `published_at`, `modified_at`, `authors` and
    /// the body came from; absent on text pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Sources")]
    pub sources: Option<Sources>,
}

/// The near-duplicate verdict on an article.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArticleVerdict {
    /// The first article seen at this canonical URL with this story.
    New,
    /// A recrawl whose body did not change. Counted, never published; listed
    /// so the enum matches the `warta-verdict` header and metrics.
    Unchanged,
    /// A recrawl whose body changed: `version` went up by one.
    Updated,
    /// A copy of an article first seen at another URL (`duplicate_of`).
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

/// One item of a page's headline list (a title followed by its date, at least
/// twice in a row, or a feed's items), published to `clean-headlines`. Kafka
/// key: `id`. Consumers must ignore fields they do not know.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(extend(
    "if" = {"properties": {"published_at": {"type": "null"}}},
    "then" = {"not": {"required": ["precision"]}},
    "else" = {"required": ["precision"]}
))]
pub struct Headline {
    /// Version of this record's schema (see `docs/events.md`, "Compatibility").
    #[schemars(extend("const" = SCHEMA_VERSION))]
    pub schema_version: u32,
    /// Stable headline id: the XXH3-64 digest of `site` and the normalized
    /// title, 16 lowercase hex digits. The same headline on every page of a
    /// site has one id, in every release.
    #[schemars(pattern(ID_PATTERN))]
    pub id: String,
    /// The site the list was on (see `Article.site`).
    pub site: String,
    /// The headline as printed, whitespace collapsed.
    pub title: String,
    /// The item's link, absolute, when the page gives one (HTML pages and
    /// feeds); absent on text pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub url: Option<String>,
    /// The item's time: RFC 3339, whole seconds, with the offset that applied
    /// on the page (as `Article.published_at.value`); null when the item's
    /// date could not be read.
    #[schemars(extend("format" = "date-time"))]
    pub published_at: Option<String>,
    /// How much of `published_at` the page stated; absent when
    /// `published_at` is null.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Precision")]
    pub precision: Option<Precision>,
    /// Doubts about the item's date; absent when there are none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<DateFlag>,
    /// `new` for the first sighting within the TTL, `updated` when the item's
    /// time changed since it was published.
    pub verdict: HeadlineVerdictKind,
    /// The URL of the page the list was seen on, as the event gave it.
    pub seen_on: String,
    /// 1-based place in the page's list.
    #[schemars(range(min = 1))]
    pub position: u32,
}

/// Whether a published headline is new or an update of one published before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HeadlineVerdictKind {
    /// Not seen on this site within `dedup.ttl_secs`.
    New,
    /// Seen before with another time.
    Updated,
}

/// Where a rejected input came from, so it can be found again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum SourceRef {
    /// A line of a JSONL file.
    Line {
        /// 1-based line number in the input file (or stdin).
        #[schemars(range(min = 1))]
        line: u64,
    },
    /// A Kafka record.
    Kafka {
        /// The input topic.
        topic: String,
        /// The input partition.
        partition: i32,
        /// The input record's offset.
        offset: i64,
    },
}

/// An input that could not become an article, with its original bytes: what
/// `warta process` writes for `raw-pages-dlq`. (In Kafka mode the dead letter is
/// the input record itself, with this information in `warta-*` headers; see
/// `docs/events.md`.) Exactly one of `input` and `input_base64` is present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(extend("oneOf" = [{"required": ["input"]}, {"required": ["input_base64"]}]))]
pub struct Rejected {
    /// Version of this record's schema (see `docs/events.md`, "Compatibility").
    #[schemars(extend("const" = SCHEMA_VERSION))]
    pub schema_version: u32,
    /// Why: a stable snake_case code from a closed set (new codes may be added
    /// within a schema version; consumers must accept codes they do not know).
    pub code: RejectCode,
    /// What was wrong, for people. Wording may change; match on `code`.
    pub message: String,
    /// Where the input was read.
    pub source: SourceRef,
    /// The original input, when it is valid UTF-8; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub input: Option<String>,
    /// The original input in standard base64, when it is not UTF-8; absent
    /// otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub input_base64: Option<String>,
    /// For an input too large to keep (`input_too_large`): its full length in
    /// bytes; `input` or `input_base64` then holds only its first bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "u64")]
    pub input_length: Option<u64>,
    /// With `input_length`: the xxh3-64 hash of the whole input, 16 hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", pattern(ID_PATTERN))]
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

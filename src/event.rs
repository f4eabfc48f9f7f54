//! Input and output event types, their schema version, and the validation that
//! turns raw input bytes into a [`Page`] or a [`Rejected`] with a stable code.
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
    /// The page's language as a BCP 47 tag or ISO 639 code (`id`, `en-US`);
    /// only its primary subtag is used. A value that is not one (`English`) is
    /// ignored and the language detected, as when absent.
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
    /// The canonical form (see [`canonical_url`]); the article id derives from it.
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

/// Limits applied while validating input.
#[derive(Debug, Clone, Copy)]
pub struct InputLimits {
    pub max_content_bytes: usize,
    /// Longest `url` accepted, in bytes.
    pub max_url_bytes: usize,
    /// How far `fetched_at` may lie ahead of the time the input is read.
    pub max_future_skew_secs: u32,
}

impl Default for InputLimits {
    /// The values of `config/default.toml`.
    fn default() -> Self {
        InputLimits {
            max_content_bytes: 10 << 20,
            max_url_bytes: 8 << 10,
            max_future_skew_secs: 3600,
        }
    }
}

/// The fields of an input event warta reads. Any other field is skipped by
/// the JSON reader without being converted (a number beyond f64's range in a
/// crawler's own field must not reject the page).
const KNOWN_FIELDS: [&str; 11] = [
    "url",
    "content",
    "content_base64",
    "charset",
    "fetched_at",
    "content_type",
    "site",
    "language",
    "timezone",
    "title",
    "metadata",
];

/// A JSON document read with only [`KNOWN_FIELDS`] kept, or what else it was.
enum Document {
    Object(Map<String, Value>),
    Other(&'static str),
}

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Document;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Document, A::Error> {
                let mut out = Map::new();
                while let Some(k) = m.next_key::<String>()? {
                    if KNOWN_FIELDS.contains(&k.as_str()) {
                        out.insert(k, m.next_value::<Value>()?);
                    } else {
                        m.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(Document::Object(out))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Document, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Document::Other("array"))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Document, E> {
                Ok(Document::Other("boolean"))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Document, E> {
                Ok(Document::Other("number"))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Document, E> {
                Ok(Document::Other("number"))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Document, E> {
                Ok(Document::Other("number"))
            }
            fn visit_str<E>(self, _: &str) -> Result<Document, E> {
                Ok(Document::Other("string"))
            }
            fn visit_unit<E>(self) -> Result<Document, E> {
                Ok(Document::Other("null"))
            }
        }
        d.deserialize_any(V)
    }
}

/// Removes control characters other than tab, line feed, carriage return and
/// form feed: an escaped `\u0000` in the event is not text anyone wrote, and
/// downstream consumers (C strings, terminals, databases) choke on them.
pub fn strip_controls(s: String) -> String {
    let bad = |c: char| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c');
    // The common case, no control characters, costs one scan and no copy.
    if !s.chars().any(bad) {
        return s;
    }
    s.chars().filter(|&c| !bad(c)).collect()
}

/// An HTML document as the pipeline would validate it: decoded from its
/// declared or sniffed charset and wrapped in a raw page. For tests and tooling,
/// which hold HTML files rather than raw page events.
pub fn html_page(url: &str, html: &[u8], fetched_at: &str) -> Option<Page> {
    let content = crate::parse::html::charset::decode(html, None).0;
    let raw = serde_json::json!({
        "url": url,
        "content": content,
        "content_type": "text/html",
        "fetched_at": fetched_at,
    });
    let bytes = serde_json::to_vec(&raw).ok()?;
    Page::from_bytes(
        &bytes,
        InputLimits {
            max_content_bytes: 64 << 20,
            ..InputLimits::default()
        },
        Utc::now(),
    )
    .ok()
}

impl Page {
    /// Validates raw input bytes. `now` stands in for a missing `fetched_at`.
    pub fn from_bytes(
        bytes: &[u8],
        limits: InputLimits,
        now: DateTime<Utc>,
    ) -> Result<Page, InvalidInput> {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            InvalidInput::new(
                RejectCode::InvalidUtf8,
                format!("input is not valid UTF-8: {e}"),
            )
        })?;
        // A byte-order mark that an editor or a Windows tool put before the
        // JSON is not part of it (RFC 8259 lets readers ignore it).
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let document: Document = serde_json::from_str(text).map_err(|e| {
            InvalidInput::new(RejectCode::InvalidJson, format!("input is not JSON: {e}"))
        })?;
        let mut obj = match document {
            Document::Object(obj) => obj,
            Document::Other(kind) => {
                return Err(InvalidInput::new(
                    RejectCode::NotAnObject,
                    format!("input is a JSON {kind}, not an object"),
                ))
            }
        };
        let url = take_string(&mut obj, "url")?
            .ok_or_else(|| InvalidInput::new(RejectCode::MissingUrl, "`url` is missing"))?;
        if url.len() > limits.max_url_bytes {
            return Err(InvalidInput::new(
                RejectCode::UrlTooLong,
                format!(
                    "`url` is {} bytes, over the limit of {} (input.max_url_bytes)",
                    url.len(),
                    limits.max_url_bytes
                ),
            ));
        }
        let parsed_url = url::Url::parse(&url).map_err(|e| {
            InvalidInput::new(
                RejectCode::InvalidUrl,
                format!("`url` is not an absolute URL ({e})"),
            )
        })?;
        if !matches!(parsed_url.scheme(), "http" | "https") {
            return Err(InvalidInput::new(
                RejectCode::InvalidUrl,
                format!(
                    "`url` must be http(s), got scheme `{}`",
                    parsed_url.scheme()
                ),
            ));
        }
        // The URL parser reads `https:///path` as host `path`, as browsers
        // do with a typed address; from a crawler it is a URL without a host.
        let after_scheme = &url.trim_start()[parsed_url.scheme().len()..];
        let empty_host = after_scheme
            .strip_prefix(':')
            .map(|r| r.trim_start_matches(['/', '\\']))
            .is_some_and(|r| {
                after_scheme.len() - r.len() > 3 || r.is_empty() || r.starts_with(['?', '#'])
            });
        if empty_host || parsed_url.host_str().is_none_or(str::is_empty) {
            return Err(InvalidInput::new(
                RejectCode::InvalidUrl,
                "`url` has no host",
            ));
        }
        let charset = take_string(&mut obj, "charset")?;
        let text_content = take_string(&mut obj, "content")?;
        let b64_content = take_string(&mut obj, "content_base64")?;
        let content = match (text_content, b64_content) {
            (Some(_), Some(_)) => {
                return Err(InvalidInput::new(
                    RejectCode::AmbiguousContent,
                    "both `content` and `content_base64` are present; send one",
                ))
            }
            // A byte-order mark that survived the crawler's decoding is not text.
            (Some(c), None) => match c.strip_prefix('\u{feff}') {
                Some(rest) => rest.to_string(),
                None => c,
            },
            (None, None) => {
                return Err(InvalidInput::new(
                    RejectCode::MissingContent,
                    "`content` (or `content_base64`) is missing",
                ))
            }
            (None, Some(b64)) => {
                // Raw page bytes the crawler did not decode: the charset comes
                // from the event (`charset`, or `content_type`'s parameter), a
                // BOM or the page's <meta> (see parse::html::charset).
                // Checked before decoding, so a huge field is not decoded to be
                // thrown away: base64 is 4 bytes per 3.
                let b64 = b64.trim();
                if b64.len() / 4 * 3 > limits.max_content_bytes.saturating_add(3) {
                    return Err(InvalidInput::new(
                        RejectCode::ContentTooLarge,
                        format!(
                            "`content_base64` is about {} bytes decoded, over the limit of {} (input.max_content_bytes)",
                            b64.len() / 4 * 3,
                            limits.max_content_bytes
                        ),
                    ));
                }
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|e| {
                        InvalidInput::new(
                            RejectCode::InvalidField,
                            format!("`content_base64` is not standard base64 ({e})"),
                        )
                    })?;
                if bytes.len() > limits.max_content_bytes {
                    return Err(InvalidInput::new(
                        RejectCode::ContentTooLarge,
                        format!(
                            "`content_base64` is {} bytes decoded, over the limit of {} (input.max_content_bytes)",
                            bytes.len(),
                            limits.max_content_bytes
                        ),
                    ));
                }
                let declared = charset.clone().or_else(|| {
                    obj.get("content_type")
                        .and_then(Value::as_str)
                        .and_then(crate::parse::html::meta::charset_of_content_type)
                });
                let decoded = crate::parse::html::charset::decode(&bytes, declared.as_deref()).0;
                if decoded.len() > limits.max_content_bytes {
                    return Err(InvalidInput::new(
                        RejectCode::ContentTooLarge,
                        format!(
                            "`content_base64` is {} bytes once decoded to text, over the limit of {} (input.max_content_bytes)",
                            decoded.len(),
                            limits.max_content_bytes
                        ),
                    ));
                }
                decoded
            }
        };
        let content = strip_controls(content);
        if content.len() > limits.max_content_bytes {
            return Err(InvalidInput::new(
                RejectCode::ContentTooLarge,
                format!(
                    "`content` is {} bytes, over the limit of {} (input.max_content_bytes)",
                    content.len(),
                    limits.max_content_bytes
                ),
            ));
        }
        if content.trim().is_empty() {
            return Err(InvalidInput::new(
                RejectCode::EmptyContent,
                "`content` is empty or whitespace",
            ));
        }
        let (fetched_at, fetched_at_source) = match take_string(&mut obj, "fetched_at")? {
            Some(s) => {
                let t = DateTime::parse_from_rfc3339(&s).map_err(|e| {
                    InvalidInput::new(
                        RejectCode::InvalidField,
                        format!("`fetched_at` is not RFC 3339 ({e})"),
                    )
                })?;
                let t = t.with_timezone(&Utc);
                let skew = i64::from(limits.max_future_skew_secs);
                if (t - now).num_seconds() > skew {
                    return Err(InvalidInput::new(
                        RejectCode::FetchedAtInFuture,
                        format!(
                            "`fetched_at` {s} is more than {skew} s after the time the input was read, {} (input.max_future_skew_secs)",
                            rfc3339(&now)
                        ),
                    ));
                }
                (t, FetchedAtSource::Event)
            }
            None => (now, FetchedAtSource::ProcessingTime),
        };
        let content_type = match take_string(&mut obj, "content_type")? {
            None => sniff_content_type(&content),
            Some(s) => parse_content_type(&s).ok_or_else(|| {
                InvalidInput::new(
                    RejectCode::UnsupportedContentType,
                    format!("`content_type` {s:?} is not text/plain or text/html"),
                )
            })?,
        };
        let timezone = match take_string(&mut obj, "timezone")? {
            None => None,
            Some(s) => Some(s.parse::<Tz>().map_err(|_| {
                InvalidInput::new(
                    RejectCode::InvalidField,
                    "`timezone` is not an IANA zone name",
                )
            })?),
        };
        let site = match take_string(&mut obj, "site")? {
            Some(s) if !s.trim().is_empty() => strip_controls(s).trim().to_ascii_lowercase(),
            _ => site_of(&parsed_url),
        };
        // Only the primary subtag is a language code; a hint that is not one
        // is dropped and the language detected, as when absent.
        let language = take_string(&mut obj, "language")?.and_then(|l| language_code(&l));
        let title = take_string(&mut obj, "title")?
            .map(|t| strip_controls(t).trim().to_string())
            .filter(|t| !t.is_empty());
        let metadata = match obj.remove("metadata") {
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) => Some(m),
            Some(other) => {
                return Err(InvalidInput::new(
                    RejectCode::InvalidField,
                    format!("`metadata` must be an object, got {}", json_kind(&other)),
                ))
            }
        };
        Ok(Page {
            canonical_url: canonical_url(&parsed_url),
            url,
            site,
            content,
            content_type,
            fetched_at,
            fetched_at_source,
            language,
            timezone,
            title,
            metadata,
        })
    }
}

/// The primary subtag of a BCP 47 tag or ISO 639 code (`en-US` → `en`), or
/// `None` when it is not 2 or 3 ASCII letters.
fn language_code(tag: &str) -> Option<String> {
    let primary = tag.trim().split(['-', '_']).next()?;
    ((2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| primary.to_ascii_lowercase())
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Takes an optional string field; null counts as absent, any other type is an error.
fn take_string(obj: &mut Map<String, Value>, key: &str) -> Result<Option<String>, InvalidInput> {
    match obj.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(InvalidInput::new(
            RejectCode::InvalidField,
            format!("`{key}` must be a string, got {}", json_kind(&other)),
        )),
    }
}

fn parse_content_type(s: &str) -> Option<ContentType> {
    let base = s
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match base.as_str() {
        "text/plain" | "text" => Some(ContentType::Text),
        // Feeds go through the HTML parser, which reads their items as headlines.
        "text/html"
        | "html"
        | "application/xhtml+xml"
        | "application/rss+xml"
        | "application/atom+xml"
        | "application/xml"
        | "text/xml" => Some(ContentType::Html),
        _ => None,
    }
}

/// Markup in the first kilobyte means HTML; anything else is treated as text.
fn sniff_content_type(content: &str) -> ContentType {
    let head = &content.as_bytes()[..content.len().min(1024)];
    // Text pages rarely contain '<' at all; that one memchr settles most pages.
    if !head.contains(&b'<') {
        return ContentType::Text;
    }
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let markers = [
        "<!doctype html",
        "<html",
        "<head",
        "<body",
        "<div",
        "<p>",
        "<article",
        "<rss",
        "<feed",
        "<?xml",
    ];
    if markers.iter().any(|m| head.contains(m)) {
        ContentType::Html
    } else {
        ContentType::Text
    }
}

/// The site a URL belongs to: its host, lowercased, without a leading `www.`.
pub fn site_of(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    host.strip_prefix("www.").unwrap_or(&host).to_string()
}

/// Query parameters that identify a campaign or a click, not a page.
const TRACKING_PARAMS: [&str; 8] = [
    "fbclid", "gclid", "dclid", "msclkid", "igshid", "mc_cid", "mc_eid", "_ga",
];

/// The canonical form of a page URL: lowercase scheme and host, no `www.`, no
/// fragment, no default port, no tracking parameters, the remaining query
/// parameters sorted, and no trailing slash on a non-root path. Two URLs a crawler
/// reaches for the same page map to the same id.
pub fn canonical_url(url: &url::Url) -> String {
    let mut u = url.clone();
    u.set_fragment(None);
    let host = site_of(&u);
    let _ = u.set_host(Some(&host));
    let mut pairs: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            !k.starts_with("utm_") && !TRACKING_PARAMS.contains(&k.as_str())
        })
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.sort();
    if pairs.is_empty() {
        u.set_query(None);
    } else {
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    let path = u.path().to_string();
    if path.len() > 1 && path.ends_with('/') {
        u.set_path(path.trim_end_matches('/'));
    }
    u.to_string()
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

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: InputLimits = InputLimits {
        max_content_bytes: 64,
        max_url_bytes: 8192,
        max_future_skew_secs: 3600,
    };

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2025-12-31T05:15:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn code_of(input: &[u8]) -> RejectCode {
        Page::from_bytes(input, LIMITS, now()).unwrap_err().code
    }

    #[test]
    fn each_bad_input_has_its_own_code() {
        assert_eq!(code_of(b"{not json"), RejectCode::InvalidJson);
        assert_eq!(code_of(b"[1,2]"), RejectCode::NotAnObject);
        assert_eq!(code_of(b"\"x\""), RejectCode::NotAnObject);
        assert_eq!(code_of(b"{\"content\":\"x\"}"), RejectCode::MissingUrl);
        assert_eq!(
            code_of(b"{\"url\":\"/rel/path\",\"content\":\"x\"}"),
            RejectCode::InvalidUrl
        );
        assert_eq!(
            code_of(b"{\"url\":\"ftp://a.id/x\",\"content\":\"x\"}"),
            RejectCode::InvalidUrl
        );
        assert_eq!(
            code_of(b"{\"url\":\"https://a.id/x\"}"),
            RejectCode::MissingContent
        );
        assert_eq!(
            code_of(b"{\"url\":\"https://a.id/x\",\"content\":\" \\n\\t \"}"),
            RejectCode::EmptyContent
        );
        let big = format!(
            "{{\"url\":\"https://a.id/x\",\"content\":\"{}\"}}",
            "a".repeat(65)
        );
        assert_eq!(code_of(big.as_bytes()), RejectCode::ContentTooLarge);
        assert_eq!(
            code_of(b"{\"url\":\"https://a.id/\xff\"}"),
            RejectCode::InvalidUtf8
        );
        assert_eq!(
            code_of(b"{\"url\":\"https://a.id/x\",\"content\":\"x\",\"fetched_at\":\"yesterday\"}"),
            RejectCode::InvalidField
        );
        assert_eq!(
            code_of(b"{\"url\":\"https://a.id/x\",\"content\":\"x\",\"timezone\":\"Mars/Base\"}"),
            RejectCode::InvalidField
        );
        assert_eq!(
            code_of(b"{\"url\":5,\"content\":\"x\"}"),
            RejectCode::InvalidField
        );
    }

    #[test]
    fn missing_fetched_at_uses_processing_time_and_says_so() {
        let p = Page::from_bytes(
            b"{\"url\":\"https://www.Rmol.id/a/b/?utm_source=x&b=2&a=1#top\",\"content\":\"hello\"}",
            LIMITS,
            now(),
        )
        .unwrap();
        assert_eq!(p.fetched_at, now());
        assert_eq!(p.fetched_at_source, FetchedAtSource::ProcessingTime);
        assert_eq!(p.site, "rmol.id");
        assert_eq!(p.canonical_url, "https://rmol.id/a/b?a=1&b=2");
        assert_eq!(p.content_type, ContentType::Text);
    }

    #[test]
    fn a_language_hint_keeps_its_primary_subtag_or_is_dropped() {
        assert_eq!(language_code(" en-US ").as_deref(), Some("en"));
        assert_eq!(language_code("ID").as_deref(), Some("id"));
        assert_eq!(language_code("ace_ID").as_deref(), Some("ace"));
        assert_eq!(language_code("English"), None);
        assert_eq!(language_code("e"), None);
        assert_eq!(language_code(""), None);
    }

    #[test]
    fn sniffs_html() {
        assert_eq!(sniff_content_type("<!DOCTYPE html><p>x"), ContentType::Html);
        assert_eq!(sniff_content_type("Judul\nIsi"), ContentType::Text);
    }

    #[test]
    fn raw_bytes_are_decoded_with_the_declared_or_sniffed_charset() {
        let limits = InputLimits {
            max_content_bytes: 1 << 20,
            ..InputLimits::default()
        };
        let page = |json: &str| Page::from_bytes(json.as_bytes(), limits, now()).unwrap();
        // "<p>caf\xe9</p>" in windows-1252, declared by the event.
        let p = page(
            r#"{"url":"https://a.id/x","content_base64":"PHA+Y2Fm6TwvcD4=","charset":"iso-8859-1"}"#,
        );
        assert_eq!(p.content, "<p>café</p>");
        assert_eq!(p.content_type, ContentType::Html);
        // Declared in content_type's parameter.
        let p = page(
            r#"{"url":"https://a.id/x","content_base64":"PHA+Y2Fm6TwvcD4=","content_type":"text/html; charset=windows-1252"}"#,
        );
        assert_eq!(p.content, "<p>café</p>");
        // A BOM in a decoded string is dropped.
        let p = page("{\"url\":\"https://a.id/x\",\"content\":\"\u{feff}<p>x</p>\"}");
        assert_eq!(p.content, "<p>x</p>");
        assert_eq!(
            Page::from_bytes(
                br#"{"url":"https://a.id/x","content_base64":"%%%"}"#,
                limits,
                now()
            )
            .unwrap_err()
            .code,
            RejectCode::InvalidField
        );
    }

    #[test]
    fn real_world_event_quirks() {
        let limits = InputLimits::default();
        let page = |json: &str| Page::from_bytes(json.as_bytes(), limits, now());
        let code = |json: &str| page(json).unwrap_err().code;
        // A BOM before the JSON (a file saved by a Windows editor).
        assert!(page("\u{feff}{\"url\":\"https://a.id/x\",\"content\":\"x\"}").is_ok());
        assert_eq!(
            code(r#"{"url":"https://a.id/x","content":"x","content_base64":"eA=="}"#),
            RejectCode::AmbiguousContent
        );
        for url in ["https:///path", "https:////a.id/x", "http://?q=1"] {
            let json = format!(r#"{{"url":"{url}","content":"x"}}"#);
            assert_eq!(code(&json), RejectCode::InvalidUrl, "{url}");
        }
        let p = page(
            r#"{"url":"https://a.id/x","content":"a\u0000b\u0007c\nd\te","title":"T\u0000","site":"a\u001b.id"}"#,
        )
        .unwrap();
        assert_eq!(p.content, "abc\nd\te");
        assert_eq!(p.title.as_deref(), Some("T"));
        assert_eq!(p.site, "a.id");
        // Unknown fields are skipped unread, whatever they hold.
        assert!(page(
            r#"{"crawler_score":1e999,"n":123456789012345678901234567890e300,"url":"https://a.id/x","content":"x"}"#
        )
        .is_ok());
        let small = InputLimits {
            max_content_bytes: 4,
            ..InputLimits::default()
        };
        let e = Page::from_bytes(
            br#"{"url":"https://a.id/x","content_base64":"QUJDREVGR0g="}"#,
            small,
            now(),
        )
        .unwrap_err();
        assert_eq!(e.code, RejectCode::ContentTooLarge);
        assert!(e.message.contains("`content_base64`"), "{}", e.message);
        let long = format!(
            r#"{{"url":"https://a.id/{}","content":"x"}}"#,
            "a".repeat(9000)
        );
        assert_eq!(code(&long), RejectCode::UrlTooLong);
    }

    #[test]
    fn fetched_at_may_not_run_ahead_of_the_clock() {
        let at = |t: &str| {
            Page::from_bytes(
                format!(r#"{{"url":"https://a.id/x","content":"x","fetched_at":"{t}"}}"#)
                    .as_bytes(),
                InputLimits::default(),
                now(),
            )
            .map(|p| p.fetched_at)
            .map_err(|e| e.code)
        };
        // now() is 05:15; the default skew is an hour.
        assert!(at("2025-12-31T06:14:00Z").is_ok());
        assert!(at("2024-01-01T00:00:00Z").is_ok());
        for t in [
            "2025-12-31T06:16:00Z",
            "2026-01-08T05:15:00Z",
            "9999-12-31T23:59:59Z",
        ] {
            assert_eq!(at(t), Err(RejectCode::FetchedAtInFuture), "{t}");
        }
    }

    #[test]
    fn rejected_keeps_original_bytes() {
        let err = InvalidInput::new(RejectCode::InvalidUtf8, "bad");
        let r = Rejected::new(err, SourceRef::Line { line: 3 }, b"\xff\x00a");
        assert_eq!(r.input, None);
        assert_eq!(r.input_base64.as_deref(), Some("/wBh"));
    }
}

//! Raw input bytes → a validated [`Page`], or an [`InvalidInput`] with a stable
//! [`RejectCode`]: UTF-8, JSON, an object, an absolute http(s) URL, content
//! (text, or raw bytes in `content_base64` decoded by [`crate::charset`])
//! within the size limits, RFC 3339 `fetched_at`, a known `content_type`, an
//! IANA `timezone`, and an object for `metadata`.
//!
//! It knows the event types and nothing of parsing: what the page says is the
//! parser's business.

use std::fmt;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::canonical::{canonical_url, site_of};
use crate::event::{rfc3339, ContentType, FetchedAtSource, InvalidInput, Page, RejectCode};

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
    let content = crate::charset::decode(html, None).0;
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
                // BOM or the page's <meta> (see crate::charset).
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
                        .and_then(crate::charset::charset_of_content_type)
                });
                let decoded = crate::charset::decode(&bytes, declared.as_deref()).0;
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
        let language = take_string(&mut obj, "language")?.and_then(|l| crate::language::code(&l));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Rejected, SourceRef};

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
    fn a_language_hint_is_published_by_the_one_rule_or_dropped() {
        let language = |tag: &str| {
            let input =
                format!("{{\"url\":\"https://a.id/x\",\"content\":\"x\",\"language\":\"{tag}\"}}");
            Page::from_bytes(input.as_bytes(), LIMITS, now())
                .expect("valid")
                .language
        };
        assert_eq!(language(" en-US ").as_deref(), Some("en"));
        assert_eq!(language("IND").as_deref(), Some("id"));
        assert_eq!(language("ace_ID").as_deref(), Some("ace"));
        assert_eq!(language("English"), None);
        assert_eq!(language("xx"), None);
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

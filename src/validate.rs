//! Raw input bytes → a validated [`Page`], or an [`InvalidInput`] with a stable
//! [`RejectCode`]: UTF-8, JSON, an object, an absolute http(s) URL, content
//! (text, or raw bytes in `content_base64` decoded by [`crate::charset`])
//! within the size limit, RFC 3339 `fetched_at`, a known `content_type`, an
//! IANA `timezone`, and an object for `metadata`.
//!
//! It knows the event types and nothing of parsing: what the page says is the
//! parser's business.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value};

use crate::canonical::{canonical_url, site_of};
use crate::event::{ContentType, FetchedAtSource, InvalidInput, Page, RejectCode};

/// Limits applied while validating input.
#[derive(Debug, Clone, Copy)]
pub struct InputLimits {
    pub max_content_bytes: usize,
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
        let value: Value = serde_json::from_str(text).map_err(|e| {
            InvalidInput::new(RejectCode::InvalidJson, format!("input is not JSON: {e}"))
        })?;
        let Value::Object(mut obj) = value else {
            return Err(InvalidInput::new(
                RejectCode::NotAnObject,
                format!("input is a JSON {}, not an object", json_kind(&value)),
            ));
        };
        let url = take_string(&mut obj, "url")?
            .ok_or_else(|| InvalidInput::new(RejectCode::MissingUrl, "`url` is missing"))?;
        let parsed_url = url::Url::parse(&url).map_err(|e| {
            InvalidInput::new(
                RejectCode::InvalidUrl,
                format!("`url` is not an absolute URL ({e})"),
            )
        })?;
        if !matches!(parsed_url.scheme(), "http" | "https") || parsed_url.host_str().is_none() {
            return Err(InvalidInput::new(
                RejectCode::InvalidUrl,
                format!(
                    "`url` must be http(s), got scheme `{}`",
                    parsed_url.scheme()
                ),
            ));
        }
        let charset = take_string(&mut obj, "charset")?;
        let content = match take_string(&mut obj, "content")? {
            // A byte-order mark that survived the crawler's decoding is not text.
            Some(c) => match c.strip_prefix('\u{feff}') {
                Some(rest) => rest.to_string(),
                None => c,
            },
            None => {
                // Raw page bytes the crawler did not decode: the charset comes
                // from the event (`charset`, or `content_type`'s parameter), a
                // BOM or the page's <meta> (see parse::html::charset).
                let b64 = take_string(&mut obj, "content_base64")?.ok_or_else(|| {
                    InvalidInput::new(
                        RejectCode::MissingContent,
                        "`content` (or `content_base64`) is missing",
                    )
                })?;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64.trim())
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
                crate::charset::decode(&bytes, declared.as_deref()).0
            }
        };
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
                (t.with_timezone(&Utc), FetchedAtSource::Event)
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
            Some(s) if !s.trim().is_empty() => s.trim().to_ascii_lowercase(),
            _ => site_of(&parsed_url),
        };
        let language = take_string(&mut obj, "language")?
            .map(|l| l.trim().to_ascii_lowercase())
            .filter(|l| !l.is_empty());
        let title = take_string(&mut obj, "title")?
            .map(|t| t.trim().to_string())
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
    fn sniffs_html() {
        assert_eq!(sniff_content_type("<!DOCTYPE html><p>x"), ContentType::Html);
        assert_eq!(sniff_content_type("Judul\nIsi"), ContentType::Text);
    }

    #[test]
    fn raw_bytes_are_decoded_with_the_declared_or_sniffed_charset() {
        let limits = InputLimits {
            max_content_bytes: 1 << 20,
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
    fn rejected_keeps_original_bytes() {
        let err = InvalidInput::new(RejectCode::InvalidUtf8, "bad");
        let r = Rejected::new(err, SourceRef::Line { line: 3 }, b"\xff\x00a");
        assert_eq!(r.input, None);
        assert_eq!(r.input_base64.as_deref(), Some("/wBh"));
    }
}

//! Fuzz target for the HTML path: arbitrary bytes as a page's raw body
//! (`content_base64`, so charset decoding is fuzzed too) and as a decoded
//! string, through validation and the parser. Any panic, stack overflow,
//! slow input (libFuzzer's -timeout) or memory blow-up (-rss_limit_mb) is a
//! finding.

#![no_main]

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use warta::event::{InputLimits, Page};
use warta::parse::{Parser, SiteHints};

fuzz_target!(|data: &[u8]| {
    let limits = InputLimits::default();
    let now = chrono::DateTime::from_timestamp(1_767_158_100, 0).unwrap_or_default();
    let mut parser = Parser::new();
    let raw = serde_json::json!({
        "url": "https://example.id/berita/1",
        "content_base64": base64::engine::general_purpose::STANDARD.encode(data),
        "content_type": "text/html",
    });
    if let Ok(bytes) = serde_json::to_vec(&raw) {
        if let Ok(page) = Page::from_bytes(&bytes, limits, now) {
            let _ = parser.parse(&page, &SiteHints::default());
        }
    }
    let text = String::from_utf8_lossy(data);
    let raw = serde_json::json!({
        "url": "https://example.id/berita/1",
        "content": text,
        "content_type": "text/html",
    });
    if let Ok(bytes) = serde_json::to_vec(&raw) {
        if let Ok(page) = Page::from_bytes(&bytes, limits, now) {
            let _ = parser.parse(&page, &SiteHints::default());
        }
    }
});

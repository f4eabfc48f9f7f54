//! Fuzz target for the plain-text path: arbitrary bytes (lossily decoded) as a
//! `text/plain` page through validation and the text-page parser: line
//! classification, headline lists, wrap repair and repeat removal. A panic, a
//! slow input (-timeout) or a memory blow-up (-rss_limit_mb) is a finding.

#![no_main]

use libfuzzer_sys::fuzz_target;
use warta::event::{InputLimits, Page};
use warta::parse::{Parser, SiteHints};

fuzz_target!(|data: &[u8]| {
    let now = chrono::DateTime::from_timestamp(1_767_158_100, 0).unwrap_or_default();
    let raw = serde_json::json!({
        "url": "https://example.id/berita/1",
        "content": String::from_utf8_lossy(data),
        "content_type": "text/plain",
        "fetched_at": "2025-12-31T05:15:00Z",
    });
    if let Ok(bytes) = serde_json::to_vec(&raw) {
        if let Ok(page) = Page::from_bytes(&bytes, InputLimits::default(), now) {
            let _ = Parser::new().parse(&page, &SiteHints::default());
        }
    }
});

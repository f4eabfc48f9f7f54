//! Hostile HTML never panics, overflows the stack or runs away in time: a
//! 10 MiB page, 100,000-deep nesting, unclosed tags, binary garbage labelled as
//! HTML, a wrong charset declaration, and arbitrary strings (proptest). Each runs
//! on the default 2 MiB test-thread stack, in the debug build CI uses, with a
//! generous wall-clock bound that a quadratic algorithm would still blow.

use std::time::{Duration, Instant};

use base64::Engine as _;
use chrono::{DateTime, Utc};
use proptest::prelude::*;
use warta::event::Page;
use warta::parse::{ParsedPage, Parser, SiteHints};
use warta::validate::InputLimits;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-12-31T05:15:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn page_json(json: serde_json::Value) -> Page {
    let bytes = serde_json::to_vec(&json).unwrap();
    Page::from_bytes(
        &bytes,
        InputLimits {
            max_content_bytes: 10 << 20,
            ..InputLimits::default()
        },
        now(),
    )
    .expect("valid page")
}

/// A page, or `None` when validation rejects it (empty content): rejection
/// is a fine outcome for garbage, and the parser never sees it.
fn try_page(json: serde_json::Value) -> Option<Page> {
    let bytes = serde_json::to_vec(&json).ok()?;
    Page::from_bytes(
        &bytes,
        InputLimits {
            max_content_bytes: 10 << 20,
            ..InputLimits::default()
        },
        now(),
    )
    .ok()
}

fn html(content: &str) -> Page {
    page_json(serde_json::json!({
        "url": "https://example.id/berita/1",
        "content": content,
        "content_type": "text/html",
        "fetched_at": "2025-12-31T05:15:00Z",
    }))
}

/// Parses and checks the time bound.
fn parse_within(page: &Page, limit: Duration) -> ParsedPage {
    let t = Instant::now();
    let parsed = Parser::new().parse(page, &SiteHints::default());
    let took = t.elapsed();
    assert!(took < limit, "took {took:?}, bound {limit:?}");
    parsed
}

#[test]
fn ten_mib_page() {
    let para = "<div class=\"item\"><p>Harga cabai naik lagi di pasar induk, kata pedagang, karena pasokan dari daerah berkurang.</p><a href=\"/b/1\">Baca juga berita lain</a></div>\n";
    let mut s = String::from("<html><body><article>");
    while s.len() + para.len() < (10 << 20) - 64 {
        s.push_str(para);
    }
    s.push_str("</article></body></html>");
    assert!(s.len() > 10_000_000);
    let parsed = parse_within(&html(&s), Duration::from_secs(60));
    assert!(!parsed.paragraphs.is_empty());
}

#[test]
fn hundred_thousand_deep_nesting() {
    for (open, close) in [
        ("<div>", "</div>"),
        ("<span>", "</span>"),
        ("<table><tr><td>", "</td></tr></table>"),
        ("<a href=x>", "</a>"),
        ("<li>", ""),
        ("<svg>", "</svg>"),
    ] {
        let mut s = open.repeat(100_000);
        s.push_str("<p>Teks yang sangat dalam, dengan koma, dan titik.</p>");
        s.push_str(&close.repeat(100_000));
        parse_within(&html(&s), Duration::from_secs(30));
    }
}

#[test]
fn unclosed_and_misnested_tags() {
    let cases = [
        "<html><body><div><p>satu<p>dua<div><span>tiga<b><i>empat</b></i>",
        "<table><tr><td>a<td>b<tr><td>c</table></table></table>",
        "</div></div></p></body></html><p>akhir",
        "<script>if (a < b) { document.write('<p>') }",
        "<title>judul tanpa penutup",
        "<!-- komentar tanpa penutup <p>teks",
        "<a href=\"javascript:alert(1)\">klik di sini sekarang juga</a>",
        "<p>&#0;&#x110000;&amp&lt;&notanentity;&#999999999999;</p>",
        "<![CDATA[ x ]]><?php echo 1 ?><!DOCTYPE><p>",
        "<rss><channel><item><title>t<link>http://x<item><pubDate>nope",
        "<script type=\"application/ld+json\">{\"@type\":\"NewsArticle\",\"datePublished\":\"9999-99-99\",\"headline\":[[[[",
        "<time datetime=\"2025-02-30T25:61:00+99:00\">x</time>",
    ];
    for c in cases {
        parse_within(&html(c), Duration::from_secs(5));
        // The same markup repeated many times stays linear.
        parse_within(&html(&c.repeat(2000)), Duration::from_secs(30));
    }
}

#[test]
fn binary_garbage_labelled_as_html() {
    // Pseudo-random bytes from a fixed seed, sent as raw bytes.
    let mut rng = fastrand::Rng::with_seed(0x9E37_79B9_7F4A_7C15);
    let bytes: Vec<u8> = std::iter::repeat_with(|| rng.u8(..))
        .take(300_000)
        .collect();
    let page = page_json(serde_json::json!({
        "url": "https://example.id/garbage",
        "content_base64": base64::engine::general_purpose::STANDARD.encode(&bytes),
        "content_type": "text/html",
    }));
    parse_within(&page, Duration::from_secs(20));
    // And as a string full of NULs and control characters.
    let s: String = bytes.iter().map(|&b| char::from(b)).collect();
    parse_within(&html(&s), Duration::from_secs(20));
}

#[test]
fn wrong_charset_declaration() {
    // windows-1252 bytes on a page that says UTF-8, in the event and in <meta>.
    let mut bytes =
        b"<html><head><meta charset=\"utf-8\"><title>Caf\xe9</title></head><body><article>"
            .to_vec();
    for _ in 0..20 {
        bytes.extend_from_slice(b"<p>Le caf\xe9 \x93cr\xe8me\x94 est servi \xe0 la terrasse, dit le g\xe9rant du caf\xe9.</p>");
    }
    bytes.extend_from_slice(b"</article></body></html>");
    let page = page_json(serde_json::json!({
        "url": "https://example.fr/cafe",
        "content_base64": base64::engine::general_purpose::STANDARD.encode(&bytes),
        "charset": "utf-8",
    }));
    assert!(
        !page.content.contains('\u{fffd}'),
        "decoded without replacement characters"
    );
    let parsed = parse_within(&page, Duration::from_secs(5));
    assert!(
        parsed.paragraphs.iter().any(|p| p.contains("café “crème”")),
        "{:?}",
        parsed.paragraphs
    );
    // A UTF-16 label in <meta> on an ASCII-compatible page is ignored.
    let page = html("<meta charset=\"utf-16\"><p>teks biasa di sini</p>");
    parse_within(&page, Duration::from_secs(5));
}

fn markup() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("<div>".to_string()),
        Just("</div>".to_string()),
        Just("<p>".to_string()),
        Just("</p>".to_string()),
        Just("<a href=\"/x\">".to_string()),
        Just("</a>".to_string()),
        Just("<li>".to_string()),
        Just("<ul class=\"related\">".to_string()),
        Just("<time datetime=\"2020-01-02\">".to_string()),
        Just("<script>".to_string()),
        Just("</script>".to_string()),
        Just("<script type=\"application/ld+json\">".to_string()),
        Just("<h1>".to_string()),
        Just("<br>".to_string()),
        Just("<rss><item><title>".to_string()),
        Just("Selasa, 23 Februari 2016 | 14:54 WIB".to_string()),
        "[a-zA-Z ,.]{0,40}",
        any::<String>(),
    ];
    proptest::collection::vec(piece, 0..60).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn arbitrary_markup_never_panics(s in markup()) {
        let Some(page) = try_page(serde_json::json!({
            "url": "https://example.id/berita/1",
            "content": s,
            "content_type": "text/html",
        })) else {
            return Ok(());
        };
        let parsed = Parser::new().parse(&page, &SiteHints::default());
        prop_assert_eq!(parsed.paragraphs.len(), parsed.normalized.len());
        for p in &parsed.paragraphs {
            prop_assert!(!p.trim().is_empty());
        }
        for h in &parsed.headlines {
            prop_assert!(!h.title.trim().is_empty());
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 1..2000)) {
        if let Some(page) = try_page(serde_json::json!({
            "url": "https://example.id/x",
            "content_base64": base64::engine::general_purpose::STANDARD.encode(&bytes),
            "content_type": "text/html",
        })) {
            Parser::new().parse(&page, &SiteHints::default());
        }
    }
}

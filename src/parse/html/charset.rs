//! Page bytes → text. Crawlers that cannot decode a page send its raw bytes
//! (`content_base64`, optionally with the HTTP `charset`); this picks the
//! encoding the way browsers do, in order: a byte-order mark, the transport's
//! declared charset, a `<meta charset>` / `http-equiv` declaration in the first
//! 4 KiB (unless the bytes are multi-byte UTF-8), then UTF-8 if the bytes are
//! valid UTF-8, else windows-1252
//! (which is also what the web means by ISO-8859-1).
//!
//! A declaration that the bytes contradict (a page labelled UTF-8 that is not
//! valid UTF-8) is overruled: the page is decoded as windows-1252 instead of
//! filling it with replacement characters.

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

/// Which rule chose the encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chosen {
    Bom,
    Declared,
    MetaTag,
    Sniffed,
}

/// Decodes page bytes; returns the text, the encoding's name and the rule used.
pub fn decode(bytes: &[u8], declared: Option<&str>) -> (String, &'static str, Chosen) {
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        let (text, _) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        return (text.into_owned(), enc.name(), Chosen::Bom);
    }
    let label = |l: &str| Encoding::for_label(l.trim().as_bytes());
    let candidate = declared
        .and_then(label)
        .map(|e| (e, Chosen::Declared))
        .or_else(|| {
            prescan(bytes)
                .and_then(|l| label(&l))
                .map(|e| (e, Chosen::MetaTag))
        });
    match candidate {
        // UTF-16 declared in a meta tag cannot be right (the tag was readable as ASCII).
        // A page's own tag naming a legacy charset while its bytes are
        // multi-byte UTF-8 is a stale template (the server sent UTF-8 in its
        // header): legacy text is almost never valid UTF-8 by accident.
        Some((enc, Chosen::MetaTag))
            if enc != UTF_8 && !bytes.is_ascii() && std::str::from_utf8(bytes).is_ok() =>
        {
            (
                String::from_utf8_lossy(bytes).into_owned(),
                UTF_8.name(),
                Chosen::Sniffed,
            )
        }
        Some((enc, how)) if enc != UTF_8 && enc.is_ascii_compatible() => {
            let (text, _, _) = enc.decode(bytes);
            (text.into_owned(), enc.name(), how)
        }
        Some((enc, how)) if enc == UTF_8 && mostly_utf8(bytes) => (
            String::from_utf8_lossy(bytes).into_owned(),
            UTF_8.name(),
            how,
        ),
        _ => match std::str::from_utf8(bytes) {
            Ok(s) => (s.to_string(), UTF_8.name(), Chosen::Sniffed),
            Err(_) => {
                let (text, _, _) = WINDOWS_1252.decode(bytes);
                (text.into_owned(), WINDOWS_1252.name(), Chosen::Sniffed)
            }
        },
    }
}

/// Whether bytes declared UTF-8 are UTF-8 with a few damaged bytes (a
/// truncated character, one stray byte) rather than a legacy charset under a
/// wrong label: they hold valid multi-byte characters and at most one invalid
/// sequence per ten of them. Decoding such a page as windows-1252 would turn
/// every correct "é" into "Ã©" to save one replacement character.
fn mostly_utf8(bytes: &[u8]) -> bool {
    let mut invalid = 0usize;
    let mut multibyte = 0usize;
    for chunk in bytes.utf8_chunks() {
        multibyte += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        if !chunk.invalid().is_empty() {
            invalid += 1;
        }
    }
    invalid == 0 || (multibyte > 0 && invalid <= (multibyte / 10).max(1))
}

/// The charset a `<meta>` tag in the first 4 KiB declares (the standard
/// says 1,024 bytes; pages with long heads put it later, and the cost is nil).
pub fn prescan(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(4096)];
    let lower: Vec<u8> = head.iter().map(|b| b.to_ascii_lowercase()).collect();
    let mut from = 0;
    while let Some(pos) = find(&lower[from..], b"<meta") {
        let start = from + pos;
        let end = lower[start..]
            .iter()
            .position(|&b| b == b'>')
            .map(|e| start + e)
            .unwrap_or(lower.len());
        let tag = String::from_utf8_lossy(&lower[start..end]);
        if let Some(at) = tag.find("charset") {
            let rest = tag[at + 7..]
                .trim_start()
                .trim_start_matches('=')
                .trim_start();
            let v: String = rest
                .trim_start_matches(['"', '\''])
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
                .collect();
            if !v.is_empty() {
                return Some(v);
            }
        }
        from = end.max(start + 1);
        if from >= lower.len() {
            break;
        }
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_a_stray_byte_stays_utf8() {
        let (text, name, _) = decode(b"<p>Kaf\xc3\xa9 \xff</p>", Some("utf-8"));
        assert_eq!(name, "UTF-8");
        assert_eq!(text, "<p>Kaf\u{e9} \u{fffd}</p>");
        // The same from the page's own <meta>.
        let (text, _, _) = decode(
            b"<meta charset=utf-8><p>Kaf\xc3\xa9 caf\xc3\xa9 \xff</p>",
            None,
        );
        assert!(text.contains("Kaf\u{e9} caf\u{e9}"), "{text}");
        // A legacy page under a UTF-8 label has no valid multi-byte
        // characters: it is still read as windows-1252.
        let (text, name, _) = decode(b"<p>caf\xe9 na\xefve</p>", Some("utf-8"));
        assert_eq!(name, "windows-1252");
        assert_eq!(text, "<p>caf\u{e9} na\u{ef}ve</p>");
    }

    #[test]
    fn bom_declared_meta_and_fallback() {
        let (t, name, how) = decode(b"\xEF\xBB\xBFcaf\xC3\xA9", None);
        assert_eq!((t.as_str(), name, how), ("café", "UTF-8", Chosen::Bom));
        let (t, name, _) = decode(b"caf\xE9", Some("iso-8859-1"));
        assert_eq!((t.as_str(), name), ("café", "windows-1252"));
        let page = b"<html><head><meta charset=\"windows-1252\"></head><body>\x93hi\x94";
        let (t, _, how) = decode(page, None);
        assert!(t.ends_with("\u{201c}hi\u{201d}"), "{t}");
        assert_eq!(how, Chosen::MetaTag);
        // Labelled UTF-8 but not UTF-8: the bytes win.
        let (t, name, _) = decode(b"<meta charset=utf-8>caf\xE9", None);
        assert!(t.ends_with("café"));
        assert_eq!(name, "windows-1252");
    }

    #[test]
    fn a_stale_legacy_meta_tag_loses_to_utf8_bytes() {
        let page =
            "<meta http-equiv=content-type content=\"text/html; charset=iso-8859-15\"><p>sanción";
        let (t, name, how) = decode(page.as_bytes(), None);
        assert!(t.ends_with("sanción"), "{t}");
        assert_eq!((name, how), ("UTF-8", Chosen::Sniffed));
        // The transport's word still stands.
        let (t, _, _) = decode(page.as_bytes(), Some("iso-8859-15"));
        assert!(t.ends_with("sanciÃ³n"), "{t}");
    }
}

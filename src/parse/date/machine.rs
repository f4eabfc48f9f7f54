//! Machine-written dates: ISO 8601 and its common variants, RFC 2822, and the
//! publication dates scripts embed in a page's JSON. What the grammar does not
//! read as a machine format, it reads as text.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};

use super::grammar::{DateContext, DateParser, FoundDate};
use crate::event::Precision;

/// Keys of a publication date in JSON that scripts embed (`"published_at":
/// "2019-03-02T06:22:28+01:00"`), outside any JSON-LD block.
const EMBEDDED_KEYS: [&str; 8] = [
    "datePublished",
    "publishedDate",
    "publishDate",
    "published_at",
    "publishedAt",
    "date_published",
    "publish_date",
    "published",
];

/// The first embedded JSON publication date in the raw page: one pass over
/// the occurrences of "ublish", each checked for a quoted key from
/// [`EMBEDDED_KEYS`] followed by `: "value"`.
pub fn embedded_date(html: &str) -> Option<String> {
    let mut from = 0;
    let mut seen = 0;
    while let Some(pos) = html.get(from..).and_then(|h| h.find("ublish")) {
        let at = from + pos;
        from = at + 6;
        seen += 1;
        if seen > 200 {
            break;
        }
        // The key's opening quote, at most 10 bytes back.
        let back = html.get(at.saturating_sub(10)..at).unwrap_or("");
        let Some(q) = back.rfind('"') else { continue };
        let key_start = at - (back.len() - q) + 1;
        let Some(key_len) = html.get(key_start..).and_then(|h| h.find('"')) else {
            continue;
        };
        let key = &html[key_start..key_start + key_len];
        if !EMBEDDED_KEYS.contains(&key) {
            continue;
        }
        let rest = html.get(key_start + key_len + 1..)?;
        let rest = rest.trim_start().strip_prefix(':')?.trim_start();
        let Some(value) = rest.strip_prefix('"') else {
            continue;
        };
        let end = value.find('"').filter(|&e| (8..=40).contains(&e));
        if let Some(e) = end {
            let v = &value[..e];
            if v.starts_with(|c: char| c.is_ascii_digit()) {
                return Some(v.to_string());
            }
        }
    }
    None
}

pub(super) fn localize(naive: NaiveDateTime, ctx: &DateContext) -> Option<DateTime<FixedOffset>> {
    ctx.timezone
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.fixed_offset())
}

/// A machine-written date (ISO 8601 and its common variants, RFC 2822), or
/// failing that, anything the date grammar reads.
pub fn parse_machine_date(
    raw: &str,
    dates: &mut DateParser<'_>,
    ctx: &DateContext,
) -> Option<FoundDate> {
    let s = raw.trim();
    if s.len() < 6 || s.len() > 100 {
        return None;
    }
    // Java's Date.toString(): "Tue Jul 30 09:35:14 CEST 2019" → move the year
    // before the time so the grammar reads it.
    let parts: Vec<&str> = s.split_whitespace().collect();
    if parts.len() == 6 && parts[5].len() == 4 && parts[5].bytes().all(|b| b.is_ascii_digit()) {
        let reordered = format!(
            "{} {} {} {} {} {}",
            parts[0], parts[1], parts[2], parts[5], parts[3], parts[4]
        );
        if let Some(d) = dates.parse_line(&reordered, ctx) {
            return Some(d);
        }
    }
    let found = |dt: DateTime<FixedOffset>, precision| FoundDate {
        datetime: dt,
        precision,
        flags: Vec::new(),
        span: 0..s.len(),
    };
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(found(dt, Precision::Second));
    }
    if let Ok(dt) = DateTime::parse_from_rfc2822(s) {
        return Some(found(dt, Precision::Second));
    }
    // "2015-11-05 T10:08:58Z" (detik): a malformed stamp whose zone letter is
    // not to be trusted; its digits are the local time the page shows.
    if let Some(at) = s.find(" T") {
        let local = format!("{}T{}", &s[..at], s[at + 2..].trim_end_matches('Z'));
        if let Ok(naive) = NaiveDateTime::parse_from_str(&local, "%Y-%m-%dT%H:%M:%S") {
            if let Some(dt) = localize(naive, ctx) {
                return Some(found(dt, Precision::Second));
            }
        }
    }
    // ISO-like with a zone: 2015-11-05T14:56:43+0700, 2015-11-05 14:56:43 +07:00,
    // fractional seconds, a space instead of "T".
    let norm = s.replacen(' ', "T", 1);
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M%z",
        "%Y-%m-%dT%H:%M%:z",
        "%Y-%m-%dT%H:%M:%S%.fT%z",
        "%Y-%m-%dT%H:%M:%S%.fT%:z",
    ] {
        if let Ok(dt) = DateTime::parse_from_str(&norm, fmt) {
            return Some(found(dt, Precision::Second));
        }
    }
    let trimmed = norm
        .trim_end_matches('Z')
        .trim_end_matches("UTC")
        .trim_end_matches('T');
    for (fmt, precision) in [
        ("%Y-%m-%dT%H:%M:%S%.f", Precision::Second),
        ("%Y-%m-%dT%H:%M", Precision::Minute),
        ("%Y/%m/%dT%H:%M:%S", Precision::Second),
    ] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(trimmed, fmt) {
            // A trailing Z means UTC; otherwise the page's zone.
            let dt = if norm.ends_with('Z') || norm.ends_with("UTC") {
                Some(chrono::Utc.from_utc_datetime(&naive).fixed_offset())
            } else {
                localize(naive, ctx)
            };
            if let Some(dt) = dt {
                return Some(found(dt, precision));
            }
        }
    }
    let date_part = s.get(..10).unwrap_or(s);
    for fmt in ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(date_part, fmt) {
            if let Some(dt) = d.and_hms_opt(0, 0, 0).and_then(|n| localize(n, ctx)) {
                return Some(found(dt, Precision::Day));
            }
        }
    }
    if s.len() == 8 {
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y%m%d") {
            if let Some(dt) = d.and_hms_opt(0, 0, 0).and_then(|n| localize(n, ctx)) {
                return Some(found(dt, Precision::Day));
            }
        }
    }
    dates
        .parse_line(s, ctx)
        .or_else(|| dates.find_first(s, ctx))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::lang::Lexicon;

    use crate::parse::date::test_context as ctx;

    #[test]
    fn machine_dates() {
        let mut p = DateParser::new(Lexicon::builtin());
        let c = ctx();
        let t = |s: &str, p: &mut DateParser<'_>| {
            parse_machine_date(s, p, &c).map(|d| crate::event::rfc3339(&d.datetime))
        };
        assert_eq!(
            t("2015-11-05T14:56:43+0700", &mut p).as_deref(),
            Some("2015-11-05T14:56:43+07:00")
        );
        assert_eq!(
            t("2015-11-05 14:56:43", &mut p).as_deref(),
            Some("2015-11-05T14:56:43+07:00")
        );
        assert_eq!(
            t("2015-11-05T07:56:43.000Z", &mut p).as_deref(),
            Some("2015-11-05T07:56:43+00:00")
        );
        assert_eq!(
            t("Thu, 05 Nov 2015 14:56:43 +0700", &mut p).as_deref(),
            Some("2015-11-05T14:56:43+07:00")
        );
        assert_eq!(
            t("2015-11-05", &mut p).as_deref(),
            Some("2015-11-05T00:00:00+07:00")
        );
        assert_eq!(
            t("Selasa, 23 Februari 2016 | 14:54 WIB", &mut p).as_deref(),
            Some("2016-02-23T14:54:00+07:00")
        );
        assert_eq!(t("garbage", &mut p), None);
    }

    #[test]
    fn embedded_json_dates() {
        let script =
            r#"<script>var s = {"id":1, "published_at" : "2019-03-02T06:22:28+01:00"};</script>"#;
        assert_eq!(
            embedded_date(script).as_deref(),
            Some("2019-03-02T06:22:28+01:00")
        );
        assert_eq!(
            embedded_date(r#"{"unpublished":"2019-03-02", "publisher":"X"}"#),
            None
        );
    }
}

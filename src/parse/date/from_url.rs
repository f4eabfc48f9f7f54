//! The publication day a URL's path carries (`/2016/02/23/`, `/20160223`).

use chrono::NaiveDate;

use super::grammar::DateContext;
use super::machine::localize;
use crate::event::{DateSource, Precision, Published};

/// The earliest year a page can have been published in.
pub(super) const FIRST_WEB_YEAR: i32 = 1995;

/// `/2016/02/23/`, `/2016-02-23/` or `/20160223` in the URL path.
pub fn url_date(url: &str, ctx: &DateContext) -> Option<Published> {
    let path = url::Url::parse(url).ok()?.path().to_string();
    // Each token with the separator that follows it ('\0' at the end).
    let mut toks: Vec<(&str, char)> = Vec::new();
    let mut start = 0;
    for (i, c) in path.char_indices() {
        if matches!(c, '/' | '-' | '_' | '.') {
            toks.push((&path[start..i], c));
            start = i + 1;
        }
    }
    toks.push((&path[start..], '\0'));
    let num = |t: &str, max_len: usize| {
        (!t.is_empty() && t.len() <= max_len && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse::<u32>().ok())
            .flatten()
    };
    for w in toks.windows(3) {
        let ((a, s1), (b, s2), (c, s3)) = (w[0], w[1], w[2]);
        // One separator between the parts; the day ends its segment
        // ("/2023/10/3-fragen" is a month and a slug).
        if s1 != s2 || !(s3 == s2 || s3 == '/' || s3 == '.' || s3 == '\0') {
            continue;
        }
        let ymd = (a.len() == 4)
            .then(|| Some((num(a, 4)? as i32, num(b, 2)?, num(c, 2)?)))
            .flatten();
        // "/29-10-2021": day, month, year.
        let dmy = (c.len() == 4 && s1 == '-')
            .then(|| Some((num(c, 4)? as i32, num(b, 2)?, num(a, 2)?)))
            .flatten();
        if let Some((y, m, d)) = ymd.or(dmy) {
            if (FIRST_WEB_YEAR..=2100).contains(&y) {
                if let Some(date) = NaiveDate::from_ymd_opt(y, m, d) {
                    return day_published(date, ctx, &path);
                }
            }
        }
    }
    let parts: Vec<&str> = toks.iter().map(|t| t.0).collect();
    for p in &parts {
        // Exactly eight digits: a 14-digit web-archive stamp is a capture time.
        if p.len() == 8 && p.bytes().all(|b| b.is_ascii_digit()) {
            let (y, m, d) = (&p[..4], &p[4..6], &p[6..8]);
            if let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i32>(), m.parse::<u32>(), d.parse::<u32>()) {
                if (FIRST_WEB_YEAR..=2100).contains(&y) {
                    if let Some(date) = NaiveDate::from_ymd_opt(y, m, d) {
                        return day_published(date, ctx, &path);
                    }
                }
            }
        }
    }
    None
}

fn day_published(date: NaiveDate, ctx: &DateContext, raw: &str) -> Option<Published> {
    let dt = localize(date.and_hms_opt(0, 0, 0)?, ctx)?;
    if dt > ctx.reference.fixed_offset() + chrono::Duration::days(2) {
        return None;
    }
    Some(Published {
        value: crate::event::rfc3339(&dt),
        precision: Precision::Day,
        source: DateSource::Url,
        raw: raw.chars().take(200).collect(),
        flags: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::parse::date::test_context as ctx;

    #[test]
    fn url_dates() {
        let c = ctx();
        let d = url_date("https://a.id/read/2016/02/23/145448826/x", &c).map(|p| p.value);
        assert_eq!(d.as_deref(), Some("2016-02-23T00:00:00+07:00"));
        assert_eq!(url_date("https://a.id/berita/527615/x", &c), None);
        assert_eq!(url_date("https://a.de/2023/10/3-fragen-an-x/", &c), None);
        let d = url_date("https://a.de/meldungen/29-10-2021", &c).map(|p| p.value);
        assert_eq!(d.as_deref(), Some("2021-10-29T00:00:00+07:00"));
    }
}

//! The date grammar: reads the date and time shapes news pages print, in any
//! language that has a data file (see [`crate::parse::lang`]).
//!
//! A string is split into tokens (words, numbers, punctuation), and a small
//! recursive-descent grammar matches, at a token position:
//!
//! ```text
//! date     := [weekday [,|.]] core [sep* time] [zone]
//!           | weekday "(" d "/" m ["/" year] ")" [sep* time] [zone]
//!                                                         -- Jumat (8/10), Rabu (31/12/2025) 08:59
//! core     := d month [,] [year]                          -- 31 Desember 2025
//!           | month d [,] [year]                          -- December 31, 2025
//!           | n "/" n ["/" year]                          -- 02/11/2023 (order per language)
//!           | year "-" m "-" d ["T"]                      -- 2023-11-02
//! time     := [filler] hh (":"|".") mm [(":"|".") ss] [am|pm]
//! zone     := WIB | WITA | UTC | … | +07:00 | GMT+7
//!
//! -- whole stamp lines of text pages only (DateParser::parse_stamp):
//! relative := n unit after                                -- 2 jam lalu, 3 hours ago
//!           | day-word [sep* time] [zone]                 -- kemarin, Yesterday at 9:05 PM
//! time-only:= [filler] time zone | filler time            -- 14:32 WIB, pukul 14.32
//! ```
//!
//! Words come from the language data, so adding a language adds its words without
//! touching this file. The result is resolved to an offset: an explicit zone on the
//! page wins, then the zone the caller supplies (site config, event, language
//! default, UTC, in that order, chosen by the caller). Relative stamps count back
//! from the fetch time; a time alone falls on the fetch's day. Numbers are kept
//! as printed until resolving, which rejects, with a reason, a year outside
//! 1995..=the fetch's year + 1, a day the calendar lacks and an impossible time,
//! instead of reading a shorter, wrong date out of them.

use chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike,
    Weekday,
};
use chrono_tz::Tz;

use crate::event::{DateFlag, DateRejection, Precision};
use crate::parse::lang::{DateOrder, DateWord, Lexicon, RelativeWords};

/// How far back a year is inferred for dates printed without one.
const MAX_YEARS_BACK: i32 = 7;
/// No news page was published before the web had news sites; an earlier year
/// is history quoted in the text or a broken template, not a publication date.
const MIN_YEAR: i32 = 1995;
/// A time of day later than the fetch by more than this is taken for the day
/// before: a site's clock may run a little ahead of the crawler's.
const TIME_ONLY_SKEW_SECS: i64 = 3_600;

/// What the caller knows about the page, used to complete partial dates.
#[derive(Debug, Clone, Copy)]
pub struct DateContext {
    /// Dates without a year are placed at or before this instant (the fetch time).
    pub reference: DateTime<chrono::Utc>,
    /// Zone for dates that print none.
    pub timezone: Tz,
    /// How to read all-numeric dates.
    pub order: DateOrder,
}

/// A date read from text and resolved to a fixed offset.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundDate {
    pub datetime: DateTime<FixedOffset>,
    pub precision: Precision,
    pub flags: Vec<DateFlag>,
    /// Byte range of the matched text in the input.
    pub span: std::ops::Range<usize>,
}

/// Text that reads as a date but cannot be one (`31 Desember 99999`, `25:10`).
#[derive(Debug, Clone, PartialEq)]
pub struct DateRejected {
    pub reason: DateRejection,
    /// Byte range of the matched text in the input.
    pub span: std::ops::Range<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok {
    /// A word and, looked up once at tokenization, its meaning to the grammar.
    Word(Option<DateWord>),
    Num {
        value: u32,
        digits: u8,
    },
    Punct(char),
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Tok,
    start: usize,
    end: usize,
}

/// Splits into words (letters, with inner apostrophes), numbers and single
/// punctuation characters; whitespace only separates.
fn tokenize(s: &str, lex: &Lexicon, out: &mut Vec<Token>) {
    out.clear();
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        if c.is_whitespace() {
            continue;
        }
        if c.is_ascii_digit() {
            let mut end = i + 1;
            let mut value: u64 = (c as u8 - b'0') as u64;
            let mut digits = 1u8;
            while let Some(&(j, d)) = it.peek() {
                if !d.is_ascii_digit() {
                    break;
                }
                value = value
                    .saturating_mul(10)
                    .saturating_add((d as u8 - b'0') as u64);
                digits = digits.saturating_add(1);
                end = j + 1;
                it.next();
            }
            out.push(Token {
                kind: Tok::Num {
                    value: value.min(u32::MAX as u64) as u32,
                    digits,
                },
                start: i,
                end,
            });
        } else if c.is_alphabetic() {
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = it.peek() {
                let apostrophe = matches!(d, '\'' | '’');
                if d.is_alphabetic() || apostrophe {
                    // An apostrophe belongs to the word only when a letter follows.
                    if apostrophe {
                        let rest = &s[j + d.len_utf8()..];
                        if !rest.chars().next().is_some_and(char::is_alphabetic) {
                            break;
                        }
                    }
                    end = j + d.len_utf8();
                    it.next();
                } else {
                    break;
                }
            }
            let w = &s[i..end];
            let meaning = if w.len() <= crate::parse::lang::MAX_DATE_WORD_BYTES {
                lex.date_word_raw(w)
            } else {
                None
            };
            out.push(Token {
                kind: Tok::Word(meaning),
                start: i,
                end,
            });
        } else {
            out.push(Token {
                kind: Tok::Punct(c),
                start: i,
                end: i + c.len_utf8(),
            });
        }
    }
}

/// Hour, minute and (when printed) second.
type Hms = (u32, u32, Option<u32>);

/// What a date is counted from.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
enum Anchor {
    /// A calendar date (day, month, perhaps a year).
    #[default]
    Calendar,
    /// So many seconds before the fetch: "2 jam lalu", "3 hours ago".
    Ago(u32),
    /// A day counted from the fetch's day: "kemarin" (-1), "today" (0).
    Day(i32),
    /// A time of day alone: "14:32 WIB".
    TimeOnly,
}

/// The parts of a date before it is resolved. The numbers are as printed,
/// even when out of range, so that resolving can say what is wrong.
#[derive(Debug, Default, Clone, Copy)]
struct Parts {
    anchor: Anchor,
    weekday: Option<u8>,
    year: Option<i32>,
    month: u32,
    day: u32,
    time: Option<Hms>,
    zone: Option<FixedOffset>,
}

/// A cursor over the tokens of one string.
struct Cursor<'a> {
    s: &'a str,
    toks: &'a [Token],
    order: DateOrder,
    relative: &'a RelativeWords,
}

impl Cursor<'_> {
    fn word(&self, i: usize) -> Option<DateWord> {
        match self.toks.get(i)?.kind {
            Tok::Word(meaning) => meaning,
            _ => None,
        }
    }

    fn text(&self, i: usize) -> &str {
        self.toks
            .get(i)
            .map(|t| &self.s[t.start..t.end])
            .unwrap_or("")
    }

    fn num(&self, i: usize) -> Option<(u32, u8)> {
        match self.toks.get(i)?.kind {
            Tok::Num { value, digits } => Some((value, digits)),
            _ => None,
        }
    }

    fn punct(&self, i: usize) -> Option<char> {
        match self.toks.get(i)?.kind {
            Tok::Punct(c) => Some(c),
            _ => None,
        }
    }

    fn is_punct(&self, i: usize, set: &[char]) -> bool {
        self.punct(i).is_some_and(|c| set.contains(&c))
    }

    /// Tokens are adjacent when nothing (not even a space) separates them.
    fn adjacent(&self, i: usize) -> bool {
        match (self.toks.get(i), self.toks.get(i + 1)) {
            (Some(a), Some(b)) => a.end == b.start,
            _ => false,
        }
    }

    /// Past one filler word at `i` ("de" in "17 de marzo"), if there is one.
    fn one_filler(&self, i: usize) -> usize {
        if self.word(i) == Some(DateWord::Filler) {
            i + 1
        } else {
            i
        }
    }

    /// Past a second name of the month at `i` ("نيسان / أبريل": the Levantine and
    /// the international name of April side by side); `i` when there is none.
    fn same_month_after(&self, i: usize, m: u8) -> usize {
        if self.is_punct(i + 1, &['/', '-']) && self.word(i + 2) == Some(DateWord::Month(m)) {
            i + 2
        } else {
            i
        }
    }

    fn skip_filler(&self, mut i: usize) -> usize {
        while self.word(i) == Some(DateWord::Filler) {
            i += 1;
            while self.is_punct(i, &[':', ',']) {
                i += 1;
            }
        }
        i
    }

    /// `date` at token `i`; returns the parts and the index after the match.
    fn date(&self, i: usize) -> Option<(Parts, usize)> {
        let mut p = Parts::default();
        let mut j = i;
        if let Some(DateWord::Weekday(d)) = self.word(j) {
            p.weekday = Some(d);
            j += 1;
            // "،" is the Arabic comma ("الأربعاء، 07 أكتوبر 2020").
            while self.is_punct(j, &[',', '.', '،']) {
                j += 1;
            }
            // Jumat (8/10), Rabu (31/12/2025) 08:59: day/month in
            // parentheses, perhaps a year, perhaps a time after them.
            if self.is_punct(j, &['(']) {
                if let (Some((a, _)), Some('/'), Some((b, _))) =
                    (self.num(j + 1), self.punct(j + 2), self.num(j + 3))
                {
                    let (day, month) = self.day_month(a, b)?;
                    p.day = day;
                    p.month = month;
                    let mut k = j + 4;
                    if self.is_punct(k, &['/']) {
                        p.year = Some(self.numeric_year(k + 1)?);
                        k += 2;
                    }
                    if !self.is_punct(k, &[')']) {
                        return None;
                    }
                    let end = self.time_and_zone(k + 1, &mut p);
                    return Some((p, end));
                }
                return None;
            }
        }
        let j = self.core(j, &mut p)?;
        let j = self.time_and_zone(j, &mut p);
        Some((p, j))
    }

    /// Day and month from two numbers in the language's order, or in the
    /// other order when only that one is a date (`31/12` on an English page).
    fn day_month(&self, a: u32, b: u32) -> Option<(u32, u32)> {
        let valid = |(d, m): (u32, u32)| (1..=31).contains(&d) && (1..=12).contains(&m);
        let (first, other) = match self.order {
            DateOrder::Dmy => ((a, b), (b, a)),
            DateOrder::Mdy => ((b, a), (a, b)),
        };
        [first, other].into_iter().find(|&dm| valid(dm))
    }

    fn year_at(&self, i: usize) -> Option<i32> {
        let (v, digits) = self.num(i)?;
        match digits {
            4 if (1900..=2200).contains(&v) => Some(v as i32),
            _ => None,
        }
    }

    /// A year in the year slot after a day and month, as printed: four digits,
    /// or any number of three or more digits and a glued minus sign
    /// (`99999`, `-2025`, `0000`), which resolving then rejects with a reason
    /// instead of reading the date without its year. Returns the year and the
    /// index after it.
    fn year_slot(&self, i: usize) -> Option<(i32, usize)> {
        if let Some(y) = self.year_at(i) {
            return Some((y, i + 1));
        }
        let (sign, at) = if self.is_punct(i, &['-', '−']) && self.adjacent(i) {
            (-1, i + 1)
        } else {
            (1, i)
        };
        let (v, digits) = self.num(at)?;
        (digits >= 3).then(|| (sign * v.min(i32::MAX as u32) as i32, at + 1))
    }

    /// The year of an all-numeric date: two digits (expanded), four, or five
    /// and more, kept as printed for resolving to reject (`02/11/99999`).
    fn numeric_year(&self, i: usize) -> Option<i32> {
        let (y, digits) = self.num(i)?;
        match digits {
            2 => Some(expand_two_digit_year(y)),
            1 | 3 => None,
            _ => Some(y.min(i32::MAX as u32) as i32),
        }
    }

    fn core(&self, i: usize, p: &mut Parts) -> Option<usize> {
        // 31 Desember 2025; German "5. April 2017"; Spanish "17 de marzo de 2020"
        let dotted = self.is_punct(i + 1, &['.']) && self.adjacent(i);
        let month_at = if dotted { i + 2 } else { i + 1 };
        let month_at = self.one_filler(month_at);
        if let (Some((d, dd)), Some(DateWord::Month(m))) = (self.num(i), self.word(month_at)) {
            if dd <= 2 && (1..=31).contains(&d) {
                p.day = d;
                p.month = m as u32;
                let mut j = self.same_month_after(month_at, m) + 1;
                if self.is_punct(j, &['.']) && self.year_slot(j + 1).is_some() {
                    j += 1; // "31 Des. 2025"
                }
                if self.is_punct(j, &[',']) && self.year_slot(j + 1).is_some() {
                    j += 1;
                }
                if self.year_slot(self.one_filler(j)).is_some() {
                    j = self.one_filler(j);
                }
                if let Some((y, after)) = self.year_slot(j) {
                    p.year = Some(y);
                    j = after;
                }
                return Some(j);
            }
        }
        // December 31, 2025
        if let (Some(DateWord::Month(m)), Some((d, dd))) = (self.word(i), self.num(i + 1)) {
            if dd <= 2 && (1..=31).contains(&d) {
                p.day = d;
                p.month = m as u32;
                let mut j = i + 2;
                // 31st, 2nd
                if self.adjacent(i + 1)
                    && matches!(
                        self.text(j).to_ascii_lowercase().as_str(),
                        "st" | "nd" | "rd" | "th"
                    )
                {
                    j += 1;
                }
                if self.is_punct(j, &[',']) && self.year_slot(j + 1).is_some() {
                    j += 1;
                }
                if let Some((y, after)) = self.year_slot(j) {
                    p.year = Some(y);
                    j = after;
                }
                return Some(j);
            }
        }
        // 2023-11-02; year first is year-month-day in every language, also
        // with dots (Korean "2023.11.02.") and slashes (Japanese "2020/7/11").
        if let Some(y) = self.year_at(i) {
            if let (Some(sep @ ('-' | '.' | '/')), Some((m, md)), Some(sep2), Some((d, dd))) = (
                self.punct(i + 1),
                self.num(i + 2),
                self.punct(i + 3),
                self.num(i + 4),
            ) {
                let tight = sep == '-' || (self.adjacent(i) && self.adjacent(i + 2));
                if sep2 == sep
                    && tight
                    && md <= 2
                    && dd <= 2
                    && (1..=12).contains(&m)
                    && (1..=31).contains(&d)
                {
                    p.year = Some(y);
                    p.month = m;
                    p.day = d;
                    let mut j = i + 5;
                    // Korean closes the date with a dot: "2023.11.02. 20:06".
                    if sep == '.' && self.is_punct(j, &['.']) && self.adjacent(i + 4) {
                        j += 1;
                    }
                    // 2023-11-02T21:34 tokenizes the T as a word glued to the hour.
                    if self.adjacent(i + 4) && self.text(j).eq_ignore_ascii_case("t") {
                        j += 1;
                    }
                    return Some(j);
                }
            }
        }
        // 2020年7月12日 (Chinese, Japanese), 2023년 11월 2일 (Korean).
        if let Some(y) = self.year_at(i) {
            let unit = |k: usize, units: [&str; 2]| units.contains(&self.text(k));
            // Particles attach to the day's unit ("12日に", "2일에").
            let day_unit = ["日", "일"].iter().any(|u| self.text(i + 5).starts_with(u));
            if unit(i + 1, ["年", "년"]) && unit(i + 3, ["月", "월"]) && day_unit {
                if let (Some((m, md)), Some((d, dd))) = (self.num(i + 2), self.num(i + 4)) {
                    if md <= 2 && dd <= 2 && (1..=12).contains(&m) && (1..=31).contains(&d) {
                        p.year = Some(y);
                        p.month = m;
                        p.day = d;
                        return Some(i + 6);
                    }
                }
            }
        }
        // 02/11/2023, 2.11.2023, 02-11-2023
        if let (Some((a, ad)), Some(sep)) = (self.num(i), self.punct(i + 1)) {
            if ad <= 2 && matches!(sep, '/' | '-' | '.') && self.adjacent(i) {
                if let (Some((b, bd)), Some(sep2), Some((_, yd))) =
                    (self.num(i + 2), self.punct(i + 3), self.num(i + 4))
                {
                    // German and Central European print "4. 2. 2022" with a
                    // space after each dot; the four-digit year keeps it a date.
                    let spaced = sep == '.' && yd == 4;
                    if bd <= 2
                        && sep2 == sep
                        && self.adjacent(i + 2)
                        && (self.adjacent(i + 3) || spaced)
                    {
                        // Dotted numeric dates (2.11.2023) are day-first in every
                        // language that writes them; only slashes and dashes vary.
                        let (d, m) = if sep == '.' {
                            ((1..=31).contains(&a) && (1..=12).contains(&b)).then_some((a, b))?
                        } else {
                            self.day_month(a, b)?
                        };
                        let year = self.numeric_year(i + 4)?;
                        p.day = d;
                        p.month = m;
                        p.year = Some(year);
                        return Some(i + 5);
                    }
                }
            }
        }
        None
    }

    fn time_and_zone(&self, i: usize, p: &mut Parts) -> usize {
        let mut j = i;
        // Separators between date and time: "|", "-", ",", "–", "•", "/", "pukul".
        loop {
            if self.is_punct(j, &['|', '-', ',', '–', '—', '•', '·', '/', '@']) {
                j += 1;
            } else if self.word(j) == Some(DateWord::Filler) {
                j = self.skip_filler(j);
            } else {
                break;
            }
        }
        let Some((t, after_time)) = self.time(j) else {
            return i;
        };
        p.time = Some(t);
        let mut j = after_time;
        if let Some((zone, after_zone)) = self.zone(j) {
            p.zone = Some(zone);
            j = after_zone;
        }
        j
    }

    fn time(&self, i: usize) -> Option<(Hms, usize)> {
        let (h, hd) = self.num(i)?;
        let sep = self.punct(i + 1)?;
        if hd > 2 || !matches!(sep, ':' | '.') || !self.adjacent(i) || !self.adjacent(i + 1) {
            return None;
        }
        let (m, md) = self.num(i + 2)?;
        // An impossible time with a colon ("25:10") is still a time, for
        // resolving to reject; with a dot ("45.50") it is more likely a number.
        if md != 2 || (sep == '.' && (h > 23 || m > 59)) {
            return None;
        }
        let mut j = i + 3;
        let mut sec = None;
        if self.punct(j) == Some(sep) && self.adjacent(i + 2) && self.adjacent(j) {
            if let Some((s, 2)) = self.num(j + 1) {
                // A leap second reads as :59; other impossible seconds after
                // a colon stay for resolving to reject.
                if s <= 60 || sep == ':' {
                    sec = Some(if s == 60 { 59 } else { s });
                    j += 2;
                }
            }
        }
        // Fractional seconds from ISO stamps: "21:34:05.123".
        if sec.is_some() && self.is_punct(j, &['.']) && self.num(j + 1).is_some() {
            j += 2;
        }
        let mut hour = h;
        let ampm = self.text(j).to_ascii_lowercase();
        let ampm = ampm.as_str();
        let ampm = if matches!(ampm, "a" | "p") && self.is_punct(j + 1, &['.']) {
            // "p.m."
            if self.text(j + 2).eq_ignore_ascii_case("m") {
                j += 2;
                if self.is_punct(j + 1, &['.']) {
                    j += 1;
                }
                if ampm == "a" {
                    "am"
                } else {
                    "pm"
                }
            } else {
                ""
            }
        } else {
            ampm
        };
        match ampm {
            "am" if (1..=12).contains(&h) => {
                hour = h % 12;
                j += 1;
            }
            "pm" if (1..=12).contains(&h) => {
                hour = h % 12 + 12;
                j += 1;
            }
            _ => {}
        }
        Some(((hour, m, sec), j))
    }

    /// A stamp relative to the fetch: `N unit after` ("2 jam lalu", "45 menit
    /// yang lalu", "3 hours ago"), or a day phrase ("kemarin", "yesterday",
    /// "hari ini") with perhaps a time ("Kemarin, 14:32").
    fn relative(&self, i: usize) -> Option<(Parts, usize)> {
        let mut p = Parts::default();
        if let Some((n, digits)) = self.num(i) {
            let unit = self.relative.unit(self.text(i + 1))?;
            let end = self.phrase(i + 2, self.relative.after())?;
            if digits > 4 || n == 0 {
                return None;
            }
            p.anchor = Anchor::Ago(n.checked_mul(unit)?);
            return Some((p, end));
        }
        let (end, days) = self
            .relative
            .days()
            .iter()
            .filter_map(|(words, days)| Some((self.phrase(i, std::slice::from_ref(words))?, *days)))
            .max_by_key(|(end, _)| *end)?;
        p.anchor = Anchor::Day(days);
        let end = self.time_and_zone(end, &mut p);
        Some((p, end))
    }

    /// Past the longest of `phrases` (folded words) that starts at token `i`.
    fn phrase(&self, i: usize, phrases: &[Vec<String>]) -> Option<usize> {
        phrases
            .iter()
            .filter(|words| {
                words.iter().enumerate().all(|(k, w)| {
                    matches!(self.toks.get(i + k).map(|t| t.kind), Some(Tok::Word(_)))
                        && crate::parse::lang::fold_word(self.text(i + k)) == *w
                })
            })
            .map(|words| i + words.len())
            .max()
    }

    /// A time of day alone ("14:32 WIB", "pukul 14.32"): it needs a zone, or
    /// a word such as "pukul" before it (`introduced`), to be a stamp rather
    /// than any number pair.
    fn time_only(&self, i: usize, introduced: bool) -> Option<(Parts, usize)> {
        let (t, mut j) = self.time(i)?;
        let mut p = Parts {
            anchor: Anchor::TimeOnly,
            time: Some(t),
            ..Parts::default()
        };
        if let Some((zone, after)) = self.zone(j) {
            p.zone = Some(zone);
            j = after;
        } else if !introduced {
            return None;
        }
        Some((p, j))
    }

    fn zone(&self, i: usize) -> Option<(FixedOffset, usize)> {
        if let Some(DateWord::Zone(z)) = self.word(i) {
            // "GMT+7", "UTC+07:00": a named zone followed by an offset.
            if let Some((off, j)) = self.numeric_offset(i + 1) {
                return Some((off, j));
            }
            return Some((z, i + 1));
        }
        self.numeric_offset(i)
    }

    fn numeric_offset(&self, i: usize) -> Option<(FixedOffset, usize)> {
        let sign = self.punct(i).filter(|c| matches!(c, '+' | '-'))?;
        let (h, hd) = self.num(i + 1)?;
        if !self.adjacent(i) {
            return None;
        }
        let mut text = format!("{sign}{h:0width$}", width = hd as usize);
        let mut j = i + 2;
        if self.is_punct(j, &[':']) && self.adjacent(i + 1) {
            if let Some((m, 2)) = self.num(j + 1) {
                text.push_str(&format!("{m:02}"));
                j += 2;
            }
        }
        crate::parse::lang::parse_offset(&text).map(|o| (o, j))
    }
}

/// 2-digit years: the century that puts the year at most one year in the future
/// of today's calendar is a guess, so keep it simple: 00–69 → 20xx.
fn expand_two_digit_year(y: u32) -> i32 {
    if y < 70 {
        2000 + y as i32
    } else {
        1900 + y as i32
    }
}

/// Parses dates with a reusable token buffer.
pub struct DateParser<'a> {
    lex: &'a Lexicon,
    toks: Vec<Token>,
}

impl<'a> DateParser<'a> {
    pub fn new(lex: &'a Lexicon) -> Self {
        DateParser {
            lex,
            toks: Vec::new(),
        }
    }

    /// Parses `s` when the whole string is a calendar date: only filler words,
    /// punctuation and a date may appear. Used to recognise date lines.
    pub fn parse_line(&mut self, s: &str, ctx: &DateContext) -> Option<FoundDate> {
        self.parse_whole(s, ctx, false)?.ok()
    }

    /// A stamp line of a text page: [`Self::parse_line`], also for a line
    /// that is a date in form but not in fact (`31 Desember 99999`, `25:10
    /// WIB`), which is still a stamp (never body text, never joined to its
    /// neighbours) and says why it gave no date; and also stamps counted from
    /// the fetch ("2 jam lalu", "kemarin") or a time alone ("14:32 WIB"),
    /// which sidebars print. An HTML page's lines go through
    /// [`Self::parse_line`]: there such stamps belong to comments and
    /// widgets, not to the article.
    pub fn parse_stamp(
        &mut self,
        s: &str,
        ctx: &DateContext,
    ) -> Option<Result<FoundDate, DateRejected>> {
        self.parse_whole(s, ctx, true)
    }

    fn parse_whole(
        &mut self,
        s: &str,
        ctx: &DateContext,
        counted_from_fetch: bool,
    ) -> Option<Result<FoundDate, DateRejected>> {
        // Date lines are short and contain a digit (or open with a day word
        // such as "kemarin"); skip everything else cheaply.
        if s.len() > 120 || !self.may_start_date(s) {
            return None;
        }
        let cur = self.cursor(s, ctx);
        let mut i = 0;
        while cur.is_punct(i, &['|', '-', '•', '(', '[', ':']) {
            i += 1;
        }
        let start = cur.skip_filler(i);
        let (parts, end) = cur.date(start).or_else(|| {
            if !counted_from_fetch {
                return None;
            }
            cur.relative(start)
                .or_else(|| cur.time_only(start, start > i))
        })?;
        // The remainder may only be closing punctuation.
        let mut j = end;
        while cur.is_punct(j, &[')', ']', '|', '.', ',', '-']) {
            j += 1;
        }
        if j != cur.toks.len() {
            return None;
        }
        let span = cur.toks[start].start..cur.toks[end - 1].end;
        Some(resolve(parts, span, ctx))
    }

    /// Whether the line's first word could open a date line: a digit, a
    /// punctuation mark, a date word (weekday, month, filler), or a day named
    /// relative to the fetch ("kemarin"). Most lines fail this, which spares
    /// tokenizing them.
    fn may_start_date(&self, s: &str) -> bool {
        let s = s.trim_start();
        match s.chars().next() {
            Some(c) if c.is_alphabetic() => {
                let end = s
                    .find(|c: char| !(c.is_alphabetic() || c == '\'' || c == '’'))
                    .unwrap_or(s.len());
                let first = &s[..end];
                (self.lex.date_word_raw(first).is_some() && s.bytes().any(|b| b.is_ascii_digit()))
                    || self.lex.relative().opens_day(first)
            }
            Some(_) => s.bytes().any(|b| b.is_ascii_digit()),
            None => false,
        }
    }

    /// Tokenizes `s` into this parser's buffer and returns a cursor over it.
    fn cursor<'s>(&'s mut self, s: &'s str, ctx: &DateContext) -> Cursor<'s> {
        tokenize(s, self.lex, &mut self.toks);
        Cursor {
            s,
            toks: &self.toks,
            order: ctx.order,
            relative: self.lex.relative(),
        }
    }

    /// Finds the first date expression anywhere in `s` that has at least a day and
    /// a month and is anchored by a year or a weekday (so "8/10" alone in running
    /// text is not taken for a date). Dates that cannot be (a year out of
    /// range, an impossible time) are passed over.
    pub fn find_first(&mut self, s: &str, ctx: &DateContext) -> Option<FoundDate> {
        if !s.bytes().any(|b| b.is_ascii_digit()) {
            return None;
        }
        let cur = self.cursor(s, ctx);
        for i in 0..cur.toks.len() {
            let plausible_start = match cur.toks[i].kind {
                Tok::Word(w) => matches!(w, Some(DateWord::Weekday(_) | DateWord::Month(_))),
                Tok::Num { digits, .. } => digits <= 4,
                Tok::Punct(_) => false,
            };
            if !plausible_start {
                continue;
            }
            if let Some((parts, end)) = cur.date(i) {
                if parts.year.is_none() && parts.weekday.is_none() {
                    continue;
                }
                let span = cur.toks[i].start..cur.toks[end - 1].end;
                if let Ok(found) = resolve(parts, span, ctx) {
                    return Some(found);
                }
            }
        }
        None
    }
}

/// Completes and checks the parts: infers a missing year, flags a weekday that
/// does not match, applies the zone; counts relative stamps back from the
/// fetch. A year outside [`MIN_YEAR`]..=the fetch's year + 1, a day the
/// calendar lacks and a time that does not exist are rejected with the
/// reason, never read as something less precise.
fn resolve(
    p: Parts,
    span: std::ops::Range<usize>,
    ctx: &DateContext,
) -> Result<FoundDate, DateRejected> {
    let reject = |reason| DateRejected {
        reason,
        span: span.clone(),
    };
    let mut flags = Vec::new();
    // The fetch's local day and time, in the zone the page printed if any.
    let reference_local = match p.zone {
        Some(off) => ctx.reference.with_timezone(&off).naive_local(),
        None => ctx.reference.with_timezone(&ctx.timezone).naive_local(),
    };
    let date = match p.anchor {
        Anchor::Ago(secs) if secs < 86_400 => {
            // Minutes and hours ago: an instant, as precise as a minute.
            let at = ctx.reference - chrono::Duration::seconds(secs as i64);
            let at = at.with_timezone(&ctx.timezone).fixed_offset();
            let into_minute = chrono::Duration::seconds(at.second() as i64)
                + chrono::Duration::nanoseconds(at.nanosecond() as i64);
            return Ok(FoundDate {
                datetime: at - into_minute,
                precision: Precision::Minute,
                flags: vec![DateFlag::Relative],
                span,
            });
        }
        Anchor::Ago(secs) => {
            flags.push(DateFlag::Relative);
            reference_local.date() - chrono::Duration::days((secs / 86_400) as i64)
        }
        Anchor::Day(days) => {
            flags.push(DateFlag::Relative);
            reference_local.date() + chrono::Duration::days(days as i64)
        }
        Anchor::TimeOnly => {
            flags.push(DateFlag::DateInferred);
            let (h, m, s) = p.time.unwrap_or_default();
            let time = NaiveTime::from_hms_opt(h, m, s.unwrap_or(0))
                .ok_or(reject(DateRejection::ImpossibleTime))?;
            let ahead = (time - reference_local.time()).num_seconds();
            if ahead > TIME_ONLY_SKEW_SECS {
                reference_local.date() - chrono::Duration::days(1)
            } else {
                reference_local.date()
            }
        }
        Anchor::Calendar => match p.year {
            Some(y) => {
                let latest = reference_local.year() + 1;
                if !(MIN_YEAR..=latest).contains(&y) {
                    return Err(reject(DateRejection::YearOutOfRange));
                }
                NaiveDate::from_ymd_opt(y, p.month, p.day)
                    .ok_or(reject(DateRejection::ImpossibleDate))?
            }
            None => {
                flags.push(DateFlag::YearInferred);
                infer_year(p.month, p.day, p.weekday, reference_local.date())
                    .ok_or(reject(DateRejection::ImpossibleDate))?
            }
        },
    };
    if let Some(wd) = p.weekday {
        if date.weekday().num_days_from_monday() != wd as u32 {
            flags.push(DateFlag::WeekdayMismatch);
        }
    }
    let impossible = || reject(DateRejection::ImpossibleTime);
    let (time, precision) = match p.time {
        Some((h, m, Some(s))) => (
            NaiveTime::from_hms_opt(h, m, s).ok_or_else(impossible)?,
            Precision::Second,
        ),
        Some((h, m, None)) => (
            NaiveTime::from_hms_opt(h, m, 0).ok_or_else(impossible)?,
            Precision::Minute,
        ),
        None => (NaiveTime::MIN, Precision::Day),
    };
    let naive = NaiveDateTime::new(date, time);
    let datetime = match p.zone {
        Some(off) => off.from_local_datetime(&naive).single(),
        None => ctx
            .timezone
            .from_local_datetime(&naive)
            .earliest()
            // A local time inside a DST gap does not exist; read it in the offset
            // that applied an hour later.
            .or_else(|| {
                ctx.timezone
                    .from_local_datetime(&(naive + chrono::Duration::hours(1)))
                    .earliest()
            })
            .map(|t| t.fixed_offset()),
    }
    .ok_or_else(impossible)?;
    Ok(FoundDate {
        datetime,
        precision,
        flags,
        span,
    })
}

/// The latest year, at most [`MAX_YEARS_BACK`] back, in which `month/day` is on or
/// before `reference` and (when given) falls on `weekday`.
fn infer_year(
    month: u32,
    day: u32,
    weekday: Option<u8>,
    reference: NaiveDate,
) -> Option<NaiveDate> {
    (0..=MAX_YEARS_BACK)
        .map(|back| reference.year() - back)
        .filter(|y| *y >= MIN_YEAR)
        .filter_map(|y| NaiveDate::from_ymd_opt(y, month, day))
        .filter(|d| *d <= reference)
        .find(|d| {
            weekday.is_none_or(|wd| d.weekday() == Weekday::try_from(wd).unwrap_or(Weekday::Mon))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::rfc3339;

    fn ctx(order: DateOrder) -> DateContext {
        DateContext {
            reference: DateTime::parse_from_rfc3339("2025-12-31T05:15:00Z")
                .unwrap()
                .with_timezone(&chrono::Utc),
            timezone: chrono_tz::Asia::Jakarta,
            order,
        }
    }

    fn line(s: &str) -> Option<(String, Precision, Vec<DateFlag>)> {
        let mut p = DateParser::new(Lexicon::builtin());
        p.parse_line(s, &ctx(DateOrder::Dmy))
            .map(|f| (rfc3339(&f.datetime), f.precision, f.flags))
    }

    fn at(s: &str) -> String {
        line(s).unwrap_or_else(|| panic!("no date in {s:?}")).0
    }

    #[test]
    fn indonesian_shapes() {
        assert_eq!(
            at("Rabu, 31 Desember 2025 | 12:10"),
            "2025-12-31T12:10:00+07:00"
        );
        assert_eq!(
            at("Selasa, 16 Feb 2016 - 11:00"),
            "2016-02-16T11:00:00+07:00"
        );
        assert_eq!(
            at("Kamis, 02 Nov 2023 20:59 WIB"),
            "2023-11-02T20:59:00+07:00"
        );
        assert_eq!(at("02/11/2023, 21:34 WIB"), "2023-11-02T21:34:00+07:00");
        assert_eq!(
            at("Senin, 4 Mei 2020 04:25 WIB"),
            "2020-05-04T04:25:00+07:00"
        );
        assert_eq!(
            at("Kamis, 5 November 2015 15.16 WITA"),
            "2015-11-05T15:16:00+08:00"
        );
        assert_eq!(
            at("Jum'at, 6 Nov 2015 pukul 09:00 WIT"),
            "2015-11-06T09:00:00+09:00"
        );
        assert_eq!(
            at("Selasa, 23 Februari 2016 | 14:54"),
            "2016-02-23T14:54:00+07:00"
        );
        assert_eq!(
            at("Selasa, 16 Februari 2016 12:55"),
            "2016-02-16T12:55:00+07:00"
        );
    }

    #[test]
    fn weekday_and_day_month_without_year() {
        let (v, prec, flags) = line("Jumat (8/10)").unwrap();
        assert_eq!(v, "2021-10-08T00:00:00+07:00");
        assert_eq!(prec, Precision::Day);
        assert_eq!(flags, vec![DateFlag::YearInferred]);
        // A Friday 8 October more than 7 years back does not count: with a
        // reference in 2025 only 2021 qualifies; 2010 is too far.
        let mut p = DateParser::new(Lexicon::builtin());
        let mut c = ctx(DateOrder::Dmy);
        c.reference = DateTime::parse_from_rfc3339("2020-12-31T00:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert!(p.parse_line("Jumat (8/10)", &c).is_none());
    }

    #[test]
    fn english_shapes() {
        let mut p = DateParser::new(Lexicon::builtin());
        let mut c = ctx(DateOrder::Mdy);
        c.timezone = chrono_tz::UTC;
        let at = |p: &mut DateParser, s: &str| rfc3339(&p.parse_line(s, &c).unwrap().datetime);
        assert_eq!(
            at(&mut p, "Wednesday, December 31, 2025 12:10 PM"),
            "2025-12-31T12:10:00+00:00"
        );
        assert_eq!(
            at(&mut p, "Dec 31st, 2025 at 9:05 a.m. EST"),
            "2025-12-31T09:05:00-05:00"
        );
        assert_eq!(
            at(&mut p, "Published: 31 December 2025 23:59 GMT+7"),
            "2025-12-31T23:59:00+07:00"
        );
        assert_eq!(at(&mut p, "11/02/2023 21:34"), "2023-11-02T21:34:00+00:00");
        assert_eq!(
            at(&mut p, "2023-11-02T21:34:05+07:00"),
            "2023-11-02T21:34:05+07:00"
        );
    }

    #[test]
    fn more_languages_month_words() {
        let mut p = DateParser::new(Lexicon::builtin());
        let mut c = ctx(DateOrder::Dmy);
        c.timezone = chrono_tz::UTC;
        let day = |p: &mut DateParser, s: &str| {
            let d = p.parse_line(s, &c).unwrap_or_else(|| panic!("{s:?}"));
            rfc3339(&d.datetime)[..10].to_string()
        };
        for (s, want) in [
            // Russian, Ukrainian (genitive, a weekday, a time after "в")
            ("15 августа 2016, 13:43", "2016-08-15"),
            ("воскресенье, 3 мая 2020 в 10:15", "2020-05-03"),
            ("7 листопада 2021", "2021-11-07"),
            // Romanian
            ("duminică, 20 septembrie 2020", "2020-09-20"),
            // Spanish and Portuguese "de"
            ("martes 17 de marzo de 2020", "2020-03-17"),
            ("Miércoles, 15 de Abril de 2020", "2020-04-15"),
            ("5 de outubro de 2019", "2019-10-05"),
            // Italian, Dutch, Polish
            ("venerdì 3 aprile 2020", "2020-04-03"),
            ("12 maart 2021", "2021-03-12"),
            ("5 października 2022", "2022-10-05"),
            // Arabic: the Arabic comma, and two names of one month
            ("الأربعاء، 07 أكتوبر 2020", "2020-10-07"),
            ("الجمعة 24 نيسان / أبريل 2020 09:22", "2020-04-24"),
            // Year first: Korean dots, Japanese slashes, CJK units
            ("2023.11.02. 20:06", "2023-11-02"),
            ("2023. 10. 23.", "2023-10-23"),
            ("2020/7/11", "2020-07-11"),
            ("2020年07月12日", "2020-07-12"),
            ("2023년 11월 2일", "2023-11-02"),
            // Day-first with a space after each dot
            ("4. 2. 2022", "2022-02-04"),
        ] {
            assert_eq!(day(&mut p, s), want, "{s:?}");
        }
        // Spaced dots need the four-digit year ("Platz 4. 2. 22").
        assert!(p.parse_line("4. 2. 22", &c).is_none());
        // Two different months side by side are not one date.
        assert!(p.parse_line("24 نيسان / مايو 2020", &c).is_none());
        // Year-first numbers with a space between (not a date's separator).
        assert!(p.parse_line("2023 .11 .02", &c).is_none());
        let f = p.find_first("입력 2023.11.02. 오후 8:06", &c).unwrap();
        assert_eq!(&rfc3339(&f.datetime)[..10], "2023-11-02");
    }

    #[test]
    fn weekday_mismatch_is_flagged() {
        // 31 December 2025 is a Wednesday (Rabu), not a Thursday (Kamis).
        let (v, _, flags) = line("Kamis, 31 Desember 2025 | 12:10").unwrap();
        assert_eq!(v, "2025-12-31T12:10:00+07:00");
        assert_eq!(flags, vec![DateFlag::WeekdayMismatch]);
        assert!(line("Rabu, 31 Desember 2025 | 12:10").unwrap().2.is_empty());
    }

    #[test]
    fn non_dates_are_not_dates() {
        for s in [
            "Harga Minyak Datar saat Tensi Timteng Naik",
            "Prabowo Dijadwalkan Kunjungi Aceh Tamiang 1 Januari 2026 bersama menteri",
            "17.000 LSM",
            "31 Februari 2025",
            "12:10",
            "",
            "Rp1,3 Juta",
        ] {
            assert!(line(s).is_none(), "{s:?} parsed as a date");
        }
    }

    /// A date as the tests compare it: value, precision, flags.
    type Read = (String, Precision, Vec<DateFlag>);

    fn stamp(s: &str) -> Option<Result<Read, DateRejection>> {
        let mut p = DateParser::new(Lexicon::builtin());
        p.parse_stamp(s, &ctx(DateOrder::Dmy)).map(|r| {
            r.map(|f| (rfc3339(&f.datetime), f.precision, f.flags))
                .map_err(|e| e.reason)
        })
    }

    #[test]
    fn stamps_relative_to_the_fetch() {
        // The fetch: 2025-12-31T05:15:00Z = 12:15 WIB.
        use DateFlag::Relative;
        for (s, want, precision) in [
            ("2 jam lalu", "2025-12-31T10:15:00+07:00", Precision::Minute),
            (
                "45 menit yang lalu",
                "2025-12-31T11:30:00+07:00",
                Precision::Minute,
            ),
            (
                "3 hours ago",
                "2025-12-31T09:15:00+07:00",
                Precision::Minute,
            ),
            (
                "1 minute ago",
                "2025-12-31T12:14:00+07:00",
                Precision::Minute,
            ),
            ("3 hari lalu", "2025-12-28T00:00:00+07:00", Precision::Day),
            ("kemarin", "2025-12-30T00:00:00+07:00", Precision::Day),
            ("Yesterday", "2025-12-30T00:00:00+07:00", Precision::Day),
            (
                "Kemarin, 14:32",
                "2025-12-30T14:32:00+07:00",
                Precision::Minute,
            ),
            (
                "Yesterday at 9:05 PM",
                "2025-12-30T21:05:00+07:00",
                Precision::Minute,
            ),
            (
                "Hari ini, 08:00 WIB",
                "2025-12-31T08:00:00+07:00",
                Precision::Minute,
            ),
        ] {
            assert_eq!(
                stamp(s),
                Some(Ok((want.to_string(), precision, vec![Relative]))),
                "{s:?}"
            );
        }
        // Only whole stamps: a sentence that starts like one is text.
        for s in [
            "2 jam lalu polisi datang",
            "jam lalu",
            "2 jam",
            "Kemarin sore hujan",
            "0 jam lalu",
        ] {
            assert_eq!(stamp(s), None, "{s:?}");
        }
        // Not in running text either.
        let mut p = DateParser::new(Lexicon::builtin());
        assert!(p
            .find_first("Dua hari lalu, 2 jam lalu, kemarin", &ctx(DateOrder::Dmy))
            .is_none());
    }

    #[test]
    fn a_time_alone_is_a_stamp_of_the_fetch_day() {
        use DateFlag::DateInferred;
        let today = |t: &str| Some(Ok((t.to_string(), Precision::Minute, vec![DateInferred])));
        assert_eq!(stamp("11:50 WIB"), today("2025-12-31T11:50:00+07:00"));
        assert_eq!(stamp("pukul 12.40"), today("2025-12-31T12:40:00+07:00"));
        // Later than the fetch by more than the clock skew: the day before.
        assert_eq!(stamp("14:32 WIB"), today("2025-12-30T14:32:00+07:00"));
        // In the zone it prints: 14:32 WITA is 13:32 WIB.
        assert_eq!(stamp("12:50 WITA"), today("2025-12-31T12:50:00+08:00"));
        // A bare number pair is no stamp.
        assert_eq!(stamp("12:10"), None);
        assert_eq!(stamp("2:1"), None);
    }

    #[test]
    fn weekday_with_a_numeric_date_and_a_time() {
        for s in [
            "Rabu, 31/12/2025 08:59",
            "Rabu, 31/12/2025 - 08:59 WIB",
            "Rabu (31/12/2025) 08:59 WIB",
            "Rabu (31/12/2025), 08:59",
        ] {
            assert_eq!(at(s), "2025-12-31T08:59:00+07:00", "{s:?}");
        }
        // Day/month only in parentheses, as before.
        assert_eq!(at("Jumat (8/10)"), "2021-10-08T00:00:00+07:00");
    }

    #[test]
    fn an_unambiguous_day_first_date_on_a_month_first_page() {
        let mut p = DateParser::new(Lexicon::builtin());
        let f = p
            .parse_line("31/12/2025, 08:59 WIB", &ctx(DateOrder::Mdy))
            .unwrap();
        assert_eq!(rfc3339(&f.datetime), "2025-12-31T08:59:00+07:00");
        // Ambiguous: the page's order decides.
        let f = p.parse_line("11/02/2023", &ctx(DateOrder::Mdy)).unwrap();
        assert_eq!(&rfc3339(&f.datetime)[..10], "2023-11-02");
    }

    #[test]
    fn years_outside_the_news_era_are_rejected_with_the_reason() {
        use DateRejection::YearOutOfRange;
        // The fetch is in 2025: 1995..=2026 is the range.
        for s in [
            "Rabu, 31 Desember 99999 | 12:10",
            "Rabu, 31 Desember -2025 | 12:10",
            "Rabu, 31 Desember 0000 | 12:10",
            "31 Desember 1994",
            "31 Desember 1899",
            "1 Januari 2027",
            "December 31, 2199",
            "31/12/99999",
            "31/12/0000 10:00",
            "31/12/94",
        ] {
            assert_eq!(stamp(s), Some(Err(YearOutOfRange)), "{s:?}");
            assert_eq!(line(s), None, "{s:?}");
        }
        assert!(line("1 Januari 1995").is_some());
        assert!(line("31 Desember 2026").is_some());
        // Nor is the year inferred from the weekday and day in running text.
        let mut p = DateParser::new(Lexicon::builtin());
        let c = ctx(DateOrder::Dmy);
        assert!(p
            .find_first("kata dia, Rabu, 31 Desember 99999 | 12:10.", &c)
            .is_none());
        // A year is never inferred before the range either.
        let mut early = c;
        early.reference = DateTime::parse_from_rfc3339("1996-03-01T00:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert!(p.parse_line("Jumat (8/10)", &early).is_none());
    }

    #[test]
    fn impossible_times_are_rejected_not_dropped_to_the_day() {
        use DateRejection::{ImpossibleDate, ImpossibleTime};
        for s in [
            "Rabu, 31 Desember 2025 | 25:10",
            "Rabu, 31 Desember 2025 | 12:75",
            "31/12/2025 24:00",
            "2025-12-31T23:59:61",
            "25:10 WIB",
        ] {
            assert_eq!(stamp(s), Some(Err(ImpossibleTime)), "{s:?}");
        }
        assert_eq!(stamp("31 Februari 2025"), Some(Err(ImpossibleDate)));
        let mut p = DateParser::new(Lexicon::builtin());
        assert!(p
            .find_first("Rabu, 31 Desember 2025 | 25:10", &ctx(DateOrder::Dmy))
            .is_none());
        // A dotted pair after a date is a number, not an impossible time.
        assert_eq!(
            p.find_first("Rabu, 31 Desember 2025 45.50 persen", &ctx(DateOrder::Dmy))
                .map(|f| rfc3339(&f.datetime)),
            Some("2025-12-31T00:00:00+07:00".to_string())
        );
    }

    #[test]
    fn finds_dates_inside_text() {
        let mut p = DateParser::new(Lexicon::builtin());
        let s = "katanya seperti dikutip dari Euro News, Jumat (8/10).";
        let f = p.find_first(s, &ctx(DateOrder::Dmy)).unwrap();
        assert_eq!(&s[f.span.clone()], "Jumat (8/10)");
        assert_eq!(rfc3339(&f.datetime), "2021-10-08T00:00:00+07:00");
        assert!(p
            .find_first("ada 17.000 LSM dan 8/10 orang", &ctx(DateOrder::Dmy))
            .is_none());
    }
}

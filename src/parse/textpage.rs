//! Plain-text pages: one block per line, as crawlers emit them after stripping
//! markup. Each line is classified (title, caption, body, headline item, date
//! line, boilerplate), hard-wrapped lines are joined, and repeated paragraphs are
//! dropped.
//!
//! The order of the passes matters: headline lists are found first (a title line
//! followed by a date line, at least twice), because their titles look like
//! article titles; captions and the title come next; joining runs before repeat
//! removal, so that a repeated paragraph that was also wrapped is recognised whole.

use xxhash_rust::xxh3::xxh3_64;

use super::date::{text_published, DateContext, DateParser, FoundDate};
use super::lang::Lexicon;
use super::{HeadlineItem, ParsedPage, TitleSource};
use crate::event::{Caption, Removed};
use crate::text::normalize;

/// Headline titles and article titles are short; longer lines are paragraphs.
const MAX_TITLE_CHARS: usize = 200;
const MAX_TITLE_WORDS: usize = 30;
/// A line at least this long that stops mid-sentence was wrapped by the crawler.
const WRAPPED_LINE_MIN_CHARS: usize = 60;
/// Two paragraphs whose word sets overlap this much (relative to the smaller) are
/// one paragraph printed twice.
const NEAR_REPEAT_CONTAINMENT: f64 = 0.9;
/// ... provided the shorter has at least this share of the longer's words, so a
/// one-line summary is not taken for a copy of the paragraph it summarises.
const NEAR_REPEAT_MIN_LENGTH_RATIO: f64 = 0.5;
/// Paragraphs shorter than this (in distinct words) only count as repeats when
/// they are exactly equal.
const NEAR_REPEAT_MIN_WORDS: usize = 8;

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Other,
    Boilerplate,
    Date(FoundDate),
    HeadlineTitle,
    HeadlineDate,
}

/// Parses a plain-text page.
pub fn parse(
    lex: &Lexicon,
    dates: &mut DateParser<'_>,
    content: &str,
    ctx: &DateContext,
) -> ParsedPage {
    // Splitting on a single byte is memchr-fast; only old Mac pages need '\r'.
    let lines: Vec<&str> = if content.contains('\r') {
        content
            .split(['\n', '\r'])
            .map(clean_line)
            .filter(|l| !l.is_empty())
            .collect()
    } else {
        content
            .split('\n')
            .map(clean_line)
            .filter(|l| !l.is_empty())
            .collect()
    };
    let mut kinds: Vec<Kind> = lines
        .iter()
        .map(|l| {
            if lex.is_boilerplate(l) {
                Kind::Boilerplate
            } else if let Some(d) = dates.parse_line(l, ctx) {
                Kind::Date(d)
            } else {
                Kind::Other
            }
        })
        .collect();

    let mut removed = Removed::default();
    let headlines = find_headline_lists(&lines, &mut kinds);
    removed.headline_items = headlines.len() as u32;

    let mut caption: Option<Caption> = None;
    let mut dateline: Option<(FoundDate, &str)> = None;
    let mut title: Option<String> = None;
    // Runs of body lines; a run breaks wherever a non-body line stood, because
    // a wrapped paragraph is never split by a caption or a date.
    let mut runs: Vec<Vec<&str>> = vec![Vec::new()];
    let mut seen_body = false;
    for (i, (line, kind)) in lines.iter().zip(&kinds).enumerate() {
        match kind {
            Kind::HeadlineTitle | Kind::HeadlineDate => {
                runs.push(Vec::new());
            }
            Kind::Boilerplate => {
                removed.boilerplate_lines += 1;
                runs.push(Vec::new());
            }
            Kind::Date(d) => {
                if dateline.is_none() {
                    dateline = Some((d.clone(), line));
                }
                runs.push(Vec::new());
            }
            Kind::Other => {
                if let Some(c) = split_caption(lex, line) {
                    removed.captions += 1;
                    if caption.is_none() {
                        caption = Some(c);
                    }
                    runs.push(Vec::new());
                } else if !seen_body && title.is_none() && looks_like_title(line, &lines, &kinds, i)
                {
                    title = Some(line.to_string());
                    runs.push(Vec::new());
                } else {
                    seen_body = true;
                    if let Some(run) = runs.last_mut() {
                        run.push(line);
                    }
                }
            }
        }
    }

    let joined: Vec<String> = runs.iter().flat_map(|run| join_wrapped(run)).collect();
    let (paragraphs, normalized) = drop_repeats(joined, &mut removed);

    let published = text_published(lex, dates, dateline, &paragraphs, ctx);

    ParsedPage {
        title: title.map(|t| (t, TitleSource::Text)),
        caption,
        paragraphs,
        normalized,
        published,
        language: None,
        headlines,
        removed,
        modified: None,
        authors: Vec::new(),
        sources: None,
    }
}

/// Trims whitespace, including no-break spaces and zero-width characters that
/// crawlers leave behind, and a byte-order mark.
fn clean_line(l: &str) -> &str {
    l.trim_matches(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                '\u{feff}' | '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}'
            )
    })
}

fn char_len(s: &str) -> usize {
    s.chars().count()
}

fn is_short_line(l: &str) -> bool {
    char_len(l) <= MAX_TITLE_CHARS && l.split_whitespace().count() <= MAX_TITLE_WORDS
}

/// Finds runs of "title line, date line" (or "date line, title line") pairs; a
/// run of at least two pairs is a headline list. Marks the lines and returns the
/// items in page order.
fn find_headline_lists(lines: &[&str], kinds: &mut [Kind]) -> Vec<HeadlineItem> {
    let is_title = |k: &Kind, l: &str| *k == Kind::Other && is_short_line(l);
    let is_date = |k: &Kind| matches!(k, Kind::Date(_));
    let mut items = Vec::new();
    let mut i = 0;
    while i + 1 < lines.len() {
        // Try title-first, then date-first; each needs two pairs in a row.
        let mut matched = false;
        for date_first in [false, true] {
            let pair_at = |j: usize| -> bool {
                if j + 1 >= lines.len() {
                    return false;
                }
                let (t, d) = if date_first { (j + 1, j) } else { (j, j + 1) };
                is_title(&kinds[t], lines[t]) && is_date(&kinds[d])
            };
            let mut end = i;
            while pair_at(end) {
                end += 2;
            }
            if (end - i) / 2 >= 2 {
                for j in (i..end).step_by(2) {
                    let (t, d) = if date_first { (j + 1, j) } else { (j, j + 1) };
                    let Kind::Date(found) = std::mem::replace(&mut kinds[d], Kind::HeadlineDate)
                    else {
                        continue;
                    };
                    kinds[t] = Kind::HeadlineTitle;
                    items.push(HeadlineItem {
                        title: lines[t].to_string(),
                        url: None,
                        published_at: Some(found.datetime),
                        precision: Some(found.precision),
                        flags: found.flags,
                    });
                }
                i = end;
                matched = true;
                break;
            }
        }
        if !matched {
            i += 1;
        }
    }
    items
}

/// Splits a photo caption into text and credit: `…/Net`, `Foto: …`.
pub(super) fn split_caption(lex: &Lexicon, line: &str) -> Option<Caption> {
    if line.contains("://") || line.contains("www.") {
        return None;
    }
    let (body, prefixed) = match lex.caption_prefix_len(line) {
        Some(n) => (line[n..].trim_start_matches([' ', ':']).trim(), true),
        None => (line, false),
    };
    if let Some(slash) = body.rfind('/') {
        let text = body[..slash].trim();
        let credit = body[slash + 1..].trim();
        if let Some(credit) = credit_word(lex, credit) {
            let ends_sentence = text.ends_with(['.', '!', '?']);
            let known = lex.credit(credit).is_some();
            if char_len(text) >= 10 && (known || !ends_sentence) && char_len(line) <= 400 {
                return Some(Caption {
                    text: text.to_string(),
                    credit: Some(lex.credit(credit).unwrap_or(credit).to_string()),
                });
            }
        }
    }
    prefixed.then(|| Caption {
        text: body.to_string(),
        credit: None,
    })
}

/// A credit is one to four capitalised words of letters (and dots), such as
/// `Net`, `RMOL`, `ANTARA FOTO` or `Dok. Pribadi`.
fn credit_word<'a>(lex: &Lexicon, credit: &'a str) -> Option<&'a str> {
    let credit = credit.trim_end_matches('.');
    if credit.is_empty() || char_len(credit) > 40 {
        return None;
    }
    if lex.credit(credit).is_some() {
        return Some(credit);
    }
    let words: Vec<&str> = credit.split_whitespace().collect();
    let ok = !words.is_empty()
        && words.len() <= 4
        && words.iter().all(|w| {
            w.chars().next().is_some_and(char::is_uppercase)
                && w.chars().all(|c| c.is_alphabetic() || c == '.' || c == '-')
        });
    ok.then_some(credit)
}

/// A title is a short line before the body that does not end like a sentence,
/// and that more text follows.
fn looks_like_title(line: &str, lines: &[&str], kinds: &[Kind], i: usize) -> bool {
    let words = line.split_whitespace().count();
    if !is_short_line(line) || words < 2 || line.ends_with(['.', ',', ';', ':']) {
        return false;
    }
    if !line
        .chars()
        .next()
        .is_some_and(|c| c.is_uppercase() || c.is_numeric() || "\"“'‘".contains(c))
    {
        return false;
    }
    // Something substantial must follow: a dateline or a longer body line.
    lines
        .iter()
        .zip(kinds)
        .skip(i + 1)
        .find(|(_, k)| !matches!(k, Kind::Boilerplate))
        .is_some_and(|(l, k)| match k {
            Kind::Date(_) => true,
            Kind::Other => char_len(l) > char_len(line),
            _ => false,
        })
}

/// Whether a line ends where a paragraph may end.
fn ends_paragraph(l: &str) -> bool {
    l.ends_with(['.', '!', '?', '…', '"', '”', '’', '»', ':', ')', ']'])
}

/// Joins lines the crawler hard-wrapped: a line that stops mid-sentence continues
/// on the next when the next starts in lowercase, or when the line is long enough
/// that it cannot be a subheading.
fn join_wrapped(run: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(run.len());
    let mut open = false;
    for line in run {
        let continues = open
            && out.last().is_some_and(|prev: &String| {
                let lower_next = line.chars().next().is_some_and(char::is_lowercase);
                let long_prev = char_len(prev) >= WRAPPED_LINE_MIN_CHARS
                    && prev
                        .chars()
                        .last()
                        .is_some_and(|c| c.is_alphanumeric() || c == ',');
                lower_next || long_prev
            });
        if continues {
            if let Some(prev) = out.last_mut() {
                prev.push(' ');
                prev.push_str(line);
            }
        } else {
            out.push(line.to_string());
        }
        open = out.last().is_some_and(|p| !ends_paragraph(p));
    }
    out
}

/// Drops paragraphs printed twice, exactly (after normalization) or nearly (word
/// sets overlapping by [`NEAR_REPEAT_CONTAINMENT`]). The first copy stays.
pub(super) fn drop_repeats(
    paragraphs: Vec<String>,
    removed: &mut Removed,
) -> (Vec<String>, Vec<String>) {
    drop_repeats_longer_than(paragraphs, removed, 0)
}

/// [`drop_repeats`] for paragraphs of at least `min_words` words; shorter ones
/// are kept even when repeated (HTML pages repeat labels such as "Meal 2" on
/// purpose, while a crawler's duplicated text is whole paragraphs).
pub(super) fn drop_repeats_longer_than(
    paragraphs: Vec<String>,
    removed: &mut Removed,
    min_words: usize,
) -> (Vec<String>, Vec<String>) {
    drop_repeats_grouped(paragraphs, &[], removed, min_words)
}

/// Where a paragraph sits, for [`drop_repeats_grouped`].
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct RepeatKey {
    /// Paragraphs of one `Some` group never count as repeats of each other:
    /// the page wrote them side by side itself (an interview's recurring
    /// question, a meal plan's recurring dish), unlike a caption or teaser
    /// printed again elsewhere.
    pub group: Option<u32>,
    /// A summary (a deck under the headline) that gives way to a later copy
    /// in the body: the body's wording is the article's, the deck restates it.
    pub yields: bool,
}

/// [`drop_repeats_longer_than`] with each paragraph's [`RepeatKey`].
pub(super) fn drop_repeats_grouped(
    paragraphs: Vec<String>,
    keys: &[RepeatKey],
    removed: &mut Removed,
    min_words: usize,
) -> (Vec<String>, Vec<String>) {
    // Kept paragraphs; a deck that gave way to its body copy becomes None.
    let mut kept: Vec<Option<(String, String)>> = Vec::with_capacity(paragraphs.len());
    // Per compared paragraph: its index in `kept`, hash, words and key.
    let mut seen: Vec<(usize, u64, WordSet, RepeatKey)> = Vec::with_capacity(paragraphs.len());
    for (i, p) in paragraphs.into_iter().enumerate() {
        let key = keys.get(i).copied().unwrap_or_default();
        let n = normalize(&p);
        if n.is_empty() {
            // Lines of only punctuation or symbols ("***", "—") separate nothing.
            removed.boilerplate_lines += 1;
            continue;
        }
        if min_words > 0 && n.split(' ').count() < min_words {
            kept.push(Some((p, n)));
            continue;
        }
        let h = xxh3_64(n.as_bytes());
        let words = WordSet::of(&n);
        let repeat = seen.iter().position(|(at, k, w, g)| {
            kept[*at].is_some()
                && (g.group.is_none() || g.group != key.group)
                && (*k == h || w.near_repeat(&words))
        });
        if let Some(s) = repeat {
            removed.repeated_paragraphs += 1;
            // The later copy stays only when it replaces a deck.
            if !seen[s].3.yields || key.yields {
                continue;
            }
            kept[seen[s].0] = None;
        }
        seen.push((kept.len(), h, words, key));
        kept.push(Some((p, n)));
    }
    kept.into_iter().flatten().unzip()
}

/// A paragraph's distinct words as a 512-bit Bloom-style bitmap. Comparing two
/// bitmaps with popcounts costs a few instructions and needs no allocation; a
/// collision only makes two paragraphs look slightly more alike, and at the
/// 0.9 containment threshold unrelated paragraphs (which share ~10% of bits by
/// chance plus their common function words) stay far below it.
#[derive(Clone, Copy)]
struct WordSet {
    bits: [u64; 8],
    count: u32,
}

impl WordSet {
    fn of(normalized: &str) -> WordSet {
        let mut bits = [0u64; 8];
        for w in normalized.split(' ') {
            let h = word_hash(w);
            let bit = (h >> 55) as usize; // top 9 bits: 0..512
            bits[bit >> 6] |= 1 << (bit & 63);
        }
        let count = bits.iter().map(|b| b.count_ones()).sum();
        WordSet { bits, count }
    }

    fn near_repeat(&self, other: &WordSet) -> bool {
        let (small, large) = if self.count <= other.count {
            (self.count, other.count)
        } else {
            (other.count, self.count)
        };
        if (small as usize) < NEAR_REPEAT_MIN_WORDS
            || (small as f64) < NEAR_REPEAT_MIN_LENGTH_RATIO * large as f64
        {
            return false;
        }
        let common: u32 = self
            .bits
            .iter()
            .zip(&other.bits)
            .map(|(a, b)| (a & b).count_ones())
            .sum();
        common as f64 >= NEAR_REPEAT_CONTAINMENT * small as f64
    }
}

/// A cheap hash for word-set comparison (FxHash: a multiply per word).
fn word_hash(w: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault};
    BuildHasherDefault::<rustc_hash::FxHasher>::default().hash_one(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_wrapped_lines_only_mid_sentence() {
        let long = "Ini adalah kalimat yang cukup panjang untuk tidak menjadi subjudul dan berakhir di tengah";
        assert_eq!(
            join_wrapped(&[long, "Kalimat."]),
            vec![format!("{long} Kalimat.")]
        );
        assert_eq!(join_wrapped(&["Subjudul Pendek", "Paragraf."]).len(), 2);
        assert_eq!(
            join_wrapped(&["Kalimat selesai.", "Paragraf baru."]).len(),
            2
        );
        assert_eq!(
            join_wrapped(&["Awal kalimat", "berlanjut di sini."]).len(),
            1
        );
    }

    #[test]
    fn captions_need_a_credit_or_a_prefix() {
        let lex = Lexicon::builtin();
        let c = split_caption(lex, "Menteri informasi Kazakhstan, Aida Balaeva/Net").unwrap();
        assert_eq!(c.text, "Menteri informasi Kazakhstan, Aida Balaeva");
        assert_eq!(c.credit.as_deref(), Some("Net"));
        let c = split_caption(lex, "Foto: Suasana rapat di DPR (ANTARA)").unwrap();
        assert_eq!(c.credit, None);
        assert!(split_caption(lex, "Harga naik 8/10 persen tahun ini.").is_none());
        assert!(split_caption(lex, "Lihat https://example.com/Berita").is_none());
        assert!(split_caption(lex, "Jakarta/Bandung").is_none());
    }

    #[test]
    fn near_repeats_need_substance() {
        let set = |s: &str| WordSet::of(&normalize(s));
        let a = set("satu dua tiga empat lima enam tujuh delapan sembilan sepuluh");
        let b = set("satu dua tiga empat lima enam tujuh delapan sembilan");
        assert!(a.near_repeat(&b));
        let c = set("satu dua tiga empat lima");
        assert!(!a.near_repeat(&c));
        let d = set("sebelas duabelas tigabelas empatbelas limabelas enambelas tujuhbelas delapanbelas sembilanbelas");
        assert!(!a.near_repeat(&d));
    }
}

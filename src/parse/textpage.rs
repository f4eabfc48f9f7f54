//! Plain-text pages: one block per line, as crawlers emit them after stripping
//! markup. Each line is classified (title, caption, body, headline item, date
//! line, boilerplate), hard-wrapped lines are joined, and repeated paragraphs are
//! dropped.
//!
//! The order of the passes matters: headline lists are found first (a title line
//! followed by a date line, at least twice), because their titles look like
//! article titles; captions and the title come next; joining runs before repeat
//! removal, so that a repeated paragraph that was also wrapped is recognised whole.

use rustc_hash::FxHashMap;
use xxhash_rust::xxh3::xxh3_64;

use super::date::{text_published, DateContext, DateParser, DateRejected, FoundDate};
use super::lang::Lexicon;
use super::{HeadlineItem, ParsedPage, TitleSource};
use crate::event::{Caption, DateFlag, RejectedDate, Removed};
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
    /// A line the date grammar reads whole: a date, or a stamp that cannot
    /// be one (`31 Desember 99999`), which is still no body text.
    Date(Result<FoundDate, DateRejected>),
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
            if !super::budget::spend(1) {
                Kind::Other
            } else if lex.is_boilerplate(l) {
                Kind::Boilerplate
            } else if let Some(d) = dates.parse_stamp(l, ctx) {
                Kind::Date(d)
            } else {
                Kind::Other
            }
        })
        .collect();

    let mut removed = Removed::default();
    let mut in_list = vec![false; lines.len()];
    let headlines = find_headline_lists(&lines, &mut kinds, &mut in_list);
    removed.headline_items = headlines.len() as u32;

    let mut caption: Option<Caption> = None;
    let mut dateline: Option<(FoundDate, &str)> = None;
    let mut date_rejected: Option<RejectedDate> = None;
    let mut title: Option<String> = None;
    // Runs of body lines; a run breaks wherever a non-body line stood, because
    // a wrapped paragraph is never split by a caption or a date.
    let mut runs: Vec<Vec<&str>> = vec![Vec::new()];
    let mut seen_body = false;
    for (i, (line, kind)) in lines.iter().zip(&kinds).enumerate() {
        match kind {
            // A headline list (with its links) is set into the article, not
            // part of it: the body on either side continues as if it were not
            // there, so a paragraph it interrupts is still joined.
            Kind::HeadlineTitle | Kind::HeadlineDate => {}
            Kind::Boilerplate => {
                removed.boilerplate_lines += 1;
                if !in_list[i] {
                    runs.push(Vec::new());
                }
            }
            Kind::Date(Ok(d)) => {
                if dateline.is_none() {
                    dateline = Some((d.clone(), line));
                }
                runs.push(Vec::new());
            }
            Kind::Date(Err(e)) => {
                if date_rejected.is_none() {
                    date_rejected = Some(RejectedDate {
                        raw: line.to_string(),
                        reason: e.reason,
                    });
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
                } else if !seen_body
                    && title.is_none()
                    && looks_like_title(line, &lines, &kinds, &in_list, i)
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

    let (published, date_rejected) =
        text_published(lex, dates, dateline, date_rejected, &paragraphs, ctx);

    ParsedPage {
        title: title.map(|t| (t, TitleSource::Text)),
        caption,
        paragraphs,
        normalized,
        published,
        date_rejected,
        language: None,
        headlines,
        removed,
        modified: None,
        authors: Vec::new(),
        sources: None,
    }
}

/// Lines of a text page that carry language evidence: prose lines (a
/// sentence's length or more) first, so that a headline list before the body
/// (title-case titles, stamps such as "17 Des 2021", where "des" is a French
/// and Dutch function word) does not decide the page's language. The whole
/// page when it has no prose line.
pub(super) fn prose_sample(content: &str) -> std::borrow::Cow<'_, str> {
    const PROSE_MIN_WORDS: usize = 12;
    const SAMPLE_WORDS: usize = 200;
    let mut sample = String::new();
    let mut words = 0;
    for line in content.lines() {
        let n = line.split_whitespace().count();
        if n >= PROSE_MIN_WORDS {
            sample.push_str(line);
            sample.push('\n');
            words += n;
            if words >= SAMPLE_WORDS {
                break;
            }
        }
    }
    if sample.is_empty() {
        content.into()
    } else {
        sample.into()
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
/// run of at least two pairs is a headline list. Boilerplate lines ("Load
/// more", "Indeks", "Berita Terkait") may stand between the pairs and right
/// before or after the run: sites interleave their list with such links and
/// head it with a label. Marks the list's lines (titles, stamps and those
/// links) in `in_list` and returns the items in page order.
fn find_headline_lists(
    lines: &[&str],
    kinds: &mut [Kind],
    in_list: &mut [bool],
) -> Vec<HeadlineItem> {
    // The pairing runs over the page without its boilerplate lines.
    let at: Vec<usize> = (0..lines.len())
        .filter(|&i| kinds[i] != Kind::Boilerplate)
        .collect();
    let is_title = |k: &Kind, l: &str| *k == Kind::Other && is_short_line(l);
    let is_date = |k: &Kind| matches!(k, Kind::Date(_));
    // Pairs in a row from `at[j]`, title-first or date-first.
    let run_len = |kinds: &[Kind], mut j: usize, date_first: bool| -> usize {
        let mut pairs = 0;
        while j + 1 < at.len() {
            let (t, d) = if date_first {
                (at[j + 1], at[j])
            } else {
                (at[j], at[j + 1])
            };
            if !(is_title(&kinds[t], lines[t]) && is_date(&kinds[d])) {
                break;
            }
            pairs += 1;
            j += 2;
        }
        pairs
    };
    let mut items = Vec::new();
    let mut i = 0;
    while i + 1 < at.len() {
        // Title-first wins; date-first only when reading the run title-first
        // from the next line does not explain as much of it: a date line
        // right before a title-first list (an article's date, then the
        // sidebar) would otherwise shift every title onto the stamp above it.
        let title_first = run_len(kinds, i, false);
        let date_first = if title_first >= 2 {
            false
        } else {
            let pairs = run_len(kinds, i, true);
            if pairs < 2 || run_len(kinds, i + 1, false) >= pairs {
                i += 1;
                continue;
            }
            true
        };
        let mut end = i + 2 * run_len(kinds, i, date_first);
        // One list is one template: its absolute stamps share one shape. A
        // pair at either edge whose stamp breaks the shape all the others
        // share is the text around the list (a lead-in line above a dateline,
        // "Berikut kronologinya:" / "Sabtu, 5 November 2016"), not an item.
        // Ages and times of day ("2 jam lalu", "Kemarin", "14:32") change form
        // with the age inside one template, so a run with any is left whole.
        let stamp_at = |j: usize| if date_first { at[j] } else { at[j + 1] };
        let shapes: Option<Vec<String>> = (i..end)
            .step_by(2)
            .map(|j| match &kinds[stamp_at(j)] {
                Kind::Date(Ok(f))
                    if !f
                        .flags
                        .iter()
                        .any(|g| matches!(g, DateFlag::Relative | DateFlag::DateInferred)) =>
                {
                    Some(stamp_shape(lines[stamp_at(j)]))
                }
                _ => None,
            })
            .collect();
        let shapes = shapes.unwrap_or_default();
        let n = shapes.len();
        if n >= 3 && shapes[1..].iter().all(|s| *s == shapes[1]) && shapes[0] != shapes[1] {
            // The first pair stays text; the list starts at the second.
            i += 2;
        } else if n >= 3
            && shapes[..n - 1].iter().all(|s| *s == shapes[0])
            && shapes[n - 1] != shapes[0]
        {
            end -= 2;
        }
        for j in (i..end).step_by(2) {
            let (t, d) = if date_first {
                (at[j + 1], at[j])
            } else {
                (at[j], at[j + 1])
            };
            let Kind::Date(stamp) = std::mem::replace(&mut kinds[d], Kind::HeadlineDate) else {
                continue;
            };
            kinds[t] = Kind::HeadlineTitle;
            // An impossible stamp still marks a list item, without a time.
            let found = stamp.ok();
            items.push(HeadlineItem {
                title: lines[t].to_string(),
                url: None,
                published_at: found.as_ref().map(|f| f.datetime),
                precision: found.as_ref().map(|f| f.precision),
                flags: found.map(|f| f.flags).unwrap_or_default(),
            });
        }
        // The run's lines and the boilerplate around and between them.
        let first = if i > 0 { at[i - 1] + 1 } else { 0 };
        let last = at.get(end).copied().unwrap_or(lines.len());
        in_list[first..last].fill(true);
        i = end;
    }
    items
}

/// A stamp line's shape: runs of digits and of letters each stand for one
/// symbol, spaces vanish, punctuation stays ("Rabu, 31 Desember 2025 | 12:10"
/// → "a,0a0|0:0"). The stamps of one list's template share it.
fn stamp_shape(l: &str) -> String {
    let mut out = String::new();
    let mut last = ' ';
    for c in l.chars() {
        let class = if c.is_numeric() {
            '0'
        } else if c.is_alphabetic() {
            'a'
        } else if c.is_whitespace() {
            last = ' ';
            continue;
        } else {
            c
        };
        if class != last || !matches!(class, '0' | 'a') {
            out.push(class);
        }
        last = class;
    }
    out
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
fn looks_like_title(
    line: &str,
    lines: &[&str],
    kinds: &[Kind],
    in_list: &[bool],
    i: usize,
) -> bool {
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
        .zip(in_list)
        .skip(i + 1)
        .find(|((_, k), listed)| !matches!(k, Kind::Boilerplate) && !**listed)
        .is_some_and(|((l, k), _)| match k {
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
///
/// Linear in the paragraphs: a paragraph is compared only with earlier ones
/// that share its exact hash or one of its [`NEAR_BANDS`] word min-hashes
/// (a near repeat shares most words, so it shares a min-hash in some band
/// with near certainty), never with all of them. Each bucket keeps its first
/// [`BUCKET_CAP`] paragraphs, so a page of one line printed 80,000 times
/// costs no more per line than an article.
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
    // Exact hash, or a band's min-hash → indices into `seen`, oldest first.
    let mut buckets = Buckets::with_capacity(paragraphs.len() * (NEAR_BANDS + 1));
    let mut bands = [0u64; NEAR_BANDS];
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
        // Below NEAR_REPEAT_MIN_WORDS only an exact copy is a repeat.
        let near = words.count as usize >= NEAR_REPEAT_MIN_WORDS;
        if near {
            min_hashes(&n, &mut bands);
        }
        let is_repeat_of = |s: u32| {
            let (at, k, w, g) = &seen[s as usize];
            kept[*at].is_some()
                && (g.group.is_none() || g.group != key.group)
                && (*k == h || w.near_repeat(&words))
        };
        // The earliest match, as a scan of every earlier paragraph would find.
        let mut repeat: Option<u32> = None;
        let mut consider = |list: &[u32]| {
            for &s in list {
                if repeat.is_some_and(|r| r <= s) || !super::budget::spend(1) {
                    break;
                }
                if is_repeat_of(s) {
                    repeat = Some(s);
                    break;
                }
            }
        };
        consider(buckets.get(exact_key(h)));
        if near {
            for (b, m) in bands.iter().enumerate() {
                consider(buckets.get(band_key(b, *m)));
            }
        }
        if let Some(s) = repeat {
            let s = s as usize;
            removed.repeated_paragraphs += 1;
            // The later copy stays only when it replaces a deck.
            if !seen[s].3.yields || key.yields {
                continue;
            }
            kept[seen[s].0] = None;
        }
        let id = seen.len() as u32;
        buckets.file(exact_key(h), id);
        if near {
            for (b, m) in bands.iter().enumerate() {
                buckets.file(band_key(b, *m), id);
            }
        }
        seen.push((kept.len(), h, words, key));
        kept.push(Some((p, n)));
    }
    kept.into_iter().flatten().unzip()
}

/// Paragraph ids filed under keys, oldest first, at most [`BUCKET_CAP`] per
/// key. Most keys hold one id (distinct paragraphs have distinct min-hashes),
/// so a single id lives in the map itself and only shared keys get a list:
/// one allocation per page instead of one per key.
struct Buckets {
    /// An id, or [`LIST`] | an index into `lists`.
    map: FxHashMap<u64, u32>,
    lists: Vec<Vec<u32>>,
}

const LIST: u32 = 1 << 31;

impl Buckets {
    fn with_capacity(n: usize) -> Buckets {
        Buckets {
            map: FxHashMap::with_capacity_and_hasher(n, Default::default()),
            lists: Vec::new(),
        }
    }

    fn get(&self, key: u64) -> &[u32] {
        match self.map.get(&key) {
            None => &[],
            Some(v) if v & LIST != 0 => &self.lists[(v & !LIST) as usize],
            Some(v) => std::slice::from_ref(v),
        }
    }

    fn file(&mut self, key: u64, id: u32) {
        match self.map.entry(key) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(id);
            }
            std::collections::hash_map::Entry::Occupied(mut e) => {
                let v = *e.get();
                if v & LIST == 0 {
                    e.insert(LIST | self.lists.len() as u32);
                    self.lists.push(vec![v, id]);
                } else {
                    let list = &mut self.lists[(v & !LIST) as usize];
                    if list.len() < BUCKET_CAP {
                        list.push(id);
                    }
                }
            }
        }
    }
}

/// Keys of the exact hash and of each band live in one map; mixing the band
/// into the key keeps them apart (a rare clash only adds a candidate).
fn exact_key(h: u64) -> u64 {
    h
}

fn band_key(band: usize, m: u64) -> u64 {
    m ^ BAND_SEEDS[band].rotate_left(23)
}

/// Min-hash bands per paragraph. Two paragraphs that pass
/// [`WordSet::near_repeat`] share at least ~43% of their words (0.9 of the
/// smaller, which is at least half the larger), so each band's min-hash agrees
/// with probability >= 0.43 and all 16 miss with probability < 2e-4; copies a
/// crawler printed twice share nearly all words and are never missed.
const NEAR_BANDS: usize = 16;
/// Most paragraphs a bucket remembers (the earliest ones).
const BUCKET_CAP: usize = 32;

/// The minimum, per band, of the paragraph's word hashes under that band's mix.
fn min_hashes(normalized: &str, out: &mut [u64; NEAR_BANDS]) {
    *out = [u64::MAX; NEAR_BANDS];
    for w in normalized.split(' ') {
        let h = word_hash(w);
        for (b, m) in out.iter_mut().enumerate() {
            // A multiply and an xor-shift per band: enough mixing for the
            // minimum to pick an independent-looking word per band.
            let x = (h ^ BAND_SEEDS[b]).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            let x = x ^ (x >> 29);
            if x < *m {
                *m = x;
            }
        }
    }
}

const BAND_SEEDS: [u64; NEAR_BANDS] = [
    0x243f_6a88_85a3_08d3,
    0x1319_8a2e_0370_7344,
    0xa409_3822_299f_31d0,
    0x082e_fa98_ec4e_6c89,
    0x4528_21e6_38d0_1377,
    0xbe54_66cf_34e9_0c6c,
    0xc0ac_29b7_c97c_50dd,
    0x3f84_d5b5_b547_0917,
    0x9216_d5d9_8979_fb1b,
    0xd131_0ba6_98df_b5ac,
    0x2ffd_72db_d01a_dfb7,
    0xb8e1_afed_6a26_7e96,
    0xba7c_9045_f12c_7f99,
    0x24a1_9947_b391_6cf7,
    0x0801_f2e2_858e_fc16,
    0x6369_20d8_7157_1c06,
];

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

    fn parse_text(content: &str) -> ParsedPage {
        let lex = Lexicon::builtin();
        let mut dates = DateParser::new(lex);
        let ctx = DateContext {
            reference: chrono::DateTime::parse_from_rfc3339("2025-12-31T05:15:00Z")
                .unwrap()
                .with_timezone(&chrono::Utc),
            timezone: chrono_tz::Asia::Jakarta,
            order: super::super::lang::DateOrder::Dmy,
        };
        parse(lex, &mut dates, content, &ctx)
    }

    #[test]
    fn a_lead_in_above_a_dateline_is_not_the_first_item_of_the_list_below() {
        // A chronology: "…:" and its day, then a sidebar in another stamp
        // style, then the chronology goes on.
        let page = parse_text(
            "Ribuan demonstran masih bertahan di depan Istana selepas batas waktu pukul 18.00 WIB.\n\
             Berikut kronologi terjadinya kericuhan:\n\
             Sabtu, 5 November 2016\n\
             Ketua MPR Minta Massa Tenang\n\
             Minggu, 1 Januari 2017 | 07:00\n\
             Harga Cabai Naik Lagi\n\
             Minggu, 1 Januari 2017 | 06:30\n\
             Pukul 06.12 WIB, polisi mengamankan 15 orang yang diduga menjadi provokator kericuhan.",
        );
        let titles: Vec<&str> = page.headlines.iter().map(|h| h.title.as_str()).collect();
        assert_eq!(
            titles,
            ["Ketua MPR Minta Massa Tenang", "Harga Cabai Naik Lagi"]
        );
        assert!(
            page.paragraphs
                .iter()
                .any(|p| p == "Berikut kronologi terjadinya kericuhan:"),
            "{:?}",
            page.paragraphs
        );
    }

    #[test]
    fn a_list_of_ages_is_kept_whole_whatever_the_shapes() {
        let page = parse_text(
            "Kades Diminta Tetap Tenang\n5 menit lalu\n\
             Harga Minyak Datar\n2 jam lalu\n\
             Emas Antam Mandek\nKemarin 18:00",
        );
        assert_eq!(page.headlines.len(), 3, "{:?}", page.headlines);
    }

    #[test]
    fn a_headline_list_may_be_interleaved_with_links() {
        let page = parse_text(
            "Berita Terkait\nKades Diminta Tetap Tenang\n31/12/2025, 08:59 WIB\n\
             Load more\nHarga Minyak Datar\n31/12/2025, 08:40 WIB\nIndeks\n\
             Emas Antam Mandek\n31/12/2025, 08:30 WIB\nSelengkapnya",
        );
        let titles: Vec<&str> = page.headlines.iter().map(|h| h.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "Kades Diminta Tetap Tenang",
                "Harga Minyak Datar",
                "Emas Antam Mandek"
            ]
        );
        assert!(page.paragraphs.is_empty(), "{:?}", page.paragraphs);
        assert_eq!(page.removed.boilerplate_lines, 4);
    }

    #[test]
    fn a_headline_list_inside_a_wrapped_paragraph_does_not_split_it() {
        let page = parse_text(
            "Pemerintah menyatakan bahwa anggaran desa tahun depan akan disesuaikan dengan\n\
             Kades Diminta Tetap Tenang\nRabu, 31 Desember 2025 | 12:10\n\
             Harga Minyak Datar\nRabu, 31 Desember 2025 | 12:08\n\
             kebutuhan masing-masing daerah.",
        );
        assert_eq!(
            page.paragraphs,
            [
                "Pemerintah menyatakan bahwa anggaran desa tahun depan akan disesuaikan dengan \
              kebutuhan masing-masing daerah."
            ]
        );
        assert_eq!(page.headlines.len(), 2);
    }

    #[test]
    fn a_date_line_before_a_title_first_list_stays_the_article_date() {
        let page = parse_text(
            "Judul Berita Desa\nRabu, 31 Desember 2025 | 09:00\n\
             Pemerintah menyatakan bahwa anggaran desa tahun depan akan disesuaikan dengan \
             kebutuhan masing-masing daerah, kata menteri keuangan kepada wartawan di Jakarta \
             pada hari Rabu sore setelah rapat kabinet terbatas di istana negara.\n\
             Rabu, 31 Desember 2025 | 09:05\n\
             Kades Diminta Tetap Tenang\nRabu, 31 Desember 2025 | 12:10\n\
             Harga Minyak Datar\nRabu, 31 Desember 2025 | 12:08",
        );
        let got: Vec<(&str, String)> = page
            .headlines
            .iter()
            .map(|h| (h.title.as_str(), h.published_at.unwrap().to_rfc3339()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "Kades Diminta Tetap Tenang",
                    "2025-12-31T12:10:00+07:00".into()
                ),
                ("Harga Minyak Datar", "2025-12-31T12:08:00+07:00".into())
            ]
        );
        assert_eq!(
            page.published.map(|p| p.value).as_deref(),
            Some("2025-12-31T09:00:00+07:00")
        );
        assert_eq!(page.paragraphs.len(), 1);
        // A list that really is date-first still reads date-first.
        let page = parse_text(
            "Rabu, 31 Desember 2025 | 12:10\nKades Diminta Tetap Tenang\n\
             Rabu, 31 Desember 2025 | 12:08\nHarga Minyak Datar\n\
             Pemerintah menyatakan bahwa anggaran desa tahun depan akan disesuaikan.",
        );
        let titles: Vec<&str> = page.headlines.iter().map(|h| h.title.as_str()).collect();
        assert_eq!(titles, ["Kades Diminta Tetap Tenang", "Harga Minyak Datar"]);
    }

    #[test]
    fn language_evidence_comes_from_prose_lines() {
        let content = "Judul Satu\n17 Des 2021 05:30\nIni adalah kalimat panjang yang \
                       menjadi paragraf pertama dari badan berita hari ini.";
        let sample = prose_sample(content);
        assert!(sample.starts_with("Ini adalah"), "{sample}");
        assert_eq!(prose_sample("Judul\nBaris"), "Judul\nBaris");
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

    /// The former all-pairs scan, as the reference for the bucketed one.
    fn drop_repeats_all_pairs(
        paragraphs: Vec<String>,
        keys: &[RepeatKey],
        min_words: usize,
    ) -> Vec<String> {
        let mut kept: Vec<Option<String>> = Vec::new();
        let mut seen: Vec<(usize, u64, WordSet, RepeatKey)> = Vec::new();
        for (i, p) in paragraphs.into_iter().enumerate() {
            let key = keys.get(i).copied().unwrap_or_default();
            let n = normalize(&p);
            if n.is_empty() {
                continue;
            }
            if min_words > 0 && n.split(' ').count() < min_words {
                kept.push(Some(p));
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
                if !seen[s].3.yields || key.yields {
                    continue;
                }
                kept[seen[s].0] = None;
            }
            seen.push((kept.len(), h, words, key));
            kept.push(Some(p));
        }
        kept.into_iter().flatten().collect()
    }

    /// Pages of paragraphs drawn from a small vocabulary, with exact copies,
    /// copies missing or gaining a word, decks and groups: the bucketed scan
    /// keeps exactly what the all-pairs scan kept.
    #[test]
    fn bucketed_repeats_match_the_all_pairs_scan() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        for _ in 0..300 {
            let count = 1 + next(40) as usize;
            let mut paras: Vec<String> = Vec::new();
            let mut keys = Vec::new();
            for _ in 0..count {
                let p = if !paras.is_empty() && next(3) == 0 {
                    let src = &paras[next(paras.len() as u64) as usize];
                    let mut words: Vec<&str> = src.split(' ').collect();
                    match next(3) {
                        0 => {}
                        1 if words.len() > 1 => {
                            words.remove(next(words.len() as u64) as usize);
                        }
                        _ => words.push("tambahan"),
                    }
                    words.join(" ")
                } else {
                    let len = 3 + next(25);
                    (0..len)
                        .map(|_| format!("kata{}", next(1000)))
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                paras.push(p);
                keys.push(RepeatKey {
                    group: (next(4) == 0).then(|| next(2) as u32),
                    yields: next(6) == 0,
                });
            }
            for min_words in [0, 10] {
                let expected = drop_repeats_all_pairs(paras.clone(), &keys, min_words);
                let (got, _) =
                    drop_repeats_grouped(paras.clone(), &keys, &mut Removed::default(), min_words);
                assert_eq!(got, expected, "{paras:#?} {keys:?}");
            }
        }
    }

    #[test]
    fn a_repeat_far_down_a_long_page_is_found() {
        let word = |i: u64, k: u64| {
            let x = (i * 16 + k + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            format!("k{:x}", x >> 40)
        };
        let mut paras: Vec<String> = (0..20_000u64)
            .map(|i| (0..10).map(|k| word(i, k)).collect::<Vec<_>>().join(" "))
            .collect();
        paras.push(paras[3].clone());
        paras.push(format!("{} tambahan", paras[5]));
        let mut removed = Removed::default();
        let (kept, _) = drop_repeats(paras, &mut removed);
        assert_eq!(kept.len(), 20_000);
        assert_eq!(removed.repeated_paragraphs, 2);
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

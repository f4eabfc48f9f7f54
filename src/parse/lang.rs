//! Per-language data for the parser: date words, zone abbreviations, boilerplate
//! lines, caption markers and stopwords for language detection.
//!
//! The data lives in `src/parse/lang/*.toml`, one file per language, embedded at
//! build time. Code here only indexes it. Adding a language is adding a file and
//! one line to [`BUILTIN`].
//!
//! A file without `[lines]` and `[detect]` (see [`DATE_WORDS_ONLY`]) lends only
//! its date words: a news crawler meets dates in many more languages than it
//! has stopword lists for, and reading "15 августа 2016" needs only the month
//! names. Such a language is not a detection candidate and has no settings of
//! its own, so pages in it are handled as before, with more dates readable.

use std::collections::HashMap;

use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::OnceLock;

use chrono::FixedOffset;
use serde::Deserialize;

/// The embedded language files, in priority order: when two languages spell a word
/// the same way, the first one's meaning is the only one kept, and a unit test
/// checks that no two meanings clash.
const BUILTIN: [(&str, &str); 4] = [
    ("id", include_str!("lang/id.toml")),
    ("en", include_str!("lang/en.toml")),
    ("de", include_str!("lang/de.toml")),
    ("fr", include_str!("lang/fr.toml")),
];

/// Languages that contribute date words only (no `[lines]`, no `[detect]`),
/// after [`BUILTIN`] in priority.
const DATE_WORDS_ONLY: [(&str, &str); 8] = [
    ("es", include_str!("lang/es.toml")),
    ("pt", include_str!("lang/pt.toml")),
    ("it", include_str!("lang/it.toml")),
    ("nl", include_str!("lang/nl.toml")),
    ("ro", include_str!("lang/ro.toml")),
    ("pl", include_str!("lang/pl.toml")),
    ("ru", include_str!("lang/ru.toml")),
    ("ar", include_str!("lang/ar.toml")),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LanguageFile {
    code: String,
    #[allow(dead_code)]
    name: String,
    default_timezone: String,
    numeric_date_order: DateOrder,
    dates: DatesFile,
    /// Absent in a date-words-only file.
    lines: Option<LinesFile>,
    /// Absent in a date-words-only file.
    detect: Option<DetectFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DatesFile {
    weekdays: Vec<Vec<String>>,
    months: Vec<Vec<String>>,
    #[serde(default)]
    zones: HashMap<String, String>,
    #[serde(default)]
    filler: Vec<String>,
    /// Units of stamps relative to the fetch ("2 jam lalu"), in seconds.
    #[serde(default)]
    relative_units: HashMap<String, u32>,
    /// What follows "N unit" in such a stamp ("lalu", "yang lalu", "ago").
    #[serde(default)]
    relative_after: Vec<String>,
    /// Days named relative to the fetch's day: "kemarin" = -1, "today" = 0.
    #[serde(default)]
    relative_days: HashMap<String, i32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinesFile {
    boilerplate_exact: Vec<String>,
    boilerplate_prefix: Vec<String>,
    caption_prefix: Vec<String>,
    caption_credits: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DetectFile {
    stopwords: Vec<String>,
}

/// Order of day, month and year in all-numeric dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DateOrder {
    Dmy,
    Mdy,
}

/// What a word means to the date grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateWord {
    /// 0 = Monday.
    Weekday(u8),
    /// 1 = January.
    Month(u8),
    Zone(FixedOffset),
    /// A word allowed between date parts that carries no meaning ("pukul").
    Filler,
}

/// What a word means in a stamp relative to the fetch time. Kept apart from
/// [`DateWord`]: "jam" is an hour here and a filler ("jam 14.00") there,
/// "minggu" a week here and Sunday there.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RelativeWords {
    /// Unit word → seconds.
    units: FxHashMap<String, u32>,
    /// Phrases (as folded words) that close "N unit …".
    after: Vec<Vec<String>>,
    /// Phrases (as folded words) naming a day, with its offset from the fetch's day.
    days: Vec<(Vec<String>, i32)>,
}

impl RelativeWords {
    /// Seconds per `word` as a unit of a relative stamp.
    pub fn unit(&self, word: &str) -> Option<u32> {
        self.units.get(&fold_word(word)).copied()
    }

    /// The phrases that may close a relative stamp, as folded words.
    pub fn after(&self) -> &[Vec<String>] {
        &self.after
    }

    /// Day phrases ("kemarin", "hari ini") with their offsets in days.
    pub fn days(&self) -> &[(Vec<String>, i32)] {
        &self.days
    }

    /// Whether `word` opens a day phrase, so a line without a digit
    /// ("Kemarin") may still be a stamp.
    pub fn opens_day(&self, word: &str) -> bool {
        // Asked of most lines of a page: no allocation for ASCII words.
        if word.is_ascii() {
            return self
                .days
                .iter()
                .any(|(p, _)| p.first().is_some_and(|f| f.eq_ignore_ascii_case(word)));
        }
        let w = fold_word(word);
        self.days.iter().any(|(p, _)| p.first() == Some(&w))
    }
}

/// A phrase split into folded words.
fn phrase_words(p: &str) -> Vec<String> {
    p.split_whitespace().map(fold_word).collect()
}

/// Longest date word in bytes (Cyrillic and Arabic letters take two: "воскресенье"
/// is 22, "листопада" 18); longer words skip the lookup.
pub const MAX_DATE_WORD_BYTES: usize = 24;

/// One language's settings.
#[derive(Debug, Clone)]
pub struct Language {
    pub code: String,
    pub default_timezone: chrono_tz::Tz,
    pub numeric_date_order: DateOrder,
    caption_prefix: Vec<String>,
}

/// All languages, with the indexes the parser uses.
#[derive(Debug)]
pub struct Lexicon {
    languages: Vec<Language>,
    date_words: FxHashMap<String, DateWord>,
    relative: RelativeWords,
    /// Credit → its canonical spelling, keyed lowercase.
    credits: FxHashMap<String, String>,
    /// Stopword → bitmask of the languages that use it (bit i = languages[i]).
    stopwords: FxHashMap<String, u32>,
    /// Whole boilerplate lines of every language, lowercased.
    boilerplate_exact: FxHashSet<String>,
    /// Boilerplate prefixes of every language, keyed by their first word so a
    /// line is compared only with the prefixes that can match it.
    boilerplate_prefix: FxHashMap<String, Vec<String>>,
    /// Words in clashing meaning found at load time (must be empty; tested).
    clashes: Vec<String>,
}

/// A problem in a language file. Only reachable if an embedded file is broken,
/// which the unit tests rule out.
#[derive(Debug, thiserror::Error)]
pub enum LexiconError {
    #[error("language file `{file}` is not valid: {source}")]
    Toml {
        file: String,
        #[source]
        source: toml::de::Error,
    },
    #[error("language file `{file}`: {message}")]
    Invalid { file: String, message: String },
}

impl Lexicon {
    /// The lexicon built from the embedded language files.
    pub fn builtin() -> &'static Lexicon {
        static LEXICON: OnceLock<Lexicon> = OnceLock::new();
        LEXICON.get_or_init(|| {
            let all: Vec<(&str, &str)> = BUILTIN.iter().chain(&DATE_WORDS_ONLY).copied().collect();
            match Lexicon::from_sources(&all) {
                Ok(l) => l,
                // The embedded files are fixed at build time and covered by tests.
                Err(e) => panic!("embedded language data is broken: {e}"),
            }
        })
    }

    /// Builds a lexicon from `(name, toml)` pairs, in priority order.
    pub fn from_sources(sources: &[(&str, &str)]) -> Result<Lexicon, LexiconError> {
        let mut lex = Lexicon {
            languages: Vec::new(),
            date_words: FxHashMap::default(),
            relative: RelativeWords::default(),
            credits: FxHashMap::default(),
            stopwords: FxHashMap::default(),
            boilerplate_exact: FxHashSet::default(),
            boilerplate_prefix: FxHashMap::default(),
            clashes: Vec::new(),
        };
        for (file, src) in sources {
            let invalid = |message: String| LexiconError::Invalid {
                file: file.to_string(),
                message,
            };
            let f: LanguageFile = toml::from_str(src).map_err(|source| LexiconError::Toml {
                file: file.to_string(),
                source,
            })?;
            if f.dates.weekdays.len() != 7 || f.dates.months.len() != 12 {
                return Err(invalid("needs 7 weekdays and 12 months".into()));
            }
            let tz: chrono_tz::Tz = f
                .default_timezone
                .parse()
                .map_err(|_| invalid(format!("unknown zone {}", f.default_timezone)))?;
            for (d, names) in f.dates.weekdays.iter().enumerate() {
                for n in names {
                    lex.add_date_word(n, DateWord::Weekday(d as u8));
                }
            }
            for (m, names) in f.dates.months.iter().enumerate() {
                for n in names {
                    lex.add_date_word(n, DateWord::Month(m as u8 + 1));
                }
            }
            for (abbr, off) in &f.dates.zones {
                let offset = parse_offset(off)
                    .ok_or_else(|| invalid(format!("bad offset {off} for zone {abbr}")))?;
                lex.add_date_word(abbr, DateWord::Zone(offset));
            }
            for w in &f.dates.filler {
                lex.add_date_word(w, DateWord::Filler);
            }
            for (w, secs) in &f.dates.relative_units {
                lex.relative.units.entry(fold_word(w)).or_insert(*secs);
            }
            lex.relative
                .after
                .extend(f.dates.relative_after.iter().map(|p| phrase_words(p)));
            for (p, days) in &f.dates.relative_days {
                lex.relative.days.push((phrase_words(p), *days));
            }
            let (Some(lines), Some(detect)) = (f.lines, f.detect) else {
                // Date words only: not a language of its own.
                continue;
            };
            // Bit of this language in the stopword masks.
            let bit = 1u32 << lex.languages.len();
            for c in &lines.caption_credits {
                lex.credits
                    .entry(c.to_lowercase())
                    .or_insert_with(|| c.clone());
            }
            for w in &detect.stopwords {
                *lex.stopwords.entry(w.to_lowercase()).or_default() |= bit;
            }
            for b in &lines.boilerplate_exact {
                lex.boilerplate_exact.insert(b.to_lowercase());
            }
            for p in &lines.boilerplate_prefix {
                let p = p.to_lowercase();
                lex.boilerplate_prefix
                    .entry(first_word(&p).to_string())
                    .or_default()
                    .push(p);
            }
            lex.languages.push(Language {
                code: f.code,
                default_timezone: tz,
                numeric_date_order: f.numeric_date_order,
                caption_prefix: lines
                    .caption_prefix
                    .iter()
                    .map(|s| s.to_lowercase())
                    .collect(),
            });
        }
        Ok(lex)
    }

    fn add_date_word(&mut self, word: &str, meaning: DateWord) {
        let key = fold_word(word);
        match self.date_words.get(&key) {
            Some(existing) if *existing != meaning => self.clashes.push(key),
            Some(_) => {}
            None => {
                self.date_words.insert(key, meaning);
            }
        }
    }

    /// The words of stamps relative to the fetch time, in every language.
    pub fn relative(&self) -> &RelativeWords {
        &self.relative
    }

    /// The meaning of a (lowercase, folded) word in any language's date grammar.
    pub fn date_word(&self, folded: &str) -> Option<DateWord> {
        self.date_words.get(folded).copied()
    }

    /// The meaning of a word as written on the page; folds it first, without
    /// allocating for the common all-lowercase ASCII case.
    pub fn date_word_raw(&self, word: &str) -> Option<DateWord> {
        if word.len() > MAX_DATE_WORD_BYTES {
            return None;
        }
        if word.is_ascii() {
            let mut buf = [0u8; MAX_DATE_WORD_BYTES];
            self.date_word(&crate::text::lower_head(word, &mut buf))
        } else {
            // Folded on the stack: this runs for every word of a line that
            // holds a digit, in any script. Lowercasing can grow a letter, so
            // the buffer has room to spare; a word that outgrows it is no
            // date word.
            let mut buf = [0u8; 2 * MAX_DATE_WORD_BYTES];
            let mut len = 0;
            for c in folded_chars(word) {
                let n = c.len_utf8();
                if len + n > buf.len() {
                    return None;
                }
                c.encode_utf8(&mut buf[len..]);
                len += n;
            }
            self.date_word(std::str::from_utf8(&buf[..len]).ok()?)
        }
    }

    /// The language with this code, if warta has data for it.
    pub fn language(&self, code: &str) -> Option<&Language> {
        self.languages.iter().find(|l| l.code == code)
    }

    pub fn languages(&self) -> &[Language] {
        &self.languages
    }

    /// Whether a whole line is boilerplate in any language.
    pub fn is_boilerplate(&self, line: &str) -> bool {
        // Boilerplate entries are short; only a line's head can match a prefix,
        // and only a short line can match exactly.
        const HEAD: usize = 48;
        let line = line.trim();
        let truncated = line.len() > HEAD;
        let mut buf = [0u8; HEAD];
        let lower = crate::text::lower_head(line, &mut buf);
        let stripped = lower.trim_end_matches(|c: char| !c.is_alphanumeric() && c != ')');
        let stripped = stripped.trim_start_matches(|c: char| !c.is_alphanumeric());
        (!truncated && self.boilerplate_exact.contains(stripped))
            || self
                .boilerplate_prefix
                .get(first_word(stripped))
                .is_some_and(|ps| {
                    ps.iter()
                        .any(|p| stripped.starts_with(p.as_str()) && boundary_after(stripped, p))
                })
    }

    /// Whether a line opens with a caption marker such as `Foto:`.
    pub fn caption_prefix_len(&self, line: &str) -> Option<usize> {
        let mut buf = [0u8; 24];
        let lower = crate::text::lower_head(line, &mut buf);
        self.languages
            .iter()
            .flat_map(|l| l.caption_prefix.iter())
            .filter(|p| lower.starts_with(p.as_str()) && boundary_after(&lower, p))
            .map(|p| p.len())
            .max()
            // Lowercasing can change byte lengths; only trust ASCII prefixes.
            .filter(|n| line.is_char_boundary(*n))
    }

    /// The canonical spelling of a known photo credit.
    pub fn credit(&self, word: &str) -> Option<&str> {
        self.credits.get(&word.to_lowercase()).map(String::as_str)
    }

    /// Guesses the language of a text by stopword coverage. Returns `None` when no
    /// language has clear evidence (fewer than 3 stopword hits).
    pub fn detect(&self, text: &str) -> Option<&Language> {
        let mut scores = vec![0u32; self.languages.len()];
        let mut seen = 0;
        for w in text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
        {
            seen += 1;
            if seen > 120 {
                break;
            }
            // Stopwords are short function words.
            if w.len() > 10 {
                continue;
            }
            let mut buf = [0u8; 10];
            let key = crate::text::lower_head(w, &mut buf);
            if let Some(mask) = self.stopwords.get(key.as_ref()) {
                for (i, s) in scores.iter_mut().enumerate() {
                    if mask & (1 << i) != 0 {
                        *s += 1;
                    }
                }
            }
        }
        let (best, score) = scores.iter().enumerate().max_by_key(|(_, s)| **s)?;
        (*score >= 3).then(|| &self.languages[best])
    }
}

/// The leading run of alphanumeric characters.
fn first_word(s: &str) -> &str {
    let end = s
        .char_indices()
        .find(|(_, c)| !c.is_alphanumeric())
        .map_or(s.len(), |(i, _)| i);
    &s[..end]
}

/// Lowercases and maps typographic apostrophes so `Jum’at` matches `jum'at`.
pub fn fold_word(w: &str) -> String {
    folded_chars(w).collect()
}

/// The characters of [`fold_word`], for callers that fold into a buffer.
fn folded_chars(w: &str) -> impl Iterator<Item = char> + '_ {
    w.chars()
        .map(|c| if c == '’' || c == '`' { '\'' } else { c })
        .flat_map(char::to_lowercase)
}

/// A prefix like `baca juga` matches `baca juga: x` but not `baca jugalah`.
fn boundary_after(s: &str, prefix: &str) -> bool {
    if prefix.ends_with(|c: char| !c.is_alphanumeric()) {
        return true;
    }
    s[prefix.len()..]
        .chars()
        .next()
        .is_none_or(|c| !c.is_alphanumeric())
}

/// Parses `+07:00`, `-0530` or `+7`.
pub fn parse_offset(s: &str) -> Option<FixedOffset> {
    let s = s.trim();
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() != rest.len() - rest.matches(':').count() {
        return None;
    }
    let (h, m) = match digits.len() {
        1 | 2 => (digits.parse::<i32>().ok()?, 0),
        3 | 4 => {
            let (h, m) = digits.split_at(digits.len() - 2);
            (h.parse::<i32>().ok()?, m.parse::<i32>().ok()?)
        }
        _ => return None,
    };
    if h > 14 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_languages_load_without_clashes() {
        let lex = Lexicon::builtin();
        assert_eq!(lex.languages().len(), BUILTIN.len());
        assert!(
            lex.clashes.is_empty(),
            "clashing date words: {:?}",
            lex.clashes
        );
        assert_eq!(lex.date_word("desember"), Some(DateWord::Month(12)));
        assert_eq!(lex.date_word("jum'at"), Some(DateWord::Weekday(4)));
        assert_eq!(
            lex.date_word(&fold_word("Jum’at")),
            Some(DateWord::Weekday(4))
        );
        assert_eq!(lex.date_word("wednesday"), Some(DateWord::Weekday(2)));
        // Date-words-only languages lend their words, not a language.
        assert_eq!(lex.date_word("августа"), Some(DateWord::Month(8)));
        assert_eq!(lex.date_word("воскресенье"), Some(DateWord::Weekday(6)));
        assert!(lex.language("ru").is_none());
    }

    #[test]
    fn boilerplate_lines_are_data() {
        let lex = Lexicon::builtin();
        assert!(lex.is_boilerplate("Selengkapnya"));
        assert!(lex.is_boilerplate("  SELENGKAPNYA >> "));
        assert!(lex.is_boilerplate("Baca juga: Harga emas naik"));
        assert!(lex.is_boilerplate("Editor: Budi"));
        assert!(lex.is_boilerplate("ADVERTISEMENT"));
        assert!(lex.is_boilerplate("Advert"));
        assert!(lex.is_boilerplate("This slideshow requires JavaScript."));
        assert!(!lex.is_boilerplate("Advert breaks grew longer this year."));
        assert!(!lex.is_boilerplate("Baca jugalah buku ini setiap hari."));
        assert!(!lex.is_boilerplate("Selengkapnya, pemerintah akan menjelaskan rencana itu."));
    }

    #[test]
    fn detects_indonesian_and_english() {
        let lex = Lexicon::builtin();
        let id = "Menteri mengatakan bahwa saat ini ada 17.000 LSM yang aktif di negara itu.";
        assert_eq!(lex.detect(id).map(|l| l.code.as_str()), Some("id"));
        let en =
            "The minister said that there are now 17,000 groups which are active in the country.";
        assert_eq!(lex.detect(en).map(|l| l.code.as_str()), Some("en"));
        assert!(lex.detect("12 34").is_none());
    }

    #[test]
    fn parses_offsets() {
        assert_eq!(parse_offset("+07:00"), FixedOffset::east_opt(7 * 3600));
        assert_eq!(
            parse_offset("-0530"),
            FixedOffset::east_opt(-(5 * 3600 + 1800))
        );
        assert_eq!(parse_offset("+7"), FixedOffset::east_opt(7 * 3600));
        assert_eq!(parse_offset("7"), None);
        assert_eq!(parse_offset("+99"), None);
    }
}

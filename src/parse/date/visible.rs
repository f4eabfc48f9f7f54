//! The visible date line of an HTML page: the block near the title that the
//! grammar reads as a date, with the label before it ("Veröffentlicht am",
//! "Diperbarui") deciding between publication and change.
//!
//! It sees the page as a list of [`Block`]s, so it knows nothing of the DOM.

use chrono::Datelike;

use super::from_url::FIRST_WEB_YEAR;
use super::grammar::{DateContext, DateParser, FoundDate};
use super::resolve::published_from;
use crate::event::{DateFlag, DateSource, Precision, Published};

/// A block of visible text, as the content analysis found it.
#[derive(Debug, Clone, Copy)]
pub struct Block<'a> {
    pub text: &'a str,
    /// An `<h1>`: the title's heading when no block was matched to the title.
    pub h1: bool,
    /// Set directly in a `<blockquote>`: the byline of a quoted or embedded
    /// post (a tweet's "— Name (@handle) 16 May 2018"), whose date is the
    /// post's.
    pub quoted: bool,
}

/// A visible date line: the first short block near the `<h1>` (or from the
/// top, when there is none) that the date grammar reads as a date; failing
/// that, the first block anywhere that is nothing but a date, or that opens
/// with one (a dateline starting the first paragraph).
///
/// A date labelled as a publication ("Veröffentlicht am", "Diterbitkan")
/// wins at once; one labelled as a change ("Letzte Änderung", "Diperbarui")
/// is passed over.
pub fn text_date(
    blocks: &[Block<'_>],
    skip: &[bool],
    title_block: Option<usize>,
    dates: &mut DateParser<'_>,
    ctx: &DateContext,
) -> Option<Published> {
    let anchor = title_block
        .or_else(|| blocks.iter().position(|b| b.h1))
        .unwrap_or(0);
    // After the title first (the dateline), then just before it (a kicker);
    // a date with a time of day beats a bare day (often today's date in the
    // masthead) within the window.
    // Before the title, the nearest block first (a masthead's "now" sits
    // further up).
    let window =
        (anchor..blocks.len().min(anchor + 60)).chain((anchor.saturating_sub(15)..anchor).rev());
    let mut first: Option<Published> = None;
    let mut day_only: Option<Published> = None;
    let mut modified: Option<Published> = None;
    let mut yearless: Option<Published> = None;
    // After a stamped date, a few more blocks may still hold a labelled
    // publication date; beyond them the scan would only cost time.
    let mut budget = usize::MAX;
    for bi in window {
        let b = &blocks[bi];
        if skip.get(bi).copied().unwrap_or(false) || b.text.len() > 160 || b.quoted {
            continue;
        }
        budget = budget.saturating_sub(1);
        if budget == 0 {
            break;
        }
        if let Some((d, raw, label)) = block_date(b.text, dates, ctx) {
            let p = published_from(&d, &raw, DateSource::Text);
            // Labelled as the publication, or set right against the title
            // (a blog's date header): no later candidate can do better.
            let adjacent = bi + 1 >= anchor && bi <= anchor + 1;
            // A date without its year (a sub-head's "el pasado martes 30 de
            // marzo") is a guess; any date that prints its year outranks it.
            let year_inferred = d.flags.contains(&DateFlag::YearInferred);
            if label == Some(DateLabel::Published)
                || (adjacent && label.is_none() && !year_inferred)
            {
                return Some(p);
            }
            // A page's only date may be its last change (a wiki's "last
            // edited"): better than none, worse than any other.
            if label == Some(DateLabel::Modified) {
                modified.get_or_insert(p);
            } else if year_inferred {
                yearless.get_or_insert(p);
            } else if d.precision != Precision::Day {
                if first.is_none() {
                    budget = budget.min(12);
                }
                first.get_or_insert(p);
            } else {
                day_only.get_or_insert(p);
            }
        }
    }
    if first.is_some() || day_only.is_some() || yearless.is_some() {
        return first.or(day_only).or(yearless);
    }
    let in_body = blocks
        .iter()
        .enumerate()
        .filter(|(bi, b)| !skip.get(*bi).copied().unwrap_or(false) && !b.quoted)
        .find_map(|(_, b)| {
            if b.text.len() <= 80 {
                let (d, raw, _) = block_date(b.text, dates, ctx)?;
                return Some(published_from(&d, &raw, DateSource::Text));
            }
            // Only the opening of a long block: a dateline, not a date the
            // story mentions.
            let mut cut = b.text.len().min(40);
            while !b.text.is_char_boundary(cut) {
                cut -= 1;
            }
            let head = &b.text[..cut];
            let d = dates.find_first(head, ctx).filter(|d| d.span.start == 0)?;
            let raw = head.get(d.span.clone()).unwrap_or(head).to_string();
            Some(published_from(&d, &raw, DateSource::Text))
        });
    in_body.or(modified)
}

/// What the words just before a visible date say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateLabel {
    Published,
    Modified,
}

/// Lower-case label words, in the languages warta reads and their neighbours.
const PUBLISHED_LABELS: [&str; 14] = [
    "veröffentlicht",
    "erschienen",
    "publiziert",
    "published",
    "posted",
    "publié",
    "publicado",
    "pubblicato",
    "diterbitkan",
    "dipublikasikan",
    "dipublikasi",
    "terbit",
    "gepostet",
    "erstellt",
];
const MODIFIED_LABELS: [&str; 14] = [
    "aktualisiert",
    "änderung",
    "geändert",
    "updated",
    "modified",
    "last update",
    "mis à jour",
    "modifié",
    "actualizado",
    "aggiornato",
    "diperbarui",
    "pembaruan",
    "update:",
    "edited",
];

/// The label closest before a date, looking at most 32 bytes back.
fn label_before(prefix: &str) -> Option<DateLabel> {
    let mut from = prefix.len().saturating_sub(32);
    while !prefix.is_char_boundary(from) {
        from += 1;
    }
    let tail = prefix[from..].to_lowercase();
    let last = |labels: &[&str]| labels.iter().filter_map(|l| tail.rfind(l)).max();
    match (last(&PUBLISHED_LABELS), last(&MODIFIED_LABELS)) {
        (Some(p), Some(m)) if m > p => Some(DateLabel::Modified),
        (Some(_), _) => Some(DateLabel::Published),
        (None, Some(_)) => Some(DateLabel::Modified),
        (None, None) => None,
    }
}

/// The date a short block shows, with its raw text and label: the whole
/// block, or the first date in it not labelled as a change (at most three
/// looked at), or failing that the change date.
pub fn block_date(
    text: &str,
    dates: &mut DateParser<'_>,
    ctx: &DateContext,
) -> Option<(FoundDate, String, Option<DateLabel>)> {
    // A date before the web (a birthday, a founding year) cannot be when
    // the page appeared; the URL's dates have the same floor.
    let on_the_web = |d: &FoundDate| d.datetime.year() >= FIRST_WEB_YEAR;
    if let Some(d) = dates.parse_line(text, ctx) {
        if !on_the_web(&d) {
            return None;
        }
        let label = label_before(text.get(..d.span.start).unwrap_or(""));
        return Some((d, text.to_string(), label));
    }
    let mut offset = 0;
    let mut modified = None;
    for _ in 0..3 {
        let Some(d) = text
            .get(offset..)
            .and_then(|rest| dates.find_first(rest, ctx))
        else {
            break;
        };
        let (start, end) = (offset + d.span.start, offset + d.span.end);
        if !on_the_web(&d) {
            offset = end;
            continue;
        }
        let label = label_before(text.get(..start).unwrap_or(""));
        let raw = text.get(start..end).unwrap_or(text).to_string();
        if label == Some(DateLabel::Modified) {
            modified.get_or_insert((d, raw, label));
            offset = end;
            continue;
        }
        return Some((d, raw, label));
    }
    modified
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::lang::Lexicon;

    use crate::parse::date::test_context as ctx;

    #[test]
    fn labelled_block_dates() {
        let c = ctx();
        let mut p = DateParser::new(Lexicon::builtin());
        let (d, _, label) = block_date(
            "Letzte Änderung: 31.10.2023 - 14:49 Erschienen am: 01.11.2023",
            &mut p,
            &c,
        )
        .unwrap();
        assert_eq!(
            crate::event::rfc3339(&d.datetime).get(..10),
            Some("2023-11-01")
        );
        assert_eq!(label, Some(DateLabel::Published));
        // Only a change date: kept, as such.
        let (_, _, label) = block_date("Diperbarui 02.11.2023", &mut p, &c).unwrap();
        assert_eq!(label, Some(DateLabel::Modified));
    }
}

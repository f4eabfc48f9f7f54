//! Headline lists on HTML pages and feeds: each list of links with titles and
//! per-item timestamps ("latest news", "terpopuler", index pages, RSS items)
//! becomes [`HeadlineItem`]s with absolute URLs and parsed times.
//!
//! An item is the ancestor of a link that repeats among its siblings (`li`,
//! `article`, `div.item`, …); a list is the items of one parent. A list counts
//! when at least two of its items carry a date, read from `<time datetime>` or
//! from a short text node with the date grammar. Navigation menus, which have
//! no dates, never qualify.

use std::collections::HashMap;

use super::dom::{AttrName, Dom, Tag};
use crate::parse::date::parse_machine_date;
use crate::parse::date::{DateContext, DateParser, FoundDate};
use crate::parse::HeadlineItem;

/// Headline titles are short; longer link text is a teaser paragraph.
const MAX_TITLE_CHARS: usize = 250;
const MIN_TITLE_CHARS: usize = 12;
/// Levels climbed from a link to find the repeating item.
const MAX_CLIMB: usize = 6;

/// Headlines found on a page, and the element ranges they occupy (so their
/// text is not taken for article body).
pub struct Found {
    pub items: Vec<HeadlineItem>,
    pub ranges: Vec<(usize, usize)>,
}

/// Resolves a link against the page URL; drops script and mail links.
fn absolute(base: Option<&url::Url>, href: &str) -> Option<String> {
    let href = href.trim();
    if href.is_empty() || href.starts_with('#') {
        return None;
    }
    let lower = href.get(..11).unwrap_or(href).to_ascii_lowercase();
    if lower.starts_with("javascript:") || lower.starts_with("mailto:") || lower.starts_with("tel:")
    {
        return None;
    }
    let u = match base {
        Some(b) => b.join(href).ok()?,
        None => url::Url::parse(href).ok()?,
    };
    matches!(u.scheme(), "http" | "https").then(|| u.to_string())
}

/// Lists of dated links on an HTML page.
pub fn html(
    dom: &Dom,
    in_link: &[bool],
    dates: &mut DateParser<'_>,
    ctx: &DateContext,
    base: Option<&url::Url>,
) -> Found {
    // (list parent, item element, title, url)
    let mut candidates: Vec<(usize, usize, String, String)> = Vec::new();
    let mut same_tag_children: HashMap<(usize, Tag), usize> = HashMap::new();
    let mut title = String::new();
    for i in 0..dom.len() {
        if dom.tag(i) != Tag::A {
            continue;
        }
        if !crate::parse::budget::spend(1) {
            break;
        }
        let Some(href) = dom.attr(i, AttrName::Href) else {
            continue;
        };
        title.clear();
        dom.text_content(i, &mut title);
        let t = title.trim();
        let chars = t.chars().count();
        if !(MIN_TITLE_CHARS..=MAX_TITLE_CHARS).contains(&chars) || t.split_whitespace().count() < 3
        {
            continue;
        }
        // Resolving is the costly test, so it comes after the title's.
        let Some(url) = absolute(base, href) else {
            continue;
        };
        // Climb to the element that repeats among its siblings.
        let mut e = i;
        let mut item = None;
        for _ in 0..MAX_CLIMB {
            let p = dom.parent(e);
            if p == e || p == 0 || matches!(dom.tag(p), Tag::Body | Tag::Html) {
                break;
            }
            let tag = dom.tag(e);
            let count = *same_tag_children.entry((p, tag)).or_insert_with(|| {
                dom.children(p)
                    .filter(|&c| dom.tag(c) == tag)
                    .take(3)
                    .count()
            });
            if count >= 2 && tag != Tag::Text {
                item = Some((p, e));
                break;
            }
            e = p;
        }
        let Some((list, item)) = item else { continue };
        // One headline per item: an image link and a title link share it.
        if let Some(last) = candidates.last_mut() {
            if last.1 == item {
                if t.len() > last.2.len() {
                    last.2 = t.to_string();
                    last.3 = url;
                }
                continue;
            }
        }
        candidates.push((list, item, t.to_string(), url));
    }

    // Dates per item.
    let mut dated: Vec<Option<FoundDate>> = Vec::with_capacity(candidates.len());
    let mut buf = String::new();
    for (_, item, _, _) in &candidates {
        dated.push(item_date(dom, in_link, *item, dates, ctx, &mut buf));
    }
    // Lists with at least two dated items.
    let mut per_list: HashMap<usize, usize> = HashMap::new();
    for ((list, ..), d) in candidates.iter().zip(&dated) {
        if d.is_some() {
            *per_list.entry(*list).or_default() += 1;
        }
    }
    let mut items = Vec::new();
    let mut ranges = Vec::new();
    let mut seen_urls = std::collections::HashSet::new();
    for ((list, item, title, url), d) in candidates.into_iter().zip(dated) {
        if per_list.get(&list).copied().unwrap_or(0) < 2 {
            continue;
        }
        ranges.push((item, dom.end(item)));
        if !seen_urls.insert(url.clone()) {
            continue;
        }
        items.push(HeadlineItem {
            title,
            url: Some(url),
            published_at: d.as_ref().map(|d| d.datetime),
            precision: d.as_ref().map(|d| d.precision),
            flags: d.map(|d| d.flags).unwrap_or_default(),
        });
    }
    Found { items, ranges }
}

/// The date an item shows: a `<time datetime>`, or a short text node outside
/// the link that is a date line.
fn item_date(
    dom: &Dom,
    in_link: &[bool],
    item: usize,
    dates: &mut DateParser<'_>,
    ctx: &DateContext,
    buf: &mut String,
) -> Option<FoundDate> {
    let end = dom.end(item).min(item + 400);
    if !crate::parse::budget::spend((end - item) as u64) {
        return None;
    }
    for (j, &linked) in in_link.iter().enumerate().take(end).skip(item) {
        match dom.tag(j) {
            Tag::Time => {
                if let Some(d) = dom
                    .attr(j, AttrName::Datetime)
                    .and_then(|v| parse_machine_date(v, dates, ctx))
                {
                    return Some(d);
                }
            }
            Tag::Text if !linked => {
                let s = dom.text_of(j).trim();
                if s.len() < 6 || s.len() > 120 {
                    continue;
                }
                if let Some(d) = dates.parse_line(s, ctx) {
                    return Some(d);
                }
            }
            _ => {}
        }
    }
    // A date split over several elements ("Selasa, 16 Feb 2016" "- 11:00").
    buf.clear();
    for (j, &linked) in in_link.iter().enumerate().take(end).skip(item) {
        if dom.tag(j) == Tag::Text && !linked {
            super::dom::push_collapsed(buf, dom.text_of(j));
            super::dom::push_collapsed(buf, " ");
        }
    }
    let s = buf.trim();
    if s.len() <= 160 {
        if let Some(d) = dates.find_first(s, ctx) {
            return Some(d);
        }
    }
    None
}

/// Items of an RSS or Atom feed.
pub fn feed(
    dom: &Dom,
    dates: &mut DateParser<'_>,
    ctx: &DateContext,
    base: Option<&url::Url>,
) -> Vec<HeadlineItem> {
    let mut out = Vec::new();
    let mut text = String::new();
    for i in 0..dom.len() {
        if !matches!(dom.tag(i), Tag::Item | Tag::Entry) {
            continue;
        }
        let mut title = None;
        let mut link = None;
        let mut date = None;
        for c in dom.children(i) {
            text.clear();
            dom.text_content(c, &mut text);
            let v = text.trim();
            match dom.tag(c) {
                Tag::Title if title.is_none() => title = Some(v.to_string()),
                Tag::Link if link.is_none() => {
                    let href = dom.attr(c, AttrName::Href).unwrap_or(v);
                    link = absolute(base, href);
                }
                Tag::Guid if link.is_none() && v.starts_with("http") => link = absolute(base, v),
                Tag::PubDate | Tag::Published | Tag::DcDate if date.is_none() => {
                    date = parse_machine_date(v, dates, ctx)
                }
                Tag::Updated if date.is_none() => date = parse_machine_date(v, dates, ctx),
                _ => {}
            }
        }
        let Some(title) = title.filter(|t| !t.is_empty()) else {
            continue;
        };
        out.push(HeadlineItem {
            title,
            url: link,
            published_at: date.as_ref().map(|d| d.datetime),
            precision: date.as_ref().map(|d| d.precision),
            flags: date.map(|d| d.flags).unwrap_or_default(),
        });
    }
    out
}

//! Main-content extraction: finds the article body in the DOM and returns its
//! paragraphs, dropping navigation, related-article blocks, comments, share
//! bars, ads and cookie banners; the photo caption is kept apart.
//!
//! 1. Junk subtrees are marked top-down: non-content elements (`nav`, `aside`,
//!    `form` controls, `script`, …), hidden elements, and elements whose class
//!    or id names a boilerplate role (`comments`, `share`, `related`, …) unless
//!    they hold most of the page's text.
//! 2. The text is cut into blocks at block-level elements (`p`, `li`, `h2`,
//!    `div` text, `<br><br>`), each with its length and link text.
//! 3. Containers are scored Readability-style: every substantial paragraph adds
//!    to its parent and, less, to its ancestors; class/id hints and link density
//!    adjust the score. The best container, widened to its parent when siblings
//!    share the text, is the article.
//! 4. The article's blocks are filtered (link-heavy, boilerplate, title repeats,
//!    date lines) and become paragraphs.
//!
//! Every pass is a loop over the node arena (no recursion), so the cost is
//! linear in the page and independent of its depth.

use std::cell::Cell;
use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

use super::dom::{push_collapsed, AttrName, Dom, Tag};
use crate::event::Removed;
use crate::parse::date::{DateContext, DateParser};
use crate::parse::lang::Lexicon;
use crate::parse::textpage::{drop_repeats_grouped, RepeatKey};

/// Link density a container may have before its score is discounted.
const LINK_DENSITY_ALLOWANCE: f32 = 0.2;
/// Containers with less text than this have their score scaled down.
const MIN_CANDIDATE_CHARS: u32 = 250;

/// The content rules, each of which the evaluation tooling can switch off to
/// measure what it contributes (the ablation table in docs/html.md). The
/// product never switches one off: there is no setting for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Rule {
    /// A box whose class or id names a boilerplate role is junk.
    RoleNames,
    /// `<article>` scores as the article (HTML's own convention).
    ArticleElement,
    /// Climb while the parent scores about as well.
    Climb,
    /// Widen to the parent while what it adds is prose.
    WidenProse,
    /// Siblings that score well or are plain paragraphs join the article.
    Siblings,
    /// Link-heavy boxes inside the article are dropped.
    LinkBoxes,
    /// A sentence with a linked phrase is prose, not a link.
    LinkedPhrase,
    /// "paywall" marks the article's locked text, not boilerplate: Google's
    /// paywalled-content markup (schema.org `isAccessibleForFree: false` with
    /// a `cssSelector`) names the body by that class.
    PaywallIsContent,
}

impl Rule {
    pub const ALL: [Rule; 8] = [
        Rule::RoleNames,
        Rule::ArticleElement,
        Rule::Climb,
        Rule::WidenProse,
        Rule::Siblings,
        Rule::LinkBoxes,
        Rule::LinkedPhrase,
        Rule::PaywallIsContent,
    ];
}

thread_local! {
    static DISABLED: Cell<u32> = const { Cell::new(0) };
}

/// Switches rules off on this thread (ablation runs only).
pub fn set_disabled_rules(rules: &[Rule]) {
    DISABLED.set(rules.iter().fold(0, |m, r| m | 1 << *r as u32));
}

/// Whether a rule runs on this thread.
pub fn on(rule: Rule) -> bool {
    DISABLED.get() & (1 << rule as u32) == 0
}

/// A run of text under one block-level element.
#[derive(Debug, Clone)]
pub struct Block {
    /// The block-level element the text belongs to.
    pub elem: u32,
    /// The first text node of the block.
    pub first: u32,
    pub text: String,
    pub chars: u32,
    pub link_chars: u32,
    /// Inside a junk subtree.
    pub junk: bool,
    pub tag: Tag,
}

impl Block {
    pub fn link_density(&self) -> f32 {
        if self.chars == 0 {
            0.0
        } else {
            self.link_chars as f32 / self.chars as f32
        }
    }
}

/// Per-node facts the passes share.
pub struct Analysis {
    pub junk: Vec<bool>,
    pub in_link: Vec<bool>,
    /// Characters of text in the subtree (junk excluded).
    pub chars: Vec<u32>,
    pub link_chars: Vec<u32>,
    pub blocks: Vec<Block>,
}

/// Roles named in class or id that mark boilerplate even inside an article
/// container ("article-comments", "post-share").
const STRONG_NEGATIVE: [&str; 29] = [
    "comment",
    "share",
    "sharing",
    "social",
    "related",
    "recommend",
    "newsletter",
    "subscribe",
    "outbrain",
    "taboola",
    "cookie",
    "consent",
    "gdpr",
    "popup",
    "modal",
    "breadcrumb",
    "disqus",
    "advert",
    "promo",
    "sponsor",
    "signup",
    "more-stories",
    "read-more",
    "readmore",
    "read-next",
    "most-popular",
    "mostpopular",
    "trending",
    "recirc",
];

/// Whole class/id tokens that mark boilerplate unless a positive hint is there too.
const WEAK_NEGATIVE: [&str; 27] = [
    "sidebar",
    "footer",
    "header",
    "masthead",
    "menu",
    "nav",
    "navbar",
    "navigation",
    "widget",
    "ad",
    "ads",
    "banner",
    "tags",
    "tag",
    "byline",
    "author",
    "meta",
    "toolbar",
    "pagination",
    "pager",
    "print",
    "hidden",
    "sr-only",
    "visually-hidden",
    "skip",
    "dateline",
    "timestamp",
];

const POSITIVE: [&str; 12] = [
    "article", "content", "body", "entry", "main", "post", "story", "text", "blog", "prose",
    "detail", "isi",
];

/// The class and id of an element, lowercased.
fn hints(dom: &Dom, i: usize, buf: &mut String) {
    buf.clear();
    if let Some(c) = dom.attr(i, AttrName::Class) {
        buf.push_str(&c.to_ascii_lowercase());
    }
    if let Some(id) = dom.attr(i, AttrName::Id) {
        buf.push(' ');
        buf.push_str(&id.to_ascii_lowercase());
    }
}

fn tokens(h: &str) -> impl Iterator<Item = &str> {
    h.split(|c: char| !(c.is_ascii_alphanumeric()))
        .filter(|t| !t.is_empty())
}

/// One pass over a class/id string finds any [`STRONG_NEGATIVE`] role: checked
/// for every element of every page, 30 substring scans were a tenth of the
/// content pass.
static STRONG_NEGATIVE_MATCHER: LazyLock<AhoCorasick> =
    LazyLock::new(|| AhoCorasick::new(STRONG_NEGATIVE).expect("fixed ASCII patterns"));

/// -1 for a boilerplate role, +1 for an article role, 0 otherwise.
fn class_weight(h: &str) -> i32 {
    if h.is_empty() {
        return 0;
    }
    let mut w = 0;
    if strong_negative(h) {
        w -= 1;
    }
    if tokens(h).any(|t| WEAK_NEGATIVE.contains(&t))
        || h.contains("sidebar")
        || h.contains("footer")
    {
        w -= 1;
    }
    if tokens(h).any(|t| POSITIVE.iter().any(|p| t.starts_with(p))) {
        w += 1;
    }
    w.clamp(-1, 1)
}

fn strong_negative(h: &str) -> bool {
    !h.is_empty()
        && (STRONG_NEGATIVE_MATCHER.is_match(h)
            || (!on(Rule::PaywallIsContent) && h.contains("paywall")))
}

fn is_block_tag(t: Tag) -> bool {
    matches!(
        t,
        Tag::P
            | Tag::Div
            | Tag::H1
            | Tag::H2
            | Tag::H3
            | Tag::H4
            | Tag::H5
            | Tag::H6
            | Tag::Li
            | Tag::Blockquote
            | Tag::Pre
            | Tag::Td
            | Tag::Th
            | Tag::Tr
            | Tag::Table
            | Tag::Dt
            | Tag::Dd
            | Tag::Dl
            | Tag::Ul
            | Tag::Ol
            | Tag::Section
            | Tag::Article
            | Tag::Main
            | Tag::Header
            | Tag::Footer
            | Tag::Nav
            | Tag::Aside
            | Tag::Figure
            | Tag::Figcaption
            | Tag::Address
            | Tag::Center
            | Tag::Details
            | Tag::Summary
            | Tag::Caption
            | Tag::Form
            | Tag::Hr
            | Tag::Body
            | Tag::Item
            | Tag::Entry
    )
}

fn is_removed_tag(t: Tag) -> bool {
    matches!(
        t,
        Tag::Head
            | Tag::Script
            | Tag::Style
            | Tag::Noscript
            | Tag::Template
            | Tag::Svg
            | Tag::Math
            | Tag::Iframe
            | Tag::Object
            | Tag::Embed
            | Tag::Canvas
            | Tag::Input
            | Tag::Button
            | Tag::Select
            | Tag::Option
            | Tag::Optgroup
            | Tag::Textarea
            | Tag::Label
            | Tag::Nav
            | Tag::Aside
            | Tag::Footer
            | Tag::Header
            | Tag::Dialog
            | Tag::Menu
            | Tag::Figure
            | Tag::Figcaption
            | Tag::Title
            | Tag::Xmp
            | Tag::Noembed
            | Tag::Noframes
    )
}

fn hidden(dom: &Dom, i: usize) -> bool {
    if dom.attr(i, AttrName::Hidden).is_some() {
        return true;
    }
    if dom
        .attr(i, AttrName::AriaHidden)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        return true;
    }
    dom.attr(i, AttrName::Style).is_some_and(|s| {
        let s: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        s.contains("display:none") || s.contains("visibility:hidden")
    })
}

fn role_is_junk(dom: &Dom, i: usize) -> bool {
    dom.attr(i, AttrName::Role).is_some_and(|r| {
        matches!(
            r.to_ascii_lowercase().as_str(),
            "navigation" | "complementary" | "banner" | "contentinfo" | "dialog" | "alert" | "menu"
        )
    })
}

fn count_chars(s: &str) -> u32 {
    // Most text is ASCII; a byte test is several times faster than decoding.
    if s.is_ascii() {
        return s
            .bytes()
            .filter(|b| !matches!(b, b' ' | b'\t'..=b'\r'))
            .count() as u32;
    }
    s.chars().filter(|c| !c.is_whitespace()).count() as u32
}

/// Runs the shared passes: raw subtree sizes, junk marking, blocks.
pub fn analyse(dom: &Dom) -> Analysis {
    let n = dom.len();
    let mut in_link = vec![false; n];
    for i in 1..n {
        in_link[i] = in_link[dom.parent(i)] || dom.tag(i) == Tag::A;
    }
    // Raw sizes (before junk marking), bottom-up: children come after parents.
    let mut raw = vec![0u32; n];
    for i in (1..n).rev() {
        if dom.tag(i) == Tag::Text {
            raw[i] = count_chars(dom.text_of(i));
        }
        let p = dom.parent(i);
        if p != i {
            raw[p] = raw[p].saturating_add(raw[i]);
        }
    }
    let total = raw.first().copied().unwrap_or(0).max(1);
    // Junk, top-down.
    let mut junk = vec![false; n];
    let mut h = String::new();
    for i in 1..n {
        let p = dom.parent(i);
        if junk[p] {
            junk[i] = true;
            continue;
        }
        let t = dom.tag(i);
        if t == Tag::Text {
            continue;
        }
        if is_removed_tag(t) {
            // A page that wraps everything in <header>/<form>-like chrome
            // still has its article: keep elements holding most of the text.
            junk[i] = !(matches!(t, Tag::Header | Tag::Footer | Tag::Aside | Tag::Nav)
                && raw[i] > total / 2);
            continue;
        }
        if hidden(dom, i) || role_is_junk(dom, i) {
            junk[i] = raw[i] <= total / 2;
            continue;
        }
        if matches!(t, Tag::Body | Tag::Html | Tag::Main | Tag::Article) {
            continue;
        }
        hints(dom, i, &mut h);
        let w = class_weight(&h);
        if !on(Rule::RoleNames) {
            continue;
        }
        let strong = strong_negative(&h);
        if (strong && !h.contains("article-body") && !h.contains("entry-content")) || w < 0 {
            junk[i] = raw[i] <= total / 3;
        }
    }
    let mut chars = vec![0u32; n];
    let mut link_chars = vec![0u32; n];
    for i in (1..n).rev() {
        if dom.tag(i) == Tag::Text && !junk[i] {
            chars[i] = raw[i];
            if in_link[i] {
                link_chars[i] = raw[i];
            }
        }
        let p = dom.parent(i);
        if p != i {
            chars[p] = chars[p].saturating_add(chars[i]);
            link_chars[p] = link_chars[p].saturating_add(link_chars[i]);
        }
    }
    let blocks = blocks(dom, &junk, &in_link);
    Analysis {
        junk,
        in_link,
        chars,
        link_chars,
        blocks,
    }
}

/// Cuts the document's text into blocks.
fn blocks(dom: &Dom, junk: &[bool], in_link: &[bool]) -> Vec<Block> {
    let mut out = Vec::new();
    // Open block-level elements: (index, end).
    let mut open: Vec<(usize, usize)> = vec![(0, dom.len())];
    let mut cur: Option<Block> = None;
    let flush = |cur: &mut Option<Block>, out: &mut Vec<Block>| {
        if let Some(mut b) = cur.take() {
            let t = b.text.trim_end().len();
            b.text.truncate(t);
            if b.chars > 0 {
                out.push(b);
            }
        }
    };
    let mut last_br = false;
    for i in 1..dom.len() {
        while open.len() > 1 && open.last().is_some_and(|&(_, end)| i >= end) {
            open.pop();
            flush(&mut cur, &mut out);
        }
        let t = dom.tag(i);
        match t {
            Tag::Text => {
                let s = dom.text_of(i);
                let c = count_chars(s);
                if c == 0 {
                    if let Some(b) = cur.as_mut() {
                        push_collapsed(&mut b.text, " ");
                    }
                    continue;
                }
                last_br = false;
                // Junk inline text (a share button inside a paragraph) is left
                // out of a clean block; clean text after junk starts a new one.
                match cur.as_ref().map(|b| b.junk) {
                    Some(false) if junk[i] => continue,
                    Some(true) if !junk[i] => flush(&mut cur, &mut out),
                    _ => {}
                }
                let (elem, _) = open.last().copied().unwrap_or((0, 0));
                let b = cur.get_or_insert_with(|| Block {
                    elem: elem as u32,
                    first: i as u32,
                    text: String::new(),
                    chars: 0,
                    link_chars: 0,
                    junk: junk[i],
                    tag: dom.tag(elem),
                });
                push_collapsed(&mut b.text, s);
                b.chars += c;
                if in_link[i] {
                    b.link_chars += c;
                }
            }
            Tag::Br => {
                if last_br {
                    flush(&mut cur, &mut out);
                } else if let Some(b) = cur.as_mut() {
                    push_collapsed(&mut b.text, " ");
                }
                last_br = true;
            }
            _ if is_block_tag(t) => {
                last_br = false;
                flush(&mut cur, &mut out);
                let end = dom.end(i);
                if end > i + 1 {
                    open.push((i, end));
                }
            }
            _ => {}
        }
    }
    flush(&mut cur, &mut out);
    out
}

/// The article: its paragraphs (block indices) and the container chosen.
pub struct Extracted {
    pub blocks: Vec<usize>,
    pub container: Option<usize>,
}

/// Chooses the article container and its paragraphs. `skip` marks blocks that
/// belong to headline lists and so never count as body.
pub fn extract(dom: &Dom, a: &Analysis, skip: &[bool]) -> Extracted {
    let n = dom.len();
    let mut score = vec![0f32; n];
    let mut scored = vec![false; n];
    let mut h = String::new();
    let mut init = |i: usize, score: &mut [f32], scored: &mut [bool]| {
        if scored[i] {
            return;
        }
        scored[i] = true;
        hints(dom, i, &mut h);
        let mut s = match dom.tag(i) {
            Tag::Div | Tag::Article | Tag::Main | Tag::Section => 5.0,
            Tag::Pre | Tag::Td | Tag::Blockquote => 3.0,
            Tag::Address
            | Tag::Ol
            | Tag::Ul
            | Tag::Dl
            | Tag::Dd
            | Tag::Dt
            | Tag::Li
            | Tag::Form => -3.0,
            Tag::H1 | Tag::H2 | Tag::H3 | Tag::H4 | Tag::H5 | Tag::H6 | Tag::Th => -5.0,
            _ => 0.0,
        };
        s += 25.0 * class_weight(&h) as f32;
        if dom.tag(i) == Tag::Article && on(Rule::ArticleElement) {
            s += 10.0;
        }
        score[i] += s;
    };
    // <article> elements per subtree.
    let mut articles = vec![0u32; n];
    for i in (1..n).rev() {
        if dom.tag(i) == Tag::Article && !a.junk[i] {
            articles[i] += 1;
        }
        let p = dom.parent(i);
        if p != i {
            articles[p] = articles[p].saturating_add(articles[i]);
        }
    }
    // Characters of prose blocks (long enough, few links) per subtree.
    let mut para_chars = vec![0u32; n];
    for (bi, b) in a.blocks.iter().enumerate() {
        if b.junk
            || skip.get(bi).copied().unwrap_or(false)
            || b.chars < 60
            || b.link_density() > 0.3
        {
            continue;
        }
        let mut i = b.elem as usize;
        // Bounded by the tree depth, which the builder caps.
        loop {
            para_chars[i] = para_chars[i].saturating_add(b.chars);
            let p = dom.parent(i);
            if p == i {
                break;
            }
            i = p;
        }
    }
    for (bi, b) in a.blocks.iter().enumerate() {
        if b.junk || skip.get(bi).copied().unwrap_or(false) || b.chars < 25 {
            continue;
        }
        if !matches!(
            b.tag,
            Tag::P
                | Tag::Pre
                | Tag::Td
                | Tag::Blockquote
                | Tag::Div
                | Tag::Section
                | Tag::Article
                | Tag::Dd
                | Tag::Li
                | Tag::Main
                | Tag::Body
        ) {
            continue;
        }
        if b.link_density() > 0.5 {
            continue;
        }
        let commas = b.text.matches([',', '，', '、', '،']).count() as f32;
        let s = 1.0 + commas + (b.chars as f32 / 100.0).min(3.0);
        let mut node = b.elem as usize;
        // A <div> holding text directly counts as its own paragraph's parent.
        if matches!(
            b.tag,
            Tag::Div | Tag::Section | Tag::Article | Tag::Main | Tag::Body
        ) {
            init(node, &mut score, &mut scored);
            score[node] += s;
        }
        for level in 0..5 {
            let p = dom.parent(node);
            if p == node || p == 0 {
                break;
            }
            init(p, &mut score, &mut scored);
            let div = match level {
                0 => 1.0,
                1 => 2.0,
                l => l as f32 * 3.0,
            };
            score[p] += s / div;
            node = p;
        }
    }
    let final_score = |i: usize| -> f32 {
        let ld = if a.chars[i] == 0 {
            0.0
        } else {
            a.link_chars[i] as f32 / a.chars[i] as f32
        };
        // Article text links names and topics inline (a third of the text on
        // some sites); only link density beyond that marks navigation.
        let mut s = score[i]
            * (1.0 - (ld - LINK_DENSITY_ALLOWANCE).max(0.0) / (1.0 - LINK_DENSITY_ALLOWANCE));
        // A class name alone does not make a short box the article.
        if a.chars[i] < MIN_CANDIDATE_CHARS {
            s *= a.chars[i] as f32 / MIN_CANDIDATE_CHARS as f32;
        }
        s
    };
    let mut best: Option<usize> = None;
    for (i, &is_scored) in scored.iter().enumerate() {
        if is_scored && !a.junk[i] && best.is_none_or(|b| final_score(i) > final_score(b)) {
            best = Some(i);
        }
    }
    let Some(mut top) = best else {
        return Extracted {
            blocks: Vec::new(),
            container: None,
        };
    };
    // Climb while the parent scores about as well (the text is split among
    // siblings) and while the parent has no other content.
    let mut last = final_score(top);
    let mut p = dom.parent(top);
    let threshold = last / 3.0;
    while on(Rule::Climb) && p != 0 && !matches!(dom.tag(p), Tag::Body | Tag::Html) {
        if !scored[p] {
            p = dom.parent(p);
            continue;
        }
        let ps = final_score(p);
        if ps < threshold {
            break;
        }
        if ps > last {
            top = p;
            break;
        }
        last = ps;
        p = dom.parent(p);
    }
    // Widen to the parent while what the parent adds is prose, not links: an
    // article split into cards or sections scores one card highest.
    while on(Rule::WidenProse) {
        let p = dom.parent(top);
        if p == 0 || matches!(dom.tag(p), Tag::Body | Tag::Html) {
            break;
        }
        let added = a.chars[p].saturating_sub(a.chars[top]);
        let added_links = a.link_chars[p].saturating_sub(a.link_chars[top]);
        // A parent holding several <article>s is a list of posts, not one.
        if articles[p] > articles[top].max(1) {
            break;
        }
        let prose = added == 0
            || (added_links as f32 <= 0.25 * added as f32
                && para_chars[p].saturating_sub(para_chars[top]) as f32 >= 0.8 * added as f32);
        if !prose {
            break;
        }
        top = p;
    }

    // Siblings that carry the same article (split containers, intro paragraphs).
    let top_score = final_score(top);
    let sib_threshold = (top_score * 0.2).max(10.0);
    let parent = dom.parent(top);
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    let mut top_class = String::new();
    hints(dom, top, &mut top_class);
    for c in dom.children(parent) {
        if c == top {
            ranges.push((c, dom.end(c)));
            continue;
        }
        if a.junk[c] || dom.tag(c) == Tag::Text {
            continue;
        }
        let mut s = if scored[c] { final_score(c) } else { 0.0 };
        hints(dom, c, &mut h);
        if !top_class.is_empty() && h == top_class {
            s += top_score * 0.2;
        }
        let include = on(Rule::Siblings)
            && (s >= sib_threshold
                || dom.tag(c) == Tag::P && {
                    let ld = if a.chars[c] == 0 {
                        1.0
                    } else {
                        a.link_chars[c] as f32 / a.chars[c] as f32
                    };
                    (a.chars[c] > 80 && ld < 0.25)
                        || (a.chars[c] > 0 && ld == 0.0 && ends_sentence(dom, c))
                });
        if include {
            ranges.push((c, dom.end(c)));
        }
    }

    // Boxes inside the article that are mostly links (related, tag clouds).
    let mut dropped: Vec<(usize, usize)> = Vec::new();
    for &(start, end) in &ranges {
        for i in start..end {
            if a.junk[i]
                || !matches!(
                    dom.tag(i),
                    Tag::Div | Tag::Ul | Tag::Ol | Tag::Section | Tag::Table | Tag::Dl
                )
            {
                continue;
            }
            if dropped.last().is_some_and(|&(_, e)| i < e) {
                continue;
            }
            let c = a.chars[i];
            let ld = if c == 0 {
                0.0
            } else {
                a.link_chars[i] as f32 / c as f32
            };
            if on(Rule::LinkBoxes) && c > 0 && ((ld > 0.5 && c < 2000) || (ld > 0.33 && c < 300)) {
                dropped.push((i, dom.end(i)));
            }
        }
    }
    let inside = |i: usize| ranges.iter().any(|&(s, e)| s <= i && i < e);
    let dropped_at = |i: usize| dropped.iter().any(|&(s, e)| s <= i && i < e);
    let mut out = Vec::new();
    for (bi, b) in a.blocks.iter().enumerate() {
        let at = b.first as usize;
        if b.junk || skip.get(bi).copied().unwrap_or(false) || !inside(at) || dropped_at(at) {
            continue;
        }
        if b.tag == Tag::H1 {
            continue;
        }
        if b.link_density() > 0.5 && !(on(Rule::LinkedPhrase) && links_a_phrase(b)) {
            continue;
        }
        out.push(bi);
    }
    Extracted {
        blocks: out,
        container: Some(top),
    }
}

/// A paragraph that is a sentence of its own words with a phrase of it linked
/// ("The suspect was convicted and <a>sentenced to life last Thursday</a>."),
/// or a list item of a digest that links its lead sentence and goes on in
/// plain words: link-heavy, but prose. A teaser or "Read more: <a>…</a>" line
/// has a label of a word or two outside its link and no full stop after it.
fn links_a_phrase(b: &Block) -> bool {
    matches!(b.tag, Tag::P | Tag::Li)
        && b.link_density() <= 0.6
        && b.chars.saturating_sub(b.link_chars) >= 30
        && b.text.trim_end().ends_with(['.', '!', '?'])
}

fn ends_sentence(dom: &Dom, i: usize) -> bool {
    let mut s = String::new();
    dom.text_content(i, &mut s);
    s.trim_end().ends_with(['.', '!', '?', '"', '”'])
}

/// Paragraphs shorter than this (in words) may repeat on an HTML page.
const REPEAT_MIN_WORDS: usize = 10;

/// The article's paragraphs from the extracted blocks, with their normalized
/// forms: boilerplate lines, short date lines and the heading that repeats
/// the title dropped, then repeated paragraphs.
#[allow(clippy::too_many_arguments)]
pub fn paragraphs(
    lex: &Lexicon,
    dates: &mut DateParser<'_>,
    ctx: &DateContext,
    dom: &Dom,
    analysis: &Analysis,
    extracted: &Extracted,
    title_norm: Option<&str>,
    removed: &mut Removed,
) -> (Vec<String>, Vec<String>) {
    let mut paragraphs = Vec::new();
    // A `<p>`'s parent (paragraphs side by side in one parent may repeat a
    // line on purpose); a heading is a deck that yields to its body copy.
    let mut keys = Vec::new();
    for &bi in &extracted.blocks {
        let b = &analysis.blocks[bi];
        let text = b.text.trim();
        if lex.is_boilerplate(text) {
            removed.boilerplate_lines += 1;
            continue;
        }
        if b.chars < 60 && dates.parse_line(text, ctx).is_some() {
            continue;
        }
        if b.tag.is_heading() && title_norm == Some(&crate::text::normalize(text)) {
            continue;
        }
        paragraphs.push(text.to_string());
        keys.push(RepeatKey {
            group: (b.tag == Tag::P).then(|| dom.parent(b.elem as usize) as u32),
            yields: b.tag.is_heading(),
        });
    }
    drop_repeats_grouped(paragraphs, &keys, removed, REPEAT_MIN_WORDS)
}

/// The first photo caption in or near the article: `<figcaption>`, or an
/// element whose class names a caption.
pub fn caption(dom: &Dom, container: Option<usize>) -> Option<String> {
    let (start, end) = match container {
        Some(c) => {
            // Captions often sit just above the body, beside the container.
            let p = dom.parent(c);
            (p, dom.end(p))
        }
        None => (0, dom.len()),
    };
    let mut h = String::new();
    for i in start..end {
        let t = dom.tag(i);
        let is_caption = t == Tag::Figcaption || {
            if matches!(t, Tag::Div | Tag::Span | Tag::P) {
                hints(dom, i, &mut h);
                tokens(&h)
                    .any(|t| t == "caption" || t == "wp-caption-text" || t.ends_with("caption"))
            } else {
                false
            }
        };
        if is_caption {
            let mut s = String::new();
            dom.text_content(i, &mut s);
            let s = s.trim();
            if s.chars().count() >= 10 && s.chars().count() <= 600 {
                return Some(s.to_string());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{set_disabled_rules, Rule};
    use crate::parse::{Parser, SiteHints};

    fn paragraphs_of(body: &str) -> Vec<String> {
        let html = format!("<html lang=en><body>{body}</body></html>");
        let page =
            crate::event::html_page("https://a.com/x", html.as_bytes(), "2026-01-01T00:00:00Z")
                .unwrap();
        Parser::new().parse(&page, &SiteHints::default()).paragraphs
    }

    #[test]
    fn paywalled_text_is_the_article() {
        let para = |n: u32| {
            format!("<p class='paywall'>Paragraph {n} of the feature goes on about the bistro, its cooks and the guests who come back every week for the soup.</p>")
        };
        let nav = (0..40)
            .map(|n| format!("<a href='/s{n}'>Section number {n}</a> "))
            .collect::<String>();
        let body = format!(
            "<div class='menu-links'>{nav}</div><div class='article'>{}{}{}{}</div>",
            para(1),
            para(2),
            para(3),
            para(4)
        );
        assert_eq!(paragraphs_of(&body).len(), 4);
        // The ablation hook switches the rule off, and the locked text is junk.
        set_disabled_rules(&[Rule::PaywallIsContent]);
        let without = paragraphs_of(&body);
        set_disabled_rules(&[]);
        assert!(without.is_empty(), "{without:?}");
    }
}

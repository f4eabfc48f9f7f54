//! HTML (and RSS/Atom) text → a flat, preorder node arena that the extraction
//! passes walk without recursion.
//!
//! Tokenizing is html5ever's spec tokenizer (entities, comments, raw-text
//! elements, malformed markup all as browsers do). Tree construction is ours and
//! deliberately simpler than the spec's: void elements, the common implied end
//! tags (`p`, `li`, `td`, `option`, …) and end tags that close the nearest open
//! element of the same name. What it adds over the spec is bounds, so hostile
//! markup costs linear time and no stack: nesting is capped at [`MAX_DEPTH`] (as
//! Blink and WebKit do, deeper start tags become siblings), and every scan of the
//! open-element stack is bounded.
//!
//! Nodes are stored in document order and each element records `end`, one past
//! its last descendant, so a subtree is the contiguous range `i + 1..end`.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, Tag as TokTag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer,
    TokenizerOpts,
};

/// Deepest element nesting kept as a tree; Blink and WebKit use the same bound.
pub const MAX_DEPTH: usize = 512;
/// Most attributes a tag keeps. html5ever compares each new attribute name
/// with every earlier one of its tag (its duplicate check), so one tag with
/// 10^6 distinct names took longer than ten minutes; [`cap_attributes`] cuts
/// the rest before the tokenizer sees them. Real tags carry a few dozen.
pub const MAX_ATTRS: usize = 100;
/// How far down the open-element stack an implied end tag looks.
const MAX_SCOPE_SCAN: usize = 48;

macro_rules! tags {
    ($($v:ident = $s:literal),* $(,)?) => {
        /// The element names extraction cares about; everything else is `Other`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum Tag { $($v,)* Other, Text, Root }
        impl Tag {
            fn of(name: &str) -> Tag {
                match name { $($s => Tag::$v,)* _ => Tag::Other }
            }
        }
        const TAG_COUNT: usize = [$(Tag::$v,)* Tag::Other, Tag::Text, Tag::Root].len();
    };
}

tags! {
    Html = "html", Head = "head", Body = "body", Title = "title", Meta = "meta", Link = "link",
    Script = "script", Style = "style", Noscript = "noscript", Template = "template",
    Svg = "svg", Math = "math", Iframe = "iframe", Object = "object", Embed = "embed",
    Canvas = "canvas", Form = "form", Input = "input", Button = "button", Select = "select",
    Option = "option", Optgroup = "optgroup", Textarea = "textarea", Label = "label", Nav = "nav",
    Header = "header", Footer = "footer", Aside = "aside", Main = "main", Article = "article",
    Section = "section", Div = "div", Span = "span", P = "p", Br = "br", Hr = "hr",
    H1 = "h1", H2 = "h2", H3 = "h3", H4 = "h4", H5 = "h5", H6 = "h6", Ul = "ul", Ol = "ol",
    Li = "li", Dl = "dl", Dt = "dt", Dd = "dd", Table = "table", Thead = "thead",
    Tbody = "tbody", Tfoot = "tfoot", Tr = "tr", Td = "td", Th = "th", Caption = "caption",
    Blockquote = "blockquote", Pre = "pre", Code = "code", A = "a", Img = "img",
    Picture = "picture", Source = "source", Figure = "figure", Figcaption = "figcaption",
    Time = "time", Strong = "strong", B = "b", Em = "em", I = "i", U = "u", Small = "small",
    Sup = "sup", Sub = "sub", Font = "font", Center = "center", Address = "address",
    Details = "details", Summary = "summary", Dialog = "dialog", Menu = "menu", Area = "area",
    Base = "base", Col = "col", Param = "param", Track = "track", Wbr = "wbr",
    Xmp = "xmp", Noembed = "noembed", Noframes = "noframes", Plaintext = "plaintext",
    // Feed elements (RSS 2.0 and Atom).
    Rss = "rss", Feed = "feed", Channel = "channel", Item = "item", Entry = "entry",
    PubDate = "pubdate", Published = "published", Updated = "updated", DcDate = "dc:date",
    Guid = "guid", Description = "description",
}

impl Tag {
    fn is_void(self) -> bool {
        matches!(
            self,
            Tag::Area
                | Tag::Base
                | Tag::Br
                | Tag::Col
                | Tag::Embed
                | Tag::Hr
                | Tag::Img
                | Tag::Input
                | Tag::Link
                | Tag::Meta
                | Tag::Param
                | Tag::Source
                | Tag::Track
                | Tag::Wbr
        )
    }

    /// Start tags that close an open `<p>` (the spec's "close a p element").
    fn closes_p(self) -> bool {
        matches!(
            self,
            Tag::Address
                | Tag::Article
                | Tag::Aside
                | Tag::Blockquote
                | Tag::Center
                | Tag::Details
                | Tag::Dialog
                | Tag::Div
                | Tag::Dl
                | Tag::Figcaption
                | Tag::Figure
                | Tag::Footer
                | Tag::Form
                | Tag::Header
                | Tag::Hr
                | Tag::Main
                | Tag::Menu
                | Tag::Nav
                | Tag::Ol
                | Tag::P
                | Tag::Section
                | Tag::Summary
                | Tag::Table
                | Tag::Ul
                | Tag::H1
                | Tag::H2
                | Tag::H3
                | Tag::H4
                | Tag::H5
                | Tag::H6
                | Tag::Pre
                | Tag::Li
                | Tag::Dd
                | Tag::Dt
        )
    }

    /// Elements that bound the search for an element to close implicitly.
    fn is_scope_boundary(self) -> bool {
        matches!(
            self,
            Tag::Html
                | Tag::Table
                | Tag::Td
                | Tag::Th
                | Tag::Caption
                | Tag::Button
                | Tag::Object
                | Tag::Template
                | Tag::Svg
                | Tag::Math
        )
    }

    pub fn is_heading(self) -> bool {
        matches!(
            self,
            Tag::H1 | Tag::H2 | Tag::H3 | Tag::H4 | Tag::H5 | Tag::H6
        )
    }
}

/// Attributes extraction reads; the rest are not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrName {
    Id,
    Class,
    Href,
    Datetime,
    Content,
    Property,
    Name,
    Itemprop,
    Type,
    Charset,
    HttpEquiv,
    Lang,
    Rel,
    Hidden,
    Style,
    AriaHidden,
    Role,
    Title,
}

impl AttrName {
    fn of(name: &str) -> Option<AttrName> {
        Some(match name {
            "id" => AttrName::Id,
            "class" => AttrName::Class,
            "href" => AttrName::Href,
            "datetime" => AttrName::Datetime,
            "content" => AttrName::Content,
            "property" => AttrName::Property,
            "name" => AttrName::Name,
            "itemprop" => AttrName::Itemprop,
            "type" => AttrName::Type,
            "charset" => AttrName::Charset,
            "http-equiv" => AttrName::HttpEquiv,
            "lang" => AttrName::Lang,
            "rel" => AttrName::Rel,
            "hidden" => AttrName::Hidden,
            "style" => AttrName::Style,
            "aria-hidden" => AttrName::AriaHidden,
            "role" => AttrName::Role,
            "title" => AttrName::Title,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy)]
struct Attr {
    name: AttrName,
    start: u32,
    end: u32,
}

/// One element or text node.
#[derive(Debug, Clone, Copy)]
pub struct Node {
    pub tag: Tag,
    /// Parent index; the root (index 0) is its own parent.
    pub parent: u32,
    /// One past the last descendant.
    pub end: u32,
    /// For text nodes: byte range in [`Dom::text`]; for elements: range in the
    /// attribute table.
    a: u32,
    b: u32,
}

/// The parsed document.
#[derive(Debug, Default)]
pub struct Dom {
    pub nodes: Vec<Node>,
    text: String,
    attrs: Vec<Attr>,
    attr_text: String,
    /// The first `<title>` outside `<svg>`.
    pub title: Option<String>,
    /// Contents of `<script type="application/ld+json">` blocks.
    pub json_ld: Vec<String>,
    /// The document is an RSS or Atom feed.
    pub feed: bool,
}

impl Dom {
    pub fn parse(html: &str) -> Dom {
        Dom::parse_skipping(html, true)
    }

    /// `skip`: move past discarded raw text without tokenizing it; only tests
    /// turn it off, to show the tokens are the same either way.
    fn parse_skipping(html: &str, skip: bool) -> Dom {
        let html = cap_attributes(html, MAX_ATTRS);
        let builder = Builder::new(html.len());
        let queue = BufferQueue::default();
        queue.push_back(StrTendril::from_slice(&html));
        let tok = Tokenizer::new(
            Sink {
                builder: RefCell::new(builder),
                input: skip.then_some(&queue),
            },
            TokenizerOpts {
                // Tokens only: no tree-builder-driven state changes except the
                // ones the sink asks for.
                ..TokenizerOpts::default()
            },
        );
        // `Script` results (the only non-continue outcome) never come from our
        // sink, so one feed consumes everything.
        let _ = tok.feed(&queue);
        tok.end();
        tok.sink.builder.into_inner().finish()
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.len() <= 1
    }

    pub fn tag(&self, i: usize) -> Tag {
        self.nodes.get(i).map(|n| n.tag).unwrap_or(Tag::Other)
    }

    pub fn parent(&self, i: usize) -> usize {
        self.nodes.get(i).map(|n| n.parent as usize).unwrap_or(0)
    }

    pub fn end(&self, i: usize) -> usize {
        self.nodes.get(i).map(|n| n.end as usize).unwrap_or(i + 1)
    }

    /// A text node's text ("" for elements).
    pub fn text_of(&self, i: usize) -> &str {
        match self.nodes.get(i) {
            Some(n) if n.tag == Tag::Text => {
                self.text.get(n.a as usize..n.b as usize).unwrap_or("")
            }
            _ => "",
        }
    }

    /// An attribute of an element.
    pub fn attr(&self, i: usize, name: AttrName) -> Option<&str> {
        let n = self.nodes.get(i)?;
        if n.tag == Tag::Text {
            return None;
        }
        self.attrs
            .get(n.a as usize..n.b as usize)?
            .iter()
            .find(|a| a.name == name)
            .and_then(|a| self.attr_text.get(a.start as usize..a.end as usize))
    }

    /// Direct children of an element, in order.
    pub fn children(&self, i: usize) -> Children<'_> {
        Children {
            dom: self,
            next: i + 1,
            end: self.end(i),
        }
    }

    /// The subtree's text with whitespace collapsed, `<br>` as a space.
    pub fn text_content(&self, i: usize, out: &mut String) {
        let end = self.end(i);
        for j in i + 1..end {
            match self.nodes[j].tag {
                Tag::Text => push_collapsed(out, self.text_of(j)),
                Tag::Br => push_collapsed(out, " "),
                _ => {}
            }
        }
    }

    /// Whether `anc` is `i` or an ancestor of it.
    pub fn contains(&self, anc: usize, i: usize) -> bool {
        anc <= i && i < self.end(anc)
    }
}

/// Appends `s` with runs of whitespace collapsed to one space (none at the start).
pub fn push_collapsed(out: &mut String, s: &str) {
    let mut space = out.ends_with(' ') || out.is_empty();
    // Text between separators is copied a run at a time: most of a page's
    // text goes through here, and pushing it a char at a time cost twice as much.
    let mut run = 0;
    for (i, c) in s.char_indices() {
        // Soft hyphens and joiners are invisible line-break hints: dropping
        // them keeps "Helikopter\u{ad}landeplatz" one searchable word.
        let invisible = matches!(c, '\u{ad}' | '\u{2060}' | '\u{feff}');
        let blank = !invisible && (c.is_whitespace() || c == '\u{a0}' || c == '\u{200b}');
        if !(invisible || blank) {
            continue;
        }
        if run < i {
            out.push_str(&s[run..i]);
            space = false;
        }
        run = i + c.len_utf8();
        if blank && !space {
            out.push(' ');
            space = true;
        }
    }
    if run < s.len() {
        out.push_str(&s[run..]);
    }
}

pub struct Children<'a> {
    dom: &'a Dom,
    next: usize,
    end: usize,
}

impl Iterator for Children<'_> {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        if self.next >= self.end {
            return None;
        }
        let i = self.next;
        // `end` is always past `i`, so this always advances.
        self.next = self.dom.end(i).max(i + 1);
        Some(i)
    }
}

struct Builder {
    dom: Dom,
    /// Open elements (node indices); index 0 is the root.
    stack: Vec<u32>,
    /// How many elements of each tag are open, so an end tag with nothing to
    /// close is dropped without scanning the stack.
    open: [u32; TAG_COUNT],
    /// Inside `<svg>`/`<math>`: self-closing tags are honoured there.
    foreign: u32,
    /// Raw-text element whose content is being read, and whether to keep it.
    raw: Option<(Tag, bool)>,
    raw_buf: String,
    /// Nothing but whitespace, comments and `<?xml …?>` seen yet.
    at_start: bool,
}

impl Builder {
    fn new(len: usize) -> Builder {
        let mut dom = Dom::default();
        dom.nodes.reserve(len / 40);
        dom.text.reserve(len / 3);
        dom.nodes.push(Node {
            tag: Tag::Root,
            parent: 0,
            end: 1,
            a: 0,
            b: 0,
        });
        Builder {
            dom,
            stack: vec![0],
            open: [0; TAG_COUNT],
            foreign: 0,
            raw: None,
            raw_buf: String::new(),
            at_start: true,
        }
    }

    fn top(&self) -> u32 {
        self.stack.last().copied().unwrap_or(0)
    }

    fn top_tag(&self) -> Tag {
        self.dom.nodes[self.top() as usize].tag
    }

    fn push_node(&mut self, tag: Tag, a: u32, b: u32) -> u32 {
        let idx = self.dom.nodes.len() as u32;
        self.dom.nodes.push(Node {
            tag,
            parent: self.top(),
            end: idx + 1,
            a,
            b,
        });
        idx
    }

    fn pop(&mut self) {
        if self.stack.len() <= 1 {
            return;
        }
        if let Some(i) = self.stack.pop() {
            let len = self.dom.nodes.len() as u32;
            let n = &mut self.dom.nodes[i as usize];
            n.end = len;
            self.open[n.tag as usize] = self.open[n.tag as usize].saturating_sub(1);
            if matches!(n.tag, Tag::Svg | Tag::Math) {
                self.foreign = self.foreign.saturating_sub(1);
            }
        }
    }

    /// Closes the nearest open `target` found before a boundary, within
    /// [`MAX_SCOPE_SCAN`] levels.
    fn close_in_scope(&mut self, targets: &[Tag], boundaries: &[Tag]) {
        if targets.iter().all(|t| self.open[*t as usize] == 0) {
            return;
        }
        let mut depth = None;
        for (k, &i) in self.stack.iter().rev().take(MAX_SCOPE_SCAN).enumerate() {
            let t = self.dom.nodes[i as usize].tag;
            if targets.contains(&t) {
                depth = Some(k);
                break;
            }
            if t.is_scope_boundary() || boundaries.contains(&t) {
                break;
            }
        }
        if let Some(k) = depth {
            for _ in 0..=k {
                self.pop();
            }
        }
    }

    fn start_tag(&mut self, tag: &TokTag) -> TokenSinkResult<()> {
        let name: &str = &tag.name;
        let t = Tag::of(name);
        // Only the root element makes a feed: WordPress trackback blocks and
        // licence metadata put `<rdf:RDF>` inside ordinary HTML pages.
        if self.at_start && (matches!(t, Tag::Rss | Tag::Feed) || name == "rdf:rdf") {
            self.dom.feed = true;
        }
        self.at_start = false;
        let feed = self.dom.feed;
        if !feed {
            if t.closes_p() {
                self.close_in_scope(&[Tag::P], &[]);
            }
            match t {
                Tag::Li => self.close_in_scope(&[Tag::Li], &[Tag::Ul, Tag::Ol]),
                Tag::Dt | Tag::Dd => self.close_in_scope(&[Tag::Dt, Tag::Dd], &[Tag::Dl]),
                Tag::Tr => self.close_in_scope(&[Tag::Tr], &[Tag::Table]),
                Tag::Td | Tag::Th => {
                    self.close_in_scope(&[Tag::Td, Tag::Th], &[Tag::Tr, Tag::Table])
                }
                Tag::Thead | Tag::Tbody | Tag::Tfoot => {
                    self.close_in_scope(&[Tag::Thead, Tag::Tbody, Tag::Tfoot], &[Tag::Table])
                }
                Tag::Option if self.top_tag() == Tag::Option => self.pop(),
                Tag::A => self.close_in_scope(&[Tag::A], &[]),
                _ if t.is_heading() && self.top_tag().is_heading() => self.pop(),
                _ => {}
            }
        }
        // Attributes.
        let a = self.dom.attrs.len() as u32;
        for at in &tag.attrs {
            // Namespaced names (xml:lang) keep only their local part.
            let local: &str = &at.name.local;
            if let Some(an) = AttrName::of(local) {
                let start = self.dom.attr_text.len() as u32;
                self.dom.attr_text.push_str(&at.value);
                let end = self.dom.attr_text.len() as u32;
                self.dom.attrs.push(Attr {
                    name: an,
                    start,
                    end,
                });
            }
        }
        let b = self.dom.attrs.len() as u32;
        let idx = self.push_node(t, a, b);
        let self_closing = tag.self_closing && (feed || self.foreign > 0);
        let void = !feed && t.is_void();
        if !void && !self_closing && self.stack.len() < MAX_DEPTH {
            self.stack.push(idx);
            self.open[t as usize] += 1;
            if matches!(t, Tag::Svg | Tag::Math) {
                self.foreign += 1;
            }
        }
        if feed || self.foreign > 0 || self_closing {
            return TokenSinkResult::Continue;
        }
        match t {
            Tag::Script => {
                let json = self
                    .dom
                    .attr(idx as usize, AttrName::Type)
                    .is_some_and(|ty| ty.to_ascii_lowercase().contains("ld+json"));
                self.raw = Some((t, json));
                self.raw_buf.clear();
                TokenSinkResult::RawData(RawKind::ScriptData)
            }
            Tag::Style | Tag::Xmp | Tag::Iframe | Tag::Noembed | Tag::Noframes | Tag::Noscript => {
                self.raw = Some((t, false));
                TokenSinkResult::RawData(RawKind::Rawtext)
            }
            Tag::Title | Tag::Textarea => {
                self.raw = Some((t, t == Tag::Title && self.dom.title.is_none()));
                self.raw_buf.clear();
                TokenSinkResult::RawData(RawKind::Rcdata)
            }
            Tag::Plaintext => {
                self.raw = Some((t, false));
                TokenSinkResult::Plaintext
            }
            _ => TokenSinkResult::Continue,
        }
    }

    fn end_tag(&mut self, tag: &TokTag) {
        let t = Tag::of(&tag.name);
        if let Some((raw, keep)) = self.raw.take() {
            if keep && raw == t {
                let s = std::mem::take(&mut self.raw_buf);
                match raw {
                    Tag::Script => self.dom.json_ld.push(s),
                    Tag::Title => {
                        let mut title = String::new();
                        push_collapsed(&mut title, &s);
                        self.dom.title = Some(title.trim_end().to_string());
                    }
                    _ => {}
                }
            }
        }
        if t == Tag::Other {
            // Unknown elements: close the top one only if it is the same name;
            // custom elements are rare enough in articles not to matter more.
            if self.top_tag() == Tag::Other {
                self.pop();
            }
            return;
        }
        if self.open[t as usize] == 0 {
            return;
        }
        // Every open element above the match is closed with it. The stack is at
        // most MAX_DEPTH deep and each pop pays for a push, so this is linear.
        if let Some(k) = self
            .stack
            .iter()
            .rev()
            .position(|&i| self.dom.nodes[i as usize].tag == t)
        {
            for _ in 0..=k {
                self.pop();
            }
        }
    }

    fn characters(&mut self, s: &str) {
        if let Some((_, keep)) = self.raw {
            if keep && self.raw_buf.len() < (4 << 20) {
                self.raw_buf.push_str(s);
            }
            return;
        }
        if self.at_start && !s.trim().is_empty() {
            self.at_start = false;
        }
        let top = self.top();
        let len = self.dom.nodes.len();
        // Adjacent character tokens extend the previous text node.
        if let Some(last) = self.dom.nodes.last_mut() {
            if last.tag == Tag::Text && last.parent == top && last.b as usize == self.dom.text.len()
            {
                self.dom.text.push_str(s);
                last.b = self.dom.text.len() as u32;
                return;
            }
        }
        let a = self.dom.text.len() as u32;
        self.dom.text.push_str(s);
        let b = self.dom.text.len() as u32;
        let _ = len;
        self.push_node(Tag::Text, a, b);
    }

    fn finish(mut self) -> Dom {
        while self.stack.len() > 1 {
            self.pop();
        }
        let len = self.dom.nodes.len() as u32;
        if let Some(root) = self.dom.nodes.first_mut() {
            root.end = len;
        }
        // A `<script>` or `<title>` cut off by the end of input still counts.
        if let Some((raw, true)) = self.raw.take() {
            let s = std::mem::take(&mut self.raw_buf);
            if raw == Tag::Script {
                self.dom.json_ld.push(s);
            }
        }
        self.dom
    }
}

/// `html` with every tag's attributes after the first `max` removed, in one
/// pass; borrowed when no tag has more. The scan follows the tokenizer's tag
/// states (quoted and unquoted values, names that are not followed by `=`)
/// and steps over comments and raw-text elements, whose `<` starts no tag.
pub fn cap_attributes(html: &str, max: usize) -> std::borrow::Cow<'_, str> {
    let b = html.as_bytes();
    let space = |c: u8| matches!(c, b'\t' | b'\n' | b'\x0C' | b'\r' | b' ');
    let mut out: Option<String> = None;
    // Bytes of `html` before this are in `out` (or were cut).
    let mut copied = 0;
    let mut i = 0;
    while let Some(off) = memchr::memchr(b'<', &b[i..]) {
        i += off + 1;
        if b[i..].starts_with(b"!--") {
            i = memchr::memmem::find(&b[i..], b"-->").map_or(b.len(), |k| i + k + 3);
            continue;
        }
        let end_tag = b.get(i) == Some(&b'/');
        if end_tag {
            i += 1;
        }
        if !b.get(i).is_some_and(u8::is_ascii_alphabetic) {
            continue;
        }
        let name_start = i;
        while i < b.len() && !space(b[i]) && !matches!(b[i], b'/' | b'>') {
            i += 1;
        }
        let name = &b[name_start..i];
        let mut count = 0;
        let mut cut = None;
        loop {
            while i < b.len() && (space(b[i]) || b[i] == b'/') {
                i += 1;
            }
            if i >= b.len() || b[i] == b'>' {
                break;
            }
            count += 1;
            if count > max && cut.is_none() {
                cut = Some(i);
            }
            // The name: its first character may be anything, even `=`.
            i += 1;
            while i < b.len() && !space(b[i]) && !matches!(b[i], b'/' | b'>' | b'=') {
                i += 1;
            }
            let mut j = i;
            while j < b.len() && space(b[j]) {
                j += 1;
            }
            if b.get(j) != Some(&b'=') {
                continue;
            }
            j += 1;
            while j < b.len() && space(b[j]) {
                j += 1;
            }
            match b.get(j) {
                Some(&q @ (b'"' | b'\'')) => {
                    j = memchr::memchr(q, &b[j + 1..]).map_or(b.len(), |k| j + 1 + k + 1);
                }
                _ => {
                    while j < b.len() && !space(b[j]) && b[j] != b'>' {
                        j += 1;
                    }
                }
            }
            i = j;
        }
        if let Some(c) = cut {
            // `c` and `i` follow ASCII bytes (or are the end), so both are
            // char boundaries.
            let o = out.get_or_insert_with(|| String::with_capacity(html.len()));
            o.push_str(&html[copied..c]);
            copied = i;
        }
        if !end_tag {
            let raw = [
                &b"script"[..],
                b"style",
                b"textarea",
                b"title",
                b"xmp",
                b"iframe",
                b"noembed",
                b"noframes",
                b"noscript",
            ];
            if raw.iter().any(|r| r.eq_ignore_ascii_case(name)) {
                let mut close = Vec::with_capacity(name.len() + 2);
                close.extend_from_slice(b"</");
                close.extend(name.iter().map(u8::to_ascii_lowercase));
                // Raw text ends at the first `</name`, in any case.
                let mut k = i.min(b.len());
                i = b.len();
                while let Some(off) = memchr::memmem::find(&b[k..], b"</") {
                    let at = k + off;
                    if b[at..]
                        .get(..close.len())
                        .is_some_and(|t| t.eq_ignore_ascii_case(&close))
                    {
                        i = at;
                        break;
                    }
                    k = at + 2;
                }
            }
        }
        if i >= b.len() {
            break;
        }
    }
    match out {
        None => std::borrow::Cow::Borrowed(html),
        Some(mut o) => {
            o.push_str(&html[copied..]);
            std::borrow::Cow::Owned(o)
        }
    }
}

struct Sink<'q> {
    builder: RefCell<Builder>,
    /// The tokenizer's input, so that raw text nobody reads can be skipped.
    input: Option<&'q BufferQueue>,
}

impl Sink<'_> {
    /// Moves the input past the body of a raw-text element whose text is
    /// discarded (scripts other than JSON-LD, styles, `<noscript>`, …), up to
    /// its end tag. Such bodies are over half of a typical page's bytes, and
    /// html5ever reads raw text a byte at a time; memchr finds the end tag at
    /// memory speed. The tokenizer then sees `</script>` in the raw-text state
    /// it was put in, so the tokens are exactly those it would have produced.
    fn skip_raw_text(&self, name: &str, script: bool) {
        let Some(mut rest) = self.input.and_then(|q| q.peek_front_chunk_mut()) else {
            return;
        };
        if let Some(n) = raw_text_end(&rest, name, script) {
            // `n` is at a `<`, so a char boundary.
            let _ = rest.try_pop_front(n as u32);
        }
    }
}

/// Where the raw text at the start of `rest` ends: the first `</name` followed
/// by whitespace, `/` or `>`, as the tokenizer's appropriate-end-tag rule says.
/// In a script, `<!--` starts the escaped states in which `</script>` can stop
/// ending it; those bodies are left to the tokenizer (`None`), as is a body
/// whose end is not in sight.
fn raw_text_end(rest: &str, name: &str, script: bool) -> Option<usize> {
    let bytes = rest.as_bytes();
    let end = memchr::memmem::find_iter(bytes, b"</").find(|&at| {
        let tail = &bytes[at + 2..];
        tail.len() > name.len()
            && tail[..name.len()].eq_ignore_ascii_case(name.as_bytes())
            && matches!(
                tail[name.len()],
                b'\t' | b'\n' | b'\x0C' | b'\r' | b' ' | b'/' | b'>'
            )
    })?;
    if script && memchr::memmem::find(&bytes[..end], b"<!--").is_some() {
        return None;
    }
    Some(end)
}

impl TokenSink for Sink<'_> {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        if !crate::parse::budget::spend(1) {
            // Out of budget: the page is dead-lettered, so the rest of the
            // input is dropped rather than tokenized.
            if let Some(q) = self.input {
                while q.pop_front().is_some() {}
            }
            return TokenSinkResult::Continue;
        }
        let mut b = self.builder.borrow_mut();
        match token {
            Token::TagToken(tag) => match tag.kind {
                TagKind::StartTag => {
                    let result = b.start_tag(&tag);
                    if let (TokenSinkResult::RawData(kind), Some((_, false))) = (&result, b.raw) {
                        if !matches!(kind, RawKind::Rcdata) {
                            self.skip_raw_text(&tag.name, matches!(kind, RawKind::ScriptData));
                        }
                    }
                    return result;
                }
                TagKind::EndTag => b.end_tag(&tag),
            },
            Token::CharacterTokens(s) => b.characters(&s),
            Token::CommentToken(c) => {
                // `<?xml …?>` is tokenized as a bogus comment.
                if b.at_start && c.trim_start().starts_with("?xml") {
                    b.at_start = true;
                }
            }
            // A doctype comes before the root element (`<!DOCTYPE rss …>`
            // heads RSS 0.91 feeds), so the next start tag is still the root.
            Token::DoctypeToken(_) => {}
            Token::NullCharacterToken | Token::EOFToken | Token::ParseError(_) => {}
        }
        TokenSinkResult::Continue
    }

    /// In a feed, `<![CDATA[…]]>` is text (titles and descriptions use it); in
    /// HTML it is a bogus comment, as the spec says.
    fn adjusted_current_node_present_but_not_in_html_namespace(&self) -> bool {
        self.builder.borrow().dom.feed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything the parse keeps, for comparing two parses.
    fn summary(d: &Dom) -> String {
        let nodes: Vec<_> = (0..d.len())
            .map(|i| (d.tag(i), d.parent(i), d.end(i), d.text_of(i)))
            .collect();
        format!("{nodes:?} {:?} {:?} {}", d.json_ld, d.title, d.feed)
    }

    #[test]
    fn a_doctype_does_not_hide_the_feed_root() {
        let d = Dom::parse(
            "<?xml version=\"1.0\"?>\n<!DOCTYPE rss PUBLIC \"-//Netscape Communications//DTD RSS 0.91//EN\" \"http://my.netscape.com/publish/formats/rss-0.91.dtd\">\n<rss version=\"0.91\"><channel><item><title>A</title></item></channel></rss>",
        );
        assert!(d.feed);
        assert!(!Dom::parse("<!DOCTYPE html><html><body><rss>x</rss></body></html>").feed);
    }

    #[test]
    fn attributes_beyond_the_cap_are_cut_before_the_tokenizer() {
        let many: String = (0..300).map(|i| format!(" a{i}=\"v>{i}\"")).collect();
        let html = format!("<div{many} class=late>x</div><p id=p>after</p>");
        let capped = cap_attributes(&html, 100);
        let expected: String = (0..100).map(|i| format!(" a{i}=\"v>{i}\"")).collect();
        assert_eq!(capped, format!("<div{expected} >x</div><p id=p>after</p>"));
        let d = Dom::parse(&html);
        let p = (0..d.len()).find(|&i| d.tag(i) == Tag::P).unwrap();
        assert_eq!(d.attr(p, AttrName::Id), Some("p"));
        assert_eq!(d.text_of(p + 1), "after");
        // Pages within the cap, and raw text that merely contains `<`, are
        // passed through untouched.
        let script = format!("<script>if (a<b{}) {{}}</script><p>x</p>", " c".repeat(300));
        assert!(matches!(
            cap_attributes(&script, 100),
            std::borrow::Cow::Borrowed(_)
        ));
        let comment = format!("<!-- <a{} --><p>x</p>", " c".repeat(300));
        assert!(matches!(
            cap_attributes(&comment, 100),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn raw_text_ends_at_the_appropriate_end_tag() {
        assert_eq!(
            raw_text_end("a</b></scriptx></SCRIPT >", "script", true),
            Some(15)
        );
        assert_eq!(raw_text_end("x</style/>", "style", false), Some(1));
        // Escaped script text is left to the tokenizer, as is an unended body.
        assert_eq!(
            raw_text_end("<!--<script></script>--></script>", "script", true),
            None
        );
        assert_eq!(raw_text_end("<!-- x --></style>", "style", false), Some(10));
        assert_eq!(raw_text_end("a</script", "script", true), None);
    }

    #[test]
    fn skipped_raw_text_changes_nothing() {
        for html in [
            "<p>a<script>var s = '</div><p>not text';</script><p>b",
            "<script><!-- document.write('<script>x</script>'); --></script><p>after",
            "<style>p{}</STYLE ><noscript><img src=x></noscript><p>c</p>",
            r#"<script type="application/ld+json">{"headline":"</p>"}</script><title>T</title>"#,
            "<script>unended",
            "<svg><style>x</style><title>in svg</title></svg><p>d",
        ] {
            assert_eq!(
                summary(&Dom::parse_skipping(html, true)),
                summary(&Dom::parse_skipping(html, false)),
                "{html}"
            );
        }
    }

    proptest::proptest! {
        /// Raw-text skipping never changes the parse, whatever the markup.
        #[test]
        fn skipping_is_invisible(parts in proptest::collection::vec(proptest::prop_oneof![
            proptest::strategy::Just("<script>"), proptest::strategy::Just("</script>"),
            proptest::strategy::Just("<SCRIPT type=x>"), proptest::strategy::Just("</scrip"),
            proptest::strategy::Just("<style>"), proptest::strategy::Just("</style >"),
            proptest::strategy::Just("<noscript>"), proptest::strategy::Just("</noscript>"),
            proptest::strategy::Just("<!--"), proptest::strategy::Just("-->"),
            proptest::strategy::Just("<p>"), proptest::strategy::Just("text "),
            proptest::strategy::Just("<svg>"), proptest::strategy::Just("</svg>"),
            proptest::strategy::Just("<title>"), proptest::strategy::Just("</title>"),
            proptest::strategy::Just(r#"<script type="application/ld+json">"#),
            proptest::strategy::Just("<"), proptest::strategy::Just(">"), proptest::strategy::Just("</"),
        ], 0..24)) {
            let html = parts.concat();
            proptest::prop_assert_eq!(
                summary(&Dom::parse_skipping(&html, true)),
                summary(&Dom::parse_skipping(&html, false))
            );
        }
    }

    proptest::proptest! {
        /// The run-at-a-time copy gives what a char-at-a-time one gives.
        #[test]
        fn push_collapsed_as_char_by_char(prefix in "[a b]{0,3}", s in "[a-c \t\n\u{a0}\u{ad}\u{200b}\u{2060}\u{feff}\u{3000}é—]{0,40}") {
            let mut expected = prefix.clone();
            let mut space = expected.ends_with(' ') || expected.is_empty();
            for c in s.chars() {
                if matches!(c, '\u{ad}' | '\u{2060}' | '\u{feff}') {
                    continue;
                }
                if c.is_whitespace() || c == '\u{a0}' || c == '\u{200b}' {
                    if !space {
                        expected.push(' ');
                        space = true;
                    }
                } else {
                    expected.push(c);
                    space = false;
                }
            }
            let mut got = prefix;
            push_collapsed(&mut got, &s);
            proptest::prop_assert_eq!(got, expected);
        }
    }

    fn texts(d: &Dom) -> Vec<(Tag, String)> {
        (0..d.len())
            .filter(|&i| d.tag(i) == Tag::Text)
            .map(|i| (d.tag(d.parent(i)), d.text_of(i).to_string()))
            .collect()
    }

    #[test]
    fn implied_end_tags_and_entities() {
        let d = Dom::parse("<p>one &amp; two<p>three<ul><li>a<li>b</ul>");
        let t = texts(&d);
        assert_eq!(t[0], (Tag::P, "one & two".to_string()));
        assert_eq!(t[1], (Tag::P, "three".to_string()));
        // The second <p> is a sibling of the first, not its child.
        let ps: Vec<usize> = (0..d.len()).filter(|&i| d.tag(i) == Tag::P).collect();
        assert_eq!(d.parent(ps[1]), 0);
        let lis: Vec<usize> = (0..d.len()).filter(|&i| d.tag(i) == Tag::Li).collect();
        assert_eq!(d.parent(lis[0]), d.parent(lis[1]));
    }

    #[test]
    fn scripts_are_raw_and_json_ld_is_kept() {
        let d = Dom::parse(
            r#"<title>T &amp; U</title><script>if (a<b) {}</script><script type="application/ld+json">{"a":"<p>"}</script><p>x"#,
        );
        assert_eq!(d.title.as_deref(), Some("T & U"));
        assert_eq!(d.json_ld, vec![r#"{"a":"<p>"}"#.to_string()]);
        assert_eq!(texts(&d), vec![(Tag::P, "x".to_string())]);
    }

    #[test]
    fn depth_is_capped() {
        let html = "<div>".repeat(5000) + "x";
        let d = Dom::parse(&html);
        let max_depth = (0..d.len())
            .map(|mut i| {
                let mut depth = 0;
                while i != 0 {
                    i = d.parent(i);
                    depth += 1;
                }
                depth
            })
            .max()
            .unwrap_or(0);
        assert!(max_depth <= MAX_DEPTH + 1, "depth {max_depth}");
    }

    #[test]
    fn rdf_inside_a_page_is_no_feed() {
        let d = Dom::parse(
            r#"<html><head><title>T</title></head><body><p>x</p><rdf:RDF><rdf:Description/></rdf:RDF></body></html>"#,
        );
        assert!(!d.feed);
        let d =
            Dom::parse(r#"<?xml version="1.0"?><rdf:RDF><item><title>A</title></item></rdf:RDF>"#);
        assert!(d.feed);
    }

    #[test]
    fn feeds_keep_link_text_and_cdata() {
        let d = Dom::parse(
            "<?xml version=\"1.0\"?><rss><channel><item><title><![CDATA[A & B]]></title><link>http://x.id/1</link></item></channel></rss>",
        );
        assert!(d.feed);
        let t = texts(&d);
        assert!(t.contains(&(Tag::Title, "A & B".to_string())), "{t:?}");
        assert!(
            t.contains(&(Tag::Link, "http://x.id/1".to_string())),
            "{t:?}"
        );
    }
}

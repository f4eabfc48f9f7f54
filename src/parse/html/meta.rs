//! What an HTML page states about itself, read before any heuristic: JSON-LD
//! (`NewsArticle`, `Article`, `BlogPosting`, …), OpenGraph and other `<meta>`
//! tags, microdata, `<time datetime>`, `<html lang>`. Each value keeps its
//! source so the article can say where every field came from.
//!
//! Values are collected as raw strings in priority order; dates are parsed by
//! the caller, which knows the page's time zone.

use serde_json::Value;

use super::dom::{AttrName, Dom, Tag};
use crate::charset::charset_of_content_type;
use crate::event::DateSource;

/// A raw value and where it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub value: String,
    pub source: DateSource,
}

/// The page's self-description.
#[derive(Debug, Default, Clone)]
pub struct Meta {
    /// Title candidates, best first (`<title>` and `<h1>` are added by the caller).
    pub titles: Vec<Found>,
    /// Publication-date candidates, best first.
    pub published: Vec<Found>,
    /// Dates under generic names (`<meta name="date">`, `dc.date`,
    /// `dcterms.date`): often when the page was generated or last edited, so
    /// they rank after every publication-specific statement and `<time>`.
    pub generic: Vec<Found>,
    pub modified: Vec<Found>,
    pub authors: Vec<String>,
    pub authors_source: Option<DateSource>,
    /// JSON-LD `articleBody`, when present.
    pub article_body: Option<String>,
    /// JSON-LD or OpenGraph says this page is an article.
    pub is_article: bool,
    /// JSON-LD says this page is a live blog, whose visible dates are its
    /// updates' times, not its publication.
    pub live: bool,
    /// `<html lang>`, `content-language` or `og:locale`, as a lowercase primary subtag.
    pub language: Option<String>,
    /// The region of `<html lang>` (`gb` in `en-GB`), lowercase.
    pub region: Option<String>,
    /// The `<meta charset>` or `http-equiv=content-type` declaration.
    pub charset: Option<String>,
    /// JSON-LD `WebPage` dates, used only when no article object has one.
    webpage_dates: Vec<String>,
}

const ARTICLE_TYPES: [&str; 15] = [
    "newsarticle",
    // A fact check's own object; the claim it reviews is nested inside.
    "claimreview",
    "article",
    "blogposting",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "reviewnewsarticle",
    "backgroundnewsarticle",
    "liveblogposting",
    "techarticle",
    "report",
    "socialmediaposting",
    "discussionforumposting",
    "scholarlyarticle",
];

/// `<meta name|property|itemprop>` keys for the publication date.
const PUBLISHED_KEYS: [&str; 25] = [
    "article:published_time",
    "og:article:published_time",
    "article:published",
    "og:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "published_time",
    "published-date",
    "dc.date.issued",
    "dc.date.created",
    "dcterms.created",
    "dcterms.issued",
    "sailthru.date",
    "parsely-pub-date",
    "article.published",
    "article_date_original",
    "original-publish-date",
    "citation_publication_date",
    "cxenseparse:recs:publishtime",
    "pub_date",
    "content_publication_date",
    "datecreated",
];

const MODIFIED_KEYS: [&str; 7] = [
    "article:modified_time",
    "og:updated_time",
    "datemodified",
    "dcterms.modified",
    "last-modified",
    "lastmod",
    "article:modified",
];

/// Meta keys as publishers spell them: `article:published:time` and
/// `article-published_time` are `article:published_time`.
fn same_key(known: &str, key: &str) -> bool {
    let sep = |b: u8| matches!(b, b':' | b'_' | b'-');
    known.len() == key.len()
        && known
            .bytes()
            .zip(key.bytes())
            .all(|(a, b)| a == b || (sep(a) && sep(b)))
}

/// Reads everything the page states about itself.
pub fn read(dom: &Dom) -> Meta {
    let mut m = Meta::default();
    for raw in &dom.json_ld {
        json_ld(raw, &mut m);
    }
    if !m.published.iter().any(|f| f.source == DateSource::JsonLd) {
        let dates = std::mem::take(&mut m.webpage_dates);
        m.published.extend(dates.into_iter().map(|value| Found {
            value,
            source: DateSource::JsonLd,
        }));
    }
    let mut og_title = None;
    let mut meta_titles = Vec::new();
    let mut og_published = Vec::new();
    let mut meta_published = Vec::new();
    let mut og_modified = Vec::new();
    let mut meta_modified = Vec::new();
    let mut meta_authors = Vec::new();
    let mut times = Vec::new();
    for i in 0..dom.len() {
        match dom.tag(i) {
            Tag::Html if m.language.is_none() => {
                let lang = dom.attr(i, AttrName::Lang);
                m.language = lang.and_then(crate::language::code);
                m.region = lang.and_then(region_subtag);
            }
            Tag::Meta => {
                if let Some(cs) = dom.attr(i, AttrName::Charset) {
                    m.charset
                        .get_or_insert_with(|| cs.trim().to_ascii_lowercase());
                }
                let content = dom.attr(i, AttrName::Content).map(str::trim).unwrap_or("");
                if let Some(eq) = dom.attr(i, AttrName::HttpEquiv) {
                    let eq = eq.to_ascii_lowercase();
                    if eq == "content-type" {
                        if let Some(cs) = charset_of_content_type(content) {
                            m.charset.get_or_insert(cs);
                        }
                    } else if eq == "content-language" && m.language.is_none() {
                        m.language = crate::language::code(content);
                    }
                }
                if content.is_empty() {
                    continue;
                }
                let key = dom
                    .attr(i, AttrName::Property)
                    .or_else(|| dom.attr(i, AttrName::Name))
                    .or_else(|| dom.attr(i, AttrName::Itemprop))
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                let og = key.starts_with("og:") || key.starts_with("article:");
                let found = |source| Found {
                    value: content.to_string(),
                    source,
                };
                match key.as_str() {
                    "og:title" => og_title = Some(found(DateSource::Opengraph)),
                    "twitter:title" | "title" | "dc.title" | "headline" | "sailthru.title" => {
                        meta_titles.push(found(DateSource::Meta))
                    }
                    "og:type" => m.is_article |= content.eq_ignore_ascii_case("article"),
                    "og:locale" => {
                        m.language = m.language.take().or_else(|| crate::language::code(content));
                        if m.region.is_none() {
                            m.region = region_subtag(content);
                        }
                    }
                    // article:author is often a profile URL.
                    "author" | "article:author" | "dc.creator" | "parsely-author"
                    | "sailthru.author" | "byl"
                        if !content.starts_with("http") =>
                    {
                        let name = content
                            .strip_prefix("By ")
                            .or_else(|| content.strip_prefix("by "))
                            .unwrap_or(content);
                        meta_authors.push(name.trim().to_string());
                    }
                    "date" | "dc.date" | "dcterms.date" => m.generic.push(found(DateSource::Meta)),
                    k if PUBLISHED_KEYS.iter().any(|p| same_key(p, k)) => {
                        if og {
                            og_published.push(found(DateSource::Opengraph))
                        } else {
                            meta_published.push(found(DateSource::Meta))
                        }
                    }
                    k if MODIFIED_KEYS.iter().any(|p| same_key(p, k)) => {
                        if og {
                            og_modified.push(found(DateSource::Opengraph))
                        } else {
                            meta_modified.push(found(DateSource::Meta))
                        }
                    }
                    _ => {}
                }
            }
            Tag::Time => {
                if let Some(dt) = dom.attr(i, AttrName::Datetime) {
                    let dt = dt.trim();
                    if dt.len() >= 8 {
                        let hinted = dom
                            .attr(i, AttrName::Itemprop)
                            .is_some_and(|p| p.eq_ignore_ascii_case("datepublished"))
                            || dom.attr(i, AttrName::Class).is_some_and(|c| {
                                let c = c.to_ascii_lowercase();
                                c.contains("publish") || c.contains("pubdate")
                            });
                        if !in_list_or_aside(dom, i) {
                            times.push((hinted, dt.to_string()));
                        }
                    }
                }
            }
            _ => {}
        }
        // Microdata outside <meta>: <span itemprop="datePublished" content=…>;
        // and the hAtom microformat blogs use, <abbr class="published"
        // title="2017-09-09T10:52:00+02:00">.
        if !matches!(dom.tag(i), Tag::Meta | Tag::Time | Tag::Text) {
            let microdata = dom
                .attr(i, AttrName::Itemprop)
                .is_some_and(|p| p.eq_ignore_ascii_case("datepublished"));
            let hatom = dom.attr(i, AttrName::Class).is_some_and(|c| {
                c.split_ascii_whitespace()
                    .any(|t| t.eq_ignore_ascii_case("published"))
            });
            let value = if microdata {
                dom.attr(i, AttrName::Content)
                    .or_else(|| dom.attr(i, AttrName::Datetime))
                    .or_else(|| dom.attr(i, AttrName::Title))
            } else if hatom {
                dom.attr(i, AttrName::Title)
            } else {
                None
            };
            if let Some(v) = value.map(str::trim).filter(|v| v.len() >= 8) {
                meta_published.push(Found {
                    value: v.to_string(),
                    source: DateSource::Meta,
                });
            }
        }
    }
    m.titles.extend(og_title);
    m.titles.extend(meta_titles);
    m.published.extend(og_published);
    m.published.extend(meta_published);
    // Hinted <time> elements first, then the first others.
    times.sort_by_key(|(hinted, _)| !*hinted);
    m.published
        .extend(times.into_iter().take(3).map(|(_, v)| Found {
            value: v,
            source: DateSource::TimeElement,
        }));
    m.modified.extend(og_modified);
    m.modified.extend(meta_modified);
    if m.authors.is_empty() && !meta_authors.is_empty() {
        meta_authors.dedup();
        m.authors = meta_authors;
        m.authors_source = Some(DateSource::Meta);
    }
    m
}

/// A `<time>` inside a list item or an aside dates another article.
fn in_list_or_aside(dom: &Dom, mut i: usize) -> bool {
    // Bounded by the tree depth, which the builder caps.
    while i != 0 {
        if matches!(dom.tag(i), Tag::Li | Tag::Aside | Tag::Nav | Tag::Footer) {
            return true;
        }
        i = dom.parent(i);
    }
    false
}

/// `en-GB`, `en_US` → the region, lowercase.
fn region_subtag(l: &str) -> Option<String> {
    let r = l.trim().split(['-', '_']).nth(1)?.to_ascii_lowercase();
    (r.len() == 2 && r.bytes().all(|b| b.is_ascii_lowercase())).then_some(r)
}

/// Parses one JSON-LD block (leniently: raw control characters, which some
/// sites leave inside strings, are replaced first, and the comment or CDATA
/// wrappers old XHTML habits put around script text are taken off) and takes
/// the first article object's fields; `WebPage` dates serve only when no
/// article has one.
fn json_ld(raw: &str, m: &mut Meta) {
    let mut body = raw.trim();
    for (open, close) in [
        ("<!--", "-->"),
        ("//<![CDATA[", "//]]>"),
        ("<![CDATA[", "]]>"),
    ] {
        body = body.strip_prefix(open).unwrap_or(body).trim_start();
        body = body.strip_suffix(close).unwrap_or(body).trim_end();
    }
    let cleaned: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let Ok(root) = serde_json::from_str::<Value>(&cleaned) else {
        return;
    };
    // Explicit stack: serde_json caps nesting at 128, but no recursion here
    // keeps that a non-issue.
    let mut stack = vec![&root];
    let mut steps = 0;
    while let Some(v) = stack.pop() {
        steps += 1;
        if steps > 10_000 {
            break;
        }
        match v {
            Value::Array(items) => stack.extend(items.iter().rev()),
            Value::Object(obj) => {
                if let Some(g) = obj.get("@graph") {
                    stack.push(g);
                }
                let types = type_names(obj.get("@type"));
                let article = types.iter().any(|t| ARTICLE_TYPES.contains(&t.as_str()));
                if article {
                    m.is_article = true;
                    m.live |= types.iter().any(|t| t == "liveblogposting");
                    take_article(obj, m);
                } else if types.iter().any(|t| t == "webpage") {
                    if let Some(d) = str_field(obj, "datePublished") {
                        m.webpage_dates.push(d);
                    }
                    // An article nested as mainEntity.
                    if let Some(e) = obj.get("mainEntity") {
                        stack.push(e);
                    }
                }
            }
            _ => {}
        }
    }
}

fn take_article(obj: &serde_json::Map<String, Value>, m: &mut Meta) {
    // The first article object wins each field.
    let has = |src: &[Found]| src.iter().any(|f| f.source == DateSource::JsonLd);
    if !has(&m.titles) {
        if let Some(h) = str_field(obj, "headline").or_else(|| str_field(obj, "name")) {
            m.titles.push(Found {
                value: h,
                source: DateSource::JsonLd,
            });
        }
    }
    if !has(&m.published) {
        if let Some(d) = str_field(obj, "datePublished").or_else(|| str_field(obj, "dateCreated")) {
            m.published.push(Found {
                value: d,
                source: DateSource::JsonLd,
            });
        }
    }
    if !has(&m.modified) {
        if let Some(d) = str_field(obj, "dateModified") {
            m.modified.push(Found {
                value: d,
                source: DateSource::JsonLd,
            });
        }
    }
    if m.authors.is_empty() {
        let authors = people(obj.get("author"));
        if !authors.is_empty() {
            m.authors = authors;
            m.authors_source = Some(DateSource::JsonLd);
        }
    }
    if m.article_body.is_none() {
        m.article_body = str_field(obj, "articleBody").filter(|b| b.len() > 200);
    }
}

fn type_names(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.to_ascii_lowercase()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_ascii_lowercase)
            .collect(),
        _ => Vec::new(),
    }
}

fn str_field(obj: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    match obj.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Array(a) => a
            .iter()
            .find_map(Value::as_str)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()),
        _ => None,
    }
}

fn people(v: Option<&Value>) -> Vec<String> {
    let mut out = Vec::new();
    let one = |v: &Value, out: &mut Vec<String>| match v {
        Value::String(s) => out.push(s.trim().to_string()),
        Value::Object(o) => {
            if let Some(Value::String(n)) = o.get("name") {
                out.push(n.trim().to_string());
            }
        }
        _ => {}
    };
    match v {
        Some(Value::Array(a)) => a.iter().take(20).for_each(|x| one(x, &mut out)),
        Some(x) => one(x, &mut out),
        None => {}
    }
    out.retain(|s| !s.is_empty() && !s.starts_with("http"));
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_ld_outranks_opengraph() {
        let dom = Dom::parse(
            r#"<html lang="id-ID"><head><meta property="og:title" content="OG">
            <meta property="article:published_time" content="2020-01-02T03:04:05+07:00">
            <script type="application/ld+json">{"@context":"https://schema.org","@graph":[{"@type":"WebPage","datePublished":"2019-01-01"},{"@type":["NewsArticle"],"headline":"LD","datePublished":"2020-01-02T03:04:00+07:00","author":[{"@type":"Person","name":"A B"}]}]}</script>
            </head><body><time datetime="2020-01-01">x</time></body></html>"#,
        );
        let m = read(&dom);
        assert_eq!(m.titles[0].value, "LD");
        assert_eq!(m.titles[0].source, DateSource::JsonLd);
        assert_eq!(m.titles[1].source, DateSource::Opengraph);
        assert_eq!(m.published[0].value, "2020-01-02T03:04:00+07:00");
        assert_eq!(m.published[1].source, DateSource::Opengraph);
        assert_eq!(
            m.published.last().map(|f| f.source),
            Some(DateSource::TimeElement)
        );
        assert_eq!(m.authors, vec!["A B".to_string()]);
        assert_eq!(m.language.as_deref(), Some("id"));
        assert!(m.is_article);
    }

    #[test]
    fn json_ld_in_cdata_or_comment_wrappers() {
        for wrapped in [
            "//<![CDATA[\n{\"@type\":\"NewsArticle\",\"datePublished\":\"2024-08-22T12:00:00+02:00\"}\n//]]>",
            "<![CDATA[{\"@type\":\"NewsArticle\",\"datePublished\":\"2024-08-22T12:00:00+02:00\"}]]>",
            "<!-- {\"@type\":\"NewsArticle\",\"datePublished\":\"2024-08-22T12:00:00+02:00\"} -->",
        ] {
            let dom = Dom::parse(&format!(
                r#"<script type="application/ld+json">{wrapped}</script>"#
            ));
            let m = read(&dom);
            assert_eq!(
                m.published.first().map(|f| f.value.as_str()),
                Some("2024-08-22T12:00:00+02:00"),
                "{wrapped}"
            );
        }
    }

    #[test]
    fn meta_keys_with_other_separators() {
        let dom = Dom::parse(
            r#"<meta property="article:published:time" content="2024-10-23T15:48:15+00:00"><meta name="article-modified-time" content="2024-10-24T00:00:00+00:00">"#,
        );
        let m = read(&dom);
        assert_eq!(m.published[0].value, "2024-10-23T15:48:15+00:00");
        assert_eq!(m.modified[0].value, "2024-10-24T00:00:00+00:00");
        assert!(!same_key(
            "article:published_time",
            "article:published_times"
        ));
        assert!(!same_key("datepublished", "datemodified"));
    }
}

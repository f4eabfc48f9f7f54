//! The article's title: what the page states (JSON-LD, OpenGraph, `<meta>`)
//! weighed against what it shows (its `<h1>`, a kicker set in its own element,
//! the `<title>`), cleaned of entities and the site's name.
//!
//! It knows the DOM and the content analysis' blocks; it knows nothing of
//! dates.

use super::content::Analysis;
use super::dom::{self, Dom, Tag};
use super::meta;
use crate::event::{DateSource, FieldSource};

/// The title, where it came from, and the index of the block that shows it
/// (which anchors the search for a visible date line).
pub fn choose(
    dom: &Dom,
    analysis: &Analysis,
    stated: &[meta::Found],
    site: &str,
) -> (Option<String>, Option<FieldSource>, Option<usize>) {
    // Title: the page's statement first, then the visible heading.
    let h1_block = analysis
        .blocks
        .iter()
        .find(|b| b.tag == Tag::H1 && b.chars >= 5);
    let h1 = h1_block.map(|b| b.text.clone());
    let kicker = h1_block.and_then(|b| heading_kicker(dom, b.elem as usize));
    let shown = Shown {
        h1: h1.as_deref(),
        document: dom.title.as_deref(),
        kicker: kicker.as_ref().map(|(k, r)| (k.as_str(), r.as_str())),
    };
    let (title, title_source) = match stated_title(stated, shown) {
        Some(Stated::Heading) => (h1.clone(), Some(FieldSource::Text)),
        Some(Stated::Found(f)) => (Some(f.value.clone()), Some(FieldSource::from(f.source))),
        Some(Stated::Core(core, f)) => (Some(core), Some(FieldSource::from(f.source))),
        None => match &h1 {
            Some(h) => (Some(h.clone()), Some(FieldSource::Text)),
            None => match &dom.title {
                Some(t) if !t.is_empty() => (Some(t.clone()), Some(FieldSource::TitleElement)),
                _ => (None, None),
            },
        },
    };
    let title = title.map(|t| {
        let t = decode_entities(&t);
        let mut s = String::new();
        dom::push_collapsed(&mut s, &t);
        strip_site_name(s.trim_end(), site)
    });
    // No heading shows the stated title, but a plain block shows it under a
    // rubric ("In Picture: …"): that block is the headline readers saw.
    let title = match title {
        Some(t) if title_source != Some(FieldSource::Text) => {
            let tn = crate::text::normalize(&t);
            let rubric = analysis.blocks.iter().find_map(|b| {
                if b.link_chars > 0 || b.chars as usize > t.len() + 40 || tn.len() < 10 {
                    return None;
                }
                let (head, tail) = b.text.trim().split_once(": ")?;
                // A short label set tight against its colon ("Share this
                // Story : …" is a widget, a three-word kicker is a sub-head).
                let words = head.split_whitespace().count();
                let tight = !head.ends_with(char::is_whitespace);
                ((1..=2).contains(&words) && tight && crate::text::normalize(tail) == tn)
                    .then(|| b.text.trim().to_string())
            });
            Some(rubric.unwrap_or(t))
        }
        t => t,
    };
    // The heading that shows the title anchors the search for a visible date.
    let title_block = title.as_deref().and_then(|t| {
        let tn = crate::text::normalize(t);
        analysis
            .blocks
            .iter()
            .position(|b| {
                b.tag.is_heading() && b.chars >= 10 && {
                    let bn = crate::text::normalize(&b.text);
                    tn.contains(&bn) || bn.contains(&tn)
                }
            })
            // A title set in a styled <div>, outside any link.
            .or_else(|| {
                analysis.blocks.iter().position(|b| {
                    b.chars >= 10 && b.link_chars == 0 && crate::text::normalize(&b.text) == tn
                })
            })
    });
    (title, title_source, title_block)
}

/// Which stated title to report, or the visible heading instead.
#[derive(Debug, PartialEq)]
enum Stated<'a> {
    Found(&'a meta::Found),
    Heading,
    /// The headline shared by a statement and the heading, each behind its
    /// own kicker.
    Core(String, &'a meta::Found),
}

/// What the page shows readers: its first `<h1>` and its `<title>`.
#[derive(Debug, Clone, Copy, Default)]
struct Shown<'a> {
    h1: Option<&'a str>,
    document: Option<&'a str>,
    /// The `<h1>` split into a kicker in an element of its own and the rest
    /// (`<h1><span>Kicker</span>Headline</h1>`).
    kicker: Option<(&'a str, &'a str)>,
}

/// The kicker an `<h1>` sets in its own leading element, and the text after it.
fn heading_kicker(dom: &Dom, h1: usize) -> Option<(String, String)> {
    let lead = dom
        .children(h1)
        .find(|&c| dom.tag(c) != Tag::Text || !dom.text_of(c).trim().is_empty())?;
    if dom.tag(lead) == Tag::Text {
        return None;
    }
    let (mut kicker, mut whole) = (String::new(), String::new());
    dom.text_content(lead, &mut kicker);
    dom.text_content(h1, &mut whole);
    let kicker = kicker.trim();
    let rest = whole.trim().strip_prefix(kicker)?.trim();
    let words = kicker.split_whitespace().count();
    ((1..=8).contains(&words) && !rest.is_empty()).then(|| (kicker.to_string(), rest.to_string()))
}

/// Chooses among the stated titles (best first) with what the page shows:
///
/// - Two stated titles where one is the other plus words at either end
///   ("Kicker: Title", "Title | Section", "Title, and a subclause"): the shorter,
///   since the additions are labels or a longer SEO variant that the other
///   statement leaves out. When every statement carries a kicker, it stays.
/// - The first statement is the heading plus a trailing decoration ("Title -
///   Site", "Title | Section"): the heading.
/// - The first statement and the heading put different kickers before the
///   same headline ("Iran greift an: «…»", "Eskalation - «…»"): the headline,
///   since neither kicker is part of it.
/// - The JSON-LD headline is also the `<title>` (both written for search
///   engines), while OpenGraph's title is the one the heading shows readers:
///   the shown one.
///
/// Before all these: a statement that is the heading's kicker element and the
/// rest of the heading, joined by a separator ("Kicker / Headline" for
/// `<h1><span>Kicker</span>Headline</h1>`), is the title as readers see it,
/// kicker included, whichever statement comes first.
fn stated_title<'a>(stated: &'a [meta::Found], shown: Shown<'_>) -> Option<Stated<'a>> {
    let first = stated.first()?;
    let norm = |s: &str| crate::text::normalize(&decode_entities(s));
    if let Some((kicker, rest)) = shown.kicker {
        let (kicker, rest) = (norm(kicker), norm(rest));
        if !kicker.is_empty() && rest.split(' ').count() >= 3 {
            let shown_whole = format!("{kicker} {rest}");
            if let Some(f) = stated.iter().find(|f| norm(&f.value) == shown_whole) {
                return Some(Stated::Found(f));
            }
        }
    }
    let fn_ = norm(&first.value);
    let core = stated[1..].iter().find(|f| {
        let n = norm(&f.value);
        n.split(' ').count() >= 3
            && fn_.len() > n.len()
            && (fn_.ends_with(&format!(" {n}")) || fn_.starts_with(&format!("{n} ")))
    });
    if let Some(f) = core {
        return Some(Stated::Found(f));
    }
    let hn = shown.h1.map(norm).filter(|h| h.len() >= 10);
    if hn
        .as_ref()
        .is_some_and(|hn| fn_.starts_with(&format!("{hn} ")))
    {
        return Some(Stated::Heading);
    }
    if let Some(f) = same_words_as_shown(stated, shown.document) {
        return Some(Stated::Found(f));
    }
    let Some(hn) = hn else {
        return Some(Stated::Found(first));
    };
    if hn == fn_ {
        return Some(Stated::Found(first));
    }
    if let Some(core) = shared_headline(&first.value, shown.h1.unwrap_or_default()) {
        return Some(Stated::Core(core, first));
    }
    // normalize() folds case, so a Title-Cased <title> still matches.
    let document = shown.document.map(norm);
    let opens = |t: &str| document.as_deref().is_some_and(|d| d.starts_with(t));
    if first.source == DateSource::JsonLd && opens(&fn_) && !opens(&hn) {
        let og = stated
            .iter()
            .find(|f| f.source == DateSource::Opengraph && norm(&f.value) == hn);
        if let Some(og) = og {
            return Some(Stated::Found(og));
        }
    }
    Some(Stated::Found(first))
}

/// The OpenGraph title with the JSON-LD headline's words in another dress
/// ("A - B" and "A: B", quoted or not) when the `<title>` opens with it,
/// since that is the punctuation the publisher shows; `None` when the
/// JSON-LD headline is already it.
fn same_words_as_shown<'a>(
    stated: &'a [meta::Found],
    document: Option<&str>,
) -> Option<&'a meta::Found> {
    let (first, rest) = stated.split_first()?;
    if first.source != DateSource::JsonLd {
        return None;
    }
    let form = |s: &str| {
        let mut out = String::new();
        dom::push_collapsed(&mut out, &decode_entities(s));
        out.trim_end().to_string()
    };
    let document = form(document?);
    let first_form = form(&first.value);
    if first_form.is_empty() || document.starts_with(&first_form) {
        return None;
    }
    let words = crate::text::normalize(&first_form);
    rest.iter().find(|f| {
        let x = form(&f.value);
        f.source == DateSource::Opengraph
            && !x.is_empty()
            && document.starts_with(&x)
            && crate::text::normalize(&x) == words
    })
}

/// The headline two titles share behind different kickers: "A: Core" and
/// "B - Core" give "Core" (at least three words). The kickers are short and
/// have no word in common; otherwise the titles are two wordings of one
/// sentence ("I sell Walt Disney World holidays - …"), not two labels.
fn shared_headline(a: &str, b: &str) -> Option<String> {
    const SEPS: [&str; 4] = [": ", " - ", " – ", " | "];
    let tails = |t: &str| -> Vec<(String, String)> {
        let t = decode_entities(t);
        SEPS.iter()
            .filter_map(|sep| {
                let (head, tail) = t.split_once(sep)?;
                let (head, tail) = (crate::text::normalize(head), tail.trim());
                let kicker = (1..=5).contains(&head.split(' ').filter(|w| !w.is_empty()).count());
                (kicker && tail.split_whitespace().count() >= 3).then(|| (head, tail.to_string()))
            })
            .collect()
    };
    let disjoint = |x: &str, y: &str| !x.split(' ').any(|w| y.split(' ').any(|v| v == w));
    let theirs = tails(b);
    tails(a).into_iter().find_map(|(head, tail)| {
        let n = crate::text::normalize(&tail);
        theirs
            .iter()
            .any(|(h, t)| disjoint(h, &head) && crate::text::normalize(t) == n)
            .then_some(tail)
    })
}

/// Decodes character references left in a stated value (JSON-LD and meta
/// content are often HTML-escaped twice: `&quot;`, `&ouml;`, `&#039;`), with
/// the tokenizer's own spec table.
fn decode_entities(s: &str) -> String {
    if !s.contains('&') || s.len() > 2000 {
        return s.to_string();
    }
    let d = Dom::parse(&s.replace('<', "&lt;"));
    let mut out = String::new();
    for i in 0..d.len() {
        out.push_str(d.text_of(i));
    }
    out
}

/// Drops a site name appended or prepended to a title ("… | Republika Online",
/// "KapanLagi.com: …"): a segment naming the site's domain.
fn strip_site_name(title: &str, site: &str) -> String {
    // The registrable name, by the Public Suffix List:
    // "bisniskeuangan.kompas.com" → "kompas", "republika.co.id" → "republika".
    let name = psl::domain_str(site)
        .unwrap_or(site)
        .split('.')
        .next()
        .unwrap_or_default()
        .to_lowercase();
    if name.len() < 3 {
        return title.to_string();
    }
    let names_site = |seg: &str| {
        let seg = seg.to_lowercase();
        let domain_like = !seg.contains(' ') && seg.contains('.') && seg.len() <= 40;
        domain_like
            || (seg.split_whitespace().count() <= 4 && seg.replace([' ', '-'], "").contains(&name))
    };
    for sep in [" | ", " - ", " – ", " — ", " :: "] {
        if let Some(at) = title.rfind(sep) {
            let (head, tail) = (&title[..at], &title[at + sep.len()..]);
            if names_site(tail) && head.len() >= 10 {
                return head.trim().to_string();
            }
        }
    }
    if let Some(at) = title.find(": ") {
        let (head, tail) = (&title[..at], &title[at + 2..]);
        if names_site(head) && tail.len() >= 10 {
            return tail.trim().to_string();
        }
    }
    title.to_string()
}

/// The title of a feed: its first `<title>`.
pub fn feed_title(dom: &Dom) -> Option<String> {
    (0..dom.len().min(200))
        .find(|&i| dom.tag(i) == Tag::Title)
        .map(|i| {
            let mut s = String::new();
            dom.text_content(i, &mut s);
            s.trim().to_string()
        })
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_site_name_is_the_registrable_domain_under_any_public_suffix() {
        for (title, site, want) in [
            (
                "Harga Cabai Naik Lagi | Republika Online",
                "republika.co.id",
                "Harga Cabai Naik Lagi",
            ),
            (
                "Harga Cabai Naik Lagi - Kompas.com",
                "bisniskeuangan.kompas.com",
                "Harga Cabai Naik Lagi",
            ),
            (
                "Election results in full - BBC News",
                "news.bbc.co.uk",
                "Election results in full",
            ),
            (
                "Gempa di Cianjur - Pemkab Cianjur",
                "cianjurkab.go.id",
                "Gempa di Cianjur - Pemkab Cianjur",
            ),
            (
                "Banjir Rob di Pantura | Jatengprov",
                "jatengprov.go.id",
                "Banjir Rob di Pantura",
            ),
            (
                "KapanLagi.com: Artis Baru Rilis Lagu",
                "kapanlagi.com",
                "Artis Baru Rilis Lagu",
            ),
            // A title whose tail is not the site stays whole.
            (
                "Tips Hemat Listrik - Bagian 2",
                "detik.com",
                "Tips Hemat Listrik - Bagian 2",
            ),
        ] {
            assert_eq!(strip_site_name(title, site), want, "{site}");
        }
    }

    #[test]
    fn stated_titles_against_the_heading() {
        let f = |v: &str, source| meta::Found {
            value: v.to_string(),
            source,
        };
        let pick_shown = |stated: &[meta::Found], shown: Shown| match stated_title(stated, shown) {
            Some(Stated::Found(f)) => f.value.clone(),
            Some(Stated::Heading) => format!("h1:{}", shown.h1.unwrap_or_default()),
            Some(Stated::Core(core, _)) => format!("core:{core}"),
            None => String::new(),
        };
        let pick = |stated: &[meta::Found], h1: Option<&str>| {
            pick_shown(
                stated,
                Shown {
                    h1,
                    document: None,
                    kicker: None,
                },
            )
        };
        let (ld, og) = (DateSource::JsonLd, DateSource::Opengraph);
        // Every statement carries the kicker: it stays, though the heading drops it.
        let both = [
            f("Kenia: Nairobi von unten", ld),
            f("Kenia: Nairobi von unten", og),
        ];
        assert_eq!(
            pick(&both, Some("Nairobi von unten")),
            "Kenia: Nairobi von unten"
        );
        // One statement adds a kicker or a trailing clause: the shorter one.
        let kicker = [
            f("Neue Schule: Judy Lybke, ganz eigen", ld),
            f("Judy Lybke, ganz eigen", og),
        ];
        assert_eq!(pick(&kicker, None), "Judy Lybke, ganz eigen");
        let clause = [
            f("Chelsea win at Cobham over Spurs", ld),
            f("Chelsea win at Cobham", og),
        ];
        assert_eq!(pick(&clause, None), "Chelsea win at Cobham");
        // A heading that adds a rubric does not replace the statement.
        let one = [f("Ehrengast der Buchmesse: Was lesen sie?", ld)];
        assert_eq!(
            pick(
                &one,
                Some("Kultur : Ehrengast der Buchmesse: Was lesen sie?")
            ),
            "Ehrengast der Buchmesse: Was lesen sie?"
        );
        // A statement that is the heading plus a site name: the heading.
        let site = [f("Harga beras naik lagi - Kompas.com", og)];
        assert_eq!(
            pick(&site, Some("Harga beras naik lagi")),
            "h1:Harga beras naik lagi"
        );
        // Statement and heading each put their own kicker before one headline.
        let kicked = [f("Iran greift an: «Israel hält sich zurück»", og)];
        assert_eq!(
            pick(
                &kicked,
                Some("Eskalation in Nahost - «Israel hält sich zurück»")
            ),
            "core:«Israel hält sich zurück»"
        );
        // ... but one kicker shared by both stays, as does a kicker the
        // heading extends, or two wordings of one sentence.
        assert_eq!(
            pick(&kicked, Some("Iran greift an - «Israel hält sich zurück»")),
            "Iran greift an: «Israel hält sich zurück»"
        );
        assert_eq!(
            pick(
                &kicked,
                Some("Nahost Iran greift an - «Israel hält sich zurück»")
            ),
            "Iran greift an: «Israel hält sich zurück»"
        );
        let sentence = [f(
            "'I sell Disney holidays - booking early saves you money'",
            og,
        )];
        assert_eq!(
            pick(
                &sentence,
                Some("'I sell Walt Disney holidays - booking early saves you money'")
            ),
            "'I sell Disney holidays - booking early saves you money'"
        );
        // JSON-LD and <title> carry the search variant, OpenGraph the heading's.
        let seo = [
            f("Starmer suggests he will keep taking gifts", ld),
            f("Starmer defiant over gifts", og),
        ];
        let at = |h1, document| Shown {
            h1: Some(h1),
            document,
            kicker: None,
        };
        let shown = |document| at("Starmer defiant over gifts", document);
        let document = Some("Starmer Suggests He Will Keep Taking Gifts | The Paper");
        assert_eq!(
            pick_shown(&seo, shown(document)),
            "Starmer defiant over gifts"
        );
        // The <title> is the heading's too, or says nothing: JSON-LD stays first.
        assert_eq!(
            pick_shown(&seo, shown(Some("Starmer defiant over gifts - The Paper"))),
            "Starmer suggests he will keep taking gifts"
        );
        assert_eq!(
            pick_shown(&seo, shown(None)),
            "Starmer suggests he will keep taking gifts"
        );
        // Same words, other punctuation: the <title>'s form.
        let dress = [
            f(
                "R&uuml;ckbau von Atomkraftwerk - K&uuml;hlt&uuml;rme gesprengt",
                ld,
            ),
            f("Rückbau von Atomkraftwerk: Kühltürme gesprengt", og),
        ];
        let titled = |document| at("Kühltürme gesprengt", document);
        let document = Some("Rückbau von Atomkraftwerk: Kühltürme gesprengt - Politik");
        assert_eq!(
            pick_shown(&dress, titled(document)),
            "Rückbau von Atomkraftwerk: Kühltürme gesprengt"
        );
        assert_eq!(
            pick_shown(&dress, titled(Some("Politik"))),
            "R&uuml;ckbau von Atomkraftwerk - K&uuml;hlt&uuml;rme gesprengt"
        );
        // The heading sets its kicker in an element of its own: the statement
        // that joins kicker and headline is the title readers see.
        let kicked = [
            f("Der 9. Juli naht: Gewerkschaften demonstrieren Einheit", ld),
            f(
                "Nationale Demo / Der 9. Juli naht: Gewerkschaften demonstrieren Einheit",
                og,
            ),
        ];
        let with_kicker = |kicker| Shown {
            h1: Some("Nationale DemoDer 9. Juli naht: Gewerkschaften demonstrieren Einheit"),
            document: None,
            kicker,
        };
        let shown_kicker = Some((
            "Nationale Demo",
            "Der 9. Juli naht: Gewerkschaften demonstrieren Einheit",
        ));
        assert_eq!(
            pick_shown(&kicked, with_kicker(shown_kicker)),
            "Nationale Demo / Der 9. Juli naht: Gewerkschaften demonstrieren Einheit"
        );
        // Without the kicker element, or when the heading's kicker is another
        // one, the statements' order decides as before.
        assert_eq!(
            pick_shown(&kicked, with_kicker(None)),
            "Der 9. Juli naht: Gewerkschaften demonstrieren Einheit"
        );
        let other = Some((
            "Streik",
            "Der 9. Juli naht: Gewerkschaften demonstrieren Einheit",
        ));
        assert_eq!(
            pick_shown(&kicked, with_kicker(other)),
            "Der 9. Juli naht: Gewerkschaften demonstrieren Einheit"
        );
    }

    #[test]
    fn heading_kickers_are_leading_elements() {
        let kicker = |html: &str| {
            let dom = Dom::parse(html);
            let h1 = (0..dom.len()).find(|&i| dom.tag(i) == Tag::H1).unwrap();
            heading_kicker(&dom, h1)
        };
        assert_eq!(
            kicker("<h1>\n <span>Nationale Demo</span>Der 9. Juli naht</h1>"),
            Some(("Nationale Demo".into(), "Der 9. Juli naht".into()))
        );
        assert_eq!(
            kicker("<h1><span class=k>Kultur</span> <span>Ein Titel hier</span></h1>"),
            Some(("Kultur".into(), "Ein Titel hier".into()))
        );
        // Text first, or nothing after the element: no kicker.
        assert_eq!(kicker("<h1>Ein <em>schöner</em> Titel</h1>"), None);
        assert_eq!(kicker("<h1><span>Nur ein Titel</span></h1>"), None);
    }
}

//! Scratch: what the content pass picks on one page.
use warta::parse::html::content;
use warta::parse::html::dom::{AttrName, Dom};
use warta::parse::{Parser, SiteHints};
use warta_lab::eval_html::{html_page, read_maybe_gz};

fn main() {
    let path = std::env::args().nth(1).unwrap();
    let html = read_maybe_gz(std::path::Path::new(&path)).unwrap();
    let page = html_page(
        "http://fakehost/test/page.html",
        &html,
        "2026-01-01T00:00:00Z",
    )
    .unwrap();
    let dom = Dom::parse(&page.content);
    let a = content::analyse(&dom);
    let skip = vec![false; a.blocks.len()];
    let ex = content::extract(&dom, &a, &skip);
    let desc = |i: usize| {
        format!(
            "#{i} {:?} class={:?} id={:?} chars={} links={}",
            dom.tag(i),
            dom.attr(i, AttrName::Class),
            dom.attr(i, AttrName::Id),
            a.chars[i],
            a.link_chars[i]
        )
    };
    if let Some(c) = ex.container {
        println!("container {}", desc(c));
        let mut p = dom.parent(c);
        for _ in 0..6 {
            println!("  up {}", desc(p));
            if p == 0 {
                break;
            }
            p = dom.parent(p);
        }
    }
    let verbose = std::env::args().nth(2).is_some();
    for (bi, b) in a.blocks.iter().enumerate() {
        let kept = ex.blocks.contains(&bi);
        if verbose || kept {
            let mut anc = Vec::new();
            let mut p = b.elem as usize;
            for _ in 0..4 {
                anc.push(format!(
                    "{:?}.{}",
                    dom.tag(p),
                    dom.attr(p, AttrName::Class)
                        .unwrap_or("")
                        .chars()
                        .take(25)
                        .collect::<String>()
                ));
                p = dom.parent(p);
            }
            println!(
                "{} {} j={} c={} l={} [{}] {:.100}",
                if kept { "+" } else { "-" },
                b.elem,
                b.junk,
                b.chars,
                b.link_chars,
                anc.join("<"),
                b.text
            );
        }
    }
    for i in 1..dom.len() {
        if a.junk[i] && !a.junk[dom.parent(i)] {
            let mut t = String::new();
            dom.text_content(i, &mut t);
            let n = t.split_whitespace().count();
            if n >= 40 {
                println!("JUNKROOT {} words={} {:.80}", desc(i), n, t.trim());
            }
        }
    }
    let parsed = Parser::new().parse(&page, &SiteHints::default());
    for h in &parsed.headlines {
        println!("HL {:?} {:?}", h.title, h.published_at);
    }
    println!(
        "PARAGRAPHS {} removed={:?} headlines={}",
        parsed.paragraphs.len(),
        parsed.removed,
        parsed.headlines.len()
    );
}

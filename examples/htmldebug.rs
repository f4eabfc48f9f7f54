use warta::parse::html::{
    content,
    dom::{AttrName, Dom},
};
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let html = std::fs::read_to_string(&args[1]).unwrap();
    let needle = &args[2];
    let dom = Dom::parse(&html);
    let a = content::analyse(&dom);
    let i = (0..dom.len())
        .find(|&i| dom.text_of(i).contains(needle.as_str()))
        .expect("needle");
    let mut j = i;
    while j != 0 {
        println!(
            "{j} {:?} junk={} chars={} class={:?} id={:?}",
            dom.tag(j),
            a.junk[j],
            a.chars[j],
            dom.attr(j, AttrName::Class),
            dom.attr(j, AttrName::Id)
        );
        j = dom.parent(j);
    }
    let skip = vec![false; a.blocks.len()];
    let e = content::extract(&dom, &a, &skip);
    println!(
        "container {:?} {:?} class={:?}",
        e.container,
        e.container.map(|c| dom.tag(c)),
        e.container.and_then(|c| dom.attr(c, AttrName::Class))
    );
    for b in e.blocks {
        let b = &a.blocks[b];
        println!(
            "  [{:?} ld={:.2}] {}",
            b.tag,
            b.link_density(),
            &b.text.chars().take(100).collect::<String>()
        );
    }
}
#[allow(dead_code)]
fn unused() {}

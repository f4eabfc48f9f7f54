//! HTML pages through the real binary: an article page becomes an article with
//! its metadata sources, a section page with only a dated headline list is an
//! index page (headlines only, not a rejection). The pages are small ones
//! written for this test.

mod common;

use common::*;

const ARTICLE: &str = r##"<!DOCTYPE html><html lang="id"><head>
<title>Harga Cabai Naik Lagi - Kabar Contoh</title>
<meta property="og:title" content="Harga Cabai Naik Lagi">
<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle","headline":"Harga Cabai Naik Lagi","datePublished":"2025-12-30T10:15:00+07:00","dateModified":"2025-12-30T11:00:00+07:00","author":{"@type":"Person","name":"Siti Aminah"}}</script>
</head><body>
<nav><a href="/">Beranda</a> <a href="/ekonomi">Ekonomi</a></nav>
<article class="post-content">
<h1>Harga Cabai Naik Lagi</h1>
<div class="date">Selasa, 30 Desember 2025 | 10:15 WIB</div>
<figure><img src="/a.jpg"><figcaption>Pedagang cabai di Pasar Induk Kramat Jati/Antara</figcaption></figure>
<p>Harga cabai rawit di pasar induk kembali naik pada pekan ini, menurut para pedagang, karena pasokan dari daerah sentra berkurang setelah hujan deras.</p>
<p>Seorang pedagang, Budi, mengatakan harga sudah naik dua kali lipat dalam sepekan, sementara pembeli mulai mengurangi belanja mereka.</p>
<div class="share-buttons"><a href="#">Bagikan</a> <a href="#">Tweet</a></div>
<p>Baca juga: <a href="/berita/2">Harga bawang ikut naik</a></p>
<p>Pemerintah daerah berjanji menggelar operasi pasar untuk menekan harga, dimulai dari pasar-pasar besar di ibu kota.</p>
</article>
<aside class="related"><ul><li><a href="/berita/3">Berita lain yang tidak relevan sama sekali</a></li></ul></aside>
<div id="comments"><p>Komentar pembaca yang panjang sekali dan tidak termasuk artikel ini.</p></div>
</body></html>"##;

const INDEX: &str = r##"<html><body><h1>Indeks Berita</h1><ul class="list">
<li><div class="grey">Selasa, 23 Februari 2016 | 14:54 WIB</div><h3><a href="/read/1">OJK: Pelemahan Saham Perbankan Hanya Temporer</a></h3></li>
<li><div class="grey">Selasa, 23 Februari 2016 | 14:51 WIB</div><h3><a href="/read/2">Pilkada Kalteng Diundur, Kandidat yang Kalah Menggugat</a></h3></li>
<li><div class="grey">Selasa, 23 Februari 2016 | 14:50 WIB</div><h3><a href="/read/3">Empat Tangsin Keluar Saat Perayaan di Gorontalo</a></h3></li>
</ul></body></html>"##;

fn line(url: &str, content: &str) -> String {
    serde_json::json!({
        "url": url,
        "content": content,
        "content_type": "text/html",
        "fetched_at": "2025-12-31T05:15:00Z",
    })
    .to_string()
}

#[test]
fn html_article_and_index_page_through_the_binary() {
    let input = format!(
        "{}\n{}\n",
        line("https://kabar.example/berita/1", ARTICLE),
        line("https://kabar.example/indeks", INDEX)
    );
    let run = process_stdin(input.as_bytes(), &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    let articles = on_topic(&run.records, "clean-articles");
    assert_eq!(articles.len(), 1, "{:?}", run.records);
    let a = &articles[0];
    assert_eq!(a["title"], "Harga Cabai Naik Lagi");
    assert_eq!(a["published_at"]["value"], "2025-12-30T10:15:00+07:00");
    assert_eq!(a["published_at"]["source"], "json_ld");
    assert_eq!(a["modified_at"]["value"], "2025-12-30T11:00:00+07:00");
    assert_eq!(a["authors"][0], "Siti Aminah");
    assert_eq!(a["sources"]["title"], "json_ld");
    assert_eq!(a["sources"]["published_at"], "json_ld");
    assert_eq!(a["sources"]["authors"], "json_ld");
    assert_eq!(a["language"], "id");
    assert_eq!(a["caption"]["credit"], "Antara");
    let paragraphs: Vec<&str> = a["paragraphs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(paragraphs.len(), 3, "{paragraphs:?}");
    assert!(paragraphs[0].starts_with("Harga cabai rawit"));
    let text = a["text"].as_str().unwrap();
    for junk in [
        "Beranda",
        "Bagikan",
        "Baca juga",
        "tidak relevan",
        "Komentar",
        "Pedagang cabai",
    ] {
        assert!(!text.contains(junk), "{junk:?} leaked into the body");
    }
    let headlines = on_topic(&run.records, "clean-headlines");
    assert_eq!(headlines.len(), 3, "{headlines:?}");
    assert_eq!(headlines[0]["url"], "https://kabar.example/read/1");
    assert_eq!(headlines[0]["published_at"], "2016-02-23T14:54:00+07:00");
    assert!(
        run.stderr.contains("articles=1")
            && run.stderr.contains("index_pages=1")
            && run.stderr.contains("rejected=0"),
        "{}",
        run.stderr
    );
}

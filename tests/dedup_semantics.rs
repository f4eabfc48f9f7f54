//! Near-duplicate semantics through the real `warta process` binary: recrawls,
//! updates, copies on other URLs, shared sidebars, repeated headlines, and the
//! duplicate routing policies.

mod common;

use common::*;
use serde_json::Value;

const URL: &str = "https://rmol.id/read/2021/10/08/kazakhstan-lsm-aktif";

fn lines(events: &[String]) -> Vec<u8> {
    let mut out = events.join("\n").into_bytes();
    out.push(b'\n');
    out
}

fn seed_lines() -> Vec<String> {
    seed_text().lines().map(str::to_string).collect()
}

/// The seed's article paragraphs (lines 2–16) under another caption and sidebar.
fn copy_with_other_sidebar() -> String {
    let l = seed_lines();
    let mut page = vec!["Aida Balaeva dalam sebuah acara di Astana/Ist".to_string()];
    page.extend(l[1..16].iter().cloned());
    page.extend(
        [
            "Harga Emas Naik Tipis Pagi Ini",
            "Rabu, 31 Desember 2025 | 10:40",
            "Timnas Bersiap Hadapi Laga Uji Coba",
            "Rabu, 31 Desember 2025 | 10:15",
            "Berita Lainnya",
        ]
        .map(String::from),
    );
    page.join("\n")
}

fn verdicts(records: &[Value]) -> Vec<(String, String)> {
    records
        .iter()
        .filter(|r| r["value"]["verdict"].is_string() && r["value"]["paragraphs"].is_array())
        .map(|r| {
            (
                r["topic"].as_str().unwrap().to_string(),
                r["value"]["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn recrawl_of_the_seed_is_unchanged() {
    let seed = seed_text();
    let input = lines(&[
        page_line(URL, "2025-12-31T05:15:00Z", &seed),
        // Same page, an hour later, with a tracking parameter.
        page_line(
            &format!("{URL}?utm_source=x"),
            "2025-12-31T06:15:00Z",
            &seed,
        ),
    ]);
    let run = process_stdin(&input, &[]);
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert_eq!(
        verdicts(&run.records),
        [("clean-articles".into(), "new".into())]
    );
    assert!(
        run.stderr
            .contains("new=1 updated=0 unchanged=1 duplicate=0"),
        "{}",
        run.stderr
    );
    // The sidebar was published with the first page only.
    assert!(
        run.stderr.contains("headlines=10 headlines_suppressed=10"),
        "{}",
        run.stderr
    );
}

#[test]
fn seed_with_a_paragraph_added_is_updated() {
    let seed = seed_text();
    let mut l = seed_lines();
    l.insert(
        16,
        "Pemerintah Kazakhstan juga berencana memperluas program hibah bagi organisasi masyarakat sipil pada tahun depan.".into(),
    );
    let run = process_stdin(
        &lines(&[
            page_line(URL, "2025-12-31T05:15:00Z", &seed),
            page_line(URL, "2025-12-31T07:00:00Z", &l.join("\n")),
        ]),
        &[],
    );
    let articles = on_topic(&run.records, "clean-articles");
    assert_eq!(articles.len(), 2);
    let (first, second) = (articles[0], articles[1]);
    assert_eq!(second["verdict"], "updated");
    assert_eq!(second["version"], 2);
    assert_eq!(second["id"], first["id"]);
    assert_eq!(second["cluster_id"], first["cluster_id"]);
    let sim = second["similarity"].as_f64().unwrap();
    assert!(
        sim > 0.8 && sim < 1.0,
        "similarity to the previous version: {sim}"
    );
    assert_eq!(second["paragraphs"].as_array().unwrap().len(), 14);
}

#[test]
fn copy_on_another_url_is_a_duplicate_of_the_first() {
    let run = process_stdin(
        &lines(&[
            page_line(URL, "2025-12-31T05:15:00Z", &seed_text()),
            page_line(
                "https://kabar-nusantara.example/internasional/lsm-kazakhstan",
                "2025-12-31T07:00:00Z",
                &copy_with_other_sidebar(),
            ),
        ]),
        &[],
    );
    let original = on_topic(&run.records, "clean-articles");
    assert_eq!(original.len(), 1);
    let dups = on_topic(&run.records, "page-duplicates");
    assert_eq!(dups.len(), 1, "routed to the duplicates topic by default");
    let d = dups[0];
    assert_eq!(d["verdict"], "duplicate");
    assert_eq!(d["duplicate_of"], original[0]["id"]);
    assert_eq!(d["cluster_id"], original[0]["id"]);
    assert!(d["similarity"].as_f64().unwrap() >= 0.99);
    assert_eq!(
        d["caption"]["credit"], "Ist",
        "the copy keeps its own caption"
    );
    // Articles are keyed by cluster, so the copy shares the original's partition.
    let keys: Vec<&Value> = run
        .records
        .iter()
        .filter(|r| r["value"]["paragraphs"].is_array())
        .map(|r| &r["key"])
        .collect();
    assert_eq!(keys[0], keys[1]);
}

#[test]
fn duplicate_policies_drop_and_mark() {
    let input = lines(&[
        page_line(URL, "2025-12-31T05:15:00Z", &seed_text()),
        page_line(
            "https://kabar-nusantara.example/x",
            "2025-12-31T07:00:00Z",
            &copy_with_other_sidebar(),
        ),
    ]);
    let run = process_stdin(&input, &[("WARTA__DEDUP__DUPLICATES", "drop")]);
    assert_eq!(
        verdicts(&run.records),
        [("clean-articles".into(), "new".into())]
    );
    assert!(
        run.stderr.contains("duplicate=1"),
        "dropped but counted: {}",
        run.stderr
    );

    let run = process_stdin(&input, &[("WARTA__DEDUP__DUPLICATES", "mark")]);
    assert_eq!(
        verdicts(&run.records),
        [
            ("clean-articles".into(), "new".into()),
            ("clean-articles".into(), "duplicate".into())
        ]
    );
}

#[test]
fn different_articles_sharing_the_seed_sidebar_are_both_new() {
    let l = seed_lines();
    let sidebar = l[16..].join("\n");
    let a = format!(
        "Pemerintah Kota Bandung menyiapkan 40 titik pengungsian menjelang musim hujan tahun ini.\n\
         Wali kota mengatakan seluruh camat diminta mendata warga di bantaran sungai.\n\
         \"Kami tidak ingin kejadian tahun lalu terulang,\" katanya di Balai Kota, Selasa (30/12).\n{sidebar}"
    );
    let b = format!(
        "Harga cabai rawit di Pasar Induk Kramat Jati turun menjadi Rp45.000 per kilogram pekan ini.\n\
         Pedagang menyebut pasokan dari Jawa Tengah kembali normal setelah panen raya.\n\
         Dinas Perdagangan memperkirakan harga stabil hingga awal tahun depan.\n{sidebar}"
    );
    let run = process_stdin(
        &lines(&[
            page_line(
                "https://rmol.id/read/2025/12/31/bandung",
                "2025-12-31T05:15:00Z",
                &a,
            ),
            page_line(
                "https://rmol.id/read/2025/12/31/cabai",
                "2025-12-31T05:16:00Z",
                &b,
            ),
        ]),
        &[],
    );
    assert_eq!(
        verdicts(&run.records),
        [
            ("clean-articles".into(), "new".into()),
            ("clean-articles".into(), "new".into())
        ]
    );
}

#[test]
fn the_same_headline_on_five_pages_is_published_once() {
    let l = seed_lines();
    let events: Vec<String> = (0..5)
        .map(|i| {
            let page = format!(
                "Artikel nomor {i} membahas topik yang sama sekali berbeda dari yang lain, dengan kata kata unik {i}{i}{i}.\n{}\n{}\n{}\n{}",
                l[16], l[17], l[18], l[19]
            );
            page_line(&format!("https://rmol.id/read/{i}"), &format!("2025-12-31T05:1{i}:00Z"), &page)
        })
        .collect();
    let run = process_stdin(&lines(&events), &[]);
    let headlines = on_topic(&run.records, "clean-headlines");
    assert_eq!(
        headlines.len(),
        2,
        "two distinct headlines, each published once"
    );
    assert!(headlines.iter().all(|h| h["verdict"] == "new"));
    assert!(
        run.stderr.contains("headlines=2 headlines_suppressed=8"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_headline_whose_time_changes_is_an_update() {
    let page = |time: &str| {
        format!(
            "Isi artikel yang cukup panjang untuk menjadi paragraf pertama halaman ini.\n\
             Kades Diminta Tetap Tenang Sikapi Penyesuaian Dana Desa\nRabu, 31 Desember 2025 | {time}\n\
             Harga Minyak Datar saat Tensi Timteng Naik\nRabu, 31 Desember 2025 | 11:21"
        )
    };
    let run = process_stdin(
        &lines(&[
            page_line("https://rmol.id/a", "2025-12-31T05:15:00Z", &page("12:10")),
            page_line("https://rmol.id/b", "2025-12-31T05:30:00Z", &page("12:25")),
        ]),
        &[],
    );
    let h = on_topic(&run.records, "clean-headlines");
    let v: Vec<(&str, &str)> = h
        .iter()
        .map(|h| {
            (
                h["verdict"].as_str().unwrap(),
                h["published_at"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        v,
        [
            ("new", "2025-12-31T12:10:00+07:00"),
            ("new", "2025-12-31T11:21:00+07:00"),
            ("updated", "2025-12-31T12:25:00+07:00")
        ]
    );
}

//! Date lines through the real `warta process` binary: a line that reads as a
//! date but cannot be one gives no `published_at` and says why, and stays out
//! of the body; sidebar stamps relative to the fetch ("2 jam lalu") or a time
//! alone ("14:32 WIB") give headline times counted from `fetched_at`.

mod common;

use common::*;
use serde_json::Value;

const FETCHED: &str = "2025-12-31T05:15:00Z"; // 12:15 WIB
const BODY: &str = "Pemerintah menyatakan anggaran desa tahun depan akan disesuaikan dengan kebutuhan masing-masing daerah.";

fn article(content: &str) -> Value {
    let run = process_stdin(
        page_line("https://x.id/a", FETCHED, content).as_bytes(),
        &[],
    );
    assert_eq!(run.status, 0, "stderr: {}", run.stderr);
    on_topic(&run.records, "clean-articles")[0].clone()
}

#[test]
fn impossible_date_lines_give_no_date_and_say_why() {
    for (line, reason) in [
        ("Rabu, 31 Desember 99999 | 12:10", "year_out_of_range"),
        ("Rabu, 31 Desember -2025 | 12:10", "year_out_of_range"),
        ("Rabu, 31 Desember 0000 | 12:10", "year_out_of_range"),
        ("Kamis, 1 Januari 2032 | 08:00", "year_out_of_range"),
        ("Selasa, 31 Desember 1991", "year_out_of_range"),
        ("Rabu, 31 Desember 2025 | 25:10", "impossible_time"),
        ("31/12/2025, 12:75 WIB", "impossible_time"),
        ("31 Februari 2025", "impossible_date"),
    ] {
        let a = article(&format!("Judul Berita Desa\n{line}\n{BODY}"));
        assert_eq!(a["published_at"], Value::Null, "{line}: {a}");
        assert_eq!(a["date_rejected"]["reason"], reason, "{line}");
        assert_eq!(a["date_rejected"]["raw"], line);
        assert_eq!(a["paragraphs"], serde_json::json!([BODY]), "{line}");
        assert_eq!(a["title"], "Judul Berita Desa", "{line}");
    }
    // A possible date line is published as before, with no rejection.
    let a = article(&format!(
        "Judul Berita Desa\nRabu, 31 Desember 2025 | 12:10\n{BODY}"
    ));
    assert_eq!(a["published_at"]["value"], "2025-12-31T12:10:00+07:00");
    assert!(a.get("date_rejected").is_none());
}

#[test]
fn sidebar_stamps_relative_to_the_fetch_are_headline_times() {
    let content = format!(
        "{BODY}\nBerita Terkait\nKades Diminta Tetap Tenang\n2 jam lalu\n\
         Harga Minyak Datar saat Tensi Timteng Naik\n45 menit yang lalu\n\
         Emas Antam Mandek di Akhir Tahun\n11:02 WIB\n\
         Wacana Pilkada Lewat DPRD\nKemarin\nLoad more"
    );
    let run = process_stdin(
        page_line("https://x.id/a", FETCHED, &content).as_bytes(),
        &[],
    );
    assert_eq!(run.status, 0, "stderr: {}", run.stderr);
    let a = on_topic(&run.records, "clean-articles")[0];
    assert_eq!(a["paragraphs"], serde_json::json!([BODY]));
    let got: Vec<(String, String, Value)> = on_topic(&run.records, "clean-headlines")
        .iter()
        .map(|h| {
            (
                h["title"].as_str().unwrap().to_string(),
                h["published_at"].as_str().unwrap().to_string(),
                h["flags"].clone(),
            )
        })
        .collect();
    let relative = serde_json::json!(["relative"]);
    let inferred = serde_json::json!(["date_inferred"]);
    assert_eq!(
        got,
        vec![
            (
                "Kades Diminta Tetap Tenang".into(),
                "2025-12-31T10:15:00+07:00".into(),
                relative.clone()
            ),
            (
                "Harga Minyak Datar saat Tensi Timteng Naik".into(),
                "2025-12-31T11:30:00+07:00".into(),
                relative.clone()
            ),
            (
                "Emas Antam Mandek di Akhir Tahun".into(),
                "2025-12-31T11:02:00+07:00".into(),
                inferred
            ),
            (
                "Wacana Pilkada Lewat DPRD".into(),
                "2025-12-30T00:00:00+07:00".into(),
                relative
            ),
        ]
    );
}

#[test]
fn a_relative_stamp_that_moves_with_the_crawl_is_no_update() {
    // An hour later the same item reads "3 jam lalu"; its time moved only
    // because the crawl did (by minutes, when the site rounds to hours).
    let page = |fetched: &str, age: &str| {
        page_line(
            "https://x.id/a",
            fetched,
            &format!("{BODY}\nKades Diminta Tetap Tenang\n{age}\nHarga Minyak Datar\n{age}"),
        )
    };
    let input = format!(
        "{}\n{}\n",
        page("2025-12-31T05:15:00Z", "2 jam lalu"),
        page("2025-12-31T06:40:00Z", "3 jam lalu")
    );
    let run = process_stdin(input.as_bytes(), &[]);
    assert_eq!(run.status, 0, "stderr: {}", run.stderr);
    let headlines = on_topic(&run.records, "clean-headlines");
    assert_eq!(headlines.len(), 2, "{headlines:?}");
    assert!(headlines.iter().all(|h| h["verdict"] == "new"));
}

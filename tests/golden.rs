//! Golden test: the seed page through the real `warta process` binary must give
//! exactly the checked-in output (`tests/golden/seed.jsonl`), plus the specific
//! facts the issue names, asserted one by one so a golden update cannot hide them.
//! Regenerate the golden file with `UPDATE_GOLDEN=1 cargo test --test golden`.

mod common;

use common::*;

#[test]
fn seed_matches_golden_output() {
    let input = std::fs::read(root().join("tests/fixtures/seed.jsonl")).unwrap();
    let run = process_stdin(&input, &[]);
    assert_eq!(run.status, 0, "stderr: {}", run.stderr);
    assert_golden(&root().join("tests/golden/seed.jsonl"), &run.stdout);
}

#[test]
fn seed_article_and_headlines_are_exactly_right() {
    let input = std::fs::read(root().join("tests/fixtures/seed.jsonl")).unwrap();
    let run = process_stdin(&input, &[]);
    assert_eq!(run.status, 0, "stderr: {}", run.stderr);
    let articles = on_topic(&run.records, "clean-articles");
    assert_eq!(articles.len(), 1);
    let a = articles[0];
    assert_eq!(a["title"], serde_json::Value::Null);
    assert_eq!(
        a["caption"]["text"],
        "Menteri informasi dan pembangunan sosial Kazakhstan, Aida Balaeva"
    );
    assert_eq!(a["caption"]["credit"], "Net");
    let paragraphs = a["paragraphs"].as_array().unwrap();
    assert_eq!(paragraphs.len(), 13);
    let seed = seed_text();
    let lines: Vec<&str> = seed.lines().collect();
    // Page order: lines 2–5 then 8–16 (1-based); lines 6–7 are the wrapped repeat.
    let expected: Vec<&str> = lines[1..5].iter().chain(&lines[7..16]).copied().collect();
    let actual: Vec<&str> = paragraphs.iter().map(|p| p.as_str().unwrap()).collect();
    assert_eq!(actual, expected);
    let quoted: Vec<&&str> = actual
        .iter()
        .filter(|p| p.contains("beberapa lusin LSM"))
        .collect();
    assert_eq!(quoted.len(), 1, "the quoted paragraph appears once");
    assert!(quoted[0].ends_with("dikutip dari Euro News, Jumat (8/10)."));
    assert_eq!(a["published_at"]["value"], "2021-10-08T00:00:00+07:00");
    assert_eq!(a["published_at"]["precision"], "day");
    assert_eq!(a["published_at"]["source"], "text");
    assert_eq!(a["language"], "id");
    assert_eq!(a["removed"]["repeated_paragraphs"], 1);
    assert_eq!(a["removed"]["boilerplate_lines"], 1);
    assert_eq!(a["removed"]["headline_items"], 10);

    let headlines = on_topic(&run.records, "clean-headlines");
    assert_eq!(headlines.len(), 10);
    for (i, h) in headlines.iter().enumerate() {
        assert_eq!(h["position"], i as u64 + 1);
        assert_eq!(h["title"], lines[16 + 2 * i]);
        assert!(h["published_at"]
            .as_str()
            .unwrap()
            .starts_with("2025-12-31T"));
    }
    assert_eq!(
        headlines[0]["title"],
        "Kades Diminta Tetap Tenang Sikapi Penyesuaian Dana Desa"
    );
    assert_eq!(headlines[0]["published_at"], "2025-12-31T12:10:00+07:00");
    assert_eq!(
        headlines[9]["title"],
        "Wacana Pilkada Lewat DPRD Salah Sasaran dan Ancam Hak Rakyat"
    );
    assert_eq!(headlines[9]["published_at"], "2025-12-31T11:02:00+07:00");
    assert!(!run.stdout.contains("Selengkapnya"));
}

#[test]
fn shipped_seed_fixture_is_the_shared_seed() {
    // The fixture wraps ../shared/seeds/000_dead9d66069288af.txt; keep them equal.
    let shared_seed = shared().join("seeds/000_dead9d66069288af.txt");
    let Ok(original) = std::fs::read_to_string(&shared_seed) else {
        panic!(
            "{} is missing: tests need ../shared beside the repo",
            shared_seed.display()
        );
    };
    assert_eq!(seed_text(), original);
    assert_eq!(seed_event()["fetched_at"], "2025-12-31T05:15:00Z");
    assert!(seed_event()["url"].as_str().unwrap().contains(".id/"));
}

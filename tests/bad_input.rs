//! Bad input through the real binary: each kind gets its own stable code, goes to
//! the dead-letter output with the original bytes, and the run continues. The
//! summary proves every line is accounted for exactly once.

mod common;

use base64::Engine as _;
use common::*;

#[test]
fn each_bad_input_is_rejected_with_its_own_code_and_the_run_continues() {
    let good = std::fs::read_to_string(root().join("tests/fixtures/seed.jsonl")).unwrap();
    let good = good.trim_end();
    let big = format!(
        r#"{{"url":"https://a.id/big","content":"{}"}}"#,
        "x".repeat(5000)
    );
    let mut input: Vec<Vec<u8>> = vec![
        b"{\"url\": \"https://a.id/x\", \"content\": ".to_vec(), // invalid JSON
        br#"{"content":"Isi berita."}"#.to_vec(),                // missing url
        br#"{"url":"/berita/1","content":"Isi berita."}"#.to_vec(), // relative url
        br#"{"url":"https://a.id/x","content":""}"#.to_vec(),    // empty
        br#"{"url":"https://a.id/x","content":" \n\t "}"#.to_vec(), // whitespace
        b"{\"url\":\"https://a.id/x\",\"content\":\"caf\xe9\"}".to_vec(), // latin-1 byte
        big.into_bytes(),                                        // over the limit
        br#"["https://a.id/x","Isi"]"#.to_vec(),                 // not an object
        good.as_bytes().to_vec(),                                // still processed
    ];
    let expected_codes = [
        "invalid_json",
        "missing_url",
        "invalid_url",
        "empty_content",
        "empty_content",
        "invalid_utf8",
        "content_too_large",
        "not_an_object",
    ];
    let mut stdin = Vec::new();
    for line in input.iter_mut() {
        stdin.extend_from_slice(line);
        stdin.push(b'\n');
    }
    let run = process_stdin(&stdin, &[("WARTA__INPUT__MAX_CONTENT_BYTES", "4096")]);
    assert_eq!(
        run.status, 0,
        "rejections are outcomes, not failures: {}",
        run.stderr
    );

    let dlq = on_topic(&run.records, "raw-pages-dlq");
    let codes: Vec<&str> = dlq.iter().map(|r| r["code"].as_str().unwrap()).collect();
    assert_eq!(codes, expected_codes);
    for (i, r) in dlq.iter().enumerate() {
        assert_eq!(r["source"]["line"], i as u64 + 1);
        assert!(!r["message"].as_str().unwrap().is_empty());
        let original = match r["input"].as_str() {
            Some(s) => s.as_bytes().to_vec(),
            None => base64::engine::general_purpose::STANDARD
                .decode(r["input_base64"].as_str().unwrap())
                .unwrap(),
        };
        assert_eq!(
            original, input[i],
            "dead letter {i} keeps the original bytes"
        );
    }
    assert_eq!(on_topic(&run.records, "clean-articles").len(), 1);
    assert!(
        run.stderr
            .contains("pages=9 articles=1 (new=1 updated=0 unchanged=0 duplicate=0) index_pages=0 rejected=8 headlines=10 headlines_suppressed=0"),
        "summary: {}",
        run.stderr
    );
}

#[test]
fn a_json_scalar_and_a_blank_line_are_rejected_too() {
    let run = process_stdin(b"42\n\nnull\n", &[]);
    assert_eq!(run.status, 0);
    let codes: Vec<String> = on_topic(&run.records, "raw-pages-dlq")
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes, ["not_an_object", "invalid_json", "not_an_object"]);
}

#[test]
fn out_dir_writes_one_file_per_topic() {
    let dir = std::env::temp_dir().join(format!("warta-out-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let run = run_warta(
        &[
            "process",
            "examples/pages.jsonl",
            "--out",
            dir.to_str().unwrap(),
        ],
        None,
        &[],
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    for topic in ["clean-articles", "clean-headlines", "raw-pages-dlq"] {
        let body = std::fs::read_to_string(dir.join(format!("{topic}.jsonl"))).unwrap();
        assert!(body.lines().count() >= 1, "{topic}");
        for line in body.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["schema_version"], 1);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn text_page_needs_a_url_and_config_errors_exit_1() {
    let run = run_warta(
        &["process", "tests/fixtures/does-not-matter.txt"],
        None,
        &[],
    );
    assert_eq!(run.status, 1);
    assert!(run.stderr.contains("--url"), "{}", run.stderr);

    let run = run_warta(
        &["check-config"],
        None,
        &[
            ("WARTA__TOPICS__ARTICLEZ", "x"),
            ("WARTA__LOG__FORMAT", "yaml"),
        ],
    );
    assert_eq!(run.status, 1);
    assert!(
        run.stderr.contains("unknown key `topics.articlez`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("log.format (\"yaml\")"),
        "{}",
        run.stderr
    );

    let run = run_warta(&["process", "--no-such-flag"], None, &[]);
    assert_eq!(run.status, 2, "usage errors exit 2");
}

#[test]
fn plain_text_page_with_url() {
    let seed = shared().join("seeds/000_dead9d66069288af.txt");
    let run = run_warta(
        &[
            "process",
            seed.to_str().unwrap(),
            "--url",
            "https://rmol.id/read/2021/10/08/kazakhstan-lsm-aktif",
            "--fetched-at",
            "2025-12-31T05:15:00Z",
        ],
        None,
        &[],
    );
    assert_eq!(run.status, 0, "{}", run.stderr);
    let golden = std::fs::read_to_string(root().join("tests/golden/seed.jsonl")).unwrap();
    assert_eq!(
        run.stdout, golden,
        "a .txt page gives the same output as its event"
    );
}

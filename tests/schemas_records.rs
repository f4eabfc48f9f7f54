//! Every record warta writes is valid against its topic's schema: `warta
//! process` over every page of every corpus in ../shared/corpora, the seed,
//! examples/pages.jsonl and one input per rejection code, each output record
//! validated with the `jsonschema` crate (formats checked, and again with every
//! object closed so an unlisted field fails). Every accepted input is valid
//! against the `raw-pages` schema, and the hand-made bad inputs the schema can
//! judge are invalid against it.
//!
//! IndoSum ships sentences, not pages: each article is rendered as a text page
//! by the lab's templates, then crawled again with its last paragraph edited (an
//! `updated` version) and copied on another site (a `duplicate`), so the dedup
//! verdicts and their fields are covered. The corpora hold no natural copies.

mod schemas_support;

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use schemas_support::Validators;
use serde_json::{json, Value};

fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared")
}

fn corpora() -> PathBuf {
    let dir = shared().join("corpora");
    assert!(
        dir.is_dir(),
        "{} is missing: the tests need ../shared beside the repository",
        dir.display()
    );
    dir
}

/// File bytes, gunzipped when the name ends in `.gz`.
fn read(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        out
    } else {
        bytes
    }
}

fn json_file(path: &Path) -> Value {
    serde_json::from_slice(&read(path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every file under `dir` whose name ends with one of `suffixes`, sorted.
fn files(dir: &Path, suffixes: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if suffixes.iter().any(|s| p.to_string_lossy().ends_with(s)) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A raw page event for an HTML page: decoded `content` when the bytes are
/// UTF-8, else `content_base64` (warta decodes by the page's charset).
fn html_event(url: &str, fetched_at: &str, html: &[u8]) -> Value {
    match std::str::from_utf8(html) {
        Ok(text) => json!({"url": url, "fetched_at": fetched_at, "content": text}),
        Err(_) => json!({
            "url": url,
            "fetched_at": fetched_at,
            "content_type": "text/html",
            "content_base64": base64::engine::general_purpose::STANDARD.encode(html),
        }),
    }
}

fn synthetic_url(corpus: &str, file: &Path, base: &Path) -> String {
    let rel = file.strip_prefix(base).unwrap_or(file).to_string_lossy();
    format!("https://{corpus}.corpus.example/{rel}")
}

/// Fundus: test_data/<country>/*.html.gz, URLs and crawl dates from meta.info.
fn fundus(out: &mut Vec<(String, Value)>) {
    let base = corpora().join("fundus-parser-fixtures/test_data");
    for page in files(&base, &[".html.gz"]) {
        let meta = json_file(&page.parent().unwrap().join("meta.info"));
        let name = page.file_name().unwrap().to_string_lossy().into_owned();
        let m = &meta[&name];
        let url = m["url"]
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| synthetic_url("fundus", &page, &base));
        let fetched = m["crawl_date"]
            .as_str()
            .map(|d| format!("{}Z", d.get(..19).unwrap_or(d).replace(' ', "T")))
            .unwrap_or_else(|| "2026-01-01T00:00:00Z".into());
        out.push(("fundus".into(), html_event(&url, &fetched, &read(&page))));
    }
}

/// htmldate: every page under tests/, URLs from the two label files.
fn htmldate(out: &mut Vec<(String, Value)>) {
    let base = corpora().join("htmldate-eval/tests");
    let mut urls: HashMap<String, String> = HashMap::new();
    for labels in ["eval_default.json", "eval_mediacloud_2020.json"] {
        // Python's JSON dialect: pages without a gold date say NaN.
        let text = String::from_utf8(read(&base.join(labels)))
            .unwrap()
            .replace(": NaN", ": null");
        let labels: Value = serde_json::from_str(&text).unwrap();
        for (url, item) in labels.as_object().unwrap() {
            if let Some(f) = item["file"].as_str() {
                urls.insert(f.to_string(), url.clone());
            }
        }
    }
    for page in files(&base, &[".html.gz", ".htm.gz"]) {
        let name = page.file_stem().unwrap().to_string_lossy().into_owned();
        let url = urls
            .get(&name)
            .cloned()
            .unwrap_or_else(|| synthetic_url("htmldate", &page, &base));
        out.push((
            "htmldate".into(),
            html_event(&url, "2026-06-01T00:00:00Z", &read(&page)),
        ));
    }
}

/// Scrapinghub AEB: html/<id>.html.gz, URLs from ground-truth.json.
fn aeb(out: &mut Vec<(String, Value)>) {
    let base = corpora().join("scrapinghub-aeb");
    let truth = json_file(&base.join("ground-truth.json"));
    for page in files(&base.join("html"), &[".html.gz"]) {
        let name = page.file_name().unwrap().to_string_lossy();
        let id = name.trim_end_matches(".html.gz");
        let url = truth[id]["url"]
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| synthetic_url("aeb", &page, &base));
        out.push((
            "scrapinghub-aeb".into(),
            html_event(&url, "2020-01-01T00:00:00Z", &read(&page)),
        ));
    }
}

/// Mozilla Readability's test pages: test-pages/<name>/source.html.gz.
fn readability(out: &mut Vec<(String, Value)>) {
    let base = corpora().join("mozilla-readability-testpages/test/test-pages");
    for page in files(&base, &["source.html.gz", "source.html"]) {
        let url = synthetic_url("readability", page.parent().unwrap(), &base);
        out.push((
            "mozilla-readability".into(),
            html_event(&url, "2024-01-01T00:00:00Z", &read(&page)),
        ));
    }
}

/// Indonesian scraper fixtures: article and main pages (HTML and RSS).
fn id_news(out: &mut Vec<(String, Value)>) {
    let base = corpora().join("id-news-scraper-fixtures");
    let mut urls: HashMap<String, String> = HashMap::new();
    for r in json_file(&base.join("expected.json")).as_array().unwrap() {
        if let (Some(f), Some(u)) = (r["fixture"].as_str(), r["expected"]["url"].as_str()) {
            urls.insert(f.to_string(), u.to_string());
        }
    }
    for page in files(&base.join("fixtures"), &[".html", ".xml", ".rss"]) {
        let rel = page
            .strip_prefix(&base)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let url = urls
            .get(&rel)
            .cloned()
            .unwrap_or_else(|| synthetic_url("id-news", &page, &base));
        out.push((
            "id-news-scraper".into(),
            html_event(&url, "2017-05-15T00:00:00Z", &read(&page)),
        ));
    }
}

/// IndoSum articles as text pages in the lab's site templates (caption, title,
/// date line, body, a dated sidebar of other titles), each crawled three
/// times: the page, a recrawl with its last paragraph edited, and a copy in
/// another site's template. Fetched after every other corpus's pages: the dedup
/// TTL runs on event time, and an entry older than the newest event seen minus
/// the TTL is expired at once.
fn indosum(out: &mut Vec<(String, Value)>) {
    use warta_lab::corpus::{load_indosum, render_page, templates};
    let articles = load_indosum(&corpora().join("indosum-dev/indosum")).expect("IndoSum");
    let templates = templates();
    let titles: Vec<&str> = articles.iter().map(|a| a.title.as_str()).collect();
    let at = |h: u32| {
        chrono::DateTime::parse_from_rfc3339(&format!("2026-12-01T{h:02}:15:00Z"))
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    for (i, a) in articles.iter().enumerate() {
        let sidebar: Vec<&str> = (1..=10)
            .map(|k| titles[(i + k * 37) % titles.len()])
            .collect();
        let (t, other) = (
            &templates[i % templates.len()],
            &templates[(i + 1) % templates.len()],
        );
        let mut edited = a.paragraphs.clone();
        if let Some(last) = edited.last_mut() {
            last.push_str(" Berita ini telah diperbarui dengan keterangan tambahan dari redaksi.");
        }
        let url = format!("https://{}/berita/{}", t.site, a.id);
        for (what, template, url, paragraphs, fetched) in [
            ("indosum", t, url.clone(), &a.paragraphs, at(5)),
            ("indosum recrawl", t, url, &edited, at(9)),
            (
                "indosum copy",
                other,
                format!("https://{}/salinan/{}", other.site, a.id),
                &a.paragraphs,
                at(10),
            ),
        ] {
            let content = render_page(template, &a.title, paragraphs, &sidebar, fetched);
            let mut event = json!({
                "url": url,
                "fetched_at": fetched.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "content": content,
            });
            if what == "indosum copy" {
                event["language"] = json!("id-ID");
                event["metadata"] = json!({"crawler": "schemas-test", "copy_of": a.url});
            }
            out.push((what.into(), event));
        }
    }
}

/// One input per rejection code `warta process` can give (`output_rejected`
/// needs a broker); `true` when the raw-pages schema can tell it is invalid.
fn bad_inputs() -> Vec<(&'static str, Vec<u8>, bool)> {
    vec![
        ("invalid_utf8", b"{\"url\":\"https://a.id/\xff\",\"content\":\"x\"}".to_vec(), false),
        ("invalid_json", b"{not json".to_vec(), false),
        ("not_an_object", b"[1,2]".to_vec(), true),
        ("missing_url", br#"{"content":"x"}"#.to_vec(), true),
        ("invalid_url", br#"{"url":"/relative","content":"x"}"#.to_vec(), true),
        ("invalid_url", br#"{"url":"ftp://a.id/x","content":"x"}"#.to_vec(), true),
        ("missing_content", br#"{"url":"https://a.id/x"}"#.to_vec(), true),
        ("empty_content", br#"{"url":"https://a.id/x","content":" \n "}"#.to_vec(), true),
        (
            "content_too_large",
            format!(r#"{{"url":"https://a.id/x","content":"{}"}}"#, "a".repeat(21 << 19)).into_bytes(),
            false,
        ),
        (
            "input_too_large",
            format!(r#"{{"url":"https://a.id/x","content":"{}"}}"#, "a".repeat(12 << 20)).into_bytes(),
            false,
        ),
        (
            "url_too_long",
            format!(r#"{{"url":"https://a.id/{}","content":"x"}}"#, "a".repeat(9000)).into_bytes(),
            false,
        ),
        (
            "ambiguous_content",
            br#"{"url":"https://a.id/x","content":"x","content_base64":"eA=="}"#.to_vec(),
            true,
        ),
        (
            "fetched_at_in_future",
            br#"{"url":"https://a.id/x","content":"x","fetched_at":"2999-01-01T00:00:00Z"}"#.to_vec(),
            false,
        ),
        (
            // This run's budget is WARTA__PARSE__MAX_WORK_UNITS=5000.
            "parse_budget_exceeded",
            json!({"url": "https://a.id/panjang", "content": (1..=3000)
                .map(|i| format!("Baris nomor {i} dari halaman yang sangat panjang."))
                .collect::<Vec<_>>()
                .join("\n")})
            .to_string()
            .into_bytes(),
            false,
        ),
        ("invalid_field", br#"{"url":"https://a.id/x","content":"x","fetched_at":"kemarin"}"#.to_vec(), true),
        ("invalid_field", br#"{"url":"https://a.id/x","content":"x","timezone":"Mars/Base"}"#.to_vec(), false),
        ("invalid_field", br#"{"url":5,"content":"x"}"#.to_vec(), true),
        ("invalid_field", br#"{"url":"https://a.id/x","content_base64":"%%%"}"#.to_vec(), true),
        ("unsupported_content_type", br#"{"url":"https://a.id/x","content":"x","content_type":"image/png"}"#.to_vec(), false),
        ("no_content", br#"{"url":"https://a.id/x","content":"<html><body><script>x()</script></body></html>"}"#.to_vec(), false),
    ]
}

#[test]
fn every_record_of_every_corpus_is_valid_against_its_topics_schema() {
    let started = std::time::Instant::now();
    let validators = Validators::new();

    // Inputs, in order: examples, seed, corpora, bad inputs.
    let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for line in std::fs::read_to_string(root.join("examples/pages.jsonl"))
        .unwrap()
        .lines()
    {
        inputs.push(("examples/pages.jsonl".into(), line.as_bytes().to_vec()));
    }
    let seed = std::fs::read_to_string(shared().join("seeds/000_dead9d66069288af.txt"))
        .expect("the seed in ../shared/seeds");
    inputs.push((
        "seed".into(),
        json!({"url": "https://rmol.id/read/2021/10/08/kazakhstan-lsm-aktif",
               "fetched_at": "2025-12-31T05:15:00Z", "content": seed})
        .to_string()
        .into_bytes(),
    ));
    let mut pages = Vec::new();
    fundus(&mut pages);
    htmldate(&mut pages);
    aeb(&mut pages);
    readability(&mut pages);
    id_news(&mut pages);
    indosum(&mut pages);
    let mut per_corpus: BTreeMap<String, usize> = BTreeMap::new();
    for (corpus, event) in pages {
        *per_corpus.entry(corpus.clone()).or_default() += 1;
        inputs.push((corpus, event.to_string().into_bytes()));
    }
    let bad_from = inputs.len();
    for (code, bytes, _) in bad_inputs() {
        inputs.push((format!("bad input ({code})"), bytes));
    }

    // `warta process` runs side by side: the IndoSum pages (their recrawls and
    // copies need one dedup state), the other pages, and the bad inputs (with a
    // small parse budget, so one of them exceeds it).
    let run_of = |what: &str| match what {
        w if w.starts_with("indosum") => 0,
        w if w.starts_with("bad input") => 2,
        _ => 1,
    };
    let dir = std::env::temp_dir().join(format!("warta-schemas-records-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = [Vec::new(), Vec::new(), Vec::new()];
    // (run, 1-based line in that run's file) of each input.
    let mut place = Vec::with_capacity(inputs.len());
    let mut lines = [0u64; 3];
    for (what, bytes) in &inputs {
        let run = run_of(what);
        files[run].extend_from_slice(bytes);
        files[run].push(b'\n');
        lines[run] += 1;
        place.push((run, lines[run]));
    }
    let children: Vec<_> = files
        .iter()
        .enumerate()
        .map(|(run, file)| {
            let input = dir.join(format!("inputs-{run}.jsonl"));
            std::fs::write(&input, file).unwrap();
            Command::new(env!("CARGO_BIN_EXE_warta"))
                .arg("process")
                .arg(&input)
                .arg("--out")
                .arg(dir.join(format!("out-{run}")))
                .env_remove("RUST_LOG")
                .envs((run == 2).then_some(("WARTA__PARSE__MAX_WORK_UNITS", "5000")))
                .spawn()
                .expect("run warta process")
        })
        .collect();
    for mut child in children {
        let status = child.wait().unwrap();
        assert!(status.success(), "warta process failed: {status}");
    }
    let processed = started.elapsed();

    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rejected_lines: HashMap<(usize, u64), String> = HashMap::new();
    let mut failures = Vec::new();
    for run in 0..3 {
        for topic in [
            "clean-articles",
            "clean-headlines",
            "page-duplicates",
            "raw-pages-dlq",
        ] {
            let path = dir.join(format!("out-{run}/{topic}.jsonl"));
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for (i, line) in text.lines().enumerate() {
                let record: Value = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("{} line {}: not JSON: {e}", path.display(), i + 1));
                *counts.entry(topic).or_default() += 1;
                let errors = validators.errors(topic, &record);
                if !errors.is_empty() && failures.len() < 20 {
                    failures.push(format!(
                        "{} line {}: {}\n    {}",
                        path.display(),
                        i + 1,
                        errors.join("\n    "),
                        schemas_support::truncate(&record.to_string(), 600)
                    ));
                }
                if topic == "raw-pages-dlq" {
                    let line = record["source"]["line"].as_u64().expect("source.line");
                    rejected_lines
                        .insert((run, line), record["code"].as_str().unwrap().to_string());
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "invalid records:\n{}",
        failures.join("\n")
    );

    // The input schema agrees with warta: every accepted input is valid; the
    // bad inputs are rejected with their code, and invalid where the schema
    // can tell.
    let bad = bad_inputs();
    let mut invalid_inputs = Vec::new();
    for (i, (what, bytes)) in inputs.iter().enumerate() {
        let (run, line) = place[i];
        let code = rejected_lines.get(&(run, line));
        if i >= bad_from {
            let (want, _, schema_can_tell) = &bad[i - bad_from];
            assert_eq!(code.map(String::as_str), Some(*want), "{what}: line {line}");
            if *schema_can_tell {
                let v: Value = serde_json::from_slice(bytes).unwrap();
                assert!(
                    !validators.errors("raw-pages", &v).is_empty(),
                    "{what}: the raw-pages schema accepts an input warta rejects"
                );
            }
            continue;
        }
        if let Some(code) = code.filter(|c| *c != "no_content") {
            // examples/pages.jsonl shows an invalid input on purpose, and one
            // htmldate label is an `xhttps://` URL: the schema must say so too.
            let v: Option<Value> = serde_json::from_slice(bytes).ok();
            assert!(
                v.is_some_and(|v| !validators.errors("raw-pages", &v).is_empty()),
                "{what} (line {line}) was rejected ({code}) but is valid against raw-pages"
            );
            invalid_inputs.push(format!("{what} line {line}: {code}"));
        }
        if code.is_none() {
            let v: Value = serde_json::from_slice(bytes).unwrap();
            validators.assert_valid("raw-pages", &v, &format!("{what} input (line {line})"));
        }
    }

    let no_content = rejected_lines
        .values()
        .filter(|c| *c == "no_content")
        .count();
    eprintln!(
        "inputs: {} ({per_corpus:?}, {} bad); records: {counts:?}; corpus pages with no content: {}; \
         other rejected inputs: {invalid_inputs:?}; warta process {:.1}s, total {:.1}s",
        inputs.len(),
        bad.len(),
        no_content.saturating_sub(1),
        processed.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    for topic in ["clean-articles", "clean-headlines", "page-duplicates"] {
        assert!(
            counts.get(topic).copied().unwrap_or(0) >= 1500,
            "{topic}: {} records, fewer than 1,500 ({counts:?})",
            counts.get(topic).copied().unwrap_or(0)
        );
    }
    // Dead letters are few by nature (the corpora are real pages): every code
    // `warta process` can give is there, from the bad inputs.
    let codes: std::collections::BTreeSet<&str> =
        rejected_lines.values().map(String::as_str).collect();
    for code in warta::event::RejectCode::ALL {
        // Kafka mode only (the broker refused the outputs), and a serializer
        // defect no input can provoke.
        if !matches!(
            code,
            warta::event::RejectCode::OutputRejected
                | warta::event::RejectCode::OutputUnserializable
        ) {
            assert!(
                codes.contains(code.as_str()),
                "no dead letter with code {code}"
            );
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

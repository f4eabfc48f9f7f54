//! Helpers shared by the integration tests: running the real `warta` binary and
//! reading its tagged JSONL output.

#![allow(dead_code)]

pub mod cluster;
pub mod kafka;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use serde_json::Value;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared`, where the corpora and the seed live.
pub fn shared() -> PathBuf {
    root().join("../shared")
}

/// Settings from the embedded defaults and these `WARTA__…` variables; the
/// real environment is not read, so tests do not race on it.
pub fn settings_from_env(env: BTreeMap<String, String>) -> Arc<warta::config::Settings> {
    Arc::new(
        warta::config::Settings::load(warta::config::Sources {
            file: None,
            env: Some(env),
        })
        .expect("settings"),
    )
}

/// What one `warta` run printed.
pub struct Run {
    pub status: i32,
    pub records: Vec<Value>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `warta process -` with `stdin` and extra environment variables.
pub fn process_stdin(stdin: &[u8], env: &[(&str, &str)]) -> Run {
    run_warta(&["process", "-"], Some(stdin), env)
}

pub fn run_warta(args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_warta"));
    cmd.args(args)
        .current_dir(root())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("RUST_LOG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn warta");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        let input = input.to_vec();
        // Write from another thread so a large input cannot deadlock on a full pipe.
        std::thread::spawn(move || {
            let _ = pipe.write_all(&input);
        });
    }
    let out = child.wait_with_output().expect("wait for warta");
    let stdout = String::from_utf8(out.stdout).expect("stdout is UTF-8");
    let records = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("every output line is JSON"))
        .collect();
    Run {
        status: out.status.code().unwrap_or(-1),
        records,
        stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The records sent to `topic`, values only.
pub fn on_topic<'a>(records: &'a [Value], topic: &str) -> Vec<&'a Value> {
    records
        .iter()
        .filter(|r| r["topic"] == topic)
        .map(|r| &r["value"])
        .collect()
}

/// Compares `actual` with the golden file, or rewrites it when
/// `UPDATE_GOLDEN=1`. Compares line by line as JSON for a readable diff.
pub fn assert_golden(path: &Path, actual: &str) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "read {}: {e} (run with UPDATE_GOLDEN=1 to create)",
            path.display()
        )
    });
    let exp: Vec<&str> = expected.lines().collect();
    let act: Vec<&str> = actual.lines().collect();
    for (i, (e, a)) in exp.iter().zip(&act).enumerate() {
        let ev: Value = serde_json::from_str(e).expect("golden line is JSON");
        let av: Value = serde_json::from_str(a).expect("output line is JSON");
        assert_eq!(
            av,
            ev,
            "{} line {} differs\nexpected: {e}\nactual:   {a}",
            path.display(),
            i + 1
        );
    }
    assert_eq!(
        act.len(),
        exp.len(),
        "{}: line count differs",
        path.display()
    );
}

/// The seed event (`tests/fixtures/seed.jsonl`): the page this project started
/// from (`../shared/seeds/000_dead9d66069288af.txt`) with its URL and fetch time.
pub fn seed_event() -> Value {
    let line =
        std::fs::read_to_string(root().join("tests/fixtures/seed.jsonl")).expect("seed fixture");
    serde_json::from_str(line.trim()).expect("seed fixture is JSON")
}

/// The seed page's text.
pub fn seed_text() -> String {
    seed_event()["content"]
        .as_str()
        .expect("content")
        .to_string()
}

/// A raw page event as one JSONL line.
pub fn page_line(url: &str, fetched_at: &str, content: &str) -> String {
    serde_json::json!({"url": url, "fetched_at": fetched_at, "content": content}).to_string()
}

//! Fuzz target for a whole input event: arbitrary bytes as one raw `raw-pages`
//! record through the pipeline (JSON validation, both parsers, fingerprinting
//! and dedup), twice, so the second pass meets the state the first left. Every
//! input must end in exactly one outcome; a panic, a slow input (-timeout) or a
//! memory blow-up (-rss_limit_mb) is a finding.

#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use warta::config::Settings;
use warta::event::SourceRef;
use warta::pipeline::Pipeline;

fn settings() -> Arc<Settings> {
    static SETTINGS: OnceLock<Arc<Settings>> = OnceLock::new();
    SETTINGS
        .get_or_init(|| {
            let mut s = Settings::defaults().expect("the embedded defaults are valid");
            // A small index: the default allocates for a million articles.
            s.dedup.max_articles = 1024;
            s.dedup.max_headlines = 1024;
            Arc::new(s)
        })
        .clone()
}

fuzz_target!(|data: &[u8]| {
    let now = chrono::DateTime::from_timestamp(1_767_158_100, 0).unwrap_or_default();
    let Ok(mut pipeline) = Pipeline::new(settings()) else {
        return;
    };
    for line in 1..=2 {
        let processed = pipeline.process(data, SourceRef::Line { line }, now);
        assert!(
            !processed.records.is_empty()
                || matches!(
                    processed.outcome,
                    warta::pipeline::Outcome::Article { .. }
                        | warta::pipeline::Outcome::HeadlinesOnly { .. }
                ),
            "an input left no trace"
        );
    }
});

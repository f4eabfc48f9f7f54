//! The dedup accuracy targets, checked on the labelled set `warta-lab eval dedup`
//! builds from IndoSum (../shared/corpora/indosum-dev): precision ≥ 0.99, recall
//! ≥ 0.95 on positives keeping ≥ 80% of the text, and no hard negative flagged,
//! all at the default settings.

use std::sync::Arc;

use warta::config::Settings;
use warta_lab::eval::{dedup, EvalOptions};

#[test]
fn default_threshold_meets_the_accuracy_targets() {
    let settings = Arc::new(Settings::defaults().unwrap());
    let corpus = warta_lab::repo_root().join(warta_lab::corpus::INDOSUM_DIR);
    let report = dedup(settings, &corpus, &EvalOptions::default()).expect("evaluation runs");
    println!("{report}");
    assert!(
        report.positives >= 6 * 1000,
        "at least 1,000 articles transformed 6 ways"
    );
    let s = report.at_threshold;
    assert!(s.precision >= 0.99, "precision {}", s.precision);
    assert!(
        s.recall_kept80 >= 0.95,
        "recall on positives keeping ≥80%: {}",
        s.recall_kept80
    );
    assert_eq!(s.hard_negatives_flagged, 0, "hard negatives flagged");
    for (name, _, _, recall, _) in &report.per_transform {
        assert!(*recall >= 0.9, "{name}: recall {recall}");
    }
}

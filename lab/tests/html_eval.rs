//! Quality floors of the HTML parser on the public benchmarks in
//! ../shared/corpora, measured with each benchmark's own metric (see
//! `warta-lab eval html`). A change that loses more than 0.005 of AEB body F1, or
//! drops the date or title rates below their landed figures, fails here.
//!
//! Landed figures (release build, `warta-lab eval html`): AEB F1 0.974, htmldate
//! day-level accuracy 0.914, Fundus title 0.901 (227/252) and date 0.984 (248/252).

use warta_lab::eval_html;

const AEB_F1_LANDED: f64 = 0.974;
const HTMLDATE_ACCURACY_FLOOR: f64 = 0.909;
const FUNDUS_DATE_FLOOR: f64 = 0.979;
const FUNDUS_TITLE_FLOOR: f64 = 0.896;

fn corpora() -> std::path::PathBuf {
    warta_lab::repo_root().join(warta_lab::eval_html::CORPORA_DIR)
}

#[test]
fn aeb_body_f1_holds() {
    let r = eval_html::aeb(&corpora().join("scrapinghub-aeb"), &["trafilatura"]).unwrap();
    assert_eq!(r.pages, 181);
    assert!(
        r.f1 >= AEB_F1_LANDED - 0.005,
        "AEB F1 {:.4} fell below {:.3} - 0.005\n{r}",
        r.f1,
        AEB_F1_LANDED
    );
    // The metric itself: trafilatura's stored output scores its published 0.958 ± 0.002.
    let (_, _, _, f1) = r.peers[0];
    assert!(
        (f1 - 0.958).abs() < 0.003,
        "metric drifted: trafilatura {f1}"
    );
}

#[test]
fn htmldate_accuracy_holds() {
    let r = eval_html::htmldate(&corpora().join("htmldate-eval")).unwrap();
    assert!(r.pages >= 990, "{r}");
    assert!(r.accuracy() >= HTMLDATE_ACCURACY_FLOOR, "{r}");
}

#[test]
fn fundus_titles_and_dates_hold() {
    let dir = corpora().join("fundus-parser-fixtures");
    let r = eval_html::fundus(&dir).unwrap();
    // Every fixture row is scored: a page warta cannot take is a miss.
    let rows = std::fs::read_to_string(dir.join("version_to_html_mapping.tsv"))
        .unwrap()
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .count();
    assert_eq!(r.pages, rows, "{r}");
    let rate = |n: usize| n as f64 / r.pages as f64;
    assert!(rate(r.date_match) >= FUNDUS_DATE_FLOOR, "{r}");
    assert!(rate(r.title_match) >= FUNDUS_TITLE_FLOOR, "{r}");
}

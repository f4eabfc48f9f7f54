//! warta-lab: the tooling beside the product. Nothing here runs in production;
//! the `warta` crate does not know this crate exists.
//!
//! # Layout
//! - `main.rs`: the `warta-lab` command line (`eval dedup`, `eval html`,
//!   `bench parse|restore|changelog|store`).
//! - [`corpus`]: builds text pages from the IndoSum corpus for benches, the
//!   evaluation and warta's own Kafka and Redis tests.
//! - [`eval`]: `eval dedup`, precision/recall of dedup on a labelled set.
//! - [`eval_html`]: `eval html`, the HTML parser on AEB, htmldate and Fundus.
//! - [`eval_body`]: `eval html --corpus body`, body extraction on AEB, Fundus
//!   and the Readability pages, tuning and validation halves, and the ablation
//!   of content rules.
//! - [`bench`]: `bench ...`, throughput figures that criterion does not give.
//! - `benches/`: the criterion benches (parse, HTML, dedup, metrics).
//! - `peers/`: the same AEB pages through trafilatura, side by side.
//!
//! Paths such as [`corpus::INDOSUM_DIR`] are relative to the repository root,
//! where the command line runs; tests and benches, which cargo runs in `lab/`,
//! join them to [`repo_root`].

pub mod bench;
pub mod corpus;
pub mod eval;
pub mod eval_body;
pub mod eval_html;

/// The repository root (the product crate's directory), for tests and benches
/// whose working directory is `lab/`.
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

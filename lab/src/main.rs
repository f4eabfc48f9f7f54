//! The `warta-lab` command line: evaluations on public corpora and benchmark
//! commands. Like warta's own binary, the only place that uses `anyhow`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use warta::config::{Settings, Sources};

// The product binary runs on mimalloc; measure the same allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Writes `text` to stdout, returning an error instead of panicking when stdout
/// is closed early (`warta-lab eval html | head`).
fn out(text: std::fmt::Arguments<'_>) -> anyhow::Result<()> {
    use std::io::Write as _;
    std::io::stdout()
        .lock()
        .write_fmt(text)
        .context("writing to stdout")
}

/// warta-lab: warta measured on public corpora and benchmarks.
///
/// Paths default to `../shared/...`, relative to the repository root.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// The warta configuration the commands run with (as `warta --config`).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Benchmarks: `warta-lab bench parse FILE` runs the pipeline over a JSONL
    /// file in memory, on one thread, and prints the median time per page.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Evaluations: `warta-lab eval dedup` measures near-duplicate detection on
    /// a labelled set built from IndoSum and prints a threshold sweep.
    #[command(subcommand)]
    Eval(EvalCommand),
}

#[derive(Debug, Subcommand)]
enum EvalCommand {
    /// Precision and recall per transformation, and a threshold sweep.
    Dedup {
        /// The IndoSum folder (dev.*.jsonl.gz).
        #[arg(long, default_value = warta_lab::corpus::INDOSUM_DIR)]
        corpus: PathBuf,
        /// Articles indexed as originals.
        #[arg(long, default_value_t = 1200)]
        originals: usize,
        /// Articles used as negatives.
        #[arg(long, default_value_t = 1200)]
        negatives: usize,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// The HTML parser on public benchmarks: `aeb` (body P/R/F1, worst pages),
    /// `htmldate` (date accuracy), `fundus` (title and date matches), `body`
    /// (body P/R/F1 on AEB, Fundus and the Readability pages, tuning and
    /// validation halves), or `all`.
    ///
    /// WARTA_LAB_DISABLE_RULES=Rule,Rule switches content rules off for the
    /// run (names as in the ablation table).
    Html {
        #[arg(long, default_value = "all")]
        corpus: String,
        /// The folder holding the corpora.
        #[arg(long, default_value = warta_lab::eval_html::CORPORA_DIR)]
        corpora: PathBuf,
        /// Also list every miss.
        #[arg(long)]
        verbose: bool,
        /// Write the AEB bodies warta extracted to FILE, in AEB's output format
        /// (with `body`: every corpus's bodies, in lab/peers/bodies.py's format).
        #[arg(long, value_name = "FILE")]
        predictions: Option<PathBuf>,
        /// `body`: a peer's bodies to score beside warta's, as written by
        /// lab/peers/bodies.py.
        #[arg(long, value_name = "FILE")]
        peer_bodies: Option<PathBuf>,
        /// `body`: also rerun with each content rule switched off.
        #[arg(long)]
        ablation: bool,
    },
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Parse + build records for every line of FILE, ROUNDS times.
    Parse {
        #[arg(value_name = "FILE")]
        input: PathBuf,
        #[arg(long, default_value_t = 200)]
        rounds: usize,
    },
    /// Restore speed of the dedup state: builds a changelog of ARTICLES live
    /// articles (plus headlines and churn) and times decoding it and loading
    /// the index, in memory; with --mock, through a MockCluster topic.
    Restore {
        #[arg(long, default_value_t = 1_000_000)]
        articles: usize,
        #[arg(long, default_value_t = 0)]
        headlines: usize,
        /// Extra superseded or tombstoned records, as a fraction of ARTICLES.
        #[arg(long, default_value_t = 0.0)]
        churn: f64,
        /// Produce the changelog to librdkafka's MockCluster and time
        /// `warta run`'s restore reading it back.
        #[arg(long)]
        mock: bool,
        /// Partitions of the mock topic (it keeps only 5 MB per partition).
        #[arg(long, default_value_t = 64)]
        partitions: i32,
    },
    /// The compacted changelog stays bounded: ARTICLES distinct pages with
    /// `dedup.max_articles = ARTICLES`, then ARTICLES × CHURN more (updates and
    /// new URLs), the TTL expiring the oldest; compacts the written records
    /// as Kafka does and compares them with the index.
    Changelog {
        #[arg(long, default_value_t = 1_000_000)]
        articles: usize,
        #[arg(long, default_value_t = 1.0)]
        churn: f64,
    },
    /// The dedup stage alone with the in-memory index and with the Redis store
    /// (`[dedup.redis]` of the configuration), side by side: ORIGINALS IndoSum
    /// articles, each one's recrawl and a copy; ROUNDS rounds of each,
    /// alternating; prints the medians and their ratio.
    Store {
        #[arg(long, default_value_t = 1000)]
        originals: usize,
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// The IndoSum directory.
        #[arg(long, default_value = "../shared/corpora/indosum-dev/indosum")]
        corpus: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let sources = Sources {
        file: cli.config.as_deref(),
        env: None,
    };
    let result = Settings::load(sources)
        .context("configuration")
        .and_then(|settings| run(cli.command, settings));
    if let Err(e) = result {
        eprintln!("warta-lab: error: {e:#}");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Eval(EvalCommand::Dedup {
            corpus,
            originals,
            negatives,
            seed,
        }) => {
            let options = warta_lab::eval::EvalOptions {
                originals,
                negatives,
                seed,
                ..Default::default()
            };
            let report = warta_lab::eval::dedup(Arc::new(settings), &corpus, &options)?;
            out(format_args!("{report}"))?;
            Ok(())
        }
        Command::Eval(EvalCommand::Html {
            corpus,
            corpora,
            verbose,
            predictions,
            peer_bodies,
            ablation,
        }) => {
            let all = corpus == "all";
            anyhow::ensure!(
                all || ["aeb", "htmldate", "fundus", "body"].contains(&corpus.as_str()),
                "unknown corpus {corpus:?}: aeb, htmldate, fundus, body or all"
            );
            if let Ok(names) = std::env::var("WARTA_LAB_DISABLE_RULES") {
                let mut rules = Vec::new();
                for name in names.split(',').filter(|n| !n.is_empty()) {
                    let rule = warta::parse::html::content::Rule::ALL
                        .into_iter()
                        .find(|r| format!("{r:?}") == name)
                        .with_context(|| format!("WARTA_LAB_DISABLE_RULES: no rule {name:?}"))?;
                    rules.push(rule);
                }
                warta::parse::html::content::set_disabled_rules(&rules);
            }
            if all || corpus == "aeb" {
                let peers = ["trafilatura", "readability", "rs_trafilatura"];
                let r = warta_lab::eval_html::aeb(&corpora.join("scrapinghub-aeb"), &peers)?;
                out(format_args!("{r}"))?;
                if let Some(path) = &predictions {
                    let json = serde_json::to_vec(&r.predictions)?;
                    std::fs::write(path, json)
                        .with_context(|| format!("writing {}", path.display()))?;
                }
                if verbose {
                    for p in &r.per_page {
                        out(format_args!("  page {:.3} {} {}\n", p.f1, p.id, p.url))?;
                    }
                }
            }
            if all || corpus == "body" {
                use warta_lab::eval_body;
                let pages = eval_body::load(&corpora)?;
                let peer = peer_bodies
                    .as_ref()
                    .map(|p| -> anyhow::Result<serde_json::Value> {
                        let bytes =
                            std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
                        Ok(serde_json::from_slice(&bytes)?)
                    })
                    .transpose()?;
                let r = eval_body::evaluate(&pages, peer.as_ref().map(|v| ("trafilatura", v)));
                if let Some(path) = predictions.as_ref().filter(|_| corpus == "body") {
                    let mut json = serde_json::Map::new();
                    for p in &r.pages {
                        let by_corpus = json
                            .entry(p.corpus.name())
                            .or_insert_with(|| serde_json::Value::Object(Default::default()));
                        by_corpus[&p.key] = serde_json::Value::String(p.body.clone());
                    }
                    std::fs::write(path, serde_json::to_vec(&json)?)
                        .with_context(|| format!("writing {}", path.display()))?;
                }
                if verbose {
                    out(format_args!("{r:#}"))?;
                } else {
                    out(format_args!("{r}"))?;
                }
                if ablation {
                    let rows = eval_body::ablation(&pages, &r);
                    out(format_args!("\n{}", eval_body::ablation_table(&rows)))?;
                }
            }
            if all || corpus == "htmldate" {
                let r = warta_lab::eval_html::htmldate(&corpora.join("htmldate-eval"))?;
                if verbose {
                    out(format_args!("{r:#}"))?;
                } else {
                    out(format_args!("{r}"))?;
                }
            }
            if all || corpus == "fundus" {
                let r = warta_lab::eval_html::fundus(&corpora.join("fundus-parser-fixtures"))?;
                if verbose {
                    out(format_args!("{r:#}"))?;
                } else {
                    out(format_args!("{r}"))?;
                }
            }
            Ok(())
        }
        Command::Bench(BenchCommand::Restore {
            articles,
            headlines,
            churn,
            mock,
            partitions,
        }) => {
            let result = if mock {
                warta_lab::bench::restore_mock(&settings, articles, headlines, churn, partitions)?
            } else {
                warta_lab::bench::restore(&settings, articles, headlines, churn)?
            };
            out(format_args!("{result}\n"))?;
            Ok(())
        }
        Command::Bench(BenchCommand::Changelog { articles, churn }) => {
            out(format_args!(
                "{}\n",
                warta_lab::bench::changelog(&settings, articles, churn)
            ))?;
            Ok(())
        }
        Command::Bench(BenchCommand::Store {
            originals,
            rounds,
            corpus,
        }) => {
            let result = warta_lab::bench::store(&settings, &corpus, originals, rounds)?;
            out(format_args!("{result}\n"))?;
            Ok(())
        }
        Command::Bench(BenchCommand::Parse { input, rounds }) => {
            let result = warta_lab::bench::parse(Arc::new(settings), &input, rounds)?;
            out(format_args!("{result}\n"))?;
            Ok(())
        }
    }
}

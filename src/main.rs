//! The `warta` command line. The only place that uses `anyhow`: every module
//! returns its own typed error, and errors are printed here with their full chain.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use warta::config::{LogFormat, Settings, Sources};

// Parsing allocates many small strings per page; mimalloc's thread-local free
// lists make that markedly cheaper than glibc malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use warta::process;

/// `print!` that returns an error instead of panicking when stdout is closed
/// early (`warta eval html | head`).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*).context("writing to stdout")?
    }};
}
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*).context("writing to stdout")?
    }};
}

/// warta: raw crawled news pages in, clean article and headline events out.
///
/// Exit codes: 0 success (rejected inputs are outcomes, not failures);
/// 1 runtime or configuration error; 2 usage error.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    /// Configuration file, layered over the embedded defaults and under
    /// WARTA__SECTION__KEY environment variables.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the pipeline over a JSONL file of raw pages (or stdin), without Kafka.
    Process {
        /// JSONL input, one raw page per line; `-` or nothing reads stdin. A `.txt`
        /// file is one plain-text page and needs --url.
        #[arg(value_name = "FILE|-")]
        input: Option<PathBuf>,
        /// Treat the input as one plain-text page with this URL.
        #[arg(long)]
        url: Option<String>,
        /// `fetched_at` (RFC 3339) for a plain-text page; defaults to now.
        #[arg(long, requires = "url")]
        fetched_at: Option<String>,
        /// Write one `<topic>.jsonl` per topic into DIR instead of tagged records
        /// to stdout.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Run the Kafka service: consume raw pages in a consumer group and publish
    /// clean articles, headlines, duplicates and dead letters.
    Run,
    /// Validate the configuration and print the effective settings.
    CheckConfig,
    /// Benchmarks: `warta bench parse FILE` runs the pipeline over a JSONL file
    /// in memory, on one thread, and prints the median time per page.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Evaluations: `warta eval dedup` measures near-duplicate detection on a
    /// labelled set built from IndoSum and prints a threshold sweep.
    #[command(subcommand)]
    Eval(EvalCommand),
}

#[derive(Debug, Subcommand)]
enum EvalCommand {
    /// Precision and recall per transformation, and a threshold sweep.
    Dedup {
        /// The IndoSum folder (dev.*.jsonl.gz).
        #[arg(long, default_value = warta::corpus::INDOSUM_DIR)]
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
    /// `htmldate` (date accuracy), `fundus` (title and date matches), or `all`.
    Html {
        #[arg(long, default_value = "all")]
        corpus: String,
        /// The folder holding the corpora.
        #[arg(long, default_value = warta::eval_html::CORPORA_DIR)]
        corpora: PathBuf,
        /// Also list every miss.
        #[arg(long)]
        verbose: bool,
        /// Write the AEB bodies warta extracted to FILE, in AEB's output format.
        #[arg(long, value_name = "FILE")]
        predictions: Option<PathBuf>,
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
    /// End to end against a broker: seed-sized pages at RATE/s for SECONDS,
    /// `warta run` in-process; prints throughput and produce→output latency.
    /// Delivery mode, batch size and workers come from the configuration.
    Kafka {
        #[arg(long, default_value = "127.0.0.1:9092", conflicts_with = "mock")]
        brokers: String,
        /// Use librdkafka's in-process MockCluster instead of --brokers.
        #[arg(long)]
        mock: bool,
        #[arg(long, default_value_t = 1000)]
        rate: u32,
        #[arg(long, default_value_t = 10)]
        seconds: u32,
        /// Run N rounds with the metrics exporter on and N with it off,
        /// alternating, and print the median throughput of each and their ratio.
        #[arg(long, value_name = "N")]
        compare_metrics: Option<u32>,
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
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("warta: error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(Sources {
        file: cli.config.as_deref(),
        env: None,
    })
    .context("configuration")?;
    init_logging(&settings);
    match cli.command {
        Command::Run => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            let stats = runtime.block_on(warta::app::run(Arc::new(settings), shutdown_signal()))?;
            eprintln!(
                "warta: {} batches_committed={} batches_aborted={}",
                stats.summary, stats.batches_committed, stats.batches_aborted
            );
            Ok(())
        }
        Command::CheckConfig => {
            out!("{}", settings.to_toml());
            eprintln!("warta: configuration is valid");
            Ok(())
        }
        Command::Eval(EvalCommand::Dedup {
            corpus,
            originals,
            negatives,
            seed,
        }) => {
            let options = warta::eval::EvalOptions {
                originals,
                negatives,
                seed,
                ..Default::default()
            };
            let report = warta::eval::dedup(Arc::new(settings), &corpus, &options)?;
            out!("{report}");
            Ok(())
        }
        Command::Eval(EvalCommand::Html {
            corpus,
            corpora,
            verbose,
            predictions,
        }) => {
            let all = corpus == "all";
            anyhow::ensure!(
                all || ["aeb", "htmldate", "fundus"].contains(&corpus.as_str()),
                "unknown corpus {corpus:?}: aeb, htmldate, fundus or all"
            );
            if all || corpus == "aeb" {
                let peers = ["trafilatura", "readability", "rs_trafilatura"];
                let r = warta::eval_html::aeb(&corpora.join("scrapinghub-aeb"), &peers)?;
                out!("{r}");
                if let Some(path) = &predictions {
                    let json = serde_json::to_vec(&r.predictions)?;
                    std::fs::write(path, json)
                        .with_context(|| format!("writing {}", path.display()))?;
                }
                if verbose {
                    for p in &r.per_page {
                        outln!("  page {:.3} {} {}", p.f1, p.id, p.url);
                    }
                }
            }
            if all || corpus == "htmldate" {
                let r = warta::eval_html::htmldate(&corpora.join("htmldate-eval"))?;
                if verbose {
                    out!("{r:#}");
                } else {
                    out!("{r}");
                }
            }
            if all || corpus == "fundus" {
                let r = warta::eval_html::fundus(&corpora.join("fundus-parser-fixtures"))?;
                if verbose {
                    out!("{r:#}");
                } else {
                    out!("{r}");
                }
            }
            Ok(())
        }
        Command::Bench(BenchCommand::Kafka {
            brokers,
            mock,
            rate,
            seconds,
            compare_metrics,
        }) => {
            let seed = include_str!("../tests/fixtures/seed.jsonl");
            let seed: serde_json::Value =
                serde_json::from_str(seed.trim()).context("seed fixture")?;
            let page = seed["content"].as_str().unwrap_or_default().to_string();
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            let brokers = (!mock).then_some(brokers.as_str());
            let Some(rounds) = compare_metrics else {
                let metrics = settings.metrics_listen.is_some();
                let result = runtime.block_on(warta::bench::kafka(
                    &settings, brokers, rate, seconds, &page, metrics,
                ))?;
                outln!("{result}");
                return Ok(());
            };
            let (mut on, mut off) = (Vec::new(), Vec::new());
            for round in 0..rounds.max(1) {
                for metrics in [true, false] {
                    let r = runtime.block_on(warta::bench::kafka(
                        &settings, brokers, rate, seconds, &page, metrics,
                    ))?;
                    outln!("round {} metrics={metrics}: {r}", round + 1);
                    if metrics {
                        on.push(r.throughput)
                    } else {
                        off.push(r.throughput)
                    }
                }
            }
            let (on, off) = (
                warta::bench::median(&mut on),
                warta::bench::median(&mut off),
            );
            outln!(
                "median throughput: metrics on {on:.0}/s, off {off:.0}/s, on/off {:.4}",
                on / off
            );
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
                warta::bench::restore_mock(&settings, articles, headlines, churn, partitions)?
            } else {
                warta::bench::restore(&settings, articles, headlines, churn)?
            };
            outln!("{result}");
            Ok(())
        }
        Command::Bench(BenchCommand::Changelog { articles, churn }) => {
            outln!("{}", warta::bench::changelog(&settings, articles, churn));
            Ok(())
        }
        Command::Bench(BenchCommand::Store {
            originals,
            rounds,
            corpus,
        }) => {
            let result = warta::bench::store(&settings, &corpus, originals, rounds)?;
            outln!("{result}");
            Ok(())
        }
        Command::Bench(BenchCommand::Parse { input, rounds }) => {
            let result = warta::bench::parse(Arc::new(settings), &input, rounds)?;
            outln!("{result}");
            Ok(())
        }
        Command::Process {
            input,
            url,
            fetched_at,
            out,
        } => {
            let input = match input {
                None => process::Input::Stdin,
                Some(p) if p.as_os_str() == "-" => process::Input::Stdin,
                Some(p) => process::Input::File(p),
            };
            let options = process::Options {
                input,
                text_url: url,
                text_fetched_at: fetched_at,
                out_dir: out,
            };
            let mut stdout = std::io::stdout().lock();
            let summary = process::run(Arc::new(settings), &options, &mut stdout)?;
            eprintln!("warta: {summary}");
            anyhow::ensure!(
                summary.balanced(),
                "outcomes do not add up to inputs: {summary}"
            );
            Ok(())
        }
    }
}

/// Resolves on SIGINT or SIGTERM: the service then stops fetching, finishes the
/// open batch and exits 0.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutdown signal received");
}

fn init_logging(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&settings.log_level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match settings.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

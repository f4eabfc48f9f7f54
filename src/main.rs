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
/// early (`warta process pages.jsonl | head`).
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
    /// Print the JSON Schema (draft 2020-12) of a topic's records, exactly as
    /// checked in under schemas/: raw-pages, clean-articles, clean-headlines,
    /// page-duplicates, raw-pages-dlq or kafka-headers. Without NAME, all of
    /// them as one JSON object keyed by name.
    Schema {
        #[arg(value_name = "NAME")]
        name: Option<String>,
    },
    /// Load generation against a broker: `warta bench kafka` sends pages at a
    /// fixed rate through `warta run` in-process and prints throughput and
    /// latency. (Offline benchmarks and evaluations are `warta-lab`'s.)
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
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
        /// A raw page (JSON, as `warta process` reads) whose `content`, with a
        /// per-page suffix, every sent page carries; the first line of FILE.
        #[arg(long, value_name = "FILE", default_value = "tests/fixtures/seed.jsonl")]
        page: PathBuf,
        /// Raw pages (JSONL, as `warta process` reads), sent in turn, each
        /// with a per-page suffix, instead of --page: e.g. a corpus of HTML
        /// pages written by `warta-lab`.
        #[arg(long, value_name = "FILE.jsonl", conflicts_with = "page")]
        input: Option<PathBuf>,
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
            let stats = runtime.block_on(warta::app::run(Arc::new(settings), shutdown_signal()));
            // A Kafka client call that never returned (the service replaced
            // its producer and went on) must not hold the exit up.
            runtime.shutdown_timeout(std::time::Duration::from_secs(5));
            let stats = stats?;
            eprintln!(
                "warta: {} batches_committed={} batches_aborted={}",
                stats.summary, stats.batches_committed, stats.batches_aborted
            );
            Ok(())
        }
        Command::Schema { name: Some(name) } => {
            let schema = warta::schema::schema(&name).with_context(|| {
                format!(
                    "no schema named {name:?}; one of: {}",
                    warta::schema::NAMES.join(", ")
                )
            })?;
            out!("{}", warta::schema::to_file_text(&schema));
            Ok(())
        }
        Command::Schema { name: None } => {
            let all: serde_json::Map<String, serde_json::Value> = warta::schema::all()
                .into_iter()
                .map(|(n, s)| (n.to_string(), s))
                .collect();
            out!(
                "{}",
                warta::schema::to_file_text(&serde_json::Value::Object(all))
            );
            Ok(())
        }
        Command::CheckConfig => {
            out!("{}", settings.to_toml());
            eprintln!("warta: configuration is valid");
            Ok(())
        }
        Command::Bench(BenchCommand::Kafka {
            brokers,
            mock,
            rate,
            seconds,
            compare_metrics,
            page,
            input,
        }) => {
            let (file, all) = match &input {
                Some(f) => (f, true),
                None => (&page, false),
            };
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            let mut pages = Vec::new();
            for (i, line) in text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
            {
                let raw: serde_json::Value =
                    serde_json::from_str(line.trim()).with_context(|| {
                        format!("{} line {}: a raw page (JSON)", file.display(), i + 1)
                    })?;
                pages.push(raw["content"].as_str().unwrap_or_default().to_string());
                if !all {
                    break;
                }
            }
            anyhow::ensure!(!pages.is_empty(), "{}: no raw page", file.display());
            let page = pages;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            let brokers = (!mock).then_some(brokers.as_str());
            let Some(rounds) = compare_metrics else {
                let metrics = settings.metrics_listen.is_some();
                let result = runtime.block_on(warta::loadgen::kafka(
                    &settings, brokers, rate, seconds, &page, metrics,
                ))?;
                outln!("{result}");
                return Ok(());
            };
            let (mut on, mut off) = (Vec::new(), Vec::new());
            for round in 0..rounds.max(1) {
                for metrics in [true, false] {
                    let r = runtime.block_on(warta::loadgen::kafka(
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
                warta::loadgen::median(&mut on),
                warta::loadgen::median(&mut off),
            );
            outln!(
                "median throughput: metrics on {on:.0}/s, off {off:.0}/s, on/off {:.4}",
                on / off
            );
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
            anyhow::ensure!(
                options.out_dir.is_some() || !stdout_was_closed(),
                "cannot write to stdout: it is closed, and the records would be lost (redirect it, or use --out DIR)"
            );
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

/// Whether stdout was closed when warta started (`warta process >&-`). Rust's
/// runtime then opens /dev/null read-write in its place, so every write
/// "succeeds" and the records vanish; a shell's `>/dev/null` opens it
/// write-only, which stays allowed. Linux tells through /proc; elsewhere the
/// check answers no.
fn stdout_was_closed() -> bool {
    if std::fs::read_link("/proc/self/fd/1").ok().as_deref()
        != Some(std::path::Path::new("/dev/null"))
    {
        return false;
    }
    std::fs::read_to_string("/proc/self/fdinfo/1")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("flags:"))
                .and_then(|f| u32::from_str_radix(f.trim(), 8).ok())
        })
        // O_ACCMODE == O_RDWR
        .is_some_and(|flags| flags & 3 == 2)
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

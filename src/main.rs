//! The claimex command line: parses arguments and calls the library.
//! Exit codes: 0 success; 1 some documents failed (run) or the score is below --min-f1 (eval);
//! 2 the run could not start or finish (bad config, missing model, unwritable output).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

use claimex::config::{PipelineConfig, Precision};
use claimex::document::{printable, ClaimType};
use claimex::encode::Encoder;
use claimex::eval::{self, GoldClaim, PredictedClaim};
use claimex::ingest::{self, IngestConfig};
use claimex::interrupt;
use claimex::pipeline::Emit;
use claimex::{eval_ner, pipeline, report};

#[derive(Parser)]
#[command(name = "claimex", version, about = "Stance, proposal and threat claims from news articles, as JSONL")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Extract claims from articles (files or folders of .txt, .html, .jsonl), or with "-" from
    /// JSONL on standard input to standard output.
    Run {
        #[command(flatten)]
        pipeline: PipelineArgs,
        /// With "-": what to write for each document.
        #[arg(long, value_enum, default_value = "claims")]
        emit: Emit,
        /// With "-": exit 1 when a document failed (default: report it on stderr, exit 0).
        #[arg(long)]
        strict: bool,
        /// Files or folders to read, or "-" for JSONL documents on standard input.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
    },
    /// Run on documents and score the claims against a gold JSONL file (see docs/labeling.md).
    Eval {
        #[command(flatten)]
        pipeline: PipelineArgs,
        /// Gold claims (JSONL).
        #[arg(long)]
        gold: PathBuf,
        /// Score this claims.jsonl instead of running the pipeline.
        #[arg(long)]
        predictions: Option<PathBuf>,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
        /// Exit with 1 when the overall F1 is below this.
        #[arg(long)]
        min_f1: Option<f64>,
        /// Also write each claim type's precision-recall curve (thresholds 0.05 to 0.95) to this
        /// JSON file; plot it with scripts/pr_curves.py. The claim scores printed stay those at
        /// the configured thresholds (actor figures can move a little: the discourse rule sees
        /// the claims below them too).
        #[arg(long)]
        curves: Option<PathBuf>,
        /// The documents the gold file labels (all of them count as fully labeled).
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
    },
    /// Print each document's sentences as claimex segments them (no model): one JSONL line per
    /// document, {"id", "origin", "sentences": [{"text", "start", "end", "paragraph", ...}]}.
    /// Training (`make train`) reads the corpus this way.
    Segment {
        /// Files or folders to read.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
    },
    /// Write one self-contained HTML page over a run's output folder: an overview, each document's
    /// text with its claims highlighted, filters; with --gold, the eval's outcomes and figures.
    Report {
        /// The output folder of a run (its documents.jsonl and claims.jsonl).
        out: PathBuf,
        /// Gold claims (JSONL): mark true positives, false positives and misses, with claimex
        /// eval's figures (the documents are read again from where the run read them).
        #[arg(long)]
        gold: Option<PathBuf>,
        /// Where to write the page (default OUT/report.html).
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
    },
    /// Score the model's entities on a CoNLL file (entity-level micro P/R/F1, per type).
    EvalNer {
        #[command(flatten)]
        pipeline: PipelineArgs,
        /// CoNLL file: one "TOKEN ... TAG" per line, blank lines between sentences.
        #[arg(long)]
        conll: PathBuf,
        /// Write "token gold predicted" lines in the input's layout here.
        #[arg(long)]
        predictions: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

/// Settings shared by the commands; flags override pipeline.toml.
#[derive(Args)]
struct PipelineArgs {
    /// Pipeline description (default: the shipped settings, see --models).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Folder with the models (models/, data/): default $CLAIMEX_HOME, then share/claimex beside
    /// the executable's folder, then the current folder.
    #[arg(long, conflicts_with = "config")]
    models: Option<PathBuf>,
    /// Output folder.
    #[arg(long)]
    out: Option<PathBuf>,
    /// cpu, cuda or cuda:N.
    #[arg(long)]
    device: Option<String>,
    #[arg(long)]
    batch_size: Option<usize>,
    /// CPU threads (0 = all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Arithmetic of the forward passes: fp32 or bf16.
    #[arg(long, value_enum)]
    precision: Option<Precision>,
    /// No progress bars.
    #[arg(long)]
    quiet: bool,
}

impl PipelineArgs {
    fn config(&self) -> Result<PipelineConfig> {
        let mut config = match &self.config {
            Some(path) => PipelineConfig::load(path)?,
            None => PipelineConfig::locate(self.models.as_deref())?,
        };
        if let Some(out) = &self.out {
            config.output.dir = out.clone();
        }
        if let Some(d) = &self.device {
            config.runtime.device = d.clone();
        }
        if let Some(b) = self.batch_size {
            config.runtime.batch_size = b;
        }
        if let Some(t) = self.threads {
            config.runtime.threads = t;
        }
        if let Some(p) = self.precision {
            config.runtime.precision = p;
        }
        config.validate().context("invalid command-line setting")?;
        Ok(config)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Panics are caught where they happen and reported as errors (a document's, or the run's):
    // no backtrace reaches the user.
    std::panic::set_hook(Box::new(|_| {}));
    match std::panic::catch_unwind(|| run(cli)) {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => {
            eprintln!("claimex: {}", printable(&format!("{e:#}")));
            ExitCode::from(2)
        }
        Err(p) => {
            eprintln!("claimex: internal error: {}", printable(&pipeline::panic_message(&*p)));
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Run { pipeline: args, inputs, emit, strict } if inputs.len() == 1 && inputs[0] == Path::new("-") => {
            anyhow::ensure!(args.out.is_none(), "--out has no use with \"-\": the output goes to standard output");
            let mut config = args.config()?;
            // One thread by default: stream workers run side by side, one per core.
            if args.threads.is_none() {
                config.runtime.threads = match std::env::var("CLAIMEX_THREADS") {
                    Ok(n) => n.trim().parse().with_context(|| format!("CLAIMEX_THREADS = {n:?}: expected a number"))?,
                    Err(_) => 1,
                };
                config.validate().context("invalid CLAIMEX_THREADS")?;
            }
            let failed = pipeline::stream(&config, std::io::stdin(), &mut std::io::stdout().lock(), emit)?;
            if interrupt::requested() {
                return Ok(ExitCode::from(130));
            }
            Ok(if strict && failed > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        Command::Run { pipeline: args, inputs, emit, strict } => {
            anyhow::ensure!(emit == Emit::Claims && !strict, "--emit and --strict are for \"-\" (standard input) only");
            let config = args.config()?;
            let s = pipeline::run(&config, &inputs, args.quiet)?;
            let out = printable(&s.out_dir.display().to_string()).into_owned();
            if s.interrupted {
                eprintln!(
                    "claimex: interrupted after {} documents; {out} has {} documents, {} claims. Run the same command again to resume.",
                    s.processed, s.documents, s.claims
                );
                return Ok(ExitCode::from(130));
            }
            eprintln!(
                "claimex: {} documents processed, {} reused, {} failed in {:.1}s; {out} has {} documents, {} claims",
                s.processed, s.reused, s.failed, s.seconds, s.documents, s.claims
            );
            Ok(if s.failed > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        Command::Eval { pipeline: args, gold, predictions, json, min_f1, curves, inputs } => {
            let mut config = args.config()?;
            let thresholds = config.thresholds.clone();
            if curves.is_some() {
                // Claims down to the curve's floor; the report below keeps the configured ones.
                for t in [&mut config.thresholds.stance, &mut config.thresholds.proposal, &mut config.thresholds.threat] {
                    *t = t.min(eval::CURVE_FLOOR);
                }
            }
            // Without --out, the run goes to a new private folder (random name, 0700) removed
            // after scoring.
            let scratch = (predictions.is_none() && args.out.is_none())
                .then(|| tempfile::Builder::new().prefix("claimex-eval-").tempdir())
                .transpose()
                .context("cannot create a temporary folder for eval")?;
            if let Some(dir) = &scratch {
                config.output.dir = dir.path().to_path_buf();
            }
            let claims_path = match predictions {
                Some(p) => p,
                None => {
                    if pipeline::run(&config, &inputs, true)?.interrupted {
                        eprintln!("claimex: eval interrupted");
                        return Ok(ExitCode::from(130));
                    }
                    config.output.dir.join("claims.jsonl")
                }
            };
            let mut sources = std::collections::BTreeMap::new();
            let ingest_config = IngestConfig { max_bytes: config.input.max_document_bytes };
            for raw in ingest::read_inputs(&inputs, &ingest_config) {
                let doc = raw.and_then(ingest::ingest).map_err(|e| anyhow::anyhow!("{e}"))?;
                sources.insert(doc.id.clone(), doc);
            }
            let gold: Vec<GoldClaim> = eval::read_jsonl(&gold)?;
            let predicted: Vec<PredictedClaim> = eval::read_jsonl(&claims_path)?;
            drop(scratch);
            if let Some(path) = &curves {
                let points = eval::curves(&sources, &gold, &predicted)?;
                std::fs::write(path, serde_json::to_string_pretty(&points)? + "\n").with_context(|| format!("cannot write {}", path.display()))?;
            }
            // With curves the run made claims down to the floor: the report is at the thresholds.
            let threshold = |kind: &str| ClaimType::ALL.into_iter().find(|t| t.name() == kind).map_or(0.0, |t| f64::from(thresholds.for_type(t)));
            let predicted: Vec<PredictedClaim> = if curves.is_some() { predicted.into_iter().filter(|p| p.confidence >= threshold(&p.kind) - 1e-6).collect() } else { predicted };
            let report = eval::score(&sources, &gold, &predicted)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", eval::table(&report));
            }
            match min_f1 {
                Some(bar) if report.overall.f1 < bar => {
                    eprintln!("claimex: overall F1 {:.3} is below --min-f1 {bar}", report.overall.f1);
                    Ok(ExitCode::from(1))
                }
                _ => Ok(ExitCode::SUCCESS),
            }
        }
        Command::Segment { inputs } => {
            let mut out = std::io::stdout().lock();
            let mut failed = false;
            for raw in ingest::read_inputs(&inputs, &IngestConfig::default()) {
                match raw.and_then(ingest::ingest) {
                    Ok(mut doc) => {
                        claimex::segment::segment(&mut doc);
                        let record = claimex::output::document_record(&doc);
                        let line = serde_json::json!({"id": record["id"], "origin": record["origin"], "sentences": record["sentences"]});
                        writeln!(out, "{line}")?;
                    }
                    Err(e) => {
                        eprintln!("error: {e}");
                        failed = true;
                    }
                }
            }
            Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        Command::Report { out, gold, output } => {
            let w = report::write(&out, gold.as_deref(), output.as_deref())?;
            eprintln!(
                "claimex: wrote {} ({:.1} MB, {} documents, {} claims)",
                printable(&w.path.display().to_string()),
                w.bytes as f64 / 1e6,
                w.documents,
                w.claims
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::EvalNer { pipeline: args, conll, predictions, json } => {
            let config = args.config()?;
            let encoder = Encoder::load(&config.models.tokenizer)?;
            let model = pipeline::libtorch_model()(&config, encoder.vocab_size())?;
            let sentences = eval_ner::read_conll(&conll)?;
            let report = eval_ner::evaluate(
                &*model,
                &encoder,
                &sentences,
                config.runtime.batch_size,
                config.runtime.max_pieces,
                predictions.as_deref(),
            )?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", eval_ner::table(&report));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

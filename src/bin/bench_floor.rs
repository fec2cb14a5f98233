//! The floor for bench/run.py: the bare forward passes of claimex's two models over a file of
//! sentences (one per line), in one process, batched as the pipeline batches them.
//!
//!     bench_floor --sentences FILE [--config pipeline.toml] [--batch-size N] [--threads N]
//!                 [--chunk-sentences N] [--dump FILE]
//!
//! Only `NerModel::tag` and `ClaimModel::score` are timed (window building, padding, the
//! forward passes, softmax/sigmoid and copying the results back); loading, tokenizing and entity
//! decoding are timed apart and reported but are not part of the floor. Prints one JSON object.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;
use serde_json::json;

use claimex::classify::ClaimModel;
use claimex::config::PipelineConfig;
use claimex::encode::{windows, Encoder, Pieces};
use claimex::ner::{piece_words, NerModel};

#[derive(Parser)]
#[command(name = "bench_floor", about = "Time the bare forward passes of claimex's NER and claim models")]
struct Args {
    /// Sentences, one per line (empty lines are skipped).
    #[arg(long)]
    sentences: PathBuf,
    /// Pipeline description (default: ./pipeline.toml when present); gives models and defaults.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Windows per forward pass (default: runtime.batch_size of the config).
    #[arg(long)]
    batch_size: Option<usize>,
    /// libtorch intra-op threads (default: runtime.threads of the config; 0 = all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Call tag/score on consecutive groups of this many sentences (0 = all in one call, which
    /// sorts every window by length: the least padding).
    #[arg(long, default_value_t = 0)]
    chunk_sentences: usize,
    /// Write per-sentence results (pieces, entities, claim probabilities) as JSONL here.
    #[arg(long)]
    dump: Option<PathBuf>,
    /// Which models to time: "ner,claims" (both, the default), "ner" or "claims".
    #[arg(long, default_value = "ner,claims", value_delimiter = ',')]
    models: Vec<String>,
    /// Untimed forward passes on the first batch before timing (0 = none).
    #[arg(long, default_value_t = 1)]
    warmup: usize,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let default = Path::new("pipeline.toml");
    let mut config = match &args.config {
        Some(p) => PipelineConfig::load(p)?,
        None if default.exists() => PipelineConfig::load(default)?,
        None => PipelineConfig::default(),
    };
    if let Some(b) = args.batch_size {
        config.runtime.batch_size = b;
    }
    if let Some(t) = args.threads {
        config.runtime.threads = t;
    }
    config.validate()?;
    let threads = config.threads();
    tch::set_num_threads(threads as i32);
    let (batch, window) = (config.runtime.batch_size, config.runtime.max_pieces);

    let text = std::fs::read_to_string(&args.sentences).with_context(|| format!("cannot read {}", args.sentences.display()))?;
    let sentences: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    anyhow::ensure!(!sentences.is_empty(), "{}: no sentences", args.sentences.display());

    let t = Instant::now();
    let device = config.device();
    let encoder = Encoder::load(&config.models.tokenizer)?;
    let ner = NerModel::load(&config.models.ner, device, config.kind()).context("cannot load the NER model")?;
    let (use_ner, use_claims) = (args.models.iter().any(|m| m == "ner"), args.models.iter().any(|m| m == "claims"));
    anyhow::ensure!(args.models.iter().all(|m| m == "ner" || m == "claims"), "--models: expected ner and/or claims");
    let claims = if use_claims { Some(ClaimModel::load(&config.models.claims, device, config.kind()).context("cannot load the claim model")?) } else { None };
    let load_seconds = t.elapsed().as_secs_f64();
    // tch's VarStore::load gives the variables the file's precision: report what the files hold.
    let ner_kind = weights_dtype(&ner.files.weights)?;

    let t = Instant::now();
    let pieces: Vec<Pieces> = sentences.iter().map(|s| encoder.encode(s)).collect::<Result<_>>()?;
    let encode_seconds = t.elapsed().as_secs_f64();
    let refs: Vec<&Pieces> = pieces.iter().collect();
    let n_pieces: usize = pieces.iter().map(|p| p.ids.len()).sum();

    let t = Instant::now();
    if args.warmup > 0 {
        let first = &refs[..refs.len().min(batch * args.warmup)];
        if use_ner {
            ner.tag(first, batch, window);
        }
        if let Some(claims) = &claims {
            claims.score(first, batch, window);
        }
    }
    let warmup_seconds = t.elapsed().as_secs_f64();

    let groups: Vec<&[&Pieces]> = if args.chunk_sentences == 0 { vec![&refs[..]] } else { refs.chunks(args.chunk_sentences).collect() };
    let t = Instant::now();
    let mut tags = Vec::with_capacity(refs.len());
    for g in &groups {
        if use_ner {
            tags.extend(ner.tag(g, batch, window));
        }
    }
    let ner_seconds = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut scores = Vec::with_capacity(refs.len());
    for g in &groups {
        if let Some(claims) = &claims {
            scores.extend(claims.score(g, batch, window));
        }
    }
    let claims_seconds = t.elapsed().as_secs_f64();

    // What the batching costs in padding: token slots fed to the model vs real tokens.
    let (mut real, mut padded, mut n_windows, mut n_batches) = (0usize, 0usize, 0usize, 0usize);
    for g in &groups {
        let mut lens: Vec<usize> = g.iter().enumerate().flat_map(|(i, p)| windows(i, p, window)).map(|w| w.ids.len()).collect();
        lens.sort_unstable();
        n_windows += lens.len();
        for c in lens.chunks(batch) {
            n_batches += 1;
            real += c.iter().sum::<usize>();
            padded += c.len() * c.iter().max().copied().unwrap_or(0);
        }
    }

    let t = Instant::now();
    let mut n_entities = 0usize;
    let mut dump = match &args.dump {
        Some(p) => Some(std::io::BufWriter::new(std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?)),
        None => None,
    };
    for (i, p) in pieces.iter().enumerate() {
        let ents = tags.get(i).map(|t| ner.entities(sentences[i], p, t, &piece_words(p))).unwrap_or_default();
        n_entities += ents.len();
        if let Some(out) = dump.as_mut() {
            let ents: Vec<_> = ents.iter().map(|e| json!([e.start, e.end, e.label, e.score])).collect();
            let probs = scores.get(i).map(|s| {
                let mut v = s.types.to_vec();
                v.push(s.support);
                v.extend(&s.categories);
                v
            });
            writeln!(out, "{}", json!({"i": i, "pieces": p.ids.len(), "entities": ents, "claims": probs}))?;
        }
    }
    if let Some(mut out) = dump {
        out.flush()?;
    }
    let decode_seconds = t.elapsed().as_secs_f64();

    let seconds = ner_seconds + claims_seconds;
    let report = json!({
        "seconds": seconds,
        "ner_seconds": ner_seconds,
        "claims_seconds": claims_seconds,
        "sentences": sentences.len(),
        "pieces": n_pieces,
        "windows": n_windows,
        "batches": n_batches,
        "token_slots": padded,
        "real_tokens": real,
        "padding_efficiency": real as f64 / padded.max(1) as f64,
        "entities": n_entities,
        "batch_size": batch,
        "threads": threads,
        "max_pieces": window,
        "chunk_sentences": args.chunk_sentences,
        "models": args.models,
        "weights_dtype": ner_kind,
        "device": config.runtime.device,
        "load_seconds": load_seconds,
        "encode_seconds": encode_seconds,
        "warmup_seconds": warmup_seconds,
        "decode_seconds": decode_seconds,
        "sentences_per_second": sentences.len() as f64 / seconds,
        "pieces_per_second": n_pieces as f64 / seconds,
    });
    println!("{report}");
    Ok(())
}

/// The dtypes in a safetensors file's header, e.g. "F16" (joined with "+" when mixed).
fn weights_dtype(path: &Path) -> Result<String> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut len = [0u8; 8];
    f.read_exact(&mut len)?;
    let mut header = vec![0u8; u64::from_le_bytes(len) as usize];
    f.read_exact(&mut header)?;
    let header: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&header)?;
    let mut kinds: Vec<&str> = header.values().filter_map(|v| v.get("dtype").and_then(|d| d.as_str())).collect();
    kinds.sort_unstable();
    kinds.dedup();
    Ok(kinds.join("+"))
}

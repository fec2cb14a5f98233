//! The floor for bench/run.py: the bare model passes of claimex's one-pass model over the
//! documents' sentences, in one process, packed and batched as the pipeline does it.
//!
//!     bench_floor --documents FILE [--config pipeline.toml] [--batch-size N] [--threads N]
//!                 [--chunk-documents N] [--dump FILE]
//!
//! FILE: JSONL, one document per line: {"sentences": [text, …], "paragraphs": [n, …]}.
//! Only `reader::read` is timed (packing, padding, the forward passes, softmax/sigmoid and
//! copying the results back); loading, tokenizing and entity decoding are timed apart and
//! reported but are not part of the floor. Prints one JSON object.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;
use serde::Deserialize;
use serde_json::json;

use claimex::config::PipelineConfig;
use claimex::encode::{pack, Encoder, Pieces};
use claimex::ner::{entities, piece_words};
use claimex::pipeline::libtorch_model;
use claimex::reader::{read, Text};

#[derive(Parser)]
#[command(name = "bench_floor", about = "Time the bare passes of claimex's one-pass model")]
struct Args {
    /// Documents as JSONL: {"sentences": [text, …], "paragraphs": [n, …]}.
    #[arg(long)]
    documents: PathBuf,
    /// Pipeline description (default: ./pipeline.toml when present); gives the model and defaults.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Windows per forward pass (default: runtime.batch_size of the config).
    #[arg(long)]
    batch_size: Option<usize>,
    /// libtorch intra-op threads (default: runtime.threads of the config; 0 = all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Read consecutive groups of this many documents per call, as the pipeline's model stage
    /// takes them (0 = all in one call, which sorts every window by length: the least padding).
    #[arg(long, default_value_t = 0)]
    chunk_documents: usize,
    /// Write per-sentence results (pieces, entities, sentence probabilities) as JSONL here.
    #[arg(long)]
    dump: Option<PathBuf>,
    /// Untimed passes over the first documents before timing (0 = none).
    #[arg(long, default_value_t = 1)]
    warmup: usize,
}

#[derive(Deserialize)]
struct Doc {
    sentences: Vec<String>,
    paragraphs: Vec<usize>,
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
    let (batch, window) = (config.runtime.batch_size, config.runtime.max_pieces);

    let text = std::fs::read_to_string(&args.documents).with_context(|| format!("cannot read {}", args.documents.display()))?;
    let docs: Vec<Doc> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).with_context(|| format!("{}:{}: invalid document", args.documents.display(), i + 1)))
        .collect::<Result<_>>()?;
    anyhow::ensure!(docs.iter().all(|d| d.sentences.len() == d.paragraphs.len()), "every document needs one paragraph number per sentence");

    let t = Instant::now();
    let encoder = Encoder::load(&config.models.tokenizer)?;
    let model = libtorch_model()(&config, encoder.vocab_size())?;
    let load_seconds = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let pieces: Vec<Vec<Pieces>> = docs.iter().map(|d| d.sentences.iter().map(|s| encoder.encode(s)).collect::<Result<_>>()).collect::<Result<_>>()?;
    let encode_seconds = t.elapsed().as_secs_f64();
    let texts: Vec<Text> = pieces.iter().zip(&docs).map(|(p, d)| Text { pieces: p, paragraphs: d.paragraphs.clone() }).collect();
    let n_sentences: usize = docs.iter().map(|d| d.sentences.len()).sum();
    let n_pieces: usize = pieces.iter().flatten().map(|p| p.ids.len()).sum();

    let t = Instant::now();
    if args.warmup > 0 {
        read(&*model, &texts[..texts.len().min(args.warmup)], batch, window);
    }
    let warmup_seconds = t.elapsed().as_secs_f64();

    let groups: Vec<&[Text]> = if args.chunk_documents == 0 { vec![&texts[..]] } else { texts.chunks(args.chunk_documents).collect() };
    let t = Instant::now();
    let readings: Vec<_> = groups.iter().flat_map(|g| read(&*model, g, batch, window)).collect();
    let seconds = t.elapsed().as_secs_f64();

    // What the batching costs in padding: token slots fed to the model vs real tokens.
    let (mut real, mut padded, mut n_windows, mut n_batches) = (0usize, 0usize, 0usize, 0usize);
    for g in &groups {
        let mut lens: Vec<usize> = g
            .iter()
            .flat_map(|t| {
                let refs: Vec<&Pieces> = t.pieces.iter().collect();
                pack(&refs, &t.paragraphs, window)
            })
            .map(|w| w.ids.len())
            .collect();
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
    let labels = &model.heads().ner;
    let mut i = 0;
    for ((doc, doc_pieces), doc_readings) in docs.iter().zip(&pieces).zip(&readings) {
        for ((sentence, p), r) in doc.sentences.iter().zip(doc_pieces).zip(doc_readings) {
            let ents = entities(labels, sentence, p, &r.ner, &piece_words(p));
            n_entities += ents.len();
            if let Some(out) = dump.as_mut() {
                let ents: Vec<_> = ents.iter().map(|e| json!([e.start, e.end, e.label, e.score])).collect();
                let s = &r.scores;
                let mut probs = s.types.to_vec();
                probs.push(s.support);
                probs.extend(&s.categories);
                probs.extend(s.modality.iter().map(|m| m.1));
                writeln!(out, "{}", json!({"i": i, "pieces": p.ids.len(), "entities": ents, "claims": probs}))?;
            }
            i += 1;
        }
    }
    if let Some(mut out) = dump {
        out.flush()?;
    }
    let decode_seconds = t.elapsed().as_secs_f64();

    let report = json!({
        "seconds": seconds,
        "documents": docs.len(),
        "sentences": n_sentences,
        "pieces": n_pieces,
        "windows": n_windows,
        "batches": n_batches,
        "token_slots": padded,
        "real_tokens": real,
        "padding_efficiency": real as f64 / padded.max(1) as f64,
        "entities": n_entities,
        "batch_size": batch,
        "threads": config.threads(),
        "max_pieces": window,
        "chunk_documents": args.chunk_documents,
        "weights_dtype": weights_dtype(&config.models.model.join("model.safetensors"))?,
        "precision": config.runtime.precision,
        "device": config.runtime.device,
        "load_seconds": load_seconds,
        "encode_seconds": encode_seconds,
        "warmup_seconds": warmup_seconds,
        "decode_seconds": decode_seconds,
        "sentences_per_second": n_sentences as f64 / seconds,
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

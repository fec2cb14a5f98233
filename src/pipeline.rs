//! The topology of a run: stages as workers joined by bounded channels.
//!
//! read → prepare (ingest, segment, word pieces; rayon) → model (one worker owns it: one pass
//! per window gives entities and sentence scores) → assemble (resolve entities, build claims;
//! rayon) → write (this thread).
//!
//! Documents flow in input order, each as `Ok(Work)` or the `Err(DocError)` that stopped it, so
//! one bad document costs only itself and the output order never depends on timing. A document
//! the output folder has already seen (same bytes, models and settings) is taken from its store
//! and skips the work; the output files are regenerated from the store when the run ends.

use std::io::{IsTerminal, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::assemble::{Assembler, Lexicon};
use crate::attribute::{self, Sieve};
use crate::config::PipelineConfig;
use crate::document::{printable, ClaimType, DocError, Document};
use crate::encode::{Encoder, Pieces};
use crate::gazetteer::Gazetteer;
use crate::ingest::{self, IngestConfig, RawDocument};
use crate::ner::{self, piece_words, EntitySpan};
use crate::outdir::OutputDir;
use crate::output;
use crate::store::{self, IndexEntry, Saved, Store, Stored};
use crate::reader::{self, Model, Text};
use crate::{interrupt, resolve, segment};

/// A document in flight, with what the stages hand each other besides the document itself.
pub struct Work {
    pub doc: Document,
    /// The document's key in the store, when the run has one.
    pub key: Option<String>,
    /// Its output from an earlier run, when the store has it: nothing is left to do.
    pub stored: Option<Stored>,
    /// sha256 of the input bytes.
    pub sha256: String,
    pub bytes: usize,
    /// Word pieces per sentence.
    pub pieces: Vec<Pieces>,
    /// Entities the model found, per sentence, in sentence code points.
    pub mentions: Vec<Vec<EntitySpan>>,
    /// Something the user should hear about this document (a saved result that was refused).
    pub notice: Option<String>,
}

type Item = Result<Work, DocError>;

/// The stage of the "error" of a document that Ctrl-C kept from being processed: not a failure.
const INTERRUPTED: &str = "interrupted";

/// Documents a channel between stages holds.
const CHANNEL_BOUND: usize = 64;
/// Most documents the model stage takes at once: their windows sort into well-filled batches.
const MODEL_CHUNK: usize = 64;

/// What the CPU stages need, loaded and checked before any document is read.
pub struct Resources {
    pub encoder: Encoder,
    pub gazetteer: Gazetteer,
    pub lexicon: Lexicon,
    pub attribution: attribute::Lexicon,
}

impl Resources {
    pub fn load(config: &PipelineConfig) -> Result<Self> {
        let encoder = Encoder::load(&config.models.tokenizer)?;
        let gazetteer = Gazetteer::load(&config.models.gazetteer)?;
        Ok(Resources { encoder, gazetteer, lexicon: Lexicon::shipped(), attribution: attribute::Lexicon::shipped() })
    }
}

/// Makes the model, on the thread that runs it: libtorch's OpenMP threads belong to the thread
/// that first runs an operation, and a second team (made, say, by loading on the main thread)
/// oversubscribes the cores and slows every forward pass by a third.
pub type Loader = Box<dyn FnOnce(&PipelineConfig, usize) -> Result<Box<dyn Model>> + Send>;

/// The model the config names (`models.model`), on `runtime.device`, checked against the
/// tokenizer's vocabulary of `vocab_size` pieces.
#[cfg(feature = "torch")]
pub fn libtorch_model() -> Loader {
    Box::new(|config, vocab_size| {
        let (device, kind) = (config.device(), config.kind());
        if let tch::Device::Cuda(n) = device {
            let found = if tch::Cuda::is_available() { tch::Cuda::device_count() as usize } else { 0 };
            anyhow::ensure!(n < found, "runtime.device = {:?}: this machine has {found} CUDA devices visible to libtorch", config.runtime.device);
        }
        tch::set_num_threads(config.threads() as i32);
        let model = crate::onepass::OnePass::load(&config.models.model, device, kind).context("cannot load the model")?;
        crate::onepass::check_vocab(&model, vocab_size)?;
        Ok(Box::new(model))
    })
}

/// Without libtorch there is no model to run: the run stops before reading any document.
#[cfg(not(feature = "torch"))]
pub fn libtorch_model() -> Loader {
    Box::new(|_, _| anyhow::bail!("this claimex was built without libtorch (cargo feature \"torch\"): it cannot run the model"))
}

/// What the rest of the run needs to know about the model.
struct ModelInfo {
    /// What the manifest records (path, sha256, heads).
    described: serde_json::Value,
    categories: Vec<String>,
}

/// What a run did, for the exit code and the summary line.
pub struct Summary {
    /// Documents read and processed by this run.
    pub processed: usize,
    /// Documents whose output an earlier run had saved.
    pub reused: usize,
    pub failed: usize,
    /// Documents and claims in the output files.
    pub documents: usize,
    pub claims: usize,
    /// Ctrl-C stopped the run; what was done is saved and a rerun resumes.
    pub interrupted: bool,
    pub seconds: f64,
    pub out_dir: PathBuf,
}

pub fn run(config: &PipelineConfig, inputs: &[PathBuf], quiet: bool) -> Result<Summary> {
    run_with(config, inputs, quiet, libtorch_model())
}

/// [`run`] with the model `load` makes.
pub fn run_with(config: &PipelineConfig, inputs: &[PathBuf], quiet: bool, load: Loader) -> Result<Summary> {
    let started = Instant::now();
    interrupt::install();
    // The output folder is locked and checked before anything slow happens.
    let out = OutputDir::open(&config.output.dir)?;
    let engine = Engine::start(config, quiet, load)?;
    let load_seconds = started.elapsed().as_secs_f64();
    let model_info = engine.model_info(config)?;
    let store = Arc::new(Store::open(out, &fingerprint(config, &model_info))?);
    let out_shown = printable(&config.output.dir.display().to_string()).into_owned();
    if let Some(n) = store.stale {
        eprintln!("claimex: models or settings changed since the last run into {out_shown}: its {n} documents are not reused");
    }
    for notice in &store.notices {
        eprintln!("claimex: {}", printable(notice));
    }
    if config.output.dir.join("manifest.json").exists() {
        if let Err(e) = output::verify(&config.output.dir) {
            eprintln!("claimex: {}", printable(&format!("{e:#}")));
        }
    }
    let ingest_config = IngestConfig { max_bytes: config.input.max_document_bytes };
    let flow = engine.feed(config, ingest::read_inputs(inputs, &ingest_config), Some(store.clone()));

    // Save each document's output as it arrives, in input order.
    let mut run_entries: Vec<IndexEntry> = Vec::new();
    let mut seen = std::collections::HashMap::<String, String>::new();
    let (mut processed, mut reused, mut pieces) = (0usize, 0usize, 0usize);
    let mut inputs_seen = Vec::new();
    let mut errors = Vec::new();
    let mut write_busy = Duration::ZERO;
    let mut skipped = 0usize;
    for item in flow.items.iter() {
        let t = Instant::now();
        if let Ok(Work { notice: Some(notice), .. }) = &item {
            flow.bars.println(&format!("claimex: {}", printable(notice)));
        }
        let saved = item.and_then(|w| {
            if let Some(first) = seen.get(&w.doc.id) {
                return Err(DocError::new(&w.doc.id, "write", format!("duplicate document id: {} has it too", first)));
            }
            let key = w.key.clone().expect("a run with a store keys every document");
            let stored = match w.stored {
                Some(s) => {
                    reused += 1;
                    s
                }
                None => {
                    let s = output::stored(&w.doc, w.sha256.clone(), w.bytes, store.fingerprint())
                        .and_then(|s| store.save(&key, &s).map(|_| s))
                        .map_err(|e| DocError::new(&w.doc.id, "write", format!("{e:#}")))?;
                    processed += 1;
                    pieces += w.pieces.iter().map(|p| p.ids.len()).sum::<usize>();
                    s
                }
            };
            seen.insert(stored.id.clone(), stored.origin.clone());
            inputs_seen.push(json!({"doc": stored.id, "origin": stored.origin, "sha256": stored.sha256, "bytes": stored.bytes}));
            run_entries.push(IndexEntry { id: stored.id, key });
            Ok(())
        });
        match saved {
            Err(e) if e.stage == INTERRUPTED => skipped += 1,
            Err(e) => {
                flow.bars.println(&format!("error: {e}"));
                errors.push(e);
            }
            Ok(()) => {}
        }
        write_busy += t.elapsed();
        flow.write_bar.inc(1);
    }
    let busy = flow.finish(write_busy);
    let interrupted = interrupt::requested();
    // Every finished document is written out, after Ctrl-C too.
    let set = output::prepare(&store, &store.merged(&run_entries), config.output.documents)?;
    for dropped in &set.dropped {
        eprintln!("claimex: {}", printable(dropped));
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut timings = serde_json::Map::new();
    timings.insert("load_seconds".into(), json!(round(load_seconds)));
    for (name, d) in busy {
        timings.insert(format!("{name}_seconds"), json!(round(d.as_secs_f64())));
    }
    timings.insert("total_seconds".into(), json!(round(seconds)));
    let manifest = json!({
        "claimex": env!("CARGO_PKG_VERSION"),
        "fingerprint": store.fingerprint(),
        "inputs": inputs_seen,
        "config": config,
        "models": model_info,
        "run": {"processed": processed, "reused": reused, "failed": errors.len(), "word_pieces": pieces,
                "interrupted": interrupted, "not_processed": skipped},
        "counts": {"documents": set.totals.documents, "failed": errors.len(), "sentences": set.totals.sentences,
                   "entities": set.totals.entities, "claims": set.totals.claims},
        "outputs": set.files(),
        "timings": timings,
        "errors": errors,
    });
    // The index first: a run killed after it regenerates these outputs from the store.
    store.record(&set.entries)?;
    let (documents, claims) = (set.totals.documents, set.totals.claims);
    let entries = set.entries.clone();
    set.commit(&store, &manifest)?;
    store.prune(&entries);
    Ok(Summary { processed, reused, failed: errors.len(), documents, claims, interrupted, seconds, out_dir: config.output.dir.clone() })
}

/// What `claimex run -` writes to standard output for each document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Emit {
    /// Claims lines, as claims.jsonl has them.
    Claims,
    /// Documents lines, as documents.jsonl has them.
    Documents,
    /// Both, each line tagged: {"claim": …} or {"document": …}.
    Both,
}

/// The Unix-filter mode: JSONL documents in, output lines out as each document finishes, in input
/// order, with bounded memory; no output folder and no store (the caller owns retries). A failed
/// document is one `{"error": …}` line on stderr and the stream goes on. Empty input loads no model.
/// Returns how many documents failed.
pub fn stream(config: &PipelineConfig, input: impl std::io::Read + Send + 'static, out: &mut impl Write, emit: Emit) -> Result<usize> {
    interrupt::install();
    let ingest_config = IngestConfig { max_bytes: config.input.max_document_bytes };
    let mut raws = ingest::read_stream(input, &ingest_config).peekable();
    let mut failed = 0;
    if raws.peek().is_none() {
        return Ok(failed);
    }
    let flow = Engine::start(config, true, libtorch_model())?.feed(config, raws, None);
    let mut wrote = Ok(());
    for item in flow.items.iter() {
        match item {
            Ok(w) => wrote = emit_document(&w.doc, emit, out),
            Err(e) if e.stage == INTERRUPTED => {}
            Err(e) => {
                failed += 1;
                eprintln!("{}", json!({"error": e}));
            }
        }
        if wrote.is_err() {
            // The reader went away (a closed pipe): stop reading and let the stages drain.
            break;
        }
    }
    flow.finish(Duration::ZERO);
    wrote.context("cannot write to standard output")?;
    Ok(failed)
}

/// One document's lines, byte for byte what a folder run writes for it.
fn emit_document(doc: &Document, emit: Emit, out: &mut impl Write) -> std::io::Result<()> {
    let mut lines = String::new();
    if emit != Emit::Documents {
        for c in &doc.claims {
            let claim = serde_json::to_value(c).map_err(std::io::Error::other)?;
            lines += &if emit == Emit::Both { json!({ "claim": claim }).to_string() } else { claim.to_string() };
            lines.push('\n');
        }
    }
    if emit != Emit::Claims {
        let record = output::document_record(doc);
        lines += &if emit == Emit::Both { json!({ "document": record }).to_string() } else { record.to_string() };
        lines.push('\n');
    }
    out.write_all(lines.as_bytes())?;
    out.flush()
}

/// The stages of a run, started: the models loaded on their own thread, which waits for word
/// pieces; the CPU stages start when [`Engine::feed`] gives them documents.
struct Engine {
    threads: usize,
    resources: Resources,
    models: ModelInfo,
    to_models: SyncSender<Item>,
    from_models: Receiver<Item>,
    infer: thread::JoinHandle<Duration>,
    model_time: Arc<std::sync::Mutex<Duration>>,
    bars: Bars,
    prepare_bar: ProgressBar,
    assemble_bar: ProgressBar,
    write_bar: ProgressBar,
}

impl Engine {
    /// Loads the resources and the model, and says how that went before any document is read.
    fn start(config: &PipelineConfig, quiet: bool, load: Loader) -> Result<Engine> {
        let threads = config.threads();
        // Failing to size the global pool only means it was sized before (tests): keep going.
        let _ = rayon::ThreadPoolBuilder::new().num_threads(threads).build_global();
        let resources = Resources::load(config)?;
        let (to_models, prep_rx) = sync_channel::<Item>(CHANNEL_BOUND);
        let (inf_tx, from_models) = sync_channel::<Item>(CHANNEL_BOUND);
        let (ready_tx, ready_rx) = sync_channel::<Result<ModelInfo>>(1);
        let model_time = Arc::new(std::sync::Mutex::new(Duration::ZERO));
        let mut bars = Bars::new(quiet);
        let (prepare_bar, model_bar) = (bars.add("prepare"), bars.add("model"));
        let (assemble_bar, write_bar) = (bars.add("assemble"), bars.add("write"));
        let infer = {
            let (config, clock, vocab_size) = (config.clone(), model_time.clone(), resources.encoder.vocab_size());
            thread::spawn(move || {
                // A model file libtorch cannot take may panic inside tch: that is a load error too.
                let loaded = catch_unwind(AssertUnwindSafe(|| load(&config, vocab_size)))
                    .unwrap_or_else(|p| Err(anyhow::anyhow!("cannot load the model: {}", panic_message(&p))));
                let model = match loaded {
                    Ok(m) => m,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return Duration::ZERO;
                    }
                };
                let heads = model.heads();
                let _ = ready_tx.send(Ok(ModelInfo { described: model.describe(), categories: heads.categories().to_vec() }));
                let (batch, window) = (config.runtime.batch_size, config.runtime.max_pieces);
                serve(prep_rx, inf_tx, MODEL_CHUNK, |items: Vec<Item>| {
                    // After Ctrl-C the documents still queued pass through unprocessed.
                    if interrupt::requested() {
                        return items.into_iter().map(not_processed).collect();
                    }
                    let t = Instant::now();
                    let items = batch_or_fail(items, "model", |works| read_documents(&*model, works, batch, window));
                    model_bar.inc(items.len() as u64);
                    *clock.lock().expect("model clock") += t.elapsed();
                    release_free_memory();
                    // The model stops between batches on Ctrl-C, leaving this chunk unfinished.
                    if interrupt::requested() {
                        return items.into_iter().map(not_processed).collect();
                    }
                    items
                })
            })
        };
        let models = match ready_rx.recv() {
            Ok(Ok(info)) => info,
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(anyhow::anyhow!("the model thread stopped while loading the model")),
        };
        Ok(Engine { threads, resources, models, to_models, from_models, infer, model_time, bars, prepare_bar, assemble_bar, write_bar })
    }

    /// What the manifest records of the model and data files (their sha256s key the store).
    fn model_info(&self, config: &PipelineConfig) -> Result<serde_json::Value> {
        Ok(json!({
            "tokenizer": {"path": config.models.tokenizer, "sha256": sha256_file(&config.models.tokenizer)?},
            "model": self.models.described,
            "gazetteer": {"path": config.models.gazetteer, "version": self.resources.gazetteer.version, "sha256": sha256_file(&config.models.gazetteer)?},
        }))
    }

    /// Reads `raws` on a thread of its own and runs them through the stages; the finished
    /// documents come out of [`Flow::items`] in input order. With a store, documents it has
    /// already seen skip the work.
    fn feed(
        self,
        config: &PipelineConfig,
        raws: impl Iterator<Item = Result<RawDocument, DocError>> + Send + 'static,
        store: Option<Arc<Store>>,
    ) -> Flow {
        let Engine { threads, resources, models, to_models, from_models, infer, model_time, bars, prepare_bar, assemble_bar, write_bar } = self;
        let Resources { encoder, gazetteer, lexicon, attribution } = resources;
        let (raw_tx, raw_rx) = sync_channel::<Result<RawDocument, DocError>>(CHANNEL_BOUND);
        let (asm_tx, asm_rx) = sync_channel::<Item>(CHANNEL_BOUND);
        let reader = thread::spawn(move || {
            for raw in raws {
                if interrupt::requested() || raw_tx.send(raw).is_err() {
                    break;
                }
            }
        });
        let chunk = (threads * 4).max(8);
        let prepare_stage = stage(raw_rx, to_models, chunk, move |raws: Vec<Result<RawDocument, DocError>>| {
            let out: Vec<Item> = raws
                .into_par_iter()
                .map(|raw| raw.and_then(|r| guarded(&r.id.clone(), "ingest", || prepare(r, &encoder, store.as_deref()))?))
                .collect();
            prepare_bar.inc(out.len() as u64);
            out
        });
        let thresholds = config.thresholds.clone();
        let sieve = config.attribution.sieve.clone();
        let categories = models.categories;
        let assemble_stage = stage(from_models, asm_tx, chunk, move |items: Vec<Item>| {
            let assembler = Assembler { lexicon: &lexicon, thresholds: &thresholds, categories: &categories };
            let sieve = Sieve { rules: &sieve, lexicon: &attribution, gazetteer: &gazetteer };
            let out: Vec<Item> = items
                .into_par_iter()
                .map(|item| {
                    let mut w = item?;
                    if w.stored.is_some() {
                        return Ok(w);
                    }
                    let id = w.doc.id.clone();
                    guarded(&id, "assemble", || {
                        resolve::resolve(&mut w.doc, &w.mentions, &gazetteer, thresholds.entity);
                        let kinds: Vec<Vec<ClaimType>> = w.doc.scores.iter().map(|s| assembler.kinds(s).map(|(kind, _)| kind).collect()).collect();
                        let attributions = sieve.attribute(&mut w.doc, &kinds);
                        assembler.assemble(&mut w.doc, &attributions);
                    })?;
                    Ok(w)
                })
                .collect();
            assemble_bar.inc(out.len() as u64);
            out
        });
        Flow { items: asm_rx, bars, write_bar, reader, infer, prepare_stage, assemble_stage, model_time }
    }
}

/// A run's documents on their way: take them from `items`, then [`Flow::finish`].
struct Flow {
    items: Receiver<Item>,
    bars: Bars,
    write_bar: ProgressBar,
    reader: thread::JoinHandle<()>,
    infer: thread::JoinHandle<Duration>,
    prepare_stage: thread::JoinHandle<Duration>,
    assemble_stage: thread::JoinHandle<Duration>,
    model_time: Arc<std::sync::Mutex<Duration>>,
}

impl Flow {
    /// Waits for every stage and returns the time each was busy (`write` is the caller's).
    fn finish(self, write: Duration) -> [(&'static str, Duration); 4] {
        let Flow { items, bars, reader, infer, prepare_stage, assemble_stage, model_time, .. } = self;
        // Whatever the caller left unread is dropped, so the stages drain and stop.
        drop(items);
        reader.join().expect("reader thread");
        infer.join().expect("model stage");
        let model = *model_time.lock().expect("model clock");
        let busy = [
            ("prepare", prepare_stage.join().expect("prepare stage")),
            ("model", model),
            ("assemble", assemble_stage.join().expect("assemble stage")),
            ("write", write),
        ];
        bars.finish();
        busy
    }
}

/// A document Ctrl-C kept from the models.
fn not_processed(item: Item) -> Item {
    item.and_then(|w| Err(DocError::new(w.doc.id, INTERRUPTED, "not processed: the run was interrupted")))
}

/// What decides a document's output besides its bytes: models, lexicons, output settings.
/// Batch size, threads and device are left out: they do not change the output.
fn fingerprint(config: &PipelineConfig, models: &serde_json::Value) -> String {
    let hashes: Vec<&serde_json::Value> = ["tokenizer", "model", "gazetteer"].iter().map(|m| &models[m]["sha256"]).collect();
    let what = json!({
        "claimex": env!("CARGO_PKG_VERSION"),
        // The program itself shapes the output too (its rules, the data files it embeds): a
        // rebuilt claimex does not reuse what an older build saved.
        "program": program_sha256(),
        "models": hashes,
        "thresholds": config.thresholds,
        "attribution": config.attribution,
        "max_pieces": config.runtime.max_pieces,
        "precision": config.runtime.precision,
    });
    format!("{:x}", Sha256::digest(what.to_string().as_bytes()))
}

/// sha256 of the running executable; None where it cannot be read (the store then keys on the
/// version alone).
fn program_sha256() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let bytes = std::fs::read(exe).ok()?;
    Some(format!("{:x}", Sha256::digest(&bytes)))
}

/// ingest → segment → word pieces for one document.
fn prepare(raw: RawDocument, encoder: &Encoder, store: Option<&Store>) -> Item {
    let sha256 = format!("{:x}", Sha256::digest(&raw.bytes));
    let bytes = raw.bytes.len();
    let key = store.map(|s| store::key(s.fingerprint(), &raw.id, &sha256));
    let saved = match (store, &key) {
        (Some(store), Some(key)) => store.load(key, &raw.id),
        _ => Saved::Missing,
    };
    let notice = match saved {
        Saved::Found(stored) => {
            let doc = Document { id: raw.id, origin: raw.origin, ..Default::default() };
            return Ok(Work { doc, key, stored: Some(stored), sha256, bytes, pieces: Vec::new(), mentions: Vec::new(), notice: None });
        }
        Saved::Invalid(why) => Some(format!("document {}: its saved result is refused ({why}); processing it again", raw.id)),
        Saved::Missing => None,
    };
    let origin = raw.origin.clone();
    let mut doc = ingest::ingest(raw).map_err(|e| DocError { origin: Some(origin), ..e })?;
    segment::segment(&mut doc);
    let pieces = doc
        .sentences
        .iter()
        .map(|s| encoder.encode(&s.text))
        .collect::<Result<Vec<_>>>()
        .map_err(|e| DocError::new(doc.id.clone(), "segment", e.to_string()))?;
    Ok(Work { doc, key, stored: None, sha256, bytes, pieces, mentions: Vec::new(), notice })
}

/// Runs one document's step, turning a panic into that document's error.
fn guarded<T>(doc: &str, stage: &'static str, f: impl FnOnce() -> T) -> Result<T, DocError> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| DocError::new(doc, stage, format!("internal error: {}", panic_message(&p))))
}

pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panic".into())
}

/// Runs a model over the documents of a chunk together; if it fails, each of them fails with
/// its error and the run goes on.
fn batch_or_fail(mut items: Vec<Item>, stage: &'static str, f: impl FnOnce(&mut Vec<&mut Work>)) -> Vec<Item> {
    let mut works: Vec<&mut Work> = items.iter_mut().filter_map(|i| i.as_mut().ok()).collect();
    let failed = guarded("", stage, || f(&mut works)).err();
    match failed {
        None => items,
        Some(e) => items
            .into_iter()
            .map(|i| i.and_then(|w| Err(DocError { doc: w.doc.id, ..e.clone() })))
            .collect(),
    }
}

/// A worker thread: takes what is waiting on `rx` (up to `chunk` items, at least one), maps it
/// with `f`, sends the results on in order. Returns the time it spent working.
fn stage<I: Send + 'static, O: Send + 'static>(
    rx: Receiver<I>,
    tx: SyncSender<O>,
    chunk: usize,
    f: impl FnMut(Vec<I>) -> Vec<O> + Send + 'static,
) -> thread::JoinHandle<Duration> {
    thread::spawn(move || serve(rx, tx, chunk, f))
}

/// A worker's loop, on the calling thread.
fn serve<I, O>(rx: Receiver<I>, tx: SyncSender<O>, chunk: usize, mut f: impl FnMut(Vec<I>) -> Vec<O>) -> Duration {
    let mut busy = Duration::ZERO;
    while let Ok(first) = rx.recv() {
        let mut items = vec![first];
        while items.len() < chunk {
            match rx.try_recv() {
                Ok(i) => items.push(i),
                Err(_) => break,
            }
        }
        let t = Instant::now();
        let out = f(items);
        busy += t.elapsed();
        for o in out {
            if tx.send(o).is_err() {
                return busy;
            }
        }
    }
    busy
}

/// Hands the allocator's free pages back to the system. The model stage's activation tensors
/// come in many sizes (one per batch width); glibc reuses freed blocks for them, its heaps
/// fragment, and without this the peak RSS creeps up over a long run.
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: malloc_trim only returns free memory to the system; it is thread-safe.
        unsafe {
            malloc_trim(0);
        }
    }
}

/// The model stage: reads the sentences of the documents in one sorted batch run, then decodes
/// each sentence's entities.
fn read_documents(model: &dyn Model, works: &mut [&mut Work], batch: usize, window: usize) {
    let readings = {
        let texts: Vec<Text> =
            works.iter().map(|w| Text { pieces: &w.pieces, paragraphs: w.doc.sentences.iter().map(|s| s.paragraph).collect() }).collect();
        reader::read(model, &texts, batch, window)
    };
    let heads = model.heads();
    for (w, sentences) in works.iter_mut().zip(readings) {
        let Work { doc, pieces, mentions, .. } = &mut **w;
        let mut holders = Vec::with_capacity(sentences.len());
        *mentions = Vec::with_capacity(sentences.len());
        for ((p, s), r) in pieces.iter().zip(&doc.sentences).zip(&sentences) {
            let words = piece_words(p);
            mentions.push(ner::entities(&heads.ner, &s.text, p, &r.ner, &words));
            holders.push(ner::spans(&heads.roles, &s.text, p, &r.roles, &words).into_iter().filter(|t| t.kind == "HOLDER").map(|t| (t.start, t.end)).collect());
        }
        doc.holders = holders;
        doc.scores = sentences.into_iter().map(|r| r.scores).collect();
    }
}

fn sha256_file(path: &std::path::Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(format!("{:x}", Sha256::digest(&bytes)))
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// One progress line per stage on a terminal; nothing otherwise (or with --quiet).
struct Bars {
    multi: MultiProgress,
    bars: Vec<ProgressBar>,
    visible: bool,
}

impl Bars {
    fn new(quiet: bool) -> Self {
        let visible = !quiet && std::io::stderr().is_terminal();
        let multi = MultiProgress::with_draw_target(if visible { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() });
        Bars { multi, bars: Vec::new(), visible }
    }

    fn add(&mut self, name: &str) -> ProgressBar {
        let bar = self.multi.add(ProgressBar::new_spinner());
        bar.set_style(ProgressStyle::with_template("{spinner} {prefix:>9} {pos:>7} docs  {per_sec}").expect("template"));
        bar.set_prefix(name.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        self.bars.push(bar.clone());
        bar
    }

    fn println(&self, line: &str) {
        if self.visible {
            let _ = self.multi.println(line);
        } else {
            eprintln!("{line}");
        }
    }

    fn finish(&self) {
        for b in &self.bars {
            b.finish();
        }
    }
}

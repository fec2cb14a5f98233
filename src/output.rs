//! The write stage's files: claims.jsonl, documents.jsonl and manifest.json in the output folder,
//! regenerated from the store (src/store.rs) at the end of a run. Each is written under a
//! temporary name, synced, and renamed into place: a reader never sees a half-written file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::{json, Value};

use crate::document::Document;
use crate::store::{write_atomic, IndexEntry, Store, Stored};

/// What the output files hold, for the manifest.
#[derive(Debug, Default, Serialize)]
pub struct Totals {
    pub documents: usize,
    pub sentences: usize,
    pub entities: usize,
    pub claims: usize,
}

/// A JSONL file being written under a temporary name.
struct PendingFile {
    tmp: PathBuf,
    path: PathBuf,
    out: BufWriter<File>,
}

impl PendingFile {
    fn create(dir: &Path, name: &str) -> Result<Self> {
        let path = dir.join(name);
        let tmp = dir.join(format!(".{name}.{}.partial", std::process::id()));
        let file = File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        Ok(PendingFile { tmp, path, out: BufWriter::new(file) })
    }

    fn line(&mut self, value: &Value) -> Result<()> {
        serde_json::to_writer(&mut self.out, value)?;
        self.out.write_all(b"\n").with_context(|| format!("cannot write {}", self.tmp.display()))
    }

    fn commit(self) -> Result<()> {
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&self.tmp, &self.path).with_context(|| format!("cannot write {}", self.path.display()))
    }
}

/// Writes claims.jsonl (and documents.jsonl) for the given documents, in their order.
pub fn write_outputs(dir: &Path, store: &Store, entries: &[IndexEntry], documents: bool) -> Result<Totals> {
    let mut claims = PendingFile::create(dir, "claims.jsonl")?;
    let mut docs = documents.then(|| PendingFile::create(dir, "documents.jsonl")).transpose()?;
    let mut totals = Totals::default();
    for e in entries {
        let stored = store
            .load(&e.key)
            .with_context(|| format!("the saved result of document {} is missing from {}; run again", e.id, dir.display()))?;
        for c in &stored.claims {
            claims.line(c)?;
        }
        if let Some(d) = docs.as_mut() {
            d.line(&stored.document)?;
        }
        totals.documents += 1;
        totals.claims += stored.claims.len();
        totals.sentences += stored.document["sentences"].as_array().map_or(0, Vec::len);
        totals.entities += stored.document["entities"].as_array().map_or(0, Vec::len);
    }
    claims.commit()?;
    if let Some(d) = docs {
        d.commit()?;
    }
    Ok(totals)
}

/// Written last: its presence and contents describe a finished run.
pub fn write_manifest(dir: &Path, manifest: &Value) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(manifest)?;
    bytes.push(b'\n');
    write_atomic(&dir.join("manifest.json"), &bytes)
}

/// A processed document's output lines, ready for the store.
pub fn stored(doc: &Document, sha256: String, bytes: usize) -> Result<Stored> {
    Ok(Stored {
        id: doc.id.clone(),
        origin: doc.origin.clone(),
        sha256,
        bytes,
        document: document_record(doc),
        claims: doc.claims.iter().map(serde_json::to_value).collect::<Result<_, _>>()?,
    })
}

fn span_text(doc: &Document, start: usize, end: usize) -> String {
    doc.source.chars().skip(start).take(end - start).collect()
}

/// One line of documents.jsonl: the document's structure and entities, all spans in code
/// points of the source.
pub fn document_record(doc: &Document) -> Value {
    json!({
        "id": doc.id,
        "origin": doc.origin,
        "format": doc.format,
        "url": doc.url,
        "title": doc.title.map(|t| json!({"text": span_text(doc, t.start, t.end), "start": t.start, "end": t.end})),
        "published": doc.published,
        "dateline": doc.dateline,
        "sentences": doc.sentences.iter().map(|s| json!({
            "text": s.text, "start": s.span.start, "end": s.span.end,
            "paragraph": s.paragraph, "speaker": s.speaker, "quoted": s.quoted,
        })).collect::<Vec<_>>(),
        "entities": doc.entities,
        "claims": doc.claims.len(),
    })
}

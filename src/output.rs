//! The write stage's files: claims.jsonl, documents.jsonl and manifest.json in the output folder,
//! regenerated from the store (src/store.rs) at the end of a run.
//!
//! They change together: all three are written in full under temporary names and synced first,
//! then renamed into place (documents, claims, manifest last). The manifest names the sha256 and
//! size of the other two, so it is the record of a whole set: a reader that finds them matching
//! has one run's files, and a run killed between the renames leaves a mismatch that [`verify`]
//! reports and the next run repairs.

use std::path::Path;

use anyhow::{bail, Result};
use serde::Serialize;
use serde_json::{json, Value};

use crate::document::Document;
use crate::outdir::{read_own, Pending};
use crate::store::{IndexEntry, Saved, Store, Stored};

/// What the output files hold, for the manifest.
#[derive(Debug, Default, Serialize)]
pub struct Totals {
    pub documents: usize,
    pub sentences: usize,
    pub entities: usize,
    pub claims: usize,
}

/// The output files, written and synced under temporary names, not yet in place.
pub struct OutputSet {
    claims: Pending,
    documents: Option<Pending>,
    pub totals: Totals,
    /// The documents the files hold, in order.
    pub entries: Vec<IndexEntry>,
    /// Documents left out because their saved result could not be used, with the reason.
    pub dropped: Vec<String>,
}

const MODE: u32 = 0o644;

/// Writes claims.jsonl (and documents.jsonl) for the given documents, in their order, under
/// temporary names.
pub fn prepare(store: &Store, entries: &[IndexEntry], documents: bool) -> Result<OutputSet> {
    let dir = store.dir();
    let mut claims = store.out().create(dir.join("claims.jsonl"), MODE)?;
    let mut docs = documents.then(|| store.out().create(dir.join("documents.jsonl"), MODE)).transpose()?;
    let (mut totals, mut kept, mut dropped) = (Totals::default(), Vec::new(), Vec::new());
    for e in entries {
        let stored = match store.load(&e.key, &e.id) {
            Saved::Found(s) => s,
            Saved::Missing => {
                dropped.push(format!("document {}: its saved result is missing; give it as input again", e.id));
                continue;
            }
            Saved::Invalid(why) => {
                dropped.push(format!("document {}: its saved result is refused ({why}); give it as input again", e.id));
                continue;
            }
        };
        for c in &stored.claims {
            claims.write(format!("{c}\n").as_bytes())?;
        }
        if let Some(d) = docs.as_mut() {
            d.write(format!("{}\n", stored.document).as_bytes())?;
        }
        totals.documents += 1;
        totals.claims += stored.claims.len();
        totals.sentences += stored.document["sentences"].as_array().map_or(0, Vec::len);
        totals.entities += stored.document["entities"].as_array().map_or(0, Vec::len);
        kept.push(e.clone());
    }
    claims.finish()?;
    if let Some(d) = docs.as_mut() {
        d.finish()?;
    }
    Ok(OutputSet { claims, documents: docs, totals, entries: kept, dropped })
}

impl OutputSet {
    /// What the manifest records of the files: sha256 and size of each.
    pub fn files(&self) -> Value {
        let mut files = serde_json::Map::new();
        for (name, file) in [("claims.jsonl", Some(&self.claims)), ("documents.jsonl", self.documents.as_ref())] {
            if let Some(f) = file {
                let (sha256, bytes) = f.digest();
                files.insert(name.into(), json!({"sha256": sha256, "bytes": bytes}));
            }
        }
        Value::Object(files)
    }

    /// Puts the files in place, the manifest last.
    pub fn commit(self, store: &Store, manifest: &Value) -> Result<()> {
        let mut bytes = serde_json::to_vec_pretty(manifest)?;
        bytes.push(b'\n');
        let mut m = store.out().create(store.dir().join("manifest.json"), MODE)?;
        m.write(&bytes)?;
        m.finish()?;
        if let Some(d) = self.documents {
            d.commit()?;
        }
        self.claims.commit()?;
        m.commit()?;
        store.out().sync();
        Ok(())
    }
}

/// Whether the output folder holds one whole set: every file the manifest names has the sha256
/// and size it records. Err says what does not match.
pub fn verify(dir: &Path) -> Result<()> {
    let Some(manifest) = read_own(&dir.join("manifest.json"))? else {
        bail!("{} has no manifest.json", dir.display());
    };
    let manifest: Value = serde_json::from_slice(&manifest)?;
    let Some(files) = manifest["outputs"].as_object() else {
        bail!("{}/manifest.json names no output files", dir.display());
    };
    for (name, want) in files {
        let got = read_own(&dir.join(name))?.unwrap_or_default();
        let sha256 = format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(&got));
        if want["sha256"] != sha256.as_str() || want["bytes"] != got.len() {
            bail!("{} is not the {name} that manifest.json records (an interrupted run; the next run rewrites it)", dir.join(name).display());
        }
    }
    Ok(())
}

/// A processed document's output lines, ready for the store.
pub fn stored(doc: &Document, sha256: String, bytes: usize, fingerprint: &str) -> Result<Stored> {
    let claims = doc.claims.iter().map(serde_json::to_value).collect::<Result<_, _>>()?;
    Ok(Stored::new(doc.id.clone(), doc.origin.clone(), sha256, bytes, fingerprint, document_record(doc), claims))
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

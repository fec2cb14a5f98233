//! The output folder's memory of what it has seen, which makes runs incremental and crash-safe.
//!
//! Every finished document's output lines are saved at once in `DIR/.claimex/results/<key>.json`
//! (temp file, fsync, rename), keyed by the hash of the pipeline's fingerprint (models, config
//! that changes output), the document id and its bytes. A rerun finds them and skips the work.
//! `DIR/.claimex/index.json` lists the documents of the output in first-seen order; the output
//! files are regenerated from it at the end of every run, so they always equal a from-scratch
//! run over the same documents, and a run killed at any moment leaves the previous outputs whole.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// One document's output lines, as saved.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Stored {
    pub id: String,
    pub origin: String,
    pub sha256: String,
    pub bytes: usize,
    pub document: Value,
    pub claims: Vec<Value>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct IndexEntry {
    pub id: String,
    pub key: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    fingerprint: String,
    documents: Vec<IndexEntry>,
}

pub struct Store {
    root: PathBuf,
    fingerprint: String,
    previous: Index,
    /// Whether an index from an earlier run was found but made with other models or settings.
    pub stale: Option<usize>,
}

/// The key of a document's result: what it is and what read it.
pub fn key(fingerprint: &str, id: &str, bytes: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(fingerprint.as_bytes());
    h.update([0]);
    h.update(id.as_bytes());
    h.update([0]);
    h.update(bytes);
    format!("{:x}", h.finalize())
}

impl Store {
    pub fn open(out_dir: &Path, fingerprint: &str) -> Result<Store> {
        let root = out_dir.join(".claimex");
        let results = root.join("results");
        std::fs::create_dir_all(&results).with_context(|| format!("cannot create {}", results.display()))?;
        let index_path = root.join("index.json");
        let found: Index = match std::fs::read(&index_path) {
            Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| format!("corrupt {}", index_path.display()))?,
            Err(_) => Index::default(),
        };
        let (previous, stale) = if found.fingerprint == fingerprint || found.documents.is_empty() {
            (found, None)
        } else {
            let n = found.documents.len();
            (Index::default(), Some(n))
        };
        Ok(Store { root, fingerprint: fingerprint.to_string(), previous, stale })
    }

    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    fn result_path(&self, key: &str) -> PathBuf {
        self.root.join("results").join(format!("{key}.json"))
    }

    pub fn load(&self, key: &str) -> Option<Stored> {
        let bytes = std::fs::read(self.result_path(key)).ok()?;
        // A result that does not parse is treated as absent: the document is processed again.
        serde_json::from_slice(&bytes).ok()
    }

    pub fn save(&self, key: &str, stored: &Stored) -> Result<()> {
        write_atomic(&self.result_path(key), &serde_json::to_vec(stored)?)
    }

    /// The documents of the output after this run: the earlier ones in their order (replaced
    /// where this run read a new version), then this run's new ids in input order.
    pub fn merged(&self, run: &[IndexEntry]) -> Vec<IndexEntry> {
        let mut fresh: HashMap<&str, &str> = run.iter().map(|e| (e.id.as_str(), e.key.as_str())).collect();
        let mut out: Vec<IndexEntry> = self
            .previous
            .documents
            .iter()
            .map(|e| IndexEntry { id: e.id.clone(), key: fresh.remove(e.id.as_str()).unwrap_or(&e.key).to_string() })
            .collect();
        out.extend(run.iter().filter(|e| fresh.contains_key(e.id.as_str())).cloned());
        out
    }

    /// Records the output's documents and removes results no longer referenced.
    pub fn commit(&self, documents: &[IndexEntry]) -> Result<()> {
        let index = Index { fingerprint: self.fingerprint.clone(), documents: documents.to_vec() };
        write_atomic(&self.root.join("index.json"), &serde_json::to_vec_pretty(&index)?)?;
        let keep: HashSet<String> = documents.iter().map(|e| format!("{}.json", e.key)).collect();
        for entry in std::fs::read_dir(self.root.join("results"))?.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if !keep.contains(&name) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(())
    }
}

/// Writes a file so that it is either absent, the old version, or whole: temp file, fsync,
/// rename, fsync of the folder.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.partial", std::process::id()));
    let mut file = File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    file.write_all(bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    file.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    File::open(dir).and_then(|d| d.sync_all()).ok();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, key: &str) -> IndexEntry {
        IndexEntry { id: id.into(), key: key.into() }
    }

    #[test]
    fn merge_keeps_first_seen_order_and_replaces_changed_documents() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "f").unwrap();
        store.commit(&[entry("a", "1"), entry("b", "2")]).unwrap();
        let store = Store::open(dir.path(), "f").unwrap();
        let merged = store.merged(&[entry("c", "3"), entry("b", "9")]);
        let got: Vec<(&str, &str)> = merged.iter().map(|e| (e.id.as_str(), e.key.as_str())).collect();
        assert_eq!(got, vec![("a", "1"), ("b", "9"), ("c", "3")]);
    }

    #[test]
    fn another_fingerprint_starts_afresh() {
        let dir = tempfile::tempdir().unwrap();
        Store::open(dir.path(), "f").unwrap().commit(&[entry("a", "1")]).unwrap();
        let store = Store::open(dir.path(), "g").unwrap();
        assert_eq!(store.stale, Some(1));
        assert!(store.merged(&[]).is_empty());
    }

    #[test]
    fn results_round_trip_and_unreferenced_ones_go() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), "f").unwrap();
        let s = Stored { id: "a".into(), origin: "a.txt".into(), sha256: "x".into(), bytes: 1, document: Value::Null, claims: vec![] };
        store.save("k1", &s).unwrap();
        store.save("k2", &s).unwrap();
        assert_eq!(store.load("k1").unwrap().id, "a");
        store.commit(&[entry("a", "k1")]).unwrap();
        assert!(store.load("k2").is_none());
    }
}

//! The output folder's memory of what it has seen, which makes runs incremental and crash-safe.
//!
//! Every finished document's output lines are saved at once in `DIR/.claimex/results/<key>.json`
//! (temp file, fsync, rename), keyed by the hash of the pipeline's fingerprint (models, config
//! that changes output), the document id and its bytes. A rerun finds them and skips the work.
//! `DIR/.claimex/index.json` lists the documents of the output in first-seen order; the output
//! files are regenerated from it at the end of every run, so they always equal a from-scratch
//! run over the same documents, and a run killed at any moment leaves the previous outputs whole.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::outdir::{read_own, OutputDir};

/// One document's output lines, as saved, with what they were made from.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Stored {
    pub id: String,
    pub origin: String,
    /// sha256 of the input bytes.
    pub sha256: String,
    pub bytes: usize,
    /// The pipeline fingerprint that made it; with `id` and `sha256` it hashes to the file's key.
    pub fingerprint: String,
    /// sha256 of `document` and `claims` as saved: an edited result is not reused.
    pub checksum: String,
    pub document: Value,
    pub claims: Vec<Value>,
}

impl Stored {
    pub fn new(id: String, origin: String, sha256: String, bytes: usize, fingerprint: &str, document: Value, claims: Vec<Value>) -> Stored {
        let checksum = checksum(&document, &claims);
        Stored { id, origin, sha256, bytes, fingerprint: fingerprint.to_string(), checksum, document, claims }
    }

    /// Why this result may not stand for document `id` under `key`, if it may not.
    fn mismatch(&self, key: &str, id: &str, fingerprint: &str) -> Option<&'static str> {
        if self.id != id {
            Some("it belongs to another document")
        } else if self.fingerprint != fingerprint {
            Some("it was made with other models or settings")
        } else if self::key(&self.fingerprint, &self.id, &self.sha256) != key {
            Some("its key does not match its contents")
        } else if checksum(&self.document, &self.claims) != self.checksum {
            Some("its contents were changed after it was saved")
        } else {
            None
        }
    }
}

fn checksum(document: &Value, claims: &[Value]) -> String {
    let mut h = Sha256::new();
    h.update(document.to_string());
    for c in claims {
        h.update([b'\n']);
        h.update(c.to_string());
    }
    format!("{:x}", h.finalize())
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

/// What looking up a saved result found.
pub enum Saved {
    Missing,
    Found(Stored),
    /// A file is there but may not be used; the reason says why.
    Invalid(String),
}

pub struct Store {
    out: OutputDir,
    fingerprint: String,
    previous: Index,
    /// Whether an index from an earlier run was found but made with other models or settings.
    pub stale: Option<usize>,
    /// What the user should hear about the saved state (entries dropped, files refused).
    pub notices: Vec<String>,
}

/// The key of a document's result: what it is and what read it. Always 64 hex digits.
pub fn key(fingerprint: &str, id: &str, sha256: &str) -> String {
    let mut h = Sha256::new();
    h.update(fingerprint.as_bytes());
    h.update([0]);
    h.update(id.as_bytes());
    h.update([0]);
    h.update(sha256.as_bytes());
    format!("{:x}", h.finalize())
}

fn is_key(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Store {
    pub fn open(out: OutputDir, fingerprint: &str) -> Result<Store> {
        let index_path = out.state("index.json");
        let mut notices = Vec::new();
        let found: Index = match read_own(&index_path)? {
            Some(bytes) => serde_json::from_slice(&bytes).with_context(|| format!("corrupt {}", index_path.display()))?,
            None => Index::default(),
        };
        let (mut previous, stale) = if found.fingerprint == fingerprint || found.documents.is_empty() {
            (found, None)
        } else {
            let n = found.documents.len();
            (Index::default(), Some(n))
        };
        // Keys become file names: anything but our own hash format is dropped, never joined.
        previous.documents.retain(|e| {
            let ok = is_key(&e.key);
            if !ok {
                notices.push(format!("{}: entry for document {} has an invalid key; dropped", index_path.display(), e.id));
            }
            ok
        });
        Ok(Store { out, fingerprint: fingerprint.to_string(), previous, stale, notices })
    }

    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    pub fn out(&self) -> &OutputDir {
        &self.out
    }

    fn result_path(&self, key: &str) -> PathBuf {
        debug_assert!(is_key(key));
        self.out.state("results").join(format!("{key}.json"))
    }

    /// The result saved under `key` for document `id`, checked against its contents.
    pub fn load(&self, key: &str, id: &str) -> Saved {
        if !is_key(key) {
            return Saved::Invalid(format!("{key:?} is not a result key"));
        }
        let path = self.result_path(key);
        let bytes = match read_own(&path) {
            Ok(Some(b)) => b,
            Ok(None) => return Saved::Missing,
            Err(e) => return Saved::Invalid(format!("{e:#}")),
        };
        let stored: Stored = match serde_json::from_slice(&bytes) {
            Ok(s) => s,
            Err(e) => return Saved::Invalid(format!("{} does not parse: {e}", path.display())),
        };
        match stored.mismatch(key, id, &self.fingerprint) {
            Some(why) => Saved::Invalid(format!("{}: {why}", path.display())),
            None => Saved::Found(stored),
        }
    }

    pub fn save(&self, key: &str, stored: &Stored) -> Result<()> {
        self.out.write_atomic(self.result_path(key), &serde_json::to_vec(stored)?, 0o600)
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

    /// Records the output's documents.
    pub fn record(&self, documents: &[IndexEntry]) -> Result<()> {
        let index = Index { fingerprint: self.fingerprint.clone(), documents: documents.to_vec() };
        self.out.write_atomic(self.out.state("index.json"), &serde_json::to_vec_pretty(&index)?, 0o600)
    }

    /// Removes the results no longer referenced: only files named as claimex names results,
    /// inside its own results folder. What cannot be removed now goes at a later run.
    pub fn prune(&self, documents: &[IndexEntry]) {
        let ours = Regex::new(r"^[0-9a-f]{64}\.json$").expect("pattern");
        let keep: HashSet<String> = documents.iter().map(|e| format!("{}.json", e.key)).collect();
        let Ok(entries) = std::fs::read_dir(self.out.state("results")) else { return };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if ours.is_match(&name) && !keep.contains(&name) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        self.out.sync();
    }

    pub fn dir(&self) -> &Path {
        self.out.path()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, key: &str) -> IndexEntry {
        IndexEntry { id: id.into(), key: key.into() }
    }

    fn k(n: u8) -> String {
        format!("{:064x}", n)
    }

    fn open(dir: &Path, fingerprint: &str) -> Store {
        Store::open(OutputDir::open(dir).unwrap(), fingerprint).unwrap()
    }

    fn result(id: &str, sha: &str, fingerprint: &str) -> (String, Stored) {
        let s = Stored::new(id.into(), format!("{id}.txt"), sha.into(), 1, fingerprint, Value::Null, vec![serde_json::json!({"type": "threat"})]);
        (key(fingerprint, id, sha), s)
    }

    #[test]
    fn merge_keeps_first_seen_order_and_replaces_changed_documents() {
        let dir = tempfile::tempdir().unwrap();
        open(dir.path(), "f").record(&[entry("a", &k(1)), entry("b", &k(2))]).unwrap();
        let store = open(dir.path(), "f");
        let merged = store.merged(&[entry("c", &k(3)), entry("b", &k(9))]);
        let got: Vec<(&str, &str)> = merged.iter().map(|e| (e.id.as_str(), e.key.as_str())).collect();
        assert_eq!(got, vec![("a", k(1).as_str()), ("b", k(9).as_str()), ("c", k(3).as_str())]);
    }

    #[test]
    fn another_fingerprint_starts_afresh() {
        let dir = tempfile::tempdir().unwrap();
        open(dir.path(), "f").record(&[entry("a", &k(1))]).unwrap();
        let store = open(dir.path(), "g");
        assert_eq!(store.stale, Some(1));
        assert!(store.merged(&[]).is_empty());
    }

    #[test]
    fn results_round_trip_and_unreferenced_ones_go() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path(), "f");
        let (k1, a) = result("a", "1", "f");
        let (k2, b) = result("b", "2", "f");
        store.save(&k1, &a).unwrap();
        store.save(&k2, &b).unwrap();
        std::fs::write(store.out().state("results").join("notes.txt"), "not ours").unwrap();
        assert!(matches!(store.load(&k1, "a"), Saved::Found(s) if s.id == "a"));
        store.prune(&[entry("a", &k1)]);
        assert!(matches!(store.load(&k2, "b"), Saved::Missing));
        assert!(store.out().state("results").join("notes.txt").exists());
    }

    #[test]
    fn index_keys_that_are_not_hashes_are_never_joined_into_paths() {
        let dir = tempfile::tempdir().unwrap();
        drop(open(dir.path(), "f"));
        let index = serde_json::json!({"fingerprint": "f", "documents": [{"id": "x", "key": "../../../etc/passwd"}, {"id": "a", "key": k(1)}]});
        std::fs::write(dir.path().join(".claimex/index.json"), index.to_string()).unwrap();
        let store = open(dir.path(), "f");
        assert_eq!(store.merged(&[]).len(), 1);
        assert!(store.notices[0].contains("document x has an invalid key"), "{:?}", store.notices);
        assert!(matches!(store.load("../x", "x"), Saved::Invalid(_)));
    }

    #[test]
    fn edited_swapped_or_linked_results_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path(), "f");
        let (ka, a) = result("a", "1", "f");
        let (kb, b) = result("b", "2", "f");
        store.save(&ka, &a).unwrap();
        store.save(&kb, &b).unwrap();
        let path = |key: &str| store.out().state("results").join(format!("{key}.json"));
        // Edited: a claim injected into valid JSON.
        let mut edited = a.clone();
        edited.claims.push(serde_json::json!({"type": "stance"}));
        std::fs::write(path(&ka), serde_json::to_vec(&edited).unwrap()).unwrap();
        assert!(matches!(store.load(&ka, "a"), Saved::Invalid(why) if why.contains("changed after it was saved")));
        // Another document's result under this key, as a copy and as a link.
        std::fs::copy(path(&kb), path(&ka)).unwrap();
        assert!(matches!(store.load(&ka, "a"), Saved::Invalid(why) if why.contains("another document")));
        std::fs::remove_file(path(&ka)).unwrap();
        std::os::unix::fs::symlink(path(&kb), path(&ka)).unwrap();
        assert!(matches!(store.load(&ka, "a"), Saved::Invalid(why) if why.contains("symbolic link")));
        // Made with other settings.
        let (kc, c) = result("c", "3", "g");
        store.save(&kc, &c).unwrap();
        assert!(matches!(store.load(&kc, "c"), Saved::Invalid(why) if why.contains("other models or settings")));
    }
}

//! `claimex eval-ner`: entity-level micro P/R/F1 on a CoNLL file (exact span and type, counted
//! as seqeval does), through the pipeline's own code path: the sentence is the tokens joined by
//! spaces, encoded as any sentence is, read in windows with its neighbours of the same document
//! (-DOCSTART- lines part documents; each sentence counts as a paragraph), and each token takes
//! its first piece's tag.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::Serialize;

use crate::encode::{Encoder, Pieces};
use crate::eval::{Counts, Prf};
use crate::ner::word_tags;
use crate::reader::{self, Model, Text};

pub struct ConllSentence {
    /// Index of its document (counted at -DOCSTART- lines).
    pub doc: usize,
    pub tokens: Vec<String>,
    pub gold: Vec<String>,
}

pub fn read_conll(path: &Path) -> Result<Vec<ConllSentence>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = Vec::new();
    let mut doc = 0;
    let mut cur = ConllSentence { doc, tokens: Vec::new(), gold: Vec::new() };
    for (n, line) in text.lines().enumerate() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts.is_empty() || parts[0] == "-DOCSTART-" {
            if !cur.tokens.is_empty() {
                out.push(std::mem::replace(&mut cur, ConllSentence { doc, tokens: Vec::new(), gold: Vec::new() }));
            }
            if !parts.is_empty() && out.last().is_some_and(|s| s.doc == doc) {
                doc += 1;
                cur.doc = doc;
            }
            continue;
        }
        if parts.len() < 2 {
            bail!("{}:{}: expected \"TOKEN ... TAG\"", path.display(), n + 1);
        }
        cur.tokens.push(parts[0].to_string());
        cur.gold.push(parts[parts.len() - 1].to_string());
    }
    if !cur.tokens.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

/// Entities of a BIO sequence as (type, first token, end token), the way seqeval reads them:
/// an I- tag that continues nothing starts an entity.
pub fn chunks(tags: &[String]) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    let mut open: Option<(String, usize)> = None;
    for (i, t) in tags.iter().chain(std::iter::once(&"O".to_string())).enumerate() {
        let (bio, kind) = if t == "O" { ("O", "") } else { t.split_at(2) };
        let continues = bio == "I-" && open.as_ref().is_some_and(|(k, _)| k == kind);
        if !continues {
            if let Some((k, s)) = open.take() {
                out.push((k, s, i));
            }
            if bio != "O" {
                open = Some((kind.to_string(), i));
            }
        }
    }
    out
}

#[derive(Serialize)]
pub struct NerReport {
    pub sentences: usize,
    pub tokens: usize,
    pub micro: Prf,
    pub per_type: BTreeMap<String, Prf>,
    pub seconds: f64,
}

pub fn evaluate(
    model: &dyn Model,
    encoder: &Encoder,
    sentences: &[ConllSentence],
    batch_size: usize,
    max_pieces: usize,
    predictions: Option<&Path>,
) -> Result<NerReport> {
    let started = std::time::Instant::now();
    let mut texts = Vec::with_capacity(sentences.len());
    let mut words = Vec::with_capacity(sentences.len());
    for s in sentences {
        let mut ranges = Vec::with_capacity(s.tokens.len());
        let mut at = 0;
        for t in &s.tokens {
            let n = t.chars().count();
            ranges.push((at, at + n));
            at += n + 1;
        }
        texts.push(s.tokens.join(" "));
        words.push(ranges);
    }
    let pieces: Vec<Pieces> = texts.iter().map(|t| encoder.encode(t)).collect::<Result<_>>()?;
    let mut texts = Vec::new();
    let mut first = 0;
    while first < sentences.len() {
        let end = (first..sentences.len()).find(|&i| sentences[i].doc != sentences[first].doc).unwrap_or(sentences.len());
        texts.push(Text { pieces: &pieces[first..end], paragraphs: (first..end).collect() });
        first = end;
    }
    let tags: Vec<Vec<_>> = reader::read(model, &texts, batch_size, max_pieces).into_iter().flatten().map(|r| r.ner).collect();
    let labels = &model.heads().ner;
    let mut per_type: BTreeMap<String, Counts> = BTreeMap::new();
    let mut out = match predictions {
        Some(p) => Some(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => None,
    };
    let mut tokens = 0;
    for (i, s) in sentences.iter().enumerate() {
        let predicted: Vec<String> = word_tags(&pieces[i], &tags[i], &words[i])
            .into_iter()
            .map(|t| t.map_or("O".to_string(), |t| labels[t.label].clone()))
            .collect();
        tokens += s.tokens.len();
        let gold = chunks(&s.gold);
        let pred = chunks(&predicted);
        for g in &gold {
            let c = per_type.entry(g.0.clone()).or_default();
            if pred.contains(g) {
                c.tp += 1;
            } else {
                c.fn_ += 1;
            }
        }
        for p in pred.iter().filter(|p| !gold.contains(p)) {
            per_type.entry(p.0.clone()).or_default().fp += 1;
        }
        if let Some(out) = out.as_mut() {
            for ((t, g), p) in s.tokens.iter().zip(&s.gold).zip(&predicted) {
                writeln!(out, "{t} {g} {p}")?;
            }
            writeln!(out)?;
        }
    }
    if let Some(mut out) = out {
        out.flush()?;
    }
    let mut micro = Counts::default();
    for c in per_type.values() {
        micro.tp += c.tp;
        micro.fp += c.fp;
        micro.fn_ += c.fn_;
    }
    Ok(NerReport {
        sentences: sentences.len(),
        tokens,
        micro: micro.prf(),
        per_type: per_type.into_iter().map(|(k, c)| (k, c.prf())).collect(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

pub fn table(r: &NerReport) -> String {
    let mut s = format!("{:<8} {:>6} {:>6} {:>6} {:>6}\n", "", "P", "R", "F1", "gold");
    for (k, p) in r.per_type.iter().map(|(k, p)| (k.as_str(), p)).chain(std::iter::once(("micro", &r.micro))) {
        s.push_str(&format!("{k:<8} {:>6.4} {:>6.4} {:>6.4} {:>6}\n", p.precision, p.recall, p.f1, p.tp + p.fn_));
    }
    s.push_str(&format!("\n{} sentences, {} tokens in {:.1}s ({:.0} sentences/s)\n", r.sentences, r.tokens, r.seconds, r.sentences as f64 / r.seconds));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn chunks_as_seqeval() {
        assert_eq!(chunks(&tags("B-PER I-PER O B-LOC")), vec![("PER".into(), 0, 2), ("LOC".into(), 3, 4)]);
        assert_eq!(chunks(&tags("I-ORG I-ORG B-ORG")), vec![("ORG".into(), 0, 2), ("ORG".into(), 2, 3)]);
        assert_eq!(chunks(&tags("B-PER I-LOC")), vec![("PER".into(), 0, 1), ("LOC".into(), 1, 2)]);
    }

    #[test]
    fn documents_part_at_docstart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.conll");
        std::fs::write(&path, "-DOCSTART- -X- O O\n\nA O\n\nB O\n\n-DOCSTART- -X- O O\n\nC B-LOC\n").unwrap();
        let docs: Vec<usize> = read_conll(&path).unwrap().iter().map(|s| s.doc).collect();
        assert_eq!(docs, [0, 0, 1]);
    }
}

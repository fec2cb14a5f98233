//! The ner stage's model: a BERT token classifier (crate::bert and a linear layer). Word pieces →
//! piece tags (long sentences in overlapping windows) → words → entity spans with scores.

use std::path::Path;

use anyhow::{bail, Result};
use tch::nn::Module;
use tch::{nn, Device, Kind};

use crate::bert::Bert;

use crate::encode::Pieces;
use crate::model::{for_each_batch, to_vec, ModelFiles};

/// The most likely label of one piece and its probability.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PieceTag {
    pub label: usize,
    pub prob: f32,
    /// How far the piece was from its window's edge (more context is better).
    depth: usize,
}

/// An entity found in a sentence, in code points of the sentence text.
#[derive(Clone, Debug, PartialEq)]
pub struct EntitySpan {
    pub start: usize,
    pub end: usize,
    /// PER, ORG, LOC, MISC.
    pub label: String,
    pub score: f32,
}

pub struct NerModel {
    _vs: nn::VarStore,
    bert: Bert,
    classifier: nn::Linear,
    labels: Vec<String>,
    device: Device,
    pub files: ModelFiles,
}

impl NerModel {
    pub fn load(dir: &Path, device: Device, kind: Kind) -> Result<Self> {
        let files = ModelFiles::open(dir)?;
        let labels = files.labels()?;
        if labels.first().map(String::as_str) != Some("O") || labels.iter().skip(1).any(|l| !l.starts_with("B-") && !l.starts_with("I-")) {
            bail!("{}: labels must be \"O\" then B-/I- tags, found {labels:?}", dir.display());
        }
        let n_labels = labels.len() as i64;
        let (vs, (bert, classifier)) = files.load(device, kind, |p, files| {
            let bert = Bert::new(&p / "bert", files)?;
            Ok((bert, nn::linear(&p / "classifier", files.config.hidden_size, n_labels, Default::default())))
        })?;
        Ok(NerModel { _vs: vs, bert, classifier, labels, device, files })
    }

    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Tags every piece of every sentence; sentences are batched by window length.
    pub fn tag(&self, sentences: &[&Pieces], batch_size: usize, max_pieces: usize) -> Vec<Vec<PieceTag>> {
        let mut out: Vec<Vec<PieceTag>> = sentences.iter().map(|p| vec![PieceTag::default(); p.ids.len()]).collect();
        for_each_batch(sentences, batch_size, max_pieces, self.device, |chunk, batch| {
            let logits = self.classifier.forward(&self.bert.forward(&batch.ids, &batch.types, &batch.mask));
            let (best_prob, best) = logits.softmax(-1, Kind::Float).max_dim(-1, false);
            let width = batch.ids.size()[1] as usize;
            let probs = to_vec(&best_prob);
            let labels: Vec<i64> = Vec::<i64>::try_from(&best.to_device(Device::Cpu).view(-1)).expect("label ids");
            for (r, w) in chunk.iter().enumerate() {
                let n = w.ids.len() - 2;
                for k in 0..n {
                    let depth = k.min(n - 1 - k);
                    let slot = &mut out[w.item][w.first + k];
                    // Keep the reading from the window where the piece sits deepest.
                    if slot.prob == 0.0 || depth > slot.depth {
                        let at = r * width + k + 1;
                        *slot = PieceTag { label: labels[at] as usize, prob: probs[at], depth };
                    }
                }
            }
        });
        out
    }

    /// Entities over the given words (code-point ranges in the sentence): a word takes the tag of
    /// its first piece; BIO is decoded over words, an I- tag that continues nothing starting one.
    /// A comma or semicolon ends an entity ("UN, OSCE" are two).
    pub fn entities(&self, text: &str, pieces: &Pieces, tags: &[PieceTag], words: &[(usize, usize)]) -> Vec<EntitySpan> {
        let chars: Vec<char> = text.chars().collect();
        let word_tags = word_tags(pieces, tags, words);
        let mut out: Vec<EntitySpan> = Vec::new();
        let mut open: Option<(EntitySpan, usize)> = None; // entity, word count
        for (w, tag) in words.iter().zip(word_tags) {
            let separator = w.1 == w.0 + 1 && chars.get(w.0).is_some_and(|c| matches!(c, ',' | ';'));
            let label = if separator { None } else { tag.map(|t| (self.labels[t.label].as_str(), t.prob)) };
            match label {
                Some((l, p)) if l != "O" => {
                    let (bio, kind) = l.split_at(2);
                    if let Some((e, n)) = open.as_mut() {
                        if bio == "I-" && e.label == kind {
                            e.end = w.1;
                            e.score += p;
                            *n += 1;
                            continue;
                        }
                    }
                    if let Some((e, n)) = open.take() {
                        out.push(finish(e, n));
                    }
                    open = Some((EntitySpan { start: w.0, end: w.1, label: kind.to_string(), score: p }, 1));
                }
                _ => {
                    if let Some((e, n)) = open.take() {
                        out.push(finish(e, n));
                    }
                }
            }
        }
        if let Some((e, n)) = open.take() {
            out.push(finish(e, n));
        }
        out
    }
}

fn finish(mut e: EntitySpan, words: usize) -> EntitySpan {
    e.score /= words as f32;
    e
}

/// The tag of each word's first piece (None for a word with no piece, e.g. a lone control char).
pub fn word_tags(pieces: &Pieces, tags: &[PieceTag], words: &[(usize, usize)]) -> Vec<Option<PieceTag>> {
    let mut k = 0;
    words
        .iter()
        .map(|&(start, end)| {
            while k < pieces.offsets.len() && pieces.offsets[k].0 < start {
                k += 1;
            }
            (k < pieces.offsets.len() && pieces.offsets[k].0 < end).then(|| tags[k])
        })
        .collect()
}

/// The words of the pre-tokenizer (runs of pieces with the same word id), as code-point ranges.
pub fn piece_words(pieces: &Pieces) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut last = None;
    for (&w, &(s, e)) in pieces.words.iter().zip(&pieces.offsets) {
        if last == Some(w) {
            out.last_mut().expect("a word is open").1 = e;
        } else {
            out.push((s, e));
            last = Some(w);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_take_their_first_piece_tag() {
        let pieces = Pieces {
            ids: vec![1, 2, 3],
            types: vec![2, 2, 1],
            offsets: vec![(0, 4), (4, 8), (9, 12)],
            words: vec![0, 0, 1],
        };
        let t = |label| PieceTag { label, prob: 0.9, depth: 0 };
        let tags = vec![t(1), t(2), t(0)];
        let words = piece_words(&pieces);
        assert_eq!(words, vec![(0, 8), (9, 12)]);
        let got = word_tags(&pieces, &tags, &words);
        assert_eq!(got.iter().map(|t| t.unwrap().label).collect::<Vec<_>>(), vec![1, 0]);
    }
}

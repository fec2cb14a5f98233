//! The read stage: one model pass over windows of whole paragraphs ([`crate::encode::pack`])
//! gives every sentence its piece tags (entities, claim holders and targets) and its sentence
//! scores (claim types, polarity, threat categories, modality).
//!
//! The model is behind [`Model`], which reads one batch of windows; batching, and putting the
//! windows' readings back together per sentence, happen here, so they are tested with
//! [`fake::FakeModel`] and need no libtorch. The libtorch model is [`crate::onepass`].

use serde::Serialize;

use crate::document::{Modality, SentenceScores};
use crate::encode::{pack, Pieces, Window};

/// The label sets of the model's heads, in output order (the model's config.json "heads").
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Heads {
    /// "O", then B-/I- tags of the entity types.
    pub ner: Vec<String>,
    /// "O", then B-/I- tags of HOLDER and TARGET.
    pub roles: Vec<String>,
    /// stance, proposal, threat, support, then the threat categories.
    pub sentence: Vec<String>,
    pub modality: Vec<Modality>,
}

/// The sentence head's outputs before the threat categories, in this order.
pub const SENTENCE_HEAD: [&str; 4] = ["stance", "proposal", "threat", "support"];

impl Heads {
    /// Checks what the pipeline relies on: tag sets that start with "O" and hold only B-/I-
    /// tags, and the sentence head's fixed outputs first.
    pub fn check(&self) -> anyhow::Result<()> {
        for (name, tags) in [("ner", &self.ner), ("roles", &self.roles)] {
            anyhow::ensure!(
                tags.first().map(String::as_str) == Some("O") && tags[1..].iter().all(|t| t.starts_with("B-") || t.starts_with("I-")),
                "heads.{name} must be \"O\" then B-/I- tags, found {tags:?}"
            );
        }
        anyhow::ensure!(
            self.sentence.len() > SENTENCE_HEAD.len() && self.sentence[..SENTENCE_HEAD.len()] == SENTENCE_HEAD,
            "heads.sentence must start with {SENTENCE_HEAD:?} then the threat categories, found {:?}",
            self.sentence
        );
        anyhow::ensure!(!self.modality.is_empty(), "heads.modality is empty");
        Ok(())
    }

    pub fn categories(&self) -> &[String] {
        &self.sentence[SENTENCE_HEAD.len()..]
    }
}

/// The most likely tag of one piece and its probability.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PieceTag {
    pub label: usize,
    pub prob: f32,
    /// How far the piece was from its window's edge (a long sentence's pieces are read more than
    /// once; the reading with more context wins).
    depth: usize,
}

impl PieceTag {
    pub fn new(label: usize, prob: f32) -> Self {
        PieceTag { label, prob, depth: 0 }
    }
}

/// What the model says of one window.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WindowReading {
    /// Per position of the window ([CLS] and [SEP] included).
    pub ner: Vec<PieceTag>,
    pub roles: Vec<PieceTag>,
    /// Per scored part, in the window's order: the sentence head's probabilities (sigmoid).
    pub sentence: Vec<Vec<f32>>,
    /// Per scored part: the modality head's probabilities (softmax).
    pub modality: Vec<Vec<f32>>,
}

/// A model that reads windows in one pass.
pub trait Model {
    fn heads(&self) -> &Heads;
    /// What a run's manifest records of the model: its path, sha256 and heads.
    fn describe(&self) -> serde_json::Value;
    /// Reads one batch of windows (the caller sorts them by length and bounds their number).
    fn read(&self, windows: &[&Window]) -> Vec<WindowReading>;
}

/// Everything the model found in one sentence.
#[derive(Clone, Debug, Default)]
pub struct SentenceReading {
    /// Per piece of the sentence.
    pub ner: Vec<PieceTag>,
    pub roles: Vec<PieceTag>,
    pub scores: SentenceScores,
}

/// One document's sentences for [`read`]: their pieces and the paragraph of each.
pub struct Text<'a> {
    pub pieces: &'a [Pieces],
    pub paragraphs: Vec<usize>,
}

/// Reads the sentences of several documents: packs each document's windows, runs them in
/// batches of at most `batch_size` sorted by length (so padding is short), and gives back each
/// document's sentence readings. Stops between batches on Ctrl-C (the readings are then partial;
/// the caller checks the flag).
pub fn read(model: &dyn Model, texts: &[Text], batch_size: usize, max_pieces: usize) -> Vec<Vec<SentenceReading>> {
    let heads = model.heads();
    let mut out: Vec<Vec<SentenceReading>> = texts
        .iter()
        .map(|t| t.pieces.iter().map(|p| SentenceReading { ner: vec![PieceTag::default(); p.ids.len()], roles: vec![PieceTag::default(); p.ids.len()], scores: SentenceScores::default() }).collect())
        .collect();
    let mut seen: Vec<Vec<bool>> = texts.iter().map(|t| vec![false; t.pieces.len()]).collect();
    let mut windows: Vec<(usize, Window)> = Vec::new();
    for (d, t) in texts.iter().enumerate() {
        let refs: Vec<&Pieces> = t.pieces.iter().collect();
        windows.extend(pack(&refs, &t.paragraphs, max_pieces).into_iter().map(|w| (d, w)));
    }
    windows.sort_by_key(|(_, w)| w.ids.len());
    for chunk in windows.chunks(batch_size.max(1)) {
        if crate::interrupt::requested() {
            break;
        }
        let refs: Vec<&Window> = chunk.iter().map(|(_, w)| w).collect();
        for ((d, window), reading) in chunk.iter().zip(model.read(&refs)) {
            let scored = window.parts.iter().filter(|p| p.scored);
            for (k, part) in scored.enumerate() {
                let sentence = &mut out[*d][part.sentence];
                let edge = part.len.saturating_sub(1);
                for i in 0..part.len {
                    // A piece of a sentence read in slices keeps the reading where it sits deepest.
                    let depth = i.min(edge - i);
                    let slot = part.first + i;
                    for (tags, got) in [(&mut sentence.ner, &reading.ner), (&mut sentence.roles, &reading.roles)] {
                        if tags[slot].prob == 0.0 || depth > tags[slot].depth {
                            tags[slot] = PieceTag { depth, ..got[part.at + i] };
                        }
                    }
                }
                merge(&mut sentence.scores, &mut seen[*d][part.sentence], &reading.sentence[k], &reading.modality[k], heads);
            }
        }
    }
    out
}

/// Adds one window's sentence outputs to a sentence's scores: the first reading, then per
/// output the highest (a long sentence's slices each see part of it).
fn merge(scores: &mut SentenceScores, seen: &mut bool, sentence: &[f32], modality: &[f32], heads: &Heads) {
    let n = SENTENCE_HEAD.len();
    let new = SentenceScores {
        types: [sentence[0], sentence[1], sentence[2]],
        support: sentence[3],
        categories: sentence[n..].to_vec(),
        modality: heads.modality.iter().copied().zip(modality.iter().copied()).collect(),
    };
    if !*seen {
        *scores = new;
        *seen = true;
        return;
    }
    for (a, b) in scores.types.iter_mut().zip(new.types) {
        *a = a.max(b);
    }
    scores.support = scores.support.max(new.support);
    for (a, b) in scores.categories.iter_mut().zip(new.categories) {
        *a = a.max(b);
    }
    for ((_, a), (_, b)) in scores.modality.iter_mut().zip(new.modality) {
        *a = a.max(b);
    }
}

/// A deterministic stand-in for the model, for tests of everything around it: it tags a run of
/// capitalised pieces after the first of its sentence as an organisation, and scores a
/// sentence by trigger words it is given as piece ids.
pub mod fake {
    use super::*;
    use crate::encode::{Encoder, TITLE, UPPER};

    pub struct FakeModel {
        heads: Heads,
        /// (piece id, sentence output it raises to 0.9).
        triggers: Vec<(i64, usize)>,
        /// Piece ids that make a sentence's modality "negated".
        negations: Vec<i64>,
    }

    impl FakeModel {
        /// Triggers: "threatens" → threat, "proposes" → proposal, "supports"/"opposes" → stance
        /// ("supports" also support), "terrorism" → that category; "not" negates.
        pub fn new(encoder: &Encoder) -> anyhow::Result<Self> {
            let heads = Heads {
                ner: ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"].map(String::from).to_vec(),
                roles: ["O", "B-HOLDER", "I-HOLDER", "B-TARGET", "I-TARGET"].map(String::from).to_vec(),
                sentence: ["stance", "proposal", "threat", "support", "terrorism", "other"].map(String::from).to_vec(),
                modality: vec![Modality::Asserted, Modality::Negated, Modality::Hedged, Modality::Conditional],
            };
            let id = |word: &str| -> anyhow::Result<i64> {
                let p = encoder.encode(word)?;
                anyhow::ensure!(p.ids.len() == 1, "{word} is more than one piece");
                Ok(p.ids[0])
            };
            let triggers = vec![(id("threatens")?, 2), (id("proposes")?, 1), (id("supports")?, 0), (id("supports")?, 3), (id("opposes")?, 0), (id("terrorism")?, 4)];
            Ok(FakeModel { heads, triggers, negations: vec![id("not")?] })
        }
    }

    impl Model for FakeModel {
        fn heads(&self) -> &Heads {
            &self.heads
        }

        fn describe(&self) -> serde_json::Value {
            serde_json::json!({"path": "fake", "sha256": "fake", "heads": self.heads})
        }

        fn read(&self, windows: &[&Window]) -> Vec<WindowReading> {
            windows
                .iter()
                .map(|w| {
                    let mut ner = vec![PieceTag::new(0, 0.99); w.ids.len()];
                    let roles = vec![PieceTag::new(0, 0.99); w.ids.len()];
                    let (mut sentence, mut modality) = (Vec::new(), Vec::new());
                    for part in &w.parts {
                        let range = part.at..part.at + part.len;
                        for i in range.clone().skip(1) {
                            if matches!(w.types[i], TITLE | UPPER) {
                                let inside = i > range.start + 1 && ner[i - 1].label != 0;
                                ner[i] = PieceTag::new(if inside { 4 } else { 3 }, 0.9);
                            }
                        }
                        if !part.scored {
                            continue;
                        }
                        let mut s = vec![0.05; self.heads.sentence.len()];
                        for &(id, out) in &self.triggers {
                            if w.ids[range.clone()].contains(&id) {
                                s[out] = 0.9;
                            }
                        }
                        let negated = w.ids[range.clone()].iter().any(|id| self.negations.contains(id));
                        sentence.push(s);
                        modality.push(if negated { vec![0.1, 0.8, 0.05, 0.05] } else { vec![0.85, 0.05, 0.05, 0.05] });
                    }
                    WindowReading { ner, roles, sentence, modality }
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::Encoder;

    fn encoder() -> Encoder {
        Encoder::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/models/tokenizer.json"))).unwrap()
    }

    fn pieces(encoder: &Encoder, sentences: &[&str]) -> Vec<Pieces> {
        sentences.iter().map(|s| encoder.encode(s).unwrap()).collect()
    }

    #[test]
    fn every_sentence_gets_its_own_reading_whatever_the_batch() {
        let enc = encoder();
        let model = fake::FakeModel::new(&enc).unwrap();
        let a = pieces(&enc, &["Russia threatens Kyiv.", "The talks ended.", "Nato proposes a truce."]);
        let b = pieces(&enc, &["Paris does not support the plan.", "Germany supports the Paris Agreement on climate."]);
        let texts = [Text { pieces: &a, paragraphs: vec![0, 0, 1] }, Text { pieces: &b, paragraphs: vec![0, 1] }];
        let reference = read(&model, &texts, 1, 128);
        let strip = |tags: &[PieceTag]| tags.iter().map(|t| (t.label, t.prob)).collect::<Vec<_>>();
        for (batch, max_pieces) in [(2, 128), (64, 128), (3, 8)] {
            let got = read(&model, &texts, batch, max_pieces);
            for (d, doc) in got.iter().enumerate() {
                for (s, r) in doc.iter().enumerate() {
                    // Slices start their own capitalised runs: compare tags where sentences fit whole.
                    if max_pieces == 128 {
                        assert_eq!(strip(&r.ner), strip(&reference[d][s].ner));
                    }
                    assert_eq!(r.scores.types, reference[d][s].scores.types, "batch {batch}, window {max_pieces}: doc {d} sentence {s}");
                }
            }
        }
        let types = |d: usize, s: usize| reference[d][s].scores.types;
        assert_eq!(types(0, 0), [0.05, 0.05, 0.9]);
        assert_eq!(types(0, 1), [0.05, 0.05, 0.05]);
        assert_eq!(types(0, 2), [0.05, 0.9, 0.05]);
        assert_eq!(reference[1][0].scores.modality[1], (Modality::Negated, 0.8));
        assert_eq!(reference[1][1].scores.modality[0], (Modality::Asserted, 0.85));
        // "Paris Agreement": a capitalised run after the sentence's first piece, one entity.
        let tags: Vec<usize> = reference[1][1].ner.iter().map(|t| t.label).collect();
        let at = |w: &str| b[1].offsets.iter().position(|&(s, _)| s == "Germany supports the Paris Agreement on climate.".find(w).unwrap()).unwrap();
        assert_eq!((tags[at("Paris")], tags[at("Agreement")], tags[at("on")]), (3, 4, 0));
    }

    #[test]
    fn a_long_sentence_keeps_each_pieces_deepest_reading() {
        let enc = encoder();
        let model = fake::FakeModel::new(&enc).unwrap();
        let long = (0..60).map(|i| if i == 50 { "threatens" } else { "word" }).collect::<Vec<_>>().join(" ");
        let p = pieces(&enc, &[&long]);
        let got = read(&model, &[Text { pieces: &p, paragraphs: vec![0] }], 4, 16);
        assert_eq!(got[0][0].scores.types[2], 0.9, "the slice with the trigger counts");
        assert!(got[0][0].ner.iter().all(|t| t.prob > 0.0), "every piece was read");
    }

    #[test]
    fn heads_are_checked() {
        let enc = encoder();
        let model = fake::FakeModel::new(&enc).unwrap();
        let mut heads = model.heads().clone();
        heads.check().unwrap();
        heads.sentence.swap(0, 1);
        assert!(heads.check().unwrap_err().to_string().contains("stance"));
    }
}

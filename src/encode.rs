//! Word pieces for the transformer stages: one tokenization per sentence, shared by the NER and
//! claim models, with offsets in code points of the sentence text and the casing feature.
//!
//! The base encoder is uncased; capitalisation reaches the models as a casing class per piece
//! (of the whitespace-delimited chunk it lies in), fed through BERT's token-type embeddings.
//! models/casing.py computes the same classes for training: keep the two in step.

use std::path::Path;

use anyhow::{anyhow, Result};
use tokenizers::Tokenizer;

pub const CLS: i64 = 101;
pub const SEP: i64 = 102;

/// Casing classes (token-type ids); models are trained with type_vocab_size = 5.
const NONE: i64 = 0;
const LOWER: i64 = 1;
const TITLE: i64 = 2;
const UPPER: i64 = 3;
const MIXED: i64 = 4;

/// The word pieces of one sentence, without [CLS]/[SEP].
#[derive(Clone, Debug, Default)]
pub struct Pieces {
    pub ids: Vec<i64>,
    /// Casing class per piece.
    pub types: Vec<i64>,
    /// Code-point range of each piece in the sentence text.
    pub offsets: Vec<(usize, usize)>,
    /// Index of the pre-tokenized word each piece belongs to.
    pub words: Vec<u32>,
}

pub struct Encoder {
    tokenizer: Tokenizer,
}

impl Encoder {
    pub fn load(path: &Path) -> Result<Self> {
        let mut tokenizer = Tokenizer::from_file(path)
            .map_err(|e| anyhow!("cannot load tokenizer {}: {e}", path.display()))?;
        // The shipped tokenizer.json pads and truncates to 128; windows are ours to make.
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(None)
            .map_err(|e| anyhow!("tokenizer {}: {e}", path.display()))?;
        Ok(Encoder { tokenizer })
    }

    pub fn vocab_size(&self) -> usize {
        self.tokenizer.get_vocab_size(true)
    }

    pub fn encode(&self, text: &str) -> Result<Pieces> {
        let enc = self
            .tokenizer
            .encode_char_offsets(text, false)
            .map_err(|e| anyhow!("tokenizer failed: {e}"))?;
        let cases = char_cases(text);
        let mut pieces = Pieces::default();
        for (i, (&id, &(s, e))) in enc.get_ids().iter().zip(enc.get_offsets()).enumerate() {
            pieces.ids.push(id as i64);
            pieces.types.push(if e > s { cases[s] } else { NONE });
            pieces.offsets.push((s, e));
            pieces.words.push(enc.get_word_ids()[i].unwrap_or(0));
        }
        Ok(pieces)
    }
}

fn case_class(chunk: &[char]) -> i64 {
    let cased: Vec<char> = chunk.iter().copied().filter(|c| c.is_uppercase() || c.is_lowercase()).collect();
    match cased.as_slice() {
        [] => NONE,
        cs if cs.iter().all(|c| c.is_lowercase()) => LOWER,
        cs if cs.iter().all(|c| c.is_uppercase()) => {
            if cs.len() > 1 {
                UPPER
            } else {
                TITLE
            }
        }
        [first, rest @ ..] if first.is_uppercase() && rest.iter().all(|c| c.is_lowercase()) => TITLE,
        _ => MIXED,
    }
}

/// Casing class of the whitespace chunk each code point belongs to.
fn char_cases(text: &str) -> Vec<i64> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = vec![NONE; chars.len()];
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let j = (i..chars.len()).find(|&k| chars[k].is_whitespace()).unwrap_or(chars.len());
        out[i..j].fill(case_class(&chars[i..j]));
        i = j;
    }
    out
}

/// A slice of a sentence's pieces that fits the model, with [CLS]/[SEP] added.
#[derive(Clone, Debug)]
pub struct Window {
    /// Index of the sentence in the batch the caller is building.
    pub item: usize,
    /// Offset of the window's first content piece in the sentence's pieces.
    pub first: usize,
    pub ids: Vec<i64>,
    pub types: Vec<i64>,
}

/// Cuts pieces into windows of at most `max_pieces` (specials included), overlapping by a
/// quarter so every piece is read with context on both sides.
pub fn windows(item: usize, pieces: &Pieces, max_pieces: usize) -> Vec<Window> {
    let room = max_pieces - 2;
    let n = pieces.ids.len();
    let stride = if n <= room { room } else { room - room / 4 };
    let mut out = Vec::new();
    let mut first = 0;
    loop {
        let last = (first + room).min(n);
        let mut ids = Vec::with_capacity(last - first + 2);
        ids.push(CLS);
        ids.extend_from_slice(&pieces.ids[first..last]);
        ids.push(SEP);
        let mut types = Vec::with_capacity(ids.len());
        types.push(NONE);
        types.extend_from_slice(&pieces.types[first..last]);
        types.push(NONE);
        out.push(Window { item, first, ids, types });
        if last == n {
            return out;
        }
        first += stride;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn casing_classes() {
        let cases = char_cases("EU rejects German call, McDonald 12 I");
        let at = |s: &str| cases["EU rejects German call, McDonald 12 I".find(s).unwrap()];
        assert_eq!(at("EU"), UPPER);
        assert_eq!(at("rejects"), LOWER);
        assert_eq!(at("German"), TITLE);
        assert_eq!(at("McDonald"), MIXED);
        assert_eq!(at("12"), NONE);
        assert_eq!(at("I"), TITLE);
    }

    #[test]
    fn windows_cover_every_piece_with_overlap() {
        let pieces = Pieces { ids: (0..300).collect(), types: vec![1; 300], ..Default::default() };
        let ws = windows(0, &pieces, 128);
        assert!(ws.iter().all(|w| w.ids.len() <= 128 && w.ids[0] == CLS && *w.ids.last().unwrap() == SEP));
        assert_eq!(ws[0].first, 0);
        let last = ws.last().unwrap();
        assert_eq!(last.first + last.ids.len() - 2, 300);
        for pair in ws.windows(2) {
            assert!(pair[1].first < pair[0].first + pair[0].ids.len() - 2, "windows overlap");
        }
        assert_eq!(windows(0, &Pieces { ids: vec![5; 10], types: vec![1; 10], ..Default::default() }, 128).len(), 1);
    }
}

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
pub const NONE: i64 = 0;
pub const LOWER: i64 = 1;
pub const TITLE: i64 = 2;
pub const UPPER: i64 = 3;
pub const MIXED: i64 = 4;

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
        let mut tokenizer = Tokenizer::from_file(path).map_err(|e| anyhow!("cannot load tokenizer {}: {e}", path.display()))?;
        // The shipped tokenizer.json pads and truncates to 128; windows are ours to make.
        tokenizer.with_padding(None);
        tokenizer.with_truncation(None).map_err(|e| anyhow!("tokenizer {}: {e}", path.display()))?;
        Ok(Encoder { tokenizer })
    }

    pub fn vocab_size(&self) -> usize {
        self.tokenizer.get_vocab_size(true)
    }

    pub fn encode(&self, text: &str) -> Result<Pieces> {
        let enc = self.tokenizer.encode_char_offsets(text, false).map_err(|e| anyhow!("tokenizer failed: {e}"))?;
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

/// One sentence's pieces in a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Part {
    /// Index of the sentence among those packed.
    pub sentence: usize,
    /// The sentence's first piece in this window (not 0 only where a long sentence is split).
    pub first: usize,
    /// Where that piece sits in the window ([CLS] is at 0).
    pub at: usize,
    pub len: usize,
    /// False for a sentence that is only context here: another window scores it.
    pub scored: bool,
}

/// What the model reads in one pass: [CLS], the pieces of one or more sentences, [SEP].
#[derive(Clone, Debug)]
pub struct Window {
    pub ids: Vec<i64>,
    pub types: Vec<i64>,
    pub parts: Vec<Part>,
}

/// Which sentences go together in a window, as (sentence, scored) lists: whole paragraphs while
/// they fit in `room` pieces; a paragraph longer than that split on sentence borders, each later
/// part starting with the sentence before it as context when both fit; a sentence longer than
/// `room` alone (it is then read in overlapping slices). models/multitask/train.py packs its
/// training windows with the same rule: keep the two in step (tests/fixtures/packing.jsonl).
pub fn plan(lengths: &[usize], paragraphs: &[usize], room: usize) -> Vec<Vec<(usize, bool)>> {
    let mut windows = Vec::new();
    let mut current: Vec<(usize, bool)> = Vec::new();
    let mut used = 0;
    let mut flush = |current: &mut Vec<(usize, bool)>, used: &mut usize| {
        if !current.is_empty() {
            windows.push(std::mem::take(current));
        }
        *used = 0;
    };
    let n = lengths.len();
    let mut i = 0;
    while i < n {
        let j = (i..n).find(|&k| paragraphs[k] != paragraphs[i]).unwrap_or(n);
        let total: usize = lengths[i..j].iter().sum();
        if used + total <= room {
            current.extend((i..j).map(|k| (k, true)));
            used += total;
            i = j;
            continue;
        }
        flush(&mut current, &mut used);
        if total <= room {
            continue;
        }
        for k in i..j {
            if lengths[k] > room {
                flush(&mut current, &mut used);
                current.push((k, true));
                flush(&mut current, &mut used);
                continue;
            }
            if used + lengths[k] > room {
                flush(&mut current, &mut used);
                if k > i && lengths[k - 1] + lengths[k] <= room {
                    current.push((k - 1, false));
                    used = lengths[k - 1];
                }
            }
            current.push((k, true));
            used += lengths[k];
        }
        flush(&mut current, &mut used);
        i = j;
    }
    flush(&mut current, &mut used);
    windows
}

/// The windows for a document's sentences (with the paragraph of each), by [`plan`].
pub fn pack(sentences: &[&Pieces], paragraphs: &[usize], max_pieces: usize) -> Vec<Window> {
    let room = max_pieces - 2;
    let lengths: Vec<usize> = sentences.iter().map(|p| p.ids.len()).collect();
    let mut out = Vec::new();
    for parts in plan(&lengths, paragraphs, room) {
        if let [(k, true)] = parts[..] {
            if lengths[k] > room {
                out.extend(slices(k, sentences[k], room));
                continue;
            }
        }
        let mut w = Window { ids: vec![CLS], types: vec![NONE], parts: Vec::with_capacity(parts.len()) };
        for (k, scored) in parts {
            w.parts.push(Part { sentence: k, first: 0, at: w.ids.len(), len: lengths[k], scored });
            w.ids.extend_from_slice(&sentences[k].ids);
            w.types.extend_from_slice(&sentences[k].types);
        }
        w.ids.push(SEP);
        w.types.push(NONE);
        out.push(w);
    }
    out
}

/// A sentence longer than a window, in windows of `room` pieces overlapping by a quarter, so
/// every piece is read with context on both sides.
fn slices(sentence: usize, pieces: &Pieces, room: usize) -> Vec<Window> {
    let n = pieces.ids.len();
    let stride = room - room / 4;
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
        out.push(Window { ids, types, parts: vec![Part { sentence, first, at: 1, len: last - first, scored: true }] });
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

    /// models/casing.py computes the classes for training: both sides agree on its fixture
    /// (written by `python models/casing.py`).
    #[test]
    fn casing_matches_the_training_recipe() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/casing.jsonl")).unwrap();
        for line in text.lines() {
            let case: serde_json::Value = serde_json::from_str(line).unwrap();
            let want: Vec<i64> = case["classes"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
            assert_eq!(char_cases(case["text"].as_str().unwrap()), want, "{line}");
        }
        assert!(text.lines().count() >= 5);
    }

    fn pieces(n: usize) -> Pieces {
        Pieces { ids: (0..n as i64).collect(), types: vec![1; n], ..Default::default() }
    }

    #[test]
    fn long_sentences_are_read_in_overlapping_slices() {
        let long = pieces(300);
        let ws = pack(&[&long], &[0], 128);
        assert!(ws.iter().all(|w| w.ids.len() <= 128 && w.ids[0] == CLS && *w.ids.last().unwrap() == SEP));
        assert_eq!(ws[0].parts[0].first, 0);
        let last = ws.last().unwrap().parts[0];
        assert_eq!(last.first + last.len, 300);
        for pair in ws.windows(2) {
            assert!(pair[1].parts[0].first < pair[0].parts[0].first + pair[0].parts[0].len, "slices overlap");
        }
    }

    #[test]
    fn windows_hold_each_sentences_pieces_where_parts_say() {
        let (a, b, c) = (pieces(10), pieces(20), pieces(100));
        let ws = pack(&[&a, &b, &c], &[0, 0, 1], 128);
        assert_eq!(ws.len(), 2, "the second paragraph does not fit beside the first");
        assert_eq!(ws[0].parts.iter().map(|p| (p.sentence, p.at, p.len)).collect::<Vec<_>>(), [(0, 1, 10), (1, 11, 20)]);
        assert_eq!(ws[0].ids.len(), 32);
        assert_eq!(&ws[1].ids[1..101], &c.ids[..]);
    }

    /// The packing cases train.py wrote (models/multitask/packing_cases.py): both sides agree.
    #[test]
    fn packing_matches_the_training_recipe() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/packing.jsonl")).unwrap();
        let mut n = 0;
        for line in text.lines() {
            let case: serde_json::Value = serde_json::from_str(line).unwrap();
            let list = |k: &str| case[k].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect::<Vec<_>>();
            let expected: Vec<Vec<(usize, bool)>> = serde_json::from_value(case["windows"].clone()).unwrap();
            assert_eq!(plan(&list("lengths"), &list("paragraphs"), case["room"].as_u64().unwrap() as usize), expected, "{line}");
            n += 1;
        }
        assert!(n >= 20, "{n} cases");
    }
}

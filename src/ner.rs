//! Entities from the model's piece tags: pieces → words → entity spans with scores.

use crate::document::EntityLabel;
use crate::encode::Pieces;
use crate::reader::PieceTag;

/// An entity found in a sentence, in code points of the sentence text.
#[derive(Clone, Debug, PartialEq)]
pub struct EntitySpan {
    pub start: usize,
    pub end: usize,
    pub label: EntityLabel,
    pub score: f32,
}

/// A span the model tagged, in code points of the sentence, with the tag's type (the part after
/// B-/I-) and the mean probability of its words.
#[derive(Clone, Debug, PartialEq)]
pub struct Tagged<'a> {
    pub start: usize,
    pub end: usize,
    pub kind: &'a str,
    pub score: f32,
}

/// Spans over the given words (code-point ranges in the sentence), from the tags of the
/// sentence's pieces (`labels`: the tag set, "O" then B-/I- tags): a word takes the tag of its
/// first piece; BIO is decoded over words, an I- tag that continues nothing starting one. A
/// comma or semicolon ends a span ("UN, OSCE" are two).
pub fn spans<'a>(labels: &'a [String], text: &str, pieces: &Pieces, tags: &[PieceTag], words: &[(usize, usize)]) -> Vec<Tagged<'a>> {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<Tagged> = Vec::new();
    let mut open: Option<(Tagged, usize)> = None; // span, word count
    let close = |open: &mut Option<(Tagged<'a>, usize)>, out: &mut Vec<Tagged<'a>>| {
        if let Some((mut t, n)) = open.take() {
            t.score /= n as f32;
            out.push(t);
        }
    };
    for (w, tag) in words.iter().zip(word_tags(pieces, tags, words)) {
        let separator = w.1 == w.0 + 1 && chars.get(w.0).is_some_and(|c| matches!(c, ',' | ';'));
        let tagged = tag.filter(|_| !separator).map(|t| (labels[t.label].as_str(), t.prob)).filter(|(l, _)| *l != "O");
        let Some((label, p)) = tagged else {
            close(&mut open, &mut out);
            continue;
        };
        let (bio, kind) = label.split_at(2);
        if let Some((t, n)) = open.as_mut().filter(|(t, _)| bio == "I-" && t.kind == kind) {
            t.end = w.1;
            t.score += p;
            *n += 1;
            continue;
        }
        close(&mut open, &mut out);
        open = Some((Tagged { start: w.0, end: w.1, kind, score: p }, 1));
    }
    close(&mut open, &mut out);
    out
}

/// The entities among the tagged spans (the model's config lists only the four types: others
/// were refused when it loaded).
pub fn entities(labels: &[String], text: &str, pieces: &Pieces, tags: &[PieceTag], words: &[(usize, usize)]) -> Vec<EntitySpan> {
    spans(labels, text, pieces, tags, words)
        .into_iter()
        .filter_map(|t| Some(EntitySpan { start: t.start, end: t.end, label: t.kind.parse().ok()?, score: t.score }))
        .collect()
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
        let pieces = Pieces { ids: vec![1, 2, 3], types: vec![2, 2, 1], offsets: vec![(0, 4), (4, 8), (9, 12)], words: vec![0, 0, 1] };
        let t = |label| PieceTag::new(label, 0.9);
        let tags = vec![t(1), t(2), t(0)];
        let words = piece_words(&pieces);
        assert_eq!(words, vec![(0, 8), (9, 12)]);
        let got = word_tags(&pieces, &tags, &words);
        assert_eq!(got.iter().map(|t| t.unwrap().label).collect::<Vec<_>>(), vec![1, 0]);
    }
}

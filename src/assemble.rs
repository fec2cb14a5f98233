//! The assemble stage: sentence scores + attributions → claims with actor, target, polarity,
//! categories and confidence. The lexicon lives in data/assemble.toml.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::attribute::Attribution;
use crate::config::Thresholds;
use crate::document::{round4, Claim, ClaimType, Document, Modality, Polarity, Sentence, SentenceScores, Target};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lexicon {
    max_target_words: usize,
    targets: BTreeMap<String, Vec<String>>,
    target_stops: Vec<String>,
    threat_terms: BTreeMap<String, Vec<String>>,
}

impl Lexicon {
    pub fn shipped() -> Lexicon {
        toml::from_str(include_str!("../data/assemble.toml")).expect("data/assemble.toml is valid")
    }
}

pub struct Assembler<'a> {
    pub lexicon: &'a Lexicon,
    pub thresholds: &'a Thresholds,
    pub categories: &'a [String],
}

impl Assembler<'_> {
    /// The claim types a sentence's scores carry. A denied threat ("we have no intention of
    /// attacking NATO") is that threat, negated, and no stance besides (spec: a negated stance is
    /// the denial of holding a position, which such a sentence does not voice).
    pub fn kinds<'s>(&'s self, scores: &'s SentenceScores) -> impl Iterator<Item = (ClaimType, f32)> + 's {
        let made = |kind: ClaimType| scores.score(kind) >= self.thresholds.for_type(kind);
        let denied_threat = made(ClaimType::Threat) && scores.modality() == Modality::Negated;
        ClaimType::ALL.into_iter().filter(move |&kind| made(kind) && !(denied_threat && kind == ClaimType::Stance)).map(|kind| (kind, scores.score(kind)))
    }

    /// Fills `doc.claims` from `doc.scores`, given the attribution of each sentence.
    pub fn assemble(&self, doc: &mut Document, attributions: &[Option<Attribution>]) {
        let mut claims = Vec::new();
        for (i, (sentence, scores)) in doc.sentences.iter().zip(&doc.scores).enumerate() {
            let attribution = attributions.get(i).cloned().flatten();
            for (kind, p) in self.kinds(scores) {
                claims.push(Claim {
                    id: format!("{}:{}:{}", doc.id, i, kind.name()),
                    doc: doc.id.clone(),
                    kind,
                    sentence: sentence.text.clone(),
                    start: sentence.span.start,
                    end: sentence.span.end,
                    actor: attribution.as_ref().map(|a| a.actor.clone()),
                    attribution: attribution.as_ref().map(|a| a.rule),
                    target: self.target(doc, sentence, kind),
                    polarity: (kind == ClaimType::Stance).then_some(if scores.support >= 0.5 { Polarity::Support } else { Polarity::Oppose }),
                    categories: if kind == ClaimType::Threat { self.categories(sentence, scores) } else { Vec::new() },
                    modality: scores.modality(),
                    confidence: round4(p),
                });
            }
        }
        doc.claims = claims;
    }

    /// A threat's categories: those the model gives at least the category threshold, and those
    /// the sentence names outright (data/assemble.toml's threat_terms, "other" aside); the
    /// model's most likely category when there are none.
    fn categories(&self, sentence: &Sentence, scores: &SentenceScores) -> Vec<String> {
        let lower = sentence.text.to_lowercase();
        let named = |c: &String| c != "other" && self.lexicon.threat_terms.get(c).is_some_and(|terms| terms.iter().any(|t| find_word(&lower, t).is_some()));
        let chosen: Vec<String> = self.categories.iter().zip(&scores.categories).filter(|(c, &p)| p >= self.thresholds.category || named(c)).map(|(c, _)| c.clone()).collect();
        if !chosen.is_empty() {
            return chosen;
        }
        let best = scores.categories.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i);
        best.and_then(|i| self.categories.get(i)).into_iter().cloned().collect()
    }

    /// The phrase after the type's trigger, up to the next clause boundary; for a threat with no
    /// trigger, the first threat term.
    fn target(&self, doc: &Document, sentence: &Sentence, kind: ClaimType) -> Option<Target> {
        let lower: Vec<char> = sentence.text.to_lowercase().chars().collect();
        let text: Vec<char> = sentence.text.chars().collect();
        if lower.len() != text.len() {
            return None; // lowercasing changed lengths (rare scripts): offsets would drift
        }
        let lower_s: String = lower.iter().collect();
        let triggers = self.lexicon.targets.get(kind.name())?;
        let found = triggers.iter().filter_map(|t| find_word(&lower_s, t).map(|at| (at, at + t.chars().count()))).min_by_key(|&(at, end)| (at, std::cmp::Reverse(end)));
        let (start, end) = match found {
            Some((_, after)) => self.phrase_after(&text, &lower, after)?,
            None if kind == ClaimType::Threat => {
                self.lexicon.threat_terms.values().flatten().filter_map(|t| find_word(&lower_s, t).map(|at| (at, at + t.chars().count()))).min_by_key(|&(at, end)| (at, std::cmp::Reverse(end)))?
            }
            None => return None,
        };
        let source = doc.clean.to_source(sentence.clean_start + start, sentence.clean_start + end);
        Some(Target { text: text[start..end].iter().collect(), start: source.start, end: source.end })
    }

    fn phrase_after(&self, text: &[char], lower: &[char], from: usize) -> Option<(usize, usize)> {
        let mut start = from;
        while start < text.len() && (text[start].is_whitespace() || text[start] == ':') {
            start += 1;
        }
        let mut end = start;
        let mut words = 0;
        let mut i = start;
        while i < text.len() {
            let c = text[i];
            if matches!(c, ',' | ';' | '.' | ':' | '!' | '?' | '“' | '”' | '"' | '(' | ')' | '–' | '—') {
                break;
            }
            if c.is_whitespace() {
                let next: String = lower[i + 1..].iter().take_while(|c| c.is_alphanumeric()).collect();
                words += 1;
                if words >= self.lexicon.max_target_words || self.lexicon.target_stops.contains(&next) {
                    break;
                }
            } else {
                end = i + 1;
            }
            i += 1;
        }
        (end > start).then_some((start, end))
    }
}

/// Code-point offset of `phrase` in `text` at word boundaries.
pub fn find_word(text: &str, phrase: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(pos) = text[from..].find(phrase) {
        let at = from + pos;
        let end = at + phrase.len();
        let before_ok = text[..at].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
        let after_ok = text[end..].chars().next().is_none_or(|c| !c.is_alphanumeric());
        if before_ok && after_ok {
            return Some(text[..at].chars().count());
        }
        from = at + phrase.chars().next().map_or(1, char::len_utf8);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The threat categories are listed in three places that must agree: the model's sentence
    /// head, the lexicon's named terms and the output schema (the spec's list).
    #[test]
    fn threat_categories_agree_across_model_lexicon_and_schema() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let read = |p: &str| -> serde_json::Value { serde_json::from_str(&std::fs::read_to_string(root.join(p)).unwrap()).unwrap() };
        let strings = |v: &serde_json::Value| v.as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect::<Vec<_>>();
        let model = strings(&read("models/multitask/config.json")["heads"]["sentence"]);
        let schema = strings(&read("docs/schema/claim.schema.json")["properties"]["categories"]["items"]["enum"]);
        assert_eq!(model[..crate::reader::SENTENCE_HEAD.len()], crate::reader::SENTENCE_HEAD);
        assert_eq!(model[crate::reader::SENTENCE_HEAD.len()..], schema[..], "model heads vs schema");
        let lexicon: Vec<String> = Lexicon::shipped().threat_terms.keys().cloned().collect();
        let mut sorted = schema.clone();
        sorted.sort();
        assert_eq!(lexicon, sorted, "data/assemble.toml threat_terms vs schema");
        let modality = strings(&read("models/multitask/config.json")["heads"]["modality"]);
        assert_eq!(modality, crate::document::Modality::ALL.map(|m| m.name()));
    }

    #[test]
    fn words_are_found_at_boundaries_in_code_points() {
        assert_eq!(find_word("“the threat of war”", "threat of"), Some(5));
        assert_eq!(find_word("threatening", "threat"), None);
        assert_eq!(find_word("a counter-terror unit", "counter"), Some(2));
    }

    #[test]
    fn threat_categories_join_the_model_and_the_named_terms() {
        let lexicon = Lexicon::shipped();
        let categories: Vec<String> = ["terrorism", "extremism", "drug_trafficking", "other"].map(String::from).to_vec();
        let thresholds = Thresholds::default();
        let asm = Assembler { lexicon: &lexicon, thresholds: &thresholds, categories: &categories };
        let sentence =
            |text: &str| Sentence { span: crate::document::Span { start: 0, end: text.chars().count() }, text: text.to_string(), clean_start: 0, paragraph: 0, cues: Vec::new(), speaker: None, quoted: false };
        let scores = |categories: Vec<f32>| SentenceScores { types: [0.0, 0.0, 0.9], support: 0.5, categories, modality: Vec::new() };
        // Named outright: kept even where the model is unsure.
        let s = sentence("Terrorism and drug trafficking remain the main threats.");
        assert_eq!(asm.categories(&s, &scores(vec![0.8, 0.1, 0.3, 0.1])), ["terrorism", "drug_trafficking"]);
        // Nothing named and nothing sure: the model's best guess ("threat" does not name "other").
        let s = sentence("The threat is growing.");
        assert_eq!(asm.categories(&s, &scores(vec![0.2, 0.4, 0.1, 0.3])), ["extremism"]);
    }

    #[test]
    fn a_denied_threat_is_no_stance() {
        let lexicon = Lexicon::shipped();
        let thresholds = Thresholds::default();
        let asm = Assembler { lexicon: &lexicon, thresholds: &thresholds, categories: &[] };
        let kinds = |types: [f32; 3], modality: Modality| {
            let scores = SentenceScores { types, support: 0.5, categories: Vec::new(), modality: vec![(modality, 0.9)] };
            asm.kinds(&scores).map(|(kind, _)| kind).collect::<Vec<_>>()
        };
        use ClaimType::{Proposal, Stance, Threat};
        let cases = [
            ([0.8, 0.0, 0.9], Modality::Negated, vec![Threat]),
            ([0.8, 0.7, 0.9], Modality::Negated, vec![Proposal, Threat]),
            ([0.8, 0.0, 0.9], Modality::Asserted, vec![Stance, Threat]),
            ([0.8, 0.0, 0.9], Modality::Conditional, vec![Stance, Threat]),
            // Denying a position with no threat in the sentence stays a negated stance.
            ([0.8, 0.0, 0.2], Modality::Negated, vec![Stance]),
        ];
        for (types, modality, want) in cases {
            assert_eq!(kinds(types, modality), want, "{types:?} {modality:?}");
        }
    }

    #[test]
    fn lexicon_parses_and_has_every_type() {
        let lex = Lexicon::shipped();
        for t in ClaimType::ALL {
            assert!(lex.targets.contains_key(t.name()), "{t:?}");
        }
    }
}

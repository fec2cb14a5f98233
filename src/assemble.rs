//! The assemble stage: sentence scores + entities + speakers → claims with actor, target,
//! polarity, categories and confidence. The lexicon lives in data/assemble.toml.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::config::Thresholds;
use crate::document::{round4, Claim, ClaimType, Document, Entity, EntityLabel, Origin, Polarity, Sentence, SentenceScores, Target};
use crate::gazetteer::Gazetteer;
use crate::resolve::{last_person_before, slice};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lexicon {
    prepositions: Vec<String>,
    determiners: Vec<String>,
    list_joiners: Vec<String>,
    holder_window: usize,
    pronoun_subjects: Vec<String>,
    own_country: Vec<String>,
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
    pub gazetteer: &'a Gazetteer,
    pub thresholds: &'a Thresholds,
    pub categories: &'a [String],
}

/// The entity the model tagged as the holder in sentence `i`: the first holder mention that
/// overlaps an entity of the sentence.
fn learned_holder(doc: &Document, i: usize, sentence: &Sentence) -> Option<Entity> {
    doc.holders.get(i)?.iter().find_map(|&(start, end)| {
        let span = doc.clean.to_source(sentence.clean_start + start, sentence.clean_start + end);
        doc.entities.iter().find(|e| e.sentence == i && e.start < span.end && span.start < e.end && !e.canonical.is_empty()).cloned()
    })
}

impl Assembler<'_> {
    /// Fills `doc.claims` from `doc.scores`, given each sentence's resolved speaker.
    pub fn assemble(&self, doc: &mut Document, speakers: &[Option<Entity>]) {
        let mut claims = Vec::new();
        // The one person whose claims the text has reported so far: narration that goes on
        // paraphrasing them ("A huge threat … is the activity of radical groups.") is still
        // theirs. Once a second person has spoken, such narration is nobody's.
        let mut reported: Option<Entity> = None;
        let mut several = false;
        for (i, (sentence, scores)) in doc.sentences.iter().zip(&doc.scores).enumerate() {
            for (t, kind) in ClaimType::ALL.into_iter().enumerate() {
                if scores.types[t] < self.thresholds.for_type(kind) {
                    continue;
                }
                let actor = speakers.get(i).cloned().flatten().or_else(|| learned_holder(doc, i, sentence)).or_else(|| self.holder(doc, i, sentence));
                if let Some(person) = actor.as_ref().filter(|a| a.label == EntityLabel::Per) {
                    several |= reported.as_ref().is_some_and(|r| r.canonical != person.canonical);
                    reported = Some(person.clone());
                }
                let carried = reported.clone().filter(|_| !several).map(|person| Entity { origin: Origin::Discourse, ..person });
                let actor = actor.or(carried);
                claims.push(Claim {
                    id: format!("{}:{}:{}", doc.id, i, kind.name()),
                    doc: doc.id.clone(),
                    kind,
                    sentence: sentence.text.clone(),
                    start: sentence.span.start,
                    end: sentence.span.end,
                    actor: actor.map(|a| self.as_actor(a)),
                    target: self.target(doc, sentence, kind),
                    polarity: (kind == ClaimType::Stance).then_some(if scores.support >= 0.5 { Polarity::Support } else { Polarity::Oppose }),
                    categories: if kind == ClaimType::Threat { self.categories(sentence, scores) } else { Vec::new() },
                    modality: scores.modality(),
                    confidence: round4(scores.types[t]),
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

    /// A capital or an adjective acting as a holder stands for its country.
    fn as_actor(&self, mut e: Entity) -> Entity {
        if e.label != EntityLabel::Per {
            if let Some(country) = self.gazetteer.lookup(&e.text, None).and_then(|a| a.stands_for) {
                e.canonical = country;
            }
        }
        e
    }

    /// The grammatical holder: "According to X", or the first entity near the start that no
    /// preposition governs; "He"/"The official" refer back to the last person named.
    fn holder(&self, doc: &Document, i: usize, sentence: &Sentence) -> Option<Entity> {
        let lower = sentence.text.to_lowercase();
        let chars: Vec<char> = lower.chars().collect();
        // This sentence's actors (a country adjective stands for its country), with their
        // offsets in the sentence text. Names are capitalised: a lower-case span is a tagging slip.
        let mut mentions: Vec<(&Entity, usize)> = doc
            .entities
            .iter()
            .filter(|e| e.sentence == i && !e.canonical.is_empty() && (e.label != EntityLabel::Misc || e.id.is_some()))
            .filter(|e| e.text.chars().next().is_some_and(|c| !c.is_lowercase()))
            .filter_map(|e| find_word(&lower, &e.text.to_lowercase()).map(|at| (e, at)))
            .collect();
        mentions.sort_by_key(|(_, at)| *at);
        let pronoun = self.lexicon.pronoun_subjects.iter().find(|p| starts_with_word(&lower, p));
        if let Some(p) = pronoun {
            let len = p.chars().count();
            // "The President of Belarus" is a title the gazetteer resolved, not a pronoun.
            if !mentions.iter().any(|(_, at)| *at < len) {
                let span = doc.clean.to_source(sentence.clean_start, sentence.clean_start + len);
                return last_person_before(doc, sentence.span).cloned().map(|person| Entity {
                    text: slice(&sentence.text, 0, len),
                    start: span.start,
                    end: span.end,
                    sentence: i,
                    origin: Origin::Coreference,
                    ..person
                });
            }
        }
        if self.lexicon.own_country.iter().any(|p| starts_with_word(&lower, p)) {
            return None; // the speaker's country, when there is a speaker, is the speaker's claim
        }
        let from = if lower.starts_with("according to ") { "according to ".len() } else { 0 };
        let limit = word_spans(&sentence.text).get(self.lexicon.holder_window).map_or(usize::MAX, |w| w.0);
        // Where the previous mention ended (every mention before the holder is governed).
        let mut previous_end: Option<usize> = None;
        for &(e, at) in mentions.iter().filter(|(_, at)| *at >= from) {
            let before: String = chars[..at].iter().collect();
            // The word before the mention, past any article: "a meeting of the UN".
            let prev = before.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).rfind(|w| !self.lexicon.determiners.iter().any(|d| d == w));
            let mut governed = prev.is_some_and(|w| self.lexicon.prepositions.iter().any(|p| p == w));
            // A list shares its first member's preposition: "of the UN, OSCE and SCO".
            if let Some(end) = previous_end.filter(|end| *end <= at) {
                let gap: String = chars[end..at].iter().collect();
                governed |= gap.split(|c: char| c.is_whitespace() || c == ',').all(|w| w.is_empty() || self.lexicon.list_joiners.iter().any(|j| j == w));
            }
            if !governed {
                // The first free mention is the holder when it is near the start.
                return (at < limit).then(|| e.clone());
            }
            previous_end = Some(at + e.text.chars().count());
        }
        None
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

fn word_spans(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.chars().chain(std::iter::once(' ')).enumerate() {
        match (c.is_whitespace(), start) {
            (false, None) => start = Some(i),
            (true, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    out
}

fn starts_with_word(lower: &str, phrase: &str) -> bool {
    lower.starts_with(phrase) && lower[phrase.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric())
}

/// Code-point offset of `phrase` in `text` at word boundaries.
fn find_word(text: &str, phrase: &str) -> Option<usize> {
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
        let gazetteer = Gazetteer::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/gazetteer.toml")).unwrap();
        let categories: Vec<String> = ["terrorism", "extremism", "drug_trafficking", "other"].map(String::from).to_vec();
        let thresholds = Thresholds::default();
        let asm = Assembler { lexicon: &lexicon, gazetteer: &gazetteer, thresholds: &thresholds, categories: &categories };
        let sentence =
            |text: &str| Sentence { span: crate::document::Span { start: 0, end: text.chars().count() }, text: text.to_string(), clean_start: 0, paragraph: 0, speaker: None, quoted: false };
        let scores = |categories: Vec<f32>| SentenceScores { types: [0.0, 0.0, 0.9], support: 0.5, categories, modality: Vec::new() };
        // Named outright: kept even where the model is unsure.
        let s = sentence("Terrorism and drug trafficking remain the main threats.");
        assert_eq!(asm.categories(&s, &scores(vec![0.8, 0.1, 0.3, 0.1])), ["terrorism", "drug_trafficking"]);
        // Nothing named and nothing sure: the model's best guess ("threat" does not name "other").
        let s = sentence("The threat is growing.");
        assert_eq!(asm.categories(&s, &scores(vec![0.2, 0.4, 0.1, 0.3])), ["extremism"]);
    }

    #[test]
    fn lexicon_parses_and_has_every_type() {
        let lex = Lexicon::shipped();
        for t in ClaimType::ALL {
            assert!(lex.targets.contains_key(t.name()), "{t:?}");
        }
    }
}

//! Entity resolution: model spans and gazetteer matches merge into one entity list with
//! canonical names, and within a document speakers ("he", "the official", a title) resolve to
//! the named person.

use crate::document::{round4, Document, Entity, EntityLabel, Origin, SpeakerCue, Span};
use crate::gazetteer::{Actor, Gazetteer};
use crate::ner::EntitySpan;

/// Cue words that refer back to a person already named ("he", "the official").
const PRONOUNS: [&str; 4] = ["he", "she", "him", "her"];

/// Builds `doc.entities` from the model's spans (per sentence, in sentence code points) and
/// the gazetteer, then resolves the speaker cues. Returns the speaker entity of each sentence.
pub fn resolve(doc: &mut Document, model: &[Vec<EntitySpan>], gazetteer: &Gazetteer, min_score: f32) -> Vec<Option<Entity>> {
    let date = doc.published.clone();
    let mut entities: Vec<Entity> = Vec::new();
    for (i, sentence) in doc.sentences.iter().enumerate() {
        let found = gazetteer.find(&sentence.text, date.as_deref());
        let mut candidates: Vec<(EntitySpan, Option<Actor>, Origin)> = Vec::new();
        for m in model.get(i).into_iter().flatten().filter(|m| m.score >= min_score) {
            let text = slice(&sentence.text, m.start, m.end);
            let same = found.iter().find(|g| g.start == m.start && g.end == m.end).map(|g| g.actor.clone());
            candidates.push((m.clone(), same.or_else(|| gazetteer.lookup(&text, date.as_deref())), Origin::Model));
        }
        for g in &found {
            let span = EntitySpan { start: g.start, end: g.end, label: g.actor.label, score: 1.0 };
            candidates.push((span, Some(g.actor.clone()), Origin::Gazetteer));
        }
        // Longer spans win overlaps; on equal spans the model's (pushed first) stays.
        candidates.sort_by_key(|(s, _, _)| (std::cmp::Reverse(s.end - s.start), s.start));
        let mut kept: Vec<(EntitySpan, Option<Actor>, Origin)> = Vec::new();
        for c in candidates {
            if kept.iter().all(|k| k.0.end <= c.0.start || c.0.end <= k.0.start) {
                kept.push(c);
            }
        }
        kept.sort_by_key(|k| k.0.start);
        for (span, actor, origin) in kept {
            let text = slice(&sentence.text, span.start, span.end);
            let source = doc.clean.to_source(sentence.clean_start + span.start, sentence.clean_start + span.end);
            let mut e = Entity {
                canonical: text.clone(),
                text,
                label: span.label,
                start: source.start,
                end: source.end,
                score: round4(span.score),
                sentence: i,
                id: None,
                affiliation: None,
                origin,
            };
            match actor {
                Some(a) => apply(&mut e, &a),
                None => link_to_earlier(&mut e, &entities),
            }
            entities.push(e);
        }
    }
    doc.entities = entities;
    let cues: Vec<Option<SpeakerCue>> = doc.sentences.iter().map(|s| s.speaker.clone()).collect();
    let mut speakers = Vec::with_capacity(cues.len());
    for (i, cue) in cues.into_iter().enumerate() {
        let speaker = cue.map(|cue| resolve_cue(doc, i, &cue, gazetteer)).filter(|e| !e.canonical.is_empty());
        if let Some(s) = &speaker {
            if s.origin == Origin::Coreference && !doc.entities.iter().any(|e| e.start == s.start && e.end == s.end) {
                doc.entities.push(s.clone());
            }
        }
        speakers.push(speaker);
    }
    doc.entities.sort_by_key(|e| (e.start, e.end));
    speakers
}

fn honorifics() -> &'static std::collections::HashSet<&'static str> {
    static WORDS: std::sync::OnceLock<std::collections::HashSet<&'static str>> = std::sync::OnceLock::new();
    WORDS.get_or_init(|| {
        include_str!("../data/honorifics.txt").lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect()
    })
}

fn apply(e: &mut Entity, a: &Actor) {
    e.canonical = a.stands_for.clone().filter(|_| a.label == EntityLabel::Misc).unwrap_or_else(|| a.canonical.clone());
    e.id = a.id.clone();
    if e.label == EntityLabel::Per || a.label == EntityLabel::Per {
        e.affiliation = a.affiliation.clone();
    }
    if a.label == EntityLabel::Per {
        e.label = EntityLabel::Per;
    }
}

/// "Khrenin", "Mr Khrenin", "Defence Minister Khrenin" after "Viktor Khrenin": a person named by
/// part of an earlier full name, titles and honorifics (data/honorifics.txt) aside.
fn link_to_earlier(e: &mut Entity, earlier: &[Entity]) {
    if e.label != EntityLabel::Per {
        return;
    }
    let mut parts: Vec<&str> = e.text.split_whitespace().collect();
    while parts.len() > 1 && honorifics().contains(parts[0]) {
        parts.remove(0);
    }
    if let Some(full) = earlier.iter().rev().find(|x| {
        x.label == EntityLabel::Per && x.canonical != e.text && {
            let names: Vec<&str> = x.canonical.split_whitespace().collect();
            parts.len() < names.len() && names.ends_with(&parts)
        }
    }) {
        e.canonical = full.canonical.clone();
        e.affiliation = full.affiliation.clone();
        e.id = full.id.clone();
    }
}

/// The person a speaker cue names: an entity at the cue, a gazetteer name or title, or, for a
/// pronoun or a description ("the official"), the last person named before it.
fn resolve_cue(doc: &Document, quoted: usize, cue: &SpeakerCue, gazetteer: &Gazetteer) -> Entity {
    // The cue may stand in another sentence than the quote it attributes ("…,” he said.").
    let sentence = doc.sentences.iter().position(|s| s.span.contains(cue.span)).unwrap_or(quoted);
    // The last person in the cue: "Foreign Ministry spokeswoman Irina Volkova" is Volkova, not
    // whoever holds the title in the gazetteer.
    if let Some(e) = doc.entities.iter().rev().find(|e| e.label == EntityLabel::Per && e.start < cue.span.end && cue.span.start < e.end) {
        if e.start == cue.span.start && e.end == cue.span.end {
            return e.clone();
        }
        return Entity { text: cue.text.clone(), start: cue.span.start, end: cue.span.end, origin: Origin::Coreference, ..e.clone() };
    }
    let base = Entity {
        text: cue.text.clone(),
        label: EntityLabel::Per,
        start: cue.span.start,
        end: cue.span.end,
        score: 1.0,
        sentence,
        canonical: cue.text.clone(),
        id: None,
        affiliation: None,
        origin: Origin::Coreference,
    };
    if let Some(a) = gazetteer.find(&cue.text, doc.published.as_deref()).into_iter().find(|m| m.actor.label == EntityLabel::Per) {
        let mut e = base;
        apply(&mut e, &a.actor);
        return e;
    }
    let lower = cue.text.to_lowercase();
    let anaphoric = PRONOUNS.contains(&lower.as_str()) || lower.starts_with("the ") || lower.starts_with("our ");
    if anaphoric {
        if let Some(prev) = last_person_before(doc, cue.span) {
            return Entity { canonical: prev.canonical.clone(), affiliation: prev.affiliation.clone(), id: prev.id.clone(), ..base };
        }
        return Entity { canonical: String::new(), ..base };
    }
    base
}

/// The last person named (not referred to) before a position.
pub fn last_person_before(doc: &Document, at: Span) -> Option<&Entity> {
    doc.entities
        .iter()
        .filter(|e| e.label == EntityLabel::Per && e.end <= at.start && e.origin != Origin::Coreference && !e.canonical.is_empty())
        .max_by_key(|e| e.end)
}

/// Code points start..end of a text.
pub fn slice(text: &str, start: usize, end: usize) -> String {
    text.chars().skip(start).take(end - start).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(text: &str, canonical: &str) -> Entity {
        Entity {
            text: text.into(),
            label: EntityLabel::Per,
            start: 0,
            end: 0,
            score: 1.0,
            sentence: 0,
            canonical: canonical.into(),
            id: None,
            affiliation: None,
            origin: Origin::Model,
        }
    }

    #[test]
    fn later_mentions_link_to_the_full_name_through_titles_and_honorifics() {
        let earlier = [person("Liz Truss", "Liz Truss"), person("Antony Blinken", "Antony Blinken")];
        for (mention, want) in [
            ("Truss", "Liz Truss"),
            ("Ms Truss", "Liz Truss"),
            ("Mr. Blinken", "Antony Blinken"),
            ("Secretary Blinken", "Antony Blinken"),
            ("Foreign Minister Truss", "Liz Truss"),
            ("Mr Smith", "Mr Smith"),
            ("Truss Blinken", "Truss Blinken"),
        ] {
            let mut e = person(mention, mention);
            link_to_earlier(&mut e, &earlier);
            assert_eq!(e.canonical, want, "{mention}");
        }
    }
}

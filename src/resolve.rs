//! Entity resolution: model spans and gazetteer matches merge into one entity list with
//! canonical names; later mentions of a person link to the full name named earlier.

use crate::document::{round4, Document, Entity, EntityLabel, Origin, Span};
use crate::gazetteer::{Actor, Gazetteer};
use crate::ner::EntitySpan;

/// Words the model sometimes tags as names by themselves: pronouns ("He" as a person), and an
/// article or preposition split off a name ("The" of "The EU", "of").
const NOT_NAMES: [&str; 13] = ["he", "she", "him", "her", "they", "we", "i", "it", "the", "a", "an", "of", "in"];

/// Lower-case words a name never ends with, left on a model span's end.
const TRAILING_NOT_NAMES: [&str; 5] = ["of", "the", "and", "for", "in"];

/// Builds `doc.entities` from the model's spans (per sentence, in sentence code points) and
/// the gazetteer.
pub fn resolve(doc: &mut Document, model: &[Vec<EntitySpan>], gazetteer: &Gazetteer, min_score: f32) {
    let date = doc.published.clone();
    let mut entities: Vec<Entity> = Vec::new();
    for (i, sentence) in doc.sentences.iter().enumerate() {
        let found = gazetteer.find(&sentence.text, date.as_deref());
        let mut candidates: Vec<(EntitySpan, Option<Actor>, Origin)> = Vec::new();
        for m in model.get(i).into_iter().flatten().filter(|m| m.score >= min_score) {
            let (start, end) = tidy(&sentence.text, m.start, m.end);
            if start >= end {
                continue;
            }
            let mut text = slice(&sentence.text, start, end);
            let mut start = start;
            // "The African Union": an article the model took into a name the gazetteer knows without it.
            if let Some(rest) = text.strip_prefix("The ").filter(|rest| gazetteer.lookup(&text, date.as_deref()).is_none() && gazetteer.lookup(rest, date.as_deref()).is_some()) {
                text = rest.to_string();
                start += "The ".len();
            }
            let m = &EntitySpan { start, end, ..m.clone() };
            // "He" tagged as a person, "The" as an organization: tagging slips that name nobody.
            if NOT_NAMES.contains(&text.to_lowercase().as_str()) {
                continue;
            }
            let same = found.iter().find(|g| g.start == m.start && g.end == m.end).map(|g| g.actor.clone());
            let actor = same.or_else(|| gazetteer.lookup(&text, date.as_deref()));
            // A span with no capital letter that the gazetteer does not know is a common noun
            // ("agency" of "the agency said"), not a name.
            if actor.is_none() && !text.chars().any(char::is_uppercase) {
                continue;
            }
            candidates.push((m.clone(), actor, Origin::Model));
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
}

fn honorifics() -> &'static std::collections::HashSet<&'static str> {
    static WORDS: std::sync::OnceLock<std::collections::HashSet<&'static str>> = std::sync::OnceLock::new();
    WORDS.get_or_init(|| {
        include_str!("../data/honorifics.txt").lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect()
    })
}

pub fn apply(e: &mut Entity, a: &Actor) {
    e.canonical = a.stands_for.clone().filter(|_| a.label == EntityLabel::Misc).unwrap_or_else(|| a.canonical.clone());
    e.id = a.id.clone();
    // The gazetteer knows what a name is ("Kyiv" is a place even where the model read a person);
    // an adjective ("Russian") keeps the model's label.
    if a.label != EntityLabel::Misc {
        e.label = a.label;
    }
    if e.label == EntityLabel::Per {
        e.affiliation = a.affiliation.clone();
    }
}

/// "Khrenin", "Mr Khrenin", "Defence Minister Khrenin" after "Viktor Khrenin": a person named by
/// part of an earlier full name, titles and honorifics (data/honorifics.txt) aside.
/// A person named for the first time is canonically their name without the titles before it
/// ("Col. Turki Al-Maliki" is Turki Al-Maliki).
fn link_to_earlier(e: &mut Entity, earlier: &[Entity]) {
    if e.label != EntityLabel::Per {
        return;
    }
    let mut parts: Vec<&str> = e.text.split_whitespace().collect();
    while parts.len() > 1 && honorifics().contains(parts[0]) {
        parts.remove(0);
    }
    e.canonical = parts.join(" ");
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

/// A person's gender as the text tells it, for "he" and "she".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gender {
    Female,
    Male,
}

/// data/genders.toml.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Genders {
    female_pronouns: Vec<String>,
    male_pronouns: Vec<String>,
    female_honorifics: Vec<String>,
    male_honorifics: Vec<String>,
    female_names: Vec<String>,
    male_names: Vec<String>,
}

fn genders() -> &'static Genders {
    static GENDERS: std::sync::OnceLock<Genders> = std::sync::OnceLock::new();
    GENDERS.get_or_init(|| toml::from_str(include_str!("../data/genders.toml")).expect("data/genders.toml is valid"))
}

/// The gender a pronoun names ("she", "him"), if it names one.
pub fn pronoun_gender(pronoun: &str) -> Option<Gender> {
    let (g, lower) = (genders(), pronoun.to_lowercase());
    if g.female_pronouns.contains(&lower) {
        Some(Gender::Female)
    } else {
        g.male_pronouns.contains(&lower).then_some(Gender::Male)
    }
}

/// A person's gender by an honorific ("Ms Bishop": the mention's first word or the word before
/// it) or the first word of the canonical name ("Julie Bishop"); None when none tells.
fn gender_of(doc: &Document, e: &Entity) -> Option<Gender> {
    let g = genders();
    let from = e.start.saturating_sub(12);
    let before: String = doc.source.chars().skip(from).take(e.start - from).collect();
    let honorifics = [e.text.split_whitespace().next(), before.split_whitespace().last()];
    let name = e.canonical.split_whitespace().next();
    let is = |words: &[String], w: Option<&str>| w.is_some_and(|w| words.iter().any(|x| x == w));
    if honorifics.iter().any(|&h| is(&g.female_honorifics, h)) || is(&g.female_names, name) {
        Some(Gender::Female)
    } else {
        (honorifics.iter().any(|&h| is(&g.male_honorifics, h)) || is(&g.male_names, name)).then_some(Gender::Male)
    }
}

/// The last person named (not referred to) before a position; with a pronoun's gender, the
/// last one not known to be of the other ("she" after "Julie Bishop … Alexander Downer" is
/// Bishop).
pub fn last_person_before(doc: &Document, at: Span, gender: Option<Gender>) -> Option<&Entity> {
    doc.entities
        .iter()
        .filter(|e| e.label == EntityLabel::Per && e.end <= at.start && e.origin != Origin::Coreference && !e.canonical.is_empty())
        .filter(|e| gender.is_none_or(|g| gender_of(doc, e).is_none_or(|known| known == g)))
        .max_by_key(|e| e.end)
}

/// The part of a model span (code points start..end of `sentence`) that can be a name: tagging
/// slips around punctuation are cut off. A span opening on punctuation (". Petro" of "Mr.
/// Petro") or on a possessive's "s" ("s U.N." of "Iran's U.N."), half a parenthesis
/// ("Collective Security Treaty Organization (CSTO", "CSE)", "Hassan) Nasrallah"), a closing
/// quote, comma or possessive "'s".
fn tidy(sentence: &str, start: usize, end: usize) -> (usize, usize) {
    let chars: Vec<char> = sentence.chars().collect();
    let (mut start, mut end) = (start, end.min(chars.len()));
    let mut depth = 0usize;
    let span_end = end;
    for (k, c) in chars.iter().enumerate().take(span_end).skip(start) {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            // A closing parenthesis with no opening one: the name is after it, or before it
            // when it ends the span.
            ')' if k + 1 == span_end => end = k,
            ')' => start = k + 1,
            _ => {}
        }
    }
    // An opening parenthesis with no closing one: the name is before it.
    if let Some(open) = chars[start..end].iter().rposition(|&c| c == '(').filter(|_| depth > 0) {
        end = start + open;
    }
    let apostrophe = |k: usize| matches!(chars.get(k), Some('\'' | '’'));
    loop {
        if start < end && !chars[start].is_alphanumeric() {
            start += 1;
        } else if start > 0 && apostrophe(start - 1) && chars[start] == 's' && chars.get(start + 1).is_some_and(|c| c.is_whitespace()) {
            start += 2;
        } else {
            break;
        }
    }
    loop {
        // A period stays ("U.N.", "Jr.").
        while end > start && (chars[end - 1].is_whitespace() || apostrophe(end - 1) || matches!(chars[end - 1], '"' | '”' | ',' | ';' | ':')) {
            end -= 1;
        }
        // A possessive's "'s" is no part of the name ("Canada's" of "Canada's intelligence agency").
        if end >= start + 3 && chars[end - 1] == 's' && apostrophe(end - 2) {
            end -= 2;
            continue;
        }
        // A word that never ends a name: "… Monitoring Team of the".
        let last_word = chars.get(start..end).and_then(|span| span.iter().rposition(|c| c.is_whitespace())).map(|k| start + k + 1);
        match last_word {
            Some(k) if TRAILING_NOT_NAMES.contains(&chars[k..end].iter().collect::<String>().as_str()) => end = k,
            _ => break,
        }
    }
    (start, end)
}

/// Code points start..end of a text.
pub fn slice(text: &str, start: usize, end: usize) -> String {
    text.chars().skip(start).take(end - start).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tidy_cuts_tagging_slips_around_punctuation() {
        // (sentence, the model's span, the name kept)
        for (sentence, span, name) in [
            ("Sergei Lavrov spoke.", "Sergei Lavrov", "Sergei Lavrov"),
            ("Mr. Petro spoke.", ". Petro", "Petro"),
            ("The Collective Security Treaty Organization (CSTO) met.", "Collective Security Treaty Organization (CSTO", "Collective Security Treaty Organization"),
            ("The Communications Security Establishment (CSE) said.", "Communications Security Establishment (", "Communications Security Establishment"),
            ("The Communications Security Establishment (CSE) said.", "CSE)", "CSE"),
            ("Sayyed (Hassan) Nasrallah said.", "Hassan) Nasrallah", "Nasrallah"),
            ("The Inter-Services Public Relations (ISPR) said.", "Inter-Services Public Relations (ISPR)", "Inter-Services Public Relations (ISPR)"),
            ("Iran's U.N. mission said.", "s U.N.", "U.N."),
            ("He met Abiy Ahmed's envoy.", "Abiy Ahmed'", "Abiy Ahmed"),
            ("Canada's agency says it was hit.", "Canada's", "Canada"),
            ("The EU’s message is plain.", "EU’s", "EU"),
            ("Joe Smith Jr. said.", "Joe Smith Jr.", "Joe Smith Jr."),
            ("He said ( no.", "(", ""),
            ("Sayyed (Hassan) said.", "Hassan)", "Hassan"),
            ("The Analytical Support and Sanctions Monitoring Team of the UN said.", "Analytical Support and Sanctions Monitoring Team of the", "Analytical Support and Sanctions Monitoring Team"),
            ("The Bank of England said.", "Bank of England", "Bank of England"),
        ] {
            let at = sentence.find(span).map(|b| sentence[..b].chars().count()).unwrap();
            let (start, end) = tidy(sentence, at, at + span.chars().count());
            assert_eq!(slice(sentence, start, end.max(start)), name, "{span}");
        }
    }

    /// Any span of any sentence: tidy returns a range inside it (even an empty one), never panics.
    #[test]
    fn tidy_accepts_every_span() {
        for sentence in ["Sayyed (Hassan) Nasrallah of the (CSE said.", "a ) b ( c of the", "’s Iran's U.N. ( )"] {
            let n = sentence.chars().count();
            for start in 0..=n {
                for end in start..=n {
                    let (a, b) = tidy(sentence, start, end);
                    assert!(a <= n && b <= n, "{sentence:?} {start}..{end} -> {a}..{b}");
                }
            }
        }
    }

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
    fn later_mentions_link_to_the_full_name_and_titles_are_no_part_of_a_name() {
        let earlier = [person("Liz Truss", "Liz Truss"), person("Antony Blinken", "Antony Blinken")];
        for (mention, want) in [
            ("Truss", "Liz Truss"),
            ("Ms Truss", "Liz Truss"),
            ("Mr. Blinken", "Antony Blinken"),
            ("Secretary Blinken", "Antony Blinken"),
            ("Foreign Minister Truss", "Liz Truss"),
            ("Mr Smith", "Smith"),
            ("Col. Turki Al-Maliki", "Turki Al-Maliki"),
            ("H.E. Moussa Faki Mahamat", "Moussa Faki Mahamat"),
            ("General", "General"),
            ("Truss Blinken", "Truss Blinken"),
        ] {
            let mut e = person(mention, mention);
            link_to_earlier(&mut e, &earlier);
            assert_eq!(e.canonical, want, "{mention}");
        }
    }
}

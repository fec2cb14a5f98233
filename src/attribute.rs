//! Attribution: who holds the claims of a sentence. An ordered sieve of named rules, in the manner
//! of Stanford's multi-pass coreference sieve: each rule names an actor or passes, the first that
//! names one wins, and every claim records the rule that chose its actor (`attribution` in
//! claims.jsonl), so that `claimex eval` can score each rule on its own. The order is stated once:
//! pipeline.toml's `[attribution] sieve`, by default `Rule::ALL`. The speech cues the first rules
//! read are found by src/segment.rs; the word lists of the grammatical rules are in
//! data/attribution.toml; tests/fixtures/attribution.jsonl holds a case per rule and per known
//! failure.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::document::{BlockKind, ClaimType, CueKind, Document, Entity, EntityLabel, Origin, Sentence, SpeakerCue, Span};
use crate::assemble::find_word;
use crate::gazetteer::Gazetteer;
use crate::resolve::{apply, last_person_before, pronoun_gender, slice};
use crate::segment::{is_adverb, is_pronoun, is_title_like};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The speaker of the quotation the sentence is in: "X said: “…”", "“…,” he said."
    Quote,
    /// A quoted sentence with no attribution of its own, right after the quote of a speaker
    /// (a quotation that goes on over sentences and paragraphs).
    QuoteContinued,
    /// "According to X, …" at the sentence start.
    AccordingTo,
    /// "…, according to X" inside a sentence that has no speech verb.
    AccordingToInside,
    /// "X said that …" at the sentence start, X named.
    Reported,
    /// "…, X said." after the claim.
    Trailing,
    /// A paragraph under a speaker heading.
    Heading,
    /// "He said that …": the last person named.
    ReportedPronoun,
    /// The holder span the model tagged in the sentence, where it covers an entity.
    Learned,
    /// A sentence opening with "He", "The minister": the last person named.
    PronounSubject,
    /// "We condemn …" in the text's own voice (a statement, a briefing, a speech): the last
    /// speaker a cue named, else the author the title names ("Statement by the High
    /// Representative").
    FirstPerson,
    /// A sentence with no speech cue in a text in its author's own voice (a statement, a speech
    /// or a briefing: its title names the author, and a sentence with no cue speaks in the first
    /// person outside quotation marks): the author ("Russia also backs Syria's regime." in a
    /// Secretary General's speech is his, not Russia's).
    AuthorVoice,
    /// The first entity near the sentence start that no preposition governs.
    Subject,
    /// The one person whose claims the text has reported so far, for a stance or proposal.
    Discourse,
}

impl Rule {
    /// The default sieve: speech cues, most explicit first; then the model; then grammar; then
    /// the discourse.
    pub const ALL: [Rule; 14] = [
        Rule::Quote,
        Rule::QuoteContinued,
        Rule::AccordingTo,
        Rule::AccordingToInside,
        Rule::Reported,
        Rule::Trailing,
        Rule::Heading,
        Rule::ReportedPronoun,
        Rule::Learned,
        Rule::PronounSubject,
        Rule::FirstPerson,
        Rule::AuthorVoice,
        Rule::Subject,
        Rule::Discourse,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Rule::Quote => "quote",
            Rule::QuoteContinued => "quote_continued",
            Rule::AccordingTo => "according_to",
            Rule::Reported => "reported",
            Rule::Trailing => "trailing",
            Rule::Heading => "heading",
            Rule::ReportedPronoun => "reported_pronoun",
            Rule::Learned => "learned",
            Rule::PronounSubject => "pronoun_subject",
            Rule::FirstPerson => "first_person",
            Rule::AuthorVoice => "author_voice",
            Rule::Subject => "subject",
            Rule::AccordingToInside => "according_to_inside",
            Rule::Discourse => "discourse",
        }
    }

    /// The speech cue a cue rule reads: its kind, and whether the cue must be a pronoun.
    fn cue(self) -> Option<(CueKind, Option<bool>)> {
        match self {
            Rule::Quote => Some((CueKind::Quote, None)),
            Rule::AccordingTo => Some((CueKind::AccordingTo, None)),
            Rule::AccordingToInside => Some((CueKind::AccordingToInside, None)),
            Rule::Reported => Some((CueKind::Reported, Some(false))),
            Rule::Trailing => Some((CueKind::Trailing, None)),
            Rule::Heading => Some((CueKind::Heading, None)),
            Rule::ReportedPronoun => Some((CueKind::Reported, Some(true))),
            Rule::QuoteContinued | Rule::Learned | Rule::PronounSubject | Rule::FirstPerson | Rule::AuthorVoice | Rule::Subject | Rule::Discourse => None,
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// data/attribution.toml.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lexicon {
    prepositions: Vec<String>,
    determiners: Vec<String>,
    list_joiners: Vec<String>,
    holder_window: usize,
    pronoun_subjects: Vec<String>,
    institution_pronouns: Vec<String>,
    institution_acts: Vec<String>,
    own_country: Vec<String>,
    person_nouns: Vec<String>,
    indefinites: Vec<String>,
    body_nouns: Vec<String>,
    state_bodies: Vec<String>,
    institution_references: Vec<String>,
    first_person: Vec<String>,
    authorship: Vec<String>,
    authored_by: Vec<String>,
    holder_of: Vec<String>,
    posted_abroad: Vec<String>,
}

impl Lexicon {
    pub fn shipped() -> Lexicon {
        toml::from_str(include_str!("../data/attribution.toml")).expect("data/attribution.toml is valid")
    }
}

/// The actor of a sentence's claims and the rule that chose it.
#[derive(Clone, Debug)]
pub struct Attribution {
    pub actor: Entity,
    pub rule: Rule,
}

pub struct Sieve<'a> {
    pub rules: &'a [Rule],
    pub lexicon: &'a Lexicon,
    pub gazetteer: &'a Gazetteer,
}

/// The one person whose claims the text has reported so far: narration that goes on
/// paraphrasing them ("Coordinated work of all participants is needed.") is still theirs. Once
/// a second person has held a claim, such narration is nobody's.
#[derive(Default)]
struct Discourse {
    reported: Option<Entity>,
    several: bool,
}

impl Discourse {
    fn carried(&self) -> Option<Entity> {
        self.reported.clone().filter(|_| !self.several).map(|person| Entity { origin: Origin::Discourse, ..person })
    }

    fn saw(&mut self, actor: &Entity) {
        if actor.label == EntityLabel::Per {
            self.several |= self.reported.as_ref().is_some_and(|r| r.canonical != actor.canonical);
            self.reported = Some(actor.clone());
        }
    }
}

/// What the sieve knows from the sentences before the one it attributes.
#[derive(Default)]
struct Context {
    /// The speaker of the quotation that is still going on, if every sentence since its
    /// attributed quote was quoted.
    quote_speaker: Option<Entity>,
    /// The last institution a speech cue named or that held a claim: what "the statement said"
    /// and "it added" refer to.
    institution: Option<Entity>,
    /// The last speaker a speech cue named.
    speaker: Option<Entity>,
    discourse: Discourse,
}

impl Context {
    /// Remembers an actor that spoke or held a claim, if it is an institution.
    fn heard(&mut self, actor: &Entity) {
        if actor.label != EntityLabel::Per {
            self.institution = Some(actor.clone());
        }
    }
}

impl Sieve<'_> {
    /// Sets every sentence's `speaker` (the cue of the first cue rule that resolves) and returns,
    /// per sentence, the actor of its claims (`kinds`: the claim types of each sentence). One
    /// pass in reading order: a sentence is attributed from what the text said before it.
    pub fn attribute(&self, doc: &mut Document, kinds: &[Vec<ClaimType>]) -> Vec<Option<Attribution>> {
        let mut context = Context::default();
        let author = self.author(doc);
        let author_voice = author.is_some() && doc.sentences.iter().any(|s| s.cues.is_empty() && self.in_first_person(s));
        let mut out = Vec::with_capacity(doc.sentences.len());
        for i in 0..doc.sentences.len() {
            // Every cue rule's actor, in sieve order, each cue resolved once.
            let cues: Vec<(Rule, SpeakerCue, Entity)> = self
                .rules
                .iter()
                .filter_map(|&rule| self.cue_actor(doc, i, rule, &context).filter(|(_, actor)| !self.is_media(actor)).map(|(cue, actor)| (rule, cue, actor)))
                .collect();
            let continued = match cues.iter().find(|(rule, ..)| *rule == Rule::Quote) {
                Some((.., actor)) => {
                    context.quote_speaker = Some(actor.clone());
                    None
                }
                None if doc.sentences[i].quoted => context.quote_speaker.clone(),
                None => {
                    context.quote_speaker = None;
                    None
                }
            };
            if let Some((_, cue, actor)) = cues.first() {
                if actor.origin == Origin::Coreference && !doc.entities.iter().any(|e| e.start == actor.start && e.end == actor.end) {
                    let at = doc.entities.partition_point(|e| (e.start, e.end) <= (actor.start, actor.end));
                    doc.entities.insert(at, actor.clone());
                }
                context.heard(actor);
                context.speaker = Some(actor.clone());
                doc.sentences[i].speaker = Some(cue.clone());
            }
            let Some(kinds) = kinds.get(i).filter(|k| !k.is_empty()) else {
                out.push(None);
                continue;
            };
            let found = self.rules.iter().find_map(|&rule| {
                let actor = match rule {
                    Rule::QuoteContinued => continued.clone(),
                    Rule::Learned => learned_holder(doc, i),
                    Rule::PronounSubject => self.pronoun_subject(doc, i).or_else(|| self.institution_subject(doc, i, context.institution.as_ref())),
                    Rule::FirstPerson if self.in_first_person(&doc.sentences[i]) => context.speaker.clone().or_else(|| author.clone()),
                    Rule::FirstPerson => None,
                    Rule::AuthorVoice if author_voice && !doc.sentences[i].quoted && doc.sentences[i].cues.is_empty() => author.clone(),
                    Rule::AuthorVoice => None,
                    Rule::Subject => self.subject(doc, i),
                    // A threat named in narration is the narrator's (spec: actor null); a stance
                    // or proposal needs a holder, and paraphrase carries the last one's.
                    Rule::Discourse if kinds.iter().all(|k| *k == ClaimType::Threat) => None,
                    Rule::Discourse => context.discourse.carried(),
                    _ => cues.iter().find(|(r, ..)| *r == rule).map(|(.., actor)| actor.clone()),
                };
                actor.filter(|actor| !self.is_media(actor)).map(|actor| Attribution { actor: self.as_actor(doc, actor), rule })
            });
            if let Some(a) = &found {
                context.discourse.saw(&a.actor);
                context.heard(&a.actor);
            }
            out.push(found);
        }
        out
    }

    /// The sentence's cue that a cue rule reads, resolved to a named actor.
    fn cue_actor(&self, doc: &Document, i: usize, rule: Rule, context: &Context) -> Option<(SpeakerCue, Entity)> {
        let cue = cue_for(&doc.sentences[i], rule)?;
        self.resolve_cue(doc, i, cue, context).map(|actor| (cue.clone(), actor))
    }

    /// Who a speaker cue names: the last person inside it ("Foreign Ministry spokeswoman Irina
    /// Volkova" is Volkova, not whoever holds the title in the gazetteer), a person the gazetteer
    /// knows by name or title, the last person named before it for a pronoun or a description
    /// of a person ("he", "the minister"), the institution inside it ("the UK Foreign Office":
    /// the state it speaks for), the last institution that spoke for "the statement", "it" or a
    /// body no earlier name matches ("the agency"), or the cue itself when it reads as a name
    /// the model missed. Nobody for anything else (a misparsed clause).
    fn resolve_cue(&self, doc: &Document, quoted: usize, cue: &SpeakerCue, context: &Context) -> Option<Entity> {
        // The cue may stand in another sentence than the quote it attributes ("…,” he said.").
        let sentence = doc.sentences.iter().position(|s| s.span.contains(cue.span)).unwrap_or(quoted);
        let inside = |e: &&Entity| e.start < cue.span.end && cue.span.start < e.end && !e.canonical.is_empty();
        let as_cue = |e: &Entity| Entity { text: cue.text.clone(), start: cue.span.start, end: cue.span.end, origin: Origin::Coreference, ..e.clone() };
        if let Some(e) = doc.entities.iter().rev().filter(inside).find(|e| e.label == EntityLabel::Per) {
            return Some(if e.start == cue.span.start && e.end == cue.span.end { e.clone() } else { as_cue(e) });
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
        if let Some(a) = self.gazetteer.find(&cue.text, doc.published.as_deref()).into_iter().find(|m| m.actor.label == EntityLabel::Per) {
            let mut e = base;
            apply(&mut e, &a.actor);
            return Some(e);
        }
        let lower = cue.text.to_lowercase();
        let words: Vec<&str> = alnum_words(&lower).collect();
        let refers_to_institution = words.iter().any(|w| self.lexicon.institution_references.iter().any(|r| r == w));
        // "an Israeli official", "a senior US official" introduce someone not named before: what
        // the description names (below), never the last person named.
        let introduces = words.first().is_some_and(|w| self.lexicon.indefinites.iter().any(|d| d == w));
        if !refers_to_institution && !introduces && (is_pronoun(cue) || words.iter().any(|w| self.lexicon.person_nouns.iter().any(|n| n == w))) {
            // "a Chinese envoy" with nobody named before: the state the envoy speaks for.
            let Some(prev) = last_person_before(doc, cue.span, pronoun_gender(&cue.text)) else { return self.demonym_holder(doc, cue.span).map(as_cue) };
            return Some(Entity { canonical: prev.canonical.clone(), affiliation: prev.affiliation.clone(), id: prev.id.clone(), ..base });
        }
        if let Some(e) = doc.entities.iter().filter(inside).find(|e| e.label != EntityLabel::Misc || e.id.is_some()) {
            return Some(e.clone());
        }
        if let Some(e) = self.demonym_holder(doc, cue.span) {
            return Some(as_cue(e));
        }
        if let Some(noun) = self.body_noun(&lower) {
            // "the agency said" after the UN Office on Drugs and Crime spoke: no name with the
            // noun, so the institution that spoke last.
            return self.last_body_before(doc, cue.span, noun).or(context.institution.as_ref()).map(as_cue);
        }
        if refers_to_institution {
            return context.institution.as_ref().map(as_cue);
        }
        let name_like = (1..=5).contains(&words.len())
            && cue.text.split_whitespace().all(|w| w.chars().next().is_some_and(char::is_uppercase) || w.chars().all(|c| c.is_lowercase()) && w.len() <= 3)
            && cue.text.chars().next().is_some_and(char::is_uppercase)
            && !self.lexicon.determiners.iter().any(|d| words.first() == Some(&d.as_str()));
        name_like.then_some(base)
    }

    /// A capital or an adjective acting as a holder stands for its country; so does a state body
    /// (spec: a ministry speaks for its state).
    fn as_actor(&self, doc: &Document, mut e: Entity) -> Entity {
        if e.label != EntityLabel::Per {
            let stands_for = self.gazetteer.lookup(&e.text, None).and_then(|a| a.stands_for).or_else(|| e.id.as_deref().and_then(|id| self.gazetteer.state_of(id)));
            if let Some(country) = stands_for.or_else(|| self.state_of_body(doc, &e)) {
                e.canonical = country;
            }
        }
        e
    }

    /// The state a body the gazetteer does not know belongs to: "Foreign Ministry" with a country
    /// in its name ("Ministry of External Affairs of India", "Colombian Foreign Ministry") or
    /// right before it ("the Uzbek Foreign Ministry", "Turkey's defence ministry"); else, for a
    /// body only a state has (`state_bodies`: "Foreign Ministry", "Ministry of Interior") whose
    /// name holds no other name, the state the text names most (a ministry's own press release
    /// names its state more than any other).
    fn state_of_body(&self, doc: &Document, e: &Entity) -> Option<String> {
        let is_body = |text: &str| self.body_noun(&text.to_lowercase()).is_some();
        if e.id.is_some() || !is_body(&e.text) && !is_body(&e.canonical) {
            return None;
        }
        // "the ministry" referring back: the state of the body it refers to, where it was named.
        if e.origin == Origin::Coreference {
            let named = doc.entities.iter().rev().find(|o| o.origin != Origin::Coreference && o.canonical == e.canonical && o.end <= e.start);
            return named.and_then(|o| self.state_of_body(doc, o));
        }
        let date = doc.published.as_deref();
        let country = |m: &crate::gazetteer::Match| match m.actor.label {
            EntityLabel::Loc if m.actor.id.is_some() => Some(m.actor.canonical.clone()),
            EntityLabel::Misc => m.actor.stands_for.clone(),
            _ => None,
        };
        let in_name = self.gazetteer.find(&e.canonical, date);
        if let Some(state) = in_name.iter().find_map(country) {
            return Some(state);
        }
        // The 30 code points before the body's name.
        let from = e.start.saturating_sub(30);
        let before: Vec<char> = doc.source.chars().skip(from).take(e.start - from).collect();
        let named_before = self.gazetteer.find(&before.iter().collect::<String>(), date).pop().filter(|last| {
            let gap: String = before[last.end..].iter().collect();
            matches!(gap.trim(), "" | "'s" | "’s")
        });
        if let Some(last) = named_before {
            // "The Taliban's Interior Ministry": a name right before the body that is no state.
            return country(&last);
        }
        let state_body = alnum_words(&e.canonical.to_lowercase()).any(|w| self.lexicon.state_bodies.iter().any(|b| b == w));
        (state_body && in_name.is_empty()).then(|| self.most_named_state(doc)).flatten()
    }

    /// The state the text names most, by its name or as a holder's adjective ("Turkish
    /// troops"; not "Afghan opium"), the first named among equals, if it names one.
    fn most_named_state(&self, doc: &Document) -> Option<String> {
        let mut counts: Vec<(String, usize)> = Vec::new();
        let whole = Span { start: 0, end: doc.source.chars().count() };
        let holders: Vec<&Entity> = self.demonym_holders(doc, whole).collect();
        for e in &doc.entities {
            let state = match e.label {
                EntityLabel::Loc if e.id.is_some() => Some(e.canonical.clone()),
                EntityLabel::Misc if holders.iter().any(|h| std::ptr::eq(*h, e)) => self.gazetteer.lookup(&e.text, None).and_then(|a| a.stands_for),
                _ => None,
            };
            let Some(state) = state else { continue };
            match counts.iter_mut().find(|(name, _)| *name == state) {
                Some((_, n)) => *n += 1,
                None => counts.push((state, 1)),
            }
        }
        // max_by_key keeps the last maximum: reversed, that is the first named.
        counts.into_iter().rev().max_by_key(|(_, n)| *n).map(|(name, _)| name)
    }

    /// Whether an actor is a news agency or outlet: the source a text cites, never a holder
    /// (spec: the body or person it quotes is). The rule passes to the next.
    fn is_media(&self, e: &Entity) -> bool {
        e.id.as_deref().is_some_and(|id| self.gazetteer.is_media(id))
    }

    /// Whether an entity names an actor: resolved, and not a bare MISC ("Russian drones").
    fn named(&self, e: &Entity) -> bool {
        !e.canonical.is_empty() && (e.label != EntityLabel::Misc || e.id.is_some())
    }

    /// The sentence's named actors (capitalised: a lower-case span is a tagging slip) with
    /// their offsets in the lower-cased sentence text, in order.
    fn mentions<'d>(&self, doc: &'d Document, i: usize, lower: &str) -> Vec<(&'d Entity, usize)> {
        let mut mentions: Vec<(&Entity, usize)> = doc
            .entities
            .iter()
            .filter(|e| e.sentence == i && self.named(e))
            .filter(|e| e.text.chars().next().is_some_and(|c| !c.is_lowercase()))
            .filter_map(|e| find_word(lower, &e.text.to_lowercase()).map(|at| (e, at)))
            .collect();
        mentions.sort_by_key(|(_, at)| *at);
        mentions
    }

    /// "He …", "The minister …" refer back to the last person named; "The Ministry …", "The
    /// Sudanese army …" to the last institution named with that noun ("The President of Belarus"
    /// is a title the gazetteer resolved, not a pronoun).
    fn pronoun_subject(&self, doc: &Document, i: usize) -> Option<Entity> {
        let sentence = &doc.sentences[i];
        let lower = sentence.text.to_lowercase();
        let person = self.lexicon.pronoun_subjects.iter().find(|p| starts_with_word(&lower, p)).map(|p| (p.chars().count(), None));
        let (len, body) = person.or_else(|| self.body_opening(&sentence.text).map(|(len, noun)| (len, Some(noun))))?;
        if self.mentions(doc, i, &lower).iter().any(|(_, at)| *at < len) {
            return None;
        }
        let referent = match body {
            None => last_person_before(doc, sentence.span, pronoun_gender(&slice(&sentence.text, 0, len)))?,
            Some(noun) => self.last_body_before(doc, sentence.span, noun)?,
        };
        let span = doc.clean.to_source(sentence.clean_start, sentence.clean_start + len);
        Some(Entity { text: slice(&sentence.text, 0, len), start: span.start, end: span.end, sentence: i, origin: Origin::Coreference, ..referent.clone() })
    }

    /// "It further asked Pakistan to …", "It called on the delegates …": a sentence opening with
    /// "it" and a verb of what an institution does (`institution_acts`; not "It is essential
    /// that …") refers back to the last institution that spoke or held a claim.
    fn institution_subject(&self, doc: &Document, i: usize, institution: Option<&Entity>) -> Option<Entity> {
        let sentence = &doc.sentences[i];
        let lower = sentence.text.to_lowercase();
        let opening = self.lexicon.institution_pronouns.iter().find(|p| starts_with_word(&lower, p))?;
        let len = opening.chars().count();
        let verb = alnum_words(&slice(&lower, len, lower.chars().count())).find(|w| !is_adverb(w)).map(str::to_string)?;
        if !self.lexicon.institution_acts.contains(&verb) {
            return None;
        }
        let span = doc.clean.to_source(sentence.clean_start, sentence.clean_start + len);
        Some(Entity { text: slice(&sentence.text, 0, len), start: span.start, end: span.end, sentence: i, origin: Origin::Coreference, ..institution?.clone() })
    }

    /// "The Ministry", "the Sudanese army": "the", at most two more words, then a body noun
    /// (data/attribution.toml `body_nouns`); its length in code points and the noun.
    fn body_opening<'l>(&'l self, text: &str) -> Option<(usize, &'l str)> {
        let words: Vec<(usize, String)> = word_spans(text).into_iter().take(4).map(|(a, b)| (b, slice(text, a, b).to_lowercase())).collect();
        if words.first().map(|(_, w)| w.as_str()) != Some("the") {
            return None;
        }
        for (end, w) in &words[1..] {
            if let Some(noun) = self.lexicon.body_nouns.iter().find(|n| *n == w) {
                return Some((*end, noun.as_str()));
            }
            if !w.chars().all(char::is_alphabetic) {
                return None;
            }
        }
        None
    }

    /// The last institution named before a position: a name with the noun ("Foreign Ministry"
    /// for "the ministry"), or a country or organization right before the noun ("The Colombian
    /// government" for "the government").
    fn last_body_before<'d>(&self, doc: &'d Document, at: Span, noun: &str) -> Option<&'d Entity> {
        let has_noun = |e: &Entity| alnum_words(&e.text.to_lowercase()).any(|w| w == noun);
        let before_body = |e: &Entity| {
            let next = text_after(doc, e);
            next.starts_with(' ') && alnum_words(&next).next() == Some(noun)
        };
        doc.entities
            .iter()
            .filter(|e| e.label != EntityLabel::Per && e.end <= at.start && !e.canonical.is_empty())
            .filter(|e| has_noun(e) || before_body(e))
            .max_by_key(|e| e.end)
    }

    /// Whether a clause that ends in a word of `holder_of` ("of", "in") is a holder noun with at
    /// most two words before it, which the name after it belongs to: "The government of
    /// Ethiopia", "Police in Finland", "the top diplomats of Germany" hold what the sentence
    /// says; "a meeting of the UN", "talks with police in Kabul", "Gunmen killed three officials
    /// in Kabul" do not, nor does a body posted abroad with "in" ("the embassy in Kabul").
    fn holder_of(&self, clause: &str) -> bool {
        let is = |list: &[String], w: &str| list.iter().any(|n| n == w);
        let words: Vec<&str> = alnum_words(clause).filter(|w| !is(&self.lexicon.determiners, w)).collect();
        let [opening @ .., noun, link] = words.as_slice() else { return false };
        // A plural holder noun: "governments", "diplomats".
        let singular = noun.strip_suffix('s').unwrap_or(noun);
        let holder = [*noun, singular].into_iter().any(|w| is(&self.lexicon.body_nouns, w) || is(&self.lexicon.person_nouns, w));
        let abroad = *link == "in" && [*noun, singular].into_iter().any(|w| is(&self.lexicon.posted_abroad, w));
        holder && !abroad && is(&self.lexicon.holder_of, link) && opening.len() <= 2 && !opening.iter().any(|w| is(&self.lexicon.prepositions, w))
    }

    /// The first body noun (data/attribution.toml `body_nouns`) among a lower-cased text's words.
    fn body_noun(&self, lower: &str) -> Option<&str> {
        alnum_words(lower).find_map(|w| self.lexicon.body_nouns.iter().find(|n| *n == w)).map(String::as_str)
    }

    /// Demonyms inside `span` that name a holder by its state: followed within two words by a
    /// body or person noun ("the Israeli army", "Saudi foreign ministry", "Colombian
    /// officials", "a Chinese envoy"), not a demonym describing something else ("Russian
    /// drones"). The sieve makes such a holder its state (`as_actor`).
    fn demonym_holders<'d>(&'d self, doc: &'d Document, span: Span) -> impl Iterator<Item = &'d Entity> + 'd {
        doc.entities.iter().filter(move |e| {
            e.label == EntityLabel::Misc
                && span.start <= e.start
                && e.end <= span.end
                && self.gazetteer.lookup(&e.text, None).is_some_and(|a| a.stands_for.is_some())
                && alnum_words(&text_after(doc, e)).take(2).any(|w| self.lexicon.body_nouns.iter().chain(&self.lexicon.person_nouns).any(|n| n == w))
        })
    }

    /// The first of `demonym_holders`.
    fn demonym_holder<'d>(&'d self, doc: &'d Document, span: Span) -> Option<&'d Entity> {
        self.demonym_holders(doc, span).next()
    }

    /// Whether a sentence speaks in the first person outside quotation marks ("We firmly
    /// condemn …", "Today I want to stress that we …"): a first-person word near its start.
    fn in_first_person(&self, sentence: &Sentence) -> bool {
        !sentence.quoted
            && alnum_words(&sentence.text).take(self.lexicon.holder_window).any(|w| self.lexicon.first_person.iter().any(|p| p == w || capitalized(p) == w))
    }

    /// Who wrote a text in its own voice: the actor its title names as the author of
    /// a statement, briefing or speech: "Statement by the North Atlantic Council", "Speech by
    /// NATO Secretary General Jens Stoltenberg", "Foreign Ministry Spokesperson Mao Ning's
    /// Regular Press Conference", "UK statement at the UN". A title that only mentions a
    /// statement ("Rubio gives leaders a briefing") names none.
    fn author(&self, doc: &Document) -> Option<Entity> {
        let phrases: Vec<Vec<&str>> = self.lexicon.authorship.iter().map(|w| alnum_words(w).collect()).collect();
        let links: Vec<Vec<&str>> = self.lexicon.authored_by.iter().map(|w| alnum_words(w).collect()).collect();
        // "Statement by (the) (President) X", "Remarks delivered by X".
        let by = |e: &Entity| {
            let before = text_before(doc, e);
            let mut words: Vec<&str> = alnum_words(&before).collect();
            while words.last().is_some_and(|w| self.lexicon.determiners.iter().chain(&self.lexicon.person_nouns).any(|d| d == w)) {
                words.pop();
            }
            links.iter().any(|link| {
                let Some(rest) = words.strip_suffix(link.as_slice()) else { return false };
                phrases.iter().any(|p| rest.ends_with(p))
            })
        };
        // "X's Regular Press Conference" (a possessive, then the phrase within three words), "X
        // statement" (right after the name).
        let owns = |e: &Entity| {
            let after = text_after(doc, e);
            let possessive = after.starts_with("'s ") || after.starts_with("’s ");
            let next: Vec<&str> = alnum_words(&after).skip(usize::from(possessive)).take(4).collect();
            let starts = if possessive { 0..3 } else { 0..1 };
            after.starts_with([' ', '\'', '’']) && starts.into_iter().any(|k| phrases.iter().any(|p| next.get(k..).is_some_and(|n| n.starts_with(p))))
        };
        // A title, subtitle or site name.
        let title = |i: usize| {
            let kind = doc.blocks.get(doc.sentences[i].paragraph).map_or(BlockKind::Paragraph, |b| b.kind);
            is_title_like(i, &doc.sentences[i].text, kind)
        };
        let in_title = |e: &&Entity| self.named(e) && title(e.sentence);
        let author = doc.entities.iter().filter(in_title).find(|e| by(e) || owns(e))?;
        // "Speech by NATO Secretary General Jens Stoltenberg": the person its title words lead to
        // (not "Statement by the EU on Alexei Navalny", "… by Olaf Scholz and Emmanuel Macron").
        let person = doc.entities.iter().filter(in_title).find(|p| {
            let gap: String = doc.source.chars().skip(author.end).take(p.start.saturating_sub(author.end)).collect();
            p.label == EntityLabel::Per
                && p.start >= author.end
                && gap.split_whitespace().count() <= 4
                && gap.split_whitespace().all(|w| w.chars().next().is_some_and(char::is_uppercase) && w.chars().all(char::is_alphabetic))
        });
        Some(person.unwrap_or(author).clone())
    }

    /// The grammatical holder: the first entity near the start (or after "According to") that
    /// no preposition governs. A sentence opening with the speaker's own country ("Our country
    /// is in favor of …") has none: the speaker, when there is one, holds it.
    fn subject(&self, doc: &Document, i: usize) -> Option<Entity> {
        let sentence = &doc.sentences[i];
        let lower = sentence.text.to_lowercase();
        if self.lexicon.own_country.iter().any(|p| starts_with_word(&lower, p)) {
            return None;
        }
        let chars: Vec<char> = lower.chars().collect();
        let words = word_spans(&sentence.text);
        let mut mentions = self.mentions(doc, i, &lower);
        mentions.extend(self.demonym_holders(doc, sentence.span).filter_map(|e| find_word(&lower, &e.text.to_lowercase()).map(|at| (e, at))));
        mentions.sort_by_key(|(_, at)| *at);
        // "Urging …, the head of the mission called on …", "Led by …, the task force
        // condemns …": an opening participle clause holds no holder; the clause after it does
        // ("Beijing opposes …" opens with a name, no participle).
        let participle = words.first().is_some_and(|&(a, b)| {
            let first = slice(&lower, a, b);
            first.ends_with("ing") && first.chars().all(char::is_alphabetic) || first == "led" && words.get(1).is_some_and(|&(a, b)| slice(&lower, a, b) == "by")
        }) && mentions.first().is_none_or(|(_, at)| *at > 0);
        let from = if lower.starts_with("according to ") {
            "according to ".len()
        } else if participle {
            chars.iter().position(|&c| c == ',').map_or(chars.len(), |k| k + 1)
        } else {
            0
        };
        let first_word = words.iter().position(|&(a, _)| a >= from).unwrap_or(words.len());
        let limit = words.get(first_word + self.lexicon.holder_window).map_or(usize::MAX, |w| w.0);
        // Where the previous mention ended (every mention before the holder is governed).
        let mut previous_end: Option<usize> = None;
        for (e, at) in mentions.into_iter().filter(|(_, at)| *at >= from) {
            let before: String = chars[..at].iter().collect();
            // The word before the mention, past any article: "a meeting of the UN"; a comma
            // between them ends the phrase ("From now on, the EU can …").
            let clause = before.rsplit([',', ';', ':']).next().unwrap_or("");
            let prev = clause.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).rfind(|w| !self.lexicon.determiners.iter().any(|d| d == w));
            // A holder noun's name is no governed one ("Police in Finland"), unless it only
            // qualifies what the phrase names ("of Yemen's Houthi movement").
            let holds = || self.holder_of(clause) && !text_after(doc, e).starts_with(['\'', '’']);
            let mut governed = prev.is_some_and(|w| self.lexicon.prepositions.iter().any(|p| p == w)) && !holds();
            // A list shares its first member's preposition: "of the UN, OSCE and SCO".
            if let Some(end) = previous_end.filter(|end| *end <= at) {
                let gap: String = chars[end..at].iter().collect();
                governed |= gap.split(|c: char| c.is_whitespace() || c == ',').all(|w| w.is_empty() || self.lexicon.list_joiners.iter().any(|j| j == w));
            }
            if !governed {
                return (at < limit).then(|| e.clone());
            }
            previous_end = Some(at + e.text.chars().count());
        }
        None
    }
}

/// The sentence's speech cue that a cue rule reads.
pub fn cue_for(sentence: &Sentence, rule: Rule) -> Option<&SpeakerCue> {
    let (kind, pronoun) = rule.cue()?;
    sentence.cues.iter().find(|c| c.kind == kind && pronoun.is_none_or(|p| is_pronoun(c) == p))
}

/// The entity the model tagged as the holder in sentence `i`: in the first holder mention that
/// covers an entity, the person it names, else its last entity ("Tehran's top diplomat Abbas
/// Araghchi" is Araghchi; "the Iranian Foreign Ministry" is the ministry, not Iran).
fn learned_holder(doc: &Document, i: usize) -> Option<Entity> {
    let sentence = &doc.sentences[i];
    doc.holders.get(i)?.iter().find_map(|&(start, end)| {
        let span = doc.clean.to_source(sentence.clean_start + start, sentence.clean_start + end);
        let inside: Vec<&Entity> = doc.entities.iter().filter(|e| e.sentence == i && e.start < span.end && span.start < e.end && !e.canonical.is_empty()).collect();
        inside.iter().rev().find(|e| e.label == EntityLabel::Per).or(inside.last()).map(|e| (*e).clone())
    })
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

/// The 40 code points of the source before an entity, lower-cased; across a line break too
/// ("Press conference\nby NATO Secretary General …" is one title in two lines).
fn text_before(doc: &Document, e: &Entity) -> String {
    let from = e.start.saturating_sub(40);
    doc.source.chars().skip(from).take(e.start - from).collect::<String>().to_lowercase()
}

/// The 40 code points of the source after an entity, lower-cased: the words that follow it.
fn text_after(doc: &Document, e: &Entity) -> String {
    doc.source.chars().skip(e.end).take(40).collect::<String>().to_lowercase()
}

/// The runs of letters and digits of a text.
fn alnum_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty())
}

/// "we" → "We" (a first-person word opening a sentence; "US" is no "us").
fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

fn starts_with_word(lower: &str, phrase: &str) -> bool {
    lower.starts_with(phrase) && lower[phrase.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Format;
    use crate::ingest::{ingest, RawDocument};
    use crate::ner::EntitySpan;

    /// A line of tests/fixtures/attribution.jsonl.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Case {
        case: String,
        /// The document (plain text).
        text: String,
        /// What the model would tag: every occurrence of each text, with its label.
        entities: Vec<(String, EntityLabel)>,
        /// Texts the model would tag as holders.
        #[serde(default)]
        holders: Vec<String>,
        /// Earlier sentences that carry claims (by a part of their text), for the discourse.
        #[serde(default)]
        claimed: Vec<String>,
        /// The sentence under test, by a part of its text.
        sentence: String,
        /// Its claim types (default: a stance).
        #[serde(default = "stance")]
        types: Vec<ClaimType>,
        actor: Option<String>,
        rule: Option<Rule>,
    }

    fn stance() -> Vec<ClaimType> {
        vec![ClaimType::Stance]
    }

    fn root() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
    }

    fn cases() -> Vec<Case> {
        let text = std::fs::read_to_string(root().join("tests/fixtures/attribution.jsonl")).unwrap();
        text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"))).collect()
    }

    /// Code-point spans of every word-bounded occurrence of `needle` in `text`.
    fn occurrences(text: &str, needle: &str) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut from = 0;
        while let Some(at) = text.get(from..).and_then(|rest| find_word(rest, needle)) {
            let start = text[..from].chars().count() + at;
            let len = needle.chars().count();
            out.push((start, start + len));
            from = text.char_indices().nth(start + len).map_or(text.len(), |(b, _)| b);
        }
        out
    }

    /// The case's sentence attributed by the shipped sieve: (canonical actor, rule).
    fn run(case: &Case, gazetteer: &Gazetteer, lexicon: &Lexicon) -> Result<(Option<String>, Option<Rule>), String> {
        let raw = RawDocument { id: "case".into(), origin: "case".into(), format: Format::Text, bytes: case.text.as_bytes().to_vec(), title: None, url: None, published: None };
        let mut doc = ingest(raw).map_err(|e| e.to_string())?;
        crate::segment::segment(&mut doc);
        let spans: Vec<Vec<EntitySpan>> = doc
            .sentences
            .iter()
            .map(|s| case.entities.iter().flat_map(|(text, label)| occurrences(&s.text, text).into_iter().map(|(start, end)| EntitySpan { start, end, label: *label, score: 1.0 })).collect())
            .collect();
        crate::resolve::resolve(&mut doc, &spans, gazetteer, 0.5);
        doc.holders = doc.sentences.iter().map(|s| case.holders.iter().flat_map(|h| occurrences(&s.text, h)).collect()).collect();
        let target = doc.sentences.iter().position(|s| s.text.contains(&case.sentence)).ok_or("no sentence holds the `sentence` text")?;
        let kinds: Vec<Vec<ClaimType>> = doc
            .sentences
            .iter()
            .enumerate()
            .map(|(i, s)| if i == target { case.types.clone() } else if case.claimed.iter().any(|c| s.text.contains(c)) { stance() } else { Vec::new() })
            .collect();
        let sieve = Sieve { rules: &Rule::ALL, lexicon, gazetteer };
        let found = sieve.attribute(&mut doc, &kinds).swap_remove(target);
        Ok((found.as_ref().map(|a| a.actor.canonical.clone()), found.map(|a| a.rule)))
    }

    /// Every case of the table: who the sieve names and by which rule, without the models.
    #[test]
    fn attribution_cases() {
        let gazetteer = Gazetteer::load(&root().join("data/gazetteer.toml")).unwrap();
        let lexicon = Lexicon::shipped();
        let mut failures = Vec::new();
        for case in cases() {
            match run(&case, &gazetteer, &lexicon) {
                Ok(got) if got == (case.actor.clone(), case.rule) => {}
                Ok((actor, rule)) => failures.push(format!("{}: got {actor:?} by {rule:?}, expected {:?} by {:?}", case.case, case.actor, case.rule)),
                Err(e) => failures.push(format!("{}: {e}", case.case)),
            }
        }
        assert!(failures.is_empty(), "{} attribution cases failed:\n{}", failures.len(), failures.join("\n"));
    }

    #[test]
    fn every_rule_has_a_case() {
        let cases = cases();
        for rule in Rule::ALL {
            assert!(cases.iter().any(|c| c.rule == Some(rule)), "no case in tests/fixtures/attribution.jsonl expects {rule}");
        }
    }

    /// The rule names agree across the enum, the shipped pipeline.toml and the output schema.
    #[test]
    fn rule_names_agree_with_the_shipped_config_and_the_schema() {
        let names: Vec<String> = Rule::ALL.iter().map(|r| r.name().to_string()).collect();
        let config: toml::Value = toml::from_str(&std::fs::read_to_string(root().join("pipeline.toml")).unwrap()).unwrap();
        let shipped: Vec<String> = config["attribution"]["sieve"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
        assert_eq!(shipped, names, "pipeline.toml [attribution] sieve is the default order");
        let schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(root().join("docs/schema/claim.schema.json")).unwrap()).unwrap();
        let listed: Vec<String> = schema["properties"]["attribution"]["enum"].as_array().unwrap().iter().filter_map(|v| v.as_str().map(String::from)).collect();
        assert_eq!(listed, names);
        for rule in Rule::ALL {
            assert_eq!(serde_json::to_value(rule).unwrap(), rule.name());
        }
    }
}

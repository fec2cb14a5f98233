//! Sentence segmentation of the kept blocks, with quotation and speaker cues.
//!
//! Splitting: a sentence ends at `.`, `!`, `?`, `…` (or `...`), followed by closing quotes or
//! brackets, whitespace, and a next word that does not start lowercase. A period does not end a
//! sentence after an abbreviation (`data/abbreviations.txt`), an initial ("J. R. Smith"), or a
//! dotted group ("U.S."); decimals and domains never qualify (no whitespace after the period).
//! Every sentence is trimmed, so its span is tight.
//!
//! Speakers (`data/speech.toml`): paragraphs under a speaker heading get the heading's name
//! until the next heading; a quotation introduced by "X said: “…" or closed by "…,” he said." /
//! "…,” said X." gives X to the sentences it covers; "X stressed that …" and "According to X, …"
//! give X to that sentence.

use std::collections::HashSet;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::document::{BlockKind, CleanText, CueKind, Document, Sentence, SpeakerCue};

/// The sentences at the start of a text that can hold its title (a site name, the title, a
/// subtitle).
const TITLE_SENTENCES: usize = 3;

/// Whether the sentence at `index` of a text can be its title (or a site name or subtitle): one
/// of the first sentences, in a Title block or with no final full stop (the HTML of many pages
/// puts the title in a plain paragraph).
pub fn is_title_like(index: usize, text: &str, kind: BlockKind) -> bool {
    index < TITLE_SENTENCES && (kind == BlockKind::Title || !text.trim_end().ends_with('.'))
}

/// Sentences longer than this (code points) are cut at a space.
const MAX_SENTENCE: usize = 1500;

#[derive(Deserialize)]
struct SpeechFile {
    verbs: Vec<String>,
    inverted: Vec<String>,
    says: Vec<String>,
    conjunctions: Vec<String>,
    pronouns: Vec<String>,
    determiners: Vec<String>,
    name_particles: Vec<String>,
    name_joiners: Vec<String>,
    adverbs: Vec<String>,
    not_names: Vec<String>,
    title_source_links: Vec<String>,
    object_pronouns: Vec<String>,
    possessives: Vec<String>,
    view_nouns: Vec<String>,
}

struct Lex {
    abbrevs: HashSet<String>,
    /// Verb phrases as lowercase words, longest first.
    verbs: Vec<Vec<String>>,
    speech: SpeechFile,
}

fn lex() -> &'static Lex {
    static L: OnceLock<Lex> = OnceLock::new();
    L.get_or_init(|| {
        let mut abbrevs = HashSet::new();
        for a in include_str!("../data/abbreviations.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
        {
            abbrevs.insert(a.to_string());
            let mut cs = a.chars();
            if let Some(f) = cs.next() {
                if f.is_lowercase() {
                    abbrevs.insert(f.to_uppercase().chain(cs).collect());
                }
            }
        }
        let speech: SpeechFile =
            toml::from_str(include_str!("../data/speech.toml")).expect("data/speech.toml");
        let mut verbs: Vec<Vec<String>> = speech
            .verbs
            .iter()
            .map(|v| v.split_whitespace().map(str::to_string).collect())
            .collect();
        verbs.sort_by_key(|v| std::cmp::Reverse(v.len()));
        Lex {
            abbrevs,
            verbs,
            speech,
        }
    })
}

const TERMINAL: &[char] = &['.', '!', '?', '…', '。', '！', '？', '｡'];
/// Full stops of scripts written without spaces (Chinese, Japanese): they end a sentence with no
/// whitespace after them.
const CJK_TERMINAL: &[char] = &['。', '！', '？', '｡'];
const CLOSERS: &[char] = &[
    '"', '\'', '”', '’', '»', ')', ']', '›', '」', '』', '）', '】', '》', '〉',
];
const OPENERS: &[char] = &[
    '"', '\'', '“', '‘', '«', '(', '[', '„', '‹', '「', '『', '（', '【', '《', '〈',
];

/// Whether the period at `i` follows an abbreviation, an initial or a dotted group.
fn period_is_abbreviation(chars: &[char], i: usize) -> bool {
    let mut s = i;
    while s > 0 && !chars[s - 1].is_whitespace() {
        s -= 1;
    }
    while s < i && OPENERS.contains(&chars[s]) {
        s += 1;
    }
    if s == i {
        return false;
    }
    let word: String = chars[s..i].iter().collect();
    let n = word.chars().count();
    // Initial: "J." (uppercase single letter).
    if n == 1 && word.chars().all(|c| c.is_uppercase()) {
        return true;
    }
    // Dotted group: "U.S", "e.g", "a.m".
    let dotted = n >= 3
        && word.chars().enumerate().all(|(k, c)| {
            if k % 2 == 1 {
                c == '.'
            } else {
                c.is_alphabetic()
            }
        });
    dotted || lex().abbrevs.contains(&word)
}

/// Sentence ranges (trimmed, half-open, in `chars`).
pub fn split_sentences(chars: &[char]) -> Vec<(usize, usize)> {
    let n = chars.len();
    let mut raw = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < n {
        let c = chars[i];
        if !TERMINAL.contains(&c) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < n && TERMINAL.contains(&chars[j]) {
            j += 1;
        }
        let single_period = c == '.' && j == i + 1;
        let cjk = chars[i..j].iter().any(|c| CJK_TERMINAL.contains(c));
        while j < n && CLOSERS.contains(&chars[j]) {
            j += 1;
        }
        if j < n && !chars[j].is_whitespace() && !cjk {
            i = j.max(i + 1);
            continue;
        }
        let mut k = j;
        while k < n && chars[k].is_whitespace() {
            k += 1;
        }
        if k == n {
            break;
        }
        let next = chars[k];
        let blocked = next.is_lowercase()
            || (single_period && period_is_abbreviation(chars, i))
            || matches!(next, ',' | ';' | ':');
        if !blocked {
            raw.push((start, j));
            start = k;
        }
        i = j;
    }
    raw.push((start, n));

    let mut out = Vec::new();
    for (s, e) in raw {
        let mut s = s;
        let mut e = e;
        while s < e && chars[s].is_whitespace() {
            s += 1;
        }
        while e > s && chars[e - 1].is_whitespace() {
            e -= 1;
        }
        // Cut over-long sentences at a space.
        while e - s > MAX_SENTENCE {
            let cut = (s + 1..s + MAX_SENTENCE)
                .rev()
                .find(|&k| chars[k].is_whitespace())
                .unwrap_or(s + MAX_SENTENCE);
            let mut pe = cut;
            while pe > s && chars[pe - 1].is_whitespace() {
                pe -= 1;
            }
            if pe > s {
                out.push((s, pe));
            }
            s = cut;
            while s < e && chars[s].is_whitespace() {
                s += 1;
            }
        }
        if s < e {
            out.push((s, e));
        }
    }
    out
}

/// Quotation regions in a block: (opening mark, end after the closing mark or block end).
/// A closing mark with no opening one before it (a quote continued from the previous paragraph)
/// opens its region at the block start.
pub fn quote_regions(chars: &[char]) -> Vec<(usize, usize)> {
    let mut regions = Vec::new();
    let mut open: Option<(usize, char)> = None;
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '“' | '«' | '„' if open.is_none() => open = Some((i, c)),
            '”' | '»' => match open {
                Some((o, q)) if q != '"' => {
                    regions.push((o, i + 1));
                    open = None;
                }
                None if regions.is_empty() && c == '”' => regions.push((0, i + 1)),
                _ => {}
            },
            '"' => match open {
                Some((o, '"')) => {
                    regions.push((o, i + 1));
                    open = None;
                }
                None => {
                    let prev = if i == 0 { ' ' } else { chars[i - 1] };
                    if prev.is_whitespace() || "([{–—-:".contains(prev) {
                        open = Some((i, '"'));
                    }
                }
                _ => {}
            },
            _ => {}
        }
    }
    if let Some((o, _)) = open {
        regions.push((o, chars.len()));
    }
    regions
}

/// A word of a block: range without surrounding punctuation, and whether punctuation
/// (, . ; : ! ? or a quote) follows it.
#[derive(Clone, Copy, Debug)]
struct Word {
    start: usize,
    end: usize,
    punct_after: bool,
    punct_before: bool,
}

fn words(chars: &[char], from: usize, to: usize) -> Vec<Word> {
    let mut out = Vec::new();
    let mut i = from;
    let strip = |c: char| {
        matches!(
            c,
            ',' | '.'
                | ';'
                | ':'
                | '!'
                | '?'
                | '“'
                | '”'
                | '"'
                | '«'
                | '»'
                | '('
                | ')'
                | '…'
                | '–'
                | '—'
        )
    };
    while i < to {
        while i < to && chars[i].is_whitespace() {
            i += 1;
        }
        let ts = i;
        while i < to && !chars[i].is_whitespace() {
            i += 1;
        }
        if ts == i {
            break;
        }
        let (mut s, mut e) = (ts, i);
        while s < e && strip(chars[s]) {
            s += 1;
        }
        while e > s && strip(chars[e - 1]) {
            e -= 1;
        }
        // The period of an initial or abbreviation belongs to the word ("Ms. Jones", "J. Smith").
        if s < e && e + 1 == i && chars[e] == '.' {
            let w: String = chars[s..e].iter().collect();
            if (w.chars().count() == 1 && w.chars().all(char::is_uppercase))
                || lex().abbrevs.contains(&w)
            {
                e += 1;
            }
        }
        if s < e {
            out.push(Word {
                start: s,
                end: e,
                punct_after: e < i,
                punct_before: s > ts,
            });
        } else if let Some(last) = out.last_mut() {
            last.punct_after = true;
        }
    }
    out
}

fn lower(chars: &[char], w: &Word) -> String {
    chars[w.start..w.end]
        .iter()
        .collect::<String>()
        .to_lowercase()
}

/// Whether a word stands alone in parentheses: "(UNODC)".
fn in_parentheses(chars: &[char], w: &Word) -> bool {
    w.start > 0 && chars[w.start - 1] == '(' && chars.get(w.end) == Some(&')') && chars.get(w.end + 1).is_none_or(|c| c.is_whitespace())
}

fn capitalized(chars: &[char], w: &Word) -> bool {
    chars[w.start].is_uppercase()
}

/// Length in words of the reporting verb phrase starting at word `k`, if any.
fn verb_at(chars: &[char], ws: &[Word], k: usize) -> Option<usize> {
    'verbs: for v in &lex().verbs {
        if k + v.len() > ws.len() {
            continue;
        }
        for (m, part) in v.iter().enumerate() {
            let w = &ws[k + m];
            if lower(chars, w) != *part
                || (m + 1 < v.len() && w.punct_after)
                || (m > 0 && w.punct_before)
            {
                continue 'verbs;
            }
        }
        return Some(v.len());
    }
    None
}

/// The subject that ends right before word `k` (a verb): a pronoun, a capitalized name, or a
/// determiner phrase of up to six words ("the doctor of historical sciences").
fn subject_before(chars: &[char], ws: &[Word], k: usize) -> Option<(usize, usize)> {
    let sp = &lex().speech;
    let mut j = k;
    while j > 0 && sp.adverbs.contains(&lower(chars, &ws[j - 1])) && !ws[j - 1].punct_after {
        j -= 1;
    }
    // "The UN Office on Drugs and Crime (UNODC) warned": the acronym in parentheses ends the
    // name, whose lower-case joining words ("on", "and") stay inside it.
    let acronym = j >= 2 && in_parentheses(chars, &ws[j - 1]) && !ws[j - 2].punct_after && capitalized(chars, &ws[j - 2]);
    if j == 0 || ws[j - 1].punct_after && !acronym {
        return None;
    }
    let end = ws[j - 1].end + usize::from(acronym);
    let last = if acronym { j - 2 } else { j - 1 };
    let lw = lower(chars, &ws[last]);
    if sp.pronouns.contains(&lw) {
        return Some((ws[last].start, end));
    }
    if capitalized(chars, &ws[last]) {
        let mut f = last;
        while f > 0 && !ws[f - 1].punct_after && !ws[f].punct_before {
            let p = &ws[f - 1];
            let pl = lower(chars, p);
            // A run of joining words ("of the") inside the name, a capitalized word before it.
            let joins = acronym && sp.name_joiners.contains(&pl) && {
                let mut g = f - 1;
                while g > 0 && !ws[g - 1].punct_after && sp.name_joiners.contains(&lower(chars, &ws[g - 1])) {
                    g -= 1;
                }
                g > 0 && !ws[g - 1].punct_after && capitalized(chars, &ws[g - 1])
            };
            if (capitalized(chars, p) && !sp.not_names.contains(&pl))
                || sp.name_particles.contains(&pl)
                || joins
            {
                f -= 1;
            } else {
                break;
            }
        }
        while f < last
            && (sp.name_particles.contains(&lower(chars, &ws[f]))
                || sp.not_names.contains(&lower(chars, &ws[f])))
        {
            f += 1;
        }
        if sp.not_names.contains(&lower(chars, &ws[f])) {
            return None;
        }
        // "The official", "The President of Belarus": a capitalized determiner phrase.
        if f > 0 && sp.determiners.contains(&lower(chars, &ws[f - 1])) && !ws[f - 1].punct_after {
            f -= 1;
        }
        return Some((ws[f].start, end));
    }
    // Determiner phrase, within one conjunct ("supported this initiative and noted" has none).
    let mut f = last;
    for _ in 0..6 {
        if sp.conjunctions.contains(&lower(chars, &ws[f])) {
            return None;
        }
        if sp.determiners.contains(&lower(chars, &ws[f])) {
            return Some((ws[f].start, end));
        }
        if f == 0 || ws[f - 1].punct_after || ws[f].punct_before {
            return None;
        }
        f -= 1;
    }
    None
}

/// The speaker of a quotation region, as a range in the block.
fn quote_speaker(chars: &[char], region: (usize, usize)) -> Option<(usize, usize)> {
    let (o, e) = region;
    // "X said: “…" / "X said, “…"
    let mut p = o;
    while p > 0 && chars[p - 1].is_whitespace() {
        p -= 1;
    }
    if p > 0 && matches!(chars[p - 1], ':' | ',') {
        let from = p.saturating_sub(200);
        let ws = words(chars, from, p - 1);
        for k in (ws.len().saturating_sub(3)..ws.len()).rev() {
            if let Some(len) = verb_at(chars, &ws, k) {
                if k + len == ws.len() {
                    if let Some(s) = subject_before(chars, &ws, k) {
                        return Some(s);
                    }
                }
            }
        }
    }
    // "…,” he said." / "…,” said X." / "…,” the doctor said."
    if e >= chars.len() || !matches!(chars[e - 1], '”' | '"' | '»') {
        return None;
    }
    let mut q = e;
    while q < chars.len() && (chars[q].is_whitespace() || matches!(chars[q], '–' | '—' | '-')) {
        q += 1;
    }
    let limit = chars.len().min(q + 120);
    let to = (q..limit)
        .find(|&k| match chars[k] {
            ';' | '!' | '?' | '“' | '"' => true,
            '.' => !period_is_abbreviation(chars, k),
            _ => false,
        })
        .unwrap_or(limit);
    let ws = words(chars, q, to);
    if ws.is_empty() || ws[0].punct_before {
        return None;
    }
    let sp = &lex().speech;
    if let Some(len) = verb_at(chars, &ws, 0) {
        // said X / said the minister
        let rest = &ws[len..];
        let first = rest.first()?;
        if ws[len - 1].punct_after {
            return None;
        }
        let fl = lower(chars, first);
        if sp.pronouns.contains(&fl) {
            return Some((first.start, first.end));
        }
        return named_after_verb(chars, rest);
    }
    for k in 1..ws.len().min(8) {
        if ws[k - 1].punct_after {
            return None;
        }
        if verb_at(chars, &ws, k).is_some() {
            let s = subject_before(chars, &ws, k)?;
            // The subject starts the attribution, or follows a title with no punctuation
            // between ("…,” EU foreign policy chief Nadia Lindqvist said.").
            let f = ws.iter().position(|w| w.start == s.0)?;
            return ws[..f].iter().all(|w| !w.punct_after).then_some(s);
        }
    }
    None
}

/// The subject that follows an inverted reporting verb ("said the minister", "said Sergei
/// Lavrov on Tuesday"): a name or determiner phrase up to the first punctuation, at most 8 words.
/// A longer run is a reported clause ("…, said Washington opposes any attempt to …"), not a
/// subject.
fn named_after_verb(chars: &[char], rest: &[Word]) -> Option<(usize, usize)> {
    let first = rest.first()?;
    if !capitalized(chars, first) && !lex().speech.determiners.contains(&lower(chars, first)) {
        return None;
    }
    let end = match rest.iter().take(8).position(|w| w.punct_after) {
        Some(end) => end,
        None if rest.len() <= 8 => rest.len() - 1,
        None => return None,
    };
    Some((first.start, rest[end].end))
}

/// "According to X, …" at the start of a sentence, or "In X's view, …" ("In Araghchi's view",
/// "In the government's words", "In his words": the possessor, a name or a possessive pronoun,
/// then a word of `view_nouns` and a comma).
fn according_to(chars: &[char], s: usize, e: usize) -> Option<(usize, usize)> {
    let sp = &lex().speech;
    let ws = words(chars, s, e);
    if ws.len() >= 3 && lower(chars, &ws[0]) == "according" && lower(chars, &ws[1]) == "to" {
        let end = ws.iter().take(9).position(|w| w.punct_after)?;
        return (end >= 2).then(|| (ws[2].start, ws[end].end));
    }
    if ws.len() < 4 || lower(chars, &ws[0]) != "in" {
        return None;
    }
    let k = (1..ws.len().min(7) - 1).find(|&k| {
        let w = lower(chars, &ws[k]);
        w.ends_with("'s") || w.ends_with("’s") || sp.possessives.contains(&w)
    })?;
    let noun = &ws[k + 1];
    let view = sp.view_nouns.contains(&lower(chars, noun)) && chars.get(noun.end) == Some(&',');
    if !view || ws[1..k].iter().any(|w| w.punct_after) {
        return None;
    }
    let end = if sp.possessives.contains(&lower(chars, &ws[k])) { ws[k].end } else { ws[k].end - 2 };
    Some((ws[1].start, end))
}

/// "…, according to X." or "…, according to X, and …" inside a sentence: X up to the next
/// punctuation, at most seven words.
fn according_to_inside(chars: &[char], s: usize, e: usize) -> Option<(usize, usize)> {
    let ws = words(chars, s, e);
    let k = (1..ws.len().saturating_sub(2)).find(|&k| {
        ws[k - 1].punct_after && chars.get(ws[k - 1].end) == Some(&',') && lower(chars, &ws[k]) == "according" && lower(chars, &ws[k + 1]) == "to"
    })?;
    let end = ws[k + 2..].iter().take(7).position(|w| w.punct_after)?;
    Some((ws[k + 2].start, ws[k + 2 + end].end))
}

/// Reported speech at the start of a sentence: "X stressed that …".
fn reported_speaker(chars: &[char], s: usize, e: usize) -> Option<(usize, usize)> {
    let ws = words(chars, s, e);
    for k in 1..ws.len().min(9) {
        if let Some(len) = verb_at(chars, &ws, k) {
            let next = ws.get(k + len).map(|w| lower(chars, w));
            // "X said that …", "X said: …", and the wire's "X said Ankara was ready …".
            if next.as_deref() == Some("that")
                || ws[k + len - 1].punct_after && chars.get(ws[k + len - 1].end) == Some(&':')
                || len == 1 && lex().speech.says.contains(&lower(chars, &ws[k])) && next.is_some()
            {
                return subject_before(chars, &ws, k);
            }
            return None;
        }
    }
    None
}

/// Attribution after a comma, as wire copy puts it: "…, Foreign Minister Sergei Lavrov said on
/// Tuesday.", "…, said Lavrov.", "…, Andrei Rusakovich, Professor of …, told the media".
fn trailing_speaker(chars: &[char], s: usize, e: usize) -> Option<(usize, usize)> {
    let sp = &lex().speech;
    let ws = words(chars, s, e);
    let comma_after = |w: &Word| chars.get(w.end) == Some(&',');
    let is_name = |seg: &[Word]| is_name(chars, seg, 4);
    for k in (2..ws.len()).rev() {
        let Some(len) = verb_at(chars, &ws, k) else { continue };
        if let Some((a, z)) = subject_before(chars, &ws, k) {
            // "…, X said": the subject opens a comma-delimited clause.
            let f = ws.iter().position(|w| w.start == a)?;
            if f >= 1 && comma_after(&ws[f - 1]) {
                return Some((a, z));
            }
            continue;
        }
        if !comma_after(&ws[k - 1]) {
            continue;
        }
        // "…, X, <apposition>, told …": the leftmost name in the chain of comma-delimited
        // segments before the verb (the first segment of the sentence is the claim itself).
        let mut end = k;
        let mut named = None;
        for _ in 0..4 {
            let start = (0..end - 1).rev().find(|&j| comma_after(&ws[j])).map(|j| j + 1);
            let Some(start) = start else { break };
            if is_name(&ws[start..end]) {
                named = Some((ws[start].start, ws[end - 1].end));
            }
            end = start;
            if end < 2 {
                break;
            }
        }
        if named.is_some() {
            return named;
        }
        // "…, said X" / "…, said the minister".
        let inverts = len == 1 && sp.inverted.contains(&lower(chars, &ws[k])) && !ws[k].punct_after;
        return inverts.then(|| named_after_verb(chars, &ws[k + 1..])).flatten();
    }
    None
}

/// Whether words read as a name of at most `max` words: capitalized words and name particles
/// ("Gov Zulum", "Abdel Fattah al-Burhan"), no punctuation inside, not a word that opens
/// clauses ("However").
fn is_name(chars: &[char], seg: &[Word], max: usize) -> bool {
    let sp = &lex().speech;
    (1..=max).contains(&seg.len())
        && capitalized(chars, &seg[0])
        && !sp.not_names.contains(&lower(chars, &seg[0]))
        && seg.iter().all(|w| capitalized(chars, w) || sp.name_particles.contains(&lower(chars, w)))
        && seg[..seg.len() - 1].iter().all(|w| !w.punct_after)
}

/// A headline's source after a dash or a colon, after at least three words of claim: "Two LGAs
/// under Boko Haram control – Gov Zulum", "… 'abruptly': Defense Ministry", "Will not accept
/// terrorism as the new normal: India to Pakistan". After a colon the name is the words before
/// a word of `title_source_links`, or at most two words: a title-case headline's second half
/// reads as a name too ("Ukraine War Day 500: Russia Strikes Kyiv").
fn title_source(chars: &[char], s: usize, e: usize) -> Option<(usize, usize)> {
    let sp = &lex().speech;
    let ws = words(chars, s, e);
    let gap = |j: usize| &chars[ws[j - 1].end..ws[j].start];
    let j = (3..ws.len()).rev().find(|&j| gap(j).iter().any(|c| matches!(c, '–' | '—' | ':')))?;
    let rest = &ws[j..];
    let (name, max) = match rest.iter().position(|w| sp.title_source_links.contains(&lower(chars, w))) {
        Some(k) if gap(j).contains(&':') => (&rest[..k], 4),
        _ if gap(j).contains(&':') => (rest, 2),
        _ => (rest, 4),
    };
    is_name(chars, name, max).then(|| (name[0].start, name[name.len() - 1].end))
}

fn cue(clean: &CleanText, chars: &[char], kind: CueKind, abs_start: usize, abs_end: usize) -> SpeakerCue {
    SpeakerCue { text: chars[abs_start..abs_end].iter().collect(), span: clean.to_source(abs_start, abs_end), kind }
}

/// Whether a lower-case word is an adverb that may stand between a subject and its verb ("It
/// further asked …").
pub fn is_adverb(word: &str) -> bool {
    lex().speech.adverbs.iter().any(|a| a == word)
}

/// Whether a cue is a bare pronoun ("He said that …", "According to him, …").
pub fn is_pronoun(cue: &SpeakerCue) -> bool {
    let lower = cue.text.to_lowercase();
    let sp = &lex().speech;
    sp.pronouns.contains(&lower) || sp.object_pronouns.contains(&lower) || sp.possessives.contains(&lower)
}

/// Fill `doc.sentences` from `doc.blocks`.
pub fn segment(doc: &mut Document) {
    let chars: Vec<char> = doc.clean.text.chars().collect();
    let n = chars.len();
    let dateline = doc.dateline.as_ref().map(|d| d.span);
    let mut sentences = Vec::new();
    let mut heading_cue: Option<SpeakerCue> = None;
    for (bi, b) in doc.blocks.iter().enumerate() {
        let (bs, be) = (b.clean_start.min(n), b.clean_end.min(n));
        if bs >= be {
            continue;
        }
        let block = &chars[bs..be];
        match b.kind {
            BlockKind::SpeakerHeading => {
                let text: String = block.iter().collect();
                heading_cue = crate::ingest::boilerplate::heading_name(&text)
                    .map(|(s, e)| cue(&doc.clean, &chars, CueKind::Heading, bs + s, bs + e));
            }
            BlockKind::Title => heading_cue = None,
            BlockKind::Paragraph => {}
        }

        // Sentences start after a dateline.
        let mut from = 0;
        if let Some(d) = dateline {
            let bspan = doc.clean.to_source(bs, be);
            if b.kind == BlockKind::Paragraph && bspan.start <= d.start && d.start < bspan.end {
                from = (0..block.len())
                    .find(|&k| doc.clean.to_source(bs + k, bs + k + 1).start >= d.end)
                    .unwrap_or(block.len());
            }
        }
        let ranges: Vec<(usize, usize)> = split_sentences(&block[from..])
            .into_iter()
            .map(|(s, e)| (s + from, e + from))
            .collect();

        let regions = quote_regions(block);
        let region_cues: Vec<Option<SpeakerCue>> = regions
            .iter()
            .map(|&r| quote_speaker(block, r).map(|(s, e)| cue(&doc.clean, &chars, CueKind::Quote, bs + s, bs + e)))
            .collect();

        // Which quotation region each code point of the block is in.
        let mut region_of = vec![usize::MAX; block.len()];
        for (r, &(o, c)) in regions.iter().enumerate() {
            for slot in &mut region_of[o..c.min(block.len())] {
                if *slot == usize::MAX {
                    *slot = r;
                }
            }
        }

        let one_sentence = ranges.len() == 1;
        for (s, e) in ranges {
            let visible = || (s..e).filter(|&k| !block[k].is_whitespace());
            let inside = visible().filter(|&k| region_of[k] != usize::MAX).count();
            let total = visible().count().max(1);
            let quoted = inside * 2 >= total && inside > 0;

            let mut cues = Vec::new();
            if b.kind != BlockKind::SpeakerHeading {
                let mut region = (s..e).map(|k| region_of[k]).filter(|&r| r != usize::MAX);
                cues.extend(region.find_map(|r| region_cues[r].clone()));
                let headline = b.kind == BlockKind::Title || one_sentence && is_title_like(sentences.len(), &block[s..e].iter().collect::<String>(), b.kind);
                let trailing = trailing_speaker(block, s, e).or_else(|| headline.then(|| title_source(block, s, e)).flatten());
                let reported = reported_speaker(block, s, e);
                // A speech verb's subject outranks an "according to" inside the sentence ("X
                // said …, according to the agency" is X's claim as the agency reports it).
                let inside = (reported.is_none() && trailing.is_none()).then(|| according_to_inside(block, s, e)).flatten();
                let found = [
                    (CueKind::AccordingTo, according_to(block, s, e)),
                    (CueKind::AccordingToInside, inside),
                    (CueKind::Reported, reported),
                    (CueKind::Trailing, trailing),
                ];
                cues.extend(found.into_iter().filter_map(|(kind, at)| at.map(|(a, z)| cue(&doc.clean, &chars, kind, bs + a, bs + z))));
                if b.kind == BlockKind::Paragraph {
                    cues.extend(heading_cue.clone());
                }
            }

            sentences.push(Sentence {
                span: doc.clean.to_source(bs + s, bs + e),
                text: block[s..e].iter().collect(),
                clean_start: bs + s,
                paragraph: bi,
                cues,
                speaker: None,
                quoted,
            });
        }
    }
    doc.sentences = sentences;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Format;
    use crate::ingest::{ingest, RawDocument};
    use proptest::prelude::*;

    /// The cue the attribution sieve's cue rules would read first (before resolving it).
    fn speaker(s: &Sentence) -> Option<&SpeakerCue> {
        crate::attribute::Rule::ALL.iter().find_map(|&rule| crate::attribute::cue_for(s, rule))
    }

    fn split(s: &str) -> Vec<String> {
        let chars: Vec<char> = s.chars().collect();
        split_sentences(&chars)
            .into_iter()
            .map(|(a, b)| chars[a..b].iter().collect())
            .collect()
    }

    fn doc(format: Format, text: &str) -> Option<Document> {
        let raw = RawDocument {
            id: "t".into(),
            origin: "t".into(),
            format,
            bytes: text.as_bytes().to_vec(),
            title: None,
            url: None,
            published: None,
        };
        let mut d = ingest(raw).ok()?;
        segment(&mut d);
        Some(d)
    }

    fn sample(text: &str) -> Document {
        doc(Format::Text, text).unwrap()
    }

    fn src(d: &Document, s: crate::document::Span) -> String {
        d.source.chars().skip(s.start).take(s.len()).collect()
    }

    fn check_spans(d: &Document) {
        let n = d.source.chars().count();
        for s in &d.sentences {
            assert!(s.span.start <= s.span.end && s.span.end <= n);
            assert_eq!(src(d, s.span), s.text, "span and text differ");
            assert_eq!(s.text.trim(), s.text);
            assert!(!s.text.is_empty());
            let clean: String = d
                .clean
                .text
                .chars()
                .skip(s.clean_start)
                .take(s.text.chars().count())
                .collect();
            assert_eq!(clean, s.text);
        }
    }

    #[test]
    fn abbreviations_initials_numbers() {
        assert_eq!(
            split("Mr. Smith met Dr. Jones. They talked."),
            ["Mr. Smith met Dr. Jones.", "They talked."]
        );
        assert_eq!(
            split("Gen. Li Zuocheng and Lt. Col. Brown came. Then U.S. officials spoke."),
            [
                "Gen. Li Zuocheng and Lt. Col. Brown came.",
                "Then U.S. officials spoke."
            ]
        );
        assert_eq!(
            split("The U.N. Security Council met. J. R. Smith and Xi J. Ping spoke."),
            [
                "The U.N. Security Council met.",
                "J. R. Smith and Xi J. Ping spoke."
            ]
        );
        assert_eq!(
            split("Growth was 3.5 percent in 2018. Visit sectsco.org today. No. 5 is next."),
            [
                "Growth was 3.5 percent in 2018.",
                "Visit sectsco.org today.",
                "No. 5 is next."
            ]
        );
        assert_eq!(
            split("It met on Sept. 3 in Minsk."),
            ["It met on Sept. 3 in Minsk."]
        );
    }

    #[test]
    fn quotes_ellipses_dashes() {
        assert_eq!(
            split("“They risk new clashes in various parts of our planet,” he said. Next one."),
            [
                "“They risk new clashes in various parts of our planet,” he said.",
                "Next one."
            ]
        );
        assert_eq!(
            split("He said: “We agree. We are ready.” Then he left."),
            ["He said: “We agree.", "We are ready.”", "Then he left."]
        );
        assert_eq!(
            split("Is it over?” he asked. Yes!"),
            ["Is it over?” he asked.", "Yes!"]
        );
        assert_eq!(
            split("Together it’s time to… wait. And so... We went on."),
            ["Together it’s time to… wait.", "And so...", "We went on."]
        );
        assert_eq!(
            split(
                "A real marathon - with the leaders. Security – as always – first. Then — nothing."
            ),
            [
                "A real marathon - with the leaders.",
                "Security – as always – first.",
                "Then — nothing."
            ]
        );
        assert_eq!(
            split("no split before lowercase. continuation here."),
            ["no split before lowercase. continuation here."]
        );
        assert_eq!(split("  Padded sentence.   "), ["Padded sentence."]);
        assert_eq!(split("(Bracketed.) Next."), ["(Bracketed.)", "Next."]);
    }

    #[test]
    fn long_sentence_is_cut() {
        let s = "word ".repeat(1000);
        let parts = split(&s);
        assert!(parts.len() >= 3 && parts.iter().all(|p| p.chars().count() <= MAX_SENTENCE));
    }

    #[test]
    fn sample_001_speakers_quotes_dateline() {
        let d = sample(include_str!("../samples/articles/001_2fc065709d99e1cc.txt"));
        check_spans(&d);
        let find = |p: &str| {
            d.sentences
                .iter()
                .find(|s| s.text.starts_with(p))
                .unwrap_or_else(|| panic!("no sentence {p:?}"))
        };
        let who = |p: &str| speaker(find(p)).map(|c| c.text.clone());
        assert_eq!(
            d.sentences[0].text,
            "Belarus intent on expanding multi-faceted cooperation with SCO countries"
        );
        assert_eq!(d.sentences[0].paragraph, 0);
        assert!(d.sentences[1]
            .text
            .starts_with("Belarusian Defense Minister Viktor Khrenin is taking part"));
        assert_eq!(
            who("Viktor Khrenin said: “First of all").as_deref(),
            Some("Viktor Khrenin")
        );
        assert!(find("Viktor Khrenin said: “First of all").quoted);
        assert_eq!(
            who("For us participation").as_deref(),
            Some("Viktor Khrenin")
        );
        assert_eq!(
            who("Viktor Khrenin went on saying: “Unfortunately").as_deref(),
            Some("Viktor Khrenin")
        );
        assert_eq!(
            who("It is even more noticeable today.").as_deref(),
            Some("Viktor Khrenin")
        );
        assert_eq!(who("“In pursuit of the goals").as_deref(), Some("he"));
        assert_eq!(who("The bets are so high").as_deref(), Some("he"));
        assert!(find("The bets are so high").quoted);
        assert!(find("Moreover, all the steps")
            .text
            .ends_with("in various parts of our planet,” he said."));
        assert_eq!(who("Moreover, all the steps").as_deref(), Some("he"));
        assert_eq!(
            who("Viktor Khrenin stressed that").as_deref(),
            Some("Viktor Khrenin")
        );
        assert!(!find("Viktor Khrenin stressed that").quoted);
        assert_eq!(who("The main goal of these approaches"), None);
        assert_eq!(
            who("According to the Belarusian defense minister").as_deref(),
            Some("the Belarusian defense minister")
        );
        assert_eq!(
            who("Meanwhile, Belarus does not abandon").as_deref(),
            Some("Viktor Khrenin")
        );
        assert_eq!(
            who("Our country is in favor of").as_deref(),
            Some("Viktor Khrenin")
        );
        let c = speaker(find("Our country is in favor of")).cloned().unwrap();
        assert_eq!(src(&d, c.span), "Viktor Khrenin");
        assert_eq!(who("He expressed support"), None);
    }

    #[test]
    fn sample_002_heading_speakers() {
        let d = sample(include_str!("../samples/articles/002_842b74abc66e8531.txt"));
        check_spans(&d);
        let who = |p: &str| {
            d.sentences
                .iter()
                .find(|s| s.text.starts_with(p))
                .map(|s| speaker(s))
                .unwrap()
                .map(|c| c.text.clone())
        };
        assert_eq!(who("An open and principled conversation"), None);
        assert_eq!(
            who("I am convinced that the current session").as_deref(),
            Some("Alexander Lukashenko")
        );
        assert_eq!(
            who("I am pleased to note").as_deref(),
            Some("Alexander Lukashenko")
        );
        assert_eq!(
            who("We don't have any other nations").as_deref(),
            Some("Alexander Lukashenko")
        );
        assert_eq!(
            who("We advocated a broader representation").as_deref(),
            Some("Vladimir Makei")
        );
        assert_eq!(
            who("Fifth: increasing the effectiveness").as_deref(),
            Some("Nursultan Nazarbayev")
        );
        assert_eq!(
            who("Among the documents adopted").as_deref(),
            Some("Yuri Khachaturov")
        );
        let s = d
            .sentences
            .iter()
            .find(|s| s.text.starts_with("I am pleased"))
            .unwrap();
        let c = speaker(s).cloned().unwrap();
        assert_eq!(src(&d, c.span), "Alexander Lukashenko");
        assert!(c.span.end <= s.span.start);
        // The heading itself is a sentence of its own paragraph, with no speaker.
        let h = d
            .sentences
            .iter()
            .find(|s| s.text == "Alexander Lukashenko, President of Belarus:")
            .unwrap();
        assert_eq!(speaker(h), None);
    }

    #[test]
    fn sample_004_post_quote_attribution() {
        let d = sample(include_str!("../samples/articles/004_669cdeb8832351f7.txt"));
        check_spans(&d);
        let who = |p: &str| {
            d.sentences
                .iter()
                .find(|s| s.text.starts_with(p))
                .map(|s| speaker(s))
                .unwrap()
                .map(|c| c.text.clone())
        };
        assert!(d.sentences[1]
            .text
            .starts_with("The Shanghai Cooperation Organization (SCO) is considered"));
        assert_eq!(
            who("The Shanghai Cooperation Organization (SCO) is considered").as_deref(),
            Some("Andrei Rusakovich")
        );
        assert_eq!(
            who("“The SCO is considered").as_deref(),
            Some("Andrei Rusakovich")
        );
        assert_eq!(
            who("Belarus, in turn, positions itself").as_deref(),
            Some("Andrei Rusakovich")
        );
        assert_eq!(
            who("“Joining the SCO").as_deref(),
            Some("the doctor of historical sciences")
        );
        assert_eq!(
            who("The SCO can become one").as_deref(),
            Some("the doctor of historical sciences")
        );
        assert_eq!(who("He emphasized that").as_deref(), Some("He"));
        assert_eq!(
            who("According to the professor").as_deref(),
            Some("the professor")
        );
    }

    #[test]
    fn an_acronym_in_parentheses_ends_the_speakers_name() {
        for (text, want) in [
            ("Burma grows ever more opium, the UN Office on Drugs and Crime (UNODC) warned in a report.", Some("the UN Office on Drugs and Crime (UNODC)")),
            ("The Communications Security Establishment (CSE) said that Canada was a target.", Some("The Communications Security Establishment (CSE)")),
            ("Civilians fled, the UN Office of the High Commissioner for Human Rights (OHCHR) said.", Some("the UN Office of the High Commissioner for Human Rights (OHCHR)")),
            ("Exports rose, the ministry (in Cairo) said.", None),
        ] {
            let d = sample(text);
            assert_eq!(d.sentences.len(), 1, "{text}");
            assert_eq!(speaker(&d.sentences[0]).map(|c| c.text.as_str()), want, "{text}");
        }
    }

    #[test]
    fn wire_attributions() {
        let d = sample(
            "Russia will respond to any provocation, Foreign Minister Sergei Lavrov said on Tuesday.\n\n\
             The talks must resume at once, said the minister.\n\n\
             Peace is possible, Anna Berg, a senior fellow at the institute, told reporters.\n\n\
             In Moscow, officials said the talks had failed.\n\n\
             The President of Azerbaijan supported this initiative and noted that it was timely.\n\n\
             Turkish Foreign Ministry spokesman Emre Kaplan said Ankara was ready to host the talks.\n\n\
             Belarus noted the importance of dialogue.\n\n\
             “We call for restraint,” EU foreign policy chief Nadia Lindqvist said.\n\n\
             The ministers met in Minsk, and the talks went well.",
        );
        let speakers: Vec<Option<String>> =
            d.sentences.iter().map(|s| speaker(s).map(|c| c.text.clone())).collect();
        assert_eq!(
            speakers,
            [
                Some("Foreign Minister Sergei Lavrov"),
                Some("the minister"),
                Some("Anna Berg"),
                None,
                None,
                Some("Emre Kaplan"),
                None,
                Some("Nadia Lindqvist"),
                None,
            ]
                .map(|s| s.map(String::from))
        );
    }

    #[test]
    fn according_to_inside_a_sentence() {
        let cases = [
            ("Opium output rose for the sixth year, according to the UNODC, and Burma now grows a tenth of it.", Some("the UNODC")),
            ("Scam centres hold thousands of people, according to the United Nations.", Some("the United Nations")),
            // A speech verb's subject comes first; the sentence start is the opening rule's.
            ("Kaplan said the talks failed, according to the agency.", Some("Kaplan")),
            ("According to the ministry, the border is calm.", Some("the ministry")),
            // The possessor of a view at the sentence start.
            ("In Araghchi's view, the Europeans lack any right to trigger it.", Some("Araghchi")),
            ("In the government's words, the attacks violate the law.", Some("the government")),
            ("In his words, the memorandum was an old ultimatum.", Some("his")),
            ("In Kyiv's streets, calm returned on Monday.", None),
            ("In the view of many, the talks failed.", None),
            // Not an attribution: no comma before it, or nothing after it.
            ("The troops acted according to the plan drawn up in May.", None),
            ("The talks went ahead, according to.", None),
        ];
        for (text, want) in cases {
            let d = sample(text);
            assert_eq!(d.sentences.len(), 1, "{text}");
            assert_eq!(speaker(&d.sentences[0]).map(|c| c.text.as_str()), want, "{text}");
        }
    }

    #[test]
    fn headline_sources() {
        let cases = [
            ("Terrorism in Afghanistan Threatens SCO Members, Uzbekistan Says", Some("Uzbekistan")),
            ("YPG/SDF does not speak for Syria's Kurds, says Turkish foreign minister", Some("Turkish foreign minister")),
            ("Two Borno LGAs under Boko Haram control – Gov Zulum", Some("Gov Zulum")),
            ("China Coast Guard blocked resupply mission to Ayungin Shoal — DND", Some("DND")),
            ("Will not accept cross-border terrorism as new normal: India to Pakistan", Some("India")),
            // A topic before the colon, a claim after it: no source.
            ("Defense minister: Russia an escalating threat to all of Europe", None),
            ("Belarus: Council introduces new listing criterion", None),
            ("Ukraine War Day 500: Russia Strikes Kyiv", None),
            // A dash inside the claim, then more claim.
            ("Kyiv – the capital – is calm again after the strikes", None),
        ];
        for (title, want) in cases {
            let d = doc(Format::Text, &format!("{title}\n\nThe talks went on.")).unwrap();
            assert_eq!(d.blocks[0].kind, BlockKind::Title, "{title}");
            assert_eq!(speaker(&d.sentences[0]).map(|c| c.text.as_str()), want, "{title}");
        }
    }

    /// A headline in a plain paragraph under a site name (as many pages' HTML has it) is read as
    /// a headline; a one-sentence paragraph ending in a full stop is not.
    #[test]
    fn headline_sources_in_plain_paragraphs() {
        for (text, want) in [
            ("Public Radio of Armenia\n\nAzerbaijan lays the ground for a new war on Armenia – PM\n\nThe talks went on.", Some("PM")),
            ("Public Radio of Armenia\n\nThe talks on Armenia went on – slowly.\n\nThe talks went on.", None),
        ] {
            let d = doc(Format::Text, text).unwrap();
            assert_eq!(d.blocks[1].kind, BlockKind::Paragraph, "{text}");
            assert_eq!(speaker(&d.sentences[1]).map(|c| c.text.as_str()), want, "{text}");
        }
    }

    #[test]
    fn all_samples_have_tight_round_tripping_spans() {
        for text in [
            include_str!("../samples/articles/000_05d63779f3e7c9af.txt"),
            include_str!("../samples/articles/003_8882aa75accc36af.txt"),
        ] {
            let d = sample(text);
            check_spans(&d);
            assert!(d.sentences.len() > 5);
        }
        let d = sample(include_str!("../samples/articles/000_05d63779f3e7c9af.txt"));
        assert!(d
            .sentences
            .iter()
            .any(|s| s.text == "This could be the first step to trust."));
        assert!(d.sentences.iter().any(|s| s.text == "However, as the Prime Minister assured, Pakistan is ready for a large-scale reset of relations."));
    }

    #[test]
    fn html_sentences_map_to_source() {
        let html = "<html><head><title>Talks</title></head><body><h1>Talks begin in Minsk</h1><p>Dr. Smith&nbsp;arrived. &ldquo;We agree,&rdquo; said Ms. Jones.</p></body></html>";
        let d = doc(Format::Html, html).unwrap();
        let texts: Vec<&str> = d.sentences.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Talks begin in Minsk",
                "Dr. Smith\u{a0}arrived.",
                "“We agree,” said Ms. Jones."
            ]
        );
        assert_eq!(
            src(&d, d.sentences[2].span),
            "&ldquo;We agree,&rdquo; said Ms. Jones."
        );
        assert_eq!(speaker(&d.sentences[2]).unwrap().text, "Ms. Jones");
        // Less than half of it is inside the quotation marks.
        assert!(!d.sentences[2].quoted);
    }

    #[test]
    fn cyrillic_and_typography_round_trip() {
        let text = "Переговоры в Минске идут хорошо\n\nПрезидент сказал: «Мы готовы». Температура +15°C – это тепло! “Belarus’ role,” he said.";
        let d = sample(text);
        check_spans(&d);
        let texts: Vec<&str> = d.sentences.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "Переговоры в Минске идут хорошо",
                "Президент сказал: «Мы готовы».",
                "Температура +15°C – это тепло!",
                "“Belarus’ role,” he said."
            ]
        );
        assert_eq!(speaker(&d.sentences[3]).unwrap().text, "he");
    }

    #[test]
    fn many_quotes_and_sentences_stay_fast() {
        let text = format!(
            "A title for the stress test\n\n{}",
            "“We agree,” he said. “Yes.” ".repeat(20_000)
        );
        let t = std::time::Instant::now();
        let d = sample(&text);
        assert_eq!(d.sentences.len(), 1 + 40_000);
        assert!(speaker(&d.sentences[1]).is_some());
        assert!(t.elapsed().as_secs() < 20, "took {:?}", t.elapsed());
    }

    fn htmlish() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            "[a-zA-Z ]{0,12}",
            Just("<p>".to_string()),
            Just("</div>".to_string()),
            Just("<script>".to_string()),
            Just("<nav>".to_string()),
            Just("<title>".to_string()),
            Just("<br/>".to_string()),
            Just("<a href=\"x>".to_string()),
            Just("&amp;".to_string()),
            Just("&#x201C;".to_string()),
            Just("&nbsp;".to_string()),
            Just("&#0;".to_string()),
            Just("&".to_string()),
            Just("<".to_string()),
            Just("<!--".to_string()),
            Just("“".to_string()),
            Just("”".to_string()),
            Just("«".to_string()),
            Just(". ".to_string()),
            Just("\n\n".to_string()),
            Just("\r\n".to_string()),
            Just("\t".to_string()),
            Just("Mr. ".to_string()),
            Just("Минск – ".to_string()),
            Just("中方坚决反对。".to_string()),
            Just("😀".to_string()),
            Just("e\u{301}".to_string()),
            Just("Alexander Lukashenko:\n".to_string()),
            Just("MINSK, 3 April (BelTA) - ".to_string()),
            Just(",” he said. ".to_string()),
            Just("24 August 2022\n".to_string()),
            "\\PC{0,6}",
        ];
        proptest::collection::vec(piece, 0..40).prop_map(|v| v.concat())
    }

    /// Byte offset of code point `cp` of `text` (`text.len()` at the end), if it is in range.
    fn byte_of(text: &str, cp: usize) -> Option<usize> {
        text.char_indices()
            .map(|(b, _)| b)
            .chain(std::iter::once(text.len()))
            .nth(cp)
    }

    /// The span invariants every document must hold, whatever its input: spans in code points,
    /// inside the source, on character boundaries, start <= end; for plain text, the source
    /// slice is the text.
    fn check_invariants(d: &Document) -> Result<(), TestCaseError> {
        let n = d.source.chars().count();
        let span_ok = |s: crate::document::Span| -> Result<(), TestCaseError> {
            prop_assert!(s.start <= s.end, "reversed span {:?}", s);
            prop_assert!(
                s.end <= n,
                "span {:?} past the source ({} code points)",
                s,
                n
            );
            for cp in [s.start, s.end] {
                let b = byte_of(&d.source, cp);
                prop_assert!(b.is_some_and(|b| d.source.is_char_boundary(b)));
            }
            Ok(())
        };
        // The offset map: contiguous, covering the clean text, inside the source.
        let mut next = 0;
        for r in &d.clean.runs {
            prop_assert_eq!(r.clean, next);
            prop_assert!(r.clean_len > 0);
            prop_assert!(r.source + r.source_len <= n);
            next += r.clean_len;
        }
        let clean_chars: Vec<char> = d.clean.text.chars().collect();
        prop_assert_eq!(next, clean_chars.len());
        // Plain text (a file or a JSONL record that is not HTML): spans slice to the text.
        let plain = d.format != Some(Format::Html) && !crate::ingest::looks_like_html(&d.source);
        for b in &d.blocks {
            prop_assert!(b.clean_start <= b.clean_end && b.clean_end <= clean_chars.len());
            let s = d.clean.to_source(b.clean_start, b.clean_end);
            span_ok(s)?;
            if plain {
                let t: String = clean_chars[b.clean_start..b.clean_end].iter().collect();
                prop_assert_eq!(src(d, s), t);
            }
        }
        if let Some(t) = d.title {
            span_ok(t)?;
        }
        if let Some(dl) = &d.dateline {
            span_ok(dl.span)?;
        }
        let mut last_start = 0;
        for s in &d.sentences {
            span_ok(s.span)?;
            prop_assert!(s.span.start >= last_start, "sentences out of order");
            last_start = s.span.start;
            prop_assert!(!s.text.is_empty());
            prop_assert_eq!(s.text.trim(), s.text.as_str());
            // The sentence is the clean text at clean_start.
            let k = s.text.chars().count();
            prop_assert!(s.clean_start + k <= clean_chars.len());
            let c: String = clean_chars[s.clean_start..s.clean_start + k]
                .iter()
                .collect();
            prop_assert_eq!(&c, &s.text);
            prop_assert!(s.paragraph < d.blocks.len());
            if plain {
                prop_assert_eq!(src(d, s.span), s.text.clone());
            }
            for cue in &s.cues {
                span_ok(cue.span)?;
                if plain {
                    prop_assert_eq!(src(d, cue.span), cue.text.clone());
                }
            }
        }
        Ok(())
    }

    fn raw_bytes(format: Format, bytes: Vec<u8>) -> Option<Document> {
        let raw = RawDocument {
            id: "t".into(),
            origin: "t".into(),
            format,
            bytes,
            title: None,
            url: None,
            published: None,
        };
        let mut d = ingest(raw).ok()?;
        segment(&mut d);
        Some(d)
    }

    use crate::ingest::decode::utf16_with_bom as utf16;

    proptest! {
        // 300 cases each: it runs in CI, in under a second with --release. PROPTEST_CASES=N asks
        // for a longer search.
        #![proptest_config(ProptestConfig {
            cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300),
            ..ProptestConfig::default()
        })]

        #[test]
        fn never_panics_and_spans_hold(text in htmlish(), any in "\\PC{0,80}") {
            for (fmt, t) in [(Format::Text, &text), (Format::Html, &text), (Format::Text, &any), (Format::Html, &any), (Format::Jsonl, &text)] {
                if let Some(d) = doc(fmt, t) {
                    check_invariants(&d)?;
                }
            }
        }

        #[test]
        fn same_result_in_every_encoding(text in htmlish()) {
            let plain = doc(Format::Text, &text);
            let mut bom = vec![0xEF, 0xBB, 0xBF];
            bom.extend_from_slice(text.as_bytes());
            for bytes in [bom, utf16(&text, true), utf16(&text, false)] {
                let d = raw_bytes(Format::Text, bytes);
                prop_assert_eq!(d.is_some(), plain.is_some());
                if let (Some(d), Some(p)) = (d, plain.as_ref()) {
                    check_invariants(&d)?;
                    prop_assert_eq!(&d.source, &p.source);
                    let spans = |x: &Document| x.sentences.iter().map(|s| (s.span, s.text.clone())).collect::<Vec<_>>();
                    prop_assert_eq!(spans(&d), spans(p));
                }
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            for fmt in [Format::Text, Format::Html] {
                if let Some(d) = raw_bytes(fmt, bytes.clone()) {
                    check_invariants(&d)?;
                }
            }
        }
    }
}

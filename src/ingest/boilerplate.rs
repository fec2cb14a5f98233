//! Boilerplate removal: split the visible text into lines, classify each one (title, prose,
//! speaker heading, or site furniture to drop) and keep the article's blocks. The phrases and
//! patterns live in `data/boilerplate.toml`.
//!
//! Rules, in order, for each non-blank line:
//! 1. after the article's prose has begun, a "stop" line ("Subscribe to us", "Archive") ends it;
//! 2. listed phrases, patterns (weather, calendars, captions, menus, bylines, language switchers)
//!    and date-only lines are dropped (the first date line gives the publication date);
//! 3. "Name Surname[, role]:" alone on a line is a speaker heading;
//! 4. a line ending in terminal punctuation is prose;
//! 5. any other line is the title if it is the first candidate (the markup's title for HTML; for
//!    plain text a standalone line of a few words before any prose, not part of a menu), a repeat
//!    of the title (dropped), prose when long (a truncated paragraph), else a link-like line (dropped).
//!
//! Consecutive prose lines with no blank line between them, the first one not ending a
//! sentence, are one paragraph (hard-wrapped text).

use std::collections::HashMap;
use std::sync::OnceLock;

use regex::Regex;
use serde::Deserialize;

use crate::document::{BlockKind, CleanText};

#[derive(Deserialize)]
struct Limits {
    title_min_words: usize,
    title_max_words: usize,
    prose_min_words: usize,
    heading_max_words: usize,
    pattern_max_words: usize,
}

#[derive(Deserialize)]
struct File {
    drop_lines: Vec<String>,
    drop_patterns: Vec<String>,
    stop_lines: Vec<String>,
    heading_stop_words: Vec<String>,
    limits: Limits,
}

struct Lex {
    drop_lines: Vec<String>,
    drop_patterns: Vec<Regex>,
    stop_lines: Vec<String>,
    heading_stop_words: Vec<String>,
    particles: Vec<String>,
    limits: Limits,
}

fn lex() -> &'static Lex {
    static L: OnceLock<Lex> = OnceLock::new();
    L.get_or_init(|| {
        let f: File = toml::from_str(include_str!("../../data/boilerplate.toml"))
            .expect("data/boilerplate.toml");
        #[derive(Deserialize)]
        struct Speech {
            name_particles: Vec<String>,
        }
        let s: Speech =
            toml::from_str(include_str!("../../data/speech.toml")).expect("data/speech.toml");
        Lex {
            drop_lines: f.drop_lines.iter().map(|s| s.to_lowercase()).collect(),
            drop_patterns: f
                .drop_patterns
                .iter()
                .map(|p| Regex::new(p).unwrap_or_else(|e| panic!("boilerplate pattern {p}: {e}")))
                .collect(),
            stop_lines: f.stop_lines.iter().map(|s| s.to_lowercase()).collect(),
            heading_stop_words: f.heading_stop_words,
            particles: s.name_particles,
            limits: f.limits,
        }
    })
}

/// A kept block: its kind and code-point range in the visible text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeptBlock {
    pub kind: BlockKind,
    pub start: usize,
    pub end: usize,
}

pub struct Structure {
    pub blocks: Vec<KeptBlock>,
    /// From the first date line (lines naming a weekday, "today" widgets, only as a last resort).
    pub published: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Stop,
    Drop,
    Heading,
    Prose,
    Short,
}

struct Line {
    start: usize,
    end: usize,
    text: String,
    group: usize,
    words: usize,
    kind: Kind,
}

const TERMINAL: &[char] = &[
    '.', '!', '?', '…', ';', ':', '。', '！', '？', '｡', '；', '：',
];
const CLOSERS: &[char] = &[
    '"', '\'', '”', '’', '»', ')', ']', '」', '』', '）', '】', '》',
];

/// Whether the line ends like a sentence (closing quotes and brackets aside).
pub fn ends_sentence(text: &str) -> bool {
    text.trim_end()
        .trim_end_matches(CLOSERS)
        .ends_with(TERMINAL)
}

fn norm(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_end_matches(TERMINAL)
        .to_lowercase()
}

/// When `text` is a speaker heading ("Alexander Lukashenko, President of Belarus:"), the
/// code-point range of the name in it.
pub fn heading_name(text: &str) -> Option<(usize, usize)> {
    let l = lex();
    let t = text.trim_end();
    let body = t.strip_suffix(':')?;
    if body.split_whitespace().count() > l.limits.heading_max_words
        || body.contains(['!', '?', '“', '”', '"', ':', ';', '('])
    {
        return None;
    }
    let (name, has_role) = match body.find(',') {
        Some(i) => (&body[..i], true),
        None => (body, false),
    };
    let tokens: Vec<&str> = name.split_whitespace().collect();
    if tokens.is_empty() || tokens.len() > 5 || (tokens.len() == 1 && !has_role) {
        return None;
    }
    if l.heading_stop_words.contains(&tokens[0].to_lowercase()) {
        return None;
    }
    let cap = |w: &str| w.chars().next().is_some_and(|c| c.is_uppercase());
    let ok_token = |w: &str| {
        let letters = w
            .chars()
            .all(|c| c.is_alphabetic() || matches!(c, '-' | '\'' | '’' | '.'));
        // A dot only in initials ("J.").
        let dots_ok = !w.contains('.') || (w.chars().count() == 2 && w.ends_with('.'));
        letters && dots_ok && (cap(w) || l.particles.iter().any(|p| p == w))
    };
    if !tokens.iter().all(|w| ok_token(w)) || !cap(tokens[0]) || !cap(tokens[tokens.len() - 1]) {
        return None;
    }
    if !has_role && body.contains('.') && !tokens.iter().any(|w| w.ends_with('.')) {
        return None;
    }
    let lead = text.len() - text.trim_start().len();
    let start = text[..lead].chars().count();
    let name_trim = name.trim();
    let name_off = lead + (name.len() - name.trim_start().len());
    let s = text[..name_off].chars().count().max(start);
    Some((s, s + name_trim.chars().count()))
}

fn classify(text: &str, words: usize) -> Kind {
    let l = lex();
    let lower = text.to_lowercase();
    let bare = lower
        .trim_end_matches([':', '.', '|', '»', '›', '>'])
        .trim();
    if l.stop_lines.iter().any(|s| {
        lower == *s
            || bare == s
            || (s.ends_with([':', ' ']) || s.contains(' '))
                && lower.starts_with(s.as_str())
                && words <= 8
    }) {
        return Kind::Stop;
    }
    if l.drop_lines.iter().any(|s| bare == s) {
        return Kind::Drop;
    }
    if words <= l.limits.pattern_max_words && l.drop_patterns.iter().any(|p| p.is_match(text)) {
        return Kind::Drop;
    }
    if super::dates::date_line(text).is_some() {
        return Kind::Drop;
    }
    if heading_name(text).is_some() {
        return Kind::Heading;
    }
    if ends_sentence(text) {
        return Kind::Prose;
    }
    Kind::Short
}

/// Split the visible text into title, paragraphs and speaker headings.
///
/// `title_hints` are the markup's (or the feed's) titles, best first; the first one that is a
/// line of the text is the title. `is_html` switches off the plain-text menu heuristics (in
/// HTML every element is its own line anyway).
pub fn structure(clean: &CleanText, title_hints: &[String], is_html: bool) -> Structure {
    let l = lex();
    let chars: Vec<char> = clean.text.chars().collect();

    // Lines, trimmed, with their group (lines not separated by a blank line).
    let mut lines: Vec<Line> = Vec::new();
    let mut group = 0;
    let mut pos = 0;
    while pos <= chars.len() {
        let end = chars[pos..]
            .iter()
            .position(|&c| c == '\n')
            .map(|k| pos + k)
            .unwrap_or(chars.len());
        let mut s = pos;
        let mut e = end;
        while s < e && chars[s].is_whitespace() {
            s += 1;
        }
        while e > s && chars[e - 1].is_whitespace() {
            e -= 1;
        }
        if s == e {
            group += 1;
        } else {
            let text: String = chars[s..e].iter().collect();
            let words = text.split_whitespace().count();
            let kind = classify(&text, words);
            lines.push(Line {
                start: s,
                end: e,
                text,
                group,
                words,
                kind,
            });
        }
        pos = end + 1;
    }

    // Hard-wrapped prose: a line that does not end a sentence continues on the next line of its
    // group when that one starts lowercase, or when it is long itself.
    for i in 0..lines.len().saturating_sub(1) {
        let (a, b) = (&lines[i], &lines[i + 1]);
        let prose_like = |k: Kind| matches!(k, Kind::Prose | Kind::Short);
        if a.group == b.group && prose_like(a.kind) && prose_like(b.kind) && !ends_sentence(&a.text)
        {
            let lower_next = b.text.chars().next().is_some_and(|c| c.is_lowercase());
            if lower_next || a.words >= l.limits.prose_min_words {
                lines[i].kind = Kind::Prose;
                if lines[i + 1].kind == Kind::Short {
                    lines[i + 1].kind = Kind::Prose;
                }
            }
        }
    }

    // Plain text: a group with two or more short lines is a menu.
    let mut shorts_in_group: HashMap<usize, usize> = HashMap::new();
    for ln in &lines {
        if ln.kind == Kind::Short {
            *shorts_in_group.entry(ln.group).or_default() += 1;
        }
    }

    let hint = title_hints
        .iter()
        .map(|h| norm(h))
        .find(|h| !h.is_empty() && lines.iter().any(|ln| norm(&ln.text) == *h));
    let hint_present = hint.is_some();

    let mut kept: Vec<(usize, KeptBlock)> = Vec::new(); // (line index, block)
    let mut title: Option<String> = None;
    let mut seen_prose = false;
    let mut dates: Vec<(String, bool)> = Vec::new();
    for (i, ln) in lines.iter().enumerate() {
        let n = norm(&ln.text);
        let is_title_repeat = title.as_ref() == Some(&n);
        let block = |kind| KeptBlock {
            kind,
            start: ln.start,
            end: ln.end,
        };
        match ln.kind {
            Kind::Stop => {
                if seen_prose {
                    break;
                }
            }
            Kind::Drop => {
                if let Some(d) = super::dates::date_line(&ln.text) {
                    dates.push(d);
                }
            }
            Kind::Heading => kept.push((i, block(BlockKind::SpeakerHeading))),
            Kind::Prose | Kind::Short => {
                if is_title_repeat {
                    continue;
                }
                if title.is_none() && hint_present && hint.as_ref() == Some(&n) {
                    title = Some(n);
                    kept.push((i, block(BlockKind::Title)));
                    continue;
                }
                if ln.kind == Kind::Prose {
                    seen_prose = true;
                    kept.push((i, block(BlockKind::Paragraph)));
                    continue;
                }
                let standalone =
                    is_html || shorts_in_group.get(&ln.group).copied().unwrap_or(0) <= 1;
                if title.is_none()
                    && !hint_present
                    && !seen_prose
                    && standalone
                    && (l.limits.title_min_words..=l.limits.title_max_words).contains(&ln.words)
                {
                    title = Some(n);
                    kept.push((i, block(BlockKind::Title)));
                } else if ln.words >= l.limits.prose_min_words {
                    seen_prose = true;
                    kept.push((i, block(BlockKind::Paragraph)));
                }
            }
        }
    }

    // Join hard-wrapped prose lines.
    let mut blocks: Vec<KeptBlock> = Vec::new();
    let mut prev_line: Option<usize> = None;
    for (i, b) in kept {
        if let (Some(p), Some(last)) = (prev_line, blocks.last_mut()) {
            if p + 1 == i
                && lines[p].group == lines[i].group
                && last.kind == BlockKind::Paragraph
                && b.kind == BlockKind::Paragraph
                && !ends_sentence(&lines[p].text)
            {
                last.end = b.end;
                prev_line = Some(i);
                continue;
            }
        }
        blocks.push(b);
        prev_line = Some(i);
    }

    let published = dates
        .iter()
        .find(|d| !d.1)
        .or(dates.first())
        .map(|d| d.0.clone());
    Structure { blocks, published }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::identity_clean;

    fn kinds(text: &str) -> Vec<(BlockKind, String)> {
        let c = identity_clean(text);
        let chars: Vec<char> = text.chars().collect();
        structure(&c, &[], false)
            .blocks
            .into_iter()
            .map(|b| (b.kind, chars[b.start..b.end].iter().collect()))
            .collect()
    }

    #[test]
    fn headings() {
        assert_eq!(
            heading_name("Alexander Lukashenko, President of Belarus:"),
            Some((0, 20))
        );
        assert_eq!(heading_name("Alexander Lukashenko:"), Some((0, 20)));
        assert_eq!(
            heading_name("Ursula von der Leyen, President of the European Commission:"),
            Some((0, 20))
        );
        assert_eq!(heading_name("Lukashenko:"), None);
        assert_eq!(heading_name("The President said the following:"), None);
        assert_eq!(heading_name("Note: this is prose"), None);
        assert_eq!(heading_name("Among the documents:"), None);
    }

    #[test]
    fn lines_classified() {
        let text = "Home\nNews\nAbout the site\n\nA quite ordinary headline about talks\nPhoto by someone\n\nMinsk +15°C\nSu Mo Tu We Th Fr Sa\n\nThe talks went well. Everyone\nagreed on the plan.\n\nAlexander Lukashenko:\nWe are ready.\n\nRead more\n\nSubscribe to us\nThe end of the story text here.";
        assert_eq!(
            kinds(text),
            [
                (
                    BlockKind::Title,
                    "A quite ordinary headline about talks".into()
                ),
                (
                    BlockKind::Paragraph,
                    "The talks went well. Everyone\nagreed on the plan.".into()
                ),
                (BlockKind::SpeakerHeading, "Alexander Lukashenko:".into()),
                (BlockKind::Paragraph, "We are ready.".into()),
            ]
        );
    }
}

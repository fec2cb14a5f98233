//! Wire datelines at the start of the first paragraphs: "MINSK, 24 August (BelTA) – ",
//! "WASHINGTON (Reuters) - ", "MOSCOW, June 3 (TASS) — ". The span covers the dateline through
//! the dash and the whitespace after it; sentences start after it.

use std::sync::OnceLock;

use regex::Regex;

use crate::document::{BlockKind, Dateline, Document};

/// How many paragraphs from the top may carry the dateline.
const MAX_PARAGRAPHS: usize = 3;

fn re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(concat!(
            r"^(?P<place>(?P<caps>\p{Lu}[\p{Lu}'’.\-]+(?:\s+\p{Lu}[\p{Lu}'’.\-]+){0,3})|\p{Lu}\p{Ll}+(?:\s+\p{Lu}\p{Ll}+){0,2})",
            r"(?:,\s*\p{Lu}[\p{L}.]+(?:\s\p{Lu}[\p{L}.]+)?)?",
            r"(?:,\s*(?P<date>\d{1,2}\s+\p{L}+\.?|\p{L}+\.?\s+\d{1,2}))?",
            r"\s*(?:\((?P<agency>[^()\n]{2,40})\))?",
            r"\s*(?:--|[–—-])\s*",
        ))
        .unwrap()
    })
}

/// Find the dateline of a structured document.
pub fn find(doc: &Document) -> Option<Dateline> {
    let paragraphs = doc
        .blocks
        .iter()
        .filter(|b| b.kind == BlockKind::Paragraph)
        .take(MAX_PARAGRAPHS);
    for b in paragraphs {
        let text: String = doc
            .clean
            .text
            .chars()
            .skip(b.clean_start)
            .take(b.clean_end - b.clean_start)
            .collect();
        let Some(c) = re().captures(&text) else {
            continue;
        };
        let has_date = c.name("date").is_some();
        let has_agency = c.name("agency").is_some();
        let ok = if c.name("caps").is_some() {
            has_date || has_agency
        } else {
            has_date && has_agency
        };
        if !ok {
            continue;
        }
        let len = text[..c.get(0).unwrap().end()].chars().count();
        if len >= text.chars().count() {
            continue;
        }
        return Some(Dateline {
            span: doc.clean.to_source(b.clean_start, b.clean_start + len),
            place: c.name("place").map(|m| m.as_str().to_string()),
            agency: c.name("agency").map(|m| m.as_str().trim().to_string()),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use crate::document::Format;
    use crate::ingest::{ingest, RawDocument};

    fn dl(body: &str) -> Option<(String, Option<String>, Option<String>)> {
        let text = format!("A title for the story here\n\n{body}");
        let raw = RawDocument {
            id: "d".into(),
            origin: "d".into(),
            format: Format::Text,
            bytes: text.into_bytes(),
            title: None,
            url: None,
            published: None,
        };
        let doc = ingest(raw).unwrap();
        doc.dateline.map(|d| {
            (
                doc.source
                    .chars()
                    .skip(d.span.start)
                    .take(d.span.len())
                    .collect(),
                d.place,
                d.agency,
            )
        })
    }

    #[test]
    fn datelines() {
        assert_eq!(
            dl("MINSK, 24 August (BelTA) – Talks began."),
            Some((
                "MINSK, 24 August (BelTA) – ".into(),
                Some("MINSK".into()),
                Some("BelTA".into())
            ))
        );
        assert_eq!(
            dl("WASHINGTON (Reuters) - Talks began.").unwrap().0,
            "WASHINGTON (Reuters) - "
        );
        assert_eq!(
            dl("NEW YORK, June 3 (AP) — Talks began.")
                .unwrap()
                .1
                .as_deref(),
            Some("NEW YORK")
        );
        assert_eq!(
            dl("Minsk, 24 August (BelTA) – Talks began.")
                .unwrap()
                .1
                .as_deref(),
            Some("Minsk")
        );
        assert_eq!(
            dl("The Shanghai Cooperation Organization (SCO) – a club."),
            None
        );
        assert_eq!(dl("NATO - the alliance - met."), None);
    }
}

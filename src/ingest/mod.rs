//! Ingest: read inputs, decode them, strip markup and boilerplate, and give each document its
//! structure (title, paragraphs, speaker headings, dateline, publication date).
//!
//! One job per submodule:
//! - [`read`]: expand input paths (files, folders, JSONL) into [`RawDocument`]s, lazily;
//! - [`decode`]: bytes to text (UTF-8, UTF-16 with BOM), rejecting binary and empty input;
//! - [`html`]: a small tolerant HTML scanner that keeps the offset map back to the source;
//! - [`boilerplate`]: line classification into title / paragraphs / speaker headings / dropped;
//! - [`dates`]: publication dates ("24 August 2022", "14 июня 2019", "May 27 – June 2, 2019");
//! - [`dateline`]: wire datelines ("MINSK, 24 August (BelTA) – ").
//!
//! Offsets: `Document::source` is the decoded text exactly as read, except that a leading
//! byte-order mark is not part of it (offsets count from the first character after the BOM).
//! `Document::clean` holds only the kept blocks, joined by blank lines; its runs map every
//! clean code point back to the source.

pub mod boilerplate;
pub mod dateline;
pub mod dates;
pub mod decode;
pub mod html;
pub mod read;

use crate::document::{Block, CleanText, DocError, Document, Format, Run, Span};

pub use read::{read_inputs, read_stream};

/// Limits for reading inputs.
#[derive(Clone, Debug)]
pub struct IngestConfig {
    /// Files (and JSONL records) larger than this are refused with a read error.
    pub max_bytes: u64,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            max_bytes: 20 * 1024 * 1024,
        }
    }
}

/// One input document before decoding.
#[derive(Clone, Debug)]
pub struct RawDocument {
    pub id: String,
    /// A path, or "path:line" for a JSONL record.
    pub origin: String,
    pub format: Format,
    pub bytes: Vec<u8>,
    pub title: Option<String>,
    pub url: Option<String>,
    pub published: Option<String>,
}

/// Decode, clean and structure one document.
pub fn ingest(raw: RawDocument) -> Result<Document, DocError> {
    let err = |m: String| DocError::new(raw.id.clone(), "ingest", m);
    let source = decode::decode(&raw.bytes).map_err(err)?;

    let is_html = match raw.format {
        Format::Html => true,
        Format::Text | Format::Jsonl => looks_like_html(&source),
    };
    let format = match raw.format {
        Format::Text if is_html => Format::Html,
        f => f,
    };

    // Visible text (all of it) and, for HTML, what the markup says about title and date.
    let (visible, meta) = if is_html {
        let h = html::scan(&source);
        if h.clean.text.trim().is_empty() {
            return Err(err("no visible text in the HTML".into()));
        }
        (h.clean, Some(h.meta))
    } else {
        (identity_clean(&source), None)
    };

    let mut hints = meta.as_ref().map(|m| m.title_hints()).unwrap_or_default();
    hints.extend(raw.title.clone());
    let structure = boilerplate::structure(&visible, &hints, is_html);

    // Keep only the kept blocks in the clean text.
    let (clean, blocks) = compact(&visible, &structure.blocks);

    let title = blocks
        .iter()
        .find(|b| b.kind == crate::document::BlockKind::Title)
        .map(|b| clean.to_source(b.clean_start, b.clean_end));

    let published = raw
        .published
        .as_deref()
        .and_then(dates::normalize_published)
        .or_else(|| {
            meta.as_ref()
                .and_then(|m| m.published.as_deref())
                .and_then(dates::normalize_published)
        })
        .or(structure.published);

    let mut doc = Document {
        id: raw.id.clone(),
        origin: raw.origin.clone(),
        format: Some(format),
        source,
        url: raw.url.clone(),
        title,
        published,
        clean,
        blocks,
        ..Default::default()
    };
    doc.dateline = dateline::find(&doc);
    Ok(doc)
}

/// Whether text starts (after whitespace) with `<!doctype` or `<html`.
pub fn looks_like_html(text: &str) -> bool {
    let t = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    let head: String = t.chars().take(9).collect::<String>().to_ascii_lowercase();
    head.starts_with("<!doctype") || head.starts_with("<html")
}

/// The clean text of a plain-text document: the source itself, mapped one to one.
pub fn identity_clean(source: &str) -> CleanText {
    let n = source.chars().count();
    let runs = if n == 0 {
        vec![]
    } else {
        vec![Run {
            clean: 0,
            clean_len: n,
            source: 0,
            source_len: n,
        }]
    };
    CleanText {
        text: source.to_string(),
        runs,
    }
}

/// Builds a [`CleanText`] piece by piece, keeping the offset map.
#[derive(Default)]
pub(crate) struct CleanBuilder {
    pub text: String,
    pub runs: Vec<Run>,
    /// Code points in `text`.
    pub len: usize,
}

impl CleanBuilder {
    /// Append `ch`, which is the source code point at `src`.
    pub fn push_same(&mut self, src: usize, ch: char) {
        self.text.push(ch);
        if let Some(r) = self.runs.last_mut() {
            if r.clean_len == r.source_len
                && r.source + r.source_len == src
                && r.clean + r.clean_len == self.len
            {
                r.clean_len += 1;
                r.source_len += 1;
                self.len += 1;
                return;
            }
        }
        self.runs.push(Run {
            clean: self.len,
            clean_len: 1,
            source: src,
            source_len: 1,
        });
        self.len += 1;
    }

    /// Append `s`, which as a whole stands for source code points `src..src+src_len`.
    pub fn push_mapped(&mut self, src: usize, src_len: usize, s: &str) {
        let n = s.chars().count();
        if n == 0 {
            return;
        }
        self.text.push_str(s);
        self.runs.push(Run {
            clean: self.len,
            clean_len: n,
            source: src,
            source_len: src_len,
        });
        self.len += n;
    }

    /// Append clean code points `start..end` of `from`, keeping their mapping.
    pub fn push_range(&mut self, from: &CleanText, chars: &[char], start: usize, end: usize) {
        if start >= end {
            return;
        }
        let mut i = from
            .runs
            .partition_point(|r| r.clean + r.clean_len <= start);
        while i < from.runs.len() && from.runs[i].clean < end {
            let r = from.runs[i];
            let s = r.clean.max(start);
            let e = (r.clean + r.clean_len).min(end);
            if r.clean_len == r.source_len {
                for (k, &ch) in chars[s..e].iter().enumerate() {
                    self.push_same(r.source + (s - r.clean) + k, ch);
                }
            } else {
                let piece: String = chars[s..e].iter().collect();
                self.push_mapped(r.source, r.source_len, &piece);
            }
            i += 1;
        }
    }

    pub fn finish(self) -> CleanText {
        CleanText {
            text: self.text,
            runs: self.runs,
        }
    }
}

/// Build the final clean text from the kept blocks of `visible` (joined by "\n\n", which map to
/// the source between the blocks) and the blocks' new ranges.
fn compact(visible: &CleanText, kept: &[boilerplate::KeptBlock]) -> (CleanText, Vec<Block>) {
    let chars: Vec<char> = visible.text.chars().collect();
    let mut b = CleanBuilder::default();
    let mut blocks = Vec::with_capacity(kept.len());
    let mut prev_src_end: Option<usize> = None;
    for k in kept {
        let src = visible.to_source(k.start, k.end);
        if let Some(pe) = prev_src_end {
            let gap_start = pe.min(src.start);
            b.push_mapped(gap_start, src.start - gap_start, "\n\n");
        }
        let start = b.len;
        b.push_range(visible, &chars, k.start, k.end);
        blocks.push(Block {
            kind: k.kind,
            clean_start: start,
            clean_end: b.len,
        });
        prev_src_end = Some(src.end);
    }
    (b.finish(), blocks)
}

impl CleanText {
    /// Source span of the clean code-point range `clean_start..clean_end`.
    ///
    /// Inside one-to-one runs the mapping is exact; a range that starts or ends inside a run of
    /// unequal lengths (a decoded entity, a collapsed space, a paragraph break) takes the whole run.
    /// Out-of-range input is clamped; the result always satisfies `start <= end`.
    pub fn to_source(&self, clean_start: usize, clean_end: usize) -> Span {
        let Some(last) = self.runs.last() else {
            return Span::new(0, 0);
        };
        let total = last.clean + last.clean_len;
        let s = clean_start.min(total);
        let e = clean_end.min(total).max(s);
        let run_at = |p: usize| {
            &self.runs[self
                .runs
                .partition_point(|r| r.clean + r.clean_len <= p)
                .min(self.runs.len() - 1)]
        };
        let start_of = |p: usize| {
            if p >= total {
                return last.source + last.source_len;
            }
            let r = run_at(p);
            if r.clean_len == r.source_len {
                r.source + (p - r.clean)
            } else {
                r.source
            }
        };
        let start = start_of(s);
        if s == e {
            return Span::new(start, start);
        }
        let r = run_at(e - 1);
        let end = if r.clean_len == r.source_len {
            r.source + (e - r.clean)
        } else {
            r.source + r.source_len
        };
        Span::new(start, end.max(start))
    }
}

/// Load an embedded line list: trimmed, without blank lines and `#` comments.
pub(crate) fn line_list(data: &str) -> Vec<String> {
    data.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::BlockKind;

    pub(crate) fn raw(id: &str, format: Format, text: &str) -> RawDocument {
        RawDocument {
            id: id.into(),
            origin: id.into(),
            format,
            bytes: text.as_bytes().to_vec(),
            title: None,
            url: None,
            published: None,
        }
    }

    pub(crate) fn sample(name: &str) -> Document {
        let text = match name {
            "000" => include_str!("../../samples/articles/000_05d63779f3e7c9af.txt"),
            "001" => include_str!("../../samples/articles/001_2fc065709d99e1cc.txt"),
            "002" => include_str!("../../samples/articles/002_842b74abc66e8531.txt"),
            "003" => include_str!("../../samples/articles/003_8882aa75accc36af.txt"),
            "004" => include_str!("../../samples/articles/004_669cdeb8832351f7.txt"),
            _ => unreachable!(),
        };
        ingest(raw(name, Format::Text, text)).unwrap()
    }

    fn src(doc: &Document, s: Span) -> String {
        doc.source.chars().skip(s.start).take(s.len()).collect()
    }

    fn cp_slice(chars: &[char], start: usize, end: usize) -> String {
        chars[start.min(chars.len())..end.min(chars.len())]
            .iter()
            .collect()
    }

    fn block_texts(doc: &Document) -> Vec<String> {
        let chars: Vec<char> = doc.clean.text.chars().collect();
        doc.blocks
            .iter()
            .map(|b| cp_slice(&chars, b.clean_start, b.clean_end))
            .collect()
    }

    fn check_runs(doc: &Document) {
        let mut next = 0;
        let n = doc.source.chars().count();
        for r in &doc.clean.runs {
            assert_eq!(r.clean, next);
            assert!(r.clean_len > 0);
            assert!(r.source + r.source_len <= n);
            next += r.clean_len;
        }
        assert_eq!(next, doc.clean.text.chars().count());
    }

    /// Every kept block of a plain-text document reads the same in clean and source.
    fn check_blocks_round_trip(doc: &Document) {
        for (b, t) in doc.blocks.iter().zip(block_texts(doc)) {
            let s = doc.clean.to_source(b.clean_start, b.clean_end);
            assert_eq!(src(doc, s), t);
        }
    }

    #[test]
    fn sample_001_boilerplate_title_dateline_date() {
        let doc = sample("001");
        check_runs(&doc);
        check_blocks_round_trip(&doc);
        let all = block_texts(&doc).join("\n");
        for gone in [
            "Subscribe to us",
            "Minsk +15°C",
            "All news",
            "Photo courtesy",
            "Government Bodies",
            "Flag Sunday",
            "Recent news",
        ] {
            assert!(!all.contains(gone), "{gone:?} kept");
        }
        assert_eq!(
            src(&doc, doc.title.unwrap()),
            "Belarus intent on expanding multi-faceted cooperation with SCO countries"
        );
        assert_eq!(doc.blocks[0].kind, BlockKind::Title);
        assert_eq!(doc.published.as_deref(), Some("2022-08-24"));
        let d = doc.dateline.clone().unwrap();
        assert_eq!(src(&doc, d.span), "MINSK, 24 August (BelTA) – ");
        assert_eq!(d.place.as_deref(), Some("MINSK"));
        assert_eq!(d.agency.as_deref(), Some("BelTA"));
        assert_eq!(doc.blocks.len(), 8);
        assert!(doc.blocks[1..]
            .iter()
            .all(|b| b.kind == BlockKind::Paragraph));
    }

    #[test]
    fn sample_004_boilerplate_title_dateline_date() {
        let doc = sample("004");
        check_runs(&doc);
        check_blocks_round_trip(&doc);
        let all = block_texts(&doc).join("\n");
        for gone in [
            "Su Mo Tu We Th Fr Sa",
            "Photo by",
            "Archive",
            "Souvenirs",
            "| Home",
            "Official Website",
            "Great Patriotic War",
            "3 Apr 2024",
        ] {
            assert!(!all.contains(gone), "{gone:?} kept");
        }
        let title = "Expert comments on importance of SCO membership for Belarus";
        assert_eq!(src(&doc, doc.title.unwrap()), title);
        assert_eq!(all.matches(title).count(), 1, "repeated title kept");
        assert_eq!(doc.published.as_deref(), Some("2024-04-03"));
        let d = doc.dateline.clone().unwrap();
        assert_eq!(src(&doc, d.span), "MINSK, 3 April (BelTA) - ");
        assert_eq!(d.agency.as_deref(), Some("BelTA"));
        assert_eq!(doc.blocks.len(), 5);
    }

    #[test]
    fn sample_003_boilerplate_title_date_range() {
        let doc = sample("003");
        check_runs(&doc);
        check_blocks_round_trip(&doc);
        let all = block_texts(&doc).join("\n");
        for gone in [
            "Subscribe",
            "Once a week",
            "Read more",
            "View all",
            "BE/RU",
            "Security issues",
            "The situation has not changed",
            "April 15",
        ] {
            assert!(!all.contains(gone), "{gone:?} kept");
        }
        let title = "The SCO is likely to enhance its value for Belarus";
        assert_eq!(src(&doc, doc.title.unwrap()), title);
        assert_eq!(all.matches(title).count(), 1);
        assert_eq!(doc.published.as_deref(), Some("2019-05-27"));
        assert!(doc.dateline.is_none());
        assert_eq!(doc.blocks.len(), 5);
    }

    #[test]
    fn sample_002_headings_and_repeated_title() {
        let doc = sample("002");
        check_runs(&doc);
        check_blocks_round_trip(&doc);
        let texts = block_texts(&doc);
        assert_eq!(
            src(&doc, doc.title.unwrap()),
            "Belarus President hopes for new impetus to CSTO development"
        );
        assert_eq!(
            texts
                .iter()
                .filter(|t| t.contains("hopes for new impetus"))
                .count(),
            1
        );
        let headings: Vec<&String> = doc
            .blocks
            .iter()
            .zip(&texts)
            .filter(|(b, _)| b.kind == BlockKind::SpeakerHeading)
            .map(|(_, t)| t)
            .collect();
        assert_eq!(
            headings,
            [
                "Alexander Lukashenko, President of Belarus:",
                "Alexander Lukashenko:",
                "Vladimir Makei, Minister of Foreign Affairs of the Republic of Belarus:",
                "Nursultan Nazarbayev, President of Kazakhstan:",
                "Yuri Khachaturov, Secretary General of the CSTO:"
            ]
        );
        assert_eq!(doc.published, None);
    }

    #[test]
    fn sample_000_title_and_russian_date() {
        let doc = sample("000");
        check_runs(&doc);
        check_blocks_round_trip(&doc);
        let texts = block_texts(&doc);
        assert!(src(&doc, doc.title.unwrap())
            .starts_with("Belarus makes most of SCO Summit in Bishkek"));
        assert_eq!(doc.published.as_deref(), Some("2019-06-14"));
        assert!(!texts.iter().any(|t| t.contains("июня")));
        assert_eq!(texts.len(), 20);
    }

    #[test]
    fn to_source_maps_through_unequal_runs() {
        let c = CleanText {
            text: "a&b".into(),
            runs: vec![
                Run {
                    clean: 0,
                    clean_len: 1,
                    source: 0,
                    source_len: 1,
                },
                Run {
                    clean: 1,
                    clean_len: 1,
                    source: 1,
                    source_len: 5,
                },
                Run {
                    clean: 2,
                    clean_len: 1,
                    source: 6,
                    source_len: 1,
                },
            ],
        };
        assert_eq!(c.to_source(0, 3), Span::new(0, 7));
        assert_eq!(c.to_source(1, 2), Span::new(1, 6));
        assert_eq!(c.to_source(2, 3), Span::new(6, 7));
        assert_eq!(c.to_source(3, 3), Span::new(7, 7));
        assert_eq!(c.to_source(5, 9), Span::new(7, 7));
        assert_eq!(CleanText::default().to_source(0, 4), Span::new(0, 0));
    }

    #[test]
    fn non_ascii_offsets_round_trip() {
        let text = "Заголовок на русском языке здесь\n\n“Мир – это главное,” – сказал он. 15°C and it’s fine.\n";
        let doc = ingest(raw("ru", Format::Text, text)).unwrap();
        check_runs(&doc);
        check_blocks_round_trip(&doc);
        assert_eq!(
            src(&doc, doc.title.unwrap()),
            "Заголовок на русском языке здесь"
        );
    }

    #[test]
    fn utf8_bom_is_not_part_of_source() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice("Title of the piece here\n\nBody text.".as_bytes());
        let mut r = raw("bom", Format::Text, "");
        r.bytes = bytes;
        let doc = ingest(r).unwrap();
        assert!(doc.source.starts_with("Title"));
        assert_eq!(doc.title, Some(Span::new(0, 23)));
    }

    #[test]
    fn text_that_is_html_is_read_as_html() {
        let doc = ingest(raw(
            "h",
            Format::Text,
            "  <!DOCTYPE html><title>A b c d</title><p>Hello there.</p>",
        ))
        .unwrap();
        assert_eq!(doc.format, Some(Format::Html));
        assert_eq!(src(&doc, doc.title.unwrap()), "A b c d");
    }

    #[test]
    fn jsonl_published_field_wins() {
        let mut r = raw(
            "j",
            Format::Jsonl,
            "Some title words here\n\n3 Apr 2024\n\nBody text here.",
        );
        r.published = Some("2021-02-03T10:00:00Z".into());
        assert_eq!(ingest(r).unwrap().published.as_deref(), Some("2021-02-03"));
    }

    /// Large hostile shapes (one 1 MB line of words, one 1 MB token, 1 MB of nested tags, of
    /// entities, of quotes, of lines…) go through ingest and segment in linear time (about a
    /// second for all of them with --release; a quadratic step would take minutes).
    #[test]
    fn big_hostile_documents_stay_fast() {
        let mb = 1 << 20;
        let cases: Vec<(&str, Format, String)> = vec![
            ("words", Format::Text, "word ".repeat(mb / 5)),
            ("token", Format::Text, "x".repeat(mb)),
            ("cjk", Format::Text, "中".repeat(mb / 3)),
            ("lines", Format::Text, "Short line\n".repeat(mb / 11)),
            ("sentences", Format::Text, "He said so. ".repeat(mb / 12)),
            ("quotes", Format::Text, "“a ".repeat(mb / 5)),
            (
                "nested",
                Format::Html,
                "<div>".repeat(mb / 5) + "<p>Text here.</p>",
            ),
            ("unclosed", Format::Html, "<p>a <b>".repeat(mb / 8)),
            (
                "entities",
                Format::Html,
                "&amp;&#x201C;&bogus;".repeat(mb / 20),
            ),
            ("titles", Format::Html, "<title>a</title>".repeat(mb / 16)),
            ("comments", Format::Html, "<!-- a -->b".repeat(mb / 11)),
            ("lt", Format::Html, "<".repeat(mb)),
        ];
        for (name, format, text) in cases {
            let t = std::time::Instant::now();
            if let Ok(mut doc) = ingest(raw(name, format, &text)) {
                crate::segment::segment(&mut doc);
                check_runs(&doc);
            }
            let took = t.elapsed();
            eprintln!("{name}: {took:?}");
            assert!(took.as_secs() < 10, "{name} took {took:?}");
        }
    }

    #[test]
    fn html_document_end_to_end() {
        let html = r#"<!doctype html><html><head><title>Talks in Minsk | News site</title>
<meta property="og:title" content="Talks in Minsk go well">
<meta property="article:published_time" content="2023-05-06T12:00:00+03:00">
<style>p { color: red }</style><script>var x = "<p>not text</p>";</script></head>
<body><nav><a href="/">Home</a><a href="/news">All news</a></nav>
<h1>Talks in Minsk go well</h1>
<p>MINSK, 6 May (BelTA) &ndash; The ministers met &amp; talked.</p>
<p>&ldquo;We agree,&rdquo; he said.</p>
<footer>Copyright 2023</footer></body></html>"#;
        let doc = ingest(raw("h", Format::Html, html)).unwrap();
        check_runs(&doc);
        let texts = block_texts(&doc);
        assert_eq!(
            texts,
            [
                "Talks in Minsk go well",
                "MINSK, 6 May (BelTA) – The ministers met & talked.",
                "“We agree,” he said."
            ]
        );
        assert_eq!(src(&doc, doc.title.unwrap()), "Talks in Minsk go well");
        assert_eq!(doc.published.as_deref(), Some("2023-05-06"));
        let d = doc.dateline.clone().unwrap();
        assert_eq!(src(&doc, d.span), "MINSK, 6 May (BelTA) &ndash; ");
        // Entities map to their whole source reference.
        let b = &doc.blocks[1];
        let amp = texts[1].chars().position(|c| c == '&').unwrap();
        assert_eq!(
            src(
                &doc,
                doc.clean
                    .to_source(b.clean_start + amp, b.clean_start + amp + 1)
            ),
            "&amp;"
        );
    }
}

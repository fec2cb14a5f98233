//! `claimex report`: one self-contained HTML page over a run's output folder — an overview,
//! every document's visible text with its claims highlighted, filters kept in the URL, and with
//! gold claims the eval's outcomes (true positives, false positives, misses) and figures.
//!
//! The page reads nothing from the network: the style, the script (src/report/) and the data
//! are inline. Article text is untrusted: the data is JSON inside `<script type="application/json">`
//! with `<`, `>`, `&` and U+2028/U+2029 escaped, the script builds the page with `textContent`
//! and `createElement` only, and a Content-Security-Policy allows no script but the page's own
//! (by hash), so even a mistake in escaping could not run an article's script.
//!
//! The report reads only the output folder (`documents.jsonl`, `claims.jsonl`); with `--gold`
//! it reads the documents again from their `origin`, as `claimex eval` does, because gold
//! sentences are located in the documents' text. The figures are [`eval::score`]'s.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::document::{printable, Document, Format};
use crate::eval::{self, GoldClaim, PredictedClaim};
use crate::ingest::{self, html, IngestConfig};
use crate::outdir::read_own;
use crate::output;

const TEMPLATE: &str = include_str!("report/template.html");
const STYLE: &str = include_str!("report/report.css");
const SCRIPT: &str = include_str!("report/report.js");

/// What [`write`] wrote.
pub struct Written {
    pub path: PathBuf,
    pub bytes: usize,
    pub documents: usize,
    pub claims: usize,
}

/// The fields of a documents.jsonl line the report shows.
#[derive(Deserialize)]
struct DocLine {
    id: String,
    origin: String,
    format: Option<Format>,
    url: Option<String>,
    title: Option<TitleLine>,
    published: Option<String>,
    dateline: Option<DatelineLine>,
    sentences: Vec<SentenceLine>,
}

#[derive(Deserialize)]
struct TitleLine {
    text: String,
}

#[derive(Deserialize)]
struct DatelineLine {
    place: Option<String>,
    agency: Option<String>,
}

#[derive(Deserialize)]
struct SentenceLine {
    text: String,
    start: usize,
    end: usize,
    paragraph: usize,
    quoted: bool,
    speaker: Option<SpeakerLine>,
}

#[derive(Deserialize)]
struct SpeakerLine {
    text: String,
}

/// A mention (actor or target) of a claim line.
#[derive(Deserialize)]
struct Mention {
    text: String,
    start: usize,
    end: usize,
}

/// Writes the report of the output folder `out` to `dest` (default `out/report.html`).
pub fn write(out: &Path, gold: Option<&Path>, dest: Option<&Path>) -> Result<Written> {
    if !out.is_dir() {
        bail!("{} is not a folder: give the output folder of a claimex run", show(out));
    }
    let documents_path = out.join("documents.jsonl");
    let Some(documents) = read_own(&documents_path)? else {
        bail!(
            "{} not found: the report shows the documents' text, which a run writes there unless its \
             config says documents = false; run again with documents = true",
            show(&documents_path)
        );
    };
    let claims_path = out.join("claims.jsonl");
    let Some(claims) = read_own(&claims_path)? else {
        bail!("{} not found: is {} the output folder of a claimex run?", show(&claims_path), show(out));
    };
    // A folder a run was killed in mid-write holds files of two runs: refuse it, as the manifest
    // says (a folder without a manifest, made by other tools, is taken as it is).
    if out.join("manifest.json").exists() {
        output::verify(out)?;
    }
    let docs: Vec<DocLine> = lines(&documents, &documents_path)?;
    let claims: Vec<Value> = lines(&claims, &claims_path)?;
    let gold = gold.map(|g| gold_view(&docs, &claims, &claims_path, g)).transpose()?;
    let data = data(out, &docs, &claims, gold);
    let page = page(&out.display().to_string(), &data)?;
    let dest = dest.map_or_else(|| out.join("report.html"), Path::to_path_buf);
    write_atomic(&dest, page.as_bytes())?;
    Ok(Written { path: dest, bytes: page.len(), documents: docs.len(), claims: claims.len() })
}

fn show(p: &Path) -> String {
    printable(&p.display().to_string()).into_owned()
}

fn lines<T: for<'de> Deserialize<'de>>(bytes: &[u8], path: &Path) -> Result<Vec<T>> {
    let text = std::str::from_utf8(bytes).with_context(|| format!("{} is not UTF-8", show(path)))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).with_context(|| format!("{}:{}: invalid line", show(path), i + 1)))
        .collect()
}

/// The page's data: documents (visible text as sentences), claims with where to mark them, and
/// the gold view.
fn data(out: &Path, docs: &[DocLine], claims: &[Value], gold: Option<GoldView>) -> Value {
    let index: BTreeMap<&str, usize> = docs.iter().enumerate().map(|(i, d)| (d.id.as_str(), i)).collect();
    let claims: Vec<Value> = claims
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let doc = c["doc"].as_str().and_then(|d| index.get(d).copied());
            let start = c["start"].as_u64().unwrap_or(0) as usize;
            let end = c["end"].as_u64().unwrap_or(0) as usize;
            let sentence = doc.and_then(|d| sentence_of(&docs[d].sentences, start, end));
            let marked = |field: &str| {
                let m: Mention = serde_json::from_value(c[field].clone()).ok()?;
                mark(&docs[doc?].sentences[sentence?], &m)
            };
            json!({
                "claim": c,
                "doc": doc,
                "sentence": sentence,
                "actor": marked("actor"),
                "target": marked("target"),
                "outcome": gold.as_ref().and_then(|g| g.outcomes.predicted.get(i).copied().flatten()).map(|tp| if tp { "tp" } else { "fp" }),
            })
        })
        .collect();
    let documents: Vec<Value> = docs
        .iter()
        .map(|d| {
            json!({
                "id": d.id,
                "origin": d.origin,
                "url": d.url,
                // The title's span text is the source's: an HTML title's entities are decoded.
                "title": d.title.as_ref().map(|t| if d.format == Some(Format::Html) { html::decode_text(&t.text) } else { t.text.clone() }),
                "published": d.published,
                "dateline": d.dateline.as_ref().map(|l| [&l.place, &l.agency].into_iter().flatten().cloned().collect::<Vec<_>>().join(", ")),
                "sentences": d.sentences.iter().map(|s| json!({
                    "text": s.text,
                    "paragraph": s.paragraph,
                    "quoted": s.quoted,
                    "speaker": s.speaker.as_ref().map(|p| &p.text),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let gold = gold.map(|g| {
        let misses: Vec<Value> = g
            .lines
            .iter()
            .zip(&g.outcomes.gold)
            .filter_map(|(line, o)| {
                let o = o.filter(|o| !o.matched)?;
                let doc = index.get(line["doc"].as_str()?).copied()?;
                json!({"doc": doc, "sentence": sentence_of(&docs[doc].sentences, o.start, o.end), "line": line}).into()
            })
            .collect();
        json!({"file": g.file, "report": g.report, "misses": misses})
    });
    json!({"out": out.display().to_string(), "documents": documents, "claims": claims, "gold": gold})
}

/// The sentence a span covers: the one with the same span, else the one it overlaps most.
fn sentence_of(sentences: &[SentenceLine], start: usize, end: usize) -> Option<usize> {
    if let Some(i) = sentences.iter().position(|s| s.start == start && s.end == end) {
        return Some(i);
    }
    let overlap = |s: &SentenceLine| s.end.min(end).saturating_sub(s.start.max(start));
    let (i, s) = sentences.iter().enumerate().max_by_key(|(i, s)| (overlap(s), std::cmp::Reverse(*i)))?;
    (overlap(s) > 0).then_some(i)
}

/// Where a mention lies in its sentence's visible text, as UTF-16 offsets (the page's strings):
/// the occurrence of its text nearest to its offset from the sentence start. None when the
/// mention is outside the sentence (an actor named earlier) or its text is not in the sentence
/// text: no mark rather than a wrong one. Offsets in the source and the visible text differ in
/// HTML, hence the search.
fn mark(s: &SentenceLine, m: &Mention) -> Option<(usize, usize)> {
    if m.text.is_empty() || m.start < s.start || m.end > s.end {
        return None;
    }
    let want = m.start - s.start;
    let (at, _) = s
        .text
        .match_indices(m.text.as_str())
        .map(|(byte, _)| (byte, s.text[..byte].chars().count()))
        .min_by_key(|&(_, chars)| chars.abs_diff(want))?;
    let start = s.text[..at].encode_utf16().count();
    Some((start, start + m.text.encode_utf16().count()))
}

/// The gold side: eval's figures and each claim's outcome.
struct GoldView {
    file: String,
    report: eval::Report,
    outcomes: eval::Outcomes,
    /// The gold file's lines as written, for the page to show a miss.
    lines: Vec<Value>,
}

fn gold_view(docs: &[DocLine], claims: &[Value], claims_path: &Path, gold_path: &Path) -> Result<GoldView> {
    let gold: Vec<GoldClaim> = eval::read_jsonl(gold_path)?;
    let lines: Vec<Value> = eval::read_jsonl(gold_path)?;
    let predicted = claims
        .iter()
        .enumerate()
        .map(|(i, c)| serde_json::from_value(c.clone()).with_context(|| format!("{}:{}: not a claim", show(claims_path), i + 1)))
        .collect::<Result<Vec<PredictedClaim>>>()?;
    let (report, outcomes) = eval::score_with_outcomes(&sources(docs)?, &gold, &predicted)?;
    Ok(GoldView { file: gold_path.display().to_string(), report, outcomes, lines })
}

/// The documents read again from where the run read them (a file's origin is its path, a JSONL
/// record's `PATH:LINE`), with the ingest code of the run and of `claimex eval`.
fn sources(docs: &[DocLine]) -> Result<BTreeMap<String, Document>> {
    let mut inputs: Vec<PathBuf> = Vec::new();
    for d in docs {
        let file = Path::new(&d.origin);
        let path = if file.is_file() {
            file.to_path_buf()
        } else {
            match d.origin.rsplit_once(':') {
                Some((p, line)) if line.parse::<usize>().is_ok() && Path::new(p).is_file() => PathBuf::from(p),
                _ => bail!(
                    "--gold needs the documents' text, and the input of document {} is gone: {} (run the report from the folder the run was started in)",
                    d.id,
                    printable(&d.origin)
                ),
            }
        };
        if !inputs.contains(&path) {
            inputs.push(path);
        }
    }
    let wanted: HashSet<&str> = docs.iter().map(|d| d.id.as_str()).collect();
    let mut sources = BTreeMap::new();
    for raw in ingest::read_inputs(&inputs, &IngestConfig::default()) {
        let raw = raw.map_err(|e| anyhow!("{e}"))?;
        if wanted.contains(raw.id.as_str()) {
            let doc = ingest::ingest(raw).map_err(|e| anyhow!("{e}"))?;
            sources.insert(doc.id.clone(), doc);
        }
    }
    if let Some(d) = docs.iter().find(|d| !sources.contains_key(&d.id)) {
        bail!("document {} is no longer in {}", d.id, printable(&d.origin));
    }
    Ok(sources)
}

/// JSON to put inside `<script type="application/json">`: nothing in it can end the element
/// (`</script>`), open a comment (`<!--`) or, pasted into a script, end a line (U+2028/9).
/// These characters occur only inside JSON strings, where the escapes mean the same.
fn embed(v: &Value) -> String {
    let mut out = String::new();
    for c in v.to_string().chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// Text for HTML element content or a quoted attribute.
fn escape_html(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page: the template with its `{{name}}` slots filled in one pass (a value is never
/// searched for slots).
fn page(out: &str, data: &Value) -> Result<String> {
    let hash = |s: &str| format!("'sha256-{}'", base64(&Sha256::digest(s.as_bytes())));
    let csp = format!("default-src 'none'; script-src {}; style-src {}; img-src data:", hash(SCRIPT), hash(STYLE));
    let title = escape_html(&format!("claimex report: {}", printable(out)));
    let data = embed(data);
    let mut page = String::with_capacity(TEMPLATE.len() + STYLE.len() + SCRIPT.len() + data.len());
    let mut rest = TEMPLATE;
    while let Some(at) = rest.find("{{") {
        page.push_str(&rest[..at]);
        let end = rest[at..].find("}}").ok_or_else(|| anyhow!("report template: unclosed slot"))? + at;
        page.push_str(match &rest[at + 2..end] {
            "csp" => &csp,
            "title" => &title,
            "style" => STYLE,
            "script" => SCRIPT,
            "data" => &data,
            other => bail!("report template: unknown slot {other}"),
        });
        rest = &rest[end + 2..];
    }
    page.push_str(rest);
    Ok(page)
}

/// Standard base64, for the CSP hashes.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | (b as u32) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() { ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

/// Writes `dest` whole or not at all: a new file (O_EXCL, random name) in its folder, synced,
/// renamed over it — a symbolic link at `dest` is replaced, never followed.
fn write_atomic(dest: &Path, bytes: &[u8]) -> Result<()> {
    let folder = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".report")
        .tempfile_in(folder)
        .with_context(|| format!("cannot create a temporary file in {}", show(folder)))?;
    let written = tmp
        .write_all(bytes)
        .and_then(|_| tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644)))
        .and_then(|_| tmp.as_file().sync_all());
    written.with_context(|| format!("cannot write {}", show(dest)))?;
    tmp.persist(dest).map_err(|e| e.error).with_context(|| format!("cannot write {}", show(dest)))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "</script><script>alert(1)</script> <img src=x onerror=alert(1)> <a href=\"javascript:alert(1)\">x</a> <!-- \u{2028}\u{2029} &amp;";

    fn sentence(text: &str, start: usize) -> SentenceLine {
        SentenceLine { text: text.into(), start, end: start + text.chars().count(), paragraph: 0, quoted: false, speaker: None }
    }

    fn hostile_data() -> Value {
        let doc = DocLine {
            id: "x<script>".into(),
            origin: "javascript:alert(1)".into(),
            format: Some(Format::Html),
            url: Some("javascript:alert(1)".into()),
            title: Some(TitleLine { text: HOSTILE.into() }),
            published: None,
            dateline: None,
            sentences: vec![sentence(HOSTILE, 0)],
        };
        let claim = json!({"doc": "x<script>", "type": "stance", "start": 0, "end": HOSTILE.chars().count(), "sentence": HOSTILE,
            "actor": {"text": "<img src=x onerror=alert(1)>", "start": 35, "end": 63}, "target": null});
        data(Path::new("out"), &[doc], &[claim], None)
    }

    #[test]
    fn embedded_data_cannot_end_its_script_element() {
        let data = hostile_data();
        let embedded = embed(&data);
        for bad in ["<", ">", "&", "\u{2028}", "\u{2029}"] {
            assert!(!embedded.contains(bad), "{bad:?} in {embedded}");
        }
        // The page reads back exactly the text.
        let back: Value = serde_json::from_str(&embedded).unwrap();
        assert_eq!(back, data);
        assert_eq!(back["documents"][0]["sentences"][0]["text"], HOSTILE);
    }

    #[test]
    fn the_page_holds_one_script_element_and_a_csp_with_its_hash() {
        let html = page("out</title><script>alert(1)</script>", &hostile_data()).unwrap();
        // Two script elements: the data and the page's script; the article added none.
        assert_eq!(html.matches("<script").count(), 2, "{html}");
        assert_eq!(html.matches("</script>").count(), 2);
        assert!(!html.contains("<img"));
        assert!(html.contains("<title>claimex report: out&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;</title>"));
        let csp_hash = format!("'sha256-{}'", base64(&Sha256::digest(SCRIPT.as_bytes())));
        assert!(html.contains(&format!("script-src {csp_hash};")), "{html}");
    }

    #[test]
    fn base64_matches_the_standard() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foob"), "Zm9vYg==");
        assert_eq!(base64(&[0xfb, 0xff]), "+/8=");
    }

    #[test]
    fn mentions_are_marked_where_their_text_is_nearest_or_not_at_all() {
        // "Iran" twice: the mention at source offset 27 is the second one.
        let s = sentence("Iran said “the talks with Iran failed”.", 100);
        let at = |text: &str, start: usize| mark(&s, &Mention { text: text.into(), start, end: start + text.chars().count() });
        assert_eq!(at("Iran", 100), Some((0, 4)));
        assert_eq!(at("Iran", 126), Some((26, 30)));
        // Outside the sentence (an actor named in an earlier one), or text not in it: no mark.
        assert_eq!(at("Iran", 20), None);
        assert_eq!(at("Tehran", 110), None);
        // UTF-16 offsets: the flag is two astral code points, four UTF-16 units.
        let s = sentence("🇺🇳 The UN warned.", 0);
        assert_eq!(mark(&s, &Mention { text: "UN".into(), start: 7, end: 9 }), Some((9, 11)));
    }

    #[test]
    fn claims_find_their_sentence_by_span_then_overlap() {
        let ss = [sentence("One.", 0), sentence("Two three.", 5)];
        assert_eq!(sentence_of(&ss, 5, 15), Some(1));
        assert_eq!(sentence_of(&ss, 3, 12), Some(1));
        assert_eq!(sentence_of(&ss, 40, 50), None);
    }

    #[test]
    fn the_gold_view_marks_each_claims_outcome_with_evals_figures() {
        let dir = tempfile::tempdir().unwrap();
        let article = dir.path().join("a.txt");
        std::fs::write(&article, "Belarus supports X. Terror is a threat.").unwrap();
        let doc = json!({"id": "a", "origin": article, "format": "text", "url": null, "title": null, "published": null, "dateline": null,
            "sentences": [{"text": "Belarus supports X.", "start": 0, "end": 19, "paragraph": 0, "speaker": null, "quoted": false},
                          {"text": "Terror is a threat.", "start": 20, "end": 39, "paragraph": 0, "speaker": null, "quoted": false}]});
        let actor = json!({"text": "Belarus", "canonical": "Belarus", "start": 0, "end": 7});
        let claims = [
            json!({"doc": "a", "type": "stance", "start": 0, "end": 19, "actor": actor, "target": null, "polarity": "support", "categories": []}),
            json!({"doc": "a", "type": "proposal", "start": 20, "end": 39, "actor": null, "target": null, "polarity": null, "categories": []}),
        ];
        std::fs::write(dir.path().join("documents.jsonl"), format!("{doc}\n")).unwrap();
        std::fs::write(dir.path().join("claims.jsonl"), claims.iter().map(|c| format!("{c}\n")).collect::<String>()).unwrap();
        let gold = dir.path().join("gold.jsonl");
        let lines = [
            json!({"doc": "a", "type": "stance", "sentence": "Belarus supports X.", "actor": "Belarus", "polarity": "support"}),
            json!({"doc": "a", "type": "threat", "sentence": "Terror is a threat.", "actor": null, "categories": ["terrorism"]}),
        ];
        std::fs::write(&gold, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();

        let w = write(dir.path(), Some(&gold), None).unwrap();
        let html = std::fs::read_to_string(&w.path).unwrap();
        let start = html.find(r#"id="claimex-data">"#).unwrap() + r#"id="claimex-data">"#.len();
        let data: Value = serde_json::from_str(&html[start..start + html[start..].find("</script>").unwrap()]).unwrap();
        assert_eq!(data["claims"][0]["outcome"], "tp");
        assert_eq!(data["claims"][0]["actor"], json!([0, 7]));
        assert_eq!(data["claims"][1]["outcome"], "fp");
        assert_eq!(data["gold"]["misses"], json!([{"doc": 0, "sentence": 1, "line": lines[1]}]));
        let overall = &data["gold"]["report"]["overall"];
        assert_eq!((&overall["tp"], &overall["fp"], &overall["fn"]), (&json!(1), &json!(1), &json!(1)));

        // Without the article, the report says which input is gone.
        std::fs::remove_file(&article).unwrap();
        let err = write(dir.path(), Some(&gold), None).err().unwrap().to_string();
        assert!(err.contains("input of document a is gone"), "{err}");
    }

    #[test]
    fn a_missing_documents_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("claims.jsonl"), "").unwrap();
        let err = write(dir.path(), None, None).err().unwrap().to_string();
        assert!(err.contains("documents.jsonl not found") && err.contains("documents = false"), "{err}");
    }

    #[test]
    fn the_report_replaces_a_link_instead_of_following_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("claims.jsonl"), "").unwrap();
        std::fs::write(dir.path().join("documents.jsonl"), "").unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join("report.html")).unwrap();
        let w = write(dir.path(), None, None).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert!(std::fs::symlink_metadata(&w.path).unwrap().is_file());
        assert_eq!(std::fs::read(&w.path).unwrap().len(), w.bytes);
    }
}

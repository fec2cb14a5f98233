//! Hostile input (issue 6, points 4 and 5): the built binary on one kind of bad input at a time,
//! next to a good sample article. Every case checks that each bad document gets a correct result
//! or a per-document error that names it (on stderr and in manifest.json), that the good sample
//! still has its output, the exit code (1 when a document failed), and the span invariants of
//! every document that was processed: spans in code points, inside the source, and for plain
//! text `source[start:end]` is the text.
// Drives the built binary, which runs the model: needs the libtorch build.
#![cfg(feature = "torch")]

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const GOOD: &str = "samples/articles/004_669cdeb8832351f7.txt";
/// No case may take longer than this (a symlink loop must not hang the run).
const TIMEOUT: Duration = Duration::from_secs(600);

/// What one run left behind.
struct Run {
    code: Option<i32>,
    stderr: String,
    docs: Vec<Value>,
    claims: Vec<Value>,
    manifest: Value,
    seconds: f64,
    /// Peak resident memory of the process (VmHWM), in KiB, when it could be read.
    peak_kib: Option<u64>,
}

impl Run {
    fn errors(&self) -> Vec<&Value> {
        self.manifest["errors"].as_array().map(|a| a.iter().collect()).unwrap_or_default()
    }

    fn doc(&self, id: &str) -> &Value {
        self.docs
            .iter()
            .find(|d| d["id"] == id)
            .unwrap_or_else(|| panic!("no output for document {id:?}; stderr:\n{}", self.stderr))
    }

    fn ids(&self) -> Vec<&str> {
        self.docs.iter().map(|d| d["id"].as_str().unwrap()).collect()
    }

    /// `name` failed at `stage` with a message containing `message`: named on stderr and in the
    /// manifest's errors.
    fn failed(&self, name: &str, stage: &str, message: &str) {
        let e = self
            .errors()
            .into_iter()
            .find(|e| e["doc"].as_str().unwrap().contains(name) && e["message"].as_str().unwrap().contains(message))
            .unwrap_or_else(|| panic!("no error names {name:?} with {message:?}: {:#?}\nstderr:\n{}", self.manifest["errors"], self.stderr));
        assert_eq!(e["stage"], stage, "{e}");
        assert!(
            self.stderr.lines().any(|l| l.contains(name) && l.contains(message)),
            "stderr does not name {name:?} with {message:?}:\n{}",
            self.stderr
        );
        assert!(!self.ids().contains(&name), "{name} failed but has output");
    }

    /// The exit code and the manifest's failure count.
    fn exit(&self, code: i32, failed: usize) {
        assert_eq!(self.code, Some(code), "stderr:\n{}", self.stderr);
        assert_eq!(self.manifest["counts"]["failed"], failed, "errors: {:#?}", self.manifest["errors"]);
        assert_eq!(self.errors().len(), failed);
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
        assert!(!self.stderr.contains("internal error"), "{}", self.stderr);
    }

    /// The good sample has its sentences and claims.
    fn good_is_there(&self) {
        let d = self.doc("good");
        assert!(d["sentences"].as_array().unwrap().len() >= 5, "{d}");
        assert!(self.claims.iter().any(|c| c["doc"] == "good"), "no claims for the good sample");
    }
}

/// Run `claimex run --quiet --out <out> [extra] inputs…` from the crate root, with stderr in a
/// file (no pipe to fill), sampling the process's peak memory until it ends.
fn run(out: &Path, inputs: &[&Path], extra: &[&str]) -> Run {
    fs::create_dir_all(out.parent().unwrap()).unwrap();
    let err_path = out.with_extension("stderr");
    let err_file = fs::File::create(&err_path).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_claimex"));
    cmd.current_dir(ROOT).args(["run", "--quiet", "--out", out.to_str().unwrap()]).args(extra);
    cmd.args(inputs).stdin(Stdio::null()).stdout(Stdio::null()).stderr(err_file);
    let started = Instant::now();
    let mut child = cmd.spawn().expect("claimex runs");
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak_kib = None;
    let status = loop {
        if let Some(kib) = fs::read_to_string(&status_path).ok().and_then(|s| vm_hwm(&s)) {
            peak_kib = Some(kib.max(peak_kib.unwrap_or(0)));
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            panic!("claimex ran over {TIMEOUT:?} on {inputs:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let seconds = started.elapsed().as_secs_f64();
    let stderr = fs::read_to_string(&err_path).unwrap_or_default();
    let manifest = fs::read_to_string(out.join("manifest.json"))
        .map(|s| serde_json::from_str(&s).unwrap())
        .unwrap_or_else(|e| panic!("no manifest ({e}); exit {status}; stderr:\n{stderr}"));
    let r = Run {
        code: status.code(),
        docs: jsonl(&out.join("documents.jsonl")),
        claims: jsonl(&out.join("claims.jsonl")),
        stderr,
        manifest,
        seconds,
        peak_kib,
    };
    check_spans(&r);
    r
}

fn vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn jsonl(path: &Path) -> Vec<Value> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The text a document was read from, decoded as the README says (BOM dropped).
fn source_of(origin: &str) -> String {
    let path = Path::new(origin);
    if path.is_file() {
        return decode(&fs::read(path).unwrap());
    }
    // A JSONL record: "path:line".
    let (file, line) = origin.rsplit_once(':').expect("origin path:line");
    let line: usize = line.parse().unwrap();
    // Other lines of the file may be anything (that is what some cases test): read it lossily.
    let bytes = fs::read(file).unwrap();
    let text = match bytes.as_slice() {
        [0xFF, 0xFE, ..] | [0xFE, 0xFF, ..] => decode(&bytes),
        _ => String::from_utf8_lossy(&bytes).trim_start_matches('\u{feff}').to_string(),
    };
    let record: Value = serde_json::from_str(text.lines().nth(line - 1).unwrap()).unwrap();
    record["text"].as_str().unwrap().to_string()
}

fn decode(bytes: &[u8]) -> String {
    let utf16 = |rest: &[u8], f: fn([u8; 2]) -> u16| {
        String::from_utf16(&rest.chunks_exact(2).map(|c| f([c[0], c[1]])).collect::<Vec<_>>()).unwrap()
    };
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8(rest.to_vec()).unwrap(),
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        _ => String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

/// Code points start..end, as Python's text[start:end]; the span must be inside the text.
fn cut(text: &[char], v: &Value, what: &str) -> String {
    let (s, e) = (v["start"].as_u64().unwrap() as usize, v["end"].as_u64().unwrap() as usize);
    assert!(s <= e && e <= text.len(), "{what} span {s}..{e} outside the source ({} code points): {v}", text.len());
    text[s..e].iter().collect()
}

/// Span invariants of every processed document and claim.
fn check_spans(r: &Run) {
    let mut sources = std::collections::HashMap::new();
    for d in &r.docs {
        let source = source_of(d["origin"].as_str().unwrap());
        let chars: Vec<char> = source.chars().collect();
        // HTML spans cover the markup of their text; plain-text spans are their text.
        let plain = d["format"] != "html" && !source.trim_start().to_ascii_lowercase().starts_with("<!doctype")
            && !source.trim_start().to_ascii_lowercase().starts_with("<html");
        if let Some(t) = d["title"].as_object() {
            assert_eq!(cut(&chars, &d["title"], "title"), t["text"].as_str().unwrap());
        }
        if !d["dateline"].is_null() {
            cut(&chars, &d["dateline"]["span"], "dateline");
        }
        let sentences = d["sentences"].as_array().unwrap();
        for s in sentences {
            let text = cut(&chars, s, "sentence");
            assert!(!s["text"].as_str().unwrap().is_empty());
            if plain {
                assert_eq!(text, s["text"].as_str().unwrap(), "sentence of {}", d["id"]);
            }
            if !s["speaker"].is_null() {
                let cue = cut(&chars, &s["speaker"]["span"], "speaker");
                if plain {
                    assert_eq!(cue, s["speaker"]["text"].as_str().unwrap());
                }
            }
        }
        for e in d["entities"].as_array().unwrap() {
            let text = cut(&chars, e, "entity");
            assert!((e["sentence"].as_u64().unwrap() as usize) < sentences.len(), "{e}");
            if plain {
                assert_eq!(text, e["text"].as_str().unwrap(), "entity of {}", d["id"]);
            }
        }
        sources.insert(d["id"].as_str().unwrap().to_string(), (chars, plain));
    }
    for c in &r.claims {
        let (chars, plain) = &sources[c["doc"].as_str().unwrap()];
        let sentence = cut(chars, c, "claim");
        if *plain {
            assert_eq!(sentence, c["sentence"].as_str().unwrap(), "{c}");
        }
    }
}

/// A temporary folder with the good sample in `in/good.txt`.
struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("in")).unwrap();
        fs::copy(Path::new(ROOT).join(GOOD), dir.path().join("in/good.txt")).unwrap();
        Case { dir }
    }

    fn input(&self) -> PathBuf {
        self.dir.path().join("in")
    }

    fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.input().join(name);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, bytes).unwrap();
        p
    }

    fn out(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, extra: &[&str]) -> Run {
        run(&self.out("out"), &[&self.input()], extra)
    }

    /// A copy of pipeline.toml with absolute model paths and `max_document_bytes = max`.
    fn config(&self, max: u64) -> PathBuf {
        let shipped = fs::read_to_string(Path::new(ROOT).join("pipeline.toml")).unwrap();
        let mut text = String::new();
        for line in shipped.lines() {
            let key = line.split('=').next().unwrap().trim();
            let value = line.split('=').nth(1).map(|v| v.split('#').next().unwrap().trim().trim_matches('"'));
            match (key, value) {
                ("max_document_bytes", _) => text.push_str(&format!("max_document_bytes = {max}\n")),
                ("tokenizer" | "model" | "gazetteer", Some(v)) => {
                    text.push_str(&format!("{key} = \"{ROOT}/{v}\"\n"))
                }
                _ => {
                    text.push_str(line);
                    text.push('\n');
                }
            }
        }
        let path = self.dir.path().join("pipeline.toml");
        fs::write(&path, text).unwrap();
        path
    }
}

fn utf16(text: &str, little: bool) -> Vec<u8> {
    let mut out = if little { vec![0xFF, 0xFE] } else { vec![0xFE, 0xFF] };
    for u in text.encode_utf16() {
        out.extend_from_slice(&if little { u.to_le_bytes() } else { u.to_be_bytes() });
    }
    out
}

fn sentences(d: &Value) -> Vec<&str> {
    d["sentences"].as_array().unwrap().iter().map(|s| s["text"].as_str().unwrap()).collect()
}

/// Writes `lines` lines of `line_bytes` bytes each (no newline when `lines` is 1) quickly.
fn big_file(path: &Path, head: &[u8], total: usize, tail: &[u8]) {
    let mut f = std::io::BufWriter::new(fs::File::create(path).unwrap());
    f.write_all(head).unwrap();
    let chunk = "word ".repeat(1 << 18).into_bytes(); // 1.25 MiB
    let mut left = total;
    while left > 0 {
        let n = left.min(chunk.len());
        f.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    f.write_all(tail).unwrap();
}

#[test]
fn empty_files() {
    let c = Case::new();
    c.write("empty.txt", "");
    c.write("blank.txt", " \n\t\r\n  \n");
    c.write("bom_only.txt", [0xEF, 0xBB, 0xBF]);
    c.write("empty.html", "<!doctype html><html><head></head><body>  </body></html>");
    c.write("nothing.jsonl", ""); // no records: nothing to do, no error
    c.write("empty_record.jsonl", "{\"id\": \"blank-record\", \"text\": \"  \"}\n");
    let r = c.run(&[]);
    r.exit(1, 5);
    r.failed("empty", "ingest", "empty document");
    r.failed("blank", "ingest", "empty document");
    r.failed("bom_only", "ingest", "empty document");
    r.failed("empty", "ingest", "no visible text in the HTML");
    r.failed("blank-record", "ingest", "empty document");
    assert_eq!(r.ids(), ["good"]);
    r.good_is_there();
}

#[test]
fn binary_files() {
    let c = Case::new();
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend((0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8));
    c.write("image.txt", &png);
    c.write("program", b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0");
    // High bytes with no NUL: refused as invalid UTF-8.
    c.write("noise.txt", (0..2048u32).map(|i| 0x80 | (i.wrapping_mul(7919) as u8)).collect::<Vec<u8>>());
    // Control characters without NUL.
    c.write("controls.txt", (0..2048u32).map(|i| [1u8, 2, 3, 4, b'a', 0x1b][i as usize % 6]).collect::<Vec<u8>>());
    // Not a document extension: skipped inside a folder; named explicitly it is read (and refused).
    c.write("photo.png", &png);
    let explicit = c.dir.path().join("named.png");
    fs::write(&explicit, &png).unwrap();
    let r = run(&c.out("out"), &[&c.input(), &explicit], &[]);
    r.exit(1, 5);
    r.failed("image", "ingest", "looks binary (NUL byte at byte 8)");
    r.failed("program", "ingest", "looks binary (NUL byte");
    r.failed("noise", "ingest", "not valid UTF-8 at byte 0");
    r.failed("controls", "ingest", "looks binary (");
    r.failed("named", "ingest", "looks binary");
    assert!(!r.stderr.contains("photo"), "photo.png should be skipped inside a folder");
    assert_eq!(r.ids(), ["good"]);
    r.good_is_there();
}

#[test]
fn invalid_utf8() {
    let c = Case::new();
    c.write("latin1.txt", b"Caf\xe9 au lait is a threat to nobody.");
    let mut cp1251 = b"Belarus and Russia held talks. ".to_vec();
    cp1251.extend_from_slice(b"\xcf\xf0\xe5\xe7\xe8\xe4\xe5\xed\xf2 \xf1\xea\xe0\xe7\xe0\xeb.");
    c.write("cp1251.txt", &cp1251);
    let mut truncated = "Minsk hosted the summit – ".as_bytes().to_vec();
    truncated.push(0xE2); // the first byte of a three-byte sequence, then the end
    c.write("truncated.txt", &truncated);
    c.write("overlong.html", b"<p>Overlong \xc0\xaf slash.</p>");
    c.write("bad.jsonl", b"{\"id\": \"fine\", \"text\": \"Belarus proposed new talks on security.\"}\n{\"id\": \"bad\", \"text\": \"Caf\xe9\"}\n");
    let r = c.run(&[]);
    r.exit(1, 5);
    r.failed("latin1", "ingest", "not valid UTF-8 at byte 3");
    r.failed("cp1251", "ingest", "not valid UTF-8 at byte 31");
    r.failed("truncated", "ingest", &format!("not valid UTF-8 at byte {}", truncated.len() - 1));
    r.failed("overlong", "ingest", "not valid UTF-8 at byte 12");
    r.failed("bad.jsonl:2", "read", "not valid UTF-8");
    assert_eq!(r.ids(), ["fine", "good"]);
    r.good_is_there();
}

#[test]
fn utf16_with_bom_le_and_be() {
    let c = Case::new();
    let text = "Talks in Minsk went well\n\nMINSK, 3 April (BelTA) – Президент Беларуси встретился с послом. “We agree 😀,” he said. Belarus proposed new talks on regional security.\n";
    c.write("plain8.txt", text);
    c.write("le.txt", utf16(text, true));
    c.write("be.txt", utf16(text, false));
    let html = "<!doctype html><html><head><title>Talks in Minsk went well</title></head><body><p>Belarus &amp; China proposed new talks on security.</p></body></html>";
    c.write("le_page.html", utf16(html, true));
    c.write("be_page.html", utf16(html, false));
    // JSONL saved as UTF-16 (Windows PowerShell's default): read line by line all the same.
    c.write("feed16.jsonl", utf16("{\"id\": \"rec16\", \"text\": \"Мир – Belarus proposed new talks on security.\"}\r\n", true));
    let mut odd = utf16(text, true);
    odd.pop();
    c.write("odd.txt", odd);
    let mut lone = utf16("Belarus proposed talks.", false);
    lone.extend_from_slice(&[0xD8, 0x00]);
    c.write("lone.txt", lone);
    let r = c.run(&[]);
    r.exit(1, 2);
    r.failed("odd", "ingest", "odd number of bytes");
    r.failed("lone", "ingest", "not valid UTF-16 at byte 48");
    let reference = r.doc("plain8");
    assert!(sentences(reference).contains(&"“We agree 😀,” he said."), "{reference}");
    for id in ["le", "be"] {
        let d = r.doc(id);
        assert_eq!(d["sentences"], reference["sentences"], "{id}");
        assert_eq!(d["entities"], reference["entities"], "{id}");
        assert_eq!(d["title"], reference["title"], "{id}");
        assert_eq!(d["dateline"], reference["dateline"], "{id}");
    }
    assert_eq!(r.doc("le")["sentences"], r.doc("be")["sentences"]);
    for id in ["le_page", "be_page"] {
        assert_eq!(sentences(r.doc(id)).last(), Some(&"Belarus & China proposed new talks on security."));
        assert_eq!(r.doc(id)["title"]["text"], "Talks in Minsk went well");
    }
    assert_eq!(r.doc("le_page")["sentences"], r.doc("be_page")["sentences"]);
    assert_eq!(sentences(r.doc("rec16")), ["Мир – Belarus proposed new talks on security."]);
    r.good_is_there();
}

#[test]
fn nul_bytes_inside_text() {
    let c = Case::new();
    c.write("nul.txt", b"The ministers met in Minsk.\0 They talked about trade.\n");
    c.write("nul_end.txt", b"The ministers met in Minsk. They talked about trade.\n\0\0\0\0");
    c.write("nul.html", b"<p>The ministers met in Minsk.</p>\0");
    // JSON-escaped NUL inside a record's text: that record fails, the next one does not.
    c.write("escaped.jsonl", "{\"id\": \"esc\", \"text\": \"Belarus\\u0000 proposed talks.\"}\n{\"id\": \"after-esc\", \"text\": \"Belarus proposed new talks on security.\"}\n");
    // A raw NUL in a JSONL file: the file is not JSONL; one error, not one per line.
    let mut raw = b"{\"id\": \"before-nul\", \"text\": \"Belarus proposed new talks on security.\"}\n".to_vec();
    for _ in 0..1000 {
        raw.extend_from_slice(b"\0\0binary\n");
    }
    c.write("raw.jsonl", raw);
    let r = c.run(&[]);
    r.exit(1, 5);
    r.failed("nul", "ingest", "looks binary (NUL byte at byte 27)");
    r.failed("nul_end", "ingest", "looks binary (NUL byte at byte 53)");
    r.failed("nul", "ingest", "looks binary (NUL byte at byte 34)");
    r.failed("esc", "ingest", "looks binary (NUL byte at byte 7)");
    r.failed("raw.jsonl:2", "read", "looks binary");
    assert_eq!(r.ids(), ["after-esc", "good", "before-nul"]);
    r.good_is_there();
}

#[test]
fn over_size_documents_are_refused_without_reading_them() {
    const HUNDRED_MB: usize = 100 * 1024 * 1024;
    let c = Case::new();
    let config = c.config(1_000_000);
    // Baseline: the good sample alone, same settings, for peak memory.
    let base = run(&c.out("base"), &[&c.input().join("good.txt")], &["--config", config.to_str().unwrap()]);
    base.exit(0, 0);

    // A real 100 MB one-line file, a sparse one, and a 100 MB JSONL line between two records.
    big_file(&c.input().join("huge.txt"), b"", HUNDRED_MB, b"");
    fs::File::create(c.input().join("sparse.txt")).unwrap().set_len(HUNDRED_MB as u64).unwrap();
    big_file(
        &c.input().join("feed.jsonl"),
        b"{\"id\": \"first\", \"text\": \"Belarus proposed new talks on security.\"}\n{\"id\": \"huge-record\", \"text\": \"",
        HUNDRED_MB,
        b"\"}\n{\"id\": \"third\", \"text\": \"China opposed the sanctions.\"}\n",
    );
    // Just over the configured limit.
    big_file(&c.input().join("limit.txt"), b"", 1_000_001, b"");
    let r = run(&c.out("out"), &[&c.input()], &["--config", config.to_str().unwrap()]);
    r.exit(1, 4);
    r.failed("huge.txt", "read", &format!("file is {HUNDRED_MB} bytes, over the limit of 1000000 bytes"));
    r.failed("sparse.txt", "read", "over the limit of 1000000 bytes");
    r.failed("limit.txt", "read", "file is 1000001 bytes, over the limit");
    r.failed("feed.jsonl:2", "read", "line is over the limit of 1000000 bytes");
    assert_eq!(r.ids(), ["first", "third", "good"]);
    r.good_is_there();
    let (peak, base_peak) = (r.peak_kib.unwrap_or(0), base.peak_kib.unwrap_or(0));
    eprintln!("peak memory: {} MiB with the 100 MB inputs, {} MiB without ({:.1}s)", peak / 1024, base_peak / 1024, r.seconds);
    if peak > 0 && base_peak > 0 {
        assert!(peak < base_peak + 50 * 1024, "peak {peak} KiB vs {base_peak} KiB: the big inputs were buffered");
    }

    // The shipped limit (20 MiB) refuses the 100 MB files too.
    let r = run(&c.out("default"), &[&c.input().join("huge.txt"), &c.input().join("good.txt")], &[]);
    r.exit(1, 1);
    r.failed("huge.txt", "read", "over the limit of 20971520 bytes");
    r.good_is_there();
}

#[test]
fn ten_thousand_tiny_files() {
    let c = Case::new();
    let dir = c.input().join("many");
    fs::create_dir(&dir).unwrap();
    for i in 0..10_000 {
        fs::write(dir.join(format!("doc{i:05}.txt")), format!("Belarus and China signed agreement number {i} in Minsk.\n")).unwrap();
    }
    let r = c.run(&["--threads", "2"]);
    eprintln!(
        "10,000 tiny files: {:.1}s wall, timings {}",
        r.seconds, r.manifest["timings"]
    );
    r.exit(0, 0);
    assert_eq!(r.docs.len(), 10_001);
    assert_eq!(r.manifest["counts"]["documents"], 10_001);
    assert_eq!(r.ids()[..2], ["good", "doc00000"]);
    assert_eq!(r.ids()[10_000], "doc09999");
    assert_eq!(sentences(r.doc("doc04321")), ["Belarus and China signed agreement number 4321 in Minsk."]);
    r.good_is_there();
}

#[test]
fn deeply_nested_and_broken_html() {
    let c = Case::new();
    let depth = 100_000;
    c.write("deep.html", format!("<html><body>{}<p>Deep text: Belarus proposed new talks on security.</p>{}</body></html>", "<div>".repeat(depth), "</div>".repeat(depth)));
    c.write("deep_unclosed.html", format!("<html><body>{}<p>Unclosed text: China opposed the sanctions.", "<span><b><i>".repeat(depth)));
    c.write(
        "broken.html",
        "<html><head><title>Broken page about talks</title><meta content=\"x\"><body>\n<p>First: Belarus proposed new talks on security.\n<p class='a>Stray < and > and &bogus; &#xZZ; &#99999999; &#0; &amp &#x1F600; here.</p></div></div></span>\n<div <p>Second: Russia opposed the plan.</p>\n<a href=\"unterminated>link text</a>\n<!-- a comment that never ends <p>hidden</p>",
    );
    c.write("nav_unclosed.html", "<!doctype html><html><body><nav><p>Belarus proposed new talks on security.</p><p>China opposed the sanctions.</p></body></html>");
    c.write("script_unclosed.html", "<!doctype html><html><body><p>Visible: Belarus proposed talks.</p><script>var s = '<p>not text</p>';");
    c.write("only_script.html", "<!doctype html><html><head><script>document.write('<p>x</p>')</script><style>p{}</style></head><body></body></html>");
    c.write("tags_only.htm", "<".repeat(10_000) + &">".repeat(10_000));
    let r = c.run(&[]);
    r.exit(1, 1);
    r.failed("only_script", "ingest", "no visible text in the HTML");
    assert!(sentences(r.doc("deep")).contains(&"Deep text: Belarus proposed new talks on security."));
    assert!(sentences(r.doc("deep_unclosed")).contains(&"Unclosed text: China opposed the sanctions."));
    let broken = sentences(r.doc("broken")).join(" | ");
    assert!(broken.contains("First: Belarus proposed new talks on security."), "{broken}");
    assert!(!broken.contains("hidden"), "{broken}");
    assert!(sentences(r.doc("nav_unclosed")).contains(&"China opposed the sanctions."));
    let script = sentences(r.doc("script_unclosed")).join(" | ");
    assert!(script.contains("Visible") && !script.contains("not text"), "{script}");
    for d in &r.docs {
        assert!(d["format"] == "html" || d["id"] == "good", "{}", d["id"]);
    }
    r.good_is_there();
}

#[test]
fn non_english_text() {
    let c = Case::new();
    c.write("ru.txt", "Лукашенко провёл переговоры с Си Цзиньпином в Минске\n\nМИНСК, 3 апреля (БелТА) – Президент Беларуси заявил: «Мы готовы к сотрудничеству». Стороны подписали соглашение о безопасности. «Это важный шаг», – сказал он.\n");
    c.write("zh.txt", "中国外交部发言人表示，中方坚决反对单边制裁。上海合作组织峰会在比什凯克举行！各方同意加强安全合作？\n\n“我们支持对话，”他说。\n");
    c.write("mixed.txt", "Talks on security in Minsk and Beijing\n\nThe minister said: “مرحبا بكم” and «नमस्ते» – e\u{301}te\u{301} 😀👍🏽 were the words. Belarus and China signed a deal in Minsk.\n");
    let r = c.run(&[]);
    r.exit(0, 0);
    let ru = sentences(r.doc("ru"));
    assert!(ru.contains(&"Стороны подписали соглашение о безопасности."), "{ru:?}");
    let zh = sentences(r.doc("zh"));
    assert_eq!(zh[..3], ["中国外交部发言人表示，中方坚决反对单边制裁。", "上海合作组织峰会在比什凯克举行！", "各方同意加强安全合作？"], "{zh:?}");
    assert!(sentences(r.doc("mixed")).contains(&"Belarus and China signed a deal in Minsk."));
    r.good_is_there();
}

#[test]
fn paths_with_spaces_and_non_ascii_names() {
    let c = Case::new();
    c.write("статья 1.txt", "Belarus and China signed an agreement in Minsk. The sides pledged cooperation.\n");
    c.write("my folder/my file.html", "<html><body><p>Russia proposed talks with Ukraine. NATO opposed the plan.</p></body></html>");
    c.write("中文 文件/新闻 2.txt", "Belarus proposed new talks on regional security.\n");
    let explicit = c.dir.path().join("named with spaces é.txt");
    fs::write(&explicit, "China opposed the sanctions against Belarus.\n").unwrap();
    let out = c.dir.path().join("out dir with spaces/выход");
    let r = run(&out, &[&c.input(), &explicit], &[]);
    r.exit(0, 0);
    assert_eq!(r.ids(), ["good", "my file", "статья 1", "新闻 2", "named with spaces é"]);
    assert_eq!(r.doc("статья 1")["origin"], c.input().join("статья 1.txt").to_str().unwrap());
    assert_eq!(r.doc("my file")["origin"], c.input().join("my folder/my file.html").to_str().unwrap());
    assert_eq!(sentences(r.doc("my file")), ["Russia proposed talks with Ukraine.", "NATO opposed the plan."]);
    r.good_is_there();
}

#[test]
fn unreadable_files() {
    use std::os::unix::fs::PermissionsExt;
    let c = Case::new();
    let file = c.write("locked.txt", "Belarus proposed new talks on security.\n");
    let dir = c.input().join("locked_dir");
    c.write("locked_dir/inside.txt", "China opposed the sanctions.\n");
    fs::set_permissions(&file, fs::Permissions::from_mode(0o000)).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o000)).unwrap();
    // As root (or with CAP_DAC_OVERRIDE) mode 000 does not stop reads: then both are processed.
    let enforced = fs::read(&file).is_err();
    let r = c.run(&[]);
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
    if enforced {
        r.exit(1, 2);
        r.failed("locked.txt", "read", "cannot read");
        r.failed("locked_dir", "read", "cannot list folder");
        assert_eq!(r.ids(), ["good"]);
    } else {
        eprintln!("mode 000 does not stop reads here (root?): checking that both are processed");
        r.exit(0, 0);
        assert_eq!(r.ids(), ["good", "locked", "inside"]);
    }
    r.good_is_there();
}

#[test]
fn symlink_loops() {
    let c = Case::new();
    c.write("sub/a.txt", "Belarus proposed new talks on security.\n");
    // A folder link to its parent, a link to the top, and a link to itself.
    std::os::unix::fs::symlink("..", c.input().join("sub/up")).unwrap();
    std::os::unix::fs::symlink(c.input(), c.input().join("sub/top")).unwrap();
    std::os::unix::fs::symlink("self", c.input().join("self")).unwrap();
    let r = c.run(&[]);
    r.exit(1, 3);
    r.failed("sub/up", "read", "already visited");
    r.failed("sub/top", "read", "already visited");
    r.failed("self", "read", "cannot follow link");
    // Every real file once.
    assert_eq!(r.ids(), ["good", "a"]);
    r.good_is_there();
    assert!(r.seconds < 120.0);
}

//! Expand input paths into raw documents, lazily: folders are walked depth-first in sorted
//! order, one directory listing at a time (hidden entries skipped, each folder visited once, so
//! symlink loops end); JSONL files are read one line at a time (UTF-8, or UTF-16 with a BOM,
//! transcoded as read). Problems (missing path, unreadable file, symlink loop, over-size file,
//! bad JSONL line, binary JSONL file) come out as `Err(DocError { stage: "read", .. })` items
//! naming the path (and line); iteration goes on.
//!
//! Memory is bounded by the size limit: a file's size is taken from its metadata before it is
//! opened, and never more than limit + 1 bytes are read; an over-long JSONL line is read up to
//! limit + 1 bytes and the rest of it skipped in 1 MiB pieces.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use super::{IngestConfig, RawDocument};
use crate::document::{DocError, Format};

/// Extensions of files picked up inside folders (files named explicitly are always read).
const FOLDER_EXTENSIONS: &[&str] = &["txt", "text", "md", "html", "htm", "xhtml", "jsonl"];

/// Expand `inputs` (files, folders, JSONL files) into raw documents.
pub fn read_inputs(
    inputs: &[PathBuf],
    cfg: &IngestConfig,
) -> impl Iterator<Item = Result<RawDocument, DocError>> {
    Inputs {
        stack: inputs.iter().rev().cloned().collect(),
        cfg: cfg.clone(),
        visited: HashSet::new(),
        jsonl: None,
    }
}

/// The documents of a JSONL stream (standard input in `claimex run -`), read as they come: one
/// record at a time, so memory stays bounded however long the stream. Records are named
/// `<stdin>:LINE` in errors.
pub fn read_stream(
    input: impl Read + Send + 'static,
    cfg: &IngestConfig,
) -> impl Iterator<Item = Result<RawDocument, DocError>> {
    let path = PathBuf::from("<stdin>");
    let (jsonl, failed) = match jsonl_reader(input) {
        Ok(reader) => (Some(Jsonl { path, reader, line: 0 }), None),
        Err(e) => (None, Some(Err(err("<stdin>", format!("cannot read: {e}"))))),
    };
    let inputs = Inputs { stack: Vec::new(), cfg: cfg.clone(), visited: HashSet::new(), jsonl };
    failed.into_iter().chain(inputs)
}

struct Jsonl {
    path: PathBuf,
    /// UTF-8 bytes of the file (UTF-16 files are transcoded on the fly).
    reader: Box<dyn BufRead + Send>,
    line: usize,
}

struct Inputs {
    stack: Vec<PathBuf>,
    cfg: IngestConfig,
    visited: HashSet<PathBuf>,
    jsonl: Option<Jsonl>,
}

fn err(doc: impl Into<String>, message: impl Into<String>) -> DocError {
    DocError::new(doc, "read", message)
}

fn show(p: &Path) -> String {
    p.display().to_string()
}

/// Whether a folder entry is read: hidden entries (".git", ".notes.txt") never are; folders
/// always are; files when their extension is a document's (or they have none).
fn wanted_in_folder(p: &Path, is_dir: bool) -> bool {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    if name.starts_with('.') {
        return false;
    }
    if is_dir {
        return true;
    }
    match p.extension() {
        None => true,
        Some(e) => FOLDER_EXTENSIONS.contains(&e.to_string_lossy().to_lowercase().as_str()),
    }
}

impl Iterator for Inputs {
    type Item = Result<RawDocument, DocError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(j) = self.jsonl.as_mut() {
                match next_record(j, self.cfg.max_bytes) {
                    Some(Ok(r)) => return Some(Ok(r)),
                    Some(Err((e, fatal))) => {
                        if fatal {
                            self.jsonl = None;
                        }
                        return Some(Err(e));
                    }
                    None => self.jsonl = None,
                }
                continue;
            }
            let path = self.stack.pop()?;
            let meta = match fs::metadata(&path) {
                Ok(m) => m,
                Err(e) => {
                    let what = if fs::symlink_metadata(&path).is_ok() {
                        "cannot follow link"
                    } else {
                        "cannot read"
                    };
                    return Some(Err(err(show(&path), format!("{what}: {e}"))));
                }
            };
            if meta.is_dir() {
                let canon = fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
                if !self.visited.insert(canon) {
                    return Some(Err(err(
                        show(&path),
                        "directory already visited (symlink loop?)",
                    )));
                }
                let entries = match fs::read_dir(&path) {
                    Ok(rd) => rd,
                    Err(e) => {
                        return Some(Err(err(show(&path), format!("cannot list folder: {e}"))))
                    }
                };
                let mut children: Vec<PathBuf> = Vec::new();
                let mut failed: Option<DocError> = None;
                for entry in entries {
                    match entry {
                        Ok(en) => {
                            let p = en.path();
                            let is_dir = fs::metadata(&p).map(|m| m.is_dir()).unwrap_or(false);
                            if wanted_in_folder(&p, is_dir) {
                                children.push(p);
                            }
                        }
                        Err(e) => {
                            failed = Some(err(show(&path), format!("cannot list folder: {e}")))
                        }
                    }
                }
                children.sort();
                self.stack.extend(children.into_iter().rev());
                if let Some(e) = failed {
                    return Some(Err(e));
                }
                continue;
            }
            if !meta.is_file() {
                return Some(Err(err(show(&path), "not a regular file")));
            }
            let ext = path
                .extension()
                .map(|e| e.to_string_lossy().to_lowercase())
                .unwrap_or_default();
            if ext == "jsonl" {
                match File::open(&path).and_then(jsonl_reader) {
                    Ok(reader) => {
                        self.jsonl = Some(Jsonl {
                            path,
                            reader,
                            line: 0,
                        })
                    }
                    Err(e) => return Some(Err(err(show(&path), format!("cannot read: {e}")))),
                }
                continue;
            }
            return Some(read_file(&path, meta.len(), self.cfg.max_bytes, &ext));
        }
    }
}

fn too_big(len: u64, max: u64) -> String {
    format!("file is {len} bytes, over the limit of {max} bytes")
}

fn read_file(path: &Path, len: u64, max: u64, ext: &str) -> Result<RawDocument, DocError> {
    if len > max {
        return Err(err(show(path), too_big(len, max)));
    }
    // The size comes from the metadata, so an over-size file is never read; a file that grows
    // meanwhile is read only up to one byte over the limit.
    let mut bytes = Vec::with_capacity(len.min(64 << 20) as usize + 1);
    let f = File::open(path).map_err(|e| err(show(path), format!("cannot read: {e}")))?;
    f.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| err(show(path), format!("cannot read: {e}")))?;
    if bytes.len() as u64 > max {
        return Err(err(show(path), too_big(bytes.len() as u64, max)));
    }
    let format = if matches!(ext, "html" | "htm" | "xhtml") || sniff_html(&bytes) {
        Format::Html
    } else {
        Format::Text
    };
    let id = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| show(path));
    Ok(RawDocument {
        id,
        origin: show(path),
        format,
        bytes,
        title: None,
        url: None,
        published: None,
    })
}

/// Whether the bytes start (after a UTF-8 BOM and whitespace) with `<!doctype` or `<html`.
fn sniff_html(bytes: &[u8]) -> bool {
    let b = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let head: Vec<u8> = b[start..]
        .iter()
        .take(9)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    head.starts_with(b"<!doctype") || head.starts_with(b"<html")
}

/// The next record of a JSONL file; `Err((e, fatal))` where fatal means the file cannot go on.
fn next_record(j: &mut Jsonl, max: u64) -> Option<Result<RawDocument, (DocError, bool)>> {
    loop {
        let mut buf = Vec::new();
        let n = match j.reader.by_ref().take(max + 1).read_until(b'\n', &mut buf) {
            Ok(n) => n,
            Err(e) => {
                return Some(Err((
                    err(
                        format!("{}:{}", show(&j.path), j.line + 1),
                        format!("cannot read: {e}"),
                    ),
                    true,
                )))
            }
        };
        if n == 0 {
            return None;
        }
        j.line += 1;
        let at = format!("{}:{}", show(&j.path), j.line);
        if j.line == 1 {
            if let Some(rest) = buf.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
                buf = rest.to_vec();
            }
        }
        if let Some(k) = buf.iter().position(|&b| b == 0) {
            // Not a JSONL file at all: one error for the file, not one per "line".
            return Some(Err((
                err(
                    at,
                    format!("looks binary (NUL byte at byte {k} of the line); the rest of the file is skipped"),
                ),
                true,
            )));
        }
        if !buf.ends_with(b"\n") && buf.len() as u64 > max {
            // Skip the rest of the over-long line.
            loop {
                let mut rest = Vec::new();
                match j.reader.by_ref().take(1 << 20).read_until(b'\n', &mut rest) {
                    Ok(0) => break,
                    Ok(_) if rest.ends_with(b"\n") => break,
                    Ok(_) => continue,
                    Err(_) => break,
                }
            }
            return Some(Err((
                err(at, format!("line is over the limit of {max} bytes")),
                false,
            )));
        }
        let line = match std::str::from_utf8(&buf) {
            Ok(s) => s.trim(),
            Err(e) => {
                return Some(Err((
                    err(at, format!("not valid UTF-8 at byte {}", e.valid_up_to())),
                    false,
                )))
            }
        };
        if line.is_empty() {
            continue;
        }
        return Some(parse_record(line, &at).map_err(|m| (err(at.clone(), m), false)));
    }
}

/// A JSONL file as UTF-8 bytes: a UTF-16 file (with its BOM) is transcoded as it is read.
fn jsonl_reader(f: impl Read + Send + 'static) -> std::io::Result<Box<dyn BufRead + Send>> {
    let mut r = BufReader::new(f);
    let head = r.fill_buf()?;
    let little = match head {
        [0xFF, 0xFE, ..] => true,
        [0xFE, 0xFF, ..] => false,
        _ => return Ok(Box::new(r)),
    };
    r.consume(2);
    Ok(Box::new(BufReader::new(Utf16Reader {
        inner: r,
        little,
        out: Vec::new(),
        pos: 0,
        pending: None,
        failed: None,
        offset: 2,
    })))
}

/// Reads UTF-16 (LE or BE, BOM already consumed) as UTF-8, in bounded pieces.
struct Utf16Reader<R> {
    inner: R,
    little: bool,
    /// UTF-8 produced and not yet handed out (`out[pos..]`).
    out: Vec<u8>,
    pos: usize,
    /// A high surrogate waiting for its pair.
    pending: Option<u16>,
    /// An error found after some text was decoded: reported once that text is read.
    failed: Option<std::io::Error>,
    /// Byte offset in the file of the next code unit, for errors.
    offset: u64,
}

impl<R: BufRead> Utf16Reader<R> {
    fn bad(&self, at: u64) -> std::io::Error {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not valid UTF-16 at byte {at}"),
        )
    }

    /// Decode the next chunk of the input into `out`; false at the end of the input.
    fn refill(&mut self) -> std::io::Result<bool> {
        self.out.clear();
        self.pos = 0;
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        match self.decode_some() {
            Ok(more) => Ok(more),
            Err(e) if !self.out.is_empty() => {
                self.failed = Some(e);
                Ok(true)
            }
            Err(e) => Err(e),
        }
    }

    /// Decode input into `out` until it holds something; false at the end of the input.
    fn decode_some(&mut self) -> std::io::Result<bool> {
        while self.out.is_empty() {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                if self.pending.is_some() {
                    return Err(self.bad(self.offset - 2));
                }
                return Ok(false);
            }
            if buf.len() < 2 {
                // One byte: take it with the next read, or it is a dangling odd byte.
                let first = buf[0];
                self.inner.consume(1);
                let mut second = [0u8; 1];
                if self.inner.read(&mut second)? == 0 {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "not valid UTF-16: odd number of bytes",
                    ));
                }
                self.unit([first, second[0]])?;
                continue;
            }
            let n = buf.len() / 2 * 2;
            let units: Vec<[u8; 2]> = buf[..n].chunks_exact(2).map(|c| [c[0], c[1]]).collect();
            self.inner.consume(n);
            for u in units {
                self.unit(u)?;
            }
        }
        Ok(true)
    }

    fn unit(&mut self, b: [u8; 2]) -> std::io::Result<()> {
        let u = if self.little {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        };
        let at = self.offset;
        self.offset += 2;
        let c = match (self.pending.take(), u) {
            (None, 0xD800..=0xDBFF) => {
                self.pending = Some(u);
                return Ok(());
            }
            (Some(h), 0xDC00..=0xDFFF) => {
                char::from_u32(0x10000 + ((h as u32 - 0xD800) << 10) + (u as u32 - 0xDC00))
            }
            (Some(_), _) => return Err(self.bad(at - 2)),
            (None, 0xDC00..=0xDFFF) => return Err(self.bad(at)),
            (None, u) => char::from_u32(u as u32),
        };
        let c = c.ok_or_else(|| self.bad(at))?;
        let mut tmp = [0u8; 4];
        self.out
            .extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
        Ok(())
    }
}

impl<R: BufRead> Read for Utf16Reader<R> {
    fn read(&mut self, dst: &mut [u8]) -> std::io::Result<usize> {
        if self.pos >= self.out.len() && !self.refill()? {
            return Ok(0);
        }
        let n = dst.len().min(self.out.len() - self.pos);
        dst[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn parse_record(line: &str, at: &str) -> Result<RawDocument, String> {
    let v: serde_json::Value = serde_json::from_str(line).map_err(|e| format!("bad JSON: {e}"))?;
    let obj = v.as_object().ok_or("record is not a JSON object")?;
    let id = match obj.get("id") {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(_) => return Err("\"id\" must be a non-empty string".into()),
        None => return Err("record has no \"id\"".into()),
    };
    let text = match obj.get("text") {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(_) => return Err(format!("record {id}: \"text\" must be a string")),
        None => return Err(format!("record {id} has no \"text\"")),
    };
    let opt = |k: &str| obj.get(k).and_then(|v| v.as_str()).map(str::to_string);
    Ok(RawDocument {
        id,
        origin: at.to_string(),
        format: Format::Jsonl,
        bytes: text.into_bytes(),
        title: opt("title"),
        url: opt("url"),
        published: opt("published"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(inputs: &[PathBuf], max: u64) -> Vec<Result<RawDocument, DocError>> {
        read_inputs(inputs, &IngestConfig { max_bytes: max }).collect()
    }

    #[test]
    fn files_folders_jsonl_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir(d.join("sub")).unwrap();
        fs::write(d.join("b.txt"), "Body text.").unwrap();
        fs::write(d.join("a.html"), "<p>x</p>").unwrap();
        fs::write(d.join("sub/c.txt"), "  <!DOCTYPE html><p>y</p>").unwrap();
        fs::write(d.join("sub/big.txt"), "x".repeat(200)).unwrap();
        fs::write(d.join("image.png"), [0u8, 1, 2]).unwrap();
        fs::write(d.join(".hidden.txt"), "no").unwrap();
        fs::write(
            d.join("feed.jsonl"),
            "{\"id\":\"r1\",\"text\":\"One.\",\"url\":\"http://x\",\"published\":\"2020-01-02\"}\n\nnot json\n{\"text\":\"no id\"}\n{\"id\":\"r2\",\"text\":\"Two.\",\"title\":\"T\"}\n",
        )
        .unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(d, d.join("sub/loop")).unwrap();

        let items = collect(&[d.to_path_buf(), d.join("missing.txt")], 90);
        let summary: Vec<String> = items
            .iter()
            .map(|r| match r {
                Ok(doc) => format!("ok {} {:?}", doc.id, doc.format),
                Err(e) => format!("err {} {}", e.stage, e.doc.rsplit('/').next().unwrap()),
            })
            .collect();
        let mut expected = vec![
            "ok a Html",
            "ok b Text",
            "ok r1 Jsonl",
            "err read feed.jsonl:3",
            "err read feed.jsonl:4",
            "ok r2 Jsonl",
            "err read big.txt",
            "ok c Html",
        ];
        if cfg!(unix) {
            expected.push("err read loop");
        }
        expected.push("err read missing.txt");
        assert_eq!(summary, expected);
        let r1 = items[2].as_ref().expect("r1");
        assert_eq!(r1.origin, format!("{}:1", d.join("feed.jsonl").display()));
        assert_eq!(r1.published.as_deref(), Some("2020-01-02"));
        assert_eq!(r1.bytes, b"One.");
        assert!(items[3]
            .as_ref()
            .unwrap_err()
            .message
            .starts_with("bad JSON"));
        assert!(items[6]
            .as_ref()
            .unwrap_err()
            .message
            .contains("over the limit"));
    }

    fn summary(items: &[Result<RawDocument, DocError>]) -> Vec<String> {
        items
            .iter()
            .map(|r| match r {
                Ok(doc) => format!("ok {} {}", doc.id, String::from_utf8_lossy(&doc.bytes)),
                Err(e) => format!("err {} {}", e.doc.rsplit('/').next().unwrap(), e.message),
            })
            .collect()
    }

    use crate::ingest::decode::utf16_with_bom as utf16;

    #[test]
    fn jsonl_in_utf16_and_with_bom() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let text = "{\"id\":\"a\",\"text\":\"Мир 😀\"}\r\n\r\n{\"id\":\"b\",\"text\":\"Two.\"}";
        fs::write(d.join("le.jsonl"), utf16(text, true)).unwrap();
        fs::write(d.join("be.jsonl"), utf16(text, false)).unwrap();
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(text.as_bytes());
        fs::write(d.join("bom.jsonl"), bom).unwrap();
        let items = collect(
            &[d.join("le.jsonl"), d.join("be.jsonl"), d.join("bom.jsonl")],
            1000,
        );
        let ok = ["ok a Мир 😀", "ok b Two."];
        assert_eq!(summary(&items), [ok, ok, ok].concat());
        assert_eq!(
            items[1].as_ref().unwrap().origin,
            format!("{}:3", d.join("le.jsonl").display())
        );

        // Broken UTF-16: a lone low surrogate, an odd byte at the end.
        let mut bad = utf16("{\"id\":\"a\",\"text\":\"x\"}\n", true);
        let at = bad.len();
        bad.extend_from_slice(&[0x00, 0xDC, b'{', 0]);
        fs::write(d.join("bad.jsonl"), &bad).unwrap();
        let mut odd = utf16("{\"id\":\"a\",\"text\":\"x\"}\n{", false);
        odd.push(b'x');
        fs::write(d.join("odd.jsonl"), &odd).unwrap();
        let items = collect(&[d.join("bad.jsonl"), d.join("odd.jsonl")], 1000);
        assert_eq!(
            summary(&items),
            [
                "ok a x".to_string(),
                format!("err bad.jsonl:2 cannot read: not valid UTF-16 at byte {at}"),
                "ok a x".to_string(),
                "err odd.jsonl:2 cannot read: not valid UTF-16: odd number of bytes".to_string(),
            ]
        );
    }

    #[test]
    fn jsonl_limits_and_binary() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let long = format!("{{\"id\":\"long\",\"text\":\"{}\"}}", "x".repeat(3 << 20));
        fs::write(
            d.join("long.jsonl"),
            format!("{{\"id\":\"a\",\"text\":\"A.\"}}\n{long}\n{{\"id\":\"b\",\"text\":\"B.\"}}\n{long}"),
        )
        .unwrap();
        // Exactly at the limit (the newline does not count), and one byte over.
        let at_limit = format!("{{\"id\":\"c\",\"text\":\"{}\"}}", "y".repeat(100));
        let n = at_limit.len() as u64;
        fs::write(d.join("edge.jsonl"), format!("{at_limit}\n{at_limit}z\n")).unwrap();
        let mut binary = b"{\"id\":\"a\",\"text\":\"A.\"}\n".to_vec();
        for _ in 0..100 {
            binary.extend_from_slice(b"\x00\x01garbage\n");
        }
        fs::write(d.join("binary.jsonl"), binary).unwrap();
        let items = collect(&[d.join("long.jsonl"), d.join("binary.jsonl")], 1 << 20);
        assert_eq!(
            summary(&items),
            [
                "ok a A.",
                "err long.jsonl:2 line is over the limit of 1048576 bytes",
                "ok b B.",
                "err long.jsonl:4 line is over the limit of 1048576 bytes",
                "ok a A.",
                "err binary.jsonl:2 looks binary (NUL byte at byte 0 of the line); the rest of the file is skipped",
            ]
        );
        let items = collect(&[d.join("edge.jsonl")], n);
        assert!(items[0].is_ok());
        assert!(items[1]
            .as_ref()
            .unwrap_err()
            .message
            .contains("over the limit"));
        assert_eq!(items.len(), 2);
    }

    #[cfg(unix)]
    #[test]
    fn special_files_and_links() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::write(d.join("a.txt"), "A.").unwrap();
        std::os::unix::fs::symlink("a.txt", d.join("link.txt")).unwrap();
        std::os::unix::fs::symlink("nowhere.txt", d.join("dangling.txt")).unwrap();
        std::os::unix::fs::symlink("self", d.join("self")).unwrap();
        fs::create_dir(d.join("sub")).unwrap();
        std::os::unix::fs::symlink("..", d.join("sub/up")).unwrap();
        // Hidden folders are not walked.
        fs::create_dir(d.join(".git")).unwrap();
        fs::write(d.join(".git/description"), "Unnamed repository.").unwrap();
        let items = collect(&[d.to_path_buf(), "/dev/null".into()], 100);
        let s = summary(&items);
        assert_eq!(s[0], "ok a A.");
        assert!(
            s[1].starts_with("err dangling.txt cannot follow link"),
            "{s:?}"
        );
        assert_eq!(s[2], "ok link A.");
        assert!(s[3].starts_with("err self cannot follow link"), "{s:?}");
        assert_eq!(s[4], "err up directory already visited (symlink loop?)");
        assert_eq!(s[5], "err null not a regular file");
        assert_eq!(s.len(), 6, "{s:?}");
    }

    #[test]
    fn lazy_over_many_files() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..300 {
            fs::write(dir.path().join(format!("{i:04}.txt")), "Text.").unwrap();
        }
        let mut it = read_inputs(&[dir.path().to_path_buf()], &IngestConfig::default());
        assert_eq!(it.next().unwrap().unwrap().id, "0000");
        assert_eq!(it.count(), 299);
    }
}

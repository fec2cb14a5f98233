//! Every kind of line claimex writes validates against docs/schema (JSON Schema 2020-12): claims,
//! documents and the manifest of a folder run with good and failing documents, and a streaming
//! run's tagged lines and error records. The check is scripts/check_schema.py (jsonschema, which
//! `make setup` installs into .venv).
// Drives the built binary, which runs the model: needs the libtorch build.
#![cfg(feature = "torch")]

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn every_output_line_validates_against_the_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    fs::create_dir(&input).unwrap();
    for e in fs::read_dir(Path::new(ROOT).join("samples/articles")).unwrap() {
        let p = e.unwrap().path();
        fs::copy(&p, input.join(p.file_name().unwrap())).unwrap();
    }
    fs::write(input.join("empty.txt"), "").unwrap();
    fs::write(input.join("page.html"), "<html><head><title>Talks</title></head><body><p>MOSCOW (Reuters) - Russia warned NATO against sending troops, the ministry said.</p></body></html>").unwrap();
    let out = dir.path().join("out");
    let run = Command::new(env!("CARGO_BIN_EXE_claimex")).current_dir(ROOT).args(["run", "--quiet", "--out"]).arg(&out).arg(&input).output().unwrap();
    assert_eq!(run.status.code(), Some(1), "{}", String::from_utf8_lossy(&run.stderr));

    let mut child = Command::new(env!("CARGO_BIN_EXE_claimex"))
        .current_dir(ROOT)
        .args(["run", "--emit", "both", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let text = fs::read_to_string(Path::new(ROOT).join("samples/articles/000_05d63779f3e7c9af.txt")).unwrap();
    let records = format!("{}\n{{\"id\": \"blank\", \"text\": \"  \"}}\n", serde_json::json!({"id": "s", "text": text, "url": "https://example.org/a"}));
    child.stdin.take().unwrap().write_all(records.as_bytes()).unwrap();
    let streamed = child.wait_with_output().unwrap();
    assert!(streamed.status.success());
    fs::write(dir.path().join("run.stream.jsonl"), &streamed.stdout).unwrap();
    fs::write(dir.path().join("run.errors.jsonl"), &streamed.stderr).unwrap();

    let files = ["claims.jsonl", "documents.jsonl", "manifest.json"].map(|f| out.join(f));
    let check = Command::new(Path::new(ROOT).join(".venv/bin/python"))
        .arg(Path::new(ROOT).join("scripts/check_schema.py"))
        .args(files)
        .arg(dir.path().join("run.stream.jsonl"))
        .arg(dir.path().join("run.errors.jsonl"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{report}{}", String::from_utf8_lossy(&check.stderr));
    assert!(report.contains("run.errors.jsonl: 1 records checked"), "{report}");
}

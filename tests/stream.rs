//! `claimex run -`: JSONL documents on standard input, output lines on standard output, the
//! contract of a Unix filter (Spark's RDD.pipe, Hadoop streaming, GNU parallel).
// Drives the built binary, which runs the model: needs the libtorch build.
#![cfg(feature = "torch")]

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The samples as JSONL records, one per line.
fn samples_jsonl() -> String {
    let mut paths: Vec<_> = fs::read_dir(Path::new(ROOT).join("samples/articles")).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let id = p.file_stem().unwrap().to_string_lossy().to_string();
            serde_json::json!({"id": id, "text": fs::read_to_string(p).unwrap()}).to_string() + "\n"
        })
        .collect()
}

/// `claimex run ARGS -` started, with `input` being written to its stdin by a thread of its own.
fn spawn(input: &str, args: &[&str]) -> (Child, std::thread::JoinHandle<()>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_claimex"))
        .current_dir(ROOT)
        .args(["run"])
        .args(args)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_string();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    (child, feeder)
}

fn stream(input: &str, args: &[&str]) -> Output {
    let (child, feeder) = spawn(input, args);
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    out
}

#[test]
fn streamed_lines_equal_a_folder_run_over_the_same_documents() {
    let dir = tempfile::tempdir().unwrap();
    let input = samples_jsonl();
    let file = dir.path().join("docs.jsonl");
    fs::write(&file, &input).unwrap();
    let out = dir.path().join("out");
    let run = Command::new(env!("CARGO_BIN_EXE_claimex")).current_dir(ROOT).args(["run", "--quiet", "--out"]).arg(&out).arg(&file).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));

    let claims = stream(&input, &[]);
    assert!(claims.status.success(), "{}", String::from_utf8_lossy(&claims.stderr));
    assert_eq!(String::from_utf8(claims.stdout).unwrap(), fs::read_to_string(out.join("claims.jsonl")).unwrap());

    let documents = stream(&input, &["--emit", "documents"]);
    let folder_docs = fs::read_to_string(out.join("documents.jsonl")).unwrap();
    // A folder run records where each document came from; the stream's records come from <stdin>.
    let origins = |text: &str| -> Vec<serde_json::Value> {
        text.lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                v["origin"] = serde_json::Value::Null;
                v
            })
            .collect()
    };
    assert_eq!(origins(&String::from_utf8(documents.stdout).unwrap()), origins(&folder_docs));

    // Both, tagged, in input order: each document's claims, then the document.
    let both = String::from_utf8(stream(&input, &["--emit", "both"]).stdout).unwrap();
    let tags: Vec<String> = both.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap().as_object().unwrap().keys().next().unwrap().clone()).collect();
    assert_eq!(tags.iter().filter(|t| *t == "document").count(), 5);
    assert_eq!(tags.iter().filter(|t| *t == "claim").count(), fs::read_to_string(out.join("claims.jsonl")).unwrap().lines().count());
    assert_eq!(tags.last().unwrap(), "document");
}

#[test]
fn a_failed_document_is_an_error_record_and_the_stream_goes_on() {
    let input = format!("{{\"id\": \"empty\", \"text\": \"\"}}\nnot json\n{}", samples_jsonl().lines().next().unwrap());
    let out = stream(&input, &[]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<serde_json::Value> = stderr.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert_eq!(errors.len(), 2, "{stderr}");
    assert_eq!(errors[0]["error"]["doc"], "empty");
    assert!(errors[1]["error"]["doc"].as_str().unwrap().starts_with("<stdin>:2"), "{stderr}");
    assert!(!out.stdout.is_empty(), "the good document has no claims");
    assert_eq!(stream(&input, &["--strict"]).status.code(), Some(1));
}

#[test]
fn empty_input_exits_at_once_without_loading_models() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pipeline.toml");
    fs::write(&config, "[models]\nmodel = \"/nonexistent\"\n").unwrap();
    let out = stream("", &["--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
}

#[test]
fn a_reader_that_goes_away_ends_the_run() {
    let (mut child, feeder) = spawn(&samples_jsonl().repeat(20), &[]);
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(first.starts_with('{'), "{first}");
    // The reader (as `head -1` would) has closed the pipe: claimex stops instead of working on.
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(2));
    feeder.join().unwrap();
}

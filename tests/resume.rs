//! Batch runs that survive: incremental reruns, SIGKILL at random moments, Ctrl-C.
//! Each is compared byte for byte with a clean run over the same inputs.
// Drives the built binary, which runs the model: needs the libtorch build.
#![cfg(feature = "torch")]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn claimex() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_claimex"));
    c.current_dir(ROOT).stdout(Stdio::null()).stderr(Stdio::piped());
    c
}

/// A folder of `n` articles: the samples with their paragraphs rotated, so the texts differ.
fn corpus(dir: &Path, n: usize) -> PathBuf {
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    let samples: Vec<String> = std::fs::read_dir(Path::new(ROOT).join("samples/articles"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    for i in 0..n {
        let mut paragraphs: Vec<&str> = samples[i % samples.len()].split("\n\n").collect();
        let k = (i / samples.len()) % paragraphs.len();
        paragraphs.rotate_left(k);
        std::fs::write(input.join(format!("doc{i:03}.txt")), paragraphs.join("\n\n")).unwrap();
    }
    input
}

fn run(out: &Path, input: &Path) -> std::process::Output {
    claimex().args(["run", "--quiet", "--out", out.to_str().unwrap(), input.to_str().unwrap()]).output().unwrap()
}

fn outputs(out: &Path) -> (Vec<u8>, Vec<u8>) {
    (std::fs::read(out.join("claims.jsonl")).unwrap(), std::fs::read(out.join("documents.jsonl")).unwrap())
}

/// The visible files are whole: every line parses, nothing half-written is left beside them.
fn assert_whole(out: &Path) {
    for f in ["claims.jsonl", "documents.jsonl"] {
        if let Ok(text) = std::fs::read_to_string(out.join(f)) {
            assert!(text.is_empty() || text.ends_with('\n'), "{f} ends mid-line");
            for line in text.lines() {
                serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("{f}: bad line {e}: {line}"));
            }
        }
    }
}

#[test]
fn incremental_runs_equal_a_clean_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = corpus(dir.path(), 12);
    let clean = dir.path().join("clean");
    assert!(run(&clean, &input).status.success());

    // The same documents arriving in two batches (the second batch includes the first).
    let inc = dir.path().join("inc");
    let mut first = claimex();
    first.args(["run", "--quiet", "--out", inc.to_str().unwrap()]);
    for i in 0..5 {
        first.arg(input.join(format!("doc{i:03}.txt")));
    }
    assert!(first.output().unwrap().status.success());
    let second = run(&inc, &input);
    assert!(second.status.success());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(stderr.contains("7 documents processed, 5 reused"), "{stderr}");
    assert_eq!(outputs(&clean), outputs(&inc));

    // A changed document is processed again; the rest are reused.
    let changed = input.join("doc003.txt");
    let text = std::fs::read_to_string(&changed).unwrap();
    std::fs::write(&changed, format!("{text}\n\nBelarus condemned the sanctions.")).unwrap();
    let third = run(&inc, &input);
    assert!(String::from_utf8_lossy(&third.stderr).contains("1 documents processed, 11 reused"));
    let clean2 = dir.path().join("clean2");
    assert!(run(&clean2, &input).status.success());
    assert_eq!(outputs(&clean2), outputs(&inc));

    // Another threshold reprocesses everything.
    let config = dir.path().join("pipeline.toml");
    let shipped = std::fs::read_to_string(Path::new(ROOT).join("pipeline.toml")).unwrap();
    let models = format!("{ROOT}/models");
    let data = format!("{ROOT}/data");
    // The same settings with another stance threshold.
    let changed: String = shipped
        .lines()
        .map(|l| if l.starts_with("stance = ") { "stance = 0.99".to_string() } else { l.replace("\"models/", &format!("\"{models}/")).replace("\"data/", &format!("\"{data}/")) })
        .map(|l| l + "\n")
        .collect();
    assert!(changed.contains("stance = 0.99") && !shipped.contains("stance = 0.99"));
    std::fs::write(&config, changed).unwrap();
    let fourth = claimex()
        .args(["run", "--quiet", "--config", config.to_str().unwrap(), "--out", inc.to_str().unwrap(), input.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&fourth.stderr).contains("12 documents processed, 0 reused"), "{}", String::from_utf8_lossy(&fourth.stderr));
}

#[test]
fn killed_runs_resume_to_the_clean_result() {
    let dir = tempfile::tempdir().unwrap();
    let input = corpus(dir.path(), 30);
    let clean = dir.path().join("clean");
    let t = Instant::now();
    assert!(run(&clean, &input).status.success());
    let full = t.elapsed();

    let out = dir.path().join("killed");
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..8 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let at = full.mul_f64((seed % 1000) as f64 / 1000.0);
        let mut child = claimex().args(["run", "--quiet", "--out", out.to_str().unwrap(), input.to_str().unwrap()]).spawn().unwrap();
        std::thread::sleep(at);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        assert_whole(&out);
    }
    let last = run(&out, &input);
    assert!(last.status.success(), "{}", String::from_utf8_lossy(&last.stderr));
    assert_eq!(outputs(&clean), outputs(&out));
}

#[test]
fn ctrl_c_stops_cleanly_and_says_how_to_resume() {
    let dir = tempfile::tempdir().unwrap();
    let input = corpus(dir.path(), 60);
    let out = dir.path().join("out");
    let child = claimex().args(["run", "--quiet", "--out", out.to_str().unwrap(), input.to_str().unwrap()]).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let result = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    if result.status.code() == Some(130) {
        assert!(stderr.contains("Run the same command again to resume"), "{stderr}");
    } else {
        assert!(result.status.success(), "{stderr}"); // it finished before the signal
    }
    assert_whole(&out);
    assert!(run(&out, &input).status.success());
    let clean = dir.path().join("clean");
    assert!(run(&clean, &input).status.success());
    assert_eq!(outputs(&clean), outputs(&out));
}

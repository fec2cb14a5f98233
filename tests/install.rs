//! An installed claimex and an unpacked bundle run from any folder (scripts/install.sh, `make
//! install`, `make bundle`), and a claimex that cannot find its models says where it looked.
// Drives the built binary, which runs the model: needs the libtorch build.
#![cfg(feature = "torch")]

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const SAMPLE: &str = "samples/articles/004_669cdeb8832351f7.txt";

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "exit {:?}\n{}", o.status.code(), String::from_utf8_lossy(&o.stderr));
    o
}

/// claims.jsonl of a run of `bin` from the folder `cwd`, with no CLAIMEX_HOME.
fn claims(bin: &Path, cwd: &Path, out: &Path) -> String {
    ok(Command::new(bin)
        .current_dir(cwd)
        .env_remove("CLAIMEX_HOME")
        .args(["run", "--quiet", "--out"])
        .arg(out)
        .arg(Path::new(ROOT).join(SAMPLE))
        .output()
        .unwrap());
    fs::read_to_string(out.join("claims.jsonl")).unwrap()
}

#[test]
fn installed_and_bundled_binaries_run_from_an_unrelated_folder() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = dir.path().join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    let expected = claims(Path::new(env!("CARGO_BIN_EXE_claimex")), Path::new(ROOT), &dir.path().join("o-build"));

    // make install, with the CPU libraries (the full set only adds CUDA's).
    let prefix = dir.path().join("prefix");
    ok(Command::new("scripts/install.sh").current_dir(ROOT).arg(&prefix).arg("cpu").output().unwrap());
    let installed = prefix.join("bin/claimex");
    let ldd = String::from_utf8(ok(Command::new("ldd").arg(&installed).output().unwrap()).stdout).unwrap();
    assert!(!ldd.contains(ROOT), "the installed binary still loads from the build tree:\n{ldd}");
    assert_eq!(claims(&installed, &elsewhere, &dir.path().join("o-installed")), expected);

    // make bundle: the same tree as an archive, unpacked on a "node".
    let archive = dir.path().join("claimex.tar");
    ok(Command::new("tar").arg("-C").arg(&prefix).arg("-cf").arg(&archive).arg(".").output().unwrap());
    let node = dir.path().join("node/claimex");
    fs::create_dir_all(&node).unwrap();
    ok(Command::new("tar").arg("-C").arg(&node).arg("-xf").arg(&archive).output().unwrap());
    assert_eq!(claims(&node.join("bin/claimex"), &elsewhere, &dir.path().join("o-bundle")), expected);
}

#[test]
fn models_are_looked_up_in_order_and_a_miss_lists_the_places() {
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_claimex");
    let run = |envs: &[(&str, &str)], args: &[&str]| {
        let mut c = Command::new(bin);
        c.current_dir(dir.path()).env_remove("CLAIMEX_HOME").envs(envs.iter().copied()).arg("run").arg("--quiet").args(args);
        c.arg("--out").arg(dir.path().join("o")).arg(Path::new(ROOT).join(SAMPLE)).output().unwrap()
    };
    let miss = run(&[], &[]);
    assert_eq!(miss.status.code(), Some(2));
    let err = String::from_utf8_lossy(&miss.stderr);
    for place in ["--models (not set)", "CLAIMEX_HOME (not set)", "(beside the executable)", "(the current folder)", "--models DIR or CLAIMEX_HOME=DIR"] {
        assert!(err.contains(place), "{place:?} not in: {err}");
    }
    ok(run(&[("CLAIMEX_HOME", ROOT)], &[]));
    ok(run(&[], &["--models", ROOT]));
    let wrong = run(&[("CLAIMEX_HOME", "/nonexistent")], &[]);
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("CLAIMEX_HOME = /nonexistent: no models there"));
}

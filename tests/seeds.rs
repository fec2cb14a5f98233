//! Golden-file integration tests: the built binary on the bundled sample articles (the seeds),
//! checked line by line against ../spec/claims.md, and on bad input.
// Drives the built binary, which runs the model: needs the libtorch build.
#![cfg(feature = "torch")]

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn claimex(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_claimex")).current_dir(ROOT).args(args).output().expect("claimex runs")
}

fn run_into(out: &Path, inputs: &[&str], extra: &[&str]) -> Output {
    let mut args = vec!["run", "--quiet", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.extend_from_slice(inputs);
    claimex(&args)
}

fn jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Code points start..end of a text, as Python's text[start:end].
fn cut(text: &str, start: &Value, end: &Value) -> String {
    let (s, e) = (start.as_u64().unwrap() as usize, end.as_u64().unwrap() as usize);
    assert!(s <= e, "span {s}..{e}");
    text.chars().skip(s).take(e - s).collect()
}

fn source(doc: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join("samples/articles").join(format!("{doc}.txt"))).unwrap()
}

struct Seeds {
    _dir: tempfile::TempDir,
    out: PathBuf,
}

fn seeds() -> Seeds {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let result = run_into(&out, &["samples/articles"], &[]);
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    Seeds { _dir: dir, out }
}

#[test]
fn seed_outputs_follow_the_spec() {
    let s = seeds();
    let claims = jsonl(&s.out.join("claims.jsonl"));
    assert!(claims.len() >= 20, "only {} claims on the seeds", claims.len());
    let categories: HashSet<&str> = [
        "terrorism", "extremism", "cybercrime", "information_security", "drug_trafficking",
        "illegal_migration", "organized_crime", "military_conflict", "economic_coercion", "other",
    ]
    .into();
    let mut ids = HashSet::new();
    for c in &claims {
        let doc = c["doc"].as_str().unwrap();
        let text = source(doc);
        assert!(ids.insert(c["id"].as_str().unwrap().to_string()), "duplicate id {}", c["id"]);
        assert_eq!(cut(&text, &c["start"], &c["end"]), c["sentence"].as_str().unwrap(), "{c}");
        let kind = c["type"].as_str().unwrap();
        assert!(["stance", "proposal", "threat"].contains(&kind));
        match kind {
            "stance" => assert!(["support", "oppose"].contains(&c["polarity"].as_str().unwrap())),
            _ => assert!(c["polarity"].is_null()),
        }
        let cats = c["categories"].as_array().unwrap();
        assert_eq!(kind == "threat", !cats.is_empty(), "{c}");
        assert!(cats.iter().all(|x| categories.contains(x.as_str().unwrap())));
        let conf = c["confidence"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&conf));
        for key in ["actor", "target"] {
            if !c[key].is_null() {
                assert_eq!(cut(&text, &c[key]["start"], &c[key]["end"]), c[key]["text"].as_str().unwrap(), "{key} of {c}");
            }
        }
        if !c["actor"].is_null() {
            assert!(!c["actor"]["canonical"].as_str().unwrap().is_empty());
        }
    }

    let docs = jsonl(&s.out.join("documents.jsonl"));
    assert_eq!(docs.len(), 5);
    for d in &docs {
        let text = source(d["id"].as_str().unwrap());
        for sentence in d["sentences"].as_array().unwrap() {
            assert_eq!(cut(&text, &sentence["start"], &sentence["end"]), sentence["text"].as_str().unwrap());
            let t = sentence["text"].as_str().unwrap();
            for boiler in ["Subscribe to us", "Su Mo Tu", "+15°C", "All news", "Photo courtesy"] {
                assert!(!t.contains(boiler), "boilerplate kept as a sentence: {t}");
            }
        }
        for e in d["entities"].as_array().unwrap() {
            assert_eq!(cut(&text, &e["start"], &e["end"]), e["text"].as_str().unwrap(), "{e}");
            assert!(!e["canonical"].as_str().unwrap().is_empty(), "{e}");
        }
    }

    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(s.out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["counts"]["documents"], 5);
    assert_eq!(manifest["counts"]["failed"], 0);
    assert_eq!(manifest["inputs"].as_array().unwrap().len(), 5);
    assert_eq!(manifest["models"]["model"]["sha256"].as_str().unwrap().len(), 64);
}

#[test]
fn seed_actors_resolve_to_canonical_names() {
    let s = seeds();
    let docs = jsonl(&s.out.join("documents.jsonl"));
    let entities: Vec<&Value> = docs.iter().flat_map(|d| d["entities"].as_array().unwrap()).collect();
    let has = |canonical: &str, label: &str| {
        entities.iter().any(|e| e["canonical"] == canonical && e["label"] == label)
    };
    for person in [
        "Alexander Lukashenko", "Viktor Khrenin", "Vladimir Makei", "Nursultan Nazarbayev",
        "Yuri Khachaturov", "Andrei Rusakovich", "Vladimir Putin", "Xi Jinping",
    ] {
        assert!(has(person, "PER"), "{person} not found as PER");
    }
    for org in [
        "Shanghai Cooperation Organization", "Collective Security Treaty Organization",
        "Commonwealth of Independent States", "Organization for Security and Co-operation in Europe",
        "Belarusian Telegraph Agency",
    ] {
        assert!(has(org, "ORG"), "{org} not found as ORG");
    }
    let khrenin = entities.iter().find(|e| e["canonical"] == "Viktor Khrenin").unwrap();
    assert_eq!(khrenin["affiliation"], "Belarus");
}

/// Claim actors where the sentence itself names no holder: the spec's own example (narration
/// going on with Lukashenko's line of thought) and a trailing wire attribution.
#[test]
fn claim_actors_follow_the_reporting() {
    let s = seeds();
    let claims = jsonl(&s.out.join("claims.jsonl"));
    let actor_of = |start: &str, kind: &str| {
        let c = claims
            .iter()
            .find(|c| c["type"] == kind && c["sentence"].as_str().unwrap().starts_with(start))
            .unwrap_or_else(|| panic!("no {kind} claim on {start:?}"));
        (c["actor"]["canonical"].as_str().unwrap_or("null").to_string(), c["actor"]["origin"].as_str().unwrap_or("").to_string())
    };
    // Narration that goes on paraphrasing the President's proposals is his (the discourse rule);
    // a threat the narration names is the narrator's (src/attribute.rs, README "Attribution").
    let (who, origin) = actor_of("Coordinated work of all participants and partners is needed.", "proposal");
    assert_eq!((who.as_str(), origin.as_str()), ("Alexander Lukashenko", "discourse"));
    let (who, _) = actor_of("A huge threat to the participants of the organization", "threat");
    assert_eq!(who, "null");
    // The trailing wire attribution ("…, Andrei Rusakovich … told the media") names the speaker
    // of the sentence, whichever claims the model makes of it.
    let wire = "The Shanghai Cooperation Organization (SCO) is considered in Belarus";
    let docs = jsonl(&s.out.join("documents.jsonl"));
    let sentence = docs
        .iter()
        .flat_map(|d| d["sentences"].as_array().unwrap())
        .find(|x| x["text"].as_str().unwrap().starts_with(wire))
        .expect("the wire sentence");
    assert!(sentence["speaker"]["text"].as_str().unwrap().contains("Andrei Rusakovich"), "{sentence}");
    for c in claims.iter().filter(|c| c["sentence"].as_str().unwrap().starts_with(wire)) {
        assert_eq!(c["actor"]["canonical"], "Andrei Rusakovich", "{c}");
    }
}

#[test]
fn runs_are_deterministic_across_threads_and_batch_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    assert!(run_into(&a, &["samples/articles"], &["--threads", "1", "--batch-size", "4"]).status.success());
    assert!(run_into(&b, &["samples/articles"], &["--threads", "2", "--batch-size", "64"]).status.success());
    for f in ["claims.jsonl", "documents.jsonl"] {
        assert_eq!(std::fs::read(a.join(f)).unwrap(), std::fs::read(b.join(f)).unwrap(), "{f} differs");
    }
}

#[test]
fn bad_documents_fail_alone() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::copy(Path::new(ROOT).join("samples/articles/004_669cdeb8832351f7.txt"), input.join("good.txt")).unwrap();
    std::fs::write(input.join("empty.txt"), "").unwrap();
    std::fs::write(input.join("binary.txt"), [0u8, 159, 146, 150, 0, 1, 2, 3]).unwrap();
    std::fs::write(input.join("latin1.txt"), b"Caf\xe9 au lait is a threat to nobody.").unwrap();
    let out = dir.path().join("out");
    let missing = dir.path().join("missing.txt");
    let result = run_into(&out, &[input.to_str().unwrap(), missing.to_str().unwrap()], &[]);
    assert_eq!(result.status.code(), Some(1), "{}", String::from_utf8_lossy(&result.stderr));
    let stderr = String::from_utf8_lossy(&result.stderr);
    for name in ["empty", "binary", "latin1", "missing"] {
        assert!(stderr.contains(name), "stderr does not name {name}: {stderr}");
    }
    let docs = jsonl(&out.join("documents.jsonl"));
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["id"], "good");
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["counts"]["failed"], 4);
}

#[test]
fn unreadable_model_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pipeline.toml");
    std::fs::write(
        &config,
        format!(
            "[models]\ntokenizer = \"{ROOT}/models/tokenizer.json\"\ngazetteer = \"{ROOT}/data/gazetteer.toml\"\nmodel = \"{}\"\n",
            dir.path().join("nowhere").display()
        ),
    )
    .unwrap();
    let result = claimex(&["run", "--quiet", "--config", config.to_str().unwrap(), "samples/articles"]);
    assert_eq!(result.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.contains("nowhere") && stderr.contains("cannot load the model"), "{stderr}");
}

#[test]
fn unknown_config_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pipeline.toml");
    std::fs::write(&config, "[runtime]\nbatchsize = 8\n").unwrap();
    let result = claimex(&["run", "--quiet", "--config", config.to_str().unwrap(), "samples/articles"]);
    assert_eq!(result.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&result.stderr).contains("batchsize"));
}

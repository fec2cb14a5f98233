"""claimex throughput benchmark: one command, see bench/README.md.

    .venv/bin/python bench/run.py [--sizes 100 1000 10000] [--threads 2] [--batch-size 32]

For each N: builds a corpus of N articles (bench/corpus.py), runs
`target/release/claimex run --quiet` on it and reads manifest.json (counts, time per stage), and
the previous release (--previous, a git ref: built once in target/bench-previous) on the same
corpus, threads and batch size; then, on the documents' sentences of that run (documents.jsonl),
with the same model, batch size and threads: the floor (target/release/bench_floor: the bare
model passes), the peer (bench/peer.py: the same model the usual Python way) and spaCy's
en_core_web_sm NER (bench/spacy_ner.py).
Every program runs as its own child process, so each gets its own peak RSS (wait4) and load
time. Then a batch-size sweep on the smallest corpus, a plot (bench/throughput.png) and the
whole record as JSON (bench/results.json).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import corpus  # noqa: E402

CLAIMEX = os.path.join(ROOT, "target", "release", "claimex")
FLOOR = os.path.join(ROOT, "target", "release", "bench_floor")
STAGES = ["prepare", "model", "assemble", "write"]
PREVIOUS = os.path.join(ROOT, "target", "bench-previous")


def fail(msg):
    print(f"bench: {msg}", file=sys.stderr)
    raise SystemExit(2)


def check_setup(args):
    for path in (CLAIMEX, FLOOR):
        if not os.access(path, os.X_OK):
            fail(f"{os.path.relpath(path, ROOT)} is missing: run `make build` first "
                 "(or `source .venv/bin/activate && cargo build --release`), which builds claimex and bench_floor")
    newest_src = max(os.path.getmtime(os.path.join(d, f)) for d, _, fs in os.walk(os.path.join(ROOT, "src"))
                     for f in fs if f.endswith(".rs"))
    for path in (CLAIMEX, FLOOR):
        if os.path.getmtime(path) < newest_src:
            print(f"bench: warning: {os.path.relpath(path, ROOT)} is older than src/: `make build` to measure the current code",
                  file=sys.stderr)
    for f in ("config.json", "model.safetensors"):
        if not os.path.exists(os.path.join(ROOT, "models", "multitask", f)):
            fail(f"models/multitask/{f} is missing (train it or restore it before benchmarking)")
    if not args.no_peer:
        try:
            import transformers  # noqa: F401
        except ImportError:
            fail("transformers is missing: .venv/bin/pip install -r models/requirements-train.txt")
    if not args.no_spacy or not args.no_plot:
        for mod in (["spacy"] if not args.no_spacy else []) + (["matplotlib"] if not args.no_plot else []):
            try:
                __import__(mod)
            except ImportError:
                fail(f"{mod} is missing: .venv/bin/pip install -r bench/requirements.txt")


def cpu_busy_seconds():
    """CPU seconds all processes on the machine have used (from /proc/stat), or None."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return (v[0] + v[1] + v[2] + v[5] + v[6]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def measure(cmd, name, workdir, cwd=ROOT):
    """Runs cmd as a child; returns wall seconds, its own peak RSS, CPU time, and how much CPU
    other processes took meanwhile (the machine is shared: a busy neighbour skews timings)."""
    safe = name.replace(" ", "_").replace("/", "_").replace("=", "")
    out_path = os.path.join(workdir, f"{safe}.stdout")
    err_path = os.path.join(workdir, f"{safe}.stderr")
    busy0 = cpu_busy_seconds()
    t = time.perf_counter()
    with open(out_path, "w") as out, open(err_path, "w") as err:
        p = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=cwd)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t
    busy1 = cpu_busy_seconds()
    cpu = ru.ru_utime + ru.ru_stime
    foreign = None if busy0 is None else max(0.0, (busy1 - busy0) - cpu)
    r = {"cmd": cmd, "rc": p.returncode, "wall_seconds": wall, "peak_rss_mb": ru.ru_maxrss / 1024,
         "cpu_seconds": cpu, "foreign_cpu_share": None if foreign is None else foreign / (wall * os.cpu_count()),
         "stdout": open(out_path).read(), "stderr_tail": open(err_path).read()[-3000:]}
    print(f"  {name:<22} {wall:8.1f} s wall  {r['peak_rss_mb']:7.0f} MB peak RSS"
          + (f"  (others used {100 * r['foreign_cpu_share']:.0f}% of the CPUs meanwhile)" if foreign is not None and r["foreign_cpu_share"] > 0.05 else ""),
          flush=True)
    return r


def last_json(r, what):
    if r["rc"] != 0:
        fail(f"{what} failed (exit {r['rc']}): {' '.join(r['cmd'])}\n{r['stderr_tail']}")
    for line in reversed(r["stdout"].splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    fail(f"{what} printed no JSON:\n{r['stdout'][-2000:]}\n{r['stderr_tail']}")


def build_previous(ref):
    """The previous release's claimex, built from `ref` in a worktree of its own (kept between
    runs); returns (binary, its pipeline.toml)."""
    src, target = os.path.join(PREVIOUS, "src"), os.path.join(PREVIOUS, "target")
    commit = subprocess.run(["git", "rev-parse", ref + "^{commit}"], cwd=ROOT, capture_output=True, text=True)
    if commit.returncode != 0:
        fail(f"--previous {ref}: not a commit of this repository")
    commit = commit.stdout.strip()
    if not os.path.exists(os.path.join(src, ".git")):
        subprocess.run(["git", "worktree", "add", "--detach", src, commit], cwd=ROOT, check=True)
    subprocess.run(["git", "checkout", "--quiet", "--detach", commit], cwd=src, check=True)
    print(f"bench: building the previous release ({ref} = {commit[:10]}) in {os.path.relpath(src, ROOT)}", flush=True)
    env = dict(os.environ, CARGO_TARGET_DIR=target, VIRTUAL_ENV=os.path.join(ROOT, ".venv"))
    env["PATH"] = os.path.join(ROOT, ".venv", "bin") + os.pathsep + env["PATH"]
    subprocess.run(["cargo", "build", "--release", "--bin", "claimex"], cwd=src, env=env, check=True)
    return os.path.join(target, "release", "claimex"), os.path.join(src, "pipeline.toml"), commit


def fp32_models(workdir, args):
    """fp32 copies of the shipped (fp16) weights and a pipeline.toml that points at them."""
    # In a child process: this one must stay small, because a child's peak RSS (ru_maxrss)
    # starts from its parent's at fork + exec, and importing torch here would add ~0.5 GB to all.
    base = os.path.join(workdir, "models-fp32")
    script = (
        "import os, shutil, sys\n"
        "from safetensors.torch import load_file, save_file\n"
        "root, base = sys.argv[1], sys.argv[2]\n"
        "for m in ('multitask',):\n"
        "    d = os.path.join(base, m); os.makedirs(d, exist_ok=True)\n"
        "    state = {k: v.float().contiguous() for k, v in load_file(os.path.join(root, 'models', m, 'model.safetensors')).items()}\n"
        "    save_file(state, os.path.join(d, 'model.safetensors'), metadata={'format': 'pt'})\n"
        "    shutil.copy(os.path.join(root, 'models', m, 'config.json'), d)\n")
    subprocess.run([sys.executable, "-c", script, ROOT, base], check=True)
    return write_config(workdir, os.path.join(base, "multitask"), args.precision)


def write_config(workdir, model, precision):
    """pipeline.toml with the shipped thresholds, the given model folder (absolute paths) and
    the precision of the forward passes."""
    shipped = tomllib.load(open(os.path.join(ROOT, "pipeline.toml"), "rb"))
    thresholds = "".join(f"{k} = {v}\n" for k, v in shipped.get("thresholds", {}).items())
    path = os.path.join(workdir, "pipeline.toml")
    with open(path, "w") as f:
        f.write("# written by bench/run.py\n[models]\n"
                f"tokenizer = {json.dumps(os.path.join(ROOT, 'models', 'tokenizer.json'))}\n"
                f"model = {json.dumps(model)}\n"
                f"gazetteer = {json.dumps(os.path.join(ROOT, 'data', 'gazetteer.toml'))}\n"
                f"[runtime]\nprecision = {json.dumps(precision)}\n[thresholds]\n{thresholds}")
    return path


def run_claimex(corpus_path, out_dir, config, args, batch, name, workdir, binary=None):
    shutil.rmtree(out_dir, ignore_errors=True)
    cmd = [binary or CLAIMEX, "run", "--quiet", "--config", config, "--threads", str(args.threads),
           "--batch-size", str(batch), "--out", out_dir, corpus_path]
    r = measure(cmd, name, workdir)
    if r["rc"] not in (0, 1) or not os.path.exists(os.path.join(out_dir, "manifest.json")):
        fail(f"claimex failed (exit {r['rc']}): {' '.join(cmd)}\n{r['stderr_tail']}"
             + ("\n(the shipped fp16 weights: try --weights fp32)" if args.weights == "shipped" else ""))
    m = json.load(open(os.path.join(out_dir, "manifest.json")))
    c, t = counts_of(m), m["timings"]
    if c["failed"]:
        print(f"bench: warning: {c['failed']} documents failed: {m.get('errors', [])[:3]}", file=sys.stderr)
    if c.get("reused"):
        fail(f"claimex reused {c['reused']} stored documents instead of processing them: the benchmark needs a fresh --out")
    run_s = t["total_seconds"] - t["load_seconds"]
    res = {"process": {k: v for k, v in r.items() if k != "stdout"}, "counts": c, "timings": t,
           "run_seconds": run_s, "wall_seconds": r["wall_seconds"], "peak_rss_mb": r["peak_rss_mb"],
           "batch_size": batch, "threads": args.threads}
    for key, secs in (("run", run_s), ("wall", r["wall_seconds"])):
        res[key] = {"documents_per_second": c["documents"] / secs, "sentences_per_second": c["sentences"] / secs,
                    "word_pieces_per_second": c["word_pieces"] / secs}
    return res


def counts_of(manifest):
    """documents, sentences, word_pieces, failed (and reused) from manifest.json, wherever this
    version of claimex puts them (counts.*, run.*)."""
    c = dict(manifest.get("counts", {}))
    run = manifest.get("run", {})
    for k in ("word_pieces", "failed", "reused", "processed"):
        if k not in c and k in run:
            c[k] = run[k]
    missing = [k for k in ("documents", "sentences", "word_pieces") if k not in c]
    if missing:
        fail(f"manifest.json has no {', '.join(missing)} (counts: {sorted(c)}, run: {sorted(run)}): update counts_of() in bench/run.py")
    c.setdefault("failed", len(manifest.get("errors", [])))
    return c


def documents_of(out_dir, path, sentences_path):
    """The documents claimex read (documents.jsonl) as {"sentences", "paragraphs"} lines for the
    floor and the peer, and their sentences one per line for spaCy."""
    with open(path, "w", encoding="utf-8") as f, open(sentences_path, "w", encoding="utf-8") as flat:
        for line in open(os.path.join(out_dir, "documents.jsonl"), encoding="utf-8"):
            sentences = json.loads(line)["sentences"]
            f.write(json.dumps({"sentences": [s["text"] for s in sentences],
                                "paragraphs": [s["paragraph"] for s in sentences]}) + "\n")
            for s in sentences:
                flat.write(" ".join(s["text"].split()) + "\n")  # one line each; whitespace does not change the pieces


def agreement(floor_dump, peer_dump):
    """How far the peer's sentence probabilities are from claimex's (same weights: should be ~0;
    the peer reads a sentence longer than a window by its first window only)."""
    diffs = []
    for a, b in zip(open(floor_dump), open(peer_dump)):
        a, b = json.loads(a), json.loads(b)
        diffs.extend(abs(x - y) for x, y in zip(a["claims"], b["claims"]))
    return {"claim_prob_max_abs_diff": max(diffs) if diffs else None,
            "claim_prob_mean_abs_diff": sum(diffs) / len(diffs) if diffs else None,
            "claim_prob_over_0.01": sum(d > 0.01 for d in diffs)}


def compare(n, docs_path, sent_path, config, args, workdir, res, model_dir):
    b, t = str(args.batch_size), str(args.threads)
    fl_dump, pe_dump = os.path.join(workdir, f"floor-{n}.jsonl"), os.path.join(workdir, f"peer-{n}.jsonl")
    r = measure([FLOOR, "--documents", docs_path, "--config", config, "--batch-size", b, "--threads", t,
                 "--dump", fl_dump], f"floor N={n}", workdir)
    res["floor"] = {**last_json(r, "bench_floor"), "peak_rss_mb": r["peak_rss_mb"], "wall_seconds": r["wall_seconds"],
                    "foreign_cpu_share": r["foreign_cpu_share"]}
    if res["floor"]["pieces"] != res["claimex"]["counts"]["word_pieces"]:
        print(f"bench: warning: floor read {res['floor']['pieces']} pieces, claimex {res['claimex']['counts']['word_pieces']}",
              file=sys.stderr)
    if args.chunk_docs and n == min(x for x in args.sizes if x <= args.compare_max_n):
        # The pipeline hands its model stage a few documents at a time: the same batching cost.
        r = measure([FLOOR, "--documents", docs_path, "--config", config, "--batch-size", b, "--threads", t,
                     "--chunk-documents", str(args.chunk_docs)], f"floor {args.chunk_docs}-doc N={n}", workdir)
        res["floor_chunked"] = {**last_json(r, "bench_floor"), "peak_rss_mb": r["peak_rss_mb"]}
    if not args.no_peer and n <= args.peer_max_n:
        r = measure([sys.executable, os.path.join(HERE, "peer.py"), "--documents", docs_path, "--threads", t,
                     "--batch-size", b, "--model", model_dir, "--dump", pe_dump,
                     "--precision", args.precision], f"peer N={n}", workdir)
        res["peer"] = {**last_json(r, "bench/peer.py"), "peak_rss_mb": r["peak_rss_mb"], "wall_seconds": r["wall_seconds"],
                       "foreign_cpu_share": r["foreign_cpu_share"]}
        res["agreement"] = agreement(fl_dump, pe_dump)
    if not args.no_spacy:
        r = measure([sys.executable, os.path.join(HERE, "spacy_ner.py"), "--sentences", sent_path, "--threads", t,
                     "--batch-size", b], f"spacy N={n}", workdir)
        res["spacy"] = {**last_json(r, "bench/spacy_ner.py"), "peak_rss_mb": r["peak_rss_mb"], "wall_seconds": r["wall_seconds"]}
    cx = res["claimex"]["run_seconds"]
    res["ratios"] = {**res.get("ratios", {}), "claimex_over_floor": cx / res["floor"]["seconds"]}
    if "peer" in res:
        res["ratios"]["peer_over_claimex"] = res["peer"]["seconds"] / cx
        res["ratios"]["peer_over_floor"] = res["peer"]["seconds"] / res["floor"]["seconds"]
    if "spacy" in res:
        res["ratios"]["spacy_over_claimex"] = res["spacy"]["seconds"] / cx


def report(results, sweep):
    print("\n== claimex run (rates over the run, model loading excluded; wall = the whole process)")
    print(f"{'N':>6} {'sent':>7} {'pieces':>8} {'docs/s':>8} {'sent/s':>8} {'pieces/s':>9} {'wall docs/s':>11} "
          f"{'load s':>7} {'run s':>7} {'peak RSS':>9}")
    for n, r in results.items():
        c, x = r["claimex"], r["claimex"]["run"]
        print(f"{n:>6} {c['counts']['sentences']:>7} {c['counts']['word_pieces']:>8} {x['documents_per_second']:8.2f} "
              f"{x['sentences_per_second']:8.1f} {x['word_pieces_per_second']:9.0f} {c['wall']['documents_per_second']:11.2f} "
              f"{c['timings']['load_seconds']:7.2f} {c['run_seconds']:7.1f} {c['peak_rss_mb']:7.0f} MB")
    if any("previous" in r for r in results.values()):
        print("\n== against the previous release (same corpus, threads and batch size; run = model loading excluded)")
        print(f"{'N':>6} {'previous sent/s':>16} {'claimex sent/s':>15} {'speed-up':>9} {'previous RSS':>13} {'claimex RSS':>12}")
        for n, r in results.items():
            if "previous" in r:
                p, c = r["previous"], r["claimex"]
                print(f"{n:>6} {p['run']['sentences_per_second']:16.1f} {c['run']['sentences_per_second']:15.1f} "
                      f"{r['ratios']['speedup_over_previous']:8.2f}x {p['peak_rss_mb']:10.0f} MB {c['peak_rss_mb']:9.0f} MB")
    print("\n== claimex time per stage (busy seconds of each stage's worker; stages overlap, so they add up to more than the run)")
    print(f"{'N':>6} " + " ".join(f"{s:>9}" for s in STAGES) + f" {'run':>9}")
    for n, r in results.items():
        t = r["claimex"]["timings"]
        print(f"{n:>6} " + " ".join(f"{t.get(s + '_seconds', 0):9.2f}" for s in STAGES) + f" {r['claimex']['run_seconds']:9.2f}")
    print("\n== same documents, model, batch size and threads (seconds of model work; sentences/s)")
    print(f"{'N':>6} {'claimex':>16} {'floor':>16} {'floor chunked':>14} {'peer (Python)':>16} {'spaCy sm NER':>16} "
          f"{'claimex/floor':>14} {'peer/claimex':>13}")
    for n, r in results.items():
        if "floor" not in r:
            continue
        cx, fl = r["claimex"], r["floor"]
        cell = lambda s, n_: f"{s:7.1f}s {n_ / s:6.1f}/s"  # noqa: E731
        ch = r.get("floor_chunked")
        pe, sp = r.get("peer"), r.get("spacy")
        ch_cell = f"{ch['seconds']:7.1f}s" if ch else "-"
        pe_cell = cell(pe["seconds"], pe["sentences"]) if pe else "-"
        sp_cell = cell(sp["seconds"], sp["sentences"]) if sp else "-"
        fl_cell = cell(fl["seconds"], fl["sentences"])
        print(f"{n:>6} {cell(cx['run_seconds'], cx['counts']['sentences']):>16} {fl_cell:>16} {ch_cell:>14} "
              f"{pe_cell:>16} {sp_cell:>16} "
              f"{r['ratios']['claimex_over_floor']:14.2f} {r['ratios'].get('peer_over_claimex', float('nan')):13.2f}")
    for n, r in results.items():
        if "agreement" in r:
            a = r["agreement"]
            print(f"   N={n}: peer vs claimex: sentence probabilities differ by at most {a['claim_prob_max_abs_diff']:.2g} "
                  f"(mean {a['claim_prob_mean_abs_diff']:.2g}; {a['claim_prob_over_0.01']} over 0.01)")
        if "floor" in r:
            print(f"   N={n}: peak RSS  claimex {r['claimex']['peak_rss_mb']:.0f} MB, floor {r['floor']['peak_rss_mb']:.0f} MB"
                  + (f", peer {r['peer']['peak_rss_mb']:.0f} MB" if "peer" in r else "")
                  + (f", spaCy {r['spacy']['peak_rss_mb']:.0f} MB" if "spacy" in r else "")
                  + f"; floor padding efficiency {r['floor']['padding_efficiency']:.2f}")
    sizes = sorted(results)
    if len(sizes) > 1:
        a, b = results[sizes[-2]]["claimex"]["peak_rss_mb"], results[sizes[-1]]["claimex"]["peak_rss_mb"]
        print(f"\npeak RSS growth from N={sizes[-2]} to N={sizes[-1]}: {a:.0f} → {b:.0f} MB ({b - a:+.0f} MB, ×{b / a:.2f})")
    if sweep:
        print("\n== batch-size sweep (sentences/s)")
        for b, s in sweep.items():
            print(f"  batch {b:>3}: claimex {s['claimex']['run']['sentences_per_second']:7.1f}/s"
                  + (f"   floor {s['floor']['sentences_per_second']:7.1f}/s" if "floor" in s else ""))


def plot(results, sweep, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    ax = axes[0]
    if sweep:
        bs = sorted(sweep)
        ax.plot(bs, [sweep[b]["claimex"]["run"]["sentences_per_second"] for b in bs], "o-", label="claimex run")
        if all("floor" in sweep[b] for b in bs):
            ax.plot(bs, [sweep[b]["floor"]["sentences_per_second"] for b in bs], "s--", label="floor (bare model passes)")
        if all("peer" in sweep[b] for b in bs):
            ax.plot(bs, [sweep[b]["peer"]["sentences_per_second"] for b in bs], "^:", label="peer (Python)")
        ax.set_xscale("log", base=2)
        ax.set_xticks(bs, [str(b) for b in bs])
        n = next(iter(sweep.values()))["n"]
        ax.set_title(f"throughput vs batch size (N = {n} articles)")
    else:
        ax.text(0.5, 0.5, "no batch-size sweep in this run", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("batch size")
    ax.set_ylabel("sentences / s")
    ax.grid(alpha=0.3)
    if sweep:
        ax.legend()
    ax = axes[1]
    ns = sorted(results)
    ax.plot(ns, [results[n]["claimex"]["run"]["sentences_per_second"] for n in ns], "o-", label="claimex run")
    ax.plot(ns, [results[n]["claimex"]["wall"]["sentences_per_second"] for n in ns], "o:", label="claimex whole process")
    pts = [(n, results[n]["previous"]["run"]["sentences_per_second"]) for n in ns if "previous" in results[n]]
    if pts:
        ax.plot(*zip(*pts), "x-", label="previous release run")
    for key, style, label in (("floor", "s--", "floor (bare model passes)"), ("peer", "^:", "peer (Python)"),
                              ("spacy", "d-.", "spaCy sm NER only")):
        pts = [(n, results[n][key]["sentences_per_second"]) for n in ns if key in results[n]]
        if pts:
            ax.plot(*zip(*pts), style, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(ns, [f"{n:,}" for n in ns])
    ax.minorticks_off()
    ax.set_xlabel("articles (N)")
    ax.set_ylabel("sentences / s")
    ax.set_title("throughput vs corpus size")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    b = next(iter(results.values()))["claimex"]
    fig.suptitle(f"claimex, {b['threads']} threads, batch {b['batch_size']}, {os.cpu_count()} CPUs")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"\nplot: {os.path.relpath(path, ROOT)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 1000], help="corpus sizes N (articles)")
    ap.add_argument("--threads", type=int, default=2, help="threads for claimex, the floor and the peer")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--compare-max-n", type=int, default=1000,
                    help="run floor/peer/spaCy only for N up to this (they take as long as claimex's model stages and more)")
    ap.add_argument("--peer-max-n", type=int, default=None,
                    help="run the peer only for N up to this (default: --compare-max-n); it is the slowest contender")
    ap.add_argument("--sweep", type=int, nargs="*", default=[8, 16, 32, 64], help="batch sizes for the sweep (none: skip)")
    ap.add_argument("--sweep-n", type=int, default=100, help="corpus size for the batch-size sweep")
    ap.add_argument("--sweep-peer", action="store_true", help="also run the peer at each batch size of the sweep")
    ap.add_argument("--chunk-docs", type=int, default=64,
                    help="on the smallest compared N, also time the floor fed this many documents per call, "
                         "as the pipeline's model stage is (0: skip)")
    ap.add_argument("--previous", default="e183e33",
                    help="git ref of the previous release to run side by side on the same corpus (default: v0.1, the two-model pipeline; empty: skip)")
    ap.add_argument("--weights", choices=["fp32", "shipped"], default="fp32",
                    help="fp32: fp32 copies of the model files for every contender (the peer loads fp32 in any case); "
                         "shipped: the files as they are (fp16)")
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32",
                    help="arithmetic of the forward passes, for claimex, the floor and the peer alike")
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--no-spacy", action="store_true")
    ap.add_argument("--no-plot", action="store_true")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workdir", help="keep corpora and outputs here (default: a temp dir, removed at the end)")
    ap.add_argument("--json", default=os.path.join(HERE, "results.json"), help="write the full record here")
    ap.add_argument("--plot", default=os.path.join(HERE, "throughput.png"))
    args = ap.parse_args()
    if args.peer_max_n is None:
        args.peer_max_n = args.compare_max_n
    check_setup(args)

    workdir = args.workdir or tempfile.mkdtemp(prefix="claimex-bench-")
    os.makedirs(workdir, exist_ok=True)
    global CLAIMEX, FLOOR
    try:
        # Snapshot the binaries: a rebuild during the benchmark must not change what is measured.
        os.makedirs(os.path.join(workdir, "bin"), exist_ok=True)
        for name in ("claimex", "bench_floor"):
            shutil.copy2(os.path.join(ROOT, "target", "release", name), os.path.join(workdir, "bin", name))
        CLAIMEX, FLOOR = (os.path.join(workdir, "bin", n) for n in ("claimex", "bench_floor"))
        if args.weights == "fp32":
            config = fp32_models(workdir, args)
            model_dir = os.path.join(workdir, "models-fp32", "multitask")
        else:
            model_dir = os.path.join(ROOT, "models", "multitask")
            config = write_config(workdir, model_dir, args.precision)
        previous = build_previous(args.previous) if args.previous else None
        print(f"bench: workdir {workdir}; {args.threads} threads, batch {args.batch_size}, {args.weights} weights, {args.precision} arithmetic, "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}", flush=True)
        results, sweep = {}, {}
        for n in args.sizes:
            print(f"N = {n}", flush=True)
            path = os.path.join(workdir, f"corpus-{n}.jsonl")
            docs, chars = corpus.build(n, path, args.seed)
            out = os.path.join(workdir, f"out-{n}")
            res = {"n": n, "corpus_chars": chars}
            res["claimex"] = run_claimex(path, out, config, args, args.batch_size, f"claimex N={n}", workdir)
            if previous:
                binary, prev_config, commit = previous
                res["previous"] = run_claimex(path, os.path.join(workdir, f"out-previous-{n}"), prev_config, args,
                                              args.batch_size, f"previous N={n}", workdir, binary)
                res["previous"]["commit"] = commit
                res["ratios"] = {"speedup_over_previous": res["claimex"]["run_seconds"] and
                                 res["previous"]["run_seconds"] / res["claimex"]["run_seconds"]}
            if n <= args.compare_max_n:
                docs_path = os.path.join(workdir, f"documents-{n}.jsonl")
                sent_path = os.path.join(workdir, f"sentences-{n}.txt")
                documents_of(out, docs_path, sent_path)
                compare(n, docs_path, sent_path, config, args, workdir, res, model_dir)
            results[n] = res
        if args.sweep:
            n = args.sweep_n
            path = os.path.join(workdir, f"corpus-{n}.jsonl")
            corpus.build(n, path, args.seed)
            docs_path = os.path.join(workdir, f"documents-sweep-{n}.jsonl")
            sent_path = os.path.join(workdir, f"sentences-sweep-{n}.txt")
            print(f"sweep on N = {n}", flush=True)
            for b in args.sweep:
                s = {"n": n}
                out = os.path.join(workdir, f"out-sweep-{b}")
                s["claimex"] = run_claimex(path, out, config, args, b, f"claimex batch {b}", workdir)
                if not os.path.exists(docs_path):
                    documents_of(out, docs_path, sent_path)
                r = measure([FLOOR, "--documents", docs_path, "--config", config, "--batch-size", str(b),
                             "--threads", str(args.threads)], f"floor batch {b}", workdir)
                s["floor"] = last_json(r, "bench_floor")
                if args.sweep_peer and not args.no_peer:
                    r = measure([sys.executable, os.path.join(HERE, "peer.py"), "--documents", docs_path,
                                 "--threads", str(args.threads), "--batch-size", str(b), "--model", model_dir,
                                 "--precision", args.precision], f"peer batch {b}", workdir)
                    s["peer"] = last_json(r, "bench/peer.py")
                sweep[b] = s
        report(results, sweep)
        record = {"args": vars(args), "cpus": os.cpu_count(), "results": results, "sweep": sweep,
                  "when": time.strftime("%Y-%m-%dT%H:%M:%S")}
        with open(args.json, "w") as f:
            json.dump(record, f, indent=1)
        print(f"record: {os.path.relpath(args.json, ROOT)}")
        if not args.no_plot:
            plot(results, sweep, args.plot)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

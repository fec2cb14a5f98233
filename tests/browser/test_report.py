#!/usr/bin/env python3
"""`claimex report`, tested in a real browser: Debian's chromium (`make browser` installs it)
driven by Playwright for Python (requirements-test.txt; Playwright's own browser download is not
used). A run over the seeds (samples/articles) plus hostile articles written here, then:

- the report shows one highlighted claim per line of claims.jsonl;
- a type filter shows exactly that type's claims, keeps its state in the URL, and a reload of
  that URL keeps it;
- the gold view's figures are `claimex eval --json --predictions OUT/claims.jsonl` on the same
  inputs, and its TP/FP/miss marks add up to them;
- no console errors or page errors; the hostile articles' `<script>`, `<img onerror>` and
  `javascript:` links render as text and run nothing;
- a screenshot of the seeds' gold report goes to target/report-seeds.png, for people to look at;
- 1,000 documents (the seeds' lines copied under new ids): the report's size and the time to the
  browser's `load` are printed, not asserted.

usage: tests/browser/test_report.py   (from the repository root, after `make build`)
"""
import json
import os
import subprocess
import sys
import tempfile
import time

from playwright.sync_api import sync_playwright

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(ROOT, "target", "release", "claimex")
CHROMIUM = "/usr/bin/chromium"
GOLD = "tests/fixtures/seeds.gold.jsonl"

# Each sets window.__xss or opens a dialog if it ever runs.
HOSTILE_TEXT = """Russia strongly opposes the new sanctions </script><script>window.__xss = 1; alert(1)</script> imposed by the European Union.

The minister proposed talks with NATO <img src=x onerror="window.__xss = 2; alert(2)"> next month in Geneva.

Terrorism remains the main threat to the region, the <a href="javascript:window.__xss=3">ministry</a> said.
"""
HOSTILE_HTML = """<html><head><title>Iran &lt;img src=x onerror=window.__xss=4&gt;</title></head><body>
<p>Iran condemned the strikes &lt;script&gt;window.__xss = 5&lt;/script&gt; on Syria, the foreign ministry said.</p>
<p>China called for an immediate ceasefire &lt;svg onload=window.__xss=6&gt; and new talks.</p></body></html>
"""
HOSTILE_RECORD = {
    "id": "feed-<script>",
    "url": "javascript:window.__xss=7",
    "text": "The United States supports the proposal \u2028 </script><script>window.__xss=9</script> of the United Nations.",
}


def claimex(*args):
    r = subprocess.run([BIN, *args], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, f"claimex {' '.join(args)}: exit {r.returncode}\n{r.stderr}"
    return r


def jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class Page:
    """A browser page that records console errors, page errors and dialogs."""

    def __init__(self, browser):
        self.page = browser.new_page(viewport={"width": 1280, "height": 1600})
        self.problems = []
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("dialog", lambda d: (self.problems.append(f"dialog: {d.message}"), d.dismiss()))

    def open(self, path, fragment=""):
        self.page.goto("file://" + path + fragment, wait_until="load")

    def count(self, selector):
        return self.page.locator(selector).count()


def check_claims_and_filter(page, out, claims, checks):
    page.open(os.path.join(out, "report.html"))
    assert page.count("button.claim") == len(claims), (page.count("button.claim"), len(claims))
    checks.append(f"{len(claims)} highlighted claims == lines of claims.jsonl")

    threats = sum(c["type"] == "threat" for c in claims)
    assert 0 < threats < len(claims)
    page.page.locator("input[name=type][value=threat]").check()
    page.page.wait_for_function("location.hash.includes('type=threat')")
    assert page.count("button.claim") == threats
    assert page.count("button.claim[data-type=threat]") == threats
    url = page.page.url
    page.page.reload(wait_until="load")
    assert page.page.url == url and "type=threat" in url
    assert page.page.locator("input[name=type][value=threat]").is_checked()
    assert page.count("button.claim") == threats
    page.page.locator("input[name=type][value=threat]").uncheck()
    page.page.wait_for_function("!location.hash.includes('type=threat')")
    assert page.count("button.claim") == len(claims)
    checks.append(f"type filter: {threats} threats shown, then all; state kept in the URL across a reload")

    # A link with the filter state opens the same view.
    page.open(os.path.join(out, "report.html"), "#type=stance&per=50")
    stances = sum(c["type"] == "stance" for c in claims)
    assert page.count("button.claim") == stances
    checks.append(f"a #type=stance link shows the {stances} stances")

    # Hovering a claim shows its JSON line.
    first = page.page.locator("button.claim").first
    first.hover()
    shown = json.loads(page.page.locator("#detail pre.json").text_content())
    assert shown in claims, shown
    checks.append("hovering a claim shows its JSON line")


def check_xss(page, out, checks):
    page.open(os.path.join(out, "report.html"), "#per=50")
    for button in page.page.locator("button.claim, button.miss").all():
        button.hover()
        button.focus()
    text = page.page.locator("body").inner_text()
    for literal in ["<script>window.__xss = 1; alert(1)</script>", "onerror=\"window.__xss = 2", "<script>window.__xss = 5</script>",
                    "javascript:window.__xss=7", "Iran <img src=x onerror=window.__xss=4>", "feed-<script>"]:
        assert literal in text, f"{literal!r} is not shown as text"
    assert page.page.evaluate("window.__xss") is None
    assert page.count("img") == 0 and page.count("svg[onload], [onerror], [onload]") == 0
    assert page.count("script") == 2, page.count("script")
    assert page.count("a[href^='javascript:' i]") == 0
    checks.append("hostile articles render as text: no script ran, no <img>, no javascript: link")


def check_gold(page, out, inputs, claims, checks):
    figures = json.loads(claimex("eval", "--json", "--gold", GOLD, "--predictions", os.path.join(out, "claims.jsonl"), *inputs).stdout)
    page.open(os.path.join(out, "gold.html"))
    cells = page.page.eval_on_selector_all("#gold [data-key]", "cs => cs.map(c => [c.dataset.key, c.dataset.value])")
    seen = set()
    for key, value in cells:
        want = figures
        for part in key.split("."):
            want = want[part]
        assert json.loads(value) == want, (key, value, want)
        seen.add(key)
    for t in ["stance", "proposal", "threat"]:
        for m in ["precision", "recall", "f1", "tp", "fp", "fn"]:
            assert f"per_type.{t}.{m}" in seen and f"overall.{m}" in seen
    accuracies = [k for k, v in figures.items() if isinstance(v, dict) and "correct" in v and "total" in v]
    assert all(f"{k}.accuracy" in seen for k in accuracies) and {"actor", "polarity"} <= set(accuracies)
    assert "modality.accuracy.accuracy" in seen and "modality.accuracy.total" in seen
    o = figures["overall"]
    assert page.count("button.claim") == len(claims)
    assert (page.count("button.claim.out-tp"), page.count("button.claim.out-fp"), page.count("button.miss")) == (o["tp"], o["fp"], o["fn"])
    # The top of the page (figures, overview, filters, the first document), a claim's details shown.
    page.page.locator("button.claim").first.focus()
    page.page.evaluate("window.scrollTo(0, 0)")
    page.page.screenshot(path=os.path.join(ROOT, "target", "report-seeds.png"))
    checks.append("screenshot: target/report-seeds.png")
    page.page.locator("button.miss").first.hover()
    assert json.loads(page.page.locator("#detail pre.json").text_content())["doc"]
    checks.append(f"gold view: {len(cells)} figures == claimex eval --json; TP {o['tp']}, FP {o['fp']}, misses {o['fn']} marked")


def check_thousand(browser, out, tmp, checks):
    """1,000 documents: the seeds' lines again and again under new ids."""
    docs, claims = jsonl(os.path.join(out, "documents.jsonl")), jsonl(os.path.join(out, "claims.jsonl"))
    docs = [d for d in docs if d["id"][:3].isdigit()]
    big = os.path.join(tmp, "big")
    os.mkdir(big)
    with open(os.path.join(big, "documents.jsonl"), "w") as fd, open(os.path.join(big, "claims.jsonl"), "w") as fc:
        for i in range(1000):
            d = dict(docs[i % len(docs)])
            old, d["id"] = d["id"], f"batch{i:04d}-{d['id']}"
            fd.write(json.dumps(d) + "\n")
            for c in claims:
                if c["doc"] == old:
                    fc.write(json.dumps(dict(c, doc=d["id"], id=d["id"] + c["id"][len(old):])) + "\n")
    t = time.time()
    claimex("report", big)
    made = time.time() - t
    path = os.path.join(big, "report.html")
    page = Page(browser)
    t = time.time()
    page.open(path)
    loaded = time.time() - t
    timing = page.page.evaluate("(() => { const n = performance.getEntriesByType('navigation')[0]; return [n.loadEventEnd, n.domContentLoadedEventEnd]; })()")
    assert "of 1000" in page.page.locator(".pager .count").first.text_content()
    assert not page.problems, page.problems
    checks.append(f"1,000 documents: report {os.path.getsize(path) / 1e6:.1f} MB made in {made:.1f}s; "
                  f"load event at {timing[0]:.0f} ms (DOMContentLoaded {timing[1]:.0f} ms), goto {loaded:.2f}s")


def main():
    if not os.path.exists(CHROMIUM):
        sys.exit(f"{CHROMIUM} is missing: run `make browser` (Debian's chromium)")
    checks = []
    with tempfile.TemporaryDirectory(prefix="claimex-report-") as tmp:
        hostile = os.path.join(tmp, "hostile")
        os.mkdir(hostile)
        with open(os.path.join(hostile, "hostile.txt"), "w") as f:
            f.write(HOSTILE_TEXT)
        with open(os.path.join(hostile, "hostile-page.html"), "w") as f:
            f.write(HOSTILE_HTML)
        with open(os.path.join(hostile, "feed.jsonl"), "w") as f:
            f.write(json.dumps(HOSTILE_RECORD) + "\n")
        out = os.path.join(tmp, "out")
        inputs = ["samples/articles", hostile]
        claimex("run", "--quiet", "--out", out, *inputs)
        claims = jsonl(os.path.join(out, "claims.jsonl"))
        assert any(c["doc"].startswith("hostile") or c["doc"].startswith("feed") for c in claims), "the hostile articles have no claims"
        claimex("report", out)
        claimex("report", out, "--gold", GOLD, "-o", os.path.join(out, "gold.html"))

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = Page(browser)
            check_claims_and_filter(page, out, claims, checks)
            check_xss(page, out, checks)
            check_gold(page, out, inputs, claims, checks)
            assert not page.problems, page.problems
            checks.append("no console errors, page errors or dialogs")
            check_thousand(browser, out, tmp, checks)
            browser.close()
    for c in checks:
        print("ok  " + c)
    print(f"browser test: {len(checks)} checks passed")


if __name__ == "__main__":
    main()

// claimex report: builds the page from the JSON in #claimex-data. Article text is untrusted, so
// the DOM is made with createElement and textContent (append of strings) only, never innerHTML;
// href attributes are only "#…" links made here or http(s) URLs.
"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("claimex-data").textContent);
  const TYPES = ["stance", "proposal", "threat"];
  const LETTER = { stance: "S", proposal: "P", threat: "T" };
  const PER_PAGE = [10, 20, 50, 100];
  const SVG = "http://www.w3.org/2000/svg";
  const docs = DATA.documents;
  const claims = DATA.claims;
  const gold = DATA.gold;

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    setAttrs(e, attrs);
    for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
    return e;
  }
  function svg(tag, attrs, ...children) {
    const e = document.createElementNS(SVG, tag);
    setAttrs(e, attrs);
    for (const c of children) e.append(c);
    return e;
  }
  function setAttrs(e, attrs) {
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") e.setAttribute("class", v);
      else e.setAttribute(k, v === true ? "" : String(v));
    }
  }
  const fmt = (x) => (x === null || x === undefined ? "n/a" : x.toFixed(3));
  const actorName = (a) => (a ? a.canonical || a.text : "");
  // Only web links become links: a "javascript:" or "data:" URL from an article stays text.
  function safeUrl(u) {
    try {
      const url = new URL(u);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  // Claims and misses by document and sentence.
  for (const d of docs) {
    d.claims = [];
    d.misses = [];
  }
  let orphans = 0;
  claims.forEach((c, i) => {
    c.i = i;
    c.actorName = actorName(c.claim.actor);
    if (c.doc === null) orphans++;
    else docs[c.doc].claims.push(c);
  });
  if (gold) gold.misses.forEach((m, i) => { m.i = i; docs[m.doc].misses.push(m); });

  function searchText(x, line) {
    if (x.search === undefined) {
      const d = docs[x.doc];
      const a = line.actor;
      const parts = [line.sentence, d.id, d.title,
        typeof a === "string" ? a : a && a.text, a && a.canonical, line.target && line.target.text];
      x.search = parts.filter(Boolean).join("\n").toLowerCase();
    }
    return x.search;
  }

  // ---- State, kept in the URL's fragment so that links and reloads keep the view. ----
  const DEFAULT = { type: [], actor: "", modality: "", category: "", outcome: "", q: "", doc: "", page: 1, per: 20 };
  const FILTERS = ["actor", "modality", "category", "outcome", "q", "doc"];
  function readState() {
    const p = new URLSearchParams(location.hash.slice(1));
    const s = Object.assign({}, DEFAULT, { type: [] });
    if (p.get("type")) s.type = p.get("type").split(",").filter((t) => TYPES.includes(t));
    for (const k of FILTERS) s[k] = p.get(k) || "";
    s.page = Math.max(1, parseInt(p.get("page"), 10) || 1);
    const per = parseInt(p.get("per"), 10);
    s.per = PER_PAGE.includes(per) ? per : DEFAULT.per;
    return s;
  }
  function hashOf(s) {
    const p = new URLSearchParams();
    if (s.type.length) p.set("type", s.type.join(","));
    for (const k of FILTERS) if (s[k]) p.set(k, s[k]);
    if (s.page > 1) p.set("page", String(s.page));
    if (s.per !== DEFAULT.per) p.set("per", String(s.per));
    return "#" + p.toString();
  }
  const filtering = (s) => s.type.length > 0 || FILTERS.some((k) => k !== "doc" && s[k]);
  let state = readState();

  function claimShown(c, s) {
    const k = c.claim;
    if (s.type.length && !s.type.includes(k.type)) return false;
    if (s.actor && c.actorName !== s.actor) return false;
    if (s.modality && k.modality !== s.modality) return false;
    if (s.category && !(k.categories || []).includes(s.category)) return false;
    if (s.outcome && c.outcome !== s.outcome) return false;
    if (s.q && !searchText(c, k).includes(s.q.toLowerCase())) return false;
    return true;
  }
  function missShown(m, s) {
    const g = m.line;
    if (s.type.length && !s.type.includes(g.type)) return false;
    if (s.actor && (g.actor || "").toLowerCase() !== s.actor.toLowerCase()) return false;
    if (s.modality && g.modality !== s.modality) return false;
    if (s.category && !(g.categories || []).includes(s.category)) return false;
    if (s.outcome && s.outcome !== "miss") return false;
    if (s.q && !searchText(m, g).includes(s.q.toLowerCase())) return false;
    return true;
  }

  // ---- Header note, gold figures, overview, filters, legend: made once. ----
  function note() {
    const n = document.getElementById("note");
    n.textContent = "";
    n.append(`${DATA.out}: ${docs.length} documents, ${claims.length} claims`);
    if (gold) n.append(`; against ${gold.file}`);
    if (orphans) n.append(`; ${orphans} claims name a document that documents.jsonl does not have (not shown)`);
    n.append(". Hover over or focus a claim to see its JSON line.");
  }

  function goldSection() {
    const sec = document.getElementById("gold");
    if (!gold) return;
    sec.hidden = false;
    const r = gold.report;
    const cell = (key, v, digits) => el("td", { "data-key": key, "data-value": JSON.stringify(v) }, digits ? fmt(v) : String(v));
    const tbody = el("tbody");
    const row = (label, key, p) => tbody.append(el("tr", null, el("th", { scope: "row" }, label),
      cell(key + ".precision", p.precision, true), cell(key + ".recall", p.recall, true), cell(key + ".f1", p.f1, true),
      cell(key + ".tp", p.tp), cell(key + ".fp", p.fp), cell(key + ".fn", p.fn)));
    for (const [t, p] of Object.entries(r.per_type)) row(t, "per_type." + t, p);
    row("overall", "overall", r.overall);
    row("threat categories", "categories", r.categories);
    const head = el("thead", null, el("tr", null, ...["", "P", "R", "F1", "TP", "FP", "FN"].map((h) => el("th", { scope: "col" }, h))));
    // Every accuracy the eval reports: actor and polarity at the top level, modality's inside
    // its own scores (keys are paths into eval's JSON).
    const isAccuracy = (a) => a && typeof a === "object" && "correct" in a && "total" in a;
    const accuracies = Object.entries(r).filter(([, a]) => isAccuracy(a)).map(([k, a]) => [k, k, a]);
    if (r.modality && isAccuracy(r.modality.accuracy)) accuracies.push(["modality", "modality.accuracy", r.modality.accuracy]);
    const acc = el("tbody");
    for (const [name, k, a] of accuracies) {
      acc.append(el("tr", null, el("th", { scope: "row" }, `${name} accuracy`),
        el("td", { "data-key": k + ".accuracy", "data-value": JSON.stringify(a.accuracy) }, fmt(a.accuracy)),
        cell(k + ".correct", a.correct), el("td", null, "of"), cell(k + ".total", a.total)));
    }
    const misses = gold.misses.length;
    sec.append(
      el("h2", { id: "gold-h" }, "Against the gold claims"),
      el("p", { class: "note" }, `${gold.file}, scored by claimex eval's code on this folder's documents: `
        + `${r.overall.tp} true positives, ${r.overall.fp} false positives, ${misses} misses, marked in the text.`),
      el("div", { class: "cols" }, el("table", { id: "prf" }, head, tbody), el("table", { id: "accuracy" }, acc)));
  }

  function overview() {
    const sec = document.getElementById("overview");
    const byType = {}, byModality = {}, byCategory = {}, actors = new Map();
    for (const c of claims) {
      const k = c.claim;
      byType[k.type] = (byType[k.type] || 0) + 1;
      if (k.modality) byModality[k.modality] = (byModality[k.modality] || 0) + 1;
      for (const cat of k.categories || []) byCategory[cat] = (byCategory[cat] || 0) + 1;
      if (!c.actorName) continue;
      if (!actors.has(c.actorName)) actors.set(c.actorName, { name: c.actorName, total: 0, seg: {} });
      const a = actors.get(c.actorName);
      const seg = k.type === "stance" ? "stance-" + (k.polarity || "none") : k.type;
      a.total++;
      a.seg[seg] = (a.seg[seg] || 0) + 1;
    }
    const link = (patch, text) => el("a", { href: hashOf(Object.assign({}, DEFAULT, patch)) }, text);
    const cards = el("div", { class: "cards" },
      el("div", null, el("b", null, String(docs.length)), "documents"),
      el("div", null, el("b", null, String(claims.length)), "claims"),
      ...TYPES.map((t) => el("div", null, el("b", null, String(byType[t] || 0)), link({ type: [t] }, `${LETTER[t]} ${t}`))));
    const modalities = Object.entries(byModality);
    const modalityBox = el("div", null, el("h3", null, "By modality"), modalities.length
      ? el("table", null, el("tbody", null, ...modalities.map(([m, n]) => el("tr", null, el("td", null, link({ modality: m }, m)), el("td", null, String(n))))),
        claims.length > modalities.reduce((s, [, n]) => s + n, 0)
          ? el("tr", null, el("td", null, "not given"), el("td", null, String(claims.length - modalities.reduce((s, [, n]) => s + n, 0)))) : null)
      : el("p", { class: "note" }, "These claims carry no modality."));
    const cats = Object.entries(byCategory).sort((a, b) => b[1] - a[1]);
    const catBox = el("div", null, el("h3", null, "Threat categories"), cats.length
      ? el("table", null, el("tbody", null, ...cats.map(([c, n]) => el("tr", null, el("td", null, link({ category: c }, c)), el("td", null, String(n))))))
      : el("p", { class: "note" }, "No threats."));
    sec.append(el("h2", null, "Overview"), cards, el("div", { class: "cols" }, actorChart([...actors.values()]), modalityBox, catBox));
  }

  // The actors with the most claims: one stacked bar each, by type and stance polarity.
  const SEGMENTS = [["stance-support", "stance, support"], ["stance-oppose", "stance, oppose"], ["stance-none", "stance, no polarity"],
    ["proposal", "proposal"], ["threat", "threat"]];
  function actorChart(actors) {
    const top = actors.sort((a, b) => b.total - a.total || a.name.localeCompare(b.name)).slice(0, 12);
    const box = el("div", null, el("h3", null, "Actors with the most claims"));
    if (!top.length) return box;
    const max = top[0].total, labelW = 210, barW = 300, rowH = 22;
    const chart = svg("svg", { class: "chart", width: labelW + barW + 50, height: top.length * rowH, role: "img",
      "aria-label": "Claims per actor, by type and polarity" });
    top.forEach((a, i) => {
      const y = i * rowH;
      const name = a.name.length > 30 ? a.name.slice(0, 29) + "…" : a.name;
      chart.append(svg("a", { href: hashOf(Object.assign({}, DEFAULT, { actor: a.name })) },
        svg("text", { x: 0, y: y + 15 }, name), svg("title", null, `${a.name}: show its claims`)));
      let x = labelW;
      for (const [seg, label] of SEGMENTS) {
        const n = a.seg[seg] || 0;
        if (!n) continue;
        const w = (n / max) * barW;
        chart.append(svg("rect", { class: "seg-" + seg, x: x, y: y + 4, width: w, height: rowH - 8 }, svg("title", null, `${a.name}: ${n} ${label}`)));
        x += w;
      }
      chart.append(svg("text", { x: x + 4, y: y + 15 }, String(a.total)));
    });
    const key = el("p", { class: "note" }, ...SEGMENTS.flatMap(([seg, label]) => [el("span", { class: "key seg-" + seg }), label]));
    box.append(chart, key);
    return box;
  }

  // Filter controls; their values come from the state, changes go to the URL.
  const controls = {};
  function filters() {
    const form = document.getElementById("filters");
    form.addEventListener("submit", (e) => e.preventDefault());
    const types = el("fieldset", null, el("legend", null, "Type"));
    for (const t of TYPES) {
      controls[t] = el("input", { type: "checkbox", value: t, name: "type" });
      types.append(el("label", { class: "chip ty-" + t }, controls[t], el("span", { class: "letter" }, LETTER[t]), t));
    }
    const count = (key) => {
      const m = new Map();
      for (const c of claims) for (const v of key(c)) if (v) m.set(v, (m.get(v) || 0) + 1);
      return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    };
    const select = (name, label, values) => {
      controls[name] = el("select", { name: name }, el("option", { value: "" }, "any"),
        ...values.map(([v, n]) => el("option", { value: v }, n === null ? v : `${v} (${n})`)));
      return el("label", null, label + " ", controls[name]);
    };
    form.append(types,
      select("actor", "Actor", count((c) => [c.actorName])),
      select("modality", "Modality", count((c) => [c.claim.modality])),
      select("category", "Category", count((c) => c.claim.categories || [])));
    if (gold) form.append(select("outcome", "Outcome", [["tp", null], ["fp", null], ["miss", null]]));
    controls.q = el("input", { type: "search", name: "q", placeholder: "sentence, actor, target…" });
    form.append(el("label", null, "Search ", controls.q), el("a", { href: "#" }, "clear filters"));
    form.addEventListener("change", fromControls);
    let timer = 0;
    controls.q.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(fromControls, 150); });
  }
  function fromControls() {
    const s = Object.assign({}, state, { page: 1 });
    s.type = TYPES.filter((t) => controls[t].checked);
    for (const k of ["actor", "modality", "category", "outcome", "q"]) if (controls[k]) s[k] = controls[k].value;
    go(s);
  }
  function toControls() {
    for (const t of TYPES) controls[t].checked = state.type.includes(t);
    for (const k of ["actor", "modality", "category", "outcome", "q"]) {
      const c = controls[k];
      if (!c) continue;
      // A value from a link that the data does not have still filters (to nothing): keep it shown.
      if (c.tagName === "SELECT" && state[k] && ![...c.options].some((o) => o.value === state[k])) c.append(el("option", { value: state[k] }, state[k]));
      c.value = state[k];
    }
  }
  function go(s) {
    state = s;
    history.replaceState(null, "", hashOf(s) === "#" ? location.pathname + location.search : hashOf(s));
    render();
  }

  function legend() {
    const box = document.getElementById("legend");
    box.append(el("strong", null, "Legend:"));
    const under = { stance: "solid underline", proposal: "double underline", threat: "wavy underline" };
    for (const t of TYPES) box.append(el("span", null, el("mark", { class: "sent ty-" + t }, t + " sentence"), ` (${under[t]}, tag `, el("span", { class: "chip ty-" + t }, el("span", { class: "letter" }, LETTER[t])), ")"));
    box.append(el("span", null, el("span", { class: "actor" }, "actor"), " (bold, solid line)"), el("span", null, el("span", { class: "target" }, "target"), " (italic, dotted line)"));
    if (gold) {
      box.append(el("span", { class: "chip out-tp" }, el("span", { class: "badge tp" }, "TP"), "true positive (solid border)"),
        el("span", { class: "chip out-fp" }, el("span", { class: "badge fp" }, "FP"), "false positive (dashed border)"),
        el("span", null, el("mark", { class: "sent missed" }, "missed sentence"), " ", el("span", { class: "chip miss" }, "✗ missed"), " gold claim not found (dotted)"));
    }
  }

  // ---- The document list: only the current page's documents are built. ----
  function render() {
    toControls();
    const s = state;
    let shown;
    if (s.doc) shown = docs.filter((d) => d.id === s.doc);
    else if (!filtering(s)) shown = docs;
    else shown = docs.filter((d) => d.claims.some((c) => claimShown(c, s)) || d.misses.some((m) => missShown(m, s)));
    const pages = Math.max(1, Math.ceil(shown.length / s.per));
    const page = Math.min(s.page, pages);
    const from = (page - 1) * s.per;
    const list = document.getElementById("doclist");
    list.textContent = "";
    if (s.doc) list.append(el("p", null, `Document ${s.doc} only — `, el("a", { href: hashOf(Object.assign({}, s, { doc: "" })) }, "all documents")));
    if (!shown.length) list.append(el("p", { class: "empty" }, "No document has claims that match these filters."));
    for (const d of shown.slice(from, from + s.per)) list.append(documentView(d, s));
    for (const nav of document.querySelectorAll(".pager")) pager(nav, s, page, pages, from, shown.length);
  }

  function pager(nav, s, page, pages, from, total) {
    nav.textContent = "";
    const to = (p, text) => (p >= 1 && p <= pages && p !== page ? el("a", { href: hashOf(Object.assign({}, s, { page: p })) }, text) : el("span", { "aria-disabled": "true" }, text));
    const per = el("select", { "aria-label": "documents per page" }, ...PER_PAGE.map((n) => el("option", { value: n }, `${n} per page`)));
    per.value = String(s.per);
    per.addEventListener("change", () => go(Object.assign({}, state, { per: parseInt(per.value, 10), page: 1 })));
    nav.append(to(1, "« first"), to(page - 1, "‹ previous"),
      el("span", { class: "count" }, total ? `documents ${from + 1}–${Math.min(from + s.per, total)} of ${total} (page ${page} of ${pages})` : "no documents"),
      to(page + 1, "next ›"), to(pages, "last »"), per);
  }

  function documentView(d, s) {
    const claimsHere = d.claims.filter((c) => claimShown(c, s));
    const missesHere = d.misses.filter((m) => missShown(m, s));
    const url = d.url && safeUrl(d.url);
    const outcomes = gold ? ` (${d.claims.filter((c) => c.outcome === "tp").length} TP, ${d.claims.filter((c) => c.outcome === "fp").length} FP, ${d.misses.length} missed)` : "";
    const head = el("header", null,
      el("h3", null, el("a", { href: hashOf(Object.assign({}, DEFAULT, { doc: d.id })) }, d.title || d.id)),
      el("p", { class: "meta" }, el("span", null, d.id), el("span", null, d.origin),
        d.published && el("span", null, d.published), d.dateline && el("span", null, d.dateline),
        d.url && (url ? el("a", { href: url, rel: "noopener noreferrer nofollow" }, d.url) : el("span", null, d.url)),
        el("span", null, `${d.claims.length} claims${outcomes}`)));
    const bySentence = new Map();
    const unplaced = [];
    const add = (si, x) => {
      if (si === null) return unplaced.push(x);
      if (!bySentence.has(si)) bySentence.set(si, { claims: [], misses: [] });
      bySentence.get(si)[x.claim ? "claims" : "misses"].push(x);
    };
    claimsHere.forEach((c) => add(c.sentence, c));
    missesHere.forEach((m) => add(m.sentence, m));
    const text = el("div", { class: "text" });
    if (unplaced.length) text.append(el("div", { class: "unplaced" }, "Not placed in a sentence: ", ...unplaced.map(tag)));
    let p = null, para = null;
    d.sentences.forEach((sent, si) => {
      if (!p || sent.paragraph !== para) {
        p = el("p", { class: sent.quoted ? "quoted" : null });
        text.append(p);
        para = sent.paragraph;
      }
      const here = bySentence.get(si);
      if (!here) return p.append(sent.text, " ");
      const types = [...new Set(here.claims.map((c) => c.claim.type))];
      const mark = el("mark", { class: ["sent", ...types.map((t) => "ty-" + t), here.misses.length ? "missed" : ""].join(" ").trim() });
      if (types.length > 1) mark.style.backgroundImage = `linear-gradient(${types.map((t) => `var(--${t}-bg)`).join(", ")})`;
      mark.append(...marked(sent.text, here.claims));
      p.append(mark, " ", ...here.claims.map(tag), ...here.misses.map(tag), " ");
    });
    return el("article", { class: "doc" }, head, text);
  }

  // The sentence's text in pieces, the actors and targets of its claims marked (UTF-16 offsets).
  function marked(text, cs) {
    const ranges = [];
    for (const c of cs) {
      const a = c.claim.actor;
      if (c.actor) ranges.push({ start: c.actor[0], end: c.actor[1], cls: "actor", title: `actor: ${a.text}${a.canonical && a.canonical !== a.text ? " → " + a.canonical : ""}` });
      if (c.target) ranges.push({ start: c.target[0], end: c.target[1], cls: "target", title: "target" });
    }
    const cuts = [...new Set([0, text.length, ...ranges.flatMap((r) => [r.start, r.end])])].sort((a, b) => a - b);
    const out = [];
    for (let i = 0; i + 1 < cuts.length; i++) {
      const [a, b] = [cuts[i], cuts[i + 1]];
      const on = ranges.filter((r) => r.start <= a && b <= r.end);
      const piece = text.slice(a, b);
      out.push(on.length ? el("span", { class: [...new Set(on.map((r) => r.cls))].join(" "), title: [...new Set(on.map((r) => r.title))].join("; ") }, piece) : piece);
    }
    return out;
  }

  // A claim's tag (type letter and badges) or a miss's; hovering or focusing shows the details.
  function tag(x) {
    if (!x.claim) {
      const g = x.line;
      return el("button", { type: "button", class: "miss", "data-miss": x.i }, `✗ missed ${g.type}`, g.actor ? el("span", { class: "badge" }, g.actor) : null);
    }
    const k = x.claim;
    const a = k.actor;
    const pol = k.polarity ? el("span", { class: "badge " + k.polarity }, (k.polarity === "support" ? "+ " : "− ") + k.polarity) : null;
    return el("button", { type: "button", class: `claim ty-${k.type}${x.outcome ? " out-" + x.outcome : ""}`, "data-claim": x.i, "data-type": k.type },
      el("span", { class: "letter" }, LETTER[k.type] || "?"), k.type, pol,
      k.modality ? el("span", { class: "badge" }, k.modality) : null,
      ...(k.categories || []).map((c) => el("span", { class: "badge" }, c)),
      el("span", { class: "badge", title: "confidence" }, typeof k.confidence === "number" ? k.confidence.toFixed(2) : "?"),
      a ? el("span", { class: "badge", title: "actor" }, `${actorName(a)} · ${k.attribution ? k.attribution + ", " : ""}${a.origin}`) : null,
      x.outcome ? el("span", { class: "badge " + x.outcome }, x.outcome.toUpperCase()) : null);
  }

  function showDetail(target) {
    const box = document.getElementById("detail");
    const claimIndex = target.getAttribute("data-claim");
    const x = claimIndex !== null ? claims[+claimIndex] : gold.misses[+target.getAttribute("data-miss")];
    const close = el("button", { type: "button", class: "close", "aria-label": "close" }, "×");
    close.addEventListener("click", () => { box.hidden = true; });
    const rows = [];
    const row = (k, v) => { if (v !== null && v !== undefined && v !== "") rows.push(el("dt", null, k), el("dd", null, String(v))); };
    let title, line;
    if (x.claim) {
      const k = x.claim, a = k.actor;
      title = `${k.type} claim in ${docs[x.doc] ? docs[x.doc].id : k.doc}${x.outcome ? ` (${x.outcome === "tp" ? "true positive" : "false positive"})` : ""}`;
      if (a) {
        row("actor", a.text);
        row("canonical", a.canonical || "(unresolved)");
        row("label", a.label);
        row("affiliation", a.affiliation);
        row("attribution", [k.attribution && "rule " + k.attribution, a.origin && "origin " + a.origin].filter(Boolean).join(", "));
      } else row("actor", "(none)");
      row("target", k.target && k.target.text);
      row("polarity", k.polarity);
      row("modality", k.modality);
      row("categories", (k.categories || []).join(", "));
      row("confidence", k.confidence);
      line = JSON.stringify(k);
    } else {
      title = `missed gold ${x.line.type} claim in ${docs[x.doc].id}`;
      row("gold actor", x.line.actor);
      row("polarity", x.line.polarity);
      line = JSON.stringify(x.line);
    }
    box.textContent = "";
    box.append(close, el("strong", null, title), el("dl", null, ...rows), el("pre", { class: "json" }, line));
    box.hidden = false;
  }

  note();
  goldSection();
  overview();
  filters();
  legend();
  render();
  const list = document.getElementById("doclist");
  const onTag = (e) => { const t = e.target.closest && e.target.closest("button.claim, button.miss"); if (t) showDetail(t); };
  list.addEventListener("mouseover", onTag);
  list.addEventListener("focusin", onTag);
  window.addEventListener("hashchange", () => {
    const page = state.page;
    state = readState();
    render();
    if (state.page !== page) document.getElementById("docs").scrollIntoView();
  });
})();

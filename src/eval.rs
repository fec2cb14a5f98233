//! `claimex eval`: predicted claims against labeled fixtures, as ../spec/claims.md defines it.
//! A prediction matches a gold claim of the same document and type when their sentence spans
//! overlap by at least half of the shorter; every document given counts as fully labeled.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::document::{Document, Modality};

pub const TYPES: [&str; 3] = ["stance", "proposal", "threat"];

#[derive(Clone, Debug, Deserialize)]
pub struct GoldClaim {
    pub doc: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub sentence: String,
    pub actor: Option<String>,
    #[serde(default)]
    pub actor_alternatives: Vec<String>,
    pub polarity: Option<String>,
    #[serde(default)]
    pub categories: Vec<String>,
    /// Absent in fixtures labeled before the spec had modality: those claims are left out of
    /// the modality scores.
    #[serde(default)]
    pub modality: Option<Modality>,
}

/// The fields of a claims.jsonl line that eval reads.
#[derive(Clone, Debug, Deserialize)]
pub struct PredictedClaim {
    pub doc: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub start: usize,
    pub end: usize,
    pub actor: Option<PredictedActor>,
    /// The attribution rule that chose the actor (absent in outputs of older releases).
    #[serde(default)]
    pub attribution: Option<String>,
    pub polarity: Option<String>,
    #[serde(default)]
    pub categories: Vec<String>,
    #[serde(default)]
    pub modality: Option<Modality>,
    #[serde(default)]
    pub confidence: f64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct PredictedActor {
    pub text: String,
    pub canonical: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Counts {
    pub tp: usize,
    pub fp: usize,
    #[serde(rename = "fn")]
    pub fn_: usize,
}

#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Prf {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub tp: usize,
    pub fp: usize,
    #[serde(rename = "fn")]
    pub fn_: usize,
}

impl Counts {
    fn add(&mut self, o: Counts) {
        self.tp += o.tp;
        self.fp += o.fp;
        self.fn_ += o.fn_;
    }

    pub fn prf(self) -> Prf {
        let p = ratio(self.tp, self.tp + self.fp);
        let r = ratio(self.tp, self.tp + self.fn_);
        let f1 = if p + r > 0.0 { 2.0 * p * r / (p + r) } else { 0.0 };
        Prf { precision: p, recall: r, f1, tp: self.tp, fp: self.fp, fn_: self.fn_ }
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Accuracy {
    pub correct: usize,
    pub total: usize,
    pub accuracy: Option<f64>,
}

impl Accuracy {
    fn new(correct: usize, total: usize) -> Self {
        Accuracy { correct, total, accuracy: (total > 0).then(|| correct as f64 / total as f64) }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub overall: Prf,
    pub per_type: BTreeMap<String, Prf>,
    pub actor: Accuracy,
    /// Actor accuracy of the matched claims each attribution rule chose the actor of ("none":
    /// no actor given).
    pub actor_by_rule: BTreeMap<String, RuleScores>,
    pub polarity: Accuracy,
    pub categories: Prf,
    /// Over matched claims whose gold line has a modality.
    pub modality: ModalityScores,
    pub per_document: BTreeMap<String, Prf>,
    /// confusion[gold type or "none"][predicted type or "none"].
    pub confusion: BTreeMap<String, BTreeMap<String, usize>>,
}

/// How one attribution rule did on matched claims.
#[derive(Clone, Debug, Serialize)]
pub struct RuleScores {
    /// Over claims whose gold line names an actor.
    pub accuracy: Accuracy,
    /// Claims whose gold actor is null but the rule named one.
    pub null_gold: usize,
}

/// A gold claim located in its document.
#[derive(Clone, Debug, Serialize)]
pub struct ModalityScores {
    pub accuracy: Accuracy,
    /// Per gold modality: recall (and precision) of predicting it.
    pub per_class: BTreeMap<Modality, Prf>,
    /// Rows gold, columns predicted.
    pub confusion: BTreeMap<Modality, BTreeMap<Modality, usize>>,
}

impl ModalityScores {
    fn new(pairs: &[(Modality, Modality)]) -> Self {
        let mut confusion: BTreeMap<Modality, BTreeMap<Modality, usize>> = BTreeMap::new();
        for &(g, p) in pairs {
            *confusion.entry(g).or_default().entry(p).or_default() += 1;
        }
        let per_class = Modality::ALL
            .iter()
            .map(|&m| {
                let tp = pairs.iter().filter(|&&(g, p)| g == m && p == m).count();
                let fp = pairs.iter().filter(|&&(g, p)| g != m && p == m).count();
                let fn_ = pairs.iter().filter(|&&(g, p)| g == m && p != m).count();
                (m, Counts { tp, fp, fn_ }.prf())
            })
            .collect();
        let correct = pairs.iter().filter(|(g, p)| g == p).count();
        ModalityScores { accuracy: Accuracy::new(correct, pairs.len()), per_class, confusion }
    }
}

struct Located<'g> {
    gold: &'g GoldClaim,
    start: usize,
    end: usize,
}

/// Finds `needle` in `haystack` ignoring differences in whitespace; code-point span.
/// Where a gold sentence (visible text) lies in a document, in source code points: found in the
/// visible text and mapped back (an HTML sentence may have tags inside), else in the source as is.
fn locate_in(doc: &Document, sentence: &str) -> Option<(usize, usize)> {
    if let Some((a, b)) = locate(&doc.clean.text, sentence) {
        let span = doc.clean.to_source(a, b);
        return Some((span.start, span.end));
    }
    locate(&doc.source, sentence)
}

pub fn locate(haystack: &str, needle: &str) -> Option<(usize, usize)> {
    let (norm, map) = squash(haystack);
    let (want, _) = squash(needle.trim());
    let at = norm.find(&want)?;
    let start = norm[..at].chars().count();
    let len = want.chars().count();
    Some((map[start], map[start + len - 1] + 1))
}

/// Text with whitespace runs collapsed to one space, and each char's code-point index.
fn squash(text: &str) -> (String, Vec<usize>) {
    let mut out = String::new();
    let mut map = Vec::new();
    let mut space = false;
    for (i, c) in text.chars().enumerate() {
        if c.is_whitespace() {
            if !space {
                out.push(' ');
                map.push(i);
            }
            space = true;
        } else {
            out.push(c);
            map.push(i);
            space = false;
        }
    }
    (out, map)
}

fn overlaps(a: (usize, usize), b: (usize, usize)) -> bool {
    let ov = a.1.min(b.1).saturating_sub(a.0.max(b.0));
    let shorter = (a.1 - a.0).min(b.1 - b.0);
    shorter > 0 && 2 * ov >= shorter
}

/// Scores predictions for the given documents (id → source text).
pub fn score(sources: &BTreeMap<String, Document>, gold: &[GoldClaim], predicted: &[PredictedClaim]) -> Result<Report> {
    score_with_outcomes(sources, gold, predicted).map(|(report, _)| report)
}

/// Claim by claim, what [`score`] counted (`claimex report` marks them in the text).
#[derive(Clone, Debug, Default)]
pub struct Outcomes {
    /// Per predicted claim, in input order: Some(true) matched a gold claim (true positive),
    /// Some(false) did not (false positive), None its document was not scored.
    pub predicted: Vec<Option<bool>>,
    /// Per gold claim, in input order; None when its document was not scored.
    pub gold: Vec<Option<GoldOutcome>>,
}

#[derive(Clone, Copy, Debug)]
pub struct GoldOutcome {
    /// Where the gold sentence lies in its document, in code points of the source.
    pub start: usize,
    pub end: usize,
    /// Whether a prediction matched it (false: a miss).
    pub matched: bool,
}

/// [`score`], with the outcome of every claim.
/// The lowest threshold a precision–recall curve starts at: `eval --curves` makes claims down
/// to it and sweeps the thresholds up from there.
pub const CURVE_FLOOR: f32 = 0.05;

/// One point of a precision–recall curve: every claim type at this threshold.
#[derive(Clone, Debug, Serialize)]
pub struct CurvePoint {
    pub threshold: f64,
    pub per_type: BTreeMap<String, Prf>,
}

/// Precision and recall of each claim type as the threshold rises from [`CURVE_FLOOR`] to 0.95
/// in steps of 0.05 (the claims must have been made at the floor).
pub fn curves(sources: &BTreeMap<String, Document>, gold: &[GoldClaim], predicted: &[PredictedClaim]) -> Result<Vec<CurvePoint>> {
    (1..20)
        .map(|k| {
            let threshold = k as f64 / 20.0;
            let kept: Vec<PredictedClaim> = predicted.iter().filter(|p| p.confidence >= threshold - 1e-9).cloned().collect();
            Ok(CurvePoint { threshold, per_type: score(sources, gold, &kept)?.per_type })
        })
        .collect()
}

pub fn score_with_outcomes(
    sources: &BTreeMap<String, Document>,
    gold: &[GoldClaim],
    predicted: &[PredictedClaim],
) -> Result<(Report, Outcomes)> {
    let all_predicted = predicted;
    let mut located: Vec<Located> = Vec::new();
    for g in gold {
        if !TYPES.contains(&g.kind.as_str()) {
            bail!("gold claim of {} has unknown type {:?}", g.doc, g.kind);
        }
        let Some(doc) = sources.get(&g.doc) else { continue };
        let (start, end) = locate_in(doc, &g.sentence)
            .with_context(|| format!("gold sentence not found in document {}: {:?}", g.doc, g.sentence))?;
        located.push(Located { gold: g, start, end });
    }
    let predicted: Vec<&PredictedClaim> = predicted.iter().filter(|p| sources.contains_key(&p.doc)).collect();

    let mut per_type: BTreeMap<String, Counts> = TYPES.iter().map(|t| (t.to_string(), Counts::default())).collect();
    let mut per_doc: BTreeMap<String, Counts> = sources.keys().map(|d| (d.clone(), Counts::default())).collect();
    let mut confusion: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut bump = |g: &str, p: &str| *confusion.entry(g.into()).or_default().entry(p.into()).or_default() += 1;
    let (mut actor_ok, mut actor_n, mut pol_ok, mut pol_n) = (0, 0, 0, 0);
    // Per rule: (correct, with a gold actor, null gold actor).
    let mut by_rule: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    let mut cats = Counts::default();
    let mut modality_pairs: Vec<(Modality, Modality)> = Vec::new();

    let mut gold_matched = vec![false; located.len()];
    let mut pred_matched = vec![false; predicted.len()];
    // Greedy one-to-one matching, largest overlap first.
    let mut pairs: Vec<(usize, usize, usize)> = Vec::new();
    for (gi, g) in located.iter().enumerate() {
        for (pi, p) in predicted.iter().enumerate() {
            if p.doc == g.gold.doc && p.kind == g.gold.kind && overlaps((g.start, g.end), (p.start, p.end)) {
                let ov = g.end.min(p.end) - g.start.max(p.start);
                pairs.push((ov, gi, pi));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    for (_, gi, pi) in pairs {
        if gold_matched[gi] || pred_matched[pi] {
            continue;
        }
        gold_matched[gi] = true;
        pred_matched[pi] = true;
        let (g, p) = (located[gi].gold, predicted[pi]);
        bump(&g.kind, &p.kind);
        let rule = match (&p.actor, &p.attribution) {
            (None, _) => "none".to_string(),
            (Some(_), Some(rule)) => rule.clone(),
            (Some(_), None) => "unknown".to_string(),
        };
        let scores = by_rule.entry(rule).or_default();
        if let Some(want) = &g.actor {
            actor_n += 1;
            scores.1 += 1;
            let names: Vec<String> = std::iter::once(want).chain(&g.actor_alternatives).map(|s| s.to_lowercase()).collect();
            let got = p.actor.as_ref().map(|a| [Some(a.text.to_lowercase()), a.canonical.as_ref().map(|c| c.to_lowercase())]);
            if got.is_some_and(|got| got.iter().flatten().any(|n| names.contains(n))) {
                actor_ok += 1;
                scores.0 += 1;
            }
        } else if p.actor.is_some() {
            scores.2 += 1;
        }
        if let Some(want) = g.modality {
            modality_pairs.push((want, p.modality.unwrap_or(Modality::Asserted)));
        }
        if g.kind == "stance" {
            pol_n += 1;
            pol_ok += (g.polarity == p.polarity) as usize;
        }
        if g.kind == "threat" {
            let tp = p.categories.iter().filter(|c| g.categories.contains(c)).count();
            cats.add(Counts { tp, fp: p.categories.len() - tp, fn_: g.categories.len() - tp });
        }
    }
    for (gi, g) in located.iter().enumerate() {
        let c = Counts { tp: gold_matched[gi] as usize, fp: 0, fn_: !gold_matched[gi] as usize };
        per_type.get_mut(&g.gold.kind).expect("known type").add(c);
        per_doc.get_mut(&g.gold.doc).expect("known doc").add(c);
        if !gold_matched[gi] {
            let other = predicted.iter().zip(&pred_matched).any(|(p, &m)| !m && p.doc == g.gold.doc && overlaps((g.start, g.end), (p.start, p.end)));
            if !other {
                bump(&g.gold.kind, "none");
            }
        }
    }
    for (pi, p) in predicted.iter().enumerate() {
        if pred_matched[pi] {
            continue;
        }
        let c = Counts { tp: 0, fp: 1, fn_: 0 };
        per_type.entry(p.kind.clone()).or_default().add(c);
        per_doc.get_mut(&p.doc).expect("known doc").add(c);
        let gold_type = located
            .iter()
            .zip(&gold_matched)
            .find(|(g, &m)| !m && g.gold.doc == p.doc && overlaps((g.start, g.end), (p.start, p.end)))
            .map_or("none", |(g, _)| g.gold.kind.as_str());
        bump(gold_type, &p.kind);
    }
    let mut overall = Counts::default();
    for c in per_type.values() {
        overall.add(*c);
    }
    // `located` and `predicted` hold the claims of the scored documents, in input order.
    let mut located_matched = located.iter().zip(&gold_matched);
    let gold_outcomes = gold
        .iter()
        .map(|g| sources.contains_key(&g.doc).then(|| located_matched.next().expect("one per scored gold claim")))
        .map(|l| l.map(|(l, &matched)| GoldOutcome { start: l.start, end: l.end, matched }))
        .collect();
    let mut pred_outcomes = pred_matched.iter();
    let pred_outcomes = all_predicted
        .iter()
        .map(|p| sources.contains_key(&p.doc).then(|| *pred_outcomes.next().expect("one per scored claim")))
        .collect();
    let outcomes = Outcomes { predicted: pred_outcomes, gold: gold_outcomes };
    let report = Report {
        overall: overall.prf(),
        per_type: per_type.into_iter().map(|(k, c)| (k, c.prf())).collect(),
        actor: Accuracy::new(actor_ok, actor_n),
        actor_by_rule: by_rule.into_iter().map(|(rule, (ok, n, null_gold))| (rule, RuleScores { accuracy: Accuracy::new(ok, n), null_gold })).collect(),
        polarity: Accuracy::new(pol_ok, pol_n),
        categories: cats.prf(),
        modality: ModalityScores::new(&modality_pairs),
        per_document: per_doc.into_iter().map(|(k, c)| (k, c.prf())).collect(),
        confusion,
    };
    Ok((report, outcomes))
}

pub fn read_jsonl<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).with_context(|| format!("{}:{}: invalid line", path.display(), i + 1)))
        .collect()
}

/// The report as a table for people.
pub fn table(r: &Report) -> String {
    let mut s = String::new();
    let row = |s: &mut String, name: &str, p: &Prf| {
        s.push_str(&format!("{name:<24} {:>6.3} {:>6.3} {:>6.3} {:>5} {:>5} {:>5}\n", p.precision, p.recall, p.f1, p.tp, p.fp, p.fn_));
    };
    s.push_str(&format!("{:<24} {:>6} {:>6} {:>6} {:>5} {:>5} {:>5}\n", "", "P", "R", "F1", "TP", "FP", "FN"));
    for (t, p) in &r.per_type {
        row(&mut s, t, p);
    }
    row(&mut s, "overall", &r.overall);
    row(&mut s, "threat categories", &r.categories);
    let acc = |a: &Accuracy| a.accuracy.map_or("n/a".to_string(), |x| format!("{x:.3} ({}/{})", a.correct, a.total));
    s.push_str(&format!("\nactor accuracy     {}\npolarity accuracy  {}\nmodality accuracy  {}\n", acc(&r.actor), acc(&r.polarity), acc(&r.modality.accuracy)));
    s.push_str(&format!("\nactor by attribution rule{:>17}{:>22}\n", "accuracy", "named, gold null"));
    for (rule, r) in &r.actor_by_rule {
        s.push_str(&format!("  {rule:<24}{:>16}{:>22}\n", acc(&r.accuracy), r.null_gold));
    }
    s.push_str(&format!("\nmodality (rows gold, columns predicted){:>5}", ""));
    for m in Modality::ALL {
        s.push_str(&format!("{:>12}", m.name()));
    }
    s.push_str(&format!("{:>9}\n", "recall"));
    for g in Modality::ALL {
        s.push_str(&format!("{:<43}", g.name()));
        for p in Modality::ALL {
            s.push_str(&format!("{:>12}", r.modality.confusion.get(&g).and_then(|m| m.get(&p)).copied().unwrap_or(0)));
        }
        s.push_str(&format!("{:>9.3}\n", r.modality.per_class[&g].recall));
    }
    s.push_str("\nper document\n");
    for (d, p) in &r.per_document {
        row(&mut s, d, p);
    }
    let cols = ["stance", "proposal", "threat", "none"];
    s.push_str(&format!("\ntype confusion (rows gold, columns predicted)\n{:<10}", ""));
    for c in cols {
        s.push_str(&format!("{c:>9}"));
    }
    s.push('\n');
    for g in cols {
        s.push_str(&format!("{g:<10}"));
        for c in cols {
            s.push_str(&format!("{:>9}", r.confusion.get(g).and_then(|m| m.get(c)).copied().unwrap_or(0)));
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources_of<'a>(docs: impl IntoIterator<Item = (&'a str, &'a str)>) -> BTreeMap<String, Document> {
        docs.into_iter()
            .map(|(id, text)| {
                let doc = Document { id: id.into(), source: text.into(), clean: crate::ingest::identity_clean(text), ..Default::default() };
                (id.to_string(), doc)
            })
            .collect()
    }

    fn gold(doc: &str, kind: &str, sentence: &str, actor: Option<&str>) -> GoldClaim {
        GoldClaim {
            doc: doc.into(),
            kind: kind.into(),
            sentence: sentence.into(),
            actor: actor.map(Into::into),
            actor_alternatives: vec!["Belarus".into()],
            polarity: (kind == "stance").then(|| "support".into()),
            categories: if kind == "threat" { vec!["terrorism".into()] } else { vec![] },
            modality: Some(if kind == "threat" { Modality::Negated } else { Modality::Asserted }),
        }
    }

    fn pred(doc: &str, kind: &str, span: (usize, usize), actor: &str) -> PredictedClaim {
        PredictedClaim {
            doc: doc.into(),
            kind: kind.into(),
            start: span.0,
            end: span.1,
            actor: Some(PredictedActor { text: actor.into(), canonical: Some(actor.into()) }),
            attribution: Some("subject".into()),
            polarity: (kind == "stance").then(|| "oppose".into()),
            categories: if kind == "threat" { vec!["terrorism".into(), "other".into()] } else { vec![] },
            modality: Some(Modality::Asserted),
            confidence: 0.9,
        }
    }

    #[test]
    fn locate_ignores_whitespace_and_counts_code_points() {
        assert_eq!(locate("“A”  b\nc. D.", "b c."), Some((5, 9)));
    }

    #[test]
    fn matching_and_figures() {
        let text = "Belarus supports X. Terror is a threat. Nothing here.";
        let sources = sources_of([("d", text), ("empty", "Nothing at all.")]);
        let g = vec![gold("d", "stance", "Belarus supports X.", Some("Belarus")), gold("d", "threat", "Terror is a threat.", None)];
        let p = vec![
            pred("d", "stance", (0, 19), "Belarus"),
            pred("d", "threat", (20, 38), "x"),
            pred("d", "proposal", (40, 53), "x"),
            pred("empty", "threat", (0, 15), "x"),
        ];
        let r = score(&sources, &g, &p).unwrap();
        assert_eq!((r.overall.tp, r.overall.fp, r.overall.fn_), (2, 2, 0));
        assert_eq!(r.actor.correct, 1);
        assert_eq!(r.actor.total, 1); // the threat's gold actor is null
        // Both matched actors came from the subject rule: one right, one named where gold has none.
        let subject = &r.actor_by_rule["subject"];
        assert_eq!((subject.accuracy.correct, subject.accuracy.total, subject.null_gold), (1, 1, 1));
        assert_eq!(r.polarity.correct, 0);
        assert!((r.categories.precision - 0.5).abs() < 1e-9);
        assert_eq!(r.per_document["empty"].fp, 1);
        assert_eq!(r.confusion["none"]["proposal"], 1);
        // The stance's asserted is right; the threat's negated was read as asserted.
        assert_eq!((r.modality.accuracy.correct, r.modality.accuracy.total), (1, 2));
        assert_eq!(r.modality.confusion[&Modality::Negated][&Modality::Asserted], 1);
        assert_eq!(r.modality.per_class[&Modality::Negated].recall, 0.0);
        assert_eq!(r.modality.per_class[&Modality::Asserted].precision, 0.5);
    }

    #[test]
    fn curves_drop_claims_below_each_threshold() {
        let text = "Belarus supports X. Terror is a threat. Nothing here.";
        let sources = sources_of([("d", text)]);
        let g = vec![gold("d", "stance", "Belarus supports X.", Some("Belarus"))];
        let mut sure = pred("d", "stance", (0, 19), "Belarus");
        sure.confidence = 0.8;
        let mut unsure = pred("d", "stance", (40, 53), "x");
        unsure.confidence = 0.3;
        let points = curves(&sources, &g, &[sure, unsure]).unwrap();
        assert_eq!(points.len(), 19);
        let at = |t: f64| &points.iter().find(|p| (p.threshold - t).abs() < 1e-9).unwrap().per_type["stance"];
        assert_eq!((at(0.3).tp, at(0.3).fp), (1, 1)); // a claim at exactly the threshold is kept
        assert_eq!((at(0.35).tp, at(0.35).fp), (1, 0));
        assert_eq!((at(0.85).tp, at(0.85).fn_), (0, 1));
    }

    #[test]
    fn gold_sentences_are_found_in_the_visible_text_of_html() {
        let html = "<html><body><p>Iran <a href=\"/x\">condemned</a> the <em>new</em> sanctions.</p></body></html>";
        let raw = crate::ingest::RawDocument {
            id: "h".into(),
            origin: "h.html".into(),
            format: crate::document::Format::Html,
            bytes: html.as_bytes().to_vec(),
            title: None,
            url: None,
            published: None,
        };
        let doc = crate::ingest::ingest(raw).unwrap();
        let sources = BTreeMap::from([("h".to_string(), doc)]);
        let g = vec![gold("h", "stance", "Iran condemned the new sanctions.", Some("Iran"))];
        let (start, end) = (html.find("Iran").unwrap(), html.find("sanctions.").unwrap() + "sanctions.".len());
        let p = vec![pred("h", "stance", (start, end), "Iran")];
        let r = score(&sources, &g, &p).unwrap();
        assert_eq!((r.overall.tp, r.overall.fp, r.overall.fn_), (1, 0, 0));
    }

    #[test]
    fn outcomes_say_which_claims_matched() {
        let text = "Belarus supports X. Terror is a threat. Nothing here.";
        let sources = sources_of([("d", text)]);
        let g = vec![
            gold("d", "stance", "Belarus supports X.", Some("Belarus")),
            gold("other", "stance", "Not scored.", None),
            gold("d", "threat", "Terror is a threat.", None),
        ];
        let p = vec![pred("d", "proposal", (40, 53), "x"), pred("gone", "threat", (0, 5), "x"), pred("d", "stance", (0, 19), "Belarus")];
        let (r, o) = score_with_outcomes(&sources, &g, &p).unwrap();
        assert_eq!(o.predicted, vec![Some(false), None, Some(true)]);
        let gold: Vec<_> = o.gold.iter().map(|g| g.map(|g| (g.start, g.end, g.matched))).collect();
        assert_eq!(gold, vec![Some((0, 19, true)), None, Some((20, 39, false))]);
        assert_eq!((r.overall.tp, r.overall.fp, r.overall.fn_), (1, 1, 1));
    }

    #[test]
    fn half_overlap_rule() {
        assert!(overlaps((0, 10), (5, 30)));
        assert!(!overlaps((0, 10), (6, 30)));
    }

    #[test]
    fn missing_gold_sentence_is_an_error() {
        let sources = sources_of([("d", "Some text.")]);
        let err = score(&sources, &[gold("d", "stance", "Not there.", None)], &[]).unwrap_err();
        assert!(err.to_string().contains("not found in document d"));
    }
}

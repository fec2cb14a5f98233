//! The one type that flows through the pipeline: a document that each stage enriches.
//!
//! Every span a stage records is a [`Span`] in Unicode code points of `Document::source`, the
//! text exactly as read from the input. Stages that work on cleaned text (`Document::clean`)
//! map their offsets back through [`CleanText::to_source`].

use serde::{Deserialize, Serialize};

/// Half-open range of Unicode code points (not bytes) in a document's source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        debug_assert!(start <= end, "span {start}..{end} is reversed");
        Span { start, end }
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    pub fn contains(&self, other: Span) -> bool {
        self.start <= other.start && other.end <= self.end
    }
}

/// The input format a document was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Text,
    Html,
    Jsonl,
}

/// One run of the offset map: clean code points `clean..clean+clean_len` came from source code
/// points `source..source+source_len`. Runs of equal length map one to one; a run whose lengths
/// differ (a decoded HTML entity, collapsed whitespace) maps as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    pub clean: usize,
    pub clean_len: usize,
    pub source: usize,
    pub source_len: usize,
}

/// Visible text of a document after markup and boilerplate removal, with the way back to the
/// source for every code point.
#[derive(Clone, Debug, Default)]
pub struct CleanText {
    pub text: String,
    /// Sorted by `clean`, contiguous, covering every code point of `text`.
    pub runs: Vec<Run>,
}

/// What a block of the cleaned text is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockKind {
    Title,
    Paragraph,
    /// A heading that names who speaks in the paragraphs below it, e.g.
    /// "Alexander Lukashenko, President of Belarus:".
    SpeakerHeading,
}

/// A paragraph-like unit of the cleaned text.
#[derive(Clone, Debug)]
pub struct Block {
    pub kind: BlockKind,
    /// Code-point range in `CleanText::text`.
    pub clean_start: usize,
    pub clean_end: usize,
}

/// A mention that tells who is speaking: the name part of a speaker heading, the subject of
/// "X said:", or the "he" of "…,” he said.". The attribution sieve resolves it to an entity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SpeakerCue {
    pub text: String,
    pub span: Span,
    #[serde(skip)]
    pub kind: CueKind,
}

/// The layout or phrase a speaker cue was read from (src/segment.rs finds them; the
/// attribution sieve decides between them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CueKind {
    /// The speaker of the quotation the sentence is in: "X said: “…”", "“…,” he said."
    Quote,
    /// "According to X, …" at the sentence start.
    AccordingTo,
    /// "…, according to X" inside a sentence that has no speech verb.
    AccordingToInside,
    /// "X said that …", "X said: …" at the sentence start.
    Reported,
    /// "…, X said." after the claim.
    Trailing,
    /// A paragraph under a speaker heading ("Alexander Lukashenko, President of Belarus:").
    Heading,
}

#[derive(Clone, Debug, Serialize)]
pub struct Sentence {
    /// The sentence in the source text.
    pub span: Span,
    /// The sentence's cleaned text (what the models read).
    pub text: String,
    /// Code-point offset of `text` in `CleanText::text`.
    #[serde(skip)]
    pub clean_start: usize,
    /// Index of the block (paragraph) the sentence belongs to.
    pub paragraph: usize,
    /// Every speaker cue found for the sentence (src/segment.rs).
    #[serde(skip)]
    pub cues: Vec<SpeakerCue>,
    /// Who speaks this sentence: the cue the attribution sieve chose.
    pub speaker: Option<SpeakerCue>,
    /// Whether the sentence is (mostly) inside quotation marks.
    pub quoted: bool,
}

/// The place and agency of a wire dateline such as "MINSK, 24 August (BelTA) –".
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Dateline {
    pub span: Span,
    pub place: Option<String>,
    pub agency: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Entity {
    pub text: String,
    pub label: EntityLabel,
    pub start: usize,
    pub end: usize,
    pub score: f64,
    /// Index into `Document::sentences`.
    pub sentence: usize,
    /// Canonical name from the gazetteer (or the mention's own text when unknown).
    pub canonical: String,
    /// Gazetteer id (ISO 3166 alpha-3 for countries), when known.
    pub id: Option<String>,
    /// For people: the country or organization they act for.
    pub affiliation: Option<String>,
    pub origin: Origin,
}

#[derive(Clone, Debug, Serialize)]
pub struct Target {
    pub text: String,
    pub start: usize,
    pub end: usize,
}

/// What a claim is (spec: "type").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClaimType {
    Stance,
    Proposal,
    Threat,
}

impl ClaimType {
    /// In the order of the model's sentence head.
    pub const ALL: [ClaimType; 3] = [ClaimType::Stance, ClaimType::Proposal, ClaimType::Threat];

    pub fn name(self) -> &'static str {
        match self {
            ClaimType::Stance => "stance",
            ClaimType::Proposal => "proposal",
            ClaimType::Threat => "threat",
        }
    }
}

/// For or against: a stance's polarity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Polarity {
    Support,
    Oppose,
}

/// The kind of an entity (the CoNLL types).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum EntityLabel {
    Per,
    Org,
    Loc,
    Misc,
}

impl std::str::FromStr for EntityLabel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "PER" => Ok(EntityLabel::Per),
            "ORG" => Ok(EntityLabel::Org),
            "LOC" => Ok(EntityLabel::Loc),
            "MISC" => Ok(EntityLabel::Misc),
            other => Err(format!("unknown entity type {other:?} (expected PER, ORG, LOC or MISC)")),
        }
    }
}

/// Where an entity came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// The model tagged it.
    Model,
    /// The gazetteer named it where the model did not.
    Gazetteer,
    /// A pronoun, title or speaker cue that refers back to a person named earlier.
    Coreference,
    /// A claim's actor with no holder in its sentence: the one person whose claims the text has
    /// reported so far.
    Discourse,
}

/// Whether a claim is made outright, denied or ruled out, hedged, or made on a condition
/// (spec: "modality").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Modality {
    Asserted,
    Negated,
    Hedged,
    Conditional,
}

impl Modality {
    pub const ALL: [Modality; 4] = [Modality::Asserted, Modality::Negated, Modality::Hedged, Modality::Conditional];

    pub fn name(self) -> &'static str {
        match self {
            Modality::Asserted => "asserted",
            Modality::Negated => "negated",
            Modality::Hedged => "hedged",
            Modality::Conditional => "conditional",
        }
    }
}

/// Probabilities the read stage gives one sentence.
#[derive(Clone, Debug, Default)]
pub struct SentenceScores {
    /// P(stance), P(proposal), P(threat).
    pub types: [f32; 3],
    /// P(support) given a stance.
    pub support: f32,
    /// Per threat category, in the order of the model's category labels.
    pub categories: Vec<f32>,
    /// P(modality) of the sentence's claims.
    pub modality: Vec<(Modality, f32)>,
}

impl SentenceScores {
    /// The model's probability for a claim type.
    pub fn score(&self, kind: ClaimType) -> f32 {
        self.types[ClaimType::ALL.iter().position(|&k| k == kind).expect("every type is in ALL")]
    }

    /// The likeliest modality (asserted when the model gave none).
    pub fn modality(&self) -> Modality {
        self.modality.iter().max_by(|a, b| a.1.total_cmp(&b.1)).map_or(Modality::Asserted, |m| m.0)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Claim {
    pub id: String,
    pub doc: String,
    #[serde(rename = "type")]
    pub kind: ClaimType,
    pub sentence: String,
    pub start: usize,
    pub end: usize,
    pub actor: Option<Entity>,
    /// The attribution rule that chose the actor.
    pub attribution: Option<crate::attribute::Rule>,
    pub target: Option<Target>,
    pub polarity: Option<Polarity>,
    pub categories: Vec<String>,
    pub modality: Modality,
    pub confidence: f64,
}

/// A document and everything the stages have found in it.
#[derive(Clone, Debug, Default)]
pub struct Document {
    pub id: String,
    /// Where it came from: a path, or "path:line" for a JSONL record.
    pub origin: String,
    pub format: Option<Format>,
    /// The text exactly as read (decoded to UTF-8); every span indexes this.
    pub source: String,
    pub url: Option<String>,
    pub title: Option<Span>,
    /// Publication date as YYYY-MM-DD when it could be read.
    pub published: Option<String>,
    pub dateline: Option<Dateline>,
    pub clean: CleanText,
    pub blocks: Vec<Block>,
    pub sentences: Vec<Sentence>,
    pub entities: Vec<Entity>,
    pub scores: Vec<SentenceScores>,
    /// Per sentence: the mentions the model tagged as a claim's holder, in code points of the
    /// sentence text.
    pub holders: Vec<Vec<(usize, usize)>>,
    pub claims: Vec<Claim>,
}

/// Why one document could not be processed. The run goes on without it.
#[derive(Clone, Debug, Serialize)]
pub struct DocError {
    /// The document id, or the path when no id could be made.
    pub doc: String,
    /// The stage that failed: "read", "ingest", "segment", "model", "assemble", "write".
    pub stage: &'static str,
    pub message: String,
    /// The path (or "path:line") it was read from, when known and not already the `doc`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

impl DocError {
    pub fn new(doc: impl Into<String>, stage: &'static str, message: impl Into<String>) -> Self {
        DocError { doc: doc.into(), stage, message: message.into(), origin: None }
    }
}

impl std::fmt::Display for DocError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.origin {
            Some(origin) => write!(f, "document {} ({}): {} failed: {}", printable(&self.doc), printable(origin), self.stage, printable(&self.message)),
            None => write!(f, "document {}: {} failed: {}", printable(&self.doc), self.stage, printable(&self.message)),
        }
    }
}

impl std::error::Error for DocError {}

/// Probabilities are written with four decimals: stable across batch sizes and thread counts,
/// whose float sums differ in the last bits. An f64, so that JSON shows exactly four decimals
/// (an f32 widened to f64 prints as 0.8858000040054321).
pub fn round4(p: f32) -> f64 {
    (f64::from(p) * 10_000.0).round() / 10_000.0
}

/// `text` safe to print on a terminal: control characters (escape sequences, carriage returns,
/// forged new lines) and bidirectional overrides are shown as `\u{..}` escapes.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let hostile = |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !text.chars().any(hostile) {
        return text.into();
    }
    text.chars().map(|c| if hostile(c) { c.escape_unicode().to_string() } else { c.to_string() }).collect::<String>().into()
}

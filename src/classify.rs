//! The classify stage's model: BERT (crate::bert), the masked mean of its last layer (the base
//! encoder was trained for mean pooling), and one linear layer with a sigmoid output per label:
//! the three claim types, P(support | stance), and one per threat category. A sentence longer
//! than a window gets, per label, its highest window's probability.

use std::path::Path;

use anyhow::{bail, Result};
use tch::nn::Module;
use tch::{nn, Device, Kind, Tensor};

use crate::bert::Bert;
use crate::document::SentenceScores;
use crate::encode::Pieces;
use crate::model::{for_each_batch, to_vec, ModelFiles};

/// The labels the classifier's outputs must start with, in this order; categories follow.
pub const HEAD: [&str; 4] = ["stance", "proposal", "threat", "support"];

pub struct ClaimModel {
    _vs: nn::VarStore,
    bert: Bert,
    classifier: nn::Linear,
    /// Threat categories, in output order.
    pub categories: Vec<String>,
    n_labels: usize,
    device: Device,
    pub files: ModelFiles,
}

impl ClaimModel {
    pub fn load(dir: &Path, device: Device, kind: Kind) -> Result<Self> {
        let files = ModelFiles::open(dir)?;
        let labels = files.labels()?;
        if labels.len() <= HEAD.len() || labels[..HEAD.len()] != HEAD {
            bail!("{}: labels must start with {HEAD:?} then the threat categories, found {labels:?}", dir.display());
        }
        let n_labels = labels.len() as i64;
        let (vs, (bert, classifier)) = files.load(device, kind, |p, files| {
            let bert = Bert::new(&p / "bert", files)?;
            let classifier = nn::linear(&p / "classifier", files.config.hidden_size, n_labels, Default::default());
            Ok((bert, classifier))
        })?;
        Ok(ClaimModel {
            _vs: vs,
            bert,
            classifier,
            categories: labels[HEAD.len()..].to_vec(),
            n_labels: labels.len(),
            device,
            files,
        })
    }

    pub fn score(&self, sentences: &[&Pieces], batch_size: usize, max_pieces: usize) -> Vec<SentenceScores> {
        let mut probs = vec![vec![0f32; self.n_labels]; sentences.len()];
        for_each_batch(sentences, batch_size, max_pieces, self.device, |chunk, batch| {
            let p = to_vec(&self.forward(&batch.ids, &batch.mask, &batch.types).sigmoid());
            for (r, w) in chunk.iter().enumerate() {
                for (slot, &v) in probs[w.item].iter_mut().zip(&p[r * self.n_labels..(r + 1) * self.n_labels]) {
                    *slot = slot.max(v);
                }
            }
        });
        probs
            .into_iter()
            .map(|p| SentenceScores { types: [p[0], p[1], p[2]], support: p[3], categories: p[HEAD.len()..].to_vec() })
            .collect()
    }

    fn forward(&self, ids: &Tensor, mask: &Tensor, types: &Tensor) -> Tensor {
        let hidden = self.bert.forward(ids, types, mask);
        let m = mask.unsqueeze(-1).to_kind(hidden.kind());
        let pooled = (hidden * &m).sum_dim_intlist(1, false, Kind::Float) / m.sum_dim_intlist(1, false, Kind::Float).clamp_min(1.0);
        self.classifier.forward(&pooled.to_kind(m.kind())).to_kind(Kind::Float)
    }
}

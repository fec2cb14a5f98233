//! The libtorch model behind [`crate::reader::Model`]: one BERT pass (crate::bert) per window,
//! a linear token head per tag set (entities; claim holders and targets), and linear sentence
//! heads on the mean of each scored sentence's own pieces (the base encoder was trained for mean
//! pooling). models/multitask/train.py trains it.

use std::path::Path;

use anyhow::{ensure, Result};
use tch::nn::Module;
use tch::{nn, Device, Kind, Tensor};

use crate::bert::Bert;
use crate::encode::Window;
use crate::model::{to_vec, Batch, ModelFiles};
use crate::reader::{Heads, Model, PieceTag, WindowReading};

pub struct OnePass {
    _vs: nn::VarStore,
    bert: Bert,
    ner: nn::Linear,
    roles: nn::Linear,
    sentence: nn::Linear,
    modality: nn::Linear,
    device: Device,
    pub files: ModelFiles,
}

impl OnePass {
    pub fn load(dir: &Path, device: Device, kind: Kind) -> Result<Self> {
        let files = ModelFiles::open(dir)?;
        let h = &files.heads;
        let sizes = [h.ner.len(), h.roles.len(), h.sentence.len(), h.modality.len()].map(|n| n as i64);
        let (vs, (bert, [ner, roles, sentence, modality])) = files.load(device, kind, |p, files| {
            let bert = Bert::new(&p / "bert", files)?;
            let hidden = files.config.hidden_size;
            let heads = [("ner", sizes[0]), ("roles", sizes[1]), ("sentence", sizes[2]), ("modality", sizes[3])].map(|(name, n)| nn::linear(&p / name, hidden, n, Default::default()));
            Ok((bert, heads))
        })?;
        Ok(OnePass { _vs: vs, bert, ner, roles, sentence, modality, device, files })
    }

    /// The matrix that averages each scored part's pieces: [windows, most scored parts, width].
    fn pooling(windows: &[&Window], width: usize, kind: Kind, device: Device) -> (Tensor, usize) {
        let most = windows.iter().map(|w| w.parts.iter().filter(|p| p.scored).count()).max().unwrap_or(0).max(1);
        let mut weights = vec![0f32; windows.len() * most * width];
        for (r, w) in windows.iter().enumerate() {
            for (k, part) in w.parts.iter().filter(|p| p.scored).enumerate() {
                let row = (r * most + k) * width;
                weights[row + part.at..row + part.at + part.len].fill(1.0 / part.len as f32);
            }
        }
        let t = Tensor::from_slice(&weights).view([windows.len() as i64, most as i64, width as i64]);
        (t.to_kind(kind).to(device), most)
    }
}

/// Best tag and its probability per position, from [batch, width, tags] logits.
fn best_tags(logits: &Tensor) -> Vec<PieceTag> {
    let (prob, label) = logits.softmax(-1, Kind::Float).max_dim(-1, false);
    let probs = to_vec(&prob);
    let labels: Vec<i64> = Vec::<i64>::try_from(&label.to_device(Device::Cpu).view(-1)).expect("label ids");
    labels.iter().zip(probs).map(|(&l, p)| PieceTag::new(l as usize, p)).collect()
}

impl Model for OnePass {
    fn heads(&self) -> &Heads {
        &self.files.heads
    }

    fn describe(&self) -> serde_json::Value {
        serde_json::json!({"path": self.files.dir, "sha256": self.files.sha256, "heads": self.files.heads})
    }

    fn read(&self, windows: &[&Window]) -> Vec<WindowReading> {
        let _guard = tch::no_grad_guard();
        let batch = Batch::new(windows, self.device);
        let hidden = self.bert.forward(&batch.ids, &batch.types, &batch.mask);
        let width = batch.ids.size()[1] as usize;
        let (pool, most) = Self::pooling(windows, width, hidden.kind(), self.device);
        let pooled = pool.matmul(&hidden);
        let ner = best_tags(&self.ner.forward(&hidden));
        let roles = best_tags(&self.roles.forward(&hidden));
        let sentence = to_vec(&self.sentence.forward(&pooled).to_kind(Kind::Float).sigmoid());
        let modality = to_vec(&self.modality.forward(&pooled).to_kind(Kind::Float).softmax(-1, Kind::Float));
        let (ns, nm) = (self.files.heads.sentence.len(), self.files.heads.modality.len());
        windows
            .iter()
            .enumerate()
            .map(|(r, w)| {
                let scored = w.parts.iter().filter(|p| p.scored).count();
                let rows = |values: &[f32], n: usize| (0..scored).map(|k| values[(r * most + k) * n..(r * most + k + 1) * n].to_vec()).collect();
                WindowReading {
                    ner: ner[r * width..r * width + w.ids.len()].to_vec(),
                    roles: roles[r * width..r * width + w.ids.len()].to_vec(),
                    sentence: rows(&sentence, ns),
                    modality: rows(&modality, nm),
                }
            })
            .collect()
    }
}

/// Checks that the model and the tokenizer belong together.
pub fn check_vocab(model: &OnePass, vocab_size: usize) -> Result<()> {
    ensure!(model.files.config.vocab_size as usize == vocab_size, "model {} expects {} word pieces but the tokenizer has {vocab_size}", model.files.dir.display(), model.files.config.vocab_size,);
    Ok(())
}

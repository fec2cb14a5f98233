//! Loading the transformer model (a folder with config.json in rust-bert's BertConfig format,
//! plus the label sets of its heads, and model.safetensors), and padding windows into batches.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rust_bert::bert::BertConfig;
use sha2::{Digest, Sha256};
use tch::{nn, Device, Kind, Tensor};

use crate::encode::Window;
use crate::reader::Heads;

/// A model folder as found on disk, with what the manifest records about it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ModelFiles {
    pub dir: PathBuf,
    pub weights: PathBuf,
    /// sha256 of model.safetensors.
    pub sha256: String,
    #[serde(skip)]
    pub config: BertConfig,
    /// config.json's layer_norm_eps, which BertConfig does not keep (BERT's 1e-12 when absent).
    pub layer_norm_eps: f64,
    /// config.json's "heads": the label sets of the model's outputs.
    pub heads: Heads,
}

/// config.json's own part (BertConfig ignores it).
#[derive(serde::Deserialize)]
struct HeadsConfig {
    heads: RawHeads,
}

#[derive(serde::Deserialize)]
struct RawHeads {
    ner: Vec<String>,
    roles: Vec<String>,
    sentence: Vec<String>,
    modality: Vec<crate::document::Modality>,
}

impl ModelFiles {
    pub fn open(dir: &Path) -> Result<Self> {
        let config_path = dir.join("config.json");
        let weights = dir.join("model.safetensors");
        let text = std::fs::read_to_string(&config_path).with_context(|| format!("cannot read model config {}", config_path.display()))?;
        // rust-bert's from_file panics on bad input; parse ourselves for a readable error.
        let config: BertConfig = serde_json::from_str(&text).with_context(|| format!("invalid model config {}", config_path.display()))?;
        check_shape(&config).with_context(|| format!("invalid model config {}", config_path.display()))?;
        let raw: serde_json::Value = serde_json::from_str(&text)?;
        let layer_norm_eps = raw.get("layer_norm_eps").and_then(|v| v.as_f64()).unwrap_or(1e-12);
        let HeadsConfig { heads: RawHeads { ner, roles, sentence, modality } } = serde_json::from_value(raw).with_context(|| format!("invalid model config {}: \"heads\"", config_path.display()))?;
        let heads = Heads { ner, roles, sentence, modality };
        heads.check().with_context(|| format!("invalid model config {}", config_path.display()))?;
        let bytes = std::fs::read(&weights).with_context(|| format!("cannot read model weights {}", weights.display()))?;
        let sha256 = format!("{:x}", Sha256::digest(&bytes));
        Ok(ModelFiles { dir: dir.to_path_buf(), weights, sha256, config, layer_norm_eps, heads })
    }

    /// Builds the model with `build` and loads the weights into it, as `kind` (Float or BFloat16).
    pub fn load<M>(&self, device: Device, kind: Kind, build: impl FnOnce(nn::Path, &ModelFiles) -> Result<M>) -> Result<(nn::VarStore, M)> {
        let mut vs = nn::VarStore::new(device);
        let model = build(vs.root(), self)?;
        // libtorch's messages end in a C++ stack trace: the first line says what is wrong.
        vs.load(&self.weights).map_err(|e| {
            let message = e.to_string();
            let first = message.lines().next().unwrap_or("").trim_end_matches(|c: char| c == ':' || c.is_whitespace()).to_string();
            anyhow::anyhow!("cannot load model weights {}: {first} (do config.json and model.safetensors belong together?)", self.weights.display())
        })?;
        // The file is fp16 to keep it small; loading keeps its dtype, which CPU kernels handle badly.
        vs.set_kind(kind);
        vs.freeze();
        Ok((vs, model))
    }
}

/// The sizes a BERT encoder needs to be built at all (zeros make tch panic).
fn check_shape(c: &BertConfig) -> Result<()> {
    for (name, v) in [
        ("hidden_size", c.hidden_size),
        ("num_hidden_layers", c.num_hidden_layers),
        ("num_attention_heads", c.num_attention_heads),
        ("intermediate_size", c.intermediate_size),
        ("vocab_size", c.vocab_size),
        ("max_position_embeddings", c.max_position_embeddings),
        ("type_vocab_size", c.type_vocab_size),
    ] {
        if !(1..=1 << 20).contains(&v) {
            bail!("{name} = {v}: expected 1 to {}", 1 << 20);
        }
    }
    if c.hidden_size % c.num_attention_heads != 0 {
        bail!("hidden_size {} is not a multiple of num_attention_heads {}", c.hidden_size, c.num_attention_heads);
    }
    Ok(())
}

/// Padded input tensors for a batch of windows.
pub struct Batch {
    pub ids: Tensor,
    pub types: Tensor,
    pub mask: Tensor,
}

impl Batch {
    pub fn new(windows: &[&Window], device: Device) -> Batch {
        let width = windows.iter().map(|w| w.ids.len()).max().unwrap_or(0);
        let mut ids = vec![0i64; windows.len() * width];
        let mut types = vec![0i64; windows.len() * width];
        let mut mask = vec![0i64; windows.len() * width];
        for (r, w) in windows.iter().enumerate() {
            let row = r * width;
            ids[row..row + w.ids.len()].copy_from_slice(&w.ids);
            types[row..row + w.types.len()].copy_from_slice(&w.types);
            mask[row..row + w.ids.len()].fill(1);
        }
        let shape = [windows.len() as i64, width as i64];
        Batch { ids: Tensor::from_slice(&ids).view(shape).to(device), types: Tensor::from_slice(&types).view(shape).to(device), mask: Tensor::from_slice(&mask).view(shape).to(device) }
    }
}

/// Copies a float tensor to a Vec on the CPU.
pub fn to_vec(t: &Tensor) -> Vec<f32> {
    let t = t.to_device(Device::Cpu).to_kind(Kind::Float).contiguous().view(-1);
    Vec::<f32>::try_from(&t).expect("float tensor")
}

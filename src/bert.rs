//! The BERT encoder under both models, with rust-bert's parameter names and config (so the same
//! safetensors load) and the arithmetic of rust-bert's and Hugging Face's BERT. It is written
//! here rather than taken from rust-bert because rust-bert computes GELU as five separate tensor
//! operations: 25 times slower than libtorch's fused kernel, and about 40% of a forward pass at
//! the sizes we run (bench/README.md).

use anyhow::{bail, Result};
use rust_bert::Activation;
use tch::nn::{self, Module};
use tch::{Kind, Tensor};

use crate::model::ModelFiles;

pub struct Bert {
    word: nn::Embedding,
    position: nn::Embedding,
    token_type: nn::Embedding,
    embeddings_norm: nn::LayerNorm,
    layers: Vec<Layer>,
    heads: i64,
}

struct Layer {
    query: nn::Linear,
    key: nn::Linear,
    value: nn::Linear,
    attention_out: nn::Linear,
    attention_norm: nn::LayerNorm,
    intermediate: nn::Linear,
    output: nn::Linear,
    output_norm: nn::LayerNorm,
}

impl Bert {
    /// The encoder's variables under `p` ("embeddings.*", "encoder.layer.N.*").
    pub fn new(p: nn::Path, files: &ModelFiles) -> Result<Bert> {
        let config = &files.config;
        if !matches!(config.hidden_act, Activation::gelu) {
            bail!("hidden_act {:?} is not supported: the models are BERT with \"gelu\"", config.hidden_act);
        }
        if config.hidden_size % config.num_attention_heads != 0 {
            bail!("hidden_size {} is not a multiple of num_attention_heads {}", config.hidden_size, config.num_attention_heads);
        }
        let (h, i) = (config.hidden_size, config.intermediate_size);
        let norm = |p: nn::Path| nn::layer_norm(p, vec![h], nn::LayerNormConfig { eps: files.layer_norm_eps, ..Default::default() });
        let linear = |p: nn::Path, from, to| nn::linear(p, from, to, Default::default());
        let e = &p / "embeddings";
        let layers = (0..config.num_hidden_layers)
            .map(|n| {
                let l = &p / "encoder" / "layer" / n;
                let a = &l / "attention";
                Layer {
                    query: linear(&a / "self" / "query", h, h),
                    key: linear(&a / "self" / "key", h, h),
                    value: linear(&a / "self" / "value", h, h),
                    attention_out: linear(&a / "output" / "dense", h, h),
                    attention_norm: norm(&a / "output" / "LayerNorm"),
                    intermediate: linear(&l / "intermediate" / "dense", h, i),
                    output: linear(&l / "output" / "dense", i, h),
                    output_norm: norm(&l / "output" / "LayerNorm"),
                }
            })
            .collect();
        Ok(Bert {
            word: nn::embedding(&e / "word_embeddings", config.vocab_size, h, Default::default()),
            position: nn::embedding(&e / "position_embeddings", config.max_position_embeddings, h, Default::default()),
            token_type: nn::embedding(&e / "token_type_embeddings", config.type_vocab_size, h, Default::default()),
            embeddings_norm: norm(&e / "LayerNorm"),
            layers,
            heads: config.num_attention_heads,
        })
    }

    /// The last layer's hidden states, [batch, length, hidden], for padded `ids` and `types`
    /// with `mask` 1 on real pieces and 0 on padding.
    pub fn forward(&self, ids: &Tensor, types: &Tensor, mask: &Tensor) -> Tensor {
        let (batch, length) = ids.size2().expect("ids are [batch, length]");
        let positions = Tensor::arange(length, (Kind::Int64, ids.device())).unsqueeze(0);
        let x = ids.apply(&self.word) + positions.apply(&self.position) + types.apply(&self.token_type);
        let mut x = x.apply(&self.embeddings_norm);
        // Padding gets -10000 before the softmax, as in BERT: its weight underflows to zero.
        let bias = ((mask.ones_like() - mask) * -10000.0).to_kind(x.kind()).view([batch, 1, 1, length]);
        for layer in &self.layers {
            x = layer.forward(&x, &bias, self.heads);
        }
        x
    }
}

impl Layer {
    fn forward(&self, x: &Tensor, bias: &Tensor, heads: i64) -> Tensor {
        let (batch, length, hidden) = x.size3().expect("hidden states are [batch, length, hidden]");
        let head = hidden / heads;
        let split = |t: Tensor| t.view([batch, length, heads, head]).transpose(1, 2);
        let q = split(x.apply(&self.query)) / (head as f64).sqrt();
        let (k, v) = (split(x.apply(&self.key)), split(x.apply(&self.value)));
        let weights = (q.matmul(&k.transpose(-1, -2)) + bias).softmax(-1, x.kind());
        let context = weights.matmul(&v).transpose(1, 2).contiguous().view([batch, length, hidden]);
        let x = (x + self.attention_out.forward(&context)).apply(&self.attention_norm);
        let inner = x.apply(&self.intermediate).gelu("none");
        (x + self.output.forward(&inner)).apply(&self.output_norm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_bert::bert::BertConfig;
    use std::path::PathBuf;
    use tch::Device;

    /// Model files with only what the encoder reads: its config.
    fn files(config: BertConfig) -> ModelFiles {
        let heads = crate::reader::Heads { ner: vec![], roles: vec![], sentence: vec![], modality: vec![] };
        ModelFiles { dir: PathBuf::new(), weights: PathBuf::new(), sha256: String::new(), config, layer_norm_eps: 1e-12, heads }
    }

    fn tiny() -> (nn::VarStore, Bert) {
        let config = BertConfig {
            hidden_size: 8,
            intermediate_size: 16,
            num_attention_heads: 2,
            num_hidden_layers: 2,
            vocab_size: 20,
            max_position_embeddings: 16,
            type_vocab_size: 3,
            ..Default::default()
        };
        let files = files(config);
        tch::manual_seed(3);
        let vs = nn::VarStore::new(Device::Cpu);
        let bert = Bert::new(vs.root(), &files).unwrap();
        (vs, bert)
    }

    #[test]
    fn padding_does_not_change_the_real_pieces() {
        let (_vs, bert) = tiny();
        let _guard = tch::no_grad_guard();
        let ids = Tensor::from_slice(&[1i64, 5, 7, 2]).view([1, 4]);
        let types = Tensor::from_slice(&[0i64, 1, 2, 0]).view([1, 4]);
        let alone = bert.forward(&ids, &types, &ids.ones_like());
        let padded_ids = Tensor::from_slice(&[1i64, 5, 7, 2, 0, 0, 0]).view([1, 7]);
        let padded_types = Tensor::from_slice(&[0i64, 1, 2, 0, 0, 0, 0]).view([1, 7]);
        let mask = Tensor::from_slice(&[1i64, 1, 1, 1, 0, 0, 0]).view([1, 7]);
        let padded = bert.forward(&padded_ids, &padded_types, &mask).narrow(1, 0, 4);
        let diff = (alone - padded).abs().max().double_value(&[]);
        assert!(diff < 1e-5, "padding changed the hidden states by {diff}");
    }

    #[test]
    fn other_activations_are_refused() {
        let mut files = files(BertConfig::default());
        files.config.hidden_act = Activation::relu;
        let vs = nn::VarStore::new(Device::Cpu);
        let err = Bert::new(vs.root(), &files).err().expect("relu is refused").to_string();
        assert!(err.contains("relu"), "{err}");
    }
}

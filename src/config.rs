//! pipeline.toml: one file that fully describes a run. Unknown keys are errors that name the key;
//! relative paths are relative to the file's folder; CLI flags override the file.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineConfig {
    pub input: InputConfig,
    pub models: ModelsConfig,
    pub runtime: RuntimeConfig,
    pub thresholds: Thresholds,
    pub attribution: AttributionConfig,
    pub output: OutputConfig,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct InputConfig {
    /// Larger documents are rejected with a per-document error rather than read into memory.
    pub max_document_bytes: u64,
}

impl Default for InputConfig {
    fn default() -> Self {
        InputConfig { max_document_bytes: 20 * 1024 * 1024 }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelsConfig {
    /// Word-piece tokenizer (tokenizer.json).
    pub tokenizer: PathBuf,
    /// Folder with config.json and model.safetensors of the one-pass model.
    pub model: PathBuf,
    /// Actor gazetteer (TOML).
    pub gazetteer: PathBuf,
}

impl Default for ModelsConfig {
    fn default() -> Self {
        ModelsConfig {
            tokenizer: "models/tokenizer.json".into(),
            model: "models/multitask".into(),
            gazetteer: "data/gazetteer.toml".into(),
        }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuntimeConfig {
    /// "cpu", "cuda" or "cuda:N".
    pub device: String,
    /// Sentences per forward pass.
    pub batch_size: usize,
    /// CPU threads for the CPU stages and libtorch; 0 = all cores.
    pub threads: usize,
    /// Longest window the transformers read, in word pieces including [CLS] and [SEP]; longer
    /// sentences are read in overlapping windows.
    pub max_pieces: usize,
    /// Arithmetic of the forward passes: "fp32", or "bf16" (several times faster on CPUs with
    /// bf16 matrix units, such as Intel AMX, and on GPUs; far slower on CPUs without them).
    pub precision: Precision,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    #[default]
    Fp32,
    Bf16,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig { device: "cpu".into(), batch_size: 32, threads: 0, max_pieces: 128, precision: Precision::Fp32 }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    pub stance: f32,
    pub proposal: f32,
    pub threat: f32,
    /// A threat category is kept at or above this probability (the best one always is).
    pub category: f32,
    /// Model entities below this mean word score are dropped.
    pub entity: f32,
}

impl Thresholds {
    /// The probability at or above which a claim of this type is made.
    pub fn for_type(&self, t: crate::document::ClaimType) -> f32 {
        match t {
            crate::document::ClaimType::Stance => self.stance,
            crate::document::ClaimType::Proposal => self.proposal,
            crate::document::ClaimType::Threat => self.threat,
        }
    }
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds { stance: 0.5, proposal: 0.5, threat: 0.5, category: 0.5, entity: 0.5 }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttributionConfig {
    /// The attribution rules in the order they are tried (src/attribute.rs); a rule left out is
    /// not used.
    pub sieve: Vec<crate::attribute::Rule>,
}

impl Default for AttributionConfig {
    fn default() -> Self {
        AttributionConfig { sieve: crate::attribute::Rule::ALL.to_vec() }
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutputConfig {
    pub dir: PathBuf,
    /// Write documents.jsonl (sentences and entities of every document).
    pub documents: bool,
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig { dir: "outputs".into(), documents: true }
    }
}

impl PipelineConfig {
    /// Reads and validates a config file; its relative paths become relative to its folder.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config {}", path.display()))?;
        let mut config: PipelineConfig =
            toml::from_str(&text).map_err(|e| anyhow::anyhow!("invalid config {}: {e}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        config.resolve_paths(base);
        config.validate().with_context(|| format!("invalid config {}", path.display()))?;
        Ok(config)
    }

    /// The configuration when no --config is given: the shipped models found where claimex is
    /// installed or checked out, looked up in this order: `models_home` (--models), the
    /// CLAIMEX_HOME variable, `share/claimex` beside the executable's folder (`make install`,
    /// `make bundle`), the current folder (its pipeline.toml, as in a checkout). A home is a
    /// folder with models/ and data/gazetteer.toml; in a home the defaults apply and the output
    /// folder stays relative to the current folder.
    pub fn locate(models_home: Option<&Path>) -> Result<Self> {
        let exe_home = std::env::current_exe().ok().and_then(|e| Some(e.parent()?.parent()?.join("share/claimex")));
        let candidates: [(&str, Option<PathBuf>); 3] = [
            ("--models", models_home.map(Path::to_path_buf)),
            ("CLAIMEX_HOME", std::env::var_os("CLAIMEX_HOME").map(PathBuf::from)),
            ("beside the executable", exe_home),
        ];
        let mut tried = Vec::new();
        for (what, dir) in candidates {
            match dir {
                Some(dir) if is_home(&dir) => return Ok(Self::in_home(&dir)),
                // An explicit place that does not hold the models is an error, not a fallback.
                Some(dir) if what != "beside the executable" => bail!("{what} = {}: no models there (expected {} and {})", dir.display(), dir.join("models/tokenizer.json").display(), dir.join("data/gazetteer.toml").display()),
                Some(dir) => tried.push(format!("{} ({what})", dir.display())),
                None => tried.push(format!("{what} (not set)")),
            }
        }
        let here = Path::new("pipeline.toml");
        if here.exists() {
            return Self::load(here);
        }
        if is_home(Path::new(".")) {
            return Ok(Self::default());
        }
        tried.push(format!("{} (the current folder)", std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_else(|_| ".".into())));
        bail!(
            "cannot find claimex's models; looked in: {}. Point at them with --models DIR or CLAIMEX_HOME=DIR (a folder with models/ and data/, as `make install` puts in PREFIX/share/claimex), or --config FILE",
            tried.join(", ")
        )
    }

    /// The default settings with the model and data paths of `home`.
    fn in_home(home: &Path) -> Self {
        let mut config = Self::default();
        for p in [&mut config.models.tokenizer, &mut config.models.model, &mut config.models.gazetteer] {
            *p = home.join(&*p);
        }
        config
    }

    fn resolve_paths(&mut self, base: &Path) {
        for p in [
            &mut self.models.tokenizer,
            &mut self.models.model,
            &mut self.models.gazetteer,
            &mut self.output.dir,
        ] {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
    }

    pub fn validate(&self) -> Result<()> {
        let r = &self.runtime;
        if !(r.device == "cpu" || r.device == "cuda" || r.device.strip_prefix("cuda:").is_some_and(|n| n.parse::<usize>().is_ok())) {
            bail!("runtime.device = {:?}: expected \"cpu\", \"cuda\" or \"cuda:N\"", r.device);
        }
        if !(1..=MAX_BATCH).contains(&r.batch_size) {
            bail!("runtime.batch_size = {}: expected 1 to {MAX_BATCH}", r.batch_size);
        }
        let cores = available_cores();
        if r.threads > cores * THREADS_PER_CORE {
            bail!("runtime.threads = {}: this machine has {cores} cores; expected 0 (all) to {}", r.threads, cores * THREADS_PER_CORE);
        }
        if !(16..=512).contains(&r.max_pieces) {
            bail!("runtime.max_pieces = {}: expected 16 to 512", r.max_pieces);
        }
        if self.input.max_document_bytes == 0 {
            bail!("input.max_document_bytes must be at least 1");
        }
        let t = &self.thresholds;
        for (name, v) in [
            ("stance", t.stance),
            ("proposal", t.proposal),
            ("threat", t.threat),
            ("category", t.category),
            ("entity", t.entity),
        ] {
            if !(0.0..=1.0).contains(&v) {
                bail!("thresholds.{name} = {v}: expected a probability in [0, 1]");
            }
        }
        let sieve = &self.attribution.sieve;
        if let Some(twice) = sieve.iter().enumerate().find_map(|(k, r)| sieve[..k].contains(r).then_some(r)) {
            bail!("attribution.sieve names {twice} twice");
        }
        Ok(())
    }

    #[cfg(feature = "torch")]
    pub fn device(&self) -> tch::Device {
        match self.runtime.device.as_str() {
            "cpu" => tch::Device::Cpu,
            "cuda" => tch::Device::Cuda(0),
            other => tch::Device::Cuda(other["cuda:".len()..].parse().unwrap_or(0)),
        }
    }

    /// The element kind the model weights and activations take.
    #[cfg(feature = "torch")]
    pub fn kind(&self) -> tch::Kind {
        match self.runtime.precision {
            Precision::Fp32 => tch::Kind::Float,
            Precision::Bf16 => tch::Kind::BFloat16,
        }
    }

    pub fn threads(&self) -> usize {
        match self.runtime.threads {
            0 => available_cores(),
            n => n,
        }
    }
}

/// Whether `dir` holds the shipped models and data, as a checkout or an installation does.
fn is_home(dir: &Path) -> bool {
    let defaults = ModelsConfig::default();
    [defaults.tokenizer, defaults.gazetteer].iter().all(|f| dir.join(f).is_file())
}

/// Largest batch: far past the point where bigger batches stop paying, well short of memory trouble.
const MAX_BATCH: usize = 1024;
/// More threads than this per core only oversubscribes it (and each thread costs memory).
const THREADS_PER_CORE: usize = 4;

/// Cores this process may use (its CPU affinity and cgroup quota included).
fn available_cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_is_named() {
        let err = toml::from_str::<PipelineConfig>("[runtime]\nbatchsize = 4\n").unwrap_err().to_string();
        assert!(err.contains("batchsize"), "{err}");
    }

    #[test]
    fn invalid_value_is_named() {
        let config: PipelineConfig = toml::from_str("[runtime]\ndevice = \"tpu\"\n").unwrap();
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("runtime.device"), "{err}");
        let config: PipelineConfig = toml::from_str("[thresholds]\nthreat = 1.5\n").unwrap();
        assert!(config.validate().unwrap_err().to_string().contains("thresholds.threat"));
        let config: PipelineConfig = toml::from_str("[runtime]\nthreads = 100000\n").unwrap();
        assert!(config.validate().unwrap_err().to_string().contains("runtime.threads = 100000"));
        let config: PipelineConfig = toml::from_str("[runtime]\nbatch_size = 0\n").unwrap();
        assert!(config.validate().unwrap_err().to_string().contains("runtime.batch_size = 0"));
        let err = toml::from_str::<PipelineConfig>("[runtime]\nprecision = \"fp16\"\n").unwrap_err().to_string();
        assert!(err.contains("fp16") && err.contains("bf16"), "{err}");
    }

    #[test]
    fn shipped_config_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("pipeline.toml");
        let config = PipelineConfig::load(&path).unwrap();
        assert!(config.models.model.ends_with("models/multitask"));
    }
}

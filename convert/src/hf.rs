//! Import of a Hugging Face checkpoint directory: `config.json`, `model.safetensors` (f32, f16 or
//! bf16 tensors), the tokenizer (`tokenizer.json`, or `vocab.txt` + `tokenizer_config.json`), and
//! sentence-transformers' pooling and length settings when present.

mod safetensors_source;

use anyhow::{bail, Context, Result};
use edgebert_engine::prompts::Prompts;
use edgebert_engine::tokenizer::TokenizerSpec;
use edgebert_models::{BertModel, BertWeights, Config, EmbeddingPooling, PoolingMode};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::fs;
use std::path::{Path, PathBuf};

pub use safetensors_source::SafetensorsSource;

/// Everything edgebert needs from a checkpoint directory, weights in f32.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    pub dir: PathBuf,
    pub model: BertModel,
    pub tokenizer: TokenizerSpec,
    /// Sentence-embedding pooling from `modules.json`, when the checkpoint is a
    /// sentence-transformers model.
    pub pooling: Option<EmbeddingPooling>,
    /// The longest token sequence (with `[CLS]`/`[SEP]`) fed to the model: `max_seq_length` of
    /// `sentence_bert_config.json` when present, else what the position table allows.
    pub max_seq_len: usize,
    /// `prompts` and `default_prompt_name` of `config_sentence_transformers.json`, when present.
    pub prompts: Prompts,
}

/// Fails with what to pass instead unless `dir` is a folder: a missing path, a blob, or one of
/// the checkpoint's own files (`model.safetensors`, `config.json`) given where the folder belongs.
pub fn require_checkpoint_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let shown = dir.display();
    if !dir.exists() {
        bail!("{shown} does not exist: give a Hugging Face checkpoint folder (config.json, model.safetensors, tokenizer files)");
    }
    let folder = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.ends_with(".ebq") {
        bail!("{shown} is a converted blob, not a checkpoint folder: run it directly (`edgebert classify {shown} ...`); conversion needs the Hugging Face folder it came from");
    }
    if name.ends_with(".safetensors") || name.ends_with(".json") || name.ends_with(".txt") {
        bail!("{shown} is one file of a checkpoint: pass its folder instead (`{}`)", folder.display());
    }
    bail!("{shown} is a file, not a Hugging Face checkpoint folder (config.json, model.safetensors, tokenizer files)")
}

impl Checkpoint {
    /// Reads a checkpoint directory; errors name the file and the problem.
    pub fn load(dir: &Path) -> Result<Checkpoint> {
        require_checkpoint_dir(dir)?;
        let config_path = dir.join("config.json");
        let config_text = read_text(&config_path)?;
        let config =
            Config::from_hf_json(&config_text).with_context(|| format!("{}", config_path.display()))?;
        let weights_path = dir.join("model.safetensors");
        let bytes =
            fs::read(&weights_path).with_context(|| format!("cannot read {}", weights_path.display()))?;
        let source =
            SafetensorsSource::parse(&bytes).with_context(|| format!("{}", weights_path.display()))?;
        let weights =
            BertWeights::load(&config, &source).with_context(|| format!("{}", weights_path.display()))?;
        let tokenizer = tokenizer_spec(dir)?;
        let pooling = sentence_pooling(dir)?;
        let max_seq_len = max_seq_len(dir, &config)?;
        let prompts = sentence_prompts(dir)?;
        Ok(Checkpoint {
            dir: dir.to_path_buf(),
            model: BertModel::new(config, weights),
            tokenizer,
            pooling,
            max_seq_len,
            prompts,
        })
    }

    pub fn config(&self) -> &Config {
        &self.model.config
    }

    /// SHA-256 of `model.safetensors`, hex: identifies the source of a converted blob.
    pub fn source_sha256(&self) -> Result<String> {
        let path = self.dir.join("model.safetensors");
        let bytes = fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        Ok(Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect())
    }
}

fn read_text(path: &Path) -> Result<String> {
    fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>> {
    if !path.exists() {
        return Ok(None);
    }
    let text = read_text(path)?;
    let value = serde_json::from_str(&text).with_context(|| format!("{}: invalid JSON", path.display()))?;
    Ok(Some(value))
}

/// `tokenizer.json` when present; otherwise the WordPiece `vocab.txt` with `do_lower_case` from
/// `tokenizer_config.json` (true when unset, as `BertTokenizer` defaults).
fn tokenizer_spec(dir: &Path) -> Result<TokenizerSpec> {
    let json = dir.join("tokenizer.json");
    if json.exists() {
        let bytes = fs::read(&json).with_context(|| format!("cannot read {}", json.display()))?;
        return Ok(TokenizerSpec::HfJson(bytes));
    }
    let vocab_path = dir.join("vocab.txt");
    if !vocab_path.exists() {
        bail!("{}: no tokenizer.json and no vocab.txt", dir.display());
    }
    #[derive(Deserialize)]
    struct TokenizerConfig {
        do_lower_case: Option<bool>,
    }
    let cfg: Option<TokenizerConfig> = read_json(&dir.join("tokenizer_config.json"))?;
    let lowercase = cfg.and_then(|c| c.do_lower_case).unwrap_or(true);
    Ok(TokenizerSpec::WordPiece { vocab: read_text(&vocab_path)?, lowercase })
}

#[derive(Deserialize)]
struct Module {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    path: String,
}

#[derive(Deserialize)]
struct PoolingConfig {
    #[serde(default)]
    pooling_mode_cls_token: bool,
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
    #[serde(default)]
    pooling_mode_max_tokens: bool,
    #[serde(default)]
    pooling_mode_mean_sqrt_len_tokens: bool,
}

/// The pooling that sentence-transformers' `modules.json` declares, if any.
fn sentence_pooling(dir: &Path) -> Result<Option<EmbeddingPooling>> {
    let modules_path = dir.join("modules.json");
    let Some(modules): Option<Vec<Module>> = read_json(&modules_path)? else {
        return Ok(None);
    };
    let Some(pool) = modules.iter().find(|m| m.kind.ends_with(".Pooling")) else {
        return Ok(None);
    };
    let cfg_path = dir.join(&pool.path).join("config.json");
    let cfg: PoolingConfig = read_json(&cfg_path)?
        .with_context(|| format!("{} is missing (named by modules.json)", cfg_path.display()))?;
    let mode = match (cfg.pooling_mode_mean_tokens, cfg.pooling_mode_cls_token) {
        _ if cfg.pooling_mode_max_tokens || cfg.pooling_mode_mean_sqrt_len_tokens => {
            bail!("{}: only mean or CLS pooling is supported", cfg_path.display())
        }
        (true, false) => PoolingMode::Mean,
        (false, true) => PoolingMode::Cls,
        _ => bail!("{}: exactly one of mean or CLS pooling must be set", cfg_path.display()),
    };
    let normalize = modules.iter().any(|m| m.kind.ends_with(".Normalize"));
    Ok(Some(EmbeddingPooling { mode, normalize }))
}

/// sentence-transformers truncates to `max_seq_length`; plain transformers to the position table.
fn max_seq_len(dir: &Path, config: &Config) -> Result<usize> {
    #[derive(Deserialize)]
    struct SentenceBertConfig {
        max_seq_length: Option<usize>,
    }
    let path = dir.join("sentence_bert_config.json");
    let declared = read_json::<SentenceBertConfig>(&path)?.and_then(|c| c.max_seq_length);
    match declared {
        Some(n) if n < 2 => {
            bail!("{}: max_seq_length {n} leaves no room for [CLS] and [SEP]", path.display())
        }
        Some(n) => Ok(n.min(config.max_tokens())),
        None => Ok(config.max_tokens()),
    }
}

/// The prompts of `config_sentence_transformers.json` (none when the file or its keys are absent).
fn sentence_prompts(dir: &Path) -> Result<Prompts> {
    #[derive(Deserialize)]
    struct SentenceTransformersConfig {
        #[serde(default)]
        prompts: std::collections::BTreeMap<String, String>,
        default_prompt_name: Option<String>,
    }
    let path = dir.join("config_sentence_transformers.json");
    let Some(cfg) = read_json::<SentenceTransformersConfig>(&path)? else {
        return Ok(Prompts::default());
    };
    let prompts = Prompts { entries: cfg.prompts.into_iter().collect(), default: cfg.default_prompt_name };
    if let Some(d) = prompts.default.as_deref().filter(|d| prompts.get(d).is_none()) {
        bail!("{}: default_prompt_name `{d}` is not one of its prompts", path.display());
    }
    Ok(prompts)
}

//! Writes a model as a standard Hugging Face checkpoint: `config.json` (the source's, with the
//! new depth and labels), `model.safetensors` (f32, `bert.`-prefixed as
//! `BertForSequenceClassification` saves it), and the source's tokenizer files.

use anyhow::{ensure, Context, Result};
use edgebert_models::schema::bert_schema;
use edgebert_models::{BertModel, LayerNorm, Linear};
use safetensors::{Dtype, View};
use serde_json::{json, Map, Value};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fs;
use std::path::Path;

/// Tokenizer files carried over from a source checkpoint.
const TOKENIZER_FILES: [&str; 6] = [
    "tokenizer.json",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
];

/// sentence-transformers' length setting: a property of the trained model, so the trainer keeps
/// it but `edgebert init` does not take it from the tokenizer's checkpoint.
const SENTENCE_BERT_CONFIG: &str = "sentence_bert_config.json";

pub(crate) struct F32Tensor {
    pub shape: Vec<usize>,
    pub bytes: Vec<u8>,
}

impl View for &F32Tensor {
    fn dtype(&self) -> Dtype {
        Dtype::F32
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

/// The model's tensors in `bert_schema` order.
fn tensors_in_schema_order(model: &BertModel) -> Vec<&[f32]> {
    let w = &model.weights;
    let e = &w.embeddings;
    let mut out: Vec<&[f32]> = vec![&e.word, &e.position, &e.token_type, &e.norm.gamma, &e.norm.beta];
    fn push_linear<'a>(out: &mut Vec<&'a [f32]>, l: &'a Linear) {
        out.push(&l.weight);
        out.push(&l.bias);
    }
    fn push_norm<'a>(out: &mut Vec<&'a [f32]>, n: &'a LayerNorm) {
        out.push(&n.gamma);
        out.push(&n.beta);
    }
    for layer in &w.layers {
        for l in [
            &layer.query,
            &layer.key,
            &layer.value,
            &layer.attention_output,
            &layer.intermediate,
            &layer.output,
        ] {
            push_linear(&mut out, l);
        }
        push_norm(&mut out, &layer.attention_norm);
        push_norm(&mut out, &layer.output_norm);
    }
    if let Some(p) = &w.pooler {
        push_linear(&mut out, p);
    }
    if let Some(c) = &w.classifier {
        push_linear(&mut out, c);
    }
    out
}

/// Writes f32 tensors as a `model.safetensors` file (`format: pt`, as transformers saves them).
pub(crate) fn write_safetensors(path: &Path, tensors: &[(String, F32Tensor)]) -> Result<()> {
    let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    // Serialised in memory and written with `fs::write`, so the file gets the usual permissions
    // (not the 0600 of a temporary file).
    let bytes = safetensors::serialize(tensors.iter().map(|(n, t)| (n.as_str(), t)), Some(metadata))
        .with_context(|| format!("cannot serialise {}", path.display()))?;
    fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// Copies the tokenizer files present in `from` into `to`.
pub(crate) fn copy_tokenizer_files(from: &Path, to: &Path) -> Result<usize> {
    copy_files(&TOKENIZER_FILES, from, to)
}

fn copy_files(names: &[&str], from: &Path, to: &Path) -> Result<usize> {
    let mut copied = 0;
    for &name in names {
        let src = from.join(name);
        if src.exists() {
            let dst = to.join(name);
            // Read and write rather than `fs::copy`: the source may be read-only, and its mode
            // must not stop a later write from replacing the file.
            let bytes = fs::read(&src).with_context(|| format!("cannot read {}", src.display()))?;
            fs::write(&dst, bytes).with_context(|| format!("cannot write {}", dst.display()))?;
            copied += 1;
        }
    }
    Ok(copied)
}

/// Writes `model` to `out_dir` (created if needed), taking `config.json`'s other fields and the
/// tokenizer files from `source_dir`.
pub fn write_checkpoint(model: &BertModel, source_dir: &Path, out_dir: &Path) -> Result<()> {
    fs::create_dir_all(out_dir).with_context(|| format!("cannot create {}", out_dir.display()))?;
    let c = &model.config;
    let w = &model.weights;
    let labels = w.classifier.as_ref().map(|l| l.out_dim);
    let specs = bert_schema(c, "bert.", w.pooler.is_some(), labels);
    let values = tensors_in_schema_order(model);
    ensure!(specs.len() == values.len(), "internal: schema and weights differ in tensor count");
    let mut tensors = Vec::with_capacity(specs.len());
    for (spec, v) in specs.iter().zip(values) {
        ensure!(
            spec.shape.iter().product::<usize>() == v.len(),
            "internal: tensor {} holds {} values for shape {:?}",
            spec.name,
            v.len(),
            spec.shape
        );
        let bytes = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        tensors.push((spec.name.clone(), F32Tensor { shape: spec.shape.clone(), bytes }));
    }
    write_safetensors(&out_dir.join("model.safetensors"), &tensors)?;

    let source_config = source_dir.join("config.json");
    let text = fs::read_to_string(&source_config)
        .with_context(|| format!("cannot read {}", source_config.display()))?;
    let mut config: Map<String, Value> = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a JSON object", source_config.display()))?;
    config.insert("num_hidden_layers".into(), json!(c.num_hidden_layers));
    if labels.is_some() {
        config.insert("architectures".into(), json!(["BertForSequenceClassification"]));
        let id2label: Map<String, Value> =
            c.id2label.iter().enumerate().map(|(i, l)| (i.to_string(), json!(l))).collect();
        let label2id: Map<String, Value> =
            c.id2label.iter().enumerate().map(|(i, l)| (l.clone(), json!(i))).collect();
        config.insert("id2label".into(), Value::Object(id2label));
        config.insert("label2id".into(), Value::Object(label2id));
    } else {
        config.insert("architectures".into(), json!(["BertModel"]));
    }
    config.insert("torch_dtype".into(), json!("float32"));
    let config_path = out_dir.join("config.json");
    fs::write(&config_path, serde_json::to_string_pretty(&Value::Object(config))? + "\n")
        .with_context(|| format!("cannot write {}", config_path.display()))?;

    copy_tokenizer_files(source_dir, out_dir)?;
    copy_files(&[SENTENCE_BERT_CONFIG], source_dir, out_dir)?;
    Ok(())
}

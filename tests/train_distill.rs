//! Training end to end on the tiny categorium model (2 layers, hidden 32, 27 labels): a one-epoch
//! distillation to one layer lowers the distillation loss, writes a Hugging Face checkpoint that
//! the reference pipeline and `edgebert convert` load, and is the same for the same seed.
//! `edgebert finetune` adds a head to a head-less model and learns.

mod common;

use common::asset;
use edgebert_convert::blob::{convert_dir, Precision, Recipe};
use edgebert_convert::hf::Checkpoint;
use edgebert_convert::reference::ReferencePipeline;
use edgebert_convert::train::{
    distill, finetune, predict_logits, student_from_teacher, DistillOptions, FinetuneOptions, TrainOptions,
};
use edgebert_models::train::{kl_div_with_temperature, softmax_cross_entropy};
use edgebert_models::{BertModel, Sequence};
use std::path::{Path, PathBuf};

const TRAIN_ROWS: usize = 48;

/// A scratch directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("edgebert-train-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir writable");
        TempDir(dir)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn options(epochs: usize, lr: f32) -> TrainOptions {
    TrainOptions {
        epochs,
        lr,
        batch_size: 8,
        warmup_ratio: 0.1,
        weight_decay: 0.01,
        clip_norm: 1.0,
        seed: 7,
        hidden_dropout: 0.0,
        attention_dropout: 0.0,
        freeze_embeddings: false,
        progress: false,
    }
}

/// The first rows of rt_polarity's training set, copied into `dir`; `None` (after saying so)
/// when the asset is missing and missing assets are allowed, a failure under
/// `EDGEBERT_REQUIRE_ASSETS=1`.
fn train_file(dir: &Path) -> Option<PathBuf> {
    let source = asset("data/rt_polarity/train.tsv")?;
    let text = std::fs::read_to_string(&source).expect("readable");
    let rows: Vec<&str> = text.lines().take(TRAIN_ROWS + 1).collect();
    assert!(rows.len() > TRAIN_ROWS / 2, "{}: only {} rows", source.display(), rows.len());
    let path = dir.join("train.tsv");
    std::fs::write(&path, rows.join("\n")).expect("temp dir writable");
    Some(path)
}

/// 0.5·T²·KL(T=2) + 0.5·CE of `model` on the texts, against the teacher's logits.
fn distill_loss(model: &BertModel, teacher: &BertModel, seqs: &[Sequence], labels: &[usize]) -> f32 {
    let (s, t) = (predict_logits(model, seqs).unwrap(), predict_logits(teacher, seqs).unwrap());
    let classes = s.len() / seqs.len();
    let n = seqs.len() as f32;
    0.5 * kl_div_with_temperature(&s, &t, classes, 2.0, n).loss
        + 0.5 * softmax_cross_entropy(&s, classes, labels, n).loss
}

#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/models/categorium-tiny-bert-en (README: Tests)"
)]
fn tiny_distillation_lowers_the_loss_and_loads_back() {
    let Some(teacher_dir) = asset("models/categorium-tiny-bert-en") else { return };
    let tmp = TempDir::new("distill");
    let Some(train) = train_file(tmp.path()) else { return };
    let out = tmp.path().join("student");
    let opts = DistillOptions {
        teacher: teacher_dir.clone(),
        train: train.clone(),
        dev: None,
        output: out.clone(),
        layers: 1,
        layer_map: None,
        temperature: 2.0,
        alpha: 0.5,
        hidden_mse: 0.0,
        max_len: 64,
        limit: None,
        dropout: Some(0.0),
        train_options: options(1, 2e-3),
    };
    let report = distill(&opts).expect("distillation runs");
    assert_eq!(report.layer_map, vec![0]);
    assert_eq!(report.train.epochs.len(), 1);

    // The written checkpoint loads through the reference pipeline, as a 1-layer classifier.
    let pipe = ReferencePipeline::open(&out).expect("the student checkpoint loads");
    let student = &pipe.checkpoint.model;
    assert_eq!(student.config.num_hidden_layers, 1);
    assert_eq!(student.config.id2label.len(), 27);
    let teacher = Checkpoint::load(&teacher_dir).unwrap().model;
    let rows = edgebert_convert::eval::read_examples(&train).unwrap();
    let texts: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
    let labels: Vec<usize> = rows.iter().map(|r| r.label.unwrap()).collect();
    let seqs: Vec<Sequence> = pipe
        .tokenize(&texts)
        .unwrap()
        .into_iter()
        .map(|e| Sequence { ids: e.ids, type_ids: e.type_ids })
        .collect();
    let before = distill_loss(&student_from_teacher(&teacher, &[0]).unwrap(), &teacher, &seqs, &labels);
    let after = distill_loss(student, &teacher, &seqs, &labels);
    assert!(after < before, "distillation loss did not fall: {before} -> {after}");
    assert!(pipe.classify(&texts[..2]).is_ok());

    // And `edgebert convert` turns it into a blob.
    let blob = tmp.path().join("student.ebq");
    let recipe = Recipe { weights: Precision::Int8, embeddings: Precision::Int8 };
    convert_dir(&out, &blob, recipe, false, &mut |_| {}).expect("the student converts");

    // Same seed, same bytes.
    let again = tmp.path().join("again");
    distill(&DistillOptions { output: again.clone(), ..opts }).unwrap();
    let read = |d: &Path| std::fs::read(d.join("model.safetensors")).unwrap();
    assert!(read(&out) == read(&again), "two runs with the same seed differ");
}

#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/models/categorium-tiny-bert-en (README: Tests)"
)]
fn finetune_adds_a_head_and_learns() {
    let Some(teacher_dir) = asset("models/categorium-tiny-bert-en") else { return };
    let tmp = TempDir::new("finetune");
    // A head-less copy of the tiny model: its encoder only, as `BertModel`.
    let headless = tmp.path().join("encoder");
    let mut model = Checkpoint::load(&teacher_dir).unwrap().model;
    model.weights.pooler = None;
    model.weights.classifier = None;
    model.config.architecture = "BertModel".into();
    edgebert_convert::train::write_checkpoint(&model, &teacher_dir, &headless).unwrap();

    let Some(train) = train_file(tmp.path()) else { return };
    let out = tmp.path().join("tuned");
    let opts = FinetuneOptions {
        model: headless,
        train: train.clone(),
        dev: Some(train),
        output: out.clone(),
        max_len: 64,
        limit: None,
        dropout: None,
        train_options: options(3, 3e-3),
    };
    let report = finetune(&opts).expect("fine-tuning runs");
    assert!(report.new_head);
    let losses: Vec<f32> = report.train.epochs.iter().map(|e| e.train_loss).collect();
    assert!(losses[2] < losses[0], "training loss did not fall: {losses:?}");
    let pipe = ReferencePipeline::open(&out).expect("the fine-tuned checkpoint loads");
    assert_eq!(pipe.checkpoint.config().id2label.len(), 2);
}

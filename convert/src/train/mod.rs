//! Fine-tuning and distillation on the float reference path (`edgebert_models::train`):
//! tokenised examples, AdamW with warm-up and linear decay, gradient clipping, data-parallel
//! steps on rayon that are deterministic for a seed, dev evaluation, and a Hugging Face
//! checkpoint writer so students leave as ordinary `transformers` models.
//!
//! Determinism: a batch is cut into fixed chunks of [`CHUNK`] examples whatever the thread
//! count; each chunk's gradient is computed on some thread with dropout seeded by (seed, step,
//! chunk), and the chunk gradients are added in chunk order. Same seed, same weights.

pub(crate) mod checkpoint;
mod common;
mod data;
mod distill;
mod finetune;
mod optim;
mod trainer;

pub use checkpoint::write_checkpoint;
pub use data::{encode_examples, LabelledSequence};
pub use distill::{default_layer_map, distill, student_from_teacher, DistillOptions, DistillReport};
pub use finetune::{ensure_head, finetune, FinetuneOptions, FinetuneReport};
pub use optim::{clip_global_norm, AdamW, Schedule};
pub use trainer::{
    accuracy, predict_logits, train, EpochReport, HiddenTarget, Objective, TrainOptions, TrainReport, CHUNK,
};

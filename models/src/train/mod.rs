//! Training on the float reference path: a forward pass that keeps what the backward pass needs
//! (a [`Tape`]), the backward pass of every op of the encoder and its classification head,
//! dropout, and the training losses (softmax cross-entropy, KL with temperature, hidden-state
//! MSE). Every gradient is checked against finite differences in `models/tests/train_*.rs`.
//!
//! Layout: a batch is *packed* — the rows of all its sequences one after another, no padding at
//! all — because every op but attention works row by row and attention looks only at a
//! sequence's own keys. That is dynamic padding taken to its limit: no row is ever wasted.
//!
//! The matrix products (forward `x·Wᵀ`, backward `dY·W` and `dYᵀ·X`) run on the packed f32
//! kernels of `edgebert-kernels` through [`Gemm`]; [`Kernels::generic`] makes the whole pass
//! plain scalar code. What is cheap (LayerNorm, GELU, softmax, attention over short sequences)
//! stays in obvious loops here.
//!
//! Gradients live in a [`BertWeights`] of the same shapes as the model (see [`zeros_like`]),
//! and [`tensors_mut`] lists every tensor with its [`ParamKind`] so an optimizer can walk
//! weights, gradients and moments in lock-step.
//!
//! [`Kernels::generic`]: edgebert_kernels::Kernels::generic
//! [`BertWeights`]: crate::BertWeights

mod gemm;
mod layer;
mod loss;
mod ops;
mod params;
mod rng;
mod tape;

pub use gemm::{pack_transposed_f32, Gemm, PackedLinear, PackedModel};
pub use loss::{kl_div_with_temperature, mse, softmax_cross_entropy, LossGrad};
pub use ops::{gelu_erf_grad, layer_norm_backward, layer_norm_forward, NormCache};
pub use params::{add_assign, global_norm, scale, tensors_mut, zeros_like, ParamKind};
pub use rng::Rng;
pub use tape::{backward, forward, Batch, Dropout, Tape};

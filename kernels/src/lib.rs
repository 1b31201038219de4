//! edgebert-kernels: every numeric kernel of the encoder (GEMM, row quantization, LayerNorm,
//! softmax, GELU, attention products), each with a portable scalar twin of the same name under
//! [`generic`] that the optimised variants are tested against.
//!
//! This crate is a leaf: it depends only on `pulp`, `half` and `bytemuck`, and must never depend
//! on the model, engine or converter crates. It is the only crate (beside the engine's mmap
//! module) allowed to contain `unsafe`, and only under `src/arch/`.
//!
//! Kernels panic on broken preconditions (wrong slice lengths): those are programmer errors,
//! checked with `assert!` at the public boundary.

#![deny(unsafe_code)]

pub mod generic;

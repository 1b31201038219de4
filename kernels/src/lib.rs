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
//!
//! Entry points: [`Kernels::selected`] (the backend for this process, see [`backend`]), its
//! methods (`linear_i8`, `linear_f16`, `linear_f32`, ...), weights packed by [`packed`].

#![deny(unsafe_code)]

#[allow(unsafe_code)]
mod arch;
pub mod backend;
mod dispatch;
pub mod generic;
pub mod linear;
pub mod packed;
pub mod peak;

pub use backend::{describe, Backend, Unsupported};
pub use dispatch::Kernels;
pub use linear::{Epilogue, Scratch};
pub use packed::{
    pack_f16, pack_f32, pack_i8, pack_i8_quantized, PackedF16, PackedF32, PackedI8, PackedI8Buf,
};

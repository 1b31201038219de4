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
//! methods (the slots of [`KernelSlots`]: `linear_i8`, `linear_f16`, `linear_f32`,
//! `softmax_rows`, `layer_norm`, `gelu_erf`, `attention_f32`, `attention_i8`, ...), weights
//! packed by [`packed`] (the byte layout the blob stores), and one [`Scratch`] per thread.
//! Layout: [`registry`] (the slots, the backends, how to add one), `frame` (the driver layer
//! every backend shares), [`generic`] (the twins), `arch` (micro-tiles and row kernels per
//! instruction set, in folders named for what they require: `x86/v3`, `x86/v4`,
//! `x86/v3_vnni`, `x86/v4_vnni`, `aarch64/neon`, `aarch64/dotprod`).
//!
//!
//! ```
//! use edgebert_kernels::{pack_i8, Epilogue, Kernels, PackedI8, Scratch};
//! let (m, k, n) = (2, 8, 3);
//! let w: Vec<f32> = (0..n * k).map(|i| i as f32 / 10.0 - 1.0).collect(); // PyTorch [n, k]
//! let bias = vec![0.5; n];
//! let packed = pack_i8(&w, n, k); // done once, by the converter
//! // The engine builds the view from slices of its mmap instead:
//! let view = PackedI8::new(&packed.data, &packed.scales, &packed.col_sums, n, k).unwrap();
//! let kern = Kernels::selected(); // best backend, or EDGEBERT_KERNELS
//! let (a, mut out, mut scratch) = (vec![1.0f32; m * k], vec![0.0; m * n], Scratch::default());
//! kern.linear_i8(&a, m, &view, &Epilogue { bias: Some(&bias), gelu: true, residual: None }, &mut out, &mut scratch);
//! assert!(out.iter().all(|v| v.is_finite()));
//! println!("{}", edgebert_kernels::describe());
//! ```

#![deny(unsafe_code)]

#[macro_use]
mod frame;

#[allow(unsafe_code)]
mod arch;
pub mod attention;
pub mod backend;
pub mod generic;
mod kernels;
pub mod linear;
pub mod packed;
pub mod packed_i4;
pub mod peak;
pub mod registry;

pub use attention::AttentionShape;
pub use backend::{describe, Backend, Unsupported};
pub use kernels::Kernels;
pub use linear::{Epilogue, Linear, LinearI4, LinearI8, RowQuant, Scratch};
pub use packed::{
    pack_f16, pack_f32, pack_i8, pack_i8_quantized, PackedF16, PackedF32, PackedI8, PackedI8Buf,
};
pub use packed_i4::{pack_i4, PackedI4, PackedI4Buf};
pub use registry::KernelSlots;

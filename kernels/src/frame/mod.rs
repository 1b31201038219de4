//! The driver layer every backend shares, written once: GEMM blocking (column panels, depth
//! blocks, row blocks, ragged tails) around a backend's micro-tile ([`gemm`]), the int8
//! quantize-then-multiply entry points and where a tile's accumulators go ([`int8`], [`int4`]), the row
//! loops and shape checks of the row kernels ([`rows`]), and attention through a backend's
//! f32 GEMM ([`attention`]). Arch files keep only the micro-tiles and row kernels.

#[macro_use]
mod tiles;

#[macro_use]
pub(crate) mod attention;
#[macro_use]
pub(crate) mod gemm;
#[macro_use]
pub(crate) mod int4;
#[macro_use]
pub(crate) mod int8;
pub(crate) mod rows;

//! aarch64 backends: NEON (every ARMv8-A core) and NEON dot-product (`sdot`, ARMv8.2+).
//!
//! Tokens are zero-sized proofs that [`crate::Backend::check`] passed; the safe entry points
//! take one. `sdot` is issued through `asm!` inside `#[target_feature(enable = "dotprod")]`
//! functions because the dot-product intrinsics are not stable in Rust.

pub(crate) mod neon;
pub(crate) mod neon_dotprod;

use crate::backend::Backend;
use crate::generic::epilogue_at;
use crate::linear::{grow, Epilogue, RowQuant, Scratch};

/// NEON (Advanced SIMD).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Neon(());

impl Neon {
    pub(crate) fn new() -> Option<Self> {
        Backend::Neon.check().ok().map(|()| Neon(()))
    }
}

/// NEON + dot product.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NeonDot(());

impl NeonDot {
    pub(crate) fn new() -> Option<Self> {
        Backend::NeonDotprod.check().ok().map(|()| NeonDot(()))
    }
}

/// Quantizes `[m, k]` activations into i8 rows of `k4` bytes (zero padding) and their
/// [`RowQuant`]s, with exactly the generic rounding.
pub(crate) fn quantize_rows_padded<'s>(
    a: &[f32],
    m: usize,
    k: usize,
    scratch: &'s mut Scratch,
) -> (&'s [i8], &'s [RowQuant]) {
    let k4 = crate::packed::k4(k);
    let q = grow(&mut scratch.i8s, m * k4);
    let rows = grow(&mut scratch.rows, m);
    for i in 0..m {
        let row = &mut q[i * k4..(i + 1) * k4];
        rows[i] = crate::generic::quantize_row_i8(&a[i * k..(i + 1) * k], &mut row[..k]);
        row[k..].fill(0);
    }
    (q, rows)
}

/// Pads i8 rows `[m, k]` to `k4` bytes (zeros).
pub(crate) fn pad_rows<'s>(q: &[i8], m: usize, k: usize, scratch: &'s mut Scratch) -> &'s [i8] {
    let k4 = crate::packed::k4(k);
    let dst = grow(&mut scratch.i8s, m * k4);
    for i in 0..m {
        dst[i * k4..i * k4 + k].copy_from_slice(&q[i * k..(i + 1) * k]);
        dst[i * k4 + k..(i + 1) * k4].fill(0);
    }
    dst
}

/// Finishes one tile row of 16 f32 values at row `i`, columns `j0..` (clipped to `n`).
pub(crate) fn finish_f32(
    vals: &[f32; 16],
    i: usize,
    j0: usize,
    n: usize,
    ep: &Epilogue<'_>,
    out: &mut [f32],
) {
    for (c, &v) in vals.iter().enumerate().take(n.saturating_sub(j0).min(16)) {
        out[i * n + j0 + c] = epilogue_at(v, i, j0 + c, n, ep);
    }
}

/// Finishes one tile row of 16 i32 dot products: raw, or dequantized then the epilogue.
pub(crate) fn finish_i32(
    acc: &[i32; 16],
    i: usize,
    j0: usize,
    n: usize,
    w_scales: &[f32],
    col_sums: &[i32],
    sink: &mut crate::arch::Sink<'_, '_>,
) {
    let valid = n.saturating_sub(j0).min(16);
    match sink {
        crate::arch::Sink::I32(out) => out[i * n + j0..i * n + j0 + valid].copy_from_slice(&acc[..valid]),
        crate::arch::Sink::F32 { out, rows, ep } => {
            for c in 0..valid {
                let y = rows[i].dequantize(acc[c], w_scales[j0 + c], col_sums[j0 + c]);
                out[i * n + j0 + c] = epilogue_at(y, i, j0 + c, n, ep);
            }
        }
    }
}

//! Arguments shared by every backend's linear layer: the fused epilogue and reusable scratch.
//!
//! A linear layer is `out[i][j] = epilogue(Σ_kk a[i][kk] · W[j][kk])` with `a` `[m, k]` f32
//! row-major, `W` a packed weight (see [`crate::packed`]) and `out` `[m, n]` f32 row-major.
//! For int8 weights each row of `a` is quantized on the fly to `x ≈ offset + scale · q` (see
//! [`crate::generic::quantize_row_i8`]), the dot product is exact in i32, and the result is
//! dequantized by [`RowQuant::dequantize`]: `acc · w_scale[j] · scale + offset · (w_scale[j] ·
//! col_sum[j])`, the second term being the row offset times the sum of weight row `j`.

use crate::packed::PackedI8;
use crate::packed_i4::PackedI4;

/// What happens to each output after the dot product, in this order:
/// `y = dot + bias[j]`, then `y = gelu_erf(y)` if `gelu`, then `y += residual[i][j]`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Epilogue<'a> {
    /// `[n]`, added to every row.
    pub bias: Option<&'a [f32]>,
    /// Apply GELU (erf form, as Hugging Face's `"gelu"`).
    pub gelu: bool,
    /// `[m, n]`, added last (the transformer's skip connection).
    pub residual: Option<&'a [f32]>,
}

impl<'a> Epilogue<'a> {
    /// No bias, no activation, no residual.
    pub fn none() -> Self {
        Epilogue::default()
    }
    /// Just a bias.
    pub fn bias(bias: &'a [f32]) -> Self {
        Epilogue { bias: Some(bias), ..Epilogue::default() }
    }

    pub(crate) fn check(&self, m: usize, n: usize) {
        if let Some(b) = self.bias {
            assert_eq!(b.len(), n, "epilogue: bias must be [n]");
        }
        if let Some(r) = self.residual {
            assert_eq!(r.len(), m * n, "epilogue: residual must be [m, n]");
        }
    }
}

/// How one activation row was quantized: `x[kk] ≈ offset + scale · q[kk]`, `q` in [-127, 127].
/// The 255 levels span the row's range extended to include 0 (`offset` is its midpoint), so a
/// row of GELU outputs (mostly ≥ -0.17) gets twice the resolution a symmetric `max |x|` range
/// would give it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RowQuant {
    pub scale: f32,
    pub offset: f32,
}

impl RowQuant {
    /// The f32 result of an exact i32 dot product `acc` with weight column `j` (scale `w_scale`,
    /// integer sum `col_sum`). Every backend evaluates exactly this expression, in this order.
    #[inline(always)]
    pub fn dequantize(self, acc: i32, w_scale: f32, col_sum: i32) -> f32 {
        acc as f32 * w_scale * self.scale + self.offset * (w_scale * col_sum as f32)
    }
}

/// One linear layer of an input `a` (`[m, w.k()]`) given beside it: its weight, epilogue and
/// output, `out` (`[m, w.n()]`) `= ep(a · Wᵀ)` as the weight's kind defines it.
#[derive(Debug)]
pub struct Linear<'w, 'o, W> {
    pub w: W,
    pub ep: Epilogue<'w>,
    pub out: &'o mut [f32],
}

/// One of several int8 linear layers reading the same input (see `Kernels::linear_i8_shared`):
/// `out` (`[m, w.n()]`) `= ep(dequant(quant(a) · Wᵀ))`.
pub type LinearI8<'w, 'o> = Linear<'w, 'o, PackedI8<'w>>;

/// An int4 linear layer (see [`crate::generic::linear_i4`]).
pub type LinearI4<'w, 'o> = Linear<'w, 'o, PackedI4<'w>>;

/// Buffers a linear layer needs besides its output (quantized activations and their rows'
/// [`RowQuant`]s). They grow to the largest shape seen and are then reused: no allocation per
/// call after warm-up. One per thread.
#[derive(Debug, Default)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub struct Scratch {
    /// The quantization of each activation row (int8 linear layers).
    pub(crate) rows: Vec<RowQuant>,
    pub(crate) u8s: Vec<u8>,
    pub(crate) i8s: Vec<i8>,
    pub(crate) i16s: Vec<i16>,
    pub(crate) f32s: Vec<f32>,
    /// Attention: one head's gathered left operand, packed right operand, and output.
    pub(crate) attn_a: Vec<f32>,
    pub(crate) attn_w: Vec<f32>,
    pub(crate) attn_o: Vec<f32>,
    /// Attention: one head's scores `[m, l]` (GEMM fallback of the fused attention).
    pub(crate) attn_s: Vec<f32>,
    /// int4 linear layers: each activation row's per-group offset compensation.
    pub(crate) i32s: Vec<i32>,
    /// int8 attention: one head's packed keys and values and the keys' shift compensation.
    pub(crate) attn_i32: Vec<i32>,
}

pub(crate) fn grow<T: Copy + Default>(v: &mut Vec<T>, len: usize) -> &mut [T] {
    if v.len() < len {
        v.resize(len, T::default());
    }
    &mut v[..len]
}

pub(crate) fn check_linear(a_len: usize, m: usize, k: usize, n: usize, out_len: usize, ep: &Epilogue) {
    assert_eq!(a_len, m * k, "linear: a must be [m, k] with k = weight.k()");
    assert_eq!(out_len, m * n, "linear: out must be [m, n] with n = weight.n()");
    ep.check(m, n);
}

/// The shapes of the int8 epilogue (`KernelSlots::dequantize_i8`): `acc` and `out` `[m, n]` for
/// `m` rows' [`RowQuant`]s, the epilogue's bias `[n]` and residual `[m, n]`.
pub(crate) fn check_dequantize(acc_len: usize, m: usize, n: usize, out_len: usize, ep: &Epilogue) {
    assert_eq!(acc_len, m * n, "dequantize_i8: acc must be [rows.len(), w.n()]");
    assert_eq!(out_len, m * n, "dequantize_i8: out must be [rows.len(), w.n()]");
    ep.check(m, n);
}

//! The three matrix products of training on the fast packed f32 kernels.
//!
//! For a linear layer `Y = X·Wᵀ + b` (`X` `[m, k]`, `W` `[n, k]` as PyTorch stores it):
//! forward is `X·Wᵀ` over `W` packed as is; the input gradient `dX = dY·W` is the same kernel
//! over `Wᵀ` packed; the weight gradient `dW = dYᵀ·X` is the kernel over `dYᵀ` with `X` packed
//! as the "weight". Both packings are rebuilt once per optimizer step (weights change every
//! step), which costs `O(n·k)` against the `O(m·n·k)` of the products.

use crate::{BertWeights, Linear};
use edgebert_kernels::linear::{Epilogue, Scratch};
use edgebert_kernels::packed::{pack_f32, panels, PackedF32, PackedFloatBuf, PANEL};
use edgebert_kernels::Kernels;

/// Packs `b`, a row-major `[k, n]` matrix, as the `[n, k]` weight `bᵀ` (the layout of
/// `edgebert_kernels::packed`), without materialising the transpose: each row of `b` is 16
/// consecutive output columns per panel.
pub fn pack_transposed_f32(b: &[f32], k: usize, n: usize) -> PackedFloatBuf<f32> {
    assert_eq!(b.len(), k * n, "pack_transposed_f32: b must be [k, n]");
    let mut data = vec![0.0f32; panels(n) * PANEL * k];
    for kk in 0..k {
        let row = &b[kk * n..][..n];
        for (p, cols) in row.chunks(PANEL).enumerate() {
            data[p * PANEL * k + kk * PANEL..][..cols.len()].copy_from_slice(cols);
        }
    }
    PackedFloatBuf { data, n, k }
}

/// A linear layer's weight packed both ways.
#[derive(Debug, Clone)]
pub struct PackedLinear {
    /// `W` (`[out, in]`): forward.
    pub forward: PackedFloatBuf<f32>,
    /// `Wᵀ` (`[in, out]`): input gradient.
    pub transposed: PackedFloatBuf<f32>,
}

impl PackedLinear {
    pub fn new(l: &Linear) -> PackedLinear {
        PackedLinear {
            forward: pack_f32(&l.weight, l.out_dim, l.in_dim),
            transposed: pack_transposed_f32(&l.weight, l.out_dim, l.in_dim),
        }
    }
}

/// Every linear layer of a model packed for one step; shared read-only by all threads.
#[derive(Debug, Clone)]
pub struct PackedModel {
    /// Per layer: query, key, value, attention output, intermediate, output.
    pub layers: Vec<[PackedLinear; 6]>,
    pub pooler: Option<PackedLinear>,
    pub classifier: Option<PackedLinear>,
}

impl PackedModel {
    pub fn new(w: &BertWeights) -> PackedModel {
        let layers = w
            .layers
            .iter()
            .map(|l| {
                [&l.query, &l.key, &l.value, &l.attention_output, &l.intermediate, &l.output]
                    .map(PackedLinear::new)
            })
            .collect();
        PackedModel {
            layers,
            pooler: w.pooler.as_ref().map(PackedLinear::new),
            classifier: w.classifier.as_ref().map(PackedLinear::new),
        }
    }
}

/// A kernel backend with its scratch buffers: one per thread.
#[derive(Debug)]
pub struct Gemm {
    kernels: Kernels,
    scratch: Scratch,
}

impl Gemm {
    pub fn new(kernels: Kernels) -> Gemm {
        Gemm { kernels, scratch: Scratch::default() }
    }

    /// `out = a·Wᵀ (+ bias)`, `a` `[m, w.k]`, `out` `[m, w.n]`.
    pub fn linear(&mut self, a: &[f32], m: usize, w: &PackedFloatBuf<f32>, bias: Option<&[f32]>) -> Vec<f32> {
        let mut out = vec![0.0f32; m * w.n];
        if m == 0 {
            return out;
        }
        let view = PackedF32::new(&w.data, w.n, w.k).expect("packed by this module");
        let ep = Epilogue { bias, ..Epilogue::none() };
        self.kernels.linear_f32(a, m, &view, &ep, &mut out, &mut self.scratch);
        out
    }

    /// The gradients of `Y = X·Wᵀ + b` from `dy` (`[m, n]`) and `x` (`[m, k]`): accumulates
    /// `dW += dyᵀ·x` and `db += Σ_rows dy`, and returns `dX = dy·W`.
    pub fn linear_backward(
        &mut self,
        dy: &[f32],
        x: &[f32],
        m: usize,
        w: &PackedLinear,
        grad: &mut Linear,
    ) -> Vec<f32> {
        let (n, k) = (grad.out_dim, grad.in_dim);
        assert_eq!(dy.len(), m * n, "linear_backward: dy must be [m, out]");
        assert_eq!(x.len(), m * k, "linear_backward: x must be [m, in]");
        if m == 0 {
            return Vec::new();
        }
        for row in dy.chunks_exact(n) {
            grad.bias.iter_mut().zip(row).for_each(|(b, d)| *b += d);
        }
        let mut dy_t = vec![0.0f32; n * m];
        for (i, row) in dy.chunks_exact(n).enumerate() {
            for (j, &d) in row.iter().enumerate() {
                dy_t[j * m + i] = d;
            }
        }
        let x_as_weight = pack_transposed_f32(x, m, k);
        let dw = self.linear(&dy_t, n, &x_as_weight, None);
        grad.weight.iter_mut().zip(&dw).for_each(|(g, d)| *g += d);
        self.linear(dy, m, &w.transposed, None)
    }
}

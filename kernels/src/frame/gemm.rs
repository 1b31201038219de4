//! GEMM blocking, once for every backend: column panels outermost (a panel group's partial
//! sums stay in cache across depth blocks, its weight block in L1 across the row tiles), then
//! equal depth blocks, then row tiles; ragged last tiles get the smaller const-generic tile.
//! The float linear layer of backends whose tile needs no depth blocking or repacking
//! ([`FloatTiles`], [`linear_float`]) and the two float slots ([`float_slots!`]) are here too.

use crate::linear::{check_linear, Epilogue, Scratch};
use crate::packed::{PackedFloat, PANEL};

/// The two float slots (`linear_f16`, `linear_f32`) of a backend whose float linear layer is
/// `$linear($token(self), FloatLinear { a, m, w, ep, out }, scratch)`, generic over the weight type: put
/// `float_slots!(|s: &Token| .. => path::to::linear);` inside its `impl KernelSlots`.
#[cfg_attr(not(any(target_arch = "x86_64", target_arch = "aarch64")), allow(unused_macros))]
macro_rules! float_slots {
    ($token:expr => $linear:path) => {
        float_slots!(@slot linear_f16, $crate::PackedF16<'_>, $token => $linear);
        float_slots!(@slot linear_f32, $crate::PackedF32<'_>, $token => $linear);
    };
    (@slot $slot:ident, $w:ty, $token:expr => $linear:path) => {
        fn $slot(
            &self,
            a: &[f32],
            m: usize,
            w: &$w,
            ep: &$crate::Epilogue<'_>,
            out: &mut [f32],
            scratch: &mut $crate::Scratch,
        ) {
            $linear($token(self), $crate::frame::gemm::FloatLinear { a, m, w, ep, out }, scratch)
        }
    };
}

/// Which part of the depth a tile call covers: `kb..kb + kc` of `len` (inputs for f32, bytes of
/// the padded depth for int8).
#[derive(Clone, Copy, Debug)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // only x86 kernels block the depth
pub(crate) struct Depth {
    pub kb: usize,
    pub kc: usize,
    pub len: usize,
}

impl Depth {
    /// Whether this is the last depth block (the epilogue runs after it).
    #[inline(always)]
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    pub fn last(&self) -> bool {
        self.kb + self.kc >= self.len
    }
}

/// A register-blocked micro-kernel: tiles of up to `MR` rows by `NP` column units of `NR`
/// columns, over depth blocks of at most `KC` (a multiple of `K_ALIGN`).
pub(crate) trait MicroKernel {
    /// Rows per tile.
    const MR: usize;
    /// Column units per tile.
    const NP: usize;
    /// Columns per unit: 16 (a packed panel), or 8 for half-panel kernels.
    const NR: usize;
    /// Largest depth block; `usize::MAX` for one block over the whole depth.
    const KC: usize = usize::MAX;
    /// Depth blocks are multiples of this (4 for int8's groups of four inputs).
    const K_ALIGN: usize = 1;

    /// The `rows` × `units` tile whose first row is `i0` and first column unit `u0`, over `d`.
    fn tile(&mut self, rows: usize, units: usize, i0: usize, u0: usize, d: Depth);
}

/// Runs `kernel` over an `[m, n]` output of depth `depth`. Depth is cut into equal blocks of
/// at most `KC` (384 = 2 × 192, not 256 + 128); a zero depth still gets one (empty) block so
/// every tile runs its epilogue.
#[inline(always)]
pub(crate) fn drive<K: MicroKernel>(kernel: &mut K, m: usize, n: usize, depth: usize) {
    let units = n.div_ceil(K::NR);
    let blocks = depth.div_ceil(K::KC).max(1);
    let kc = depth.div_ceil(blocks).next_multiple_of(K::K_ALIGN).max(K::K_ALIGN);
    for u0 in (0..units).step_by(K::NP) {
        let un = (units - u0).min(K::NP);
        for kb in (0..depth.max(1)).step_by(kc) {
            let d = Depth { kb, kc: kc.min(depth - kb), len: depth };
            for i0 in (0..m).step_by(K::MR) {
                kernel.tile((m - i0).min(K::MR), un, i0, u0, d);
            }
        }
    }
}

/// The operands of a float linear layer `out = ep(a · Wᵀ)` over `m` rows, weights of type `T`
/// (f32 or f16): what a float slot hands its backend's GEMM.
pub(crate) struct FloatLinear<'a, 'w, T> {
    pub a: &'a [f32],
    pub m: usize,
    pub w: &'a PackedFloat<'w, T>,
    pub ep: &'a Epilogue<'w>,
    pub out: &'a mut [f32],
}

impl<T: Copy> FloatLinear<'_, '_, T> {
    /// Checks the shapes (see `linear::check_linear`); returns the depth `k` and the columns `n`.
    pub(crate) fn check(&self) -> (usize, usize) {
        let (k, n) = (self.w.k(), self.w.n());
        check_linear(self.a.len(), self.m, k, n, self.out.len(), self.ep);
        (k, n)
    }
}

/// A backend's float micro-tiles over weights of type `T` (f32, or f16 widened in the tile):
/// up to `MR` rows by one packed panel, the whole depth in one block, the epilogue applied as
/// each tile finishes.
#[cfg_attr(not(any(target_arch = "x86_64", target_arch = "aarch64")), allow(dead_code))]
pub(crate) trait FloatTiles<T>: Copy {
    /// Rows per tile.
    const MR: usize;
    /// `out = ep(a · Wᵀ)` of `g` on rows `i0..i0 + rows` (`rows ≤ MR`), columns of panel `p`.
    fn tile(g: &mut FloatGemm<'_, '_, Self, T>, rows: usize, i0: usize, p: usize);
}

/// A layer through a backend's [`FloatTiles`], as a [`MicroKernel`].
#[cfg_attr(not(any(target_arch = "x86_64", target_arch = "aarch64")), allow(dead_code))]
pub(crate) struct FloatGemm<'a, 'w, K, T> {
    pub tiles: K,
    pub l: FloatLinear<'a, 'w, T>,
}

impl<K: FloatTiles<T>, T> MicroKernel for FloatGemm<'_, '_, K, T> {
    const MR: usize = K::MR;
    const NP: usize = 1;
    const NR: usize = PANEL;

    #[inline(always)]
    fn tile(&mut self, rows: usize, _units: usize, i0: usize, p: usize, _d: Depth) {
        K::tile(self, rows, i0, p)
    }
}

/// The float linear layer `l` through `tiles` (see `KernelSlots::linear_f32`).
#[cfg_attr(not(any(target_arch = "x86_64", target_arch = "aarch64")), allow(dead_code))]
pub(crate) fn linear_float<K: FloatTiles<T>, T: Copy>(tiles: K, l: FloatLinear<'_, '_, T>, _: &mut Scratch) {
    let ((k, n), m) = (l.check(), l.m);
    drive(&mut FloatGemm { tiles, l }, m, n, k);
}

//! GEMM blocking, once for every backend: column panels outermost (a panel group's partial
//! sums stay in cache across depth blocks, its weight block in L1 across the row tiles), then
//! equal depth blocks, then row tiles; ragged last tiles get the smaller const-generic tile.

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

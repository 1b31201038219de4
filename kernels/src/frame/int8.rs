//! int8 linear layers, once for every backend: check shapes, quantize each activation row into
//! the layout the backend's micro-kernel reads (once for several layers of one input), run the
//! integer GEMM, and let the tiles finish into a [`Sink`]: exact i32, or dequantized and then
//! the epilogue.

use crate::frame::gemm::{drive, Depth, MicroKernel};
use crate::generic::epilogue_at;
use crate::linear::{check_linear, grow, Epilogue, LinearI8, RowQuant, Scratch};
use crate::packed::{k4, PackedI8, PANEL};

/// The three int8 slots of a backend whose int8 GEMM is `$gemm(self)` (an [`Int8Gemm`]): put
/// `int8_slots!(..);` inside its `impl KernelSlots`.
macro_rules! int8_slots {
    ($gemm:expr) => {
        fn linear_i8(
            &self,
            a: &[f32],
            m: usize,
            w: &$crate::PackedI8<'_>,
            ep: &$crate::Epilogue<'_>,
            out: &mut [f32],
            scratch: &mut $crate::Scratch,
        ) {
            let layer = $crate::LinearI8 { w: *w, ep: *ep, out };
            $crate::frame::int8::linear_i8_shared($gemm(self), a, m, &mut [layer], scratch)
        }

        fn linear_i8_shared(
            &self,
            a: &[f32],
            m: usize,
            layers: &mut [$crate::LinearI8<'_, '_>],
            scratch: &mut $crate::Scratch,
        ) {
            $crate::frame::int8::linear_i8_shared($gemm(self), a, m, layers, scratch)
        }

        fn gemm_i8_i32(
            &self,
            q: &[i8],
            m: usize,
            w: &$crate::PackedI8<'_>,
            out: &mut [i32],
            scratch: &mut $crate::Scratch,
        ) {
            $crate::frame::int8::gemm_i8_i32($gemm(self), q, m, w, out, scratch)
        }
    };
}

/// Where an int8 GEMM tile's i32 accumulators go.
pub(crate) enum Sink<'s, 'e> {
    /// Exact i32 dot products into `[m, n]` (tests and tools).
    I32(&'s mut [i32]),
    /// Dequantized (`rows[i].dequantize(acc, w_scale[j], col_sum[j])`) and finished by the
    /// epilogue into `[m, n]`.
    F32 { out: &'s mut [f32], rows: &'s [RowQuant], ep: &'s Epilogue<'e> },
}

impl Sink<'_, '_> {
    /// Elements of the output (the x86 tiles check their bounds against it).
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    pub(crate) fn len(&self) -> usize {
        match self {
            Sink::I32(out) => out.len(),
            Sink::F32 { out, .. } => out.len(),
        }
    }
}

/// A backend's int8 GEMM: the activation layout its micro-kernel reads, and the kernel.
pub(crate) trait Int8Gemm: Copy {
    /// One element of the quantized activations (`i8`, `u8` after the x86 shift, or `i16`).
    type Act: Copy + Default;
    /// Elements the layout needs for `m` rows of depth `k`.
    fn act_len(m: usize, k: usize) -> usize;
    /// The scratch buffers of the layout and of the rows' [`RowQuant`]s.
    fn buffers(s: &mut Scratch) -> (&mut Vec<Self::Act>, &mut Vec<RowQuant>);
    /// `generic::quantize_row_i8` of row `i` (`x`, `k` values) into the layout (the same integers).
    fn quantize_row(self, x: &[f32], i: usize, act: &mut [Self::Act]) -> RowQuant;
    /// Row `i` of already-quantized activations (`q`, `k` values) into the layout.
    fn copy_row(self, q: &[i8], i: usize, act: &mut [Self::Act]);
    /// The GEMM of `m` laid-out rows with `w`, finished into `sink`.
    fn run(self, act: &[Self::Act], m: usize, w: &PackedI8<'_>, sink: Sink<'_, '_>);
}

/// Several int8 linear layers of the same input (see `KernelSlots::linear_i8_shared`; `linear_i8`
/// is the case of one layer): the rows are quantized once.
pub(crate) fn linear_i8_shared<G: Int8Gemm>(
    g: G,
    a: &[f32],
    m: usize,
    layers: &mut [LinearI8<'_, '_>],
    scratch: &mut Scratch,
) {
    let Some(k) = layers.first().map(|l| l.w.k()) else { return };
    for l in layers.iter() {
        assert_eq!(l.w.k(), k, "linear_i8_shared: every weight must have the same k");
        check_linear(a.len(), m, k, l.w.n(), l.out.len(), &l.ep);
    }
    let (act, rows) = G::buffers(scratch);
    let (act, rows) = (grow(act, G::act_len(m, k)), grow(rows, m));
    for (i, r) in rows.iter_mut().enumerate() {
        *r = g.quantize_row(&a[i * k..(i + 1) * k], i, act);
    }
    for l in layers.iter_mut() {
        g.run(act, m, &l.w, Sink::F32 { out: l.out, rows, ep: &l.ep });
    }
}

/// Exact i32 GEMM of i8 activations `q` (`[m, k]`) through `g`.
pub(crate) fn gemm_i8_i32<G: Int8Gemm>(
    g: G,
    q: &[i8],
    m: usize,
    w: &PackedI8<'_>,
    out: &mut [i32],
    scratch: &mut Scratch,
) {
    let (k, n) = (w.k(), w.n());
    assert_eq!(q.len(), m * k, "gemm_i8_i32: q must be [m, k]");
    assert_eq!(out.len(), m * n, "gemm_i8_i32: out must be [m, n]");
    let act = grow(G::buffers(scratch).0, G::act_len(m, k));
    for i in 0..m {
        g.copy_row(&q[i * k..(i + 1) * k], i, act);
    }
    g.run(act, m, w, Sink::I32(out));
}

/// A backend's int8 micro-tiles over shifted u8 rows ([`U8Rows`], the x86 VNNI kernels, whose
/// `vpdpbusd` wants one unsigned operand), blocked by [`drive`] as the constants say.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) trait U8Tiles: Copy {
    /// Rows per tile.
    const MR: usize;
    /// Panels per tile.
    const NP: usize;
    /// Largest depth block, in bytes per column.
    const KC: usize = usize::MAX;
    /// `generic::quantize_row_i8` of `x` fused with the shift (`q + 128`) into `dst`
    /// (`k4(x.len())` bytes, depth padding 128): the same integers; returns the row's [`RowQuant`].
    fn quantize_row_u8(self, x: &[f32], dst: &mut [u8]) -> RowQuant;
    /// The `rows` × `panels` tile of `g` whose first row is `i0` and first panel `p0`, over `d`.
    fn tile(g: &mut U8Gemm<'_, '_, '_, '_, Self>, rows: usize, panels: usize, i0: usize, p0: usize, d: Depth);
}

/// The operands of one GEMM over shifted u8 rows, as a [`MicroKernel`] of its [`U8Tiles`].
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) struct U8Gemm<'a, 'w, 's, 'e, K> {
    pub t: K,
    /// `m` rows of `k4(w.k())` bytes.
    pub rows: &'a [u8],
    pub w: &'a PackedI8<'w>,
    pub sink: Sink<'s, 'e>,
}

impl<K: U8Tiles> MicroKernel for U8Gemm<'_, '_, '_, '_, K> {
    const MR: usize = K::MR;
    const NP: usize = K::NP;
    const NR: usize = PANEL;
    const KC: usize = K::KC;
    const K_ALIGN: usize = 4;

    #[inline(always)]
    fn tile(&mut self, rows: usize, panels: usize, i0: usize, p0: usize, d: Depth) {
        K::tile(self, rows, panels, i0, p0, d)
    }
}

/// The shifted u8 layout, an [`Int8Gemm`] over a backend's [`U8Tiles`]: row `i` at `i · k4`,
/// `k4` bytes `q + 128` (a multiple of 4, so every 4-byte broadcast is in bounds), depth
/// padding 128 (`q = 0`, meeting zero weights).
#[derive(Clone, Copy)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) struct U8Rows<K>(pub K);

impl<K: U8Tiles> Int8Gemm for U8Rows<K> {
    type Act = u8;

    fn act_len(m: usize, k: usize) -> usize {
        m * k4(k)
    }

    fn buffers(s: &mut Scratch) -> (&mut Vec<u8>, &mut Vec<RowQuant>) {
        (&mut s.u8s, &mut s.rows)
    }

    fn quantize_row(self, x: &[f32], i: usize, act: &mut [u8]) -> RowQuant {
        let k4 = k4(x.len());
        self.0.quantize_row_u8(x, &mut act[i * k4..(i + 1) * k4])
    }

    fn copy_row(self, q: &[i8], i: usize, act: &mut [u8]) {
        let k4 = k4(q.len());
        for (kk, d) in act[i * k4..(i + 1) * k4].iter_mut().enumerate() {
            *d = q.get(kk).map_or(128, |&v| (v as i32 + 128) as u8);
        }
    }

    fn run(self, act: &[u8], m: usize, w: &PackedI8<'_>, sink: Sink<'_, '_>) {
        assert!(act.len() >= m * k4(w.k()));
        drive(&mut U8Gemm { t: self.0, rows: act, w, sink }, m, w.n(), k4(w.k()));
    }
}

/// A backend's int8 micro-tiles over the plain layout ([`PlainRows`]): up to `MR` rows by one
/// packed panel, the whole padded depth in one block.
#[cfg_attr(not(target_arch = "aarch64"), allow(dead_code))]
pub(crate) trait PlainTiles: Copy {
    /// Rows per tile.
    const MR: usize;
    /// Rows `i0..i0 + rows` (`rows ≤ MR`) of `q` times panel `p` of `w`, finished into `sink`.
    fn tile(self, rows: usize, q: &[i8], i0: usize, p: usize, w: &PackedI8<'_>, sink: &mut Sink<'_, '_>);

    /// `generic::quantize_row_i8` of `x` into `q` (the same integers): the twin, unless the
    /// backend has a vector one (armv7, whose target has no NEON for LLVM to vectorise with).
    #[inline(always)]
    fn quantize_row(self, x: &[f32], q: &mut [i8]) -> RowQuant {
        crate::generic::quantize_row_i8(x, q)
    }
}

/// The plain int8 layout, an [`Int8Gemm`] over a backend's [`PlainTiles`] (the ARM kernels):
/// row `i` at `i · k4`, `k4` i8 values, depth padding 0.
#[derive(Clone, Copy)]
#[cfg_attr(not(target_arch = "aarch64"), allow(dead_code))]
pub(crate) struct PlainRows<K>(pub K);

impl<K: PlainTiles> Int8Gemm for PlainRows<K> {
    type Act = i8;

    fn act_len(m: usize, k: usize) -> usize {
        m * k4(k)
    }

    fn buffers(s: &mut Scratch) -> (&mut Vec<i8>, &mut Vec<RowQuant>) {
        (&mut s.i8s, &mut s.rows)
    }

    fn quantize_row(self, x: &[f32], i: usize, act: &mut [i8]) -> RowQuant {
        let (k, k4) = (x.len(), k4(x.len()));
        let row = &mut act[i * k4..(i + 1) * k4];
        row[k..].fill(0);
        self.0.quantize_row(x, &mut row[..k])
    }

    fn copy_row(self, q: &[i8], i: usize, act: &mut [i8]) {
        let (k, k4) = (q.len(), k4(q.len()));
        act[i * k4..i * k4 + k].copy_from_slice(q);
        act[i * k4 + k..(i + 1) * k4].fill(0);
    }

    fn run(self, act: &[i8], m: usize, w: &PackedI8<'_>, sink: Sink<'_, '_>) {
        assert!(act.len() >= m * k4(w.k()));
        drive(&mut PlainGemm { tiles: self.0, q: act, w, sink }, m, w.n(), k4(w.k()));
    }
}

/// [`PlainTiles`] as a [`MicroKernel`].
struct PlainGemm<'a, 'w, 's, 'e, K> {
    tiles: K,
    q: &'a [i8],
    w: &'a PackedI8<'w>,
    sink: Sink<'s, 'e>,
}

impl<K: PlainTiles> MicroKernel for PlainGemm<'_, '_, '_, '_, K> {
    const MR: usize = K::MR;
    const NP: usize = 1;
    const NR: usize = PANEL;

    #[inline(always)]
    fn tile(&mut self, rows: usize, _units: usize, i0: usize, p: usize, _d: Depth) {
        self.tiles.tile(rows, self.q, i0, p, self.w, &mut self.sink)
    }
}

/// The int8 epilogue slot (`KernelSlots::dequantize_i8`) through `finish`, a backend's tile-row
/// finish (the function its tiles call, [`finish_i32`]'s contract): each row's 16-column chunks.
#[cfg_attr(not(any(target_arch = "aarch64", target_arch = "arm")), allow(dead_code))]
pub(crate) fn dequantize_by_tiles(
    acc: &[i32],
    rows: &[RowQuant],
    w: &PackedI8<'_>,
    ep: &Epilogue<'_>,
    out: &mut [f32],
    mut finish: impl FnMut(&[i32; 16], usize, usize, &PackedI8<'_>, &mut Sink<'_, '_>),
) {
    let n = w.n();
    crate::linear::check_dequantize(acc.len(), rows.len(), n, out.len(), ep);
    let mut sink = Sink::F32 { out, rows, ep };
    for (i, acc_i) in acc.chunks_exact(n.max(1)).enumerate().take(rows.len()) {
        for (j0, chunk) in (0..n).step_by(PANEL).zip(acc_i.chunks(PANEL)) {
            let mut t = [0i32; 16];
            t[..chunk.len()].copy_from_slice(chunk);
            finish(&t, i, j0, w, &mut sink);
        }
    }
}

/// Finishes one tile row of 16 i32 dot products: raw, or dequantized then the scalar epilogue
/// (the armv7 tiles'; the aarch64 ones use `neon::math::finish_i32`, its vector twin).
#[cfg_attr(not(target_arch = "aarch64"), allow(dead_code))]
pub(crate) fn finish_i32(acc: &[i32; 16], i: usize, j0: usize, w: &PackedI8<'_>, sink: &mut Sink<'_, '_>) {
    let n = w.n();
    let valid = n.saturating_sub(j0).min(16);
    match sink {
        Sink::I32(out) => out[i * n + j0..i * n + j0 + valid].copy_from_slice(&acc[..valid]),
        Sink::F32 { out, rows, ep } => {
            for c in 0..valid {
                let y = rows[i].dequantize(acc[c], w.scales()[j0 + c], w.col_sums()[j0 + c]);
                out[i * n + j0 + c] = epilogue_at(y, i, j0 + c, n, ep);
            }
        }
    }
}

//! int4 linear layers, once for every backend: check shapes, quantize each activation row to
//! int8 into the backend's layout (padded with zeros to whole groups of 32), compute each row's
//! group offsets `-8 · Σ_group q` (the weights are stored as `q + 8`), run the backend's tiles,
//! and finish into a [`Finish`]: the group-scaled sums, or the rows' scale and offset and the
//! epilogue. Arch files keep only the tiles.

// armv7 has no int4 tiles (it runs the generic twin).
#![cfg_attr(not(any(target_arch = "x86_64", target_arch = "aarch64")), allow(dead_code))]

use crate::linear::{check_linear, grow, Epilogue, LinearI4, RowQuant, Scratch};
use crate::packed::PANEL;
use crate::packed_i4::{PackedI4, GROUP};
use half::f16;

/// The two int4 slots of a backend whose int4 GEMM is `$gemm(self)` (an [`Int4Gemm`]): put
/// `int4_slots!(..);` inside its `impl KernelSlots`.
#[cfg_attr(not(any(target_arch = "x86_64", target_arch = "aarch64")), allow(unused_macros))]
macro_rules! int4_slots {
    ($gemm:expr) => {
        fn linear_i4(
            &self,
            a: &[f32],
            m: usize,
            w: &$crate::PackedI4<'_>,
            ep: &$crate::Epilogue<'_>,
            out: &mut [f32],
            scratch: &mut $crate::Scratch,
        ) {
            let layer = $crate::LinearI4 { w: *w, ep: *ep, out };
            $crate::frame::int4::linear_i4($gemm(self), a, m, layer, scratch)
        }

        fn gemm_i4_f32(
            &self,
            q: &[i8],
            m: usize,
            w: &$crate::PackedI4<'_>,
            out: &mut [f32],
            scratch: &mut $crate::Scratch,
        ) {
            $crate::frame::int4::gemm_i4_f32($gemm(self), q, m, w, out, scratch)
        }
    };
}

/// Where an int4 tile's group-scaled f32 sums go.
pub(crate) enum Finish<'s, 'e> {
    /// `generic::gemm_i4_f32`'s values, `[m, n]`.
    Raw(&'s mut [f32]),
    /// `generic::finish_i4`: the rows' scale and offset, then the epilogue, into `[m, n]`.
    Linear { out: &'s mut [f32], rows: &'s [RowQuant], ep: &'s Epilogue<'e> },
}

/// An element the int4 tiles read int8 activations as (`i8`, its bits as `u8` for `vpdpbusd`,
/// or widened to `i16` for `vpmaddwd`), with its scratch buffers.
pub(crate) trait Int4Act: Copy + Default {
    /// An int8 value in the layout, and back.
    fn from_i8(v: i8) -> Self;
    fn to_i8(self) -> i8;
    /// The scratch buffers: activations, the rows' [`RowQuant`]s, the group offsets.
    fn buffers(s: &mut Scratch) -> (&mut Vec<Self>, &mut Vec<RowQuant>, &mut Vec<i32>);
}

macro_rules! int4_act {
    ($($ty:ty => $field:ident),*) => {$(
        impl Int4Act for $ty {
            fn from_i8(v: i8) -> $ty {
                v as $ty
            }
            fn to_i8(self) -> i8 {
                self as i8
            }
            fn buffers(s: &mut Scratch) -> (&mut Vec<$ty>, &mut Vec<RowQuant>, &mut Vec<i32>) {
                (&mut s.$field, &mut s.rows, &mut s.i32s)
            }
        }
    )*};
}
int4_act!(i8 => i8s, u8 => u8s, i16 => i16s);

/// A backend's int4 GEMM: the element its tiles read the int8 activations as, and the tiles.
pub(crate) trait Int4Gemm: Copy {
    /// One activation: the int8 value itself (`i8`), its bits (`u8`, for `vpdpbusd`), or `i16`.
    type Act: Int4Act;
    /// The scratch buffers: activations, the rows' [`RowQuant`]s, the group offsets.
    fn buffers(s: &mut Scratch) -> (&mut Vec<Self::Act>, &mut Vec<RowQuant>, &mut Vec<i32>) {
        Self::Act::buffers(s)
    }
    /// `generic::quantize_row_i8` of `x` into the first `x.len()` elements of `row` (the same
    /// integers); the rest of `row` is the frame's to zero.
    fn quantize_row(self, x: &[f32], row: &mut [Self::Act]) -> RowQuant;
    /// An int8 value in the layout, and back.
    fn from_i8(v: i8) -> Self::Act {
        Self::Act::from_i8(v)
    }
    fn to_i8(a: Self::Act) -> i8 {
        a.to_i8()
    }
    /// Elements the backend wants after the `m` rows of `kp` activations (0: none), for
    /// [`Int4Gemm::prepare`] to lay them out again.
    fn extra_len(m: usize, kp: usize) -> usize {
        let _ = (m, kp);
        0
    }
    /// Called once the `m` rows of `kp` activations (`act[..m * kp]`) are quantized and their
    /// offsets taken, with the [`Int4Gemm::extra_len`] elements after them to fill (for example
    /// with a tile-friendly copy); nothing by default.
    fn prepare(self, act: &mut [Self::Act], m: usize, kp: usize) {
        let _ = (act, m, kp);
    }
    /// Every tile of `m` rows of `GROUP · w.groups()` activations (`act[..m * kp]`, then what
    /// `prepare` wrote) with their group offsets `sums` (`[m, w.groups()]`), finished into `fin`.
    fn run(self, act: &[Self::Act], sums: &[i32], m: usize, w: &PackedI4<'_>, fin: Finish<'_, '_>);
}

/// The tile loop every int4 backend shares: blocks of `nu` column units (panels, or half
/// panels) outside, so their weights stay in cache while every row tile of up to `mr` rows
/// passes over them; `tile(rows, units, i0, u0)` computes one tile over the whole depth.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) fn drive_tiles(
    m: usize,
    units: usize,
    mr: usize,
    nu: usize,
    mut tile: impl FnMut(usize, usize, usize, usize),
) {
    for u0 in (0..units).step_by(nu) {
        let uu = (units - u0).min(nu);
        for i0 in (0..m).step_by(mr) {
            tile((m - i0).min(mr), uu, i0, u0);
        }
    }
}

/// What every int4 tile of a layer reads: the activations (`act`, as `Int4Gemm::run` gets them),
/// their group offsets (`sums`) and the weights; one tile's part of them is
/// [`TileInputs::operands`].
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
#[derive(Clone, Copy)]
pub(crate) struct TileInputs<'t, A> {
    pub act: &'t [A],
    pub sums: &'t [i32],
    pub w: &'t PackedI4<'t>,
}

#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
impl<A> TileInputs<'_, A> {
    /// [`TileOperands::new`] of rows `i0..i0 + rows` and panels `p0..p0 + panels`.
    pub(crate) fn operands(self, i0: usize, rows: usize, p0: usize, panels: usize) -> TileOperands<A> {
        TileOperands::new(self.act, self.sums, i0, rows, self.w, p0, panels)
    }
}

/// Where one tile's operands start: rows `i0..i0 + rows` of the activations (`kp = 32 · g`
/// each) and of their group offsets (`g` each), and the data and scales of the panels
/// `p0..p0 + panels`. Built by [`TileOperands::new`], which checks that all of them exist, so a
/// tile may read `kp` activations and `g` offsets per row, and `256 · g` data bytes and
/// `16 · g` scales per panel, from these pointers.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) struct TileOperands<A> {
    pub a: *const A,
    pub sums: *const i32,
    pub data: *const u8,
    pub scales: *const f16,
    /// Activations per row, `32 · g`.
    pub kp: usize,
    /// Groups.
    pub g: usize,
}

#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
impl<A> TileOperands<A> {
    /// # Panics
    /// If a row or a panel of the tile lies outside `act`, `sums` or `w`.
    pub(crate) fn new(
        act: &[A],
        sums: &[i32],
        i0: usize,
        rows: usize,
        w: &PackedI4<'_>,
        p0: usize,
        panels: usize,
    ) -> Self {
        let g = w.groups();
        let kp = GROUP * g;
        assert!(
            act.len() >= (i0 + rows) * kp && sums.len() >= (i0 + rows) * g,
            "int4 tile rows out of range"
        );
        assert!(panels > 0 && (p0 + panels - 1) * PANEL < w.n(), "int4 tile panels out of range");
        TileOperands {
            a: act[i0 * kp..].as_ptr(),
            sums: sums[i0 * g..].as_ptr(),
            data: w.data()[p0 * 256 * g..].as_ptr(),
            scales: w.scales()[p0 * PANEL * g..].as_ptr(),
            kp,
            g,
        }
    }
}

/// `sums[i][g] = -8 · Σ_{kk ∈ g} q[i][kk]`: the `+ 8` of the stored nibbles, taken out once per
/// row and group instead of once per weight.
fn group_offsets<G: Int4Gemm>(act: &[G::Act], sums: &mut [i32]) {
    for (s, chunk) in sums.iter_mut().zip(act.chunks_exact(GROUP)) {
        *s = -8 * chunk.iter().map(|&v| i32::from(G::to_i8(v))).sum::<i32>();
    }
}

/// The int4 linear layer (`KernelSlots::linear_i4`) through `g`.
pub(crate) fn linear_i4<G: Int4Gemm>(g: G, a: &[f32], m: usize, l: LinearI4<'_, '_>, scratch: &mut Scratch) {
    let (w, k, groups) = (&l.w, l.w.k(), l.w.groups());
    check_linear(a.len(), m, k, w.n(), l.out.len(), &l.ep);
    let kp = GROUP * groups;
    let (act, rows, sums) = G::buffers(scratch);
    let (act, rows, sums) = (grow(act, m * kp + G::extra_len(m, kp)), grow(rows, m), grow(sums, m * groups));
    for (i, r) in rows.iter_mut().enumerate() {
        let row = &mut act[i * kp..(i + 1) * kp];
        *r = g.quantize_row(&a[i * k..(i + 1) * k], row);
        row[k..].fill(G::Act::default());
    }
    group_offsets::<G>(&act[..m * kp], sums);
    g.prepare(act, m, kp);
    g.run(act, sums, m, w, Finish::Linear { out: l.out, rows, ep: &l.ep });
}

/// The group-scaled core (`KernelSlots::gemm_i4_f32`) of already-quantized activations `q`.
pub(crate) fn gemm_i4_f32<G: Int4Gemm>(
    g: G,
    q: &[i8],
    m: usize,
    w: &PackedI4<'_>,
    out: &mut [f32],
    scratch: &mut Scratch,
) {
    let (k, n, groups) = (w.k(), w.n(), w.groups());
    assert_eq!(q.len(), m * k, "gemm_i4_f32: q must be [m, k]");
    assert_eq!(out.len(), m * n, "gemm_i4_f32: out must be [m, n]");
    let kp = GROUP * groups;
    let (act, _, sums) = G::buffers(scratch);
    let (act, sums) = (grow(act, m * kp + G::extra_len(m, kp)), grow(sums, m * groups));
    for i in 0..m {
        let row = &mut act[i * kp..(i + 1) * kp];
        row[..k].iter_mut().zip(&q[i * k..(i + 1) * k]).for_each(|(d, &v)| *d = G::from_i8(v));
        row[k..].fill(G::Act::default());
    }
    group_offsets::<G>(&act[..m * kp], sums);
    g.prepare(act, m, kp);
    g.run(act, sums, m, w, Finish::Raw(out));
}

//! int4 linear layers, once for every backend: check shapes, quantize each activation row to
//! int8 into the backend's layout (padded with zeros to whole groups of 32), compute each row's
//! group offsets `-8 · Σ_group q` (the weights are stored as `q + 8`), run the backend's tiles,
//! and finish into a [`Finish`]: the group-scaled sums, or the rows' scale and offset and the
//! epilogue. Arch files keep only the tiles.

// armv7 has no int4 tiles (it runs the generic twin).
#![cfg_attr(not(any(target_arch = "x86_64", target_arch = "aarch64")), allow(dead_code))]

use crate::linear::{check_linear, grow, Epilogue, LinearI4, RowQuant, Scratch};
use crate::packed_i4::{PackedI4, GROUP};

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

/// A backend's int4 GEMM: the element its tiles read the int8 activations as, and the tiles.
pub(crate) trait Int4Gemm: Copy {
    /// One activation: the int8 value itself (`i8`), or its bits (`u8`, for `vpdpbusd`).
    type Act: Copy + Default;
    /// The scratch buffers: activations, the rows' [`RowQuant`]s, the group offsets.
    fn buffers(s: &mut Scratch) -> (&mut Vec<Self::Act>, &mut Vec<RowQuant>, &mut Vec<i32>);
    /// `generic::quantize_row_i8` of `x` into the first `x.len()` elements of `row` (the same
    /// integers); the rest of `row` is the frame's to zero.
    fn quantize_row(self, x: &[f32], row: &mut [Self::Act]) -> RowQuant;
    /// An int8 value in the layout, and back.
    fn from_i8(v: i8) -> Self::Act;
    fn to_i8(a: Self::Act) -> i8;
    /// Every tile of `m` rows of `GROUP · w.groups()` activations with their group offsets
    /// `sums` (`[m, w.groups()]`), finished into `fin`.
    fn run(self, act: &[Self::Act], sums: &[i32], m: usize, w: &PackedI4<'_>, fin: Finish<'_, '_>);
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
    let (act, rows, sums) = (grow(act, m * kp), grow(rows, m), grow(sums, m * groups));
    for (i, r) in rows.iter_mut().enumerate() {
        let row = &mut act[i * kp..(i + 1) * kp];
        *r = g.quantize_row(&a[i * k..(i + 1) * k], row);
        row[k..].fill(G::Act::default());
    }
    group_offsets::<G>(act, sums);
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
    let (act, sums) = (grow(act, m * kp), grow(sums, m * groups));
    for i in 0..m {
        let row = &mut act[i * kp..(i + 1) * kp];
        row[..k].iter_mut().zip(&q[i * k..(i + 1) * k]).for_each(|(d, &v)| *d = G::from_i8(v));
        row[k..].fill(G::Act::default());
    }
    group_offsets::<G>(act, sums);
    g.run(act, sums, m, w, Finish::Raw(out));
}

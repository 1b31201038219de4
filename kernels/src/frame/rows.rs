//! The row loops and shape checks of the row kernels, once: a backend supplies the kernel for
//! one row.

/// Runs `row` on each `cols`-wide row of `x` after checking the softmax's shapes (see
/// `generic::softmax_rows_f32`); nothing to do for zero columns.
#[inline(always)]
pub(crate) fn softmax_rows(
    x: &mut [f32],
    cols: usize,
    bias: Option<&[f32]>,
    mut row: impl FnMut(&mut [f32]),
) {
    if cols == 0 {
        return;
    }
    assert_eq!(x.len() % cols, 0, "softmax_rows_f32: x is not a whole number of rows");
    if let Some(b) = bias {
        assert_eq!(b.len(), cols, "softmax_rows_f32: bias must be [cols]");
    }
    x.chunks_exact_mut(cols).for_each(&mut row);
}

/// Runs `row` on each `gamma.len()`-wide row of `x` after checking LayerNorm's shapes (see
/// `generic::layer_norm_f32`).
#[inline(always)]
pub(crate) fn layer_norm_rows(x: &mut [f32], gamma: &[f32], beta: &[f32], mut row: impl FnMut(&mut [f32])) {
    let h = gamma.len();
    assert_eq!(beta.len(), h, "layer_norm_f32: beta and gamma differ in length");
    assert!(h > 0, "layer_norm_f32: empty rows");
    assert_eq!(x.len() % h, 0, "layer_norm_f32: x is not a whole number of rows");
    x.chunks_exact_mut(h).for_each(&mut row);
}

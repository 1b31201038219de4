//! The embedding layer: table rows (f32, f16, int8 per row or int4 per row group) summed per
//! token, then LayerNorm.

use crate::blob::{i4_table_row, TensorData};
use crate::model::Model;
use crate::plan::TableRef;
use crate::EngineError;
use edgebert_models::Sequence;

/// word + token type + position embeddings (in that order, as the reference adds them), then
/// the embeddings' LayerNorm, into `out` (`[tokens, embedding_size]`). Positions start at the
/// config's offset (RoBERTa: `pad_token_id + 1`); a family without token types skips them.
pub(crate) fn embed(model: &Model, batch: &[Sequence], out: &mut [f32]) -> Result<(), EngineError> {
    let c = &model.info().config;
    let e = c.embedding_size;
    let plan = model.plan();
    let mut row = 0;
    for seq in batch {
        for (t, &id) in seq.ids.iter().enumerate() {
            let dst = &mut out[row * e..(row + 1) * e];
            table_row(model, plan.word, id as usize, dst, false)?;
            if let Some(types) = plan.token_type {
                let ty = seq.type_ids.get(t).copied().unwrap_or(0) as usize;
                table_row(model, types, ty, dst, true)?;
            }
            table_row(model, plan.position, t + c.position_offset, dst, true)?;
            row += 1;
        }
    }
    let norm = plan.embeddings_norm;
    model.kernels().layer_norm(out, model.f32(norm.gamma)?, model.f32(norm.beta)?, c.layer_norm_eps);
    Ok(())
}

/// Writes (or with `add`, adds) row `r` of an embedding table into `out`, dequantizing.
pub(crate) fn table_row(
    model: &Model,
    table: TableRef,
    r: usize,
    out: &mut [f32],
    add: bool,
) -> Result<(), EngineError> {
    let w = out.len();
    debug_assert!(r < table.rows);
    let put = |out: &mut [f32], vals: &mut dyn Iterator<Item = f32>| {
        for (o, v) in out.iter_mut().zip(vals) {
            *o = if add { *o + v } else { v };
        }
    };
    match model.tensor(table.index)? {
        TensorData::F32(d) => put(out, &mut d[r * w..(r + 1) * w].iter().copied()),
        TensorData::F16(d) => put(out, &mut d[r * w..(r + 1) * w].iter().map(|x| x.to_f32())),
        TensorData::I8Row { data, scales } => {
            let s = scales[r];
            put(out, &mut data[r * w..(r + 1) * w].iter().map(|&q| q as f32 * s))
        }
        TensorData::I4RowGroup { data, scales } => put(out, &mut i4_table_row(data, scales, w, r)),
        _ => unreachable!("the plan only admits f32, f16, i8_row and i4_row_group tables"),
    }
    Ok(())
}

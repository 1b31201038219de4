//! A blob as a [`TensorSource`]: every tensor dequantized back to row-major f32.
//!
//! This is how the float reference path runs a converted blob, which is how the converter and the
//! tests measure what quantization costs in accuracy. The fast path never does this: kernels read
//! the packed bytes in place.

use super::format::{Layout, PANEL};
use super::{Blob, TensorData};
use edgebert_models::{ModelError, TensorSource};

impl TensorSource for Blob {
    fn shape(&self, name: &str) -> Option<Vec<usize>> {
        self.index().tensor(name).map(|t| t.shape.clone())
    }

    fn to_f32(&self, name: &str) -> Result<Vec<f32>, ModelError> {
        let problem = |p: String| ModelError::TensorData { name: name.into(), problem: p };
        let t = self.tensor(name).map_err(|e| problem(e.to_string()))?;
        let shape = &t.info.shape;
        let (n, k) = match shape.as_slice() {
            [n, k] => (*n, *k),
            _ => (1, shape.iter().product()),
        };
        let panel = t.info.layout == Layout::Panel16;
        Ok(match t.data {
            TensorData::F32(v) if panel => unpanel(n, k, |i| v.get(i).copied().unwrap_or(0.0)),
            TensorData::F16(v) if panel => unpanel(n, k, |i| v.get(i).map_or(0.0, |x| x.to_f32())),
            TensorData::F32(v) => v.to_vec(),
            TensorData::F16(v) => v.iter().map(|x| x.to_f32()).collect(),
            TensorData::I8Row { data, scales } => data
                .iter()
                .enumerate()
                .map(|(i, &q)| q as f32 * scales.get(i / k.max(1)).copied().unwrap_or(0.0))
                .collect(),
            TensorData::I4RowGroup { data, scales } => {
                (0..n).flat_map(|r| super::i4_table_row(data, scales, k, r)).collect()
            }
            TensorData::I8Channel { data, scales, .. } => {
                let k4 = k.div_ceil(4) * 4;
                let mut out = vec![0.0f32; n * k];
                for j in 0..n {
                    let scale = scales.get(j).copied().unwrap_or(0.0);
                    for kk in 0..k {
                        let at = (j / PANEL) * (PANEL * k4) + (kk / 4) * 64 + (j % PANEL) * 4 + kk % 4;
                        out[j * k + kk] = data.get(at).copied().unwrap_or(0) as f32 * scale;
                    }
                }
                out
            }
            TensorData::I4Group { data, scales, w_sums } => {
                let w = edgebert_kernels::PackedI4::new(data, scales, w_sums, n, k)
                    .map_err(|e| problem(e.to_string()))?;
                let mut out = vec![0.0f32; n * k];
                for j in 0..n {
                    for kk in 0..k {
                        out[j * k + kk] = w.get(j, kk) as f32 * w.scale(j, kk / 32);
                    }
                }
                out
            }
            TensorData::U8(_) => return Err(problem(format!("{} cannot be read as f32", t.info.encoding))),
        })
    }
}

/// Row-major `[n, k]` from a `panel16` float array (FORMAT.md §5).
fn unpanel(n: usize, k: usize, at: impl Fn(usize) -> f32) -> Vec<f32> {
    let mut out = vec![0.0f32; n * k];
    for j in 0..n {
        for kk in 0..k {
            out[j * k + kk] = at((j / PANEL) * (PANEL * k) + kk * PANEL + j % PANEL);
        }
    }
    out
}

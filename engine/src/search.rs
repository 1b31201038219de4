//! Exact cosine search over a stored matrix of embeddings, for on-device corpora of up to a few
//! hundred thousand rows: no approximate index, so no recall to tune and no build step beyond
//! one pass over the vectors.
//!
//! The corpus is packed once into the kernels' weight-panel layout ([`edgebert_kernels::packed`]),
//! so a batch of queries is one linear layer, `scores = queries · corpusᵀ`, through the same SIMD
//! GEMM the encoder uses (AVX-512, AVX2, NEON, or the generic twin); rows are split into one
//! block of panels per thread of the current rayon pool. Rows keep their stored values (f32, or
//! f16 for half the memory traffic) and their inverse norms are applied after the dot product,
//! so the scores are the cosine of exactly the stored vectors, as a brute-force numpy check
//! computes them, up to f32 summation order.

use crate::screen::{rescore, Int8Screen};
use edgebert_kernels::packed::{pack_f16, pack_f32, PackedFloatBuf, PANEL};
use edgebert_kernels::{Epilogue, Kernels, Scratch};
use half::f16;
use std::cmp::Ordering;

/// One search result: the corpus row and its cosine similarity to the query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub index: usize,
    pub score: f32,
}

/// How the corpus rows are held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredPrecision {
    /// Every row's f32 dot product through the f32 GEMM.
    F32,
    /// Half the bytes per query pass; scores are those of the f16 values.
    F16,
    /// f32 rows, screened through an int8 copy with a proven error bound, only the rows that may
    /// be in the top-k rescored from f32 (a quarter of the bytes per query; the same top-k as
    /// [`StoredPrecision::F32`], see [`crate::screen`]). Keeps both copies in memory.
    F32Screened,
}

/// Why a corpus or a query cannot be searched.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SearchError {
    #[error("corpus of {len} values is not a whole number of {dim}-dimensional rows")]
    Shape { len: usize, dim: usize },
    #[error("vectors must have at least one dimension")]
    NoDimensions,
    #[error("corpus row {row} holds a NaN or infinite value")]
    NonFinite { row: usize },
    #[error("the query has {found} dimensions, the corpus {dim}")]
    QueryWidth { found: usize, dim: usize },
}

enum Panels {
    F32(PackedFloatBuf<f32>),
    F16(PackedFloatBuf<f16>),
    Screened { rows: Vec<f32>, screen: Int8Screen },
}

/// A searchable corpus: its rows packed for the kernels, with their inverse L2 norms.
pub struct VectorIndex {
    panels: Panels,
    inv_norms: Vec<f32>,
    rows: usize,
    dim: usize,
}

/// Panels per thread block: below this the fork-join costs more than it saves.
const MIN_PANELS_PER_BLOCK: usize = 64;

impl VectorIndex {
    /// Packs `vectors` (`[rows, dim]` row-major). A row of zeros scores 0 against every query.
    pub fn new(vectors: &[f32], dim: usize, precision: StoredPrecision) -> Result<VectorIndex, SearchError> {
        if dim == 0 {
            return Err(SearchError::NoDimensions);
        }
        if !vectors.len().is_multiple_of(dim) {
            return Err(SearchError::Shape { len: vectors.len(), dim });
        }
        let rows = vectors.len() / dim;
        if let Some(i) = vectors.iter().position(|v| !v.is_finite()) {
            return Err(SearchError::NonFinite { row: i / dim });
        }
        // The norms of the values actually stored (f16-rounded rows for an f16 index).
        let half: Option<Vec<f32>> = (precision == StoredPrecision::F16)
            .then(|| vectors.iter().map(|&v| f16::from_f32(v).to_f32()).collect());
        let stored = half.as_deref().unwrap_or(vectors);
        let inv_norms: Vec<f32> = stored
            .chunks_exact(dim)
            .map(|row| {
                let norm = row.iter().map(|&v| v as f64 * v as f64).sum::<f64>().sqrt();
                if norm > 0.0 {
                    (1.0 / norm) as f32
                } else {
                    0.0
                }
            })
            .collect();
        let panels = match precision {
            StoredPrecision::F32 => Panels::F32(pack_f32(vectors, rows, dim)),
            StoredPrecision::F16 => Panels::F16(pack_f16(vectors, rows, dim)),
            StoredPrecision::F32Screened => {
                Panels::Screened { rows: vectors.to_vec(), screen: Int8Screen::new(vectors, dim, &inv_norms) }
            }
        };
        Ok(VectorIndex { panels, inv_norms, rows, dim })
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The `top_k` corpus rows most similar (cosine) to each query of `queries` (`[q, dim]`),
    /// best first; equal scores in row order.
    pub fn search(
        &self,
        kernels: Kernels,
        queries: &[f32],
        top_k: usize,
    ) -> Result<Vec<Vec<Hit>>, SearchError> {
        let dim = self.dim;
        if !queries.len().is_multiple_of(dim) {
            return Err(SearchError::QueryWidth { found: queries.len() % dim, dim });
        }
        let m = queries.len() / dim;
        let mut unit = queries.to_vec();
        unit.chunks_exact_mut(dim).for_each(edgebert_models::l2_normalize);
        let top_k = top_k.min(self.rows);
        if m == 0 || top_k == 0 {
            return Ok(vec![Vec::new(); m]);
        }
        let panels = self.rows.div_ceil(PANEL);
        let per_block = crate::parallel::block_rows(panels, crate::parallel::threads(), MIN_PANELS_PER_BLOCK);
        let blocks = panels.div_ceil(per_block);
        let mut partial: Vec<Vec<Vec<Hit>>> = vec![Vec::new(); blocks];
        let mut scratch: Vec<Scratch> = (0..blocks).map(|_| Scratch::default()).collect();
        crate::parallel::for_each_block(&mut partial, 1, &mut scratch, |b, slot, scratch| {
            let first = b * per_block;
            let count = per_block.min(panels - first);
            slot[0] = self.search_panels(kernels, &unit, m, first, count, top_k, scratch);
        });
        Ok((0..m)
            .map(|q| {
                let mut all: Vec<Hit> = partial.iter().flat_map(|p| p[q].iter().copied()).collect();
                all.sort_by(better);
                all.truncate(top_k);
                all
            })
            .collect())
    }

    /// Each query's best `top_k` among the rows of panels `first..first + count`.
    #[allow(clippy::too_many_arguments)]
    fn search_panels(
        &self,
        kernels: Kernels,
        unit: &[f32],
        m: usize,
        first: usize,
        count: usize,
        top_k: usize,
        scratch: &mut Scratch,
    ) -> Vec<Vec<Hit>> {
        let row0 = first * PANEL;
        let n = (self.rows - row0).min(count * PANEL);
        if let Panels::Screened { rows, screen } = &self.panels {
            return unit
                .chunks_exact(self.dim)
                .map(|u| {
                    let candidates = screen.candidates(kernels, u, first, count, top_k, scratch);
                    rescore(rows, self.dim, &self.inv_norms, u, &candidates, top_k)
                })
                .collect();
        }
        let mut scores = vec![0.0f32; m * n];
        let ep = Epilogue::default();
        match &self.panels {
            Panels::F32(p) => {
                kernels.linear_f32(unit, m, &p.view().panel_range(first, count), &ep, &mut scores, scratch)
            }
            Panels::F16(p) => {
                kernels.linear_f16(unit, m, &p.view().panel_range(first, count), &ep, &mut scores, scratch)
            }
            Panels::Screened { .. } => unreachable!("screened indexes return above"),
        }
        let inv = &self.inv_norms[row0..row0 + n];
        scores.chunks_exact(n).map(|s| top_hits(s, inv, row0, top_k)).collect()
    }
}

/// Best first; equal scores by row.
pub(crate) fn better(a: &Hit, b: &Hit) -> Ordering {
    b.score.total_cmp(&a.score).then(a.index.cmp(&b.index))
}

/// The `k` best of `dots[i] · inv[i]`, rows numbered from `row0`, best first.
fn top_hits(dots: &[f32], inv: &[f32], row0: usize, k: usize) -> Vec<Hit> {
    // A sorted list of k: almost every row loses the one comparison against the worst kept.
    let mut best: Vec<Hit> = Vec::with_capacity(k + 1);
    for (i, (&d, &s)) in dots.iter().zip(inv).enumerate() {
        let score = d * s;
        if best.len() == k && best[k - 1].score >= score {
            continue;
        }
        let hit = Hit { index: row0 + i, score };
        let at = best.partition_point(|h| better(h, &hit) == Ordering::Less);
        best.insert(at, hit);
        best.truncate(k);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic pseudo-random corpus.
    fn corpus(rows: usize, dim: usize) -> Vec<f32> {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        (0..rows * dim)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 40) as f32 / (1u64 << 24) as f32 - 0.5
            })
            .collect()
    }

    fn brute_force(vectors: &[f32], dim: usize, q: &[f32], k: usize) -> Vec<usize> {
        let cos = |r: &[f32]| edgebert_models::cosine(r, q);
        let mut order: Vec<usize> = (0..vectors.len() / dim).collect();
        order.sort_by(|&a, &b| {
            cos(&vectors[b * dim..(b + 1) * dim]).total_cmp(&cos(&vectors[a * dim..(a + 1) * dim]))
        });
        order.truncate(k);
        order
    }

    #[test]
    fn matches_brute_force_on_every_backend_and_ragged_panels() {
        let dim = 24;
        let vectors = corpus(1000 + 7, dim);
        let queries = corpus(3, dim);
        for kernels in [Kernels::generic(), Kernels::selected()] {
            for precision in [StoredPrecision::F32, StoredPrecision::F16, StoredPrecision::F32Screened] {
                let index = VectorIndex::new(&vectors, dim, precision).unwrap();
                let hits = index.search(kernels, &queries, 10).unwrap();
                for (q, hits) in queries.chunks_exact(dim).zip(&hits) {
                    let got: Vec<usize> = hits.iter().map(|h| h.index).collect();
                    if precision != StoredPrecision::F16 {
                        assert_eq!(got, brute_force(&vectors, dim, q, 10), "{kernels:?}");
                    }
                    let exact = edgebert_models::cosine(&vectors[got[0] * dim..(got[0] + 1) * dim], q);
                    assert!((hits[0].score as f64 - exact).abs() < 1e-3, "{} vs {exact}", hits[0].score);
                    assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
                }
            }
        }
    }

    #[test]
    fn edge_cases() {
        let index = VectorIndex::new(&[1.0, 0.0, 0.0, 0.0, 0.0, 2.0], 2, StoredPrecision::F32).unwrap();
        let hits = index.search(Kernels::generic(), &[1.0, 0.0], 10).unwrap();
        assert_eq!(hits[0].len(), 3, "top_k is capped by the corpus size");
        assert_eq!((hits[0][0].index, hits[0][0].score), (0, 1.0));
        assert_eq!((hits[0][1].index, hits[0][1].score), (1, 0.0), "a zero row scores 0, ties by row");
        assert_eq!(
            index.search(Kernels::generic(), &[1.0, 0.0, 1.0], 1),
            Err(SearchError::QueryWidth { found: 1, dim: 2 })
        );
        assert_eq!(
            VectorIndex::new(&[1.0, 2.0, 3.0], 2, StoredPrecision::F32).err(),
            Some(SearchError::Shape { len: 3, dim: 2 })
        );
        assert_eq!(
            VectorIndex::new(&[1.0, f32::NAN], 1, StoredPrecision::F32).err(),
            Some(SearchError::NonFinite { row: 1 })
        );
        assert!(index.search(Kernels::generic(), &[], 5).unwrap().is_empty());
    }
}

//! Classification and fill-mask read only some rows of the last hidden state (each sequence's
//! first token; the masked positions), so the session runs the last layer on those rows alone.
//! Those rows, and so the logits, must be bit-identical to a run of the full layer.

mod common;

use common::asset;
use edgebert_convert::blob::{convert_dir, Precision, Recipe};
use edgebert_engine::{Model, Session};
use edgebert_models::Sequence;
use std::path::Path;

fn blob(hf: &Path, dir: &Path, name: &str, p: Precision) -> Model {
    let out = dir.join(format!("{name}-{}.ebq", p.name()));
    convert_dir(hf, &out, Recipe { weights: p, embeddings: p }, true, &mut |_| {}).expect("converts");
    Model::open(&out).expect("opens")
}

/// Sequences of mixed lengths (3 to 70 tokens) from the model's own tokenizer.
fn batch(model: &Model) -> Vec<Sequence> {
    let words = ["the", "film", "is", "a", "quiet", "triumph", "of", "tedious", "excess", "and", "warm"];
    [1, 40, 7, 68, 15]
        .iter()
        .map(|&n| {
            let text: Vec<&str> = (0..n).map(|j| words[(j * 7 + n) % words.len()]).collect();
            model.tokenize(&text.join(" ")).expect("tokenizes")
        })
        .collect()
}

/// The last hidden state of a run with every row computed.
fn full_hidden(model: &Model, batch: &[Sequence]) -> Vec<f32> {
    model.session().encode(batch).expect("encodes").to_vec()
}

/// Asserts that `session`'s last run left some row that `read` does not cover stale, i.e. the
/// restricted layer really ran (bit-identity alone would also hold if it never did).
fn assert_skipped(session: &Session, full: &[f32], h: usize, read: &[usize]) {
    let last = session.last_hidden();
    let stale = (0..full.len() / h)
        .filter(|r| !read.contains(r))
        .any(|r| last[r * h..(r + 1) * h] != full[r * h..(r + 1) * h]);
    assert!(stale, "every row was computed: the last layer did not run on the read rows alone");
}

#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/models/minilm-l6-rt-sentiment (README: Tests)"
)]
fn classification_runs_the_last_layer_on_first_tokens_only() {
    let Some(hf) = asset("models/minilm-l6-rt-sentiment") else { return };
    let dir = std::env::temp_dir().join(format!("edgebert-last-layer-cls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for p in [Precision::Int8, Precision::F32] {
        let model = blob(&hf, &dir, "sentiment", p);
        let batch = batch(&model);
        let mut all = model.session();
        all.set_last_layer_rows(false);
        let want = all.classify_sequences(&batch).expect("classifies");
        let mut rows = model.session();
        let got = rows.classify_sequences(&batch).expect("classifies");
        for (b, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g.logits, w.logits, "{p}: sequence {b}");
        }
        let h = model.info().config.hidden_size;
        let firsts: Vec<usize> = (0..batch.len()).map(|b| rows.sequence_rows(b).start).collect();
        let full = full_hidden(&model, &batch);
        for &r in &firsts {
            assert_eq!(rows.last_hidden()[r * h..(r + 1) * h], full[r * h..(r + 1) * h], "{p}: row {r}");
        }
        assert_skipped(&rows, &full, h, &firsts);
        // The same session then embeds (every row) as if nothing had been skipped.
        assert_eq!(rows.encode(&batch).expect("encodes"), &full[..], "{p}: encode after classify");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
#[cfg_attr(edgebert_no_assets, ignore = "needs ../shared/assets/models/tiny-bert-mlm (README: Tests)")]
fn fill_mask_runs_the_last_layer_on_masked_positions_only() {
    let Some(hf) = asset("models/tiny-bert-mlm") else { return };
    let dir = std::env::temp_dir().join(format!("edgebert-last-layer-mlm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for p in [Precision::Int8, Precision::F32] {
        let model = blob(&hf, &dir, "mlm", p);
        let batch = batch(&model);
        // Unsorted and repeated positions, first and last tokens included.
        let positions: Vec<Vec<usize>> =
            batch.iter().map(|s| vec![s.ids.len() - 1, 0, s.ids.len() / 2, 0]).collect();
        let mut all = model.session();
        all.set_last_layer_rows(false);
        let want = all.mask_logits(&batch, &positions).expect("fills");
        let mut rows = model.session();
        let got = rows.mask_logits(&batch, &positions).expect("fills");
        assert_eq!(got, want, "{p}: mask logits differ");
        let h = model.info().config.hidden_size;
        let read: Vec<usize> = positions
            .iter()
            .enumerate()
            .flat_map(|(b, ps)| ps.iter().map(|&q| rows.sequence_rows(b).start + q).collect::<Vec<_>>())
            .collect();
        assert_skipped(&rows, &full_hidden(&model, &batch), h, &read);
    }
    std::fs::remove_dir_all(&dir).ok();
}

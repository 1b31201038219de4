//! Vocabulary pruning (`--vocab-from`) on real checkpoints: the corpus tokenizes to the same
//! tokens, other texts still tokenize (to smaller pieces, never to more `[UNK]`s) within the new
//! vocabulary, the word table / masked-LM head / tokenizer are renumbered consistently, and the
//! blob round-trips. WordPiece (`vocab.txt` and `tokenizer.json`), Unigram (ALBERT) and byte-level
//! BPE (RoBERTa); a tokenizer family it cannot prune is refused by name.

mod blob_common;

use blob_common::asset;
use edgebert_convert::blob::{convert_dir, convert_dir_opts, ConvertOptions, Recipe};
use edgebert_convert::eval::read_examples;
use edgebert_convert::hf::Checkpoint;
use edgebert_convert::vocab::{prune_checkpoint, read_corpus};
use edgebert_engine::tokenizer::{TextTokenizer, TokenizerSpec};
use edgebert_engine::Model;
use edgebert_models::{argmax, Sequence};
use std::path::{Path, PathBuf};

/// The first `n` texts of an rt_polarity split.
fn rt_texts(split: &str, n: usize) -> Option<Vec<String>> {
    let path = asset(&format!("data/rt_polarity/{split}.tsv"))?;
    let mut texts: Vec<String> = read_examples(&path).unwrap().into_iter().map(|e| e.text).collect();
    texts.truncate(n);
    Some(texts)
}

fn tokenizer(spec: &TokenizerSpec) -> TextTokenizer {
    TextTokenizer::new(spec, usize::MAX).unwrap()
}

fn tokens(t: &TextTokenizer, text: &str) -> Vec<String> {
    t.encode(text).unwrap().ids.iter().map(|&id| t.id_to_token(id).unwrap()).collect()
}

/// Checks everything pruning promises on `name` with a corpus of rt_polarity training texts, and
/// returns (original, pruned) checkpoints for head-specific checks.
fn prune_and_check(name: &str, corpus: usize) -> Option<(Checkpoint, Checkpoint, Vec<String>)> {
    let dir = asset(&format!("models/{name}"))?;
    let texts = rt_texts("train", corpus)?;
    let dev = rt_texts("dev", 300)?;
    let original = Checkpoint::load(&dir).unwrap();
    let mut pruned = original.clone();
    let report = prune_checkpoint(&mut pruned, &texts).unwrap();
    let (old_v, new_v) = (original.config().vocab_size, pruned.config().vocab_size);
    println!("{name}: kept {} of {} ({} family)", report.kept, report.original, report.family);
    assert_eq!(report.kept, new_v);
    assert_eq!(report.original, old_v);
    assert!(new_v < old_v, "{name}: nothing was pruned ({new_v} of {old_v})");
    let e = pruned.config().embedding_size;
    assert_eq!(pruned.model.weights.embeddings.word.len(), new_v * e);

    let (old_t, new_t) = (tokenizer(&original.tokenizer), tokenizer(&pruned.tokenizer));
    for text in &texts {
        assert_eq!(tokens(&new_t, text), tokens(&old_t, text), "{name}: corpus text {text:?}");
    }
    let unk = |t: &TextTokenizer| t.unk_token().map(|(_, id)| id);
    let mut changed = 0;
    for text in dev.iter().chain(&texts) {
        let (o, n) = (old_t.encode(text).unwrap().ids, new_t.encode(text).unwrap().ids);
        assert!(n.iter().all(|&id| (id as usize) < new_v), "{name}: id beyond the new vocabulary: {text:?}");
        // Every id maps to a row whose embedding is the original token's row.
        for &id in &n {
            let token = new_t.id_to_token(id).unwrap();
            let old_id = old_t.token_to_id(&token).unwrap() as usize;
            let (a, b) = (&pruned.model.weights.embeddings.word, &original.model.weights.embeddings.word);
            assert_eq!(a[id as usize * e..(id as usize + 1) * e], b[old_id * e..(old_id + 1) * e]);
        }
        let count = |ids: &[u32], u: Option<u32>| ids.iter().filter(|&&i| Some(i) == u).count();
        assert_eq!(count(&n, unk(&new_t)), count(&o, unk(&old_t)), "{name}: new [UNK]s in {text:?}");
        // Smaller pieces of the same text: the decoded text is the same.
        assert_eq!(new_t.decode(&n, true).unwrap(), old_t.decode(&o, true).unwrap(), "{name}: {text:?}");
        changed += usize::from(n.len() != o.len());
    }
    assert!(changed > 0, "{name}: no dev text lost a token; the test proves nothing");
    println!("{name}: {changed} of {} dev texts split differently", dev.len());
    // The pad token is the same token.
    let pad = |c: &Checkpoint, t: &TextTokenizer| t.id_to_token(c.config().pad_token_id).unwrap();
    assert_eq!(pad(&pruned, &new_t), pad(&original, &old_t));
    Some((original, pruned, dev))
}

#[test]
#[cfg_attr(edgebert_no_assets, ignore = "needs ../shared/assets/models/tiny-distilbert (README: Tests)")]
fn wordpiece_tokenizer_json_prunes_and_still_classifies() {
    let Some((original, pruned, dev)) = prune_and_check("tiny-distilbert", 400) else { return };
    // Texts with dropped words still classify, mostly as before (the weights are random: no accuracy).
    let (old_t, new_t) = (tokenizer(&original.tokenizer), tokenizer(&pruned.tokenizer));
    let seq = |t: &TextTokenizer, s: &str| {
        let e = t.encode(s).unwrap();
        Sequence { ids: e.ids, type_ids: e.type_ids }
    };
    let batch_old: Vec<Sequence> = dev.iter().take(64).map(|s| seq(&old_t, s)).collect();
    let batch_new: Vec<Sequence> = dev.iter().take(64).map(|s| seq(&new_t, s)).collect();
    let lo = original.model.classify_logits(&original.model.forward(&batch_old, false).unwrap()).unwrap();
    let ln = pruned.model.classify_logits(&pruned.model.forward(&batch_new, false).unwrap()).unwrap();
    let mut agree = 0;
    for ((a, b), (so, sn)) in lo.iter().zip(&ln).zip(batch_old.iter().zip(&batch_new)) {
        assert!(b.iter().all(|v| v.is_finite()));
        if so.ids.len() == sn.ids.len() {
            // Same tokens (renumbered): same logits.
            assert!(a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-4), "{a:?} vs {b:?}");
        }
        agree += usize::from(argmax(a) == argmax(b));
    }
    println!("tiny-distilbert: {agree} of 64 dev texts keep their label");
}

#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/models/categorium-tiny-bert-en (README: Tests)"
)]
fn wordpiece_vocab_txt_prunes() {
    let Some((_, pruned, _)) = prune_and_check("categorium-tiny-bert-en", 400) else { return };
    assert!(matches!(pruned.tokenizer, TokenizerSpec::WordPiece { .. }));
}

#[test]
#[cfg_attr(edgebert_no_assets, ignore = "needs ../shared/assets/models/tiny-bert-mlm (README: Tests)")]
fn masked_lm_decoder_and_bias_follow_the_renumbering() {
    let Some((original, pruned, _)) = prune_and_check("tiny-bert-mlm", 200) else { return };
    let (old_t, new_t) = (tokenizer(&original.tokenizer), tokenizer(&pruned.tokenizer));
    let text = "the movie was [MASK] and the acting was fine";
    let run = |c: &Checkpoint, t: &TextTokenizer| {
        let e = t.encode(text).unwrap();
        let at = e.ids.iter().position(|&i| Some(i) == t.mask_token().map(|m| m.1)).unwrap();
        let out = c.model.forward(&[Sequence { ids: e.ids.clone(), type_ids: e.type_ids }], false).unwrap();
        c.model.mask_logits(&out, 0, &[at]).unwrap().remove(0)
    };
    let (lo, ln) = (run(&original, &old_t), run(&pruned, &new_t));
    assert_eq!(ln.len(), pruned.config().vocab_size);
    assert_eq!(pruned.model.weights.mlm.as_ref().unwrap().bias.len(), ln.len());
    for (new_id, v) in ln.iter().enumerate() {
        let old_id = old_t.token_to_id(&new_t.id_to_token(new_id as u32).unwrap()).unwrap() as usize;
        assert!((v - lo[old_id]).abs() < 1e-4, "token {new_id}: {v} vs {}", lo[old_id]);
    }
}

#[test]
#[cfg_attr(edgebert_no_assets, ignore = "needs ../shared/assets/models/tiny-albert (README: Tests)")]
fn unigram_prunes() {
    let Some((_, pruned, _)) = prune_and_check("tiny-albert", 150) else { return };
    assert!(matches!(pruned.tokenizer, TokenizerSpec::HfJson(_)));
}

#[test]
#[cfg_attr(edgebert_no_assets, ignore = "needs ../shared/assets/models/tiny-roberta (README: Tests)")]
fn byte_level_bpe_prunes() {
    let Some((_, pruned, _)) = prune_and_check("tiny-roberta", 150) else { return };
    let t = tokenizer(&pruned.tokenizer);
    // Any text, any script, still tokenizes without an unknown token (byte-level).
    let ids = t.encode("Ünïcödé ✓ 東京 🙂").unwrap().ids;
    assert!(ids.iter().all(|&id| (id as usize) < pruned.config().vocab_size));
}

/// A copy of a checkpoint folder whose tokenizer.json is rewritten by `edit`.
fn edited_copy(name: &str, edit: impl Fn(&mut serde_json::Value)) -> Option<(tempfile::TempDir, PathBuf)> {
    let dir = asset(&format!("models/{name}"))?;
    let tmp = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(&dir).unwrap() {
        let f = f.unwrap().path();
        if f.is_file() {
            std::fs::copy(&f, tmp.path().join(f.file_name().unwrap())).unwrap();
        }
    }
    let path = tmp.path().join("tokenizer.json");
    let mut json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut json);
    std::fs::write(&path, serde_json::to_vec(&json).unwrap()).unwrap();
    let out = tmp.path().join("out.ebq");
    Some((tmp, out))
}

#[test]
#[cfg_attr(edgebert_no_assets, ignore = "needs ../shared/assets/models/tiny-distilbert (README: Tests)")]
fn an_unsupported_tokenizer_family_is_refused_by_name() {
    // A WordLevel model (one token per word, no pieces): no smaller pieces to fall back on.
    let Some((tmp, out)) = edited_copy("tiny-distilbert", |j| {
        j["model"] = serde_json::json!({"type": "WordLevel", "vocab": j["model"]["vocab"].clone(), "unk_token": "[UNK]"});
    }) else {
        return;
    };
    let corpus = tmp.path().join("corpus.txt");
    std::fs::write(&corpus, "a fine film\n").unwrap();
    let opts = ConvertOptions { vocab_from: vec![corpus], ..Default::default() };
    let err = convert_dir_opts(tmp.path(), &out, &opts, &mut |_| {}).unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("WordLevel"), "{msg}");
    assert!(!out.exists());
}

#[test]
fn missing_or_empty_corpus_files_are_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope.txt");
    let msg = format!("{:#}", read_corpus(&[missing]).unwrap_err());
    assert!(msg.contains("nope.txt") && msg.contains("--vocab-from"), "{msg}");
    let empty = tmp.path().join("empty.txt");
    std::fs::write(&empty, "\n\n").unwrap();
    let msg = format!("{:#}", read_corpus(&[empty]).unwrap_err());
    assert!(msg.contains("empty.txt") && msg.contains("no examples"), "{msg}");
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

#[test]
#[cfg_attr(edgebert_no_assets, ignore = "needs ../shared/assets/models/tiny-distilbert (README: Tests)")]
fn a_pruned_blob_runs_in_the_engine_like_the_full_one_on_corpus_texts() {
    let Some(dir) = asset("models/tiny-distilbert") else { return };
    let Some(train) = asset("data/rt_polarity/train.tsv") else { return };
    let Some(texts) = rt_texts("train", 10_202) else { return };
    let tmp = tempfile::tempdir().unwrap();
    let (full, small) = (tmp.path().join("full.ebq"), tmp.path().join("small.ebq"));
    let a = convert_dir(&dir, &full, Recipe::default(), false, &mut |_| {}).unwrap();
    let opts = ConvertOptions { vocab_from: vec![train], ..Default::default() };
    let b = convert_dir_opts(&dir, &small, &opts, &mut |_| {}).unwrap();
    let v = b.vocab.as_ref().expect("a pruning summary");
    assert!(b.blob_bytes < a.blob_bytes, "{} vs {}", s(&small), s(&full));
    assert!(
        v.unpruned_blob_bytes.abs_diff(a.blob_bytes) < 256,
        "{} vs {}",
        v.unpruned_blob_bytes,
        a.blob_bytes
    );
    let (mf, ms) = (Model::open(&full).unwrap(), Model::open(&small).unwrap());
    assert_eq!(ms.info().config.vocab_size, v.prune.kept);
    assert_eq!(ms.blob().metadata().opt_u64("vocab.original_size").unwrap(), Some(30522));
    assert_eq!(mf.blob().metadata().opt_u64("vocab.original_size").unwrap(), None);
    // Same tokens and the same int8 rows: the same logits, bit for bit.
    let (mut sf, mut ss) = (mf.session(), ms.session());
    for text in texts.iter().step_by(97) {
        let a = sf.classify_sequences(&[mf.tokenize(text).unwrap()]).unwrap();
        let b = ss.classify_sequences(&[ms.tokenize(text).unwrap()]).unwrap();
        assert_eq!(a[0].logits, b[0].logits, "{text:?}");
    }
}

//! `edgebert init` writes checkpoints transformers would: for every tiny family/head checkpoint
//! in the assets, the random checkpoint of its config.json has exactly the same tensor names and
//! shapes as the real one (decoders tied, ALBERT's layer stored once), loads, converts and runs;
//! the same seed writes the same bytes.

mod common;

use common::{asset, TINY_MODELS};
use edgebert_convert::blob::{convert_dir, Recipe};
use edgebert_convert::hf::{Checkpoint, SafetensorsSource};
use edgebert_convert::init::init_checkpoint;
use edgebert_engine::Model;
use edgebert_models::{Sequence, TensorSource};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("edgebert-init-{tag}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    dir
}

fn shapes(dir: &Path) -> BTreeMap<String, Vec<usize>> {
    let bytes = std::fs::read(dir.join("model.safetensors")).expect("reads safetensors");
    let source = SafetensorsSource::parse(&bytes).expect("parses");
    source.names().into_iter().map(|n| (n.clone(), source.shape(&n).expect("shape"))).collect()
}

#[test]
#[cfg_attr(edgebert_no_assets, ignore = "needs ../shared/assets/the tiny models (README: Tests)")]
fn random_checkpoints_have_transformers_names_and_shapes() {
    for name in TINY_MODELS {
        let Some(real) = asset(&format!("models/{name}")) else { return };
        let out = temp_dir(name);
        init_checkpoint(&real.join("config.json"), &out, 7, Some(&real), false).expect("init");
        assert_eq!(shapes(&out), shapes(&real), "{name}: tensor names or shapes differ from transformers'");
        let ckpt = Checkpoint::load(&out).expect("loads");
        let blob = out.join("model.ebq");
        convert_dir(&out, &blob, Recipe::default(), false, &mut |_| {}).expect("converts");
        let model = Model::open(&blob).expect("opens");
        let seq = Sequence::new(vec![model.tokenizer().token_to_id("[CLS]").unwrap_or(0), 5, 6, 7]);
        model.session().encode(std::slice::from_ref(&seq)).expect("runs");
        ckpt.model.forward(&[seq], false).expect("reference runs");
        std::fs::remove_dir_all(&out).ok();
    }
}

#[test]
#[cfg_attr(edgebert_no_assets, ignore = "needs ../shared/assets/models/tiny-albert (README: Tests)")]
fn same_seed_same_bytes_other_seed_other_weights() {
    let Some(real) = asset("models/tiny-albert") else { return };
    let config = real.join("config.json");
    let (a, b, c) = (temp_dir("seed-a"), temp_dir("seed-b"), temp_dir("seed-c"));
    init_checkpoint(&config, &a, 1, None, false).expect("init a");
    init_checkpoint(&config, &b, 1, None, false).expect("init b");
    init_checkpoint(&config, &c, 2, None, false).expect("init c");
    let read = |d: &Path| std::fs::read(d.join("model.safetensors")).expect("reads");
    assert_eq!(read(&a), read(&b));
    assert_ne!(read(&a), read(&c));
    let err = init_checkpoint(&config, &a, 1, None, false).unwrap_err().to_string();
    assert!(err.contains("not empty"), "{err}");
    for d in [a, b, c] {
        std::fs::remove_dir_all(d).ok();
    }
}

#[test]
fn unknown_architecture_is_named() {
    let dir = temp_dir("gpt2");
    std::fs::create_dir_all(&dir).expect("dir");
    let config = dir.join("config.json");
    std::fs::write(&config, r#"{"architectures":["GPT2LMHeadModel"],"vocab_size":10}"#).expect("writes");
    let err = format!("{:#}", init_checkpoint(&config, &dir.join("out"), 0, None, false).unwrap_err());
    assert!(err.contains("GPT2LMHeadModel"), "{err}");
    std::fs::remove_dir_all(dir).ok();
}

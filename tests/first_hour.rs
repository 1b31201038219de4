//! What a new user meets first, from a clean clone (no ../shared/assets needed except where a
//! test says so): errors that name the fix, `--version`, completions and man pages, and
//! `edgebert compare`'s HTML page on blobs of a small random checkpoint.

mod common;

use edgebert_convert::init::init_checkpoint;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn edgebert(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edgebert")).args(args).output().expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("edgebert-first-hour-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("creates a scratch folder");
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 paths")
}

/// A random 1-layer BERT with a WordPiece vocabulary of 1100 tokens (bench ids start at 1000),
/// written as a Hugging Face checkpoint folder.
fn tiny_checkpoint(dir: &Path) -> PathBuf {
    let config = dir.join("config.json");
    std::fs::write(
        &config,
        r#"{"architectures": ["BertModel"], "model_type": "bert", "hidden_size": 16, "num_hidden_layers": 1,
            "num_attention_heads": 2, "intermediate_size": 32, "max_position_embeddings": 64,
            "type_vocab_size": 2, "vocab_size": 1100, "hidden_act": "gelu", "layer_norm_eps": 1e-12,
            "pad_token_id": 0, "initializer_range": 0.2}"#,
    )
    .expect("writes config.json");
    let ckpt = dir.join("ckpt");
    init_checkpoint(&config, &ckpt, 3, None, false).expect("init writes a checkpoint");
    let mut vocab =
        vec!["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].into_iter().map(String::from).collect::<Vec<_>>();
    vocab.extend(["a", "cat", "sat", "dog", "ran", "the", "mat"].map(String::from));
    vocab.extend((vocab.len()..1100).map(|i| format!("w{i}")));
    std::fs::write(ckpt.join("vocab.txt"), vocab.join("\n")).expect("writes vocab.txt");
    ckpt
}

#[test]
fn the_five_first_mistakes_name_the_fix() {
    let dir = scratch("mistakes");
    let folder = dir.join("checkpoint");
    std::fs::create_dir_all(&folder).expect("mkdir");
    std::fs::write(folder.join("config.json"), "{}").expect("writes config.json");
    // A real safetensors layout: header length, then a JSON header padded with spaces.
    let header = format!("{{\"__metadata__\": {{}}}}{}", " ".repeat(80));
    let mut tensors = (header.len() as u64).to_le_bytes().to_vec();
    tensors.extend_from_slice(header.as_bytes());
    std::fs::write(folder.join("model.safetensors"), &tensors).expect("writes model.safetensors");

    let o = edgebert(&["bench", s(&folder)]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("is a checkpoint directory") && err.contains("edgebert convert"), "{err}");
    assert!(!err.contains("os error"), "{err}");

    let missing = dir.join("nope.ebq");
    let err = stderr(&edgebert(&["inspect", s(&missing)]));
    assert!(err.contains("does not exist"), "{err}");
    let err = stderr(&edgebert(&["convert", s(&dir.join("nope")), "-o", s(&missing)]));
    assert!(err.contains("does not exist"), "{err}");

    let err = stderr(&edgebert(&["classify", s(&folder.join("model.safetensors")), "x"]));
    assert!(err.contains("H2") && err.contains("safetensors file") && err.contains("folder"), "{err}");
    assert!(err.contains("docs/FORMAT.md"), "{err}");
    let err = stderr(&edgebert(&["convert", s(&folder.join("config.json")), "-o", s(&missing)]));
    assert!(err.contains("pass its folder"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn version_names_commit_profile_and_backends() {
    let out = stdout(&edgebert(&["--version"]));
    assert!(out.contains("commit ") && out.contains("profile "), "{out}");
    assert!(out.contains("kernel backends compiled in: generic"), "{out}");
}

#[test]
fn completions_and_man_pages_cover_every_command() {
    for shell in ["bash", "zsh", "fish"] {
        let o = edgebert(&["completions", shell]);
        assert!(o.status.success(), "{shell}: {}", stderr(&o));
        let script = stdout(&o);
        assert!(script.contains("compare") && script.contains("convert"), "{shell}: {script}");
    }
    let dir = scratch("man");
    let o = edgebert(&["man", "--dir", s(&dir)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let page = std::fs::read_to_string(dir.join("edgebert-compare.1")).expect("edgebert-compare.1 written");
    assert!(page.contains(".TH") && page.contains("\\-\\-html"), "{page}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn compare_writes_a_self_contained_page_with_two_charts() {
    let dir = scratch("compare");
    let ckpt = tiny_checkpoint(&dir);
    let mut blobs = Vec::new();
    for w in ["int8", "f16", "f32"] {
        let blob = dir.join(format!("tiny-{w}.ebq"));
        let o = edgebert(&["convert", s(&ckpt), "-o", s(&blob), "--weights", w, "--embeddings", w]);
        assert!(o.status.success(), "{}", stderr(&o));
        blobs.push(blob);
    }
    let data = dir.join("texts.txt");
    std::fs::write(&data, "a cat sat\nthe dog ran\n\nthe mat\n").expect("writes texts");
    let html = dir.join("report.html");
    let mut args = vec!["compare"];
    args.extend(blobs.iter().map(|b| s(b)));
    args.extend(["--reference", s(&ckpt), "--data", s(&data), "--seq", "8,32", "--threads", "1,2"]);
    args.extend(["--seconds", "0.05", "--html", s(&html)]);
    let o = edgebert(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = stdout(&o);
    for w in ["tiny-int8", "tiny-f16", "tiny-f32"] {
        assert!(table.contains(w), "{table}");
    }

    let page = std::fs::read_to_string(&html).expect("the page is written");
    assert!(page.starts_with("<!DOCTYPE html>") && page.trim_end().ends_with("</html>"));
    assert_eq!(page.matches("<svg").count(), 2, "latency and size charts");
    assert_eq!(page.matches("</svg>").count(), 2);
    assert!(page.contains("id=\"latency\"") && page.contains("id=\"size\""));
    // One table row per blob, one latency line per blob and thread count, one size point per blob.
    assert_eq!(page.matches("<tr>").count(), 1 + 3);
    assert_eq!(page.matches("<polyline class=\"series\"").count(), 3 * 2);
    assert_eq!(page.matches("<circle class=\"series\"").count(), 3);
    for w in ["tiny-int8", "tiny-f16", "tiny-f32"] {
        assert!(page.contains(w), "{w} named on the page");
    }
    // Self-contained: nothing fetched, nothing run.
    for outside in ["<script", "src=", "href=", "url(", "<link"] {
        assert!(!page.contains(outside), "the page refers outside itself: {outside}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

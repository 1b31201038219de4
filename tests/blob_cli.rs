//! `edgebert convert` and `edgebert inspect` as a user runs them: a real checkpoint to a blob,
//! what inspect reports, `--verify` catching a corrupted weight, and `--force`.

mod common;

use common::asset;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn edgebert(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edgebert")).args(args).output().expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("edgebert-blob-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 paths")
}

#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/models/categorium-tiny-bert-en (README: Tests)"
)]
fn convert_inspect_verify_and_force() {
    let Some(model) = asset("models/categorium-tiny-bert-en") else { return };
    let dir = scratch("roundtrip");
    let out = dir.join("cat.ebq");
    let o = edgebert(&["convert", s(&model), "-o", s(&out)]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("wrote"), "{}", text(&o.stdout));

    let o = edgebert(&["inspect", s(&out), "--json", "--verify"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("inspect --json prints JSON");
    assert_eq!(v["metadata"]["quant.weights"], "int8");
    assert_eq!(v["metadata"]["config.id2label"].as_array().unwrap().len(), 27);
    assert_eq!(v["verified"], true);
    let per_encoding: u64 =
        v["bytes_per_encoding"].as_object().unwrap().values().map(|e| e["bytes"].as_u64().unwrap()).sum();
    let tensor_bytes: u64 =
        v["tensors"].as_array().unwrap().iter().map(|t| t["bytes"].as_u64().unwrap()).sum();
    assert_eq!(per_encoding, tensor_bytes);
    assert!(tensor_bytes <= v["file_bytes"].as_u64().unwrap());

    // A flipped weight byte: open still succeeds (data is not read), --verify names the tensor.
    let mut bytes = std::fs::read(&out).unwrap();
    let last = v["tensors"].as_array().unwrap().iter().find(|t| t["name"] == "classifier.weight").unwrap();
    let at = last["offset"].as_u64().unwrap() as usize + 3;
    bytes[at] ^= 0x40;
    let bad = dir.join("bad.ebq");
    std::fs::write(&bad, &bytes).unwrap();
    assert!(edgebert(&["inspect", s(&bad)]).status.success());
    let o = edgebert(&["inspect", s(&bad), "--verify"]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(err.contains("D1") && err.contains("classifier.weight") && err.contains("bad.ebq"), "{err}");

    // A truncated copy is refused at open, naming the rule.
    std::fs::write(&bad, &bytes[..bytes.len() / 2]).unwrap();
    let o = edgebert(&["inspect", s(&bad)]);
    assert!(!o.status.success() && text(&o.stderr).contains("H5"), "{}", text(&o.stderr));

    // Same conversion again: nothing to do. Another recipe: refused without --force.
    let o = edgebert(&["convert", s(&model), "-o", s(&out)]);
    assert!(o.status.success() && text(&o.stdout).contains("unchanged"), "{}", text(&o.stdout));
    let o = edgebert(&["convert", s(&model), "-o", s(&out), "--weights", "f16"]);
    assert!(!o.status.success() && text(&o.stderr).contains("--force"), "{}", text(&o.stderr));
    let o = edgebert(&["convert", s(&model), "-o", s(&out), "--weights", "f16", "--force"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = edgebert(&["inspect", s(&out)]);
    assert!(text(&o.stdout).contains("weights f16, embeddings int8"), "{}", text(&o.stdout));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn help_shows_examples_and_options() {
    for (cmd, option) in [("convert", "--embeddings"), ("inspect", "--verify")] {
        let o = edgebert(&[cmd, "--help"]);
        assert!(o.status.success(), "{cmd} --help");
        let out = text(&o.stdout);
        assert!(out.contains(option) && out.contains("Examples"), "{out}");
    }
}

#[test]
fn a_file_that_is_not_a_blob_is_refused_by_name() {
    let dir = scratch("notblob");
    let path = dir.join("config.json");
    std::fs::write(&path, b"{\"this is\": \"not a blob, but long enough to have a header......\"}").unwrap();
    let o = edgebert(&["inspect", s(&path)]);
    assert!(!o.status.success());
    let err = text(&o.stderr);
    assert!(err.contains("H2") && err.contains("config.json") && !err.contains("panicked"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[cfg_attr(edgebert_no_assets, ignore = "needs ../shared/assets/models/tiny-distilbert (README: Tests)")]
fn vocab_from_prunes_and_inspect_shows_it() {
    let Some(model) = asset("models/tiny-distilbert") else { return };
    let Some(train) = asset("data/rt_polarity/train.tsv") else { return };
    let dir = scratch("vocab");
    let out = dir.join("small.ebq");
    let o = edgebert(&["convert", s(&model), "-o", s(&out), "--vocab-from", s(&train)]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let stdout = text(&o.stdout);
    assert!(stdout.contains("kept ") && stdout.contains(" of 30522 tokens"), "{stdout}");

    let o = edgebert(&["inspect", s(&out)]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("(pruned from 30522 by --vocab-from)"), "{}", text(&o.stdout));
    let o = edgebert(&["inspect", s(&out), "--json", "--verify"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("inspect --json prints JSON");
    assert_eq!(v["metadata"]["vocab.original_size"], 30522);
    let kept = v["metadata"]["config.vocab_size"].as_u64().unwrap();
    assert!(kept < 30522 && stdout.contains(&format!("kept {kept} of")), "{kept}: {stdout}");
    assert_eq!(v["verified"], true);

    // A word the corpus never uses still classifies, from smaller pieces.
    let o = edgebert(&["classify", s(&out), "a zygomorphic, antidisestablishmentarian film", "--json"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("\"label\""), "{}", text(&o.stdout));

    for (file, problem) in [(dir.join("missing.txt"), "cannot read"), (dir.join("empty.txt"), "no examples")]
    {
        if file.ends_with("empty.txt") {
            std::fs::write(&file, "").unwrap();
        }
        let o = edgebert(&["convert", s(&model), "-o", s(&dir.join("x.ebq")), "--vocab-from", s(&file)]);
        assert!(!o.status.success());
        let err = text(&o.stderr);
        assert!(err.contains(s(&file)) && err.contains(problem) && err.contains("--vocab-from"), "{err}");
        assert!(!dir.join("x.ebq").exists());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--embeddings int4`: the word and position tables become `i4_row_group` (format version 2),
/// and `inspect` shows the encoding, its bytes and the version.
#[test]
#[cfg_attr(edgebert_no_assets, ignore = "needs ../shared/assets/models/tiny-distilbert (README: Tests)")]
fn int4_tables_convert_and_inspect_shows_them() {
    let Some(model) = asset("models/tiny-distilbert") else { return };
    let dir = scratch("int4tables");
    let (i4, i8) = (dir.join("i4.ebq"), dir.join("i8.ebq"));
    let o = edgebert(&["convert", s(&model), "-o", s(&i4), "--embeddings", "int4"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("embeddings int4"), "{}", text(&o.stdout));
    assert!(edgebert(&["convert", s(&model), "-o", s(&i8)]).status.success());
    let o = edgebert(&["inspect", s(&i4), "--verify"]);
    let out = text(&o.stdout);
    assert!(o.status.success() && out.contains("embeddings int4; format version 2"), "{out}");
    let word = out.lines().find(|l| l.starts_with("embeddings.word_embeddings.weight")).expect("word row");
    assert!(word.contains("i4_row_group") && word.contains("row_major"), "{word}");
    let o = edgebert(&["inspect", s(&i4), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("inspect --json prints JSON");
    let i4_bytes = v["bytes_per_encoding"]["i4_row_group"]["bytes"].as_u64().expect("i4_row_group bytes");
    let o = edgebert(&["inspect", s(&i8), "--json"]);
    let v8: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let i8_bytes = v8["bytes_per_encoding"]["i8_row"]["bytes"].as_u64().expect("i8_row bytes");
    // 4.5 bits a value against 8 (plus a 4-byte scale a row): well under two thirds.
    assert!(i4_bytes * 3 < i8_bytes * 2, "int4 tables {i4_bytes} B, int8 tables {i8_bytes} B");
    assert_eq!(v["version"], 2);
    assert_eq!(v8["version"], 1);
    let _ = std::fs::remove_dir_all(&dir);
}

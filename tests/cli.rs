//! The command-line tool as a user meets it: help, version, classify and embed on the shared
//! models, and clear errors (never a panic) on bad input.

mod common;

use common::asset;
use std::io::Write;
use std::process::{Command, Output};

fn edgebert(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edgebert")).args(args).output().expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn path_str(p: &std::path::Path) -> &str {
    p.to_str().expect("asset paths are UTF-8")
}

#[test]
fn version_and_help_answer() {
    let v = edgebert(&["--version"]);
    assert!(v.status.success());
    let first = stdout(&v).lines().next().unwrap_or_default().to_string();
    assert!(first.starts_with(&format!("edgebert {} (commit ", env!("CARGO_PKG_VERSION"))), "{first}");
    for cmd in ["classify", "embed"] {
        let h = edgebert(&[cmd, "--help"]);
        assert!(h.status.success(), "{cmd} --help");
        let text = stdout(&h);
        assert!(text.contains("--json") && text.contains("--file") && text.contains("Examples"), "{text}");
    }
}

#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/models/minilm-l6-rt-sentiment (README: Tests)"
)]
fn classify_json_lines_follow_the_input() {
    let Some(model) = asset("models/minilm-l6-rt-sentiment") else { return };
    let o = edgebert(&[
        "classify",
        path_str(&model),
        "A gem of a film, funny and moving.",
        "Dull, lifeless and far too long.",
        "",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> =
        stdout(&o).lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect();
    assert_eq!(lines.len(), 3, "one line per input, the empty text included");
    assert_eq!(lines[0]["label"], "positive");
    assert_eq!(lines[1]["label"], "negative");
    for line in &lines {
        let probs: Vec<f64> = line["probs"].as_array().unwrap().iter().map(|p| p.as_f64().unwrap()).collect();
        assert_eq!(probs.len(), 2);
        assert!((probs.iter().sum::<f64>() - 1.0).abs() < 1e-5);
        assert_eq!(line["score"].as_f64().unwrap(), probs.iter().copied().fold(0.0, f64::max));
    }
}

#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/models/categorium-tiny-bert-en (README: Tests)"
)]
fn classify_reads_a_file_and_names_an_invalid_line() {
    let Some(model) = asset("models/categorium-tiny-bert-en") else { return };
    let dir = std::env::temp_dir().join(format!("edgebert-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.txt");
    std::fs::write(&good, "cheap flights to paris\nfootball scores tonight\n").unwrap();
    let o = edgebert(&["classify", path_str(&model), "--file", path_str(&good)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 3, "a header and two rows: {}", stdout(&o));
    let bad = dir.join("bad.txt");
    std::fs::File::create(&bad).unwrap().write_all(b"fine\nbroken \xff\xfe text\n").unwrap();
    let o = edgebert(&["classify", path_str(&model), "--file", path_str(&bad)]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("line 2") && err.contains("UTF-8") && !err.contains("panicked"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
#[cfg_attr(edgebert_no_assets, ignore = "needs ../shared/assets/models/all-minilm-l6-v2 (README: Tests)")]
fn embed_gives_unit_vectors_and_nearest_neighbours() {
    let Some(model) = asset("models/all-minilm-l6-v2") else { return };
    let o = edgebert(&["embed", path_str(&model), "", "A cat sat on the mat.", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for line in stdout(&o).lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let e: Vec<f64> = v["embedding"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
        assert_eq!(e.len(), 384);
        assert!((e.iter().map(|x| x * x).sum::<f64>().sqrt() - 1.0).abs() < 1e-5);
    }
    let o = edgebert(&[
        "embed",
        path_str(&model),
        "A cat sat on the mat.",
        "Stocks fell sharply.",
        "A kitten rested on the rug.",
        "--nearest",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let first = stdout(&o).lines().nth(1).unwrap().to_string();
    assert!(first.contains("A kitten rested on the rug."), "{first}");
}

#[test]
#[cfg_attr(edgebert_no_assets, ignore = "needs ../shared/assets/models/all-minilm-l6-v2 (README: Tests)")]
fn bad_invocations_are_clear_errors() {
    let o = edgebert(&["classify", "/definitely/not/here", "x"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("no such file or directory"), "{}", stderr(&o));
    let Some(model) = asset("models/all-minilm-l6-v2") else { return };
    let o = edgebert(&["classify", path_str(&model), "x"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("needs a sequence_classification model")
            && stderr(&o).contains("use `edgebert embed`"),
        "{}",
        stderr(&o)
    );
    let o = edgebert(&["embed", path_str(&model)]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("no input"), "{}", stderr(&o));
}

#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/models/categorium-tiny-bert-en (README: Tests)"
)]
fn convert_keeps_named_layers_in_f16_and_the_blob_runs() {
    let Some(model) = asset("models/categorium-tiny-bert-en") else { return };
    let dir = std::env::temp_dir().join(format!("edgebert-keep-f16-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let blob = dir.join("mixed.ebq");
    let blob = path_str(&blob);
    let o = edgebert(&["convert", path_str(&model), "-o", blob, "--keep-f16", "intermediate.dense"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = edgebert(&["inspect", blob, "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).expect("inspect --json");
    for t in report["tensors"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        if name.ends_with("intermediate.dense.weight") {
            assert_eq!(t["encoding"], "f16", "{name}");
        } else if name.ends_with("query.weight") {
            assert_eq!(t["encoding"], "i8_channel", "{name}");
        }
    }
    let o = edgebert(&["classify", blob, "cheap flights to paris", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let line: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(line["probs"].as_array().unwrap().len(), 27);
    std::fs::remove_dir_all(&dir).ok();
}

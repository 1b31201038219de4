//! `edgebert embed` for search indexes (issue 19): long texts as windows (`--chunk`), prompts
//! from `config_sentence_transformers.json`, and compact output (`--dim`, `--precision`,
//! `--output .npy`), on all-MiniLM-L6-v2.

mod common;

use common::asset;
use edgebert_engine::npy::{self, Dtype};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edgebert")).args(args).output().expect("the binary runs")
}

fn ok(args: &[&str]) -> Output {
    let out = run(args);
    assert!(out.status.success(), "edgebert {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 paths")
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("edgebert-embed-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

/// The `embedding` of each line, as the f32 values printed (serde prints f32 shortest, so the
/// parse gives back the very same f32).
fn vectors(lines: &[Value]) -> Vec<Vec<f32>> {
    lines
        .iter()
        .map(|l| l["embedding"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect())
        .collect()
}

/// About 3,000 words of real review text (rt_polarity dev snippets, joined by spaces).
fn long_text() -> Option<String> {
    let dev = asset("data/rt_polarity/dev.tsv")?;
    let mut words = 0;
    let mut parts = Vec::new();
    for line in std::fs::read_to_string(dev).unwrap().lines() {
        let text = line.split_once('\t').map_or(line, |(_, t)| t);
        words += text.split_whitespace().count();
        parts.push(text.to_string());
        if words >= 3000 {
            break;
        }
    }
    Some(parts.join(" "))
}

#[test]
fn chunks_embed_as_their_own_text_and_pool_to_the_normalised_mean() {
    let (Some(model), Some(text)) = (asset("models/all-minilm-l6-v2"), long_text()) else { return };
    let dir = temp_dir("chunks");
    let long = dir.join("long.txt");
    std::fs::write(&long, &text).unwrap();
    let chars = text.chars().count();
    for weights in ["f32", "int8"] {
        let blob = dir.join(format!("minilm-{weights}.ebq"));
        ok(&["convert", s(&model), "-o", s(&blob), "--weights", weights, "--embeddings", weights]);
        let chunk_args =
            ["embed", s(&blob), "--file", s(&long), "--chunk", "128", "--stride", "32", "--json"];
        let per_chunk = json_lines(&ok(&[&chunk_args[..], &["--per-chunk"]].concat()));
        assert!(per_chunk.len() >= 20, "{weights}: {} chunks of a 3,000-word text", per_chunk.len());
        let spans: Vec<(usize, usize)> = per_chunk
            .iter()
            .map(|l| (l["start"].as_u64().unwrap() as usize, l["end"].as_u64().unwrap() as usize))
            .collect();
        assert_eq!(spans[0].0, 0);
        assert_eq!(spans.last().unwrap().1, chars, "the windows reach the end of the text");
        assert!(
            spans.windows(2).all(|w| w[1].0 > w[0].0 && w[1].0 < w[0].1),
            "consecutive windows overlap: {spans:?}"
        );
        // Each chunk's text alone, embedded as an ordinary input.
        let texts: Vec<String> =
            spans.iter().map(|&(a, b)| text.chars().skip(a).take(b - a).collect()).collect();
        let chunk_file = dir.join("chunks.txt");
        std::fs::write(&chunk_file, texts.join("\n")).unwrap();
        let alone = vectors(&json_lines(&ok(&["embed", s(&blob), "--file", s(&chunk_file), "--json"])));
        let chunked = vectors(&per_chunk);
        for (i, (a, c)) in alone.iter().zip(&chunked).enumerate() {
            assert!(a == c, "{weights}: chunk {i} differs from its text embedded alone: {:?}", texts[i]);
        }
        // The pooled vector: the mean of the chunk vectors, normalised.
        let pooled = vectors(&json_lines(&ok(&chunk_args)));
        assert_eq!(pooled.len(), 1);
        let mut mean = vec![0.0f32; chunked[0].len()];
        for v in &chunked {
            mean.iter_mut().zip(v).for_each(|(m, x)| *m += x);
        }
        mean.iter_mut().for_each(|m| *m /= chunked.len() as f32);
        let norm = mean.iter().map(|x| x * x).sum::<f32>().sqrt();
        mean.iter_mut().for_each(|m| *m /= norm);
        let diff = common::max_abs_diff(&pooled[0], &mean);
        eprintln!(
            "{weights}: {} chunks bit-identical to their texts alone; pooled vs mean max |d| = {diff:e}",
            chunked.len()
        );
        assert!(diff <= 1e-7, "{weights}: pooled vector off the normalised mean by {diff}");
    }
    // Without --chunk the text is cut, and the warning says by how much.
    let out = ok(&["embed", s(&dir.join("minilm-int8.ebq")), "--file", s(&long)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("were dropped") && err.contains("the model reads 256") && err.contains("--chunk"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A copy of all-MiniLM-L6-v2 (links to its files) whose config_sentence_transformers.json
/// names e5-style prompts, the default being `query`.
fn prompted_checkpoint(model: &Path, dir: &Path) -> PathBuf {
    let ckpt = dir.join("prompted");
    std::fs::create_dir_all(&ckpt).unwrap();
    for entry in std::fs::read_dir(model).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != "config_sentence_transformers.json" {
            let target = std::fs::canonicalize(entry.path()).unwrap();
            std::os::unix::fs::symlink(target, ckpt.join(entry.file_name())).unwrap();
        }
    }
    std::fs::write(
        ckpt.join("config_sentence_transformers.json"),
        r#"{"prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": "query"}"#,
    )
    .unwrap();
    ckpt
}

#[test]
fn prompts_travel_in_the_blob_and_prepend_their_text() {
    let Some(model) = asset("models/all-minilm-l6-v2") else { return };
    let dir = temp_dir("prompts");
    let ckpt = prompted_checkpoint(&model, &dir);
    let blob = dir.join("prompted.ebq");
    ok(&["convert", s(&ckpt), "-o", s(&blob)]);
    let inspect = String::from_utf8_lossy(&ok(&["inspect", s(&blob)]).stdout).into_owned();
    assert!(
        inspect.contains(r#"prompts: passage = "passage: ", query = "query: " (default query)"#),
        "{inspect}"
    );
    for m in [&blob, &ckpt] {
        let embed = |extra: &[&str], text: &str| {
            vectors(&json_lines(&ok(&[&["embed", s(m), "--json"], extra, &[text]].concat())))
        };
        let default = embed(&[], "how do cats sleep");
        assert_eq!(
            default,
            embed(&["--no-prompt"], "query: how do cats sleep"),
            "the default prompt is `query`"
        );
        assert_eq!(
            embed(&["--prompt", "passage"], "Cats nap."),
            embed(&["--no-prompt"], "passage: Cats nap.")
        );
        assert_eq!(embed(&["--prompt-text", "q: "], "x"), embed(&["--no-prompt"], "q: x"));
        assert_ne!(default, embed(&["--no-prompt"], "how do cats sleep"));
        let out = run(&["embed", s(m), "--prompt", "document", "x"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains("`document`") && err.contains("passage, query"),
            "{err}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn compact_output_as_npy_with_the_right_shape_and_dtype() {
    let Some(model) = asset("models/all-minilm-l6-v2") else { return };
    let dir = temp_dir("npy");
    let texts = ["A cat sat on the mat.", "Stocks fell on Monday.", "", "Ein Hund läuft.", "猫が寝ている。"];
    let plain = vectors(&json_lines(&ok(&[&["embed", s(&model), "--json"], &texts[..]].concat())));
    let cases = [
        ("f32", 384, 384, Dtype::F32, "float32"),
        ("f16", 384, 384, Dtype::F16, "float16"),
        ("int8", 256, 256, Dtype::I8, "int8"),
        ("ubinary", 384, 48, Dtype::U8, "uint8"),
    ];
    for (precision, dim, cols, dtype, numpy_name) in cases {
        let path = dir.join(format!("{precision}.npy"));
        let d = dim.to_string();
        // --dim only below the model's 384 (it re-normalises, which moves the last bits).
        let cut: &[&str] = if dim < 384 { &["--dim", &d] } else { &[] };
        ok(&[&["embed", s(&model), "--precision", precision, "--output", s(&path)], cut, &texts[..]]
            .concat());
        let m = npy::decode(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!((m.dtype, m.rows, m.cols), (dtype, texts.len(), cols), "{precision}");
        // The same vectors as JSON lines (int8 and ubinary as integers).
        let json = vectors(&json_lines(&ok(&[
            &["embed", s(&model), "--json", "--precision", precision],
            cut,
            &texts[..],
        ]
        .concat())));
        assert_eq!(m.to_f32(), json.concat(), "{precision}: .npy and JSON agree");
        match precision {
            "f32" => assert_eq!(json, plain),
            "ubinary" => {
                let bits = |v: &[f32]| {
                    v.chunks(8)
                        .map(|c| {
                            c.iter().enumerate().fold(0u8, |b, (i, &x)| b | (u8::from(x > 0.0) << (7 - i)))
                        })
                        .collect::<Vec<u8>>()
                };
                let want: Vec<f32> = plain.iter().flat_map(|v| bits(v)).map(f32::from).collect();
                assert_eq!(m.to_f32(), want);
            }
            _ => {}
        }
        numpy_loads(&path, texts.len(), cols, numpy_name);
    }
    let err = String::from_utf8_lossy(&run(&["embed", s(&model), "--dim", "500", "x"]).stderr).into_owned();
    assert!(err.contains("--dim 500") && err.contains("384"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// numpy's own loader agrees on shape and dtype, when numpy is installed (CI's Python may not
/// have it: then the test says it skipped this part; edgebert's reader checked the file above).
fn numpy_loads(path: &Path, rows: usize, cols: usize, dtype: &str) {
    let script = format!("import numpy as np; a = np.load({:?}); print(a.shape, a.dtype)", s(path));
    match Command::new("python3").args(["-c", &script]).output() {
        Ok(out) if out.status.success() => {
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), format!("({rows}, {cols}) {dtype}"));
        }
        _ => eprintln!("skipped: numpy check of {} (python3 with numpy not available)", path.display()),
    }
}

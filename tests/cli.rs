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

/// A scratch directory removed on drop.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("edgebert-cli-{tag}-{}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        std::fs::create_dir_all(&dir).expect("temp dir");
        Scratch(dir)
    }
    fn join(&self, name: &str) -> String {
        self.0.join(name).to_str().expect("UTF-8 temp path").to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

/// The first `n` rows of rt_polarity's training set (with its header) written to `path`.
fn training_rows(path: &str, n: usize) -> Option<()> {
    let text = std::fs::read_to_string(asset("data/rt_polarity/train.tsv")?).expect("readable");
    std::fs::write(path, text.lines().take(n + 1).collect::<Vec<_>>().join("\n")).expect("writes");
    Some(())
}

/// Runs with `input` on standard input.
fn edgebert_with_stdin(args: &[&str], input: &[u8]) -> Output {
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_edgebert"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child.stdin.take().expect("stdin").write_all(input).expect("writes stdin");
    child.wait_with_output().expect("finishes")
}

fn no_panic(o: &Output) {
    let err = stderr(o);
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{err}");
}

#[test]
fn exit_codes_are_0_1_2_as_documented() {
    let help = edgebert(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(stdout(&help).contains("Exit codes: 0 success") && stdout(&help).contains("2 usage error"));
    let unknown_flag = edgebert(&["classify", "--no-such-flag"]);
    assert_eq!(unknown_flag.status.code(), Some(2), "{}", stderr(&unknown_flag));
    let missing = edgebert(&["classify", "/definitely/not/here", "x"]);
    assert_eq!(missing.status.code(), Some(1), "{}", stderr(&missing));
    assert_eq!(stderr(&missing).lines().count(), 1, "one line: {}", stderr(&missing));
    let Some(model) = asset("models/categorium-tiny-bert-en") else { return };
    for args in [
        vec!["classify", path_str(&model)],
        vec!["classify", path_str(&model), "x", "--file", "texts.txt"],
        vec!["classify", path_str(&model), "--pair", "a", "b", "c"],
        vec!["bench", path_str(&model), "--seq", "1"],
    ] {
        let o = edgebert(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: usage error, {}", stderr(&o));
        assert!(stderr(&o).starts_with("error: "), "{args:?}: {}", stderr(&o));
        no_panic(&o);
    }
}

#[test]
fn a_full_disk_is_one_error_line_and_a_closed_pipe_is_quiet() {
    let Some(model) = asset("models/all-minilm-l6-v2") else { return };
    let texts: String = (0..200).map(|i| format!("sentence number {i}\n")).collect();
    if std::path::Path::new("/dev/full").exists() {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("opens /dev/full");
        let o = Command::new(env!("CARGO_BIN_EXE_edgebert"))
            .args(["embed", path_str(&model), "a cat", "a dog", "--json"])
            .stdout(full)
            .output()
            .expect("runs");
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        no_panic(&o);
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.contains("cannot write to standard output") && err.contains("No space left"), "{err}");
    } else {
        eprintln!("skipped /dev/full: this system has none");
    }
    // `| head -1`: read one line of 200, then close the pipe; the rest must end quietly.
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_edgebert"))
        .args(["embed", path_str(&model), "--file", "-", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    child.stdin.take().expect("stdin").write_all(texts.as_bytes()).expect("writes stdin");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut first).expect("reads a line");
    assert!(first.starts_with("{\"embedding\":["), "{first}");
    let o = child.wait_with_output().expect("finishes");
    assert!(matches!(o.status.code(), Some(0) | Some(141)), "{:?}: {}", o.status, stderr(&o));
    assert_eq!(stderr(&o), "", "a closed pipe ends silently");
}

#[test]
fn stdin_is_read_with_file_dash() {
    let Some(model) = asset("models/categorium-tiny-bert-en") else { return };
    let o = edgebert_with_stdin(
        &["classify", path_str(&model), "--file", "-", "--json"],
        b"cheap flights to paris\r\nfootball scores tonight\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let from_stdin: Vec<String> = stdout(&o).lines().map(String::from).collect();
    let o = edgebert(&[
        "classify",
        path_str(&model),
        "cheap flights to paris",
        "football scores tonight",
        "--json",
    ]);
    let from_args: Vec<String> = stdout(&o).lines().map(String::from).collect();
    assert_eq!(from_stdin.len(), 2);
    assert_eq!(from_stdin, from_args, "stdin lines (CRLF too) are the same texts as arguments");
}

#[test]
fn init_then_convert_then_bench_and_eval() {
    let Some(pair) = asset("models/tiny-bert-pair-cls") else { return };
    let Some(dev) = asset("data/rt_polarity/dev.tsv") else { return };
    let dir = Scratch::new("init");
    let (ckpt, blob) = (dir.join("random"), dir.join("random.ebq"));
    let config = pair.join("config.json");
    let o =
        edgebert(&["init", path_str(&config), "-o", &ckpt, "--tokenizer", path_str(&pair), "--seed", "5"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("BertForSequenceClassification"), "{}", stdout(&o));
    let again = edgebert(&["init", path_str(&config), "-o", &ckpt]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("not empty") && stderr(&again).contains("--force"), "{}", stderr(&again));
    let o = edgebert(&["convert", &ckpt, "-o", &blob]);
    assert!(o.status.success(), "{}", stderr(&o));

    let o = edgebert(&[
        "bench",
        &blob,
        "--seq",
        "8,16",
        "--batch",
        "1,2",
        "--threads",
        "1",
        "--seconds",
        "0.05",
        "--warmup",
        "1",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows: Vec<serde_json::Value> =
        stdout(&o).lines().map(|l| serde_json::from_str(l).expect("JSON")).collect();
    assert_eq!(rows.len(), 4, "one row per seq x batch");
    for r in &rows {
        assert!(r["p50_ms"].as_f64().expect("p50") > 0.0 && r["tokens_per_s"].as_f64().expect("rate") > 0.0);
    }
    let too_long = edgebert(&["bench", &blob, "--seq", "4096", "--seconds", "0.01"]);
    assert_eq!(too_long.status.code(), Some(1));
    assert!(stderr(&too_long).contains("longer than the model's 128 positions"), "{}", stderr(&too_long));

    // The int8 blob of a random model against its own checkpoint: labels mostly agree.
    let o =
        edgebert(&["eval", &blob, "--reference", &ckpt, "--data", path_str(&dev), "--limit", "40", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_str(stdout(&o).trim()).expect("one JSON report");
    assert_eq!(report["examples"], 40);
    let agreement = report["argmax_agreement"].as_f64().expect("agreement");
    let cosine = report["cosine_mean"].as_f64().expect("cosine");
    println!("eval of the random int8 blob: agreement {agreement}, cosine mean {cosine}");
    assert!(agreement >= 0.95 && cosine > 0.999, "{report}"); // measured 1.0 and 0.99997
    assert_eq!(report["layers"].as_array().expect("layers").len(), 3, "embeddings + 2 layers");
    let o = edgebert(&["eval", &blob, "--reference", &ckpt, "--data", path_str(&dev), "--limit", "8"]);
    assert!(o.status.success() && stdout(&o).contains("argmax agreement"), "{}", stdout(&o));
}

#[test]
fn distill_and_finetune_write_checkpoints_that_classify() {
    let Some(teacher) = asset("models/categorium-tiny-bert-en") else { return };
    let dir = Scratch::new("train");
    let train = dir.join("train.tsv");
    let Some(()) = training_rows(&train, 32) else { return };
    let student = dir.join("student");
    let o = edgebert(&[
        "distill",
        "--teacher",
        path_str(&teacher),
        "--layers",
        "1",
        "--train",
        &train,
        "--dev",
        &train,
        "-o",
        &student,
        "--epochs",
        "1",
        "--batch",
        "8",
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("student layers from teacher layers") && out.contains("kept epoch 1"), "{out}");
    let o = edgebert(&["classify", &student, "cheap flights to paris", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let line: serde_json::Value = serde_json::from_str(stdout(&o).trim()).expect("JSON");
    assert_eq!(line["probs"].as_array().expect("probs").len(), 27, "the teacher's 27 labels");

    let tuned = dir.join("tuned");
    let o = edgebert(&[
        "finetune", &student, "--train", &train, "--dev", &train, "-o", &tuned, "--epochs", "1", "--batch",
        "8", "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("dev accuracy before training") && stdout(&o).contains("kept epoch"),
        "{}",
        stdout(&o)
    );
    let o = edgebert(&["classify", &tuned, "a gem of a film", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let bad = edgebert(&["finetune", &student, "--train", "/no/such/train.tsv", "-o", &dir.join("x")]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("/no/such/train.tsv"), "{}", stderr(&bad));
    no_panic(&bad);
}

//! `convert --calib` on real tiny checkpoints: it runs, records what it chose, is deterministic,
//! keeps the `--max-drop` budget on the calibration texts, and leaves the default path alone.

mod blob_common;

use blob_common::asset;
use edgebert_convert::blob::{convert_dir, convert_dir_opts, ConvertOptions, Recipe};
use edgebert_convert::calib::CalibOptions;
use edgebert_engine::blob::Blob;
use std::path::{Path, PathBuf};

/// A tiny classifier and rt_polarity's dev texts, or `None` (the test says it skipped).
fn inputs(model: &str) -> Option<(PathBuf, PathBuf)> {
    let found = asset(&format!("models/{model}")).zip(asset("data/rt_polarity/dev.tsv"));
    if found.is_none() {
        eprintln!("skipped calib tests: the shared assets are not here");
    }
    found
}

fn convert(model: &Path, out: &Path, calib: Option<CalibOptions>) -> edgebert_convert::blob::ConvertReport {
    let options = ConvertOptions { calib, force: true, ..Default::default() };
    convert_dir_opts(model, out, &options, &mut |_| {}).expect("converts")
}

fn calib(texts: &Path, max_drop: Option<f64>) -> CalibOptions {
    CalibOptions { limit: 48, max_drop, ..CalibOptions::new(texts.to_path_buf()) }
}

#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/models/categorium-tiny-bert-en (README: Tests)"
)]
fn without_calib_the_blob_is_the_default_one() {
    let Some((model, _)) = inputs("categorium-tiny-bert-en") else { return };
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.ebq"), dir.path().join("b.ebq"));
    convert_dir(&model, &a, Recipe::default(), false, &mut |_| {}).unwrap();
    let report = convert(&model, &b, None);
    assert!(report.calib.is_none());
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let blob = Blob::open(&b).unwrap();
    assert_eq!(blob.metadata().opt_str_list("quant.recipe").unwrap(), None);
}

#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/models/categorium-tiny-bert-en (README: Tests)"
)]
fn max_drop_search_is_deterministic_records_its_recipe_and_keeps_the_budget() {
    let Some((model, texts)) = inputs("categorium-tiny-bert-en") else { return };
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.ebq"), dir.path().join("b.ebq"));
    let first = convert(&model, &a, Some(calib(&texts, Some(10.0))));
    let second = convert(&model, &b, Some(calib(&texts, Some(10.0))));
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap(), "two runs, same bytes");
    let report = first.calib.expect("a calibration report");
    assert_eq!(Some(report.clone()), second.calib);
    assert_eq!(report.texts, 48);
    assert!(report.tabular, "dev.tsv is label<TAB>text");
    // 48 texts: 10 points is 4 labels other than the reference's.
    assert!(report.after.drop_points() <= 10.0, "{}", report.after);
    assert!(
        report.after.error() <= report.before.error()
            || report.after.drop_points() < report.before.drop_points()
    );
    let blob = Blob::open(&a).unwrap();
    let recipe = blob.metadata().opt_str_list("quant.recipe").unwrap().expect("quant.recipe");
    assert_eq!(recipe, report.recipe);
    // Two layers of six linears, the pooler and the classifier.
    assert_eq!(recipe.len(), 14, "{recipe:?}");
    for line in &recipe {
        let (name, encoding) = line.split_once('=').expect("tensor=encoding");
        let t = blob.tensors().iter().find(|t| t.name == name).expect("a stored tensor");
        let want = if encoding == "int8" { "i8_channel" } else { encoding };
        assert_eq!(t.encoding.name(), want, "{line}");
    }
    assert!(blob.metadata().opt_str("quant.calib").unwrap().is_some());
}

#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/models/categorium-tiny-bert-en (README: Tests)"
)]
fn a_loose_budget_leaves_every_weight_in_the_smallest_encoding() {
    let Some((model, texts)) = inputs("categorium-tiny-bert-en") else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("a.ebq");
    let report = convert(&model, &out, Some(calib(&texts, Some(100.0)))).calib.unwrap();
    assert!(report.recipe.iter().all(|l| l.ends_with("=int8")), "{:?}", report.recipe);
}

#[test]
#[cfg_attr(edgebert_no_assets, ignore = "needs ../shared/assets/models/tiny-bert-pair-cls (README: Tests)")]
fn calib_without_a_budget_changes_at_most_the_biases() {
    let Some((model, texts)) = inputs("tiny-bert-pair-cls") else { return };
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.ebq"), dir.path().join("b.ebq"));
    convert(&model, &a, None);
    let report = convert(&model, &b, Some(calib(&texts, None))).calib.unwrap();
    assert!(report.after.error() <= report.before.error());
    let (plain, calibrated) = (Blob::open(&a).unwrap(), Blob::open(&b).unwrap());
    assert_eq!(plain.tensors().len(), calibrated.tensors().len());
    for (p, c) in plain.tensors().iter().zip(calibrated.tensors()) {
        assert_eq!((&p.name, p.encoding), (&c.name, c.encoding));
        if plain.raw(p) != calibrated.raw(c) {
            assert!(report.bias_corrected && p.name.ends_with(".bias"), "{} changed", p.name);
        }
    }
}

fn int4() -> Recipe {
    Recipe { weights: edgebert_convert::blob::Precision::Int4, ..Recipe::default() }
}

fn convert_int4(
    model: &Path,
    out: &Path,
    calib: Option<CalibOptions>,
) -> edgebert_convert::blob::ConvertReport {
    let options = ConvertOptions { recipe: int4(), calib, force: true, ..Default::default() };
    convert_dir_opts(model, out, &options, &mut |_| {}).expect("converts")
}

#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/models/categorium-tiny-bert-en (README: Tests)"
)]
fn int4_without_calib_is_round_to_nearest_byte_for_byte() {
    let Some((model, _)) = inputs("categorium-tiny-bert-en") else { return };
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.ebq"), dir.path().join("b.ebq"));
    convert_dir(&model, &a, int4(), false, &mut |_| {}).unwrap();
    let report = convert_int4(&model, &b, None);
    assert!(report.calib.is_none());
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert_eq!(Blob::open(&b).unwrap().metadata().opt_str("quant.gptq").unwrap(), None);
}

#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/models/categorium-tiny-bert-en (README: Tests)"
)]
fn int4_with_calib_is_gptq_deterministic_and_closer_than_rounding() {
    let Some((model, texts)) = inputs("categorium-tiny-bert-en") else { return };
    let dir = tempfile::tempdir().unwrap();
    let (plain, a, b) = (dir.path().join("p.ebq"), dir.path().join("a.ebq"), dir.path().join("b.ebq"));
    convert_int4(&model, &plain, None);
    let options =
        CalibOptions { bias_correction: edgebert_convert::calib::BiasCorrection::Off, ..calib(&texts, None) };
    let first = convert_int4(&model, &a, Some(options.clone())).calib.expect("a calibration report");
    convert_int4(&model, &b, Some(options));
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap(), "two runs, same bytes");
    // `before` is the round-to-nearest blob, `after` GPTQ's (no bias correction).
    assert!(first.gptq.is_some());
    assert!(first.after.error() < first.before.error(), "gptq {} vs rounding {}", first.after, first.before);
    let (p, g) = (Blob::open(&plain).unwrap(), Blob::open(&a).unwrap());
    assert!(g.metadata().opt_str("quant.gptq").unwrap().is_some_and(|s| s.contains("GPTQ")));
    let mut changed = 0;
    for (tp, tg) in p.tensors().iter().zip(g.tensors()) {
        assert_eq!((&tp.name, tp.encoding), (&tg.name, tg.encoding));
        if p.raw(tp) != g.raw(tg) {
            assert_eq!(tg.encoding.name(), "i4_group", "only int4 weights change: {}", tg.name);
            changed += 1;
        }
    }
    assert!(changed > 0, "GPTQ changed no weight");
}

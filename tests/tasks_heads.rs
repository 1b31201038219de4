//! The task post-processing (engine::tasks) against transformers' pipelines: transformers' own
//! logits from families.json go in, the pipelines' entities, answers and fill-mask guesses must
//! come out (words and spans exact, scores within 1e-4).

mod common;

use edgebert_engine::tasks::{fill, qa, tag, TaskError};
use edgebert_engine::tokenizer::{TextTokenizer, TokenizerSpec};
use serde_json::Value;

const SCORE_TOL: f64 = 1e-4;

struct Golden {
    model: Value,
    tok: TextTokenizer,
}

fn golden(name: &str) -> Option<Golden> {
    let fam: Value =
        serde_json::from_slice(&std::fs::read(common::asset("golden/families.json")?).unwrap()).unwrap();
    let dir = common::asset(&format!("models/{name}"))?;
    let spec = TokenizerSpec::HfJson(std::fs::read(dir.join("tokenizer.json")).unwrap());
    let model = fam["models"][name].clone();
    let max_len = model["max_length"].as_u64().unwrap() as usize;
    Some(Golden { tok: TextTokenizer::new(&spec, max_len).unwrap(), model })
}

fn items(g: &Golden) -> &Vec<Value> {
    g.model["items"].as_array().unwrap()
}

fn floats(v: &Value) -> Vec<f32> {
    match v {
        Value::Array(a) => a.iter().flat_map(floats).collect(),
        x => vec![x.as_f64().unwrap() as f32],
    }
}

fn usize_of(v: &Value) -> usize {
    v.as_u64().unwrap() as usize
}

fn assert_score(what: &str, got: f64, want: &Value) {
    let want = want.as_f64().unwrap();
    assert!((got - want).abs() <= SCORE_TOL, "{what}: score {got} vs transformers {want}");
}

#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/golden/families.json + the tiny models (README: Tests)"
)]
fn token_classification_groups_entities_as_the_pipeline() {
    let Some(g) = golden("tiny-bert-token-cls") else { return };
    assert_eq!(g.model["pipeline_params"]["aggregation_strategy"], "simple");
    let id2label = &g.model["id2label"];
    let labels: Vec<String> = (0..id2label.as_object().unwrap().len())
        .map(|i| id2label[i.to_string()].as_str().unwrap().to_string())
        .collect();
    let mut entities_seen = 0;
    for (i, item) in items(&g).iter().enumerate() {
        let text = item["text"].as_str().unwrap();
        let enc = g.tok.encode(text).unwrap();
        let got = tag::entities(text, &enc, &floats(&item["logits"]), &labels, &g.tok).unwrap();
        let want = item["pipeline"].as_array().unwrap();
        assert_eq!(got.len(), want.len(), "item {i}: {got:?}");
        for (k, (e, w)) in got.iter().zip(want).enumerate() {
            let what = format!("item {i} entity {k}");
            assert_eq!(e.entity_group, w["entity_group"].as_str().unwrap(), "{what}");
            assert_eq!(e.word, w["word"].as_str().unwrap(), "{what}");
            assert_eq!((e.start, e.end), (usize_of(&w["start"]), usize_of(&w["end"])), "{what}");
            assert_score(&what, e.score as f64, &w["score"]);
        }
        entities_seen += got.len();
    }
    assert!(entities_seen > 20, "the goldens exercise grouping ({entities_seen} entities)");
}

#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/golden/families.json + the tiny models (README: Tests)"
)]
fn token_classification_checks_the_logits_length() {
    let Some(g) = golden("tiny-bert-token-cls") else { return };
    let enc = g.tok.encode("John lives in Paris").unwrap();
    let labels = vec!["O".to_string(), "B-PER".to_string()];
    let err = tag::entities("John lives in Paris", &enc, &[0.0; 3], &labels, &g.tok).unwrap_err();
    assert!(
        matches!(err, TaskError::Logits { expected, found: 3, .. } if expected == enc.len() * 2),
        "{err}"
    );
}

fn qa_params(g: &Golden) -> (qa::QaParams, usize) {
    let p = &g.model["pipeline_params"];
    let params = qa::QaParams {
        max_answer_len: usize_of(&p["max_answer_len"]),
        top_k: usize_of(&p["top_k"]),
        handle_impossible_answer: p["handle_impossible_answer"].as_bool().unwrap(),
    };
    assert_eq!(usize_of(&p["max_seq_len"]), g.tok.max_len());
    (params, usize_of(&p["doc_stride"]))
}

#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/golden/families.json + the tiny models (README: Tests)"
)]
fn question_answering_finds_the_pipelines_span_and_score() {
    let Some(g) = golden("tiny-bert-qa") else { return };
    let (params, stride) = qa_params(&g);
    let (mut answered, mut refused, mut windowed) = (0, 0, 0);
    for (i, item) in items(&g).iter().enumerate() {
        let (question, context) = (item["question"].as_str().unwrap(), item["context"].as_str().unwrap());
        let want = &item["pipeline"];
        if let Some(err) = want.get("error") {
            assert!(err.as_str().unwrap().contains("`question` cannot be empty"));
            assert!(matches!(qa::check_inputs(question, context), Err(TaskError::EmptyQuestion)));
            refused += 1;
            continue;
        }
        qa::check_inputs(question, context).unwrap();
        let windows = g.tok.encode_windows(question, context, g.tok.max_len(), stride).unwrap();
        // Logits per window: the golden's windows for the long context, else the single encoding's.
        let (starts, ends): (Vec<Vec<f32>>, Vec<Vec<f32>>) = match item.get("windows") {
            Some(w) => {
                windowed += 1;
                windows
                    .iter()
                    .enumerate()
                    .map(|(k, enc)| {
                        let cut = |v: &Value| floats(&v[k])[..enc.len()].to_vec();
                        (cut(&w["start_logits"]), cut(&w["end_logits"]))
                    })
                    .unzip()
            }
            None => (vec![floats(&item["start_logits"])], vec![floats(&item["end_logits"])]),
        };
        assert_eq!(windows.len(), starts.len(), "item {i}: window count");
        let logits: Vec<qa::WindowLogits> = windows
            .iter()
            .zip(starts.iter().zip(&ends))
            .map(|(encoding, (start, end))| qa::WindowLogits { encoding, start, end })
            .collect();
        let got = qa::answers(context, &logits, &params).unwrap();
        assert_eq!(got.len(), 1, "item {i}");
        let what = format!("item {i}");
        assert_eq!(got[0].answer, want["answer"].as_str().unwrap(), "{what}");
        assert_eq!((got[0].start, got[0].end), (usize_of(&want["start"]), usize_of(&want["end"])), "{what}");
        assert_score(&what, got[0].score, &want["score"]);
        answered += 1;
    }
    assert_eq!((answered, refused, windowed), (7, 1, 1));
}

#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/golden/families.json + the tiny models (README: Tests)"
)]
fn question_answering_top_k_and_the_empty_answer() {
    let Some(g) = golden("tiny-bert-qa") else { return };
    let (params, stride) = qa_params(&g);
    let item = &items(&g)[0];
    let (question, context) = (item["question"].as_str().unwrap(), item["context"].as_str().unwrap());
    let enc = &g.tok.encode_windows(question, context, g.tok.max_len(), stride).unwrap()[0];
    let (start, end) = (floats(&item["start_logits"]), floats(&item["end_logits"]));
    let window = [qa::WindowLogits { encoding: enc, start: &start, end: &end }];
    let five = qa::answers(context, &window, &qa::QaParams { top_k: 5, ..params }).unwrap();
    assert_eq!(five.len(), 5);
    assert!(five.windows(2).all(|w| w[0].score >= w[1].score), "ranked");
    assert_eq!(five[0].answer, item["pipeline"]["answer"].as_str().unwrap());
    for a in &five {
        assert!(a.end > a.start && a.answer == context[a.start..a.end], "{a:?}");
    }
    let with_null =
        qa::answers(context, &window, &qa::QaParams { top_k: 50, handle_impossible_answer: true, ..params })
            .unwrap();
    let null = with_null.iter().find(|a| a.answer.is_empty()).expect("the empty answer is offered");
    assert_eq!((null.start, null.end), (0, 0));
    assert!(null.score > 0.0 && null.score < 1.0);
    let err = qa::answers(context, &window, &qa::QaParams { top_k: 0, ..params }).unwrap_err();
    assert!(matches!(err, TaskError::ZeroTopK));
    assert!(matches!(qa::check_inputs("Why?", ""), Err(TaskError::EmptyContext)));
}

#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/golden/families.json + the tiny models (README: Tests)"
)]
fn fill_mask_ranks_the_vocabulary_as_the_pipeline() {
    let Some(g) = golden("tiny-bert-mlm") else { return };
    let top_k = usize_of(&g.model["pipeline_params"]["top_k"]);
    let mut full_rows = 0;
    for (i, item) in items(&g).iter().enumerate() {
        let text = item["text"].as_str().unwrap();
        let enc = g.tok.encode(text).unwrap();
        if let Some(err) = item["pipeline"].get("error") {
            assert!(err.as_str().unwrap().contains("No mask_token"));
            assert!(matches!(fill::mask_positions(&enc, &g.tok), Err(TaskError::NoMask { mask: "[MASK]" })));
            continue;
        }
        let positions = fill::mask_positions(&enc, &g.tok).unwrap();
        let want_positions: Vec<usize> =
            item["mask_positions"].as_array().unwrap().iter().map(usize_of).collect();
        assert_eq!(positions, want_positions, "item {i}");
        let Some(rows) = item.get("mask_logits_full") else { continue };
        full_rows += 1;
        let got = fill::guesses(&enc, &positions, &floats(rows), top_k, &g.tok).unwrap();
        let want = item["pipeline"].as_array().unwrap();
        assert_eq!(got.len(), want.len());
        for (m, (gm, wm)) in got.iter().zip(want).enumerate() {
            let wm = wm.as_array().unwrap();
            assert_eq!(gm.len(), wm.len(), "item {i} mask {m}");
            // Neighbours can be 2e-4 apart in logit: ids as a set, scores rank by rank.
            let mut got_ids: Vec<u32> = gm.iter().map(|x| x.token).collect();
            let mut want_ids: Vec<u32> = wm.iter().map(|x| x["token"].as_u64().unwrap() as u32).collect();
            got_ids.sort_unstable();
            want_ids.sort_unstable();
            assert_eq!(got_ids, want_ids, "item {i} mask {m}");
            for (r, (x, w)) in gm.iter().zip(wm).enumerate() {
                assert_score(&format!("item {i} mask {m} rank {r}"), x.score as f64, &w["score"]);
                let same = wm.iter().find(|w| w["token"].as_u64() == Some(x.token as u64)).unwrap();
                assert_eq!(x.token_str, same["token_str"].as_str().unwrap());
                // One mask: the sentence as the uncased tokenizer sees it, the guess in its place.
                if positions.len() == 1 && !x.token_str.starts_with("##") {
                    assert_eq!(x.sequence, text.to_lowercase().replace("[mask]", &x.token_str));
                }
            }
        }
    }
    assert_eq!(full_rows, 1, "families.json has the full vocabulary row of one item");
}

#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/golden/families.json + the tiny models (README: Tests)"
)]
fn fill_mask_keeps_the_other_masks_in_the_sequence() {
    let Some(g) = golden("tiny-bert-mlm") else { return };
    let text = "i [MASK] this, it was [MASK].";
    let enc = g.tok.encode(text).unwrap();
    let positions = fill::mask_positions(&enc, &g.tok).unwrap();
    assert_eq!(positions.len(), 2);
    let vocab = 30522;
    let mut rows = vec![0.0f32; 2 * vocab];
    let like = g.tok.token_to_id("like").unwrap() as usize;
    let fun = g.tok.token_to_id("fun").unwrap() as usize;
    rows[like] = 5.0;
    rows[vocab + fun] = 5.0;
    let got = fill::guesses(&enc, &positions, &rows, 3, &g.tok).unwrap();
    assert_eq!(got[0][0].token_str, "like");
    assert_eq!(got[0][0].sequence, "[CLS] i like this, it was [MASK]. [SEP]");
    assert_eq!(got[1][0].sequence, "[CLS] i [MASK] this, it was fun. [SEP]");
    assert!(got[0][1].score < got[0][0].score && (got[0][1].score - got[0][2].score).abs() < 1e-9);
    let err = fill::guesses(&enc, &positions, &rows[..vocab + 1], 3, &g.tok).unwrap_err();
    assert!(matches!(err, TaskError::Logits { .. }), "{err}");
}

//! The tokenizer against transformers' fast tokenizers on every item of families.json: ids, token
//! types and character offsets for single texts (BERT WordPiece, RoBERTa byte-level BPE, ALBERT
//! Unigram), sentence pairs (`longest_first`), question/context pairs (`only_second`) and the
//! overlapping windows of the long question-answering context.

mod common;

use edgebert_engine::tokenizer::{char_span, Encoded, PairTruncation, TextTokenizer, TokenizerSpec};
use serde_json::Value;
use std::path::Path;

fn families() -> Option<Value> {
    let path = common::asset("golden/families.json")?;
    Some(serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap())
}

fn hf_json(dir: &Path, max_len: usize) -> TextTokenizer {
    let bytes = std::fs::read(dir.join("tokenizer.json")).unwrap();
    TextTokenizer::new(&TokenizerSpec::HfJson(bytes), max_len).unwrap()
}

fn u32s(v: &Value) -> Vec<u32> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect()
}

fn offsets(v: &Value) -> Vec<(usize, usize)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_u64().unwrap() as usize, p[1].as_u64().unwrap() as usize))
        .collect()
}

fn encode_item(tok: &TextTokenizer, task: &str, item: &Value) -> Encoded {
    let text = |k: &str| item[k].as_str().unwrap();
    match task {
        "question-answering" => {
            tok.encode_pair(text("question"), text("context"), PairTruncation::OnlySecond)
        }
        "pair-classification" => {
            tok.encode_pair(text("text"), text("text_pair"), PairTruncation::LongestFirst)
        }
        _ => tok.encode(text("text")),
    }
    .unwrap()
}

/// Compares one encoding with a golden one; `len` cuts off the golden padding (windows).
fn assert_matches(what: &str, got: &Encoded, ids: &Value, types: Option<&Value>, offs: &Value, len: usize) {
    assert_eq!(got.ids, u32s(ids)[..len], "{what}: ids");
    let want_types = types.map_or(vec![0; len], |t| u32s(t)[..len].to_vec());
    assert_eq!(got.type_ids, want_types, "{what}: token types");
    assert_eq!(got.offsets, offsets(offs)[..len], "{what}: offsets");
}

#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/golden/families.json + the tiny models (README: Tests)"
)]
fn every_golden_item_tokenizes_as_transformers() {
    let Some(fam) = families() else { return };
    let mut checked = 0;
    for name in common::TINY_MODELS {
        let Some(dir) = common::asset(&format!("models/{name}")) else { return };
        let model = &fam["models"][name];
        let max_len = model["max_length"].as_u64().unwrap() as usize;
        let task = model["task"].as_str().unwrap();
        let tok = hf_json(&dir, max_len);
        for (i, item) in model["items"].as_array().unwrap().iter().enumerate() {
            let got = encode_item(&tok, task, item);
            let len = item["input_ids"].as_array().unwrap().len();
            let truncated = item["truncated"].as_bool().unwrap();
            assert_eq!(truncated, len < item["untruncated_length"].as_u64().unwrap() as usize);
            assert_matches(
                &format!("{name} item {i}"),
                &got,
                &item["input_ids"],
                item.get("token_type_ids"),
                &item["offsets"],
                len,
            );
            // Special tokens are exactly the golden's (0, 0) offsets outside any text.
            for (t, tokstr) in item["tokens"].as_array().unwrap().iter().enumerate() {
                assert_eq!(
                    tok.id_to_token(got.ids[t]).as_deref(),
                    tokstr.as_str(),
                    "{name} item {i} token {t}"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 8 + 8 + 8 + 8 + 10 + 10 + 10);
}

#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/golden/families.json + the tiny models (README: Tests)"
)]
fn vocab_txt_wordpiece_matches_tokenizer_json() {
    let Some(fam) = families() else { return };
    for name in ["tiny-bert-token-cls", "tiny-bert-pair-cls", "tiny-distilbert"] {
        let Some(dir) = common::asset(&format!("models/{name}")) else { return };
        let vocab = std::fs::read_to_string(dir.join("vocab.txt")).unwrap();
        let from_vocab =
            TextTokenizer::new(&TokenizerSpec::WordPiece { vocab, lowercase: true }, 128).unwrap();
        let from_json = hf_json(&dir, 128);
        let model = &fam["models"][name];
        let task = model["task"].as_str().unwrap();
        for item in model["items"].as_array().unwrap() {
            assert_eq!(encode_item(&from_vocab, task, item), encode_item(&from_json, task, item), "{name}");
        }
    }
}

#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/golden/families.json + the tiny models (README: Tests)"
)]
fn long_context_windows_match_the_question_answering_pipeline() {
    let Some(fam) = families() else { return };
    let Some(dir) = common::asset("models/tiny-bert-qa") else { return };
    let model = &fam["models"]["tiny-bert-qa"];
    let params = &model["pipeline_params"];
    let max_len = params["max_seq_len"].as_u64().unwrap() as usize;
    let tok = hf_json(&dir, max_len);
    let long: Vec<&Value> =
        model["items"].as_array().unwrap().iter().filter(|it| it.get("windows").is_some()).collect();
    assert!(!long.is_empty(), "the golden has a long-context item with windows");
    for item in long {
        let w = &item["windows"];
        let stride = w["stride"].as_u64().unwrap() as usize;
        assert_eq!(stride, params["doc_stride"].as_u64().unwrap() as usize);
        let got = tok
            .encode_windows(
                item["question"].as_str().unwrap(),
                item["context"].as_str().unwrap(),
                max_len,
                stride,
            )
            .unwrap();
        let n = w["input_ids"].as_array().unwrap().len();
        assert_eq!(got.len(), n, "window count");
        assert!(n > 1, "the long context needs several windows");
        for (k, window) in got.iter().enumerate() {
            let real = u32s(&w["attention_mask"][k]).iter().filter(|&&m| m == 1).count();
            let what = format!("window {k}");
            assert_matches(
                &what,
                window,
                &w["input_ids"][k],
                Some(&w["token_type_ids"][k]),
                &w["offsets"][k],
                real,
            );
            assert_eq!(
                window.sequence_ids.iter().filter(|s| s.is_none()).count(),
                3,
                "{what}: [CLS] [SEP] [SEP]"
            );
        }
    }
}

#[test]
#[cfg_attr(edgebert_no_assets, ignore = "needs ../shared/assets/models/tiny-bert-qa (README: Tests)")]
fn windows_need_room_for_the_question_and_a_stride_below_the_window() {
    let Some(dir) = common::asset("models/tiny-bert-qa") else { return };
    let tok = hf_json(&dir, 16);
    let context = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen";
    let long_question = "why why why why why why why why why why why why why why why";
    let err = tok.encode_windows(long_question, context, 16, 2).unwrap_err().to_string();
    assert!(err.contains("nothing is left for the second text"), "{err}");
    let err = tok.encode_windows("why?", context, 16, 11).unwrap_err().to_string();
    assert!(err.contains("stride (11 tokens) must be smaller"), "{err}");
    // 16 - 3 specials - 2 question tokens = 11 context tokens per window, 8 new ones each time.
    let windows = tok.encode_windows("why?", context, 100, 3).unwrap();
    assert!(windows.iter().all(|w| w.len() <= 16));
    let starts: Vec<usize> =
        windows.iter().map(|w| w.sequence_ids.iter().position(|s| *s == Some(1)).unwrap()).collect();
    assert!(starts.iter().all(|&s| s == 4), "{starts:?}");
    let first_ctx = |w: &Encoded| w.offsets[4];
    assert_eq!(char_span(context, first_ctx(&windows[0])), Some("one"));
    assert_eq!(char_span(context, first_ctx(&windows[1])), Some("nine"));
}

#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/golden/families.json + the tiny models (README: Tests)"
)]
fn mask_token_decoding_and_char_spans() {
    let Some(fam) = families() else { return };
    for (name, mask) in [("tiny-bert-mlm", "[MASK]"), ("tiny-roberta", "<mask>"), ("tiny-albert", "[MASK]")] {
        let Some(dir) = common::asset(&format!("models/{name}")) else { return };
        let tok = hf_json(&dir, 128);
        let (token, id) = tok.mask_token().expect("a mask token");
        assert_eq!(token, mask);
        assert_eq!(tok.id_to_token(id).as_deref(), Some(mask));
    }
    let Some(dir) = common::asset("models/tiny-bert-mlm") else { return };
    let tok = hf_json(&dir, 128);
    let item = &fam["models"]["tiny-bert-mlm"]["items"][0];
    let enc = tok.encode(item["text"].as_str().unwrap()).unwrap();
    let decoded = tok.decode(&enc.ids, true).unwrap();
    assert_eq!(decoded, "the man went to the to buy some milk.");
    let pieces: Vec<String> = ["mer", "##kel", "met", "."].iter().map(|s| s.to_string()).collect();
    assert_eq!(tok.tokens_to_string(&pieces).unwrap(), "merkel met.");
    assert_eq!(char_span("Zürich 東京", (2, 6)), Some("rich"));
    assert_eq!(char_span("Zürich 東京", (7, 9)), Some("東京"));
    assert_eq!(char_span("Zürich", (3, 9)), None);
}

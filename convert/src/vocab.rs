//! Vocabulary pruning (`edgebert convert --vocab-from CORPUS.txt`): a one-domain model keeps the
//! tokens its corpus uses, every single-character token (and WordPiece's `##` + character, and
//! SentencePiece's `▁` + character) and every special token, so that any text still tokenizes —
//! to smaller pieces where a word's own token was dropped. Ids are renumbered in the original
//! order (so `[PAD]` stays 0 for BERT) consistently in the word-embedding table (which is also
//! the masked-LM decoder), the masked-LM bias, `config.pad_token_id` and the stored tokenizer.
//!
//! Supported tokenizers: WordPiece (`vocab.txt`, or a `tokenizer.json` whose model is
//! `WordPiece`), Unigram (SentencePiece, ALBERT) and BPE (byte-level, RoBERTa) `tokenizer.json`
//! models. Why the corpus texts tokenize identically afterwards:
//! - WordPiece is greedy longest-match-first: every piece it chose for a corpus word is kept and
//!   no longer piece exists, so it chooses the same ones;
//! - Unigram picks the best-scoring segmentation: it is made of kept pieces, and removing
//!   pieces cannot make another segmentation better;
//! - BPE applies, at each step, the lowest-ranked merge among adjacent pairs: every merge it
//!   applied to a corpus word produces a kept token (or a part of one, kept too), so it stays,
//!   in the same relative order, and removed merges were never the lowest.
//!
//! The converter does not rely on the argument alone: after rewriting, it tokenizes the whole
//! corpus again with the new tokenizer and refuses to write the blob unless every text gives the
//! same token strings ([`prune_checkpoint`]).

use crate::eval::read_examples;
use crate::hf::Checkpoint;
use anyhow::{bail, Context, Result};
use edgebert_engine::tokenizer::{TextTokenizer, TokenizerSpec};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

/// The texts of the `--vocab-from` files: one text per line, or `label<TAB>text` rows (the
/// format `edgebert eval --data` reads, so a training TSV serves as is). A missing, unreadable
/// or empty file is an error naming it.
pub fn read_corpus(paths: &[PathBuf]) -> Result<Vec<String>> {
    let mut texts = Vec::new();
    for path in paths {
        let examples = read_examples(path).with_context(|| {
            format!("--vocab-from {}: expected a text file with one text per line", path.display())
        })?;
        texts.extend(examples.into_iter().map(|e| e.text));
    }
    Ok(texts)
}

/// What pruning did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PruneReport {
    /// Tokens kept (the new `config.vocab_size`).
    pub kept: usize,
    /// The original vocabulary size.
    pub original: usize,
    /// Distinct tokens the corpus's tokenization used (special tokens included).
    pub used_by_corpus: usize,
    pub corpus_texts: usize,
    /// The tokenizer family pruned: `wordpiece`, `unigram` or `bpe`.
    pub family: &'static str,
    /// Bytes of the stored tokenizer, before and after.
    pub tokenizer_bytes: (usize, usize),
}

/// Prunes `ckpt`'s vocabulary to what `texts` need (see the module documentation), rewriting its
/// word table, masked-LM bias, pad id and tokenizer in place, then checks that every text of the
/// corpus still tokenizes to the same token strings.
pub fn prune_checkpoint(ckpt: &mut Checkpoint, texts: &[String]) -> Result<PruneReport> {
    if texts.is_empty() {
        bail!("--vocab-from: the corpus has no texts");
    }
    let original = ckpt.model.config.vocab_size;
    let old_tok = TextTokenizer::new(&ckpt.tokenizer, usize::MAX).context("building the tokenizer")?;
    let tokenizer = StoredTokenizer::parse(&ckpt.tokenizer)?;
    let tokens = tokenizer.tokens(original)?;

    // What the corpus uses, and what has to stay so that any text tokenizes.
    let mut corpus_tokens: Vec<Vec<u32>> = Vec::with_capacity(texts.len());
    let mut used = HashSet::new();
    for (i, text) in texts.iter().enumerate() {
        let e = old_tok.encode(text).with_context(|| format!("--vocab-from: text {}", i + 1))?;
        if let Some(&id) = e.ids.iter().find(|&&id| id as usize >= original) {
            bail!("the tokenizer gives id {id}, outside the model's vocabulary of {original}");
        }
        used.extend(e.ids.iter().copied());
        corpus_tokens.push(e.ids);
    }
    let used_by_corpus = used.len();
    let mut keep: Vec<bool> = (0..original).map(|id| used.contains(&(id as u32))).collect();
    for (id, token) in tokens.iter().enumerate() {
        if let Some(t) = token {
            keep[id] |= tokenizer.is_building_block(t);
        }
    }
    for id in tokenizer.special_ids().into_iter().chain([ckpt.model.config.pad_token_id]) {
        if let Some(k) = keep.get_mut(id as usize) {
            *k = true;
        }
    }
    tokenizer.close_over_parts(&tokens, &mut keep);

    // Old id -> new id, in the original order.
    let mut remap: Vec<Option<u32>> = vec![None; original];
    let mut kept_ids = Vec::new();
    for id in (0..original).filter(|&id| keep[id]) {
        remap[id] = Some(kept_ids.len() as u32);
        kept_ids.push(id);
    }
    let before = ckpt.tokenizer_bytes();
    ckpt.tokenizer = tokenizer.rewrite(&tokens, &remap)?;
    remap_weights(ckpt, &kept_ids, &remap)?;

    // The promise, checked: the corpus tokenizes to the same strings with the new tokenizer.
    let new_tok = TextTokenizer::new(&ckpt.tokenizer, usize::MAX)
        .context("the pruned tokenizer does not build (converter bug)")?;
    for (i, (text, old_ids)) in texts.iter().zip(&corpus_tokens).enumerate() {
        let new_ids = new_tok.encode(text)?.ids;
        let same = new_ids.len() == old_ids.len()
            && new_ids.iter().zip(old_ids).all(|(&n, &o)| remap[o as usize] == Some(n));
        if !same {
            bail!(
                "vocabulary pruning changed the tokenization of corpus text {} ({text:?}): \
                 this is a converter bug, please report it (convert without --vocab-from meanwhile)",
                i + 1
            );
        }
    }
    Ok(PruneReport {
        kept: kept_ids.len(),
        original,
        used_by_corpus,
        corpus_texts: texts.len(),
        family: tokenizer.family(),
        tokenizer_bytes: (before, ckpt.tokenizer_bytes()),
    })
}

impl Checkpoint {
    fn tokenizer_bytes(&self) -> usize {
        match &self.tokenizer {
            TokenizerSpec::HfJson(b) => b.len(),
            TokenizerSpec::WordPiece { vocab, .. } => vocab.len(),
        }
    }
}

/// Gathers the kept rows of every vocabulary-indexed tensor and renumbers the pad id.
fn remap_weights(ckpt: &mut Checkpoint, kept: &[usize], remap: &[Option<u32>]) -> Result<()> {
    let config = &mut ckpt.model.config;
    let weights = &mut ckpt.model.weights;
    let e = config.embedding_size;
    let word = &weights.embeddings.word;
    if word.len() != config.vocab_size * e {
        bail!("the word table holds {} values, not {} x {e}", word.len(), config.vocab_size);
    }
    weights.embeddings.word = kept.iter().flat_map(|&id| &word[id * e..(id + 1) * e]).copied().collect();
    if let Some(mlm) = weights.mlm.as_mut() {
        mlm.bias = kept.iter().map(|&id| mlm.bias[id]).collect();
    }
    config.pad_token_id = remap
        .get(config.pad_token_id as usize)
        .copied()
        .flatten()
        .context("the pad token was not kept (converter bug)")?;
    config.vocab_size = kept.len();
    Ok(())
}

/// The tokenizer being pruned, parsed.
enum StoredTokenizer {
    /// `vocab.txt` lines, id = line number.
    VocabTxt { lines: Vec<String>, lowercase: bool },
    /// A `tokenizer.json` with a WordPiece, Unigram or BPE model.
    Json { json: Value, kind: JsonModel },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum JsonModel {
    WordPiece,
    Unigram,
    Bpe,
}

impl StoredTokenizer {
    fn parse(spec: &TokenizerSpec) -> Result<StoredTokenizer> {
        match spec {
            TokenizerSpec::WordPiece { vocab, lowercase } => Ok(StoredTokenizer::VocabTxt {
                lines: vocab.lines().map(str::to_string).collect(),
                lowercase: *lowercase,
            }),
            TokenizerSpec::HfJson(bytes) => {
                let json: Value = serde_json::from_slice(bytes).context("tokenizer.json: invalid JSON")?;
                let kind = match json.pointer("/model/type").and_then(Value::as_str) {
                    Some("WordPiece") => JsonModel::WordPiece,
                    Some("Unigram") => JsonModel::Unigram,
                    Some("BPE") => JsonModel::Bpe,
                    Some(other) => bail!(
                        "--vocab-from: cannot prune a `{other}` tokenizer (supported: WordPiece, \
                         Unigram, BPE); convert without --vocab-from"
                    ),
                    None => bail!("tokenizer.json: no `model.type`"),
                };
                Ok(StoredTokenizer::Json { json, kind })
            }
        }
    }

    fn family(&self) -> &'static str {
        match self {
            StoredTokenizer::VocabTxt { .. } | StoredTokenizer::Json { kind: JsonModel::WordPiece, .. } => {
                "wordpiece"
            }
            StoredTokenizer::Json { kind: JsonModel::Unigram, .. } => "unigram",
            StoredTokenizer::Json { kind: JsonModel::Bpe, .. } => "bpe",
        }
    }

    /// The token of every id below `vocab_size` (`None` for an id the tokenizer does not have).
    /// Ids at or above `vocab_size` are refused: the model has no row for them.
    fn tokens(&self, vocab_size: usize) -> Result<Vec<Option<String>>> {
        let mut out = vec![None; vocab_size];
        let mut put = |id: usize, token: &str| -> Result<()> {
            let Some(slot) = out.get_mut(id) else {
                bail!(
                    "tokenizer token `{token}` has id {id}, outside the model's vocabulary of {vocab_size}"
                );
            };
            *slot = Some(token.to_string());
            Ok(())
        };
        match self {
            StoredTokenizer::VocabTxt { lines, .. } => {
                for (id, line) in lines.iter().enumerate() {
                    put(id, line.trim_end())?;
                }
            }
            StoredTokenizer::Json { json, kind } => {
                match kind {
                    JsonModel::WordPiece | JsonModel::Bpe => {
                        for (token, id) in vocab_object(json)? {
                            put(json_id(id)?, token)?;
                        }
                    }
                    JsonModel::Unigram => {
                        for (id, piece) in unigram_vocab(json)?.iter().enumerate() {
                            put(id, piece_text(piece)?)?;
                        }
                    }
                }
                for (content, id) in added_tokens(json)? {
                    put(id, &content)?;
                }
            }
        }
        Ok(out)
    }

    /// Tokens every text may need: single characters, and the family's continuation or
    /// word-start marker plus one character.
    fn is_building_block(&self, token: &str) -> bool {
        let rest = match self.family() {
            "wordpiece" => token.strip_prefix("##").unwrap_or(token),
            "unigram" => token.strip_prefix('▁').filter(|r| !r.is_empty()).unwrap_or(token),
            _ => token,
        };
        rest.chars().count() == 1
    }

    /// Ids of the special tokens the tokenizer declares (added tokens, the post-processor's,
    /// the unknown token).
    fn special_ids(&self) -> Vec<u32> {
        match self {
            StoredTokenizer::VocabTxt { lines, .. } => lines
                .iter()
                .enumerate()
                .filter(|(_, l)| {
                    let t = l.trim_end();
                    t.starts_with('[') && t.ends_with(']') && !t.starts_with("[unused") && t.len() > 2
                })
                .map(|(i, _)| i as u32)
                .collect(),
            StoredTokenizer::Json { json, kind } => {
                let mut ids: Vec<u32> =
                    added_tokens(json).unwrap_or_default().into_iter().map(|(_, id)| id as u32).collect();
                if let Some(p) = json.get("post_processor") {
                    visit_processor_ids(&mut p.clone(), &mut |id| {
                        ids.push(id);
                        Some(id)
                    });
                }
                let model = &json["model"];
                if *kind == JsonModel::Unigram {
                    ids.extend(model.get("unk_id").and_then(Value::as_u64).map(|i| i as u32));
                } else if let Some(unk) = model.get("unk_token").and_then(Value::as_str) {
                    if let Ok(vocab) = vocab_object(json) {
                        ids.extend(vocab.get(unk).and_then(Value::as_u64).map(|i| i as u32));
                    }
                }
                ids
            }
        }
    }

    /// BPE: the two parts of every kept token that a merge builds are kept too (recursively),
    /// so that every merge leading to a kept token still applies.
    fn close_over_parts(&self, tokens: &[Option<String>], keep: &mut [bool]) {
        let StoredTokenizer::Json { json, kind: JsonModel::Bpe } = self else { return };
        let id_of: HashMap<&str, usize> =
            tokens.iter().enumerate().filter_map(|(i, t)| Some((t.as_deref()?, i))).collect();
        let mut parts_of: HashMap<String, (String, String)> = HashMap::new();
        for (a, b) in bpe_merges(json).unwrap_or_default() {
            parts_of.entry(format!("{a}{b}")).or_insert((a, b));
        }
        let mut stack: Vec<usize> = (0..keep.len()).filter(|&i| keep[i]).collect();
        while let Some(id) = stack.pop() {
            let Some((a, b)) = tokens[id].as_deref().and_then(|t| parts_of.get(t)) else { continue };
            for part in [a, b] {
                if let Some(&p) = id_of.get(part.as_str()) {
                    if !keep[p] {
                        keep[p] = true;
                        stack.push(p);
                    }
                }
            }
        }
    }

    /// The tokenizer with only the kept tokens, renumbered by `remap`.
    fn rewrite(&self, tokens: &[Option<String>], remap: &[Option<u32>]) -> Result<TokenizerSpec> {
        let new_id = |id: usize| remap.get(id).copied().flatten();
        match self {
            StoredTokenizer::VocabTxt { lines, lowercase } => {
                let mut vocab = String::new();
                for (id, line) in lines.iter().enumerate() {
                    if new_id(id).is_some() {
                        vocab.push_str(line);
                        vocab.push('\n');
                    }
                }
                Ok(TokenizerSpec::WordPiece { vocab, lowercase: *lowercase })
            }
            StoredTokenizer::Json { json, kind } => {
                let mut json = json.clone();
                let model = json.get_mut("model").context("tokenizer.json: no `model`")?;
                match kind {
                    JsonModel::WordPiece | JsonModel::Bpe => {
                        let mut vocab = Map::new();
                        for (id, token) in tokens.iter().enumerate() {
                            if let (Some(t), Some(n)) = (token, new_id(id)) {
                                vocab.insert(t.clone(), Value::from(n));
                            }
                        }
                        // Added tokens that the model's own vocabulary does not list stay out of it.
                        let listed: HashSet<String> = vocab_object_of(model)?.keys().cloned().collect();
                        vocab.retain(|t, _| listed.contains(t));
                        model["vocab"] = Value::Object(vocab);
                        if *kind == JsonModel::Bpe {
                            let kept: HashSet<&str> = tokens
                                .iter()
                                .enumerate()
                                .filter(|(i, _)| new_id(*i).is_some())
                                .filter_map(|(_, t)| t.as_deref())
                                .collect();
                            let merges =
                                model.get_mut("merges").context("tokenizer.json: no BPE `merges`")?;
                            let Value::Array(list) = merges else {
                                bail!("tokenizer.json: `merges` is not a list")
                            };
                            let mut kept_merges = Vec::new();
                            for m in list.iter() {
                                let (a, b) = merge_parts(m)?;
                                if kept.contains(a.as_str())
                                    && kept.contains(b.as_str())
                                    && kept.contains(format!("{a}{b}").as_str())
                                {
                                    kept_merges.push(m.clone());
                                }
                            }
                            *list = kept_merges;
                        }
                    }
                    JsonModel::Unigram => {
                        let pieces = unigram_vocab_of(model)?;
                        let kept: Vec<Value> = pieces
                            .iter()
                            .enumerate()
                            .filter(|(i, _)| new_id(*i).is_some())
                            .map(|(_, p)| p.clone())
                            .collect();
                        model["vocab"] = Value::Array(kept);
                        if let Some(unk) = model.get("unk_id").and_then(Value::as_u64) {
                            model["unk_id"] = Value::from(new_id(unk as usize).context("unk id not kept")?);
                        }
                    }
                }
                if let Some(Value::Array(added)) = json.get_mut("added_tokens") {
                    for t in added {
                        let id = json_id(&t["id"])?;
                        t["id"] = Value::from(new_id(id).context("an added token was not kept")?);
                    }
                }
                if let Some(p) = json.get_mut("post_processor") {
                    let mut missing = false;
                    visit_processor_ids(p, &mut |id| {
                        let n = new_id(id as usize);
                        missing |= n.is_none();
                        n
                    });
                    if missing {
                        bail!("a post-processor token was not kept (converter bug)");
                    }
                }
                if let Some(pad) = json.get_mut("padding").and_then(|p| p.get_mut("pad_id")) {
                    if let Some(n) = pad.as_u64().and_then(|id| new_id(id as usize)) {
                        *pad = Value::from(n);
                    }
                }
                Ok(TokenizerSpec::HfJson(serde_json::to_vec(&json)?))
            }
        }
    }
}

fn json_id(v: &Value) -> Result<usize> {
    v.as_u64().map(|i| i as usize).with_context(|| format!("tokenizer.json: id {v} is not a number"))
}

fn vocab_object(json: &Value) -> Result<&Map<String, Value>> {
    vocab_object_of(json.get("model").context("tokenizer.json: no `model`")?)
}

fn vocab_object_of(model: &Value) -> Result<&Map<String, Value>> {
    model
        .get("vocab")
        .and_then(Value::as_object)
        .context("tokenizer.json: `model.vocab` is not a token -> id map")
}

fn unigram_vocab(json: &Value) -> Result<&Vec<Value>> {
    unigram_vocab_of(json.get("model").context("tokenizer.json: no `model`")?)
}

fn unigram_vocab_of(model: &Value) -> Result<&Vec<Value>> {
    model
        .get("vocab")
        .and_then(Value::as_array)
        .context("tokenizer.json: Unigram `model.vocab` is not a list")
}

fn piece_text(piece: &Value) -> Result<&str> {
    piece.get(0).and_then(Value::as_str).context("tokenizer.json: a Unigram piece is not [text, score]")
}

fn added_tokens(json: &Value) -> Result<Vec<(String, usize)>> {
    let Some(list) = json.get("added_tokens").and_then(Value::as_array) else { return Ok(Vec::new()) };
    list.iter()
        .map(|t| {
            let content = t
                .get("content")
                .and_then(Value::as_str)
                .context("tokenizer.json: added token without content")?;
            Ok((content.to_string(), json_id(&t["id"])?))
        })
        .collect()
}

/// A BPE merge, as `"a b"` (older files) or `["a", "b"]`.
fn merge_parts(m: &Value) -> Result<(String, String)> {
    match m {
        Value::String(s) => {
            let (a, b) =
                s.split_once(' ').with_context(|| format!("tokenizer.json: merge `{s}` is not `a b`"))?;
            Ok((a.to_string(), b.to_string()))
        }
        Value::Array(pair) if pair.len() == 2 => match (pair[0].as_str(), pair[1].as_str()) {
            (Some(a), Some(b)) => Ok((a.to_string(), b.to_string())),
            _ => bail!("tokenizer.json: merge {m} is not two strings"),
        },
        _ => bail!("tokenizer.json: merge {m} is neither `a b` nor [a, b]"),
    }
}

fn bpe_merges(json: &Value) -> Result<Vec<(String, String)>> {
    let list =
        json.pointer("/model/merges").and_then(Value::as_array).context("tokenizer.json: no BPE merges")?;
    list.iter().map(merge_parts).collect()
}

/// Calls `f` on every token id a post-processor holds (TemplateProcessing's `special_tokens`,
/// Bert/RobertaProcessing's `sep` and `cls`, the members of a `Sequence`) and stores what it
/// returns in its place.
fn visit_processor_ids(p: &mut Value, f: &mut dyn FnMut(u32) -> Option<u32>) {
    let mut set = |v: &mut Value| {
        if let Some(n) = v.as_u64().and_then(|id| f(id as u32)) {
            *v = Value::from(n);
        }
    };
    if let Some(Value::Object(specials)) = p.get_mut("special_tokens") {
        for s in specials.values_mut() {
            if let Some(Value::Array(ids)) = s.get_mut("ids") {
                ids.iter_mut().for_each(&mut set);
            }
        }
    }
    for key in ["sep", "cls"] {
        if let Some(v) = p.get_mut(key).and_then(|pair| pair.get_mut(1)) {
            set(v);
        }
    }
    if let Some(Value::Array(list)) = p.get_mut("processors") {
        for q in list {
            visit_processor_ids(q, f);
        }
    }
}

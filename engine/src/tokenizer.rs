//! Text to token ids, with the truncation rules every edgebert path shares: one text, a pair of
//! texts, and the overlapping windows question answering needs over a long context.
//!
//! The tokenizer travels inside the blob as a [`TokenizerSpec`]: either the bytes of a Hugging
//! Face `tokenizer.json`, or a WordPiece vocabulary with its lower-casing option (checkpoints that
//! ship only `vocab.txt`). Padding and truncation settings stored inside a `tokenizer.json` are
//! ignored on purpose: all-MiniLM-L6-v2's file pads every input to 128, which would change mean
//! pooling. edgebert truncates by its own rule, [`truncate_keeping_specials`].

/// How to rebuild a checkpoint's tokenizer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenizerSpec {
    /// The bytes of a Hugging Face `tokenizer.json`.
    HfJson(Vec<u8>),
    /// A BERT WordPiece vocabulary (`vocab.txt`: one token per line, id = line number).
    WordPiece { vocab: String, lowercase: bool },
}

/// How a pair of texts is cut to the maximum length; the names are transformers' `truncation=`
/// values. Sentence-pair classifiers use `LongestFirst`, question answering `OnlySecond` (the
/// context is cut, never the question).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairTruncation {
    /// Cut the longer text one token at a time until the pair fits (both halves when both are long).
    LongestFirst,
    /// Cut only the second text; a first text that does not fit is an error.
    OnlySecond,
}

/// Cuts `ids` to at most `max_len` tokens, keeping the first token (`[CLS]`) and the last
/// (`[SEP]`): the result is `ids[..max_len - 1]` followed by the final id, which is what
/// transformers' truncation gives for a single sequence.
pub fn truncate_keeping_specials<T: Copy>(ids: &mut Vec<T>, max_len: usize) {
    if ids.len() <= max_len || max_len < 2 {
        ids.truncate(max_len.max(ids.len().min(max_len)));
        return;
    }
    let last = ids[ids.len() - 1];
    ids.truncate(max_len - 1);
    ids.push(last);
}

#[cfg(feature = "tokenizer")]
mod text {
    use super::{truncate_keeping_specials, PairTruncation, TokenizerSpec};
    use std::collections::HashMap;
    use tokenizers::decoders::wordpiece::WordPiece as WordPieceDecoder;
    use tokenizers::models::wordpiece::WordPiece;
    use tokenizers::normalizers::BertNormalizer;
    use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
    use tokenizers::processors::bert::BertProcessing;
    use tokenizers::{AddedToken, Decoder, Encoding, Tokenizer};

    /// Why a tokenizer could not be built or could not encode a text.
    #[derive(Debug, thiserror::Error)]
    pub enum TokenizerError {
        #[error("tokenizer: {0}")]
        Build(String),
        #[error("tokenizer: the vocabulary has no `{token}` token")]
        MissingSpecial { token: &'static str },
        #[error("tokenizer: cannot encode text: {0}")]
        Encode(String),
        #[error("tokenizer: cannot decode ids: {0}")]
        Decode(String),
        #[error(
            "tokenizer: the first text takes {first} tokens and the special tokens {specials} of the \
             {max_len} allowed: nothing is left for the second text"
        )]
        FirstTooLong { first: usize, specials: usize, max_len: usize },
        #[error("tokenizer: the stride ({stride} tokens) must be smaller than the {window} tokens of the second text that fit in one window")]
        StrideTooLarge { stride: usize, window: usize },
        #[error("tokenizer: the template produced tokens of sequence {sequence} out of order")]
        Template { sequence: u8 },
    }

    /// One encoded input (a text or a pair of texts) with its special tokens, already truncated.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Encoded {
        pub ids: Vec<u32>,
        pub type_ids: Vec<u32>,
        /// Character offsets (counted in `char`s, as Python counts them) of each token in the text it
        /// came from, the first or the second of a pair (see `sequence_ids`); `(0, 0)` for special
        /// tokens. [`char_span`] turns one into a `&str`.
        pub offsets: Vec<(usize, usize)>,
        /// Which text each token came from: `Some(0)` the first, `Some(1)` the second, `None` a
        /// special token the template added (`[CLS]`, `[SEP]`, `<s>` …).
        pub sequence_ids: Vec<Option<u8>>,
        /// The pre-tokenizer word each token belongs to, counted within its text (`None` for
        /// special tokens): sub-word pieces of one word share it.
        pub word_ids: Vec<Option<u32>>,
    }

    impl Encoded {
        pub fn len(&self) -> usize {
            self.ids.len()
        }

        pub fn is_empty(&self) -> bool {
            self.ids.is_empty()
        }

        /// The model's input: ids and token types.
        pub fn sequence(&self) -> edgebert_models::Sequence {
            edgebert_models::Sequence { ids: self.ids.clone(), type_ids: self.type_ids.clone() }
        }

        /// The tokens at `keep` (ascending indices), every per-token column alike.
        pub(crate) fn select(&self, keep: &[usize]) -> Encoded {
            Encoded {
                ids: keep.iter().map(|&i| self.ids[i]).collect(),
                type_ids: keep.iter().map(|&i| self.type_ids[i]).collect(),
                offsets: keep.iter().map(|&i| self.offsets[i]).collect(),
                sequence_ids: keep.iter().map(|&i| self.sequence_ids[i]).collect(),
                word_ids: keep.iter().map(|&i| self.word_ids[i]).collect(),
            }
        }
    }

    /// The part of `text` between two character offsets, or `None` when they do not fall inside it.
    pub fn char_span(text: &str, (start, end): (usize, usize)) -> Option<&str> {
        let byte = |c: usize| text.char_indices().map(|(b, _)| b).chain([text.len()]).nth(c);
        let (s, e) = (byte(start)?, byte(end)?);
        text.get(s..e)
    }

    /// A ready-to-use tokenizer with edgebert's truncation rule.
    pub struct TextTokenizer {
        inner: Tokenizer,
        max_len: usize,
    }

    const BERT_SPECIALS: [&str; 5] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
    // The special tokens of the supported families: BERT and ALBERT spelling, then RoBERTa's.
    const MASK_TOKENS: [&str; 2] = ["[MASK]", "<mask>"];
    const UNK_TOKENS: [&str; 2] = ["[UNK]", "<unk>"];
    const PAD_TOKENS: [&str; 2] = ["[PAD]", "<pad>"];

    impl TextTokenizer {
        /// Builds the tokenizer; `max_len` is the longest id sequence it will return (≥ 2).
        pub fn new(spec: &TokenizerSpec, max_len: usize) -> Result<TextTokenizer, TokenizerError> {
            let mut inner = match spec {
                TokenizerSpec::HfJson(bytes) => {
                    Tokenizer::from_bytes(bytes).map_err(|e| TokenizerError::Build(e.to_string()))?
                }
                TokenizerSpec::WordPiece { vocab, lowercase } => wordpiece(vocab, *lowercase)?,
            };
            inner.with_padding(None);
            inner.with_truncation(None).map_err(|e| TokenizerError::Build(e.to_string()))?;
            Ok(TextTokenizer { inner, max_len: max_len.max(2) })
        }

        /// The longest sequence [`encode`](Self::encode) returns.
        pub fn max_len(&self) -> usize {
            self.max_len
        }

        /// `[CLS] text [SEP]`, truncated to `max_len` keeping both special tokens. The empty
        /// string gives `[CLS] [SEP]`.
        pub fn encode(&self, text: &str) -> Result<Encoded, TokenizerError> {
            Ok(self.encode_counting_dropped(text)?.0)
        }

        /// [`encode`](Self::encode), with the number of tokens truncation dropped (0 when the
        /// text fits), so callers can tell the user how much of a long text was not read.
        pub fn encode_counting_dropped(&self, text: &str) -> Result<(Encoded, usize), TokenizerError> {
            let mut e = self.encode_untruncated((text, None))?;
            let full = e.len();
            truncate_keeping_specials(&mut e.ids, self.max_len);
            truncate_keeping_specials(&mut e.type_ids, self.max_len);
            truncate_keeping_specials(&mut e.offsets, self.max_len);
            truncate_keeping_specials(&mut e.sequence_ids, self.max_len);
            truncate_keeping_specials(&mut e.word_ids, self.max_len);
            let dropped = full - e.len();
            Ok((e, dropped))
        }

        /// `[CLS] a [SEP] b [SEP]` (or the family's pair template), token types 0 then 1, cut to
        /// `max_len` by `strategy` as transformers' tokenizer does. An empty `b` counts as no
        /// second text, as in transformers: the result is [`encode`](Self::encode)`(a)`.
        pub fn encode_pair(
            &self,
            a: &str,
            b: &str,
            strategy: PairTruncation,
        ) -> Result<Encoded, TokenizerError> {
            if b.is_empty() {
                return self.encode(a);
            }
            if strategy == PairTruncation::OnlySecond {
                let mut windows = self.encode_windows(a, b, self.max_len, 0)?;
                windows.truncate(1);
                return windows.pop().ok_or(TokenizerError::Template { sequence: 1 });
            }
            let full = self.encode_untruncated((a, Some(b)))?;
            let layout = Layout::of(&full)?;
            let (keep_a, keep_b) = longest_first(layout.a, layout.b, layout.budget(self.max_len)?);
            Ok(full.select(&layout.indices(&full, keep_a, 0..keep_b)))
        }

        /// The question-answering windows over a long second text: each is `[CLS] a [SEP] part of b
        /// [SEP]` within `max_len` tokens (at most the tokenizer's own), consecutive parts sharing
        /// `stride` tokens of `b` (transformers' `truncation="only_second"` with
        /// `return_overflowing_tokens`). A `b` that fits gives one window.
        pub fn encode_windows(
            &self,
            a: &str,
            b: &str,
            max_len: usize,
            stride: usize,
        ) -> Result<Vec<Encoded>, TokenizerError> {
            let max_len = max_len.min(self.max_len);
            let full = self.encode_untruncated((a, Some(b)))?;
            let layout = Layout::of(&full)?;
            let budget = layout.budget(max_len)?;
            if layout.a + layout.b <= budget {
                return Ok(vec![full]);
            }
            if layout.a >= budget {
                return Err(layout.first_too_long(max_len));
            }
            let window = budget - layout.a;
            if stride >= window {
                return Err(TokenizerError::StrideTooLarge { stride, window });
            }
            let mut windows = Vec::new();
            let mut start = 0;
            loop {
                let stop = (start + window).min(layout.b);
                windows.push(full.select(&layout.indices(&full, layout.a, start..stop)));
                if stop == layout.b {
                    return Ok(windows);
                }
                start += window - stride;
            }
        }

        /// The id of a vocabulary token, if present.
        pub fn token_to_id(&self, token: &str) -> Option<u32> {
            self.inner.token_to_id(token)
        }

        /// The vocabulary token of an id (`##ing`, `Ġmovie`, `▁the` …), if the id exists.
        pub fn id_to_token(&self, id: u32) -> Option<String> {
            self.inner.id_to_token(id)
        }

        /// The mask token (`[MASK]` or `<mask>`) and its id, if the vocabulary has one.
        pub fn mask_token(&self) -> Option<(&'static str, u32)> {
            self.first_known(&MASK_TOKENS)
        }

        /// The unknown-token (`[UNK]` or `<unk>`) and its id, if the vocabulary has one.
        pub fn unk_token(&self) -> Option<(&'static str, u32)> {
            self.first_known(&UNK_TOKENS)
        }

        /// The padding token (`[PAD]` or `<pad>`) and its id, if the vocabulary has one.
        pub fn pad_token(&self) -> Option<(&'static str, u32)> {
            self.first_known(&PAD_TOKENS)
        }

        fn first_known(&self, names: &[&'static str]) -> Option<(&'static str, u32)> {
            names.iter().find_map(|&t| Some((t, self.inner.token_to_id(t)?)))
        }

        /// Text of `ids` through the tokenizer's decoder (`skip_special` drops `[CLS]`, `[SEP]` …),
        /// as transformers' `tokenizer.decode` without clean-up.
        pub fn decode(&self, ids: &[u32], skip_special: bool) -> Result<String, TokenizerError> {
            self.inner.decode(ids, skip_special).map_err(|e| TokenizerError::Decode(e.to_string()))
        }

        /// Token strings joined by the decoder (WordPiece glues `##` pieces to the token before
        /// them), as transformers' `convert_tokens_to_string`; without a decoder, joined by spaces.
        pub fn tokens_to_string(&self, tokens: &[String]) -> Result<String, TokenizerError> {
            match self.inner.get_decoder() {
                Some(d) => d.decode(tokens.to_vec()).map_err(|e| TokenizerError::Decode(e.to_string())),
                None => Ok(tokens.join(" ")),
            }
        }

        pub(crate) fn encode_untruncated(
            &self,
            (a, b): (&str, Option<&str>),
        ) -> Result<Encoded, TokenizerError> {
            let enc = match b {
                None => self.inner.encode_char_offsets(a, true),
                Some(b) => self.inner.encode_char_offsets((a, b), true),
            }
            .map_err(|e| TokenizerError::Encode(e.to_string()))?;
            Ok(columns(&enc))
        }
    }

    fn columns(enc: &Encoding) -> Encoded {
        Encoded {
            ids: enc.get_ids().to_vec(),
            type_ids: enc.get_type_ids().to_vec(),
            offsets: enc.get_offsets().to_vec(),
            sequence_ids: enc.get_sequence_ids().iter().map(|s| s.map(|s| s.min(1) as u8)).collect(),
            word_ids: enc.get_word_ids().to_vec(),
        }
    }

    /// Token counts of an untruncated pair: `a` and `b` content tokens, the rest special.
    struct Layout {
        a: usize,
        b: usize,
        specials: usize,
    }

    impl Layout {
        fn of(full: &Encoded) -> Result<Layout, TokenizerError> {
            let count = |s: u8| full.sequence_ids.iter().filter(|&&x| x == Some(s)).count();
            // Each text's tokens must be contiguous and `a` before `b` for cutting to be a prefix.
            let mut last = 0u8;
            for s in full.sequence_ids.iter().flatten() {
                if *s < last {
                    return Err(TokenizerError::Template { sequence: *s });
                }
                last = *s;
            }
            let (a, b) = (count(0), count(1));
            Ok(Layout { a, b, specials: full.len() - a - b })
        }

        /// Content tokens allowed once the template's specials are counted.
        fn budget(&self, max_len: usize) -> Result<usize, TokenizerError> {
            max_len.checked_sub(self.specials).ok_or(self.first_too_long(max_len))
        }

        fn first_too_long(&self, max_len: usize) -> TokenizerError {
            TokenizerError::FirstTooLong { first: self.a, specials: self.specials, max_len }
        }

        /// Indices into the untruncated pair keeping every special token, the first `keep_a`
        /// tokens of `a`, and the tokens `b_range` of `b`.
        fn indices(&self, full: &Encoded, keep_a: usize, b_range: std::ops::Range<usize>) -> Vec<usize> {
            let (mut seen_a, mut seen_b) = (0, 0);
            let mut keep = Vec::with_capacity(full.len());
            for (i, s) in full.sequence_ids.iter().enumerate() {
                let kept = match s {
                    None => true,
                    Some(0) => {
                        seen_a += 1;
                        seen_a <= keep_a
                    }
                    Some(_) => {
                        seen_b += 1;
                        b_range.contains(&(seen_b - 1))
                    }
                };
                if kept {
                    keep.push(i);
                }
            }
            keep
        }
    }

    /// Lengths `tokenizers`' `longest_first` keeps of `n1` and `n2` tokens within `budget`: the
    /// longer text is cut first; when both must be cut each gets half.
    fn longest_first(n1: usize, n2: usize, budget: usize) -> (usize, usize) {
        if n1 + n2 <= budget {
            return (n1, n2);
        }
        let short = n1.min(n2);
        let mut s = short;
        let mut l = if short > budget { short } else { short.max(budget - short) };
        if s + l > budget {
            s = budget / 2;
            l = s + budget % 2;
        }
        let (k1, k2) = if n1 > n2 { (l, s) } else { (s, l) };
        (k1.min(n1), k2.min(n2))
    }

    fn build_error(e: tokenizers::Error) -> TokenizerError {
        TokenizerError::Build(e.to_string())
    }

    /// The BERT uncased/cased pipeline that `BertTokenizer` applies to a `vocab.txt`.
    fn wordpiece(vocab_text: &str, lowercase: bool) -> Result<Tokenizer, TokenizerError> {
        let vocab: HashMap<&str, u32> =
            vocab_text.lines().enumerate().map(|(i, tok)| (tok.trim_end(), i as u32)).collect();
        let id_of =
            |token: &'static str| vocab.get(token).copied().ok_or(TokenizerError::MissingSpecial { token });
        let (cls, sep) = (id_of("[CLS]")?, id_of("[SEP]")?);
        id_of("[UNK]")?;
        let model = WordPiece::builder()
            .vocab(
                WordPiece::read_bytes(vocab_text.as_bytes())
                    .map_err(|e| TokenizerError::Build(e.to_string()))?,
            )
            .unk_token("[UNK]".into())
            .continuing_subword_prefix("##".into())
            .max_input_chars_per_word(100)
            .build()
            .map_err(|e| TokenizerError::Build(e.to_string()))?;
        let mut tk = Tokenizer::new(model);
        tk.with_normalizer(Some(BertNormalizer::new(true, true, None, lowercase))).map_err(build_error)?;
        tk.with_pre_tokenizer(Some(BertPreTokenizer));
        tk.with_post_processor(Some(BertProcessing::new(("[SEP]".into(), sep), ("[CLS]".into(), cls))));
        tk.with_decoder(Some(WordPieceDecoder::new("##".into(), true)));
        let specials: Vec<AddedToken> = BERT_SPECIALS
            .iter()
            .filter(|t| vocab.contains_key(**t))
            .map(|t| AddedToken::from(*t, true))
            .collect();
        tk.add_special_tokens(specials).map_err(build_error)?;
        Ok(tk)
    }
}

#[cfg(feature = "tokenizer")]
pub use text::{char_span, Encoded, TextTokenizer, TokenizerError};

#[cfg(test)]
mod tests {
    use super::truncate_keeping_specials;

    #[test]
    fn truncation_keeps_first_and_last() {
        let mut ids = vec![101, 1, 2, 3, 4, 102];
        truncate_keeping_specials(&mut ids, 4);
        assert_eq!(ids, vec![101, 1, 2, 102]);
        let mut short = vec![101, 102];
        truncate_keeping_specials(&mut short, 4);
        assert_eq!(short, vec![101, 102]);
    }
}

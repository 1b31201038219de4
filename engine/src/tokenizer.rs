//! Text to token ids, with the truncation rule every edgebert path shares.
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
    use super::{truncate_keeping_specials, TokenizerSpec};
    use std::collections::HashMap;
    use tokenizers::models::wordpiece::WordPiece;
    use tokenizers::normalizers::BertNormalizer;
    use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
    use tokenizers::processors::bert::BertProcessing;
    use tokenizers::{AddedToken, Tokenizer};

    /// Why a tokenizer could not be built or could not encode a text.
    #[derive(Debug, thiserror::Error)]
    pub enum TokenizerError {
        #[error("tokenizer: {0}")]
        Build(String),
        #[error("tokenizer: the vocabulary has no `{token}` token")]
        MissingSpecial { token: &'static str },
        #[error("tokenizer: cannot encode text: {0}")]
        Encode(String),
    }

    /// Token ids of one text, `[CLS] … [SEP]`, already truncated.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Encoded {
        pub ids: Vec<u32>,
        pub type_ids: Vec<u32>,
        /// Byte offsets into the text of each token; `(0, 0)` for special tokens.
        pub offsets: Vec<(usize, usize)>,
    }

    /// A ready-to-use tokenizer with edgebert's truncation rule.
    pub struct TextTokenizer {
        inner: Tokenizer,
        max_len: usize,
    }

    const BERT_SPECIALS: [&str; 5] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

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
            let enc = self.inner.encode(text, true).map_err(|e| TokenizerError::Encode(e.to_string()))?;
            let mut ids = enc.get_ids().to_vec();
            let mut type_ids = enc.get_type_ids().to_vec();
            let mut offsets = enc.get_offsets().to_vec();
            truncate_keeping_specials(&mut ids, self.max_len);
            truncate_keeping_specials(&mut type_ids, self.max_len);
            truncate_keeping_specials(&mut offsets, self.max_len);
            Ok(Encoded { ids, type_ids, offsets })
        }

        /// The id of a vocabulary token, if present.
        pub fn token_to_id(&self, token: &str) -> Option<u32> {
            self.inner.token_to_id(token)
        }
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
pub use text::{Encoded, TextTokenizer, TokenizerError};

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

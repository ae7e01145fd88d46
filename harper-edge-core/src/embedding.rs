//! Sentence embeddings from token-level encoders: tokenize a batch, run the encoder once on
//! the whole padded batch, pool the token vectors under the attention mask, L2-normalise.
//!
//! This is what sentence-transformers does for models such as all-MiniLM-L6-v2, done the same
//! way on every backend (tract, ONNX Runtime, candle) so that the same sentences give the same
//! vectors wherever they run. The tokenizer is the model's own `tokenizer.json` (the
//! `tokenizers` crate, feature `tokenizers`); the pooling and normalisation follow the
//! model's sentence-transformers files (`1_Pooling/config.json`, `modules.json`) when it has
//! them, and metadata overrides (`{"pooling": "mean" | "cls" | "max", "normalize": bool}`).
//!
//! ```
//! use harper_edge_core::embedding::{Pooling, pool};
//!
//! // Two sequences of 3 tokens, 2 dimensions; the second has one padding token.
//! let hidden = [1.0, 0.0, 3.0, 0.0, 5.0, 0.0, /* */ 0.0, 2.0, 0.0, 4.0, 9.0, 9.0];
//! let mask = [1, 1, 1, 1, 1, 0];
//! let v = pool(&hidden, &mask, 2, 3, 2, Pooling::Mean, false);
//! assert_eq!(v, vec![3.0, 0.0, 0.0, 3.0]); // the padding token's 9s are ignored
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

/// How token vectors become one sentence vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Pooling {
    /// The mean of the token vectors the attention mask keeps (sentence-transformers'
    /// default, and all-MiniLM's).
    Mean,
    /// The first token's vector (`[CLS]`).
    Cls,
    /// The element-wise maximum over the kept tokens.
    Max,
}

impl fmt::Display for Pooling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Pooling::Mean => "mean",
            Pooling::Cls => "cls",
            Pooling::Max => "max",
        })
    }
}

/// How an encoder's token vectors are turned into sentence vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolingConfig {
    /// The pooling.
    pub pooling: Pooling,
    /// Whether vectors are scaled to unit L2 norm.
    pub normalize: bool,
}

impl Default for PoolingConfig {
    /// Mean pooling, normalised: what sentence-transformers models for similarity use.
    fn default() -> Self {
        PoolingConfig { pooling: Pooling::Mean, normalize: true }
    }
}

impl PoolingConfig {
    /// The configuration of a model from its sentence-transformers files and metadata, each
    /// overriding the one before: the default; `1_Pooling/config.json`
    /// (`pooling_mode_mean_tokens`, `pooling_mode_cls_token`, `pooling_mode_max_tokens`);
    /// `modules.json` (normalised when it lists a `Normalize` module, not otherwise); then
    /// `metadata.pooling` and `metadata.normalize`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for a file that is not JSON of the expected shape, a pooling
    /// harper-edge does not implement (e.g. weighted mean), or a bad metadata value.
    pub fn from_model(
        pooling_config: Option<&[u8]>,
        modules: Option<&[u8]>,
        metadata: &Value,
    ) -> Result<Self> {
        let mut config = PoolingConfig::default();
        if let Some(bytes) = pooling_config {
            let v: Value = serde_json::from_slice(bytes).map_err(|e| {
                Error::invalid_input(format!("1_Pooling/config.json is not JSON: {e}"))
            })?;
            let on = |key: &str| v.get(key).and_then(Value::as_bool).unwrap_or(false);
            for unsupported in [
                "pooling_mode_weightedmean_tokens",
                "pooling_mode_lasttoken",
                "pooling_mode_mean_sqrt_len_tokens",
            ] {
                if on(unsupported) {
                    return Err(Error::invalid_input(format!(
                        "1_Pooling/config.json asks for {unsupported}, which harper-edge does \
                         not implement (mean, cls and max are)"
                    )));
                }
            }
            config.pooling = match (
                on("pooling_mode_mean_tokens"),
                on("pooling_mode_cls_token"),
                on("pooling_mode_max_tokens"),
            ) {
                (true, false, false) => Pooling::Mean,
                (false, true, false) => Pooling::Cls,
                (false, false, true) => Pooling::Max,
                _ => {
                    return Err(Error::invalid_input(
                        "1_Pooling/config.json must turn on exactly one of \
                         pooling_mode_mean_tokens, pooling_mode_cls_token, pooling_mode_max_tokens",
                    ));
                }
            };
        }
        if let Some(bytes) = modules {
            let v: Value = serde_json::from_slice(bytes)
                .map_err(|e| Error::invalid_input(format!("modules.json is not JSON: {e}")))?;
            let list = v
                .as_array()
                .ok_or_else(|| Error::invalid_input("modules.json must be a list of modules"))?;
            config.normalize = list.iter().any(|m| {
                m.get("type").and_then(Value::as_str).is_some_and(|t| t.ends_with(".Normalize"))
            });
        }
        if let Some(p) = metadata.get("pooling") {
            config.pooling = serde_json::from_value(p.clone()).map_err(|_| {
                Error::invalid_input(format!(
                    "metadata.pooling must be \"mean\", \"cls\" or \"max\", not {p}"
                ))
            })?;
        }
        if let Some(n) = metadata.get("normalize") {
            config.normalize = n.as_bool().ok_or_else(|| {
                Error::invalid_input(format!("metadata.normalize must be true or false, not {n}"))
            })?;
        }
        Ok(config)
    }
}

/// Pools token vectors into one vector per sequence.
///
/// `hidden` is `[batch, seq, dim]` row-major and `mask` `[batch, seq]` (1 keeps a token, 0
/// is padding). A sequence whose mask keeps no token pools to zeros (and stays zero when
/// normalised). Returns `[batch, dim]` row-major.
///
/// # Panics
///
/// When `hidden` or `mask` is shorter than the sizes say.
pub fn pool(
    hidden: &[f32],
    mask: &[i64],
    batch: usize,
    seq: usize,
    dim: usize,
    pooling: Pooling,
    normalize: bool,
) -> Vec<f32> {
    assert!(hidden.len() >= batch * seq * dim && mask.len() >= batch * seq, "pool: short input");
    let mut out = vec![0.0f32; batch * dim];
    for (b, row) in out.chunks_exact_mut(dim).enumerate() {
        let tokens = &hidden[b * seq * dim..(b + 1) * seq * dim];
        let keep = &mask[b * seq..(b + 1) * seq];
        match pooling {
            Pooling::Cls => row.copy_from_slice(&tokens[..dim]),
            Pooling::Mean => {
                // Sum in f64: a long sequence of f32 sums drifts in the last digits.
                let mut sum = vec![0.0f64; dim];
                let mut count = 0usize;
                for (token, &m) in tokens.chunks_exact(dim).zip(keep) {
                    if m != 0 {
                        count += 1;
                        for (s, &x) in sum.iter_mut().zip(token) {
                            *s += f64::from(x);
                        }
                    }
                }
                if count > 0 {
                    for (r, s) in row.iter_mut().zip(&sum) {
                        *r = (s / count as f64) as f32;
                    }
                }
            }
            Pooling::Max => {
                let mut any = false;
                for (token, &m) in tokens.chunks_exact(dim).zip(keep) {
                    if m == 0 {
                        continue;
                    }
                    if any {
                        for (r, &x) in row.iter_mut().zip(token) {
                            *r = r.max(x);
                        }
                    } else {
                        row.copy_from_slice(token);
                        any = true;
                    }
                }
            }
        }
        if normalize {
            l2_normalize(row);
        }
    }
    out
}

/// Scales `v` to unit L2 norm; a zero vector stays zero.
pub fn l2_normalize(v: &mut [f32]) {
    let norm = v.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>().sqrt();
    if norm > 0.0 {
        for x in v {
            *x = (f64::from(*x) / norm) as f32;
        }
    }
}

/// Cosine similarity of two vectors of the same length (0 when either is zero).
///
/// # Panics
///
/// When the lengths differ.
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len(), "cosine: vectors of different lengths");
    let (mut dot, mut na, mut nb) = (0.0f64, 0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x), f64::from(y));
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 { 0.0 } else { dot / (na.sqrt() * nb.sqrt()) }
}

/// A tokenized batch, padded to its longest sequence: the three `[batch, seq]` int64 inputs
/// BERT-family encoders take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenBatch {
    /// Number of sequences.
    pub batch: usize,
    /// Length of each (padded) sequence.
    pub seq: usize,
    /// Token ids, row-major.
    pub input_ids: Vec<i64>,
    /// 1 for a real token, 0 for padding.
    pub attention_mask: Vec<i64>,
    /// Segment ids (all 0 for single sentences).
    pub token_type_ids: Vec<i64>,
}

#[cfg(feature = "tokenizers")]
pub use self::tokenizer::{SentenceEncoder, TextTokenizer};

#[cfg(feature = "tokenizers")]
mod tokenizer {
    use serde_json::Value;
    use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

    use super::{PoolingConfig, TokenBatch, pool};
    use crate::backend::{ModelSpec, Session};
    use crate::error::{Error, Result};
    use crate::tensor::{DType, Tensor};

    /// Longest input when neither `tokenizer.json` nor the caller sets one: BERT's position
    /// table.
    const DEFAULT_MAX_LENGTH: usize = 512;

    /// A model's `tokenizer.json`, set up for batches: padded to the longest sequence of each
    /// batch (a file that pins a fixed length, as all-MiniLM's does with 128, would make every
    /// sentence cost as much as the longest allowed), truncated to the file's maximum length
    /// (else `max_length`, else 512).
    #[derive(Debug, Clone)]
    pub struct TextTokenizer {
        inner: Tokenizer,
        max_length: usize,
    }

    impl TextTokenizer {
        /// Reads `tokenizer.json` bytes. `max_length` (e.g. the model's
        /// `max_position_embeddings`) applies when the file sets no truncation.
        ///
        /// # Errors
        ///
        /// [`Error::ModelLoad`] when the file is not a tokenizer `tokenizers` can read.
        pub fn from_bytes(json: &[u8], max_length: Option<usize>) -> Result<Self> {
            let mut inner = Tokenizer::from_bytes(json).map_err(|e| Error::ModelLoad {
                model: "tokenizer.json".into(),
                message: format!("cannot be read: {e}"),
                source: None,
            })?;
            let padding = inner.get_padding().cloned().unwrap_or_default();
            inner.with_padding(Some(PaddingParams {
                strategy: PaddingStrategy::BatchLongest,
                ..padding
            }));
            let max_length = inner
                .get_truncation()
                .map(|t| t.max_length)
                .or(max_length)
                .unwrap_or(DEFAULT_MAX_LENGTH);
            let truncation = inner.get_truncation().cloned().unwrap_or_default();
            inner.with_truncation(Some(TruncationParams { max_length, ..truncation })).map_err(
                |e| Error::ModelLoad {
                    model: "tokenizer.json".into(),
                    message: format!("cannot truncate to {max_length}: {e}"),
                    source: None,
                },
            )?;
            Ok(TextTokenizer { inner, max_length })
        }

        /// The longest sequence (in tokens, special tokens included) a text is cut to.
        pub fn max_length(&self) -> usize {
            self.max_length
        }

        /// Tokenizes `texts` as one batch padded to its longest sequence.
        ///
        /// # Errors
        ///
        /// [`Error::InvalidInput`] for no texts; [`Error::Backend`] when the tokenizer fails.
        pub fn encode(&self, texts: &[&str]) -> Result<TokenBatch> {
            if texts.is_empty() {
                return Err(Error::invalid_input("nothing to tokenize: no texts"));
            }
            let encodings =
                self.inner.encode_batch(texts.to_vec(), true).map_err(|e| Error::Backend {
                    backend: "tokenizers".into(),
                    message: format!("tokenizing failed: {e}"),
                    source: None,
                })?;
            let seq = encodings.first().map_or(0, tokenizers::Encoding::len);
            let mut batch = TokenBatch {
                batch: texts.len(),
                seq,
                input_ids: Vec::with_capacity(texts.len() * seq),
                attention_mask: Vec::with_capacity(texts.len() * seq),
                token_type_ids: Vec::with_capacity(texts.len() * seq),
            };
            for e in &encodings {
                debug_assert_eq!(e.len(), seq, "batch-longest padding");
                batch.input_ids.extend(e.get_ids().iter().map(|&x| i64::from(x)));
                batch.attention_mask.extend(e.get_attention_mask().iter().map(|&x| i64::from(x)));
                batch.token_type_ids.extend(e.get_type_ids().iter().map(|&x| i64::from(x)));
            }
            Ok(batch)
        }
    }

    /// Turns texts into sentence vectors with a token-level encoder session: the model's
    /// tokenizer, one run of the session on the whole padded batch, pooling under the
    /// attention mask, normalisation.
    #[derive(Debug, Clone)]
    pub struct SentenceEncoder {
        /// The model's tokenizer.
        pub tokenizer: TextTokenizer,
        /// How token vectors become sentence vectors.
        pub pooling: PoolingConfig,
    }

    /// Names of the token-level inputs an encoder may declare.
    const TOKEN_INPUTS: [&str; 3] = ["input_ids", "attention_mask", "token_type_ids"];

    impl SentenceEncoder {
        /// Whether a session looks like a token-level text encoder: it takes `input_ids`.
        pub fn fits(session: &dyn Session) -> bool {
            session.inputs().iter().any(|i| i.name == "input_ids")
        }

        /// The encoder of a model from the files that came with it: `tokenizer.json`
        /// (required), `config.json` (`max_position_embeddings` bounds the length when the
        /// tokenizer sets none), `1_Pooling/config.json` and `modules.json` (see
        /// [`PoolingConfig::from_model`]); `metadata` overrides the pooling.
        ///
        /// # Errors
        ///
        /// [`Error::ModelLoad`] naming the model when it has no `tokenizer.json` or a file
        /// cannot be read or understood.
        pub fn from_spec(spec: &ModelSpec<'_>, metadata: &Value) -> Result<Self> {
            let fail = |message: String| Error::ModelLoad {
                model: spec.id.to_string(),
                message,
                source: None,
            };
            let read = |name: &str| -> Result<Option<Vec<u8>>> {
                spec.companion(name).map(|c| c.source.read().map(|b| b.into_owned())).transpose()
            };
            let tokenizer_json = read("tokenizer.json")?.ok_or_else(|| {
                fail(
                    "it takes token ids but has no tokenizer.json: fetch the model with its \
                     tokenizer (a Hugging Face repo, or a directory holding tokenizer.json)"
                        .into(),
                )
            })?;
            let max_positions = read("config.json")?
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .and_then(|c| c.get("max_position_embeddings").and_then(Value::as_u64))
                .and_then(|n| usize::try_from(n).ok());
            let tokenizer = TextTokenizer::from_bytes(&tokenizer_json, max_positions)
                .map_err(|e| fail(e.to_string()))?;
            let pooling = PoolingConfig::from_model(
                read("1_Pooling/config.json")?.as_deref(),
                read("modules.json")?.as_deref(),
                metadata,
            )
            .map_err(|e| fail(e.to_string()))?;
            Ok(SentenceEncoder { tokenizer, pooling })
        }

        /// Embeds `texts` in one run of `session`; returns the dimension and the vectors,
        /// row-major.
        ///
        /// The session's inputs must be among `input_ids`, `attention_mask` and
        /// `token_type_ids` (int64 `[batch, sequence]`); its output is the first float
        /// output of rank 3 (token vectors, pooled here), else of rank 2 (already one vector
        /// per text, only normalised here).
        ///
        /// # Errors
        ///
        /// [`Error::InvalidInput`] for no texts or a session that is not such an encoder;
        /// [`Error::Shape`] when its declared shapes do not fit; the session's errors.
        pub fn embed(
            &self,
            model: &str,
            session: &dyn Session,
            texts: &[&str],
        ) -> Result<(usize, Vec<f32>)> {
            let tokens = self.tokenizer.encode(texts)?;
            let shape = [tokens.batch, tokens.seq];
            let mut tensors = Vec::with_capacity(session.inputs().len());
            for info in session.inputs() {
                let data = match info.name.as_str() {
                    "input_ids" => &tokens.input_ids,
                    "attention_mask" => &tokens.attention_mask,
                    "token_type_ids" => &tokens.token_type_ids,
                    other => {
                        return Err(Error::invalid_input(format!(
                            "model '{model}' takes an input '{other}' that a sentence encoder \
                             does not give (it gives {})",
                            TOKEN_INPUTS.join(", ")
                        )));
                    }
                };
                let tensor = Tensor::from_i64(&shape, data)?;
                info.check(model, &tensor)?;
                tensors.push(tensor);
            }
            let refs: Vec<&Tensor<'_>> = tensors.iter().collect();
            let outputs = session.run(&refs)?;
            let floats = |rank: usize| {
                outputs.iter().find(|(_, t)| t.dtype() == DType::F32 && t.shape().len() == rank)
            };
            if let Some((name, t)) = floats(3) {
                let (b, s, dim) = (t.shape()[0], t.shape()[1], t.shape()[2]);
                if (b, s) != (tokens.batch, tokens.seq) {
                    return Err(Error::Backend {
                        backend: "encoder".into(),
                        message: format!(
                            "model '{model}': output '{name}' is [{b}, {s}, {dim}] for a batch \
                             of [{}, {}] tokens",
                            tokens.batch, tokens.seq
                        ),
                        source: None,
                    });
                }
                let hidden = t.as_f32().unwrap_or_default();
                let vectors = pool(
                    hidden,
                    &tokens.attention_mask,
                    b,
                    s,
                    dim,
                    self.pooling.pooling,
                    self.pooling.normalize,
                );
                return Ok((dim, vectors));
            }
            if let Some((_, t)) = floats(2).filter(|(_, t)| t.shape()[0] == tokens.batch) {
                let dim = t.shape()[1];
                let mut vectors = t.as_f32().unwrap_or_default().to_vec();
                if self.pooling.normalize {
                    vectors.chunks_exact_mut(dim.max(1)).for_each(super::l2_normalize);
                }
                return Ok((dim, vectors));
            }
            Err(Error::invalid_input(format!(
                "model '{model}' gives no float output of shape [batch, sequence, dim] or \
                 [batch, dim] to make sentence vectors from"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_cls_and_max_respect_the_mask() {
        // batch 1, seq 3, dim 2; the last token is padding.
        let hidden = [1.0, -2.0, 3.0, 4.0, 100.0, 100.0];
        let mask = [1, 1, 0];
        assert_eq!(pool(&hidden, &mask, 1, 3, 2, Pooling::Mean, false), vec![2.0, 1.0]);
        assert_eq!(pool(&hidden, &mask, 1, 3, 2, Pooling::Cls, false), vec![1.0, -2.0]);
        assert_eq!(pool(&hidden, &mask, 1, 3, 2, Pooling::Max, false), vec![3.0, 4.0]);
        let unit = pool(&hidden, &mask, 1, 3, 2, Pooling::Max, true);
        assert!((unit[0] - 0.6).abs() < 1e-7 && (unit[1] - 0.8).abs() < 1e-7, "{unit:?}");
        // Nothing kept: zeros, also once normalised.
        assert_eq!(pool(&hidden, &[0, 0, 0], 1, 3, 2, Pooling::Mean, true), vec![0.0, 0.0]);
    }

    #[test]
    fn cosine_of_known_vectors() {
        assert!((cosine(&[1.0, 0.0], &[1.0, 0.0]) - 1.0).abs() < 1e-12);
        assert!(cosine(&[1.0, 0.0], &[0.0, 2.0]).abs() < 1e-12);
        assert!((cosine(&[1.0, 1.0], &[-1.0, -1.0]) + 1.0).abs() < 1e-12);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 1.0]), 0.0);
    }

    #[test]
    fn pooling_config_follows_the_files_then_metadata() {
        let meta = serde_json::json!({});
        assert_eq!(PoolingConfig::from_model(None, None, &meta).unwrap(), PoolingConfig::default());
        let cls = br#"{"word_embedding_dimension": 384, "pooling_mode_cls_token": true,
            "pooling_mode_mean_tokens": false}"#;
        let modules = br#"[{"idx": 0, "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "type": "sentence_transformers.models.Pooling"}]"#;
        let c = PoolingConfig::from_model(Some(cls), Some(modules), &meta).unwrap();
        assert_eq!(c, PoolingConfig { pooling: Pooling::Cls, normalize: false });
        let over = serde_json::json!({"pooling": "max", "normalize": true});
        let c = PoolingConfig::from_model(Some(cls), Some(modules), &over).unwrap();
        assert_eq!(c, PoolingConfig { pooling: Pooling::Max, normalize: true });

        let weighted = br#"{"pooling_mode_weightedmean_tokens": true}"#;
        let err = PoolingConfig::from_model(Some(weighted), None, &meta).unwrap_err();
        assert!(err.to_string().contains("weightedmean"), "{err}");
        let bad = serde_json::json!({"pooling": "median"});
        assert!(PoolingConfig::from_model(None, None, &bad).is_err());
    }
}

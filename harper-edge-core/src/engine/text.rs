//! Text tasks through the engine: embeddings of a batch of texts, and a chat or generate
//! model's answer streamed to a callback; each call recorded like any inference.

use serde::Serialize;
use serde_json::{Value, json};

use crate::backend::{Generation, ModelSpec, Prompt, Session};
use crate::error::{Error, Result};
use crate::registry::ModelRef;
use crate::telemetry::{InferContext, InferenceCall};
use crate::tensor::{DType, Inputs, Tensor, TensorData};

use super::{Engine, Loaded};

/// The answer of [`Engine::generate`] (serde camelCase).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateResult {
    /// Id of the recorded inference event.
    pub inference_id: String,
    /// Model name.
    pub model_name: String,
    /// Model version that answered.
    pub model_version: String,
    /// The answer and how it ended.
    #[serde(flatten)]
    pub generation: Generation,
    /// Wall time of the call in milliseconds, streaming included.
    pub latency_ms: f64,
}

impl Engine {
    /// Asks the text-generating model `reference` names (an Ollama chat or generate model)
    /// for an answer to `prompt`, calling `on_chunk` with each piece as it streams in;
    /// `on_chunk` returning `false` stops the answer (`doneReason: "cancelled"`). The call is
    /// recorded as an inference event: the prompt as `featuresIn`, the text as `prediction`.
    ///
    /// # Errors
    ///
    /// [`crate::Error::NotFound`] for an unknown model (or one the daemon lacks);
    /// [`crate::Error::InvalidInput`] for a model that does not generate text;
    /// [`crate::Error::Network`] / [`crate::Error::Backend`] from the runtime.
    pub fn generate(
        &self,
        reference: &ModelRef,
        prompt: &Prompt<'_>,
        context: &InferContext,
        on_chunk: &mut dyn FnMut(&str) -> bool,
    ) -> Result<GenerateResult> {
        let loaded = self.load(reference)?;
        let start = std::time::Instant::now();
        let result = loaded.session.generate(prompt, on_chunk);
        let latency_ms = start.elapsed().as_secs_f64() * 1e3;
        let features_in = match prompt {
            Prompt::Text(t) => json!({ "prompt": t }),
            Prompt::Chat(m) => json!({ "messages": m }),
        };
        let outcome = match &result {
            Ok(g) => Ok((Value::String(g.text.clone()), None)),
            Err(e) => Err(e.to_string()),
        };
        let inference_id = self.recorder.record_call(
            &loaded.series,
            InferenceCall { model: &loaded.model, features_in, outcome, latency_ms, context },
        );
        Ok(GenerateResult {
            inference_id,
            model_name: loaded.model.model_name.clone(),
            model_version: loaded.model.model_version.clone(),
            generation: result?,
            latency_ms,
        })
    }
}

/// The answer of [`Engine::embed`] (serde camelCase).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Embeddings {
    /// Id of the recorded inference event.
    pub inference_id: String,
    /// Model name.
    pub model_name: String,
    /// Model version that answered.
    pub model_version: String,
    /// How many vectors (one per text).
    pub count: usize,
    /// Their dimension.
    pub dim: usize,
    /// The vectors, row-major: vector `i` is `vectors[i * dim..(i + 1) * dim]`.
    pub vectors: Vec<f32>,
    /// Wall time of the call in milliseconds.
    pub latency_ms: f64,
}

impl Embeddings {
    /// Vector `i`.
    pub fn vector(&self, i: usize) -> Option<&[f32]> {
        self.vectors.get(i * self.dim..(i + 1) * self.dim)
    }
}

/// The sentence encoder of a loaded model that takes token ids: its tokenizer and pooling, or
/// why they could not be read (reported by [`Engine::embed`], not at load: the model still
/// runs on raw tensors).
#[derive(Debug, Default)]
pub(super) struct TextEncoder {
    #[cfg(feature = "tokenizers")]
    encoder: Option<std::result::Result<crate::embedding::SentenceEncoder, String>>,
}

impl TextEncoder {
    /// The encoder of the model `spec` loaded as `session`: none unless the session takes
    /// `input_ids`.
    #[cfg_attr(not(feature = "tokenizers"), allow(unused_variables))]
    pub(super) fn for_model(
        spec: &ModelSpec<'_>,
        session: &dyn Session,
        metadata: &Value,
    ) -> TextEncoder {
        #[cfg(feature = "tokenizers")]
        {
            use crate::embedding::SentenceEncoder;
            if !SentenceEncoder::fits(session) {
                return TextEncoder::default();
            }
            let built = SentenceEncoder::from_spec(spec, metadata).map_err(|e| match e {
                Error::ModelLoad { message, .. } => message,
                other => other.full_message(),
            });
            TextEncoder { encoder: Some(built) }
        }
        #[cfg(not(feature = "tokenizers"))]
        TextEncoder::default()
    }

    /// Embeds `texts` with a token-level encoder session.
    #[cfg_attr(not(feature = "tokenizers"), allow(unused_variables))]
    fn embed(&self, loaded: &Loaded, texts: &[&str]) -> Result<(usize, Vec<f32>)> {
        let inputs = || {
            loaded.session.inputs().iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", ")
        };
        #[cfg(feature = "tokenizers")]
        match &self.encoder {
            Some(Ok(encoder)) => {
                return encoder.embed(&loaded.model.id, loaded.session.as_ref(), texts);
            }
            Some(Err(why)) => {
                return Err(Error::ModelLoad {
                    model: loaded.model.id.clone(),
                    message: why.clone(),
                    source: None,
                });
            }
            None => {}
        }
        #[cfg(not(feature = "tokenizers"))]
        if loaded.session.inputs().iter().any(|i| i.name == "input_ids") {
            return Err(Error::BackendNotCompiled {
                backend: "tokenizers (sentence embeddings of token-id models)".into(),
                feature: "tokenizers".into(),
            });
        }
        Err(Error::invalid_input(format!(
            "model '{}' is not a text model: it takes neither text nor token ids (its inputs: \
             {})",
            loaded.model.id,
            inputs()
        )))
    }
}

impl Engine {
    /// Embeds `texts` with the model `reference` names, all in one call of the model (a
    /// batch), and records the call (`featuresIn: {texts}`, `prediction: {count, dim}`).
    ///
    /// - Models that take text (Ollama embedding models) get the texts as they are.
    /// - Models that take token ids (`input_ids`, `attention_mask`, `token_type_ids`: BERT-family
    ///   sentence encoders on tract, ONNX Runtime or candle) get them from the model's
    ///   `tokenizer.json`, padded to the longest text; their token vectors are pooled under
    ///   the attention mask and L2-normalised as the model's sentence-transformers files say
    ///   ([`crate::embedding`]).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for no texts, or a model that is not a text model;
    /// [`Error::ModelLoad`] for a token-id model without a readable `tokenizer.json`; the
    /// backend's errors.
    pub fn embed(
        &self,
        reference: &ModelRef,
        texts: &[&str],
        context: &InferContext,
    ) -> Result<Embeddings> {
        if texts.is_empty() {
            return Err(Error::invalid_input("embed needs at least one text"));
        }
        let loaded = self.load(reference)?;
        let start = std::time::Instant::now();
        let result = embed_loaded(&loaded, texts);
        let latency_ms = start.elapsed().as_secs_f64() * 1e3;
        let outcome = match &result {
            Ok((dim, _)) => Ok((json!({"count": texts.len(), "dim": dim}), None)),
            Err(e) => Err(e.to_string()),
        };
        let inference_id = self.recorder.record_call(
            &loaded.series,
            InferenceCall {
                model: &loaded.model,
                features_in: json!({ "texts": texts }),
                outcome,
                latency_ms,
                context,
            },
        );
        let (dim, vectors) = result?;
        Ok(Embeddings {
            inference_id,
            model_name: loaded.model.model_name.clone(),
            model_version: loaded.model.model_version.clone(),
            count: texts.len(),
            dim,
            vectors,
            latency_ms,
        })
    }
}

/// Embeds `texts` with a loaded model: as they are for a model that takes text, through its
/// tokenizer and pooling for one that takes token ids. `(dim, row-major vectors)`.
pub(super) fn embed_loaded(loaded: &Loaded, texts: &[&str]) -> Result<(usize, Vec<f32>)> {
    if texts.is_empty() {
        return Err(Error::invalid_input("embed needs at least one text"));
    }
    if matches!(loaded.session.inputs(), [only] if only.dtype == DType::String) {
        embed_text(loaded, texts)
    } else {
        loaded.encoder.embed(loaded, texts)
    }
}

/// Embeds with a model that takes the texts themselves (one string input).
fn embed_text(loaded: &Loaded, texts: &[&str]) -> Result<(usize, Vec<f32>)> {
    let owned: Vec<String> = texts.iter().map(|t| (*t).to_string()).collect();
    let tensor = Tensor::new(vec![texts.len()], TensorData::String(owned.into()))?;
    let outputs = super::run(loaded, &Inputs::single(tensor))?;
    let (_, t) = outputs
        .iter()
        .find(|(_, t)| t.as_f32().is_some() && t.shape().len() == 2)
        .ok_or_else(|| {
            Error::invalid_input(format!(
                "model '{}' gave no [n, dim] float output",
                loaded.model.id
            ))
        })?;
    let (n, dim) = (t.shape()[0], t.shape()[1]);
    if n != texts.len() {
        return Err(Error::Backend {
            backend: loaded.model.framework.default_backend().into(),
            message: format!("{n} vectors for {} texts", texts.len()),
            source: None,
        });
    }
    Ok((dim, t.as_f32().unwrap_or_default().to_vec()))
}

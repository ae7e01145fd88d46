//! Text generation through the engine: a chat or generate model's answer streamed to a
//! callback, the call recorded like any inference.

use serde::Serialize;
use serde_json::{Value, json};

use crate::backend::{Generation, Prompt};
use crate::error::Result;
use crate::registry::ModelRef;
use crate::telemetry::{InferContext, InferenceCall};

use super::Engine;

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

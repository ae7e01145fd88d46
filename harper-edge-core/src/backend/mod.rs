//! Inference backends behind one trait.
//!
//! A [`Backend`] turns a model file into a [`Session`]; a session runs it on named tensors.
//! Backends are cargo features: `tract` (default, pure Rust ONNX) is compiled in here; a
//! backend that is not compiled in answers [`backend`] with [`Error::BackendNotCompiled`]
//! naming the feature to enable.

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::tensor::{Outputs, Tensor, TensorInfo};

#[cfg(feature = "candle")]
pub mod candle;
#[cfg(feature = "ollama")]
pub mod ollama;
#[cfg(feature = "ort")]
pub mod ort;
#[cfg(feature = "tract")]
#[cfg_attr(docsrs, doc(cfg(feature = "tract")))]
pub mod tract;
#[cfg(feature = "tract")]
mod tract_ml;

/// The model format of a registered model (the original design's `framework` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Framework {
    /// An ONNX graph; runs on tract (default) or ONNX Runtime.
    Onnx,
    /// A TensorFlow.js model (kept for records of the original system; no backend runs it).
    Tensorflow,
    /// A Hugging Face transformers model directory; runs on candle.
    Transformers,
    /// A model served by a local Ollama daemon.
    Ollama,
}

impl Framework {
    /// The lowercase name used in records and on the command line.
    pub const fn as_str(self) -> &'static str {
        match self {
            Framework::Onnx => "onnx",
            Framework::Tensorflow => "tensorflow",
            Framework::Transformers => "transformers",
            Framework::Ollama => "ollama",
        }
    }

    /// The name of the backend that runs this framework by default.
    pub const fn default_backend(self) -> &'static str {
        match self {
            Framework::Onnx => "tract",
            Framework::Tensorflow => "tensorflow",
            Framework::Transformers => "candle",
            Framework::Ollama => "ollama",
        }
    }
}

impl fmt::Display for Framework {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Framework {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "onnx" => Ok(Framework::Onnx),
            "tensorflow" => Ok(Framework::Tensorflow),
            "transformers" => Ok(Framework::Transformers),
            "ollama" => Ok(Framework::Ollama),
            other => Err(Error::invalid_input(format!(
                "unknown framework '{other}' (expected onnx, tensorflow, transformers or ollama)"
            ))),
        }
    }
}

/// Where a backend reads a model from.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum ModelSource<'a> {
    /// The model file's bytes.
    Bytes(&'a [u8]),
    /// A file on disk.
    Path(&'a Path),
}

impl ModelSource<'_> {
    /// The bytes (read from disk for [`ModelSource::Path`]).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the file cannot be read.
    pub fn read(&self) -> Result<std::borrow::Cow<'_, [u8]>> {
        match self {
            ModelSource::Bytes(b) => Ok(std::borrow::Cow::Borrowed(b)),
            ModelSource::Path(p) => {
                std::fs::read(p).map(std::borrow::Cow::Owned).map_err(|e| Error::io(*p, e))
            }
        }
    }
}

/// A file that comes with a model (`config.json`, `tokenizer.json`, …), by its name in
/// what was fetched.
#[derive(Debug, Clone, Copy)]
pub struct Companion<'a> {
    /// Its path relative to what was fetched (`tokenizer.json`, `1_Pooling/config.json`).
    pub name: &'a str,
    /// Where to read it.
    pub source: ModelSource<'a>,
}

/// What a backend needs to load one model.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ModelSpec<'a> {
    /// `name:version`, used in error messages.
    pub id: &'a str,
    /// The model format.
    pub framework: Framework,
    /// The model file.
    pub source: ModelSource<'a>,
    /// The files that came with it (empty for a model registered from one file).
    pub companions: &'a [Companion<'a>],
}

impl<'a> ModelSpec<'a> {
    /// A spec for the model `id` of `framework` read from `source`.
    pub fn new(id: &'a str, framework: Framework, source: ModelSource<'a>) -> Self {
        ModelSpec { id, framework, source, companions: &[] }
    }

    /// The same spec with the files that came with the model.
    #[must_use]
    pub fn with_companions(mut self, companions: &'a [Companion<'a>]) -> Self {
        self.companions = companions;
        self
    }

    /// The companion file called `name`: the one with exactly that path, else the one with
    /// the shortest path ending in `/name` (`onnx/tokenizer.json` when only that exists).
    pub fn companion(&self, name: &str) -> Option<&Companion<'a>> {
        let suffix = format!("/{name}");
        self.companions.iter().find(|c| c.name == name).or_else(|| {
            self.companions
                .iter()
                .filter(|c| c.name.ends_with(&suffix))
                .min_by_key(|c| c.name.len())
        })
    }
}

/// An inference runtime.
pub trait Backend: Send + Sync + fmt::Debug {
    /// Short lowercase name (`tract`, `ort`, …).
    fn name(&self) -> &'static str;

    /// Whether the backend is usable on this machine (native library found, daemon reachable).
    ///
    /// # Errors
    ///
    /// [`Error::Backend`] saying what is missing and how to provide it.
    fn check(&self) -> Result<()>;

    /// Loads, validates and prepares a model so that the first call is not slower than the
    /// others and every unsupported feature is reported now, not at the first call.
    ///
    /// # Errors
    ///
    /// [`Error::ModelLoad`] for a corrupt or unsupported model; [`Error::InvalidInput`] for a
    /// framework this backend does not run.
    fn load(&self, spec: &ModelSpec<'_>) -> Result<Box<dyn Session>>;
}

/// A loaded model, ready to run. Sessions are shared between threads.
pub trait Session: Send + Sync + fmt::Debug {
    /// Declared inputs, in the model's order.
    fn inputs(&self) -> &[TensorInfo];

    /// Declared outputs, in the model's order.
    fn outputs(&self) -> &[TensorInfo];

    /// Runs the model. `inputs` holds one tensor per declared input, in declared order,
    /// already checked against [`Session::inputs`].
    ///
    /// # Errors
    ///
    /// [`Error::Backend`] when the runtime fails.
    fn run(&self, inputs: &[&Tensor<'_>]) -> Result<Outputs>;

    /// Generates text for `prompt`, streaming each piece to `on_chunk` (which returns
    /// `false` to stop); for models that generate text (Ollama chat and generate models).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for a model that does not generate text (the default); the
    /// backend's errors otherwise.
    fn generate(
        &self,
        prompt: &Prompt<'_>,
        on_chunk: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Generation> {
        let _ = (prompt, on_chunk);
        Err(Error::invalid_input(
            "this model does not generate text (a chat or generate model does)",
        ))
    }
}

/// Checks `inputs` against a session's declared inputs — their number, then each one's dtype
/// and shape — so that a session called directly refuses what the engine would refuse
/// instead of converting or misreading it. Backends call it first thing in
/// [`Session::run`].
///
/// # Errors
///
/// [`Error::InvalidInput`] for the wrong number of inputs; [`Error::Shape`] for a dtype or
/// shape that does not fit.
pub fn check_inputs(model: &str, declared: &[TensorInfo], inputs: &[&Tensor<'_>]) -> Result<()> {
    if declared.len() != inputs.len() {
        let names: Vec<&str> = declared.iter().map(|i| i.name.as_str()).collect();
        return Err(Error::invalid_input(format!(
            "model '{model}' takes {} inputs ({}), got {}",
            declared.len(),
            names.join(", "),
            inputs.len()
        )));
    }
    declared.iter().zip(inputs).try_for_each(|(info, t)| info.check(model, t))
}

/// What a text-generating model is asked: a prompt, or a conversation.
#[derive(Debug, Clone, Copy)]
pub enum Prompt<'a> {
    /// One prompt (a chat model gets it as one user message).
    Text(&'a str),
    /// A conversation, oldest message first.
    Chat(&'a [ChatMessage]),
}

/// One chat message (serde: Ollama's shape).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `system`, `user`, `assistant` or `tool`.
    pub role: String,
    /// The text.
    pub content: String,
}

impl ChatMessage {
    /// A message from `role`.
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> Self {
        ChatMessage { role: role.into(), content: content.into() }
    }

    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Self::new("user", content)
    }
}

/// A finished (or stopped) generation (serde camelCase).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Generation {
    /// The whole answer.
    pub text: String,
    /// Why it ended: Ollama's `done_reason` (`stop`, `length`, …), or `cancelled` when the
    /// callback stopped it.
    pub done_reason: String,
    /// Tokens in the prompt, as Ollama counted them.
    pub prompt_tokens: Option<u64>,
    /// Tokens generated.
    pub completion_tokens: Option<u64>,
    /// The daemon's own total time, in milliseconds.
    pub total_ms: Option<f64>,
}

/// Names of every backend harper-edge knows, compiled in or not.
pub const BACKENDS: [&str; 4] = ["tract", "ort", "candle", "ollama"];

/// The backend called `name`.
///
/// # Errors
///
/// [`Error::BackendNotCompiled`] for a known backend whose feature is off;
/// [`Error::InvalidInput`] for an unknown name.
///
/// # Examples
///
/// ```
/// use harper_edge_core::{backend, ErrorKind};
///
/// assert_eq!(backend::backend("tract")?.name(), "tract");
/// # #[cfg(not(feature = "candle"))]
/// assert_eq!(backend::backend("candle").unwrap_err().kind(), ErrorKind::BackendNotCompiled);
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
pub fn backend(name: &str) -> Result<Arc<dyn Backend>> {
    match name {
        #[cfg(feature = "tract")]
        "tract" => Ok(Arc::new(tract::TractBackend::new())),
        #[cfg(not(feature = "tract"))]
        "tract" => {
            Err(Error::BackendNotCompiled { backend: name.to_string(), feature: name.to_string() })
        }
        #[cfg(feature = "ollama")]
        "ollama" => Ok(Arc::new(ollama::OllamaBackend::new())),
        #[cfg(not(feature = "ollama"))]
        "ollama" => {
            Err(Error::BackendNotCompiled { backend: name.to_string(), feature: name.to_string() })
        }
        #[cfg(feature = "ort")]
        "ort" => Ok(Arc::new(ort::OrtBackend::new())),
        #[cfg(not(feature = "ort"))]
        "ort" => {
            Err(Error::BackendNotCompiled { backend: name.to_string(), feature: name.to_string() })
        }
        #[cfg(feature = "candle")]
        "candle" => Ok(Arc::new(candle::CandleBackend::new())),
        #[cfg(not(feature = "candle"))]
        "candle" => {
            Err(Error::BackendNotCompiled { backend: name.to_string(), feature: name.to_string() })
        }
        other => Err(Error::invalid_input(format!(
            "unknown backend '{other}' (known: {})",
            BACKENDS.join(", ")
        ))),
    }
}

/// The backend for a model of `framework` whose metadata may name one: `metadata.backend`
/// when it is a backend name (`tract`, `ort`, `candle`, `ollama`), else the framework's
/// default. (The original design also put framework names there, `onnx` or `transformers`;
/// those choose the default.)
///
/// # Errors
///
/// As [`backend`] for the backend chosen; [`Error::InvalidInput`] when the named backend does
/// not run `framework`.
///
/// # Examples
///
/// ```
/// use harper_edge_core::backend::{for_model, Framework};
///
/// let b = for_model(Framework::Onnx, &serde_json::json!({"backend": "onnx"}))?;
/// assert_eq!(b.name(), "tract");
/// assert!(for_model(Framework::Onnx, &serde_json::json!({"backend": "ollama"})).is_err());
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
pub fn for_model(framework: Framework, metadata: &serde_json::Value) -> Result<Arc<dyn Backend>> {
    let named = metadata.get("backend").and_then(serde_json::Value::as_str);
    let Some(name) = named.filter(|n| BACKENDS.contains(n)) else {
        return for_framework(framework);
    };
    let runs = match name {
        "tract" | "ort" => framework == Framework::Onnx,
        "candle" => framework == Framework::Transformers,
        _ => framework == Framework::Ollama,
    };
    if !runs {
        return Err(Error::invalid_input(format!(
            "metadata.backend '{name}' does not run {framework} models"
        )));
    }
    backend(name)
}

/// The default backend for `framework`.
///
/// # Errors
///
/// As [`backend`]; [`Error::InvalidInput`] for `tensorflow`, which no backend runs.
pub fn for_framework(framework: Framework) -> Result<Arc<dyn Backend>> {
    if framework == Framework::Tensorflow {
        return Err(Error::invalid_input(
            "framework 'tensorflow' has no backend in harper-edge: convert the model to onnx",
        ));
    }
    backend(framework.default_backend())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn framework_round_trips_through_its_name() {
        for f in
            [Framework::Onnx, Framework::Tensorflow, Framework::Transformers, Framework::Ollama]
        {
            assert_eq!(f.as_str().parse::<Framework>().unwrap(), f);
        }
        assert_eq!("pytorch".parse::<Framework>().unwrap_err().kind(), ErrorKind::InvalidInput);
    }

    #[test]
    fn missing_backends_name_their_feature() {
        let built = [
            ("tract", cfg!(feature = "tract")),
            ("ort", cfg!(feature = "ort")),
            ("candle", cfg!(feature = "candle")),
            ("ollama", cfg!(feature = "ollama")),
        ];
        for (name, compiled) in built {
            if compiled {
                assert_eq!(backend(name).unwrap().name(), name);
                continue;
            }
            let err = backend(name).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::BackendNotCompiled);
            assert!(err.to_string().contains(&format!("feature '{name}'")), "{err}");
        }
        assert_eq!(backend("nope").unwrap_err().kind(), ErrorKind::InvalidInput);
        assert_eq!(
            for_framework(Framework::Tensorflow).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }
}

//! Models served by a local [Ollama](https://ollama.com) daemon, over its HTTP API:
//! `/api/embed` (batched embeddings), `/api/generate` and `/api/chat` (streamed NDJSON).
//!
//! A registered Ollama model has no weights here. Its "model file" is a small JSON manifest,
//! [`OllamaModel`], naming the Ollama model and what it is used for:
//!
//! ```json
//! {"model": "nomic-embed-text", "mode": "embeddings"}
//! ```
//!
//! The daemon's address is the manifest's `host`, else `OLLAMA_HOST` (`host:port` or a URL),
//! else `http://127.0.0.1:11434`.
//!
//! No Ollama binary can be installed on this project's CI machines, so the tests run this
//! client against a loopback server that speaks the documented protocol, streaming, slow and
//! broken answers included (`tests/ollama.rs`).

use std::io::{BufRead, BufReader};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::backend::{
    Backend, ChatMessage, Framework, Generation, ModelSource, ModelSpec, Prompt, Session,
};
use crate::error::{Error, Result};
use crate::tensor::{DType, Outputs, Tensor, TensorData, TensorInfo};

const NAME: &str = "ollama";

/// The daemon's address when neither the manifest nor `OLLAMA_HOST` gives one.
pub const DEFAULT_HOST: &str = "http://127.0.0.1:11434";

/// What an Ollama model is registered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OllamaMode {
    /// Text in, vectors out (`/api/embed`).
    Embeddings,
    /// Messages in, an answer out (`/api/chat`).
    #[default]
    Chat,
    /// A prompt in, a completion out (`/api/generate`).
    Generate,
}

/// The manifest an Ollama model is registered with (serde camelCase).
///
/// # Examples
///
/// ```
/// use harper_edge_core::backend::ollama::{OllamaMode, OllamaModel};
///
/// let m = OllamaModel::new("nomic-embed-text", OllamaMode::Embeddings);
/// let bytes = m.to_bytes();
/// assert_eq!(OllamaModel::from_bytes(&bytes)?, m);
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OllamaModel {
    /// The model's name in Ollama (`llama3.2`, `nomic-embed-text:latest`).
    pub model: String,
    /// What it is used for (default chat).
    #[serde(default, alias = "task")]
    pub mode: OllamaMode,
    /// The daemon's base URL (default `OLLAMA_HOST`, else [`DEFAULT_HOST`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Ollama `options` sent with every request (`temperature`, `num_ctx`, `seed`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Value>,
    /// Longest wait for any single read, in milliseconds (default 120 000: the first answer
    /// waits for the daemon to load the model). A stream that keeps moving is never cut off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_timeout_ms: Option<u64>,
}

impl OllamaModel {
    /// A manifest for `model` in `mode`.
    pub fn new(model: impl Into<String>, mode: OllamaMode) -> Self {
        OllamaModel { model: model.into(), mode, host: None, options: None, read_timeout_ms: None }
    }

    /// The manifest as registered bytes (JSON).
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads a manifest.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming the field when it is not a manifest.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let m: OllamaModel = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            Error::invalid_input(format!(
                "not an Ollama model manifest ({{\"model\": …, \"mode\": \"embeddings|chat|generate\"}}): \
                 field {}: {}",
                e.path(),
                e.inner()
            ))
        })?;
        if m.model.trim().is_empty() {
            return Err(Error::invalid_input("an Ollama model manifest needs a model name"));
        }
        Ok(m)
    }
}

/// A client of one Ollama daemon.
#[derive(Debug, Clone)]
pub struct OllamaClient {
    base: String,
    agent: ureq::Agent,
}

/// `OLLAMA_HOST` (or `host`) as a base URL: `host:port`, `:port` and bare hosts get
/// `http://` and the default port.
pub fn base_url(host: Option<&str>) -> String {
    let env = std::env::var("OLLAMA_HOST").ok().filter(|v| !v.trim().is_empty());
    let raw = host.map(str::to_string).or(env).unwrap_or_else(|| DEFAULT_HOST.to_string());
    let raw = raw.trim().trim_end_matches('/');
    let (scheme, rest) = match raw.split_once("://") {
        Some((s, r)) => (s.to_string(), r.to_string()),
        None => ("http".to_string(), raw.to_string()),
    };
    let rest = if rest.starts_with(':') { format!("127.0.0.1{rest}") } else { rest };
    let has_port = rest.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok());
    if has_port { format!("{scheme}://{rest}") } else { format!("{scheme}://{rest}:11434") }
}

impl OllamaClient {
    /// A client of the daemon at `host` (see [`base_url`]), with these timeouts.
    pub fn new(host: Option<&str>, connect_timeout: Duration, read_timeout: Duration) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(connect_timeout))
            .timeout_per_read(Some(read_timeout))
            .http_status_as_error(false)
            .user_agent(concat!("harper-edge/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        OllamaClient { base: base_url(host), agent }
    }

    /// The base URL in use.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn unreachable(&self, what: &str, e: ureq::Error) -> Error {
        let timed_out = matches!(e, ureq::Error::Timeout(_));
        Error::Network {
            message: if timed_out {
                format!("Ollama at {} did not answer {what} in time", self.base)
            } else {
                format!(
                    "Ollama is not reachable at {} ({what}): is `ollama serve` running? Set \
                     OLLAMA_HOST or the model's host",
                    self.base
                )
            },
            status: None,
            retryable: true,
            source: Some(Box::new(e)),
        }
    }

    fn post(
        &self,
        path: &str,
        body: &Value,
        model: &str,
    ) -> Result<ureq::http::Response<ureq::Body>> {
        let url = format!("{}{path}", self.base);
        let response = self
            .agent
            .post(&url)
            .header("content-type", "application/json")
            .send(body.to_string().as_bytes())
            .map_err(|e| self.unreachable(path, e))?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(response);
        }
        let mut response = response;
        let text = response.body_mut().read_to_string().unwrap_or_default();
        let message = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_string))
            .unwrap_or(text);
        Err(if status == 404 {
            Error::not_found(
                "Ollama model",
                format!("{model} ({message}; run `ollama pull {model}`)"),
            )
        } else {
            Error::Network {
                message: format!("Ollama answered HTTP {status} to {path}: {message}"),
                status: Some(status),
                retryable: status == 408 || status == 429 || status >= 500,
                source: None,
            }
        })
    }

    /// The daemon's version (`GET /api/version`): whether it is there at all.
    ///
    /// # Errors
    ///
    /// [`Error::Network`] when it cannot be reached.
    pub fn version(&self) -> Result<String> {
        let url = format!("{}/api/version", self.base);
        let mut response =
            self.agent.get(&url).call().map_err(|e| self.unreachable("/api/version", e))?;
        let v: Value = response.body_mut().read_json().map_err(|e| malformed("/api/version", e))?;
        Ok(v.get("version").and_then(Value::as_str).unwrap_or("unknown").to_string())
    }

    /// Embeds every text in one request (`POST /api/embed` with `input` a list).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] when the daemon does not have `model`; [`Error::Network`] when it
    /// cannot be reached or answers an error; [`Error::Backend`] for an answer that is not
    /// one vector of one dimension per text.
    pub fn embed(
        &self,
        model: &str,
        texts: &[&str],
        options: Option<&Value>,
    ) -> Result<Vec<Vec<f32>>> {
        let mut body = json!({"model": model, "input": texts});
        if let Some(o) = options {
            body["options"] = o.clone();
        }
        let mut response = self.post("/api/embed", &body, model)?;
        #[derive(Deserialize)]
        struct Embedded {
            embeddings: Vec<Vec<f32>>,
        }
        let e: Embedded =
            response.body_mut().read_json().map_err(|e| malformed("/api/embed", e))?;
        if e.embeddings.len() != texts.len() {
            return Err(backend_error(format!(
                "Ollama returned {} embeddings for {} texts",
                e.embeddings.len(),
                texts.len()
            )));
        }
        if let Some(first) = e.embeddings.first()
            && (first.is_empty() || e.embeddings.iter().any(|v| v.len() != first.len()))
        {
            return Err(backend_error("Ollama returned embeddings of different dimensions".into()));
        }
        Ok(e.embeddings)
    }

    /// Streams a completion of `prompt` (`POST /api/generate`), calling `on_chunk` with each
    /// piece of text; `on_chunk` returning `false` stops the generation.
    ///
    /// # Errors
    ///
    /// As [`OllamaClient::embed`]; [`Error::Backend`] for a malformed stream (a line that is
    /// not JSON, an `error` line, or an end before `done`).
    pub fn generate(
        &self,
        model: &str,
        prompt: &str,
        options: Option<&Value>,
        on_chunk: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Generation> {
        let mut body = json!({"model": model, "prompt": prompt, "stream": true});
        if let Some(o) = options {
            body["options"] = o.clone();
        }
        let response = self.post("/api/generate", &body, model)?;
        self.stream(
            response,
            "/api/generate",
            |v| v.get("response").and_then(Value::as_str),
            on_chunk,
        )
    }

    /// Streams an answer to `messages` (`POST /api/chat`), as [`OllamaClient::generate`].
    ///
    /// # Errors
    ///
    /// As [`OllamaClient::generate`].
    pub fn chat(
        &self,
        model: &str,
        messages: &[ChatMessage],
        options: Option<&Value>,
        on_chunk: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Generation> {
        let mut body = json!({"model": model, "messages": messages, "stream": true});
        if let Some(o) = options {
            body["options"] = o.clone();
        }
        let response = self.post("/api/chat", &body, model)?;
        self.stream(
            response,
            "/api/chat",
            |v| v.get("message").and_then(|m| m.get("content")).and_then(Value::as_str),
            on_chunk,
        )
    }

    fn stream(
        &self,
        mut response: ureq::http::Response<ureq::Body>,
        path: &str,
        piece: impl Fn(&Value) -> Option<&str>,
        on_chunk: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Generation> {
        let reader = BufReader::new(response.body_mut().as_reader());
        let mut text = String::new();
        for (n, line) in reader.lines().enumerate() {
            let line = line.map_err(|e| {
                let timed_out = e.kind() == std::io::ErrorKind::TimedOut
                    || e.get_ref()
                        .and_then(|inner| inner.downcast_ref::<ureq::Error>())
                        .is_some_and(|u| matches!(u, ureq::Error::Timeout(_)));
                if timed_out {
                    Error::Network {
                        message: format!("Ollama stopped sending {path} mid-answer (read timeout)"),
                        status: None,
                        retryable: true,
                        source: Some(Box::new(e)),
                    }
                } else {
                    backend_error(format!("the {path} stream broke after {n} lines: {e}"))
                }
            })?;
            if line.trim().is_empty() {
                continue;
            }
            let v: Value = serde_json::from_str(&line).map_err(|e| {
                backend_error(format!(
                    "malformed {path} stream, line {}: {e}: {}",
                    n + 1,
                    clip(&line)
                ))
            })?;
            if let Some(err) = v.get("error").and_then(Value::as_str) {
                return Err(backend_error(format!("Ollama reported an error mid-stream: {err}")));
            }
            if let Some(p) = piece(&v)
                && !p.is_empty()
            {
                text.push_str(p);
                if !on_chunk(p) {
                    return Ok(Generation {
                        text,
                        done_reason: "cancelled".into(),
                        prompt_tokens: None,
                        completion_tokens: None,
                        total_ms: None,
                    });
                }
            }
            if v.get("done").and_then(Value::as_bool) == Some(true) {
                return Ok(Generation {
                    text,
                    done_reason: v
                        .get("done_reason")
                        .and_then(Value::as_str)
                        .unwrap_or("stop")
                        .to_string(),
                    prompt_tokens: v.get("prompt_eval_count").and_then(Value::as_u64),
                    completion_tokens: v.get("eval_count").and_then(Value::as_u64),
                    #[allow(clippy::cast_precision_loss)]
                    total_ms: v
                        .get("total_duration")
                        .and_then(Value::as_u64)
                        .map(|ns| ns as f64 / 1e6),
                });
            }
        }
        Err(backend_error(format!(
            "the {path} stream ended before \"done\": true (the daemon went away?)"
        )))
    }
}

fn clip(s: &str) -> String {
    if s.len() <= 80 { s.to_string() } else { format!("{}…", &s[..s.floor_char_boundary(80)]) }
}

fn backend_error(message: String) -> Error {
    Error::Backend { backend: NAME.into(), message, source: None }
}

fn malformed(path: &str, e: ureq::Error) -> Error {
    Error::Backend {
        backend: NAME.into(),
        message: format!("Ollama sent an unreadable answer to {path}"),
        source: Some(Box::new(e)),
    }
}

/// Runs models an Ollama daemon serves.
#[derive(Debug, Default, Clone, Copy)]
pub struct OllamaBackend;

impl OllamaBackend {
    /// The Ollama backend.
    pub fn new() -> Self {
        OllamaBackend
    }
}

impl Backend for OllamaBackend {
    fn name(&self) -> &'static str {
        NAME
    }

    /// Asks the default daemon (`OLLAMA_HOST`) for its version.
    fn check(&self) -> Result<()> {
        OllamaClient::new(None, Duration::from_secs(2), Duration::from_secs(5)).version().map(drop)
    }

    /// Reads the manifest; the daemon is not asked (it may start later), so a registration
    /// works offline and the first call reports a missing daemon or model.
    fn load(&self, spec: &ModelSpec<'_>) -> Result<Box<dyn Session>> {
        if spec.framework != Framework::Ollama {
            return Err(Error::invalid_input(format!(
                "backend 'ollama' runs ollama models, not {} ('{}')",
                spec.framework, spec.id
            )));
        }
        let bytes = match spec.source {
            ModelSource::Bytes(b) => std::borrow::Cow::Borrowed(b),
            ModelSource::Path(p) => {
                std::borrow::Cow::Owned(std::fs::read(p).map_err(|e| Error::io(p, e))?)
            }
        };
        let manifest = OllamaModel::from_bytes(&bytes).map_err(|e| Error::ModelLoad {
            model: spec.id.to_string(),
            message: e.to_string(),
            source: None,
        })?;
        Ok(Box::new(OllamaSession::new(manifest)))
    }
}

/// A registered Ollama model: `text` strings in; `embeddings` (f32 `[n, dim]`) or `text`
/// strings out, by mode.
#[derive(Debug)]
pub struct OllamaSession {
    manifest: OllamaModel,
    client: OllamaClient,
    inputs: Vec<TensorInfo>,
    outputs: Vec<TensorInfo>,
}

impl OllamaSession {
    fn new(manifest: OllamaModel) -> Self {
        let read = Duration::from_millis(manifest.read_timeout_ms.unwrap_or(120_000));
        let client = OllamaClient::new(manifest.host.as_deref(), Duration::from_secs(10), read);
        let text =
            |name: &str| TensorInfo { name: name.into(), dtype: DType::String, shape: vec![None] };
        let outputs = match manifest.mode {
            OllamaMode::Embeddings => {
                vec![TensorInfo {
                    name: "embeddings".into(),
                    dtype: DType::F32,
                    shape: vec![None, None],
                }]
            }
            OllamaMode::Chat | OllamaMode::Generate => vec![text("text")],
        };
        OllamaSession { manifest, client, inputs: vec![text("text")], outputs }
    }

    /// The manifest.
    pub fn manifest(&self) -> &OllamaModel {
        &self.manifest
    }

    /// The client.
    pub fn client(&self) -> &OllamaClient {
        &self.client
    }
}

impl Session for OllamaSession {
    fn inputs(&self) -> &[TensorInfo] {
        &self.inputs
    }

    fn outputs(&self) -> &[TensorInfo] {
        &self.outputs
    }

    fn run(&self, inputs: &[&Tensor<'_>]) -> Result<Outputs> {
        let texts: Vec<&str> = match inputs.first().map(|t| t.data()) {
            Some(TensorData::String(s)) => s.iter().map(String::as_str).collect(),
            _ => {
                return Err(Error::invalid_input("an Ollama model takes a string tensor of texts"));
            }
        };
        let options = self.manifest.options.as_ref();
        let model = &self.manifest.model;
        match self.manifest.mode {
            OllamaMode::Embeddings => {
                let vectors = self.client.embed(model, &texts, options)?;
                let dim = vectors.first().map_or(0, Vec::len);
                let flat: Vec<f32> = vectors.into_iter().flatten().collect();
                let tensor = Tensor::new(vec![texts.len(), dim], TensorData::F32(flat.into()))?;
                Ok(Outputs::new(vec![("embeddings".into(), tensor)]))
            }
            OllamaMode::Chat | OllamaMode::Generate => {
                let mut answers = Vec::with_capacity(texts.len());
                for text in texts {
                    let g = match self.manifest.mode {
                        OllamaMode::Chat => self.client.chat(
                            model,
                            &[ChatMessage::user(text)],
                            options,
                            &mut |_| true,
                        )?,
                        _ => self.client.generate(model, text, options, &mut |_| true)?,
                    };
                    answers.push(g.text);
                }
                let n = answers.len();
                let tensor = Tensor::new(vec![n], TensorData::String(answers.into()))?;
                Ok(Outputs::new(vec![("text".into(), tensor)]))
            }
        }
    }

    fn generate(
        &self,
        prompt: &Prompt<'_>,
        on_chunk: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Generation> {
        let options = self.manifest.options.as_ref();
        let model = &self.manifest.model;
        match (self.manifest.mode, prompt) {
            (OllamaMode::Embeddings, _) => Err(Error::invalid_input(format!(
                "Ollama model '{model}' is registered for embeddings, not text generation"
            ))),
            (_, Prompt::Chat(messages)) => self.client.chat(model, messages, options, on_chunk),
            (OllamaMode::Chat, Prompt::Text(text)) => {
                self.client.chat(model, &[ChatMessage::user(*text)], options, on_chunk)
            }
            (OllamaMode::Generate, Prompt::Text(text)) => {
                self.client.generate(model, text, options, on_chunk)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_become_base_urls() {
        assert_eq!(base_url(Some("127.0.0.1:9999")), "http://127.0.0.1:9999");
        assert_eq!(base_url(Some("http://gpu-box:8080/")), "http://gpu-box:8080");
        assert_eq!(base_url(Some("gpu-box")), "http://gpu-box:11434");
        assert_eq!(base_url(Some(":7000")), "http://127.0.0.1:7000");
    }

    #[test]
    fn a_bad_manifest_names_its_field() {
        let err = OllamaModel::from_bytes(br#"{"model": "m", "mode": "dance"}"#).unwrap_err();
        assert!(err.to_string().contains("field mode"), "{err}");
        assert!(OllamaModel::from_bytes(br#"{"model": " "}"#).is_err());
        let m = OllamaModel::from_bytes(br#"{"model": "m", "task": "embeddings"}"#).unwrap();
        assert_eq!(m.mode, OllamaMode::Embeddings);
    }
}

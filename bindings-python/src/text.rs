//! Text tasks: `Engine.embed`, `Engine.chat`, `Engine.generate` and `Engine.register_ollama`.
//! Mirrors the core's `engine::text` and `backend::ollama`.
//!
//! Every call releases the GIL for the network; a token callback re-acquires it only for the
//! length of each call.

use harper_edge_core::backend::ollama::{OllamaMode, OllamaModel};
use harper_edge_core::backend::{ChatMessage, Prompt};
use harper_edge_core::{
    Engine, Error, Framework, InferContext, ModelRef, ModelRegistration, Stage,
};
use numpy::{PyArray, PyArrayMethods};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyString};

use crate::error::{Detach, to_py_err};
use crate::json;
use crate::registry::PyModel;
use crate::telemetry::Seconds;

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map_or_else(|_| "object".into(), |n| n.to_string())
}

/// `texts` as strings: a list (or other sequence) of `str`, not a `str` itself.
fn texts_of(texts: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    let refuse =
        |found: String| PyTypeError::new_err(format!("texts must be a list of str, got {found}"));
    if texts.is_instance_of::<PyString>() {
        return Err(refuse("a str (wrap one text in a list: [text])".into()));
    }
    let items = texts.try_iter().map_err(|_| refuse(format!("a {}", type_name(texts))))?;
    items
        .map(|item| {
            let item = item?;
            item.cast::<PyString>()
                .map_err(|_| refuse(format!("a list holding a {}", type_name(&item))))?
                .to_str()
                .map(str::to_owned)
        })
        .collect()
}

/// `Engine.embed`: one `[n, dim]` float32 array, the core's buffer handed to numpy.
pub(crate) fn embed<'py>(
    py: Python<'py>,
    engine: &Engine,
    model: &str,
    texts: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let texts = texts_of(texts)?;
    let e = py.run_core(|| {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        engine.embed(&model.parse::<ModelRef>()?, &refs, &InferContext::new())
    })?;
    Ok(PyArray::from_vec(py, e.vectors).reshape([e.count, e.dim])?.into_any())
}

/// The messages of `prompt_or_messages` (a str, or a list of `{"role", "content"}` dicts),
/// `system` first when given.
fn messages_of(
    prompt_or_messages: &Bound<'_, PyAny>,
    system: Option<String>,
) -> PyResult<Vec<ChatMessage>> {
    let mut messages: Vec<ChatMessage> =
        system.map(|s| ChatMessage::new("system", s)).into_iter().collect();
    if let Ok(text) = prompt_or_messages.cast::<PyString>() {
        messages.push(ChatMessage::user(text.to_str()?));
        return Ok(messages);
    }
    let expected = "prompt_or_messages must be a str or a list of {'role': str, 'content': str} \
                    dicts";
    let items = prompt_or_messages.try_iter().map_err(|_| {
        PyTypeError::new_err(format!("{expected}, got a {}", type_name(prompt_or_messages)))
    })?;
    for item in items {
        let item = item?;
        let dict = item.cast::<PyDict>().map_err(|_| {
            PyTypeError::new_err(format!("{expected}, got a list holding a {}", type_name(&item)))
        })?;
        let field = |key: &str| -> PyResult<String> {
            match dict.get_item(key)? {
                Some(v) => v.cast::<PyString>().map(|s| s.to_string()).map_err(|_| {
                    PyTypeError::new_err(format!(
                        "message '{key}' must be a str, got a {}",
                        type_name(&v)
                    ))
                }),
                None => Err(to_py_err(
                    dict.py(),
                    &Error::invalid_input(format!("a chat message needs '{key}': {dict}")),
                )),
            }
        };
        messages.push(ChatMessage::new(field("role")?, field("content")?));
    }
    if messages.is_empty() {
        return Err(to_py_err(
            prompt_or_messages.py(),
            &Error::invalid_input("chat needs at least one message"),
        ));
    }
    Ok(messages)
}

/// What the generation is asked.
pub(crate) enum Ask {
    Text(String),
    Chat(Vec<ChatMessage>),
}

impl Ask {
    pub(crate) fn chat(
        prompt_or_messages: &Bound<'_, PyAny>,
        system: Option<String>,
    ) -> PyResult<Self> {
        messages_of(prompt_or_messages, system).map(Ask::Chat)
    }
}

/// `Engine.chat` / `Engine.generate`: streams pieces to `on_token` (GIL re-acquired for each
/// call), returns the `GenerateResult` as a dict (camelCase keys). `on_token` raising stops
/// the answer and the exception propagates; returning `False` stops it (`cancelled`).
pub(crate) fn generate<'py>(
    py: Python<'py>,
    engine: &Engine,
    model: &str,
    ask: &Ask,
    on_token: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    if let Some(f) = on_token
        && !f.is_callable()
    {
        return Err(PyTypeError::new_err(format!(
            "on_token must be a callable taking a str, got a {}",
            type_name(f)
        )));
    }
    let callback: Option<Py<PyAny>> = on_token.map(|f| f.clone().unbind());
    let mut raised: Option<PyErr> = None;
    let result = py.run_core(|| {
        let reference = model.parse::<ModelRef>()?;
        let prompt = match ask {
            Ask::Text(t) => Prompt::Text(t),
            Ask::Chat(m) => Prompt::Chat(m),
        };
        let mut on_chunk = |piece: &str| -> bool {
            let Some(callback) = &callback else { return true };
            Python::attach(|py| match callback.call1(py, (piece,)) {
                Ok(answer) => {
                    let answer = answer.bind(py);
                    // Only an explicit False stops: None (no return) goes on.
                    !answer.is_instance_of::<PyBool>() || answer.is_truthy().unwrap_or(true)
                }
                Err(e) => {
                    raised = Some(e);
                    false
                }
            })
        };
        engine.generate(&reference, &prompt, &InferContext::new(), &mut on_chunk)
    });
    if let Some(e) = raised {
        return Err(e);
    }
    json::record_to_py(py, serde_json::to_value(&result?))
}

/// The arguments of `Engine.register_ollama`.
pub(crate) struct OllamaArgs<'a, 'py> {
    pub(crate) name: &'a str,
    pub(crate) version: &'a str,
    pub(crate) model: String,
    pub(crate) mode: &'a str,
    pub(crate) host: Option<String>,
    pub(crate) options: Option<&'a Bound<'py, PyAny>>,
    pub(crate) read_timeout: Option<Seconds>,
    pub(crate) stage: &'a str,
    pub(crate) metadata: Option<&'a Bound<'py, PyAny>>,
}

/// `Engine.register_ollama`: the manifest as the model file, framework `ollama`.
pub(crate) fn register_ollama(
    py: Python<'_>,
    engine: &Engine,
    args: OllamaArgs<'_, '_>,
) -> PyResult<PyModel> {
    let mode: OllamaMode = serde_json::from_value(serde_json::Value::String(args.mode.to_string()))
        .map_err(|_| {
            to_py_err(
                py,
                &Error::invalid_input(format!(
                    "mode must be 'embeddings', 'chat' or 'generate', got '{}'",
                    args.mode
                )),
            )
        })?;
    let mut manifest = OllamaModel::new(args.model, mode);
    manifest.host = args.host;
    manifest.options = args.options.map(json::from_py).transpose()?;
    if let Some(t) = crate::fetch::timeout("read_timeout", args.read_timeout)? {
        manifest.read_timeout_ms = Some(u64::try_from(t.as_millis()).unwrap_or(u64::MAX));
    }
    let metadata = args.metadata.map(json::from_py).transpose()?;
    let (name, version, stage) = (args.name, args.version, args.stage);
    py.run_core(|| {
        // Checked here as the core checks a manifest it loads (an empty model name).
        let bytes = manifest.to_bytes();
        OllamaModel::from_bytes(&bytes)?;
        let mut registration = ModelRegistration::new(name, version, Framework::Ollama)
            .bytes(bytes)
            .stage(stage.parse::<Stage>()?);
        if let Some(metadata) = metadata {
            registration = registration.metadata(metadata);
        }
        engine.register_model(registration)
    })
    .map(PyModel::from)
}

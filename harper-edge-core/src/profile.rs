//! Profiles: JSON files naming a set of models to deploy in one command, in the original
//! system's schema.
//!
//! ```json
//! {
//!   "name": "minimal",
//!   "description": "One tabular classifier",
//!   "models": [{
//!     "modelName": "iris", "modelVersion": "v1", "framework": "onnx", "stage": "candidate",
//!     "metadata": {"taskType": "classification"},
//!     "modelBlob": {"source": "filesystem", "path": "../tests/data/iris_logreg.onnx"}
//!   }]
//! }
//! ```
//!
//! `modelBlob` (or `source`) takes the original's forms:
//!
//! | form | meaning |
//! |---|---|
//! | `{"source": "huggingface", "model": "org/name", "file": "onnx/model.onnx"}` | a Hub repository (`repo` for `model`, `files` for several, `revision`, `variant`) |
//! | `{"source": "url", "url": "https://…", "sha256": "…"}` | one file over HTTP(S) |
//! | `{"source": "filesystem", "path": "models/x.onnx"}` | a file or directory on this machine |
//! | `{"modelName": "org/name", "taskType": …}` | a Hub repository (the original's Transformers.js form) |
//! | `{"modelName": "nomic-embed-text", "mode": …}` with framework `ollama` | a model a runtime serves: no file |
//! | a string | `hf:org/name[@rev]`, a URL, a path, or (framework `ollama` / `tensorflow`) a runtime model id |
//!
//! Relative paths are read from the profile's directory. With [`DeployOptions::root`] set
//! (a server deploying profiles it was sent), every path must lie inside that root.
//!
//! The original's free-form stages `development`, `testing` and `benchmarking` are read as
//! `candidate`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::backend::{self, Framework};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::fetch::FetchOptions;
use crate::fetch::jobs::{FetchJob, FetchRequest, JobError, JobRegistration, JobState, SourceSpec};
use crate::registry::{ModelRef, Stage};

/// A parsed profile (serde camelCase).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// Profile name.
    pub name: String,
    /// What it is for.
    #[serde(default)]
    pub description: Option<String>,
    /// The models.
    pub models: Vec<ProfileModel>,
    /// The directory relative paths are read from (the profile file's directory).
    #[serde(skip)]
    pub base_dir: PathBuf,
}

/// One model of a profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileModel {
    /// Model name.
    pub model_name: String,
    /// Model version.
    pub model_version: String,
    /// Framework.
    pub framework: Framework,
    /// Lifecycle stage.
    pub stage: Stage,
    /// Metadata (taskType, equivalenceGroup, outputDimensions, …).
    pub metadata: Value,
    /// Where the files come from; `None` for a model a runtime serves (Ollama).
    pub source: Option<SourceSpec>,
    /// The runtime's model id, for a model without files.
    pub runtime_model: Option<String>,
    /// What the runtime model is for (`embeddings`, `chat`, `generate`): the blob's `mode`,
    /// else `embeddings` for a `text-embedding` taskType, else `chat`.
    pub runtime_mode: Option<String>,
    /// Fetch options from the blob (`variant`, `sha256`).
    pub options: FetchOptions,
}

impl ProfileModel {
    /// `name:version`.
    pub fn id(&self) -> String {
        FetchJob::id_of(&self.model_name, &self.model_version)
    }
}

/// A problem found in a profile: which model, which field, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileProblem {
    /// The model (`modelName`, else `models[i]`), or none for the profile itself.
    pub model: Option<String>,
    /// The field path (`models[1].modelBlob.path`).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ProfileProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.model {
            Some(m) => write!(f, "model '{m}', field {}: {}", self.field, self.message),
            None => write!(f, "field {}: {}", self.field, self.message),
        }
    }
}

impl Profile {
    /// Reads and validates the profile file at `path`.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when it cannot be read; [`Error::InvalidInput`] listing every problem
    /// ([`Profile::problems`]), each naming the model and the field.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let base = path.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let base = if base.as_os_str().is_empty() { PathBuf::from(".") } else { base };
        Self::parse(&text, base).map_err(|e| match e {
            Error::InvalidInput { message } => {
                Error::invalid_input(format!("profile '{}': {message}", path.display()))
            }
            other => other,
        })
    }

    /// Parses and validates profile JSON; relative paths are read from `base_dir`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] listing every problem found.
    ///
    /// # Examples
    ///
    /// ```
    /// use harper_edge_core::profile::Profile;
    ///
    /// let bad = r#"{"name": "p", "models": [{"modelName": "m", "modelVersion": "1",
    ///     "framework": "onnx", "modelBlob": {"source": "filesystem"}}]}"#;
    /// let err = Profile::parse(bad, ".").unwrap_err().to_string();
    /// assert!(err.contains("model 'm', field models[0].modelBlob.path"), "{err}");
    /// ```
    pub fn parse(text: &str, base_dir: impl Into<PathBuf>) -> Result<Self> {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            Error::invalid_input(format!(
                "not valid JSON (line {}, column {}): {e}",
                e.line(),
                e.column()
            ))
        })?;
        let (profile, problems) = Self::read(&value, base_dir.into());
        match profile {
            Some(p) if problems.is_empty() => Ok(p),
            _ => Err(Error::invalid_input(format!(
                "{} problem{}: {}",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" },
                problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
            ))),
        }
    }

    /// Every problem in profile JSON (empty when it is valid).
    pub fn problems(value: &Value) -> Vec<ProfileProblem> {
        Self::check(value, ".").1
    }

    /// Reads profile JSON once: the profile when it has no problem, and every problem
    /// (relative paths are read from `base_dir`).
    pub fn check(
        value: &Value,
        base_dir: impl Into<PathBuf>,
    ) -> (Option<Self>, Vec<ProfileProblem>) {
        let (profile, problems) = Self::read(value, base_dir.into());
        (profile.filter(|_| problems.is_empty()), problems)
    }

    fn read(value: &Value, base_dir: PathBuf) -> (Option<Self>, Vec<ProfileProblem>) {
        let mut problems = Vec::new();
        let mut top = |field: &str, message: String| {
            problems.push(ProfileProblem { model: None, field: field.into(), message });
        };
        let Some(obj) = value.as_object() else {
            top("(root)", "a profile is a JSON object".into());
            return (None, problems);
        };
        let name = match obj.get("name") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
            Some(_) => {
                top("name", "must be a non-empty string".into());
                String::new()
            }
            None => {
                top("name", "is missing".into());
                String::new()
            }
        };
        let description = match obj.get("description") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                top("description", "must be a string".into());
                None
            }
        };
        let entries = match obj.get("models") {
            Some(Value::Array(a)) => a.as_slice(),
            Some(_) => {
                top("models", "must be an array".into());
                &[]
            }
            None => {
                top("models", "is missing".into());
                &[]
            }
        };
        let mut models = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (i, entry) in entries.iter().enumerate() {
            let mut p = EntryProblems { index: i, label: None, problems: &mut problems };
            if let Some(m) = read_model(entry, &base_dir, &mut p) {
                if !seen.insert(m.id()) {
                    p.push("modelVersion", format!("'{}' is listed twice", m.id()));
                } else {
                    models.push(m);
                }
            }
        }
        (Some(Profile { name, description, models, base_dir }), problems)
    }
}

struct EntryProblems<'p> {
    index: usize,
    label: Option<String>,
    problems: &'p mut Vec<ProfileProblem>,
}

impl EntryProblems<'_> {
    fn push(&mut self, field: &str, message: impl Into<String>) {
        self.problems.push(ProfileProblem {
            model: Some(self.label.clone().unwrap_or_else(|| format!("models[{}]", self.index))),
            field: format!("models[{}].{field}", self.index),
            message: message.into(),
        });
    }
}

fn string_field(
    obj: &serde_json::Map<String, Value>,
    key: &str,
    p: &mut EntryProblems<'_>,
) -> Option<String> {
    match obj.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        Some(_) => {
            p.push(key, "must be a non-empty string");
            None
        }
        None => {
            p.push(key, "is missing");
            None
        }
    }
}

fn read_model(entry: &Value, base: &Path, p: &mut EntryProblems<'_>) -> Option<ProfileModel> {
    let Some(obj) = entry.as_object() else {
        p.push("", "a model entry is a JSON object");
        return None;
    };
    if let Some(Value::String(n)) = obj.get("modelName") {
        p.label = Some(n.clone());
    }
    let name = string_field(obj, "modelName", p);
    let version = string_field(obj, "modelVersion", p);
    if let (Some(n), Some(v)) = (&name, &version)
        && let Err(e) = ModelRef::new(n, Some(v))
    {
        p.push("modelName", e.to_string());
    }
    let framework = match obj.get("framework") {
        Some(Value::String(s)) => match s.parse::<Framework>() {
            Ok(f) => Some(f),
            Err(e) => {
                p.push("framework", e.to_string());
                None
            }
        },
        Some(_) => {
            p.push("framework", "must be a string");
            None
        }
        None => {
            p.push("framework", "is missing");
            None
        }
    };
    let stage = match obj.get("stage") {
        None | Some(Value::Null) => Stage::default(),
        Some(Value::String(s)) => match s.as_str() {
            "development" | "testing" | "benchmarking" => Stage::Candidate,
            other => other.parse().unwrap_or_else(|e: Error| {
                p.push("stage", e.to_string());
                Stage::default()
            }),
        },
        Some(_) => {
            p.push("stage", "must be a string");
            Stage::default()
        }
    };
    let metadata = match obj.get("metadata") {
        None | Some(Value::Null) => Value::Object(serde_json::Map::new()),
        Some(m @ Value::Object(map)) => {
            if let Some(d) = map.get("outputDimensions")
                && !d.as_array().is_some_and(|a| {
                    !a.is_empty() && a.iter().all(|x| x.as_u64().is_some_and(|n| n > 0))
                })
            {
                p.push(
                    "metadata.outputDimensions",
                    "must be a non-empty array of positive integers",
                );
            }
            for key in ["taskType", "equivalenceGroup", "description"] {
                if map.get(key).is_some_and(|v| !v.is_string()) {
                    p.push(&format!("metadata.{key}"), "must be a string");
                }
            }
            if map
                .get("tags")
                .is_some_and(|v| !v.as_array().is_some_and(|a| a.iter().all(Value::is_string)))
            {
                p.push("metadata.tags", "must be an array of strings");
            }
            m.clone()
        }
        Some(_) => {
            p.push("metadata", "must be a JSON object");
            Value::Null
        }
    };
    let (blob_key, blob) = match (obj.get("modelBlob"), obj.get("source")) {
        (Some(b), _) => ("modelBlob", Some(b)),
        (None, Some(b)) => ("source", Some(b)),
        (None, None) => ("modelBlob", None),
    };
    let Some(blob) = blob else {
        p.push("modelBlob", "is missing: say where the model comes from");
        return None;
    };
    let framework = framework?;
    let (source, runtime_model, options, mode) = read_blob(blob, blob_key, framework, base, p)?;
    let runtime_mode = runtime_model.as_ref().map(|_| {
        mode.unwrap_or_else(|| {
            let embedding =
                metadata.get("taskType").and_then(Value::as_str) == Some("text-embedding");
            if embedding { "embeddings" } else { "chat" }.to_string()
        })
    });
    Some(ProfileModel {
        model_name: name?,
        model_version: version?,
        framework,
        stage,
        metadata,
        source,
        runtime_model,
        runtime_mode,
        options,
    })
}

type Blob = (Option<SourceSpec>, Option<String>, FetchOptions, Option<String>);

fn runtime_framework(f: Framework) -> bool {
    matches!(f, Framework::Ollama | Framework::Tensorflow)
}

fn read_blob(
    blob: &Value,
    key: &str,
    framework: Framework,
    base: &Path,
    p: &mut EntryProblems<'_>,
) -> Option<Blob> {
    let mut options = FetchOptions::default();
    match blob {
        Value::String(s) => {
            if runtime_framework(framework) && !s.starts_with("hf:") && !s.contains("://") {
                return Some((None, Some(s.clone()), options, None));
            }
            match spec_from_str(s, base) {
                Ok(spec) => Some((Some(spec), None, options, None)),
                Err(e) => {
                    p.push(key, e.to_string());
                    None
                }
            }
        }
        Value::Object(o) => {
            let get = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_string);
            if let Some(v) = get("variant") {
                options.variant = Some(v);
            }
            if let Some(sha) = get("sha256") {
                options.expected_sha256 = Some(sha);
            }
            let kind = get("source");
            let spec = match kind.as_deref() {
                Some("huggingface" | "hf") => {
                    let Some(repo) =
                        get("model").or_else(|| get("repo")).or_else(|| get("modelName"))
                    else {
                        p.push(
                            &format!("{key}.model"),
                            "is missing: the Hugging Face repository ('org/name')",
                        );
                        return None;
                    };
                    let mut files: Vec<String> = get("file").into_iter().collect();
                    match o.get("files") {
                        None => {}
                        Some(Value::Array(a)) if a.iter().all(Value::is_string) => {
                            files.extend(a.iter().filter_map(Value::as_str).map(str::to_string));
                        }
                        Some(_) => {
                            p.push(&format!("{key}.files"), "must be an array of file paths");
                            return None;
                        }
                    }
                    hf_spec(&repo, get("revision"), files, framework, &mut options)
                }
                Some("url" | "http" | "https") => {
                    let Some(url) = get("url") else {
                        p.push(&format!("{key}.url"), "is missing");
                        return None;
                    };
                    SourceSpec::http(url)
                }
                Some("filesystem" | "fs" | "file") => {
                    let Some(path) = get("path") else {
                        p.push(
                            &format!("{key}.path"),
                            "is missing: the file or directory to import",
                        );
                        return None;
                    };
                    Ok(fs_spec(&path, base))
                }
                Some(other) => {
                    p.push(
                        &format!("{key}.source"),
                        format!(
                            "unknown source '{other}' (expected huggingface, url or filesystem)"
                        ),
                    );
                    return None;
                }
                None => match get("modelName") {
                    Some(id) if runtime_framework(framework) => {
                        let mode = get("mode");
                        if let Some(m) = &mode
                            && !matches!(m.as_str(), "embeddings" | "chat" | "generate")
                        {
                            p.push(
                                &format!("{key}.mode"),
                                format!(
                                    "unknown mode '{m}' (expected embeddings, chat or generate)"
                                ),
                            );
                            return None;
                        }
                        return Some((None, Some(id), options, mode));
                    }
                    Some(repo) => {
                        hf_spec(&repo, get("revision"), Vec::new(), framework, &mut options)
                    }
                    None => {
                        p.push(
                            &format!("{key}.source"),
                            "is missing (expected huggingface, url or filesystem, or a modelName)",
                        );
                        return None;
                    }
                },
            };
            match spec {
                Ok(spec) => Some((Some(spec), None, options, None)),
                Err(e) => {
                    p.push(key, e.to_string());
                    None
                }
            }
        }
        _ => {
            p.push(key, "must be a string or an object");
            None
        }
    }
}

fn hf_spec(
    repo: &str,
    revision: Option<String>,
    files: Vec<String>,
    framework: Framework,
    options: &mut FetchOptions,
) -> Result<SourceSpec> {
    let SourceSpec::Hf { repo, endpoint, .. } = SourceSpec::hf(repo)? else {
        return Err(Error::invalid_input("not a Hugging Face source"));
    };
    // A transformers (candle) model loads safetensors weights, not an ONNX export.
    if framework == Framework::Transformers && files.is_empty() && options.variant.is_none() {
        options.variant = Some("safetensors".into());
    }
    Ok(SourceSpec::Hf { repo, revision, files, endpoint })
}

fn spec_from_str(s: &str, base: &Path) -> Result<SourceSpec> {
    if s.starts_with("hf:") || s.contains("://") {
        return SourceSpec::parse(s);
    }
    Ok(fs_spec(s, base))
}

/// A path from a profile: relative to the profile's directory, imported with its own parent
/// as the root (so `..` in the profile's own path is allowed; [`DeployOptions::root`]
/// confines paths for profiles from elsewhere).
fn fs_spec(path: &str, base: &Path) -> SourceSpec {
    let full = if Path::new(path).is_absolute() { PathBuf::from(path) } else { base.join(path) };
    let full = std::fs::canonicalize(&full).unwrap_or(full);
    let root = full.parent().map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
    let name =
        full.file_name().map_or_else(|| path.to_string(), |n| n.to_string_lossy().into_owned());
    SourceSpec::Fs { root, path: name }
}

/// Settings of [`deploy`].
#[derive(Debug, Clone)]
pub struct DeployOptions {
    /// When set, every filesystem path of the profile must lie inside this directory
    /// (relative paths are read from it): for profiles a server was sent.
    pub root: Option<PathBuf>,
    /// Longest wait for all fetches (default one hour).
    pub timeout: Duration,
    /// Only check the profile and report what would be done.
    pub dry_run: bool,
}

impl Default for DeployOptions {
    fn default() -> Self {
        DeployOptions { root: None, timeout: Duration::from_secs(3600), dry_run: false }
    }
}

/// What deploy did with one model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeployAction {
    /// It was registered already; nothing was fetched.
    AlreadyRegistered,
    /// Its files were fetched (or found in the content store) and it was registered.
    Registered,
    /// It would be fetched and registered (dry run).
    WouldRegister,
    /// It could not be deployed: see the error.
    Failed,
}

/// One model's outcome (serde camelCase).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployEntry {
    /// `name:version`.
    pub model_id: String,
    /// What happened.
    pub action: DeployAction,
    /// The fetch job, when one ran.
    pub job_id: Option<String>,
    /// Bytes fetched.
    pub bytes: u64,
    /// Why it failed.
    pub error: Option<JobError>,
}

/// What [`deploy`] did (serde camelCase).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployReport {
    /// The profile's name.
    pub profile: String,
    /// One entry per model, in profile order.
    pub models: Vec<DeployEntry>,
    /// Wall time in milliseconds.
    pub elapsed_ms: u64,
}

impl DeployReport {
    /// Whether every model is registered (or would be, for a dry run).
    pub fn ok(&self) -> bool {
        self.models.iter().all(|m| m.action != DeployAction::Failed)
    }

    /// How many entries took `action`.
    pub fn count(&self, action: DeployAction) -> usize {
        self.models.iter().filter(|m| m.action == action).count()
    }
}

/// Registers a model a runtime serves (no file to fetch): an Ollama manifest.
fn register_runtime(engine: &Engine, m: &ProfileModel) -> Result<()> {
    let id = m.id();
    let model = m.runtime_model.as_deref().unwrap_or_default();
    match m.framework {
        #[cfg(feature = "ollama")]
        Framework::Ollama => {
            use crate::backend::ollama::{OllamaMode, OllamaModel};
            let mode = match m.runtime_mode.as_deref() {
                Some("embeddings") => OllamaMode::Embeddings,
                Some("generate") => OllamaMode::Generate,
                _ => OllamaMode::Chat,
            };
            let manifest = OllamaModel::new(model, mode).to_bytes();
            engine.register_model(
                crate::registry::ModelRegistration::new(
                    &m.model_name,
                    &m.model_version,
                    m.framework,
                )
                .bytes(manifest)
                .stage(m.stage)
                .metadata(m.metadata.clone()),
            )?;
            Ok(())
        }
        _ => {
            let _ = engine;
            Err(Error::invalid_input(format!(
                "'{id}' is served by a runtime ({model}) that harper-edge cannot register for \
                 framework {}",
                m.framework
            )))
        }
    }
}

fn confine(spec: &SourceSpec, profile: &Profile, root: &Path) -> Result<SourceSpec> {
    let SourceSpec::Fs { root: r, path } = spec else { return Ok(spec.clone()) };
    let full = r.join(path);
    let base =
        std::fs::canonicalize(&profile.base_dir).unwrap_or_else(|_| profile.base_dir.clone());
    // Lexically: a path that climbs above the profile's directory is refused whether or
    // not its target exists (the import then checks symlinks on disk).
    let mut relative = PathBuf::new();
    let inside = full.strip_prefix(&base).ok().is_some_and(|rest| {
        rest.components().all(|c| match c {
            std::path::Component::Normal(part) => {
                relative.push(part);
                true
            }
            std::path::Component::CurDir => true,
            std::path::Component::ParentDir => relative.pop(),
            _ => false,
        })
    });
    if !inside || relative.as_os_str().is_empty() {
        return Err(Error::invalid_input(format!(
            "path '{}' is outside the deploy root '{}'",
            full.display(),
            root.display()
        )));
    }
    Ok(SourceSpec::Fs { root: root.to_path_buf(), path: relative.to_string_lossy().into_owned() })
}

/// Deploys `profile` on `engine`: models already registered are left alone; the others are
/// fetched (a fetch job each, run by the engine's queue with its concurrency) and
/// registered; then waits for every job. `progress` is called with each job as it changes
/// (about every 200 ms). Idempotent: a second deploy of the same profile registers nothing
/// new, and re-runs jobs that failed.
///
/// # Errors
///
/// [`Error::InvalidInput`] when the engine cannot fetch (no data directory); failures of
/// single models are in the report, not errors.
pub fn deploy(
    engine: &Engine,
    profile: &Profile,
    options: &DeployOptions,
    progress: &mut dyn FnMut(&FetchJob),
) -> Result<DeployReport> {
    let started = Instant::now();
    let mut entries: Vec<DeployEntry> = Vec::with_capacity(profile.models.len());
    let mut pending: Vec<(usize, String)> = Vec::new();
    let queue = if options.dry_run { None } else { Some(engine.fetch_queue()?) };
    for m in &profile.models {
        let id = m.id();
        let mut entry = DeployEntry {
            model_id: id.clone(),
            action: DeployAction::Failed,
            job_id: None,
            bytes: 0,
            error: None,
        };
        let outcome = (|| -> Result<Option<FetchJob>> {
            if engine.store().model(&m.model_name, &m.model_version)?.is_some() {
                entry.action = DeployAction::AlreadyRegistered;
                return Ok(None);
            }
            backend::for_model(m.framework, &m.metadata)?;
            let Some(spec) = &m.source else {
                if options.dry_run {
                    entry.action = DeployAction::WouldRegister;
                    return Ok(None);
                }
                register_runtime(engine, m)?;
                entry.action = DeployAction::Registered;
                return Ok(None);
            };
            let spec = match &options.root {
                Some(root) => confine(spec, profile, root)?,
                None => spec.clone(),
            };
            let Some(queue) = &queue else {
                entry.action = DeployAction::WouldRegister;
                return Ok(None);
            };
            let registration = JobRegistration {
                framework: Some(m.framework),
                stage: m.stage,
                metadata: m.metadata.clone(),
                main_file: None,
            };
            let request = FetchRequest::new(&m.model_name, &m.model_version, spec)
                .options(m.options.clone())
                .registration(registration);
            let mut job = queue.submit_request(request)?;
            if matches!(job.state, JobState::Failed | JobState::Cancelled) {
                job = queue.retry(&job.id)?;
            }
            Ok(Some(job))
        })();
        match outcome {
            Ok(Some(job)) => {
                entry.job_id = Some(job.id.clone());
                pending.push((entries.len(), job.id));
            }
            Ok(None) => {}
            Err(e) => entry.error = Some(JobError::from(&e)),
        }
        entries.push(entry);
    }
    if let Some(queue) = &queue {
        let deadline = started + options.timeout;
        for (i, id) in pending {
            let job = loop {
                let job = queue.get(&id)?;
                progress(&job);
                if job.state.is_terminal() {
                    break job;
                }
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break job;
                }
                let job = queue.wait(&id, left.min(Duration::from_millis(200)))?;
                if job.state.is_terminal() {
                    progress(&job);
                    break job;
                }
            };
            let entry = &mut entries[i];
            entry.bytes = job.result.as_ref().map_or(0, |r| r.files.iter().map(|f| f.size).sum());
            match job.state {
                JobState::Completed => entry.action = DeployAction::Registered,
                JobState::Failed | JobState::Cancelled => {
                    entry.error = job.error.clone().or_else(|| {
                        Some(JobError::from(&Error::invalid_input(format!(
                            "fetch job '{id}' was cancelled"
                        ))))
                    });
                }
                _ => {
                    entry.error = Some(JobError::from(&Error::Network {
                        message: format!(
                            "fetch job '{id}' did not finish within {} s (it keeps running)",
                            options.timeout.as_secs()
                        ),
                        status: None,
                        retryable: true,
                        source: None,
                    }));
                }
            }
        }
    }
    Ok(DeployReport {
        profile: profile.name.clone(),
        models: entries,
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}

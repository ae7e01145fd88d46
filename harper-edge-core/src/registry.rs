//! Model records: what a registered model is, how it is named, where its file lives.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::backend::Framework;
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::fetch::{FileRecord, Provenance};
use crate::tensor::TensorInfo;

/// Lifecycle stage of a model (the original design's Milestone C stages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Stage {
    /// Registered, not yet validated. The default.
    #[default]
    Candidate,
    /// Validated, serving test traffic.
    Staging,
    /// Serving production traffic.
    Production,
    /// Retired; kept for rollback and audit.
    Archived,
}

impl Stage {
    /// The lowercase name used in records.
    pub const fn as_str(self) -> &'static str {
        match self {
            Stage::Candidate => "candidate",
            Stage::Staging => "staging",
            Stage::Production => "production",
            Stage::Archived => "archived",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Stage {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "candidate" => Ok(Stage::Candidate),
            "staging" => Ok(Stage::Staging),
            "production" => Ok(Stage::Production),
            "archived" => Ok(Stage::Archived),
            other => Err(Error::invalid_input(format!(
                "unknown stage '{other}' (expected candidate, staging, production or archived)"
            ))),
        }
    }
}

/// A registered model (the original design's `Model` table, without the file bytes, which are
/// stored once per sha256 beside the records).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Model {
    /// `name:version`.
    pub id: String,
    /// Model name.
    pub model_name: String,
    /// Model version.
    pub model_version: String,
    /// Model format.
    pub framework: Framework,
    /// Lifecycle stage.
    pub stage: Stage,
    /// Size of the model file in bytes.
    pub blob_size: u64,
    /// Hex sha256 of the model file; the key under which the file is stored.
    pub sha256: String,
    /// Declared inputs, as the backend reported them at registration.
    pub input_schema: Vec<TensorInfo>,
    /// Declared outputs.
    pub output_schema: Vec<TensorInfo>,
    /// Free-form metadata (taskType, equivalenceGroup, outputDimensions, description, tags, …).
    pub metadata: Value,
    /// When the model was registered.
    pub uploaded_at: Timestamp,
    /// Where the model file came from, when it was fetched (source, reference, revision,
    /// variant, sha256, size, fetchedAt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
    /// Every file of a fetched model — the model file and its companions (tokenizer.json,
    /// config.json, …) — each stored by its sha256 in the data directory. Empty for a model
    /// registered from one local file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileRecord>,
}

impl Model {
    /// The metadata's `taskType`, when it has one.
    pub fn task_type(&self) -> Option<&str> {
        self.metadata.get("taskType").and_then(Value::as_str)
    }
}

/// Which models [`crate::Engine::list_models`] returns: every field set must match.
///
/// # Examples
///
/// ```
/// use harper_edge_core::registry::ModelFilter;
/// use harper_edge_core::{Framework, Stage};
///
/// let filter = ModelFilter { framework: Some(Framework::Onnx), stage: Some(Stage::Production), ..Default::default() };
/// assert!(filter.name.is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelFilter {
    /// Model name.
    pub name: Option<String>,
    /// Framework.
    pub framework: Option<Framework>,
    /// The metadata's `taskType`.
    pub task_type: Option<String>,
    /// Lifecycle stage.
    pub stage: Option<Stage>,
}

impl ModelFilter {
    /// Whether `model` passes the filter.
    pub fn matches(&self, model: &Model) -> bool {
        self.name.as_ref().is_none_or(|n| *n == model.model_name)
            && self.framework.is_none_or(|f| f == model.framework)
            && self.task_type.as_deref().is_none_or(|t| model.task_type() == Some(t))
            && self.stage.is_none_or(|s| s == model.stage)
    }
}

/// A reference to a model: `name` (the newest version) or `name:version`.
///
/// # Examples
///
/// ```
/// use harper_edge_core::ModelRef;
///
/// let r: ModelRef = "iris:v1".parse()?;
/// assert_eq!((r.name.as_str(), r.version.as_deref()), ("iris", Some("v1")));
/// let r: ModelRef = "iris".parse()?;
/// assert_eq!(r.version, None);
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ModelRef {
    /// Model name.
    pub name: String,
    /// Version; `None` means the most recently registered version.
    pub version: Option<String>,
}

impl ModelRef {
    /// A reference to `name` at `version` (or the newest version).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when the name or version is not a valid identifier.
    pub fn new(name: &str, version: Option<&str>) -> Result<Self> {
        validate_ident("model name", name)?;
        if let Some(v) = version {
            validate_ident("model version", v)?;
        }
        Ok(ModelRef { name: name.to_string(), version: version.map(str::to_string) })
    }
}

impl FromStr for ModelRef {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.split_once(':') {
            Some((name, version)) => ModelRef::new(name, Some(version)),
            None => ModelRef::new(s, None),
        }
    }
}

impl fmt::Display for ModelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.version {
            Some(v) => write!(f, "{}:{v}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// Names and versions: 1–128 characters of `A-Z a-z 0-9 . _ -`, not starting with `.` or `-`.
pub(crate) fn validate_ident(what: &str, s: &str) -> Result<()> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    let valid =
        !s.is_empty() && s.len() <= 128 && s.chars().all(ok_char) && !s.starts_with(['.', '-']);
    if valid {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "{what} '{s}' is invalid: use 1-128 characters of letters, digits, '.', '_' or '-', \
             not starting with '.' or '-'"
        )))
    }
}

/// Where a model file's bytes are.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ModelFile {
    /// A file on disk (the embedded store's content-addressed files).
    Path(PathBuf),
    /// Bytes in memory (the in-memory store).
    Bytes(Arc<[u8]>),
}

/// The data a model is registered from.
#[derive(Debug, Clone)]
enum RegistrationSource {
    Path(PathBuf),
    Bytes(Arc<[u8]>),
}

/// What [`crate::Engine::register_model`] needs: name, version, framework and the file.
///
/// # Examples
///
/// ```
/// use harper_edge_core::{Framework, ModelRegistration, Stage};
///
/// let reg = ModelRegistration::new("iris", "1", Framework::Onnx)
///     .file("tests/data/iris_logreg.onnx")
///     .stage(Stage::Production)
///     .metadata(serde_json::json!({"taskType": "classification"}));
/// assert_eq!(reg.name(), "iris");
/// ```
#[derive(Debug, Clone)]
pub struct ModelRegistration {
    name: String,
    version: String,
    framework: Framework,
    stage: Stage,
    metadata: Value,
    source: Option<RegistrationSource>,
    provenance: Option<Provenance>,
    files: Vec<FileRecord>,
}

impl ModelRegistration {
    /// Starts a registration of `name:version`.
    pub fn new(name: impl Into<String>, version: impl Into<String>, framework: Framework) -> Self {
        ModelRegistration {
            name: name.into(),
            version: version.into(),
            framework,
            stage: Stage::default(),
            metadata: Value::Object(serde_json::Map::new()),
            source: None,
            provenance: None,
            files: Vec::new(),
        }
    }

    /// Records where the model file came from ([`Model::provenance`]).
    #[must_use]
    pub fn provenance(mut self, provenance: Provenance) -> Self {
        self.provenance = Some(provenance);
        self
    }

    /// Records the model's stored files ([`Model::files`]).
    #[must_use]
    pub fn files(mut self, files: Vec<FileRecord>) -> Self {
        self.files = files;
        self
    }

    /// The recorded provenance.
    pub fn provenance_value(&self) -> Option<&Provenance> {
        self.provenance.as_ref()
    }

    /// The recorded files.
    pub fn files_value(&self) -> &[FileRecord] {
        &self.files
    }

    /// Reads the model from the file at `path`.
    #[must_use]
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.source = Some(RegistrationSource::Path(path.into()));
        self
    }

    /// Takes the model file's bytes.
    #[must_use]
    pub fn bytes(mut self, bytes: impl Into<Arc<[u8]>>) -> Self {
        self.source = Some(RegistrationSource::Bytes(bytes.into()));
        self
    }

    /// Sets the lifecycle stage (default [`Stage::Candidate`]).
    #[must_use]
    pub fn stage(mut self, stage: Stage) -> Self {
        self.stage = stage;
        self
    }

    /// Sets the metadata (a JSON object).
    #[must_use]
    pub fn metadata(mut self, metadata: Value) -> Self {
        self.metadata = metadata;
        self
    }

    /// The model name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The model version.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The framework.
    pub fn framework(&self) -> Framework {
        self.framework
    }

    /// The stage.
    pub fn stage_value(&self) -> Stage {
        self.stage
    }

    /// The metadata.
    pub fn metadata_value(&self) -> &Value {
        &self.metadata
    }

    /// Validates names and metadata and reads the file.
    pub(crate) fn validate_and_read(&self) -> Result<Arc<[u8]>> {
        validate_ident("model name", &self.name)?;
        validate_ident("model version", &self.version)?;
        if !self.metadata.is_object() {
            return Err(Error::invalid_input("model metadata must be a JSON object"));
        }
        match &self.source {
            None => Err(Error::invalid_input(format!(
                "model '{}:{}' has no file: call .file(path) or .bytes(data)",
                self.name, self.version
            ))),
            Some(RegistrationSource::Bytes(b)) => Ok(Arc::clone(b)),
            Some(RegistrationSource::Path(p)) => read_file(p),
        }
    }
}

fn read_file(path: &Path) -> Result<Arc<[u8]>> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(Error::invalid_input(format!("'{}' is not a regular file", path.display())));
    }
    std::fs::read(path).map(Arc::from).map_err(|e| Error::io(path, e))
}

/// Hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_ref_rejects_bad_names() {
        for bad in ["", ":1", "a:", "../x", "a b", "-x", "a:b:c"] {
            assert!(bad.parse::<ModelRef>().is_err(), "{bad:?} accepted");
        }
        assert_eq!("iris:1.0".parse::<ModelRef>().unwrap().to_string(), "iris:1.0");
    }

    #[test]
    fn registration_without_file_is_invalid_input() {
        let err =
            ModelRegistration::new("m", "1", Framework::Onnx).validate_and_read().unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
    }

    #[test]
    fn registration_of_missing_file_is_io() {
        let err = ModelRegistration::new("m", "1", Framework::Onnx)
            .file("/nonexistent/model.onnx")
            .validate_and_read()
            .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Io);
    }

    #[test]
    fn sha256_of_empty_input() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}

//! `Model`: a registered model record.

use harper_edge_core::Model;
use pyo3::prelude::*;

use crate::json;

/// A registered model. Read-only; `to_dict()` gives the record with its original camelCase
/// field names.
#[pyclass(frozen, name = "Model", module = "harper_edge")]
#[derive(Debug)]
pub(crate) struct PyModel {
    inner: Model,
}

impl From<Model> for PyModel {
    fn from(inner: Model) -> Self {
        PyModel { inner }
    }
}

#[pymethods]
impl PyModel {
    /// `name:version`.
    #[getter]
    fn id(&self) -> &str {
        &self.inner.id
    }

    /// Model name.
    #[getter]
    fn model_name(&self) -> &str {
        &self.inner.model_name
    }

    /// Model version.
    #[getter]
    fn model_version(&self) -> &str {
        &self.inner.model_version
    }

    /// Model format (`onnx`, …).
    #[getter]
    fn framework(&self) -> &'static str {
        self.inner.framework.as_str()
    }

    /// Lifecycle stage (`candidate`, `staging`, `production`, `archived`).
    #[getter]
    fn stage(&self) -> &'static str {
        self.inner.stage.as_str()
    }

    /// Size of the model file in bytes.
    #[getter]
    fn blob_size(&self) -> u64 {
        self.inner.blob_size
    }

    /// Hex sha256 of the model file.
    #[getter]
    fn sha256(&self) -> &str {
        &self.inner.sha256
    }

    /// Declared inputs: dicts with `name`, `dtype` and `shape` (`None` for a dynamic dimension).
    #[getter]
    fn input_schema<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json::record_to_py(py, serde_json::to_value(&self.inner.input_schema))
    }

    /// Declared outputs, as `input_schema`.
    #[getter]
    fn output_schema<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json::record_to_py(py, serde_json::to_value(&self.inner.output_schema))
    }

    /// Free-form metadata given at registration.
    #[getter]
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json::to_py(py, &self.inner.metadata)
    }

    /// Where the model file came from, when it was fetched (`Engine.fetch_model`): a dict
    /// with camelCase keys (`source`, `reference`, `revision`, `variant`, `sha256`, `size`,
    /// `fetchedAt`); `None` for a model registered from a file.
    #[getter]
    fn provenance<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json::record_to_py(py, serde_json::to_value(&self.inner.provenance))
    }

    /// Every fetched file of the model (the model file and its companions: tokenizer,
    /// config): dicts with `name`, `sha256`, `size` and `provenance`; empty for a model
    /// registered from a file.
    #[getter]
    fn files<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json::record_to_py(py, serde_json::to_value(&self.inner.files))
    }

    /// When the model was registered, in milliseconds since the Unix epoch.
    #[getter]
    fn uploaded_at(&self) -> i64 {
        self.inner.uploaded_at.as_millis()
    }

    /// The record with its original camelCase field names (`modelName`, `uploadedAt`, …).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json::record_to_py(py, serde_json::to_value(&self.inner))
    }

    fn __repr__(&self) -> String {
        format!(
            "Model(id='{}', framework='{}', stage='{}', blob_size={})",
            self.inner.id,
            self.inner.framework.as_str(),
            self.inner.stage.as_str(),
            self.inner.blob_size
        )
    }
}

//! `InferenceEvent`: the record of one inference call and its feedback.

use harper_edge_core::InferenceEvent;
use pyo3::prelude::*;

use crate::json;

/// One inference call, with the ground truth recorded later by `Engine.feedback`. Read-only;
/// `to_dict()` gives the record with its original camelCase field names.
#[pyclass(frozen, name = "InferenceEvent", module = "harper_edge")]
#[derive(Debug)]
pub(crate) struct PyInferenceEvent {
    inner: InferenceEvent,
}

impl From<InferenceEvent> for PyInferenceEvent {
    fn from(inner: InferenceEvent) -> Self {
        PyInferenceEvent { inner }
    }
}

#[pymethods]
impl PyInferenceEvent {
    /// The inference id (a UUID).
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

    /// The caller's request id, if it gave one.
    #[getter]
    fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }

    /// The caller's user id, if it gave one.
    #[getter]
    fn user_id(&self) -> Option<&str> {
        self.inner.user_id.as_deref()
    }

    /// The caller's session id, if it gave one.
    #[getter]
    fn session_id(&self) -> Option<&str> {
        self.inner.session_id.as_deref()
    }

    /// The inputs as nested lists (a dict by input name for multi-input models).
    #[getter]
    fn features_in<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json::to_py(py, &self.inner.features_in)
    }

    /// The prediction (`None` when the call failed).
    #[getter]
    fn prediction<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json::to_py(py, &self.inner.prediction)
    }

    /// Confidence of the prediction in `[0, 1]`, when the task defines one.
    #[getter]
    fn confidence(&self) -> Option<f64> {
        self.inner.confidence
    }

    /// Wall time of the call in milliseconds.
    #[getter]
    fn latency_ms(&self) -> f64 {
        self.inner.latency_ms
    }

    /// When the call was made, in milliseconds since the Unix epoch.
    #[getter]
    fn timestamp(&self) -> i64 {
        self.inner.timestamp.as_millis()
    }

    /// The error message, when the call failed.
    #[getter]
    fn error(&self) -> Option<&str> {
        self.inner.error.as_deref()
    }

    /// The ground truth given to `Engine.feedback`, if any.
    #[getter]
    fn actual_outcome<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner.actual_outcome.as_ref().map(|v| json::to_py(py, v)).transpose()
    }

    /// Whether the prediction matched the ground truth (`None` before feedback).
    #[getter]
    fn correct(&self) -> Option<bool> {
        self.inner.correct
    }

    /// When the ground truth was recorded, in milliseconds since the Unix epoch.
    #[getter]
    fn feedback_timestamp(&self) -> Option<i64> {
        self.inner.feedback_timestamp.map(|t| t.as_millis())
    }

    /// The record with its original camelCase field names (`modelName`, `featuresIn`, …).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json::record_to_py(py, serde_json::to_value(&self.inner))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let e = &self.inner;
        let outcome = match &e.error {
            Some(error) => format!("error={}", json::repr(py, &error.as_str().into())?),
            None => format!("prediction={}", json::repr(py, &e.prediction)?),
        };
        let correct = e.correct.map_or("None", |c| if c { "True" } else { "False" });
        Ok(format!(
            "InferenceEvent(id='{}', model='{}:{}', {outcome}, correct={correct})",
            e.id, e.model_name, e.model_version
        ))
    }
}

//! `InferenceEvent`: the record of one inference call and its feedback; the real-time view of
//! a model as a dict.

use harper_edge_core::{InferenceEvent, WindowStats};
use pyo3::prelude::*;
use pyo3::types::PyDict;

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

/// The real-time statistics of a model as a dict with snake_case keys (`RealtimeMetrics` in
/// the stubs); `None` where there is no data, timestamps as integer epoch milliseconds.
pub(crate) fn realtime_to_py<'py>(
    py: Python<'py>,
    stats: &WindowStats,
) -> PyResult<Bound<'py, PyDict>> {
    // Destructured in full, so a field added to the core fails to compile here until it is
    // added to the dict (and to `RealtimeMetrics` in `python/harper_edge/_types.py`).
    let WindowStats {
        window_start,
        window_end,
        request_count,
        error_count,
        error_rate,
        throughput_per_second,
        avg_latency,
        p50_latency,
        p95_latency,
        p99_latency,
        max_latency,
        avg_confidence,
        labelled_count,
        accuracy,
    } = stats;
    let dict = PyDict::new(py);
    dict.set_item("window_start", window_start.as_millis())?;
    dict.set_item("window_end", window_end.as_millis())?;
    dict.set_item("request_count", request_count)?;
    dict.set_item("error_count", error_count)?;
    dict.set_item("error_rate", error_rate)?;
    dict.set_item("throughput_per_second", throughput_per_second)?;
    dict.set_item("avg_latency", avg_latency)?;
    dict.set_item("p50_latency", p50_latency)?;
    dict.set_item("p95_latency", p95_latency)?;
    dict.set_item("p99_latency", p99_latency)?;
    dict.set_item("max_latency", max_latency)?;
    dict.set_item("avg_confidence", avg_confidence)?;
    dict.set_item("labelled_count", labelled_count)?;
    dict.set_item("accuracy", accuracy)?;
    Ok(dict)
}

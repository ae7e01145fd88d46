//! `InferenceEvent`: the record of one inference call and its feedback; the real-time view of
//! a model and its rollup rows (`ModelMetrics`) as dicts.

use harper_edge_core::{
    Error, Granularity, InferenceEvent, MetricsQuery, ModelMetrics, ModelRef, Timestamp,
    WindowStats,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDateTime, PyDelta, PyDict, PyList, PyTzInfo};

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

/// Rollup rows as a list of dicts (see [`metrics_row_to_py`]).
pub(crate) fn metrics_to_py<'py>(
    py: Python<'py>,
    rows: &[ModelMetrics],
) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for row in rows {
        list.append(metrics_row_to_py(py, row)?)?;
    }
    Ok(list)
}

/// One rollup row as a dict with snake_case keys (`ModelMetrics` in the stubs): timestamps as
/// integer epoch milliseconds, `None` for latencies without data, and `latency_sketch` as the
/// core's serialised sketch (camelCase keys, as in the outbox record), so rows can be merged.
pub(crate) fn metrics_row_to_py<'py>(
    py: Python<'py>,
    row: &ModelMetrics,
) -> PyResult<Bound<'py, PyDict>> {
    // Destructured in full, so a field added to the core fails to compile here until it is
    // added to the dict (and to `ModelMetrics` in `python/harper_edge/_types.py`).
    let ModelMetrics {
        id,
        model_name,
        model_version,
        period_start,
        period_end,
        granularity,
        request_count,
        avg_latency,
        p50_latency,
        p95_latency,
        p99_latency,
        max_latency,
        error_rate,
        error_count,
        throughput_per_second,
        latency_sketch,
    } = row;
    let dict = PyDict::new(py);
    dict.set_item("id", id)?;
    dict.set_item("model_name", model_name)?;
    dict.set_item("model_version", model_version)?;
    dict.set_item("period_start", period_start.as_millis())?;
    dict.set_item("period_end", period_end.as_millis())?;
    dict.set_item("granularity", granularity.as_str())?;
    dict.set_item("request_count", request_count)?;
    dict.set_item("avg_latency", avg_latency)?;
    dict.set_item("p50_latency", p50_latency)?;
    dict.set_item("p95_latency", p95_latency)?;
    dict.set_item("p99_latency", p99_latency)?;
    dict.set_item("max_latency", max_latency)?;
    dict.set_item("error_rate", error_rate)?;
    dict.set_item("error_count", error_count)?;
    dict.set_item("throughput_per_second", throughput_per_second)?;
    dict.set_item("latency_sketch", json::record_to_py(py, serde_json::to_value(latency_sketch))?)?;
    Ok(dict)
}

/// The query of `Engine.metrics`: `model` is `"name"` (every version) or `"name:version"`;
/// `version` may name the version instead, but not a different one.
pub(crate) fn metrics_query(
    model: &str,
    granularity: &str,
    version: Option<String>,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    limit: Option<usize>,
) -> harper_edge_core::Result<MetricsQuery> {
    let reference: ModelRef = model.parse()?;
    let version = match (reference.version, version) {
        (Some(named), Some(given)) if named != given => {
            return Err(Error::invalid_input(format!(
                "model '{model}' names version '{named}' but version='{given}' was given"
            )));
        }
        (named, given) => named.or(given),
    };
    let mut query =
        MetricsQuery::new(reference.name, granularity.parse::<Granularity>()?).between(from, to);
    if let Some(version) = version {
        query = query.version(version);
    }
    if let Some(limit) = limit {
        query = query.limit(limit);
    }
    Ok(query)
}

/// A time argument (`start`, `end`): an aware `datetime` (a pandas `Timestamp` is one) or an
/// integer of epoch milliseconds. A naive `datetime` is refused rather than guessed.
pub(crate) fn timestamp_from_py(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Timestamp> {
    let py = value.py();
    let expected = "an aware datetime or epoch milliseconds (int)";
    if value.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!("{what} must be {expected}, got bool")));
    }
    if let Ok(datetime) = value.cast::<PyDateTime>() {
        if datetime.call_method0(pyo3::intern!(py, "utcoffset"))?.is_none() {
            return Err(PyValueError::new_err(format!(
                "{what} is a naive datetime: give it a time zone, e.g. \
                 datetime(..., tzinfo=timezone.utc)"
            )));
        }
        // Whole milliseconds since the epoch, rounded up with exact integer arithmetic
        // (-((epoch - datetime) // 1 ms)): periods start on whole milliseconds, so "starts at
        // or after t" and "starts before t" keep their meaning for a t between two of them.
        let utc = PyTzInfo::utc(py)?;
        let epoch = PyDateTime::new(py, 1970, 1, 1, 0, 0, 0, 0, Some(&utc.to_owned()))?;
        let millisecond = PyDelta::new(py, 0, 0, 1000, true)?;
        let before: i64 = epoch.sub(datetime)?.floor_div(&millisecond)?.extract()?;
        return Ok(Timestamp::from_millis(before.saturating_neg()));
    }
    match value.extract::<i64>() {
        Ok(ms) => Ok(Timestamp::from_millis(ms)),
        Err(e) if e.is_instance_of::<PyTypeError>(py) => {
            let type_name =
                value.get_type().name().map_or_else(|_| "object".to_string(), |n| n.to_string());
            Err(PyTypeError::new_err(format!("{what} must be {expected}, got {type_name}")))
        }
        Err(e) => Err(e),
    }
}

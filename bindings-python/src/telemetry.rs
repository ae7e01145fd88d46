//! `InferenceEvent`: the record of one inference call and its feedback; the real-time view of
//! a model and its rollup rows (`ModelMetrics`) as dicts; the telemetry settings of an engine
//! and its statistics; events and rollup rows given by the host.

use std::time::Duration;

use harper_edge_core::telemetry::QuantileSketch;
use harper_edge_core::{
    EngineBuilder, Error, Framework, Granularity, InferenceEvent, MetricsQuery, ModelMetrics,
    ModelRef, Overflow, TelemetryConfig, TelemetryStats, Timestamp, WindowStats,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDateTime, PyDelta, PyDict, PyList, PyString, PyTzInfo};
use serde_json::Value;

use crate::error::{Detach, to_py_err};
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

/// A duration argument (`retention`, `tick_interval`) as given: `None`, or a number of
/// seconds (an `int` or `float`, or a `datetime.timedelta`). The range is checked by
/// [`TelemetrySettings::builder`], which names the argument.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Seconds(Option<f64>);

impl Seconds {
    /// `seconds` seconds.
    pub(crate) const fn of(seconds: f64) -> Self {
        Seconds(Some(seconds))
    }

    /// The number of seconds, `None` for `None`.
    pub(crate) const fn get(self) -> Option<f64> {
        self.0
    }
}

impl FromPyObject<'_, '_> for Seconds {
    type Error = PyErr;

    fn extract(obj: Borrowed<'_, '_, PyAny>) -> PyResult<Self> {
        if obj.is_none() {
            return Ok(Seconds(None));
        }
        let py = obj.py();
        let expected = "seconds (a float), a datetime.timedelta or None";
        if obj.is_instance_of::<PyBool>() {
            return Err(PyTypeError::new_err(format!("expected {expected}, got bool")));
        }
        if obj.cast::<PyDelta>().is_ok() {
            let seconds = obj.call_method0(pyo3::intern!(py, "total_seconds"))?;
            return Ok(Seconds(Some(seconds.extract()?)));
        }
        match obj.extract::<f64>() {
            Ok(seconds) => Ok(Seconds(Some(seconds))),
            Err(e) if e.is_instance_of::<PyTypeError>(py) => {
                Err(PyTypeError::new_err(format!("expected {expected}, got {}", type_name(&obj))))
            }
            Err(e) => Err(e),
        }
    }
}

/// The telemetry keywords of `Engine.open` and `Engine.in_memory`, as given.
#[derive(Debug, Clone)]
pub(crate) struct TelemetrySettings<'a> {
    pub(crate) event_capacity: i64,
    pub(crate) overflow: &'a str,
    pub(crate) sample_rate: f64,
    pub(crate) retention: Seconds,
    pub(crate) tick_interval: Seconds,
    pub(crate) drift_sample_size: i64,
}

impl TelemetrySettings<'_> {
    /// An engine builder with these settings (the store is the caller's).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming the setting: a capacity below 1, an unknown overflow
    /// policy, a sample rate outside `[0, 1]`, a duration that is not positive and finite.
    pub(crate) fn builder(&self) -> harper_edge_core::Result<EngineBuilder> {
        let capacity = usize::try_from(self.event_capacity).map_err(|_| {
            Error::invalid_input(format!(
                "telemetry event_capacity must be at least 1, got {}",
                self.event_capacity
            ))
        })?;
        let drift_sample_size = usize::try_from(self.drift_sample_size).map_err(|_| {
            Error::invalid_input(format!(
                "telemetry drift_sample_size must be at least 1, got {}",
                self.drift_sample_size
            ))
        })?;
        let config = TelemetryConfig::new()
            .drift_sample_size(drift_sample_size)
            .event_capacity(capacity)
            .overflow(self.overflow.parse::<Overflow>()?)
            .sample_rate(self.sample_rate)
            .retention(duration("retention", self.retention)?);
        config.validate()?;
        let tick_interval = duration("tick_interval", self.tick_interval)?;
        Ok(EngineBuilder::default().telemetry(config).tick_interval(tick_interval))
    }
}

fn duration(name: &str, seconds: Seconds) -> harper_edge_core::Result<Option<Duration>> {
    let Some(s) = seconds.0 else { return Ok(None) };
    let invalid = || {
        Error::invalid_input(format!(
            "telemetry {name} must be a positive, finite number of seconds or a timedelta \
             (or None), got {s}"
        ))
    };
    if !(s.is_finite() && s > 0.0) {
        return Err(invalid());
    }
    let d = Duration::try_from_secs_f64(s).map_err(|_| invalid())?;
    if d.is_zero() {
        return Err(invalid());
    }
    Ok(Some(d))
}

/// What the telemetry has done (`Engine.telemetry_stats`) as a dict with snake_case keys
/// (`TelemetryStats` in the stubs).
///
/// Converted through the core's serde form (camelCase) rather than field by field:
/// `TelemetryStats` is `#[non_exhaustive]`, so it cannot be destructured here. A test checks
/// the keys against the stubs.
pub(crate) fn stats_to_py<'py>(
    py: Python<'py>,
    stats: &TelemetryStats,
) -> PyResult<Bound<'py, PyDict>> {
    let value = serde_json::to_value(stats).map_err(|e| to_py_err(py, &e.into()))?;
    let dict = PyDict::new(py);
    if let Value::Object(map) = value {
        for (key, v) in &map {
            dict.set_item(json::snake_case(key), json::to_py(py, v)?)?;
        }
    }
    Ok(dict)
}

/// The keys `Engine.record_event` accepts: the attributes of `InferenceEvent`.
const EVENT_KEYS: [&str; 16] = [
    "id",
    "model_name",
    "model_version",
    "framework",
    "request_id",
    "user_id",
    "session_id",
    "features_in",
    "prediction",
    "confidence",
    "latency_ms",
    "timestamp",
    "error",
    "actual_outcome",
    "correct",
    "feedback_timestamp",
];

/// Events given as a sequence of `InferenceEvent` objects or event dicts (see
/// [`event_from_py`]; a dict without a timestamp gets `now`).
///
/// # Errors
///
/// `TypeError` for something that is not a sequence of events; as [`event_from_py`].
pub(crate) fn events_from_py(
    events: &Bound<'_, PyAny>,
    now: impl Fn() -> Timestamp,
) -> PyResult<Vec<InferenceEvent>> {
    let mut out = Vec::new();
    for item in events.try_iter()? {
        let item = item?;
        match item.cast::<PyInferenceEvent>() {
            Ok(e) => out.push(e.get().inner.clone()),
            Err(_) => out.push(event_from_py(&item, &now)?),
        }
    }
    Ok(out)
}

/// The event of `Engine.record_event`: a dict with the attributes of `InferenceEvent` as keys
/// (`EventRecord` in the stubs). `model_name`, `model_version` and `latency_ms` are required;
/// `id` defaults to a new UUID (v4), `timestamp` to `now`, `framework` to `onnx`, the rest to
/// `None`. A key given as `None` counts as missing.
///
/// # Errors
///
/// `TypeError` for a non-dict, an unknown or missing key, or a value of the wrong type;
/// `InvalidInputError` for a value out of range (a bad name, framework, a latency that is not
/// a finite number of milliseconds >= 0); `ValueError` as `json::from_py` for values that are
/// not JSON.
pub(crate) fn event_from_py(
    event: &Bound<'_, PyAny>,
    now: impl FnOnce() -> Timestamp,
) -> PyResult<InferenceEvent> {
    let py = event.py();
    let dict = event.cast::<PyDict>().map_err(|_| {
        PyTypeError::new_err(format!(
            "event must be a dict (see harper_edge.EventRecord), got {}",
            type_name(event)
        ))
    })?;
    for key in dict.keys() {
        let known = key
            .cast::<PyString>()
            .ok()
            .and_then(|k| k.to_str().ok())
            .filter(|k| EVENT_KEYS.contains(k));
        if known.is_none() {
            return Err(PyTypeError::new_err(format!(
                "unknown event key {} (expected {})",
                key.repr()?,
                EVENT_KEYS.join(", ")
            )));
        }
    }
    let field = EventField { dict };
    let invalid = |message: String| to_py_err(py, &Error::invalid_input(message));
    let model_name = field.required_str("model_name")?;
    let model_version = field.required_str("model_version")?;
    ModelRef::new(&model_name, Some(&model_version)).map_err(|e| to_py_err(py, &e))?;
    let latency_ms: f64 = field.required("latency_ms", "a float")?;
    if !(latency_ms.is_finite() && latency_ms >= 0.0) {
        return Err(invalid(format!(
            "event latency_ms must be a finite number of milliseconds >= 0, got {latency_ms}"
        )));
    }
    // NaN is "no confidence", as in `record_batch`; an infinity is refused.
    let confidence = field.optional::<f64>("confidence", "a float")?.filter(|c| !c.is_nan());
    if let Some(c) = confidence.filter(|c| c.is_infinite()) {
        return Err(invalid(format!("event confidence must be finite, got {c}")));
    }
    let framework = match field.optional_str("framework")? {
        Some(f) => f.parse::<Framework>().map_err(|e| to_py_err(py, &e))?,
        None => Framework::Onnx,
    };
    let id = match field.optional_str("id")? {
        Some(id) if id.is_empty() => return Err(invalid("event id must not be empty".into())),
        Some(id) => id,
        None => InferenceEvent::new_id(),
    };
    let timestamp = match field.get("timestamp")? {
        Some(t) => timestamp_from_py(&t, "event timestamp")?,
        None => now(),
    };
    let feedback_timestamp = field
        .get("feedback_timestamp")?
        .map(|t| timestamp_from_py(&t, "event feedback_timestamp"))
        .transpose()?;
    Ok(InferenceEvent {
        id,
        model_name,
        model_version,
        framework,
        request_id: field.optional_str("request_id")?,
        user_id: field.optional_str("user_id")?,
        session_id: field.optional_str("session_id")?,
        features_in: field.json("features_in")?.unwrap_or(Value::Null),
        prediction: field.json("prediction")?.unwrap_or(Value::Null),
        confidence,
        latency_ms,
        timestamp,
        error: field.optional_str("error")?,
        actual_outcome: field.json("actual_outcome")?,
        correct: field.optional::<bool>("correct", "a bool")?,
        feedback_timestamp,
    })
}

/// Typed reads of one dict argument's keys, with errors that name the key.
struct EventField<'a, 'py> {
    dict: &'a Bound<'py, PyDict>,
}

impl<'py> EventField<'_, 'py> {
    /// The value of `key`, `None` when missing or `None`.
    fn get(&self, key: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
        Ok(self.dict.get_item(key)?.filter(|v| !v.is_none()))
    }

    fn optional<T>(&self, key: &str, expected: &str) -> PyResult<Option<T>>
    where
        T: for<'a> FromPyObject<'a, 'py>,
    {
        self.get(key)?
            .map(|v| {
                // `True` is an `int` to Python, but not a latency or a name.
                if expected != "a bool" && v.is_instance_of::<PyBool>() {
                    return Err(wrong_type(key, expected, &v));
                }
                v.extract::<T>().map_err(|_| wrong_type(key, expected, &v))
            })
            .transpose()
    }

    fn required<T>(&self, key: &str, expected: &str) -> PyResult<T>
    where
        T: for<'a> FromPyObject<'a, 'py>,
    {
        self.optional(key, expected)?
            .ok_or_else(|| PyTypeError::new_err(format!("event has no '{key}'")))
    }

    fn optional_str(&self, key: &str) -> PyResult<Option<String>> {
        self.optional::<String>(key, "a str")
    }

    fn required_str(&self, key: &str) -> PyResult<String> {
        self.required::<String>(key, "a str")
    }

    fn json(&self, key: &str) -> PyResult<Option<Value>> {
        self.get(key)?.map(|v| json::from_py(&v)).transpose()
    }
}

fn wrong_type(key: &str, expected: &str, value: &Bound<'_, PyAny>) -> PyErr {
    PyTypeError::new_err(format!("event '{key}' must be {expected}, got {}", type_name(value)))
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map_or_else(|_| "object".to_string(), |n| n.to_string())
}

/// Rollup rows of several producers (engines, processes, nodes), merged into one row per model
/// version, granularity and period by merging their latency sketches: the result equals the
/// rows one engine that saw every call would have written.
///
/// `rows` are dicts as `Engine.metrics` returns them; a row needs `model_name`,
/// `model_version`, `granularity`, `period_start`, `error_count` and `latency_sketch`, and
/// every other field is recomputed from those. Rows come back ordered by model, version,
/// granularity and period start.
#[pyfunction]
pub(crate) fn combine_metrics<'py>(
    py: Python<'py>,
    rows: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyList>> {
    if rows.is_instance_of::<PyDict>() || rows.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(format!(
            "rows must be a list of ModelMetrics dicts, got a {} (wrap one row in a list)",
            type_name(rows)
        )));
    }
    let mut parsed = Vec::new();
    for (i, row) in rows.try_iter()?.enumerate() {
        parsed.push(metrics_row_from_py(&row?, i)?);
    }
    let combined = py.run_core(|| ModelMetrics::combine(parsed))?;
    metrics_to_py(py, &combined)
}

/// One rollup row given back by the host (`rows[i]` in messages).
fn metrics_row_from_py(row: &Bound<'_, PyAny>, i: usize) -> PyResult<ModelMetrics> {
    let py = row.py();
    let dict = row.cast::<PyDict>().map_err(|_| {
        PyTypeError::new_err(format!(
            "rows[{i}] must be a ModelMetrics dict, got {}",
            type_name(row)
        ))
    })?;
    let get = |key: &str| -> PyResult<Bound<'_, PyAny>> {
        dict.get_item(key)?.filter(|v| !v.is_none()).ok_or_else(|| {
            PyTypeError::new_err(format!(
                "rows[{i}] has no '{key}' (rows as Engine.metrics returns them have it)"
            ))
        })
    };
    let text = |key: &str| -> PyResult<String> {
        let v = get(key)?;
        v.extract::<String>().map_err(|_| {
            PyTypeError::new_err(format!("rows[{i}]['{key}'] must be a str, got {}", type_name(&v)))
        })
    };
    let model_name = text("model_name")?;
    let model_version = text("model_version")?;
    let granularity = text("granularity")?.parse::<Granularity>().map_err(|e| to_py_err(py, &e))?;
    let period_start =
        timestamp_from_py(&get("period_start")?, &format!("rows[{i}]['period_start']"))?;
    let errors = get("error_count")?;
    if errors.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!(
            "rows[{i}]['error_count'] must be an int, got bool"
        )));
    }
    let error_count = errors.extract::<u64>().map_err(|e| {
        if e.is_instance_of::<PyTypeError>(py) {
            PyTypeError::new_err(format!(
                "rows[{i}]['error_count'] must be an int, got {}",
                type_name(&errors)
            ))
        } else {
            to_py_err(
                py,
                &Error::invalid_input(format!(
                    "rows[{i}]['error_count'] must be >= 0, got {errors}"
                )),
            )
        }
    })?;
    let sketch = json::from_py(&get("latency_sketch")?)?;
    let sketch: QuantileSketch = serde_json::from_value(sketch).map_err(|e| {
        to_py_err(
            py,
            &Error::invalid_input(format!(
                "rows[{i}]['latency_sketch'] is not a latency sketch: {e}"
            )),
        )
    })?;
    Ok(ModelMetrics::new(
        &model_name,
        &model_version,
        granularity,
        period_start,
        error_count,
        sketch,
    ))
}

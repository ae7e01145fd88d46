//! `Monitor`: scheduled jobs, alert rules, retraining requests and their callbacks over one
//! `Engine` (the core's `harper_edge_core::monitor::Monitor`).
//!
//! Records come back as dicts with snake_case keys (as `Engine.drift_metrics` and the other
//! record-returning methods); `trigger_details`, free-form data, is kept as stored. Dicts
//! going in (rules, configuration layers) take the original design's camelCase field names
//! or their snake_case spelling.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use harper_edge_core::monitor::alert::{AlertQuery, AlertStatus, Severity};
use harper_edge_core::monitor::config::ConfigScope;
use harper_edge_core::monitor::retrain::{RetrainingRequest, RetrainingStatus};
use harper_edge_core::monitor::{
    Monitor, MonitorOptions, MonitorThread, Notification, WebhookOptions,
};
use harper_edge_core::{Error, ModelRef};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::{Value, json};

use crate::engine::PyEngine;
use crate::error::{Detach, to_py_err};
use crate::json;
use crate::telemetry::Seconds;

/// Field names whose values are free-form data: their keys are left as they are.
const DATA_FIELDS: [&str; 2] = ["triggerDetails", "trigger_details"];

fn camel(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for (i, c) in key.chars().enumerate() {
        if c == '_' && i > 0 {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `value` with every field name renamed by `rename` (data fields left as they are).
fn rename_keys(value: &Value, rename: fn(&str) -> String) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if DATA_FIELDS.contains(&k.as_str()) {
                        v.clone()
                    } else {
                        rename_keys(v, rename)
                    };
                    (rename(k), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| rename_keys(v, rename)).collect()),
        other => other.clone(),
    }
}

/// A serialised core record (or list of records) as Python dicts with snake_case keys.
fn to_py(py: Python<'_>, record: serde_json::Result<Value>) -> PyResult<Bound<'_, PyAny>> {
    let value = record.map_err(|e| to_py_err(py, &e.into()))?;
    json::to_py(py, &rename_keys(&value, json::snake_case))
}

/// A dict given by the caller (`what` names the argument) as JSON with camelCase field names.
fn dict_in(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Value> {
    if !obj.is_instance_of::<PyDict>() {
        let type_name = obj.get_type().name().map_or_else(|_| "object".into(), |n| n.to_string());
        return Err(PyTypeError::new_err(format!("{what} must be a dict, got {type_name}")));
    }
    Ok(rename_keys(&json::from_py(obj)?, camel))
}

fn core_err<T>(py: Python<'_>, r: harper_edge_core::Result<T>) -> PyResult<T> {
    r.map_err(|e| to_py_err(py, &e))
}

fn alert_status(s: &str) -> harper_edge_core::Result<AlertStatus> {
    match s {
        "firing" => Ok(AlertStatus::Firing),
        "resolved" => Ok(AlertStatus::Resolved),
        other => Err(Error::invalid_input(format!(
            "unknown alert status '{other}' (expected firing or resolved)"
        ))),
    }
}

/// A positive, finite number of seconds as a `Duration`; `name` names the argument.
fn seconds(name: &str, s: Seconds) -> harper_edge_core::Result<Duration> {
    let invalid = |shown: String| {
        Error::invalid_input(format!(
            "{name} must be a positive, finite number of seconds or a timedelta, got {shown}"
        ))
    };
    let Some(x) = s.get() else { return Err(invalid("None".into())) };
    if !(x.is_finite() && x > 0.0) {
        return Err(invalid(x.to_string()));
    }
    Duration::try_from_secs_f64(x).map_err(|_| invalid(x.to_string()))
}

/// Calls `callable(arg)` with the GIL; an exception is printed and returned as its message
/// (the monitor records the delivery as failed with it).
fn call_back(callable: &Py<PyAny>, arg: serde_json::Result<Value>) -> Result<(), String> {
    // No GIL during interpreter shutdown: the call is skipped.
    Python::try_attach(|py| {
        let result = to_py(py, arg).and_then(|a| callable.bind(py).call1((a,)).map(drop));
        result.map_err(|e| {
            let message = e.to_string();
            e.print(py);
            message
        })
    })
    .unwrap_or_else(|| Err("the Python interpreter is shutting down".to_string()))
}

fn callable_arg(f: &Bound<'_, PyAny>, what: &str) -> PyResult<Py<PyAny>> {
    if !f.is_callable() {
        let type_name = f.get_type().name().map_or_else(|_| "object".into(), |n| n.to_string());
        return Err(PyTypeError::new_err(format!("{what} must be callable, got {type_name}")));
    }
    Ok(f.clone().unbind())
}

/// Scheduled monitoring of an `Engine`: aggregation, data-quality and drift jobs, alert rules,
/// retraining triggers with safety checks and an approval workflow, webhooks and callbacks.
///
/// Every call into the engine releases the GIL; callbacks run with the GIL taken on the
/// thread that ticks.
#[pyclass(frozen, name = "Monitor", module = "harper_edge")]
#[derive(Debug)]
pub(crate) struct PyMonitor {
    inner: Monitor,
    thread: Mutex<Option<MonitorThread>>,
}

impl PyMonitor {
    fn take_thread(&self) -> Option<MonitorThread> {
        self.thread.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

impl Drop for PyMonitor {
    fn drop(&mut self) {
        let mut thread = self.take_thread();
        if thread.is_none() {
            return;
        }
        // The thread may be waiting for the GIL in a callback: release it while joining.
        let _ = Python::try_attach(|py| {
            let t = thread.take();
            py.detach(move || t.map(MonitorThread::stop));
        });
        if let Some(t) = thread {
            t.stop();
        }
    }
}

#[pymethods]
impl PyMonitor {
    /// A monitor of `engine`. `interval`: seconds between ticks of the background thread
    /// (`start`); `webhook_timeout` (seconds) and `webhook_retries` for webhook channels.
    #[new]
    #[pyo3(signature = (engine, *, interval=Seconds::of(10.0), webhook_timeout=Seconds::of(5.0), webhook_retries=3))]
    #[pyo3(text_signature = "(engine, *, interval=10.0, webhook_timeout=5.0, webhook_retries=3)")]
    fn new(
        py: Python<'_>,
        engine: &PyEngine,
        interval: Seconds,
        webhook_timeout: Seconds,
        webhook_retries: u32,
    ) -> PyResult<Self> {
        let engine = engine.shared();
        let inner = py.run_core(|| {
            let webhook = WebhookOptions::default()
                .timeout(seconds("webhook_timeout", webhook_timeout)?)
                .retries(webhook_retries);
            let options =
                MonitorOptions::default().interval(seconds("interval", interval)?).webhook(webhook);
            Monitor::new(engine, options)
        })?;
        Ok(PyMonitor { inner, thread: Mutex::new(None) })
    }

    /// Runs what is due now (jobs, retraining conditions, alert rules); returns the report
    /// (`TickReport`: jobs, fired, resolved, retraining_requests, rules). Raises
    /// `StorageError` when rules, configurations or models cannot be read.
    fn tick<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let report = py.run_core(|| self.inner.tick())?;
        to_py(py, serde_json::to_value(&report))
    }

    /// Starts the background thread ticking every `interval` (the first tick right away); a
    /// no-op when it already runs. Returns `None`; raises `InternalError` if the thread
    /// cannot start.
    fn start(&self, py: Python<'_>) -> PyResult<()> {
        // Spawning does not wait for the GIL: no need to release it (and the lock is not held
        // across a release, which could deadlock with a thread waiting for it).
        let mut guard = self.thread.lock().unwrap_or_else(PoisonError::into_inner);
        if guard.is_none() {
            *guard = Some(core_err(py, self.inner.start())?);
        }
        Ok(())
    }

    /// Stops the background thread (a tick in progress finishes first); a no-op when it does
    /// not run. Returns `None`.
    fn stop(&self, py: Python<'_>) {
        if let Some(t) = self.take_thread() {
            py.detach(move || t.stop());
        }
    }

    /// Whether the background thread runs.
    #[getter]
    fn running(&self) -> bool {
        self.thread.lock().unwrap_or_else(PoisonError::into_inner).is_some()
    }

    /// The report of the last tick (of `tick` or of the thread), or `None`.
    fn last_report<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        // The tick in progress holds the state (and may be waiting for the GIL in a callback).
        let report = py.run_core(|| Ok(self.inner.last_report()))?;
        report.map(|r| to_py(py, serde_json::to_value(&r))).transpose()
    }

    /// Calls `callback({"kind": "fired" | "resolved", "alert": {...}})` for every alert of a
    /// rule with the `callback` channel, with the GIL taken, on the ticking thread; an
    /// exception it raises is printed to stderr and recorded as a failed delivery of that
    /// alert (the tick goes on). Raises `TypeError` if not callable.
    fn on_alert(&self, callback: &Bound<'_, PyAny>) -> PyResult<()> {
        let f = callable_arg(callback, "callback")?;
        self.inner.on_alert_checked(move |n: &Notification| call_back(&f, serde_json::to_value(n)));
        Ok(())
    }

    /// Calls `callback(request)` (a dict with `training_job_id` set) for every request
    /// approved through this monitor; an exception it raises is printed to stderr. Raises
    /// `TypeError` if not callable.
    fn on_retraining_approved(&self, callback: &Bound<'_, PyAny>) -> PyResult<()> {
        let f = callable_arg(callback, "callback")?;
        self.inner.on_retraining_approved(move |r: &RetrainingRequest| {
            // Printed if it raises; an approval is not undone by its callback.
            let _ = call_back(&f, serde_json::to_value(r));
        });
        Ok(())
    }

    /// Sets the configuration layer of the global scope, a model or a model version (only
    /// the fields it names; camelCase or snake_case keys). Returns the stored layer. Raises
    /// `InvalidInputError` naming the field (`aggregation.driftCheck: ...`), `TypeError`
    /// when `config` is not a dict.
    #[pyo3(signature = (config, model_name=None, model_version=None))]
    fn set_config<'py>(
        &self,
        py: Python<'py>,
        config: &Bound<'py, PyAny>,
        model_name: Option<String>,
        model_version: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let layer = dict_in(config, "config")?;
        let scope = scope(py, model_name.as_deref(), model_version.as_deref())?;
        let stored = py.run_core(|| self.inner.set_config(&scope, layer))?;
        to_py(py, serde_json::to_value(&stored))
    }

    /// The layer set for a scope (as `set_config` returns it), or `None`.
    #[pyo3(signature = (model_name=None, model_version=None))]
    fn config_layer<'py>(
        &self,
        py: Python<'py>,
        model_name: Option<String>,
        model_version: Option<String>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let scope = scope(py, model_name.as_deref(), model_version.as_deref())?;
        let stored = py.run_core(|| self.inner.config_layer(&scope))?;
        stored.map(|s| to_py(py, serde_json::to_value(&s))).transpose()
    }

    /// Removes the layer of a scope; `True` if there was one.
    #[pyo3(signature = (model_name=None, model_version=None))]
    fn clear_config(
        &self,
        py: Python<'_>,
        model_name: Option<String>,
        model_version: Option<String>,
    ) -> PyResult<bool> {
        let scope = scope(py, model_name.as_deref(), model_version.as_deref())?;
        py.run_core(|| self.inner.clear_config(&scope))
    }

    /// The configuration in effect (every field, snake_case keys) for a model version, a
    /// model, or globally. Raises `InvalidInputError` if stored layers no longer combine.
    #[pyo3(signature = (model_name=None, model_version=None))]
    fn config<'py>(
        &self,
        py: Python<'py>,
        model_name: Option<String>,
        model_version: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        scope(py, model_name.as_deref(), model_version.as_deref())?;
        let config = py.run_core(|| {
            self.inner.effective_config(model_name.as_deref(), model_version.as_deref())
        })?;
        to_py(py, serde_json::to_value(&config))
    }

    /// Saves an alert rule (camelCase or snake_case keys; a new id when it has none,
    /// replacing the rule with the same id otherwise); returns the stored rule. Raises
    /// `InvalidInputError` naming the field, `TypeError` when `rule` is not a dict.
    fn put_rule<'py>(
        &self,
        py: Python<'py>,
        rule: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let rule = dict_in(rule, "rule")?;
        let stored = py.run_core(|| self.inner.put_rule_json(&rule))?;
        to_py(py, serde_json::to_value(&stored))
    }

    /// The stored alert rules, as dicts.
    fn rules<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let rules = py.run_core(|| self.inner.rules())?;
        to_py(py, serde_json::to_value(&rules))
    }

    /// Deletes the rule `id` (its alerts stay). Raises `NotFoundError` if there is none.
    fn delete_rule(&self, py: Python<'_>, id: &str) -> PyResult<()> {
        py.run_core(|| self.inner.delete_rule(id))
    }

    /// Alert events matching every filter given, newest first (`AlertEvent` dicts). Raises
    /// `InvalidInputError` for an unknown severity or status.
    #[pyo3(signature = (model_name=None, model_version=None, severity=None, status=None, acknowledged=None, limit=None))]
    #[allow(clippy::too_many_arguments, reason = "the arguments of the Python method")]
    fn alerts<'py>(
        &self,
        py: Python<'py>,
        model_name: Option<String>,
        model_version: Option<String>,
        severity: Option<&str>,
        status: Option<&str>,
        acknowledged: Option<bool>,
        limit: Option<usize>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let query = AlertQuery {
            model_name,
            model_version,
            severity: core_err(py, severity.map(str::parse::<Severity>).transpose())?,
            status: core_err(py, status.map(alert_status).transpose())?,
            acknowledged,
            limit,
            ..AlertQuery::default()
        };
        let events = py.run_core(|| self.inner.alerts(&query))?;
        to_py(py, serde_json::to_value(&events))
    }

    /// The alert event `id`. Raises `NotFoundError` if there is none.
    fn alert<'py>(&self, py: Python<'py>, id: &str) -> PyResult<Bound<'py, PyAny>> {
        let event = py.run_core(|| self.inner.alert(id))?;
        to_py(py, serde_json::to_value(&event))
    }

    /// Acknowledges the alert `id` as `by`; returns the updated event (a second
    /// acknowledgment keeps the first). Raises `NotFoundError`, or `InvalidInputError` for
    /// a blank `by`.
    fn acknowledge<'py>(&self, py: Python<'py>, id: &str, by: &str) -> PyResult<Bound<'py, PyAny>> {
        let event = py.run_core(|| self.inner.acknowledge(id, by))?;
        to_py(py, serde_json::to_value(&event))
    }

    /// The last evaluation of every rule, per model version (`RuleStatus` dicts).
    fn rule_statuses<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let statuses = py.run_core(|| Ok(self.inner.rule_statuses()))?;
        to_py(py, serde_json::to_value(&statuses))
    }

    /// Waits up to `timeout` seconds for queued webhook deliveries; `True` if none is left.
    /// Raises `InvalidInputError` for a timeout that is not positive and finite.
    #[pyo3(signature = (timeout=Seconds::of(10.0)))]
    #[pyo3(text_signature = "($self, timeout=10.0)")]
    fn flush_notifications(&self, py: Python<'_>, timeout: Seconds) -> PyResult<bool> {
        py.run_core(|| Ok(self.inner.flush_notifications(seconds("timeout", timeout)?)))
    }

    /// Retraining requests (of a model, with a status), newest first. Raises
    /// `InvalidInputError` for an unknown status.
    #[pyo3(signature = (model_name=None, status=None))]
    fn retraining_requests<'py>(
        &self,
        py: Python<'py>,
        model_name: Option<String>,
        status: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let status = core_err(py, status.map(RetrainingStatus::parse).transpose())?;
        let requests =
            py.run_core(|| self.inner.retraining_requests(model_name.as_deref(), status))?;
        to_py(py, serde_json::to_value(&requests))
    }

    /// The retraining request `id`. Raises `NotFoundError` if there is none.
    fn retraining_request<'py>(&self, py: Python<'py>, id: &str) -> PyResult<Bound<'py, PyAny>> {
        let request = py.run_core(|| self.inner.retraining_request(id))?;
        to_py(py, serde_json::to_value(&request))
    }

    /// Requests retraining of `model` (`"name"` or `"name:version"`) by hand, through the
    /// safety checks: returns the request, `pending_approval` or `blocked` (see its
    /// `safety_checks`). Raises `NotFoundError` for an unknown model.
    #[pyo3(signature = (model, by=None, details=None))]
    fn request_retraining<'py>(
        &self,
        py: Python<'py>,
        model: &str,
        by: Option<String>,
        details: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let details = details.map(json::from_py).transpose()?.unwrap_or_else(|| json!({}));
        let request = py.run_core(|| {
            let reference = model.parse::<ModelRef>()?;
            self.inner.request_retraining(&reference, by.as_deref(), details)
        })?;
        to_py(py, serde_json::to_value(&request))
    }

    /// Approves the pending request `id` (sets `training_job_id`, calls the
    /// `on_retraining_approved` callbacks); returns it. Raises `InvalidTransitionError`
    /// unless it is pending, `NotFoundError` for an unknown id.
    #[pyo3(signature = (id, by, reason=None))]
    fn approve<'py>(
        &self,
        py: Python<'py>,
        id: &str,
        by: &str,
        reason: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let request = py.run_core(|| self.inner.approve(id, by, reason.as_deref()))?;
        to_py(py, serde_json::to_value(&request))
    }

    /// Rejects the pending request `id`; returns it. Raises `InvalidTransitionError` unless
    /// it is pending, `NotFoundError` for an unknown id.
    #[pyo3(signature = (id, by, reason=None))]
    fn reject<'py>(
        &self,
        py: Python<'py>,
        id: &str,
        by: &str,
        reason: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let request = py.run_core(|| self.inner.reject(id, by, reason.as_deref()))?;
        to_py(py, serde_json::to_value(&request))
    }

    /// Marks the approved request `id` completed; returns it. Raises
    /// `InvalidTransitionError` unless it is approved.
    fn complete<'py>(&self, py: Python<'py>, id: &str) -> PyResult<Bound<'py, PyAny>> {
        let request = py.run_core(|| self.inner.complete(id))?;
        to_py(py, serde_json::to_value(&request))
    }

    fn __repr__(&self) -> String {
        format!("Monitor(running={})", if self.running() { "True" } else { "False" })
    }
}

/// The configuration scope of the arguments (a version needs its model).
fn scope(
    py: Python<'_>,
    model_name: Option<&str>,
    model_version: Option<&str>,
) -> PyResult<ConfigScope> {
    if model_name.is_none() && model_version.is_some() {
        return Err(to_py_err(
            py,
            &Error::invalid_input("model_version needs model_name (a version of which model?)"),
        ));
    }
    Ok(ConfigScope::of(model_name, model_version))
}

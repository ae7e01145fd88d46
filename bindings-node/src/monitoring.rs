//! The `Monitor` class: scheduled monitoring over an `Engine` (`harper_edge_core::monitor`):
//! alert rules, alert events, retraining requests and their workflow, layered configuration,
//! and ticks that run the due jobs.
//!
//! A tick runs drift checks and can take seconds: `tick()` is a Promise whose work runs on the
//! libuv pool, and `start()` ticks on a thread of its own. The JS callbacks of `onAlert` and
//! `onRetrainingApproved` are therefore called from Rust threads: each is wrapped in a
//! ThreadsafeFunction called in non-blocking mode, so the tick only queues the call (it never
//! waits for JavaScript) and the function runs later on the JS thread. The ThreadsafeFunctions
//! are weak: a registered callback does not keep the process alive.
//!
//! (`monitor.rs` is the drift-check half of the binding; this is the scheduler half.)

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use harper_edge_core::monitor::alert::{AlertQuery, AlertStatus, Severity};
use harper_edge_core::monitor::config::ConfigScope;
use harper_edge_core::monitor::retrain::RetrainingStatus;
use harper_edge_core::monitor::{
    Monitor as CoreMonitor, MonitorOptions as CoreOptions, MonitorThread, WebhookOptions,
};
use harper_edge_core::{Error as CoreError, Timestamp};
use napi::bindgen_prelude::{AsyncTask, ClassInstance, Function, Null, Unknown};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, ValueType};
use napi_derive::napi;
use serde_json::Value;

use crate::convert::{self, decode};
use crate::engine::Engine;
use crate::error::{CoreResult, Result, sync};
use crate::tasks::{Job, work};
use crate::telemetry::record;

/// Options of `new Monitor(engine, options)`.
#[napi(object, object_to_js = false)]
pub struct MonitorOptions {
    /// Milliseconds between the ticks of the thread `start()` runs (default 10000).
    pub interval_ms: Option<f64>,
    /// Timeout of one webhook delivery attempt, in milliseconds (default 5000).
    pub webhook_timeout_ms: Option<f64>,
    /// Retries of a webhook delivery after a 5xx, 429 or network error (default 3).
    pub webhook_retries: Option<f64>,
}

/// The scope of a configuration layer: `{}` global, `{modelName}` every version of a model,
/// `{modelName, modelVersion}` one version.
#[napi(object, object_to_js = false)]
pub struct ConfigScopeOptions {
    /// The model.
    pub model_name: Option<String>,
    /// The version (needs `modelName`).
    pub model_version: Option<String>,
}

/// Which alert events `alerts()` returns (every field optional; newest first).
#[napi(object, object_to_js = false)]
pub struct AlertQueryOptions {
    /// Only this model's.
    pub model_name: Option<String>,
    /// Only this version's.
    pub model_version: Option<String>,
    /// Only this severity.
    #[napi(ts_type = "Severity")]
    pub severity: Option<String>,
    /// Only firing or resolved ones.
    #[napi(ts_type = "AlertStatus")]
    pub status: Option<String>,
    /// Only acknowledged (`true`) or unacknowledged (`false`) ones.
    pub acknowledged: Option<bool>,
    /// Only this rule's.
    pub rule_id: Option<String>,
    /// Raised at or after, epoch milliseconds.
    pub from: Option<f64>,
    /// Raised before, epoch milliseconds.
    pub to: Option<f64>,
    /// At most this many (default 1000).
    pub limit: Option<f64>,
}

/// Which retraining requests `retrainingRequests()` returns (newest first).
#[napi(object, object_to_js = false)]
pub struct RetrainingQueryOptions {
    /// Only this model's.
    pub model_name: Option<String>,
    /// Only requests in this state.
    #[napi(ts_type = "RetrainingStatus")]
    pub status: Option<String>,
}

/// Options of `requestRetraining`.
#[napi(object, object_to_js = false)]
pub struct RetrainingRequestOptions {
    /// Who asks (stored as `requestedBy`).
    pub by: Option<String>,
    /// Free-form details (stored as `triggerDetails`; default `{}`).
    #[napi(ts_type = "unknown")]
    pub details: Option<Value>,
}

type Callback = ThreadsafeFunction<Value, Unknown<'static>, Value, napi::Status, false, true>;

/// A strong ThreadsafeFunction of a no-op, never called: while it exists, it keeps the event
/// loop alive (as a timer does), so that a started monitor's callbacks can run.
type KeepAlive = ThreadsafeFunction<(), Null, (), napi::Status, false, false>;

/// The thread of `start()` and what keeps the process alive while it runs.
struct Running {
    thread: MonitorThread,
    _keep_alive: KeepAlive,
}

/// Scheduled monitoring of an engine's models: alert rules evaluated on every tick, alert
/// events with acknowledgement, drift and data-quality jobs on their configured intervals,
/// retraining requests behind safety checks and a human approval.
///
/// `tick()` runs what is due now (a Promise: a tick can take seconds); `start()` ticks every
/// `intervalMs` on a thread of its own. The other methods are cheap store reads and writes and
/// return directly. Records come back as plain objects with the original design's field names;
/// every error carries a stable `err.code` (`HARPER_EDGE_INVALID_INPUT`, …).
#[napi]
pub struct Monitor {
    monitor: CoreMonitor,
    thread: Mutex<Option<Running>>,
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor").field("monitor", &self.monitor).finish_non_exhaustive()
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        // Garbage collection of a started monitor stops its thread without blocking the JS
        // thread on a tick in progress: the join happens on a short-lived thread.
        if let Some(running) = self.thread.get_mut().unwrap_or_else(PoisonError::into_inner).take()
        {
            let thread = running.thread;
            let joined = std::thread::Builder::new()
                .name("harper-edge-monitor-stop".into())
                .spawn(move || thread.stop());
            // Without a thread to spare, the closure (and the MonitorThread) was dropped, which
            // stopped the thread here.
            drop(joined);
        }
    }
}

#[napi]
impl Monitor {
    /// A monitor of `engine`, sharing its store: rules, alerts, retraining requests and
    /// configuration layers are records of that store (in its outbox for a host to mirror, as
    /// tables `AlertRule`, `AlertEvent`, `RetrainingRequest` and `MonitoringConfig`). No thread
    /// is started: call `tick()` yourself, or `start()`.
    #[napi(constructor, ts_args_type = "engine: Engine, options?: MonitorOptions")]
    pub fn new(engine: Unknown<'_>, options: Unknown<'_>) -> Result<Self> {
        sync(|| {
            let engine = engine_of(&engine)?;
            let expected = "an object { intervalMs?, webhookTimeoutMs?, webhookRetries? }";
            let options: Option<MonitorOptions> = convert::object(&options, "options", expected)?;
            let monitor = CoreMonitor::new(engine, core_options(options)?)?;
            Ok(Monitor { monitor, thread: Mutex::new(None) })
        })
    }

    /// Runs what is due now: the aggregation, data-quality and drift jobs on their intervals,
    /// the retraining conditions, and every enabled alert rule. Resolves with what the tick
    /// did; the `onAlert` callbacks of alerts it raised or resolved are queued on the JS thread
    /// before it resolves. One tick runs at a time (a second call waits for the first).
    #[napi(ts_return_type = "Promise<TickReport>")]
    pub fn tick(&self) -> AsyncTask<Job<Value>> {
        let monitor = self.monitor.clone();
        AsyncTask::new(Job::new(Ok(work(move || record(monitor.tick()?)))))
    }

    /// Starts a thread that ticks every `intervalMs` (the first tick right away); returns
    /// false, doing nothing, if this monitor's thread already runs. A failed tick is kept as
    /// the last report; the thread carries on. Like a timer, a started monitor keeps the
    /// process alive until `stop()`; keep a reference to it (a monitor that is garbage
    /// collected stops).
    #[napi]
    pub fn start(&self, env: Env) -> Result<bool> {
        sync(|| {
            let mut thread = self.thread.lock().unwrap_or_else(PoisonError::into_inner);
            if thread.is_some() {
                return Ok(false);
            }
            let keep_alive = keep_alive(&env)?;
            *thread = Some(Running { thread: self.monitor.start()?, _keep_alive: keep_alive });
            Ok(true)
        })
    }

    /// Stops the thread `start()` started, after the tick in progress (the wait runs on the
    /// libuv pool, not on the JS thread). Resolves with false if no thread was running.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn stop(&self) -> AsyncTask<Job<bool>> {
        let running = self.thread.lock().unwrap_or_else(PoisonError::into_inner).take();
        // The keep-alive is released here; the task keeps the loop alive until the join.
        let thread = running.map(|r| r.thread);
        AsyncTask::new(Job::new(Ok(work(move || Ok(thread.map(MonitorThread::stop).is_some())))))
    }

    /// Whether the thread of `start()` is running.
    #[napi(getter)]
    pub fn running(&self) -> bool {
        self.thread.lock().unwrap_or_else(PoisonError::into_inner).is_some()
    }

    /// Calls `callback` with every alert raised or resolved through the `callback` channel
    /// (the default channel of a rule): `{kind: 'fired' | 'resolved', alert}`. The call is
    /// queued from the ticking thread and runs on the JS thread; a tick never waits for it. An
    /// exception thrown by `callback` is an uncaught exception of the process, as in any event
    /// handler. A registered callback alone does not keep the process alive (a started monitor
    /// does).
    #[napi(ts_args_type = "callback: (notification: AlertNotification) => void")]
    pub fn on_alert(&self, callback: Unknown<'_>) -> Result<()> {
        sync(|| {
            let tsfn = threadsafe(&callback, "callback")?;
            self.monitor.on_alert(move |notification| {
                if let Ok(value) = serde_json::to_value(notification) {
                    tsfn.call(value, ThreadsafeFunctionCallMode::NonBlocking);
                }
            });
            Ok(())
        })
    }

    /// Calls `callback` with every retraining request approved through this monitor, its
    /// `trainingJobId` set: start the training job there, then call `complete(id)` when it
    /// ends. Queued like the `onAlert` callbacks: it runs on the JS thread after `approve`
    /// returns, if the process is still alive then (a server, a started monitor, a pending
    /// timer or Promise of the host keep it so).
    #[napi(ts_args_type = "callback: (request: RetrainingRequest) => void")]
    pub fn on_retraining_approved(&self, callback: Unknown<'_>) -> Result<()> {
        sync(|| {
            let tsfn = threadsafe(&callback, "callback")?;
            self.monitor.on_retraining_approved(move |request| {
                if let Ok(value) = serde_json::to_value(request) {
                    tsfn.call(value, ThreadsafeFunctionCallMode::NonBlocking);
                }
            });
            Ok(())
        })
    }

    /// Sets the configuration layer of a scope (`{}`: global; `{modelName}`: every version of
    /// the model; `{modelName, modelVersion}`: one version), replacing that scope's layer. A
    /// layer names only the fields it changes; it is checked combined with the layers under it,
    /// and an invalid field is `HARPER_EDGE_INVALID_INPUT` naming it (`aggregation.driftCheck`).
    #[napi(
        ts_args_type = "config: Partial<MonitoringConfig> | Record<string, unknown>, scope?: ConfigScopeOptions",
        ts_return_type = "StoredMonitoringConfig"
    )]
    pub fn set_config(&self, config: Unknown<'_>, scope: Unknown<'_>) -> Result<Value> {
        sync(|| {
            let layer: Value = convert::from_js(&config, "config", "an object")?;
            let scope = scope_of(&scope)?;
            record(self.monitor.set_config(&scope, layer)?)
        })
    }

    /// The configuration in effect for a scope: the defaults overlaid with the global layer,
    /// the model's and the version's.
    #[napi(ts_args_type = "scope?: ConfigScopeOptions", ts_return_type = "MonitoringConfig")]
    pub fn config(&self, scope: Unknown<'_>) -> Result<Value> {
        sync(|| {
            let scope = scope_of(&scope)?;
            let (name, version) = scope_parts(&scope);
            record(self.monitor.effective_config(name, version)?)
        })
    }

    /// The layer set for exactly this scope, or null.
    #[napi(
        ts_args_type = "scope?: ConfigScopeOptions",
        ts_return_type = "StoredMonitoringConfig | null"
    )]
    pub fn config_layer(&self, scope: Unknown<'_>) -> Result<Value> {
        sync(|| record(self.monitor.config_layer(&scope_of(&scope)?)?))
    }

    /// Removes the layer of this scope; true if there was one.
    #[napi(ts_args_type = "scope?: ConfigScopeOptions")]
    pub fn clear_config(&self, scope: Unknown<'_>) -> Result<bool> {
        sync(|| self.monitor.clear_config(&scope_of(&scope)?))
    }

    /// Saves an alert rule (`id` given: replaces that rule; else a new id). Checked first: an
    /// unknown metric, operator or channel is `HARPER_EDGE_INVALID_INPUT` naming the field.
    #[napi(ts_args_type = "rule: AlertRuleInput", ts_return_type = "AlertRule")]
    pub fn put_rule(&self, rule: Unknown<'_>) -> Result<Value> {
        sync(|| {
            let rule: Value = convert::from_js(&rule, "rule", "an AlertRule object")?;
            record(self.monitor.put_rule_json(&rule)?)
        })
    }

    /// Loads a monitoring record kept elsewhere — a row another Harper worker or node mirrored
    /// into a table — so this engine can act on it (acknowledge, approve …). A copy never
    /// moves a record backwards (a request's status only advances; an alert keeps its
    /// resolution and first acknowledgment; rules and layers keep the newer `updatedAt`).
    /// Returns whether anything changed. `HARPER_EDGE_INVALID_INPUT` for another table or a
    /// record that does not parse (naming the field).
    #[napi(
        ts_args_type = "table: 'AlertRule' | 'AlertEvent' | 'RetrainingRequest' | 'MonitoringConfig', record: object"
    )]
    pub fn restore(&self, table: Unknown<'_>, record: Unknown<'_>) -> Result<bool> {
        sync(|| {
            let table: harper_edge_core::Table = string(&table, "table")?.parse()?;
            let record: Value = convert::from_js(&record, "record", "a record object")?;
            self.monitor.restore(table, &record)
        })
    }

    /// Every stored alert rule, oldest change first.
    #[napi(ts_return_type = "Array<AlertRule>")]
    pub fn rules(&self) -> Result<Value> {
        sync(|| record(self.monitor.rules()?))
    }

    /// Deletes the rule `id` (`HARPER_EDGE_NOT_FOUND` if there is none).
    #[napi(ts_args_type = "id: string")]
    pub fn delete_rule(&self, id: Unknown<'_>) -> Result<()> {
        sync(|| self.monitor.delete_rule(&string(&id, "id")?))
    }

    /// Alert events matching `query`, newest first.
    #[napi(ts_args_type = "query?: AlertQueryOptions", ts_return_type = "Array<AlertEvent>")]
    pub fn alerts(&self, query: Unknown<'_>) -> Result<Value> {
        sync(|| record(self.monitor.alerts(&alert_query(&query)?)?))
    }

    /// The alert event `id`.
    #[napi(ts_args_type = "id: string", ts_return_type = "AlertEvent")]
    pub fn alert(&self, id: Unknown<'_>) -> Result<Value> {
        sync(|| record(self.monitor.alert(&string(&id, "id")?)?))
    }

    /// Acknowledges the alert event `id` on behalf of `by` (recorded with the time; it does not
    /// resolve the alert). Acknowledging again replaces who and when.
    #[napi(ts_args_type = "id: string, by: string", ts_return_type = "AlertEvent")]
    pub fn acknowledge(&self, id: Unknown<'_>, by: Unknown<'_>) -> Result<Value> {
        sync(|| {
            let (id, by) = (string(&id, "id")?, string(&by, "by")?);
            record(self.monitor.acknowledge(&id, &by)?)
        })
    }

    /// The last evaluation of every rule, per model version.
    #[napi(ts_return_type = "Array<RuleStatus>")]
    pub fn rule_statuses(&self) -> Result<Value> {
        sync(|| record(self.monitor.rule_statuses()))
    }

    /// The report of the last tick (of `tick()` or the thread), or null before the first.
    #[napi(ts_return_type = "TickReport | null")]
    pub fn last_report(&self) -> Result<Value> {
        sync(|| record(self.monitor.last_report()))
    }

    /// Waits until the queued webhook deliveries have ended, up to `timeoutMs` (on the libuv
    /// pool); resolves with true if none is left.
    #[napi(ts_args_type = "timeoutMs: number", ts_return_type = "Promise<boolean>")]
    pub fn flush_notifications(&self, timeout_ms: Unknown<'_>) -> AsyncTask<Job<bool>> {
        let monitor = self.monitor.clone();
        let prepared = millis(&timeout_ms, "timeoutMs")
            .map(|timeout| work(move || Ok(monitor.flush_notifications(timeout))));
        AsyncTask::new(Job::new(prepared))
    }

    /// Retraining requests, newest first, of `query.modelName` (all models if absent) in state
    /// `query.status`.
    #[napi(
        ts_args_type = "query?: RetrainingQueryOptions",
        ts_return_type = "Array<RetrainingRequest>"
    )]
    pub fn retraining_requests(&self, query: Unknown<'_>) -> Result<Value> {
        sync(|| {
            let expected = "an object { modelName?, status? }";
            let query: Option<RetrainingQueryOptions> = convert::object(&query, "query", expected)?;
            let (name, status) = match query {
                Some(q) => (q.model_name, q.status.as_deref().map(RetrainingStatus::parse)),
                None => (None, None),
            };
            record(self.monitor.retraining_requests(name.as_deref(), status.transpose()?)?)
        })
    }

    /// The retraining request `id`.
    #[napi(ts_args_type = "id: string", ts_return_type = "RetrainingRequest")]
    pub fn retraining_request(&self, id: Unknown<'_>) -> Result<Value> {
        sync(|| record(self.monitor.retraining_request(&string(&id, "id")?)?))
    }

    /// Requests retraining of `model` (`"name"`: its newest version, or `"name:version"`) by
    /// hand, through the safety checks of its configuration: the request comes back
    /// `pending_approval`, or `blocked` with the failed checks in `safetyChecks`.
    #[napi(
        ts_args_type = "model: string, options?: RetrainingRequestOptions",
        ts_return_type = "RetrainingRequest"
    )]
    pub fn request_retraining(&self, model: Unknown<'_>, options: Unknown<'_>) -> Result<Value> {
        sync(|| {
            let reference = convert::model_ref(&model)?;
            let options: Option<RetrainingRequestOptions> =
                convert::object(&options, "options", "an object { by?, details? }")?;
            let (by, details) = match options {
                Some(o) => (o.by, o.details),
                None => (None, None),
            };
            let details = details.unwrap_or_else(|| Value::Object(serde_json::Map::new()));
            record(self.monitor.request_retraining(&reference, by.as_deref(), details)?)
        })
    }

    /// Approves the pending request `id` (`HARPER_EDGE_INVALID_TRANSITION` unless it is
    /// `pending_approval`): records the reviewer, reason and a new `trainingJobId`, and queues
    /// the `onRetrainingApproved` callbacks.
    #[napi(
        ts_args_type = "id: string, by: string, reason?: string",
        ts_return_type = "RetrainingRequest"
    )]
    pub fn approve(&self, id: Unknown<'_>, by: Unknown<'_>, reason: Unknown<'_>) -> Result<Value> {
        sync(|| {
            let (id, by, reason) = review(&id, &by, &reason)?;
            record(self.monitor.approve(&id, &by, reason.as_deref())?)
        })
    }

    /// Rejects the pending request `id` (`HARPER_EDGE_INVALID_TRANSITION` unless it is
    /// `pending_approval`).
    #[napi(
        ts_args_type = "id: string, by: string, reason?: string",
        ts_return_type = "RetrainingRequest"
    )]
    pub fn reject(&self, id: Unknown<'_>, by: Unknown<'_>, reason: Unknown<'_>) -> Result<Value> {
        sync(|| {
            let (id, by, reason) = review(&id, &by, &reason)?;
            record(self.monitor.reject(&id, &by, reason.as_deref())?)
        })
    }

    /// Marks the approved request `id` completed (its training finished).
    #[napi(ts_args_type = "id: string", ts_return_type = "RetrainingRequest")]
    pub fn complete(&self, id: Unknown<'_>) -> Result<Value> {
        sync(|| record(self.monitor.complete(&string(&id, "id")?)?))
    }
}

/// The shared core engine of a JS `Engine` instance.
fn engine_of(value: &Unknown<'_>) -> CoreResult<Arc<harper_edge_core::Engine>> {
    let is_object = matches!(value.get_type(), Ok(ValueType::Object));
    let instance = if is_object {
        decode::<ClassInstance<'_, Engine>>(value, "engine", "an Engine").ok()
    } else {
        None
    };
    instance.map(|e| Arc::clone(&e.engine)).ok_or_else(|| {
        CoreError::invalid_input("engine must be an Engine (Engine.open or inMemory)")
    })
}

fn core_options(options: Option<MonitorOptions>) -> CoreResult<CoreOptions> {
    let mut core = CoreOptions::default();
    let Some(o) = options else { return Ok(core) };
    if let Some(ms) = o.interval_ms {
        let interval = positive_millis(ms, "options.intervalMs")?;
        core = core.interval(interval);
    }
    let mut webhook = WebhookOptions::default();
    if let Some(ms) = o.webhook_timeout_ms {
        webhook = webhook.timeout(positive_millis(ms, "options.webhookTimeoutMs")?);
    }
    if let Some(n) = o.webhook_retries {
        let n = convert::count(n, "options.webhookRetries")?;
        let n = u32::try_from(n).map_err(|_| {
            CoreError::invalid_input(format!("options.webhookRetries is too large: {n}"))
        })?;
        webhook = webhook.retries(n);
    }
    Ok(core.webhook(webhook))
}

fn positive_millis(ms: f64, what: &str) -> CoreResult<Duration> {
    let n = convert::count(ms, what)?;
    if n == 0 {
        return Err(CoreError::invalid_input(format!("{what} must be at least 1, got 0")));
    }
    Ok(Duration::from_millis(n))
}

fn millis(value: &Unknown<'_>, what: &str) -> CoreResult<Duration> {
    let ms: f64 = decode(value, what, "a number of milliseconds")?;
    Ok(Duration::from_millis(convert::count(ms, what)?))
}

fn string(value: &Unknown<'_>, what: &str) -> CoreResult<String> {
    decode(value, what, "a string")
}

fn review(
    id: &Unknown<'_>,
    by: &Unknown<'_>,
    reason: &Unknown<'_>,
) -> CoreResult<(String, String, Option<String>)> {
    let reason: Option<String> = decode(reason, "reason", "a string")?;
    Ok((string(id, "id")?, string(by, "by")?, reason))
}

/// The keep-alive of a started monitor.
fn keep_alive(env: &Env) -> CoreResult<KeepAlive> {
    let internal = |e: napi::Error| CoreError::Internal {
        message: format!("cannot keep the event loop alive for the monitor thread: {e}"),
    };
    let noop: Function<'_, (), Null> = env
        .create_function_from_closure("harperEdgeMonitorKeepAlive", |_| Ok(Null))
        .map_err(internal)?;
    noop.build_threadsafe_function::<()>().build().map_err(internal)
}

/// A JS function as a weak, non-blocking ThreadsafeFunction taking one value.
fn threadsafe(value: &Unknown<'_>, what: &str) -> CoreResult<Callback> {
    if !matches!(value.get_type(), Ok(ValueType::Function)) {
        return Err(CoreError::invalid_input(format!("{what} must be a function")));
    }
    let function: Function<'_, Value, Unknown<'static>> = decode(value, what, "a function")?;
    function
        .build_threadsafe_function::<Value>()
        .weak::<true>()
        .build()
        .map_err(|e| CoreError::Internal { message: format!("cannot wrap {what}: {e}") })
}

fn scope_of(value: &Unknown<'_>) -> CoreResult<ConfigScope> {
    let scope: Option<ConfigScopeOptions> =
        convert::object(value, "scope", "an object { modelName?, modelVersion? }")?;
    let Some(scope) = scope else { return Ok(ConfigScope::Global) };
    if scope.model_name.is_none() && scope.model_version.is_some() {
        return Err(CoreError::invalid_input("scope.modelVersion needs scope.modelName"));
    }
    Ok(ConfigScope::of(scope.model_name.as_deref(), scope.model_version.as_deref()))
}

fn scope_parts(scope: &ConfigScope) -> (Option<&str>, Option<&str>) {
    match scope {
        ConfigScope::Version(m, v) => (Some(m), Some(v)),
        ConfigScope::Model(m) => (Some(m), None),
        _ => (None, None),
    }
}

fn alert_query(value: &Unknown<'_>) -> CoreResult<AlertQuery> {
    let expected = "an object { modelName?, modelVersion?, severity?, status?, acknowledged?, \
                    ruleId?, from?, to?, limit? }";
    let Some(q) = convert::object::<AlertQueryOptions>(value, "query", expected)? else {
        return Ok(AlertQuery::default());
    };
    let status = q
        .status
        .map(|s| match s.as_str() {
            "firing" => Ok(AlertStatus::Firing),
            "resolved" => Ok(AlertStatus::Resolved),
            other => Err(CoreError::invalid_input(format!(
                "query.status: unknown alert status '{other}' (expected firing or resolved)"
            ))),
        })
        .transpose()?;
    let severity = q
        .severity
        .map(|s| {
            s.parse::<Severity>()
                .map_err(|e| CoreError::invalid_input(format!("query.severity: {}", message(&e))))
        })
        .transpose()?;
    let time = |t: Option<f64>, what: &str| -> CoreResult<Option<Timestamp>> {
        t.map(|ms| {
            let ms = convert::count(ms, what)?;
            i64::try_from(ms)
                .map(Timestamp::from_millis)
                .map_err(|_| CoreError::invalid_input(format!("{what} is too large")))
        })
        .transpose()
    };
    Ok(AlertQuery {
        model_name: q.model_name,
        model_version: q.model_version,
        severity,
        status,
        acknowledged: q.acknowledged,
        rule_id: q.rule_id,
        from: time(q.from, "query.from")?,
        to: time(q.to, "query.to")?,
        limit: q.limit.map(|l| convert::size(l, "query.limit")).transpose()?,
    })
}

fn message(e: &CoreError) -> String {
    match e {
        CoreError::InvalidInput { message } => message.clone(),
        other => other.to_string(),
    }
}

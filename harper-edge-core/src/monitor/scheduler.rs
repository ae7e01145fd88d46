//! The [`Monitor`]: scheduled jobs, alert evaluation, retraining triggers and the workflow
//! faces (acknowledge, approve, reject) over one [`Engine`].
//!
//! # Ticks
//!
//! [`Monitor::tick`] does, at the engine clock's time:
//!
//! 1. the aggregation jobs (`aggregation.hourlyAggregation`, `dailyAggregation` of the global
//!    configuration): [`Engine::tick`], which closes every ended period;
//! 2. per model version with a baseline, the data-quality job (`dataQualityCheck`, which reads
//!    the drift window without emptying it) and the drift job (`driftCheck`:
//!    [`Engine::check_drift`] on the window, with the version's drift settings), then the
//!    `drift` retraining conditions on that check's rows;
//! 3. per model (newest version), the `error_rate` and `scheduled` retraining conditions;
//! 4. every enabled alert rule (see [`crate::monitor::alert`]).
//!
//! A host calls `tick` itself (tests drive hours with a [`crate::ManualClock`]) or starts a
//! background thread with [`Monitor::start`]. One tick runs at a time.
//!
//! # Schedules and pauses
//!
//! A job first runs one interval after its newest stored run (drift and quality rows, a
//! scheduled request) or, without one, one interval after the first tick that sees it; then
//! every interval on that grid. A tick after a pause runs an overdue job **once** and moves its next run to the
//! next grid point after now; the runs skipped are counted in [`JobRun::missed`], never
//! replayed. A drift job with an empty window is `skipped`, not failed.
//!
//! Conditions and rules fire on transitions: a condition that stays true across checks
//! requests retraining once; a rule that stays breached raises one alert.

use std::collections::{BTreeMap, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};

use crate::background::Periodic;
use crate::clock::Timestamp;
use crate::drift::check::{DriftMetrics, DriftType};
use crate::drift::records::DriftQuery;
use crate::engine::Engine;
use crate::error::{Error, ErrorKind, Result};
use crate::monitor::alert::{
    self, AlertEvent, AlertQuery, AlertRule, AlertStatus, AlertType, CALLBACK_CHANNEL, Delivery,
    Metric, NoDataAction,
};
use crate::monitor::config::{self, ConfigScope, MonitoringConfig, StoredConfig, TriggerCondition};
use crate::monitor::notify::{Notification, NotificationKind, Notifier, OnOutcome, WebhookOptions};
use crate::monitor::retrain::{
    self, NewRequest, RetrainingRequest, RetrainingStatus, TriggerReason,
};
use crate::monitor::{CurrentData, DriftCheck};
use crate::registry::ModelRef;
use crate::store::{Expect, RecordQuery, Store, Table};
use crate::telemetry::{Granularity, MetricsQuery, ModelMetrics, QuantileSketch};

/// Settings of a [`Monitor`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MonitorOptions {
    /// Webhook delivery.
    pub webhook: WebhookOptions,
    /// Time between ticks of the background thread (default 10 s).
    pub interval: Duration,
}

impl Default for MonitorOptions {
    fn default() -> Self {
        MonitorOptions { webhook: WebhookOptions::default(), interval: Duration::from_secs(10) }
    }
}

impl MonitorOptions {
    /// Sets [`MonitorOptions::webhook`].
    #[must_use]
    pub fn webhook(mut self, webhook: WebhookOptions) -> Self {
        self.webhook = webhook;
        self
    }

    /// Sets [`MonitorOptions::interval`].
    #[must_use]
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }
}

/// A scheduled job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// `aggregation.hourlyAggregation`.
    HourlyAggregation,
    /// `aggregation.dailyAggregation`.
    DailyAggregation,
    /// `aggregation.dataQualityCheck`.
    DataQualityCheck,
    /// `aggregation.driftCheck`.
    DriftCheck,
    /// A `scheduled` retraining condition.
    ScheduledRetraining,
}

/// How a job run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobOutcome {
    /// It ran.
    Ran,
    /// Nothing to do (an empty drift window).
    Skipped,
    /// It failed; the message says why. The next run is scheduled as usual.
    Failed,
}

/// One job run of a tick (serde camelCase).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobRun {
    /// The job.
    pub job: JobKind,
    /// Its model, for per-model jobs.
    pub model_name: Option<String>,
    /// Its version.
    pub model_version: Option<String>,
    /// How it ended.
    pub outcome: JobOutcome,
    /// What happened (an error, a skip reason, the drifted count).
    pub message: Option<String>,
    /// Runs skipped because the monitor was not ticked in time (not replayed).
    pub missed: u64,
}

/// Where a rule stands for one model version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleState {
    /// The condition does not hold.
    Ok,
    /// An alert is open.
    Firing,
    /// The condition holds but the cooldown since the last episode has not passed.
    Cooldown,
    /// No data in this evaluation (see the rule's no-data policy).
    NoData,
    /// The metric could not be read (the message says why).
    Error,
}

/// The last evaluation of a rule for one model version (serde camelCase).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleStatus {
    /// The rule.
    pub rule_id: String,
    /// Its name.
    pub rule_name: String,
    /// The model.
    pub model_name: String,
    /// The version.
    pub model_version: String,
    /// Where it stands.
    pub state: RuleState,
    /// The metric's value (`None`: no data).
    pub value: Option<f64>,
    /// Evaluations in a row without data.
    pub no_data_streak: u32,
    /// The open alert.
    pub alert_id: Option<String>,
    /// An error reading the metric.
    pub message: Option<String>,
    /// When.
    pub evaluated_at: Timestamp,
}

/// What one tick did (serde camelCase).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct TickReport {
    /// The engine clock's time of the tick.
    pub at: Timestamp,
    /// Jobs that were due.
    pub jobs: Vec<JobRun>,
    /// Drift checks run (their rows are stored).
    #[serde(skip)]
    pub drift_checks: Vec<DriftCheck>,
    /// Alerts raised.
    pub fired: Vec<AlertEvent>,
    /// Alerts resolved.
    pub resolved: Vec<AlertEvent>,
    /// Retraining requests created (pending or blocked).
    pub retraining_requests: Vec<RetrainingRequest>,
    /// Every rule's evaluation.
    pub rules: Vec<RuleStatus>,
    /// Notifications to send once the tick has released its state (callbacks may call back
    /// into the monitor).
    #[serde(skip)]
    outgoing: Vec<(Vec<String>, NotificationKind, AlertEvent)>,
}

type AlertCallback = Arc<dyn Fn(&Notification) -> std::result::Result<(), String> + Send + Sync>;
type ApprovedCallback = Arc<dyn Fn(&RetrainingRequest) + Send + Sync>;

#[derive(Debug, Default)]
struct Episode {
    loaded: bool,
    active: Option<String>,
    last_end: Option<Timestamp>,
    no_data: u32,
}

#[derive(Debug, Default)]
struct State {
    next_due: HashMap<(JobKind, String, String), i64>,
    episodes: HashMap<(String, String, String), Episode>,
    triggers: HashMap<(String, String, usize), bool>,
    statuses: BTreeMap<(String, String, String), RuleStatus>,
    last_report: Option<TickReport>,
}

struct Inner {
    engine: Arc<Engine>,
    options: MonitorOptions,
    state: Mutex<State>,
    on_alert: RwLock<Vec<AlertCallback>>,
    on_approved: RwLock<Vec<ApprovedCallback>>,
    notifier: Notifier,
    /// Serialises read-modify-write of alert events (deliveries, resolution).
    event_lock: Arc<Mutex<()>>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor").field("options", &self.options).finish_non_exhaustive()
    }
}

/// Scheduled monitoring over an [`Engine`] (see the [module documentation](self)). Cheap to
/// clone: clones share everything.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use harper_edge_core::{Engine, ManualClock, Timestamp};
/// use harper_edge_core::monitor::{Monitor, MonitorOptions};
///
/// let clock = Arc::new(ManualClock::new(Timestamp::from_millis(0)));
/// let engine = Arc::new(Engine::builder().clock(clock.clone()).tick_interval(None).build()?);
/// let monitor = Monitor::new(engine, MonitorOptions::default())?;
/// let rule = monitor.put_rule_json(&serde_json::json!({
///     "ruleName": "slow", "alertType": "latency",
///     "condition": {"metric": "p95Latency", "operator": ">", "threshold": 500}
/// }))?;
/// let report = monitor.tick()?;
/// assert!(report.fired.is_empty()); // no model yet: nothing to evaluate
/// assert_eq!(monitor.rules()?[0].id, rule.id);
/// # Ok::<(), harper_edge_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Monitor {
    inner: Arc<Inner>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Appends `delivery` to the stored event `id`.
fn record_delivery(store: &dyn Store, event_lock: &Mutex<()>, id: &str, delivery: Delivery) {
    let _guard = lock(event_lock);
    if let Ok(mut e) = alert::event(store, id) {
        e.notifications.push(delivery);
        if let Ok(record) = e.to_record() {
            let _ = store.put_records(&[record], &[]);
        }
    }
}

impl Monitor {
    /// A monitor of `engine` (no thread is started; see [`Monitor::start`]).
    ///
    /// # Errors
    ///
    /// [`Error::Internal`] when the webhook thread cannot start.
    pub fn new(engine: Arc<Engine>, options: MonitorOptions) -> Result<Monitor> {
        let event_lock = Arc::new(Mutex::new(()));
        let (store, el) = (Arc::clone(engine.store()), Arc::clone(&event_lock));
        let on_outcome: OnOutcome = Arc::new(move |id, url, kind, outcome| {
            let delivery = Delivery {
                channel: url.to_string(),
                kind: kind.as_str().into(),
                delivered: outcome.delivered,
                attempts: outcome.attempts,
                error: outcome.error.clone(),
                at: super::notify::wall_now(),
            };
            record_delivery(store.as_ref(), &el, id, delivery);
        });
        let notifier = Notifier::new(options.webhook, on_outcome)?;
        Ok(Monitor {
            inner: Arc::new(Inner {
                engine,
                options,
                state: Mutex::new(State::default()),
                on_alert: RwLock::new(Vec::new()),
                on_approved: RwLock::new(Vec::new()),
                notifier,
                event_lock,
            }),
        })
    }

    /// The engine.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.inner.engine
    }

    fn store(&self) -> &dyn Store {
        self.inner.engine.store().as_ref()
    }

    fn now(&self) -> Timestamp {
        self.inner.engine.clock().now()
    }

    /// Calls `f` for every alert fired or resolved through the `callback` channel, on the
    /// thread that ticks, after the tick's work is done (so `f` may call back into the
    /// monitor: read statuses, acknowledge, approve; ticking from `f` would wait for the tick
    /// that called it). A panic in `f` is caught and recorded as a failed delivery.
    pub fn on_alert(&self, f: impl Fn(&Notification) + Send + Sync + 'static) {
        self.on_alert_checked(move |n| {
            f(n);
            Ok(())
        });
    }

    /// As [`Monitor::on_alert`], for a callback that can fail: an `Err(message)` is recorded
    /// as a failed delivery with that message (the bindings report a raised exception so).
    pub fn on_alert_checked(
        &self,
        f: impl Fn(&Notification) -> std::result::Result<(), String> + Send + Sync + 'static,
    ) {
        self.inner.on_alert.write().unwrap_or_else(PoisonError::into_inner).push(Arc::new(f));
    }

    /// Calls `f` with every request approved through this monitor (its `trainingJobId` set).
    pub fn on_retraining_approved(&self, f: impl Fn(&RetrainingRequest) + Send + Sync + 'static) {
        self.inner.on_approved.write().unwrap_or_else(PoisonError::into_inner).push(Arc::new(f));
    }

    // ---------------------------------------------------------------------------------------
    // Configuration

    /// Sets the configuration layer of `scope` (only the fields it names; see
    /// [`crate::monitor::config`]), checked first.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming the field; [`Error::Storage`].
    pub fn set_config(&self, scope: &ConfigScope, layer: Value) -> Result<StoredConfig> {
        let stored = StoredConfig::new(scope, layer, self.now())?;
        self.store().put_records(&[stored.to_record()?], &[])?;
        Ok(stored)
    }

    /// The layer of `scope`, if one is set.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`].
    pub fn config_layer(&self, scope: &ConfigScope) -> Result<Option<StoredConfig>> {
        self.store()
            .record(Table::MonitoringConfig, &scope.id())?
            .map(|r| {
                serde_json::from_value(r.record)
                    .map_err(|e| Error::storage(format!("corrupt MonitoringConfig '{}'", r.id), e))
            })
            .transpose()
    }

    /// Removes the layer of `scope`; true if there was one.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`].
    pub fn clear_config(&self, scope: &ConfigScope) -> Result<bool> {
        self.store().delete_record(Table::MonitoringConfig, &scope.id(), self.now())
    }

    /// The configuration in effect for `model_name:model_version` (`None`: the global one).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] if stored layers no longer combine; [`Error::Storage`].
    pub fn effective_config(
        &self,
        model_name: Option<&str>,
        model_version: Option<&str>,
    ) -> Result<MonitoringConfig> {
        let layers = self.layers()?;
        effective(&layers, model_name, model_version)
    }

    fn layers(&self) -> Result<HashMap<String, Value>> {
        stored_layers(self.store())
    }

    // ---------------------------------------------------------------------------------------
    // Rules and alerts

    /// Saves a rule (replacing the rule with the same id).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming the field; [`Error::Storage`].
    pub fn put_rule(&self, rule: AlertRule) -> Result<AlertRule> {
        alert::put_rule(self.store(), rule, self.now())
    }

    /// Saves a rule given as JSON (the original design's fields).
    ///
    /// # Errors
    ///
    /// As [`Monitor::put_rule`].
    pub fn put_rule_json(&self, rule: &Value) -> Result<AlertRule> {
        self.put_rule(AlertRule::from_json(rule)?)
    }

    /// Deletes the rule `id` (its events stay).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`]; [`Error::Storage`].
    pub fn delete_rule(&self, id: &str) -> Result<()> {
        alert::delete_rule(self.store(), id, self.now())?;
        let mut st = lock(&self.inner.state);
        st.episodes.retain(|k, _| k.0 != id);
        st.statuses.retain(|k, _| k.0 != id);
        Ok(())
    }

    /// The stored rules.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`].
    pub fn rules(&self) -> Result<Vec<AlertRule>> {
        alert::rules(self.store())
    }

    /// Alert events matching `query`, newest first.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`].
    pub fn alerts(&self, query: &AlertQuery) -> Result<Vec<AlertEvent>> {
        alert::events(self.store(), query)
    }

    /// The alert event `id`.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`].
    pub fn alert(&self, id: &str) -> Result<AlertEvent> {
        alert::event(self.store(), id)
    }

    /// Acknowledges the alert `id` as `by` (see [`alert::acknowledge`]).
    ///
    /// # Errors
    ///
    /// As [`alert::acknowledge`].
    pub fn acknowledge(&self, id: &str, by: &str) -> Result<AlertEvent> {
        let _guard = lock(&self.inner.event_lock);
        alert::acknowledge(self.store(), id, by, self.now())
    }

    /// The last evaluation of every rule, per model version.
    pub fn rule_statuses(&self) -> Vec<RuleStatus> {
        lock(&self.inner.state).statuses.values().cloned().collect()
    }

    /// Waits until queued webhook deliveries have ended, up to `timeout`; true if none is
    /// left.
    pub fn flush_notifications(&self, timeout: Duration) -> bool {
        self.inner.notifier.flush(timeout)
    }

    // ---------------------------------------------------------------------------------------
    // Retraining

    /// Retraining requests of `model_name` (all if `None`) with `status`, newest first.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`].
    pub fn retraining_requests(
        &self,
        model_name: Option<&str>,
        status: Option<RetrainingStatus>,
    ) -> Result<Vec<RetrainingRequest>> {
        retrain::requests(self.store(), model_name, status, None)
    }

    /// The request `id`.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`].
    pub fn retraining_request(&self, id: &str) -> Result<RetrainingRequest> {
        retrain::get(self.store(), id)
    }

    /// Requests retraining of `reference` (no version: the newest) by hand, through the
    /// safety checks of its configuration: the request comes back `pending_approval` or
    /// `blocked` (see [`RetrainingRequest::blocked_by`]).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown model; [`Error::Storage`].
    pub fn request_retraining(
        &self,
        reference: &ModelRef,
        requested_by: Option<&str>,
        details: Value,
    ) -> Result<RetrainingRequest> {
        // A named version needs no registration (hosts run their own models); a bare name
        // means the newest registered version.
        let (name, version) = match &reference.version {
            Some(v) => (reference.name.clone(), v.clone()),
            None => {
                let model = self.inner.engine.model(reference)?;
                (model.model_name, model.model_version)
            }
        };
        let config = self.effective_config(Some(&name), Some(&version))?;
        retrain::request(
            self.store(),
            &config.retraining_triggers,
            NewRequest {
                model_name: name,
                model_version: version,
                reason: TriggerReason::Manual,
                details,
                requested_by: requested_by.map(str::to_string),
            },
            self.now(),
        )
    }

    /// Approves the pending request `id` and hands it (with its new `trainingJobId`) to the
    /// [`Monitor::on_retraining_approved`] callbacks.
    ///
    /// # Errors
    ///
    /// As [`retrain::approve`].
    pub fn approve(&self, id: &str, by: &str, reason: Option<&str>) -> Result<RetrainingRequest> {
        let r = retrain::approve(self.store(), id, by, reason, self.now())?;
        let callbacks =
            self.inner.on_approved.read().unwrap_or_else(PoisonError::into_inner).clone();
        for f in callbacks {
            let _ = catch_unwind(AssertUnwindSafe(|| f(&r)));
        }
        Ok(r)
    }

    /// Rejects the pending request `id`.
    ///
    /// # Errors
    ///
    /// As [`retrain::reject`].
    pub fn reject(&self, id: &str, by: &str, reason: Option<&str>) -> Result<RetrainingRequest> {
        retrain::reject(self.store(), id, by, reason, self.now())
    }

    /// Marks the approved request `id` completed.
    ///
    /// # Errors
    ///
    /// As [`retrain::complete`].
    pub fn complete(&self, id: &str) -> Result<RetrainingRequest> {
        retrain::complete(self.store(), id, self.now())
    }

    // ---------------------------------------------------------------------------------------
    // Replicas

    /// Loads a monitoring record kept elsewhere — a row of a HarperDB table another worker or
    /// node mirrored from its outbox — into this monitor's store, so this process can act on
    /// it (acknowledge, approve, evaluate). `table` is `AlertRule`, `AlertEvent`,
    /// `RetrainingRequest` or `MonitoringConfig`; `record` has the original camelCase fields.
    ///
    /// A copy never moves a record backwards: a retraining request's status only advances
    /// (`pending_approval` → `approved` / `rejected` / `blocked` → `completed`); an alert event
    /// keeps whichever copy is resolved and whichever is acknowledged (the first
    /// acknowledgment wins); rules and configuration layers keep the newer `updatedAt`.
    /// Returns whether the local store changed.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for another table or a record that does not parse (naming the
    /// field); [`Error::Storage`].
    pub fn restore(&self, table: Table, record: &Value) -> Result<bool> {
        let bad = |e: serde_path_to_error::Error<serde_json::Error>| {
            Error::invalid_input(format!("{table} record: {}: {}", e.path(), e.inner()))
        };
        let store = self.store();
        let _guard = lock(&self.inner.event_lock);
        let local = |id: &str| store.record(table, id);
        let new = match table {
            Table::AlertRule => {
                let rule: AlertRule = serde_path_to_error::deserialize(record).map_err(bad)?;
                rule.validate()?;
                let keep = local(&rule.id)?
                    .and_then(|r| r.record.get("updatedAt").and_then(Value::as_i64));
                if keep.is_some_and(|t| t >= rule.updated_at.as_millis()) {
                    return Ok(false);
                }
                rule.to_record()?
            }
            Table::MonitoringConfig => {
                let c: StoredConfig = serde_path_to_error::deserialize(record).map_err(bad)?;
                MonitoringConfig::from_json(&c.config)?;
                let keep = local(&c.id)?.map(|r| r.timestamp);
                if keep.is_some_and(|t| t >= c.updated_at) {
                    return Ok(false);
                }
                c.to_record()?
            }
            Table::RetrainingRequest => {
                let r: RetrainingRequest = serde_path_to_error::deserialize(record).map_err(bad)?;
                let rank = |s: RetrainingStatus| match s {
                    RetrainingStatus::PendingApproval => 0,
                    RetrainingStatus::Approved
                    | RetrainingStatus::Rejected
                    | RetrainingStatus::Blocked => 1,
                    RetrainingStatus::Completed => 2,
                };
                // The status column says where the local copy is; no need to decode it.
                if let Some(status) = local(&r.id)?.and_then(|mine| mine.status)
                    && rank(RetrainingStatus::parse(&status)?) >= rank(r.status)
                {
                    return Ok(false);
                }
                r.to_record()?
            }
            Table::AlertEvent => {
                let theirs: AlertEvent = serde_path_to_error::deserialize(record).map_err(bad)?;
                let merged = match local(&theirs.id)? {
                    None => theirs,
                    Some(r) => {
                        let mut mine = AlertEvent::from_record(&r)?;
                        let before = mine.clone();
                        if theirs.status == AlertStatus::Resolved
                            && mine.status == AlertStatus::Firing
                        {
                            mine.status = AlertStatus::Resolved;
                            mine.resolved_at = theirs.resolved_at;
                        }
                        if theirs.acknowledged && !mine.acknowledged {
                            mine.acknowledged = true;
                            mine.acknowledged_by = theirs.acknowledged_by;
                            mine.acknowledged_at = theirs.acknowledged_at;
                        }
                        if mine == before {
                            return Ok(false);
                        }
                        mine
                    }
                };
                merged.to_record()?
            }
            other => {
                return Err(Error::invalid_input(format!(
                    "cannot restore a {other} record: only AlertRule, AlertEvent, \
                     RetrainingRequest and MonitoringConfig records"
                )));
            }
        };
        store.put_records(&[new], &[])?;
        Ok(true)
    }

    // ---------------------------------------------------------------------------------------
    // Ticks

    /// The report of the last tick.
    pub fn last_report(&self) -> Option<TickReport> {
        lock(&self.inner.state).last_report.clone()
    }

    /// Runs what is due now (see the [module documentation](self)).
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when rules, configurations or models cannot be read; a job or rule
    /// that fails is reported in the [`TickReport`] instead.
    pub fn tick(&self) -> Result<TickReport> {
        let mut st = lock(&self.inner.state);
        let now = self.now();
        let mut report = TickReport { at: now, ..TickReport::default() };
        let layers = self.layers()?;
        let global = effective(&layers, None, None)?;
        // 1. Aggregation.
        for (job, interval) in [
            (JobKind::HourlyAggregation, global.aggregation.hourly_aggregation),
            (JobKind::DailyAggregation, global.aggregation.daily_aggregation),
        ] {
            if let Some(missed) =
                due(&mut st, (job, String::new(), String::new()), interval.as_millis(), now)
            {
                let run = match self.inner.engine.tick() {
                    Ok(rows) => ran(job, None, format!("{} metrics row(s) written", rows.len())),
                    Err(e) => failed(job, None, &e),
                };
                report.jobs.push(JobRun { missed, ..run });
            }
        }
        // 2. Drift and quality per version with a baseline.
        for (name, version) in self.store().baseline_versions()? {
            let target = Some((name.as_str(), version.as_str()));
            let config = match effective(&layers, Some(&name), Some(&version)) {
                Ok(c) => c,
                Err(e) => {
                    report.jobs.push(failed(JobKind::DriftCheck, target, &e));
                    continue;
                }
            };
            let reference = ModelRef { name: name.clone(), version: Some(version.clone()) };
            let key = |job| (job, name.clone(), version.clone());
            // A restarted monitor continues the schedule from the newest stored check, so a
            // process that restarts more often than the interval still checks.
            if !st.next_due.contains_key(&key(JobKind::DataQualityCheck)) {
                let q = DriftQuery::new(&name).version(&version).limit(1);
                let last = self.store().data_quality(&q)?.first().map(|r| r.timestamp);
                seed(
                    &mut st,
                    key(JobKind::DataQualityCheck),
                    last,
                    config.aggregation.data_quality_check.as_millis(),
                );
            }
            if !st.next_due.contains_key(&key(JobKind::DriftCheck)) {
                let q = DriftQuery::new(&name).version(&version).limit(1);
                let last = self.store().drift_metrics(&q)?.first().map(|r| r.timestamp);
                seed(
                    &mut st,
                    key(JobKind::DriftCheck),
                    last,
                    config.aggregation.drift_check.as_millis(),
                );
            }
            if let Some(missed) = due(
                &mut st,
                key(JobKind::DataQualityCheck),
                config.aggregation.data_quality_check.as_millis(),
                now,
            ) {
                let run = match self.inner.engine.check_quality(&reference) {
                    Ok(q) => ran(
                        JobKind::DataQualityCheck,
                        target,
                        format!(
                            "{} record(s), {} schema violation(s)",
                            q.total_records, q.schema_violations
                        ),
                    ),
                    Err(e) => skip_or_fail(JobKind::DataQualityCheck, target, &e),
                };
                report.jobs.push(JobRun { missed, ..run });
            }
            if let Some(missed) = due(
                &mut st,
                key(JobKind::DriftCheck),
                config.aggregation.drift_check.as_millis(),
                now,
            ) {
                let run = self.drift_job(&mut st, &mut report, &reference, &config);
                report.jobs.push(JobRun { missed, ..run });
            }
        }
        // 3. Error-rate and scheduled retraining conditions, per model's newest version.
        let newest = self.newest_versions()?;
        for (name, version) in &newest {
            let config = match effective(&layers, Some(name), Some(version)) {
                Ok(c) => c,
                Err(_) => continue, // reported by the rules below and the drift job
            };
            self.rate_triggers(&mut st, &mut report, name, version, &config, now);
        }
        // 4. Alert rules.
        for rule in alert::rules(self.store())?.into_iter().filter(|r| r.enabled) {
            let targets: Vec<(String, String)> = match (&rule.model_name, &rule.model_version) {
                (Some(m), Some(v)) => vec![(m.clone(), v.clone())],
                (Some(m), None) => newest.iter().filter(|(n, _)| n == m).cloned().collect(),
                (None, _) => newest.clone(),
            };
            if targets.is_empty()
                && let Some(m) = &rule.model_name
            {
                // Never a silent pass: a rule whose model has no registered version says so.
                let status = RuleStatus {
                    rule_id: rule.id.clone(),
                    rule_name: rule.rule_name.clone(),
                    model_name: m.clone(),
                    model_version: String::new(),
                    state: RuleState::Error,
                    value: None,
                    no_data_streak: 0,
                    alert_id: None,
                    message: Some(format!(
                        "model '{m}' has no registered version: register it or give the rule a \
                         modelVersion"
                    )),
                    evaluated_at: now,
                };
                st.statuses.insert((rule.id.clone(), m.clone(), String::new()), status);
            }
            for (name, version) in targets {
                let config = effective(&layers, Some(&name), Some(&version)).unwrap_or_default();
                self.evaluate_rule(&mut st, &mut report, &rule, &name, &version, &config, now);
            }
        }
        report.rules = st.statuses.values().cloned().collect();
        let outgoing = std::mem::take(&mut report.outgoing);
        st.last_report = Some(report.clone());
        drop(st);
        // Outside the state lock: a callback may read statuses or approve a request.
        for (channels, kind, event) in &outgoing {
            self.notify(channels, *kind, event);
        }
        Ok(report)
    }

    /// Each model's newest version (by registration), by name.
    fn newest_versions(&self) -> Result<Vec<(String, String)>> {
        let mut newest: BTreeMap<String, String> = BTreeMap::new();
        for m in self.inner.engine.models()? {
            newest.insert(m.model_name, m.model_version);
        }
        Ok(newest.into_iter().collect())
    }

    fn drift_job(
        &self,
        st: &mut State,
        report: &mut TickReport,
        reference: &ModelRef,
        config: &MonitoringConfig,
    ) -> JobRun {
        let name = reference.name.as_str();
        let version = reference.version.as_deref().unwrap_or_default();
        let target = Some((name, version));
        let baseline = match self.inner.engine.baseline(reference) {
            Ok(b) => b,
            Err(e) => return failed(JobKind::DriftCheck, target, &e),
        };
        let check_config = config.drift_check_config(&baseline);
        let check =
            match self.inner.engine.check_drift(reference, CurrentData::Window, &check_config) {
                Ok(c) => c,
                Err(e) => return skip_or_fail(JobKind::DriftCheck, target, &e),
            };
        let message = format!(
            "{} of {} feature(s) drifted{}",
            check.report.drifted_count,
            check.report.features.len(),
            match check.concept {
                Some(c) if c.drifted => "; concept drift",
                _ => "",
            }
        );
        if config.retraining_triggers.enabled {
            for (i, c) in config.retraining_triggers.conditions.iter().enumerate() {
                let TriggerCondition::Drift { drift_types, threshold } = c else { continue };
                let hits: Vec<&DriftMetrics> = check
                    .rows
                    .iter()
                    .filter(|r| drift_types.contains(&r.drift_type) && r.drift_score > *threshold)
                    .collect();
                let details = json!({
                    "condition": c,
                    "checkedAt": check.timestamp,
                    "rows": hits.iter().map(|r| json!({
                        "featureName": r.feature_name, "driftType": r.drift_type,
                        "driftScore": r.drift_score, "driftMethod": r.drift_method, "pValue": r.p_value,
                    })).collect::<Vec<_>>(),
                });
                let key = (name.to_string(), version.to_string(), i);
                self.trigger(
                    st,
                    report,
                    key,
                    !hits.is_empty(),
                    TriggerReason::DriftDetected,
                    details,
                    config,
                );
            }
        }
        report.drift_checks.push(check);
        ran(JobKind::DriftCheck, target, message)
    }

    fn rate_triggers(
        &self,
        st: &mut State,
        report: &mut TickReport,
        name: &str,
        version: &str,
        config: &MonitoringConfig,
        now: Timestamp,
    ) {
        if !config.retraining_triggers.enabled {
            return;
        }
        for (i, c) in config.retraining_triggers.conditions.iter().enumerate() {
            let key = (name.to_string(), version.to_string(), i);
            match c {
                TriggerCondition::ErrorRate { threshold } => {
                    let reference = ModelRef { name: name.into(), version: Some(version.into()) };
                    let Ok(stats) = self.inner.engine.realtime(&reference) else { continue };
                    let active = stats.request_count > 0 && stats.error_rate > *threshold;
                    let details = json!({
                        "condition": c, "errorRate": stats.error_rate,
                        "requestCount": stats.request_count, "errorCount": stats.error_count,
                        "windowStart": stats.window_start, "windowEnd": stats.window_end,
                    });
                    self.trigger(
                        st,
                        report,
                        key,
                        active,
                        TriggerReason::ErrorRateThreshold,
                        details,
                        config,
                    );
                }
                TriggerCondition::Scheduled { every } => {
                    let job = (JobKind::ScheduledRetraining, name.to_string(), format!("{i}"));
                    if !st.next_due.contains_key(&job) {
                        let last = retrain::requests(self.store(), Some(name), None, None)
                            .ok()
                            .and_then(|rs| {
                                rs.into_iter()
                                    .find(|r| r.trigger_reason == TriggerReason::Scheduled)
                                    .map(|r| r.requested_at)
                            });
                        seed(st, job.clone(), last, every.as_millis());
                    }
                    if let Some(missed) = due(st, job, every.as_millis(), now) {
                        // Each due run is an occasion of its own (no edge to wait for).
                        let details = json!({"condition": c, "missed": missed});
                        self.request(
                            report,
                            name,
                            version,
                            TriggerReason::Scheduled,
                            details,
                            config,
                        );
                    }
                }
                TriggerCondition::Drift { .. } => {}
            }
        }
    }

    /// A condition's new value: on a false → true edge, a retraining request.
    #[allow(clippy::too_many_arguments)]
    fn trigger(
        &self,
        st: &mut State,
        report: &mut TickReport,
        key: (String, String, usize),
        active: bool,
        reason: TriggerReason,
        details: Value,
        config: &MonitoringConfig,
    ) {
        let was = st.triggers.insert(key.clone(), active).unwrap_or(false);
        if active && !was {
            self.request(report, &key.0, &key.1, reason, details, config);
        }
    }

    /// A retraining request through the safety checks, into the report.
    fn request(
        &self,
        report: &mut TickReport,
        name: &str,
        version: &str,
        reason: TriggerReason,
        details: Value,
        config: &MonitoringConfig,
    ) {
        let new = NewRequest {
            model_name: name.to_string(),
            model_version: version.to_string(),
            reason,
            details,
            requested_by: None,
        };
        match retrain::request(self.store(), &config.retraining_triggers, new, self.now()) {
            Ok(r) => report.retraining_requests.push(r),
            Err(e) => report.jobs.push(JobRun {
                job: JobKind::DriftCheck,
                model_name: Some(name.to_string()),
                model_version: Some(version.to_string()),
                outcome: JobOutcome::Failed,
                message: Some(format!("retraining request ({}) failed: {e}", reason.as_str())),
                missed: 0,
            }),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn evaluate_rule(
        &self,
        st: &mut State,
        report: &mut TickReport,
        rule: &AlertRule,
        name: &str,
        version: &str,
        config: &MonitoringConfig,
        now: Timestamp,
    ) {
        let key = (rule.id.clone(), name.to_string(), version.to_string());
        let mut status = RuleStatus {
            rule_id: rule.id.clone(),
            rule_name: rule.rule_name.clone(),
            model_name: name.to_string(),
            model_version: version.to_string(),
            state: RuleState::Ok,
            value: None,
            no_data_streak: 0,
            alert_id: None,
            message: None,
            evaluated_at: now,
        };
        let value =
            rule.metric().and_then(|m| self.metric_value(rule, m, name, version, config, now));
        let ep = st.episodes.entry(key.clone()).or_default();
        if !ep.loaded {
            let q = AlertQuery {
                model_name: Some(name.into()),
                model_version: Some(version.into()),
                rule_id: Some(rule.id.clone()),
                limit: Some(1),
                ..AlertQuery::default()
            };
            if let Ok(Some(last)) = alert::events(self.store(), &q).map(|v| v.into_iter().next()) {
                match last.status {
                    AlertStatus::Firing => ep.active = Some(last.id),
                    AlertStatus::Resolved => ep.last_end = last.resolved_at,
                }
            }
            ep.loaded = true;
        }
        let cooldown_ok = ep
            .last_end
            .is_none_or(|t| now.as_millis() - t.as_millis() >= rule.cooldown.as_millis());
        // What to do: fire with a value (or none, for no data), resolve, or nothing.
        enum Step {
            Fire(Option<f64>),
            Resolve,
            Stay,
        }
        let step = match &value {
            Err(e) => {
                status.state = RuleState::Error;
                status.message = Some(e.to_string());
                Step::Stay
            }
            Ok(Some(v)) => {
                ep.no_data = 0;
                status.value = Some(*v);
                let breach = rule.condition.operator.holds(*v, rule.condition.threshold);
                match (breach, ep.active.is_some()) {
                    (true, true) => Step::Stay,
                    (true, false) if cooldown_ok => Step::Fire(Some(*v)),
                    (true, false) => {
                        status.state = RuleState::Cooldown;
                        Step::Stay
                    }
                    (false, true) => Step::Resolve,
                    (false, false) => Step::Stay,
                }
            }
            Ok(None) => {
                ep.no_data += 1;
                status.state = RuleState::NoData;
                if ep.no_data >= rule.no_data.after {
                    match rule.no_data.action {
                        NoDataAction::Hold => Step::Stay,
                        NoDataAction::Fire if ep.active.is_none() && cooldown_ok => {
                            Step::Fire(None)
                        }
                        NoDataAction::Fire => Step::Stay,
                        NoDataAction::Ignore if ep.active.is_some() => Step::Resolve,
                        NoDataAction::Ignore => Step::Stay,
                    }
                } else {
                    Step::Stay
                }
            }
        };
        status.no_data_streak = ep.no_data;
        match step {
            Step::Fire(v) => match self.fire(rule, name, version, v, config, now, report) {
                Ok(event) => {
                    ep.active = Some(event.id.clone());
                    report.fired.push(event);
                }
                Err(e) => {
                    status.state = RuleState::Error;
                    status.message = Some(format!("could not raise the alert: {e}"));
                }
            },
            Step::Resolve => {
                if let Some(id) = ep.active.take() {
                    ep.last_end = Some(now);
                    match self.resolve(rule, &id, now, report) {
                        Ok(event) => report.resolved.push(event),
                        Err(e) => {
                            status.message = Some(format!("could not resolve alert '{id}': {e}"))
                        }
                    }
                }
            }
            Step::Stay => {}
        }
        if ep.active.is_some() && status.state != RuleState::Error {
            status.state = RuleState::Firing;
        }
        status.alert_id.clone_from(&ep.active);
        st.statuses.insert(key, status);
    }

    #[allow(clippy::too_many_arguments)]
    fn fire(
        &self,
        rule: &AlertRule,
        name: &str,
        version: &str,
        value: Option<f64>,
        config: &MonitoringConfig,
        now: Timestamp,
        report: &mut TickReport,
    ) -> Result<AlertEvent> {
        let metric = rule.metric()?;
        let condition = match value {
            Some(_) => rule.condition.text(metric),
            None => format!("no data for {}", metric.name()),
        };
        let message = match value {
            Some(v) => format!(
                "{}: {condition} on {name}:{version} (actual {}{})",
                rule.rule_name,
                round(v),
                metric.unit()
            ),
            None => format!(
                "{}: {condition} on {name}:{version} for {} evaluation(s)",
                rule.rule_name, rule.no_data.after
            ),
        };
        let mut event = AlertEvent {
            id: format!("alert-{}", uuid::Uuid::new_v4()),
            rule_id: rule.id.clone(),
            rule_name: rule.rule_name.clone(),
            model_name: name.into(),
            model_version: version.into(),
            timestamp: now,
            alert_type: rule.alert_type,
            severity: rule.severity,
            condition,
            actual_value: value,
            threshold: rule.condition.threshold,
            message,
            status: AlertStatus::Firing,
            resolved_at: None,
            acknowledged: false,
            acknowledged_by: None,
            acknowledged_at: None,
            retraining_request_id: None,
            notifications: Vec::new(),
        };
        if rule.request_retraining && config.retraining_triggers.enabled {
            let reason = match rule.alert_type {
                AlertType::Drift => TriggerReason::DriftDetected,
                AlertType::ErrorRate => TriggerReason::ErrorRateThreshold,
                _ => TriggerReason::AlertRule,
            };
            let details = json!({
                "ruleId": rule.id, "ruleName": rule.rule_name, "alertId": event.id,
                "condition": event.condition, "actualValue": value, "threshold": event.threshold,
            });
            let new = NewRequest {
                model_name: name.into(),
                model_version: version.into(),
                reason,
                details,
                requested_by: None,
            };
            let r = retrain::request(self.store(), &config.retraining_triggers, new, now)?;
            event.retraining_request_id = Some(r.id.clone());
            report.retraining_requests.push(r);
        }
        let expect = Expect { table: Table::AlertEvent, id: event.id.clone(), status: None };
        self.store().put_records(&[event.to_record()?], &[expect])?;
        report.outgoing.push((
            rule.notification_channels.clone(),
            NotificationKind::Fired,
            event.clone(),
        ));
        Ok(event)
    }

    fn resolve(
        &self,
        rule: &AlertRule,
        id: &str,
        now: Timestamp,
        report: &mut TickReport,
    ) -> Result<AlertEvent> {
        let event = {
            let _guard = lock(&self.inner.event_lock);
            let mut e = alert::event(self.store(), id)?;
            if e.status == AlertStatus::Resolved {
                return Ok(e);
            }
            e.status = AlertStatus::Resolved;
            e.resolved_at = Some(now);
            let expect =
                Expect { table: Table::AlertEvent, id: id.into(), status: Some("firing".into()) };
            self.store().put_records(&[e.to_record()?], &[expect])?;
            e
        };
        report.outgoing.push((
            rule.notification_channels.clone(),
            NotificationKind::Resolved,
            event.clone(),
        ));
        Ok(event)
    }

    /// Sends `event` to `channels`: callbacks now, webhooks queued.
    fn notify(&self, channels: &[String], kind: NotificationKind, event: &AlertEvent) {
        for channel in channels {
            let notification = Notification { kind, alert: event.clone() };
            if channel == CALLBACK_CHANNEL {
                let callbacks =
                    self.inner.on_alert.read().unwrap_or_else(PoisonError::into_inner).clone();
                let mut error = None;
                for f in &callbacks {
                    match catch_unwind(AssertUnwindSafe(|| f(&notification))) {
                        Ok(Ok(())) => {}
                        Ok(Err(message)) => error = Some(format!("a callback failed: {message}")),
                        Err(_) => error = Some("a callback panicked".to_string()),
                    }
                }
                let delivery = Delivery {
                    channel: CALLBACK_CHANNEL.into(),
                    kind: kind.as_str().into(),
                    delivered: error.is_none() && !callbacks.is_empty(),
                    attempts: u32::try_from(callbacks.len()).unwrap_or(u32::MAX),
                    error: error
                        .or_else(|| callbacks.is_empty().then(|| "no callback registered".into())),
                    at: self.now(),
                };
                record_delivery(self.store(), &self.inner.event_lock, &event.id, delivery);
            } else {
                self.inner.notifier.send(channel, notification);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn metric_value(
        &self,
        rule: &AlertRule,
        metric: Metric,
        name: &str,
        version: &str,
        config: &MonitoringConfig,
        now: Timestamp,
    ) -> Result<Option<f64>> {
        let c = &rule.condition;
        let window = c.window_ms();
        let from = window.map(|w| Timestamp::from_millis(now.as_millis().saturating_sub(w)));
        let store = self.store();
        #[allow(clippy::cast_precision_loss)]
        let value = match rule.alert_type {
            AlertType::Latency | AlertType::ErrorRate => {
                let w = window.unwrap_or(300_000);
                let (count, errors, sketch, secs) = if w == 300_000 {
                    let reference = ModelRef { name: name.into(), version: Some(version.into()) };
                    let s = self.inner.engine.realtime(&reference)?;
                    let latency = match metric {
                        Metric::P50Latency => s.p50_latency,
                        Metric::P95Latency => s.p95_latency,
                        Metric::P99Latency => s.p99_latency,
                        Metric::AvgLatency => s.avg_latency,
                        Metric::MaxLatency => s.max_latency,
                        _ => None,
                    };
                    return Ok(match metric {
                        Metric::ErrorRate => (s.request_count > 0).then_some(s.error_rate),
                        Metric::ErrorCount => Some(s.error_count as f64),
                        Metric::RequestCount => Some(s.request_count as f64),
                        Metric::ThroughputPerSecond => Some(s.throughput_per_second),
                        _ => latency,
                    });
                } else {
                    let q = MetricsQuery::new(name, Granularity::FiveMinutes)
                        .version(version)
                        .between(from, Some(now))
                        .limit(usize::MAX);
                    let rows = ModelMetrics::combine(store.metrics(&q)?)?;
                    let mut sketch = QuantileSketch::new(QuantileSketch::DEFAULT_ALPHA)?;
                    let mut errors = 0;
                    for r in &rows {
                        sketch.merge(&r.latency_sketch)?;
                        errors += r.error_count;
                    }
                    (sketch.count(), errors, sketch, w as f64 / 1000.0)
                };
                match metric {
                    Metric::P50Latency => sketch.quantile(0.5),
                    Metric::P95Latency => sketch.quantile(0.95),
                    Metric::P99Latency => sketch.quantile(0.99),
                    Metric::AvgLatency => sketch.mean(),
                    Metric::MaxLatency => sketch.max(),
                    Metric::ErrorRate => (count > 0).then(|| errors as f64 / count as f64),
                    Metric::ErrorCount => Some(errors as f64),
                    Metric::RequestCount => Some(count as f64),
                    Metric::ThroughputPerSecond => Some(count as f64 / secs),
                    _ => None,
                }
            }
            AlertType::Drift => {
                let q = DriftQuery::new(name)
                    .version(version)
                    .between(from, Some(Timestamp::from_millis(now.as_millis() + 1)));
                let rows = store.drift_metrics(&q)?;
                let Some(newest) = rows.first().map(|r| r.timestamp) else { return Ok(None) };
                let wanted = |t: DriftType| match c.drift_type {
                    Some(want) => t == want,
                    None => t != DriftType::Concept,
                };
                let rows: Vec<&DriftMetrics> = rows
                    .iter()
                    .filter(|r| r.timestamp == newest && wanted(r.drift_type))
                    .filter(|r| c.feature_name.as_ref().is_none_or(|f| *f == r.feature_name))
                    .collect();
                if rows.is_empty() {
                    return Ok(None);
                }
                let drifted = rows.iter().filter(|r| r.drifted).count() as f64;
                match metric {
                    Metric::DriftScore => rows.iter().map(|r| r.drift_score).reduce(f64::max),
                    Metric::PValue => rows.iter().filter_map(|r| r.p_value).reduce(f64::min),
                    Metric::AdjustedPValue => {
                        let p: Vec<f64> = rows.iter().filter_map(|r| r.p_value).collect();
                        crate::drift::multiple::adjust(&p, config.drift.correction)?
                            .into_iter()
                            .reduce(f64::min)
                    }
                    Metric::DriftedCount => Some(drifted),
                    Metric::DriftedShare => Some(drifted / rows.len() as f64),
                    _ => None,
                }
            }
            AlertType::DataQuality => {
                let q = DriftQuery::new(name)
                    .version(version)
                    .between(from, Some(Timestamp::from_millis(now.as_millis() + 1)))
                    .limit(1);
                let Some(row) = store.data_quality(&q)?.into_iter().next() else { return Ok(None) };
                let pick = |m: &BTreeMap<String, u64>| -> f64 {
                    match &c.feature_name {
                        Some(f) => m.get(f).copied().unwrap_or(0) as f64,
                        None => m.values().sum::<u64>() as f64,
                    }
                };
                match metric {
                    Metric::NullRate => match &c.feature_name {
                        Some(f) => row.null_rates.get(f).copied(),
                        None => row.null_rates.values().copied().reduce(f64::max),
                    },
                    Metric::SchemaViolations => Some(row.schema_violations as f64),
                    Metric::SchemaViolationRate => (row.total_records > 0)
                        .then(|| row.schema_violations as f64 / row.total_records as f64),
                    Metric::OutlierCount => Some(pick(&row.outlier_counts)),
                    Metric::RangeViolations => Some(pick(&row.range_violations)),
                    Metric::UnknownCategories => Some(pick(&row.unknown_categories)),
                    Metric::TotalRecords => Some(row.total_records as f64),
                    _ => None,
                }
            }
            AlertType::Accuracy => match metric {
                Metric::AccuracyDrop => {
                    let q = DriftQuery::new(name)
                        .version(version)
                        .drift_type(DriftType::Concept)
                        .between(from, Some(Timestamp::from_millis(now.as_millis() + 1)))
                        .limit(1);
                    store.drift_metrics(&q)?.first().map(|r| r.drift_score)
                }
                _ => {
                    let from =
                        Timestamp::from_millis(now.as_millis() - window.unwrap_or(86_400_000));
                    let counts = store.label_counts(name, version, Some(from), None)?;
                    match metric {
                        Metric::LabelledCount => Some(counts.total as f64),
                        _ => counts.accuracy(),
                    }
                }
            },
        };
        Ok(value)
    }

    /// Starts a thread that ticks every [`MonitorOptions::interval`] until stopped.
    ///
    /// # Errors
    ///
    /// [`Error::Internal`] when the thread cannot start.
    pub fn start(&self) -> Result<MonitorThread> {
        let monitor = self.clone();
        let interval = self.inner.options.interval;
        let thread = Periodic::spawn("harper-edge-monitor", interval, true, move || {
            if let Err(e) = monitor.tick() {
                lock(&monitor.inner.state).last_report = Some(TickReport {
                    at: monitor.now(),
                    jobs: vec![JobRun {
                        job: JobKind::HourlyAggregation,
                        model_name: None,
                        model_version: None,
                        outcome: JobOutcome::Failed,
                        message: Some(format!("tick failed: {e}")),
                        missed: 0,
                    }],
                    ..TickReport::default()
                });
            }
        })
        .map_err(|e| Error::Internal {
            message: format!("cannot start the monitor thread: {e}"),
        })?;
        Ok(MonitorThread { thread })
    }
}

/// The background thread of [`Monitor::start`]; stopped by [`MonitorThread::stop`] or drop.
#[derive(Debug)]
pub struct MonitorThread {
    thread: Periodic,
}

impl MonitorThread {
    /// Stops the thread; a tick in progress finishes first.
    pub fn stop(mut self) {
        self.thread.shutdown();
    }
}

/// The stored configuration layers by scope id.
fn stored_layers(store: &dyn Store) -> Result<HashMap<String, Value>> {
    let records = store.records(
        Table::MonitoringConfig,
        &RecordQuery { limit: Some(usize::MAX), ..RecordQuery::default() },
    )?;
    Ok(records
        .into_iter()
        .map(|r| (r.id, r.record.get("config").cloned().unwrap_or_else(config::empty)))
        .collect())
}

/// The effective configuration of `name:version` as stored, without a [`Monitor`] (what
/// [`Monitor::effective_config`] answers).
pub(crate) fn stored_config(
    store: &dyn Store,
    name: Option<&str>,
    version: Option<&str>,
) -> Result<MonitoringConfig> {
    effective(&stored_layers(store)?, name, version)
}

/// The configuration of `name:version` from stored layers.
fn effective(
    layers: &HashMap<String, Value>,
    name: Option<&str>,
    version: Option<&str>,
) -> Result<MonitoringConfig> {
    let empty = config::empty();
    let get =
        |scope: ConfigScope| layers.get(&scope.id()).cloned().unwrap_or_else(|| empty.clone());
    let mut chain = vec![get(ConfigScope::Global)];
    if let Some(n) = name {
        chain.push(get(ConfigScope::Model(n.into())));
        if let Some(v) = version {
            chain.push(get(ConfigScope::Version(n.into(), v.into())));
        }
    }
    let refs: Vec<&Value> = chain.iter().collect();
    MonitoringConfig::from_layers(&refs)
}

/// Schedules the job `key`, not yet seen, one interval after its last run if one is known.
fn seed(st: &mut State, key: (JobKind, String, String), last: Option<Timestamp>, interval_ms: i64) {
    if let Some(t) = last {
        st.next_due.insert(key, t.as_millis().saturating_add(interval_ms.max(1)));
    }
}

/// Whether the job `key` is due at `now` (then the runs skipped, and the next run moved to the
/// next grid point after `now`); a job seen for the first time is scheduled one interval on.
fn due(
    st: &mut State,
    key: (JobKind, String, String),
    interval_ms: i64,
    now: Timestamp,
) -> Option<u64> {
    let interval = interval_ms.max(1);
    let now = now.as_millis();
    match st.next_due.get(&key).copied() {
        None => {
            st.next_due.insert(key, now + interval);
            None
        }
        Some(t) if now >= t => {
            let missed = (now - t) / interval;
            st.next_due.insert(key, t + (missed + 1) * interval);
            Some(u64::try_from(missed).unwrap_or(0))
        }
        Some(_) => None,
    }
}

fn ran(job: JobKind, target: Option<(&str, &str)>, message: String) -> JobRun {
    JobRun {
        job,
        model_name: target.map(|t| t.0.to_string()),
        model_version: target.map(|t| t.1.to_string()),
        outcome: JobOutcome::Ran,
        message: Some(message),
        missed: 0,
    }
}

fn failed(job: JobKind, target: Option<(&str, &str)>, e: &Error) -> JobRun {
    JobRun {
        outcome: JobOutcome::Failed,
        message: Some(e.to_string()),
        ..ran(job, target, String::new())
    }
}

/// An empty window is a skip; anything else a failure.
fn skip_or_fail(job: JobKind, target: Option<(&str, &str)>, e: &Error) -> JobRun {
    let empty = e.kind() == ErrorKind::InvalidInput && e.to_string().contains(super::EMPTY_WINDOW);
    JobRun {
        outcome: if empty { JobOutcome::Skipped } else { JobOutcome::Failed },
        ..failed(job, target, e)
    }
}

fn round(v: f64) -> f64 {
    (v * 1e4).round() / 1e4
}

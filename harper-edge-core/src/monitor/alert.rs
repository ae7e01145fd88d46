//! Alert rules and alert events: the original design's `AlertRule` and `AlertEvent`.
//!
//! A rule names a metric, an operator and a threshold. The [`crate::monitor::Monitor`]
//! evaluates every enabled rule on each tick, for the rule's model version — or, for a rule
//! without a version, the model's newest version; for a global rule (no model), every model's
//! newest version.
//!
//! # Metrics
//!
//! | alert type | metrics | from |
//! |---|---|---|
//! | `latency` | `p50Latency`, `p95Latency`, `p99Latency`, `avgLatency`, `maxLatency` (ms) | the real-time window (window `5m`, the default) or the closed 5-minute rollups of a longer window |
//! | `error_rate` | `errorRate`, `errorCount`, `requestCount`, `throughputPerSecond` | as `latency` |
//! | `drift` | `driftScore` (largest), `pValue` (smallest), `adjustedPValue` (smallest after the configured `drift.correction` across the rows: `< 0.05` is the model verdict), `driftedCount`, `driftedShare` | the rows of the newest drift check (within the window, if given), filtered by `driftType` (default input and prediction) and `featureName` |
//! | `data_quality` | `nullRate` (largest), `schemaViolations`, `schemaViolationRate`, `outlierCount`, `rangeViolations`, `unknownCategories`, `totalRecords` | the newest data-quality row (within the window, if given) |
//! | `accuracy` | `accuracy`, `labelledCount` | labelled calls of the window (default `24h`) |
//! | `accuracy` | `accuracyDrop` | the newest concept-drift row |
//!
//! An unknown metric, or a metric of another alert type, is a configuration error when the
//! rule is saved.
//!
//! # No data
//!
//! A metric has no data when nothing was measured: no call in the window for latencies and
//! the error rate (counts are then 0, which is data), no drift check or quality row, no
//! labelled call. A rule never passes silently on no data: its status says `no_data`, and
//! after [`NoData::after`] evaluations in a row without data its [`NoDataAction`] applies —
//! `hold` keeps the episode as it is, `fire` raises an alert (condition `no data for …`),
//! `ignore` resolves an open episode.
//!
//! # Episodes
//!
//! A rule fires once per episode and model version: while the condition holds, no new event
//! is created; when it clears, the event is resolved (`status: resolved`, `resolvedAt`).
//! After an episode ends, the rule does not fire again for [`AlertRule::cooldown`]
//! (default `15m`). Acknowledging an event records who and when; it does not resolve it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::Timestamp;
use crate::drift::check::DriftType;
use crate::error::{Error, Result};
use crate::monitor::config::Interval;
use crate::store::{Expect, MonitorRecord, RecordQuery, Store, Table};

/// What a rule watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertType {
    /// Latency percentiles.
    Latency,
    /// Errors and traffic.
    ErrorRate,
    /// Drift check results.
    Drift,
    /// Data-quality rows.
    DataQuality,
    /// Labelled accuracy.
    Accuracy,
}

impl AlertType {
    /// The serde name.
    pub const fn as_str(self) -> &'static str {
        match self {
            AlertType::Latency => "latency",
            AlertType::ErrorRate => "error_rate",
            AlertType::Drift => "drift",
            AlertType::DataQuality => "data_quality",
            AlertType::Accuracy => "accuracy",
        }
    }
}

impl fmt::Display for AlertType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad it is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// For information.
    Info,
    /// Needs a look (the default).
    #[default]
    Warning,
    /// Needs action now.
    Critical,
}

impl Severity {
    /// The serde name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

impl FromStr for Severity {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "info" => Ok(Severity::Info),
            "warning" => Ok(Severity::Warning),
            "critical" => Ok(Severity::Critical),
            other => Err(Error::invalid_input(format!(
                "unknown severity '{other}' (expected critical, warning or info)"
            ))),
        }
    }
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Operator {
    /// `>`
    #[serde(rename = ">")]
    Gt,
    /// `>=`
    #[serde(rename = ">=")]
    Ge,
    /// `<`
    #[serde(rename = "<")]
    Lt,
    /// `<=`
    #[serde(rename = "<=")]
    Le,
    /// `==`
    #[serde(rename = "==")]
    Eq,
    /// `!=`
    #[serde(rename = "!=")]
    Ne,
}

impl Operator {
    /// Whether `value OP threshold` holds.
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Operator::Gt => value > threshold,
            Operator::Ge => value >= threshold,
            Operator::Lt => value < threshold,
            Operator::Le => value <= threshold,
            #[allow(clippy::float_cmp)]
            Operator::Eq => value == threshold,
            #[allow(clippy::float_cmp)]
            Operator::Ne => value != threshold,
        }
    }

    /// The symbol.
    pub const fn as_str(self) -> &'static str {
        match self {
            Operator::Gt => ">",
            Operator::Ge => ">=",
            Operator::Lt => "<",
            Operator::Le => "<=",
            Operator::Eq => "==",
            Operator::Ne => "!=",
        }
    }
}

/// A metric a rule can watch (see the [module documentation](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Metric {
    P50Latency,
    P95Latency,
    P99Latency,
    AvgLatency,
    MaxLatency,
    ErrorRate,
    ErrorCount,
    RequestCount,
    ThroughputPerSecond,
    DriftScore,
    PValue,
    AdjustedPValue,
    DriftedCount,
    DriftedShare,
    NullRate,
    SchemaViolations,
    SchemaViolationRate,
    OutlierCount,
    RangeViolations,
    UnknownCategories,
    TotalRecords,
    Accuracy,
    LabelledCount,
    AccuracyDrop,
}

const METRICS: &[(&str, Metric, AlertType)] = &[
    ("p50Latency", Metric::P50Latency, AlertType::Latency),
    ("p95Latency", Metric::P95Latency, AlertType::Latency),
    ("p99Latency", Metric::P99Latency, AlertType::Latency),
    ("avgLatency", Metric::AvgLatency, AlertType::Latency),
    ("maxLatency", Metric::MaxLatency, AlertType::Latency),
    ("errorRate", Metric::ErrorRate, AlertType::ErrorRate),
    ("errorCount", Metric::ErrorCount, AlertType::ErrorRate),
    ("requestCount", Metric::RequestCount, AlertType::ErrorRate),
    ("throughputPerSecond", Metric::ThroughputPerSecond, AlertType::ErrorRate),
    ("driftScore", Metric::DriftScore, AlertType::Drift),
    ("pValue", Metric::PValue, AlertType::Drift),
    ("adjustedPValue", Metric::AdjustedPValue, AlertType::Drift),
    ("driftedCount", Metric::DriftedCount, AlertType::Drift),
    ("driftedShare", Metric::DriftedShare, AlertType::Drift),
    ("nullRate", Metric::NullRate, AlertType::DataQuality),
    ("schemaViolations", Metric::SchemaViolations, AlertType::DataQuality),
    ("schemaViolationRate", Metric::SchemaViolationRate, AlertType::DataQuality),
    ("outlierCount", Metric::OutlierCount, AlertType::DataQuality),
    ("rangeViolations", Metric::RangeViolations, AlertType::DataQuality),
    ("unknownCategories", Metric::UnknownCategories, AlertType::DataQuality),
    ("totalRecords", Metric::TotalRecords, AlertType::DataQuality),
    ("accuracy", Metric::Accuracy, AlertType::Accuracy),
    ("labelledCount", Metric::LabelledCount, AlertType::Accuracy),
    ("accuracyDrop", Metric::AccuracyDrop, AlertType::Accuracy),
];

impl Metric {
    /// The metric named `name` for rules of `alert_type`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an unknown name or one of another alert type, listing the
    /// metrics of `alert_type`.
    pub fn parse(name: &str, alert_type: AlertType) -> Result<Metric> {
        let known: Vec<&str> = METRICS.iter().filter(|m| m.2 == alert_type).map(|m| m.0).collect();
        match METRICS.iter().find(|m| m.0 == name) {
            Some(&(_, metric, t)) if t == alert_type => Ok(metric),
            Some(&(_, _, t)) => Err(Error::invalid_input(format!(
                "condition.metric: '{name}' is a metric of {t} rules, not {alert_type} (use one of {})",
                known.join(", ")
            ))),
            None => Err(Error::invalid_input(format!(
                "condition.metric: unknown metric '{name}' for {alert_type} rules (use one of {})",
                known.join(", ")
            ))),
        }
    }

    /// The metric's name.
    pub fn name(self) -> &'static str {
        METRICS.iter().find(|m| m.1 == self).map_or("?", |m| m.0)
    }

    /// The unit shown after a value (`ms` for latencies).
    pub fn unit(self) -> &'static str {
        match self {
            Metric::P50Latency
            | Metric::P95Latency
            | Metric::P99Latency
            | Metric::AvgLatency
            | Metric::MaxLatency => "ms",
            _ => "",
        }
    }
}

/// A rule's condition (serde camelCase): `metric operator threshold` over a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Condition {
    /// The metric's name (see the [module documentation](self)).
    pub metric: String,
    /// The comparison.
    pub operator: Operator,
    /// The threshold (milliseconds for latencies, a share in `[0, 1]` for rates).
    pub threshold: f64,
    /// The window in minutes (the original design's field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_minutes: Option<f64>,
    /// The window as a duration string (instead of `windowMinutes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Interval>,
    /// Drift rules: only rows of this drift type (default input and prediction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift_type: Option<DriftType>,
    /// Drift and data-quality rules: only this feature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_name: Option<String>,
}

impl Condition {
    /// The window in milliseconds, if one is set.
    #[allow(clippy::cast_possible_truncation)]
    pub fn window_ms(&self) -> Option<i64> {
        self.window
            .map(Interval::as_millis)
            .or_else(|| self.window_minutes.map(|m| (m * 60_000.0).round() as i64))
    }

    /// The readable condition, e.g. `p95Latency > 500ms`.
    pub fn text(&self, metric: Metric) -> String {
        let mut s = format!(
            "{} {} {}{}",
            metric.name(),
            self.operator.as_str(),
            self.threshold,
            metric.unit()
        );
        if let Some(f) = &self.feature_name {
            s.push_str(&format!(" (feature {f})"));
        }
        if let Some(t) = self.drift_type {
            s.push_str(&format!(" ({} drift)", t.as_str()));
        }
        s
    }
}

/// What a rule does once its metric had no data for [`NoData::after`] evaluations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoDataAction {
    /// Keep the episode as it is: an open alert stays open, none is raised (the default).
    #[default]
    Hold,
    /// Raise an alert (`no data for …`).
    Fire,
    /// Resolve an open alert.
    Ignore,
}

/// The no-data policy of a rule (serde camelCase).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct NoData {
    /// The action.
    pub action: NoDataAction,
    /// Evaluations in a row without data before it applies (default 3; at least 1).
    pub after: u32,
}

impl Default for NoData {
    fn default() -> Self {
        NoData { action: NoDataAction::Hold, after: 3 }
    }
}

/// A notification channel: `callback` (the monitor's in-process callbacks) or an `http://` /
/// `https://` webhook URL.
pub const CALLBACK_CHANNEL: &str = "callback";

fn default_channels() -> Vec<String> {
    vec![CALLBACK_CHANNEL.to_string()]
}

fn fifteen_minutes() -> Interval {
    Interval(std::time::Duration::from_secs(900))
}

const fn yes() -> bool {
    true
}

/// An alert rule (the original design's `AlertRule`, serde camelCase).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlertRule {
    /// Primary key (default: generated).
    #[serde(default)]
    pub id: String,
    /// A name people read.
    pub rule_name: String,
    /// The model (`None`: every model).
    #[serde(default)]
    pub model_name: Option<String>,
    /// The version (`None`: the newest version).
    #[serde(default)]
    pub model_version: Option<String>,
    /// Whether the rule is evaluated.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// What it watches.
    pub alert_type: AlertType,
    /// The condition.
    pub condition: Condition,
    /// How bad it is (default `warning`).
    #[serde(default)]
    pub severity: Severity,
    /// Where events go (default `["callback"]`).
    #[serde(default = "default_channels")]
    pub notification_channels: Vec<String>,
    /// What no data does.
    #[serde(default)]
    pub no_data: NoData,
    /// Quiet time after an episode ends (default `15m`).
    #[serde(default = "fifteen_minutes")]
    pub cooldown: Interval,
    /// Whether firing also requests retraining (through the safety checks).
    #[serde(default)]
    pub request_retraining: bool,
    /// When it was last saved.
    #[serde(default)]
    pub updated_at: Timestamp,
}

impl AlertRule {
    /// A rule from JSON, validated (an id is generated when none is given).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming the field.
    pub fn from_json(value: &Value) -> Result<AlertRule> {
        let mut rule: AlertRule = serde_path_to_error::deserialize(value).map_err(|e| {
            Error::invalid_input(format!("alert rule: {}: {}", e.path(), e.inner()))
        })?;
        if rule.id.is_empty() {
            rule.id = format!("rule-{}", uuid::Uuid::new_v4());
        }
        rule.validate()?;
        Ok(rule)
    }

    /// The rule's metric.
    ///
    /// # Errors
    ///
    /// As [`Metric::parse`].
    pub fn metric(&self) -> Result<Metric> {
        Metric::parse(&self.condition.metric, self.alert_type)
    }

    /// Checks the rule, naming the field of the first problem.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`].
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &str, why: String| {
            Err(Error::invalid_input(format!("alert rule '{}': {field}: {why}", self.rule_name)))
        };
        if self.rule_name.trim().is_empty() {
            return bad("ruleName", "must not be empty".into());
        }
        if self.model_version.is_some() && self.model_name.is_none() {
            return bad("modelVersion", "needs a modelName".into());
        }
        self.metric().map_err(|e| {
            Error::invalid_input(format!("alert rule '{}': {}", self.rule_name, error_text(&e)))
        })?;
        let c = &self.condition;
        if !c.threshold.is_finite() {
            return bad("condition.threshold", format!("must be finite, got {}", c.threshold));
        }
        if c.window.is_some() && c.window_minutes.is_some() {
            return bad("condition.window", "give window or windowMinutes, not both".into());
        }
        if let Some(w) = c.window_ms() {
            if w <= 0 {
                return bad("condition.window", "must be > 0".into());
            }
            if matches!(self.alert_type, AlertType::Latency | AlertType::ErrorRate)
                && w % 300_000 != 0
            {
                return bad(
                    "condition.window",
                    format!(
                        "latency and error-rate windows are whole 5-minute periods (5m is the \
                         real-time window), got {w} ms"
                    ),
                );
            }
        }
        if c.drift_type.is_some() && self.alert_type != AlertType::Drift {
            return bad("condition.driftType", "applies to drift rules only".into());
        }
        if c.feature_name.is_some()
            && !matches!(self.alert_type, AlertType::Drift | AlertType::DataQuality)
        {
            return bad(
                "condition.featureName",
                "applies to drift and data_quality rules only".into(),
            );
        }
        if self.no_data.after == 0 {
            return bad("noData.after", "must be at least 1".into());
        }
        for (i, ch) in self.notification_channels.iter().enumerate() {
            let ok =
                ch == CALLBACK_CHANNEL || ch.starts_with("http://") || ch.starts_with("https://");
            if !ok {
                return bad(
                    &format!("notificationChannels[{i}]"),
                    format!("unknown channel '{ch}' (use \"callback\" or an http(s) URL)"),
                );
            }
        }
        Ok(())
    }

    pub(crate) fn to_record(&self) -> Result<MonitorRecord> {
        Ok(MonitorRecord {
            table: Table::AlertRule,
            id: self.id.clone(),
            model_name: self.model_name.clone(),
            model_version: self.model_version.clone(),
            timestamp: self.updated_at,
            status: Some(if self.enabled { "enabled" } else { "disabled" }.into()),
            record: serde_json::to_value(self)?,
        })
    }
}

fn error_text(e: &Error) -> String {
    match e {
        Error::InvalidInput { message } => message.clone(),
        other => other.to_string(),
    }
}

/// Whether an alert is still going on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// The condition holds.
    Firing,
    /// The condition cleared (or no data with the `ignore` policy).
    Resolved,
}

impl AlertStatus {
    /// The serde name.
    pub const fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Firing => "firing",
            AlertStatus::Resolved => "resolved",
        }
    }
}

/// One delivery of an event to a channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// `callback` or the webhook URL.
    pub channel: String,
    /// `fired` or `resolved`.
    pub kind: String,
    /// Whether it arrived (a webhook answered 2xx; a callback returned).
    pub delivered: bool,
    /// Attempts made.
    pub attempts: u32,
    /// The last error, if it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When the last attempt ended.
    pub at: Timestamp,
}

/// An alert (the original design's `AlertEvent`, serde camelCase, plus the rule, the episode's
/// status and its deliveries).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertEvent {
    /// Primary key.
    pub id: String,
    /// The rule that fired.
    pub rule_id: String,
    /// Its name.
    pub rule_name: String,
    /// The model.
    pub model_name: String,
    /// The version.
    pub model_version: String,
    /// When it fired.
    pub timestamp: Timestamp,
    /// The rule's alert type.
    pub alert_type: AlertType,
    /// The rule's severity.
    pub severity: Severity,
    /// The readable condition, e.g. `p95Latency > 500ms`.
    pub condition: String,
    /// The value that breached (`None` when fired for lack of data).
    pub actual_value: Option<f64>,
    /// The threshold.
    pub threshold: f64,
    /// What happened, in a sentence.
    pub message: String,
    /// `firing` or `resolved`.
    pub status: AlertStatus,
    /// When the condition cleared.
    pub resolved_at: Option<Timestamp>,
    /// Whether someone acknowledged it.
    pub acknowledged: bool,
    /// Who.
    pub acknowledged_by: Option<String>,
    /// When.
    pub acknowledged_at: Option<Timestamp>,
    /// The retraining request the rule created, if any.
    #[serde(default)]
    pub retraining_request_id: Option<String>,
    /// Deliveries to the rule's channels.
    #[serde(default)]
    pub notifications: Vec<Delivery>,
}

impl AlertEvent {
    pub(crate) fn to_record(&self) -> Result<MonitorRecord> {
        Ok(MonitorRecord {
            table: Table::AlertEvent,
            id: self.id.clone(),
            model_name: Some(self.model_name.clone()),
            model_version: Some(self.model_version.clone()),
            timestamp: self.timestamp,
            status: Some(self.status.as_str().into()),
            record: serde_json::to_value(self)?,
        })
    }

    pub(crate) fn from_record(r: &MonitorRecord) -> Result<AlertEvent> {
        serde_json::from_value(r.record.clone())
            .map_err(|e| Error::storage(format!("corrupt AlertEvent '{}'", r.id), e))
    }
}

/// Which alert events to read (newest first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertQuery {
    /// Only this model's.
    pub model_name: Option<String>,
    /// Only this version's.
    pub model_version: Option<String>,
    /// Only this severity.
    pub severity: Option<Severity>,
    /// Only firing or resolved ones.
    pub status: Option<AlertStatus>,
    /// Only acknowledged (`true`) or unacknowledged (`false`) ones.
    pub acknowledged: Option<bool>,
    /// Only this rule's.
    pub rule_id: Option<String>,
    /// At or after.
    pub from: Option<Timestamp>,
    /// Before.
    pub to: Option<Timestamp>,
    /// At most this many (default 1000).
    pub limit: Option<usize>,
}

/// Stored alert rules, oldest change first.
///
/// # Errors
///
/// [`Error::Storage`] when the store fails or a record is corrupt.
pub fn rules(store: &dyn Store) -> Result<Vec<AlertRule>> {
    let mut rules = store
        .records(
            Table::AlertRule,
            &RecordQuery { limit: Some(usize::MAX), ..RecordQuery::default() },
        )?
        .iter()
        .map(|r| {
            serde_json::from_value::<AlertRule>(r.record.clone())
                .map_err(|e| Error::storage(format!("corrupt AlertRule '{}'", r.id), e))
        })
        .collect::<Result<Vec<_>>>()?;
    rules.reverse();
    Ok(rules)
}

/// Saves `rule` (replacing the rule with its id), validated, stamped with `at`.
///
/// # Errors
///
/// [`Error::InvalidInput`] naming the field; [`Error::Storage`].
pub fn put_rule(store: &dyn Store, mut rule: AlertRule, at: Timestamp) -> Result<AlertRule> {
    if rule.id.is_empty() {
        rule.id = format!("rule-{}", uuid::Uuid::new_v4());
    }
    rule.validate()?;
    rule.updated_at = at;
    store.put_records(&[rule.to_record()?], &[])?;
    Ok(rule)
}

/// Deletes the rule `id`.
///
/// # Errors
///
/// [`Error::NotFound`] when there is no such rule.
pub fn delete_rule(store: &dyn Store, id: &str, at: Timestamp) -> Result<()> {
    if store.delete_record(Table::AlertRule, id, at)? {
        Ok(())
    } else {
        Err(Error::not_found("alert rule", id))
    }
}

/// Alert events matching `query`, newest first.
///
/// # Errors
///
/// [`Error::Storage`].
pub fn events(store: &dyn Store, query: &AlertQuery) -> Result<Vec<AlertEvent>> {
    let limit = query.limit.unwrap_or(RecordQuery::DEFAULT_LIMIT);
    if limit == 0 {
        // Hosts pass `limit: 0` to have a query checked; the filters below would read every row.
        return Ok(Vec::new());
    }
    let filtered =
        query.severity.is_some() || query.acknowledged.is_some() || query.rule_id.is_some();
    let records = store.records(
        Table::AlertEvent,
        &RecordQuery {
            model_name: query.model_name.clone(),
            model_version: query.model_version.clone(),
            status: query.status.map(|s| s.as_str().to_string()),
            from: query.from,
            to: query.to,
            // Filters the store does not index are applied here, on every matching row.
            limit: Some(if filtered { usize::MAX } else { limit }),
        },
    )?;
    let mut out = Vec::new();
    for r in &records {
        let e = AlertEvent::from_record(r)?;
        if query.severity.is_some_and(|s| s != e.severity)
            || query.acknowledged.is_some_and(|a| a != e.acknowledged)
            || query.rule_id.as_ref().is_some_and(|id| *id != e.rule_id)
        {
            continue;
        }
        out.push(e);
        if out.len() == limit {
            break;
        }
    }
    Ok(out)
}

/// The alert event `id`.
///
/// # Errors
///
/// [`Error::NotFound`] when there is no such event.
pub fn event(store: &dyn Store, id: &str) -> Result<AlertEvent> {
    let r =
        store.record(Table::AlertEvent, id)?.ok_or_else(|| Error::not_found("alert event", id))?;
    AlertEvent::from_record(&r)
}

/// Records that `by` acknowledged the event `id` at `at` (again: the first acknowledgment
/// is kept and returned unchanged).
///
/// # Errors
///
/// [`Error::NotFound`] when there is no such event; [`Error::InvalidInput`] for an empty
/// name; [`Error::Conflict`] if the event changed meanwhile (retry).
pub fn acknowledge(store: &dyn Store, id: &str, by: &str, at: Timestamp) -> Result<AlertEvent> {
    if by.trim().is_empty() {
        return Err(Error::invalid_input("acknowledgedBy must name who acknowledges"));
    }
    let mut e = event(store, id)?;
    if e.acknowledged {
        return Ok(e);
    }
    e.acknowledged = true;
    e.acknowledged_by = Some(by.to_string());
    e.acknowledged_at = Some(at);
    let expect =
        Expect { table: Table::AlertEvent, id: id.into(), status: Some(e.status.as_str().into()) };
    store.put_records(&[e.to_record()?], &[expect])?;
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_design_examples_parse() {
        let r = AlertRule::from_json(&json!({
            "ruleName": "slow", "modelName": "m", "alertType": "latency", "severity": "critical",
            "condition": {"metric": "p95Latency", "operator": ">", "threshold": 500, "windowMinutes": 5}
        }))
        .unwrap();
        assert!(r.id.starts_with("rule-"));
        assert_eq!(r.condition.text(r.metric().unwrap()), "p95Latency > 500ms");
        assert_eq!(r.notification_channels, ["callback"]);
        let d = AlertRule::from_json(&json!({
            "ruleName": "drift", "alertType": "drift",
            "condition": {"metric": "driftScore", "driftType": "input", "operator": ">", "threshold": 0.3}
        }))
        .unwrap();
        assert_eq!(d.condition.drift_type, Some(DriftType::Input));
    }

    #[test]
    fn bad_rules_name_the_field() {
        let base = json!({"ruleName": "r", "alertType": "latency",
            "condition": {"metric": "p95Latency", "operator": ">", "threshold": 1}});
        let cases = [
            (
                json!({"condition": {"metric": "p96Latency", "operator": ">", "threshold": 1}}),
                "unknown metric 'p96Latency'",
            ),
            (
                json!({"condition": {"metric": "driftScore", "operator": ">", "threshold": 1}}),
                "is a metric of drift rules",
            ),
            (
                json!({"condition": {"metric": "p95Latency", "operator": "=>", "threshold": 1}}),
                "condition.operator",
            ),
            (
                json!({"condition": {"metric": "p95Latency", "operator": ">", "threshold": 1, "windowMinutes": 7}}),
                "condition.window",
            ),
            (json!({"severity": "urgent"}), "severity"),
            (json!({"notificationChannels": ["email"]}), "notificationChannels[0]"),
            (json!({"noData": {"action": "fire", "after": 0}}), "noData.after"),
            (json!({"modelVersion": "2"}), "modelVersion"),
            (json!({"alertType": "cpu"}), "alertType"),
        ];
        for (patch, want) in cases {
            let mut v = base.clone();
            crate::monitor::config::merge_json(&mut v, &patch);
            let e = AlertRule::from_json(&v).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
            assert!(e.to_string().contains(want), "{patch}: {e}");
        }
    }

    #[test]
    fn operators_compare() {
        assert!(Operator::Gt.holds(2.0, 1.0) && !Operator::Gt.holds(1.0, 1.0));
        assert!(Operator::Ge.holds(1.0, 1.0) && Operator::Le.holds(1.0, 1.0));
        assert!(
            Operator::Lt.holds(0.5, 1.0)
                && Operator::Ne.holds(0.5, 1.0)
                && Operator::Eq.holds(1.0, 1.0)
        );
    }
}

//! Drift monitoring of registered models: the engine's drift check, from its drift window or
//! from given data, against the model version's stored [`ModelBaseline`], written as
//! `DriftMetrics` and `DataQualityMetrics` rows (see [`crate::Engine::check_drift`]).
//!
//! # From calls to rows
//!
//! A call's `featuresIn`, `prediction` and `confidence` become one or more rows of named
//! values ([`call_rows`]):
//!
//! - `featuresIn` an object: a scalar under key `k` is feature `k`; an array of scalars is
//!   `k[0]`, `k[1]`, …; an array of arrays is a batch — row `j` takes `k[i]` from its `j`-th
//!   inner array (a batch of one is one row).
//! - `featuresIn` an array: as an object with the single key `input` (so the iris model's
//!   `[[5.1, 3.5, 1.4, 0.2]]` gives `input[0]` … `input[3]`).
//! - Deeper nesting (images, sequences) is not flattened: such keys are skipped.
//! - `prediction`: a scalar is feature `prediction` (a number: numeric; a string or bool:
//!   categorical); an array with one entry per batch row gives each row its entry.
//! - `confidence`: feature `confidence` (the same for every row of a call).
//!
//! Values are JSON cells as in [`crate::drift::frame`]. A baseline fitted from events
//! ([`crate::Engine::fit_baseline`]) uses exactly these names; a baseline fitted from the
//! host's own reference data must use them too.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use crate::clock::Timestamp;
use crate::drift::baseline::Column;
use crate::drift::check::{
    ConceptDrift, ConceptDriftConfig, DriftConfig, DriftMetrics, DriftReport, check, concept_drift,
};
use crate::drift::frame::{Frame, OwnedValue};
use crate::drift::quality::{DataQuality, DataQualityMetrics};
use crate::drift::records::{LabelCounts, ModelBaseline};
use crate::error::{Error, Result};
use crate::telemetry::{InferenceEvent, SampledCall};

pub mod alert;
pub mod config;
mod notify;
pub mod retrain;
mod scheduler;

pub use notify::{Notification, NotificationKind, WebhookOptions};
pub(crate) use scheduler::stored_config;
pub use scheduler::{
    JobKind, JobOutcome, JobRun, Monitor, MonitorOptions, MonitorThread, RuleState, RuleStatus,
    TickReport,
};

/// How [`crate::Engine::check_drift`] decides (serde camelCase).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DriftCheckConfig {
    /// The per-feature tests and thresholds.
    pub drift: DriftConfig,
    /// Concept drift (used when the baseline has an accuracy and current labels exist).
    pub concept: ConceptDriftConfig,
    /// Whether concept drift is checked at all (default true).
    pub concept_enabled: bool,
    /// Baseline features left out of the check (e.g. prediction drift switched off).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub ignore: BTreeSet<String>,
    /// For a window check: sampled calls made before `now − windowMs` are left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_ms: Option<i64>,
}

impl Default for DriftCheckConfig {
    fn default() -> Self {
        DriftCheckConfig {
            drift: DriftConfig::default(),
            concept: ConceptDriftConfig::default(),
            concept_enabled: true,
            ignore: BTreeSet::new(),
            window_ms: None,
        }
    }
}

/// The current data of a drift check.
#[derive(Debug, Clone, Copy)]
pub enum CurrentData<'a> {
    /// The model version's drift window: the calls sampled since the last window check,
    /// whose labels (feedback) give the current accuracy. The window is emptied by a check
    /// that succeeds and kept by one that fails.
    Window,
    /// Stored calls (the host's copy, e.g. a HarperDB table): the successful events of the
    /// version, flattened as described above, their `correct` flags giving the current
    /// accuracy.
    Events(&'a [InferenceEvent]),
    /// Columns given by the host, with optional current labels for concept drift.
    Columns {
        /// Named columns, matched to the baseline's features by name.
        columns: &'a [(&'a str, Column<'a>)],
        /// Labelled predictions of the same period, if known.
        labels: Option<LabelCounts>,
    },
}

/// The period a window check covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowInfo {
    /// Calls made in the window (successful ones; the sample stands for them).
    pub calls: u64,
    /// Calls in the sample.
    pub sampled: u64,
    /// Earliest call.
    pub from: Timestamp,
    /// Latest call.
    pub to: Timestamp,
}

/// The result of one drift check (serde camelCase), whose rows are already stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DriftCheck {
    /// The model.
    pub model_name: String,
    /// Its version.
    pub model_version: String,
    /// When the check ran.
    pub timestamp: Timestamp,
    /// The window covered, for a window check.
    pub window: Option<WindowInfo>,
    /// Per-feature drift.
    pub report: DriftReport,
    /// Data quality of the current data.
    pub quality: DataQualityMetrics,
    /// Concept drift, when the baseline has an accuracy and the current period has labels.
    pub concept: Option<ConceptDrift>,
    /// The `DriftMetrics` rows written (features in report order, then concept drift).
    pub rows: Vec<DriftMetrics>,
}

impl DriftCheck {
    /// Whether any feature, or concept drift, drifted.
    pub fn drifted(&self) -> bool {
        self.report.drifted_count > 0 || self.concept.is_some_and(|c| c.drifted)
    }
}

/// Runs the check of `current` columns against `baseline` (everything but storing).
pub(crate) fn evaluate(
    baseline: &ModelBaseline,
    columns: &[(&str, Column<'_>)],
    labels: Option<LabelCounts>,
    timestamp: Timestamp,
    window: Option<WindowInfo>,
    config: &DriftCheckConfig,
) -> Result<DriftCheck> {
    let (name, version) = (baseline.model_name.as_str(), baseline.model_version.as_str());
    let kept: Vec<(&str, Column<'_>)>;
    let columns = if config.ignore.is_empty() {
        columns
    } else {
        kept = columns.iter().filter(|(n, _)| !config.ignore.contains(*n)).copied().collect();
        &kept
    };
    let report = check(&baseline.baseline, columns, &config.drift)?;
    let quality = DataQuality::check(&baseline.baseline, columns, name, version, timestamp)?;
    let predictions: Vec<&str> = baseline.prediction_features.iter().map(String::as_str).collect();
    let mut rows = report.to_rows(name, version, timestamp, &predictions)?;
    let concept = match (baseline.accuracy, labels) {
        (Some(b), Some(c)) if config.concept_enabled && b.total > 0 && c.total > 0 => {
            let cd = concept_drift(b.correct, b.total, c.correct, c.total, &config.concept)?;
            rows.extend(cd.to_row(name, version, timestamp));
            Some(cd)
        }
        _ => None,
    };
    Ok(DriftCheck {
        model_name: name.to_string(),
        model_version: version.to_string(),
        timestamp,
        window,
        report,
        quality,
        concept,
        rows,
    })
}

fn scalar(value: &Value) -> Option<OwnedValue> {
    OwnedValue::from_json(value)
}

fn is_scalar(value: &Value) -> bool {
    !matches!(value, Value::Array(_) | Value::Object(_))
}

/// Appends the named values of `key: value` to `rows` (one entry per batch row).
fn flatten_feature(key: &str, value: &Value, rows: &mut Vec<Vec<(String, OwnedValue)>>) {
    let push = |rows: &mut Vec<Vec<(String, OwnedValue)>>, j: usize, name: String, v| {
        if rows.len() <= j {
            rows.resize_with(j + 1, Vec::new);
        }
        rows[j].push((name, v));
    };
    match value {
        Value::Array(items) if items.iter().all(is_scalar) => {
            for (i, v) in items.iter().enumerate() {
                if let Some(v) = scalar(v) {
                    push(rows, 0, format!("{key}[{i}]"), v);
                }
            }
        }
        Value::Array(batch)
            if batch
                .iter()
                .all(|r| matches!(r, Value::Array(inner) if inner.iter().all(is_scalar))) =>
        {
            for (j, row) in batch.iter().enumerate() {
                if let Value::Array(inner) = row {
                    for (i, v) in inner.iter().enumerate() {
                        if let Some(v) = scalar(v) {
                            push(rows, j, format!("{key}[{i}]"), v);
                        }
                    }
                }
            }
        }
        v if is_scalar(v) => {
            if let Some(v) = scalar(v) {
                push(rows, 0, key.to_string(), v);
            }
        }
        _ => {}
    }
}

/// The rows of one call (see the module documentation).
pub fn call_rows(
    features_in: &Value,
    prediction: &Value,
    confidence: Option<f64>,
) -> Vec<Vec<(String, OwnedValue)>> {
    let mut rows: Vec<Vec<(String, OwnedValue)>> = Vec::new();
    match features_in {
        Value::Object(map) => {
            for (k, v) in map {
                flatten_feature(k, v, &mut rows);
            }
        }
        Value::Array(_) => flatten_feature("input", features_in, &mut rows),
        _ => {}
    }
    if rows.is_empty() {
        rows.push(Vec::new());
    }
    match prediction {
        Value::Array(items) if items.len() == rows.len() && items.iter().all(is_scalar) => {
            for (row, v) in rows.iter_mut().zip(items) {
                if let Some(v) = scalar(v) {
                    row.push(("prediction".to_string(), v));
                }
            }
        }
        Value::Array(items) if items.len() == 1 && rows.len() == 1 && is_scalar(&items[0]) => {
            if let Some(v) = scalar(&items[0]) {
                rows[0].push(("prediction".to_string(), v));
            }
        }
        Value::Null => {}
        v if is_scalar(v) => {
            if let Some(v) = scalar(v) {
                for row in &mut rows {
                    row.push(("prediction".to_string(), v.clone()));
                }
            }
        }
        _ => {}
    }
    if let Some(c) = confidence {
        for row in &mut rows {
            row.push(("confidence".to_string(), OwnedValue::Number(c)));
        }
    }
    rows
}

/// The frame of sampled calls (see the module documentation).
///
/// # Errors
///
/// [`Error::InvalidInput`] when a call names a feature twice.
pub fn calls_frame(calls: &[SampledCall]) -> Result<Frame> {
    Frame::from_named_rows(
        calls.iter().flat_map(|c| call_rows(&c.features_in, &c.prediction, c.confidence)),
    )
}

/// The frame of stored events (failed calls skipped).
///
/// # Errors
///
/// As [`calls_frame`].
pub fn events_frame(events: &[InferenceEvent]) -> Result<Frame> {
    Frame::from_named_rows(
        events
            .iter()
            .filter(|e| e.error.is_none())
            .flat_map(|e| call_rows(&e.features_in, &e.prediction, e.confidence)),
    )
}

/// Segment keys read from an event's own fields rather than from its features:
/// `modelVersion`, `userId`, `sessionId`, `framework`.
pub const EVENT_SEGMENT_KEYS: [&str; 4] = ["modelVersion", "userId", "sessionId", "framework"];

/// The value of an event field named in [`EVENT_SEGMENT_KEYS`] (`None` for another name or
/// a missing value).
pub fn event_field(event: &InferenceEvent, key: &str) -> Option<String> {
    match key {
        "modelVersion" => Some(event.model_version.clone()),
        "userId" => event.user_id.clone(),
        "sessionId" => event.session_id.clone(),
        "framework" => Some(event.framework.to_string()),
        _ => None,
    }
}

/// The segment of one call for `key`: an event field ([`EVENT_SEGMENT_KEYS`]), else the
/// value named `key` among the call's flattened features (see the module documentation;
/// a batch call takes its first row's value), numbers written as categories. `None` when
/// the call has no such value.
pub fn event_segment(event: &InferenceEvent, key: &str) -> Option<String> {
    if EVENT_SEGMENT_KEYS.contains(&key) {
        return event_field(event, key);
    }
    let direct = match &event.features_in {
        Value::Object(map) => map.get(key),
        _ => None,
    };
    let value = match direct {
        Some(v) if is_scalar(v) => scalar(v),
        _ => call_rows(&event.features_in, &event.prediction, event.confidence)
            .into_iter()
            .next()
            .and_then(|row| row.into_iter().find(|(n, _)| n == key).map(|(_, v)| v)),
    };
    match value? {
        OwnedValue::Null => None,
        OwnedValue::Number(x) if x.is_nan() => None,
        OwnedValue::Number(x) => Some(crate::drift::frame::number_category(x)),
        OwnedValue::Text(s) => Some(s),
    }
}

/// One categorical column per event-field key ([`EVENT_SEGMENT_KEYS`]), with one row per
/// row of [`events_frame`] (the successful events, each repeated for its batch rows).
///
/// # Errors
///
/// [`Error::InvalidInput`] for a key that is not an event field.
pub(crate) fn event_key_columns(
    events: &[InferenceEvent],
    keys: &[&str],
) -> Result<Vec<(String, crate::drift::frame::OwnedColumn)>> {
    if let Some(k) = keys.iter().find(|k| !EVENT_SEGMENT_KEYS.contains(k)) {
        return Err(Error::invalid_input(format!("'{k}' is not an event field")));
    }
    let ok: Vec<&InferenceEvent> = events.iter().filter(|e| e.error.is_none()).collect();
    let widths: Vec<usize> =
        ok.iter().map(|e| call_rows(&e.features_in, &e.prediction, e.confidence).len()).collect();
    Ok(keys
        .iter()
        .map(|k| {
            let values = ok
                .iter()
                .zip(&widths)
                .flat_map(|(e, &w)| std::iter::repeat_n(event_field(e, k), w))
                .collect();
            ((*k).to_string(), crate::drift::frame::OwnedColumn::Categorical(values))
        })
        .collect())
}

/// The names among `frame`'s columns that are model outputs.
pub(crate) fn prediction_columns(frame: &Frame) -> Vec<String> {
    frame
        .names()
        .iter()
        .filter(|n| matches!(n.as_str(), "prediction" | "confidence"))
        .cloned()
        .collect()
}

/// The labels among `events`: how many have a `correct` flag, how many are `true`.
///
/// # Errors
///
/// Never in practice ([`LabelCounts::new`] with `correct ≤ total`).
pub fn event_labels(events: &[InferenceEvent]) -> Result<LabelCounts> {
    let (correct, total) = events
        .iter()
        .filter_map(|e| e.correct)
        .fold((0, 0), |(c, t), ok| (c + u64::from(ok), t + 1));
    LabelCounts::new(correct, total)
}

/// The error of a set of events without a successful call of the version.
pub(crate) fn no_events(name: &str, version: &str) -> Error {
    Error::invalid_input(format!(
        "no successful call of '{name}:{version}' among the events: nothing to compare with \
         the baseline"
    ))
}

/// The words of the empty-window error (the scheduler counts such a job as skipped).
pub(crate) const EMPTY_WINDOW: &str = "was sampled since the last drift check";

/// The error of a window without calls.
pub(crate) fn empty_window(name: &str, version: &str) -> Error {
    Error::invalid_input(format!(
        "no successful call of '{name}:{version}' {EMPTY_WINDOW}: nothing to compare with the \
         baseline"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(rows: &[Vec<(String, OwnedValue)>]) -> Vec<Vec<&str>> {
        rows.iter().map(|r| r.iter().map(|(n, _)| n.as_str()).collect()).collect()
    }

    #[test]
    fn a_tensor_input_is_named_by_position() {
        let rows = call_rows(&json!([[5.1, 3.5, 1.4, 0.2]]), &json!(2), Some(0.9));
        assert_eq!(
            names(&rows),
            [["input[0]", "input[1]", "input[2]", "input[3]", "prediction", "confidence"]]
        );
        assert_eq!(rows[0][0].1, OwnedValue::Number(5.1));
    }

    #[test]
    fn a_batch_gives_one_row_per_entry_with_its_prediction() {
        let rows =
            call_rows(&json!({"x": [[1, 2], [3, 4]], "tag": "a"}), &json!(["cat", "dog"]), None);
        assert_eq!(rows.len(), 2);
        assert_eq!(names(&rows)[1], ["x[0]", "x[1]", "prediction"]);
        assert_eq!(rows[1][2].1, OwnedValue::Text("dog".into()));
        assert_eq!(names(&rows)[0], ["tag", "x[0]", "x[1]", "prediction"]);
    }

    #[test]
    fn named_scalars_keep_their_names_and_deep_values_are_skipped() {
        let rows =
            call_rows(&json!({"age": 31, "plan": "pro", "image": [[[0, 1]]]}), &json!([0.7]), None);
        assert_eq!(names(&rows), [["age", "plan", "prediction"]]);
        assert_eq!(rows[0][2].1, OwnedValue::Number(0.7));
    }
}

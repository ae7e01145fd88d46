use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::backend::Framework;
use crate::clock::Timestamp;

/// One inference call (the original design's `InferenceEvent` table), with the ground-truth
/// feedback that may arrive later.
///
/// Serialised with the original camelCase field names, so a HarperDB host can store it in a
/// table of the original schema as is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InferenceEvent {
    /// The inference id (a UUID), handed back to the caller for feedback.
    pub id: String,
    /// Model name.
    pub model_name: String,
    /// Model version.
    pub model_version: String,
    /// Model framework.
    pub framework: Framework,
    /// The caller's request id, if it gave one.
    pub request_id: Option<String>,
    /// The caller's user id, if it gave one.
    pub user_id: Option<String>,
    /// The caller's session id, if it gave one.
    pub session_id: Option<String>,
    /// The inputs as JSON (nested arrays; an object by input name for multi-input models).
    pub features_in: Value,
    /// The prediction as JSON (`null` when the call failed).
    pub prediction: Value,
    /// Confidence of the prediction in `[0, 1]`, when the task defines one.
    pub confidence: Option<f64>,
    /// Wall time of the call in milliseconds (sub-millisecond precision).
    pub latency_ms: f64,
    /// When the call was made.
    pub timestamp: Timestamp,
    /// The error message, when the call failed.
    pub error: Option<String>,
    /// The ground truth, recorded by [`crate::Engine::feedback`].
    pub actual_outcome: Option<Value>,
    /// Whether the prediction matched the ground truth.
    pub correct: Option<bool>,
    /// When the ground truth was recorded.
    pub feedback_timestamp: Option<Timestamp>,
}

impl InferenceEvent {
    /// A new inference id: a random (version 4) UUID, as the engine gives its own calls.
    /// Hosts recording their own calls use it for events that have no id of their own.
    pub fn new_id() -> String {
        uuid::Uuid::new_v4().to_string()
    }
}

/// Whether a prediction equals an actual outcome. Numbers compare by value (`1` equals `1.0`),
/// arrays and objects element by element.
///
/// # Examples
///
/// ```
/// use harper_edge_core::telemetry::outcome_matches;
/// use serde_json::json;
///
/// assert!(outcome_matches(&json!(1), &json!(1.0)));
/// assert!(!outcome_matches(&json!([0, 2]), &json!([0, 1])));
/// ```
pub fn outcome_matches(prediction: &Value, actual: &Value) -> bool {
    match (prediction, actual) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| outcome_matches(x, y))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter().all(|(k, x)| b.get(k).is_some_and(|y| outcome_matches(x, y)))
        }
        (a, b) => a == b,
    }
}

/// A filter over stored inference events. Results come newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventQuery {
    /// Only events of this model.
    pub model_name: Option<String>,
    /// Only events of this version (with `model_name`).
    pub model_version: Option<String>,
    /// Only events at or after this time.
    pub from: Option<Timestamp>,
    /// Only events before this time.
    pub to: Option<Timestamp>,
    /// At most this many events (default 100).
    pub limit: Option<usize>,
}

impl EventQuery {
    /// Default number of events returned.
    pub const DEFAULT_LIMIT: usize = 100;

    /// Every model's events, newest first, up to the default limit.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only events of model `name`.
    #[must_use]
    pub fn model(mut self, name: impl Into<String>) -> Self {
        self.model_name = Some(name.into());
        self
    }

    /// Only events of `version`.
    #[must_use]
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.model_version = Some(version.into());
        self
    }

    /// Only events in `[from, to)`.
    #[must_use]
    pub fn between(mut self, from: Option<Timestamp>, to: Option<Timestamp>) -> Self {
        self.from = from;
        self.to = to;
        self
    }

    /// At most `limit` events.
    #[must_use]
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The effective limit.
    pub fn effective_limit(&self) -> usize {
        self.limit.unwrap_or(Self::DEFAULT_LIMIT)
    }

    /// Whether `event` passes the filter (ignoring the limit).
    pub fn matches(&self, event: &InferenceEvent) -> bool {
        self.model_name.as_ref().is_none_or(|n| *n == event.model_name)
            && self.model_version.as_ref().is_none_or(|v| *v == event.model_version)
            && self.from.is_none_or(|f| event.timestamp >= f)
            && self.to.is_none_or(|t| event.timestamp < t)
    }
}

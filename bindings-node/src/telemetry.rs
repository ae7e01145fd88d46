//! Event and metrics queries in, records out.
//!
//! Records (`Model`, `InferenceEvent`, `ModelMetrics`, `OutboxEntry`) cross as the core's serde
//! JSON, so their field names are the original design's (`modelName`, `latencyMs`,
//! `periodStart`) and equal the records a host copies from the outbox. Numbers stay JS numbers
//! up to 2^53.

use std::sync::LazyLock;
use std::time::Duration;

use harper_edge_core::telemetry::{Admission, Columns, outcome_matches as core_outcome_matches};
use harper_edge_core::{
    Error as CoreError, EventQuery as CoreEventQuery, Granularity, InferenceEvent, MetricsQuery,
    ModelMetrics, ModelRef, Overflow, TelemetryConfig, Timestamp,
};
use napi::bindgen_prelude::{Either, Float64ArraySlice, Null, Uint8ArraySlice, Unknown};
use napi_derive::napi;
use serde_json::Value;

use crate::convert::{self, object};
use crate::error::{CoreResult, Result, sync};

/// The telemetry options shared by `Engine.open` and `Engine.inMemory`, checked.
#[derive(Debug, Default)]
pub struct TelemetrySettings {
    pub event_capacity: Option<f64>,
    pub overflow: Option<String>,
    pub sample_rate: Option<f64>,
    pub retention_ms: Option<Either<f64, Null>>,
    pub tick_interval_ms: Option<Either<f64, Null>>,
    pub drift_sample_size: Option<f64>,
}

impl TelemetrySettings {
    /// The core settings and the ticker interval (`None`: no background thread). The core
    /// checks the ranges ([`TelemetryConfig::validate`]) before anything is opened.
    pub fn decode(self) -> CoreResult<(TelemetryConfig, Option<Duration>)> {
        let mut config = TelemetryConfig::new();
        if let Some(n) = self.event_capacity {
            config = config.event_capacity(convert::size(n, "options.eventCapacity")?);
        }
        if let Some(policy) = self.overflow {
            config = config.overflow(policy.parse::<Overflow>()?);
        }
        if let Some(rate) = self.sample_rate {
            config = config.sample_rate(rate);
        }
        if let Some(retention) = self.retention_ms {
            config = config.retention(millis(retention, "options.retentionMs")?);
        }
        if let Some(n) = self.drift_sample_size {
            config = config.drift_sample_size(convert::size(n, "options.driftSampleSize")?);
        }
        config.validate()?;
        let tick = match self.tick_interval_ms {
            None => Some(harper_edge_core::engine::DEFAULT_TICK_INTERVAL),
            Some(interval) => millis(interval, "options.tickIntervalMs")?,
        };
        // The core refuses a zero interval only when it starts the ticker, after `Engine.open`
        // has created its directory: refuse it first.
        if tick == Some(Duration::ZERO) {
            return Err(CoreError::invalid_input(
                "options.tickIntervalMs must be positive (or null for no ticker thread)",
            ));
        }
        Ok((config, tick))
    }
}

/// `null` → `None`; a number → a duration of that many whole milliseconds.
fn millis(value: Either<f64, Null>, what: &str) -> CoreResult<Option<Duration>> {
    match value {
        Either::A(ms) => Ok(Some(Duration::from_millis(convert::count(ms, what)?))),
        Either::B(Null) => Ok(None),
    }
}

/// The optional columns of `Engine.recordBatch`, one entry per call.
#[napi(object, object_to_js = false)]
pub struct RecordColumns<'a> {
    /// Non-zero for a failed call (default: none failed).
    #[napi(ts_type = "Uint8Array")]
    pub errors: Option<Unknown<'a>>,
    /// Confidence of each call; `NaN` for a call without one (default: none).
    #[napi(ts_type = "Float64Array")]
    pub confidence: Option<Unknown<'a>>,
    /// When each call was made, epoch milliseconds (default: now, for every call).
    #[napi(ts_type = "Float64Array")]
    pub timestamps: Option<Unknown<'a>>,
}

/// The columns of one `recordBatch` call, borrowed from the typed arrays (no copy).
pub struct BorrowedColumns<'a> {
    latency_ms: Float64ArraySlice<'a>,
    errors: Option<Uint8ArraySlice<'a>>,
    confidence: Option<Float64ArraySlice<'a>>,
    timestamps: Option<Float64ArraySlice<'a>>,
}

impl<'a> BorrowedColumns<'a> {
    /// Decodes the latency array and the optional columns.
    pub fn decode(latency_ms: &Unknown<'a>, columns: &Unknown<'a>) -> CoreResult<Self> {
        let latency_ms = convert::typed_array(latency_ms, "latencyMs", "Float64Array")?;
        let expected = "an object { errors?: Uint8Array, confidence?: Float64Array, \
                        timestamps?: Float64Array }";
        let columns: Option<RecordColumns<'a>> = object(columns, "columns", expected)?;
        let (errors, confidence, timestamps) =
            columns.map(|c| (c.errors, c.confidence, c.timestamps)).unwrap_or_default();
        Ok(BorrowedColumns {
            latency_ms,
            errors: convert::optional_typed_array(errors.as_ref(), "columns.errors", "Uint8Array")?,
            confidence: convert::optional_typed_array(
                confidence.as_ref(),
                "columns.confidence",
                "Float64Array",
            )?,
            timestamps: convert::optional_typed_array(
                timestamps.as_ref(),
                "columns.timestamps",
                "Float64Array",
            )?,
        })
    }

    /// The core's view of the columns.
    pub fn columns(&self) -> Columns<'_, u8, f64> {
        Columns {
            latency_ms: &self.latency_ms,
            errors: self.errors.as_deref(),
            confidence: self.confidence.as_deref(),
            timestamps: self.timestamps.as_deref(),
        }
    }
}

/// One raw event of a host model: the keys of `InferenceEvent` (what `events()` returns),
/// with `id` (default: a new UUID), `timestamp` (default: now), `framework` (default
/// `"onnx"`), the caller ids, `featuresIn`, `prediction` and the feedback fields optional.
/// A key `InferenceEvent` does not have is refused (a misspelt `userID` would be lost).
pub fn host_event(value: &Unknown<'_>, now: Timestamp) -> CoreResult<InferenceEvent> {
    let expected = "an object { modelName, modelVersion, latencyMs, framework?, id?, \
                    timestamp?, featuresIn?, prediction?, confidence?, error?, … } (the keys \
                    of events())";
    let mut json: Value = convert::from_js(value, "event", expected)?;
    let Value::Object(fields) = &mut json else {
        return Err(CoreError::invalid_input(format!("event must be {expected}")));
    };
    let given: Vec<String> = fields.keys().cloned().collect();
    let mut default = |key: &str, value: Value| {
        if fields.get(key).is_none_or(Value::is_null) {
            fields.insert(key.to_string(), value);
        }
    };
    default("id", Value::String(InferenceEvent::new_id()));
    default("timestamp", now.as_millis().into());
    default("framework", Value::String("onnx".into()));
    default("featuresIn", Value::Null);
    default("prediction", Value::Null);
    let known = event_keys();
    if let Some(unknown) = given.iter().find(|k| !known.iter().any(|key| key == *k)) {
        return Err(CoreError::invalid_input(format!(
            "event has no key '{unknown}' (the keys are those of events(): {})",
            known.join(", ")
        )));
    }
    convert::from_json(json, "event")
}

/// The keys of a serialised `InferenceEvent` (the keys the core reads are the keys it
/// writes), computed once: an immutable list, the same in every worker thread.
fn event_keys() -> &'static [String] {
    static KEYS: LazyLock<Vec<String>> = LazyLock::new(|| {
        let template = serde_json::json!({
            "id": "", "modelName": "m", "modelVersion": "1", "framework": "onnx",
            "featuresIn": null, "prediction": null, "latencyMs": 0, "timestamp": 0,
        });
        serde_json::from_value::<InferenceEvent>(template)
            .ok()
            .and_then(|event| serde_json::to_value(event).ok())
            .and_then(|value| value.as_object().map(|o| o.keys().cloned().collect()))
            .unwrap_or_default()
    });
    &KEYS
}

/// What happened to an event handed to `recordEvent`.
pub fn admission(a: Admission) -> &'static str {
    match a {
        Admission::Buffered => "buffered",
        Admission::DroppedOldest => "dropped_oldest",
        Admission::Rejected => "rejected",
        Admission::SampledOut => "sampled_out",
    }
}

/// The answer of `Engine.recordEvent`.
#[napi(object, object_from_js = false)]
#[derive(Debug)]
pub struct RecordedEvent {
    /// The event's id: the one given, or the one generated. Pass it to `feedback` once the
    /// event is stored (not for `"rejected"` or `"sampled_out"`).
    pub inference_id: String,
    /// `"buffered"` (written at the next tick), `"dropped_oldest"` (buffered, and the oldest
    /// buffered event was dropped for it), `"rejected"` (the buffer is full, overflow
    /// `"reject"`) or `"sampled_out"` (left out by `sampleRate`). The call is counted in the
    /// metrics in every case.
    #[napi(ts_type = "'buffered' | 'dropped_oldest' | 'rejected' | 'sampled_out'")]
    pub admission: String,
}

/// A filter over inference events; results come newest first.
#[napi(object, object_to_js = false)]
pub struct EventQuery {
    /// Only events of this model.
    pub model_name: Option<String>,
    /// Only events of this version (with `modelName`).
    pub model_version: Option<String>,
    /// Only events at or after this time (epoch milliseconds).
    pub from: Option<f64>,
    /// Only events before this time (epoch milliseconds).
    pub to: Option<f64>,
    /// At most this many events (default 100).
    pub limit: Option<f64>,
}

impl EventQuery {
    /// Decodes an optional query into the core's.
    pub fn decode(value: &Unknown<'_>) -> CoreResult<CoreEventQuery> {
        let query: Option<EventQuery> =
            object(value, "query", "an object { modelName?, modelVersion?, from?, to?, limit? }")?;
        let Some(q) = query else { return Ok(CoreEventQuery::new()) };
        let mut out = CoreEventQuery::new();
        if let Some(name) = q.model_name {
            out = out.model(name);
        }
        if let Some(version) = q.model_version {
            out = out.version(version);
        }
        out = out.between(time(q.from, "query.from")?, time(q.to, "query.to")?);
        if let Some(limit) = q.limit {
            out = out.limit(convert::size(limit, "query.limit")?);
        }
        Ok(out)
    }
}

/// Options of `Engine.metrics`: which rollup rows of the model to return.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct MetricsOptions {
    /// Period length: "5min" (default), "hourly" or "daily".
    #[napi(ts_type = "Granularity")]
    pub granularity: Option<String>,
    /// Only rows of this version (the model reference may name it instead, but not another).
    pub version: Option<String>,
    /// Only periods starting at or after this time (epoch milliseconds).
    pub from: Option<f64>,
    /// Only periods starting before this time (epoch milliseconds).
    pub to: Option<f64>,
    /// At most this many rows (default 1000).
    pub limit: Option<f64>,
}

impl MetricsOptions {
    /// The core query for `reference` (`name`: every version, or `name:version`) and these
    /// optional options.
    pub fn decode(reference: ModelRef, value: &Unknown<'_>) -> CoreResult<MetricsQuery> {
        let expected = "an object { granularity?, version?, from?, to?, limit? }";
        let options: Option<MetricsOptions> = object(value, "options", expected)?;
        let o = options.unwrap_or_default();
        let granularity = match o.granularity {
            Some(g) => g.parse()?,
            None => Granularity::FiveMinutes,
        };
        let version = match (reference.version, o.version) {
            (Some(named), Some(given)) if named != given => {
                return Err(CoreError::invalid_input(format!(
                    "model '{}:{named}' names version '{named}' but options.version is '{given}'",
                    reference.name
                )));
            }
            (named, given) => named.or(given),
        };
        let mut query = MetricsQuery::new(reference.name, granularity)
            .between(time(o.from, "options.from")?, time(o.to, "options.to")?);
        if let Some(version) = version {
            query = query.version(version);
        }
        if let Some(limit) = o.limit {
            query = query.limit(convert::size(limit, "options.limit")?);
        }
        Ok(query)
    }
}

/// An optional time in epoch milliseconds: a non-negative integer below 2^53.
fn time(value: Option<f64>, what: &str) -> CoreResult<Option<Timestamp>> {
    value
        .map(|ms| {
            let ms = i64::try_from(convert::count(ms, what)?)
                .map_err(|_| CoreError::invalid_input(format!("{what} is out of range")))?;
            Ok(Timestamp::from_millis(ms))
        })
        .transpose()
}

/// A record as the JSON the core serialises it to.
pub fn record(value: impl serde::Serialize) -> CoreResult<Value> {
    serde_json::to_value(value).map_err(CoreError::from)
}

/// Combines `ModelMetrics` rows written by several producers (HarperDB worker threads, cluster
/// nodes, processes) into one row per model version, granularity and period, by merging their
/// latency sketches: each result equals the row one engine would have written had it seen
/// every call. Rows come back ordered by model name, version, granularity and period start,
/// with the canonical `id` (`name:version:granularity:periodStart`); keys other than the
/// `ModelMetrics` fields (a host's `origin`) are ignored.
#[napi(ts_args_type = "rows: Array<ModelMetrics>", ts_return_type = "Array<ModelMetrics>")]
pub fn combine_metrics(rows: Unknown<'_>) -> Result<Value> {
    sync(|| {
        let expected = "an array of ModelMetrics rows";
        let Value::Array(items) = convert::decode::<Value>(&rows, "rows", expected)? else {
            return Err(CoreError::invalid_input(format!("rows must be {expected}")));
        };
        let rows = items
            .into_iter()
            .enumerate()
            .map(|(i, mut item)| {
                if !item.is_object() {
                    return Err(CoreError::invalid_input(format!(
                        "rows[{i}] must be a ModelMetrics object"
                    )));
                }
                convert::integral_numbers(&mut item);
                convert::from_json::<ModelMetrics>(item, &format!("rows[{i}]"))
            })
            .collect::<CoreResult<Vec<_>>>()?;
        record(ModelMetrics::combine(rows)?)
    })
}

/// Whether a prediction equals an actual outcome, as feedback decides `correct`: numbers
/// compare by value (`1` equals `1.0`), arrays and objects element by element.
///
/// A host that mirrors events into its own tables can use it to record feedback for an event
/// this engine does not hold (one recorded by another worker thread).
#[napi(ts_args_type = "prediction: unknown, actualOutcome: unknown")]
pub fn outcome_matches(prediction: Unknown<'_>, actual_outcome: Unknown<'_>) -> Result<bool> {
    sync(|| {
        let prediction = convert::json(&prediction, "prediction")?;
        let actual = convert::json(&actual_outcome, "actualOutcome")?;
        Ok(core_outcome_matches(&prediction, &actual))
    })
}

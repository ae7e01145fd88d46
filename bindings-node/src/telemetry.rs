//! Event and metrics queries in, records out.
//!
//! Records (`Model`, `InferenceEvent`, `ModelMetrics`, `OutboxEntry`) cross as the core's serde
//! JSON, so their field names are the original design's (`modelName`, `latencyMs`,
//! `periodStart`) and equal the records a host copies from the outbox. Numbers stay JS numbers
//! up to 2^53.

use harper_edge_core::{
    Error as CoreError, EventQuery as CoreEventQuery, Granularity, MetricsQuery, ModelRef,
    Timestamp, telemetry::outcome_matches as core_outcome_matches,
};
use napi::bindgen_prelude::Unknown;
use napi_derive::napi;
use serde_json::Value;

use crate::convert::{self, object};
use crate::error::{CoreResult, Result, sync};

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

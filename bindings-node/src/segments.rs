//! Drift and rollups by segment from JavaScript: the `SegmentedBaseline` class,
//! `checkDriftSegments`, `Engine#checkDriftSegments`, `Engine#checkDriftSegmentsEvents` and
//! `Engine#metricsBySegment`; thin wrappers of `harper_edge_core::drift::segment` and
//! `Engine::metrics_by_segment`.

use harper_edge_core::Error as CoreError;
use harper_edge_core::drift::baseline::{BaselineConfig, FeatureKind};
use harper_edge_core::drift::distance::PsiConfig;
use harper_edge_core::drift::segment::{
    SegmentConfig, SegmentReference, SegmentedBaseline as CoreSegmented, check_segments,
};
use harper_edge_core::monitor::{self, CurrentData};
use harper_edge_core::telemetry::{Granularity, SegmentedMetrics};
use napi::bindgen_prelude::Unknown;
use napi_derive::napi;
use serde_json::Value;

use crate::convert;
use crate::engine::Engine;
use crate::error::{CoreResult, Result, sync};
use crate::monitor::{Baseline, Columns, check_options, events_of};
use crate::telemetry::{MetricsOptions, record};

/// How a check is split by segment (with the `CheckOptions` fields alongside).
#[napi(object, object_to_js = false)]
pub struct SegmentOptions {
    /// The column (or, for events, event field) whose value names each row's segment.
    pub segment: String,
    /// Segments with fewer rows are listed but not tested (default 30).
    pub min_rows: Option<u32>,
    /// At most this many segments are tested, the largest first (default 100).
    pub max_segments: Option<u32>,
}

fn segment_config(options: &Unknown<'_>) -> CoreResult<SegmentConfig> {
    let expected = "an object { segment, minRows?, maxSegments?, ...CheckOptions }";
    let o: SegmentOptions = convert::object(options, "options", expected)?
        .ok_or_else(|| CoreError::invalid_input(format!("options must be {expected}")))?;
    let d = SegmentConfig::default();
    Ok(SegmentConfig {
        key: o.segment,
        min_rows: o.min_rows.map_or(d.min_rows, u64::from),
        max_segments: o.max_segments.map_or(d.max_segments, |m| m as usize),
    })
}

/// Options of `SegmentedBaseline.fit`.
#[napi(object, object_to_js = false)]
pub struct SegmentFitOptions {
    /// Columns to read as categorical.
    pub categorical: Option<Vec<String>>,
    /// Reference segments with fewer rows get no baseline of their own (default 30).
    pub min_rows: Option<u32>,
    /// PSI bins (default 10).
    pub bins: Option<u32>,
}

/// Baselines per segment of a reference (one per value of a key column), plus the whole
/// reference's: each segment of current data is compared with its own part of the
/// reference.
#[napi]
#[derive(Debug)]
pub struct SegmentedBaseline {
    inner: CoreSegmented,
}

#[napi]
impl SegmentedBaseline {
    /// Fits one baseline per value of column `key` (read as categorical, not a feature) with
    /// at least `minRows` rows, and one on the whole reference.
    #[napi(
        factory,
        ts_args_type = "columns: DriftColumns, key: string, options?: SegmentFitOptions"
    )]
    pub fn fit(
        columns: Unknown<'_>,
        key: String,
        options: Unknown<'_>,
    ) -> Result<SegmentedBaseline> {
        sync(|| {
            let o: Option<SegmentFitOptions> =
                convert::object(&options, "options", "a SegmentFitOptions object")?;
            let mut categorical =
                o.as_ref().and_then(|o| o.categorical.clone()).unwrap_or_default();
            categorical.push(key.clone());
            let columns = Columns::decode(&columns, "columns", &categorical)?;
            let mut schema = columns.schema();
            for f in &mut schema {
                if categorical.contains(&f.name) {
                    f.kind = FeatureKind::Categorical;
                }
            }
            let config = BaselineConfig {
                psi: PsiConfig {
                    bins: o
                        .as_ref()
                        .and_then(|o| o.bins)
                        .map_or(PsiConfig::DEFAULT_BINS, |b| b as usize),
                    ..PsiConfig::default()
                },
                max_sample: None,
            };
            let min_rows = o.as_ref().and_then(|o| o.min_rows).map_or(30, u64::from);
            let inner =
                columns.with(|all| CoreSegmented::fit(&schema, all, &key, min_rows, config))?;
            Ok(SegmentedBaseline { inner })
        })
    }

    /// Reads a segmented baseline saved with `toJson()`; a corrupt one throws
    /// `HARPER_EDGE_INTEGRITY`.
    #[napi(factory)]
    pub fn from_json(json: String) -> Result<SegmentedBaseline> {
        sync(|| Ok(SegmentedBaseline { inner: CoreSegmented::from_json(&json)? }))
    }

    /// The segmented baseline as JSON.
    #[napi]
    pub fn to_json(&self) -> Result<String> {
        sync(|| self.inner.to_json())
    }

    /// The key column.
    #[napi(getter)]
    pub fn key(&self) -> String {
        self.inner.key().to_string()
    }

    /// Reference rows per segment value (also segments too small to get a baseline).
    #[napi(getter, ts_return_type = "Record<string, number>")]
    pub fn segment_rows(&self) -> Result<Value> {
        sync(|| record(self.inner.segment_rows()))
    }

    /// The baseline of the whole reference.
    #[napi(getter)]
    pub fn whole(&self) -> Baseline {
        Baseline { inner: self.inner.whole().clone() }
    }

    /// Checks current columns segment by segment against each segment's own reference
    /// (segments the reference never saw, or saw too rarely, are listed untested).
    /// Synchronous.
    #[napi(
        ts_args_type = "current: DriftColumns, options: SegmentCheckOptions",
        ts_return_type = "SegmentedDriftReport"
    )]
    pub fn check(&self, current: Unknown<'_>, options: Unknown<'_>) -> Result<Value> {
        sync(|| run(SegmentReference::PerSegment(&self.inner), &current, &options))
    }
}

fn run(
    against: SegmentReference<'_>,
    current: &Unknown<'_>,
    options: &Unknown<'_>,
) -> CoreResult<Value> {
    let segments = segment_config(options)?;
    let (config, _) = check_options(options)?;
    let whole = match against {
        SegmentReference::Whole(b) => b,
        SegmentReference::PerSegment(s) => s.whole(),
    };
    let mut categorical = whole.categorical_names();
    categorical.push(segments.key.clone());
    let columns = Columns::decode(current, "current", &categorical)?;
    let report = columns.with(|all| check_segments(against, all, &segments, &config.drift))?;
    record(report)
}

/// Checks current columns segment by segment of `options.segment` against the whole
/// `baseline` (for keys that are not properties of the data: a version, an A/B arm). For a
/// cohort or any feature of the reference, fit a `SegmentedBaseline` instead. Synchronous.
#[napi(
    ts_args_type = "baseline: Baseline, current: DriftColumns, options: SegmentCheckOptions",
    ts_return_type = "SegmentedDriftReport"
)]
pub fn check_drift_segments(
    baseline: &Baseline,
    current: Unknown<'_>,
    options: Unknown<'_>,
) -> Result<Value> {
    sync(|| run(SegmentReference::Whole(&baseline.inner), &current, &options))
}

#[napi]
impl Engine {
    /// Checks a model version for drift split by `options.segment` (a feature such as an A/B
    /// arm or cohort): per-segment results with the error rate controlled across all
    /// segments, against each segment's own reference when the baseline was fitted with
    /// `segmentBy`, else the whole baseline. `current` null/undefined reads the drift window
    /// (not emptied). Nothing is stored. Synchronous.
    #[napi(
        ts_args_type = "model: string, current: DriftColumns | null | undefined, options: SegmentCheckOptions",
        ts_return_type = "SegmentedDriftReport"
    )]
    pub fn check_drift_segments(
        &self,
        model: Unknown<'_>,
        current: Unknown<'_>,
        options: Unknown<'_>,
    ) -> Result<Value> {
        sync(|| {
            let reference = convert::model_ref(&model)?;
            let segments = segment_config(&options)?;
            let (config, _) = check_options(&options)?;
            let report = if convert::is_nullish(&current) {
                self.engine.check_drift_segments(
                    &reference,
                    CurrentData::Window,
                    &segments,
                    &config,
                )?
            } else {
                let stored = self.engine.baseline(&reference)?;
                let mut names = stored.baseline.categorical_names();
                names.push(segments.key.clone());
                let columns = Columns::decode(&current, "current", &names)?;
                columns.with(|all| {
                    self.engine.check_drift_segments(
                        &reference,
                        CurrentData::Columns { columns: all, labels: None },
                        &segments,
                        &config,
                    )
                })?
            };
            record(report)
        })
    }

    /// As `checkDriftSegments` on `events` the host keeps elsewhere; the segment may also be
    /// an event field (`modelVersion` — every version of the model against this version's
    /// baseline —, `userId`, `sessionId`, `framework`).
    #[napi(
        ts_args_type = "model: string, events: Array<InferenceEvent>, options: SegmentCheckOptions",
        ts_return_type = "SegmentedDriftReport"
    )]
    pub fn check_drift_segments_events(
        &self,
        model: Unknown<'_>,
        events: Unknown<'_>,
        options: Unknown<'_>,
    ) -> Result<Value> {
        sync(|| {
            let reference = convert::model_ref(&model)?;
            let events = events_of(&events)?;
            let segments = segment_config(&options)?;
            let (config, _) = check_options(&options)?;
            record(self.engine.check_drift_segments(
                &reference,
                CurrentData::Events(&events),
                &segments,
                &config,
            )?)
        })
    }

    /// Rollups split by `options.segment`, computed from the stored calls: an event field
    /// (`modelVersion`, `userId`, `sessionId`, `framework`) or a feature of the calls (an
    /// A/B arm, a cohort). Options as `metrics`, plus `segment`.
    #[napi(
        ts_args_type = "model: string, options: MetricsOptions & { segment: string }",
        ts_return_type = "SegmentedMetrics"
    )]
    pub fn metrics_by_segment(&self, model: Unknown<'_>, options: Unknown<'_>) -> Result<Value> {
        sync(|| {
            let query = MetricsOptions::decode(convert::model_ref(&model)?, &options)?;
            let expected = "an object { segment, granularity?, version?, from?, to?, limit? }";
            let o: Value = convert::object(&options, "options", expected)?
                .ok_or_else(|| CoreError::invalid_input(format!("options must be {expected}")))?;
            let Some(Value::String(key)) = o.get("segment") else {
                return Err(CoreError::invalid_input("options.segment must be a string"));
            };
            record(self.engine.metrics_by_segment(&query, key)?)
        })
    }
}

/// Rollups of `events` the host keeps elsewhere (e.g. the rows of a replicated HarperDB
/// `InferenceEvent` table, so every node's calls count), split by `options.segment` as in
/// `Engine#metricsBySegment`: one `SegmentedMetrics` per segment, largest first.
#[napi(
    ts_args_type = "events: Array<InferenceEvent>, options: { segment: string; granularity?: '5min' | 'hourly' | 'daily' }",
    ts_return_type = "SegmentedMetrics"
)]
pub fn segment_rollups(events: Unknown<'_>, options: Unknown<'_>) -> Result<Value> {
    sync(|| {
        let expected = "an object { segment, granularity? }";
        let o: Value = convert::object(&options, "options", expected)?
            .ok_or_else(|| CoreError::invalid_input(format!("options must be {expected}")))?;
        let Some(Value::String(key)) = o.get("segment") else {
            return Err(CoreError::invalid_input("options.segment must be a string"));
        };
        if key.is_empty() {
            return Err(CoreError::invalid_input("segment key is empty"));
        }
        let granularity: Granularity = match o.get("granularity") {
            None | Some(Value::Null) => Granularity::FiveMinutes,
            Some(Value::String(g)) => g.parse()?,
            Some(_) => {
                return Err(CoreError::invalid_input("options.granularity must be a string"));
            }
        };
        let events = events_of(&events)?;
        let segments =
            harper_edge_core::telemetry::segment_rollups(key, granularity, &events, |e| {
                monitor::event_segment(e, key)
            })?;
        record(SegmentedMetrics {
            key: key.clone(),
            segments,
            events: events.len() as u64,
            truncated: false,
        })
    })
}

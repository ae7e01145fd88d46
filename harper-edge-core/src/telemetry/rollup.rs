//! Rollups: per-model metrics over fixed periods (5 minutes, hours, days), persisted as
//! [`ModelMetrics`] rows with the original design's fields plus the latency sketch.
//!
//! 5-minute rows are accumulated in memory from the calls themselves and written when the
//! engine flushes; hourly rows are the merge of their 5-minute rows and daily rows the merge
//! of their hourly rows, so no event is read twice. Because rows merge exactly, a row written
//! early (a flush before its period ended, a late event after it) is completed by merging
//! the rest in later: the stored row always equals the row of every call seen so far.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::telemetry::QuantileSketch;

/// The length of a rollup period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Granularity {
    /// Five minutes (`"5min"`).
    #[serde(rename = "5min")]
    FiveMinutes,
    /// One hour (`"hourly"`).
    #[serde(rename = "hourly")]
    Hourly,
    /// One day, UTC (`"daily"`).
    #[serde(rename = "daily")]
    Daily,
}

impl Granularity {
    /// Every granularity, finest first.
    pub const ALL: [Granularity; 3] =
        [Granularity::FiveMinutes, Granularity::Hourly, Granularity::Daily];

    /// The name used in records: `5min`, `hourly`, `daily`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Granularity::FiveMinutes => "5min",
            Granularity::Hourly => "hourly",
            Granularity::Daily => "daily",
        }
    }

    /// The period length in milliseconds.
    pub const fn millis(self) -> i64 {
        match self {
            Granularity::FiveMinutes => 300_000,
            Granularity::Hourly => 3_600_000,
            Granularity::Daily => 86_400_000,
        }
    }

    /// The next coarser granularity, which rolls up from this one.
    pub const fn coarser(self) -> Option<Granularity> {
        match self {
            Granularity::FiveMinutes => Some(Granularity::Hourly),
            Granularity::Hourly => Some(Granularity::Daily),
            Granularity::Daily => None,
        }
    }

    /// The start of the period that contains `t`.
    pub fn period_start(self, t: Timestamp) -> Timestamp {
        Timestamp::from_millis(t.as_millis().div_euclid(self.millis()) * self.millis())
    }
}

impl fmt::Display for Granularity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Granularity {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "5min" => Ok(Granularity::FiveMinutes),
            "hourly" => Ok(Granularity::Hourly),
            "daily" => Ok(Granularity::Daily),
            other => Err(Error::invalid_input(format!(
                "unknown granularity '{other}' (expected 5min, hourly or daily)"
            ))),
        }
    }
}

/// Metrics of one model version over one period (the original design's `ModelMetrics`
/// table, plus the latency sketch that makes rows mergeable).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelMetrics {
    /// `name:version:granularity:periodStart`.
    pub id: String,
    /// Model name.
    pub model_name: String,
    /// Model version.
    pub model_version: String,
    /// Start of the period (inclusive).
    pub period_start: Timestamp,
    /// End of the period (exclusive).
    pub period_end: Timestamp,
    /// Period length.
    pub granularity: Granularity,
    /// Calls, failed ones included.
    pub request_count: u64,
    /// Mean latency in milliseconds (exact).
    pub avg_latency: Option<f64>,
    /// Median latency (within the sketch's relative accuracy).
    pub p50_latency: Option<f64>,
    /// 95th percentile latency.
    pub p95_latency: Option<f64>,
    /// 99th percentile latency.
    pub p99_latency: Option<f64>,
    /// Largest latency (exact).
    pub max_latency: Option<f64>,
    /// `errorCount / requestCount` (0 without calls).
    pub error_rate: f64,
    /// Failed calls.
    pub error_count: u64,
    /// `requestCount` over the period's length in seconds.
    pub throughput_per_second: f64,
    /// The latency sketch the percentiles come from; merging sketches merges rows.
    pub latency_sketch: QuantileSketch,
}

impl ModelMetrics {
    /// The row of `model:version` for the period of `granularity` starting at `period_start`
    /// with these counts and latencies; the derived fields are computed here.
    #[allow(clippy::cast_precision_loss)]
    pub fn new(
        model_name: &str,
        model_version: &str,
        granularity: Granularity,
        period_start: Timestamp,
        error_count: u64,
        latency_sketch: QuantileSketch,
    ) -> Self {
        let request_count = latency_sketch.count();
        let period_start = granularity.period_start(period_start);
        ModelMetrics {
            id: format!("{model_name}:{model_version}:{granularity}:{}", period_start.as_millis()),
            model_name: model_name.to_string(),
            model_version: model_version.to_string(),
            period_start,
            period_end: Timestamp::from_millis(period_start.as_millis() + granularity.millis()),
            granularity,
            request_count,
            avg_latency: latency_sketch.mean(),
            p50_latency: latency_sketch.quantile(0.5),
            p95_latency: latency_sketch.quantile(0.95),
            p99_latency: latency_sketch.quantile(0.99),
            max_latency: latency_sketch.max(),
            error_rate: if request_count == 0 {
                0.0
            } else {
                error_count as f64 / request_count as f64
            },
            error_count,
            throughput_per_second: request_count as f64 / (granularity.millis() as f64 / 1000.0),
            latency_sketch,
        }
    }

    /// The row of `granularity` for the period starting at `period_start`, merged from
    /// `rows` (the finer rows of that period, or partial rows of the same period).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when a row belongs to another model version or lies outside
    /// the period, or the sketches cannot merge.
    pub fn merged<'a>(
        model_name: &str,
        model_version: &str,
        granularity: Granularity,
        period_start: Timestamp,
        rows: impl IntoIterator<Item = &'a ModelMetrics>,
    ) -> Result<Self> {
        let start = granularity.period_start(period_start);
        let end = start.as_millis() + granularity.millis();
        let mut sketch = QuantileSketch::new(QuantileSketch::DEFAULT_ALPHA)?;
        let mut errors = 0;
        for row in rows {
            let inside = row.period_start >= start && row.period_end.as_millis() <= end;
            if row.model_name != model_name || row.model_version != model_version || !inside {
                return Err(Error::invalid_input(format!(
                    "row '{}' does not belong to {model_name}:{model_version} {granularity} at {start}",
                    row.id
                )));
            }
            sketch.merge(&row.latency_sketch)?;
            errors += row.error_count;
        }
        Ok(ModelMetrics::new(model_name, model_version, granularity, start, errors, sketch))
    }

    /// Combines rows written by several producers (HarperDB worker threads, cluster nodes,
    /// processes) into one row per model version, granularity and period, by merging their
    /// sketches: the result equals the row one producer would have written for all the
    /// calls. Rows come back ordered by model version, granularity and period start.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when sketches of different accuracies meet.
    ///
    /// # Examples
    ///
    /// ```
    /// use harper_edge_core::telemetry::{Granularity, ModelMetrics, QuantileSketch};
    /// use harper_edge_core::Timestamp;
    ///
    /// let row = |latencies: &[f64]| {
    ///     let mut s = QuantileSketch::new(0.01).unwrap();
    ///     latencies.iter().for_each(|&v| s.add(v));
    ///     ModelMetrics::new("m", "1", Granularity::FiveMinutes, Timestamp::from_millis(0), 1, s)
    /// };
    /// let combined = ModelMetrics::combine([row(&[1.0, 2.0]), row(&[3.0])])?;
    /// assert_eq!(combined.len(), 1);
    /// assert_eq!((combined[0].request_count, combined[0].error_count), (3, 2));
    /// assert_eq!(combined[0].max_latency, Some(3.0));
    /// # Ok::<(), harper_edge_core::Error>(())
    /// ```
    pub fn combine(rows: impl IntoIterator<Item = ModelMetrics>) -> Result<Vec<ModelMetrics>> {
        let mut groups: std::collections::BTreeMap<
            (String, String, Granularity, i64),
            ModelMetrics,
        > = std::collections::BTreeMap::new();
        for row in rows {
            let key = (
                row.model_name.clone(),
                row.model_version.clone(),
                row.granularity,
                row.period_start.as_millis(),
            );
            match groups.entry(key) {
                std::collections::btree_map::Entry::Vacant(v) => {
                    // Recomputed from its sketch, so every field is consistent.
                    let row = ModelMetrics::new(
                        &row.model_name,
                        &row.model_version,
                        row.granularity,
                        row.period_start,
                        row.error_count,
                        row.latency_sketch,
                    );
                    v.insert(row);
                }
                std::collections::btree_map::Entry::Occupied(mut o) => {
                    let old = o.get();
                    let merged = ModelMetrics::merged(
                        &old.model_name,
                        &old.model_version,
                        old.granularity,
                        old.period_start,
                        [old, &row],
                    )?;
                    o.insert(merged);
                }
            }
        }
        Ok(groups.into_values().collect())
    }
}

/// A filter over stored [`ModelMetrics`] rows; results come oldest period first.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetricsQuery {
    /// The model.
    pub model_name: String,
    /// Only this version (all versions when `None`).
    pub model_version: Option<String>,
    /// Period length.
    pub granularity: Granularity,
    /// Only periods starting at or after this time.
    pub from: Option<Timestamp>,
    /// Only periods starting before this time.
    pub to: Option<Timestamp>,
    /// At most this many rows (default 1000).
    pub limit: Option<usize>,
}

impl MetricsQuery {
    /// Default number of rows returned.
    pub const DEFAULT_LIMIT: usize = 1000;

    /// Rows of `model_name` at `granularity`.
    pub fn new(model_name: impl Into<String>, granularity: Granularity) -> Self {
        MetricsQuery {
            model_name: model_name.into(),
            model_version: None,
            granularity,
            from: None,
            to: None,
            limit: None,
        }
    }

    /// Only rows of `version`.
    #[must_use]
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.model_version = Some(version.into());
        self
    }

    /// Only periods starting in `[from, to)`.
    #[must_use]
    pub fn between(mut self, from: Option<Timestamp>, to: Option<Timestamp>) -> Self {
        self.from = from;
        self.to = to;
        self
    }

    /// At most `limit` rows.
    #[must_use]
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The effective limit.
    pub fn effective_limit(&self) -> usize {
        self.limit.unwrap_or(Self::DEFAULT_LIMIT)
    }

    /// Whether `row` passes the filter (ignoring the limit).
    pub fn matches(&self, row: &ModelMetrics) -> bool {
        row.model_name == self.model_name
            && row.granularity == self.granularity
            && self.model_version.as_ref().is_none_or(|v| *v == row.model_version)
            && self.from.is_none_or(|f| row.period_start >= f)
            && self.to.is_none_or(|t| row.period_start < t)
    }
}

/// The rollups of one segment (serde camelCase): see [`segment_rollups`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentMetrics {
    /// The key's value (`None`: calls without one).
    pub segment: Option<String>,
    /// Calls in the segment, failed ones included.
    pub request_count: u64,
    /// Failed calls in the segment.
    pub error_count: u64,
    /// One row per model version and period, oldest first; the ids end in
    /// `:key=value` (`:key=` for the null segment).
    pub rows: Vec<ModelMetrics>,
}

/// Rollups split by a segment key (serde camelCase): see [`segment_rollups`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentedMetrics {
    /// The key.
    pub key: String,
    /// The segments, by request count (largest first), then by value.
    pub segments: Vec<SegmentMetrics>,
    /// Stored calls read.
    pub events: u64,
    /// Whether the read stopped at its limit (older calls were left out).
    pub truncated: bool,
}

/// Rolls `events` up per segment, model version and period of `granularity`, with the same
/// sketches and fields as the engine's own rollups; `segment_of` names each call's segment.
///
/// # Errors
///
/// [`Error::InvalidInput`] when a latency is negative or not finite.
pub fn segment_rollups<'a>(
    key: &str,
    granularity: Granularity,
    events: impl IntoIterator<Item = &'a crate::telemetry::InferenceEvent>,
    segment_of: impl Fn(&crate::telemetry::InferenceEvent) -> Option<String>,
) -> Result<Vec<SegmentMetrics>> {
    type Cell = (QuantileSketch, u64);
    let mut cells: std::collections::BTreeMap<(Option<String>, String, String, i64), Cell> =
        std::collections::BTreeMap::new();
    for e in events {
        if !(e.latency_ms.is_finite() && e.latency_ms >= 0.0) {
            return Err(Error::invalid_input(format!(
                "event '{}' has latency {}",
                e.id, e.latency_ms
            )));
        }
        let start = granularity.period_start(e.timestamp).as_millis();
        let k = (segment_of(e), e.model_name.clone(), e.model_version.clone(), start);
        let cell = match cells.get_mut(&k) {
            Some(c) => c,
            None => {
                cells.entry(k).or_insert((QuantileSketch::new(QuantileSketch::DEFAULT_ALPHA)?, 0))
            }
        };
        cell.0.add(e.latency_ms);
        cell.1 += u64::from(e.error.is_some());
    }
    let mut out: Vec<SegmentMetrics> = Vec::new();
    for ((segment, name, version, start), (sketch, errors)) in cells {
        let mut row = ModelMetrics::new(
            &name,
            &version,
            granularity,
            Timestamp::from_millis(start),
            errors,
            sketch,
        );
        row.id = format!("{}:{key}={}", row.id, segment.as_deref().unwrap_or(""));
        match out.last_mut() {
            Some(last) if last.segment == segment => {
                last.request_count += row.request_count;
                last.error_count += row.error_count;
                last.rows.push(row);
            }
            _ => out.push(SegmentMetrics {
                segment,
                request_count: row.request_count,
                error_count: row.error_count,
                rows: vec![row],
            }),
        }
    }
    for s in &mut out {
        s.rows.sort_by(|a, b| {
            a.period_start.cmp(&b.period_start).then_with(|| a.model_version.cmp(&b.model_version))
        });
    }
    out.sort_by(|a, b| {
        b.request_count.cmp(&a.request_count).then_with(|| a.segment.cmp(&b.segment))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sketch(values: &[f64]) -> QuantileSketch {
        let mut s = QuantileSketch::new(QuantileSketch::DEFAULT_ALPHA).unwrap();
        values.iter().for_each(|&v| s.add(v));
        s
    }

    #[test]
    fn periods_align_to_utc_boundaries() {
        let t = Timestamp::from_millis(1_700_000_123_456);
        assert_eq!(Granularity::FiveMinutes.period_start(t).as_millis() % 300_000, 0);
        assert_eq!(Granularity::Daily.period_start(t).as_millis() % 86_400_000, 0);
        for g in Granularity::ALL {
            assert_eq!(g.as_str().parse::<Granularity>().unwrap(), g);
            assert_eq!(serde_json::to_value(g).unwrap(), serde_json::json!(g.as_str()));
        }
        assert!("weekly".parse::<Granularity>().is_err());
    }

    #[test]
    fn derived_fields_follow_the_counts() {
        let row = ModelMetrics::new(
            "m",
            "1",
            Granularity::FiveMinutes,
            Timestamp::from_millis(300_123),
            1,
            sketch(&[1.0, 2.0, 3.0, 4.0]),
        );
        assert_eq!(row.period_start.as_millis(), 300_000);
        assert_eq!(row.period_end.as_millis(), 600_000);
        assert_eq!(row.id, "m:1:5min:300000");
        assert_eq!(row.request_count, 4);
        assert!((row.error_rate - 0.25).abs() < 1e-12);
        assert_eq!(row.max_latency, Some(4.0));
        assert!((row.throughput_per_second - 4.0 / 300.0).abs() < 1e-12);
    }

    #[test]
    fn merged_rows_equal_the_row_of_all_calls() {
        let a = ModelMetrics::new(
            "m",
            "1",
            Granularity::FiveMinutes,
            Timestamp::from_millis(0),
            1,
            sketch(&[1.0, 5.0]),
        );
        let b = ModelMetrics::new(
            "m",
            "1",
            Granularity::FiveMinutes,
            Timestamp::from_millis(300_000),
            0,
            sketch(&[2.0, 9.0, 3.0]),
        );
        let hourly = ModelMetrics::merged(
            "m",
            "1",
            Granularity::Hourly,
            Timestamp::from_millis(0),
            [&a, &b],
        )
        .unwrap();
        let direct = ModelMetrics::new(
            "m",
            "1",
            Granularity::Hourly,
            Timestamp::from_millis(0),
            1,
            sketch(&[1.0, 5.0, 2.0, 9.0, 3.0]),
        );
        assert_eq!(hourly, direct);
        let other = ModelMetrics::new(
            "x",
            "1",
            Granularity::FiveMinutes,
            Timestamp::from_millis(0),
            0,
            sketch(&[1.0]),
        );
        assert!(
            ModelMetrics::merged(
                "m",
                "1",
                Granularity::Hourly,
                Timestamp::from_millis(0),
                [&other]
            )
            .is_err()
        );
    }
}

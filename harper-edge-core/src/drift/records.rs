//! The stored records of drift monitoring (serde camelCase, storable in a HarperDB table):
//! a model version's [`ModelBaseline`] (the `DriftBaseline` table) and the query over
//! `DriftMetrics` ([`super::check::DriftMetrics`]) and `DataQualityMetrics`
//! ([`super::quality::DataQualityMetrics`]) rows, [`DriftQuery`].

use serde::{Deserialize, Serialize};

use super::baseline::Baseline;
use super::check::DriftType;
use super::segment::SegmentedBaseline;
use crate::clock::Timestamp;
use crate::error::{Error, Result};

/// Labelled predictions: how many had ground truth, how many of those were right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelCounts {
    /// Predictions whose label matched.
    pub correct: u64,
    /// Predictions with a label.
    pub total: u64,
}

impl LabelCounts {
    /// `correct` of `total`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when `correct > total`.
    pub fn new(correct: u64, total: u64) -> Result<Self> {
        if correct > total {
            return Err(Error::invalid_input(format!(
                "correct ({correct}) exceeds the labelled total ({total})"
            )));
        }
        Ok(LabelCounts { correct, total })
    }

    /// `correct / total`, `None` without labels.
    pub fn accuracy(&self) -> Option<f64> {
        (self.total > 0).then(|| self.correct as f64 / self.total as f64)
    }
}

/// The baseline of one model version, as stored (the `DriftBaseline` table; id
/// `modelName:modelVersion`, one per version, replaced when set again).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelBaseline {
    /// `modelName:modelVersion`.
    pub id: String,
    /// The model.
    pub model_name: String,
    /// Its version.
    pub model_version: String,
    /// When it was set (epoch milliseconds).
    pub created_at: Timestamp,
    /// The baseline's features that are model outputs (their drift rows get driftType
    /// `prediction`; the others `input`).
    pub prediction_features: Vec<String>,
    /// The labelled accuracy of the reference period, for concept drift (`None`: concept
    /// drift is not checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<LabelCounts>,
    /// Where the baseline came from (free text, e.g. `"events 2026-11-01..2026-11-08"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The fitted statistics.
    pub baseline: Baseline,
    /// Baselines per segment, one per key (see [`super::segment`]): a segmented check by
    /// one of these keys compares each segment with its own reference segment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<SegmentedBaseline>,
}

impl ModelBaseline {
    /// The id of `name:version`'s baseline.
    pub fn id_of(model_name: &str, model_version: &str) -> String {
        format!("{model_name}:{model_version}")
    }

    /// The baseline split by `key`, if one was fitted.
    pub fn segmented_by(&self, key: &str) -> Option<&SegmentedBaseline> {
        self.segments.iter().find(|s| s.key() == key)
    }

    /// Checks that every prediction feature is a feature of the baseline, and that no
    /// segment key is used twice.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming the first unknown prediction feature.
    pub fn validate(&self) -> Result<()> {
        let mut keys = std::collections::BTreeSet::new();
        if let Some(s) = self.segments.iter().find(|s| !keys.insert(s.key())) {
            return Err(Error::invalid_input(format!(
                "the baseline has two segmentations by '{}'",
                s.key()
            )));
        }
        if let Some(f) =
            self.prediction_features.iter().find(|f| self.baseline.feature(f).is_none())
        {
            return Err(Error::invalid_input(format!(
                "prediction feature '{f}' is not a feature of the baseline"
            )));
        }
        Ok(())
    }
}

/// Which `DriftMetrics` / `DataQualityMetrics` rows to read: newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DriftQuery {
    /// The model.
    pub model_name: String,
    /// Only this version (all when `None`).
    pub model_version: Option<String>,
    /// Only rows of this drift type (drift rows only; all when `None`).
    pub drift_type: Option<DriftType>,
    /// Only rows at or after this time.
    pub from: Option<Timestamp>,
    /// Only rows before this time.
    pub to: Option<Timestamp>,
    /// At most this many rows (default [`DriftQuery::DEFAULT_LIMIT`]).
    pub limit: Option<usize>,
}

impl DriftQuery {
    /// Default number of rows returned.
    pub const DEFAULT_LIMIT: usize = 1000;

    /// Rows of `model_name`.
    pub fn new(model_name: impl Into<String>) -> Self {
        DriftQuery {
            model_name: model_name.into(),
            model_version: None,
            drift_type: None,
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

    /// Only rows of `drift_type`.
    #[must_use]
    pub fn drift_type(mut self, drift_type: DriftType) -> Self {
        self.drift_type = Some(drift_type);
        self
    }

    /// Only rows in `[from, to)`.
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

    /// The limit applied.
    pub fn effective_limit(&self) -> usize {
        self.limit.unwrap_or(Self::DEFAULT_LIMIT)
    }

    /// Whether a row of `model_name:model_version` at `timestamp` matches (the drift type is
    /// checked by the caller for drift rows).
    pub fn matches(&self, model_name: &str, model_version: &str, timestamp: Timestamp) -> bool {
        self.model_name == model_name
            && self.model_version.as_deref().is_none_or(|v| v == model_version)
            && self.from.is_none_or(|f| timestamp >= f)
            && self.to.is_none_or(|t| timestamp < t)
    }
}

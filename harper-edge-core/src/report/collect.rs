//! Reading a [`ModelHealth`] from an engine's store.

use std::str::FromStr;

use super::{DriftSnapshot, HealthQuery, ModelHealth};
use crate::clock::Timestamp;
use crate::drift::check::{
    DistributionSummary, DriftConfig, DriftMethod, DriftMetrics, DriftReport, DriftType,
    FeatureDrift, report_of,
};
use crate::drift::records::DriftQuery;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::monitor::alert::{self, AlertQuery};
use crate::monitor::retrain::{self, RetrainingStatus};
use crate::registry::ModelRef;
use crate::telemetry::MetricsQuery;

impl ModelHealth {
    /// Reads the health of `reference` (no version: the newest registered one; a named
    /// version needs no registration) from `engine`: the rollups of `query.granularity` in
    /// `[from, to)`, the newest drift check and data-quality row, the alerts fired in the
    /// range and the model's pending retraining requests. Buffered calls are not flushed:
    /// call [`Engine::tick`] first for the newest periods.
    ///
    /// The drift check is rebuilt from its stored `DriftMetrics` rows (those of the newest
    /// timestamp): each row keeps the feature's kind (in its summaries), method, statistic,
    /// p-value, threshold, verdict and both summaries; the adjusted p-values and the model
    /// verdict are recomputed with the configured correction (the computation
    /// [`crate::drift::check::check`] makes, on the same p-values). PSI and Wasserstein
    /// side values are not stored and come back `None`.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unregistered name without a version; [`Error::Storage`]
    /// when the store fails or a stored summary is corrupt.
    ///
    /// # Examples
    ///
    /// ```
    /// use harper_edge_core::report::{HealthQuery, ModelHealth, RenderOptions, render_model_page};
    /// use harper_edge_core::Engine;
    ///
    /// let engine = Engine::in_memory()?;
    /// let health = ModelHealth::collect(&engine, &"fraud:3".parse()?, &HealthQuery::default())?;
    /// assert!(health.rollups.is_empty() && health.drift.is_none());
    /// let html = render_model_page(&[health], &RenderOptions::default());
    /// assert!(html.starts_with("<!DOCTYPE html>") && html.contains("fraud"));
    /// # Ok::<(), harper_edge_core::Error>(())
    /// ```
    pub fn collect(
        engine: &Engine,
        reference: &ModelRef,
        query: &HealthQuery,
    ) -> Result<ModelHealth> {
        let (name, version) = engine.name_version(reference)?;
        let now = engine.clock().now();
        // Records stamped `now` belong to the range.
        let to = query.to.unwrap_or_else(|| Timestamp::from_millis(now.as_millis() + 1));
        let from = query.from.unwrap_or_else(|| {
            Timestamp::from_millis(to.as_millis() - 288 * query.granularity.millis())
        });
        let rollups = engine.metrics(&MetricsQuery {
            model_version: Some(version.clone()),
            from: Some(query.granularity.period_start(from)),
            to: Some(to),
            limit: Some(usize::MAX),
            ..MetricsQuery::new(name.clone(), query.granularity)
        })?;
        let store = engine.store().as_ref();
        let correction = match query.correction {
            Some(c) => c,
            None => {
                crate::monitor::stored_config(store, Some(&name), Some(&version))?.drift.correction
            }
        };
        let drift = newest_drift(engine, &name, &version, correction)?;
        let quality = engine
            .data_quality(&DriftQuery::new(name.clone()).version(version.clone()).limit(1))?
            .into_iter()
            .next();
        let alerts = alert::events(
            store,
            &AlertQuery {
                model_name: Some(name.clone()),
                model_version: Some(version.clone()),
                from: Some(from),
                to: Some(to),
                limit: Some(query.max_alerts),
                ..AlertQuery::default()
            },
        )?;
        let retraining =
            retrain::requests(store, Some(&name), Some(RetrainingStatus::PendingApproval), None)?;
        Ok(ModelHealth {
            model_name: name,
            model_version: version,
            generated_at: now,
            from,
            to,
            granularity: query.granularity,
            rollups,
            drift,
            quality,
            alerts,
            retraining,
        })
    }
}

impl ModelHealth {
    /// [`ModelHealth::collect`] for each of `references`, in order; without any, for the
    /// newest version of every registered model, by name.
    ///
    /// # Errors
    ///
    /// As [`ModelHealth::collect`].
    pub fn collect_many(
        engine: &Engine,
        references: &[ModelRef],
        query: &HealthQuery,
    ) -> Result<Vec<ModelHealth>> {
        if !references.is_empty() {
            return references.iter().map(|r| ModelHealth::collect(engine, r, query)).collect();
        }
        let mut names: Vec<String> = engine.models()?.into_iter().map(|m| m.model_name).collect();
        names.sort();
        names.dedup();
        names
            .into_iter()
            .map(|name| ModelHealth::collect(engine, &ModelRef { name, version: None }, query))
            .collect()
    }
}

/// The newest check's rows (all rows of the newest timestamp), rebuilt into a report.
fn newest_drift(
    engine: &Engine,
    name: &str,
    version: &str,
    correction: crate::drift::multiple::Correction,
) -> Result<Option<DriftSnapshot>> {
    let q = DriftQuery::new(name).version(version);
    let Some(newest) = engine.drift_metrics(&q.clone().limit(1))?.into_iter().next() else {
        return Ok(None);
    };
    let t = newest.timestamp;
    let rows = engine.drift_metrics(
        &q.between(Some(t), Some(Timestamp::from_millis(t.as_millis() + 1))).limit(usize::MAX),
    )?;
    DriftSnapshot::from_rows(&rows, correction)
}

impl DriftSnapshot {
    /// Rebuilds the newest drift check among `rows` (stored `DriftMetrics` rows of one model
    /// version, in any order; older checks' rows are ignored): its features, its concept-drift
    /// row, and the model verdict recomputed with `correction` (as
    /// [`ModelHealth::collect`] does). `None` without rows.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when the rows belong to several model versions;
    /// [`Error::Storage`] when a stored summary or method is corrupt.
    pub fn from_rows(
        rows: &[DriftMetrics],
        correction: crate::drift::multiple::Correction,
    ) -> Result<Option<DriftSnapshot>> {
        let Some(newest) = rows.iter().max_by_key(|r| r.timestamp) else {
            return Ok(None);
        };
        if let Some(other) = rows
            .iter()
            .find(|r| r.model_name != newest.model_name || r.model_version != newest.model_version)
        {
            return Err(Error::invalid_input(format!(
                "drift rows of '{}:{}' and '{}:{}' cannot make one check",
                newest.model_name, newest.model_version, other.model_name, other.model_version
            )));
        }
        let t = newest.timestamp;
        let mut concept = None;
        let mut features = Vec::new();
        for row in rows.iter().filter(|r| r.timestamp == t) {
            if row.drift_type == DriftType::Concept {
                concept = Some(row.clone());
            } else {
                features.push(feature_of(row)?);
            }
        }
        // The check's alpha is the threshold of its p-value features (the configured alpha
        // unless overridden per feature); 0.05 without any.
        let alpha =
            features.iter().find(|f| f.drift_method.uses_p_value()).map_or(0.05, |f| f.threshold);
        let config = DriftConfig { correction, alpha, ..DriftConfig::default() };
        let report: DriftReport = report_of(features, &config)?;
        Ok(Some(DriftSnapshot { timestamp: t, report, concept }))
    }
}

fn feature_of(row: &DriftMetrics) -> Result<FeatureDrift> {
    let corrupt = |what: String| {
        Error::storage(format!("corrupt DriftMetrics '{}'", row.id), std::io::Error::other(what))
    };
    let summary = |v: &serde_json::Value| {
        serde_json::from_value::<DistributionSummary>(v.clone()).map_err(|e| corrupt(e.to_string()))
    };
    let baseline_summary = summary(&row.baseline_distribution)?;
    let current_summary = summary(&row.current_distribution)?;
    let kind = match baseline_summary {
        DistributionSummary::Numeric { .. } => crate::drift::baseline::FeatureKind::Numeric,
        DistributionSummary::Categorical { .. } => crate::drift::baseline::FeatureKind::Categorical,
    };
    let drift_method =
        DriftMethod::from_str(&row.drift_method).map_err(|e| corrupt(e.to_string()))?;
    Ok(FeatureDrift {
        feature_name: row.feature_name.clone(),
        kind,
        drift_method,
        drift_score: row.drift_score,
        p_value: row.p_value,
        threshold: row
            .threshold
            .unwrap_or_else(|| DriftConfig::default().threshold_of(drift_method)),
        drifted: row.drifted,
        adjusted_p_value: None,
        psi: (drift_method == DriftMethod::Psi).then_some(row.drift_score),
        wasserstein: (drift_method == DriftMethod::Wasserstein).then_some(row.drift_score),
        baseline_summary,
        current_summary,
    })
}

//! Self-contained HTML reports of a model's health or of a drift result: one file with
//! inline CSS, inline SVG charts and a few lines of optional JS (table sorting), no network
//! reference of any kind, readable offline and without JS. Guide: docs/report.md.
//!
//! - [`ModelHealth::collect`] reads one model version's health from an [`Engine`](crate::Engine): rollups
//!   (request rate, error rate, latency p50 / p95 / p99), the newest drift check rebuilt from
//!   its stored rows, the newest data-quality row, alert events and pending retraining
//!   requests.
//! - [`render_model_page`] writes a document of one or more models,
//!   [`render_model_section`] one model's `<section>` alone (for a page the host assembles,
//!   e.g. a live dashboard, which includes [`STYLE`] and [`SCRIPT`] itself), and
//!   [`render_drift_report`] a document of a standalone [`DriftReport`] ([`render_drift_section`]
//!   the same as a fragment).
//! - [`DriftSnapshot::from_rows`] rebuilds a drift check from its stored `DriftMetrics` rows,
//!   so a host that keeps the rows in its own tables (the HarperDB component) builds a
//!   [`ModelHealth`] itself.
//!
//! Rendering is linear in what is shown and bounded by [`RenderOptions`]: long series are
//! thinned to `max_points` (consecutive periods merged, latency sketches merged exactly), at
//! most `max_feature_charts` feature charts and `max_table_rows` table rows, categories
//! folded to the top `max_categories` plus "other". All user text (model, feature and
//! category names, alert messages) is HTML-escaped.
//!
//! # Accessibility
//!
//! Every chart is an `<svg role="img">` with `aria-labelledby` its `<title>` and
//! `aria-describedby` its `<desc>`, which states the chart's numbers in words; every chart
//! has a `<details>` data table of the numbers plotted. Series differ by dash pattern and
//! marker shape as well as by colour; verdicts and severities are words with a symbol
//! (`▲ drifted`, `✓ no drift`, `▲ critical`, `◆ warning`, `● info`).
//!
//! # Action buttons
//!
//! With [`RenderOptions::actions`], the alerts and retraining tables carry buttons for a host
//! to wire (the report itself attaches no handler):
//!
//! | element | when |
//! |---|---|
//! | `<button type="button" data-action="approve" data-kind="retraining" data-id="ID">` | a request `pending_approval` |
//! | `<button type="button" data-action="reject" data-kind="retraining" data-id="ID">` | the same |
//! | `<button type="button" data-action="acknowledge" data-kind="alert" data-id="ID">` | an alert not acknowledged |
//!
//! `data-id` is the record's id (attribute-escaped; read it with `dataset.id`). Each button
//! sits inside its model's `<section class="he-model he-report" data-model="NAME"
//! data-version="VERSION">`. A host listens for clicks on `[data-action]` and calls
//! `Monitor::approve` / `reject` / `acknowledge` (or its HTTP face) with the id.

mod chart;
mod collect;
mod format;
mod render;

use serde::{Deserialize, Serialize};

pub use chart::{RateRow, rate_chart};
pub use render::{
    SCRIPT, STYLE, render_drift_report, render_drift_section, render_model_page,
    render_model_section, render_page,
};

use crate::clock::Timestamp;
use crate::drift::check::{DriftMetrics, DriftReport};
use crate::drift::multiple::Correction;
use crate::drift::quality::DataQualityMetrics;
use crate::monitor::alert::AlertEvent;
use crate::monitor::retrain::RetrainingRequest;
use crate::telemetry::{Granularity, ModelMetrics};

/// What [`ModelHealth::collect`] reads (serde camelCase; every field has the default stated).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HealthQuery {
    /// Rollup period length. Default 5 minutes.
    pub granularity: Granularity,
    /// Start of the range (inclusive). Default: `to` minus 288 periods (a day of 5-minute
    /// rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<Timestamp>,
    /// End of the range (exclusive). Default: just after the engine's clock now (records
    /// stamped now are included).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<Timestamp>,
    /// Newest alert events to read in the range. Default 200.
    pub max_alerts: usize,
    /// The correction of the drift check's model verdict, recomputed from the stored rows
    /// (which keep each feature's p-value, not the adjusted one). Default `None`: the
    /// stored monitoring configuration's `drift.correction` (Holm unless set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correction: Option<Correction>,
}

impl Default for HealthQuery {
    fn default() -> Self {
        HealthQuery {
            granularity: Granularity::FiveMinutes,
            from: None,
            to: None,
            max_alerts: 200,
            correction: None,
        }
    }
}

/// The newest drift check of a model version, as stored (serde camelCase).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DriftSnapshot {
    /// When the check ran.
    pub timestamp: Timestamp,
    /// The per-feature report rebuilt from the check's `DriftMetrics` rows (input and
    /// prediction features), with the model verdict recomputed.
    pub report: DriftReport,
    /// The concept-drift row of the check, if it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concept: Option<DriftMetrics>,
}

/// One model version's health over a time range: what a report shows (serde camelCase).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelHealth {
    /// The model.
    pub model_name: String,
    /// Its version.
    pub model_version: String,
    /// When this was collected.
    pub generated_at: Timestamp,
    /// Start of the range (inclusive).
    pub from: Timestamp,
    /// End of the range (exclusive).
    pub to: Timestamp,
    /// The rollups' period length.
    pub granularity: Granularity,
    /// Rollup rows in the range, oldest first.
    pub rollups: Vec<ModelMetrics>,
    /// The newest drift check (at any time, not only in the range).
    pub drift: Option<DriftSnapshot>,
    /// The newest data-quality row (at any time).
    pub quality: Option<DataQualityMetrics>,
    /// Alert events that fired in the range, newest first.
    pub alerts: Vec<AlertEvent>,
    /// Retraining requests of the model (any version) waiting for approval, newest first.
    pub retraining: Vec<RetrainingRequest>,
}

/// How a report is rendered (every field has the default stated).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RenderOptions {
    /// The document title. Default: `"harper-edge report"` (model pages) or `"harper-edge
    /// drift report"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Add approve / reject / acknowledge buttons (see the module documentation). Default
    /// false.
    pub actions: bool,
    /// Points per time series at most; longer series merge consecutive periods. Default
    /// 300.
    pub max_points: usize,
    /// Feature charts at most (drifted features first). Default 50.
    pub max_feature_charts: usize,
    /// Charts of the highest-scoring features that did not drift, collapsed, within
    /// `max_feature_charts`. Default 3.
    pub stable_feature_charts: usize,
    /// Categories per bar chart; the rest are summed as "other". Default 12.
    pub max_categories: usize,
    /// Rows of the drift and data-quality tables at most (drifted or affected features
    /// first). Default 2000.
    pub max_table_rows: usize,
    /// Include the sorting script ([`SCRIPT`]) in documents. Default true.
    pub script: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            title: None,
            actions: false,
            max_points: 300,
            max_feature_charts: 50,
            stable_feature_charts: 3,
            max_categories: 12,
            max_table_rows: 2000,
            script: true,
        }
    }
}

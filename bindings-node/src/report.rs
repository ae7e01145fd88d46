//! HTML reports from JavaScript: `toHtml`, `renderHealthSection`, `renderDriftSection`,
//! `driftSnapshotFromRows`, `reportStyle`, `reportScript`, `Engine#modelHealth` and
//! `Engine#reportHtml`; thin wrappers of `harper_edge_core::report`.

use harper_edge_core::drift::check::{DriftMetrics, DriftReport};
use harper_edge_core::drift::multiple::Correction;
use harper_edge_core::drift::quality::DataQualityMetrics;
use harper_edge_core::report::{self, DriftSnapshot, HealthQuery, ModelHealth, RenderOptions};
use harper_edge_core::{Error as CoreError, ModelRef};
use napi::bindgen_prelude::Unknown;
use napi_derive::napi;
use serde_json::Value;

use crate::convert;
use crate::engine::Engine;
use crate::error::{CoreResult, Result, sync};
use crate::telemetry::record;

/// `value` as JSON (integral numbers made integers, as records are read).
fn json_of(value: &Unknown<'_>, what: &str, expected: &str) -> CoreResult<Value> {
    let mut json: Value = convert::decode(value, what, expected)?;
    convert::integral_numbers(&mut json);
    Ok(json)
}

fn render_options(options: &Unknown<'_>) -> CoreResult<RenderOptions> {
    if convert::is_nullish(options) {
        return Ok(RenderOptions::default());
    }
    convert::from_js(options, "options", "a RenderOptions object")
}

/// A drift result's report and quality: `{ report, quality }` (a `DriftResult` or an
/// `EngineDriftResult`) or a bare `DriftReport`.
fn drift_parts(json: &Value) -> CoreResult<Option<(DriftReport, Option<DataQualityMetrics>)>> {
    if let Some(report) = json.get("report") {
        let report: DriftReport = convert::from_json(report.clone(), "value.report")?;
        let quality = match json.get("quality") {
            Some(q) if !q.is_null() => {
                let mut q = q.clone();
                // `checkDrift` leaves out the row's id and model fields.
                if let Some(o) = q.as_object_mut() {
                    for (key, default) in [
                        ("id", Value::from("")),
                        ("modelName", Value::from("")),
                        ("modelVersion", Value::from("")),
                        ("timestamp", Value::from(0)),
                    ] {
                        o.entry(key).or_insert(default);
                    }
                }
                Some(convert::from_json(q, "value.quality")?)
            }
            _ => None,
        };
        return Ok(Some((report, quality)));
    }
    if json.get("features").is_some() && json.get("model").is_some() {
        return Ok(Some((convert::from_json(json.clone(), "value")?, None)));
    }
    Ok(None)
}

/// One self-contained HTML document (inline CSS and SVG, no network reference) of `value`:
/// a drift result (`checkDrift`, `engine.checkDrift`: the drift table, the drifted
/// features' histograms, data quality), or one `ModelHealth` or an array of them
/// (`engine.modelHealth`: traffic, drift, quality, alerts, pending retraining requests).
#[napi(
    ts_args_type = "value: DriftResult | EngineDriftResult | ModelHealth | Array<ModelHealth>, options?: RenderOptions"
)]
pub fn to_html(value: Unknown<'_>, options: Unknown<'_>) -> Result<String> {
    sync(|| {
        let expected = "a DriftResult, a ModelHealth or an array of ModelHealth";
        let json = json_of(&value, "value", expected)?;
        let options = render_options(&options)?;
        if json.is_array() {
            let models: Vec<ModelHealth> = convert::from_json(json, "value")?;
            return Ok(report::render_model_page(&models, &options));
        }
        if json.get("rollups").is_some() {
            let model: ModelHealth = convert::from_json(json, "value")?;
            return Ok(report::render_model_page(&[model], &options));
        }
        match drift_parts(&json)? {
            Some((report, quality)) => {
                Ok(report::render_drift_report(&report, quality.as_ref(), &options))
            }
            None => Err(CoreError::invalid_input(format!("value must be {expected}"))),
        }
    })
}

/// One model's `<section>` (a fragment without style or script) for a page that includes
/// `reportStyle()` (and `reportScript()`) itself; `options.actions` adds approve / reject /
/// acknowledge buttons (`data-action`, `data-kind`, `data-id`) for the page to wire.
#[napi(ts_args_type = "health: ModelHealth, options?: RenderOptions")]
pub fn render_health_section(health: Unknown<'_>, options: Unknown<'_>) -> Result<String> {
    sync(|| {
        let health: ModelHealth = convert::from_js(&health, "health", "a ModelHealth object")?;
        Ok(report::render_model_section(&health, &render_options(&options)?))
    })
}

/// A drift result as a `<section>` fragment (see `renderHealthSection`).
#[napi(ts_args_type = "result: DriftResult | EngineDriftResult, options?: RenderOptions")]
pub fn render_drift_section(result: Unknown<'_>, options: Unknown<'_>) -> Result<String> {
    sync(|| {
        let json = json_of(&result, "result", "a DriftResult")?;
        let Some((report, quality)) = drift_parts(&json)? else {
            return Err(CoreError::invalid_input(
                "result must be a DriftResult { report, quality }",
            ));
        };
        Ok(report::render_drift_section(&report, quality.as_ref(), &render_options(&options)?))
    })
}

/// The report stylesheet (every rule scoped to `.he-report`).
#[napi]
pub fn report_style() -> String {
    report::STYLE.to_string()
}

/// The report's optional script (sortable tables).
#[napi]
pub fn report_script() -> String {
    report::SCRIPT.to_string()
}

/// Rebuilds the newest drift check among stored `DriftMetrics` rows of one model version (a
/// HarperDB table's rows, in any order), with the model verdict recomputed by
/// `options.correction` (default `holm`); `null` without rows.
#[napi(
    ts_args_type = "rows: Array<DriftMetrics>, options?: { correction?: 'holm' | 'bh' | 'none' }",
    ts_return_type = "DriftSnapshot | null"
)]
pub fn drift_snapshot_from_rows(rows: Unknown<'_>, options: Unknown<'_>) -> Result<Value> {
    sync(|| {
        let json = json_of(&rows, "rows", "an array of DriftMetrics rows")?;
        let rows: Vec<DriftMetrics> = convert::from_json(json, "rows")?;
        let correction = if convert::is_nullish(&options) {
            Correction::default()
        } else {
            let o = json_of(&options, "options", "an object { correction? }")?;
            match o.get("correction") {
                None | Some(Value::Null) => Correction::default(),
                Some(Value::String(c)) => c.parse()?,
                Some(_) => {
                    return Err(CoreError::invalid_input("options.correction must be a string"));
                }
            }
        };
        record(DriftSnapshot::from_rows(&rows, correction)?)
    })
}

#[napi]
impl Engine {
    /// The health of a model version (`"name"`: its newest version) from this engine's store:
    /// rollups in the range, the newest drift check and data-quality row, alerts fired in the
    /// range, pending retraining requests. Call `tick()` first for the newest periods.
    #[napi(ts_args_type = "model: string, query?: HealthQuery", ts_return_type = "ModelHealth")]
    pub fn model_health(&self, model: Unknown<'_>, query: Unknown<'_>) -> Result<Value> {
        sync(|| {
            let reference = convert::model_ref(&model)?;
            let query = health_query(&query)?;
            record(ModelHealth::collect(&self.engine, &reference, &query)?)
        })
    }

    /// A self-contained HTML document of the health of `models` (`"name"` or
    /// `"name:version"`; default: every registered model's newest version).
    #[napi(
        ts_args_type = "models?: Array<string> | null, query?: HealthQuery, options?: RenderOptions"
    )]
    pub fn report_html(
        &self,
        models: Unknown<'_>,
        query: Unknown<'_>,
        options: Unknown<'_>,
    ) -> Result<String> {
        sync(|| {
            let query = health_query(&query)?;
            let references: Vec<ModelRef> = if convert::is_nullish(&models) {
                Vec::new()
            } else {
                let list: Vec<String> =
                    convert::decode(&models, "models", "an array of model names")?;
                list.iter().map(|m| m.parse()).collect::<CoreResult<_>>()?
            };
            let health = ModelHealth::collect_many(&self.engine, &references, &query)?;
            Ok(report::render_model_page(&health, &render_options(&options)?))
        })
    }
}

fn health_query(query: &Unknown<'_>) -> CoreResult<HealthQuery> {
    if convert::is_nullish(query) {
        return Ok(HealthQuery::default());
    }
    convert::from_js(query, "query", "a HealthQuery object")
}

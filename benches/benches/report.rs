//! Rendering HTML reports (`report/*`), the render alone (fitting, checking and collecting
//! happen before the timed part):
//!
//! - `drift_1m_rows`: the drift report of a 1,000,000-row check of the `drift_report` bench's
//!   table (20 numeric columns, a quarter shifted, and 5 categorical ones), with its data
//!   quality;
//! - `drift_1000_features`: a check of 1,000 numeric features (2,000 rows; every 20th
//!   shifted), the default chart cap of 50;
//! - `model_page_week_5min`: a model page of a week of 5-minute rollups (2,016 rows, thinned
//!   to 300 points), the 1M-row drift check, 50 alerts and 3 pending retraining requests.
//!
//! The HTML size of each is printed once. With `HARPER_EDGE_REPORT_OUT=dir` the documents
//! are also written there to be looked at.
use std::hint::black_box;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use harper_edge_core::Timestamp;
use harper_edge_core::drift::baseline::{Baseline, BaselineConfig, Column, FeatureSchema};
use harper_edge_core::drift::check::{DriftConfig, DriftReport, check};
use harper_edge_core::drift::quality::{DataQuality, DataQualityMetrics};
use harper_edge_core::monitor::alert::AlertEvent;
use harper_edge_core::monitor::retrain::RetrainingRequest;
use harper_edge_core::report::{
    DriftSnapshot, ModelHealth, RenderOptions, render_drift_report, render_model_page,
};
use harper_edge_core::telemetry::QuantileSketch;
use harper_edge_core::{Granularity, ModelMetrics};
use serde_json::json;

const CATEGORIES: [&str; 8] = ["a", "b", "c", "d", "e", "f", "g", "h"];
const T0: i64 = 1_767_225_600_000; // 2026-01-01

fn uniform(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state =
            state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
}

/// The `drift_report` bench's table: 20 normal columns (`shift` added to every fourth) and
/// 5 categorical ones.
fn table(rows: usize, seed: u64, shift: f64) -> (Vec<Vec<f64>>, Vec<Vec<Option<&'static str>>>) {
    let mut u = uniform(seed);
    let numeric = (0..20)
        .map(|c| {
            (0..rows)
                .map(|_| {
                    let z = (-2.0 * u().ln()).sqrt() * (std::f64::consts::TAU * u()).cos();
                    z + if c % 4 == 0 { shift } else { 0.0 }
                })
                .collect()
        })
        .collect();
    let categorical = (0..5)
        .map(|_| (0..rows).map(|_| Some(CATEGORIES[(u() * 8.0) as usize % 8])).collect())
        .collect();
    (numeric, categorical)
}

fn named<'a>(
    schema: &'a [FeatureSchema],
    numeric: &'a [Vec<f64>],
    categorical: &'a [Vec<Option<&'static str>>],
) -> Vec<(&'a str, Column<'a>)> {
    let columns = numeric
        .iter()
        .map(|v| Column::Numeric(v.as_slice()))
        .chain(categorical.iter().map(|v| Column::Categorical(v.as_slice())));
    schema.iter().map(|f| f.name.as_str()).zip(columns).collect()
}

/// Fit, check and data quality of a 1M-row table (untimed).
fn million_row_check() -> (DriftReport, DataQualityMetrics) {
    let rows = 1_000_000;
    let schema: Vec<FeatureSchema> = (0..20)
        .map(|c| FeatureSchema::numeric(format!("num_{c}")))
        .chain((0..5).map(|c| FeatureSchema::categorical(format!("cat_{c}"))))
        .collect();
    let (rn, rc) = table(rows, 1, 0.0);
    let (cn, cc) = table(rows, 2, 0.1);
    let reference = named(&schema, &rn, &rc);
    let current = named(&schema, &cn, &cc);
    let base = Baseline::fit(&schema, &reference, BaselineConfig::default()).expect("valid");
    let report = check(&base, &current, &DriftConfig::default()).expect("valid current");
    let quality = DataQuality::check(&base, &current, "m", "1", Timestamp::from_millis(T0))
        .expect("valid current");
    (report, quality)
}

fn thousand_features() -> DriftReport {
    let (rows, features) = (2_000, 1_000);
    let names: Vec<String> = (0..features).map(|f| format!("feature_{f:04}")).collect();
    let mut u = uniform(3);
    let reference: Vec<Vec<f64>> =
        (0..features).map(|_| (0..rows).map(|_| u()).collect()).collect();
    let current: Vec<Vec<f64>> = (0..features)
        .map(|f| (0..rows).map(|_| u() + if f % 20 == 0 { 0.2 } else { 0.0 }).collect())
        .collect();
    let schema: Vec<FeatureSchema> = names.iter().map(FeatureSchema::numeric).collect();
    let base = Baseline::fit(&schema, &named(&schema, &reference, &[]), BaselineConfig::default())
        .expect("valid");
    check(&base, &named(&schema, &current, &[]), &DriftConfig::default()).expect("valid")
}

/// A week of 5-minute rollups with a daily traffic cycle and a slow afternoon.
fn week_of_rollups() -> Vec<ModelMetrics> {
    let mut u = uniform(4);
    (0..7 * 288)
        .map(|i| {
            let start = Timestamp::from_millis(T0 + i * 300_000);
            let hour = (i % 288) as f64 / 12.0;
            let calls = (300.0 + 250.0 * (hour / 24.0 * std::f64::consts::TAU).sin()) as usize;
            let slow = if (14.0..15.0).contains(&hour) { 4.0 } else { 1.0 };
            let mut sketch = QuantileSketch::new(QuantileSketch::DEFAULT_ALPHA).expect("alpha");
            let mut errors = 0;
            for _ in 0..calls {
                sketch.add(slow * (2.0 - 8.0 * u().ln()));
                errors += u64::from(u() < 0.01);
            }
            ModelMetrics::new("fraud", "3", Granularity::FiveMinutes, start, errors, sketch)
        })
        .collect()
}

fn alert(i: i64) -> AlertEvent {
    let severity = ["critical", "warning", "info"][(i % 3) as usize];
    serde_json::from_value(json!({
        "id": format!("alert-{i}"), "ruleId": "rule-1", "ruleName": "slow fraud",
        "modelName": "fraud", "modelVersion": "3", "timestamp": T0 + i * 3 * 3_600_000,
        "alertType": "latency", "severity": severity, "condition": "p95Latency > 500ms",
        "actualValue": 612.0, "threshold": 500.0, "message": "p95Latency 612ms > 500ms",
        "status": if i % 4 == 0 { "firing" } else { "resolved" },
        "resolvedAt": if i % 4 == 0 { None } else { Some(T0 + i * 3 * 3_600_000 + 1_800_000) },
        "acknowledged": false, "acknowledgedBy": null, "acknowledgedAt": null
    }))
    .expect("an alert event")
}

fn request(i: i64) -> RetrainingRequest {
    serde_json::from_value(json!({
        "id": format!("retrain-{i}"), "modelName": "fraud", "modelVersion": "3",
        "requestedAt": T0 + i * 86_400_000, "triggerReason": "drift_detected",
        "triggerDetails": {}, "status": "pending_approval", "reviewedBy": null,
        "reviewedAt": null, "trainingJobId": null
    }))
    .expect("a retraining request")
}

fn write_out(name: &str, html: &str) {
    println!("report/{name}: {} bytes of HTML", html.len());
    if let Some(dir) = std::env::var_os("HARPER_EDGE_REPORT_OUT") {
        std::fs::write(std::path::Path::new(&dir).join(format!("{name}.html")), html)
            .expect("writable HARPER_EDGE_REPORT_OUT");
    }
}

fn bench_report(c: &mut Criterion) {
    let options = RenderOptions::default();
    let (report, quality) = million_row_check();
    let wide = thousand_features();
    let health = ModelHealth {
        model_name: "fraud".into(),
        model_version: "3".into(),
        generated_at: Timestamp::from_millis(T0 + 7 * 86_400_000),
        from: Timestamp::from_millis(T0),
        to: Timestamp::from_millis(T0 + 7 * 86_400_000),
        granularity: Granularity::FiveMinutes,
        rollups: week_of_rollups(),
        drift: Some(DriftSnapshot {
            timestamp: Timestamp::from_millis(T0 + 7 * 86_400_000 - 60_000),
            report: report.clone(),
            concept: None,
        }),
        quality: Some(quality.clone()),
        alerts: (0..50).rev().map(alert).collect(),
        retraining: (0..3).rev().map(request).collect(),
    };
    let page_options = RenderOptions { actions: true, ..RenderOptions::default() };
    write_out("drift_1m_rows", &render_drift_report(&report, Some(&quality), &options));
    write_out("drift_1000_features", &render_drift_report(&wide, None, &options));
    write_out(
        "model_page_week_5min",
        &render_model_page(std::slice::from_ref(&health), &page_options),
    );

    let mut group = c.benchmark_group("report");
    group.sampling_mode(SamplingMode::Flat);
    group.bench_function("drift_1m_rows", |b| {
        b.iter(|| black_box(render_drift_report(&report, Some(&quality), &options).len()));
    });
    group.bench_function("drift_1000_features", |b| {
        b.iter(|| black_box(render_drift_report(&wide, None, &options).len()));
    });
    group.bench_function("model_page_week_5min", |b| {
        b.iter(|| black_box(render_model_page(std::slice::from_ref(&health), &page_options).len()));
    });
    group.finish();
}

criterion_group!(benches, bench_report);
criterion_main!(benches);

//! The main job on the embedded default (SQLite in `$HARPER_EDGE_HOME`, default
//! `./.harper-edge`): the monitoring lifecycle of the original design, on simulated time.
//!
//! 1. Register the committed iris classifier (a new version per run of the demo).
//! 2. Twelve simulated hours of traffic through the real model (tract), with ground truth
//!    arriving as feedback for most calls; a manual clock moves time, so the run takes
//!    seconds.
//! 3. After the first hour, fit the drift baseline from the stored calls.
//! 4. Halfway, the input distribution shifts (petals get longer).
//! 5. The monitor ticks every simulated hour: rollups, data quality, a drift check; the
//!    drift check sees the shift, an alert rule fires, a retraining trigger creates a
//!    request that passes its safety checks; a reviewer approves it and the training job id
//!    reaches the callback.
//!
//! Everything is stored: events, rollups, baselines, drift and quality rows, alerts and
//! retraining requests. Each run starts a month after the previous one's data, so the
//! safety checks (days between retrains, requests per window) see a fresh month.
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use harper_edge_core::drift::records::DriftQuery;
use harper_edge_core::monitor::alert::AlertQuery;
use harper_edge_core::monitor::config::ConfigScope;
use harper_edge_core::monitor::retrain::RetrainingStatus;
use harper_edge_core::monitor::{JobOutcome, Monitor, MonitorOptions};
use harper_edge_core::{
    Clock, Engine, EventQuery, Framework, Granularity, InferContext, ManualClock, MetricsQuery,
    ModelRef, ModelRegistration, SqliteStore, Stage, SystemClock, Timestamp,
};
use serde_json::json;

/// Simulated hours, and the hour the shift starts.
const HOURS: u32 = 12;
const SHIFT_AT: u32 = 6;
/// Calls per simulated hour.
const CALLS_PER_HOUR: u32 = 120;
/// Share of calls whose ground truth arrives (as feedback).
const LABELLED_PERCENT: u64 = 70;
/// How much longer petals get after the shift (cm).
const PETAL_SHIFT: f32 = 1.6;

/// Per-class feature means and spreads of iris (sepal length/width, petal length/width).
const CLASSES: [([f32; 4], [f32; 4]); 3] = [
    ([5.01, 3.43, 1.46, 0.25], [0.35, 0.38, 0.17, 0.11]),
    ([5.94, 2.77, 4.26, 1.33], [0.52, 0.31, 0.47, 0.20]),
    ([6.59, 2.97, 5.55, 2.03], [0.64, 0.32, 0.55, 0.27]),
];

/// xorshift64*: a deterministic stream, so every run of the demo sees the same data.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Approximately standard normal (Irwin-Hall with 12 uniforms).
    fn normal(&mut self) -> f32 {
        (0..12).map(|_| self.unit()).sum::<f32>() - 6.0
    }
}

/// What a run of the demo did.
#[derive(Debug)]
pub struct Summary {
    /// The model version of this run.
    pub version: String,
    /// Inferences made.
    pub calls: u32,
    /// Alerts raised in this run.
    pub alerts: usize,
    /// The approved retraining request's training job id.
    pub training_job: Option<String>,
    /// Drift checks that found drift.
    pub drifted_checks: usize,
}

const HOUR_MS: i64 = 3_600_000;

/// Runs the lifecycle on the store in `home`, printing to `out`.
///
/// # Errors
///
/// Any engine or store error.
pub fn run(home: &Path, out: &mut impl Write) -> harper_edge_core::Result<Summary> {
    let store = Arc::new(SqliteStore::open(home)?);
    // Simulated time starts now, or a month after the newest stored call of an earlier run.
    let probe = Engine::builder().store(store.clone()).tick_interval(None).build()?;
    let last =
        probe.events(&EventQuery::new().model("iris").limit(1))?.first().map(|e| e.timestamp);
    let versions = probe.models()?.iter().filter(|m| m.model_name == "iris").count();
    drop(probe);
    let now = SystemClock.now().as_millis();
    let start = last.map_or(now, |t| now.max(t.as_millis() + 31 * 24 * HOUR_MS));
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(start)));
    let engine =
        Arc::new(Engine::builder().store(store).clock(clock.clone()).tick_interval(None).build()?);

    let version = (versions + 1).to_string();
    let model = engine.register_model(
        ModelRegistration::new("iris", &version, Framework::Onnx)
            .file(harper_edge_examples::IRIS_MODEL)
            .stage(Stage::Production)
            .metadata(
                json!({"taskType": "classification", "description": "iris logistic regression"}),
            ),
    )?;
    let reference: ModelRef = format!("iris:{version}").parse()?;
    writeln!(out, "data directory   {}", home.display()).ok();
    writeln!(
        out,
        "model            {} ({}, {} bytes, sha256 {})",
        model.id,
        model.framework,
        model.blob_size,
        &model.sha256[..12]
    )
    .ok();
    writeln!(
        out,
        "simulated start  {} (manual clock; {HOURS} hours take seconds)",
        Timestamp::from_millis(start)
    )
    .ok();

    // Monitoring: hourly checks, a retraining trigger on input drift, two alert rules.
    let monitor = Monitor::new(engine.clone(), MonitorOptions::default())?;
    monitor.set_config(
        &ConfigScope::Model("iris".into()),
        json!({
            "aggregation": {"driftCheck": "1h", "dataQualityCheck": "1h"},
            "drift": {"inputDrift": {"method": "ks_test", "threshold": 0.01, "windowHours": 1}},
            "retrainingTriggers": {
                "enabled": true, "minDaysBetweenRetraining": 7, "minNewLabeledSamples": 200,
                "conditions": [{"type": "drift", "driftTypes": ["input"], "threshold": 0.3}]
            }
        }),
    )?;
    monitor.put_rule_json(&json!({
        "id": "iris-input-drift", "ruleName": "iris input drift", "modelName": "iris",
        "alertType": "drift", "severity": "warning",
        "condition": {"metric": "driftedShare", "driftType": "input", "operator": ">=", "threshold": 0.25}
    }))?;
    monitor.put_rule_json(&json!({
        "id": "iris-accuracy", "ruleName": "iris accuracy", "modelName": "iris",
        "alertType": "accuracy", "severity": "critical",
        "condition": {"metric": "accuracy", "operator": "<", "threshold": 0.8, "window": "2h"}
    }))?;
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let l = log.clone();
    monitor.on_alert(move |n| {
        let a = &n.alert;
        l.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(format!(
            "  callback: alert {} [{}] {}",
            n.kind.as_str(),
            a.severity.as_str(),
            a.message
        ));
    });
    let approved = Arc::new(Mutex::new(None::<String>));
    let a = approved.clone();
    monitor.on_retraining_approved(move |r| {
        *a.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = r.training_job_id.clone();
    });
    monitor.tick()?; // schedules the hourly jobs

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut alerts, mut drifted_checks, mut calls) = (0, 0, 0);
    let step = Duration::from_millis((HOUR_MS / i64::from(CALLS_PER_HOUR)) as u64);
    for hour in 0..HOURS {
        let shift = if hour >= SHIFT_AT { PETAL_SHIFT } else { 0.0 };
        let (mut labelled, mut correct) = (0u32, 0u32);
        for i in 0..CALLS_PER_HOUR {
            let class = (rng.next_u64() % 3) as usize;
            let (mean, sd) = CLASSES[class];
            let mut row: Vec<f32> =
                (0..4).map(|j| (mean[j] + sd[j] * rng.normal()).max(0.1)).collect();
            row[2] += shift;
            let context = InferContext::new().user_id(format!("user-{}", i % 7));
            let p = engine.infer_json(&reference, &json!(row), &context)?;
            calls += 1;
            if rng.next_u64() % 100 < LABELLED_PERCENT {
                let event = engine.feedback(&p.inference_id, json!(class))?;
                labelled += 1;
                correct += u32::from(event.correct == Some(true));
            }
            clock.advance(step);
        }
        if hour == 0 {
            // The first hour is the reference: fit the baseline from the stored calls.
            engine.flush()?;
            let b = engine.fit_baseline(
                &reference,
                None,
                None,
                Default::default(),
                Default::default(),
            )?;
            let acc = b.accuracy.map_or(f64::NAN, |a| a.accuracy().unwrap_or(f64::NAN));
            writeln!(
                out,
                "baseline         fitted from hour 0: {} features, reference accuracy {acc:.3}",
                b.baseline.features().len()
            )
            .ok();
        }
        let report = monitor.tick()?;
        let mut line = format!(
            "hour {hour:>2}{}  {CALLS_PER_HOUR} calls, accuracy {:.2}",
            if shift > 0.0 { " (shifted)" } else { "          " },
            f64::from(correct) / f64::from(labelled.max(1))
        );
        for job in &report.jobs {
            if let (Some(msg), harper_edge_core::monitor::JobKind::DriftCheck) =
                (&job.message, job.job)
            {
                let outcome = match job.outcome {
                    JobOutcome::Ran => "",
                    JobOutcome::Skipped => " (skipped)",
                    JobOutcome::Failed => " (failed)",
                };
                line.push_str(&format!("; drift check: {msg}{outcome}"));
            }
        }
        drifted_checks += report.drift_checks.iter().filter(|c| c.drifted()).count();
        writeln!(out, "{line}").ok();
        for msg in log.lock().unwrap_or_else(std::sync::PoisonError::into_inner).drain(..) {
            writeln!(out, "{msg}").ok();
        }
        alerts += report.fired.len();
        for r in &report.retraining_requests {
            writeln!(
                out,
                "  retraining request {} ({}): {}",
                r.id,
                r.trigger_reason.as_str(),
                r.status
            )
            .ok();
            for c in &r.safety_checks {
                writeln!(
                    out,
                    "    {} {}: {}",
                    if c.passed { "pass" } else { "FAIL" },
                    c.check,
                    c.message
                )
                .ok();
            }
        }
    }

    // A reviewer approves the pending request; the training job id reaches the callback.
    let pending =
        monitor.retraining_requests(Some("iris"), Some(RetrainingStatus::PendingApproval))?;
    for r in &pending {
        let done = monitor.approve(&r.id, "demo-reviewer", Some("drift confirmed by the demo"))?;
        writeln!(
            out,
            "approved         {} by {} → training job {}",
            done.id,
            done.reviewed_by.as_deref().unwrap_or("-"),
            done.training_job_id.as_deref().unwrap_or("-")
        )
        .ok();
    }
    let training_job = approved.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();

    engine.flush()?;
    let hourly =
        engine.metrics(&MetricsQuery::new("iris", Granularity::Hourly).version(&version))?;
    let drift_rows = engine.drift_metrics(&DriftQuery::new("iris").version(&version))?.len();
    let stored_alerts = monitor.alerts(&AlertQuery {
        model_name: Some("iris".into()),
        model_version: Some(version.clone()),
        ..AlertQuery::default()
    })?;
    writeln!(
        out,
        "stored           {} hourly rollups, {drift_rows} drift rows, {} alerts for iris:{version}",
        hourly.len(),
        stored_alerts.len()
    )
    .ok();
    for a in &stored_alerts {
        writeln!(
            out,
            "  alert {} [{}] {} ({}), actual {:?}",
            a.id,
            a.severity.as_str(),
            a.condition,
            a.status.as_str(),
            a.actual_value
        )
        .ok();
    }
    Ok(Summary { version, calls, alerts, training_job, drifted_checks })
}

#[allow(dead_code)] // the examples test calls `run`
fn main() -> harper_edge_core::Result<()> {
    let home = Engine::default_home();
    let summary = run(&home, &mut std::io::stdout())?;
    println!(
        "done             {} calls; {} alert(s); {} drifted check(s); training job {}",
        summary.calls,
        summary.alerts,
        summary.drifted_checks,
        summary.training_job.as_deref().unwrap_or("none")
    );
    Ok(())
}

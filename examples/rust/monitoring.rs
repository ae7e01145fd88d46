//! Monitoring: an alert rule fires on failing calls, someone acknowledges it, a retraining
//! request passes its safety checks and is approved. Time comes from a manual clock.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use harper_edge_core::monitor::config::ConfigScope;
use harper_edge_core::monitor::retrain::RetrainingStatus;
use harper_edge_core::monitor::{Monitor, MonitorOptions};
use harper_edge_core::{Clock, Engine, ManualClock, Observation, Timestamp};
use serde_json::json;

pub fn main() -> harper_edge_core::Result<()> {
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(1_767_225_600_000)));
    let engine = Arc::new(Engine::builder().clock(clock.clone()).tick_interval(None).build()?);
    let monitor = Monitor::new(engine.clone(), MonitorOptions::default())?;

    // Settings: global defaults, overridden for one model, field by field.
    monitor.set_config(
        &ConfigScope::Model("scorer".into()),
        json!({"retrainingTriggers": {"minNewLabeledSamples": 0, "minDaysBetweenRetraining": 7}}),
    )?;
    monitor.put_rule_json(&json!({
        "ruleName": "scorer errors", "modelName": "scorer", "modelVersion": "2", "alertType": "error_rate",
        "severity": "critical", "condition": {"metric": "errorRate", "operator": ">", "threshold": 0.1}
    }))?;
    let fired = Arc::new(Mutex::new(Vec::new()));
    let f = fired.clone();
    monitor.on_alert(move |n| {
        f.lock().unwrap_or_else(|e| e.into_inner()).push(n.alert.message.clone())
    });

    // A model the host runs itself: its calls counted through a Series, one in four failing.
    let series = engine.recorder().series("scorer", "2")?;
    for i in 0..40 {
        series.observe(Observation::new(clock.now(), 12.5).error(i % 4 == 0));
        clock.advance(Duration::from_secs(1));
    }
    let report = monitor.tick()?;
    assert_eq!(report.fired.len(), 1);
    let alert = &report.fired[0];
    assert_eq!(alert.condition, "errorRate > 0.1");
    assert_eq!(fired.lock().unwrap_or_else(|e| e.into_inner()).len(), 1);
    let acked = monitor.acknowledge(&alert.id, "oncall@example.com")?;
    assert!(acked.acknowledged);

    // Retraining: requested by hand, checked, approved.
    let request =
        monitor.request_retraining(&"scorer:2".parse()?, Some("ana"), json!({"ticket": 42}))?;
    assert_eq!(request.status, RetrainingStatus::PendingApproval);
    let approved = monitor.approve(&request.id, "lead@example.com", Some("errors confirmed"))?;
    println!("training job {}", approved.training_job_id.unwrap_or_default());
    Ok(())
}

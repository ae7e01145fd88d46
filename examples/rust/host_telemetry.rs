//! Monitoring a model the host runs itself: count each call through a `Series` (O(1), no
//! I/O, no allocation), keep a raw event now and then, and read the rollups back.
use std::sync::Arc;
use std::time::Duration;

use harper_edge_core::{
    Clock, Engine, Framework, Granularity, InferenceEvent, ManualClock, MetricsQuery, Observation,
    TelemetryConfig, Timestamp,
};
use serde_json::json;

pub fn main() -> harper_edge_core::Result<()> {
    // A manual clock makes the example deterministic; services use the default system clock
    // and let the engine's background ticker flush every second.
    let start = Timestamp::from_millis(1_767_225_600_000); // 2026-01-01T00:00:00Z
    let clock = Arc::new(ManualClock::new(start));
    let engine = Engine::builder()
        .clock(clock.clone())
        .telemetry(TelemetryConfig::new().event_capacity(10_000).sample_rate(0.1))
        .tick_interval(None)
        .build()?;
    let recorder = engine.recorder();

    // Hot path: look the model version up once, then count calls through the handle.
    let series = recorder.series("my-llm", "2")?;
    for minute in 0..15 {
        clock.set(Timestamp::from_millis(start.as_millis() + minute * 60_000));
        let calls: Vec<Observation> = (0..100)
            .map(|i| {
                Observation::new(clock.now(), 20.0 + f64::from(i % 50))
                    .error(i == 99)
                    .confidence(Some(0.9))
            })
            .collect();
        series.observe_batch(&calls);
    }

    // A full raw event (features and prediction kept for drift and feedback).
    recorder.record(InferenceEvent {
        id: "req-42".into(),
        model_name: "my-llm".into(),
        model_version: "2".into(),
        framework: Framework::Ollama,
        request_id: Some("req-42".into()),
        user_id: None,
        session_id: None,
        features_in: json!({"prompt": "hello"}),
        prediction: json!("hi!"),
        confidence: None,
        latency_ms: 35.0,
        timestamp: clock.now(),
        error: None,
        actual_outcome: None,
        correct: None,
        feedback_timestamp: None,
    })?;

    // Not registered, but recorded in this process: named with its version, it has a view.
    let live = engine.realtime(&"my-llm:2".parse()?)?;
    println!(
        "last 5 min: {} calls, error rate {:.3}, p95 {:?} ms",
        live.request_count, live.error_rate, live.p95_latency
    );

    clock.advance(Duration::from_secs(300));
    let written = engine.tick()?; // what the ticker thread does every second
    println!("tick wrote {} metrics rows", written.len());

    let rows = engine.metrics(&MetricsQuery::new("my-llm", Granularity::FiveMinutes))?;
    let calls: u64 = rows.iter().map(|r| r.request_count).sum();
    println!("{} five-minute rows, {calls} calls", rows.len());
    assert_eq!((rows.len(), calls), (3, 1501));
    let stats = engine.telemetry_stats();
    println!(
        "raw events kept {} of 1 (sampled out {})",
        stats.events_written, stats.events_sampled_out
    );
    Ok(())
}

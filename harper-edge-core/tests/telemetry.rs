//! Telemetry through the engine and the recorder: bounded buffering, sampling, retention,
//! host-recorded calls, days of traffic on a manual clock, and the background ticker.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use harper_edge_core::{
    Clock, Engine, ErrorKind, EventQuery, Framework, Granularity, InferContext, InferenceEvent,
    ManualClock, MemoryStore, MetricsQuery, ModelRegistration, Observation, Overflow, Recorder,
    SqliteStore, Store, TelemetryConfig, Timestamp,
};
use serde_json::json;

const MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/iris_logreg.onnx");
const DAY: i64 = 86_400_000;
/// A UTC midnight.
const T0: i64 = 1_700_006_400_000;

fn iris_engine(config: TelemetryConfig, clock: Arc<ManualClock>) -> Engine {
    let engine =
        Engine::builder().clock(clock).telemetry(config).tick_interval(None).build().unwrap();
    engine
        .register_model(ModelRegistration::new("iris", "1", Framework::Onnx).file(MODEL))
        .unwrap();
    engine
}

fn call(engine: &Engine, row: serde_json::Value) -> Option<String> {
    engine
        .infer_json(&"iris".parse().unwrap(), &row, &InferContext::new())
        .ok()
        .map(|p| p.inference_id)
}

fn event(id: &str, at: i64, latency_ms: f64, error: bool) -> InferenceEvent {
    InferenceEvent {
        id: id.to_string(),
        model_name: "host-model".into(),
        model_version: "7".into(),
        framework: Framework::Onnx,
        request_id: None,
        user_id: None,
        session_id: None,
        features_in: json!({"x": 1}),
        prediction: if error { json!(null) } else { json!("yes") },
        confidence: (!error).then_some(0.8),
        latency_ms,
        timestamp: Timestamp::from_millis(at),
        error: error.then(|| "boom".to_string()),
        actual_outcome: None,
        correct: None,
        feedback_timestamp: None,
    }
}

#[test]
fn a_full_buffer_drops_the_oldest_events_and_counts_them() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(T0)));
    let engine = iris_engine(TelemetryConfig::new().event_capacity(8), clock.clone());
    let mut ids = Vec::new();
    for _ in 0..50 {
        clock.advance(Duration::from_millis(10));
        ids.push(call(&engine, json!([5.1, 3.5, 1.4, 0.2])).unwrap());
    }
    let stats = engine.telemetry_stats();
    assert_eq!((stats.events_buffered, stats.events_dropped, stats.event_capacity), (8, 42, 8));
    assert_eq!(stats.observations, 50);
    // Metrics count every call; the store keeps the newest eight raw events.
    assert_eq!(engine.realtime(&"iris".parse().unwrap()).unwrap().request_count, 50);
    let stored = engine.events(&EventQuery::new().limit(100)).unwrap();
    let mut kept: Vec<String> = stored.into_iter().map(|e| e.id).collect();
    kept.sort();
    let mut newest = ids[42..].to_vec();
    newest.sort();
    assert_eq!(kept, newest);
    assert_eq!(engine.telemetry_stats().events_written, 8);
    assert_eq!(engine.feedback(&ids[0], json!(0)).unwrap_err().kind(), ErrorKind::NotFound);
}

#[test]
fn a_full_buffer_with_the_reject_policy_keeps_the_oldest_events() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(T0)));
    let config = TelemetryConfig::new().event_capacity(4).overflow(Overflow::Reject);
    let engine = iris_engine(config, clock);
    let ids: Vec<String> =
        (0..10).filter_map(|_| call(&engine, json!([5.1, 3.5, 1.4, 0.2]))).collect();
    let stats = engine.telemetry_stats();
    assert_eq!((stats.events_buffered, stats.events_rejected, stats.events_dropped), (4, 6, 0));
    let mut kept: Vec<String> =
        engine.events(&EventQuery::new()).unwrap().into_iter().map(|e| e.id).collect();
    kept.sort();
    let mut oldest = ids[..4].to_vec();
    oldest.sort();
    assert_eq!(kept, oldest);
    // Once flushed, the buffer has room again.
    assert!(call(&engine, json!([5.1, 3.5, 1.4, 0.2])).is_some());
    assert_eq!(engine.telemetry_stats().events_buffered, 1);
}

#[test]
fn sampling_keeps_a_share_of_successful_calls_and_every_failed_one() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(T0)));
    let engine = iris_engine(TelemetryConfig::new().sample_rate(0.25), clock);
    for i in 0..800 {
        let row = if i % 8 == 0 { json!([1.0, 2.0]) } else { json!([6.7, 3.0, 5.2, 2.3]) };
        let _ = call(&engine, row);
    }
    engine.tick().unwrap();
    let stats = engine.telemetry_stats();
    let events = engine.events(&EventQuery::new().limit(10_000)).unwrap();
    let failed = events.iter().filter(|e| e.error.is_some()).count();
    assert_eq!(failed, 100, "failed calls are always kept");
    let kept = events.len() - failed;
    // 700 successful calls at 25%: 175 expected, sd 11.5; this bound fails with p < 1e-6.
    assert!((115..=235).contains(&kept), "kept {kept} of 700");
    assert_eq!(stats.events_sampled_out as usize, 700 - kept);
    assert_eq!(stats.events_written as usize, events.len());
    let live = engine.realtime(&"iris".parse().unwrap()).unwrap();
    assert_eq!((live.request_count, live.error_count), (800, 100), "metrics count every call");
}

#[test]
fn retention_deletes_old_events_on_tick() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(T0)));
    let config = TelemetryConfig::new().retention(Some(Duration::from_secs(3600)));
    let engine = iris_engine(config, clock.clone());
    for _ in 0..3 {
        call(&engine, json!([5.1, 3.5, 1.4, 0.2])).unwrap();
    }
    engine.tick().unwrap();
    clock.advance(Duration::from_secs(1800));
    call(&engine, json!([5.1, 3.5, 1.4, 0.2])).unwrap();
    engine.tick().unwrap();
    assert_eq!(engine.events(&EventQuery::new()).unwrap().len(), 4, "all within the hour");
    clock.advance(Duration::from_secs(1900));
    engine.tick().unwrap();
    assert_eq!(engine.events(&EventQuery::new()).unwrap().len(), 1);
    assert_eq!(engine.telemetry_stats().events_expired, 3);
    // The metrics rows outlive the raw events.
    let rows = engine.metrics(&MetricsQuery::new("iris", Granularity::Hourly)).unwrap();
    assert_eq!(rows.iter().map(|r| r.request_count).sum::<u64>(), 4);

    let bad = TelemetryConfig::new().sample_rate(1.5);
    let err = Engine::builder().telemetry(bad).build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("sample_rate"), "{err}");
    let zero = TelemetryConfig::new().event_capacity(0);
    assert!(
        Engine::builder()
            .telemetry(zero)
            .build()
            .unwrap_err()
            .to_string()
            .contains("event_capacity")
    );
}

#[test]
fn host_recorded_events_are_buffered_counted_and_deduplicated() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(T0 + 600_000)));
    let store = Arc::new(MemoryStore::new());
    let recorder = Recorder::with_config(store.clone(), clock, TelemetryConfig::new()).unwrap();
    let batch = vec![
        event("a", T0 + 590_000, 2.0, false),
        event("b", T0 + 595_000, 4.0, true),
        event("a", T0 + 596_000, 3.0, false), // the same id again
    ];
    let counts = recorder.record_batch(batch).unwrap();
    assert_eq!((counts.buffered, counts.dropped, counts.rejected), (3, 0, 0));
    assert_eq!(recorder.flush_events().unwrap(), 2);
    let stats = recorder.stats();
    assert_eq!((stats.events_written, stats.events_duplicate), (2, 1));
    assert_eq!(store.event("b").unwrap().unwrap().error.as_deref(), Some("boom"));
    let live = recorder.realtime("host-model", "7").unwrap();
    assert_eq!((live.request_count, live.error_count), (3, 1), "metrics count each call");
    let mut nameless = event("c", T0, 1.0, false);
    nameless.model_version.clear();
    assert_eq!(recorder.record(nameless).unwrap_err().kind(), ErrorKind::InvalidInput);
}

/// Three days of host traffic on a manual clock, ticked every simulated minute: varying
/// rates, a six-hour gap without calls, events arriving seven minutes late (after their
/// period was written) and events stamped twenty seconds ahead by a skewed clock. Every
/// rollup must equal the counts computed independently from the generated calls.
#[test]
fn days_of_traffic_with_late_events_skew_and_gaps_roll_up_exactly() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(T0)));
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let recorder =
        Recorder::with_config(store.clone(), clock.clone(), TelemetryConfig::new()).unwrap();
    let series = recorder.series("host-model", "7").unwrap();
    let mut expected: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
    let mut all: Vec<(i64, f64, bool)> = Vec::new();
    let mut n = 0u64;
    for minute in 0..3 * 1440 {
        let now = T0 + minute * 60_000;
        clock.set(Timestamp::from_millis(now));
        let hour_of_run = minute / 60;
        if (30..36).contains(&hour_of_run) {
            recorder.tick().unwrap(); // the gap: time passes, nothing is called
            continue;
        }
        for k in 0..(1 + minute % 4) {
            n += 1;
            let at = match n {
                n if n % 53 == 0 => now - 7 * 60_000, // late
                n if n % 71 == 0 => now + 20_000,     // skewed ahead
                _ => now + k * 997,
            };
            let latency = 0.5 + (n % 200) as f64 * 0.25;
            let error = n.is_multiple_of(13);
            series.observe(Observation::new(Timestamp::from_millis(at), latency).error(error));
            let period = Granularity::FiveMinutes.period_start(Timestamp::from_millis(at));
            let slot = expected.entry(period.as_millis()).or_default();
            slot.0 += 1;
            slot.1 += u64::from(error);
            all.push((at, latency, error));
        }
        recorder.tick().unwrap();
    }
    // Realtime at the end: exactly the calls stamped inside the last five minutes.
    let now = clock.now();
    let live = recorder.realtime("host-model", "7").unwrap();
    let in_window = all
        .iter()
        .filter(|(at, ..)| {
            (live.window_start.as_millis()..live.window_end.as_millis()).contains(at)
        })
        .count() as u64;
    assert_eq!(live.request_count, in_window);
    assert!(live.window_end.as_millis() > now.as_millis());

    recorder.flush(None).unwrap();
    let q = |g| MetricsQuery::new("host-model", g).limit(100_000);
    let five = store.metrics(&q(Granularity::FiveMinutes)).unwrap();
    let got: BTreeMap<i64, (u64, u64)> = five
        .iter()
        .map(|r| (r.period_start.as_millis(), (r.request_count, r.error_count)))
        .collect();
    assert_eq!(got, expected, "every 5-minute row, late and skewed calls included");
    let gap = (T0 + 30 * 3_600_000 + 600_000)..(T0 + 36 * 3_600_000 - 600_000);
    assert!(five.iter().all(|r| !gap.contains(&r.period_start.as_millis())), "no rows in the gap");

    let hourly = store.metrics(&q(Granularity::Hourly)).unwrap();
    let daily = store.metrics(&q(Granularity::Daily)).unwrap();
    assert_eq!(hourly.iter().map(|r| r.request_count).sum::<u64>(), n);
    assert_eq!(daily.iter().map(|r| r.request_count).collect::<Vec<_>>().len(), 3);
    assert_eq!(daily.iter().map(|r| r.request_count).sum::<u64>(), n);
    assert_eq!(daily.iter().map(|r| r.error_count).sum::<u64>(), n / 13);
    // The daily maximum and mean are exact; the p99 is within the sketch's 1%.
    let day1: Vec<&(i64, f64, bool)> =
        all.iter().filter(|(at, ..)| (T0..T0 + DAY).contains(at)).collect();
    let max = day1.iter().map(|c| c.1).fold(f64::MIN, f64::max);
    assert_eq!(daily[0].max_latency, Some(max));
    let mean = day1.iter().map(|c| c.1).sum::<f64>() / day1.len() as f64;
    assert!((daily[0].avg_latency.unwrap() - mean).abs() < 1e-9);
    let mut sorted: Vec<f64> = day1.iter().map(|c| c.1).collect();
    sorted.sort_by(f64::total_cmp);
    let p99 = sorted[((sorted.len() - 1) as f64 * 0.99).floor() as usize];
    assert!((daily[0].p99_latency.unwrap() - p99).abs() <= 0.01 * p99);
}

#[test]
fn the_background_ticker_flushes_without_the_host() {
    let engine = Engine::builder().tick_interval(Some(Duration::from_millis(20))).build().unwrap();
    engine
        .register_model(ModelRegistration::new("iris", "1", Framework::Onnx).file(MODEL))
        .unwrap();
    for _ in 0..3 {
        call(&engine, json!([5.1, 3.5, 1.4, 0.2])).unwrap();
    }
    // Read the store directly: Engine::events would flush by itself.
    let deadline = Instant::now() + Duration::from_secs(30);
    while engine.store().events(&EventQuery::new()).unwrap().len() < 3 {
        assert!(Instant::now() < deadline, "the ticker never flushed");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(engine.telemetry_stats().events_written, 3);
    assert!(Engine::builder().tick_interval(Some(Duration::ZERO)).build().is_err());
}

#[test]
fn sampling_is_unbiased_for_sequential_ids_and_bad_latencies_are_refused() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(T0)));
    let config = TelemetryConfig::new().sample_rate(0.25).event_capacity(10_000);
    let recorder = Recorder::with_config(Arc::new(MemoryStore::new()), clock, config).unwrap();
    for pattern in ["req-{:06}", "call-{}"] {
        let events = (0..4000).map(|i| {
            let id = if pattern.starts_with("req") {
                format!("req-{i:06}")
            } else {
                format!("call-{i}")
            };
            event(&id, T0, 1.0, false)
        });
        let counts = recorder.record_batch(events).unwrap();
        // 1000 expected, sd 27.4: this bound fails with p < 1e-6.
        assert!((850..=1150).contains(&counts.buffered), "{pattern}: kept {}", counts.buffered);
    }

    for bad in [f64::NAN, -1.0, f64::INFINITY] {
        let err = recorder.record(event("x", T0, bad, false)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }
    let series = recorder.series("host-model", "7").unwrap();
    let before = series.observed();
    series.observe(Observation::new(Timestamp::from_millis(T0), f64::NAN));
    assert_eq!(series.observed(), before, "not a measurement: not counted anywhere");
    let latency = [1.0, -2.0];
    let cols = harper_edge_core::telemetry::Columns::<bool, i64> {
        latency_ms: &latency,
        errors: None,
        confidence: None,
        timestamps: None,
    };
    let err = series.observe_columns(&cols, Timestamp::from_millis(T0)).unwrap_err();
    assert!(err.to_string().contains("'latency_ms' entry 1"), "{err}");
    assert_eq!(series.observed(), before, "nothing counted from a bad batch");
}

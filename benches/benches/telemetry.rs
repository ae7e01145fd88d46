//! The telemetry hot path: counting one call (`Series::observe`), a batch of calls under one
//! lock (`observe_batch`, what the Python and Node batch calls use), a full raw event
//! (`Recorder::record`), and observe from several threads at once (shards).
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use harper_edge_core::{
    Framework, InferenceEvent, ManualClock, MemoryStore, Observation, Recorder, TelemetryConfig,
    Timestamp,
};

/// The start of a 5-minute period.
const T0: i64 = 1_700_000_100_000;

fn observation(i: u64) -> Observation {
    let at = Timestamp::from_millis(T0 + (i % 290_000) as i64);
    // Latencies from 0.05 ms to 500 ms.
    let latency = 0.05 * 10f64.powf((i % 4000) as f64 / 1000.0);
    Observation::new(at, latency).error(i.is_multiple_of(97)).confidence(Some(0.9))
}

fn event(i: u64) -> InferenceEvent {
    InferenceEvent {
        id: format!("e{i}"),
        model_name: "m".into(),
        model_version: "1".into(),
        framework: Framework::Onnx,
        request_id: None,
        user_id: None,
        session_id: None,
        features_in: serde_json::json!([1.0, 2.0, 3.0, 4.0]),
        prediction: serde_json::json!(1),
        confidence: Some(0.9),
        latency_ms: 1.5,
        timestamp: Timestamp::from_millis(T0 + (i % 290_000) as i64),
        error: None,
        actual_outcome: None,
        correct: None,
        feedback_timestamp: None,
    }
}

fn recorder() -> Recorder {
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(T0)));
    let config = TelemetryConfig::new().event_capacity(10_000);
    Recorder::with_config(Arc::new(MemoryStore::new()), clock, config).expect("valid config")
}

fn bench_telemetry(c: &mut Criterion) {
    let recorder = recorder();
    let series = recorder.series("m", "1").expect("in memory");
    (0..300_000).for_each(|i| series.observe(observation(i)));

    // Made beforehand, so the benchmark measures recording, not making observations.
    let prepared: Vec<Observation> = (0..65_536).map(observation).collect();
    let mut group = c.benchmark_group("telemetry");
    group.throughput(Throughput::Elements(1));
    let mut i = 0usize;
    group.bench_function("observe", |b| {
        b.iter(|| {
            i = (i + 1) & 65_535;
            series.observe(black_box(prepared[i]));
        });
    });

    let batch: Vec<Observation> = (0..4096).map(observation).collect();
    group.throughput(Throughput::Elements(batch.len() as u64));
    group.bench_function("observe_batch_4096", |b| {
        b.iter(|| series.observe_batch(black_box(&batch)))
    });

    // Full raw events, made beforehand in chunks of 2048 (so they are in cache, as an event
    // just built by the host is); the timed part is `record` alone. The buffer is flushed
    // between chunks, untimed, as the ticker would.
    group.throughput(Throughput::Elements(1));
    let mut j = 0u64;
    for (name, capacity) in [("record_event", 4096), ("record_event_full_buffer", 1024)] {
        let clock = Arc::new(ManualClock::new(Timestamp::from_millis(T0)));
        let config = TelemetryConfig::new().event_capacity(capacity);
        let recorder = Recorder::with_config(Arc::new(MemoryStore::new()), clock, config)
            .expect("valid config");
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut elapsed = Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    let n = left.min(2048);
                    left -= n;
                    let events: Vec<InferenceEvent> = (0..n)
                        .map(|_| {
                            j += 1;
                            event(j)
                        })
                        .collect();
                    let start = Instant::now();
                    for e in events {
                        black_box(recorder.record(e).expect("known series"));
                    }
                    elapsed += start.elapsed();
                    if capacity > 1024 {
                        recorder.flush_events().expect("in memory");
                    }
                }
                elapsed
            });
        });
    }

    // Several threads counting calls of the same model version.
    for threads in [1usize, 2, 4] {
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(BenchmarkId::new("observe_threads", threads), &threads, |b, &t| {
            b.iter_custom(|iters| {
                let per = iters.div_ceil(t as u64);
                let start = Instant::now();
                std::thread::scope(|s| {
                    for k in 0..t {
                        let (series, prepared) = (&series, &prepared);
                        s.spawn(move || {
                            for i in 0..per as usize {
                                series.observe(prepared[(i * 7 + k) & 65_535]);
                            }
                        });
                    }
                });
                start.elapsed().mul_f64(iters as f64 / (per * t as u64) as f64)
            });
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3));
    targets = bench_telemetry
}
criterion_main!(benches);

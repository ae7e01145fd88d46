//! Recording allocates nothing in the steady state: counted with a global allocator that
//! counts the allocations of the thread under test.
#![allow(unsafe_code, clippy::unwrap_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

use harper_edge_core::telemetry::{Observation, Recorder, TelemetryConfig};
use harper_edge_core::{Framework, InferenceEvent, ManualClock, MemoryStore, Timestamp};

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn note() {
    // `try_with`: the allocator also runs while thread-locals are torn down.
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }
    });
}

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: the caller's contract is passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: the caller's contract is passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations made by this thread while running `f`.
fn allocations(f: impl FnOnce()) -> u64 {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|on| on.set(true));
    f();
    COUNTING.with(|on| on.set(false));
    ALLOCATIONS.with(Cell::get)
}

/// The start of a 5-minute period.
const T0: i64 = 1_700_000_100_000;

fn latency(i: u64) -> f64 {
    // 0.05 ms to about 500 ms, spread over the whole range.
    0.05 * 10f64.powf((i % 4000) as f64 / 1000.0)
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
        features_in: serde_json::json!([1.0, 2.0]),
        prediction: serde_json::json!(1),
        confidence: Some(0.75),
        latency_ms: latency(i),
        timestamp: Timestamp::from_millis(T0 + (i % 290_000) as i64),
        error: None,
        actual_outcome: None,
        correct: None,
        feedback_timestamp: None,
    }
}

#[test]
fn recording_allocates_nothing_in_the_steady_state() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(T0)));
    let config = TelemetryConfig::new().event_capacity(1_000);
    let recorder = Recorder::with_config(Arc::new(MemoryStore::new()), clock, config).unwrap();
    let series = recorder.series("m", "1").unwrap();
    let observe = |range: std::ops::Range<u64>| {
        for i in range {
            let at = Timestamp::from_millis(T0 + (i % 290_000) as i64);
            let o = Observation::new(at, latency(i)).error(i % 17 == 0).confidence(Some(0.5));
            series.observe(o);
        }
    };
    // Warm-up: every window slot and latency bucket of the test range has been used once.
    observe(0..300_000);
    assert_eq!(allocations(|| observe(300_000..1_300_000)), 0, "observe");

    let batch: Vec<Observation> = (0..1024)
        .map(|i| Observation::new(Timestamp::from_millis(T0 + i * 7), latency(i as u64)))
        .collect();
    assert_eq!(allocations(|| (0..100).for_each(|_| series.observe_batch(&batch))), 0, "batch");

    // Full events: once the buffer has filled, recording one moves it in and drops the
    // oldest (freeing is not allocating). The events themselves are made beforehand.
    let events: Vec<InferenceEvent> = (0..20_000).map(event).collect();
    let (warm, measured) = events.split_at(5_000);
    for e in warm {
        recorder.record(e.clone()).unwrap();
    }
    let measured = measured.to_vec();
    assert_eq!(
        allocations(|| measured.into_iter().for_each(|e| {
            recorder.record(e).unwrap();
        })),
        0,
        "record"
    );
    let stats = recorder.stats();
    assert_eq!(stats.events_buffered, 1_000);
    assert_eq!(stats.events_dropped, 19_000);
    assert_eq!(stats.observations, 1_300_000 + 102_400 + 20_000);
}

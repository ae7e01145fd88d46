//! Drift checks and rollups split by a segment key, through the engine: a canary version,
//! user cohorts with their own reference segments, event fields, and the errors that keep a
//! segmented check honest.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::sync::Arc;

use harper_edge_core::drift::records::DriftQuery;
use harper_edge_core::drift::segment::{ComparedWith, SegmentConfig};
use harper_edge_core::monitor::{CurrentData, DriftCheckConfig};
use harper_edge_core::telemetry::{Granularity, MetricsQuery};
use harper_edge_core::{
    BaselineOptions, Engine, ErrorKind, EventQuery, Framework, InferenceEvent, ManualClock,
    ModelRef, Timestamp,
};
use serde_json::json;

const T0: i64 = 1_767_225_600_000; // 2026-01-01

/// A deterministic uniform value in [0, 1) for row `i`, stream `k`.
fn u(i: u64, k: u64) -> f64 {
    let mut z = (i + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ k.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z ^= z >> 31;
    z = z.wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 29;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// Call `i` of version `version` at `at`: cohort north (x around 0) or south (x around 5),
/// `shift` added to x for the cohorts in `shifted`; a user per 10 calls; every 20th fails.
fn call(i: u64, version: &str, at: i64, shift: f64, shifted: &[&str]) -> InferenceEvent {
    let cohort = if i.is_multiple_of(3) { "south" } else { "north" };
    let base = if cohort == "south" { 5.0 } else { 0.0 };
    let x = base + 4.0 * u(i, 1) + if shifted.contains(&cohort) { shift } else { 0.0 };
    let failed = (i + 13).is_multiple_of(20);
    InferenceEvent {
        id: format!("{version}-{at}-{i}"),
        model_name: "scorer".into(),
        model_version: version.into(),
        framework: Framework::Onnx,
        request_id: None,
        user_id: Some(format!("user-{}", i % 10)),
        session_id: None,
        features_in: json!({"x": x, "cohort": cohort}),
        prediction: json!(if x > 4.0 { "high" } else { "low" }),
        confidence: None,
        latency_ms: if version == "2" { 20.0 } else { 10.0 } + u(i, 2),
        timestamp: Timestamp::from_millis(at + i64::try_from(i).unwrap() * 100),
        error: failed.then(|| "boom".to_string()),
        actual_outcome: None,
        correct: None,
        feedback_timestamp: None,
    }
}

fn engine() -> Engine {
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(T0)));
    Engine::builder().clock(clock).tick_interval(None).build().unwrap()
}

fn v1() -> ModelRef {
    "scorer:1".parse().unwrap()
}

#[test]
fn a_canary_version_is_compared_with_the_version_it_replaces() {
    let e = engine();
    let reference: Vec<_> = (0..3000).map(|i| call(i, "1", T0, 0.0, &[])).collect();
    e.fit_baseline_from_events(&v1(), &reference, Default::default(), BaselineOptions::new())
        .unwrap();
    // Version 1 keeps its inputs; the canary version 2 sees x shifted for everyone.
    let mut current: Vec<_> = (0..2000).map(|i| call(i + 10_000, "1", T0, 0.0, &[])).collect();
    current.extend((0..1000).map(|i| call(i + 20_000, "2", T0, 1.0, &["north", "south"])));
    let report = e
        .check_drift_segments(
            &v1(),
            CurrentData::Events(&current),
            &SegmentConfig::by("modelVersion"),
            &DriftCheckConfig::default(),
        )
        .unwrap();
    assert_eq!(report.key, "modelVersion");
    let canary = report.segment(Some("2")).unwrap();
    assert_eq!(canary.compared_with, ComparedWith::Whole);
    assert_eq!(canary.rows, 950, "failed calls are not checked");
    assert!(canary.drifted, "{canary:#?}");
    let x = canary.report.as_ref().unwrap().features.iter().find(|f| f.feature_name == "x");
    assert!(x.unwrap().drifted);
    assert!(!report.segment(Some("1")).unwrap().drifted);
    assert_eq!(report.drifted_segments, 1);
    // Nothing was stored: a segmented check is a view, not a monitoring record.
    assert!(e.drift_metrics(&DriftQuery::new("scorer")).unwrap().is_empty());
}

#[test]
fn cohorts_are_compared_with_their_own_reference_segments() {
    let e = engine();
    let reference: Vec<_> = (0..3000).map(|i| call(i, "1", T0, 0.0, &[])).collect();
    // Without segment baselines, a feature key is refused: the cohorts differ by design.
    e.fit_baseline_from_events(&v1(), &reference, Default::default(), BaselineOptions::new())
        .unwrap();
    let current: Vec<_> = (0..3000).map(|i| call(i + 50_000, "1", T0, 1.5, &["south"])).collect();
    let by_cohort = SegmentConfig::by("cohort");
    let config = DriftCheckConfig::default();
    let e1 = e
        .check_drift_segments(&v1(), CurrentData::Events(&current), &by_cohort, &config)
        .unwrap_err();
    assert_eq!(e1.kind(), ErrorKind::InvalidInput);
    assert!(e1.to_string().contains("fit the baseline with segments by 'cohort'"), "{e1}");

    let stored = e
        .fit_baseline_from_events(
            &v1(),
            &reference,
            Default::default(),
            BaselineOptions::new().segment_by("cohort").segment_by("userId"),
        )
        .unwrap();
    assert_eq!(stored.segments.len(), 2);
    let cohorts = stored.segmented_by("cohort").unwrap();
    assert_eq!(cohorts.segment_rows()["south"], 950);
    assert!(stored.segmented_by("userId").unwrap().segment("user-3").is_some());
    // The stored record reads back with its segments.
    assert_eq!(e.baseline(&v1()).unwrap(), stored);

    let report =
        e.check_drift_segments(&v1(), CurrentData::Events(&current), &by_cohort, &config).unwrap();
    let south = report.segment(Some("south")).unwrap();
    assert_eq!(south.compared_with, ComparedWith::Segment);
    assert!(south.drifted);
    let north = report.segment(Some("north")).unwrap();
    assert!(!north.drifted, "{north:#?}");
    // The whole-population check sees the same shift, without saying where.
    let whole = e.check_drift(&v1(), CurrentData::Events(&current), &config).unwrap();
    assert!(whole.report.model.drifted);

    // Event fields split stored events; the drift window keeps no event fields.
    let users = e
        .check_drift_segments(
            &v1(),
            CurrentData::Events(&current),
            &SegmentConfig::by("userId"),
            &config,
        )
        .unwrap();
    assert_eq!(users.segments.len(), 10);
    assert!(users.segments.iter().all(|s| s.compared_with == ComparedWith::Segment));
    let window =
        e.check_drift_segments(&v1(), CurrentData::Window, &SegmentConfig::by("userId"), &config);
    assert!(window.unwrap_err().to_string().contains("event field 'userId'"));
}

#[test]
fn rollups_split_by_arm_cohort_and_version() {
    let e = engine();
    for i in 0..600 {
        e.recorder().record(call(i, "1", T0, 0.0, &[])).unwrap();
        e.recorder().record(call(i, "2", T0, 0.0, &[])).unwrap();
    }
    let query = MetricsQuery::new("scorer", Granularity::Hourly);
    let by_version = e.metrics_by_segment(&query, "modelVersion").unwrap();
    assert_eq!((by_version.events, by_version.truncated), (1200, false));
    let canary = by_version.segments.iter().find(|s| s.segment.as_deref() == Some("2")).unwrap();
    assert_eq!((canary.request_count, canary.error_count), (600, 30));
    // 600 calls 100 ms apart span one hour period; latency 20-21 ms for the canary.
    assert_eq!(canary.rows.len(), 1);
    let p50 = canary.rows[0].p50_latency.unwrap();
    assert!((20.0..21.5).contains(&p50), "{p50}");
    assert!(canary.rows[0].id.ends_with(":modelVersion=2"), "{}", canary.rows[0].id);

    let by_cohort = e.metrics_by_segment(&query.clone().version("1"), "cohort").unwrap();
    let counts: Vec<(Option<&str>, u64)> =
        by_cohort.segments.iter().map(|s| (s.segment.as_deref(), s.request_count)).collect();
    assert_eq!(counts, [(Some("north"), 400), (Some("south"), 200)]);
    let total: u64 = by_cohort.segments.iter().map(|s| s.error_count).sum();
    assert_eq!(total, 30);
    // The segments add up to the engine's own rollup of the version.
    e.flush().unwrap();
    let own = e.metrics(&query.clone().version("1")).unwrap();
    assert_eq!(own.iter().map(|r| r.request_count).sum::<u64>(), 600);

    // A key nobody has: one null segment with every call.
    let none = e.metrics_by_segment(&query, "arm").unwrap();
    assert_eq!(none.segments.len(), 1);
    assert_eq!((none.segments[0].segment.as_deref(), none.segments[0].request_count), (None, 1200));
    assert!(e.metrics_by_segment(&query, "").is_err());
    let stored = e.events(&EventQuery::new().model("scorer").limit(10)).unwrap();
    assert_eq!(stored.len(), 10);
}

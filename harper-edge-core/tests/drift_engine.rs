//! Drift monitoring through the engine: baselines fitted from stored calls or given, the
//! drift window fed by real inference calls, checks stored as DriftMetrics and
//! DataQualityMetrics rows (with outbox entries), concept drift from feedback.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::sync::Arc;
use std::time::Duration;

use harper_edge_core::drift::baseline::Column;
use harper_edge_core::drift::check::DriftType;
use harper_edge_core::drift::frame::Frame;
use harper_edge_core::drift::records::{DriftQuery, LabelCounts};
use harper_edge_core::monitor::{CurrentData, DriftCheckConfig};
use harper_edge_core::{
    BaselineOptions, Clock, Engine, ErrorKind, EventQuery, Framework, InferContext, ManualClock,
    ModelRef, ModelRegistration, SqliteStore, Table, Timestamp,
};
use serde_json::json;

const MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/iris_logreg.onnx");
const T0: i64 = 1_767_225_600_000; // 2026-01-01

/// A deterministic iris-like row `i` of a regime: `shift` moves the petal length.
fn row(i: u32, shift: f64) -> serde_json::Value {
    let u = |k: u32| f64::from((i * 7919 + k * 104_729) % 1000) / 1000.0;
    json!([[4.5 + 3.0 * u(1), 2.0 + 2.0 * u(2), 1.0 + 5.0 * u(3) + shift, 0.1 + 2.4 * u(4)]])
}

fn engine(clock: &Arc<ManualClock>, store: Option<Arc<SqliteStore>>) -> Engine {
    let mut b = Engine::builder().clock(clock.clone()).tick_interval(None);
    if let Some(s) = store {
        b = b.store(s);
    }
    let e = b.build().unwrap();
    if e.models().unwrap().is_empty() {
        e.register_model(ModelRegistration::new("iris", "1", Framework::Onnx).file(MODEL)).unwrap();
    }
    e
}

fn iris() -> ModelRef {
    "iris:1".parse().unwrap()
}

/// Runs `n` calls of a regime; labels every call with `label(prediction)`.
fn traffic(e: &Engine, clock: &ManualClock, n: u32, shift: f64, right: impl Fn(u32) -> bool) {
    for i in 0..n {
        let p = e.infer_json(&iris(), &row(i, shift), &InferContext::new()).unwrap();
        let truth = if right(i) { p.prediction.clone() } else { json!(99) };
        e.feedback(&p.inference_id, truth).unwrap();
        clock.advance(Duration::from_millis(100));
    }
}

#[test]
fn window_checks_see_the_calls_since_the_last_check_and_store_their_rows() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(T0)));
    let e = engine(&clock, None);
    traffic(&e, &clock, 400, 0.0, |i| i % 10 != 0); // 90 % right
    let stored =
        e.fit_baseline(&iris(), None, None, Default::default(), Default::default()).unwrap();
    assert_eq!(stored.accuracy, Some(LabelCounts { correct: 360, total: 400 }));
    assert_eq!(stored.prediction_features, ["confidence", "prediction"]);
    let names: Vec<&str> = stored.baseline.features().iter().map(|f| f.name()).collect();
    assert_eq!(names, ["confidence", "input[0]", "input[1]", "input[2]", "input[3]", "prediction"]);

    // No call since the baseline: nothing to compare.
    let config = DriftCheckConfig::default();
    let err = e.check_drift(&iris(), CurrentData::Window, &config).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("no successful call"), "{err}");

    // The same regime: nothing drifts.
    traffic(&e, &clock, 300, 0.0, |i| i % 10 != 0);
    let same = e.check_drift(&iris(), CurrentData::Window, &config).unwrap();
    let window = same.window.unwrap();
    assert_eq!((window.calls, window.sampled), (300, 300));
    let drifted: Vec<&str> = same
        .report
        .features
        .iter()
        .filter(|f| f.drifted)
        .map(|f| f.feature_name.as_str())
        .collect();
    assert!(drifted.is_empty(), "no drift expected, got {drifted:?}");
    let concept = same.concept.unwrap();
    assert_eq!((concept.current_correct, concept.current_total), (270, 300));
    assert!(!concept.drifted);
    assert_eq!(same.quality.total_records, 300);
    assert_eq!(same.rows.len(), 7, "six features and concept drift");

    // Longer petals and worse answers: input[2] drifts, so do the predictions, and the
    // accuracy drop is significant.
    clock.advance(Duration::from_secs(60));
    traffic(&e, &clock, 300, 1.5, |i| i % 2 == 0);
    let shifted = e.check_drift(&iris(), CurrentData::Window, &config).unwrap();
    let f = |name: &str| shifted.report.features.iter().find(|f| f.feature_name == name).unwrap();
    assert!(f("input[2]").drifted && f("input[2]").p_value.unwrap() < 1e-10);
    assert!(!f("input[0]").drifted);
    assert!(f("prediction").drifted);
    let concept = shifted.concept.unwrap();
    assert_eq!((concept.current_correct, concept.current_total), (150, 300));
    assert!(concept.drifted && concept.p_value.unwrap() < 1e-10);
    assert!(shifted.drifted());

    // Stored: newest first, typed by driftType, with the data-quality rows and the outbox.
    let rows = e.drift_metrics(&DriftQuery::new("iris")).unwrap();
    assert_eq!(rows.len(), 14);
    assert_eq!(rows[0].timestamp, shifted.timestamp);
    let concept_rows = e.drift_metrics(&DriftQuery::new("iris").drift_type(DriftType::Concept));
    assert_eq!(concept_rows.unwrap().len(), 2);
    let prediction_rows =
        e.drift_metrics(&DriftQuery::new("iris").drift_type(DriftType::Prediction)).unwrap();
    assert_eq!(prediction_rows.len(), 4);
    let quality = e.data_quality(&DriftQuery::new("iris").version("1")).unwrap();
    assert_eq!(quality.len(), 2);
    let outbox = e.outbox(0, usize::MAX).unwrap();
    let count = |t: Table| outbox.iter().filter(|o| o.table == t).count();
    assert_eq!(
        (count(Table::DriftBaseline), count(Table::DriftMetrics), count(Table::DataQualityMetrics)),
        (1, 14, 2)
    );
}

#[test]
fn given_columns_are_checked_and_a_failed_check_keeps_the_window() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(T0)));
    let e = engine(&clock, None);
    let x: Vec<f64> = (0..500).map(|i| f64::from(i % 100)).collect();
    let reference = Frame::from_json_columns(&json!({ "input[0]": x })).unwrap();
    let baseline = reference.fit_baseline(None, Default::default()).unwrap();
    let stored = e
        .set_baseline(
            &iris(),
            baseline,
            BaselineOptions::new().accuracy(LabelCounts::new(90, 100).unwrap()),
        )
        .unwrap();
    assert!(stored.prediction_features.is_empty());
    let bad = BaselineOptions::new().prediction_features(["nope"]);
    let err = e.set_baseline(&iris(), stored.baseline.clone(), bad).unwrap_err();
    assert!(err.to_string().contains("'nope'"), "{err}");
    assert!(e.baseline(&"other:1".parse().unwrap()).unwrap_err().kind() == ErrorKind::NotFound);

    // Columns: a shifted one drifts; labels give concept drift.
    let shifted: Vec<f64> = (0..500).map(|i| f64::from(i % 100) + 30.0).collect();
    let cols = [("input[0]", Column::Numeric(&shifted))];
    let labels = Some(LabelCounts::new(40, 100).unwrap());
    let r = e
        .check_drift(&iris(), CurrentData::Columns { columns: &cols, labels }, &Default::default())
        .unwrap();
    assert!(r.report.features[0].drifted);
    assert!(r.concept.unwrap().drifted);
    assert!(r.window.is_none());

    // A check that fails after taking the window (here: an invalid config) puts the calls
    // back for the next one.
    e.infer_json(&iris(), &row(1, 0.0), &InferContext::new()).unwrap();
    let mut config = DriftCheckConfig::default();
    config.drift.alpha = 2.0; // invalid: the check fails after taking the window
    assert!(e.check_drift(&iris(), CurrentData::Window, &config).is_err());
    let ok = e.check_drift(&iris(), CurrentData::Window, &Default::default()).unwrap();
    assert_eq!(ok.window.unwrap().calls, 1);
}

#[test]
fn a_reopened_engine_keeps_the_baseline_and_samples_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(T0)));
    {
        let e = engine(&clock, Some(Arc::new(SqliteStore::open(dir.path()).unwrap())));
        traffic(&e, &clock, 100, 0.0, |_| true);
        e.fit_baseline(&iris(), None, None, Default::default(), Default::default()).unwrap();
    }
    let e = engine(&clock, Some(Arc::new(SqliteStore::open(dir.path()).unwrap())));
    assert_eq!(e.baseline(&iris()).unwrap().baseline.features().len(), 6);
    // The window samples from the first call of the new process (the check is not what
    // starts it).
    traffic(&e, &clock, 50, 3.0, |_| true);
    let r = e.check_drift(&iris(), CurrentData::Window, &Default::default()).unwrap();
    assert_eq!(r.window.unwrap().calls, 50);
    assert!(r.report.features.iter().any(|f| f.feature_name == "input[2]" && f.drifted));
}

#[test]
fn events_kept_elsewhere_fit_and_check_and_records_restore_as_they_are() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(T0)));
    let e = engine(&clock, None);
    traffic(&e, &clock, 200, 0.0, |i| i % 4 != 0);
    let all = |e: &Engine| e.events(&EventQuery::new().model("iris").limit(100_000)).unwrap();
    let reference = all(&e);
    assert_eq!(reference.len(), 200);

    // Another engine (another worker) fits from the copy of the events.
    let other = engine(&clock, None);
    let stored = other
        .fit_baseline_from_events(
            &iris(),
            &reference,
            Default::default(),
            BaselineOptions::new().source("table"),
        )
        .unwrap();
    assert_eq!(stored.accuracy, Some(LabelCounts { correct: 150, total: 200 }));
    assert_eq!(stored.source.as_deref(), Some("table"));

    let start = clock.now();
    traffic(&e, &clock, 200, 1.5, |_| true);
    let current: Vec<_> = all(&e).into_iter().filter(|ev| ev.timestamp >= start).collect();
    let r = other.check_drift(&iris(), CurrentData::Events(&current), &Default::default()).unwrap();
    assert_eq!(r.window.unwrap().calls, 200);
    assert!(r.report.features.iter().any(|f| f.feature_name == "input[2]" && f.drifted));
    let concept = r.concept.unwrap();
    assert_eq!((concept.current_correct, concept.current_total), (200, 200));
    assert!(!concept.drifted, "accuracy went up");
    let none = other.check_drift(&iris(), CurrentData::Events(&[]), &Default::default());
    assert_eq!(none.unwrap_err().kind(), ErrorKind::InvalidInput);

    // A third engine loads the stored record as it is.
    let third = engine(&clock, None);
    third.restore_baseline(&stored).unwrap();
    assert_eq!(third.baseline(&iris()).unwrap(), stored);
    let mut bad = stored.clone();
    bad.id = "iris:2".into();
    assert_eq!(third.restore_baseline(&bad).unwrap_err().kind(), ErrorKind::InvalidInput);
}

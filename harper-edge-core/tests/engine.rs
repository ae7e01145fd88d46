//! The engine end to end on the committed iris model, checked against the reference outputs
//! ONNX Runtime produced (tests/data/make_iris_model.py).
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::sync::Arc;
use std::time::Duration;

use harper_edge_core::{
    Engine, ErrorKind, EventQuery, Framework, InferContext, Inputs, ManualClock, ModelRegistration,
    SqliteStore, Tensor, Timestamp,
};
use serde_json::{Value, json};

const MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/iris_logreg.onnx");
const REFERENCE: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/iris_logreg.reference.json");

struct Reference {
    inputs: Vec<Vec<f32>>,
    labels: Vec<i64>,
    probabilities: Vec<Vec<f32>>,
    tolerance: f32,
}

fn reference() -> Reference {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(REFERENCE).unwrap()).unwrap();
    let rows = |key: &str| -> Vec<Vec<f32>> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect())
            .collect()
    };
    Reference {
        inputs: rows("inputs"),
        labels: v["labels"].as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect(),
        probabilities: rows("probabilities"),
        tolerance: v["tolerance"].as_f64().unwrap() as f32,
    }
}

fn engine_with_iris() -> Engine {
    let engine = Engine::in_memory().unwrap();
    engine
        .register_model(
            ModelRegistration::new("iris", "1", Framework::Onnx)
                .file(MODEL)
                .metadata(json!({"taskType": "classification"})),
        )
        .unwrap();
    engine
}

#[test]
fn batch_matches_onnxruntime_reference() {
    let r = reference();
    let engine = engine_with_iris();
    let flat: Vec<f32> = r.inputs.concat();
    let inputs = Inputs::single(Tensor::from_f32(&[r.inputs.len(), 4], &flat).unwrap());
    let p = engine.infer(&"iris:1".parse().unwrap(), &inputs, &InferContext::new()).unwrap();

    let labels = p.outputs.get("label").unwrap().as_i64().unwrap();
    assert_eq!(labels, r.labels.as_slice());
    let probs = p.outputs.get("probabilities").unwrap();
    assert_eq!(probs.shape(), &[r.inputs.len(), 3]);
    for (got, want) in probs.as_f32().unwrap().iter().zip(r.probabilities.concat()) {
        assert!((got - want).abs() <= r.tolerance, "{got} vs {want}");
    }
    assert_eq!(p.prediction, json!(r.labels));
}

#[test]
fn single_rows_match_reference_and_are_recorded() {
    let r = reference();
    let engine = engine_with_iris();
    let model = "iris".parse().unwrap();
    for (row, (&label, probs)) in r.inputs.iter().zip(r.labels.iter().zip(&r.probabilities)) {
        let p = engine.infer_json(&model, &json!(row), &InferContext::new().user_id("u1")).unwrap();
        assert_eq!(p.prediction, json!(label));
        let max = probs.iter().copied().fold(f32::MIN, f32::max);
        assert!((p.confidence.unwrap() - f64::from(max)).abs() < 1e-5);
        assert!(p.latency_ms > 0.0);
    }
    let events = engine.events(&EventQuery::new().model("iris").limit(1000)).unwrap();
    assert_eq!(events.len(), r.inputs.len());
    let last = &events[0];
    assert_eq!(last.user_id.as_deref(), Some("u1"));
    let features: Vec<Vec<f32>> = serde_json::from_value(last.features_in.clone()).unwrap();
    assert_eq!(features, [r.inputs.last().unwrap().clone()], "features round-trip exactly");
    assert_eq!(last.model_version, "1");
}

#[test]
fn feedback_marks_correctness_later() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(1_700_000_000_000)));
    let engine = Engine::builder().clock(clock.clone()).tick_interval(None).build().unwrap();
    engine
        .register_model(ModelRegistration::new("iris", "1", Framework::Onnx).file(MODEL))
        .unwrap();
    let p = engine
        .infer_json(&"iris".parse().unwrap(), &json!([[6.7, 3.0, 5.2, 2.3]]), &InferContext::new())
        .unwrap();
    assert_eq!(p.prediction, json!(2));

    clock.advance(Duration::from_secs(3 * 86_400));
    let wrong = engine.feedback(&p.inference_id, json!(1)).unwrap();
    assert_eq!(wrong.correct, Some(false));
    let right = engine.feedback(&p.inference_id, json!(2)).unwrap();
    assert_eq!(right.correct, Some(true));
    assert_eq!(right.actual_outcome, Some(json!(2)));
    assert_eq!(
        right.feedback_timestamp.unwrap().as_millis() - right.timestamp.as_millis(),
        3 * 86_400_000
    );
    assert_eq!(engine.event(&p.inference_id).unwrap(), right);

    assert_eq!(engine.feedback("no-such-id", json!(1)).unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(
        engine.feedback(&p.inference_id, Value::Null).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

#[test]
fn typed_errors_for_unknown_model_wrong_shape_and_corrupt_file() {
    let engine = engine_with_iris();
    let err = engine
        .infer_json(&"nope".parse().unwrap(), &json!([1, 2, 3, 4]), &InferContext::new())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.to_string(), "model 'nope' not found");

    let err = engine
        .infer_json(&"iris".parse().unwrap(), &json!([1, 2, 3]), &InferContext::new())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Shape);
    assert!(err.to_string().contains("expected shape [?, 4], got [1, 3]"), "{err}");
    // The failed call is recorded with its error, so error rates count it.
    let events = engine.events(&EventQuery::new()).unwrap();
    assert_eq!(events.len(), 1);
    assert!(events[0].error.as_deref().unwrap().contains("expected shape"));
    assert_eq!(
        engine.feedback(&events[0].id, json!(1)).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );

    let err = engine
        .register_model(
            ModelRegistration::new("bad", "1", Framework::Onnx)
                .bytes(b"not an onnx model".to_vec()),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ModelLoad);
    assert!(
        engine.models().unwrap().iter().all(|m| m.model_name != "bad"),
        "a corrupt model is not stored"
    );

    let mut truncated = std::fs::read(MODEL).unwrap();
    truncated.truncate(truncated.len() / 2);
    let err = engine
        .register_model(ModelRegistration::new("bad", "2", Framework::Onnx).bytes(truncated))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ModelLoad);
}

#[test]
fn re_registration_is_idempotent_but_a_different_file_conflicts() {
    let engine = engine_with_iris();
    let again = engine
        .register_model(ModelRegistration::new("iris", "1", Framework::Onnx).file(MODEL))
        .unwrap();
    assert_eq!(again.model_name, "iris");
    assert_eq!(engine.models().unwrap().len(), 1);
    let mut other = std::fs::read(MODEL).unwrap();
    other.extend_from_slice(b"\0"); // still parses? either way it must not replace v1
    let err = engine
        .register_model(ModelRegistration::new("iris", "1", Framework::Onnx).bytes(other))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
}

#[test]
fn model_schema_is_read_from_the_file() {
    let engine = engine_with_iris();
    let m = engine.model(&"iris:1".parse().unwrap()).unwrap();
    assert_eq!(m.input_schema.len(), 1);
    assert_eq!(m.input_schema[0].name, "X");
    assert_eq!(m.input_schema[0].shape, vec![None, Some(4)]);
    let outputs: Vec<_> = m.output_schema.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(outputs, ["label", "probabilities"]);
    assert_eq!(m.blob_size, std::fs::metadata(MODEL).unwrap().len());
}

#[test]
fn sqlite_engine_keeps_models_and_events_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let engine = Engine::open(dir.path()).unwrap();
        engine
            .register_model(ModelRegistration::new("iris", "1", Framework::Onnx).file(MODEL))
            .unwrap();
        engine
            .infer_json(
                &"iris".parse().unwrap(),
                &json!([5.1, 3.5, 1.4, 0.2]),
                &InferContext::new(),
            )
            .unwrap()
            .inference_id
    };
    let engine = Engine::open(dir.path()).unwrap();
    // A new process loads the model from the content-addressed file.
    let p = engine
        .infer_json(&"iris".parse().unwrap(), &json!([5.1, 3.5, 1.4, 0.2]), &InferContext::new())
        .unwrap();
    assert_eq!(p.prediction, json!(0));
    assert_eq!(engine.feedback(&id, json!(0)).unwrap().correct, Some(true));
    assert_eq!(engine.events(&EventQuery::new()).unwrap().len(), 2);
}

#[test]
fn tampered_model_file_is_an_integrity_error() {
    let dir = tempfile::tempdir().unwrap();
    let sha = {
        let engine = Engine::open(dir.path()).unwrap();
        engine
            .register_model(ModelRegistration::new("iris", "1", Framework::Onnx).file(MODEL))
            .unwrap()
            .sha256
    };
    std::fs::write(dir.path().join("models").join(&sha), b"tampered").unwrap();
    let engine = Engine::open(dir.path()).unwrap();
    let err = engine
        .infer_json(&"iris".parse().unwrap(), &json!([5.1, 3.5, 1.4, 0.2]), &InferContext::new())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Integrity);
}

#[test]
fn outbox_lets_a_host_mirror_every_record_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_with(
        dir.path(),
        harper_edge_core::store::SqliteOptions::new().outbox(true),
    )
    .unwrap();
    let engine = Engine::builder().store(Arc::new(store)).build().unwrap();
    engine
        .register_model(ModelRegistration::new("iris", "1", Framework::Onnx).file(MODEL))
        .unwrap();
    let p = engine
        .infer_json(&"iris".parse().unwrap(), &json!([5.1, 3.5, 1.4, 0.2]), &InferContext::new())
        .unwrap();
    engine.feedback(&p.inference_id, json!(0)).unwrap();

    let mut mirror = std::collections::HashMap::new();
    let mut cursor = 0;
    loop {
        let batch = engine.outbox(cursor, 2).unwrap();
        let Some(last) = batch.last() else { break };
        cursor = last.seq;
        for e in batch {
            mirror.insert((e.table, e.id), e.record);
        }
    }
    assert_eq!(mirror.len(), 2, "one model, one event (updated in place)");
    let event = &mirror[&(harper_edge_core::Table::InferenceEvent, p.inference_id.clone())];
    assert_eq!(event["correct"], json!(true));
    assert_eq!(event["modelName"], json!("iris"));
    assert!(event.get("featuresIn").is_some() && event.get("latencyMs").is_some());
    assert_eq!(engine.prune_outbox(cursor).unwrap(), 3);
}

#[test]
fn engine_is_shared_across_threads() {
    let engine = Arc::new(engine_with_iris());
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let engine = Arc::clone(&engine);
            std::thread::spawn(move || {
                for _ in 0..25 {
                    engine
                        .infer_json(
                            &"iris:1".parse().unwrap(),
                            &json!([5.1, 3.5, 1.4, 0.2]),
                            &InferContext::new(),
                        )
                        .unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(engine.events(&EventQuery::new().limit(1000)).unwrap().len(), 100);
}

#[test]
fn realtime_view_counts_calls_errors_and_late_feedback_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(1_700_000_000_000)));
    let open = || {
        let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
        Engine::builder().store(store).clock(clock.clone()).tick_interval(None).build().unwrap()
    };
    let engine = open();
    engine
        .register_model(ModelRegistration::new("iris", "1", Framework::Onnx).file(MODEL))
        .unwrap();
    let iris = "iris".parse().unwrap();
    let mut ids = Vec::new();
    for i in 0..20 {
        clock.advance(Duration::from_secs(5));
        let row = if i % 5 == 0 { json!([1, 2, 3]) } else { json!([6.7, 3.0, 5.2, 2.3]) };
        match engine.infer_json(&iris, &row, &InferContext::new()) {
            Ok(p) => ids.push(p.inference_id),
            Err(e) => assert_eq!(e.kind(), ErrorKind::Shape),
        }
    }
    engine.feedback(&ids[0], json!(2)).unwrap();
    engine.feedback(&ids[1], json!(0)).unwrap();
    engine.feedback(&ids[1], json!(2)).unwrap(); // corrected: counted once, as correct

    let live = engine.realtime(&iris).unwrap();
    assert_eq!((live.request_count, live.error_count), (20, 4));
    assert!((live.error_rate - 0.2).abs() < 1e-12);
    assert_eq!((live.labelled_count, live.accuracy), (2, Some(1.0)));
    assert!(live.p99_latency.unwrap() <= live.max_latency.unwrap() * 1.01);
    assert!(live.avg_confidence.unwrap() > 0.5);

    // A new process over the same store sees the same view.
    let restarted = open();
    assert_eq!(restarted.realtime(&iris).unwrap(), live);

    // Ten minutes without traffic: the window is empty, accuracy unknown.
    clock.advance(Duration::from_secs(600));
    let idle = engine.realtime(&iris).unwrap();
    assert_eq!((idle.request_count, idle.accuracy, idle.p50_latency), (0, None, None));
    assert_eq!(engine.realtime(&"nope".parse().unwrap()).unwrap_err().kind(), ErrorKind::NotFound);
}

#[test]
fn rollups_close_on_tick_merge_late_calls_and_roll_up_to_hours_and_days() {
    use harper_edge_core::{Granularity, MetricsQuery};
    let start = 1_700_006_400_000; // a day boundary (UTC midnight) plus nothing
    assert_eq!(start % 86_400_000, 0);
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(start)));
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let engine = Engine::builder()
        .store(store.clone())
        .clock(clock.clone())
        .tick_interval(None)
        .build()
        .unwrap();
    engine
        .register_model(ModelRegistration::new("iris", "1", Framework::Onnx).file(MODEL))
        .unwrap();
    let iris = "iris".parse().unwrap();
    let good = json!([6.7, 3.0, 5.2, 2.3]);
    // Two hours of traffic, one call a minute, every tenth one malformed.
    for minute in 0..120 {
        clock.set(Timestamp::from_millis(start + minute * 60_000));
        let row = if minute % 10 == 0 { json!([1, 2]) } else { good.clone() };
        let _ = engine.infer_json(&iris, &row, &InferContext::new());
        if minute % 7 == 0 {
            engine.tick().unwrap();
        }
    }
    engine.tick().unwrap();
    let five = MetricsQuery::new("iris", Granularity::FiveMinutes);
    let rows = engine.metrics(&five).unwrap();
    // The period 01:55-02:00 is still open at 01:59: 23 closed periods of five calls.
    assert_eq!(rows.len(), 23);
    assert!(rows.iter().all(|r| r.request_count == 5));
    assert_eq!(rows.iter().map(|r| r.error_count).sum::<u64>(), 12);
    assert!(rows.windows(2).all(|w| w[0].period_start < w[1].period_start));

    // Flushing writes the open period too; the hourly rows are the merge of their 5-minute rows.
    engine.flush().unwrap();
    let hourly = engine.metrics(&MetricsQuery::new("iris", Granularity::Hourly)).unwrap();
    assert_eq!(
        hourly.iter().map(|r| (r.request_count, r.error_count)).collect::<Vec<_>>(),
        [(60, 6), (60, 6)]
    );
    let first_hour = engine
        .metrics(&five.clone().between(None, Some(Timestamp::from_millis(start + 3_600_000))))
        .unwrap();
    let merged = harper_edge_core::ModelMetrics::merged(
        "iris",
        "1",
        Granularity::Hourly,
        Timestamp::from_millis(start),
        &first_hour,
    )
    .unwrap();
    assert_eq!(hourly[0], merged);
    assert!((hourly[0].error_rate - 0.1).abs() < 1e-12);
    assert!((hourly[0].throughput_per_second - 60.0 / 3600.0).abs() < 1e-12);
    let daily = engine.metrics(&MetricsQuery::new("iris", Granularity::Daily)).unwrap();
    assert_eq!(daily.len(), 1);
    assert_eq!(daily[0].request_count, 120);
    assert_eq!(daily[0].max_latency, hourly.iter().filter_map(|r| r.max_latency).reduce(f64::max));

    // A late call for a period already written is merged into its row, and up the chain.
    let before = rows[0].clone();
    clock.set(Timestamp::from_millis(start + 60_000));
    engine.infer_json(&iris, &good, &InferContext::new()).unwrap();
    clock.set(Timestamp::from_millis(start + 3 * 3_600_000));
    engine.tick().unwrap();
    let after = harper_edge_core::Store::metrics_row(store.as_ref(), &before.id).unwrap().unwrap();
    assert_eq!(after.request_count, before.request_count + 1);
    assert_eq!(
        engine.metrics(&MetricsQuery::new("iris", Granularity::Daily)).unwrap()[0].request_count,
        121
    );
}

/// Runs in a child process: records, flushes, records more, and dies without flushing.
fn crashing_child(dir: &std::path::Path) {
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(1_700_006_400_000)));
    let engine = Engine::builder()
        .store(Arc::new(SqliteStore::open(dir).unwrap()))
        .clock(clock.clone())
        .tick_interval(None)
        .build()
        .unwrap();
    engine
        .register_model(ModelRegistration::new("iris", "1", Framework::Onnx).file(MODEL))
        .unwrap();
    let call = || {
        engine
            .infer_json(
                &"iris".parse().unwrap(),
                &json!([5.1, 3.5, 1.4, 0.2]),
                &InferContext::new(),
            )
            .unwrap();
    };
    (0..5).for_each(|_| call());
    clock.advance(Duration::from_secs(300));
    engine.tick().unwrap();
    (0..3).for_each(|_| call());
    std::process::abort();
}

#[test]
fn a_killed_process_loses_only_what_it_had_not_flushed() {
    use harper_edge_core::{Granularity, MetricsQuery};
    const CHILD: &str = "HARPER_EDGE_CRASH_CHILD";
    if let Some(dir) = std::env::var_os(CHILD) {
        crashing_child(std::path::Path::new(&dir));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "a_killed_process_loses_only_what_it_had_not_flushed", "--nocapture"])
        .env(CHILD, dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "the child aborts");

    // The store opens (it checks its integrity) and holds exactly what was flushed.
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(1_700_006_700_000)));
    let engine = Engine::builder()
        .store(Arc::new(SqliteStore::open(dir.path()).unwrap()))
        .clock(clock)
        .tick_interval(None)
        .build()
        .unwrap();
    assert_eq!(engine.events(&EventQuery::new()).unwrap().len(), 5, "flushed events survive");
    let rows = engine.metrics(&MetricsQuery::new("iris", Granularity::FiveMinutes)).unwrap();
    assert_eq!(rows.iter().map(|r| r.request_count).collect::<Vec<_>>(), [5]);
    assert_eq!(engine.models().unwrap().len(), 1);
}

#[test]
fn calls_without_a_version_follow_newer_registrations_by_other_processes() {
    let dir = tempfile::tempdir().unwrap();
    let open = || {
        let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
        Engine::builder().store(store).tick_interval(None).build().unwrap()
    };
    let (a, b) = (open(), open());
    a.register_model(ModelRegistration::new("iris", "1", Framework::Onnx).file(MODEL)).unwrap();
    let row = json!([5.1, 3.5, 1.4, 0.2]);
    let version = |e: &Engine| {
        e.infer_json(&"iris".parse().unwrap(), &row, &InferContext::new()).unwrap().model_version
    };
    assert_eq!(version(&a), "1");
    // Another process registers version 2: this one sees it once its cached answer expires.
    b.register_model(ModelRegistration::new("iris", "2", Framework::Onnx).file(MODEL)).unwrap();
    assert_eq!(version(&b), "2", "the registering process sees it at once");
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(version(&a), "2");
}

#[test]
fn the_model_cache_keeps_the_most_recently_used_and_counts() {
    let engine = Engine::builder().model_cache_capacity(2).tick_interval(None).build().unwrap();
    for v in ["1", "2", "3"] {
        engine
            .register_model(ModelRegistration::new("iris", v, Framework::Onnx).file(MODEL))
            .unwrap();
    }
    // Registering loads: three models in a cache of two, so iris:1 went out.
    let stats = engine.cache_stats();
    assert_eq!((stats.capacity, stats.loaded, stats.evictions), (2, 2, 1));
    let row = [5.1_f32, 3.5, 1.4, 0.2];
    let call = |v: &str| {
        let inputs = Inputs::single(Tensor::from_f32(&[1, 4], &row).unwrap());
        engine.infer(&format!("iris:{v}").parse().unwrap(), &inputs, &InferContext::new()).unwrap()
    };
    call("3");
    call("1"); // a miss: loaded again, iris:2 (least recently used) goes out
    call("1");
    call("3");
    let stats = engine.cache_stats();
    assert_eq!((stats.hits, stats.misses, stats.evictions, stats.loaded), (3, 1, 2, 2));
    call("2"); // iris:1 was used before iris:3 last: it goes
    assert_eq!(engine.cache_stats().evictions, 3);
    call("3");
    assert_eq!(engine.cache_stats().misses, 2, "iris:3 stayed");

    // Many threads on one cached model: every call answers, each counted once.
    let engine = Arc::new(engine);
    let before = engine.cache_stats();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let engine = Arc::clone(&engine);
            std::thread::spawn(move || {
                for _ in 0..50 {
                    let inputs = Inputs::single(Tensor::from_f32(&[1, 4], &row).unwrap());
                    let p = engine
                        .infer(&"iris:3".parse().unwrap(), &inputs, &InferContext::new())
                        .unwrap();
                    assert_eq!(p.prediction, json!(0));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let after = engine.cache_stats();
    assert_eq!(after.hits - before.hits, 400);
    assert_eq!(after.misses, before.misses);
}

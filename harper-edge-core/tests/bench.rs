//! The benchmark engine on real models: equivalence groups, the agreement check (labels,
//! max abs difference, cosine), the winner rule, errors counted per model, progress, the
//! stored `BenchmarkResult` records and their history — statistics and rules, never timings.
//!
//! Models: the committed scikit-learn exports (iris logistic regression and forest classifier;
//! forest and gradient-boosting regressors) on tract and, with feature `ort`, ONNX Runtime;
//! the real all-MiniLM-L6-v2 on every compiled backend (`scripts/setup_models.sh`).
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::time::Duration;

use harper_edge_core::bench::{
    AgreementMetric, BenchInputs, BenchOptions, BenchPhase, BenchQuery, BenchmarkResult,
};
use harper_edge_core::fetch::jobs::{FetchRequest, JobRegistration, JobState, SourceSpec};
use harper_edge_core::{Engine, ErrorKind, Framework, ModelRegistration};
use serde_json::{Value, json};

fn data(file: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data")).join(file)
}

fn register(engine: &Engine, name: &str, version: &str, file: &str, metadata: Value) {
    engine
        .register_model(
            ModelRegistration::new(name, version, Framework::Onnx)
                .file(data(file))
                .metadata(metadata),
        )
        .unwrap();
}

/// The reference rows of a committed model (the inputs its reference outputs were made on).
fn reference_rows(file: &str) -> BenchInputs {
    let reference: Value =
        serde_json::from_str(&std::fs::read_to_string(data(file)).unwrap()).unwrap();
    BenchInputs::from_json(&reference["inputs"]).unwrap()
}

fn backends() -> Vec<&'static str> {
    if cfg!(feature = "ort") { vec!["tract", "ort"] } else { vec!["tract"] }
}

fn quick(batch_sizes: Vec<usize>, concurrency: Vec<usize>) -> BenchOptions {
    BenchOptions { warmup: 2, iterations: 12, batch_sizes, concurrency, ..BenchOptions::default() }
}

/// Checks what holds for every result whatever the timings.
fn check_shape(result: &BenchmarkResult, options: &BenchOptions) {
    assert_eq!(result.model_ids[0], result.reference_model, "the reference runs first");
    assert_eq!(result.results.len(), result.model_ids.len());
    for r in &result.results {
        if r.load_ms.is_none() {
            continue;
        }
        if r.agrees || r.is_reference {
            assert_eq!(r.cells.len(), options.batch_sizes.len() * options.concurrency.len());
        }
        for c in &r.cells {
            assert_eq!(c.calls, options.iterations);
            let l = c.latency.unwrap();
            assert_eq!(l.count + c.errors, options.iterations);
            assert!(l.min_us > 0.0 && l.min_us <= l.p50_us && l.p50_us <= l.p95_us);
            assert!(l.p95_us <= l.p99_us && l.p99_us <= l.max_us);
            assert!(l.min_us <= l.mean_us && l.mean_us <= l.max_us);
            assert!(c.throughput_per_sec > 0.0 && c.wall_ms > 0.0);
            // Items per second cannot beat every call running back to back on all threads.
            #[allow(clippy::cast_precision_loss)]
            let bound = (c.batch_size * c.concurrency) as f64 / (l.min_us / 1e6);
            assert!(c.throughput_per_sec <= bound * 1.01, "{} > {bound}", c.throughput_per_sec);
        }
        assert_eq!(r.latency, r.cells.first().and_then(|c| c.latency));
    }
    // The winner rule: the lowest first-cell p50 among models that agree and had no errors.
    let qualified: Vec<_> = result
        .results
        .iter()
        .filter(|r| r.agrees && r.error_count == 0 && r.latency.is_some())
        .collect();
    let best = qualified
        .iter()
        .min_by(|a, b| a.latency.unwrap().p50_us.total_cmp(&b.latency.unwrap().p50_us))
        .map(|r| r.model_id.clone());
    assert_eq!(result.winner, best);
}

#[test]
fn classifiers_on_every_backend_agree_and_one_wins() {
    let engine = Engine::in_memory().unwrap();
    let group =
        json!({"taskType": "classification", "equivalenceGroup": "iris", "outputDimensions": [3]});
    for backend in backends() {
        let mut metadata = group.clone();
        metadata["backend"] = json!(backend);
        metadata["benchmarkReference"] = json!(backend == "tract");
        register(&engine, "iris", backend, "iris_logreg.onnx", metadata);
    }
    register(&engine, "iris-forest", "1", "sklearn_forest_classifier.onnx", group.clone());

    let groups = engine.benchmark_groups().unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(
        (groups[0].task_type.as_str(), groups[0].problem.as_ref()),
        ("classification", None)
    );
    assert_eq!(groups[0].output_dimensions, Some(json!([3])));

    let options = BenchOptions {
        inputs: Some(reference_rows("iris_logreg.reference.json")),
        run_by: Some("tests".into()),
        ..quick(vec![1, 8], vec![1, 2])
    };
    let mut seen = Vec::new();
    let result = engine
        .benchmark_with_progress("iris", &options, &mut |p| {
            seen.push((p.model.to_string(), p.phase, p.done, p.total))
        })
        .unwrap();
    check_shape(&result, &options);
    assert_eq!(result.reference_model, "iris:tract", "metadata benchmarkReference picks it");
    assert_eq!(result.test_data_summary["kind"], "rows");
    assert_eq!(result.test_data_summary["count"], 18);
    let forest = result.model("iris-forest:1").unwrap();
    let agreement = forest.agreement.as_ref().unwrap();
    assert_eq!((agreement.metric, agreement.compared), (AgreementMetric::Labels, 16));
    if cfg!(feature = "ort") {
        // The same file on ONNX Runtime: the same labels, probabilities within 1e-5.
        let ort = result.model("iris:ort").unwrap();
        let a = ort.agreement.as_ref().unwrap();
        assert_eq!(a.label_agreement, Some(1.0));
        assert!(a.max_abs_diff.unwrap() < 1e-5, "{a:?}");
        assert!(ort.agrees && ort.error_count == 0);
        assert_eq!(ort.backend.as_deref(), Some("ort"));
    }
    let reference = result.model("iris:tract").unwrap();
    assert!(reference.is_reference && reference.agrees && reference.agreement.is_none());
    assert!(reference.load_ms.unwrap() > 0.0);
    assert!(result.winner.is_some());

    // Progress: every model's phases in order, `done` never going back, ending at the total.
    let total = seen[0].3;
    assert!(seen.windows(2).all(|w| w[0].2 <= w[1].2), "done only grows");
    assert_eq!(seen.last().unwrap().2, total);
    assert_eq!(total, 3 * (1 + 4 * (2 + 12)));
    for id in &result.model_ids {
        let phases: Vec<BenchPhase> = seen.iter().filter(|s| &s.0 == id).map(|s| s.1).collect();
        assert_eq!(phases.first(), Some(&BenchPhase::Load));
        assert_eq!(phases.last(), Some(&BenchPhase::Done));
    }

    // Stored, and listed by the history.
    assert_eq!(engine.benchmark_result(&result.id).unwrap(), result);
    let again =
        engine.benchmark("iris", &BenchOptions { persist: false, ..options.clone() }).unwrap();
    assert_ne!(again.id, result.id);
    let history = engine.benchmark_history(&BenchQuery::default()).unwrap();
    assert_eq!(history.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [result.id.as_str()]);
    let none = BenchQuery { equivalence_group: Some("other".into()), ..BenchQuery::default() };
    assert!(engine.benchmark_history(&none).unwrap().is_empty());
    let err = engine.benchmark_result("bench-nope").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);

    let md = result.to_markdown();
    for id in &result.model_ids {
        assert!(md.contains(&format!("`{id}`")), "{md}");
    }
    assert!(md.contains("| model | batch | concurrency |") && md.contains("Winner"), "{md}");
    // Benchmark calls are not telemetry.
    assert!(engine.events(&harper_edge_core::EventQuery::default()).unwrap().is_empty());
}

#[test]
fn a_regressor_that_answers_differently_cannot_win() {
    let engine = Engine::in_memory().unwrap();
    let group = json!({"taskType": "regression", "equivalenceGroup": "forest"});
    for backend in backends() {
        let mut metadata = group.clone();
        metadata["backend"] = json!(backend);
        register(&engine, "forest", backend, "sklearn_forest_regressor.onnx", metadata);
    }
    register(&engine, "gbr", "1", "sklearn_gbr.onnx", group);
    // Synthetic inputs: standard-normal rows as wide as the reference's input (10).
    let options = quick(vec![4], vec![1]);
    let result = engine.benchmark("forest", &options).unwrap();
    check_shape(&result, &options);
    let first = if cfg!(feature = "ort") { "forest:ort" } else { "forest:tract" };
    assert_eq!(result.reference_model, first, "the first by id");
    assert_eq!(
        result.test_data_summary,
        json!({"kind": "rows", "source": "synthetic", "count": 64, "width": 10})
    );
    let gbr = result.model("gbr:1").unwrap();
    let a = gbr.agreement.as_ref().unwrap();
    assert_eq!(a.metric, AgreementMetric::MaxAbsDiff);
    assert!(a.max_abs_diff.unwrap() > 1e-3 && !a.passed && !gbr.agrees, "{a:?}");
    assert_ne!(result.winner.as_deref(), Some("gbr:1"));
    if cfg!(feature = "ort") {
        // The same forest on the other backend: within 1e-4.
        let other = result.model("forest:tract").unwrap().agreement.clone().unwrap();
        assert!(other.passed && other.max_abs_diff.unwrap() < 1e-4, "{other:?}");
    }
}

#[test]
fn groups_that_cannot_be_compared_are_refused_before_running() {
    let engine = Engine::in_memory().unwrap();
    register(
        &engine,
        "a",
        "1",
        "iris_logreg.onnx",
        json!({"taskType": "classification", "equivalenceGroup": "g", "outputDimensions": [3]}),
    );
    register(
        &engine,
        "b",
        "1",
        "sklearn_forest_classifier.onnx",
        json!({"taskType": "classification", "equivalenceGroup": "g", "outputDimensions": [4]}),
    );
    register(
        &engine,
        "solo",
        "1",
        "iris_logreg.onnx",
        json!({"taskType": "classification", "equivalenceGroup": "alone"}),
    );
    let options = quick(vec![1], vec![1]);

    let err = engine.benchmark("g", &options).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.to_string().contains("dimension mismatch") && err.to_string().contains("[4]"),
        "{err}"
    );
    let err = engine.benchmark("alone", &options).unwrap_err();
    assert!(err.to_string().contains("at least two models"), "{err}");
    let err = engine.benchmark("nothing", &options).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("alone, g"), "names the groups: {err}");
    for bad in [
        BenchOptions { iterations: 0, ..options.clone() },
        BenchOptions { batch_sizes: vec![0], ..options.clone() },
        BenchOptions { concurrency: vec![], ..options.clone() },
        BenchOptions { reference: Some("solo:1".into()), ..options.clone() },
    ] {
        let err = engine.benchmark("g", &bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
    }
    // Nothing ran, nothing stored.
    assert!(engine.benchmark_history(&BenchQuery::default()).unwrap().is_empty());
}

#[test]
fn a_model_that_cannot_take_the_inputs_counts_errors_and_the_rest_still_runs() {
    let engine = Engine::in_memory().unwrap();
    let group = json!({"taskType": "classification", "equivalenceGroup": "mixed"});
    register(&engine, "iris", "1", "iris_logreg.onnx", group.clone());
    // Ten inputs where the group's rows have four.
    register(&engine, "wide", "1", "sklearn_forest_regressor.onnx", group);
    let options = quick(vec![1], vec![1]);
    let result = engine.benchmark("mixed", &options).unwrap();
    check_shape(&result, &options);
    let wide = result.model("wide:1").unwrap();
    assert!(!wide.agrees && wide.cells.is_empty() && wide.agreement.is_none());
    assert_eq!((wide.error_count, wide.error_rate), (1, 1.0));
    assert!(wide.errors[0].contains("dimension mismatch"), "{:?}", wide.errors);
    assert_eq!(result.winner.as_deref(), Some("iris:1"));
    assert!(result.to_markdown().contains("dimension mismatch"));
    // Texts for a tabular reference: refused, naming the model.
    let texts = BenchOptions { inputs: Some(BenchInputs::synthetic_texts(4, 1)), ..options };
    let err = engine.benchmark("mixed", &texts).unwrap_err();
    assert!(err.to_string().contains("does not take text"), "{err}");
}

#[test]
fn results_survive_reopening_the_store() {
    let home = tempfile::tempdir().unwrap();
    let id = {
        let engine = Engine::open(home.path()).unwrap();
        let group = json!({"taskType": "classification", "equivalenceGroup": "iris"});
        register(&engine, "iris", "1", "iris_logreg.onnx", group.clone());
        register(&engine, "iris", "2", "iris_logreg.onnx", group);
        engine.benchmark("classification/iris", &quick(vec![1], vec![1])).unwrap().id
    };
    let engine = Engine::open(home.path()).unwrap();
    let query = BenchQuery {
        equivalence_group: Some("iris".into()),
        limit: Some(5),
        ..BenchQuery::default()
    };
    let history = engine.benchmark_history(&query).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].id, id);
    // The same file twice: identical answers.
    let second = history[0].model("iris:2").unwrap().agreement.clone().unwrap();
    assert_eq!((second.label_agreement, second.max_abs_diff), (Some(1.0), Some(0.0)));
}

#[test]
fn sentence_encoders_on_every_backend_give_the_same_vectors() {
    let home = tempfile::tempdir().unwrap();
    let engine = Engine::open(home.path()).unwrap();
    let dir = common::minilm_dir();
    let mut variants = vec![("tract", "model.onnx", "tract")];
    if cfg!(feature = "ort") {
        variants.push(("ort", "model.onnx", "ort"));
    }
    if cfg!(feature = "candle") {
        variants.push(("candle", "model.safetensors", "candle"));
    }
    for (version, main, backend) in &variants {
        let request = FetchRequest::new(
            "minilm",
            *version,
            SourceSpec::fs(dir.parent().unwrap(), dir.file_name().unwrap().to_str().unwrap()),
        )
        .registration(JobRegistration {
            metadata: json!({"backend": backend, "taskType": "text-embedding", "equivalenceGroup": "embeddings-384", "outputDimensions": [384]}),
            main_file: Some((*main).into()),
            ..JobRegistration::default()
        });
        let job = engine.fetch_model(request).unwrap();
        let job = engine.fetch_queue().unwrap().wait(&job.id, Duration::from_secs(300)).unwrap();
        assert_eq!(job.state, JobState::Completed, "{version}: {:?}", job.error);
    }
    if variants.len() < 2 {
        return; // one backend compiled: no group to compare
    }
    let options = BenchOptions { warmup: 1, iterations: 3, ..quick(vec![1, 4], vec![1]) };
    let result = engine.benchmark("embeddings-384", &options).unwrap();
    check_shape(&result, &options);
    assert_eq!(result.test_data_summary["kind"], "texts");
    for r in result.results.iter().filter(|r| !r.is_reference) {
        let a = r.agreement.as_ref().unwrap();
        assert_eq!((a.metric, a.compared), (AgreementMetric::Cosine, 16));
        assert!(a.min_cosine.unwrap() >= 0.9999, "{}: {a:?}", r.model_id);
        assert!(r.agrees && r.error_count == 0, "{r:?}");
    }
    assert!(result.winner.is_some());
    if cfg!(target_os = "linux") {
        // Loading a 90 MB model raises the peak resident memory.
        assert!(
            result.results.iter().all(|r| r.peak_rss_bytes.unwrap() > 1 << 20),
            "{:?}",
            result.results
        );
    }
}

//! Benchmark equivalent models: two iris classifiers in one equivalence group, compared on the
//! same rows — latency percentiles, throughput, agreement with the reference, a winner — and
//! the result stored and listed again.

use harper_edge_core::bench::{BenchInputs, BenchOptions, BenchQuery};
use harper_edge_core::{Engine, Framework, ModelRegistration};
use serde_json::json;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data");

pub fn main() -> harper_edge_core::Result<()> {
    let home = tempfile::tempdir().map_err(|e| harper_edge_core::Error::io("tempdir", e))?;
    let engine = Engine::open(home.path())?;
    // Models are equivalent when their metadata names the same taskType and equivalenceGroup.
    let group =
        json!({"taskType": "classification", "equivalenceGroup": "iris", "outputDimensions": [3]});
    for (name, file) in
        [("iris-logreg", "iris_logreg.onnx"), ("iris-forest", "sklearn_forest_classifier.onnx")]
    {
        let mut metadata = group.clone();
        metadata["benchmarkReference"] = json!(name == "iris-logreg");
        engine.register_model(
            ModelRegistration::new(name, "1", Framework::Onnx)
                .file(format!("{DATA}/{file}"))
                .metadata(metadata),
        )?;
    }

    // The iris rows the models' reference outputs were made on; batch 1 and 16, 1 and 2 threads.
    let rows = json!([
        [5.1, 3.5, 1.4, 0.2],
        [6.7, 3.0, 5.2, 2.3],
        [5.9, 3.0, 4.2, 1.5],
        [6.3, 2.8, 5.1, 1.5]
    ]);
    let options = BenchOptions {
        batch_sizes: vec![1, 16],
        concurrency: vec![1, 2],
        iterations: 100,
        inputs: Some(BenchInputs::from_json(&rows)?),
        ..BenchOptions::default()
    };
    let result = engine.benchmark("iris", &options)?;
    print!("{}", result.to_markdown());

    let forest = result.model("iris-forest:1").expect("in the group");
    let agreement = forest.agreement.as_ref().expect("compared with the reference");
    println!("forest vs logistic regression: {:?} of the labels agree", agreement.label_agreement);
    assert_eq!(result.reference_model, "iris-logreg:1");
    assert_eq!(forest.cells.len(), 4);
    assert!(result.results.iter().all(|r| r.error_count == 0));

    // Stored: the history lists it.
    let history = engine.benchmark_history(&BenchQuery {
        equivalence_group: Some("iris".into()),
        ..BenchQuery::default()
    })?;
    assert_eq!(history[0].id, result.id);
    Ok(())
}

//! Check a batch of data for drift against a saved baseline, then let the engine check its own
//! recent calls.

use harper_edge_core::drift::baseline::{Baseline, BaselineConfig, Column, FeatureSchema};
use harper_edge_core::drift::check::{DriftConfig, check};
use harper_edge_core::drift::records::DriftQuery;
use harper_edge_core::monitor::CurrentData;
use harper_edge_core::{Engine, Framework, InferContext, ModelRegistration};
use serde_json::json;

pub fn main() -> harper_edge_core::Result<()> {
    // A fixed LCG in [0, 1).
    let mut seed: u64 = 7;
    let mut u = move || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let reference: Vec<f64> = (0..5_000).map(|_| 20.0 + 40.0 * u()).collect();
    let schema = [FeatureSchema::numeric("age")];
    let baseline =
        Baseline::fit(&schema, &[("age", Column::Numeric(&reference))], BaselineConfig::default())?;
    let saved = baseline.to_json()?; // keep it: no need to ship the reference data again

    let current: Vec<f64> = (0..2_000).map(|_| 25.0 + 40.0 * u()).collect();
    let report = check(
        &Baseline::from_json(&saved)?,
        &[("age", Column::Numeric(&current))],
        &DriftConfig::default(),
    )?;
    let age = &report.features[0];
    println!(
        "age: KS D = {:.4}, p = {:.2e}, drifted: {}",
        age.drift_score,
        age.p_value.unwrap_or(1.0),
        age.drifted
    );
    assert!(age.drifted);

    // The engine samples the calls of every model version with a baseline and checks them.
    let engine = Engine::in_memory()?;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/iris_logreg.onnx");
    engine.register_model(ModelRegistration::new("iris", "1", Framework::Onnx).file(path))?;
    let iris = "iris:1".parse()?;
    let mut row = |shift: f64| {
        json!([4.5 + 3.0 * u(), 2.0 + 2.0 * u(), 1.0 + 5.0 * u() + shift, 0.1 + 2.4 * u()])
    };
    for _ in 0..300 {
        engine.infer_json(&iris, &row(0.0), &InferContext::new())?;
    }
    engine.fit_baseline(&iris, None, None, BaselineConfig::default(), Default::default())?; // from the stored calls
    for _ in 0..300 {
        engine.infer_json(&iris, &row(2.0), &InferContext::new())?; // longer petals
    }
    let checked = engine.check_drift(&iris, CurrentData::Window, &Default::default())?;
    let drifted: Vec<&str> = checked
        .report
        .features
        .iter()
        .filter(|f| f.drifted)
        .map(|f| f.feature_name.as_str())
        .collect();
    println!("drifted: {drifted:?}");
    assert!(drifted.contains(&"input[2]"));
    assert_eq!(engine.drift_metrics(&DriftQuery::new("iris"))?.len(), checked.rows.len());
    Ok(())
}

//! scikit-learn models on the tract backend, checked against the outputs ONNX Runtime produced
//! (tests/data/make_sklearn_models.py). They use the ONNX-ML operators harper-edge adds to
//! tract: ZipMap, Scaler and TreeEnsembleRegressor.
#![cfg(feature = "tract")]
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use harper_edge_core::backend::{self, ModelSource, ModelSpec, Session};
use harper_edge_core::{
    DType, Engine, ErrorKind, Framework, InferContext, Inputs, ModelRegistration, Tensor,
};
use serde_json::{Value, json};

fn data(file: &str) -> String {
    format!("{}/../tests/data/{file}", env!("CARGO_MANIFEST_DIR"))
}

struct Reference {
    json: Value,
    inputs: Vec<Vec<f32>>,
    tolerance: f32,
}

impl Reference {
    fn rows(&self, key: &str) -> Vec<Vec<f32>> {
        self.json[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect())
            .collect()
    }

    fn batch(&self) -> (Vec<usize>, Vec<f32>) {
        (vec![self.inputs.len(), self.inputs[0].len()], self.inputs.concat())
    }
}

fn reference(model: &str) -> Reference {
    let path = data(&format!("{model}.reference.json"));
    let json: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut r =
        Reference { inputs: vec![], tolerance: json["tolerance"].as_f64().unwrap() as f32, json };
    r.inputs = r.rows("inputs");
    r
}

fn load(model: &str) -> Box<dyn Session> {
    let bytes = std::fs::read(data(&format!("{model}.onnx"))).unwrap();
    let id = format!("{model}:1");
    backend::backend("tract")
        .unwrap()
        .load(&ModelSpec::new(&id, Framework::Onnx, ModelSource::Bytes(&bytes)))
        .unwrap_or_else(|e| panic!("{model}: {e}"))
}

/// Largest absolute difference, after checking shapes agree.
fn max_abs_diff(got: &[f32], want: &[Vec<f32>]) -> f32 {
    let want = want.concat();
    assert_eq!(got.len(), want.len());
    got.iter().zip(&want).map(|(g, w)| (g - w).abs()).fold(0.0, f32::max)
}

fn check_classifier(model: &str, dtype: DType) {
    let r = reference(model);
    let session = load(model);
    let names: Vec<_> = session.outputs().iter().map(|o| (o.name.as_str(), o.dtype)).collect();
    assert_eq!(names, [("output_label", dtype), ("output_probability", DType::F32)]);

    let (shape, flat) = r.batch();
    let x = Tensor::from_f32(&shape, &flat).unwrap();
    let out = session.run(&[&x]).unwrap();
    let probs = out.get("output_probability").unwrap();
    let classes = r.json["classes"].as_array().unwrap().len();
    assert_eq!(probs.shape(), &[r.inputs.len(), classes]);
    let diff = max_abs_diff(probs.as_f32().unwrap(), &r.rows("probabilities"));
    eprintln!("{model}: max |p_tract - p_ort| = {diff:e}");
    assert!(diff <= r.tolerance, "{model}: {diff}");
    assert_eq!(out.get("output_label").unwrap().to_json(), r.json["labels"], "{model}");
}

fn check_regressor(model: &str) {
    let r = reference(model);
    let session = load(model);
    assert_eq!(session.outputs().len(), 1);
    assert_eq!(session.outputs()[0].dtype, DType::F32);
    let (shape, flat) = r.batch();
    let x = Tensor::from_f32(&shape, &flat).unwrap();
    let out = session.run(&[&x]).unwrap();
    let y = out.get(&session.outputs()[0].name).unwrap();
    assert_eq!(y.shape(), &[r.inputs.len(), 1]);
    let diff = max_abs_diff(y.as_f32().unwrap(), &r.rows("values"));
    eprintln!("{model}: max |y_tract - y_ort| = {diff:e}");
    assert!(diff <= r.tolerance, "{model}: {diff}");
}

#[test]
fn scaler_logreg_with_zipmap_matches_onnxruntime() {
    // Scaler + LinearClassifier + Normalizer + ZipMap, string labels.
    check_classifier("sklearn_scaler_logreg", DType::String);
}

#[test]
fn random_forest_classifier_with_zipmap_matches_onnxruntime() {
    // TreeEnsembleClassifier + ZipMap, integer labels.
    check_classifier("sklearn_forest_classifier", DType::I64);
}

#[test]
fn gradient_boosting_regressor_matches_onnxruntime() {
    // TreeEnsembleRegressor, SUM with a base value.
    check_regressor("sklearn_gbr");
}

#[test]
fn scaler_random_forest_regressor_matches_onnxruntime() {
    // Scaler + TreeEnsembleRegressor, per-tree weights.
    check_regressor("sklearn_forest_regressor");
}

#[test]
fn single_rows_give_the_same_answers_as_the_batch() {
    for model in ["sklearn_scaler_logreg", "sklearn_forest_classifier", "sklearn_gbr"] {
        let r = reference(model);
        let session = load(model);
        let (shape, flat) = r.batch();
        let batch = session.run(&[&Tensor::from_f32(&shape, &flat).unwrap()]).unwrap();
        for (i, row) in r.inputs.iter().enumerate() {
            let one = session.run(&[&Tensor::from_f32(&[1, row.len()], row).unwrap()]).unwrap();
            for (name, t) in one.iter() {
                let all = batch.get(name).unwrap().to_json();
                assert_eq!(t.to_json()[0], all[i], "{model} row {i} output {name}");
            }
        }
    }
}

/// The classification task names the label and its probability for the ZipMap models.
#[test]
fn classification_task_reports_label_and_confidence() {
    for model in ["sklearn_scaler_logreg", "sklearn_forest_classifier"] {
        let r = reference(model);
        let engine = Engine::in_memory().unwrap();
        engine
            .register_model(
                ModelRegistration::new(model, "1", Framework::Onnx)
                    .file(data(&format!("{model}.onnx")))
                    .metadata(json!({"taskType": "classification"})),
            )
            .unwrap();
        let id = format!("{model}:1").parse().unwrap();
        let probabilities = r.rows("probabilities");
        for (i, row) in r.inputs.iter().enumerate() {
            let p = engine.infer_json(&id, &json!(row), &InferContext::new()).unwrap();
            assert_eq!(p.prediction, r.json["labels"][i], "{model} row {i}");
            let best = probabilities[i].iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let conf = p.confidence.unwrap();
            assert!((conf - f64::from(best)).abs() <= 1e-5, "{model} row {i}: {conf} vs {best}");
        }
        // A batch: every label, and the mean confidence.
        let (shape, flat) = r.batch();
        let inputs = Inputs::single(Tensor::from_f32(&shape, &flat).unwrap());
        let p = engine.infer(&id, &inputs, &InferContext::new()).unwrap();
        assert_eq!(p.prediction, r.json["labels"], "{model}");
        #[allow(clippy::cast_precision_loss)]
        let mean = probabilities
            .iter()
            .map(|row| f64::from(row.iter().copied().fold(f32::NEG_INFINITY, f32::max)))
            .sum::<f64>()
            / probabilities.len() as f64;
        assert!((p.confidence.unwrap() - mean).abs() <= 1e-5, "{model}");
    }
}

#[test]
fn unsupported_operator_is_a_typed_error_at_load() {
    let model = "sklearn_imputer_unsupported";
    let bytes = std::fs::read(data(&format!("{model}.onnx"))).unwrap();
    let err = backend::backend("tract")
        .unwrap()
        .load(&ModelSpec::new("imputer:1", Framework::Onnx, ModelSource::Bytes(&bytes)))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ModelLoad);
    assert_eq!(
        err.to_string(),
        "cannot load model 'imputer:1': unsupported operator 'Imputer' (domain ai.onnx.ml)"
    );

    // The engine refuses it at registration, before any call.
    let engine = Engine::in_memory().unwrap();
    let err = engine
        .register_model(
            ModelRegistration::new("imputer", "1", Framework::Onnx)
                .file(data(&format!("{model}.onnx"))),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ModelLoad);
    assert!(
        err.to_string().contains("unsupported operator 'Imputer' (domain ai.onnx.ml)"),
        "{err}"
    );
}

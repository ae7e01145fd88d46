//! The ONNX Runtime backend (feature `ort`) on the committed iris model: the same answers as
//! tract and as the reference outputs ONNX Runtime's Python package gave, chosen per model by
//! `metadata.backend`, concurrent calls, and the typed errors. The runtime library comes from
//! the `onnxruntime` Python package `make rust-test` installs (`ORT_DYLIB_PATH`).
#![cfg(feature = "ort")]
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use harper_edge_core::backend;
use harper_edge_core::{
    Engine, ErrorKind, Framework, InferContext, Inputs, ModelRegistration, Tensor,
};
use serde_json::{Value, json};

const MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/iris_logreg.onnx");
const REFERENCE: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/iris_logreg.reference.json");

fn engine() -> Engine {
    let engine = Engine::in_memory().unwrap();
    for (version, backend) in [("tract", "tract"), ("ort", "ort")] {
        engine
            .register_model(
                ModelRegistration::new("iris", version, Framework::Onnx)
                    .file(MODEL)
                    .metadata(json!({"backend": backend})),
            )
            .unwrap();
    }
    engine
}

#[test]
fn ort_and_tract_agree_with_the_reference() {
    let reference: Value =
        serde_json::from_str(&std::fs::read_to_string(REFERENCE).unwrap()).unwrap();
    let rows: Vec<f32> = reference["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32))
        .collect();
    let n = rows.len() / 4;
    let engine = engine();
    let mut answers = Vec::new();
    for version in ["tract", "ort"] {
        let inputs = Inputs::single(Tensor::from_f32(&[n, 4], &rows).unwrap());
        let p = engine
            .infer(&format!("iris:{version}").parse().unwrap(), &inputs, &InferContext::new())
            .unwrap();
        let labels = p.outputs.get("label").unwrap().to_json();
        assert_eq!(labels, reference["labels"], "{version}");
        answers.push(p.outputs.get("probabilities").unwrap().as_f32().unwrap().to_vec());
    }
    let tol = reference["tolerance"].as_f64().unwrap() as f32;
    let want: Vec<f32> = reference["probabilities"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32))
        .collect();
    for (i, w) in want.iter().enumerate() {
        assert!((answers[1][i] - w).abs() <= tol, "ort vs reference at {i}");
        assert!((answers[0][i] - answers[1][i]).abs() <= 1e-5, "tract vs ort at {i}");
    }
}

#[test]
fn the_schema_comes_from_the_runtime_and_bad_input_is_typed() {
    let engine = engine();
    let model = engine.model(&"iris:ort".parse().unwrap()).unwrap();
    assert_eq!(model.input_schema[0].name, "X");
    assert_eq!(model.input_schema[0].shape, [None, Some(4)]);
    let wrong = Inputs::single(Tensor::from_f32(&[1, 3], &[1.0, 2.0, 3.0]).unwrap());
    let err = engine.infer(&"iris:ort".parse().unwrap(), &wrong, &InferContext::new()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Shape, "{err}");
    let ints = Inputs::single(Tensor::from_i64(&[1, 4], &[1, 2, 3, 4]).unwrap());
    let err = engine.infer(&"iris:ort".parse().unwrap(), &ints, &InferContext::new()).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::InvalidInput | ErrorKind::Shape), "{err}");

    let corrupt = ModelRegistration::new("bad", "1", Framework::Onnx)
        .bytes(b"not an onnx graph".to_vec())
        .metadata(json!({"backend": "ort"}));
    assert_eq!(engine.register_model(corrupt).unwrap_err().kind(), ErrorKind::ModelLoad);
    let wrong_backend = ModelRegistration::new("w", "1", Framework::Onnx)
        .file(MODEL)
        .metadata(json!({"backend": "candle"}));
    assert_eq!(engine.register_model(wrong_backend).unwrap_err().kind(), ErrorKind::InvalidInput);
}

#[test]
fn concurrent_calls_on_one_ort_session() {
    let engine = Arc::new(engine());
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let engine = Arc::clone(&engine);
            std::thread::spawn(move || {
                for _ in 0..25 {
                    let inputs =
                        Inputs::single(Tensor::from_f32(&[1, 4], &[6.7, 3.0, 5.2, 2.3]).unwrap());
                    let p = engine
                        .infer(&"iris:ort".parse().unwrap(), &inputs, &InferContext::new())
                        .unwrap();
                    assert_eq!(p.prediction, json!(2));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert!(backend::backend("ort").unwrap().check().is_ok());
}

/// The scikit-learn exports (ZipMap on) through ONNX Runtime: its sequence-of-maps output
/// comes back as the same `[rows, classes]` matrix tract gives, and every answer is the
/// reference's.
#[test]
fn sklearn_exports_on_ort_match_their_references() {
    use harper_edge_core::backend::{ModelSource, ModelSpec};
    let data = |f: &str| format!("{}/../tests/data/{f}", env!("CARGO_MANIFEST_DIR"));
    let ort = backend::backend("ort").unwrap();
    for model in [
        "sklearn_scaler_logreg",
        "sklearn_forest_classifier",
        "sklearn_gbr",
        "sklearn_forest_regressor",
    ] {
        let r: Value = serde_json::from_str(
            &std::fs::read_to_string(data(&format!("{model}.reference.json"))).unwrap(),
        )
        .unwrap();
        let bytes = std::fs::read(data(&format!("{model}.onnx"))).unwrap();
        let session =
            ort.load(&ModelSpec::new(model, Framework::Onnx, ModelSource::Bytes(&bytes))).unwrap();
        let rows: Vec<Vec<f32>> = r["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect())
            .collect();
        let flat: Vec<f32> = rows.concat();
        let x = Tensor::from_f32(&[rows.len(), rows[0].len()], &flat).unwrap();
        let out = session.run(&[&x]).unwrap();
        let tol = r["tolerance"].as_f64().unwrap() as f32;
        let (name, key) = if r.get("labels").is_some() {
            assert_eq!(out.get("output_label").unwrap().to_json(), r["labels"], "{model}");
            ("output_probability", "probabilities")
        } else {
            (session.outputs()[0].name.as_str(), "values")
        };
        let got = out.get(name).unwrap();
        let want: Vec<f32> = r[key]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|row| row.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32))
            .collect();
        assert_eq!(got.as_f32().unwrap().len(), want.len(), "{model}: {:?}", got.shape());
        for (g, w) in got.as_f32().unwrap().iter().zip(&want) {
            assert!((g - w).abs() <= tol, "{model}: {g} vs {w}");
        }
    }
}

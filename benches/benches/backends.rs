//! Inference per backend, and the engine's overhead over a bare ONNX Runtime session.
//!
//! - `minilm/<backend>/b1`, `/b32`: all-MiniLM-L6-v2 sentence embeddings of 1 and 32 sentences
//!   (tokenize, one run on the padded batch, mean pooling, L2 normalisation) through the
//!   backend's session and [`SentenceEncoder`]: `tract` (model.onnx), `ort` (model.onnx, feature
//!   `ort`), `candle` (model.safetensors, feature `candle`); `engine-ort` through
//!   [`Engine::embed`] (model fetched into an engine on disk, every call recorded); `bare-ort`
//!   with the `ort` crate itself, the `tokenizers` crate and the same `embedding::pool`.
//! - `tabular/<backend>/<model>/b1`, `/b64`: the committed iris logistic regression and random
//!   forest classifier through the backend's session, on `tract` and `ort`.
//!
//! ONNX Runtime allows one environment per process, and harper-edge's ort backend makes its
//! own; so `bare-ort` runs in a child process of this bench (the same binary, the same
//! arguments, `HARPER_EDGE_BENCH_BARE_ORT=1`), started right before `engine-ort`. Both sides
//! load the same library (`backend::ort::library_path`) with ONNX Runtime's default
//! environment and session options: harper-edge's backend sets no thread or optimisation
//! option.
//!
//! Models: `$HARPER_EDGE_MINILM_DIR` (default `~/.cache/harper-edge/models/minilm-l6`,
//! `scripts/setup_models.sh` installs it); without it the MiniLM groups are skipped.
//!
//! `ORT_DYLIB_PATH=… cargo bench -p harper-edge-benches --features ort,candle --bench backends`
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use harper_edge_core::backend::{self, Backend, Companion, ModelSource, ModelSpec, Session};
use harper_edge_core::embedding::SentenceEncoder;
use harper_edge_core::{Framework, Tensor, TensorData};

/// Set in the child process that benches the bare ort session.
#[cfg(feature = "ort")]
const BARE_CHILD: &str = "HARPER_EDGE_BENCH_BARE_ORT";

/// Realistic sentences of 10 to 20 tokens each (special tokens included).
const SENTENCES: [&str; 32] = [
    "The model's latency went up after the last deployment to production.",
    "How do I roll back to the previous version of a registered model?",
    "Customers in the north region report slower answers since Monday morning.",
    "A sentence embedding maps text to a vector of fixed size.",
    "The drift detector flagged the income feature after the data migration.",
    "Please send the quarterly report to the finance team before Friday.",
    "Which backend should I use to run ONNX models on a small device?",
    "The cat slept on the warm windowsill for most of the afternoon.",
    "Our recommendation service handles ten thousand requests per second.",
    "Shipping was delayed because the warehouse ran out of packaging.",
    "Mean pooling averages the token vectors under the attention mask.",
    "The new checkout page increased conversions by three percent.",
    "Can I export the monitoring dashboard as a PDF for the audit?",
    "Heavy rain is expected across the coast later this evening.",
    "The fraud model's precision dropped when holiday traffic started.",
    "She translated the user manual into German and Portuguese.",
    "Retrain the classifier weekly with the labels collected from support.",
    "The train to the airport leaves every fifteen minutes on weekdays.",
    "Store the raw inference events for thirty days, then keep the rollups.",
    "A canary release sends a small share of the traffic to the new version.",
    "The battery lasts about two days with normal use.",
    "Why does the tokenizer split this word into several pieces?",
    "The sensor readings show a slow upward trend over the past week.",
    "Our team meets every Tuesday to review the open incidents.",
    "Cosine similarity compares the direction of two vectors.",
    "The support chatbot answers most billing questions without help.",
    "Upgrade the runtime library before loading the quantised model.",
    "The museum opens a new exhibition about early computers in March.",
    "Alerts fire when the error rate stays above one percent for five minutes.",
    "He fixed the leaking tap in the kitchen last weekend.",
    "Batching many sentences into one call uses the CPU more efficiently.",
    "The restaurant around the corner serves excellent vegetarian food.",
];

fn criterion() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .configure_from_args()
}

fn minilm_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("HARPER_EDGE_MINILM_DIR").map_or_else(
        || {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/harper-edge/models/minilm-l6")
        },
        PathBuf::from,
    );
    let ready = ["model.onnx", "model.safetensors", "tokenizer.json", "config.json"]
        .iter()
        .all(|f| dir.join(f).is_file());
    if ready {
        Some(dir)
    } else {
        eprintln!(
            "minilm benches skipped: the MiniLM files are not in {} (run scripts/setup_models.sh \
             or set HARPER_EDGE_MINILM_DIR)",
            dir.display()
        );
        None
    }
}

/// The backend called `name` when it is compiled in (silently `None` otherwise) and usable
/// here (`None`, saying why, otherwise).
fn usable(name: &str) -> Option<Arc<dyn Backend>> {
    let backend = backend::backend(name).ok()?;
    match backend.check() {
        Ok(()) => Some(backend),
        Err(e) => {
            eprintln!("{name} benches skipped: {e}");
            None
        }
    }
}

fn batches() -> [(&'static str, Vec<&'static str>); 2] {
    [("b1", SENTENCES[..1].to_vec()), ("b32", SENTENCES.to_vec())]
}

/// Heavy calls (up to a second each): a fixed number of iterations per sample.
fn minilm_group<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut group = c.benchmark_group(format!("minilm/{name}"));
    group.sampling_mode(SamplingMode::Flat);
    group
}

/// A backend's MiniLM session and its sentence encoder, loaded as the engine loads them.
fn load_minilm(backend: &dyn Backend, dir: &Path) -> (Box<dyn Session>, SentenceEncoder) {
    let (framework, main) = if backend.name() == "candle" {
        (Framework::Transformers, "model.safetensors")
    } else {
        (Framework::Onnx, "model.onnx")
    };
    let files: Vec<(&str, PathBuf)> =
        ["config.json", "tokenizer.json", "1_Pooling/config.json", "modules.json"]
            .into_iter()
            .map(|name| (name, dir.join(name)))
            .filter(|(_, path)| path.is_file())
            .collect();
    let companions: Vec<Companion<'_>> = files
        .iter()
        .map(|(name, path)| Companion { name, source: ModelSource::Path(path) })
        .collect();
    let main = dir.join(main);
    let spec =
        ModelSpec::new("minilm", framework, ModelSource::Path(&main)).with_companions(&companions);
    let session = backend.load(&spec).expect("MiniLM loads");
    let encoder = SentenceEncoder::from_spec(&spec, &serde_json::json!({})).expect("encoder");
    (session, encoder)
}

fn bench_minilm_backends(c: &mut Criterion, dir: &Path) {
    for name in ["tract", "ort", "candle"] {
        let Some(backend) = usable(name) else { continue };
        let (session, encoder) = load_minilm(backend.as_ref(), dir);
        let mut group = minilm_group(c, name);
        for (batch, texts) in batches() {
            group.throughput(Throughput::Elements(texts.len() as u64));
            group.bench_with_input(BenchmarkId::from_parameter(batch), &texts, |b, texts| {
                b.iter(|| {
                    black_box(encoder.embed("minilm", session.as_ref(), texts).expect("embed"))
                });
            });
        }
        group.finish();
    }
}

/// MiniLM through `Engine::embed`: fetched from the model directory into an engine on disk
/// (SQLite store), as `tests/minilm.rs` does.
#[cfg(feature = "ort")]
fn bench_engine_ort(c: &mut Criterion, dir: &Path) {
    use harper_edge_core::fetch::jobs::{FetchRequest, JobRegistration, JobState, SourceSpec};
    use harper_edge_core::{Engine, InferContext};

    if usable("ort").is_none() {
        return;
    }
    let home = tempfile::tempdir().expect("temp dir");
    let engine = Engine::open(home.path()).expect("engine");
    let (Some(parent), Some(leaf)) = (dir.parent(), dir.file_name().and_then(|n| n.to_str()))
    else {
        eprintln!("engine-ort skipped: {} is not a directory path", dir.display());
        return;
    };
    let request = FetchRequest::new("minilm", "ort", SourceSpec::fs(parent, leaf)).registration(
        JobRegistration {
            metadata: serde_json::json!({"backend": "ort", "taskType": "embedding"}),
            main_file: Some("model.onnx".into()),
            ..JobRegistration::default()
        },
    );
    let job = engine.fetch_model(request).expect("fetch starts");
    let queue = engine.fetch_queue().expect("fetch queue");
    let job = queue.wait(&job.id, Duration::from_secs(600)).expect("fetch ends");
    assert_eq!(job.state, JobState::Completed, "fetch: {:?}", job.error);
    let model = "minilm:ort".parse().expect("reference");
    let ctx = InferContext::new();
    // Loaded (and its first call made) before timing.
    engine.embed(&model, &SENTENCES[..1], &ctx).expect("embed");

    let mut group = minilm_group(c, "engine-ort");
    for (batch, texts) in batches() {
        group.throughput(Throughput::Elements(texts.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(batch), &texts, |b, texts| {
            b.iter(|| black_box(engine.embed(&model, texts, &ctx).expect("embed")));
        });
    }
    group.finish();
}

/// Runs this bench again as a child process that benches the bare ort session only.
#[cfg(feature = "ort")]
fn run_bare_child() {
    let exe = std::env::current_exe().expect("bench executable");
    let status = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(BARE_CHILD, "1")
        .status()
        .expect("bare-ort child starts");
    assert!(status.success(), "bare-ort child failed: {status}");
}

/// In the child process: the bare ort session, checked against tract's vectors first.
#[cfg(feature = "ort")]
fn bench_bare_ort(c: &mut Criterion, dir: &Path) {
    use harper_edge_core::embedding::cosine;

    let mut bare = harper_edge_benches::bare_ort::Bare::load(dir);
    if let Some(tract) = usable("tract") {
        let (session, encoder) = load_minilm(tract.as_ref(), dir);
        let (dim, want) = encoder.embed("minilm", session.as_ref(), &SENTENCES).expect("embed");
        let (got_dim, got) = bare.embed(&SENTENCES);
        assert_eq!(dim, got_dim, "bare ort: dimension");
        for (i, (a, b)) in want.chunks_exact(dim).zip(got.chunks_exact(dim)).enumerate() {
            let cos = cosine(a, b);
            assert!(cos >= 0.9999, "bare ort vs tract on sentence {i}: cosine {cos}");
        }
    }
    let mut group = minilm_group(c, "bare-ort");
    for (batch, texts) in batches() {
        group.throughput(Throughput::Elements(texts.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(batch), &texts, |b, texts| {
            b.iter(|| black_box(bare.embed(texts)));
        });
    }
    group.finish();
}

/// Rows of the committed iris models' reference inputs (4 features).
fn iris_rows(n: usize) -> Tensor<'static> {
    let base =
        [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5], [6.3, 2.5, 5.0, 1.9]];
    let data: Vec<f32> = (0..n).flat_map(|i| base[i % base.len()]).collect();
    Tensor::new(vec![n, 4], TensorData::F32(data.into())).expect("shape")
}

fn bench_tabular(c: &mut Criterion) {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data");
    let models =
        [("iris_logreg", "iris_logreg.onnx"), ("forest", "sklearn_forest_classifier.onnx")];
    for name in ["tract", "ort"] {
        let Some(backend) = usable(name) else { continue };
        let mut group = c.benchmark_group(format!("tabular/{name}"));
        for (model, file) in models {
            let path = data.join(file);
            let spec = ModelSpec::new(model, Framework::Onnx, ModelSource::Path(&path));
            let session = backend.load(&spec).expect("the committed model loads");
            for batch in [1usize, 64] {
                let rows = iris_rows(batch);
                group.throughput(Throughput::Elements(batch as u64));
                group.bench_with_input(
                    BenchmarkId::new(model, format!("b{batch}")),
                    &rows,
                    |b, rows| b.iter(|| black_box(session.run(&[rows]).expect("inference"))),
                );
            }
        }
        group.finish();
    }
}

fn main() {
    let mut c = criterion();
    #[cfg(feature = "ort")]
    if std::env::var_os(BARE_CHILD).is_some() {
        if let Some(dir) = minilm_dir() {
            bench_bare_ort(&mut c, &dir);
        }
        c.final_summary();
        return;
    }
    bench_tabular(&mut c);
    if let Some(dir) = minilm_dir() {
        bench_minilm_backends(&mut c, &dir);
        #[cfg(feature = "ort")]
        if usable("ort").is_some() {
            run_bare_child();
            bench_engine_ort(&mut c, &dir);
        }
    }
    c.final_summary();
}

//! Inference through the engine on the iris model: the backend alone (in-memory store) and
//! with every call recorded in the embedded SQLite store.
use std::hint::black_box;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use harper_edge_core::{
    Engine, Framework, InferContext, Inputs, ModelRegistration, SqliteStore, Tensor,
};

fn iris(engine: &Engine) {
    engine
        .register_model(
            ModelRegistration::new("iris", "1", Framework::Onnx)
                .file(harper_edge_benches::IRIS_MODEL),
        )
        .expect("the committed model loads");
}

fn bench_inference(c: &mut Criterion) {
    let memory = Engine::in_memory().expect("engine");
    iris(&memory);
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = Engine::builder()
        .store(Arc::new(SqliteStore::open(dir.path()).expect("open store")))
        .build()
        .expect("engine");
    iris(&sqlite);
    let model = "iris:1".parse().expect("valid reference");
    let ctx = InferContext::new();

    let mut group = c.benchmark_group("tract");
    for batch in [1usize, 64] {
        let data: Vec<f32> = (0..batch * 4).map(|i| 1.0 + (i % 7) as f32 * 0.5).collect();
        group.throughput(Throughput::Elements(batch as u64));
        for (store, engine) in [("memory", &memory), ("sqlite", &sqlite)] {
            group.bench_with_input(
                BenchmarkId::new(format!("iris_logreg_{store}"), format!("b{batch}")),
                &data,
                |b, data| {
                    b.iter(|| {
                        let inputs =
                            Inputs::single(Tensor::from_f32(&[batch, 4], data).expect("shape"));
                        black_box(engine.infer(&model, &inputs, &ctx).expect("inference"))
                    });
                },
            );
        }
    }
    group.finish();
}

criterion_group!(benches, bench_inference);
criterion_main!(benches);

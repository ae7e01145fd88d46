//! The main job on the embedded default: register the committed model, run a stream of
//! inferences on generated data, record feedback for some of them, and print what was
//! recorded. Data goes to `$HARPER_EDGE_HOME` (default `./.harper-edge`).
use std::collections::BTreeMap;

use harper_edge_core::{
    Engine, EventQuery, Framework, Granularity, InferContext, MetricsQuery, ModelRegistration,
    Stage,
};
use serde_json::json;

const CALLS: usize = 300;
/// Share of calls whose ground truth arrives (as feedback).
const LABELLED_PERCENT: u64 = 60;

/// Per-class feature means and spreads of iris (sepal length/width, petal length/width).
const CLASSES: [([f32; 4], [f32; 4]); 3] = [
    ([5.01, 3.43, 1.46, 0.25], [0.35, 0.38, 0.17, 0.11]),
    ([5.94, 2.77, 4.26, 1.33], [0.52, 0.31, 0.47, 0.20]),
    ([6.59, 2.97, 5.55, 2.03], [0.64, 0.32, 0.55, 0.27]),
];

/// xorshift64*: a deterministic stream, so every run of the demo sees the same data.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Approximately standard normal (Irwin-Hall with 12 uniforms).
    fn normal(&mut self) -> f32 {
        (0..12).map(|_| self.unit()).sum::<f32>() - 6.0
    }
}

fn main() -> harper_edge_core::Result<()> {
    let home = Engine::default_home();
    let engine = Engine::open(&home)?;
    let model = engine.register_model(
        ModelRegistration::new("iris", "1", Framework::Onnx)
            .file(harper_edge_examples::IRIS_MODEL)
            .stage(Stage::Production)
            .metadata(
                json!({"taskType": "classification", "description": "iris logistic regression"}),
            ),
    )?;
    println!("data directory  {}", home.display());
    println!(
        "model           {} ({}, {} bytes, sha256 {})",
        model.id,
        model.framework,
        model.blob_size,
        &model.sha256[..12]
    );

    let reference = "iris:1".parse()?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut labelled, mut correct) = (0usize, 0usize);
    let mut latencies = Vec::with_capacity(CALLS);
    let mut predicted: BTreeMap<String, usize> = BTreeMap::new();
    for i in 0..CALLS {
        let class = (rng.next_u64() % 3) as usize;
        let (mean, sd) = CLASSES[class];
        let row: Vec<f32> = (0..4).map(|j| (mean[j] + sd[j] * rng.normal()).max(0.1)).collect();
        let context = InferContext::new()
            .user_id(format!("user-{}", i % 7))
            .session_id(format!("demo-{}", i / 50));
        let p = engine.infer_json(&reference, &json!(row), &context)?;
        latencies.push(p.latency_ms);
        *predicted.entry(p.prediction.to_string()).or_default() += 1;
        if rng.next_u64() % 100 < LABELLED_PERCENT {
            let event = engine.feedback(&p.inference_id, json!(class))?;
            labelled += 1;
            correct += usize::from(event.correct == Some(true));
        }
    }

    latencies.sort_by(f64::total_cmp);
    let pct = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    println!("inferences      {CALLS} (predicted classes {predicted:?})");
    println!("latency ms      p50 {:.3}  p95 {:.3}  max {:.3}", pct(0.5), pct(0.95), pct(1.0));
    println!(
        "feedback        {labelled} labelled, {correct} correct, accuracy {:.3}",
        correct as f64 / labelled.max(1) as f64
    );

    let live = engine.realtime(&reference)?;
    println!(
        "last 5 minutes  {} calls, {} errors, p50 {:.3} ms, p99 {:.3} ms, accuracy {}",
        live.request_count,
        live.error_count,
        live.p50_latency.unwrap_or(f64::NAN),
        live.p99_latency.unwrap_or(f64::NAN),
        live.accuracy.map_or_else(|| "-".to_string(), |a| format!("{a:.3}"))
    );
    // Write this run's rollups (5-minute, hourly, daily rows) before the process exits.
    engine.flush()?;
    for row in engine.metrics(&MetricsQuery::new("iris", Granularity::Hourly))?.iter().rev().take(1)
    {
        println!(
            "hourly rollup   {} .. {}: {} calls, error rate {:.3}, p95 {:.3} ms",
            row.period_start,
            row.period_end,
            row.request_count,
            row.error_rate,
            row.p95_latency.unwrap_or(f64::NAN)
        );
    }

    let total = engine.events(&EventQuery::new().model("iris").limit(usize::MAX))?.len();
    println!("events stored   {total} for model iris (all runs of the demo)");
    println!("latest events:");
    for e in engine.events(&EventQuery::new().model("iris").limit(3))? {
        println!(
            "  {}  {}  features {}  prediction {}  confidence {:.3}  actual {}",
            e.id,
            e.timestamp,
            e.features_in,
            e.prediction,
            e.confidence.unwrap_or(f64::NAN),
            e.actual_outcome.map_or_else(|| "-".to_string(), |v| v.to_string())
        );
    }
    Ok(())
}

//! Quick start: register a model, run it, record feedback, read the event back.
use harper_edge_core::{Engine, EventQuery, Framework, InferContext, ModelRegistration};
use serde_json::json;

pub fn main() -> harper_edge_core::Result<()> {
    // An engine on the embedded SQLite store (here in a temporary directory).
    let home = std::env::temp_dir().join(format!("harper-edge-quickstart-{}", std::process::id()));
    let engine = Engine::open(&home)?;

    let model = engine.register_model(
        ModelRegistration::new("iris", "1", Framework::Onnx)
            .file(harper_edge_examples::IRIS_MODEL)
            .metadata(json!({"taskType": "classification"})),
    )?;
    println!(
        "registered {} ({} bytes, inputs {:?})",
        model.id, model.blob_size, model.input_schema
    );

    let p = engine.infer_json(
        &"iris:1".parse()?,
        &json!([6.7, 3.0, 5.2, 2.3]),
        &InferContext::new(),
    )?;
    println!("prediction {} confidence {:?} in {:.3} ms", p.prediction, p.confidence, p.latency_ms);
    assert_eq!(p.prediction, json!(2));

    let event = engine.feedback(&p.inference_id, json!(2))?;
    assert_eq!(event.correct, Some(true));

    let events = engine.events(&EventQuery::new().model("iris"))?;
    println!("{} event(s) recorded; newest correct = {:?}", events.len(), events[0].correct);

    std::fs::remove_dir_all(&home).map_err(|e| harper_edge_core::Error::io(&home, e))?;
    Ok(())
}

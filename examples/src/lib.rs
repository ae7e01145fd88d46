//! Runnable examples of harper-edge. See `rust/` (run with `cargo run -p harper-edge-examples
//! --example NAME`), `python/`, `node/` and `harper-component/`.

/// Path of the committed iris test model.
pub const IRIS_MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/iris_logreg.onnx");

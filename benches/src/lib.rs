//! Criterion benchmarks of harper-edge: `cargo bench -p harper-edge-benches`.
//! Bench ids start with the backend (`tract/iris_logreg_b1`).

/// Path of the committed iris test model.
pub const IRIS_MODEL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/iris_logreg.onnx");

pub mod calibration;

//! The Python binding of harper-edge: the `harper_edge._native` extension module.
//!
//! Thin by design: argument conversion ([`tensor`], [`columns`], [`json`]), GIL release and error mapping
//! ([`error`]); everything else is in `harper-edge-core`. Files mirror the core's modules.

mod bench;
mod columns;
mod drift;
mod engine;
mod error;
mod fetch;
mod json;
mod monitor;
mod monitor_alerts;
mod registry;
mod segments;
mod telemetry;
mod tensor;
mod text;

use pyo3::prelude::*;

#[pymodule]
mod _native {
    use pyo3::prelude::*;

    #[pymodule_export]
    use crate::drift::{PyAdwin, PyPageHinkley};

    /// Uses the ONNX Runtime library at `path` for models on the ort backend (before the first
    /// one loads); returns False when a library was already chosen. `harper_edge` calls it at
    /// import with the `onnxruntime` package of this interpreter, when one is installed.
    #[pyfunction]
    fn use_onnxruntime(path: std::path::PathBuf) -> bool {
        harper_edge_core::backend::ort::set_library_path(path)
    }
    #[pymodule_export]
    use crate::bench::benchmark_markdown;
    #[pymodule_export]
    use crate::engine::{PyEngine, PyPrediction};
    #[pymodule_export]
    use crate::fetch::{inspect_source, validate_profile};
    #[pymodule_export]
    use crate::monitor::{PyBaseline, PyDriftResult, check_drift};
    #[pymodule_export]
    use crate::monitor_alerts::PyMonitor;
    #[pymodule_export]
    use crate::registry::PyModel;
    #[pymodule_export]
    use crate::segments::{PySegmentedBaseline, PySegmentedDriftResult, check_drift_segments};
    #[pymodule_export]
    use crate::telemetry::{PyInferenceEvent, combine_metrics};

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        crate::error::register(m)
    }
}

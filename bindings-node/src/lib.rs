//! Node.js binding of harper-edge (napi-rs), published to npm as `harper-edge`.
//!
//! Thin by design: argument conversion ([`convert`]), heavy calls as Promises on the libuv pool
//! ([`tasks`]), and one mapping of core errors to JS errors with a stable `err.code`
//! ([`error`]). Everything else lives in `harper-edge-core`.
//!
//! No process-global mutable state: HarperDB loads this addon once per worker thread, and each
//! `Engine` owns its own store.

mod bench;
mod convert;
mod drift;
mod engine;
mod error;
mod fetch;
mod monitor;
mod monitoring;
mod report;
mod segments;
mod tasks;
mod telemetry;
mod tensor;
mod text;

/// The ONNX Runtime library models on the `ort` backend use.
mod onnxruntime {
    use std::path::PathBuf;

    use harper_edge_core::Error as CoreError;
    use harper_edge_core::backend::ort;
    use napi_derive::napi;

    use crate::error::{Result, sync};

    /// Uses the ONNX Runtime shared library at `path` (`libonnxruntime.so.1…`) for models on
    /// the `ort` backend; call it before the first such model loads. Returns `false` when a
    /// library was already chosen (the process keeps one: ONNX Runtime allows one
    /// environment per process, shared by every worker thread).
    #[napi]
    pub fn set_ort_library_path(path: String) -> bool {
        ort::set_library_path(path)
    }

    /// Uses the ONNX Runtime that the installed `onnxruntime-node` npm package ships, given
    /// that package's directory (`path.dirname(require.resolve('onnxruntime-node/package.json'))`);
    /// returns the library's path. Throws `HARPER_EDGE_BACKEND` when the package holds no
    /// library for this platform, `HARPER_EDGE_INVALID_INPUT` when another library was
    /// already chosen. Without this call the `ort` backend looks at
    /// `ORT_DYLIB_PATH`, an `onnxruntime` Python package, then an `onnxruntime-node` package
    /// `node` resolves from the working directory.
    #[napi]
    pub fn use_onnxruntime_node(package_dir: String) -> Result<String> {
        sync(|| {
            let dir = PathBuf::from(&package_dir);
            let lib = ort::library_in_onnxruntime_node(&dir).ok_or_else(|| CoreError::Backend {
                backend: "ort".into(),
                message: format!(
                    "'{package_dir}' holds no ONNX Runtime library for {}-{} (expected \
                     bin/napi-v*/<os>/<arch>/libonnxruntime.so.1 of onnxruntime-node)",
                    std::env::consts::OS,
                    std::env::consts::ARCH
                ),
                source: None,
            })?;
            if !ort::set_library_path(lib.clone()) {
                let current = ort::library_path()?;
                if current != lib {
                    return Err(CoreError::invalid_input(format!(
                        "ONNX Runtime is already set to '{}' for this process",
                        current.display()
                    )));
                }
            }
            Ok(lib.display().to_string())
        })
    }

    /// The ONNX Runtime library the `ort` backend uses or would use, found as
    /// `useOnnxruntimeNode` documents; throws `HARPER_EDGE_BACKEND` naming what was tried
    /// when there is none.
    #[napi]
    pub fn ort_library_path() -> Result<String> {
        sync(|| Ok(ort::library_path()?.display().to_string()))
    }
}

//! ONNX Runtime, through the `ort` crate with `load-dynamic`: nothing is downloaded at build
//! time; the shared library is found at run time.
//!
//! Where the library comes from, first found wins:
//!
//! 1. [`set_library_path`] (what the Python and Node packages call with the runtime their
//!    ecosystem ships);
//! 2. `ORT_DYLIB_PATH`;
//! 3. an installed `onnxruntime` Python package (`$HARPER_EDGE_PYTHON`, else `python3`);
//! 4. an installed `onnxruntime-node` npm package (resolved by `node`).
//!
//! None of them: [`Error::Backend`] saying how to provide one. The library is loaded once per
//! process, with one ONNX Runtime environment shared by every session.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock, PoisonError};

use ort::session::Session as OrtSession;
use ort::value::{DynValue, TensorElementType, ValueType};

use crate::backend::{Backend, Framework, ModelSource, ModelSpec, Session};
use crate::error::{Error, Result};
use crate::tensor::{DType, Outputs, Tensor, TensorData, TensorInfo};

const NAME: &str = "ort";

static LIBRARY: OnceLock<PathBuf> = OnceLock::new();
static ENVIRONMENT: OnceLock<std::result::Result<ort::environment::Environment, String>> =
    OnceLock::new();

/// Uses the ONNX Runtime library at `path` (before the first ort session is made).
/// Returns `false` when a library was already chosen.
pub fn set_library_path(path: impl Into<PathBuf>) -> bool {
    LIBRARY.set(path.into()).is_ok()
}

fn backend_error(message: impl Into<String>) -> Error {
    Error::Backend { backend: NAME.into(), message: message.into(), source: None }
}

/// The first `libonnxruntime.so*` (or `.dylib`, `.dll`) in `dir`.
fn library_in(dir: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                (n.starts_with("libonnxruntime.so")
                    || n.starts_with("libonnxruntime.dylib")
                    || n == "onnxruntime.dll")
                    && !n.contains("providers")
            })
        })
        .collect();
    // The versioned file is the real one; the bare name may be a dangling link.
    found.sort_by_key(|p| std::cmp::Reverse(p.as_os_str().len()));
    found.into_iter().find(|p| p.is_file())
}

fn probe(program: &str, args: &[&str]) -> Option<PathBuf> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim().to_string()))
}

/// The ONNX Runtime library inside an installed `onnxruntime-node` npm package (its directory,
/// e.g. `node_modules/onnxruntime-node`): `bin/napi-v*/<os>/<arch>/libonnxruntime.so.1`
/// for this platform; `None` when it holds none.
pub fn library_in_onnxruntime_node(package_dir: &Path) -> Option<PathBuf> {
    let bin = package_dir.join("bin");
    let mut dirs = vec![bin.clone()];
    if let Ok(entries) = std::fs::read_dir(&bin) {
        let mut napi: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        // The newest N-API level first.
        napi.sort_by(|a, b| b.cmp(a));
        for dir in napi {
            dirs.push(dir.join(std::env::consts::OS).join(match std::env::consts::ARCH {
                "x86_64" => "x64",
                "aarch64" => "arm64",
                other => other,
            }));
        }
    }
    dirs.iter().find_map(|d| library_in(d))
}

/// Where the ONNX Runtime library is, and how it was found; or why none was.
///
/// # Errors
///
/// [`Error::Backend`] listing what was tried and how to provide a library.
pub fn library_path() -> Result<PathBuf> {
    if let Some(p) = LIBRARY.get() {
        return Ok(p.clone());
    }
    let mut tried = Vec::new();
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|v| !v.is_empty()) {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Ok(p);
        }
        tried.push(format!("ORT_DYLIB_PATH={} (no such file)", p.display()));
    } else {
        tried.push("ORT_DYLIB_PATH (not set)".into());
    }
    let python = std::env::var("HARPER_EDGE_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = "import onnxruntime, os; print(os.path.join(os.path.dirname(onnxruntime.__file__), 'capi'))";
    match probe(&python, &["-c", script]).and_then(|d| library_in(&d)) {
        Some(p) => return Ok(p),
        None => tried.push(format!("the onnxruntime Python package of '{python}' (not installed)")),
    }
    let script =
        "console.log(require('path').dirname(require.resolve('onnxruntime-node/package.json')))";
    if let Some(p) = probe("node", &["-e", script]).and_then(|d| library_in_onnxruntime_node(&d)) {
        return Ok(p);
    }
    tried.push("the onnxruntime-node npm package (not found by node)".into());
    Err(backend_error(format!(
        "no ONNX Runtime library found (tried {}). Install one from a package registry — \
         `pip install onnxruntime` or `npm install onnxruntime-node` — or set ORT_DYLIB_PATH to \
         libonnxruntime.so",
        tried.join("; ")
    )))
}

fn environment() -> Result<&'static ort::environment::Environment> {
    let env = ENVIRONMENT.get_or_init(|| {
        let path = library_path().map_err(|e| e.to_string())?;
        let builder = ort::init_from(&path)
            .map_err(|e| format!("cannot load ONNX Runtime from '{}': {e}", path.display()))?;
        builder
            .with_name("harper-edge")
            .build()
            .map_err(|e| format!("cannot start ONNX Runtime from '{}': {e}", path.display()))
    });
    env.as_ref().map_err(|m| backend_error(m.clone()))
}

/// Runs ONNX models with ONNX Runtime.
#[derive(Debug, Default, Clone, Copy)]
pub struct OrtBackend;

impl OrtBackend {
    /// The ort backend.
    pub fn new() -> Self {
        OrtBackend
    }
}

impl Backend for OrtBackend {
    fn name(&self) -> &'static str {
        NAME
    }

    /// Finds and loads the ONNX Runtime library (once per process).
    fn check(&self) -> Result<()> {
        environment().map(drop)
    }

    fn load(&self, spec: &ModelSpec<'_>) -> Result<Box<dyn Session>> {
        if spec.framework != Framework::Onnx {
            return Err(Error::invalid_input(format!(
                "backend 'ort' runs onnx models, not {} ('{}')",
                spec.framework, spec.id
            )));
        }
        let env = environment()?;
        let load_err = |e: ort::Error| Error::ModelLoad {
            model: spec.id.to_string(),
            message: e.to_string(),
            source: Some(Box::new(e)),
        };
        let mut builder = OrtSession::builder(env).map_err(load_err)?;
        let session = match spec.source {
            ModelSource::Bytes(b) => builder.commit_from_memory(b),
            ModelSource::Path(p) => builder.commit_from_file(p),
        }
        .map_err(load_err)?;
        let model = spec.id.to_string();
        let inputs = session
            .inputs()
            .iter()
            .map(|o| info(&model, o.name(), o.dtype(), true))
            .collect::<Result<Vec<_>>>()?;
        let outputs = session
            .outputs()
            .iter()
            .map(|o| info(&model, o.name(), o.dtype(), false))
            .collect::<Result<Vec<_>>>()?;
        Ok(Box::new(OrtModel { model, session: Mutex::new(session), inputs, outputs }))
    }
}

fn dtype(ty: TensorElementType, input: bool) -> Option<DType> {
    Some(match ty {
        TensorElementType::Float32 => DType::F32,
        TensorElementType::Int64 => DType::I64,
        TensorElementType::String => DType::String,
        // Outputs of these types are converted; inputs must be given as they are declared.
        TensorElementType::Float64 | TensorElementType::Float16 if !input => DType::F32,
        TensorElementType::Int32
        | TensorElementType::Bool
        | TensorElementType::Int8
        | TensorElementType::Uint8
            if !input =>
        {
            DType::I64
        }
        _ => return None,
    })
}

fn info(model: &str, name: &str, ty: &ValueType, input: bool) -> Result<TensorInfo> {
    let unsupported = || Error::ModelLoad {
        model: model.to_string(),
        message: format!(
            "{} '{name}' has type {ty:?}, which harper-edge tensors (f32, i64, string) do not carry",
            if input { "input" } else { "output" }
        ),
        source: None,
    };
    match ty {
        ValueType::Tensor { ty: elem, shape, .. } => Ok(TensorInfo {
            name: name.to_string(),
            dtype: dtype(*elem, input).ok_or_else(unsupported)?,
            shape: shape.iter().map(|&d| usize::try_from(d).ok()).collect(),
        }),
        // scikit-learn's ZipMap: one map per row, class → probability; given as f32 [n, classes]
        // with the classes in sorted order (what skl2onnx's class labels are).
        ValueType::Sequence(inner) if !input && matches!(**inner, ValueType::Map { .. }) => {
            Ok(TensorInfo { name: name.to_string(), dtype: DType::F32, shape: vec![None, None] })
        }
        _ => Err(unsupported()),
    }
}

/// A loaded ONNX Runtime session. `run` needs exclusive access to the ort session, so calls
/// on one model take turns (ONNX Runtime itself runs each call on its intra-op threads).
#[derive(Debug)]
struct OrtModel {
    model: String,
    session: Mutex<OrtSession>,
    inputs: Vec<TensorInfo>,
    outputs: Vec<TensorInfo>,
}

fn run_err(model: &str, e: &ort::Error) -> Error {
    backend_error(format!("running '{model}': {e}"))
}

fn to_value(model: &str, t: &Tensor<'_>) -> Result<DynValue> {
    let shape: Vec<i64> = t.shape().iter().map(|&d| i64::try_from(d).unwrap_or(i64::MAX)).collect();
    let value = match t.data() {
        TensorData::F32(v) => {
            ort::value::Tensor::from_array((shape, v.to_vec())).map(|t| t.into_dyn())
        }
        TensorData::I64(v) => {
            ort::value::Tensor::from_array((shape, v.to_vec())).map(|t| t.into_dyn())
        }
        TensorData::String(v) => {
            ort::value::Tensor::from_string_array((shape, &v[..])).map(|t| t.into_dyn())
        }
    };
    value.map_err(|e| run_err(model, &e))
}

fn from_value(model: &str, name: &str, v: &DynValue) -> Result<Tensor<'static>> {
    let shape_of = |s: &ort::value::Shape| -> Vec<usize> {
        s.iter().map(|&d| usize::try_from(d).unwrap_or(0)).collect()
    };
    let err = |e: ort::Error| run_err(model, &e);
    match v.dtype() {
        ValueType::Tensor { ty, .. } => {
            let data = match ty {
                TensorElementType::Float32 => {
                    let (s, d) = v.try_extract_tensor::<f32>().map_err(err)?;
                    return Tensor::new(shape_of(s), TensorData::F32(d.to_vec().into()));
                }
                TensorElementType::Float64 => {
                    let (s, d) = v.try_extract_tensor::<f64>().map_err(err)?;
                    #[allow(clippy::cast_possible_truncation)]
                    let d: Vec<f32> = d.iter().map(|&x| x as f32).collect();
                    (shape_of(s), TensorData::F32(d.into()))
                }
                TensorElementType::Int64 => {
                    let (s, d) = v.try_extract_tensor::<i64>().map_err(err)?;
                    (shape_of(s), TensorData::I64(d.to_vec().into()))
                }
                TensorElementType::Int32 => {
                    let (s, d) = v.try_extract_tensor::<i32>().map_err(err)?;
                    (
                        shape_of(s),
                        TensorData::I64(d.iter().map(|&x| i64::from(x)).collect::<Vec<_>>().into()),
                    )
                }
                TensorElementType::Bool => {
                    let (s, d) = v.try_extract_tensor::<bool>().map_err(err)?;
                    (
                        shape_of(s),
                        TensorData::I64(d.iter().map(|&x| i64::from(x)).collect::<Vec<_>>().into()),
                    )
                }
                TensorElementType::String => {
                    let (s, d) = v.try_extract_strings().map_err(err)?;
                    (shape_of(s), TensorData::String(d.into()))
                }
                other => {
                    return Err(backend_error(format!(
                        "output '{name}' of '{model}' has element type {other:?}, not supported"
                    )));
                }
            };
            Tensor::new(data.0, data.1)
        }
        ValueType::Sequence(_) => zipmap(model, name, v),
        other => Err(backend_error(format!(
            "output '{name}' of '{model}' has type {other:?}, not supported"
        ))),
    }
}

/// A sequence of maps (ZipMap) as f32 `[rows, classes]`, classes in sorted key order.
fn zipmap(model: &str, name: &str, v: &DynValue) -> Result<Tensor<'static>> {
    let err = |e: ort::Error| run_err(model, &e);
    let maps = v.try_extract_sequence::<ort::value::DynMapValueType>().map_err(err)?;
    let mut rows: Vec<Vec<f32>> = Vec::with_capacity(maps.len());
    for m in &maps {
        let row = match m.dtype() {
            ValueType::Map { key: TensorElementType::Int64, .. } => {
                let mut pairs: Vec<(i64, f32)> =
                    m.try_extract_map::<i64, f32>().map_err(err)?.into_iter().collect();
                pairs.sort_by_key(|p| p.0);
                pairs.into_iter().map(|p| p.1).collect()
            }
            ValueType::Map { key: TensorElementType::String, .. } => {
                let mut pairs: Vec<(String, f32)> =
                    m.try_extract_map::<String, f32>().map_err(err)?.into_iter().collect();
                pairs.sort_by(|a, b| a.0.cmp(&b.0));
                pairs.into_iter().map(|p| p.1).collect()
            }
            other => {
                return Err(backend_error(format!(
                    "output '{name}' of '{model}' is a sequence of {other:?}"
                )));
            }
        };
        rows.push(row);
    }
    let classes = rows.first().map_or(0, Vec::len);
    if rows.iter().any(|r| r.len() != classes) {
        return Err(backend_error(format!(
            "output '{name}' of '{model}': rows with different classes"
        )));
    }
    let n = rows.len();
    Tensor::new(
        vec![n, classes],
        TensorData::F32(rows.into_iter().flatten().collect::<Vec<_>>().into()),
    )
}

impl Session for OrtModel {
    fn inputs(&self) -> &[TensorInfo] {
        &self.inputs
    }

    fn outputs(&self) -> &[TensorInfo] {
        &self.outputs
    }

    fn run(&self, inputs: &[&Tensor<'_>]) -> Result<Outputs> {
        super::check_inputs(&self.model, &self.inputs, inputs)?;
        let values: Vec<(String, DynValue)> = self
            .inputs
            .iter()
            .zip(inputs)
            .map(|(info, t)| Ok((info.name.clone(), to_value(&self.model, t)?)))
            .collect::<Result<_>>()?;
        let mut session = self.session.lock().unwrap_or_else(PoisonError::into_inner);
        let outputs = session.run(values).map_err(|e| run_err(&self.model, &e))?;
        let tensors = self
            .outputs
            .iter()
            .map(|info| {
                let v = outputs.get(info.name.as_str()).ok_or_else(|| {
                    backend_error(format!("'{}' gave no output '{}'", self.model, info.name))
                })?;
                Ok((info.name.clone(), from_value(&self.model, &info.name, v)?))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Outputs::new(tensors))
    }
}

//! The pure-Rust ONNX backend, on [tract](https://github.com/sonos/tract).

use std::borrow::Cow;
use std::io::Cursor;
use std::sync::Arc;

use tract_onnx::prelude as tp;
use tract_onnx::prelude::{Framework as _, InferenceModelExt as _, IntoTensor as _};
use tract_onnx::tract_hir::infer::Factoid as _;

use crate::backend::{Backend, Framework, ModelSource, ModelSpec, Session, tract_ml};
use crate::error::{Error, Result};
use crate::tensor::{DType, Outputs, Tensor, TensorData, TensorInfo};

const NAME: &str = "tract";

/// Runs ONNX models with tract-onnx.
#[derive(Debug, Default, Clone, Copy)]
pub struct TractBackend;

impl TractBackend {
    /// The tract backend.
    pub fn new() -> Self {
        TractBackend
    }
}

impl Backend for TractBackend {
    fn name(&self) -> &'static str {
        NAME
    }

    fn check(&self) -> Result<()> {
        Ok(())
    }

    fn load(&self, spec: &ModelSpec<'_>) -> Result<Box<dyn Session>> {
        if spec.framework != Framework::Onnx {
            return Err(Error::invalid_input(format!(
                "backend 'tract' runs onnx models, not {} ('{}')",
                spec.framework, spec.id
            )));
        }
        let load_err = |e: tp::TractError| Error::ModelLoad {
            model: spec.id.to_string(),
            message: format!("{e:#}"),
            source: Some(e.into()),
        };
        // tract's ONNX front end plus the ONNX-ML operators scikit-learn exports (tract_ml).
        let onnx = tract_ml::onnx();
        let (proto, dir) = match spec.source {
            ModelSource::Bytes(bytes) => (onnx.proto_model_for_read(&mut Cursor::new(bytes)), None),
            ModelSource::Path(path) => {
                (onnx.proto_model_for_path(path), path.parent().and_then(|d| d.to_str()))
            }
        };
        let mut proto = proto.map_err(load_err)?;
        tract_ml::string_labels_as_indices(&mut proto);
        // tract stands in a placeholder for an operator it does not know and fails only when
        // typing the graph, with a message that does not always name it: name them all first.
        let unsupported = tract_ml::unsupported_operators(&onnx, &proto);
        if !unsupported.is_empty() {
            return Err(Error::ModelLoad {
                model: spec.id.to_string(),
                message: unsupported
                    .iter()
                    .map(|(op, domain)| format!("unsupported operator '{op}' (domain {domain})"))
                    .collect::<Vec<_>>()
                    .join(", "),
                source: None,
            });
        }
        let parsed = onnx.parse(&proto, dir).map_err(load_err)?;
        if !parsed.unresolved_inputs.is_empty() {
            return Err(Error::ModelLoad {
                model: spec.id.to_string(),
                message: format!(
                    "graph inputs without a producer: {}",
                    parsed.unresolved_inputs.join(", ")
                ),
                source: None,
            });
        }
        let mut model = parsed.model;

        // skl2onnx leaves the batch dimension empty; tract needs a symbol there before it can
        // type the graph. The first dimension of every input shares one batch symbol.
        let batch = model.symbols.sym("batch");
        for ix in 0..model.inputs.len() {
            let mut fact = model.input_fact(ix).map_err(load_err)?.clone();
            let dims: Vec<_> = fact.shape.dims().cloned().collect();
            if fact.shape.is_open() {
                continue;
            }
            let mut changed = false;
            for (d, dim) in dims.iter().enumerate() {
                if dim.concretize().is_none() {
                    let sym = if d == 0 {
                        batch.clone()
                    } else {
                        model.symbols.sym(&format!("d{ix}_{d}"))
                    };
                    fact.shape.set_dim(d, sym.into());
                    changed = true;
                }
            }
            if changed {
                model = model.with_input_fact(ix, fact).map_err(load_err)?;
            }
        }

        let input_names = outlet_names(&model, model.input_outlets().map_err(load_err)?);
        let output_names = outlet_names(&model, model.output_outlets().map_err(load_err)?);
        // Optimising here makes tract report unsupported operators at load time.
        let typed = model.into_optimized().map_err(load_err)?;
        let inputs = facts(spec.id, &typed, &input_names, true)?;
        let outputs = facts(spec.id, &typed, &output_names, false)?;
        let plan = tp::TypedSimplePlan::new(typed).map_err(load_err)?;
        Ok(Box::new(TractSession { id: spec.id.to_string(), plan, inputs, outputs }))
    }
}

fn outlet_names(model: &tp::InferenceModel, outlets: &[tp::OutletId]) -> Vec<String> {
    outlets
        .iter()
        .map(|&o| {
            model.outlet_label(o).map_or_else(|| model.node(o.node).name.clone(), str::to_owned)
        })
        .collect()
}

fn facts(
    id: &str,
    model: &tp::TypedModel,
    names: &[String],
    inputs: bool,
) -> Result<Vec<TensorInfo>> {
    names
        .iter()
        .enumerate()
        .map(|(ix, name)| {
            let fact = if inputs { model.input_fact(ix) } else { model.output_fact(ix) };
            let fact = fact.map_err(|e| Error::ModelLoad {
                model: id.to_string(),
                message: format!("{e:#}"),
                source: Some(e.into()),
            })?;
            let dtype = dtype_of(fact.datum_type).ok_or_else(|| Error::ModelLoad {
                model: id.to_string(),
                message: format!(
                    "{} '{name}' has element type {:?}, which harper-edge does not exchange yet",
                    if inputs { "input" } else { "output" },
                    fact.datum_type
                ),
                source: None,
            })?;
            let shape = fact
                .shape
                .iter()
                .map(|d| d.as_i64().and_then(|n| usize::try_from(n).ok()))
                .collect();
            Ok(TensorInfo { name: name.clone(), dtype, shape })
        })
        .collect()
}

fn dtype_of(dt: tp::DatumType) -> Option<DType> {
    match dt {
        tp::DatumType::F32 | tp::DatumType::F64 | tp::DatumType::F16 => Some(DType::F32),
        // tract types a Cast to int64 (skl2onnx casts labels) as TDim, its symbolic integer.
        tp::DatumType::I64
        | tp::DatumType::I32
        | tp::DatumType::I16
        | tp::DatumType::I8
        | tp::DatumType::TDim => Some(DType::I64),
        tp::DatumType::U8 | tp::DatumType::U16 | tp::DatumType::U32 => Some(DType::I64),
        tp::DatumType::String => Some(DType::String),
        _ => None,
    }
}

#[derive(Debug)]
struct TractSession {
    id: String,
    plan: Arc<tp::TypedSimplePlan>,
    inputs: Vec<TensorInfo>,
    outputs: Vec<TensorInfo>,
}

impl TractSession {
    fn backend_err(&self, e: tp::TractError) -> Error {
        Error::Backend {
            backend: NAME.to_string(),
            message: format!("running '{}': {e:#}", self.id),
            source: Some(e.into()),
        }
    }
}

impl Session for TractSession {
    fn inputs(&self) -> &[TensorInfo] {
        &self.inputs
    }

    fn outputs(&self) -> &[TensorInfo] {
        &self.outputs
    }

    fn run(&self, inputs: &[&Tensor<'_>]) -> Result<Outputs> {
        super::check_inputs(&self.id, &self.inputs, inputs)?;
        let model = self.plan.model();
        let mut values = tp::TVec::with_capacity(inputs.len());
        for (ix, tensor) in inputs.iter().enumerate() {
            let want = model.input_fact(ix).map_err(|e| self.backend_err(e))?.datum_type;
            let t = to_tract(tensor).map_err(|e| self.backend_err(e))?;
            let t = if t.datum_type() == want {
                t
            } else {
                t.cast_to_dt(want).map_err(|e| self.backend_err(e))?.into_owned()
            };
            values.push(t.into());
        }
        let results = self.plan.run(values).map_err(|e| self.backend_err(e))?;
        let tensors = results
            .into_iter()
            .zip(&self.outputs)
            .map(|(value, info)| {
                Ok((
                    info.name.clone(),
                    from_tract(&value.into_tensor()).map_err(|e| self.backend_err(e))?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Outputs::new(tensors))
    }
}

fn to_tract(t: &Tensor<'_>) -> tp::TractResult<tp::Tensor> {
    match t.data() {
        TensorData::F32(v) => tp::Tensor::from_shape(t.shape(), v),
        TensorData::I64(v) => tp::Tensor::from_shape(t.shape(), v),
        TensorData::String(v) => {
            let arr = tp::tract_ndarray::ArrayD::from_shape_vec(t.shape(), v.to_vec())?;
            Ok(arr.into())
        }
    }
}

fn from_tract(t: &tp::Tensor) -> tp::TractResult<Tensor<'static>> {
    let shape = t.shape().to_vec();
    let data = match t.datum_type() {
        tp::DatumType::F32 => {
            TensorData::F32(Cow::Owned(t.try_as_plain_ram()?.as_slice::<f32>()?.to_vec()))
        }
        tp::DatumType::I64 => {
            TensorData::I64(Cow::Owned(t.try_as_plain_ram()?.as_slice::<i64>()?.to_vec()))
        }
        tp::DatumType::String => {
            TensorData::String(Cow::Owned(t.try_as_plain_ram()?.as_slice::<String>()?.to_vec()))
        }
        dt if dt.is_float() => {
            let c = t.cast_to::<f32>()?;
            TensorData::F32(Cow::Owned(c.try_as_plain_ram()?.as_slice::<f32>()?.to_vec()))
        }
        _ => {
            let c = t.cast_to::<i64>()?;
            TensorData::I64(Cow::Owned(c.try_as_plain_ram()?.as_slice::<i64>()?.to_vec()))
        }
    };
    Tensor::new(shape, data).map_err(|e| tp::TractError::msg(e.to_string()))
}

//! Tensors out: the answer of `infer` / `inferJson` with every output tensor typed.

use std::collections::BTreeMap;

use harper_edge_core::{Error as CoreError, Prediction as CorePrediction, Tensor, TensorData};
use napi::bindgen_prelude::{BigInt64Array, Either3, Float32Array};
use napi_derive::napi;

use crate::error::CoreResult;

/// The answer to one call.
#[napi(object, object_from_js = false, use_nullable = true)]
#[derive(Debug)]
pub struct Prediction {
    /// Id of the recorded `InferenceEvent`; pass it to `feedback`.
    pub inference_id: String,
    /// Model name.
    pub model_name: String,
    /// Model version that answered.
    pub model_version: String,
    /// The prediction: a label for classifiers (an array of labels for a batch), otherwise every
    /// output as nested arrays.
    #[napi(ts_type = "unknown")]
    pub prediction: serde_json::Value,
    /// Confidence in [0, 1] when the task defines one (a classifier's top probability; the mean
    /// over a batch).
    pub confidence: Option<f64>,
    /// Wall time of the model call in milliseconds.
    pub latency_ms: f64,
    /// Every output tensor by name.
    pub outputs: BTreeMap<String, OutputTensor>,
}

/// One output tensor: its shape and its row-major data.
#[napi(object, object_from_js = false)]
pub struct OutputTensor {
    /// Dimensions, outermost first.
    pub shape: Vec<u32>,
    /// `Float32Array` for f32, `BigInt64Array` for i64, `string[]` for strings.
    pub data: Either3<Float32Array, BigInt64Array, Vec<String>>,
}

impl std::fmt::Debug for OutputTensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let dtype = match &self.data {
            Either3::A(_) => "f32",
            Either3::B(_) => "i64",
            Either3::C(_) => "string",
        };
        f.debug_struct("OutputTensor").field("shape", &self.shape).field("dtype", &dtype).finish()
    }
}

impl Prediction {
    /// Converts the core's answer; runs on the libuv pool.
    pub fn from_core(p: CorePrediction) -> CoreResult<Self> {
        let outputs = p
            .outputs
            .into_vec()
            .into_iter()
            .map(|(name, t)| Ok((name, output(t)?)))
            .collect::<CoreResult<_>>()?;
        Ok(Prediction {
            inference_id: p.inference_id,
            model_name: p.model_name,
            model_version: p.model_version,
            prediction: p.prediction,
            confidence: p.confidence,
            latency_ms: p.latency_ms,
            outputs,
        })
    }
}

/// Hands the tensor's buffer to JavaScript without copying (strings are copied into JS strings).
fn output(t: Tensor<'static>) -> CoreResult<OutputTensor> {
    let (shape, data) = t.into_parts();
    let shape = shape.iter().map(|&d| u32::try_from(d).unwrap_or(u32::MAX)).collect();
    let data = match data {
        TensorData::F32(v) => Either3::A(Float32Array::new(v.into_owned())),
        TensorData::I64(v) => Either3::B(BigInt64Array::new(v.into_owned())),
        TensorData::String(v) => Either3::C(v.into_owned()),
        other => {
            return Err(CoreError::invalid_input(format!(
                "output dtype {} has no JavaScript mapping yet",
                other.dtype()
            )));
        }
    };
    Ok(OutputTensor { shape, data })
}

//! The candle backend (feature `candle`): BERT-family encoders from `model.safetensors` and
//! `config.json`, the way Hugging Face ships them, without ONNX.
//!
//! A session takes the same token inputs as an ONNX export of the model (`input_ids`,
//! `attention_mask`, `token_type_ids`: int64 `[batch, sequence]`) and gives its token vectors
//! as `last_hidden_state` (float `[batch, sequence, hidden]`), so [`crate::Engine::embed`]
//! tokenizes, pools and normalises exactly as it does for the ONNX backends. It runs on the
//! CPU in f32, with candle's own thread pool.

use std::fmt;

use candle_core::{DType as CandleDType, Device, Tensor as CandleTensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};

use crate::backend::{Backend, Framework, ModelSpec, Session};
use crate::error::{Error, Result};
use crate::tensor::{DType, Outputs, Tensor, TensorData, TensorInfo};

/// Model types whose weights candle's BERT implementation reads.
const BERT_FAMILY: [&str; 2] = ["bert", "xlm-roberta"];

/// Runs BERT-family encoders with candle.
#[derive(Debug, Default, Clone, Copy)]
pub struct CandleBackend;

impl CandleBackend {
    /// The backend.
    pub fn new() -> Self {
        CandleBackend
    }
}

impl Backend for CandleBackend {
    fn name(&self) -> &'static str {
        "candle"
    }

    /// Always usable: candle is pure Rust and runs on the CPU.
    fn check(&self) -> Result<()> {
        Ok(())
    }

    fn load(&self, spec: &ModelSpec<'_>) -> Result<Box<dyn Session>> {
        if spec.framework != Framework::Transformers {
            return Err(Error::invalid_input(format!(
                "the candle backend runs transformers models (model.safetensors + config.json), \
                 not {} models",
                spec.framework
            )));
        }
        let load_err = |message: String| Error::ModelLoad {
            model: spec.id.to_string(),
            message,
            source: None,
        };
        let config_json = spec
            .companion("config.json")
            .ok_or_else(|| {
                load_err(
                    "no config.json came with the weights: fetch the model directory or \
                     repository, not model.safetensors alone"
                        .into(),
                )
            })?
            .source
            .read()?;
        let config: Config = serde_json::from_slice(&config_json)
            .map_err(|e| load_err(format!("config.json is not a BERT configuration: {e}")))?;
        if let Some(kind) = config.model_type.as_deref()
            && !BERT_FAMILY.contains(&kind)
        {
            return Err(load_err(format!(
                "config.json says model_type '{kind}'; the candle backend runs BERT-family \
                 encoders ({})",
                BERT_FAMILY.join(", ")
            )));
        }
        let weights = spec.source.read()?.into_owned();
        let device = Device::Cpu;
        let vb = VarBuilder::from_buffered_safetensors(weights, CandleDType::F32, &device)
            .map_err(|e| load_err(format!("model.safetensors cannot be read: {e}")))?;
        let model = BertModel::load(vb, &config)
            .map_err(|e| load_err(format!("the weights do not fit config.json: {e}")))?;
        let token = |name: &str| TensorInfo {
            name: name.to_string(),
            dtype: DType::I64,
            shape: vec![None, None],
        };
        let session = CandleSession {
            id: spec.id.to_string(),
            model,
            vocab_size: config.vocab_size,
            type_vocab_size: config.type_vocab_size,
            max_positions: config.max_position_embeddings,
            device,
            inputs: vec![token("input_ids"), token("attention_mask"), token("token_type_ids")],
            outputs: vec![TensorInfo {
                name: "last_hidden_state".into(),
                dtype: DType::F32,
                shape: vec![None, None, Some(config.hidden_size)],
            }],
        };
        // One tiny pass now, so that the first call is not the slow one and a model that
        // cannot run fails here.
        let ids = [101i64, 102];
        let ones = [1i64, 1];
        let zeros = [0i64, 0];
        let probe = [
            Tensor::from_i64(&[1, 2], &ids)?,
            Tensor::from_i64(&[1, 2], &ones)?,
            Tensor::from_i64(&[1, 2], &zeros)?,
        ];
        session
            .run(&probe.iter().collect::<Vec<_>>())
            .map_err(|e| load_err(format!("a first run failed: {e}")))?;
        Ok(Box::new(session))
    }
}

struct CandleSession {
    id: String,
    model: BertModel,
    /// Token ids must be below this.
    vocab_size: usize,
    /// Segment ids must be below this.
    type_vocab_size: usize,
    /// Sequences may be at most this long.
    max_positions: usize,
    device: Device,
    inputs: Vec<TensorInfo>,
    outputs: Vec<TensorInfo>,
}

impl fmt::Debug for CandleSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CandleSession").field("id", &self.id).finish_non_exhaustive()
    }
}

impl CandleSession {
    fn backend_err(&self, e: &candle_core::Error) -> Error {
        Error::Backend {
            backend: "candle".into(),
            message: format!("model '{}': {e}", self.id),
            source: None,
        }
    }

    fn tensor(&self, t: &Tensor<'_>) -> Result<CandleTensor> {
        let TensorData::I64(data) = t.data() else {
            return Err(Error::invalid_input(format!(
                "model '{}' takes int64 token tensors, got {}",
                self.id,
                t.dtype()
            )));
        };
        let [rows, cols] = *t.shape() else {
            return Err(Error::invalid_input(format!(
                "model '{}' takes [batch, sequence] token tensors, got rank {}",
                self.id,
                t.shape().len()
            )));
        };
        CandleTensor::from_slice(data.as_ref(), (rows, cols), &self.device)
            .map_err(|e| self.backend_err(&e))
    }
}

impl Session for CandleSession {
    fn inputs(&self) -> &[TensorInfo] {
        &self.inputs
    }

    fn outputs(&self) -> &[TensorInfo] {
        &self.outputs
    }

    fn run(&self, inputs: &[&Tensor<'_>]) -> Result<Outputs> {
        super::check_inputs(&self.id, &self.inputs, inputs)?;
        let [ids, mask, types] = inputs else {
            return Err(Error::invalid_input(format!(
                "model '{}' takes 3 inputs (input_ids, attention_mask, token_type_ids), got {}",
                self.id,
                inputs.len()
            )));
        };
        if ids.shape() != mask.shape() || ids.shape() != types.shape() {
            return Err(Error::Shape {
                model: self.id.clone(),
                input: "attention_mask".into(),
                message: "input_ids, attention_mask and token_type_ids must have one shape".into(),
            });
        }
        // candle indexes its embedding tables with these: check them here, as typed errors.
        let within = |t: &Tensor<'_>, name: &str, limit: usize| -> Result<()> {
            let bad = t.as_i64().and_then(|v| {
                v.iter().find(|&&x| x < 0 || usize::try_from(x).is_ok_and(|x| x >= limit))
            });
            match bad {
                Some(x) => Err(Error::invalid_input(format!(
                    "model '{}': {name} holds {x}, outside [0, {limit})",
                    self.id
                ))),
                None => Ok(()),
            }
        };
        within(ids, "input_ids", self.vocab_size)?;
        within(types, "token_type_ids", self.type_vocab_size)?;
        within(mask, "attention_mask", 2)?;
        if ids.shape().get(1).is_some_and(|&s| s > self.max_positions) {
            return Err(Error::Shape {
                model: self.id.clone(),
                input: "input_ids".into(),
                message: format!(
                    "sequences of {} tokens are longer than the model's {} positions",
                    ids.shape()[1],
                    self.max_positions
                ),
            });
        }
        let (ids, mask, types) = (self.tensor(ids)?, self.tensor(mask)?, self.tensor(types)?);
        let hidden =
            self.model.forward(&ids, &types, Some(&mask)).map_err(|e| self.backend_err(&e))?;
        let shape = hidden.dims().to_vec();
        let values = hidden
            .flatten_all()
            .and_then(|t| t.to_vec1::<f32>())
            .map_err(|e| self.backend_err(&e))?;
        let out = Tensor::new(shape, TensorData::F32(values.into()))?;
        Ok(Outputs::new(vec![("last_hidden_state".into(), out)]))
    }
}

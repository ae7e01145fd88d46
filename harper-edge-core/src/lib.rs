//! # harper-edge-core
//!
//! An embeddable MLOps engine: model registration and multi-backend inference, with every
//! call recorded as telemetry in an embedded store that a host can mirror into its own tables.
//!
//! ```
//! use harper_edge_core::{Engine, Framework, InferContext, ModelRegistration};
//!
//! let engine = Engine::in_memory()?;
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/iris_logreg.onnx");
//! engine.register_model(ModelRegistration::new("iris", "1", Framework::Onnx).file(path))?;
//! let p = engine.infer_json(&"iris:1".parse()?, &serde_json::json!([6.7, 3.0, 5.2, 2.3]), &InferContext::new())?;
//! assert_eq!(p.prediction, serde_json::json!(2)); // virginica
//! # Ok::<(), harper_edge_core::Error>(())
//! ```
//!
//! Modules, lower never importing higher: [`error`] and [`clock`]; [`tensor`]; [`backend`];
//! [`registry`], [`task`], [`embedding`] and [`fetch`]; [`telemetry`] and [`drift`]; [`store`]; [`monitor`]
//! and [`fetch::jobs`] (the one part of `fetch` above the store); [`engine`]; [`report`].
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

pub mod backend;
mod background;
pub mod bench;
pub mod clock;
pub mod drift;
pub mod embedding;
pub mod engine;
pub mod error;
pub mod fetch;
pub mod monitor;
pub mod profile;
pub mod registry;
pub mod report;
mod retry;
pub mod store;
pub mod task;
pub mod telemetry;
pub mod tensor;

pub use backend::{Backend, Framework, Session};
pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use engine::{
    BaselineOptions, CacheStats, Embeddings, Engine, EngineBuilder, GenerateResult, InferContext,
    Prediction,
};
pub use error::{Error, ErrorKind, Result};
pub use registry::{Model, ModelFilter, ModelRef, ModelRegistration, Stage};
pub use store::{MemoryStore, OutboxEntry, SqliteStore, Store, Table};
pub use telemetry::{
    EventQuery, Granularity, InferenceEvent, MetricsQuery, ModelMetrics, Observation, Overflow,
    Recorder, TelemetryConfig, TelemetryStats, WindowStats,
};
pub use tensor::{DType, Inputs, Outputs, Tensor, TensorData, TensorInfo};

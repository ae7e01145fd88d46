//! Telemetry: every inference becomes an [`InferenceEvent`], produced by the [`Recorder`].

mod event;
mod realtime;
mod recorder;
mod rollup;
mod sketch;
mod window;

pub use event::{EventQuery, InferenceEvent, outcome_matches};
pub use realtime::Realtime;
pub use recorder::{InferContext, InferenceCall, Recorder};
pub(crate) use rollup::Pending;
pub use rollup::{Granularity, MetricsQuery, ModelMetrics};
pub use sketch::QuantileSketch;
pub use window::{SlidingWindow, WindowStats};

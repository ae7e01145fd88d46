//! Telemetry: every inference becomes an [`InferenceEvent`], produced by the [`Recorder`].

mod event;
mod realtime;
mod recorder;
mod sketch;
mod window;

pub use event::{EventQuery, InferenceEvent, outcome_matches};
pub use realtime::Realtime;
pub use recorder::{InferContext, InferenceCall, Recorder};
pub use sketch::QuantileSketch;
pub use window::{SlidingWindow, WindowStats};

//! Telemetry: every inference becomes an [`InferenceEvent`], produced by the [`Recorder`].

mod event;
mod recorder;

pub use event::{EventQuery, InferenceEvent, outcome_matches};
pub use recorder::{InferContext, InferenceCall, Recorder};

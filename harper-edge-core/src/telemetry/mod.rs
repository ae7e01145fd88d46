//! Telemetry: every call counted in real-time windows and 5-minute / hourly / daily rollups,
//! and kept as an [`InferenceEvent`] — all through the [`Recorder`].

mod buffer;
mod event;
mod recorder;
mod rollup;
mod sample;
mod series;
mod sketch;
mod window;

pub use buffer::{Admission, Overflow};
pub use event::{EventQuery, InferenceEvent, outcome_matches};
pub use recorder::{
    BatchAdmission, InferContext, InferenceCall, Recorder, TelemetryConfig, TelemetryStats, Ticker,
};
pub use rollup::{
    Granularity, MetricsQuery, ModelMetrics, SegmentMetrics, SegmentedMetrics, segment_rollups,
};
pub use sample::{FeatureSample, SampledCall, TakenSample};
pub use series::{Columns, Flag, Millis, Observation, Series};
pub use sketch::QuantileSketch;
pub use window::{SlidingWindow, WindowStats};

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use crate::clock::{Clock, Timestamp};
use crate::error::Result;
use crate::registry::Model;
use crate::store::Store;
use crate::telemetry::{EventQuery, InferenceEvent, Realtime, SlidingWindow, WindowStats};

/// Caller-supplied context of one call, stored with its event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct InferContext {
    /// The caller's request id.
    pub request_id: Option<String>,
    /// The caller's user id.
    pub user_id: Option<String>,
    /// The caller's session id.
    pub session_id: Option<String>,
}

impl InferContext {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the user id.
    #[must_use]
    pub fn user_id(mut self, id: impl Into<String>) -> Self {
        self.user_id = Some(id.into());
        self
    }

    /// Sets the session id.
    #[must_use]
    pub fn session_id(mut self, id: impl Into<String>) -> Self {
        self.session_id = Some(id.into());
        self
    }

    /// Sets the request id.
    #[must_use]
    pub fn request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }
}

/// What the engine knows about one finished call.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct InferenceCall<'a> {
    /// The model that was called.
    pub model: &'a Model,
    /// The inputs as JSON.
    pub features_in: Value,
    /// The prediction, or `Err(message)` when the call failed.
    pub outcome: std::result::Result<(Value, Option<f64>), String>,
    /// Wall time of the call in milliseconds.
    pub latency_ms: f64,
    /// Caller-supplied context.
    pub context: &'a InferContext,
}

/// Turns every call into an [`InferenceEvent`], persists it, and keeps the real-time view.
///
/// Each event is written to the store (and its outbox) before `record` returns, so a
/// successful call is never lost.
pub struct Recorder {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    realtime: Realtime,
}

/// At most this many stored events seed a model's real-time window in a new process.
const SEED_LIMIT: usize = 1_000_000;

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder").field("store", &self.store).finish_non_exhaustive()
    }
}

impl Recorder {
    /// A recorder writing to `store`, stamping events with `clock`.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        let realtime = Realtime::new(SlidingWindow::DEFAULT_SPAN, SlidingWindow::DEFAULT_SLOT)
            .expect("the default window splits into whole slots");
        Recorder { store, clock, realtime }
    }

    /// The stored events of `name:version` within the last window span.
    fn recent_events(&self, name: &str, version: &str) -> Result<Vec<InferenceEvent>> {
        let span = i64::try_from(self.realtime.span().as_millis()).unwrap_or(i64::MAX);
        let from = Timestamp::from_millis(self.clock.now().as_millis().saturating_sub(span));
        let query = EventQuery::new().model(name).version(version).between(Some(from), None);
        self.store.events(&query.limit(SEED_LIMIT))
    }

    /// Counts the ground truth of `event` (just updated in the store) in the real-time view;
    /// `previous` is the label it replaced, if any.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Storage`] when seeding the window from the store fails.
    pub fn record_feedback(&self, event: &InferenceEvent, previous: Option<bool>) -> Result<()> {
        let Some(correct) = event.correct else { return Ok(()) };
        let (name, version) = (&event.model_name, &event.model_version);
        self.realtime.with_window(
            name,
            version,
            || self.recent_events(name, version),
            |w, seeded| {
                // A window seeded just now read the updated event from the store already.
                if !seeded {
                    w.relabel(event.timestamp, previous, correct);
                }
            },
        )
    }

    /// The real-time view of `name:version`: the last five minutes of calls.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Storage`] when seeding the window from the store fails.
    pub fn realtime(&self, name: &str, version: &str) -> Result<WindowStats> {
        let now = self.clock.now();
        self.realtime.stats(name, version, now, || self.recent_events(name, version))
    }

    /// Builds the event for `call`, persists it and returns it.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Storage`] when the store cannot write the event.
    pub fn record(&self, call: InferenceCall<'_>) -> Result<InferenceEvent> {
        let (prediction, confidence, error) = match call.outcome {
            Ok((prediction, confidence)) => (prediction, confidence, None),
            Err(message) => (Value::Null, None, Some(message)),
        };
        let event = InferenceEvent {
            id: uuid::Uuid::new_v4().to_string(),
            model_name: call.model.model_name.clone(),
            model_version: call.model.model_version.clone(),
            framework: call.model.framework,
            request_id: call.context.request_id.clone(),
            user_id: call.context.user_id.clone(),
            session_id: call.context.session_id.clone(),
            features_in: call.features_in,
            prediction,
            confidence,
            latency_ms: call.latency_ms,
            timestamp: self.clock.now(),
            error,
            actual_outcome: None,
            correct: None,
            feedback_timestamp: None,
        };
        // Counted before it is stored, so a window seeded here does not read it twice.
        let (name, version) = (&event.model_name, &event.model_version);
        self.realtime.with_window(
            name,
            version,
            || self.recent_events(name, version),
            |w, _| {
                w.record(
                    event.timestamp,
                    event.latency_ms,
                    event.error.is_some(),
                    event.confidence,
                );
            },
        )?;
        self.store.insert_event(&event)?;
        Ok(event)
    }
}

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use crate::clock::Clock;
use crate::error::Result;
use crate::registry::Model;
use crate::store::Store;
use crate::telemetry::InferenceEvent;

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

/// Turns every call into an [`InferenceEvent`] and persists it.
///
/// Each event is written to the store (and its outbox) before `record` returns, so a
/// successful call is never lost.
pub struct Recorder {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder").field("store", &self.store).finish_non_exhaustive()
    }
}

impl Recorder {
    /// A recorder writing to `store`, stamping events with `clock`.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Recorder { store, clock }
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
        self.store.insert_event(&event)?;
        Ok(event)
    }
}

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use crate::clock::{Clock, Timestamp};
use crate::error::Result;
use crate::registry::Model;
use crate::store::Store;
use crate::telemetry::{
    EventQuery, InferenceEvent, MetricsQuery, ModelMetrics, Pending, Realtime, SlidingWindow,
    WindowStats,
};

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
    pending: Pending,
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
        Recorder { store, clock, realtime, pending: Pending::default() }
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

    /// Writes the 5-minute rows of the periods that ended by `until` (every period, open ones
    /// too, when `None`), merging each into the row already stored for its period, then
    /// recomputes the hourly and daily rows of the periods touched from their finer rows.
    /// Returns the rows written, finest first. A row that cannot be written stays pending for
    /// the next flush.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Storage`] when the store fails.
    pub fn flush(&self, until: Option<Timestamp>) -> Result<Vec<ModelMetrics>> {
        let mut rows = self.pending.take(until);
        let mut written = Vec::with_capacity(rows.len());
        while let Some(row) = rows.pop() {
            let stored = self.store.metrics_row(&row.id).and_then(|existing| {
                let row = match existing {
                    Some(old) => ModelMetrics::merged(
                        &row.model_name,
                        &row.model_version,
                        row.granularity,
                        row.period_start,
                        [&old, &row],
                    )?,
                    None => row.clone(),
                };
                self.store.upsert_metrics(&row).map(|()| row)
            });
            match stored {
                Ok(row) => written.push(row),
                Err(e) => {
                    self.pending.restore(row);
                    rows.into_iter().for_each(|r| self.pending.restore(r));
                    return Err(e);
                }
            }
        }
        let mut finer = written.clone();
        while let Some(granularity) = finer.first().and_then(|r| r.granularity.coarser()) {
            let mut periods: Vec<(String, String, Timestamp)> = finer
                .iter()
                .map(|r| {
                    (
                        r.model_name.clone(),
                        r.model_version.clone(),
                        granularity.period_start(r.period_start),
                    )
                })
                .collect();
            periods.sort();
            periods.dedup();
            let child = finer[0].granularity;
            finer = Vec::with_capacity(periods.len());
            for (name, version, start) in periods {
                let end = Timestamp::from_millis(start.as_millis() + granularity.millis());
                let children = self.store.metrics(
                    &MetricsQuery::new(&name, child)
                        .version(&version)
                        .between(Some(start), Some(end))
                        .limit(usize::MAX),
                )?;
                let row = ModelMetrics::merged(&name, &version, granularity, start, &children)?;
                self.store.upsert_metrics(&row)?;
                finer.push(row);
            }
            written.extend(finer.iter().cloned());
        }
        Ok(written)
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
        self.pending.record(
            &call.model.id,
            name,
            version,
            event.timestamp,
            event.latency_ms,
            event.error.is_some(),
        );
        self.store.insert_event(&event)?;
        Ok(event)
    }
}

//! The real-time view of every model version of a process: one [`SlidingWindow`] each, in
//! shards so that calls of different models do not contend on one lock.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::clock::Timestamp;
use crate::error::Result;
use crate::telemetry::{InferenceEvent, SlidingWindow, WindowStats};

const SHARDS: usize = 16;

/// Model name → version → window; nested so that a lookup borrows `&str` and allocates nothing.
type Windows = HashMap<String, HashMap<String, SlidingWindow>>;

/// Sliding windows keyed by model name and version.
///
/// A window is created on the first call, query or label of its model version in this
/// process and seeded from the store with the events of the last window span, so a fresh
/// process (a CLI invocation, a restarted server) sees the same view as the one that recorded
/// the calls.
#[derive(Debug)]
pub struct Realtime {
    span: Duration,
    slot: Duration,
    hasher: RandomState,
    shards: Vec<Mutex<Windows>>,
}

impl Realtime {
    /// Windows of `span` in slots of `slot` (see [`SlidingWindow::new`]).
    ///
    /// # Errors
    ///
    /// As [`SlidingWindow::new`].
    pub fn new(span: Duration, slot: Duration) -> Result<Self> {
        SlidingWindow::new(span, slot)?;
        Ok(Realtime {
            span,
            slot,
            hasher: RandomState::new(),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        })
    }

    /// The window span.
    pub fn span(&self) -> Duration {
        self.span
    }

    fn shard(&self, name: &str, version: &str) -> MutexGuard<'_, Windows> {
        let h = self.hasher.hash_one((name, version));
        let shard = &self.shards[usize::try_from(h % SHARDS as u64).unwrap_or(0)];
        // A panic while a window was updated leaves at worst one miscounted call.
        shard.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the window of `name:version`, creating it from `seed()` (the events of the
    /// last span) if this process has none yet. `f` learns whether the window was just seeded.
    ///
    /// # Errors
    ///
    /// The error of `seed`.
    pub fn with_window<R>(
        &self,
        name: &str,
        version: &str,
        seed: impl FnOnce() -> Result<Vec<InferenceEvent>>,
        f: impl FnOnce(&mut SlidingWindow, bool) -> R,
    ) -> Result<R> {
        let mut shard = self.shard(name, version);
        if let Some(w) = shard.get_mut(name).and_then(|versions| versions.get_mut(version)) {
            return Ok(f(w, false));
        }
        let mut window = SlidingWindow::new(self.span, self.slot)?;
        for e in seed()? {
            window.record(e.timestamp, e.latency_ms, e.error.is_some(), e.confidence);
            if let Some(correct) = e.correct {
                window.feedback(e.timestamp, correct);
            }
        }
        let versions = shard.entry(name.to_string()).or_default();
        Ok(f(versions.entry(version.to_string()).or_insert(window), true))
    }

    /// The statistics of `name:version` for the window ending at `now`.
    ///
    /// # Errors
    ///
    /// The error of `seed`.
    pub fn stats(
        &self,
        name: &str,
        version: &str,
        now: Timestamp,
        seed: impl FnOnce() -> Result<Vec<InferenceEvent>>,
    ) -> Result<WindowStats> {
        self.with_window(name, version, seed, |w, _| w.stats(now))
    }
}

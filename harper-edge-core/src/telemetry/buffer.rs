//! The bounded buffer of raw events waiting to be written to the store.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};

use crate::telemetry::InferenceEvent;

/// What the raw-event buffer does with a new event when it is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Overflow {
    /// Drop the oldest buffered event to make room (the default: recent events are the
    /// useful ones when a store falls behind). Counted in `eventsDropped`.
    #[default]
    DropOldest,
    /// Refuse the new event. Counted in `eventsRejected`.
    Reject,
}

impl std::str::FromStr for Overflow {
    type Err = crate::Error;

    fn from_str(s: &str) -> crate::Result<Self> {
        match s {
            "drop_oldest" | "drop-oldest" => Ok(Overflow::DropOldest),
            "reject" => Ok(Overflow::Reject),
            other => Err(crate::Error::invalid_input(format!(
                "overflow policy must be \"drop_oldest\" or \"reject\", got \"{other}\""
            ))),
        }
    }
}

/// What happened to one event handed to the recorder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Buffered; it reaches the store at the next flush.
    Buffered,
    /// Buffered, and the oldest buffered event was dropped to make room.
    DroppedOldest,
    /// Not buffered: the buffer is full and the policy is [`Overflow::Reject`].
    Rejected,
    /// Counted in the metrics but not kept: the sampling rate left it out.
    SampledOut,
}

#[derive(Debug, Default)]
struct Counts {
    dropped: u64,
    rejected: u64,
    sampled_out: u64,
}

#[derive(Debug)]
#[repr(align(128))]
struct Shard {
    /// Events with their arrival number.
    events: Mutex<(VecDeque<(u64, InferenceEvent)>, Counts)>,
}

/// Raw events in lock shards, each holding at most its share of the capacity.
#[derive(Debug)]
pub(crate) struct EventBuffer {
    shards: Box<[Shard]>,
    /// Arrival numbers, so a drain returns events in the order they were recorded.
    arrivals: AtomicU64,
    per_shard: usize,
    overflow: Overflow,
}

impl EventBuffer {
    pub(crate) fn new(capacity: usize, overflow: Overflow, shards: usize) -> Self {
        let shards = shards.clamp(1, capacity.max(1));
        let per_shard = capacity.div_ceil(shards);
        EventBuffer {
            shards: (0..shards)
                .map(|_| Shard { events: Mutex::new((VecDeque::new(), Counts::default())) })
                .collect(),
            arrivals: AtomicU64::new(0),
            per_shard,
            overflow,
        }
    }

    fn lock(&self, i: usize) -> MutexGuard<'_, (VecDeque<(u64, InferenceEvent)>, Counts)> {
        // A panic mid-push leaves the queue itself consistent.
        self.shards[i].events.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The total capacity.
    pub(crate) fn capacity(&self) -> usize {
        self.per_shard * self.shards.len()
    }

    /// Buffers `event` in shard `hint` (any number; taken modulo the shard count), or in
    /// another shard with room when that one is full, so one busy thread can use the whole
    /// capacity. When every shard is full the overflow policy applies: reject refuses the
    /// event; drop-oldest drops the earliest-stamped of the shards' oldest events.
    pub(crate) fn push(&self, hint: usize, event: InferenceEvent) -> Admission {
        let n = self.shards.len();
        let home = hint % n;
        let event = (self.arrivals.fetch_add(1, Ordering::Relaxed), event);
        {
            let mut queue = self.lock(home);
            if queue.0.len() < self.per_shard {
                queue.0.push_back(event);
                return Admission::Buffered;
            }
        }
        for k in 1..n {
            let mut other = self.lock((home + k) % n);
            if other.0.len() < self.per_shard {
                other.0.push_back(event);
                return Admission::Buffered;
            }
        }
        if self.overflow == Overflow::Reject {
            self.lock(home).1.rejected += 1;
            return Admission::Rejected;
        }
        // Every shard is full: drop the oldest head (each shard is in arrival order).
        let oldest = (0..n)
            .filter_map(|i| self.lock(i).0.front().map(|e| (e.0, i)))
            .min()
            .map_or(home, |(_, i)| i);
        let mut guard = self.lock(oldest);
        let (queue, counts) = &mut *guard;
        let dropped = if queue.len() < self.per_shard { None } else { queue.pop_front() };
        if dropped.is_some() {
            counts.dropped += 1;
        }
        queue.push_back(event);
        drop(guard);
        // The dropped event is freed outside the lock.
        match dropped {
            Some(_) => Admission::DroppedOldest,
            None => Admission::Buffered,
        }
    }

    /// Counts an event that sampling left out.
    pub(crate) fn count_sampled_out(&self, hint: usize) {
        self.lock(hint % self.shards.len()).1.sampled_out += 1;
    }

    /// Takes every buffered event, in the order they were recorded, with their arrival
    /// numbers (for [`EventBuffer::restore`]).
    pub(crate) fn drain(&self) -> (Vec<u64>, Vec<InferenceEvent>) {
        let mut all = Vec::new();
        for i in 0..self.shards.len() {
            all.extend(self.lock(i).0.drain(..));
        }
        all.sort_unstable_by_key(|e| e.0);
        all.into_iter().unzip()
    }

    /// Puts back drained events that could not be written (they are older than anything
    /// recorded since, so they go first); what does not fit is dropped, oldest first, and
    /// counted — the buffer never grows past its capacity.
    pub(crate) fn restore(&self, arrivals: Vec<u64>, events: Vec<InferenceEvent>) {
        let mut left: Vec<(u64, InferenceEvent)> = arrivals.into_iter().zip(events).collect();
        for i in 0..self.shards.len() {
            if left.is_empty() {
                return;
            }
            let mut guard = self.lock(i);
            let room = self.per_shard.saturating_sub(guard.0.len()).min(left.len());
            // The newest of what is left, ahead of this shard's (newer) events.
            for e in left.drain(left.len() - room..).rev() {
                guard.0.push_front(e);
            }
        }
        if !left.is_empty() {
            self.lock(0).1.dropped += left.len() as u64;
        }
    }

    /// Buffered events now, and the drop, reject and sampled-out counts so far.
    pub(crate) fn counts(&self) -> (usize, u64, u64, u64) {
        (0..self.shards.len()).fold((0, 0, 0, 0), |(len, d, r, s), i| {
            let g = self.lock(i);
            (len + g.0.len(), d + g.1.dropped, r + g.1.rejected, s + g.1.sampled_out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::Framework;
    use crate::clock::Timestamp;

    fn event(id: &str) -> InferenceEvent {
        InferenceEvent {
            id: id.into(),
            model_name: "m".into(),
            model_version: "1".into(),
            framework: Framework::Onnx,
            request_id: None,
            user_id: None,
            session_id: None,
            features_in: serde_json::Value::Null,
            prediction: serde_json::Value::Null,
            confidence: None,
            latency_ms: 1.0,
            // Times out of order: arrival order is what counts.
            timestamp: Timestamp::from_millis(1000 - i64::from(id.as_bytes()[1])),
            error: None,
            actual_outcome: None,
            correct: None,
            feedback_timestamp: None,
        }
    }

    fn ids(events: &[InferenceEvent]) -> Vec<&str> {
        events.iter().map(|e| e.id.as_str()).collect()
    }

    #[test]
    fn drains_in_arrival_order_across_shards_and_restores_ahead_of_newer_events() {
        let buffer = EventBuffer::new(6, Overflow::DropOldest, 3);
        for (i, id) in ["e0", "e1", "e2", "e3"].into_iter().enumerate() {
            assert_eq!(buffer.push(i * 7, event(id)), Admission::Buffered);
        }
        let (arrivals, events) = buffer.drain();
        assert_eq!(ids(&events), ["e0", "e1", "e2", "e3"]);
        // The write failed; meanwhile two more arrived.
        buffer.push(0, event("e4"));
        buffer.push(1, event("e5"));
        buffer.restore(arrivals, events);
        let (_, events) = buffer.drain();
        assert_eq!(ids(&events), ["e0", "e1", "e2", "e3", "e4", "e5"]);
    }

    #[test]
    fn a_full_buffer_drops_the_oldest_or_rejects_and_restore_never_overfills() {
        let buffer = EventBuffer::new(4, Overflow::DropOldest, 2);
        for (i, id) in ["e0", "e1", "e2", "e3", "e4", "e5"].into_iter().enumerate() {
            buffer.push(i, event(id));
        }
        assert_eq!(buffer.counts(), (4, 2, 0, 0));
        let (arrivals, events) = buffer.drain();
        assert_eq!(ids(&events), ["e2", "e3", "e4", "e5"]);
        for id in ["e6", "e7", "e8"] {
            buffer.push(0, event(id));
        }
        buffer.restore(arrivals, events);
        let (len, dropped, ..) = buffer.counts();
        assert_eq!((len, dropped), (4, 5), "only one restored event fit");

        let reject = EventBuffer::new(2, Overflow::Reject, 2);
        let admitted: Vec<Admission> =
            ["e0", "e1", "e2"].into_iter().map(|id| reject.push(0, event(id))).collect();
        assert_eq!(admitted, [Admission::Buffered, Admission::Buffered, Admission::Rejected]);
        assert_eq!(reject.counts(), (2, 0, 1, 0));
    }
}

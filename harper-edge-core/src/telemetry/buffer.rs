//! The bounded buffer of raw events waiting to be written to the store.

use std::collections::VecDeque;
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
    events: Mutex<(VecDeque<InferenceEvent>, Counts)>,
}

/// Raw events in lock shards, each holding at most its share of the capacity.
#[derive(Debug)]
pub(crate) struct EventBuffer {
    shards: Box<[Shard]>,
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
            per_shard,
            overflow,
        }
    }

    fn lock(&self, i: usize) -> MutexGuard<'_, (VecDeque<InferenceEvent>, Counts)> {
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
            .filter_map(|i| self.lock(i).0.front().map(|e| (e.timestamp, i)))
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

    /// Takes every buffered event.
    pub(crate) fn drain(&self) -> Vec<InferenceEvent> {
        let mut out = Vec::new();
        for i in 0..self.shards.len() {
            out.extend(self.lock(i).0.drain(..));
        }
        out
    }

    /// Puts back events that could not be written, oldest first, ahead of newer ones; what
    /// does not fit is dropped (and counted) — the buffer never grows past its capacity.
    pub(crate) fn restore(&self, events: Vec<InferenceEvent>) {
        let n = self.shards.len();
        let mut per: Vec<Vec<InferenceEvent>> = (0..n).map(|_| Vec::new()).collect();
        for (i, e) in events.into_iter().enumerate() {
            per[i % n].push(e);
        }
        for (i, mut events) in per.into_iter().enumerate() {
            let mut guard = self.lock(i);
            let (queue, counts) = &mut *guard;
            let room = self.per_shard.saturating_sub(queue.len());
            if events.len() > room {
                let excess = events.len() - room;
                counts.dropped += excess as u64;
                // Keep the newest of the restored events.
                events.drain(..excess);
            }
            for e in events.into_iter().rev() {
                queue.push_front(e);
            }
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

//! The engine's cache of loaded models: least recently used first out, with counts.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use serde::Serialize;

use super::Loaded;

/// The default number of loaded models kept ([`super::EngineBuilder::model_cache_capacity`]).
pub const DEFAULT_CAPACITY: usize = 32;

/// How the model cache is doing (serde camelCase): [`super::Engine::cache_stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CacheStats {
    /// Most models kept loaded.
    pub capacity: usize,
    /// Models loaded now.
    pub loaded: usize,
    /// Calls that found their model loaded.
    pub hits: u64,
    /// Calls that loaded their model.
    pub misses: u64,
    /// Models dropped to make room.
    pub evictions: u64,
}

#[derive(Debug)]
struct Entry {
    loaded: Arc<Loaded>,
    /// The tick of the last use.
    used: AtomicU64,
}

/// Loaded models by `name:version`. Lookups take a read lock only (the use tick is an
/// atomic), so concurrent calls do not serialise on the cache; loading and eviction take the
/// write lock.
#[derive(Debug)]
pub(super) struct SessionCache {
    capacity: usize,
    entries: RwLock<HashMap<String, Entry>>,
    tick: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
    evictions: AtomicU64,
}

impl SessionCache {
    pub(super) fn new(capacity: usize) -> Self {
        SessionCache {
            capacity: capacity.max(1),
            entries: RwLock::default(),
            tick: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
        }
    }

    /// The loaded model `id`, marked as used (not counted: see [`SessionCache::hit`]).
    pub(super) fn get(&self, id: &str) -> Option<Arc<Loaded>> {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.get(id)?;
        entry.used.store(self.tick.fetch_add(1, Ordering::Relaxed), Ordering::Relaxed);
        Some(Arc::clone(&entry.loaded))
    }

    pub(super) fn hit(&self) {
        self.hits.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn miss(&self) {
        self.misses.fetch_add(1, Ordering::Relaxed);
    }

    /// Keeps `loaded`, evicting the least recently used model when full; returns the copy
    /// kept (another thread's, when it loaded the same model first).
    pub(super) fn insert(&self, loaded: Arc<Loaded>) -> Arc<Loaded> {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        let used = AtomicU64::new(self.tick.fetch_add(1, Ordering::Relaxed));
        if let Some(existing) = entries.get(&loaded.model.id) {
            existing.used.store(used.into_inner(), Ordering::Relaxed);
            return Arc::clone(&existing.loaded);
        }
        while entries.len() >= self.capacity {
            let oldest = entries
                .iter()
                .min_by_key(|(_, e)| e.used.load(Ordering::Relaxed))
                .map(|(id, _)| id.clone());
            let Some(oldest) = oldest else { break };
            entries.remove(&oldest);
            self.evictions.fetch_add(1, Ordering::Relaxed);
        }
        entries.insert(loaded.model.id.clone(), Entry { loaded: Arc::clone(&loaded), used });
        loaded
    }

    pub(super) fn remove(&self, id: &str) {
        self.entries.write().unwrap_or_else(PoisonError::into_inner).remove(id);
    }

    pub(super) fn stats(&self) -> CacheStats {
        CacheStats {
            capacity: self.capacity,
            loaded: self.entries.read().unwrap_or_else(PoisonError::into_inner).len(),
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            evictions: self.evictions.load(Ordering::Relaxed),
        }
    }
}

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::clock::Timestamp;
use crate::drift::check::DriftMetrics;
use crate::drift::quality::DataQualityMetrics;
use crate::drift::records::{DriftQuery, LabelCounts, ModelBaseline};
use crate::error::{Error, Result};
use crate::registry::{Model, ModelFile};
use crate::store::{Expect, MonitorRecord, OutboxEntry, RecordQuery, Store, Table};
use crate::telemetry::{EventQuery, InferenceEvent, MetricsQuery, ModelMetrics};

/// A store that keeps everything in memory; for tests, and for hosts that mirror every record
/// into their own tables through the outbox.
///
/// With [`MemoryStore::with_max_events`] the oldest events are dropped once the cap is reached
/// ([`MemoryStore::dropped_events`] counts them), so a long-running host that mirrors events
/// elsewhere keeps a bounded footprint. The outbox keeps entries until they are pruned.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
    max_events: Option<usize>,
}

#[derive(Debug, Default)]
struct Inner {
    models: Vec<Model>,
    files: HashMap<String, Arc<[u8]>>,
    events: BTreeMap<u64, InferenceEvent>,
    event_seq: HashMap<String, u64>,
    next_event_seq: u64,
    dropped_events: u64,
    outbox: BTreeMap<u64, OutboxEntry>,
    next_outbox_seq: u64,
    metrics: BTreeMap<String, ModelMetrics>,
    baselines: BTreeMap<String, ModelBaseline>,
    drift: BTreeMap<String, DriftMetrics>,
    quality: BTreeMap<String, DataQualityMetrics>,
    records: BTreeMap<(Table, String), MonitorRecord>,
}

impl Inner {
    fn add_event(&mut self, event: &InferenceEvent, record: serde_json::Value, max: Option<usize>) {
        self.next_event_seq += 1;
        let seq = self.next_event_seq;
        self.events.insert(seq, event.clone());
        self.event_seq.insert(event.id.clone(), seq);
        if let Some(max) = max {
            while self.events.len() > max {
                if let Some((_, old)) = self.events.pop_first() {
                    self.event_seq.remove(&old.id);
                    self.dropped_events += 1;
                }
            }
        }
        self.push_outbox(Table::InferenceEvent, &event.id, record, event.timestamp);
    }

    fn push_outbox(&mut self, table: Table, id: &str, record: serde_json::Value, at: Timestamp) {
        self.next_outbox_seq += 1;
        let seq = self.next_outbox_seq;
        self.outbox
            .insert(seq, OutboxEntry { seq, table, id: id.to_string(), record, created_at: at });
    }
}

impl MemoryStore {
    /// An empty store with no cap on events.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store that keeps at most `max_events` events, dropping the oldest.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] when `max_events` is zero.
    pub fn with_max_events(max_events: usize) -> Result<Self> {
        if max_events == 0 {
            return Err(Error::invalid_input("max_events must be at least 1"));
        }
        Ok(MemoryStore { inner: Mutex::default(), max_events: Some(max_events) })
    }

    /// How many events were dropped because of the cap.
    pub fn dropped_events(&self) -> u64 {
        self.lock().dropped_events
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave `Inner` half-updated in a way that
        // matters more than losing the store, so keep serving.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Store for MemoryStore {
    fn insert_model(&self, model: &Model, file: &[u8]) -> Result<()> {
        let record = serde_json::to_value(model)?;
        let mut inner = self.lock();
        if inner.models.iter().any(|m| m.id == model.id) {
            return Err(Error::Conflict {
                message: format!("model '{}' already exists", model.id),
            });
        }
        inner.files.entry(model.sha256.clone()).or_insert_with(|| Arc::from(file));
        inner.models.push(model.clone());
        inner.push_outbox(Table::Model, &model.id, record, model.uploaded_at);
        Ok(())
    }

    fn delete_model(&self, name: &str, version: &str, at: Timestamp) -> Result<Option<Model>> {
        let mut inner = self.lock();
        let Some(i) =
            inner.models.iter().position(|m| m.model_name == name && m.model_version == version)
        else {
            return Ok(None);
        };
        let model = inner.models.remove(i);
        inner.push_outbox(Table::Model, &model.id, serde_json::Value::Null, at);
        let used = super::referenced_files(&inner.models);
        if !used.contains(&model.sha256) {
            inner.files.remove(&model.sha256);
        }
        Ok(Some(model))
    }

    fn model(&self, name: &str, version: &str) -> Result<Option<Model>> {
        let inner = self.lock();
        Ok(inner
            .models
            .iter()
            .find(|m| m.model_name == name && m.model_version == version)
            .cloned())
    }

    fn models(&self, name: Option<&str>) -> Result<Vec<Model>> {
        let inner = self.lock();
        Ok(inner
            .models
            .iter()
            .filter(|m| name.is_none_or(|n| m.model_name == n))
            .cloned()
            .collect())
    }

    fn model_file(&self, sha256: &str) -> Result<ModelFile> {
        let inner = self.lock();
        inner
            .files
            .get(sha256)
            .map(|b| ModelFile::Bytes(Arc::clone(b)))
            .ok_or_else(|| Error::not_found("model file", sha256))
    }

    fn insert_event(&self, event: &InferenceEvent) -> Result<()> {
        let record = serde_json::to_value(event)?;
        let mut inner = self.lock();
        if inner.event_seq.contains_key(&event.id) {
            return Err(Error::Conflict {
                message: format!("inference event '{}' already exists", event.id),
            });
        }
        inner.add_event(event, record, self.max_events);
        Ok(())
    }

    fn insert_events(&self, events: &[InferenceEvent]) -> Result<usize> {
        let records =
            events.iter().map(serde_json::to_value).collect::<serde_json::Result<Vec<_>>>()?;
        let mut inner = self.lock();
        let mut inserted = 0;
        for (event, record) in events.iter().zip(records) {
            if !inner.event_seq.contains_key(&event.id) {
                inner.add_event(event, record, self.max_events);
                inserted += 1;
            }
        }
        Ok(inserted)
    }

    fn delete_events_before(&self, before: Timestamp) -> Result<usize> {
        let mut inner = self.lock();
        let old: Vec<(u64, String)> = inner
            .events
            .iter()
            .filter(|(_, e)| e.timestamp < before)
            .map(|(seq, e)| (*seq, e.id.clone()))
            .collect();
        for (seq, id) in &old {
            inner.events.remove(seq);
            inner.event_seq.remove(id);
        }
        Ok(old.len())
    }

    fn event(&self, id: &str) -> Result<Option<InferenceEvent>> {
        let inner = self.lock();
        Ok(inner.event_seq.get(id).and_then(|seq| inner.events.get(seq)).cloned())
    }

    fn events(&self, query: &EventQuery) -> Result<Vec<InferenceEvent>> {
        let inner = self.lock();
        let mut hits: Vec<(&u64, &InferenceEvent)> =
            inner.events.iter().filter(|(_, e)| query.matches(e)).collect();
        hits.sort_by(|a, b| (b.1.timestamp, b.0).cmp(&(a.1.timestamp, a.0)));
        Ok(hits.into_iter().take(query.effective_limit()).map(|(_, e)| e.clone()).collect())
    }

    fn update_event(&self, event: &InferenceEvent) -> Result<()> {
        let record = serde_json::to_value(event)?;
        let mut inner = self.lock();
        let seq = *inner
            .event_seq
            .get(&event.id)
            .ok_or_else(|| Error::not_found("inference event", &event.id))?;
        inner.events.insert(seq, event.clone());
        let at = event.feedback_timestamp.unwrap_or(event.timestamp);
        inner.push_outbox(Table::InferenceEvent, &event.id, record, at);
        Ok(())
    }

    fn metrics_row(&self, id: &str) -> Result<Option<ModelMetrics>> {
        Ok(self.lock().metrics.get(id).cloned())
    }

    fn upsert_metrics(&self, row: &ModelMetrics) -> Result<()> {
        let record = serde_json::to_value(row)?;
        let mut inner = self.lock();
        inner.metrics.insert(row.id.clone(), row.clone());
        inner.push_outbox(Table::ModelMetrics, &row.id, record, row.period_end);
        Ok(())
    }

    fn metrics(&self, query: &MetricsQuery) -> Result<Vec<ModelMetrics>> {
        let inner = self.lock();
        let mut rows: Vec<ModelMetrics> =
            inner.metrics.values().filter(|r| query.matches(r)).cloned().collect();
        rows.sort_by(|a, b| {
            (a.period_start, &a.model_version).cmp(&(b.period_start, &b.model_version))
        });
        rows.truncate(query.effective_limit());
        Ok(rows)
    }

    fn label_counts(
        &self,
        model_name: &str,
        model_version: &str,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<LabelCounts> {
        let inner = self.lock();
        let (mut correct, mut total) = (0, 0);
        for e in inner.events.values() {
            if e.model_name == model_name
                && e.model_version == model_version
                && from.is_none_or(|f| e.timestamp >= f)
                && to.is_none_or(|t| e.timestamp < t)
                && let Some(c) = e.correct
            {
                total += 1;
                correct += u64::from(c);
            }
        }
        LabelCounts::new(correct, total)
    }

    fn put_baseline(&self, baseline: &ModelBaseline) -> Result<()> {
        let record = serde_json::to_value(baseline)?;
        let mut inner = self.lock();
        inner.baselines.insert(baseline.id.clone(), baseline.clone());
        inner.push_outbox(Table::DriftBaseline, &baseline.id, record, baseline.created_at);
        Ok(())
    }

    fn baseline(&self, model_name: &str, model_version: &str) -> Result<Option<ModelBaseline>> {
        Ok(self.lock().baselines.get(&ModelBaseline::id_of(model_name, model_version)).cloned())
    }

    fn baseline_versions(&self) -> Result<Vec<(String, String)>> {
        let inner = self.lock();
        let mut v: Vec<(String, String)> = inner
            .baselines
            .values()
            .map(|b| (b.model_name.clone(), b.model_version.clone()))
            .collect();
        v.sort();
        Ok(v)
    }

    fn put_records(&self, records: &[MonitorRecord], expect: &[Expect]) -> Result<()> {
        let mut inner = self.lock();
        for e in expect {
            let found = inner.records.get(&(e.table, e.id.clone())).map(|r| r.status.as_deref());
            super::sqlite::check_expect(e, found)?;
        }
        for r in records {
            inner.push_outbox(r.table, &r.id, r.record.clone(), r.timestamp);
            inner.records.insert((r.table, r.id.clone()), r.clone());
        }
        Ok(())
    }

    fn record(&self, table: Table, id: &str) -> Result<Option<MonitorRecord>> {
        Ok(self.lock().records.get(&(table, id.to_string())).cloned())
    }

    fn records(&self, table: Table, query: &RecordQuery) -> Result<Vec<MonitorRecord>> {
        let inner = self.lock();
        let mut rows: Vec<MonitorRecord> = inner
            .records
            .iter()
            .filter(|((t, _), r)| *t == table && query.matches(r))
            .map(|(_, r)| r.clone())
            .collect();
        rows.sort_by(|a, b| b.timestamp.cmp(&a.timestamp).then_with(|| b.id.cmp(&a.id)));
        rows.truncate(query.effective_limit());
        Ok(rows)
    }

    fn delete_record(&self, table: Table, id: &str, at: Timestamp) -> Result<bool> {
        let mut inner = self.lock();
        let existed = inner.records.remove(&(table, id.to_string())).is_some();
        if existed {
            inner.push_outbox(table, id, serde_json::Value::Null, at);
        }
        Ok(existed)
    }

    fn insert_drift(
        &self,
        rows: &[DriftMetrics],
        quality: Option<&DataQualityMetrics>,
    ) -> Result<()> {
        let records =
            rows.iter().map(serde_json::to_value).collect::<serde_json::Result<Vec<_>>>()?;
        let quality_record = quality.map(serde_json::to_value).transpose()?;
        let mut inner = self.lock();
        for (row, record) in rows.iter().zip(records) {
            inner.drift.insert(row.id.clone(), row.clone());
            inner.push_outbox(Table::DriftMetrics, &row.id, record, row.timestamp);
        }
        if let (Some(q), Some(record)) = (quality, quality_record) {
            inner.quality.insert(q.id.clone(), q.clone());
            inner.push_outbox(Table::DataQualityMetrics, &q.id, record, q.timestamp);
        }
        Ok(())
    }

    fn drift_metrics(&self, query: &DriftQuery) -> Result<Vec<DriftMetrics>> {
        let inner = self.lock();
        let mut rows: Vec<DriftMetrics> = inner
            .drift
            .values()
            .filter(|r| {
                query.matches(&r.model_name, &r.model_version, r.timestamp)
                    && query.drift_type.is_none_or(|t| t == r.drift_type)
            })
            .cloned()
            .collect();
        rows.sort_by(|a, b| b.timestamp.cmp(&a.timestamp).then_with(|| a.id.cmp(&b.id)));
        rows.truncate(query.effective_limit());
        Ok(rows)
    }

    fn data_quality(&self, query: &DriftQuery) -> Result<Vec<DataQualityMetrics>> {
        let inner = self.lock();
        let mut rows: Vec<DataQualityMetrics> = inner
            .quality
            .values()
            .filter(|r| query.matches(&r.model_name, &r.model_version, r.timestamp))
            .cloned()
            .collect();
        rows.sort_by(|a, b| b.timestamp.cmp(&a.timestamp).then_with(|| a.id.cmp(&b.id)));
        rows.truncate(query.effective_limit());
        Ok(rows)
    }

    fn outbox(&self, after: u64, limit: usize) -> Result<Vec<OutboxEntry>> {
        let inner = self.lock();
        Ok(inner
            .outbox
            .range(after.saturating_add(1)..)
            .take(limit)
            .map(|(_, e)| e.clone())
            .collect())
    }

    fn prune_outbox(&self, through: u64) -> Result<usize> {
        let mut inner = self.lock();
        let keep = inner.outbox.split_off(&through.saturating_add(1));
        let pruned = inner.outbox.len();
        inner.outbox = keep;
        Ok(pruned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::conformance;

    #[test]
    fn conformance() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        conformance::run_all(&store);
    }

    #[test]
    fn cap_drops_oldest_events_and_counts_them() {
        let store = MemoryStore::with_max_events(2).unwrap();
        for i in 0..5 {
            store.insert_event(&conformance::event(&format!("e{i}"), "m", i)).unwrap();
        }
        assert_eq!(store.dropped_events(), 3);
        assert!(store.event("e2").unwrap().is_none());
        assert!(store.event("e4").unwrap().is_some());
        assert_eq!(store.outbox(0, 100).unwrap().len(), 5, "the outbox keeps every write");
        assert!(MemoryStore::with_max_events(0).is_err());
    }
}

//! Record storage: the [`Store`] trait, the embedded SQLite default ([`SqliteStore`]) and an
//! in-memory store for tests and hosts that keep records themselves ([`MemoryStore`]).
//!
//! Every write also appends the record to an **outbox**, in the same transaction: a host that
//! keeps its own tables (a HarperDB component, say) reads [`Store::outbox`] after a cursor,
//! writes each record with its original field names, and prunes what it has copied.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::Timestamp;
use crate::drift::check::DriftMetrics;
use crate::drift::quality::DataQualityMetrics;
use crate::drift::records::{DriftQuery, LabelCounts, ModelBaseline};
use crate::error::Result;
use crate::registry::{Model, ModelFile};
use crate::telemetry::{EventQuery, InferenceEvent, MetricsQuery, ModelMetrics};

mod memory;
mod sqlite;

pub use memory::MemoryStore;
pub use sqlite::{SqliteOptions, SqliteStore};

/// The table a record belongs to; named as in the original design (and in a HarperDB schema).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Table {
    /// [`Model`] records.
    Model,
    /// [`InferenceEvent`] records.
    InferenceEvent,
    /// [`ModelMetrics`] rows.
    ModelMetrics,
    /// [`ModelBaseline`] records (one per model version).
    DriftBaseline,
    /// [`DriftMetrics`] rows.
    DriftMetrics,
    /// [`DataQualityMetrics`] rows.
    DataQualityMetrics,
    /// [`crate::monitor::alert::AlertRule`] records.
    AlertRule,
    /// [`crate::monitor::alert::AlertEvent`] records.
    AlertEvent,
    /// [`crate::monitor::retrain::RetrainingRequest`] records.
    RetrainingRequest,
    /// [`crate::monitor::config::StoredConfig`] records (one per scope).
    MonitoringConfig,
    /// [`crate::fetch::jobs::FetchJob`] records (one per model version).
    FetchJob,
    /// [`crate::bench::BenchmarkResult`] records (their `status` is the equivalence group).
    BenchmarkResult,
}

/// The sha256 of every file `models` use (model files and companions).
pub(crate) fn referenced_files(models: &[Model]) -> std::collections::HashSet<String> {
    models
        .iter()
        .flat_map(|m| {
            std::iter::once(m.sha256.clone()).chain(m.files.iter().map(|f| f.sha256.clone()))
        })
        .collect()
}

impl Table {
    /// The table name (`Model`, `InferenceEvent`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Table::Model => "Model",
            Table::InferenceEvent => "InferenceEvent",
            Table::ModelMetrics => "ModelMetrics",
            Table::DriftBaseline => "DriftBaseline",
            Table::DriftMetrics => "DriftMetrics",
            Table::DataQualityMetrics => "DataQualityMetrics",
            Table::AlertRule => "AlertRule",
            Table::AlertEvent => "AlertEvent",
            Table::RetrainingRequest => "RetrainingRequest",
            Table::MonitoringConfig => "MonitoringConfig",
            Table::FetchJob => "FetchJob",
            Table::BenchmarkResult => "BenchmarkResult",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Table> {
        match s {
            "Model" => Some(Table::Model),
            "InferenceEvent" => Some(Table::InferenceEvent),
            "ModelMetrics" => Some(Table::ModelMetrics),
            "DriftBaseline" => Some(Table::DriftBaseline),
            "DriftMetrics" => Some(Table::DriftMetrics),
            "DataQualityMetrics" => Some(Table::DataQualityMetrics),
            "AlertRule" => Some(Table::AlertRule),
            "AlertEvent" => Some(Table::AlertEvent),
            "RetrainingRequest" => Some(Table::RetrainingRequest),
            "MonitoringConfig" => Some(Table::MonitoringConfig),
            "FetchJob" => Some(Table::FetchJob),
            "BenchmarkResult" => Some(Table::BenchmarkResult),
            _ => None,
        }
    }
}

impl std::str::FromStr for Table {
    type Err = crate::Error;

    /// The table named as in [`Table::as_str`] (`"AlertEvent"`).
    fn from_str(s: &str) -> Result<Self> {
        Table::parse(s).ok_or_else(|| {
            crate::Error::invalid_input(format!(
                "unknown table '{s}' (expected Model, InferenceEvent, ModelMetrics, \
                 DriftBaseline, DriftMetrics, DataQualityMetrics, AlertRule, AlertEvent, \
                 RetrainingRequest, MonitoringConfig, FetchJob or BenchmarkResult)"
            ))
        })
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One new or changed record, in the order the store wrote it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxEntry {
    /// Position in the outbox; strictly increasing.
    pub seq: u64,
    /// Which table the record belongs to.
    pub table: Table,
    /// The record's primary key.
    pub id: String,
    /// The whole record as it is now, with the original camelCase field names; write it with
    /// upsert (put) semantics. `null` when the record was deleted ([`Store::delete_record`]).
    pub record: Value,
    /// When the entry was written.
    pub created_at: Timestamp,
}

/// A monitoring record (alert rule, alert event, retraining request, monitoring config, fetch
/// job) as the store keeps it: the whole record as JSON beside the fields queries filter on.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorRecord {
    /// Which table ([`Table::AlertRule`], [`Table::AlertEvent`], [`Table::RetrainingRequest`],
    /// [`Table::MonitoringConfig`] or [`Table::FetchJob`]).
    pub table: Table,
    /// Primary key.
    pub id: String,
    /// The model the record is about (`None`: global).
    pub model_name: Option<String>,
    /// The model version (`None`: every version).
    pub model_version: Option<String>,
    /// The record's time (an event's or request's creation; a rule's last change).
    pub timestamp: Timestamp,
    /// The record's state (`pending_approval`, `firing` …), if it has one; for a
    /// `BenchmarkResult`, its equivalence group (the field history queries filter on).
    pub status: Option<String>,
    /// The whole record, original camelCase field names.
    pub record: Value,
}

/// A conditional write: [`Store::put_records`] fails with [`crate::Error::Conflict`] unless the
/// stored record `table`/`id` has status `status` (`None`: unless no such record exists).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    /// The table.
    pub table: Table,
    /// The record's id.
    pub id: String,
    /// The status it must have now (`None`: it must not exist).
    pub status: Option<String>,
}

/// Which monitoring records to read; newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordQuery {
    /// Only this model's records (global ones excluded).
    pub model_name: Option<String>,
    /// Only this version's records.
    pub model_version: Option<String>,
    /// Only records with this status.
    pub status: Option<String>,
    /// Only records at or after this time.
    pub from: Option<Timestamp>,
    /// Only records before this time.
    pub to: Option<Timestamp>,
    /// At most this many (default [`RecordQuery::DEFAULT_LIMIT`]).
    pub limit: Option<usize>,
}

impl RecordQuery {
    /// The default limit.
    pub const DEFAULT_LIMIT: usize = 1000;

    /// The limit in effect.
    pub fn effective_limit(&self) -> usize {
        self.limit.unwrap_or(Self::DEFAULT_LIMIT)
    }

    /// Whether `r` matches (ignoring the limit).
    pub fn matches(&self, r: &MonitorRecord) -> bool {
        self.model_name.as_ref().is_none_or(|m| r.model_name.as_ref() == Some(m))
            && self.model_version.as_ref().is_none_or(|v| r.model_version.as_ref() == Some(v))
            && self.status.as_ref().is_none_or(|s| r.status.as_ref() == Some(s))
            && self.from.is_none_or(|f| r.timestamp >= f)
            && self.to.is_none_or(|t| r.timestamp < t)
    }
}

/// Where records live.
///
/// Implementations are thread-safe; every method is one atomic operation.
pub trait Store: Send + Sync + fmt::Debug {
    /// Stores a model record and its file (kept once per sha256).
    ///
    /// # Errors
    ///
    /// [`crate::Error::Conflict`] when a model with the same id exists.
    fn insert_model(&self, model: &Model, file: &[u8]) -> Result<()>;

    /// The model `name:version`, if registered.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Storage`] when the store fails.
    fn model(&self, name: &str, version: &str) -> Result<Option<Model>>;

    /// Registered models (of `name` only, if given), oldest registration first.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Storage`] when the store fails.
    fn models(&self, name: Option<&str>) -> Result<Vec<Model>>;

    /// Where the file with this sha256 is.
    ///
    /// # Errors
    ///
    /// [`crate::Error::NotFound`] when no such file is stored.
    fn model_file(&self, sha256: &str) -> Result<ModelFile>;

    /// Deletes the model `name:version` and returns its record, or `None` when there is no
    /// such model. The outbox gets a `null` record for it (mirrors delete theirs). Its files
    /// ([`Model::sha256`] and [`Model::files`]) that no other model uses are deleted too.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Storage`] when the store fails; [`crate::Error::Io`] when a file
    /// cannot be removed (the record is gone by then).
    fn delete_model(&self, name: &str, version: &str, at: Timestamp) -> Result<Option<Model>>;

    /// Stores a new inference event.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Conflict`] when an event with the same id exists.
    fn insert_event(&self, event: &InferenceEvent) -> Result<()>;

    /// Stores a batch of new events in one transaction (one outbox entry each); events whose
    /// id is already stored are skipped. Returns how many were inserted.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Storage`] when the store fails; then none of the batch is stored.
    fn insert_events(&self, events: &[InferenceEvent]) -> Result<usize>;

    /// Deletes the events made before `before` (retention); returns how many were deleted.
    /// Hosts mirroring events through the outbox expire their copies themselves.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Storage`] when the store fails.
    fn delete_events_before(&self, before: Timestamp) -> Result<usize>;

    /// The event with this id, if stored.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Storage`] when the store fails.
    fn event(&self, id: &str) -> Result<Option<InferenceEvent>>;

    /// Events matching `query`, newest first.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Storage`] when the store fails.
    fn events(&self, query: &EventQuery) -> Result<Vec<InferenceEvent>>;

    /// Replaces an event (used to record feedback); the event must exist.
    ///
    /// # Errors
    ///
    /// [`crate::Error::NotFound`] when no event has this id.
    fn update_event(&self, event: &InferenceEvent) -> Result<()>;

    /// The metrics row with this id, if stored.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Storage`] when the store fails.
    fn metrics_row(&self, id: &str) -> Result<Option<ModelMetrics>>;

    /// Inserts or replaces a metrics row (by id).
    ///
    /// # Errors
    ///
    /// [`crate::Error::Storage`] when the store fails.
    fn upsert_metrics(&self, row: &ModelMetrics) -> Result<()>;

    /// Metrics rows matching `query`, oldest period first.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Storage`] when the store fails.
    fn metrics(&self, query: &MetricsQuery) -> Result<Vec<ModelMetrics>>;

    /// Labelled events of `model_name:model_version` with a timestamp in `[from, to)`: how
    /// many have a `correct` flag, how many of those are `true`.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Storage`] when the store fails.
    fn label_counts(
        &self,
        model_name: &str,
        model_version: &str,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<LabelCounts>;

    /// Inserts or replaces the baseline of its model version (by id).
    ///
    /// # Errors
    ///
    /// [`crate::Error::Storage`] when the store fails.
    fn put_baseline(&self, baseline: &ModelBaseline) -> Result<()>;

    /// The baseline of `model_name:model_version`, if set.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Storage`] when the store fails or the stored baseline is corrupt.
    fn baseline(&self, model_name: &str, model_version: &str) -> Result<Option<ModelBaseline>>;

    /// `(modelName, modelVersion)` of every stored baseline, ordered.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Storage`] when the store fails.
    fn baseline_versions(&self) -> Result<Vec<(String, String)>>;

    /// Writes the rows of one drift check in one transaction (rows with an id already stored
    /// replace it).
    ///
    /// # Errors
    ///
    /// [`crate::Error::Storage`] when the store fails; nothing is written then.
    fn insert_drift(
        &self,
        rows: &[DriftMetrics],
        quality: Option<&DataQualityMetrics>,
    ) -> Result<()>;

    /// Drift rows matching `query`, newest first (ties by id).
    ///
    /// # Errors
    ///
    /// [`crate::Error::Storage`] when the store fails.
    fn drift_metrics(&self, query: &DriftQuery) -> Result<Vec<DriftMetrics>>;

    /// Data-quality rows matching `query` (its drift type is ignored), newest first.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Storage`] when the store fails.
    fn data_quality(&self, query: &DriftQuery) -> Result<Vec<DataQualityMetrics>>;

    /// Writes monitoring records in one transaction (a record whose table and id are stored
    /// replaces it), with their outbox entries, after checking every `expect`.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Conflict`] when an expectation does not hold (nothing is written);
    /// [`crate::Error::Storage`] when the store fails.
    fn put_records(&self, records: &[MonitorRecord], expect: &[Expect]) -> Result<()>;

    /// The monitoring record `table`/`id`, if stored.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Storage`] when the store fails.
    fn record(&self, table: Table, id: &str) -> Result<Option<MonitorRecord>>;

    /// Monitoring records of `table` matching `query`, newest first (ties by id).
    ///
    /// # Errors
    ///
    /// [`crate::Error::Storage`] when the store fails.
    fn records(&self, table: Table, query: &RecordQuery) -> Result<Vec<MonitorRecord>>;

    /// Deletes the monitoring record `table`/`id` (an outbox entry with a `null` record tells
    /// mirrors to delete theirs); returns whether it existed.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Storage`] when the store fails.
    fn delete_record(&self, table: Table, id: &str, at: Timestamp) -> Result<bool>;

    /// Up to `limit` outbox entries with `seq > after`, in order.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Storage`] when the store fails.
    fn outbox(&self, after: u64, limit: usize) -> Result<Vec<OutboxEntry>>;

    /// Deletes outbox entries with `seq <= through`; returns how many were deleted.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Storage`] when the store fails.
    fn prune_outbox(&self, through: u64) -> Result<usize>;
}

#[cfg(test)]
pub(crate) mod conformance {
    //! One suite, run against every store.

    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::ErrorKind;
    use crate::backend::Framework;
    use crate::registry::Stage;

    pub(crate) fn model(name: &str, version: &str, at: i64) -> Model {
        Model {
            id: format!("{name}:{version}"),
            model_name: name.into(),
            model_version: version.into(),
            framework: Framework::Onnx,
            stage: Stage::Candidate,
            blob_size: 3,
            sha256: crate::registry::sha256_hex(b"abc"),
            input_schema: vec![],
            output_schema: vec![],
            metadata: json!({"taskType": "classification"}),
            uploaded_at: Timestamp::from_millis(at),
            provenance: None,
            files: Vec::new(),
        }
    }

    pub(crate) fn event(id: &str, model: &str, at: i64) -> InferenceEvent {
        InferenceEvent {
            id: id.into(),
            model_name: model.into(),
            model_version: "1".into(),
            framework: Framework::Onnx,
            request_id: None,
            user_id: Some("u".into()),
            session_id: None,
            features_in: json!([[1.0, 2.0]]),
            prediction: json!(1),
            confidence: Some(0.9),
            latency_ms: 0.25,
            timestamp: Timestamp::from_millis(at),
            error: None,
            actual_outcome: None,
            correct: None,
            feedback_timestamp: None,
        }
    }

    pub(crate) fn run_all(store: &Arc<dyn Store>) {
        models_round_trip(store.as_ref());
        events_filter_and_order(store.as_ref());
        outbox_is_ordered_and_prunable(store.as_ref());
        metrics_upsert_and_query(store.as_ref());
        batches_skip_duplicates_and_retention_deletes_old_events(store.as_ref());
        drift_records_round_trip(store.as_ref());
        monitor_records_round_trip(store.as_ref());
    }

    fn monitor_records_round_trip(store: &dyn Store) {
        let rec = |id: &str, model: Option<&str>, at: i64, status: &str| MonitorRecord {
            table: Table::AlertEvent,
            id: id.into(),
            model_name: model.map(str::to_string),
            model_version: model.map(|_| "1".to_string()),
            timestamp: Timestamp::from_millis(at),
            status: Some(status.into()),
            record: json!({"id": id, "status": status}),
        };
        let before = store.outbox(0, usize::MAX).unwrap().last().map_or(0, |o| o.seq);
        store
            .put_records(&[rec("a", Some("m"), 10, "firing"), rec("b", None, 20, "firing")], &[])
            .unwrap();
        store.put_records(&[rec("c", Some("m"), 30, "resolved")], &[]).unwrap();
        let all = store.records(Table::AlertEvent, &RecordQuery::default()).unwrap();
        let ids: Vec<&str> = all.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["c", "b", "a"], "newest first");
        assert_eq!(all[1], rec("b", None, 20, "firing"));
        let q = RecordQuery {
            model_name: Some("m".into()),
            status: Some("firing".into()),
            ..RecordQuery::default()
        };
        assert_eq!(store.records(Table::AlertEvent, &q).unwrap().len(), 1);
        let q = RecordQuery {
            from: Some(Timestamp::from_millis(20)),
            limit: Some(1),
            ..RecordQuery::default()
        };
        assert_eq!(store.records(Table::AlertEvent, &q).unwrap()[0].id, "c");
        assert!(store.records(Table::AlertRule, &RecordQuery::default()).unwrap().is_empty());

        // Compare-and-set: the write happens only when every expectation holds.
        let expect = |id: &str, status: Option<&str>| Expect {
            table: Table::AlertEvent,
            id: id.into(),
            status: status.map(str::to_string),
        };
        let err = store
            .put_records(&[rec("a", Some("m"), 10, "resolved")], &[expect("a", Some("resolved"))])
            .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Conflict);
        assert!(err.to_string().contains("its status is 'firing'"), "{err}");
        assert_eq!(
            store.record(Table::AlertEvent, "a").unwrap().unwrap().status.as_deref(),
            Some("firing")
        );
        store
            .put_records(&[rec("a", Some("m"), 10, "resolved")], &[expect("a", Some("firing"))])
            .unwrap();
        assert_eq!(
            store.record(Table::AlertEvent, "a").unwrap().unwrap().status.as_deref(),
            Some("resolved")
        );
        assert_eq!(
            store.put_records(&[rec("d", None, 1, "x")], &[expect("a", None)]).unwrap_err().kind(),
            crate::ErrorKind::Conflict
        );
        assert!(store.record(Table::AlertEvent, "d").unwrap().is_none());

        // Deletion leaves a null record in the outbox for mirrors.
        assert!(store.delete_record(Table::AlertEvent, "b", Timestamp::from_millis(40)).unwrap());
        assert!(!store.delete_record(Table::AlertEvent, "b", Timestamp::from_millis(40)).unwrap());
        let outbox = store.outbox(before, usize::MAX).unwrap();
        if !outbox.is_empty() {
            let tables: Vec<(&str, bool)> =
                outbox.iter().map(|o| (o.id.as_str(), o.record.is_null())).collect();
            assert_eq!(
                tables,
                [("a", false), ("b", false), ("c", false), ("a", false), ("b", true)]
            );
        }
    }

    fn drift_records_round_trip(store: &dyn Store) {
        use crate::drift::baseline::{Baseline, Column, FeatureSchema};
        use crate::drift::check::{DriftConfig, check};
        use crate::drift::quality::DataQuality;
        use crate::drift::records::{DriftQuery, LabelCounts, ModelBaseline};

        // Label counts: only events of the version, in the period, with a correct flag.
        for (id, at, correct) in
            [("l1", 100, Some(true)), ("l2", 200, Some(false)), ("l3", 300, None)]
        {
            let mut e = event(id, "labels", at);
            e.correct = correct;
            store.insert_event(&e).unwrap();
        }
        let counts = |from, to| store.label_counts("labels", "1", from, to).unwrap();
        assert_eq!(counts(None, None), LabelCounts { correct: 1, total: 2 });
        assert_eq!(
            counts(Some(Timestamp::from_millis(150)), None),
            LabelCounts { correct: 0, total: 1 }
        );
        assert_eq!(counts(None, Some(Timestamp::from_millis(100))), LabelCounts::default());
        assert_eq!(store.label_counts("labels", "2", None, None).unwrap(), LabelCounts::default());

        let x: Vec<f64> = (0..50).map(f64::from).collect();
        let fitted = Baseline::fit(
            &[FeatureSchema::numeric("x")],
            &[("x", Column::Numeric(&x))],
            Default::default(),
        )
        .unwrap();
        let mut b = ModelBaseline {
            id: ModelBaseline::id_of("dm", "1"),
            model_name: "dm".into(),
            model_version: "1".into(),
            created_at: Timestamp::from_millis(10),
            prediction_features: vec![],
            accuracy: Some(LabelCounts { correct: 9, total: 10 }),
            source: None,
            baseline: fitted.clone(),
            segments: vec![],
        };
        let before = store.outbox(0, usize::MAX).unwrap().len();
        assert!(store.baseline("dm", "1").unwrap().is_none());
        store.put_baseline(&b).unwrap();
        b.created_at = Timestamp::from_millis(20);
        store.put_baseline(&b).unwrap();
        assert_eq!(store.baseline("dm", "1").unwrap(), Some(b.clone()), "replaced, not added");
        assert_eq!(store.baseline_versions().unwrap(), [("dm".to_string(), "1".to_string())]);

        let shifted: Vec<f64> = (25..75).map(f64::from).collect();
        let cols = [("x", Column::Numeric(&shifted))];
        let report = check(&fitted, &cols, &DriftConfig::default()).unwrap();
        for t in [1_000, 2_000] {
            let at = Timestamp::from_millis(t);
            let rows = report.to_rows("dm", "1", at, &[]).unwrap();
            let quality = DataQuality::check(&fitted, &cols, "dm", "1", at).unwrap();
            store.insert_drift(&rows, Some(&quality)).unwrap();
        }
        let q = DriftQuery::new("dm");
        let rows = store.drift_metrics(&q).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].timestamp, Timestamp::from_millis(2_000), "newest first");
        assert_eq!(rows[0].drift_score, report.features[0].drift_score);
        let only_old = q.clone().between(None, Some(Timestamp::from_millis(2_000)));
        assert_eq!(store.drift_metrics(&only_old).unwrap().len(), 1);
        let concept = q.clone().drift_type(crate::drift::check::DriftType::Concept);
        assert!(store.drift_metrics(&concept).unwrap().is_empty());
        assert!(store.drift_metrics(&DriftQuery::new("dm").version("2")).unwrap().is_empty());
        let quality = store.data_quality(&q.clone().limit(1)).unwrap();
        assert_eq!(quality.len(), 1);
        assert_eq!((quality[0].total_records, quality[0].timestamp.as_millis()), (50, 2_000));
        let tables: Vec<Table> =
            store.outbox(0, usize::MAX).unwrap()[before..].iter().map(|e| e.table).collect();
        assert_eq!(
            tables,
            [
                Table::DriftBaseline,
                Table::DriftBaseline,
                Table::DriftMetrics,
                Table::DataQualityMetrics,
                Table::DriftMetrics,
                Table::DataQualityMetrics
            ]
        );
    }

    fn batches_skip_duplicates_and_retention_deletes_old_events(store: &dyn Store) {
        let before = store.outbox(0, usize::MAX).unwrap().len();
        let batch = [event("b1", "z", 5_000), event("e0", "z", 1), event("b2", "z", 6_000)];
        // "e0" exists already: skipped, not an error, and the rest of the batch is stored.
        assert_eq!(store.insert_events(&batch).unwrap(), 2);
        assert_eq!(store.event("e0").unwrap().unwrap().model_name, "a");
        assert_eq!(store.insert_events(&[]).unwrap(), 0);
        let outbox = store.outbox(0, usize::MAX).unwrap();
        assert_eq!(outbox.len(), before + 2, "one outbox entry per inserted event");
        let z = EventQuery::new().model("z");
        assert_eq!(store.events(&z).unwrap().len(), 2);
        assert_eq!(store.delete_events_before(Timestamp::from_millis(5_500)).unwrap(), 5);
        let left: Vec<String> =
            store.events(&EventQuery::new()).unwrap().into_iter().map(|e| e.id).collect();
        assert_eq!(left, ["b2"]);
        assert_eq!(store.delete_events_before(Timestamp::from_millis(5_500)).unwrap(), 0);
    }

    fn metrics_upsert_and_query(store: &dyn Store) {
        use crate::telemetry::{Granularity, QuantileSketch};
        let row = |start: i64, latencies: &[f64]| {
            let mut s = QuantileSketch::new(0.01).unwrap();
            latencies.iter().for_each(|&v| s.add(v));
            ModelMetrics::new(
                "m",
                "1",
                Granularity::FiveMinutes,
                Timestamp::from_millis(start),
                0,
                s,
            )
        };
        let (a, b) = (row(300_000, &[1.0]), row(0, &[2.0, 3.0]));
        store.upsert_metrics(&a).unwrap();
        store.upsert_metrics(&b).unwrap();
        let replaced = row(300_000, &[1.0, 4.0]);
        store.upsert_metrics(&replaced).unwrap();
        assert_eq!(store.metrics_row(&a.id).unwrap(), Some(replaced.clone()));
        let q = MetricsQuery::new("m", Granularity::FiveMinutes);
        assert_eq!(store.metrics(&q).unwrap(), [b.clone(), replaced.clone()], "oldest first");
        let later = q.clone().between(Some(Timestamp::from_millis(1)), None);
        assert_eq!(store.metrics(&later).unwrap(), std::slice::from_ref(&replaced));
        assert!(store.metrics(&MetricsQuery::new("m", Granularity::Hourly)).unwrap().is_empty());
        assert!(store.metrics(&q.clone().version("2")).unwrap().is_empty());
        let last = store.outbox(0, 1000).unwrap().pop().unwrap();
        assert_eq!((last.table, last.id.as_str()), (Table::ModelMetrics, replaced.id.as_str()));
        assert_eq!(last.record["requestCount"], json!(2));
    }

    fn models_round_trip(store: &dyn Store) {
        let m = model("iris", "1", 10);
        store.insert_model(&m, b"abc").unwrap();
        assert_eq!(store.model("iris", "1").unwrap(), Some(m.clone()));
        assert_eq!(store.model("iris", "2").unwrap(), None);
        let err = store.insert_model(&m, b"abc").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Conflict);
        store.insert_model(&model("iris", "2", 20), b"abc").unwrap();
        store.insert_model(&model("other", "1", 30), b"abc").unwrap();
        let versions: Vec<_> =
            store.models(Some("iris")).unwrap().into_iter().map(|m| m.model_version).collect();
        assert_eq!(versions, ["1", "2"]);
        assert_eq!(store.models(None).unwrap().len(), 3);
        let bytes = match store.model_file(&m.sha256).unwrap() {
            ModelFile::Bytes(b) => b.to_vec(),
            ModelFile::Path(p) => std::fs::read(p).unwrap(),
        };
        assert_eq!(bytes, b"abc");
        assert_eq!(store.model_file("00").unwrap_err().kind(), ErrorKind::NotFound);
    }

    fn events_filter_and_order(store: &dyn Store) {
        for (i, m) in ["a", "b", "a", "a"].iter().enumerate() {
            store.insert_event(&event(&format!("e{i}"), m, 100 + i as i64)).unwrap();
        }
        assert_eq!(
            store.insert_event(&event("e0", "a", 1)).unwrap_err().kind(),
            ErrorKind::Conflict
        );
        let ids = |q: &EventQuery| -> Vec<String> {
            store.events(q).unwrap().into_iter().map(|e| e.id).collect()
        };
        assert_eq!(ids(&EventQuery::new().model("a")), ["e3", "e2", "e0"]);
        assert_eq!(ids(&EventQuery::new().limit(2)), ["e3", "e2"]);
        let window = EventQuery::new()
            .between(Some(Timestamp::from_millis(101)), Some(Timestamp::from_millis(103)));
        assert_eq!(ids(&window), ["e2", "e1"]);

        let mut e = store.event("e1").unwrap().unwrap();
        e.actual_outcome = Some(json!(1));
        e.correct = Some(true);
        store.update_event(&e).unwrap();
        assert_eq!(store.event("e1").unwrap().unwrap().correct, Some(true));
        let missing = event("nope", "a", 1);
        assert_eq!(store.update_event(&missing).unwrap_err().kind(), ErrorKind::NotFound);
    }

    fn outbox_is_ordered_and_prunable(store: &dyn Store) {
        let all = store.outbox(0, 1000).unwrap();
        // 3 models + 4 events + 1 feedback update, in write order.
        let tables: Vec<_> = all.iter().map(|e| e.table).collect();
        assert_eq!(tables.len(), 8);
        assert!(tables[..3].iter().all(|t| *t == Table::Model));
        assert!(tables[3..].iter().all(|t| *t == Table::InferenceEvent));
        assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
        let last = all.last().unwrap();
        assert_eq!(last.id, "e1");
        assert_eq!(last.record["correct"], json!(true));
        assert_eq!(last.record["modelName"], json!("b"));

        let after_third = store.outbox(all[2].seq, 2).unwrap();
        assert_eq!(after_third.len(), 2);
        assert_eq!(after_third[0].seq, all[3].seq);
        assert_eq!(store.prune_outbox(all[4].seq).unwrap(), 5);
        assert_eq!(store.outbox(0, 1000).unwrap().len(), 3);
    }
}

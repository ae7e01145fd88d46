use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::de::DeserializeOwned;

use crate::clock::Timestamp;
use crate::drift::check::DriftMetrics;
use crate::drift::quality::DataQualityMetrics;
use crate::drift::records::{DriftQuery, LabelCounts, ModelBaseline};
use crate::error::{Error, Result};
use crate::fetch::ContentStore;
use crate::registry::{Model, ModelFile, sha256_hex};
use crate::store::{Expect, MonitorRecord, OutboxEntry, RecordQuery, Store, Table};
use crate::telemetry::{EventQuery, InferenceEvent, MetricsQuery, ModelMetrics};

/// File name of the database inside the data directory.
pub const DATABASE_FILE: &str = "harper-edge.db";

/// Schema migrations, applied in order; `PRAGMA user_version` holds how many have run.
/// Records are stored whole as JSON beside the columns queries filter on, so a new optional
/// field needs no migration.
const MIGRATIONS: &[&str] = &[
    r"
    CREATE TABLE model (
        seq           INTEGER PRIMARY KEY AUTOINCREMENT,
        id            TEXT NOT NULL UNIQUE,
        model_name    TEXT NOT NULL,
        model_version TEXT NOT NULL,
        uploaded_at   INTEGER NOT NULL,
        record        TEXT NOT NULL
    );
    CREATE INDEX model_by_name ON model (model_name, seq);
    CREATE TABLE inference_event (
        seq           INTEGER PRIMARY KEY AUTOINCREMENT,
        id            TEXT NOT NULL UNIQUE,
        model_name    TEXT NOT NULL,
        model_version TEXT NOT NULL,
        timestamp     INTEGER NOT NULL,
        record        TEXT NOT NULL
    );
    CREATE INDEX inference_event_by_model_time
        ON inference_event (model_name, model_version, timestamp);
    CREATE INDEX inference_event_by_time ON inference_event (timestamp);
    CREATE TABLE outbox (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        table_name TEXT NOT NULL,
        record_id  TEXT NOT NULL,
        record     TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
",
    r"
    CREATE TABLE model_metrics (
        id            TEXT PRIMARY KEY,
        model_name    TEXT NOT NULL,
        model_version TEXT NOT NULL,
        granularity   TEXT NOT NULL,
        period_start  INTEGER NOT NULL,
        record        TEXT NOT NULL
    );
    CREATE INDEX model_metrics_by_model
        ON model_metrics (model_name, granularity, period_start);
",
    r"
    CREATE TABLE drift_baseline (
        id            TEXT PRIMARY KEY,
        model_name    TEXT NOT NULL,
        model_version TEXT NOT NULL,
        created_at    INTEGER NOT NULL,
        record        TEXT NOT NULL
    );
    CREATE TABLE drift_metrics (
        id            TEXT PRIMARY KEY,
        model_name    TEXT NOT NULL,
        model_version TEXT NOT NULL,
        drift_type    TEXT NOT NULL,
        timestamp     INTEGER NOT NULL,
        record        TEXT NOT NULL
    );
    CREATE INDEX drift_metrics_by_model ON drift_metrics (model_name, timestamp);
    CREATE TABLE data_quality_metrics (
        id            TEXT PRIMARY KEY,
        model_name    TEXT NOT NULL,
        model_version TEXT NOT NULL,
        timestamp     INTEGER NOT NULL,
        record        TEXT NOT NULL
    );
    CREATE INDEX data_quality_metrics_by_model ON data_quality_metrics (model_name, timestamp);
",
    // 4: monitoring records (alert rules and events, retraining requests, configs), one table.
    r"
    CREATE TABLE monitor_record (
        table_name    TEXT NOT NULL,
        id            TEXT NOT NULL,
        model_name    TEXT,
        model_version TEXT,
        timestamp     INTEGER NOT NULL,
        status        TEXT,
        record        TEXT NOT NULL,
        PRIMARY KEY (table_name, id)
    ) WITHOUT ROWID;
    CREATE INDEX monitor_record_by_time ON monitor_record (table_name, timestamp);
    CREATE INDEX monitor_record_by_model ON monitor_record (table_name, model_name, timestamp);
",
];

/// Options of [`SqliteStore::open_with`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct SqliteOptions {
    /// Whether writes are appended to the outbox (default off: only a host that drains and
    /// prunes it should turn it on, or it grows with every record).
    pub outbox: bool,
}

impl SqliteOptions {
    /// Default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Turns the outbox on or off.
    #[must_use]
    pub fn outbox(mut self, on: bool) -> Self {
        self.outbox = on;
        self
    }
}

/// The embedded default store: one SQLite database (WAL mode) and a folder of model files,
/// content-addressed by sha256, in a data directory.
///
/// Several processes (or HarperDB worker threads) can open the same directory: WAL lets
/// readers run beside the one writer, and writers wait up to five seconds for each other.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Mutex<Connection>,
    dir: PathBuf,
    files: ContentStore,
    outbox: bool,
}

impl SqliteStore {
    /// Opens (creating if needed) the store in directory `dir`, with default options.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the directory cannot be created; [`Error::Storage`] when the
    /// database cannot be opened or migrated, or was written by a newer harper-edge.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(dir, SqliteOptions::default())
    }

    /// Opens the store in `dir` with `options`.
    ///
    /// # Errors
    ///
    /// As [`SqliteStore::open`].
    pub fn open_with(dir: impl AsRef<Path>, options: SqliteOptions) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        let files = ContentStore::open(&dir)?;
        let path = dir.join(DATABASE_FILE);
        let mut conn = Connection::open(&path)
            .map_err(|e| Error::storage(format!("cannot open '{}'", path.display()), e))?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        use_wal(&conn, BUSY_TIMEOUT)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        migrate(&mut conn)?;
        Ok(SqliteStore { conn: Mutex::new(conn), dir, files, outbox: options.outbox })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The schema version this build writes.
    pub fn schema_version() -> usize {
        MIGRATIONS.len()
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // rusqlite rolls back an open transaction when it is dropped, so a connection whose
        // holder panicked is still consistent.
        self.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn append_outbox(
        &self,
        tx: &Transaction<'_>,
        table: Table,
        id: &str,
        record: &str,
        at: Timestamp,
    ) -> Result<()> {
        if self.outbox {
            tx.execute(
                "INSERT INTO outbox (table_name, record_id, record, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![table.as_str(), id, record, at.as_millis()],
            )?;
        }
        Ok(())
    }
}

/// How long a connection waits for another one's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Switches the database to WAL mode (a no-op once it is).
///
/// The switch needs an exclusive lock and SQLite does not run the busy handler for it, so two
/// processes opening a new data directory at once would see `SQLITE_BUSY`: retry until
/// `timeout`.
fn use_wal(conn: &Connection, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(2);
    loop {
        match conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))
        {
            Ok(mode) if mode.eq_ignore_ascii_case("wal") => return Ok(()),
            Ok(mode) => {
                return Err(Error::Storage {
                    message: format!("the database stayed in journal mode '{mode}', not WAL"),
                    source: None,
                });
            }
            Err(e) if is_busy(&e) && Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            Err(e) => return Err(Error::storage("switching the database to WAL mode", e)),
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Starts a transaction that holds the write lock from its first statement.
///
/// Every store transaction reads and then writes. A deferred one would take a read snapshot
/// first, and in WAL mode a snapshot that another connection has written past cannot be
/// upgraded: SQLite answers `SQLITE_BUSY` at once, without waiting the busy timeout. An
/// immediate transaction waits its turn for the lock instead.
fn write_transaction(conn: &mut Connection) -> Result<Transaction<'_>> {
    Ok(conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?)
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let schema_version = |conn: &Connection| -> Result<usize> {
        Ok(conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
    };
    let newer = |version: usize| Error::Storage {
        message: format!(
            "database schema version {version} is newer than this build supports ({}): \
             upgrade harper-edge",
            MIGRATIONS.len()
        ),
        source: None,
    };
    let version = schema_version(conn)?;
    if version > MIGRATIONS.len() {
        return Err(newer(version));
    }
    if version == MIGRATIONS.len() {
        return Ok(());
    }
    // Several processes may open a new data directory at once (a CLI run beside a
    // HarperDB worker): take the write lock first, then read the version again, so each
    // migration runs exactly once and a second opener waits and finds it done.
    let tx = write_transaction(conn)?;
    let version = schema_version(&tx)?;
    if version > MIGRATIONS.len() {
        return Err(newer(version));
    }
    for (ix, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        tx.execute_batch(sql).map_err(|e| Error::storage(format!("migration {}", ix + 1), e))?;
    }
    tx.pragma_update(None, "user_version", MIGRATIONS.len())?;
    tx.commit()?;
    Ok(())
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
    )
}

/// A `monitor_record` row before its JSON is decoded.
struct RawRecord {
    id: String,
    model_name: Option<String>,
    model_version: Option<String>,
    timestamp: i64,
    status: Option<String>,
    record: String,
}

fn raw_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawRecord> {
    Ok(RawRecord {
        id: r.get(0)?,
        model_name: r.get(1)?,
        model_version: r.get(2)?,
        timestamp: r.get(3)?,
        status: r.get(4)?,
        record: r.get(5)?,
    })
}

impl RawRecord {
    fn decode(self, table: Table) -> Result<MonitorRecord> {
        Ok(MonitorRecord {
            table,
            id: self.id,
            model_name: self.model_name,
            model_version: self.model_version,
            timestamp: Timestamp::from_millis(self.timestamp),
            status: self.status,
            record: decode(&self.record)?,
        })
    }
}

/// Checks one [`Expect`] against what is stored (`None`: no record; `Some(status)`).
pub(crate) fn check_expect(e: &Expect, found: Option<Option<&str>>) -> Result<()> {
    let ok = match (&e.status, found) {
        (None, None) => true,
        (Some(want), Some(Some(have))) => want == have,
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let now = match found {
        None => "no such record".to_string(),
        Some(Some(s)) => format!("its status is '{s}'"),
        Some(None) => "it has no status".to_string(),
    };
    let wanted = match &e.status {
        None => "not to exist".to_string(),
        Some(s) => format!("status '{s}'"),
    };
    Err(Error::Conflict {
        message: format!("{} '{}' was expected {wanted}, but {now}", e.table, e.id),
    })
}

fn decode<T: DeserializeOwned>(json: &str) -> Result<T> {
    serde_json::from_str(json).map_err(|e| Error::storage("corrupt record in the database", e))
}

impl Store for SqliteStore {
    fn insert_model(&self, model: &Model, file: &[u8]) -> Result<()> {
        if sha256_hex(file) != model.sha256 {
            return Err(Error::Integrity {
                message: format!("file of model '{}' does not match its sha256", model.id),
            });
        }
        if !self.files.contains(&model.sha256) {
            self.files.put_bytes(file)?;
        }
        let record = serde_json::to_string(model)?;
        let mut conn = self.lock();
        let tx = write_transaction(&mut conn)?;
        let inserted = tx.execute(
            "INSERT INTO model (id, model_name, model_version, uploaded_at, record) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![model.id, model.model_name, model.model_version, model.uploaded_at.as_millis(), record],
        );
        match inserted {
            Err(e) if is_unique_violation(&e) => {
                return Err(Error::Conflict {
                    message: format!("model '{}' already exists", model.id),
                });
            }
            other => other?,
        };
        self.append_outbox(&tx, Table::Model, &model.id, &record, model.uploaded_at)?;
        tx.commit()?;
        Ok(())
    }

    fn model(&self, name: &str, version: &str) -> Result<Option<Model>> {
        let conn = self.lock();
        let record: Option<String> = conn
            .query_row(
                "SELECT record FROM model WHERE model_name = ?1 AND model_version = ?2",
                params![name, version],
                |r| r.get(0),
            )
            .optional()?;
        record.as_deref().map(decode).transpose()
    }

    fn models(&self, name: Option<&str>) -> Result<Vec<Model>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT record FROM model WHERE ?1 IS NULL OR model_name = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![name], |r| r.get::<_, String>(0))?;
        rows.map(|r| decode(&r?)).collect()
    }

    fn model_file(&self, sha256: &str) -> Result<ModelFile> {
        self.files.get(sha256).map(|blob| ModelFile::Path(blob.path))
    }

    fn delete_model(&self, name: &str, version: &str, at: Timestamp) -> Result<Option<Model>> {
        let (model, remaining) = {
            let mut conn = self.lock();
            let tx = write_transaction(&mut conn)?;
            let record: Option<String> = tx
                .query_row(
                    "SELECT record FROM model WHERE model_name = ?1 AND model_version = ?2",
                    params![name, version],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(record) = record else { return Ok(None) };
            let model: Model = decode(&record)?;
            tx.execute("DELETE FROM model WHERE id = ?1", params![model.id])?;
            self.append_outbox(&tx, Table::Model, &model.id, "null", at)?;
            let remaining: Vec<Model> = {
                let mut stmt = tx.prepare_cached("SELECT record FROM model")?;
                let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
                rows.map(|r| decode(&r?)).collect::<Result<_>>()?
            };
            tx.commit()?;
            (model, remaining)
        };
        let used = super::referenced_files(&remaining);
        for sha in super::referenced_files(std::slice::from_ref(&model)) {
            if !used.contains(&sha) {
                self.files.remove(&sha)?;
            }
        }
        Ok(Some(model))
    }

    fn insert_event(&self, event: &InferenceEvent) -> Result<()> {
        let record = serde_json::to_string(event)?;
        let mut conn = self.lock();
        let tx = write_transaction(&mut conn)?;
        let inserted = tx.execute(
            "INSERT INTO inference_event (id, model_name, model_version, timestamp, record) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![event.id, event.model_name, event.model_version, event.timestamp.as_millis(), record],
        );
        match inserted {
            Err(e) if is_unique_violation(&e) => {
                return Err(Error::Conflict {
                    message: format!("inference event '{}' already exists", event.id),
                });
            }
            other => other?,
        };
        self.append_outbox(&tx, Table::InferenceEvent, &event.id, &record, event.timestamp)?;
        tx.commit()?;
        Ok(())
    }

    fn insert_events(&self, events: &[InferenceEvent]) -> Result<usize> {
        let records =
            events.iter().map(serde_json::to_string).collect::<serde_json::Result<Vec<_>>>()?;
        let mut conn = self.lock();
        let tx = write_transaction(&mut conn)?;
        let mut inserted = 0;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO inference_event (id, model_name, model_version, timestamp, record)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO NOTHING",
            )?;
            for (event, record) in events.iter().zip(&records) {
                let n = insert.execute(params![
                    event.id,
                    event.model_name,
                    event.model_version,
                    event.timestamp.as_millis(),
                    record
                ])?;
                if n == 1 {
                    self.append_outbox(
                        &tx,
                        Table::InferenceEvent,
                        &event.id,
                        record,
                        event.timestamp,
                    )?;
                    inserted += 1;
                }
            }
        }
        tx.commit()?;
        Ok(inserted)
    }

    fn delete_events_before(&self, before: Timestamp) -> Result<usize> {
        let conn = self.lock();
        let n = conn.execute(
            "DELETE FROM inference_event WHERE timestamp < ?1",
            params![before.as_millis()],
        )?;
        Ok(n)
    }

    fn event(&self, id: &str) -> Result<Option<InferenceEvent>> {
        let conn = self.lock();
        let record: Option<String> = conn
            .query_row("SELECT record FROM inference_event WHERE id = ?1", params![id], |r| {
                r.get(0)
            })
            .optional()?;
        record.as_deref().map(decode).transpose()
    }

    fn events(&self, query: &EventQuery) -> Result<Vec<InferenceEvent>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT record FROM inference_event
             WHERE (?1 IS NULL OR model_name = ?1) AND (?2 IS NULL OR model_version = ?2)
               AND (?3 IS NULL OR timestamp >= ?3) AND (?4 IS NULL OR timestamp < ?4)
             ORDER BY timestamp DESC, seq DESC LIMIT ?5",
        )?;
        let limit = i64::try_from(query.effective_limit()).unwrap_or(i64::MAX);
        let rows = stmt.query_map(
            params![
                query.model_name,
                query.model_version,
                query.from.map(Timestamp::as_millis),
                query.to.map(Timestamp::as_millis),
                limit
            ],
            |r| r.get::<_, String>(0),
        )?;
        rows.map(|r| decode(&r?)).collect()
    }

    fn update_event(&self, event: &InferenceEvent) -> Result<()> {
        let record = serde_json::to_string(event)?;
        let mut conn = self.lock();
        let tx = write_transaction(&mut conn)?;
        let n = tx.execute(
            "UPDATE inference_event SET record = ?2 WHERE id = ?1",
            params![event.id, record],
        )?;
        if n == 0 {
            return Err(Error::not_found("inference event", &event.id));
        }
        let at = event.feedback_timestamp.unwrap_or(event.timestamp);
        self.append_outbox(&tx, Table::InferenceEvent, &event.id, &record, at)?;
        tx.commit()?;
        Ok(())
    }

    fn metrics_row(&self, id: &str) -> Result<Option<ModelMetrics>> {
        let conn = self.lock();
        let record: Option<String> = conn
            .query_row("SELECT record FROM model_metrics WHERE id = ?1", params![id], |r| r.get(0))
            .optional()?;
        record.as_deref().map(decode).transpose()
    }

    fn upsert_metrics(&self, row: &ModelMetrics) -> Result<()> {
        let record = serde_json::to_string(row)?;
        let mut conn = self.lock();
        let tx = write_transaction(&mut conn)?;
        tx.execute(
            "INSERT INTO model_metrics (id, model_name, model_version, granularity, period_start, record)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (id) DO UPDATE SET record = excluded.record",
            params![
                row.id,
                row.model_name,
                row.model_version,
                row.granularity.as_str(),
                row.period_start.as_millis(),
                record
            ],
        )?;
        self.append_outbox(&tx, Table::ModelMetrics, &row.id, &record, row.period_end)?;
        tx.commit()?;
        Ok(())
    }

    fn metrics(&self, query: &MetricsQuery) -> Result<Vec<ModelMetrics>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT record FROM model_metrics
             WHERE model_name = ?1 AND granularity = ?2 AND (?3 IS NULL OR model_version = ?3)
               AND (?4 IS NULL OR period_start >= ?4) AND (?5 IS NULL OR period_start < ?5)
             ORDER BY period_start, model_version LIMIT ?6",
        )?;
        let limit = i64::try_from(query.effective_limit()).unwrap_or(i64::MAX);
        let rows = stmt.query_map(
            params![
                query.model_name,
                query.granularity.as_str(),
                query.model_version,
                query.from.map(Timestamp::as_millis),
                query.to.map(Timestamp::as_millis),
                limit
            ],
            |r| r.get::<_, String>(0),
        )?;
        rows.map(|r| decode(&r?)).collect()
    }

    fn label_counts(
        &self,
        model_name: &str,
        model_version: &str,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<LabelCounts> {
        let conn = self.lock();
        let (total, correct): (i64, i64) = conn.query_row(
            "SELECT COUNT(*), COALESCE(SUM(json_extract(record, '$.correct')), 0)
             FROM inference_event
             WHERE model_name = ?1 AND model_version = ?2
               AND (?3 IS NULL OR timestamp >= ?3) AND (?4 IS NULL OR timestamp < ?4)
               AND json_type(record, '$.correct') IN ('true', 'false')",
            params![
                model_name,
                model_version,
                from.map(Timestamp::as_millis),
                to.map(Timestamp::as_millis)
            ],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        LabelCounts::new(count(correct), count(total))
    }

    fn put_baseline(&self, baseline: &ModelBaseline) -> Result<()> {
        let record = serde_json::to_string(baseline)?;
        let mut conn = self.lock();
        let tx = write_transaction(&mut conn)?;
        tx.execute(
            "INSERT INTO drift_baseline (id, model_name, model_version, created_at, record)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (id) DO UPDATE SET created_at = excluded.created_at, record = excluded.record",
            params![
                baseline.id,
                baseline.model_name,
                baseline.model_version,
                baseline.created_at.as_millis(),
                record
            ],
        )?;
        self.append_outbox(&tx, Table::DriftBaseline, &baseline.id, &record, baseline.created_at)?;
        tx.commit()?;
        Ok(())
    }

    fn baseline(&self, model_name: &str, model_version: &str) -> Result<Option<ModelBaseline>> {
        let conn = self.lock();
        let record: Option<String> = conn
            .query_row(
                "SELECT record FROM drift_baseline WHERE id = ?1",
                params![ModelBaseline::id_of(model_name, model_version)],
                |r| r.get(0),
            )
            .optional()?;
        record.as_deref().map(decode).transpose()
    }

    fn baseline_versions(&self) -> Result<Vec<(String, String)>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT model_name, model_version FROM drift_baseline ORDER BY model_name, model_version",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn insert_drift(
        &self,
        rows: &[DriftMetrics],
        quality: Option<&DataQualityMetrics>,
    ) -> Result<()> {
        let mut conn = self.lock();
        let tx = write_transaction(&mut conn)?;
        for row in rows {
            let record = serde_json::to_string(row)?;
            tx.execute(
                "INSERT INTO drift_metrics (id, model_name, model_version, drift_type, timestamp, record)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (id) DO UPDATE SET record = excluded.record",
                params![
                    row.id,
                    row.model_name,
                    row.model_version,
                    row.drift_type.as_str(),
                    row.timestamp.as_millis(),
                    record
                ],
            )?;
            self.append_outbox(&tx, Table::DriftMetrics, &row.id, &record, row.timestamp)?;
        }
        if let Some(q) = quality {
            let record = serde_json::to_string(q)?;
            tx.execute(
                "INSERT INTO data_quality_metrics (id, model_name, model_version, timestamp, record)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (id) DO UPDATE SET record = excluded.record",
                params![q.id, q.model_name, q.model_version, q.timestamp.as_millis(), record],
            )?;
            self.append_outbox(&tx, Table::DataQualityMetrics, &q.id, &record, q.timestamp)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn drift_metrics(&self, query: &DriftQuery) -> Result<Vec<DriftMetrics>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT record FROM drift_metrics
             WHERE model_name = ?1 AND (?2 IS NULL OR model_version = ?2)
               AND (?3 IS NULL OR drift_type = ?3)
               AND (?4 IS NULL OR timestamp >= ?4) AND (?5 IS NULL OR timestamp < ?5)
             ORDER BY timestamp DESC, id LIMIT ?6",
        )?;
        let limit = i64::try_from(query.effective_limit()).unwrap_or(i64::MAX);
        let rows = stmt.query_map(
            params![
                query.model_name,
                query.model_version,
                query.drift_type.map(|t| t.as_str()),
                query.from.map(Timestamp::as_millis),
                query.to.map(Timestamp::as_millis),
                limit
            ],
            |r| r.get::<_, String>(0),
        )?;
        rows.map(|r| decode(&r?)).collect()
    }

    fn data_quality(&self, query: &DriftQuery) -> Result<Vec<DataQualityMetrics>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT record FROM data_quality_metrics
             WHERE model_name = ?1 AND (?2 IS NULL OR model_version = ?2)
               AND (?3 IS NULL OR timestamp >= ?3) AND (?4 IS NULL OR timestamp < ?4)
             ORDER BY timestamp DESC, id LIMIT ?5",
        )?;
        let limit = i64::try_from(query.effective_limit()).unwrap_or(i64::MAX);
        let rows = stmt.query_map(
            params![
                query.model_name,
                query.model_version,
                query.from.map(Timestamp::as_millis),
                query.to.map(Timestamp::as_millis),
                limit
            ],
            |r| r.get::<_, String>(0),
        )?;
        rows.map(|r| decode(&r?)).collect()
    }

    fn put_records(&self, records: &[MonitorRecord], expect: &[Expect]) -> Result<()> {
        let encoded = records
            .iter()
            .map(|r| serde_json::to_string(&r.record))
            .collect::<serde_json::Result<Vec<_>>>()?;
        let mut conn = self.lock();
        let tx = write_transaction(&mut conn)?;
        for e in expect {
            let found: Option<Option<String>> = tx
                .query_row(
                    "SELECT status FROM monitor_record WHERE table_name = ?1 AND id = ?2",
                    params![e.table.as_str(), e.id],
                    |r| r.get(0),
                )
                .optional()?;
            check_expect(e, found.as_ref().map(Option::as_deref))?;
        }
        for (r, record) in records.iter().zip(&encoded) {
            tx.execute(
                "INSERT INTO monitor_record
                     (table_name, id, model_name, model_version, timestamp, status, record)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (table_name, id) DO UPDATE SET
                     model_name = excluded.model_name, model_version = excluded.model_version,
                     timestamp = excluded.timestamp, status = excluded.status,
                     record = excluded.record",
                params![
                    r.table.as_str(),
                    r.id,
                    r.model_name,
                    r.model_version,
                    r.timestamp.as_millis(),
                    r.status,
                    record
                ],
            )?;
            self.append_outbox(&tx, r.table, &r.id, record, r.timestamp)?;
        }
        tx.commit()?;
        Ok(())
    }

    fn record(&self, table: Table, id: &str) -> Result<Option<MonitorRecord>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT id, model_name, model_version, timestamp, status, record FROM monitor_record
             WHERE table_name = ?1 AND id = ?2",
        )?;
        let row = stmt.query_row(params![table.as_str(), id], raw_record).optional()?;
        row.map(|raw| raw.decode(table)).transpose()
    }

    fn records(&self, table: Table, query: &RecordQuery) -> Result<Vec<MonitorRecord>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT id, model_name, model_version, timestamp, status, record FROM monitor_record
             WHERE table_name = ?1
               AND (?2 IS NULL OR model_name = ?2) AND (?3 IS NULL OR model_version = ?3)
               AND (?4 IS NULL OR status = ?4)
               AND (?5 IS NULL OR timestamp >= ?5) AND (?6 IS NULL OR timestamp < ?6)
             ORDER BY timestamp DESC, id DESC LIMIT ?7",
        )?;
        let limit = i64::try_from(query.effective_limit()).unwrap_or(i64::MAX);
        let rows = stmt.query_map(
            params![
                table.as_str(),
                query.model_name,
                query.model_version,
                query.status,
                query.from.map(Timestamp::as_millis),
                query.to.map(Timestamp::as_millis),
                limit
            ],
            raw_record,
        )?;
        rows.map(|raw| raw?.decode(table)).collect()
    }

    fn delete_record(&self, table: Table, id: &str, at: Timestamp) -> Result<bool> {
        let mut conn = self.lock();
        let tx = write_transaction(&mut conn)?;
        let n = tx.execute(
            "DELETE FROM monitor_record WHERE table_name = ?1 AND id = ?2",
            params![table.as_str(), id],
        )?;
        if n > 0 {
            self.append_outbox(&tx, table, id, "null", at)?;
        }
        tx.commit()?;
        Ok(n > 0)
    }

    fn outbox(&self, after: u64, limit: usize) -> Result<Vec<OutboxEntry>> {
        let conn = self.lock();
        let mut stmt = conn.prepare_cached(
            "SELECT seq, table_name, record_id, record, created_at FROM outbox
             WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![after, limit], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })?;
        rows.map(|row| {
            let (seq, table, id, record, at) = row?;
            let table = Table::parse(&table).ok_or_else(|| Error::Storage {
                message: format!("unknown table '{table}' in the outbox"),
                source: None,
            })?;
            Ok(OutboxEntry {
                seq: u64::try_from(seq).unwrap_or_default(),
                table,
                id,
                record: decode(&record)?,
                created_at: Timestamp::from_millis(at),
            })
        })
        .collect()
    }

    fn prune_outbox(&self, through: u64) -> Result<usize> {
        let conn = self.lock();
        let through = i64::try_from(through).unwrap_or(i64::MAX);
        Ok(conn.execute("DELETE FROM outbox WHERE seq <= ?1", params![through])?)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::conformance;

    #[test]
    fn conformance() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open_with(dir.path(), SqliteOptions::new().outbox(true)).unwrap(),
        );
        conformance::run_all(&store);
    }

    #[test]
    fn records_survive_reopening_and_use_wal() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SqliteStore::open(dir.path()).unwrap();
            store.insert_model(&conformance::model("iris", "1", 5), b"abc").unwrap();
            store.insert_event(&conformance::event("e1", "iris", 7)).unwrap();
            assert!(store.outbox(0, 10).unwrap().is_empty(), "outbox is off by default");
        }
        let store = SqliteStore::open(dir.path()).unwrap();
        assert!(store.model("iris", "1").unwrap().is_some());
        assert_eq!(store.event("e1").unwrap().unwrap().latency_ms, 0.25);
        let mode: String =
            store.lock().pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn openers_racing_on_a_new_directory_all_succeed() {
        // A CLI process and a HarperDB worker opening a fresh data directory at the same
        // moment used to both apply migration 1, and the loser failed ("migration 2").
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let barrier = std::sync::Barrier::new(4);
            std::thread::scope(|s| {
                let openers: Vec<_> = (0..4)
                    .map(|_| {
                        s.spawn(|| {
                            barrier.wait();
                            SqliteStore::open(dir.path()).map(|_| ())
                        })
                    })
                    .collect();
                for opener in openers {
                    opener.join().unwrap().unwrap();
                }
            });
            let conn = Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
            let version: usize =
                conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
            assert_eq!(version, MIGRATIONS.len());
        }
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(SqliteStore::open(dir.path()).unwrap());
        let conn = Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let err = SqliteStore::open(dir.path()).unwrap_err();
        assert!(err.to_string().contains("newer than this build"), "{err}");
    }

    #[test]
    fn file_must_match_its_sha256() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        let err = store.insert_model(&conformance::model("iris", "1", 5), b"abd").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Integrity);
    }

    #[test]
    fn two_handles_share_one_database() {
        let dir = tempfile::tempdir().unwrap();
        let a = SqliteStore::open(dir.path()).unwrap();
        let b = SqliteStore::open(dir.path()).unwrap();
        a.insert_event(&conformance::event("e1", "m", 1)).unwrap();
        assert!(b.event("e1").unwrap().is_some());
    }
}

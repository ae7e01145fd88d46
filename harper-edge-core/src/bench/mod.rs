//! Benchmarks: equivalent models (one equivalence group) run on the same inputs, timed, and
//! checked for giving the same answers.
//!
//! A group is every registered model whose metadata has the same `taskType` and
//! `equivalenceGroup` ([`Engine::benchmark_groups`]); it needs at least two models, and models
//! that declare `outputDimensions` must declare the same. [`Engine::benchmark`] then, for each
//! model in turn (the reference first):
//!
//! 1. loads it afresh, outside the engine's session cache, timing the load and measuring the
//!    process's peak resident memory while it loads and runs (Linux; see `memory`);
//! 2. runs it once on the agreement inputs (up to 16) and compares the answer with the
//!    reference model's ([`agreement`]): cosine for embeddings, label agreement for
//!    classifiers, max abs difference otherwise. Answers of other dimensions are refused;
//! 3. for each batch size × concurrency (a *cell*): `warmup` unmeasured calls, then
//!    `iterations` measured calls spread over `concurrency` threads, each call timed
//!    ([`LatencyStats`], microseconds, percentiles by linear interpolation); throughput is
//!    items (rows or texts) per second of wall time; failed calls are counted, not timed.
//!
//! Benchmark calls are not recorded as telemetry. The **winner** is the model with the lowest
//! p50 latency in the first cell (first batch size, first concurrency; ties: lower mean) among
//! models that agree with the reference and had no errors; there is none when no model
//! qualifies. The result is a [`BenchmarkResult`] record (the original design's table),
//! stored unless [`BenchOptions::persist`] is off, and listed by [`Engine::benchmark_history`].
//!
//! ```
//! use harper_edge_core::bench::{BenchInputs, BenchOptions};
//!
//! let options = BenchOptions {
//!     batch_sizes: vec![1, 32],
//!     concurrency: vec![1, 2],
//!     inputs: Some(BenchInputs::synthetic_texts(64, 7)),
//!     ..BenchOptions::default()
//! };
//! assert!(options.validate().is_ok());
//! assert!(BenchOptions { batch_sizes: vec![], ..BenchOptions::default() }.validate().is_err());
//! ```

pub mod agreement;
pub mod inputs;
mod memory;
pub mod stats;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use agreement::{Agreement, AgreementMetric, AgreementThresholds, BenchOutput, compare};
pub use inputs::BenchInputs;
pub use stats::{LatencyStats, percentile};

use crate::clock::Timestamp;
use crate::engine::{Engine, UnrecordedSession};
use crate::error::{Error, Result};
use crate::registry::{Model, ModelRef};
use crate::store::{MonitorRecord, RecordQuery, Table};
use crate::tensor::{DType, Inputs, Tensor};

/// How many inputs the agreement check compares.
pub const AGREEMENT_INPUTS: usize = 16;
/// How many synthetic inputs a benchmark without inputs makes.
pub const SYNTHETIC_INPUTS: usize = 64;
/// The seed of the synthetic inputs (so every run sees the same).
pub const SYNTHETIC_SEED: u64 = 0x4841_5250_4552; // "HARPER"
/// Most threads a cell may use.
pub const MAX_CONCURRENCY: usize = 256;

/// How a benchmark runs.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchOptions {
    /// Unmeasured calls before each cell (default 5).
    pub warmup: usize,
    /// Measured calls per cell (default 50).
    pub iterations: usize,
    /// Batch sizes (rows or texts per call; default `[1]`).
    pub batch_sizes: Vec<usize>,
    /// Concurrency levels (threads calling at once; default `[1]`).
    pub concurrency: Vec<usize>,
    /// What to feed the models; `None`: [`SYNTHETIC_INPUTS`] synthetic texts (text models) or
    /// standard-normal rows as wide as the reference model's input (tabular models).
    pub inputs: Option<BenchInputs>,
    /// When a model agrees with the reference.
    pub thresholds: AgreementThresholds,
    /// The reference model's id (`name:version`); default: the group's model with metadata
    /// `benchmarkReference: true`, else the first by id.
    pub reference: Option<String>,
    /// Who ran it (stored as `runBy`).
    pub run_by: Option<String>,
    /// Free text (stored as `notes`).
    pub notes: Option<String>,
    /// Whether to store the result (default true).
    pub persist: bool,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            warmup: 5,
            iterations: 50,
            batch_sizes: vec![1],
            concurrency: vec![1],
            inputs: None,
            thresholds: AgreementThresholds::default(),
            reference: None,
            run_by: None,
            notes: None,
            persist: true,
        }
    }
}

impl BenchOptions {
    /// Options from a JSON object with camelCase keys, as the bindings take them: `warmup`,
    /// `iterations`, `batchSizes`, `concurrency`, `inputs` (as [`BenchInputs::from_json`]),
    /// `minCosine`, `maxAbsDiff`, `minLabelAgreement`, `reference`, `runBy`, `notes`,
    /// `persist`; absent keys keep their defaults. The result is validated.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an unknown key, a value of the wrong type, or options
    /// [`BenchOptions::validate`] refuses.
    ///
    /// # Examples
    ///
    /// ```
    /// use harper_edge_core::bench::BenchOptions;
    ///
    /// let o = BenchOptions::from_json(&serde_json::json!({"batchSizes": [1, 32], "iterations": 20}))?;
    /// assert_eq!((o.batch_sizes, o.iterations, o.warmup), (vec![1, 32], 20, 5));
    /// assert!(BenchOptions::from_json(&serde_json::json!({"batch": [1]})).is_err());
    /// # Ok::<(), harper_edge_core::Error>(())
    /// ```
    pub fn from_json(value: &Value) -> Result<BenchOptions> {
        let mut o = BenchOptions::default();
        let Value::Object(map) = value else {
            return Err(Error::invalid_input("benchmark options must be an object"));
        };
        let wrong = |key: &str, what: &str| {
            Error::invalid_input(format!("benchmark option '{key}' must be {what}"))
        };
        let count = |key: &str, v: &Value| {
            v.as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| wrong(key, "a non-negative integer"))
        };
        let counts = |key: &str, v: &Value| -> Result<Vec<usize>> {
            v.as_array()
                .ok_or_else(|| wrong(key, "an array of positive integers"))?
                .iter()
                .map(|x| count(key, x))
                .collect()
        };
        let number = |key: &str, v: &Value| v.as_f64().ok_or_else(|| wrong(key, "a number"));
        let text = |key: &str, v: &Value| match v {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s.clone())),
            _ => Err(wrong(key, "a string")),
        };
        for (key, v) in map {
            match key.as_str() {
                "warmup" => o.warmup = count(key, v)?,
                "iterations" => o.iterations = count(key, v)?,
                "batchSizes" => o.batch_sizes = counts(key, v)?,
                "concurrency" => o.concurrency = counts(key, v)?,
                "inputs" if v.is_null() => o.inputs = None,
                "inputs" => o.inputs = Some(BenchInputs::from_json(v)?),
                "minCosine" => o.thresholds.min_cosine = number(key, v)?,
                "maxAbsDiff" => o.thresholds.max_abs_diff = number(key, v)?,
                "minLabelAgreement" => o.thresholds.min_label_agreement = number(key, v)?,
                "reference" => o.reference = text(key, v)?,
                "runBy" => o.run_by = text(key, v)?,
                "notes" => o.notes = text(key, v)?,
                "persist" => o.persist = v.as_bool().ok_or_else(|| wrong(key, "a boolean"))?,
                other => {
                    return Err(Error::invalid_input(format!(
                        "unknown benchmark option '{other}' (known: warmup, iterations, \
                         batchSizes, concurrency, inputs, minCosine, maxAbsDiff, \
                         minLabelAgreement, reference, runBy, notes, persist)"
                    )));
                }
            }
        }
        o.validate()?;
        Ok(o)
    }

    /// Checks the options.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for no iterations, no or zero batch sizes or concurrency
    /// levels, more than [`MAX_CONCURRENCY`] threads, empty inputs or thresholds out of range.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::invalid_input(m));
        if self.iterations == 0 {
            return bad("a benchmark needs at least one iteration".into());
        }
        if self.batch_sizes.is_empty() || self.batch_sizes.contains(&0) {
            return bad(format!(
                "batch sizes must be one or more positive numbers, got {:?}",
                self.batch_sizes
            ));
        }
        if self.concurrency.is_empty()
            || self.concurrency.iter().any(|&c| c == 0 || c > MAX_CONCURRENCY)
        {
            return bad(format!(
                "concurrency levels must be one or more numbers in 1..={MAX_CONCURRENCY}, got {:?}",
                self.concurrency
            ));
        }
        if self.inputs.as_ref().is_some_and(BenchInputs::is_empty) {
            return bad("benchmark inputs are empty".into());
        }
        let t = &self.thresholds;
        if !(-1.0..=1.0).contains(&t.min_cosine)
            || !(0.0..=1.0).contains(&t.min_label_agreement)
            || t.max_abs_diff.is_nan()
            || t.max_abs_diff < 0.0
        {
            return bad(format!(
                "agreement thresholds out of range: minCosine {} (−1..1), minLabelAgreement {} \
                 (0..1), maxAbsDiff {} (≥ 0)",
                t.min_cosine, t.min_label_agreement, t.max_abs_diff
            ));
        }
        Ok(())
    }
}

/// An equivalence group of registered models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BenchGroup {
    /// The models' `taskType`.
    pub task_type: String,
    /// The models' `equivalenceGroup`.
    pub equivalence_group: String,
    /// Its models (`name:version`), by id.
    pub model_ids: Vec<String>,
    /// The `outputDimensions` its models declare (when they agree).
    pub output_dimensions: Option<Value>,
    /// Why it cannot be benchmarked (fewer than two models, different output dimensions).
    pub problem: Option<String>,
}

/// The equivalence groups of `models`, by task type then group name.
pub fn groups(models: &[Model]) -> Vec<BenchGroup> {
    let mut by_key: BTreeMap<(String, String), Vec<&Model>> = BTreeMap::new();
    for m in models {
        let field = |k: &str| m.metadata.get(k).and_then(Value::as_str).map(str::to_string);
        if let (Some(task), Some(group)) = (field("taskType"), field("equivalenceGroup")) {
            by_key.entry((task, group)).or_default().push(m);
        }
    }
    by_key
        .into_iter()
        .map(|((task_type, equivalence_group), mut members)| {
            members.sort_by(|a, b| a.id.cmp(&b.id));
            let declared: Vec<(&str, &Value)> = members
                .iter()
                .filter_map(|m| m.metadata.get("outputDimensions").map(|d| (m.id.as_str(), d)))
                .collect();
            let mut problem = None;
            if let Some((first_id, first)) = declared.first()
                && let Some((id, other)) = declared.iter().find(|(_, d)| d != first)
            {
                problem = Some(format!(
                    "dimension mismatch: '{first_id}' declares outputDimensions {first}, '{id}' \
                     {other}"
                ));
            }
            if members.len() < 2 {
                problem = Some(format!(
                    "an equivalence group needs at least two models, '{equivalence_group}' has {}",
                    members.len()
                ));
            }
            BenchGroup {
                output_dimensions: if problem.is_none() {
                    declared.first().map(|(_, d)| (*d).clone())
                } else {
                    None
                },
                task_type,
                equivalence_group,
                model_ids: members.iter().map(|m| m.id.clone()).collect(),
                problem,
            }
        })
        .collect()
}

/// What a benchmark is doing, for progress displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchPhase {
    /// Loading the model.
    Load,
    /// Running it on the agreement inputs.
    Agreement,
    /// Unmeasured calls of a cell.
    WarmUp {
        /// The cell's batch size.
        batch: usize,
        /// Its concurrency.
        concurrency: usize,
    },
    /// Measured calls of a cell.
    Measure {
        /// The cell's batch size.
        batch: usize,
        /// Its concurrency.
        concurrency: usize,
    },
    /// The model is done.
    Done,
}

/// A progress report: which model, what it is doing, and the calls done of all planned.
#[derive(Debug, Clone, Copy)]
pub struct BenchProgress<'a> {
    /// The model (`name:version`).
    pub model: &'a str,
    /// What it is doing.
    pub phase: BenchPhase,
    /// Calls done so far (all models; a model that fails to load counts as done).
    pub done: u64,
    /// Calls planned (all models, warm-up and agreement runs included).
    pub total: u64,
}

impl BenchProgress<'_> {
    /// The report as the bindings pass it on: `{model, phase, batchSize, concurrency, done,
    /// total}` with `phase` one of `load`, `agreement`, `warmup`, `measure`, `done` (batch size
    /// and concurrency `null` outside a cell).
    ///
    /// # Examples
    ///
    /// ```
    /// use harper_edge_core::bench::{BenchPhase, BenchProgress};
    ///
    /// let p = BenchProgress { model: "m:1", phase: BenchPhase::WarmUp { batch: 32, concurrency: 2 }, done: 3, total: 9 };
    /// assert_eq!(p.to_json()["phase"], "warmup");
    /// assert_eq!(p.to_json()["batchSize"], 32);
    /// ```
    pub fn to_json(&self) -> Value {
        let (phase, cell) = match self.phase {
            BenchPhase::Load => ("load", None),
            BenchPhase::Agreement => ("agreement", None),
            BenchPhase::WarmUp { batch, concurrency } => ("warmup", Some((batch, concurrency))),
            BenchPhase::Measure { batch, concurrency } => ("measure", Some((batch, concurrency))),
            BenchPhase::Done => ("done", None),
        };
        serde_json::json!({
            "model": self.model,
            "phase": phase,
            "batchSize": cell.map(|c| c.0),
            "concurrency": cell.map(|c| c.1),
            "done": self.done,
            "total": self.total,
        })
    }
}

/// One batch size × concurrency of one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CellResult {
    /// Rows or texts per call.
    pub batch_size: usize,
    /// Threads calling at once.
    pub concurrency: usize,
    /// Measured calls.
    pub calls: usize,
    /// Of which failed.
    pub errors: usize,
    /// Wall time of the measured calls, milliseconds.
    pub wall_ms: f64,
    /// Items (rows or texts) answered per second of wall time.
    pub throughput_per_sec: f64,
    /// Latency of the successful calls (`None` when all failed).
    pub latency: Option<LatencyStats>,
}

/// How one model did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelBench {
    /// The model (`name:version`).
    pub model_id: String,
    /// Its framework.
    pub framework: String,
    /// The backend that ran it (`None` when it did not load).
    pub backend: Option<String>,
    /// Whether it is the group's reference.
    pub is_reference: bool,
    /// Load time (read, verify, load, backend checks), milliseconds.
    pub load_ms: Option<f64>,
    /// Peak resident memory added by loading and running it, bytes (Linux; `None` elsewhere).
    pub peak_rss_bytes: Option<u64>,
    /// Latency in the first cell (the original design's per-model avg/p50/p95/p99/min/max).
    pub latency: Option<LatencyStats>,
    /// Failed calls (all cells, and the agreement run; every planned call when it did not
    /// load).
    pub error_count: usize,
    /// `error_count` over calls made (or planned, when it did not load).
    pub error_rate: f64,
    /// The distinct error messages (at most 5).
    pub errors: Vec<String>,
    /// How its answers compare with the reference's (`None` for the reference itself, or when
    /// it gave none).
    pub agreement: Option<Agreement>,
    /// Whether it agrees with the reference (the reference agrees when it answered).
    pub agrees: bool,
    /// Every batch size × concurrency.
    pub cells: Vec<CellResult>,
}

/// A benchmark run: the original design's `BenchmarkResult` table, camelCase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BenchmarkResult {
    /// Primary key (`bench-<uuid>`).
    pub id: String,
    /// The group's task type.
    pub task_type: String,
    /// The group.
    pub equivalence_group: String,
    /// Its models, reference first.
    pub model_ids: Vec<String>,
    /// The model the others are compared with.
    pub reference_model: String,
    /// Per model, in `model_ids` order.
    pub results: Vec<ModelBench>,
    /// The winner's id, if a model qualified.
    pub winner: Option<String>,
    /// The rule the winner was chosen by.
    pub winner_rule: String,
    /// What the inputs were (`kind`, `source`, `count`, …).
    pub test_data_summary: Value,
    /// Measured calls per cell.
    pub iterations: usize,
    /// Warm-up calls per cell.
    pub warmup: usize,
    /// The batch sizes.
    pub batch_sizes: Vec<usize>,
    /// The concurrency levels.
    pub concurrency: Vec<usize>,
    /// The agreement thresholds.
    pub thresholds: AgreementThresholds,
    /// Who ran it.
    pub run_by: Option<String>,
    /// Notes.
    pub notes: Option<String>,
    /// When it started.
    pub timestamp: Timestamp,
    /// When it ended.
    pub completed_at: Timestamp,
}

/// Which benchmark results to list; newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BenchQuery {
    /// Only this equivalence group.
    pub equivalence_group: Option<String>,
    /// Only runs started at or after this time.
    pub from: Option<Timestamp>,
    /// Only runs started before this time.
    pub to: Option<Timestamp>,
    /// At most this many (default 100).
    pub limit: Option<usize>,
}

impl BenchQuery {
    /// A query from a JSON object, as the Node binding takes it: `group`, `from` and `to`
    /// (epoch milliseconds), `limit`; `null` is the default query.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for an unknown key or a value of the wrong type.
    ///
    /// # Examples
    ///
    /// ```
    /// use harper_edge_core::bench::BenchQuery;
    ///
    /// let q = BenchQuery::from_json(&serde_json::json!({"group": "iris", "limit": 5}))?;
    /// assert_eq!((q.equivalence_group.as_deref(), q.limit), (Some("iris"), Some(5)));
    /// assert!(BenchQuery::from_json(&serde_json::json!({"limt": 5})).is_err());
    /// # Ok::<(), harper_edge_core::Error>(())
    /// ```
    pub fn from_json(value: &Value) -> Result<BenchQuery> {
        let map = match value {
            Value::Null => return Ok(BenchQuery::default()),
            Value::Object(map) => map,
            _ => return Err(Error::invalid_input("query must be an object")),
        };
        let wrong =
            |key: &str, what: &str| Error::invalid_input(format!("query.{key} must be {what}"));
        let millis = |key: &str, v: &Value| {
            v.as_i64()
                .or_else(|| {
                    #[allow(clippy::cast_possible_truncation)]
                    v.as_f64().filter(|x| x.is_finite() && x.fract() == 0.0).map(|x| x as i64)
                })
                .map(Timestamp::from_millis)
                .ok_or_else(|| wrong(key, "epoch milliseconds"))
        };
        let mut q = BenchQuery::default();
        for (key, v) in map {
            match key.as_str() {
                "group" => {
                    q.equivalence_group =
                        Some(v.as_str().ok_or_else(|| wrong(key, "a string"))?.to_string());
                }
                "from" => q.from = Some(millis(key, v)?),
                "to" => q.to = Some(millis(key, v)?),
                "limit" => {
                    q.limit = Some(
                        v.as_u64()
                            .and_then(|n| usize::try_from(n).ok())
                            .ok_or_else(|| wrong(key, "a non-negative integer"))?,
                    );
                }
                other => {
                    return Err(Error::invalid_input(format!(
                        "unknown query key '{other}' (known: group, from, to, limit)"
                    )));
                }
            }
        }
        Ok(q)
    }
}

impl BenchmarkResult {
    fn to_record(&self) -> Result<MonitorRecord> {
        Ok(MonitorRecord {
            table: Table::BenchmarkResult,
            id: self.id.clone(),
            model_name: None,
            model_version: None,
            timestamp: self.timestamp,
            // The field history queries filter on.
            status: Some(self.equivalence_group.clone()),
            record: serde_json::to_value(self)?,
        })
    }

    fn from_record(r: &MonitorRecord) -> Result<Self> {
        serde_json::from_value(r.record.clone())
            .map_err(|e| Error::storage(format!("corrupt BenchmarkResult '{}'", r.id), e))
    }

    /// The result of `model_id`.
    pub fn model(&self, model_id: &str) -> Option<&ModelBench> {
        self.results.iter().find(|r| r.model_id == model_id)
    }

    /// The result as Markdown: a summary line, one row per model (first cell, load, memory,
    /// agreement) and one row per model and cell.
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(
            md,
            "### Benchmark `{}` ({}), {}\n",
            self.equivalence_group, self.task_type, self.timestamp
        );
        let (b0, c0) = (self.batch_sizes[0], self.concurrency[0]);
        let _ = writeln!(
            md,
            "Inputs: {}. {} warm-up + {} measured calls per cell. Reference: `{}`. Winner: {}.\n",
            summary_text(&self.test_data_summary),
            self.warmup,
            self.iterations,
            self.reference_model,
            self.winner.as_deref().map_or_else(|| "none".to_string(), |w| format!("**`{w}`**"))
        );
        let _ = writeln!(
            md,
            "| model | backend | load ms | peak RSS MB | p50 µs | p95 µs | p99 µs | mean µs | \
             items/s | errors | agreement |\n|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|"
        );
        for r in &self.results {
            let l = r.latency;
            let first = r.cells.iter().find(|c| c.batch_size == b0 && c.concurrency == c0);
            let mark =
                if self.winner.as_deref() == Some(r.model_id.as_str()) { " 🏆" } else { "" };
            let _ = writeln!(
                md,
                "| `{}`{mark} | {} | {} | {} | {} | {} | {} | {} | {} | {} ({:.1} %) | {} |",
                r.model_id,
                r.backend.as_deref().unwrap_or("—"),
                opt(r.load_ms, 1),
                opt(r.peak_rss_bytes.map(|b| b as f64 / 1_048_576.0), 1),
                opt(l.map(|l| l.p50_us), 0),
                opt(l.map(|l| l.p95_us), 0),
                opt(l.map(|l| l.p99_us), 0),
                opt(l.map(|l| l.mean_us), 0),
                first.map_or_else(|| "—".into(), |c| rate(c.throughput_per_sec)),
                r.error_count,
                r.error_rate * 100.0,
                agreement_text(r),
            );
        }
        let _ = writeln!(md, "\nThe winner: the {}.\n", self.winner_rule);
        if self.results.iter().any(|r| r.cells.len() > 1) {
            let _ = writeln!(
                md,
                "| model | batch | concurrency | calls | errors | p50 µs | p95 µs | p99 µs | \
                 items/s |\n|---|--:|--:|--:|--:|--:|--:|--:|--:|"
            );
            for r in &self.results {
                for c in &r.cells {
                    let l = c.latency;
                    let _ = writeln!(
                        md,
                        "| `{}` | {} | {} | {} | {} | {} | {} | {} | {} |",
                        r.model_id,
                        c.batch_size,
                        c.concurrency,
                        c.calls,
                        c.errors,
                        opt(l.map(|l| l.p50_us), 0),
                        opt(l.map(|l| l.p95_us), 0),
                        opt(l.map(|l| l.p99_us), 0),
                        rate(c.throughput_per_sec)
                    );
                }
            }
        }
        let failing: Vec<&ModelBench> =
            self.results.iter().filter(|r| !r.errors.is_empty()).collect();
        if !failing.is_empty() {
            let _ = writeln!(md, "\nErrors:\n");
            for r in failing {
                for e in &r.errors {
                    let _ = writeln!(md, "- `{}`: {}", r.model_id, e.replace('\n', " "));
                }
            }
        }
        md
    }
}

/// Items per second: whole numbers from 100 up, one decimal below.
fn rate(x: f64) -> String {
    if x >= 100.0 { format!("{x:.0}") } else { format!("{x:.1}") }
}

fn opt(x: Option<f64>, decimals: usize) -> String {
    x.map_or_else(|| "—".into(), |v| format!("{v:.decimals$}"))
}

fn summary_text(summary: &Value) -> String {
    let field = |k: &str| summary.get(k).map_or_else(String::new, ToString::to_string);
    format!(
        "{} {} ({})",
        field("count"),
        field("kind").trim_matches('"'),
        field("source").trim_matches('"')
    )
}

fn agreement_text(r: &ModelBench) -> String {
    if r.is_reference {
        return if r.agrees { "reference".into() } else { "reference (no answer)".into() };
    }
    let Some(a) = &r.agreement else { return "— (no answer)".into() };
    let tick = if a.passed { "✓" } else { "✗" };
    match a.metric {
        AgreementMetric::Cosine => {
            format!("min cos {:.6} {tick}", a.min_cosine.unwrap_or(f64::NAN))
        }
        AgreementMetric::Labels => {
            format!("labels {:.1} % {tick}", a.label_agreement.unwrap_or(0.0) * 100.0)
        }
        AgreementMetric::MaxAbsDiff => {
            format!("max |Δ| {:.2e} {tick}", a.max_abs_diff.unwrap_or(f64::NAN))
        }
    }
}

/// The call inputs of one cell, built before timing.
enum Batch {
    Texts(Vec<String>),
    Tensor(Inputs<'static>),
}

impl Batch {
    fn call(&self, session: &UnrecordedSession) -> Result<BenchOutput> {
        match self {
            Batch::Texts(texts) => {
                let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                let (dim, data) = session.embed(&refs)?;
                Ok(BenchOutput::Vectors { dim, data })
            }
            Batch::Tensor(inputs) => session.run(inputs).map(BenchOutput::Tensors),
        }
    }
}

/// Items `start..start + size` of `inputs`, wrapping around, as one call's input.
fn batch(inputs: &BenchInputs, start: usize, size: usize) -> Result<Batch> {
    match inputs {
        BenchInputs::Texts(t) => {
            Ok(Batch::Texts((0..size).map(|i| t[(start + i) % t.len()].clone()).collect()))
        }
        BenchInputs::Rows(r) => {
            let width = r[0].len();
            let mut data = Vec::with_capacity(size * width);
            for i in 0..size {
                data.extend_from_slice(&r[(start + i) % r.len()]);
            }
            let tensor = Tensor::new(vec![size, width], crate::TensorData::F32(data.into()))?;
            Ok(Batch::Tensor(Inputs::single(tensor)))
        }
    }
}

/// Whether `session` can take `inputs`, and why not.
fn fits(session: &UnrecordedSession, inputs: &BenchInputs) -> std::result::Result<(), String> {
    match inputs {
        BenchInputs::Texts(_) if session.is_text_model() => Ok(()),
        BenchInputs::Texts(_) => Err(format!(
            "model '{}' does not take text: give rows of numbers as inputs",
            session.model().id
        )),
        BenchInputs::Rows(rows) => match session.inputs() {
            [info] if info.dtype == DType::F32 => match info.shape.as_slice() {
                [_, Some(w)] if *w == rows[0].len() => Ok(()),
                [_, None] => Ok(()),
                shape => Err(format!(
                    "dimension mismatch: model '{}' takes {shape:?} rows, the inputs have {} numbers",
                    session.model().id,
                    rows[0].len()
                )),
            },
            declared => Err(format!(
                "model '{}' takes {} input(s) ({}): benchmarks feed one float input [batch, width] \
                 or texts",
                session.model().id,
                declared.len(),
                declared
                    .iter()
                    .map(|i| format!("{} {:?}", i.name, i.dtype))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        },
    }
}

/// Synthetic inputs for the reference model `session`.
fn synthetic(session: &UnrecordedSession) -> Result<BenchInputs> {
    if session.is_text_model() {
        return Ok(BenchInputs::synthetic_texts(SYNTHETIC_INPUTS, SYNTHETIC_SEED));
    }
    match session.inputs() {
        [info] if info.dtype == DType::F32 => match info.shape.as_slice() {
            [_, Some(w)] => Ok(BenchInputs::synthetic_rows(SYNTHETIC_INPUTS, *w, SYNTHETIC_SEED)),
            shape => Err(Error::invalid_input(format!(
                "cannot make synthetic inputs for model '{}' (input shape {shape:?}): give inputs",
                session.model().id
            ))),
        },
        declared => Err(Error::invalid_input(format!(
            "cannot make synthetic inputs for model '{}' ({} inputs): give inputs",
            session.model().id,
            declared.len()
        ))),
    }
}

/// Collects a model's distinct error messages (at most 5).
#[derive(Default)]
struct Errors {
    count: usize,
    messages: Vec<String>,
}

impl Errors {
    fn add(&mut self, message: String) {
        self.count += 1;
        if self.messages.len() < 5 && !self.messages.contains(&message) {
            self.messages.push(message);
        }
    }
}

/// Runs `calls` calls of `batches` (cycled) on `threads` threads; the latencies (µs) of the
/// successful ones, the error messages of the others, and the wall time in seconds. `tick`
/// gets the running count of calls done, from the calling thread, every 50 ms.
fn run_calls(
    session: &UnrecordedSession,
    batches: &[Batch],
    calls: usize,
    threads: usize,
    done: &AtomicUsize,
    tick: &mut dyn FnMut(usize),
) -> (Vec<f64>, Vec<String>, f64) {
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    let per_thread: Vec<(Vec<f64>, Vec<String>, Instant)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.min(calls))
            .map(|_| {
                scope.spawn(|| {
                    let (mut lat, mut errs) = (Vec::new(), Vec::new());
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= calls {
                            break;
                        }
                        let t = Instant::now();
                        let result = batches[i % batches.len()].call(session);
                        let us = t.elapsed().as_secs_f64() * 1e6;
                        match result {
                            Ok(_) => lat.push(us),
                            Err(e) => errs.push(e.full_message()),
                        }
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    (lat, errs, Instant::now())
                })
            })
            .collect();
        // Progress from this thread; the wall time is the workers' own (the polling does not
        // count).
        let mut last_tick = Instant::now();
        while !workers.iter().all(std::thread::ScopedJoinHandle::is_finished) {
            std::thread::sleep(std::time::Duration::from_millis(2));
            if last_tick.elapsed() >= std::time::Duration::from_millis(50) {
                tick(done.load(Ordering::Relaxed));
                last_tick = Instant::now();
            }
        }
        workers
            .into_iter()
            .map(|w| {
                w.join().unwrap_or_else(|_| {
                    (Vec::new(), vec!["a benchmark thread panicked".into()], Instant::now())
                })
            })
            .collect()
    });
    let end = per_thread.iter().map(|(_, _, end)| *end).max().unwrap_or(start);
    let wall = end.duration_since(start).as_secs_f64();
    let mut lat = Vec::with_capacity(calls);
    let mut errs = Vec::new();
    for (l, e, _) in per_thread {
        lat.extend(l);
        errs.extend(e);
    }
    (lat, errs, wall)
}

impl Engine {
    /// The equivalence groups of the registered models ([`groups`]).
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when the store fails.
    pub fn benchmark_groups(&self) -> Result<Vec<BenchGroup>> {
        Ok(groups(&self.models()?))
    }

    /// Benchmarks the equivalence group `group` (its `equivalenceGroup`, or
    /// `taskType/equivalenceGroup` when two task types share the name); see the
    /// [module docs](self).
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown group; [`Error::InvalidInput`] for bad options, a
    /// group that cannot be benchmarked (one model, different declared output dimensions), an
    /// unknown reference, inputs the reference cannot take or a reference that fails;
    /// [`Error::Storage`] when the result cannot be stored. A model other than the reference
    /// that fails to load or run does not fail the benchmark: its errors are in its result.
    pub fn benchmark(&self, group: &str, options: &BenchOptions) -> Result<BenchmarkResult> {
        self.benchmark_with_progress(group, options, &mut |_| {})
    }

    /// [`Engine::benchmark`], reporting progress to `progress` (from the calling thread: at
    /// every phase change and every 50 ms while calls run).
    ///
    /// # Errors
    ///
    /// As [`Engine::benchmark`].
    #[allow(clippy::too_many_lines)]
    pub fn benchmark_with_progress(
        &self,
        group: &str,
        options: &BenchOptions,
        progress: &mut dyn FnMut(&BenchProgress<'_>),
    ) -> Result<BenchmarkResult> {
        options.validate()?;
        let registered = self.models()?;
        let all = groups(&registered);
        let found: Vec<&BenchGroup> = all
            .iter()
            .filter(|g| {
                g.equivalence_group == group
                    || format!("{}/{}", g.task_type, g.equivalence_group) == group
            })
            .collect();
        let g = match found.as_slice() {
            [one] => *one,
            [] => {
                return Err(Error::NotFound {
                    entity: "equivalence group",
                    id: format!(
                        "{group} (groups: {})",
                        if all.is_empty() {
                            "none; give models metadata taskType and equivalenceGroup".into()
                        } else {
                            all.iter()
                                .map(|g| g.equivalence_group.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        }
                    ),
                });
            }
            many => {
                return Err(Error::invalid_input(format!(
                    "equivalence group '{group}' exists for several task types ({}): name it as \
                     taskType/group",
                    many.iter().map(|g| g.task_type.as_str()).collect::<Vec<_>>().join(", ")
                )));
            }
        };
        if let Some(problem) = &g.problem {
            return Err(Error::invalid_input(format!("cannot benchmark '{group}': {problem}")));
        }
        let mut order: Vec<&Model> =
            registered.iter().filter(|m| g.model_ids.contains(&m.id)).collect();
        let reference = match &options.reference {
            Some(r) if g.model_ids.contains(r) => r.clone(),
            Some(r) => {
                return Err(Error::invalid_input(format!(
                    "reference '{r}' is not in group '{group}' ({})",
                    g.model_ids.join(", ")
                )));
            }
            None => order
                .iter()
                .find(|m| {
                    m.metadata.get("benchmarkReference").and_then(Value::as_bool) == Some(true)
                })
                .map_or_else(|| g.model_ids[0].clone(), |m| m.id.clone()),
        };
        order.sort_by_key(|m| (m.id != reference, m.id.clone()));

        let cells: Vec<(usize, usize)> = options
            .batch_sizes
            .iter()
            .flat_map(|&b| options.concurrency.iter().map(move |&c| (b, c)))
            .collect();
        let per_model = 1 + cells.len() * (options.warmup + options.iterations);
        let total = (per_model * order.len()) as u64;
        let done = AtomicUsize::new(0);
        let started = self.clock().now();
        let mut inputs = options.inputs.clone();
        let source = if inputs.is_some() { "given" } else { "synthetic" };
        let mut results = Vec::with_capacity(order.len());
        let mut reference_output: Option<BenchOutput> = None;

        for (ix, model) in order.iter().enumerate() {
            let id = model.id.as_str();
            let is_reference = ix == 0;
            let base = ix * per_model;
            let mut report = |phase: BenchPhase, done_now: usize| {
                progress(&BenchProgress { model: id, phase, done: done_now as u64, total });
            };
            report(BenchPhase::Load, base);
            let mut errors = Errors::default();
            let mut bench = ModelBench {
                model_id: model.id.clone(),
                framework: model.framework.to_string(),
                backend: None,
                is_reference,
                load_ms: None,
                peak_rss_bytes: None,
                latency: None,
                error_count: 0,
                error_rate: 0.0,
                errors: Vec::new(),
                agreement: None,
                agrees: false,
                cells: Vec::new(),
            };
            let peak = memory::PeakRss::start();
            let t = Instant::now();
            let loaded = ModelRef::new(&model.model_name, Some(&model.model_version))
                .and_then(|r| self.unrecorded_session(&r));
            let session = match loaded {
                Ok(s) => s,
                Err(e) if is_reference => {
                    return Err(Error::invalid_input(format!(
                        "the reference model '{id}' did not load: {}",
                        e.full_message()
                    )));
                }
                Err(e) => {
                    bench.error_count = per_model;
                    bench.error_rate = 1.0;
                    bench.errors = vec![format!("load: {}", e.full_message())];
                    done.store(base + per_model, Ordering::Relaxed);
                    report(BenchPhase::Done, base + per_model);
                    results.push(bench);
                    continue;
                }
            };
            bench.load_ms = Some(t.elapsed().as_secs_f64() * 1e3);
            bench.backend = Some(session.backend().to_string());
            if inputs.is_none() {
                inputs = Some(synthetic(&session)?);
            }
            let data = inputs.as_ref().ok_or_else(|| Error::invalid_input("no inputs"))?;

            // The agreement run (also the dimension check: answers of another shape are refused).
            report(BenchPhase::Agreement, base);
            let fit = fits(&session, data);
            let answer = fit
                .clone()
                .map_err(Error::invalid_input)
                .and_then(|()| batch(data, 0, data.len().min(AGREEMENT_INPUTS)))
                .and_then(|b| b.call(&session));
            done.store(base + 1, Ordering::Relaxed);
            match (answer, is_reference) {
                (Err(e), true) => {
                    return Err(Error::invalid_input(format!(
                        "the reference model '{id}' failed on the benchmark inputs: {}",
                        e.full_message()
                    )));
                }
                (Err(e), false) => errors.add(format!("agreement run: {}", e.full_message())),
                (Ok(out), true) => {
                    bench.agrees = true;
                    reference_output = Some(out);
                }
                (Ok(out), false) => {
                    match reference_output.as_ref().map(|r| compare(r, &out, &options.thresholds)) {
                        Some(Ok(a)) => {
                            bench.agrees = a.passed;
                            bench.agreement = Some(a);
                        }
                        Some(Err(e)) => errors.add(e.full_message()),
                        None => {}
                    }
                }
            }

            let mut calls_made = 1;
            if fit.is_ok() && (is_reference || bench.agreement.is_some()) {
                for &(b, c) in &cells {
                    let batches: Vec<Batch> = (0..8usize.min(data.len().div_ceil(b)).max(1))
                        .map(|j| batch(data, j * b, b))
                        .collect::<Result<_>>()?;
                    let cell_base = done.load(Ordering::Relaxed);
                    report(BenchPhase::WarmUp { batch: b, concurrency: c }, cell_base);
                    let phase = BenchPhase::WarmUp { batch: b, concurrency: c };
                    let (_, warm_errs, _) =
                        run_calls(&session, &batches, options.warmup, c, &done, &mut |d| {
                            report(phase, d)
                        });
                    for e in warm_errs {
                        errors.add(e);
                    }
                    let phase = BenchPhase::Measure { batch: b, concurrency: c };
                    report(phase, done.load(Ordering::Relaxed));
                    let (lat, errs, wall) =
                        run_calls(&session, &batches, options.iterations, c, &done, &mut |d| {
                            report(phase, d)
                        });
                    calls_made += options.warmup + options.iterations;
                    let cell_errors = errs.len();
                    for e in errs {
                        errors.add(e);
                    }
                    #[allow(clippy::cast_precision_loss)]
                    let throughput = if wall > 0.0 { (lat.len() * b) as f64 / wall } else { 0.0 };
                    bench.cells.push(CellResult {
                        batch_size: b,
                        concurrency: c,
                        calls: options.iterations,
                        errors: cell_errors,
                        wall_ms: wall * 1e3,
                        throughput_per_sec: throughput,
                        latency: LatencyStats::from_samples(&lat),
                    });
                }
            }
            bench.peak_rss_bytes = peak.finish();
            drop(session);
            bench.latency = bench.cells.first().and_then(|c| c.latency);
            bench.error_count = errors.count;
            #[allow(clippy::cast_precision_loss)]
            {
                bench.error_rate = errors.count as f64 / calls_made as f64;
            }
            bench.errors = errors.messages;
            done.store(base + per_model, Ordering::Relaxed);
            report(BenchPhase::Done, base + per_model);
            results.push(bench);
        }

        let (b0, c0) = cells[0];
        let winner_rule = format!(
            "lowest p50 latency at batch {b0}, concurrency {c0} (ties: lower mean) among models \
             with no errors that agree with the reference (min cosine {}, label agreement {}, max \
             abs difference {})",
            options.thresholds.min_cosine,
            options.thresholds.min_label_agreement,
            options.thresholds.max_abs_diff
        );
        let winner = results
            .iter()
            .filter(|r| r.agrees && r.error_count == 0)
            .filter_map(|r| r.latency.map(|l| (r, l)))
            .min_by(|(_, a), (_, b)| {
                a.p50_us.total_cmp(&b.p50_us).then(a.mean_us.total_cmp(&b.mean_us))
            })
            .map(|(r, _)| r.model_id.clone());
        let summary = inputs.as_ref().map_or(Value::Null, |i| i.summary(source));
        let result = BenchmarkResult {
            id: format!("bench-{}", uuid::Uuid::new_v4()),
            task_type: g.task_type.clone(),
            equivalence_group: g.equivalence_group.clone(),
            model_ids: results.iter().map(|r| r.model_id.clone()).collect(),
            reference_model: reference,
            results,
            winner,
            winner_rule,
            test_data_summary: summary,
            iterations: options.iterations,
            warmup: options.warmup,
            batch_sizes: options.batch_sizes.clone(),
            concurrency: options.concurrency.clone(),
            thresholds: options.thresholds,
            run_by: options.run_by.clone(),
            notes: options.notes.clone(),
            timestamp: started,
            completed_at: self.clock().now(),
        };
        if options.persist {
            self.store().put_records(&[result.to_record()?], &[])?;
        }
        Ok(result)
    }

    /// Stored benchmark results matching `query`, newest first.
    ///
    /// # Errors
    ///
    /// [`Error::Storage`] when the store fails or a record is corrupt.
    pub fn benchmark_history(&self, query: &BenchQuery) -> Result<Vec<BenchmarkResult>> {
        let records = self.store().records(
            Table::BenchmarkResult,
            &RecordQuery {
                status: query.equivalence_group.clone(),
                from: query.from,
                to: query.to,
                limit: Some(query.limit.unwrap_or(100)),
                ..RecordQuery::default()
            },
        )?;
        records.iter().map(BenchmarkResult::from_record).collect()
    }

    /// The stored benchmark result `id`.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown id; [`Error::Storage`] when the store fails.
    pub fn benchmark_result(&self, id: &str) -> Result<BenchmarkResult> {
        let record = self
            .store()
            .record(Table::BenchmarkResult, id)?
            .ok_or_else(|| Error::not_found("benchmark result", id))?;
        BenchmarkResult::from_record(&record)
    }
}

//! Benchmarks of equivalence groups (`harper_edge_core::bench`): `benchmark` runs on the libuv
//! pool and resolves with the stored `BenchmarkResult`; groups, history and Markdown are sync.

use std::sync::Arc;

use harper_edge_core::bench::{BenchOptions, BenchProgress, BenchQuery, BenchmarkResult};
use napi::bindgen_prelude::{AsyncTask, Unknown};
use napi::threadsafe_function::ThreadsafeFunctionCallMode;
use napi_derive::napi;
use serde_json::Value;

use crate::convert::{self, decode};
use crate::engine::Engine;
use crate::error::{Result, sync};
use crate::tasks::{Job, work};
use crate::telemetry::record;

#[napi]
impl Engine {
    /// Benchmarks the equivalence group `group` (models registered with the same metadata
    /// `taskType` and `equivalenceGroup`) on the libuv pool: each model is loaded afresh
    /// (load time, peak memory), run once on the agreement inputs and compared with the
    /// reference model (cosine, labels or max abs difference), then timed at every batch size
    /// × concurrency (warm-up, then `iterations` calls; latency percentiles in µs,
    /// throughput). Resolves with the `BenchmarkResult` (stored unless `persist: false`),
    /// winner included. `onProgress` is called on the JS thread with `{ model, phase,
    /// batchSize, concurrency, done, total }` at each phase and about every 50 ms. Bad
    /// options, an unknown group or one that cannot be compared (one model, different
    /// `outputDimensions`) reject with `HARPER_EDGE_INVALID_INPUT` / `HARPER_EDGE_NOT_FOUND`
    /// before anything runs.
    #[napi(
        ts_args_type = "group: string, options?: BenchmarkOptions, onProgress?: (progress: BenchmarkProgress) => void",
        ts_return_type = "Promise<BenchmarkResult>"
    )]
    pub fn benchmark(
        &self,
        group: Unknown<'_>,
        options: Unknown<'_>,
        on_progress: Unknown<'_>,
    ) -> AsyncTask<Job<Value>> {
        let engine = Arc::clone(&self.engine);
        let prepared = (|| {
            let group: String = decode(&group, "group", "a string")?;
            let options = if convert::is_nullish(&options) {
                BenchOptions::default()
            } else {
                let mut json = convert::json(&options, "options")?;
                convert::integral_numbers(&mut json);
                BenchOptions::from_json(&json)?
            };
            let progress = if convert::is_nullish(&on_progress) {
                None
            } else {
                Some(crate::fetch::threadsafe(&on_progress, "onProgress")?)
            };
            Ok(work(move || {
                let mut report = |p: &BenchProgress<'_>| {
                    if let Some(f) = &progress {
                        f.call(p.to_json(), ThreadsafeFunctionCallMode::NonBlocking);
                    }
                };
                record(engine.benchmark_with_progress(&group, &options, &mut report)?)
            }))
        })();
        AsyncTask::new(Job::new(prepared))
    }

    /// The equivalence groups of the registered models, each with its model ids and, when it
    /// cannot be benchmarked, the `problem`.
    #[napi(ts_return_type = "Array<BenchmarkGroup>")]
    pub fn benchmark_groups(&self) -> Result<Value> {
        sync(|| record(self.engine.benchmark_groups()?))
    }

    /// Stored benchmark results, newest first: of `query.group`, started in
    /// `[query.from, query.to)` (epoch milliseconds), at most `query.limit` (default 100).
    #[napi(ts_args_type = "query?: BenchmarkQuery", ts_return_type = "Array<BenchmarkResult>")]
    pub fn benchmark_history(&self, query: Unknown<'_>) -> Result<Value> {
        sync(|| {
            let query = if convert::is_nullish(&query) {
                BenchQuery::default()
            } else {
                let mut json = convert::json(&query, "query")?;
                convert::integral_numbers(&mut json);
                BenchQuery::from_json(&json)?
            };
            record(self.engine.benchmark_history(&query)?)
        })
    }

    /// The stored benchmark result `id`.
    #[napi(ts_args_type = "id: string", ts_return_type = "BenchmarkResult")]
    pub fn benchmark_result(&self, id: Unknown<'_>) -> Result<Value> {
        sync(|| {
            let id: String = decode(&id, "id", "a string")?;
            record(self.engine.benchmark_result(&id)?)
        })
    }
}

/// A benchmark result as Markdown tables (a row per model, a row per model and cell), as
/// `harper-edge bench` prints it.
#[napi(ts_args_type = "result: BenchmarkResult")]
pub fn benchmark_markdown(result: Unknown<'_>) -> Result<String> {
    sync(|| {
        let result: BenchmarkResult =
            convert::from_js(&result, "result", "a BenchmarkResult object")?;
        Ok(result.to_markdown())
    })
}

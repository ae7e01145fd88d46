//! Benchmarks of equivalence groups (`harper_edge_core::bench`): `Engine.benchmark` runs with
//! the GIL released and returns the stored `BenchmarkResult` as a dict (camelCase keys).

use harper_edge_core::bench::{BenchOptions, BenchProgress, BenchQuery, BenchmarkResult};
use pyo3::prelude::*;
use serde_json::json;

use crate::error::{Detach as _, to_py_err};
use crate::json;
use crate::telemetry;

/// The keyword arguments of `Engine.benchmark`.
pub(crate) struct BenchArgs<'a, 'py> {
    pub batch_sizes: Vec<usize>,
    pub concurrency: Vec<usize>,
    pub iterations: usize,
    pub warmup: usize,
    pub inputs: Option<&'a Bound<'py, PyAny>>,
    pub reference: Option<String>,
    pub min_cosine: f64,
    pub max_abs_diff: f64,
    pub min_label_agreement: f64,
    pub run_by: Option<String>,
    pub notes: Option<String>,
    pub persist: bool,
    pub progress: Option<&'a Bound<'py, PyAny>>,
}

pub(crate) fn benchmark<'py>(
    py: Python<'py>,
    engine: &harper_edge_core::Engine,
    group: &str,
    args: BenchArgs<'_, 'py>,
) -> PyResult<Bound<'py, PyAny>> {
    if let Some(p) = args.progress
        && !p.is_callable()
    {
        return Err(pyo3::exceptions::PyTypeError::new_err("progress must be callable"));
    }
    let options = json!({
        "batchSizes": args.batch_sizes,
        "concurrency": args.concurrency,
        "iterations": args.iterations,
        "warmup": args.warmup,
        // Texts or rows; numpy arrays through `.tolist()`.
        "inputs": args.inputs.map(json::from_py).transpose()?,
        "reference": args.reference,
        "minCosine": args.min_cosine,
        "maxAbsDiff": args.max_abs_diff,
        "minLabelAgreement": args.min_label_agreement,
        "runBy": args.run_by,
        "notes": args.notes,
        "persist": args.persist,
    });
    let options = BenchOptions::from_json(&options).map_err(|e| to_py_err(py, &e))?;
    let progress: Option<Py<PyAny>> = args.progress.map(|p| p.clone().unbind());
    let mut failure: Option<PyErr> = None;
    let result = py.run_core(|| {
        let mut on_progress = |p: &BenchProgress<'_>| {
            let Some(progress) = &progress else { return };
            if failure.is_some() {
                return;
            }
            let report = p.to_json();
            Python::attach(|py| {
                if let Err(e) = json::to_py(py, &report).and_then(|d| progress.bind(py).call1((d,)))
                {
                    failure = Some(e);
                }
            });
        };
        engine.benchmark_with_progress(group, &options, &mut on_progress)
    });
    if let Some(e) = failure {
        return Err(e);
    }
    json::record_to_py(py, serde_json::to_value(&result?))
}

pub(crate) fn history<'py>(
    py: Python<'py>,
    engine: &harper_edge_core::Engine,
    group: Option<String>,
    start: Option<&Bound<'py, PyAny>>,
    end: Option<&Bound<'py, PyAny>>,
    limit: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let query = BenchQuery {
        equivalence_group: group,
        from: start.map(|t| telemetry::timestamp_from_py(t, "start")).transpose()?,
        to: end.map(|t| telemetry::timestamp_from_py(t, "end")).transpose()?,
        limit,
    };
    let results = py.run_core(|| engine.benchmark_history(&query))?;
    json::record_to_py(py, serde_json::to_value(&results))
}

/// A benchmark result (the dict `Engine.benchmark` returns) as Markdown tables: a row per
/// model (first cell, load time, peak memory, agreement) and a row per model and cell, as
/// `harper-edge bench` prints it.
#[pyfunction]
pub(crate) fn benchmark_markdown(py: Python<'_>, result: &Bound<'_, PyAny>) -> PyResult<String> {
    let value = json::from_py(result)?;
    let result: BenchmarkResult = serde_json::from_value(value).map_err(|e| {
        to_py_err(
            py,
            &harper_edge_core::Error::invalid_input(format!("not a benchmark result: {e}")),
        )
    })?;
    Ok(result.to_markdown())
}

//! Streaming drift detectors: `harper_edge.Adwin` and `harper_edge.PageHinkley`, thin
//! wrappers of `harper_edge_core::drift::stream`.

use harper_edge_core::Error;
use harper_edge_core::drift::stream::{
    Adwin, AdwinConfig, Direction, PageHinkley, PageHinkleyConfig,
};
use pyo3::prelude::*;

use crate::columns;
use crate::error::Detach;

fn bad_state(e: serde_json::Error) -> Error {
    Error::invalid_input(format!("not a saved detector state: {e}"))
}

/// ADWIN (adaptive windowing): a window of recent values that is cut when its two ends
/// disagree in mean; a cut is a change.
#[pyclass(module = "harper_edge", name = "Adwin")]
#[derive(Debug)]
pub struct PyAdwin {
    inner: Adwin,
}

#[pymethods]
impl PyAdwin {
    #[new]
    #[pyo3(signature = (*, delta=0.002, max_buckets=5, clock=32, min_window_length=5, grace_period=10))]
    fn new(
        py: Python<'_>,
        delta: f64,
        max_buckets: usize,
        clock: u64,
        min_window_length: u64,
        grace_period: u64,
    ) -> PyResult<Self> {
        let config = AdwinConfig { delta, max_buckets, clock, min_window_length, grace_period };
        Ok(PyAdwin { inner: py.run_core(|| Adwin::new(config))? })
    }

    /// Reads one value; `True` when the window was cut.
    fn update(&mut self, py: Python<'_>, value: f64) -> PyResult<bool> {
        let inner = &mut self.inner;
        py.run_core(|| inner.update(value))
    }

    /// Reads a 1-D array of values (numpy float64 read in place, GIL released); returns the
    /// positions after which the window was cut. Checked first: nothing is read from a batch
    /// with a NaN or infinite value.
    fn update_many(&mut self, py: Python<'_>, values: &Bound<'_, PyAny>) -> PyResult<Vec<usize>> {
        let column = columns::float64(values, "values")?;
        let values = column.as_slice()?;
        let inner = &mut self.inner;
        py.run_core(|| inner.update_many(values))
    }

    /// Values in the window.
    #[getter]
    fn width(&self) -> u64 {
        self.inner.width()
    }

    /// Mean of the window.
    #[getter]
    fn mean(&self) -> f64 {
        self.inner.mean()
    }

    /// Variance of the window (population).
    #[getter]
    fn variance(&self) -> f64 {
        self.inner.variance()
    }

    /// Changes found so far.
    #[getter]
    fn changes(&self) -> u64 {
        self.inner.changes()
    }

    /// The detector's whole state as JSON, to save and resume it.
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        py.run_core(|| serde_json::to_string(&self.inner).map_err(Error::from))
    }

    /// A detector saved by `to_json`.
    #[staticmethod]
    fn from_json(py: Python<'_>, state: &str) -> PyResult<Self> {
        let inner = py.run_core(|| serde_json::from_str(state).map_err(bad_state))?;
        Ok(PyAdwin { inner })
    }

    fn __repr__(&self) -> String {
        format!(
            "Adwin(width={}, mean={}, changes={})",
            self.inner.width(),
            self.inner.mean(),
            self.inner.changes()
        )
    }
}

/// The Page–Hinkley test for a change in the mean.
#[pyclass(module = "harper_edge", name = "PageHinkley")]
#[derive(Debug)]
pub struct PyPageHinkley {
    inner: PageHinkley,
}

#[pymethods]
impl PyPageHinkley {
    #[new]
    #[pyo3(signature = (*, min_instances=30, delta=0.005, threshold=50.0, alpha=0.9999, direction="both"))]
    fn new(
        py: Python<'_>,
        min_instances: u64,
        delta: f64,
        threshold: f64,
        alpha: f64,
        direction: &str,
    ) -> PyResult<Self> {
        let inner = py.run_core(|| {
            let direction: Direction = direction.parse()?;
            PageHinkley::new(PageHinkleyConfig {
                min_instances,
                delta,
                threshold,
                alpha,
                direction,
            })
        })?;
        Ok(PyPageHinkley { inner })
    }

    /// Reads one value; `True` when it completes a change (the test then starts afresh).
    fn update(&mut self, py: Python<'_>, value: f64) -> PyResult<bool> {
        let inner = &mut self.inner;
        py.run_core(|| inner.update(value))
    }

    /// Reads a 1-D array of values; returns the positions of the values that completed a
    /// change. Checked first: nothing is read from a batch with a NaN or infinite value.
    fn update_many(&mut self, py: Python<'_>, values: &Bound<'_, PyAny>) -> PyResult<Vec<usize>> {
        let column = columns::float64(values, "values")?;
        let values = column.as_slice()?;
        let inner = &mut self.inner;
        py.run_core(|| inner.update_many(values))
    }

    /// Values read since the last change.
    #[getter]
    fn count(&self) -> u64 {
        self.inner.len()
    }

    /// Changes found so far.
    #[getter]
    fn changes(&self) -> u64 {
        self.inner.changes()
    }

    /// The detector's whole state as JSON, to save and resume it.
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        py.run_core(|| serde_json::to_string(&self.inner).map_err(Error::from))
    }

    /// A detector saved by `to_json`.
    #[staticmethod]
    fn from_json(py: Python<'_>, state: &str) -> PyResult<Self> {
        let inner = py.run_core(|| serde_json::from_str(state).map_err(bad_state))?;
        Ok(PyPageHinkley { inner })
    }

    fn __repr__(&self) -> String {
        format!("PageHinkley(count={}, changes={})", self.inner.len(), self.inner.changes())
    }
}

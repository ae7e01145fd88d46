//! Streaming drift detectors: the `Adwin` and `PageHinkley` classes, thin wrappers of
//! `harper_edge_core::drift::stream`.

use harper_edge_core::Error as CoreError;
use harper_edge_core::drift::stream::{
    Adwin as CoreAdwin, AdwinConfig, PageHinkley as CorePageHinkley, PageHinkleyConfig,
};
use napi::bindgen_prelude::{Float64ArraySlice, Unknown};
use napi_derive::napi;

use crate::convert;
use crate::error::{Result, sync};

/// Settings of `new Adwin(options)`; River's defaults.
#[napi(object, object_to_js = false)]
pub struct AdwinOptions {
    /// Confidence of the cut test (default 0.002).
    pub delta: Option<f64>,
    /// Buckets kept per size before two merge (default 5).
    pub max_buckets: Option<u32>,
    /// Values between two cut checks (default 32).
    pub clock: Option<u32>,
    /// Smallest sub-window a cut may leave (default 5).
    pub min_window_length: Option<u32>,
    /// Values before the first check (default 10).
    pub grace_period: Option<u32>,
}

/// Settings of `new PageHinkley(options)`; River's defaults.
#[napi(object, object_to_js = false)]
pub struct PageHinkleyOptions {
    /// Values seen before a change can be signalled (default 30).
    pub min_instances: Option<u32>,
    /// Magnitude of change tolerated (default 0.005).
    pub delta: Option<f64>,
    /// Detection threshold, in the data's units (default 50).
    pub threshold: Option<f64>,
    /// Forgetting factor in (0, 1] (default 0.9999).
    pub alpha: Option<f64>,
    /// Which change to look for (default `'both'`).
    #[napi(ts_type = "'up' | 'down' | 'both'")]
    pub direction: Option<String>,
}

fn values<'a>(values: &'a Unknown<'a>) -> harper_edge_core::Result<Float64ArraySlice<'a>> {
    convert::typed_array::<Float64ArraySlice<'_>>(values, "values", "Float64Array")
}

fn positions(found: Vec<usize>) -> Vec<u32> {
    found.into_iter().map(|i| u32::try_from(i).unwrap_or(u32::MAX)).collect()
}

fn bad_state(e: serde_json::Error) -> CoreError {
    CoreError::invalid_input(format!("not a saved detector state: {e}"))
}

/// ADWIN (adaptive windowing): a window of recent values cut when its older and newer parts
/// differ in mean; a cut is a change.
#[napi]
#[derive(Debug)]
pub struct Adwin {
    inner: CoreAdwin,
}

#[napi]
impl Adwin {
    /// A detector; throws `HARPER_EDGE_INVALID_INPUT` for invalid settings.
    #[napi(constructor, ts_args_type = "options?: AdwinOptions")]
    pub fn new(options: Unknown<'_>) -> Result<Self> {
        sync(|| {
            let o: Option<AdwinOptions> =
                convert::object(&options, "options", "an AdwinOptions object")?;
            let d = AdwinConfig::default();
            let config = match o {
                None => d,
                Some(o) => AdwinConfig {
                    delta: o.delta.unwrap_or(d.delta),
                    max_buckets: o.max_buckets.map_or(d.max_buckets, |v| v as usize),
                    clock: o.clock.map_or(d.clock, u64::from),
                    min_window_length: o.min_window_length.map_or(d.min_window_length, u64::from),
                    grace_period: o.grace_period.map_or(d.grace_period, u64::from),
                },
            };
            Ok(Adwin { inner: CoreAdwin::new(config)? })
        })
    }

    /// Reads one value; `true` when the window was cut.
    #[napi]
    pub fn update(&mut self, value: f64) -> Result<bool> {
        sync(|| self.inner.update(value))
    }

    /// Reads a `Float64Array` in place; returns the positions after which the window was cut.
    /// A NaN or infinity anywhere throws and nothing is read.
    #[napi(ts_args_type = "values: Float64Array")]
    pub fn update_many(&mut self, values: Unknown<'_>) -> Result<Vec<u32>> {
        sync(|| {
            let slice = self::values(&values)?;
            Ok(positions(self.inner.update_many(&slice)?))
        })
    }

    /// Values in the window.
    #[napi(getter)]
    pub fn width(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let w = self.inner.width() as f64;
        w
    }

    /// Mean of the window (0 when empty).
    #[napi(getter)]
    pub fn mean(&self) -> f64 {
        self.inner.mean()
    }

    /// Population variance of the window.
    #[napi(getter)]
    pub fn variance(&self) -> f64 {
        self.inner.variance()
    }

    /// Cuts so far.
    #[napi(getter)]
    pub fn changes(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let c = self.inner.changes() as f64;
        c
    }

    /// The whole state as a JSON string, to save and resume the detector.
    #[napi]
    pub fn save(&self) -> Result<String> {
        sync(|| serde_json::to_string(&self.inner).map_err(CoreError::from))
    }

    /// A detector saved by `save()`.
    #[napi(factory)]
    pub fn restore(state: String) -> Result<Self> {
        sync(|| Ok(Adwin { inner: serde_json::from_str(&state).map_err(bad_state)? }))
    }
}

/// The Page–Hinkley test for a change in the mean.
#[napi]
#[derive(Debug)]
pub struct PageHinkley {
    inner: CorePageHinkley,
}

#[napi]
impl PageHinkley {
    /// A detector; throws `HARPER_EDGE_INVALID_INPUT` for invalid settings.
    #[napi(constructor, ts_args_type = "options?: PageHinkleyOptions")]
    pub fn new(options: Unknown<'_>) -> Result<Self> {
        sync(|| {
            let o: Option<PageHinkleyOptions> =
                convert::object(&options, "options", "a PageHinkleyOptions object")?;
            let d = PageHinkleyConfig::default();
            let config = match o {
                None => d,
                Some(o) => PageHinkleyConfig {
                    min_instances: o.min_instances.map_or(d.min_instances, u64::from),
                    delta: o.delta.unwrap_or(d.delta),
                    threshold: o.threshold.unwrap_or(d.threshold),
                    alpha: o.alpha.unwrap_or(d.alpha),
                    direction: o.direction.as_deref().map_or(Ok(d.direction), str::parse)?,
                },
            };
            Ok(PageHinkley { inner: CorePageHinkley::new(config)? })
        })
    }

    /// Reads one value; `true` when it completes a change (the test then starts afresh).
    #[napi]
    pub fn update(&mut self, value: f64) -> Result<bool> {
        sync(|| self.inner.update(value))
    }

    /// Reads a `Float64Array` in place; returns the positions of the values that completed a
    /// change. A NaN or infinity anywhere throws and nothing is read.
    #[napi(ts_args_type = "values: Float64Array")]
    pub fn update_many(&mut self, values: Unknown<'_>) -> Result<Vec<u32>> {
        sync(|| {
            let slice = self::values(&values)?;
            Ok(positions(self.inner.update_many(&slice)?))
        })
    }

    /// Values read since the last change.
    #[napi(getter)]
    pub fn count(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let n = self.inner.len() as f64;
        n
    }

    /// Changes so far.
    #[napi(getter)]
    pub fn changes(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let c = self.inner.changes() as f64;
        c
    }

    /// The whole state as a JSON string, to save and resume the detector.
    #[napi]
    pub fn save(&self) -> Result<String> {
        sync(|| serde_json::to_string(&self.inner).map_err(CoreError::from))
    }

    /// A detector saved by `save()`.
    #[napi(factory)]
    pub fn restore(state: String) -> Result<Self> {
        sync(|| Ok(PageHinkley { inner: serde_json::from_str(&state).map_err(bad_state)? }))
    }
}

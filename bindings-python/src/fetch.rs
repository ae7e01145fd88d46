//! Fetching models, fetch jobs and profiles: the argument conversions of `Engine.fetch_model`,
//! `Engine.wait_job`, `Engine.deploy_profile` & co, and the module functions `inspect_source`
//! and `validate_profile`. Mirrors the core's `fetch` and `profile` modules.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use harper_edge_core::fetch::jobs::{
    FetchJob, FetchQueue, FetchRequest, JobFilter, JobRegistration, JobState, SourceSpec,
};
use harper_edge_core::fetch::{self, FetchOptions};
use harper_edge_core::profile::{self, DeployOptions, Profile};
use harper_edge_core::{Engine, Error, Framework, ModelFilter, Stage};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use serde_json::Value;

use crate::error::{Detach, to_py_err};
use crate::json;
use crate::telemetry::Seconds;

/// How often `wait_job` looks at a running job (and calls its `progress`).
const POLL: Duration = Duration::from_millis(200);

fn core_err(py: Python<'_>, e: &Error) -> PyErr {
    to_py_err(py, e)
}

/// The `SourceSpec` of a `source` argument: a short form string (`hf:org/name@rev`, a URL, a
/// path) or `os.PathLike` parsed by `SourceSpec::parse`, or a dict in the spec's serde shape.
/// `files` and `revision` apply to Hugging Face sources only.
pub(crate) fn source_spec(
    source: &Bound<'_, PyAny>,
    files: Option<Vec<String>>,
    revision: Option<String>,
) -> PyResult<SourceSpec> {
    let py = source.py();
    let mut spec = if source.is_instance_of::<PyDict>() {
        serde_json::from_value::<SourceSpec>(json::from_py(source)?).map_err(|e| {
            core_err(
                py,
                &Error::invalid_input(format!(
                    "invalid source {source}: {e} (expected {{\"kind\": \"http\", \"url\": …}}, \
                     {{\"kind\": \"fs\", \"root\": …, \"path\": …}} or {{\"kind\": \"hf\", \
                     \"repo\": …}})"
                )),
            )
        })?
    } else if let Ok(s) = source.cast::<PyString>() {
        SourceSpec::parse(s.to_str()?).map_err(|e| core_err(py, &e))?
    } else {
        let path: PathBuf = source.extract().map_err(|_| {
            PyTypeError::new_err(format!(
                "source must be a str, an os.PathLike or a dict, got {}",
                source.get_type().name().map_or_else(|_| "object".into(), |n| n.to_string())
            ))
        })?;
        SourceSpec::parse(&path.to_string_lossy()).map_err(|e| core_err(py, &e))?
    };
    if files.is_some() || revision.is_some() {
        match &mut spec {
            SourceSpec::Hf { revision: r, files: f, .. } => {
                if let Some(files) = files {
                    *f = files;
                }
                if revision.is_some() {
                    *r = revision;
                }
            }
            _ => {
                return Err(core_err(
                    py,
                    &Error::invalid_input(format!(
                        "files and revision apply to Hugging Face sources (hf:org/name), not \
                         '{}'",
                        spec.shown()
                    )),
                ));
            }
        }
    }
    Ok(spec)
}

/// `FetchOptions` from an `options` dict in their serde shape (camelCase, durations in
/// milliseconds; missing keys take their defaults), with `variant` and `sha256` on top.
pub(crate) fn fetch_options(
    py: Python<'_>,
    options: Option<&Bound<'_, PyAny>>,
    variant: Option<String>,
    sha256: Option<String>,
) -> PyResult<FetchOptions> {
    let mut out = match options {
        None => FetchOptions::default(),
        Some(o) => serde_json::from_value::<FetchOptions>(json::from_py(o)?).map_err(|e| {
            core_err(py, &Error::invalid_input(format!("invalid fetch options: {e}")))
        })?,
    };
    if variant.is_some() {
        out.variant = variant;
    }
    if sha256.is_some() {
        out.expected_sha256 = sha256;
    }
    Ok(out)
}

/// A duration in seconds (float or timedelta) that may be zero; `None` stays `None`.
pub(crate) fn timeout(name: &str, seconds: Option<Seconds>) -> PyResult<Option<Duration>> {
    let Some(s) = seconds.and_then(Seconds::get) else { return Ok(None) };
    Duration::try_from_secs_f64(s).map(Some).map_err(|_| {
        PyValueError::new_err(format!(
            "{name} must be a non-negative, finite number of seconds or a timedelta, got {s}"
        ))
    })
}

fn check_callable(progress: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
    match progress {
        Some(p) if !p.is_callable() => {
            Err(PyTypeError::new_err("progress must be a callable taking the job dict"))
        }
        _ => Ok(()),
    }
}

/// The arguments of `Engine.fetch_model`.
pub(crate) struct FetchArgs<'a, 'py> {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) source: &'a Bound<'py, PyAny>,
    pub(crate) variant: Option<String>,
    pub(crate) sha256: Option<String>,
    pub(crate) files: Option<Vec<String>>,
    pub(crate) revision: Option<String>,
    pub(crate) framework: Option<String>,
    pub(crate) stage: Option<String>,
    pub(crate) metadata: Option<&'a Bound<'py, PyAny>>,
    pub(crate) main_file: Option<String>,
    pub(crate) register: bool,
    pub(crate) options: Option<&'a Bound<'py, PyAny>>,
}

impl FetchArgs<'_, '_> {
    /// The core request.
    pub(crate) fn request(self, py: Python<'_>) -> PyResult<FetchRequest> {
        let spec = source_spec(self.source, self.files, self.revision)?;
        let options = fetch_options(py, self.options, self.variant, self.sha256)?;
        let mut request = FetchRequest::new(self.name, self.version, spec).options(options);
        if self.register {
            let mut registration = JobRegistration::default();
            if let Some(f) = self.framework {
                registration.framework =
                    Some(f.parse::<Framework>().map_err(|e| core_err(py, &e))?);
            }
            if let Some(s) = self.stage {
                registration.stage = s.parse::<Stage>().map_err(|e| core_err(py, &e))?;
            }
            if let Some(m) = self.metadata {
                registration.metadata = json::from_py(m)?;
            }
            registration.main_file = self.main_file;
            request = request.registration(registration);
        } else if self.framework.is_some()
            || self.stage.is_some()
            || self.metadata.is_some()
            || self.main_file.is_some()
        {
            return Err(PyValueError::new_err(
                "framework, stage, metadata and main_file describe the registration: not with \
                 register=False",
            ));
        }
        Ok(request)
    }
}

/// `JobFilter` of `Engine.fetch_jobs`.
pub(crate) fn job_filter(
    py: Python<'_>,
    model_name: Option<String>,
    state: Option<String>,
    limit: Option<usize>,
) -> PyResult<JobFilter> {
    let state = state
        .map(|s| {
            serde_json::from_value::<JobState>(Value::String(s.clone())).map_err(|_| {
                core_err(
                    py,
                    &Error::invalid_input(format!(
                        "unknown job state '{s}' (expected queued, downloading, verifying, \
                         completed, failed or cancelled)"
                    )),
                )
            })
        })
        .transpose()?;
    Ok(JobFilter { model_name, state, limit })
}

/// `ModelFilter` of `Engine.list_models`.
pub(crate) fn model_filter(
    py: Python<'_>,
    name: Option<String>,
    framework: Option<String>,
    task_type: Option<String>,
    stage: Option<String>,
) -> PyResult<ModelFilter> {
    let framework =
        framework.map(|f| f.parse::<Framework>()).transpose().map_err(|e| core_err(py, &e))?;
    let stage = stage.map(|s| s.parse::<Stage>()).transpose().map_err(|e| core_err(py, &e))?;
    Ok(ModelFilter { name, framework, task_type, stage })
}

/// Waits for job `id` in slices of [`POLL`] with the GIL released, calling `progress` with
/// the job between slices (and once with the job it returns); returns the job when it has
/// ended or `timeout` has passed. Ctrl-C and exceptions of `progress` end the wait.
pub(crate) fn wait_job<'py>(
    py: Python<'py>,
    queue: &FetchQueue,
    id: &str,
    timeout: Option<Duration>,
    progress: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    check_callable(progress)?;
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        let step = deadline.map_or(POLL, |d| d.saturating_duration_since(Instant::now()).min(POLL));
        let job = py.run_core(|| queue.wait(id, step))?;
        let ended = job.state.is_terminal() || deadline.is_some_and(|d| Instant::now() >= d);
        if let Some(progress) = progress {
            progress.call1((json::record_to_py(py, serde_json::to_value(&job))?,))?;
        }
        if ended {
            return json::record_to_py(py, serde_json::to_value(&job));
        }
        py.check_signals()?;
    }
}

/// Loads the profile at `path`. An `InvalidInputError` (a profile with problems) carries
/// them as its `problems` attribute: a list of dicts `{model, field, message}`.
fn load_profile(py: Python<'_>, path: &Path) -> PyResult<Profile> {
    match py.detach(|| harper_edge_core::error::guard(|| Profile::load(path))) {
        Ok(p) => Ok(p),
        Err(e) => {
            let err = to_py_err(py, &e);
            if matches!(e, Error::InvalidInput { .. }) {
                let problems = std::fs::read_to_string(path)
                    .ok()
                    .and_then(|text| serde_json::from_str::<Value>(&text).ok())
                    .map(|value| Profile::problems(&value))
                    .unwrap_or_default();
                err.value(py).setattr(
                    pyo3::intern!(py, "problems"),
                    json::record_to_py(py, serde_json::to_value(&problems))?,
                )?;
            }
            Err(err)
        }
    }
}

/// The arguments of `Engine.deploy_profile`.
pub(crate) struct DeployArgs<'a, 'py> {
    pub(crate) path: PathBuf,
    pub(crate) root: Option<PathBuf>,
    pub(crate) dry_run: bool,
    pub(crate) timeout: Option<Seconds>,
    pub(crate) progress: Option<&'a Bound<'py, PyAny>>,
}

/// Deploys the profile at `args.path` on `engine` with the GIL released; `progress` is
/// called (with the GIL) with each job as the core reports it. An exception in `progress`
/// stops further calls and is raised once the deploy returns.
#[allow(
    clippy::field_reassign_with_default,
    reason = "DeployOptions is non_exhaustive: no struct literal outside the core"
)]
pub(crate) fn deploy<'py>(
    py: Python<'py>,
    engine: &Engine,
    args: DeployArgs<'_, 'py>,
) -> PyResult<Bound<'py, PyAny>> {
    check_callable(args.progress)?;
    let timeout = timeout("timeout", args.timeout)?;
    let profile = load_profile(py, &args.path)?;
    let mut options = DeployOptions::default();
    options.root = args.root;
    options.dry_run = args.dry_run;
    if let Some(t) = timeout {
        options.timeout = t;
    }
    let progress: Option<Py<PyAny>> = args.progress.map(|p| p.clone().unbind());
    let mut failure: Option<PyErr> = None;
    let report = py.run_core(|| {
        let mut on_job = |job: &FetchJob| {
            let Some(progress) = &progress else { return };
            if failure.is_some() {
                return;
            }
            Python::attach(|py| {
                if let Err(e) = json::record_to_py(py, serde_json::to_value(job))
                    .and_then(|d| progress.bind(py).call1((d,)))
                {
                    failure = Some(e);
                }
            });
        };
        profile::deploy(engine, &profile, &options, &mut on_job)
    });
    if let Some(e) = failure {
        return Err(e);
    }
    json::record_to_py(py, serde_json::to_value(&report?))
}

/// Checks the profile file at `path` without deploying it: its name, description and the
/// ids (`name:version`) of its models. A profile with problems raises `InvalidInputError`
/// whose message lists every problem (each naming the model and the field) and whose
/// `problems` attribute lists them as dicts (`model`, `field`, `message`).
#[pyfunction]
pub(crate) fn validate_profile(py: Python<'_>, path: PathBuf) -> PyResult<Bound<'_, PyAny>> {
    let profile = load_profile(py, &path)?;
    let dict = PyDict::new(py);
    dict.set_item("name", &profile.name)?;
    dict.set_item("description", profile.description.as_deref())?;
    dict.set_item("models", profile.models.iter().map(|m| m.id()).collect::<Vec<_>>())?;
    Ok(dict.into_any())
}

/// Describes what `source` holds without downloading model files (a Hub listing, a `HEAD`
/// request, or a directory walk), with the GIL released.
#[pyfunction]
#[pyo3(signature = (source, *, variant=None, files=None, revision=None))]
pub(crate) fn inspect_source<'py>(
    py: Python<'py>,
    source: &Bound<'py, PyAny>,
    variant: Option<String>,
    files: Option<Vec<String>>,
    revision: Option<String>,
) -> PyResult<Bound<'py, PyAny>> {
    let spec = source_spec(source, files, revision)?;
    let options = fetch_options(py, None, variant, None)?;
    let found = py.run_core(|| fetch::inspect(&spec, &options))?;
    json::record_to_py(py, serde_json::to_value(&found))
}

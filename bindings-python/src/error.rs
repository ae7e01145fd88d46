//! One Python exception class per [`ErrorKind`], all under `HarperEdgeError`, and the one
//! function that maps a core [`Error`] onto them.

use harper_edge_core::{Error, ErrorKind};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyType;

create_exception!(
    harper_edge,
    HarperEdgeError,
    PyException,
    "Base class of every error harper-edge raises; `.code` is its stable error code."
);
create_exception!(
    harper_edge,
    InvalidInputError,
    HarperEdgeError,
    "An argument or a piece of data is malformed or out of range."
);
create_exception!(
    harper_edge,
    ShapeError,
    HarperEdgeError,
    "A tensor does not have the shape or data type the model declares."
);
create_exception!(
    harper_edge,
    ModelLoadError,
    HarperEdgeError,
    "A model file could not be parsed, optimised or prepared by its backend."
);
create_exception!(
    harper_edge,
    BackendNotCompiledError,
    HarperEdgeError,
    "The backend exists but was not compiled into this build."
);
create_exception!(
    harper_edge,
    BackendError,
    HarperEdgeError,
    "A compiled-in backend failed while running a model."
);
create_exception!(
    harper_edge,
    NotFoundError,
    HarperEdgeError,
    "A record the caller named does not exist."
);
create_exception!(
    harper_edge,
    ConflictError,
    HarperEdgeError,
    "The operation contradicts a record that already exists."
);
create_exception!(
    harper_edge,
    InvalidTransitionError,
    HarperEdgeError,
    "A state machine was asked for a transition it does not allow."
);
create_exception!(harper_edge, IoError, HarperEdgeError, "A file-system operation failed.");
create_exception!(harper_edge, NetworkError, HarperEdgeError, "A network request failed.");
create_exception!(
    harper_edge,
    IntegrityError,
    HarperEdgeError,
    "Stored or fetched data does not match its checksum or is otherwise corrupt."
);
create_exception!(
    harper_edge,
    CapacityError,
    HarperEdgeError,
    "A configured limit (size, buffer capacity, concurrency) was reached."
);
create_exception!(harper_edge, StorageError, HarperEdgeError, "The record store failed.");
create_exception!(
    harper_edge,
    InternalError,
    HarperEdgeError,
    "A bug in harper-edge (a panic caught at the boundary); please report it."
);

/// `code` of the base class; instances always carry the code of their own kind.
pub(crate) const BASE_CODE: &str = "HARPER_EDGE_ERROR";

/// The exception class of `kind`. A kind added to the core after this binding was written
/// falls back to the base class (its instances still carry the right `code`).
pub(crate) fn exception_type(py: Python<'_>, kind: ErrorKind) -> Bound<'_, PyType> {
    match kind {
        ErrorKind::InvalidInput => py.get_type::<InvalidInputError>(),
        ErrorKind::Shape => py.get_type::<ShapeError>(),
        ErrorKind::ModelLoad => py.get_type::<ModelLoadError>(),
        ErrorKind::BackendNotCompiled => py.get_type::<BackendNotCompiledError>(),
        ErrorKind::Backend => py.get_type::<BackendError>(),
        ErrorKind::NotFound => py.get_type::<NotFoundError>(),
        ErrorKind::Conflict => py.get_type::<ConflictError>(),
        ErrorKind::InvalidTransition => py.get_type::<InvalidTransitionError>(),
        ErrorKind::Io => py.get_type::<IoError>(),
        ErrorKind::Network => py.get_type::<NetworkError>(),
        ErrorKind::Integrity => py.get_type::<IntegrityError>(),
        ErrorKind::Capacity => py.get_type::<CapacityError>(),
        ErrorKind::Storage => py.get_type::<StorageError>(),
        ErrorKind::Internal => py.get_type::<InternalError>(),
        _ => py.get_type::<HarperEdgeError>(),
    }
}

/// The Python exception for a core error: the class of its kind, the core's message (with
/// the chain of source errors the message does not already include), and `.code`.
pub(crate) fn to_py_err(py: Python<'_>, err: &Error) -> PyErr {
    let kind = err.kind();
    let py_err = PyErr::from_type(exception_type(py, kind), err.full_message());
    if let Err(e) = py_err.value(py).setattr(pyo3::intern!(py, "code"), kind.code()) {
        return e;
    }
    py_err
}

/// Runs core calls with the GIL released and maps their errors; every call that may block
/// (model loading, inference, the store) goes through it.
pub(crate) trait Detach {
    /// Releases the GIL, runs `f` (a panic becomes `InternalError`), reacquires the GIL and
    /// maps a core error to its exception.
    fn run_core<T, F>(self, f: F) -> PyResult<T>
    where
        F: FnOnce() -> harper_edge_core::Result<T> + Send,
        T: Send;
}

impl Detach for Python<'_> {
    fn run_core<T, F>(self, f: F) -> PyResult<T>
    where
        F: FnOnce() -> harper_edge_core::Result<T> + Send,
        T: Send,
    {
        self.detach(|| harper_edge_core::error::guard(f)).map_err(|e| to_py_err(self, &e))
    }
}

/// Adds the exception classes to the module, each with its `code` as a class attribute.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let base = py.get_type::<HarperEdgeError>();
    base.setattr("code", BASE_CODE)?;
    m.add("HarperEdgeError", &base)?;
    for kind in ErrorKind::ALL {
        let class = exception_type(py, kind);
        // A kind the binding has no class for falls back to the base class: registering it
        // would overwrite the base's `code` and alias the base under the new name. Fail the
        // import instead, so a new core kind cannot ship without its Python class.
        if class.is(&base) {
            return Err(pyo3::exceptions::PyRuntimeError::new_err(format!(
                "harper_edge has no exception class for the core error kind {} ({}): add one in \
                 bindings-python/src/error.rs",
                kind.python_class(),
                kind.code()
            )));
        }
        class.setattr("code", kind.code())?;
        m.add(kind.python_class(), class)?;
    }
    Ok(())
}

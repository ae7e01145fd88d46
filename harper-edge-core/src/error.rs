//! The one error type of the crate, grouped by category.
//!
//! Every [`Error`] belongs to exactly one [`ErrorKind`]. The kind is what crosses language
//! boundaries: the Python binding maps each kind to one exception class under
//! `harper_edge.HarperEdgeError`, the Node binding to one stable `err.code`
//! ([`ErrorKind::code`]), and the CLI prints the code beside the message.

use std::fmt;
use std::path::PathBuf;

/// `Result` with this crate's [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Every failure harper-edge reports.
///
/// Messages are lowercase, have no trailing period, and name the thing they are about.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An argument or a piece of data is malformed or out of range.
    #[error("invalid input: {message}")]
    InvalidInput {
        /// What is wrong, naming the argument or field.
        message: String,
    },

    /// A tensor does not have the shape or data type the model declares.
    #[error("input '{input}' of model '{model}': {message}")]
    Shape {
        /// The model (`name:version`).
        model: String,
        /// The model input (or output) the tensor was meant for.
        input: String,
        /// Expected and actual shape or dtype, in words.
        message: String,
    },

    /// A model file could not be parsed, optimised or prepared by its backend.
    #[error("cannot load model '{model}': {message}")]
    ModelLoad {
        /// The model (`name:version`) or file being loaded.
        model: String,
        /// What the backend reported.
        message: String,
        /// The backend's own error, when it has one.
        #[source]
        source: Option<BoxError>,
    },

    /// The backend exists but was not compiled into this build.
    #[error(
        "backend '{backend}' is not compiled in: rebuild harper-edge-core with feature '{feature}'"
    )]
    BackendNotCompiled {
        /// Backend name (`tract`, `ort`, `candle`, `ollama`).
        backend: String,
        /// The cargo feature that enables it.
        feature: String,
    },

    /// A compiled-in backend failed while running a model or is unusable on this machine.
    #[error("backend '{backend}' failed: {message}")]
    Backend {
        /// Backend name.
        backend: String,
        /// What the backend reported.
        message: String,
        /// The backend's own error, when it has one.
        #[source]
        source: Option<BoxError>,
    },

    /// A record the caller named does not exist.
    #[error("{entity} '{id}' not found")]
    NotFound {
        /// The kind of record (`model`, `inference event`, …).
        entity: &'static str,
        /// The id the caller gave.
        id: String,
    },

    /// The operation contradicts a record that already exists.
    #[error("conflict: {message}")]
    Conflict {
        /// What conflicts with what.
        message: String,
    },

    /// A state machine was asked for a transition it does not allow.
    #[error("invalid transition of {entity} '{id}' from '{from}' to '{to}'")]
    InvalidTransition {
        /// The kind of record.
        entity: &'static str,
        /// Its id.
        id: String,
        /// Current state.
        from: String,
        /// Requested state.
        to: String,
    },

    /// A file-system operation failed.
    #[error("i/o error on '{}': {source}", path.display())]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },

    /// A network request failed.
    #[error("network error: {message}")]
    Network {
        /// What failed, naming the endpoint.
        message: String,
        /// The HTTP status of the answer, when the server answered.
        status: Option<u16>,
        /// Whether the same request may succeed later (connection errors, timeouts, 429, 5xx);
        /// false for answers that will not change (401, 403, other 4xx).
        retryable: bool,
        /// The client's own error, when it has one.
        #[source]
        source: Option<BoxError>,
    },

    /// Stored or fetched data does not match its checksum or is otherwise corrupt.
    #[error("integrity error: {message}")]
    Integrity {
        /// What was expected and what was found.
        message: String,
    },

    /// A configured limit (size, buffer capacity, concurrency) was reached.
    #[error("capacity exceeded: {message}")]
    Capacity {
        /// Which limit, and its value.
        message: String,
    },

    /// The record store failed (SQLite error, migration failure, serialisation of a record).
    #[error("storage error: {message}")]
    Storage {
        /// What failed.
        message: String,
        /// The store's own error, when it has one.
        #[source]
        source: Option<BoxError>,
    },

    /// A bug: a panic caught at an API boundary (see [`guard`]), or a broken invariant.
    #[error("internal error: {message}")]
    Internal {
        /// What happened (the panic message).
        message: String,
    },
}

/// The category of an [`Error`]; the stable part that bindings map to exception classes and
/// error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// See [`Error::InvalidInput`].
    InvalidInput,
    /// See [`Error::Shape`].
    Shape,
    /// See [`Error::ModelLoad`].
    ModelLoad,
    /// See [`Error::BackendNotCompiled`].
    BackendNotCompiled,
    /// See [`Error::Backend`].
    Backend,
    /// See [`Error::NotFound`].
    NotFound,
    /// See [`Error::Conflict`].
    Conflict,
    /// See [`Error::InvalidTransition`].
    InvalidTransition,
    /// See [`Error::Io`].
    Io,
    /// See [`Error::Network`].
    Network,
    /// See [`Error::Integrity`].
    Integrity,
    /// See [`Error::Capacity`].
    Capacity,
    /// See [`Error::Storage`].
    Storage,
    /// See [`Error::Internal`].
    Internal,
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [ErrorKind; 14] = [
        ErrorKind::InvalidInput,
        ErrorKind::Shape,
        ErrorKind::ModelLoad,
        ErrorKind::BackendNotCompiled,
        ErrorKind::Backend,
        ErrorKind::NotFound,
        ErrorKind::Conflict,
        ErrorKind::InvalidTransition,
        ErrorKind::Io,
        ErrorKind::Network,
        ErrorKind::Integrity,
        ErrorKind::Capacity,
        ErrorKind::Storage,
        ErrorKind::Internal,
    ];

    /// The stable error code used by the Node binding (`err.code`) and printed by the CLI.
    ///
    /// # Examples
    ///
    /// ```
    /// use harper_edge_core::ErrorKind;
    /// assert_eq!(ErrorKind::NotFound.code(), "HARPER_EDGE_NOT_FOUND");
    /// ```
    pub const fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "HARPER_EDGE_INVALID_INPUT",
            ErrorKind::Shape => "HARPER_EDGE_SHAPE",
            ErrorKind::ModelLoad => "HARPER_EDGE_MODEL_LOAD",
            ErrorKind::BackendNotCompiled => "HARPER_EDGE_BACKEND_NOT_COMPILED",
            ErrorKind::Backend => "HARPER_EDGE_BACKEND",
            ErrorKind::NotFound => "HARPER_EDGE_NOT_FOUND",
            ErrorKind::Conflict => "HARPER_EDGE_CONFLICT",
            ErrorKind::InvalidTransition => "HARPER_EDGE_INVALID_TRANSITION",
            ErrorKind::Io => "HARPER_EDGE_IO",
            ErrorKind::Network => "HARPER_EDGE_NETWORK",
            ErrorKind::Integrity => "HARPER_EDGE_INTEGRITY",
            ErrorKind::Capacity => "HARPER_EDGE_CAPACITY",
            ErrorKind::Storage => "HARPER_EDGE_STORAGE",
            ErrorKind::Internal => "HARPER_EDGE_INTERNAL",
        }
    }

    /// The name of the Python exception class for this kind.
    pub const fn python_class(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "InvalidInputError",
            ErrorKind::Shape => "ShapeError",
            ErrorKind::ModelLoad => "ModelLoadError",
            ErrorKind::BackendNotCompiled => "BackendNotCompiledError",
            ErrorKind::Backend => "BackendError",
            ErrorKind::NotFound => "NotFoundError",
            ErrorKind::Conflict => "ConflictError",
            ErrorKind::InvalidTransition => "InvalidTransitionError",
            ErrorKind::Io => "IoError",
            ErrorKind::Network => "NetworkError",
            ErrorKind::Integrity => "IntegrityError",
            ErrorKind::Capacity => "CapacityError",
            ErrorKind::Storage => "StorageError",
            ErrorKind::Internal => "InternalError",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Error {
    /// The category of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidInput { .. } => ErrorKind::InvalidInput,
            Error::Shape { .. } => ErrorKind::Shape,
            Error::ModelLoad { .. } => ErrorKind::ModelLoad,
            Error::BackendNotCompiled { .. } => ErrorKind::BackendNotCompiled,
            Error::Backend { .. } => ErrorKind::Backend,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::Conflict { .. } => ErrorKind::Conflict,
            Error::InvalidTransition { .. } => ErrorKind::InvalidTransition,
            Error::Io { .. } => ErrorKind::Io,
            Error::Network { .. } => ErrorKind::Network,
            Error::Integrity { .. } => ErrorKind::Integrity,
            Error::Capacity { .. } => ErrorKind::Capacity,
            Error::Storage { .. } => ErrorKind::Storage,
            Error::Internal { .. } => ErrorKind::Internal,
        }
    }

    /// Whether retrying the same operation later may succeed: true only for
    /// [`Error::Network`] errors marked retryable (connection failures, timeouts, HTTP 429 and
    /// 5xx answers).
    ///
    /// # Examples
    ///
    /// ```
    /// use harper_edge_core::Error;
    ///
    /// assert!(Error::network("GET http://127.0.0.1/ timed out", None, true).is_retryable());
    /// assert!(!Error::not_found("url", "http://127.0.0.1/x").is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Network { retryable: true, .. })
    }

    /// The HTTP status behind a [`Error::Network`] error, when the server answered.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Error::Network { status, .. } => *status,
            _ => None,
        }
    }

    /// Shorthand for [`Error::Network`] without a source error.
    pub fn network(message: impl Into<String>, status: Option<u16>, retryable: bool) -> Self {
        Error::Network { message: message.into(), status, retryable, source: None }
    }

    /// Shorthand for [`Error::InvalidInput`].
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Error::InvalidInput { message: message.into() }
    }

    /// Shorthand for [`Error::NotFound`].
    pub fn not_found(entity: &'static str, id: impl Into<String>) -> Self {
        Error::NotFound { entity, id: id.into() }
    }

    /// Shorthand for [`Error::Io`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    /// The message followed by each underlying cause not already in it, joined by `": "`:
    /// what the CLI prints and what the Python and Node errors carry, so that
    /// `storage error: sqlite` also says *what* SQLite reported.
    ///
    /// ```
    /// use harper_edge_core::Error;
    /// let io = std::io::Error::new(std::io::ErrorKind::Other, "disk full");
    /// let err = Error::storage("sqlite", io);
    /// assert_eq!(err.to_string(), "storage error: sqlite");
    /// assert_eq!(err.full_message(), "storage error: sqlite: disk full");
    /// ```
    pub fn full_message(&self) -> String {
        let mut message = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            let text = cause.to_string();
            if !message.contains(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = cause.source();
        }
        message
    }

    /// Shorthand for [`Error::Storage`] with a source error.
    pub fn storage(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Storage { message: message.into(), source: Some(Box::new(source)) }
    }
}

/// Runs `f`, turning a panic into [`Error::Internal`] instead of unwinding further.
///
/// Bindings run every core call through it, so that no panic crosses into Python or Node.
///
/// # Errors
///
/// `f`'s own error, or [`Error::Internal`] with the panic message.
///
/// # Examples
///
/// ```
/// use harper_edge_core::{ErrorKind, error::guard};
///
/// let err = guard(|| -> harper_edge_core::Result<()> { panic!("boom") }).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Internal);
/// assert_eq!(err.to_string(), "internal error: panic: boom");
/// ```
pub fn guard<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic payload".to_string());
        Err(Error::Internal { message: format!("panic: {message}") })
    })
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::storage("sqlite", e)
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::storage("json encoding of a record", e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_prefixed() {
        let mut codes: Vec<_> = ErrorKind::ALL.iter().map(|k| k.code()).collect();
        assert!(codes.iter().all(|c| c.starts_with("HARPER_EDGE_")));
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ErrorKind::ALL.len());
    }

    #[test]
    fn messages_name_the_thing() {
        let e = Error::not_found("model", "iris:v9");
        assert_eq!(e.to_string(), "model 'iris:v9' not found");
        assert_eq!(e.kind(), ErrorKind::NotFound);
        let e = Error::BackendNotCompiled { backend: "ort".into(), feature: "ort".into() };
        assert!(e.to_string().contains("feature 'ort'"), "{e}");
    }
}

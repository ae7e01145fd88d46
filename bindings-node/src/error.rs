//! The one mapping of core errors to JavaScript errors.
//!
//! Every error thrown or rejected by this binding is a plain `Error` whose `code` is
//! [`harper_edge_core::ErrorKind::code`] (`HARPER_EDGE_NOT_FOUND`, …) and whose `message` is the
//! core message. napi-rs turns the `status` of a `napi::Error<S>` into the JS `code`, so
//! synchronous functions return [`Result`] with the code as status. An `AsyncTask` can only
//! fail with `napi::Error<Status>`, so a task creates the JS error itself ([`rejection`]) and
//! hands napi a reference to it, which napi rejects the Promise with unchanged.

use harper_edge_core::Error as CoreError;
use napi::bindgen_prelude::JsObjectValue;
use napi::{Env, JsValue, Status};

/// The result of every synchronous binding function: the error's status is its `err.code`.
pub type Result<T, E = napi::Error<&'static str>> = std::result::Result<T, E>;

/// The result of the core, before conversion.
pub type CoreResult<T> = harper_edge_core::Result<T>;

/// A core error as a napi error whose status (the JS `code`) is the error kind's code.
pub fn to_napi(e: &CoreError) -> napi::Error<&'static str> {
    napi::Error::new(e.kind().code(), e.full_message())
}

/// The JS error a Promise is rejected with: `message` and `code` from the core error.
pub fn rejection(env: &Env, e: &CoreError) -> napi::Error {
    let built = env
        .create_error(napi::Error::new(Status::GenericFailure, e.full_message()))
        .and_then(|mut object| {
            object.set_named_property("code", e.kind().code())?;
            Ok(napi::Error::from(object.to_unknown()))
        });
    // Creating an error object fails only while the environment shuts down; the fallback still
    // carries the message.
    built.unwrap_or_else(|_| napi::Error::new(Status::GenericFailure, e.full_message()))
}

/// Runs `f`, turning a panic into `HARPER_EDGE_INTERNAL` so that no panic unwinds into Node.
pub fn guarded<T>(f: impl FnOnce() -> CoreResult<T>) -> CoreResult<T> {
    harper_edge_core::error::guard(f)
}

/// Like [`guarded`], converting the error for a synchronous return.
pub fn sync<T>(f: impl FnOnce() -> CoreResult<T>) -> Result<T> {
    guarded(f).map_err(|e| to_napi(&e))
}

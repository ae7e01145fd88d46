//! Node.js binding of harper-edge (napi-rs), published to npm as `harper-edge`.
//!
//! Thin by design: argument conversion ([`convert`]), heavy calls as Promises on the libuv pool
//! ([`tasks`]), and one mapping of core errors to JS errors with a stable `err.code`
//! ([`error`]). Everything else lives in `harper-edge-core`.
//!
//! No process-global mutable state: HarperDB loads this addon once per worker thread, and each
//! `Engine` owns its own store.

mod convert;
mod drift;
mod engine;
mod error;
mod fetch;
mod monitor;
mod monitoring;
mod report;
mod segments;
mod tasks;
mod telemetry;
mod tensor;
mod text;

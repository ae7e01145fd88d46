//! Heavy calls (model loading, inference) as Promises whose work runs on the libuv pool.

use harper_edge_core::Error as CoreError;
use napi::bindgen_prelude::{ToNapiValue, Unknown};
use napi::{Env, ScopedTask};

use crate::error::{CoreResult, guarded, rejection};

type Work<T> = Box<dyn FnOnce() -> CoreResult<T> + Send>;

/// One call of the core off the JS thread.
///
/// Arguments are decoded on the JS thread before the task is queued; a decoding error is kept
/// and rejects the Promise, so an async function never throws synchronously.
pub struct Job<T> {
    work: Option<CoreResult<Work<T>>>,
}

impl<T> std::fmt::Debug for Job<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").field("queued", &self.work.is_some()).finish()
    }
}

impl<T> Job<T> {
    /// A job running `prepared` (or rejecting with its error).
    pub fn new(prepared: CoreResult<Work<T>>) -> Self {
        Job { work: Some(prepared) }
    }
}

/// Boxes `work` for [`Job::new`].
pub fn work<T>(work: impl FnOnce() -> CoreResult<T> + Send + 'static) -> Work<T> {
    Box::new(work)
}

impl<'task, T> ScopedTask<'task> for Job<T>
where
    T: ToNapiValue + Send + 'static,
{
    type Output = CoreResult<T>;
    type JsValue = Unknown<'task>;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(match self.work.take() {
            Some(Ok(work)) => guarded(work),
            Some(Err(e)) => Err(e),
            None => Err(CoreError::invalid_input("an async task cannot run twice")),
        })
    }

    fn resolve(&mut self, env: &'task Env, output: Self::Output) -> napi::Result<Unknown<'task>> {
        match output {
            Ok(value) => value.into_unknown(env),
            Err(e) => Err(rejection(env, &e)),
        }
    }
}

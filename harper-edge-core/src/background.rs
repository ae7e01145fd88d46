//! Background threads the core owns: a stop flag a sleeping thread wakes up for, and a thread
//! that runs a task every interval until it is stopped (the telemetry ticker, the monitor's
//! scheduler thread).

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// A flag that wakes up threads sleeping on it when set.
#[derive(Debug, Default)]
pub(crate) struct StopFlag(Mutex<bool>, Condvar);

impl StopFlag {
    /// Sleeps up to `d`, or not at all if already set; true if set.
    pub(crate) fn wait(&self, d: Duration) -> bool {
        let guard = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let (guard, _) = self
            .1
            .wait_timeout_while(guard, d, |stopped| !*stopped)
            .unwrap_or_else(PoisonError::into_inner);
        *guard
    }

    /// Sets the flag and wakes every sleeper.
    pub(crate) fn set(&self) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.1.notify_all();
    }
}

/// A named thread running `task` every `interval` (first at once when `run_first`, else after
/// one interval) until [`Periodic::shutdown`] or drop, which wait for a run in progress.
#[derive(Debug)]
pub(crate) struct Periodic {
    stop: Arc<StopFlag>,
    thread: Option<JoinHandle<()>>,
}

impl Periodic {
    pub(crate) fn spawn(
        name: &str,
        interval: Duration,
        run_first: bool,
        mut task: impl FnMut() + Send + 'static,
    ) -> std::io::Result<Periodic> {
        let stop = Arc::new(StopFlag::default());
        let signal = Arc::clone(&stop);
        let thread = std::thread::Builder::new().name(name.into()).spawn(move || {
            if !run_first && signal.wait(interval) {
                return;
            }
            loop {
                task();
                if signal.wait(interval) {
                    return;
                }
            }
        })?;
        Ok(Periodic { stop, thread: Some(thread) })
    }

    pub(crate) fn shutdown(&mut self) {
        self.stop.set();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Periodic {
    fn drop(&mut self) {
        self.shutdown();
    }
}

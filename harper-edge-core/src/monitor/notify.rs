//! Alert notifications: in-process callbacks and HTTP webhooks with retries.
//!
//! A webhook receives `POST <url>` with `content-type: application/json` and the body
//! `{"kind": "fired" | "resolved", "alert": <AlertEvent>}`. A 2xx answer delivers it.
//! Connection errors, timeouts, 429 and 5xx answers are retried up to
//! [`WebhookOptions::retries`] times, waiting an exponential backoff with jitter (a
//! random share between half and all of `initial_backoff · 2^attempt`, capped at
//! `max_backoff`) or the server's `Retry-After`
//! (seconds or an HTTP date, capped at `max_retry_after`); other 4xx answers fail at once.
//! Deliveries run on one background thread per monitor, so a slow endpoint never delays a
//! tick; each outcome is written into the event's `notifications`.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::background::StopFlag;
use crate::clock::Timestamp;
use crate::error::{Error, Result};
use crate::monitor::alert::AlertEvent;
use crate::retry::{Backoff, retry_after};

/// Whether an alert started or ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// A new episode.
    Fired,
    /// The episode ended.
    Resolved,
}

impl NotificationKind {
    /// `fired` or `resolved`.
    pub const fn as_str(self) -> &'static str {
        match self {
            NotificationKind::Fired => "fired",
            NotificationKind::Resolved => "resolved",
        }
    }
}

/// What a channel receives (serde camelCase: `{"kind", "alert"}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// Fired or resolved.
    pub kind: NotificationKind,
    /// The event as stored.
    pub alert: AlertEvent,
}

/// Webhook delivery settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookOptions {
    /// Whole-request timeout of one attempt (default 5 s).
    pub timeout: Duration,
    /// Retries after the first attempt (default 3).
    pub retries: u32,
    /// First backoff (default 500 ms).
    pub initial_backoff: Duration,
    /// Longest backoff (default 30 s).
    pub max_backoff: Duration,
    /// Longest `Retry-After` honoured (default 60 s).
    pub max_retry_after: Duration,
}

impl Default for WebhookOptions {
    fn default() -> Self {
        WebhookOptions {
            timeout: Duration::from_secs(5),
            retries: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl WebhookOptions {
    /// Sets [`WebhookOptions::timeout`].
    #[must_use]
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// Sets [`WebhookOptions::retries`].
    #[must_use]
    pub fn retries(mut self, n: u32) -> Self {
        self.retries = n;
        self
    }

    /// Sets [`WebhookOptions::initial_backoff`] and [`WebhookOptions::max_backoff`].
    #[must_use]
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max;
        self
    }
}

/// The outcome of one webhook delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub delivered: bool,
    pub attempts: u32,
    pub error: Option<String>,
}

/// One attempt's result: done, retry (after at least this long), or give up.
enum Attempt {
    Delivered,
    Retry(String, Option<Duration>),
    Fail(String),
}

fn attempt(agent: &ureq::Agent, url: &str, body: &str, options: &WebhookOptions) -> Attempt {
    let response = agent
        .post(url)
        .header("content-type", "application/json")
        .header("user-agent", concat!("harper-edge/", env!("CARGO_PKG_VERSION")))
        .send(body);
    match response {
        Ok(r) => {
            let status = r.status().as_u16();
            if (200..300).contains(&status) {
                Attempt::Delivered
            } else if status == 429 || status >= 500 {
                let wait = r
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| retry_after(v, SystemTime::now(), options.max_retry_after));
                Attempt::Retry(format!("HTTP {status}"), wait)
            } else {
                Attempt::Fail(format!("HTTP {status} (not retried)"))
            }
        }
        Err(e) => Attempt::Retry(e.to_string(), None),
    }
}

/// POSTs `body` to `url` with retries (blocking).
pub(crate) fn deliver(url: &str, body: &str, options: &WebhookOptions, stop: &StopFlag) -> Outcome {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(options.timeout))
        .http_status_as_error(false)
        .build()
        .into();
    let mut backoff = Backoff::new(options.initial_backoff, options.max_backoff);
    let mut attempts = 0;
    loop {
        attempts += 1;
        match attempt(&agent, url, body, options) {
            Attempt::Delivered => return Outcome { delivered: true, attempts, error: None },
            Attempt::Fail(e) => return Outcome { delivered: false, attempts, error: Some(e) },
            Attempt::Retry(e, wait) => {
                if attempts > options.retries {
                    return Outcome { delivered: false, attempts, error: Some(e) };
                }
                let wait = wait.unwrap_or_else(|| backoff.wait(attempts));
                if stop.wait(wait) {
                    return Outcome {
                        delivered: false,
                        attempts,
                        error: Some(format!("{e}; monitor stopped before the next retry")),
                    };
                }
            }
        }
    }
}

struct Job {
    url: String,
    notification: Notification,
}

/// Called with each webhook outcome: (event id, url, kind, outcome, when).
pub(crate) type OnOutcome = Arc<dyn Fn(&str, &str, NotificationKind, &Outcome) + Send + Sync>;

/// The background webhook sender of one monitor.
pub(crate) struct Notifier {
    tx: Mutex<Option<Sender<Job>>>,
    pending: Arc<(Mutex<usize>, Condvar)>,
    stop: Arc<StopFlag>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier").field("pending", &self.pending()).finish_non_exhaustive()
    }
}

impl Notifier {
    pub(crate) fn new(options: WebhookOptions, on_outcome: OnOutcome) -> Result<Self> {
        let (tx, rx): (Sender<Job>, Receiver<Job>) = mpsc::channel();
        let pending = Arc::new((Mutex::new(0usize), Condvar::new()));
        let stop = Arc::new(StopFlag::default());
        let (p, s) = (Arc::clone(&pending), Arc::clone(&stop));
        let thread = std::thread::Builder::new()
            .name("harper-edge-webhooks".into())
            .spawn(move || {
                for job in rx {
                    let body = serde_json::to_string(&job.notification).unwrap_or_default();
                    let outcome = deliver(&job.url, &body, &options, &s);
                    on_outcome(
                        &job.notification.alert.id,
                        &job.url,
                        job.notification.kind,
                        &outcome,
                    );
                    let (lock, cv) = &*p;
                    let mut n = lock.lock().unwrap_or_else(PoisonError::into_inner);
                    *n = n.saturating_sub(1);
                    cv.notify_all();
                }
            })
            .map_err(|e| Error::Internal {
                message: format!("cannot start the webhook thread: {e}"),
            })?;
        Ok(Notifier { tx: Mutex::new(Some(tx)), pending, stop, thread: Mutex::new(Some(thread)) })
    }

    /// Queues a webhook delivery.
    pub(crate) fn send(&self, url: &str, notification: Notification) {
        let tx = self.tx.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(tx) = tx.as_ref() {
            *self.pending.0.lock().unwrap_or_else(PoisonError::into_inner) += 1;
            if tx.send(Job { url: url.to_string(), notification }).is_err() {
                *self.pending.0.lock().unwrap_or_else(PoisonError::into_inner) -= 1;
            }
        }
    }

    /// Deliveries queued or in progress.
    pub(crate) fn pending(&self) -> usize {
        *self.pending.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until every queued delivery has ended, up to `timeout`; true if none is left.
    pub(crate) fn flush(&self, timeout: Duration) -> bool {
        let (lock, cv) = &*self.pending;
        let guard = lock.lock().unwrap_or_else(PoisonError::into_inner);
        let (guard, _) = cv
            .wait_timeout_while(guard, timeout, |n| *n > 0)
            .unwrap_or_else(PoisonError::into_inner);
        *guard == 0
    }

    /// Stops the thread: the queue is drained without waiting between retries.
    pub(crate) fn shutdown(&self) {
        self.stop.set();
        self.tx.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(t) = self.thread.lock().unwrap_or_else(PoisonError::into_inner).take() {
            let _ = t.join();
        }
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The time now as a [`Timestamp`] of the wall clock (delivery times are wall-clock times).
pub(crate) fn wall_now() -> Timestamp {
    let ms = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    Timestamp::from_millis(ms)
}

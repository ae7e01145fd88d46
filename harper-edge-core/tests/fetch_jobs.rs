//! Fetch jobs against the scripted loopback server: the concurrency limit (counted by the
//! server), idempotent submits, retries then `failed`, manual retry, cancel, progress racing
//! cancel, crash recovery from a SQLite store, the completion callback. Retry waits are
//! recorded, never slept; no assertion reads a clock.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{Gate, Reply, Server, payload};
use harper_edge_core::fetch::jobs::{
    FetchJob, FetchQueue, JobFilter, JobState, QueueOptions, SourceSpec,
};
use harper_edge_core::fetch::{ContentStore, FetchOptions, Fetcher, RecordingSleeper};
use harper_edge_core::registry::sha256_hex;
use harper_edge_core::{ErrorKind, ManualClock, MemoryStore, SqliteStore, Store, Timestamp};

/// 2026-01-01T00:00:00Z.
const START: i64 = 1_767_225_600_000;

/// Long enough for any job here; reaching it is a hang, and the state assertions then fail.
const PATIENCE: Duration = Duration::from_secs(60);

struct Fixture {
    home: tempfile::TempDir,
    store: Arc<dyn Store>,
    sleeper: Arc<RecordingSleeper>,
}

impl Fixture {
    fn memory() -> Fixture {
        Fixture::with_store(tempfile::tempdir().unwrap(), Arc::new(MemoryStore::new()))
    }

    fn with_store(home: tempfile::TempDir, store: Arc<dyn Store>) -> Fixture {
        let clock = Arc::new(ManualClock::new(Timestamp::from_millis(START)));
        let sleeper = Arc::new(RecordingSleeper::with_clock(clock));
        Fixture { home, store, sleeper }
    }

    fn queue(&self, concurrency: usize) -> FetchQueue {
        let clock = Arc::new(ManualClock::new(Timestamp::from_millis(START)));
        let fetcher = Fetcher::new(ContentStore::open(self.home.path()).unwrap())
            .with_clock(clock)
            .with_sleeper(Arc::clone(&self.sleeper) as _);
        FetchQueue::new(Arc::clone(&self.store), fetcher, QueueOptions { concurrency }).unwrap()
    }

    /// Files in the content folder, temporary ones included.
    fn stored(&self) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(self.home.path().join("models"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// The states job `id` went through, as the store's outbox recorded them.
    fn history(&self, id: &str) -> Vec<String> {
        let mut states: Vec<String> = Vec::new();
        for e in self.store.outbox(0, usize::MAX).unwrap() {
            if e.id == id {
                let s = e.record["state"].as_str().unwrap().to_string();
                if states.last() != Some(&s) {
                    states.push(s);
                }
            }
        }
        states
    }
}

fn options() -> FetchOptions {
    FetchOptions {
        read_timeout: Duration::from_secs(20),
        progress_interval: Duration::ZERO,
        ..Default::default()
    }
}

fn http(server: &Server, path: &str) -> SourceSpec {
    SourceSpec::http(format!("{}/{path}", server.url)).unwrap()
}

/// Polls the job until `until` holds (bounded by [`PATIENCE`]: a hang, not a measurement).
fn poll(queue: &FetchQueue, id: &str, until: impl Fn(&FetchJob) -> bool) -> FetchJob {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let job = queue.get(id).unwrap();
        if until(&job) || std::time::Instant::now() > deadline {
            return job;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn a_fourth_job_waits_for_a_free_slot_and_then_starts() {
    let f = Fixture::memory();
    let body = payload(64 * 1024);
    let gate = Gate::new();
    let held = Reply { hold: Some((1024, Arc::clone(&gate))), ..Reply::ok(&body) };
    let server = Server::start(vec![held.clone(), held.clone(), held.clone(), held]);
    let queue = f.queue(3);
    let ids: Vec<String> = (0..4)
        .map(|i| {
            queue.submit(&format!("m{i}"), "1", http(&server, "m.onnx"), options()).unwrap().id
        })
        .collect();

    server.active.wait(|(now, _, _)| now == 3);
    let states: Vec<JobState> = ids.iter().map(|id| queue.get(id).unwrap().state).collect();
    assert_eq!(states.iter().filter(|s| **s == JobState::Downloading).count(), 3, "{states:?}");
    assert_eq!(states[3], JobState::Queued, "the fourth job waits");
    assert_eq!(server.active.get().2, 3, "no fourth connection while three are held");

    gate.release(1);
    // One job ends, its slot frees, the fourth job connects without any new request.
    server.active.wait(|(_, _, all)| all == 4);
    gate.release(3);
    for id in &ids {
        let job = queue.wait(id, PATIENCE).unwrap();
        assert_eq!(job.state, JobState::Completed, "{job:?}");
        assert_eq!(job.result.unwrap().files[0].sha256, sha256_hex(&body));
        assert_eq!((job.bytes_done, job.bytes_total, job.percent), (65_536, Some(65_536), 100));
    }
    assert_eq!(server.active.get().1, 3, "never more than three connections at once");
}

#[test]
fn the_same_request_returns_the_job_and_another_source_conflicts() {
    let f = Fixture::memory();
    let body = payload(1000);
    let server = Server::start(vec![Reply::ok(&body)]);
    let queue = f.queue(3);
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    queue.on_complete(move |job| {
        assert_eq!(job.state, JobState::Completed);
        seen.fetch_add(1, Ordering::SeqCst);
    });

    let first = queue.submit("bert", "1", http(&server, "model.onnx"), options()).unwrap();
    assert_eq!(first.id, "bert:1");
    let again = queue.submit("bert", "1", http(&server, "model.onnx"), options()).unwrap();
    assert_eq!(again.id, first.id);
    let done = queue.wait(&first.id, PATIENCE).unwrap();
    assert_eq!(done.state, JobState::Completed);
    let after = queue.submit("bert", "1", http(&server, "model.onnx"), options()).unwrap();
    assert_eq!(after, done, "a finished job is returned as it is, not fetched again");
    assert_eq!(server.requests().len(), 1);
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the callback ran once");

    let err = queue.submit("bert", "1", http(&server, "other.onnx"), options()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(err.to_string().contains("fetch job 'bert:1' exists"), "{err}");
    let listed = queue.list(&JobFilter { model_name: Some("bert".into()), ..Default::default() });
    assert_eq!(listed.unwrap().len(), 1);
}

#[test]
fn retries_run_out_into_a_typed_failure_then_a_manual_retry_completes() {
    let f = Fixture::memory();
    let body = payload(5000);
    let mut script = vec![Reply::status(503); 4];
    script.push(Reply::ok(&body));
    let server = Server::start(script);
    let queue = f.queue(3);
    let opts = FetchOptions { retries: 3, ..options() };
    let job = queue.submit("flaky", "1", http(&server, "m.onnx"), opts).unwrap();

    let failed = queue.wait(&job.id, PATIENCE).unwrap();
    assert_eq!(failed.state, JobState::Failed);
    let error = failed.error.clone().unwrap();
    assert_eq!(error.code, "HARPER_EDGE_NETWORK");
    assert!(error.retryable);
    assert_eq!(error.http_status, Some(503));
    assert_eq!(server.requests().len(), 4, "the first attempt and three retries");
    assert_eq!(f.sleeper.waits().len(), 3, "a backoff before each retry");
    assert_eq!(failed.attempts, 1);

    let retried = queue.retry(&job.id).unwrap();
    assert_eq!((retried.state, retried.error.as_ref()), (JobState::Queued, None));
    let done = queue.wait(&job.id, PATIENCE).unwrap();
    assert_eq!(done.state, JobState::Completed);
    assert_eq!(done.attempts, 2);
    assert_eq!(done.error, None);
    let file = &done.result.unwrap().files[0];
    assert_eq!(std::fs::read(f.home.path().join("models").join(&file.sha256)).unwrap(), body);
    assert_eq!(
        queue.retry(&job.id).unwrap_err().kind(),
        ErrorKind::InvalidTransition,
        "a completed job is not retried"
    );
}

#[test]
fn a_not_found_fails_at_once_without_retries() {
    let f = Fixture::memory();
    let server = Server::start(vec![Reply::status(404)]);
    let queue = f.queue(1);
    let job = queue.submit("gone", "1", http(&server, "m.onnx"), options()).unwrap();
    let failed = queue.wait(&job.id, PATIENCE).unwrap();
    assert_eq!(failed.state, JobState::Failed);
    let error = failed.error.unwrap();
    assert_eq!((error.code.as_str(), error.retryable), ("HARPER_EDGE_NOT_FOUND", false));
    assert!(f.sleeper.waits().is_empty());
}

#[test]
fn cancelling_a_download_stops_it_and_removes_its_temporary_file() {
    let f = Fixture::memory();
    let server = Server::start(vec![Reply { trickle: true, ..Reply::status(200) }]);
    let queue = f.queue(3);
    let cancelled = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&cancelled);
    queue.on_complete(move |job| {
        if job.state == JobState::Cancelled {
            seen.fetch_add(1, Ordering::SeqCst);
        }
    });
    let job = queue.submit("big", "1", http(&server, "m.onnx"), options()).unwrap();
    let running = poll(&queue, &job.id, |j| j.bytes_done > 0);
    assert_eq!(running.state, JobState::Downloading);
    assert_eq!(running.bytes_total, Some(100 << 20));
    assert_eq!(f.stored().len(), 1, "the partial download: {:?}", f.stored());

    assert_eq!(queue.cancel(&job.id).unwrap().state, JobState::Cancelled);
    let stopped = queue.wait(&job.id, PATIENCE).unwrap();
    assert_eq!(stopped.state, JobState::Cancelled);
    assert!(f.stored().is_empty(), "temporary file left: {:?}", f.stored());
    assert_eq!(cancelled.load(Ordering::SeqCst), 1);
    server.active.wait(|(now, _, _)| now == 0);
    assert_eq!(queue.cancel(&job.id).unwrap_err().kind(), ErrorKind::InvalidTransition);
}

#[test]
fn progress_writes_racing_cancel_never_bring_a_job_back() {
    let f = Fixture::memory();
    let rounds = 8;
    let server = Server::start(vec![Reply { trickle: true, ..Reply::status(200) }; rounds]);
    let queue = f.queue(3);
    for i in 0..rounds {
        let job = queue.submit(&format!("race{i}"), "1", http(&server, "m"), options()).unwrap();
        // Cancel while progress is being written (every 1 KiB read writes it).
        poll(&queue, &job.id, |j| j.bytes_done >= 1024 * (i as u64 + 1));
        queue.cancel(&job.id).unwrap();
        assert_eq!(queue.wait(&job.id, PATIENCE).unwrap().state, JobState::Cancelled);
    }
    for i in 0..rounds {
        let id = format!("race{i}:1");
        assert_eq!(queue.get(&id).unwrap().state, JobState::Cancelled);
        assert_eq!(f.history(&id), ["queued", "downloading", "cancelled"], "job {id}");
    }
}

#[test]
fn a_job_left_downloading_by_a_dead_process_completes_on_the_next_start() {
    let home = tempfile::tempdir().unwrap();
    let body = payload(20_000);
    let server = Server::start(vec![Reply::ok(&body)]);
    let job = {
        // What a process that died mid-download leaves: the record says downloading.
        let store = SqliteStore::open(home.path()).unwrap();
        let job = FetchJob {
            id: "crash:1".into(),
            model_name: "crash".into(),
            model_version: "1".into(),
            source: http(&server, "m.onnx"),
            options: options(),
            state: JobState::Downloading,
            bytes_done: 7_000,
            bytes_total: Some(20_000),
            percent: 35,
            attempts: 1,
            error: None,
            created_at: Timestamp::from_millis(START),
            started_at: Some(Timestamp::from_millis(START)),
            finished_at: None,
            result: None,
            registration: None,
        };
        store.put_records(&[job.to_record().unwrap()], &[]).unwrap();
        job
    };

    let store = Arc::new(SqliteStore::open(home.path()).unwrap());
    let f = Fixture::with_store(home, store);
    let queue = f.queue(3);
    let done = queue.wait(&job.id, PATIENCE).unwrap();
    assert_eq!(done.state, JobState::Completed, "{done:?}");
    assert_eq!(done.attempts, 2);
    assert_eq!(done.result.unwrap().files[0].sha256, sha256_hex(&body));
    assert_eq!(f.stored(), [sha256_hex(&body)]);
}

#[test]
fn dropping_the_queue_puts_a_running_job_back_in_the_queue() {
    let home = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(home.path()).unwrap());
    let body = payload(3000);
    let server =
        Server::start(vec![Reply { trickle: true, ..Reply::status(200) }, Reply::ok(&body)]);
    let f = Fixture::with_store(home, Arc::clone(&store));
    let queue = f.queue(1);
    let job = queue.submit("restart", "1", http(&server, "m.onnx"), options()).unwrap();
    poll(&queue, &job.id, |j| j.bytes_done > 0);
    drop(queue);
    let left = FetchJob::from_record(
        &store.record(harper_edge_core::Table::FetchJob, &job.id).unwrap().unwrap(),
    )
    .unwrap();
    assert_eq!(left.state, JobState::Queued);
    assert!(f.stored().is_empty(), "temporary file left: {:?}", f.stored());

    let queue = f.queue(1);
    let done = queue.wait(&job.id, PATIENCE).unwrap();
    assert_eq!(done.state, JobState::Completed);
    assert_eq!(done.attempts, 2);
}

#[test]
fn a_directory_import_runs_as_a_job_too() {
    let f = Fixture::memory();
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("tree/sub")).unwrap();
    std::fs::write(root.path().join("tree/a.onnx"), b"aaa").unwrap();
    std::fs::write(root.path().join("tree/sub/b.json"), b"{}").unwrap();
    let queue = f.queue(2);
    let job = queue.submit("dir", "1", SourceSpec::fs(root.path(), "tree"), options()).unwrap();
    let done = queue.wait(&job.id, PATIENCE).unwrap();
    assert_eq!(done.state, JobState::Completed);
    let names: Vec<String> = done.result.unwrap().files.into_iter().map(|f| f.name).collect();
    assert_eq!(names, ["a.onnx", "sub/b.json"]);
    assert_eq!(f.history(&job.id), ["queued", "downloading", "verifying", "completed"]);
}

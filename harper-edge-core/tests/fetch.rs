//! Fetching into the content store: HTTP against a scripted HTTP/1.1 server on 127.0.0.1
//! (drops, ignored ranges, 429, 5xx, 404, wrong checksums, oversize bodies, stalls), and
//! imports from a directory (a good tree, `..`, symlinks out of the root, a fifo). Waits are
//! recorded by a `RecordingSleeper`, never slept.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

mod common;

use common::{Reply, Server, payload};
use harper_edge_core::fetch::{
    ContentStore, FetchOptions, Fetched, Fetcher, FsSource, HttpSource, RecordingSleeper,
    SourceKind,
};
use harper_edge_core::registry::sha256_hex;
use harper_edge_core::{Error, ErrorKind, ManualClock, Timestamp};

/// 2026-01-01T00:00:00Z.
const START: i64 = 1_767_225_600_000;

/// A fetcher into a fresh data directory, on a manual clock, recording its waits.
struct Fixture {
    home: tempfile::TempDir,
    fetcher: Fetcher,
    sleeper: Arc<RecordingSleeper>,
}

fn fixture() -> Fixture {
    let home = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp::from_millis(START)));
    let sleeper = Arc::new(RecordingSleeper::with_clock(Arc::clone(&clock)));
    let fetcher = Fetcher::new(ContentStore::open(home.path()).unwrap())
        .with_clock(clock)
        .with_sleeper(Arc::clone(&sleeper) as _);
    Fixture { home, fetcher, sleeper }
}

impl Fixture {
    fn get(&self, url: &str, options: &FetchOptions) -> Result<Fetched, Error> {
        let source = HttpSource::new(url).unwrap();
        let mut files = self.fetcher.fetch(&source, options, &mut |_, _| {})?;
        assert_eq!(files.len(), 1);
        Ok(files.remove(0))
    }

    /// Every file in the content folder, temporary files included.
    fn stored(&self) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(self.home.path().join("models"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

fn fast() -> FetchOptions {
    FetchOptions { read_timeout: Duration::from_secs(10), ..Default::default() }
}

#[test]
fn a_plain_download_is_stored_under_its_sha256_with_provenance() {
    let body = payload(300_000);
    let server = Server::start(vec![Reply::ok(&body)]);
    let f = fixture();
    let url = format!("{}/models/iris.onnx?token=secret", server.url);
    let source = HttpSource::new(&url).unwrap();
    let mut reports = Vec::new();
    let files =
        f.fetcher.fetch(&source, &fast(), &mut |done, total| reports.push((done, total))).unwrap();
    let file = &files[0];

    let sha = sha256_hex(&body);
    assert_eq!(file.name, "iris.onnx");
    assert_eq!(file.blob.sha256, sha);
    assert_eq!(file.blob.path, f.home.path().join("models").join(&sha));
    assert_eq!(std::fs::read(&file.blob.path).unwrap(), body);
    assert_eq!(f.stored(), vec![sha.clone()]);

    let p = &file.provenance;
    assert_eq!(p.source, SourceKind::Http);
    assert_eq!(p.reference, format!("{}/models/iris.onnx", server.url), "query dropped");
    assert_eq!(p.revision.as_deref(), Some("\"v1\""));
    assert_eq!((p.sha256.as_str(), p.size), (sha.as_str(), 300_000));
    assert_eq!(p.fetched_at.as_millis(), START);
    let json = serde_json::to_value(p).unwrap();
    assert_eq!(json["source"], "http");
    assert_eq!(json["fetchedAt"], START);

    assert_eq!(reports.first(), Some(&(0, None)));
    assert_eq!(reports.last(), Some(&(300_000, Some(300_000))));
    assert!(reports.windows(2).all(|w| w[0].0 <= w[1].0), "progress went backwards");
    assert!(f.sleeper.waits().is_empty());

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/models/iris.onnx?token=secret");
    assert!(requests[0].headers["user-agent"].starts_with("harper-edge/"));
    assert!(!requests[0].headers.contains_key("range"));

    // The same content again is stored once.
    let server = Server::start(vec![Reply::ok(&body)]);
    let again = f.get(&format!("{}/copy.onnx", server.url), &fast()).unwrap();
    assert_eq!(again.blob, file.blob);
    assert_eq!(f.stored(), vec![sha]);
}

#[test]
fn a_dropped_connection_is_resumed_with_a_range_request() {
    let body = payload(200_000);
    let server = Server::start(vec![
        Reply { drop_after: Some(70_000), ..Reply::ok(&body).ranges() },
        Reply::ok(&body).ranges(),
    ]);
    let f = fixture();
    let file = f.get(&format!("{}/m.bin", server.url), &fast()).unwrap();

    assert_eq!(std::fs::read(&file.blob.path).unwrap(), body);
    assert_eq!(file.blob.sha256, sha256_hex(&body));
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].headers["range"], "bytes=70000-");
    assert_eq!(requests[1].headers["if-range"], "\"v1\"");
    assert_eq!(server.body_bytes_sent.load(Ordering::SeqCst), 200_000, "no byte sent twice");
    let waits = f.sleeper.waits();
    assert_eq!(waits.len(), 1);
    assert!(waits[0] >= Duration::from_millis(500) && waits[0] <= Duration::from_secs(1));
}

#[test]
fn a_weak_etag_is_not_used_for_if_range() {
    let body = payload(20_000);
    let last_modified = "Wed, 21 Oct 2015 07:28:00 GMT";
    let reply = |drop_after| Reply {
        headers: vec![
            ("etag".into(), "W/\"v1\"".into()),
            ("last-modified".into(), last_modified.into()),
        ],
        drop_after,
        ..Reply::ok(&body).ranges()
    };
    let server = Server::start(vec![reply(Some(5_000)), reply(None)]);
    let f = fixture();
    let file = f.get(&format!("{}/m.bin", server.url), &fast()).unwrap();

    assert_eq!(std::fs::read(&file.blob.path).unwrap(), body);
    assert_eq!(server.requests()[1].headers["if-range"], last_modified);
    assert_eq!(file.provenance.revision.as_deref(), Some(last_modified));
}

#[test]
fn a_server_that_ignores_range_makes_the_download_restart() {
    let body = payload(150_000);
    let server = Server::start(vec![
        Reply { drop_after: Some(50_000), ..Reply::ok(&body) },
        Reply::ok(&body),
    ]);
    let f = fixture();
    let file = f.get(&format!("{}/m.bin", server.url), &fast()).unwrap();

    assert_eq!(
        std::fs::read(&file.blob.path).unwrap(),
        body,
        "the first 50,000 bytes not kept twice"
    );
    assert_eq!(file.provenance.size, 150_000);
    let requests = server.requests();
    assert_eq!(requests[1].headers["range"], "bytes=50000-");
    assert_eq!(f.stored(), vec![sha256_hex(&body)]);
}

#[test]
fn a_range_answer_for_other_bytes_restarts_from_zero() {
    let body = payload(10_000);
    let wrong = Reply::ok(&body[..100]).header("content-range", "bytes 0-99/10000");
    let server = Server::start(vec![
        Reply { drop_after: Some(4_000), ..Reply::ok(&body) },
        Reply { status: 206, ..wrong },
        Reply::ok(&body),
    ]);
    let f = fixture();
    let file = f.get(&format!("{}/m.bin", server.url), &fast()).unwrap();

    assert_eq!(std::fs::read(&file.blob.path).unwrap(), body);
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[1].headers["range"], "bytes=4000-");
    assert!(!requests[2].headers.contains_key("range"), "restarted from byte 0");
}

#[test]
fn a_429_waits_the_retry_after_seconds() {
    let body = payload(1_000);
    let server =
        Server::start(vec![Reply::status(429).header("retry-after", "2"), Reply::ok(&body)]);
    let f = fixture();
    let file = f.get(&format!("{}/m.bin", server.url), &fast()).unwrap();

    assert_eq!(std::fs::read(&file.blob.path).unwrap(), body);
    assert_eq!(f.sleeper.waits(), vec![Duration::from_secs(2)]);
    // The manual clock moved with the wait: the file was stored after it.
    assert_eq!(file.provenance.fetched_at.as_millis(), START + 2_000);
}

#[test]
fn retry_after_as_a_date_is_read_against_the_clock_and_capped() {
    let date = |secs: u64| {
        let at = std::time::UNIX_EPOCH + Duration::from_millis(START as u64 + secs * 1_000);
        httpdate::fmt_http_date(at)
    };
    let server = Server::start(vec![
        Reply::status(503).header("retry-after", &date(7)),
        Reply::status(429).header("retry-after", "86400"),
        Reply::ok(b"done"),
    ]);
    let f = fixture();
    let options = FetchOptions { retry_after_cap: Duration::from_secs(600), ..fast() };
    f.get(&format!("{}/m.bin", server.url), &options).unwrap();

    assert_eq!(f.sleeper.waits(), vec![Duration::from_secs(7), Duration::from_secs(600)]);
}

#[test]
fn server_errors_are_retried_after_growing_backoffs() {
    let server = Server::start(vec![Reply::status(500), Reply::status(502), Reply::ok(b"ok")]);
    let f = fixture();
    let file = f.get(&format!("{}/m.bin", server.url), &fast()).unwrap();

    assert_eq!(std::fs::read(&file.blob.path).unwrap(), b"ok");
    let waits = f.sleeper.waits();
    assert_eq!(waits.len(), 2);
    // Retry n waits between half and all of 1 s · 2^(n−1).
    assert!(
        waits[0] >= Duration::from_millis(500) && waits[0] <= Duration::from_secs(1),
        "{waits:?}"
    );
    assert!(waits[1] >= Duration::from_secs(1) && waits[1] <= Duration::from_secs(2), "{waits:?}");
}

#[test]
fn retries_run_out_with_a_retryable_network_error() {
    let server = Server::start(vec![Reply::status(503); 3]);
    let f = fixture();
    let options = FetchOptions { retries: 2, ..fast() };
    let err = f.get(&format!("{}/m.bin", server.url), &options).unwrap_err();

    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(err.is_retryable());
    assert_eq!(err.http_status(), Some(503));
    assert_eq!(server.requests().len(), 3);
    assert_eq!(f.sleeper.waits().len(), 2);
    assert!(f.stored().is_empty(), "temporary file left: {:?}", f.stored());
}

#[test]
fn not_found_and_unauthorized_are_not_retried() {
    let server = Server::start(vec![Reply::status(404), Reply::status(401)]);
    let f = fixture();
    let err = f.get(&format!("{}/missing.onnx", server.url), &fast()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(!err.is_retryable());
    assert_eq!(err.to_string(), format!("url '{}/missing.onnx' not found", server.url));

    let err = f.get(&format!("{}/private.onnx", server.url), &fast()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network);
    assert_eq!(err.http_status(), Some(401));
    assert!(!err.is_retryable());

    assert_eq!(server.requests().len(), 2, "one attempt each");
    assert!(f.sleeper.waits().is_empty());
    assert!(f.stored().is_empty());
}

#[test]
fn a_wrong_expected_sha256_stores_nothing() {
    let body = payload(5_000);
    let server = Server::start(vec![Reply::ok(&body)]);
    let f = fixture();
    let options = FetchOptions { expected_sha256: Some(sha256_hex(b"something else")), ..fast() };
    let err = f.get(&format!("{}/m.bin", server.url), &options).unwrap_err();

    assert_eq!(err.kind(), ErrorKind::Integrity);
    assert!(!err.is_retryable());
    assert!(err.to_string().contains(&sha256_hex(&body)), "{err}");
    assert!(f.stored().is_empty(), "left behind: {:?}", f.stored());
    assert_eq!(server.requests().len(), 1);

    // The right one, in upper case, is accepted.
    let server = Server::start(vec![Reply::ok(&body)]);
    let options =
        FetchOptions { expected_sha256: Some(sha256_hex(&body).to_uppercase()), ..fast() };
    f.get(&format!("{}/m.bin", server.url), &options).unwrap();
    let options = FetchOptions { expected_sha256: Some("abc".into()), ..fast() };
    let err = f.get(&format!("{}/m.bin", server.url), &options).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
}

#[test]
fn an_announced_oversize_body_is_refused_before_reading() {
    let body = payload(300_000);
    let server = Server::start(vec![Reply::ok(&body)]);
    let f = fixture();
    let options = FetchOptions { max_bytes: 100_000, ..fast() };
    let source = HttpSource::new(format!("{}/big.bin", server.url)).unwrap();
    let mut most = 0;
    let err = f.fetcher.fetch(&source, &options, &mut |done, _| most = most.max(done)).unwrap_err();

    assert_eq!(err.kind(), ErrorKind::Capacity);
    assert!(err.to_string().contains("100000"), "{err}");
    assert_eq!(most, 0, "body bytes were read");
    assert_eq!(server.requests().len(), 1, "not retried");
    assert!(f.stored().is_empty());
}

#[test]
fn an_unannounced_oversize_body_is_cut_off_while_streaming() {
    // 1 GiB offered without Content-Length; the limit is 1 MiB.
    let server = Server::start(vec![Reply { endless: Some(1 << 30), ..Reply::status(200) }]);
    let f = fixture();
    let options = FetchOptions { max_bytes: 1 << 20, ..fast() };
    let source = HttpSource::new(format!("{}/stream.bin", server.url)).unwrap();
    let mut most = 0;
    let err = f.fetcher.fetch(&source, &options, &mut |done, _| most = most.max(done)).unwrap_err();

    assert_eq!(err.kind(), ErrorKind::Capacity);
    assert!(most <= 1 << 20, "accepted {most} bytes");
    assert!(f.stored().is_empty());
    // The server could write only what fits in the socket buffers once the client stopped.
    std::thread::sleep(Duration::from_millis(200));
    let sent = server.body_bytes_sent.load(Ordering::SeqCst);
    assert!(sent < 64 << 20, "the client read {sent} bytes");
}

#[test]
fn a_stalled_body_times_out_after_the_retries() {
    let body = payload(10_000);
    let stalled = Reply { stall: Some((0, Duration::from_secs(3))), ..Reply::ok(&body) };
    let server = Server::start(vec![stalled.clone(), stalled.clone(), stalled]);
    let f = fixture();
    let options =
        FetchOptions { read_timeout: Duration::from_millis(150), retries: 2, ..Default::default() };
    let err = f.get(&format!("{}/slow.bin", server.url), &options).unwrap_err();

    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(err.is_retryable());
    assert!(err.to_string().contains("timed out"), "{err}");
    assert_eq!(server.requests().len(), 3);
    assert_eq!(f.sleeper.waits().len(), 2);
    assert!(f.stored().is_empty());
}

#[test]
fn a_stall_then_a_good_answer_succeeds() {
    let body = payload(10_000);
    let server = Server::start(vec![
        Reply { stall: Some((0, Duration::from_secs(3))), ..Reply::ok(&body) },
        Reply::ok(&body),
    ]);
    let f = fixture();
    let options = FetchOptions { read_timeout: Duration::from_millis(150), ..Default::default() };
    let file = f.get(&format!("{}/slow.bin", server.url), &options).unwrap();
    assert_eq!(std::fs::read(&file.blob.path).unwrap(), body);
    assert_eq!(f.sleeper.waits().len(), 1);
}

#[test]
fn a_refused_connection_is_retried_then_reported() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let f = fixture();
    let options = FetchOptions { retries: 1, ..fast() };
    let err = f.get(&format!("http://127.0.0.1:{port}/m.bin"), &options).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(err.is_retryable());
    assert_eq!(err.http_status(), None);
    assert_eq!(f.sleeper.waits().len(), 1);
}

fn import(f: &Fixture, root: &Path, path: &str) -> Result<Vec<Fetched>, Error> {
    f.fetcher.fetch(&FsSource::new(root, path), &FetchOptions::default(), &mut |_, _| {})
}

#[cfg(unix)]
#[test]
fn a_directory_tree_is_imported_file_by_file() {
    let f = fixture();
    let root = tempfile::tempdir().unwrap();
    let model = root.path().join("minilm");
    std::fs::create_dir_all(model.join("onnx")).unwrap();
    std::fs::write(model.join("config.json"), b"{}").unwrap();
    std::fs::write(model.join("onnx/model.onnx"), payload(70_000)).unwrap();
    std::fs::write(root.path().join("shared-vocab.txt"), b"a\nb\n").unwrap();
    // A symlink that stays inside the root is followed.
    std::os::unix::fs::symlink(root.path().join("shared-vocab.txt"), model.join("vocab.txt"))
        .unwrap();

    let mut progress = Vec::new();
    let files = f
        .fetcher
        .fetch(&FsSource::new(root.path(), "minilm"), &FetchOptions::default(), &mut |d, t| {
            progress.push((d, t));
        })
        .unwrap();
    let names: Vec<_> = files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["config.json", "onnx/model.onnx", "vocab.txt"]);
    assert_eq!(std::fs::read(&files[1].blob.path).unwrap(), payload(70_000));
    assert_eq!(files[2].blob.sha256, sha256_hex(b"a\nb\n"));
    let canonical_root = root.path().canonicalize().unwrap();
    assert_eq!(
        files[2].provenance.reference,
        canonical_root.join("shared-vocab.txt").display().to_string()
    );
    assert!(files.iter().all(|f| f.provenance.source == SourceKind::Fs));
    assert_eq!(progress.last(), Some(&(70_006, Some(70_006))));

    // One file through a symlink keeps the name asked for.
    let linked = import(&f, root.path(), "minilm/vocab.txt").unwrap();
    assert_eq!(linked[0].name, "vocab.txt");

    // One file, by an absolute path inside the root.
    let one = import(&f, root.path(), canonical_root.join("minilm/config.json").to_str().unwrap())
        .unwrap();
    assert_eq!(one[0].name, "config.json");
    assert_eq!(f.stored().len(), 3);
}

#[test]
fn paths_with_dotdot_or_outside_the_root_are_refused() {
    let f = fixture();
    let base = tempfile::tempdir().unwrap();
    let root = base.path().join("root");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::write(base.path().join("secret.txt"), b"no").unwrap();

    let err = import(&f, &root, "../secret.txt").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("'../secret.txt' contains '..'"), "{err}");
    let err = import(&f, &root, "sub/../../secret.txt").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);

    let outside = base.path().join("secret.txt");
    let err = import(&f, &root, outside.to_str().unwrap()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("outside the import root"), "{err}");

    let err = import(&f, &root, "sub/missing.onnx").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(f.stored().is_empty());
}

#[cfg(unix)]
#[test]
fn symlinks_out_of_the_root_are_refused() {
    let f = fixture();
    let base = tempfile::tempdir().unwrap();
    let root = base.path().join("root");
    std::fs::create_dir_all(root.join("model")).unwrap();
    std::fs::write(root.join("model/ok.bin"), b"ok").unwrap();
    std::fs::write(base.path().join("secret.txt"), b"no").unwrap();
    std::os::unix::fs::symlink(base.path().join("secret.txt"), root.join("model/leak.bin"))
        .unwrap();
    std::os::unix::fs::symlink(base.path(), root.join("up")).unwrap();

    // Inside a tree.
    let err = import(&f, &root, "model").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("leak.bin"), "{err}");
    assert!(err.to_string().contains("outside the import root"), "{err}");
    // As the path itself, and through a symlinked directory.
    assert_eq!(import(&f, &root, "model/leak.bin").unwrap_err().kind(), ErrorKind::InvalidInput);
    assert_eq!(import(&f, &root, "up/secret.txt").unwrap_err().kind(), ErrorKind::InvalidInput);
    assert!(f.stored().is_empty(), "a tree that fails stores nothing before the check");
}

#[cfg(unix)]
#[test]
fn fifos_are_refused_without_blocking() {
    let f = fixture();
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("model")).unwrap();
    std::fs::write(root.path().join("model/a.bin"), b"a").unwrap();
    let fifo = root.path().join("model/pipe");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());

    let err = import(&f, root.path(), "model").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("pipe' is a fifo"), "{err}");
    let err = import(&f, root.path(), "model/pipe").unwrap_err();
    assert!(err.to_string().contains("is a fifo"), "{err}");
    assert!(f.stored().is_empty());
}

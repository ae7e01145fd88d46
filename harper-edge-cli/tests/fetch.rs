//! `model fetch|show|list|remove|inspect`, `job …` and `profile …` run as a user would,
//! including a fetch whose process is killed mid-download and finished by the next one.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn model_path() -> String {
    repo().join("tests/data/iris_logreg.onnx").display().to_string()
}

fn cli(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harper-edge"))
        .env("HARPER_EDGE_HOME", home)
        .args(args)
        .output()
        .expect("run harper-edge")
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn ok(out: &Output) -> Vec<Value> {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    json_lines(out)
}

#[test]
fn fetch_show_list_filter_and_remove() {
    let home = tempfile::tempdir().unwrap();
    let path = model_path();
    let meta = r#"{"taskType": "classification"}"#;
    let out = ok(&cli(home.path(), &["model", "fetch", "iris", "1", &path, "--metadata", meta]));
    let job = out.last().unwrap();
    assert_eq!(job["state"], "completed");
    assert_eq!(job["result"]["modelId"], "iris:1");

    let shown = ok(&cli(home.path(), &["model", "show", "iris:1"]));
    assert_eq!(shown[0]["provenance"]["source"], "fs");
    assert_eq!(shown[0]["files"][0]["name"], "iris_logreg.onnx");
    let task = ok(&cli(home.path(), &["model", "list", "--task", "classification"]));
    assert_eq!(task.len(), 1);
    let none = ok(&cli(home.path(), &["model", "list", "--stage", "production"]));
    assert!(none.is_empty());
    let jobs = ok(&cli(home.path(), &["job", "list", "--state", "completed"]));
    assert_eq!(jobs[0]["id"], "iris:1");

    // Same name, version and source again: the same job, nothing new.
    let again = ok(&cli(home.path(), &["model", "fetch", "iris", "1", &path]));
    assert_eq!(again.last().unwrap()["attempts"], 1);

    let removed = ok(&cli(home.path(), &["model", "remove", "iris:1"]));
    assert_eq!(removed[0]["removed"], "iris:1");
    let out = cli(home.path(), &["model", "remove", "iris:1"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("model 'iris:1' not found") && stderr.contains("NOT_FOUND"),
        "{stderr}"
    );
    assert!(ok(&cli(home.path(), &["job", "list"])).is_empty(), "the job went with the model");
}

#[test]
fn a_failed_fetch_exits_1_with_the_typed_error() {
    let home = tempfile::tempdir().unwrap();
    let out = cli(home.path(), &["model", "fetch", "m", "1", "/definitely/not/here.onnx"]);
    assert_eq!(out.status.code(), Some(1));
    let job = json_lines(&out).pop().unwrap();
    assert_eq!(job["state"], "failed");
    assert!(job["error"]["code"].as_str().unwrap().starts_with("HARPER_EDGE_"));
}

#[test]
fn inspect_describes_without_a_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("never-created");
    let out = ok(&cli(&home, &["model", "inspect", &model_path()]));
    assert_eq!(out[0]["framework"], "onnx");
    assert_eq!(out[0]["suggestedName"], "iris_logreg");
    assert_eq!(out[0]["downloadBytes"], std::fs::metadata(model_path()).unwrap().len());
    assert!(!home.exists());
}

#[test]
fn profile_validate_and_deploy() {
    let home = tempfile::tempdir().unwrap();
    let minimal = repo().join("profiles/minimal.json").display().to_string();
    let valid = ok(&cli(home.path(), &["profile", "validate", &minimal]));
    assert_eq!(valid[0]["valid"], true);
    let first = ok(&cli(home.path(), &["profile", "deploy", &minimal]));
    assert_eq!(first[0]["models"][0]["action"], "registered");
    let second = ok(&cli(home.path(), &["profile", "deploy", &minimal]));
    assert_eq!(second[0]["models"][0]["action"], "already_registered");

    let bad = home.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"name": "b", "models": [{"modelName": "emb", "modelVersion": "1", "framework": "onnx",
            "modelBlob": {"source": "huggingface"}}]}"#,
    )
    .unwrap();
    let out = cli(home.path(), &["profile", "validate", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("model 'emb', field models[0].modelBlob.model"), "{stderr}");
}

/// Serves `body`: the first connection sends half of it and then hangs; later ones send all.
fn half_then_whole(body: Vec<u8>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/iris.onnx", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&connections);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let n = count.fetch_add(1, Ordering::SeqCst);
            let body = body.clone();
            std::thread::spawn(move || serve(stream, &body, n == 0));
        }
    });
    (url, connections)
}

fn serve(mut stream: TcpStream, body: &[u8], hang: bool) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
    }
    let head =
        format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len());
    let _ = stream.write_all(head.as_bytes());
    if hang {
        let _ = stream.write_all(&body[..body.len() / 2]);
        let _ = stream.flush();
        // Hold the connection open until the client is gone.
        std::thread::sleep(Duration::from_secs(120));
    } else {
        let _ = stream.write_all(body);
    }
}

#[test]
fn a_killed_fetch_is_finished_by_the_next_process() {
    let home = tempfile::tempdir().unwrap();
    let (url, connections) = half_then_whole(std::fs::read(model_path()).unwrap());
    let child_stderr = home.path().join("first-process.stderr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_harper-edge"))
        .env("HARPER_EDGE_HOME", home.path())
        .args(["model", "fetch", "crash", "1", &url])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&child_stderr).unwrap())
        .spawn()
        .unwrap();
    // Wait until the first process is downloading and the server has sent half the file.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = cli(home.path(), &["job", "show", "crash:1"]);
        if out.status.success() && json_lines(&out)[0]["state"] == "downloading" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the fetch never started; its stderr: {}",
            std::fs::read_to_string(&child_stderr).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap(); // SIGKILL: no destructor runs, the record stays `downloading`.
    child.wait().unwrap();
    let left = ok(&cli(home.path(), &["job", "show", "crash:1"]));
    assert_eq!(left[0]["state"], "downloading", "what a dead process leaves");
    assert!(ok(&cli(home.path(), &["model", "list"])).is_empty());

    let watched = cli(home.path(), &["job", "watch", "crash:1"]);
    let job = ok(&watched).pop().unwrap();
    assert_eq!(job["state"], "completed", "{job}");
    assert_eq!(job["attempts"], 2);
    assert_eq!(connections.load(Ordering::SeqCst), 2);
    let stderr = String::from_utf8(watched.stderr).unwrap();
    assert!(stderr.contains("crash:1 completed"), "plain progress lines off a terminal: {stderr}");
    let models = ok(&cli(home.path(), &["model", "list"]));
    assert_eq!(models[0]["id"], "crash:1");
    assert_eq!(models[0]["provenance"]["source"], "http");
    // The killed download's temporary file is at most the one left; the queue removes it
    // once it has been idle for ten minutes (STALE_TEMPORARY).
    let leftovers: Vec<_> = std::fs::read_dir(home.path().join("models"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.len() <= 1, "{leftovers:?}");
}

/// The MiniLM folder `scripts/setup_models.sh` makes (`make rust-test` runs it).
fn minilm_dir() -> PathBuf {
    let dir = std::env::var_os("HARPER_EDGE_MINILM_DIR").map_or_else(
        || {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/harper-edge/models/minilm-l6")
        },
        PathBuf::from,
    );
    assert!(dir.join("tokenizer.json").is_file(), "run scripts/setup_models.sh");
    dir
}

#[test]
fn embed_a_fetched_sentence_encoder_and_match_python() {
    let home = tempfile::tempdir().unwrap();
    let dir = minilm_dir().display().to_string();
    let meta = r#"{"taskType": "embedding"}"#;
    let job = ok(&cli(
        home.path(),
        &["model", "fetch", "minilm", "1", &dir, "--main-file", "model.onnx", "--metadata", meta],
    ));
    assert_eq!(job.last().unwrap()["state"], "completed");

    let reference: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("tests/data/minilm_reference.json")).unwrap(),
    )
    .unwrap();
    let sentences: Vec<&str> =
        reference["sentences"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    let mut args = vec!["embed", "minilm:1"];
    args.extend(&sentences);
    let out = ok(&cli(home.path(), &args)).pop().unwrap();
    assert_eq!((out["count"].as_u64(), out["dim"].as_u64()), (Some(8), Some(384)));
    for (i, got) in out["vectors"].as_array().unwrap().iter().enumerate() {
        let want = reference["fp32"][i].as_array().unwrap();
        let dot: f64 = got
            .as_array()
            .unwrap()
            .iter()
            .zip(want)
            .map(|(a, b)| a.as_f64().unwrap() * b.as_f64().unwrap())
            .sum();
        assert!(dot > 0.9999, "sentence {i}: cosine of unit vectors {dot}");
    }
}
